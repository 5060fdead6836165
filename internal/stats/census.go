package stats

import (
	"context"
	"sort"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/fedilens/fedilens/internal/store"
)

// TotalsPoint is the census of one period: the sums over the instances
// seen on Day, the period's last day with data. Unknown counts add
// nothing.
type TotalsPoint struct {
	Period         time.Time `json:"period"`
	Day            time.Time `json:"day"`
	Instances      int64     `json:"instances"`
	Accounts       int64     `json:"accounts"`
	ActiveMonth    int64     `json:"active_month"`
	ActiveHalfyear int64     `json:"active_halfyear"`
	LocalPosts     int64     `json:"local_posts"`
}

// Totals returns instances, accounts, monthly and half-year active users
// and local posts per interval, oldest first. A week's or a month's value
// is that of its last day with data, not a sum over its days.
func (s *Stats) Totals(ctx context.Context, q Query) ([]TotalsPoint, error) {
	const what = "totals"
	q, err := q.check()
	if err != nil {
		return nil, err
	}
	rows, err := s.dayGroups(ctx, q, what, nil, "users_total", "users_active_month", "users_active_halfyear", "local_posts")
	if err != nil {
		return nil, err
	}
	var pts []TotalsPoint
	err = s.query(ctx, what, `
SELECT day, sum(instances), sum(users_total), sum(users_active_month), sum(users_active_halfyear), sum(local_posts)
FROM (`+rows.SQL+`)
GROUP BY day
ORDER BY day`, func(r driver.Rows) error {
		var p TotalsPoint
		if err := r.Scan(&p.Day, &p.Instances, &p.Accounts, &p.ActiveMonth, &p.ActiveHalfyear, &p.LocalPosts); err != nil {
			return err
		}
		p.Day = day(p.Day)
		pts = append(pts, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return lastPerPeriod(q.Interval, pts, func(p *TotalsPoint) (time.Time, *time.Time) { return p.Day, &p.Period }), nil
}

// Share is one group's part of the census on a day.
type Share struct {
	// Key is the software name, the version or the language ("" for
	// unknown).
	Key         string `json:"key"`
	Instances   int64  `json:"instances"`
	Accounts    int64  `json:"accounts"`
	ActiveMonth int64  `json:"active_month"`
}

// Shares are the groups of one day, by instances (descending, ties by key).
type Shares struct {
	Period time.Time `json:"period"`
	Day    time.Time `json:"day"`
	Shares []Share   `json:"shares"`
}

// SoftwareShare groups the instances of one day by software: To's day,
// or the latest day with data. Each share has instances, accounts and
// monthly active users, so callers weigh by any of them.
func (s *Stats) SoftwareShare(ctx context.Context, q Query) (Shares, error) {
	return s.shareAt(ctx, q, "software", "software share")
}

// SoftwareShareOverTime is SoftwareShare per interval (the last day with
// data of each), oldest first.
func (s *Stats) SoftwareShareOverTime(ctx context.Context, q Query) ([]Shares, error) {
	return s.shareOverTime(ctx, q, "software", "software share over time")
}

// VersionShare groups one software's instances of one day by version
// (q.Software is replaced by software).
func (s *Stats) VersionShare(ctx context.Context, q Query, software string) (Shares, error) {
	q.Software = []string{normSoftware(software)}
	return s.shareAt(ctx, q, "version", "version share")
}

// VersionShareOverTime is VersionShare per interval, oldest first.
func (s *Stats) VersionShareOverTime(ctx context.Context, q Query, software string) ([]Shares, error) {
	q.Software = []string{normSoftware(software)}
	return s.shareOverTime(ctx, q, "version", "version share over time")
}

// shareAtSQL groups the day rows of one day by key.
func shareAtSQL(rows store.DayRows, key string) string {
	return `
SELECT day, ` + key + ` AS k, toInt64(count()), sum(ifNull(users_total, 0)), sum(ifNull(users_active_month, 0))
FROM (` + rows.SQL + `)
GROUP BY day, k
ORDER BY day, k`
}

// shareOverTimeSQL sums day groups by day and key. The rows are not
// sorted (shares sorts them): at a year of a hundred programs, sorting
// 36,500 rows by a string key is a good part of the query.
func shareOverTimeSQL(rows store.AggRows, key string) string {
	return `
SELECT day, ` + key + ` AS k, sum(instances), sum(users_total), sum(users_active_month)
FROM (` + rows.SQL + `)
GROUP BY day, k`
}

func (s *Stats) shareAt(ctx context.Context, q Query, key, what string) (Shares, error) {
	q, err := q.check()
	if err != nil {
		return Shares{}, err
	}
	at, rows, err := s.atRows(ctx, q, what, "day", key, "users_total", "users_active_month")
	if err != nil || at.IsZero() {
		return Shares{Shares: []Share{}}, err
	}
	all, err := s.shares(ctx, q, shareAtSQL(rows, key), what)
	if err != nil {
		return Shares{}, err
	}
	if len(all) == 0 {
		return Shares{Period: at, Day: at, Shares: []Share{}}, nil
	}
	all[0].Period = at
	return all[0], nil
}

func (s *Stats) shareOverTime(ctx context.Context, q Query, key, what string) ([]Shares, error) {
	q, err := q.check()
	if err != nil {
		return nil, err
	}
	rows, err := s.dayGroups(ctx, q, what, []string{key}, "users_total", "users_active_month")
	if err != nil {
		return nil, err
	}
	all, err := s.shares(ctx, q, shareOverTimeSQL(rows, key), what)
	if err != nil {
		return nil, err
	}
	return lastPerPeriod(q.Interval, all, func(p *Shares) (time.Time, *time.Time) { return p.Day, &p.Period }), nil
}

// shares reads a share query (shareAtSQL, shareOverTimeSQL: day, key,
// instances, accounts, monthly active users, in any order) into one
// Shares per day, oldest first.
func (s *Stats) shares(ctx context.Context, q Query, sql, what string) ([]Shares, error) {
	byDay := map[time.Time]*Shares{}
	err := s.query(ctx, what, sql, func(r driver.Rows) error {
		var (
			d  time.Time
			sh Share
		)
		if err := r.Scan(&d, &sh.Key, &sh.Instances, &sh.Accounts, &sh.ActiveMonth); err != nil {
			return err
		}
		d = day(d)
		p := byDay[d]
		if p == nil {
			p = &Shares{Period: q.Interval.period(d), Day: d}
			byDay[d] = p
		}
		p.Shares = append(p.Shares, sh)
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]Shares, 0, len(byDay))
	for _, p := range byDay {
		sortShares(p.Shares)
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Day.Before(out[j].Day) })
	return out, nil
}

// sortShares orders by instances, descending, then by key.
func sortShares(sh []Share) {
	sort.Slice(sh, func(i, j int) bool {
		if sh[i].Instances != sh[j].Instances {
			return sh[i].Instances > sh[j].Instances
		}
		return sh[i].Key < sh[j].Key
	})
}

// atRows returns the day a statistic at a date reads (zero: no data at
// all) and the day rows of that day alone.
func (s *Stats) atRows(ctx context.Context, q Query, what string, cols ...string) (time.Time, store.DayRows, error) {
	f := q.filter()
	f.At = true
	rows, err := s.dayRows(ctx, f, what, cols...)
	if err != nil {
		return time.Time{}, store.DayRows{}, err
	}
	return atDay(q, rows.Last), rows, nil
}

// RegistrationsPoint counts the instances open and closed to sign-ups on
// Day, the period's last day with data (NodeInfo openRegistrations).
type RegistrationsPoint struct {
	Period time.Time `json:"period"`
	Day    time.Time `json:"day"`
	Open   int64     `json:"open"`
	Closed int64     `json:"closed"`
}

// Registrations returns open versus closed registrations per interval,
// oldest first.
func (s *Stats) Registrations(ctx context.Context, q Query) ([]RegistrationsPoint, error) {
	const what = "registrations"
	q, err := q.check()
	if err != nil {
		return nil, err
	}
	rows, err := s.dayGroups(ctx, q, what, []string{"open_registrations"})
	if err != nil {
		return nil, err
	}
	var pts []RegistrationsPoint
	err = s.query(ctx, what, `
SELECT day, sumIf(instances, open_registrations = 1), sumIf(instances, open_registrations = 0)
FROM (`+rows.SQL+`)
GROUP BY day
ORDER BY day`, func(r driver.Rows) error {
		var p RegistrationsPoint
		if err := r.Scan(&p.Day, &p.Open, &p.Closed); err != nil {
			return err
		}
		p.Day = day(p.Day)
		pts = append(pts, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return lastPerPeriod(q.Interval, pts, func(p *RegistrationsPoint) (time.Time, *time.Time) { return p.Day, &p.Period }), nil
}

// SoftwareRegistrations is one software's open and closed instances.
type SoftwareRegistrations struct {
	Software string `json:"software"`
	Open     int64  `json:"open"`
	Closed   int64  `json:"closed"`
}

// RegistrationsAt is open versus closed registrations by software on Day.
type RegistrationsAt struct {
	Day      time.Time               `json:"day"`
	Software []SoftwareRegistrations `json:"software"`
}

// RegistrationsBySoftware returns open versus closed registrations by
// software on To's day (or the latest day with data), by instances
// (descending, ties by name).
func (s *Stats) RegistrationsBySoftware(ctx context.Context, q Query) (RegistrationsAt, error) {
	const what = "registrations by software"
	q, err := q.check()
	if err != nil {
		return RegistrationsAt{}, err
	}
	at, rows, err := s.atRows(ctx, q, what, "software", "open_registrations")
	if err != nil || at.IsZero() {
		return RegistrationsAt{Software: []SoftwareRegistrations{}}, err
	}
	out := RegistrationsAt{Day: at, Software: []SoftwareRegistrations{}}
	err = s.query(ctx, what, `
SELECT software, toInt64(countIf(open_registrations = 1)), toInt64(countIf(open_registrations = 0))
FROM (`+rows.SQL+`)
GROUP BY software`, func(r driver.Rows) error {
		var sr SoftwareRegistrations
		if err := r.Scan(&sr.Software, &sr.Open, &sr.Closed); err != nil {
			return err
		}
		out.Software = append(out.Software, sr)
		return nil
	})
	if err != nil {
		return RegistrationsAt{}, err
	}
	sort.Slice(out.Software, func(i, j int) bool {
		a, b := out.Software[i], out.Software[j]
		if a.Open+a.Closed != b.Open+b.Closed {
			return a.Open+a.Closed > b.Open+b.Closed
		}
		return a.Software < b.Software
	})
	return out, nil
}

// Languages groups the instances of To's day (or the latest day with
// data) by the languages their instance document lists: an instance
// counts once for each of its languages (so the shares add up to more
// than the census), and one that lists none counts under "".
func (s *Stats) Languages(ctx context.Context, q Query) (Shares, error) {
	const what = "languages"
	q, err := q.check()
	if err != nil {
		return Shares{}, err
	}
	at, rows, err := s.atRows(ctx, q, what, "languages", "users_total", "users_active_month")
	if err != nil || at.IsZero() {
		return Shares{Shares: []Share{}}, err
	}
	out := Shares{Period: at, Day: at, Shares: []Share{}}
	err = s.query(ctx, what, `
SELECT lang, toInt64(count()), sum(ifNull(users_total, 0)), sum(ifNull(users_active_month, 0))
FROM (`+rows.SQL+`)
ARRAY JOIN if(empty(languages), [''], languages) AS lang
GROUP BY lang`, func(r driver.Rows) error {
		var sh Share
		if err := r.Scan(&sh.Key, &sh.Instances, &sh.Accounts, &sh.ActiveMonth); err != nil {
			return err
		}
		out.Shares = append(out.Shares, sh)
		return nil
	})
	if err != nil {
		return Shares{}, err
	}
	sortShares(out.Shares)
	return out, nil
}
