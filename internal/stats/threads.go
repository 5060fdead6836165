package stats

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/fedilens/fedilens/internal/store"
)

// The Threads view: which instances suspend, limit or federate with Meta's
// threads.net, and with other large corporate or bridged platforms (the
// watched domains), weighted by users, over time and by software: Threads
// joining the fediverse brought many newcomers, and whether an instance
// lets it in is a question its people ask.
//
// Each instance of a day's census (the query's filters apply) falls in
// exactly one category per watched domain, decided at the end of the day
// and in this order:
//  1. suspend: its block list is public that day (the day's last
//     snapshot read one) and suspends the domain;
//  2. limit: its public list silences or limits the domain;
//  3. federate: the domain is in its peer list (its stored peer set at
//     the end of the day) and its list, if public, does neither;
//  4. neither: its list is public, does not restrict the domain (a noop
//     entry restricts nothing) and its peer list does not name it;
//  5. unknown: it publishes no block list and its peer list does not
//     name the domain. Such an instance may block the domain: it is never
//     counted as not blocking.
// A week's or a month's split is that of its last day with data, like
// every figure over time.

// DefaultWatchedDomains are the platforms the Threads view follows when
// the caller names none: Meta's Threads and Bridgy Fed's Bluesky bridge.
var DefaultWatchedDomains = slices.Clone(store.WatchedDomains)

// MaxWatchedDomains bounds the domains of one Threads view.
const MaxWatchedDomains = 10

// WatchSplit is how the instances treat one watched domain: every
// instance is in exactly one of the five (see the Threads view's rules).
type WatchSplit struct {
	Suspend  Weighted `json:"suspend"`
	Limit    Weighted `json:"limit"`
	Federate Weighted `json:"federate"`
	Neither  Weighted `json:"neither"`
	Unknown  Weighted `json:"unknown"`
}

// Total is the sum of the five categories: the instances covered.
func (w WatchSplit) Total() Weighted {
	var t Weighted
	for _, c := range []Weighted{w.Suspend, w.Limit, w.Federate, w.Neither, w.Unknown} {
		t.add(c)
	}
	return t
}

func (w *WatchSplit) category(name string) *Weighted {
	switch name {
	case store.WatchSuspend:
		return &w.Suspend
	case store.WatchLimit:
		return &w.Limit
	case store.WatchFederate:
		return &w.Federate
	case store.WatchNeither:
		return &w.Neither
	}
	return &w.Unknown
}

// WatchPoint is the split of one period: that of Day, the period's last
// day with data.
type WatchPoint struct {
	Period time.Time `json:"period"`
	Day    time.Time `json:"day"`
	WatchSplit
}

// WatchSeries is one watched domain over time, oldest first.
type WatchSeries struct {
	Domain string       `json:"domain"`
	Points []WatchPoint `json:"points"`
}

// WatchSoftware is the split of one software's instances.
type WatchSoftware struct {
	Software string `json:"software"`
	WatchSplit
}

// WatchAt is one watched domain on Day: the split of all instances and by
// software (most instances first, ties by name).
type WatchAt struct {
	Domain     string          `json:"domain"`
	Day        time.Time       `json:"day"`
	All        WatchSplit      `json:"all"`
	BySoftware []WatchSoftware `json:"by_software"`
}

// ThreadsView is the Threads view: every watched domain over time and on
// To's day by software.
type ThreadsView struct {
	Domains  []string      `json:"domains"`
	OverTime []WatchSeries `json:"over_time"`
	At       []WatchAt     `json:"at"`
}

// Threads returns ThreadsOverTime and ThreadsBySoftware of domains (none:
// DefaultWatchedDomains).
func (s *Stats) Threads(ctx context.Context, q Query, domains []string) (ThreadsView, error) {
	domains, err := watchedDomains(domains)
	if err != nil {
		return ThreadsView{}, err
	}
	over, err := s.ThreadsOverTime(ctx, q, domains)
	if err != nil {
		return ThreadsView{}, err
	}
	at, err := s.ThreadsBySoftware(ctx, q, domains)
	if err != nil {
		return ThreadsView{}, err
	}
	return ThreadsView{Domains: domains, OverTime: over, At: at}, nil
}

// ThreadsOverTime returns, for each of domains (none:
// DefaultWatchedDomains), the split of the instances per interval over
// the query's range. The rolled-up days of store.WatchedDomains come from
// the store's daily watch summaries (a few rows a day) when the source
// has them (WatchSummaries) and carried days are off; the other days, and
// other domains, are computed from the day rows joined with the domain's
// block and peer events only.
func (s *Stats) ThreadsOverTime(ctx context.Context, q Query, domains []string) ([]WatchSeries, error) {
	const what = "threads view over time"
	domains, err := watchedDomains(domains)
	if err != nil {
		return nil, err
	}
	q, err = q.check()
	if err != nil {
		return nil, err
	}
	out := make([]WatchSeries, 0, len(domains))
	for _, dom := range domains {
		var pts []WatchPoint
		f := q.filter()
		if sums, ok := s.src.(WatchSummaries); ok {
			counts, through, ok, err := sums.WatchSummaries(ctx, dom, f)
			if err != nil {
				return nil, fmt.Errorf("compute %s: %w", what, err)
			}
			if ok {
				for _, c := range counts {
					if len(pts) == 0 || !pts[len(pts)-1].Day.Equal(c.Day) {
						pts = append(pts, WatchPoint{Day: c.Day})
					}
					*pts[len(pts)-1].category(c.Category) = Weighted{Instances: c.Instances, Accounts: c.Accounts, ActiveMonth: c.ActiveMonth}
				}
				if !through.IsZero() && (f.From.IsZero() || !day(f.From).After(through)) {
					f.From = through.AddDate(0, 0, 1) // the days after the summaries
				}
			}
		}
		if f.To.IsZero() || !day(f.To).Before(day(f.From)) {
			rest, err := s.watchDays(ctx, f, dom, what)
			if err != nil {
				return nil, err
			}
			pts = append(pts, rest...)
		}
		ser := WatchSeries{Domain: dom, Points: lastPerPeriod(q.Interval, pts, func(p *WatchPoint) (time.Time, *time.Time) { return p.Day, &p.Period })}
		if ser.Points == nil {
			ser.Points = []WatchPoint{}
		}
		out = append(out, ser)
	}
	return out, nil
}

