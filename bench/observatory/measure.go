package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/fedilens/fedilens/bench/internal/benchenv"
	"github.com/fedilens/fedilens/dashboard"
	"github.com/fedilens/fedilens/internal/graph"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/stats"
	"github.com/fedilens/fedilens/internal/store"
)

// openConn opens a connection of the bench's own to its database, with a
// read timeout long enough for the generating statements.
func (b *bench) openConn(ctx context.Context) (driver.Conn, error) {
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{b.addr}, Auth: clickhouse.Auth{Database: b.db},
		DialTimeout: 10 * time.Second, ReadTimeout: 30 * time.Minute, MaxOpenConns: 2})
	if err != nil {
		return nil, fmt.Errorf("connecting to ClickHouse at %s: %w", b.addr, err)
	}
	if err := conn.Ping(ctx); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("connecting to ClickHouse at %s: %w", b.addr, err)
	}
	return conn, nil
}

// rollupResult is one timed Store.Rollup call.
type rollupResult struct {
	Name string
	// Days are the days rolled up, Rows the daily rows written.
	Days int
	Rows uint64
	Wall time.Duration
	// Agg is what the aggregate step did (its Took is part of Wall).
	Agg store.AggregateStats
}

// rollups runs the real Rollup as a deployment would: every closed day
// at once (a first rollup, or an upgrade), then the day before today
// alone, then after a late snapshot for the last day rolled up and for an
// old day, which redo those days.
func (b *bench) rollups(ctx context.Context, res *results) error {
	step := func(name string, through time.Time) error {
		began := time.Now()
		st, err := b.st.Rollup(ctx, through)
		if err != nil {
			return fmt.Errorf("rolling up (%s): %w", name, err)
		}
		r := rollupResult{Name: name, Days: len(st.Days), Rows: st.Rows, Wall: time.Since(began), Agg: st.Aggregates}
		res.Rollups = append(res.Rollups, r)
		b.log.Info("rolled up", "what", name, "days", r.Days, "rows", r.Rows, "took", r.Wall.Round(time.Millisecond),
			"aggregates", r.Agg.Took.Round(time.Millisecond))
		return nil
	}
	late := func(d int) error {
		var sn model.Snapshot
		err := b.conn.QueryRow(ctx, `
SELECT host, software, version, open_registrations, users_total, users_active_month, users_active_halfyear, local_posts, languages
FROM daily WHERE day = ? ORDER BY host LIMIT 1`, b.day(d).Format(time.DateOnly)).Scan(&sn.Host, &sn.Software, &sn.Version,
			&sn.OpenRegistrations, &sn.UsersTotal, &sn.UsersActiveMonth, &sn.UsersActiveHalfyear, &sn.LocalPosts, &sn.Languages)
		if err != nil {
			return fmt.Errorf("reading a daily row of day %d: %w", d, err)
		}
		sn.CrawledAt = b.day(d).Add(24*time.Hour - time.Second)
		if err := b.st.InsertSnapshots(ctx, []model.Snapshot{sn}); err != nil {
			return fmt.Errorf("writing a late snapshot: %w", err)
		}
		return nil
	}
	last := b.cfg.days - 1
	if err := step("every closed day but the last (a first rollup, or the first after an upgrade)", b.day(last-1)); err != nil {
		return err
	}
	if err := step("the day before today alone (the daily case)", b.today); err != nil {
		return err
	}
	if err := late(last - 1); err != nil {
		return err
	}
	if err := step("the day before today again, after a late snapshot for it", b.today); err != nil {
		return err
	}
	if err := late(last / 2); err != nil {
		return err
	}
	return step(fmt.Sprintf("a day %d days back again, after a late snapshot for it", last-last/2), b.today)
}

// recorder is the store as stats.Source, noting whether a statistic over
// time read the day rows instead of the aggregates.
type recorder struct {
	*store.Store
	dayRows atomic.Bool
}

func (r *recorder) DayGroups(ctx context.Context, q store.GroupQuery) (store.AggRows, error) {
	rows, err := r.Store.DayGroups(ctx, q)
	if err == nil && !rows.Aggregated {
		r.dayRows.Store(true)
	}
	return rows, err
}

