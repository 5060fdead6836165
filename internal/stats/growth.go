package stats

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/fedilens/fedilens/internal/model"
)

// GrowthPoint counts the instances that appeared, died and came back in
// one period.
type GrowthPoint struct {
	Period time.Time `json:"period"`
	// New instances were seen for the first time in the period.
	New int64 `json:"new"`
	// Dead instances were last seen in the period and then not for
	// DeadAfter days in a row; they are dated at their last day seen, and
	// only counted once DeadAfter days have passed since then.
	Dead int64 `json:"dead"`
	// Returning instances were seen again in the period after being dead.
	Returning int64 `json:"returning"`
}

// Growth event kinds in growthSQL's rows.
const (
	evNew = iota
	evDead
	evReturn
)

// growthSQL lists the events per (kind, day) from each host's runs of
// consecutive days seen (store.HostRuns, as day numbers): its first day
// (new), the run ends followed by DeadAfter unseen days or more (dead;
// the day after the last day with data stands for the next day seen
// after the last run) and the run starts after such a gap (returning).
// Within a run the days are one apart, which is never a death, so the
// runs give the same events as the days themselves; runs of one host do
// not overlap, so their sorted starts and sorted ends pair up, and a run
// twice (a day twice, from daily rows not merged yet) is a gap of 0 and
// changes nothing. The lambdas take the previous end and the next start
// as arrays of their own: a lambda that indexes the captured array copies
// it for every element, which is quadratic in the runs. %[1]s is the
// runs, %[2]d DeadAfter, %[3]s the last day with data.
const growthSQL = `
SELECT tupleElement(e, 1) AS kind, tupleElement(e, 2) AS d, toInt64(count())
FROM (
    SELECT firsts, lasts,
           arrayPopBack(arrayPushFront(lasts, toInt64(0))) AS prev,
           arrayPopFront(arrayPushBack(firsts, toInt64(toRelativeDayNum(toDate('%[3]s'))) + 1)) AS next
    FROM (
        SELECT arraySort(groupArray(run_first)) AS firsts, arraySort(groupArray(run_last)) AS lasts
        FROM (%[1]s)
        GROUP BY host
    )
)
ARRAY JOIN arrayConcat(
    [tuple(toUInt8(0), firsts[1])],
    arrayMap(x -> tuple(toUInt8(1), x), arrayFilter((x, n) -> n - x > %[2]d, lasts, next)),
    arrayMap(x -> tuple(toUInt8(2), x), arrayFilter((x, p) -> p > 0 AND x - p > %[2]d, firsts, prev))
) AS e
GROUP BY kind, d`

// Growth returns new, dead and returning instances per interval, oldest
// first; periods without any event are left out. The whole history up to
// To is read (an instance first seen before From is not new), and the
// events are then counted from From on.
func (s *Stats) Growth(ctx context.Context, q Query) ([]GrowthPoint, error) {
	const what = "growth"
	q, err := q.check()
	if err != nil {
		return nil, err
	}
	runs, err := s.src.HostRuns(ctx, q.filter(), s.aggSource())
	if err != nil {
		return nil, fmt.Errorf("compute %s: %w", what, err)
	}
	s.log.Debug("statistic source", "what", what, "aggregated", runs.Aggregated)
	if runs.Last.IsZero() {
		return []GrowthPoint{}, nil
	}
	end := atDay(q, runs.Last)
	byPeriod := map[time.Time]*GrowthPoint{}
	err = s.query(ctx, what, fmt.Sprintf(growthSQL, runs.SQL, s.opts.DeadAfter, end.Format(time.DateOnly)), func(r driver.Rows) error {
		var (
			kind uint8
			dn   int64
			n    int64
		)
		if err := r.Scan(&kind, &dn, &n); err != nil {
			return err
		}
		d := time.Unix(dn*86400, 0).UTC()
		if !q.From.IsZero() && d.Before(day(q.From)) {
			return nil
		}
		per := q.Interval.period(d)
		p := byPeriod[per]
		if p == nil {
			p = &GrowthPoint{Period: per}
			byPeriod[per] = p
		}
		switch kind {
		case evNew:
			p.New += n
		case evDead:
			p.Dead += n
		case evReturn:
			p.Returning += n
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]GrowthPoint, 0, len(byPeriod))
	for _, p := range byPeriod {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Period.Before(out[j].Period) })
	return out, nil
}

// Distribution describes how one count spreads over the instances that
// publish it.
type Distribution struct {
	// Instances is the number of instances with a known count, Total the
	// sum of their counts.
	Instances int64 `json:"instances"`
	Total     int64 `json:"total"`
	// Median and the percentiles are nearest-rank: the smallest count
	// that at least that share of the instances do not exceed.
	Median int64 `json:"median"`
	P75    int64 `json:"p75"`
	P90    int64 `json:"p90"`
	P99    int64 `json:"p99"`
	// Top1Sum and Top10Sum are the counts of the largest 1% and 10% of the
	// instances (at least one instance each, rounded up), and Top1Share
	// and Top10Share their share of Total (0 when Total is 0).
	Top1Sum    int64   `json:"top1_sum"`
	Top10Sum   int64   `json:"top10_sum"`
	Top1Share  float64 `json:"top1_share"`
	Top10Share float64 `json:"top10_share"`
}

