package stats_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/fedisim"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/sanity"
	"github.com/fedilens/fedilens/internal/stats"
	"github.com/fedilens/fedilens/internal/store"
)

// recordingSource is the store, noting whether each statistic over time
// read the aggregate tables.
type recordingSource struct {
	*store.Store
	mu           sync.Mutex
	dayRowsReads []string
}

func (r *recordingSource) note(what string, rows store.AggRows) {
	if !rows.Aggregated {
		r.mu.Lock()
		r.dayRowsReads = append(r.dayRowsReads, what)
		r.mu.Unlock()
	}
}

func (r *recordingSource) DayGroups(ctx context.Context, q store.GroupQuery) (store.AggRows, error) {
	rows, err := r.Store.DayGroups(ctx, q)
	r.note(fmt.Sprintf("day groups by %v of %+v", q.By, q.Filter), rows)
	return rows, err
}

func (r *recordingSource) HostRuns(ctx context.Context, f store.DayFilter, src store.AggSource) (store.AggRows, error) {
	rows, err := r.Store.HostRuns(ctx, f, src)
	r.note(fmt.Sprintf("host runs of %+v", f), rows)
	return rows, err
}

// overTime are the statistics over time, each as a comparable value.
func overTime(ctx context.Context, s *stats.Stats, q stats.Query) (map[string]any, error) {
	out := map[string]any{}
	var err error
	add := func(name string, v any, e error) {
		out[name] = v
		if e != nil && err == nil {
			err = fmt.Errorf("%s: %w", name, e)
		}
	}
	totals, e := s.Totals(ctx, q)
	add("totals", totals, e)
	sw, e := s.SoftwareShareOverTime(ctx, q)
	add("software share", sw, e)
	vs, e := s.VersionShareOverTime(ctx, q, "mastodon")
	add("version share", vs, e)
	regs, e := s.Registrations(ctx, q)
	add("registrations", regs, e)
	growth, e := s.Growth(ctx, q)
	add("growth", growth, e)
	return out, err
}

// TestAggregatesEqualDayRows crawls a short history, then writes late
// snapshots for some of its days (suspect figures, a change of software
// and of languages, a host the crawl never saw), which redoes those days'
// rollups, and requires every statistic over time to be the same from the
// store's aggregates as from the day rows, for every combination of the
// filters, and the aggregates to have been read.
func TestAggregatesEqualDayRows(t *testing.T) {
	ctx := context.Background()
	began := time.Now()
	c := crawlHistory(t, fedisim.Options{Seed: 11, Instances: 60, HistoryDays: 20, NoHostile: true})
	t.Logf("crawled in %s", time.Since(began).Round(time.Millisecond))
	began = time.Now()

	// Late snapshots, the day's last: three hosts suspect on days 5 to 7,
	// one running akkoma with other languages on days 9 and 10, and a host
	// of its own on day 12.
	var hosts []string
	for h, in := range c.days[5].census {
		if in.Software == "mastodon" && c.days[10].census[h].Host != "" {
			hosts = append(hosts, h)
		}
	}
	sort.Strings(hosts)
	require.GreaterOrEqual(t, len(hosts), 4)
	var late []model.Snapshot
	lateSnap := func(d int, h string) model.Snapshot {
		in := c.days[d].census[h]
		return model.Snapshot{Host: h, CrawledAt: c.days[d].date.Add(23 * time.Hour), Software: in.Software,
			Version: in.Version, OpenRegistrations: in.OpenRegistrations, UsersTotal: in.UsersTotal,
			UsersActiveMonth: in.UsersActiveMonth, UsersActiveHalfyear: in.UsersActiveHalfyear, LocalPosts: in.LocalPosts,
			Languages: c.langs[h]}
	}
	for d := 5; d <= 7; d++ {
		for _, h := range hosts[:3] {
			sn := lateSnap(d, h)
			sn.Flags = []string{string(sanity.ActiveAboveTotal)}
			late = append(late, sn)
		}
	}
	for d := 9; d <= 10; d++ {
		sn := lateSnap(d, hosts[3])
		sn.Software, sn.Version, sn.Languages = "akkoma", "3.13.2", []string{"de", "en"}
		late = append(late, sn)
	}
	late = append(late, model.Snapshot{Host: "late.example", CrawledAt: c.days[12].date.Add(23 * time.Hour),
		Software: "mastodon", Version: "4.3.0", UsersTotal: p64(5), Languages: []string{"en"}})
	require.NoError(t, c.st.InsertSnapshots(ctx, late))
	st, err := c.st.Rollup(ctx, c.days[len(c.days)-1].date.AddDate(0, 0, 1))
	require.NoError(t, err)
	require.Len(t, st.Days, 6, "the days with late snapshots are rolled up again")
	require.Equal(t, []int{15, 15}, []int{st.Aggregates.RunDaysUndone, st.Aggregates.RunDays},
		"the runs from day 5 on are taken back and added again")
	src := &recordingSource{Store: c.st}

	type variant struct {
		name string
		q    stats.Query
	}
	var variants []variant
	mid, lateDay := c.days[3].date, c.days[7].date
	for mask := range 16 {
		var (
			q    stats.Query
			name []string
		)
		if mask&1 != 0 {
			q.Software = []string{"akkoma", "Lemmy", "mastodon"}
			name = append(name, "software")
		}
		if mask&2 != 0 {
			q.Language = "en"
			name = append(name, "language")
		}
		if mask&4 != 0 {
			q.From, q.To = mid, lateDay
			name = append(name, "range")
		}
		if mask&8 != 0 {
			q.IncludeFlagged = true
			name = append(name, "flagged")
		}
		variants = append(variants, variant{"with " + strings.Join(name, ", "), q})
	}
	variants = append(variants,
		variant{"weeks from a mid day", stats.Query{From: mid, Interval: stats.Week}},
		variant{"months up to a late day", stats.Query{To: lateDay, Interval: stats.Month, Language: "de"}},
	)

	agg := stats.New(src, stats.Options{DeadAfter: 1})
	ref := stats.New(c.st, stats.Options{DeadAfter: 1, DayRowsOnly: true})
	for _, v := range variants {
		got, err := overTime(ctx, agg, v.q)
		require.NoError(t, err, v.name)
		want, err := overTime(ctx, ref, v.q)
		require.NoError(t, err, v.name)
		require.Equal(t, want, got, v.name)
	}
	// Growth does not depend on DeadAfter being small.
	agg = stats.New(src, stats.Options{DeadAfter: 4})
	ref = stats.New(c.st, stats.Options{DeadAfter: 4, DayRowsOnly: true})
	for _, v := range variants[:4] {
		got, err := agg.Growth(ctx, v.q)
		require.NoError(t, err, v.name)
		want, err := ref.Growth(ctx, v.q)
		require.NoError(t, err, v.name)
		require.Equal(t, want, got, v.name)
	}
	require.Empty(t, src.dayRowsReads, "every statistic over time read the aggregates")
	t.Logf("compared in %s", time.Since(began).Round(time.Millisecond))

	// The comparison has something to compare.
	all, err := overTime(ctx, stats.New(src, stats.Options{DeadAfter: 1}), stats.Query{IncludeFlagged: true})
	require.NoError(t, err)
	require.Len(t, all["totals"], len(c.days))
	var dead, returning int64
	for _, p := range all["growth"].([]stats.GrowthPoint) {
		dead += p.Dead
		returning += p.Returning
	}
	require.Positive(t, dead, "some instance died")
	require.Positive(t, returning, "some instance came back")
}