// WatchSummaries is what a Source may also offer (*store.Store does): the
// Threads view's daily summaries of the rolled-up days.
type WatchSummaries interface {
	WatchSummaries(ctx context.Context, domain string, f store.DayFilter) (counts []store.WatchCount, through time.Time, ok bool, err error)
}

// watchDays computes domain's split per day of f from the day rows.
func (s *Stats) watchDays(ctx context.Context, f store.DayFilter, dom, what string) ([]WatchPoint, error) {
	rows, err := s.src.DayRows(ctx, f, "day", "host", "users_total", "users_active_month", "block_count")
	if err != nil {
		return nil, fmt.Errorf("compute %s: %w", what, err)
	}
	if rows.Last.IsZero() {
		return nil, nil
	}
	end := rows.Last
	if !f.To.IsZero() && day(f.To).Before(end) {
		end = day(f.To)
	}
	var pts []WatchPoint
	err = s.query(ctx, what, watchSQL(rows, dom, end, "day"), func(r driver.Rows) error {
		var (
			d   time.Time
			cat string
			w   Weighted
		)
		if err := r.Scan(&d, &cat, &w.Instances, &w.Accounts, &w.ActiveMonth); err != nil {
			return err
		}
		d = day(d)
		if len(pts) == 0 || !pts[len(pts)-1].Day.Equal(d) {
			pts = append(pts, WatchPoint{Day: d})
		}
		*pts[len(pts)-1].category(cat) = w
		return nil
	})
	if err != nil {
		return nil, err
	}
	return pts, nil
}

// ThreadsBySoftware returns, for each of domains (none:
// DefaultWatchedDomains), the split of the instances on To's day (or the
// latest day with data), in all and by software.
func (s *Stats) ThreadsBySoftware(ctx context.Context, q Query, domains []string) ([]WatchAt, error) {
	const what = "threads view by software"
	domains, err := watchedDomains(domains)
	if err != nil {
		return nil, err
	}
	at, rows, err := s.linkRows(ctx, q, what, "day", "host", "software", "users_total", "users_active_month", "block_count")
	if err != nil {
		return nil, err
	}
	out := make([]WatchAt, 0, len(domains))
	for _, dom := range domains {
		wa := WatchAt{Domain: dom, Day: at, BySoftware: []WatchSoftware{}}
		if at.IsZero() {
			out = append(out, wa)
			continue
		}
		by := map[string]*WatchSoftware{}
		err := s.query(ctx, what, watchSQL(rows, dom, at, "software"), func(r driver.Rows) error {
			var (
				sw, cat string
				w       Weighted
			)
			if err := r.Scan(&sw, &cat, &w.Instances, &w.Accounts, &w.ActiveMonth); err != nil {
				return err
			}
			ws := by[sw]
			if ws == nil {
				ws = &WatchSoftware{Software: sw}
				by[sw] = ws
			}
			*ws.category(cat) = w
			wa.All.category(cat).add(w)
			return nil
		})
		if err != nil {
			return nil, err
		}
		for _, ws := range by {
			wa.BySoftware = append(wa.BySoftware, *ws)
		}
		sort.Slice(wa.BySoftware, func(i, j int) bool {
			a, b := wa.BySoftware[i].Total().Instances, wa.BySoftware[j].Total().Instances
			if a != b {
				return a > b
			}
			return wa.BySoftware[i].Software < wa.BySoftware[j].Software
		})
		out = append(out, wa)
	}
	return out, nil
}

// watchSQL counts the day rows (with day, host, users_total,
// users_active_month and block_count, and software when key is software)
// per (key, category) for the watched domain dom, by
// store.WatchCategorySQL: the one definition of the categories, for the
// summaries too.
func watchSQL(rows store.DayRows, dom string, end time.Time, key string) string {
	keep := "users_total, users_active_month"
	if key != "day" {
		keep = key + ", " + keep
	}
	return `
SELECT ` + key + `, cat, toInt64(count()), sum(ifNull(users_total, 0)), sum(ifNull(users_active_month, 0))
FROM (` + store.WatchCategorySQL(rows.SQL, dom, end, keep) + `)
GROUP BY ` + key + `, cat
ORDER BY ` + key + `, cat`
}

// watchedDomains normalises the watched domains (lower case, trimmed,
// de-duplicated, in the order given); none gives DefaultWatchedDomains.
func watchedDomains(domains []string) ([]string, error) {
	var out []string
	for _, d := range domains {
		d = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
		if d == "" || slices.Contains(out, d) {
			continue
		}
		if len(d) > 253 || !isName(d) || !strings.Contains(d, ".") {
			return nil, fmt.Errorf("%w: a watched domain must be a host name such as threads.net", ErrBadQuery)
		}
		out = append(out, d)
	}
	if len(out) > MaxWatchedDomains {
		return nil, fmt.Errorf("%w: at most %d watched domains", ErrBadQuery, MaxWatchedDomains)
	}
	if len(out) == 0 {
		out = append(out, DefaultWatchedDomains...)
	}
	return out, nil
}