func (r *recorder) HostRuns(ctx context.Context, f store.DayFilter, src store.AggSource) (store.AggRows, error) {
	rows, err := r.Store.HostRuns(ctx, f, src)
	if err == nil && !rows.Aggregated {
		r.dayRows.Store(true)
	}
	return rows, err
}

// statistic is one statistic of internal/stats, run with a query; it
// returns how many points (periods, groups, days) it gave.
type statistic struct {
	name string
	// overTime statistics read the aggregates; the others read one day's
	// rows (or one host's) either way.
	overTime bool
	run      func(ctx context.Context, s *stats.Stats, q stats.Query) (int, error)
	// from says what a link statistic reads (the report's "read from").
	from string
	// plain statistics take no filters: they are timed with the default
	// query only.
	plain bool
}

// statistics lists every statistic of internal/stats; host is the
// instance whose history is read.
func statistics(host string) []statistic {
	return []statistic{
		{name: "totals over time, by day", overTime: true, run: func(ctx context.Context, s *stats.Stats, q stats.Query) (int, error) {
			p, err := s.Totals(ctx, q)
			return len(p), err
		}},
		{name: "totals over time, by month", overTime: true, run: func(ctx context.Context, s *stats.Stats, q stats.Query) (int, error) {
			q.Interval = stats.Month
			p, err := s.Totals(ctx, q)
			return len(p), err
		}},
		{name: "software share over time", overTime: true, run: func(ctx context.Context, s *stats.Stats, q stats.Query) (int, error) {
			p, err := s.SoftwareShareOverTime(ctx, q)
			return len(p), err
		}},
		{name: "version share over time (mastodon)", overTime: true, run: func(ctx context.Context, s *stats.Stats, q stats.Query) (int, error) {
			p, err := s.VersionShareOverTime(ctx, q, "mastodon")
			return len(p), err
		}},
		{name: "registrations over time", overTime: true, run: func(ctx context.Context, s *stats.Stats, q stats.Query) (int, error) {
			p, err := s.Registrations(ctx, q)
			return len(p), err
		}},
		{name: "growth: new, dead, returning", overTime: true, run: func(ctx context.Context, s *stats.Stats, q stats.Query) (int, error) {
			p, err := s.Growth(ctx, q)
			return len(p), err
		}},
		{name: "software share on the latest day", overTime: false, run: func(ctx context.Context, s *stats.Stats, q stats.Query) (int, error) {
			p, err := s.SoftwareShare(ctx, q)
			return len(p.Shares), err
		}},
		{name: "version share on the latest day (mastodon)", overTime: false, run: func(ctx context.Context, s *stats.Stats, q stats.Query) (int, error) {
			p, err := s.VersionShare(ctx, q, "mastodon")
			return len(p.Shares), err
		}},
		{name: "registrations by software", overTime: false, run: func(ctx context.Context, s *stats.Stats, q stats.Query) (int, error) {
			p, err := s.RegistrationsBySoftware(ctx, q)
			return len(p.Software), err
		}},
		{name: "languages", overTime: false, run: func(ctx context.Context, s *stats.Stats, q stats.Query) (int, error) {
			p, err := s.Languages(ctx, q)
			return len(p.Shares), err
		}},
		{name: "size distribution", overTime: false, run: func(ctx context.Context, s *stats.Stats, q stats.Query) (int, error) {
			p, err := s.Sizes(ctx, q)
			return int(p.Accounts.Instances), err
		}},
		{name: "one instance's history", overTime: false, run: func(ctx context.Context, s *stats.Stats, q stats.Query) (int, error) {
			p, err := s.History(ctx, host, q)
			if errors.Is(err, model.ErrNotFound) {
				return 0, nil // not in the filter's software or language
			}
			return len(p), err
		}},
	}
}

// queryVariant is a query every statistic is timed with.
type queryVariant struct {
	Name string
	Q    stats.Query
	// Before: also time it over the day rows.
	Before bool
}

// queryVariants: the default query (every day, every instance, suspect
// figures left out), one filtered by software and language, and the
// default query up to yesterday, the last day rolled up, which reads no
// live day: what the aggregates cost on their own.
func queryVariants(yesterday time.Time) []queryVariant {
	return []queryVariant{
		{"all instances", stats.Query{}, true},
		{"software mastodon, language de", stats.Query{Software: []string{"mastodon"}, Language: "de"}, true},
		{"all instances, up to yesterday", stats.Query{To: yesterday}, false},
	}
}