// SizeDistribution is the distribution of accounts and of monthly active
// users over the instances on Day.
type SizeDistribution struct {
	Day         time.Time    `json:"day"`
	Accounts    Distribution `json:"accounts"`
	ActiveMonth Distribution `json:"active_month"`
}

// Sizes returns the size distribution on To's day (or the latest day with
// data). The values are read and sorted here, which is exact and cheap at
// one value per instance.
func (s *Stats) Sizes(ctx context.Context, q Query) (SizeDistribution, error) {
	const what = "size distribution"
	q, err := q.check()
	if err != nil {
		return SizeDistribution{}, err
	}
	at, rows, err := s.atRows(ctx, q, what, "users_total", "users_active_month")
	if err != nil || at.IsZero() {
		return SizeDistribution{}, err
	}
	var users, active []int64
	err = s.query(ctx, what, `SELECT users_total, users_active_month FROM (`+rows.SQL+`)`, func(r driver.Rows) error {
		var u, a *int64
		if err := r.Scan(&u, &a); err != nil {
			return err
		}
		if u != nil {
			users = append(users, *u)
		}
		if a != nil {
			active = append(active, *a)
		}
		return nil
	})
	if err != nil {
		return SizeDistribution{}, err
	}
	return SizeDistribution{Day: at, Accounts: Distribute(users), ActiveMonth: Distribute(active)}, nil
}

// Distribute computes a Distribution of values (which it sorts).
func Distribute(values []int64) Distribution {
	sort.Slice(values, func(i, j int) bool { return values[i] < values[j] })
	n := len(values)
	d := Distribution{Instances: int64(n)}
	if n == 0 {
		return d
	}
	for _, v := range values {
		d.Total += v
	}
	rank := func(pct int) int64 { // nearest rank: ceil(pct/100 * n)
		k := (pct*n + 99) / 100
		return values[max(k, 1)-1]
	}
	d.Median, d.P75, d.P90, d.P99 = rank(50), rank(75), rank(90), rank(99)
	top := func(pct int) int64 {
		k := max((pct*n+99)/100, 1)
		var sum int64
		for _, v := range values[n-k:] {
			sum += v
		}
		return sum
	}
	d.Top1Sum, d.Top10Sum = top(1), top(10)
	if d.Total > 0 {
		d.Top1Share = float64(d.Top1Sum) / float64(d.Total)
		d.Top10Share = float64(d.Top10Sum) / float64(d.Total)
	}
	return d
}

// HostPoint is one instance on one day: its last snapshot that day.
type HostPoint struct {
	Day               time.Time `json:"day"`
	Software          string    `json:"software"`
	Version           string    `json:"version"`
	OpenRegistrations bool      `json:"open_registrations"`
	Accounts          *int64    `json:"accounts"`
	ActiveMonth       *int64    `json:"active_month"`
	ActiveHalfyear    *int64    `json:"active_halfyear"`
	LocalPosts        *int64    `json:"local_posts"`
	// Suspect says the counts carry a suspect sanity flag (only with
	// Query.IncludeFlagged; such days are left out otherwise).
	Suspect bool `json:"suspect"`
}

// History returns the daily points of one host, oldest first, read from
// its snapshots through their (host, crawled_at) key. It wraps
// model.ErrNotFound when the host has no point in the range (or is opted
// out).
func (s *Stats) History(ctx context.Context, host string, q Query) ([]HostPoint, error) {
	const what = "instance history"
	q, err := q.check()
	if err != nil {
		return nil, err
	}
	f := q.filter()
	f.Host = host
	rows, err := s.dayRows(ctx, f, what, "day", "software", "version", "open_registrations", "users_total",
		"users_active_month", "users_active_halfyear", "local_posts", "suspect")
	if err != nil {
		return nil, err
	}
	var out []HostPoint
	err = s.query(ctx, what, `
SELECT day, software, version, open_registrations, users_total, users_active_month, users_active_halfyear,
       local_posts, suspect
FROM (`+rows.SQL+`)
ORDER BY day`, func(r driver.Rows) error {
		var (
			p          HostPoint
			open, susp uint8
		)
		if err := r.Scan(&p.Day, &p.Software, &p.Version, &open, &p.Accounts, &p.ActiveMonth, &p.ActiveHalfyear,
			&p.LocalPosts, &susp); err != nil {
			return err
		}
		p.Day = day(p.Day)
		p.OpenRegistrations, p.Suspect = open == 1, susp == 1
		out = append(out, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("compute %s of %q: %w", what, host, model.ErrNotFound)
	}
	return out, nil
}