// statTiming is one statistic's timings with one query.
type statTiming struct {
	Name    string
	Variant string
	Points  int
	// Agg is the median time of the statistic as served (from the
	// aggregates for statistics over time), Min and Max the fastest and
	// the slowest run: on a shared machine the fastest is the nearest to
	// an idle one.
	Agg, Min, Max time.Duration
	// Aggregated: every run read the aggregates (statistics over time).
	Aggregated bool
	OverTime   bool
	// Before is the median time from the day rows (stats.Options
	// DayRowsOnly), the path every statistic took without aggregates;
	// zero when not measured.
	Before time.Duration
	// From is what a link statistic reads.
	From string
}

// statistics times every statistic with every query variant: a warm-up
// round, then rounds that each run every statistic once, so that a burst
// of load on the shared machine falls on all of them alike rather than on
// the runs of one; then the statistics over time from the day rows, the
// same way.
func (b *bench) statistics(ctx context.Context, res *results) error {
	var host string
	err := b.conn.QueryRow(ctx, `SELECT host FROM daily GROUP BY host ORDER BY count() DESC, host LIMIT 1`).Scan(&host)
	if err != nil {
		return fmt.Errorf("choosing an instance for its history: %w", err)
	}
	res.HistoryHost = host
	res.LoadBefore = benchenv.LoadAverage()
	defer func() { res.LoadAfter = benchenv.LoadAverage() }()
	rec := &recorder{Store: b.st}
	served := stats.New(rec, stats.Options{})
	before := stats.New(b.st, stats.Options{DayRowsOnly: true})

	type job struct {
		stat    statistic
		variant queryVariant
		timing  *statTiming
		times   []time.Duration
	}
	var jobs []*job
	all := statistics(host)
	if b.cfg.links {
		all = append(all, linkStatistics(host)...)
	}
	for i, v := range queryVariants(b.day(b.cfg.days - 2)) {
		for _, stat := range all {
			if stat.plain && i > 0 {
				continue
			}
			jobs = append(jobs, &job{stat: stat, variant: v,
				timing: &statTiming{Name: stat.name, Variant: v.Name, OverTime: stat.overTime, Aggregated: stat.overTime,
					From: stat.from}})
		}
	}
	rounds := func(n int, s *stats.Stats, pick func(*job) bool, record func(j *job, d time.Duration, points int)) error {
		for round := range n + 1 { // round 0 warms up
			for _, j := range jobs {
				if !pick(j) {
					continue
				}
				rec.dayRows.Store(false)
				began := time.Now()
				points, err := j.stat.run(ctx, s, j.variant.Q)
				took := time.Since(began)
				if err != nil {
					return fmt.Errorf("timing %s (%s): %w", j.stat.name, j.variant.Name, err)
				}
				if j.stat.overTime && rec.dayRows.Load() {
					j.timing.Aggregated = false
				}
				if round > 0 {
					record(j, took, points)
				}
			}
		}
		return nil
	}
	err = rounds(b.cfg.runs, served, func(*job) bool { return true }, func(j *job, d time.Duration, points int) {
		j.times = append(j.times, d)
		j.timing.Points = points
	})
	if err != nil {
		return err
	}
	for _, j := range jobs {
		j.timing.Agg, j.timing.Min, j.timing.Max = median(j.times), slices.Min(j.times), slices.Max(j.times)
		j.times = nil
	}
	if b.cfg.beforeRuns > 0 {
		err = rounds(b.cfg.beforeRuns, before, func(j *job) bool { return j.stat.overTime && j.variant.Before }, func(j *job, d time.Duration, _ int) {
			j.times = append(j.times, d)
		})
		if err != nil {
			return fmt.Errorf("over the day rows: %w", err)
		}
		for _, j := range jobs {
			if len(j.times) > 0 {
				j.timing.Before = median(j.times)
			}
		}
	}
	for _, j := range jobs {
		t := *j.timing
		res.Stats = append(res.Stats, t)
		b.log.Info("statistic timed", "what", t.Name, "query", t.Variant, "median", t.Agg.Round(time.Microsecond),
			"fastest", t.Min.Round(time.Microsecond), "day_rows_median", t.Before.Round(time.Millisecond), "aggregated", t.Aggregated)
	}
	return nil
}

// median is the middle value of ds (the lower middle of an even count).
func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

// pageTiming is one dashboard page's server time.
type pageTiming struct {
	Path     string
	Median   time.Duration
	Max      time.Duration
	Bytes    int
	Runs     int
	Overview bool
}

// pages times the dashboard's pages as this tree serves them (dashboard.New
// over the store with the statistics and the graph, as `fedilens serve`
// builds it, GET through httptest): the overview, which the issue bounds,
// then every other census and federation page.
func (b *bench) pages(ctx context.Context, res *results, host string) error {
	sts := stats.New(b.st, stats.Options{})
	d, err := dashboard.New(dashboard.Options{Store: b.st, Stats: sts, Graph: graph.New(sts, graph.Options{}), Version: "bench"})
	if err != nil {
		return fmt.Errorf("building the dashboard: %w", err)
	}
	mux := http.NewServeMux()
	d.Register(mux)
	paths := []string{"/", "/software", "/software?software=mastodon", "/registrations", "/languages", "/instances",
		"/instances?software=mastodon&sort=active", "/instances/" + host}
	if b.cfg.links {
		paths = append(paths, "/blocks", "/graph", "/graph?around="+host)
	}
	for _, path := range paths {
		var size int
		get := func() error {
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, path, nil))
			if rec.Code != http.StatusOK {
				return fmt.Errorf("GET %s answered %d", path, rec.Code)
			}
			size = rec.Body.Len()
			return nil
		}
		// A page far over the target is timed fewer times: its median
		// says enough, and each run costs seconds. The first request
		// warms up (and lays out the graph, cached afterwards as served).
		runs := b.cfg.runs
		began := time.Now()
		if err := get(); err != nil {
			return fmt.Errorf("timing the dashboard: %w", err)
		}
		if time.Since(began) > 10*target {
			runs = min(runs, 3)
		}
		times := make([]time.Duration, runs)
		for i := range runs {
			began := time.Now()
			if err := get(); err != nil {
				return fmt.Errorf("timing the dashboard: %w", err)
			}
			times[i] = time.Since(began)
		}
		p := pageTiming{Path: path, Median: median(times), Max: slices.Max(times), Bytes: size, Runs: runs, Overview: path == "/"}
		res.Pages = append(res.Pages, p)
		if p.Overview {
			res.OverviewRuns = runs
			res.Overview, res.OverviewMax, res.OverviewBytes = p.Median, p.Max, size
		}
		b.log.Info("page timed", "path", path, "median", p.Median.Round(time.Millisecond))
	}
	return nil
}

// tableSize is one table's share of the disk.
type tableSize struct {
	Table                    string
	Rows                     uint64
	Compressed, Uncompressed uint64
}

// sizeTables are the tables reported, in the report's order.
var sizeTables = []string{"snapshots", "instances_latest", "daily", "daily_agg", "daily_agg_versions", "host_runs", "agg_log",
	"rollups", "peer_events", "block_events", "hosts"}

// sizes reads the active parts of every reported table.
func (b *bench) sizes(ctx context.Context, res *results) error {
	rows, err := b.conn.Query(ctx, `
SELECT table, sum(rows), sum(data_compressed_bytes), sum(data_uncompressed_bytes)
FROM system.parts
WHERE database = ? AND active
GROUP BY table`, b.db)
	if err != nil {
		return fmt.Errorf("reading table sizes: %w", err)
	}
	defer rows.Close()
	got := map[string]tableSize{}
	for rows.Next() {
		var t tableSize
		if err := rows.Scan(&t.Table, &t.Rows, &t.Compressed, &t.Uncompressed); err != nil {
			return fmt.Errorf("reading table sizes: %w", err)
		}
		got[t.Table] = t
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading table sizes: %w", err)
	}
	for _, name := range sizeTables {
		if t, ok := got[name]; ok {
			res.Sizes = append(res.Sizes, t)
		}
	}
	return nil
}
