// Package stats answers the observatory's statistics (totals, software and
// version share, growth and churn, registrations, languages, the size
// distribution, one instance's history) for the API and the dashboard,
// from one source of day rows: internal/store's DayRows, one row per
// (day, host) with the host's last snapshot of the day, read from the
// daily rollup for closed days and from the live snapshots after it.
//
// Statistics at a date read that day's rows. Statistics over time read
// what the store keeps per day instead (store.DayGroups: instances and
// sums per day and key; store.HostRuns: each host's spans of consecutive
// days, for growth), which the store answers from its per-day aggregate
// tables for the rolled-up days, a few thousand rows for a year, and
// from DayRows where the aggregates cannot answer exactly; the result is
// the same either way.
//
// Every statistic is one SQL pass that aggregates per day (and per
// software, version or language); choosing the day that stands for a
// week or a month, and computing percentiles from sorted values, is done
// here in Go over at most a few thousand rows. A host counts on a day
// when it answered that day. Suspect figures (internal/sanity) and
// opted-out hosts are left out unless Query.IncludeFlagged; every figure
// can be filtered by software, language and time range.
package stats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/fedilens/fedilens/internal/store"
)

// Source is what the statistics read: *store.Store.
type Source interface {
	DayRows(ctx context.Context, f store.DayFilter, cols ...string) (store.DayRows, error)
	DayGroups(ctx context.Context, q store.GroupQuery) (store.AggRows, error)
	HostRuns(ctx context.Context, f store.DayFilter, src store.AggSource) (store.AggRows, error)
	ReadQuery(ctx context.Context, query string, args ...any) (driver.Rows, error)
}

// ErrBadQuery is wrapped by the errors of a query that cannot be answered
// as asked (an unknown interval, a range that ends before it starts).
var ErrBadQuery = errors.New("bad statistics query")

// Interval is the period one point over time stands for.
type Interval string

// Intervals. Weeks start on Monday (ISO 8601), months on the 1st, in UTC.
const (
	Day   Interval = "day"
	Week  Interval = "week"
	Month Interval = "month"
)

// Query selects the rows a statistic covers.
type Query struct {
	// From and To bound the UTC days, both included; zero means unbounded.
	// Statistics at a date use To's day (zero: the latest day with data).
	From, To time.Time
	// Interval of points over time (default Day).
	Interval Interval
	// Software keeps the listed programs (NodeInfo names); empty: all.
	Software []string
	// Language keeps the instances whose instance document lists it.
	Language string
	// IncludeFlagged counts snapshots with a suspect sanity flag too.
	IncludeFlagged bool
	// CarryDays: 0 or 1 counts a host on the days it answered; N > 1
	// also on the N-1 days after an answer without a newer one, for
	// deployments that visit hosts less often than daily (at most
	// store.MaxCarryDays). See store.DayFilter.
	CarryDays int
}

// DefaultDeadAfter is Options.DeadAfter's default, in days.
const DefaultDeadAfter = 30

// Options configures Stats.
type Options struct {
	// DeadAfter is how many days in a row an instance must go unseen to
	// count as dead (default DefaultDeadAfter).
	DeadAfter int
	// Logger receives query timings at debug level. Nil discards them.
	Logger *slog.Logger
	// DayRowsOnly computes the statistics over time from the day rows
	// even where the store's per-day aggregates could answer: the same
	// figures, slower. For comparisons and benchmarks.
	DayRowsOnly bool
}

// Stats computes the statistics. It is safe for concurrent use.
type Stats struct {
	src  Source
	opts Options
	log  *slog.Logger
}

// New returns Stats over src.
func New(src Source, opts Options) *Stats {
	if opts.DeadAfter <= 0 {
		opts.DeadAfter = DefaultDeadAfter
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Stats{src: src, opts: opts, log: log}
}

// check validates q and fills its defaults.
func (q Query) check() (Query, error) {
	switch q.Interval {
	case "":
		q.Interval = Day
	case Day, Week, Month:
	default:
		return q, fmt.Errorf("%w: interval must be %q, %q or %q", ErrBadQuery, Day, Week, Month)
	}
	if q.CarryDays < 0 || q.CarryDays > store.MaxCarryDays {
		return q, fmt.Errorf("%w: carry days must be between 0 and %d", ErrBadQuery, store.MaxCarryDays)
	}
	if !q.From.IsZero() && !q.To.IsZero() && day(q.To).Before(day(q.From)) {
		return q, fmt.Errorf("%w: to is before from", ErrBadQuery)
	}
	return q, nil
}

// filter is q's store filter.
func (q Query) filter() store.DayFilter {
	return store.DayFilter{From: q.From, To: q.To, Software: q.Software, Language: q.Language, IncludeFlagged: q.IncludeFlagged,
		CarryDays: q.CarryDays}
}

// period is the start of the interval d falls in.
func (iv Interval) period(d time.Time) time.Time {
	d = day(d)
	switch iv {
	case Week:
		return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
	case Month:
		return time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return d
}

// day is the start of t's UTC day.
func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// atDay is the day a statistic at a date reads (store.DayFilter.At): To's
// day, or the latest day with data (last) when To is zero or later.
func atDay(q Query, last time.Time) time.Time {
	if q.To.IsZero() || (!last.IsZero() && day(q.To).After(last)) {
		return last
	}
	return day(q.To)
}

// query runs one statistic's SQL and calls scan for every row.
func (s *Stats) query(ctx context.Context, what, sql string, scan func(r driver.Rows) error, args ...any) error {
	began := time.Now()
	rows, err := s.src.ReadQuery(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("compute %s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("compute %s: %w", what, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("compute %s: %w", what, err)
	}
	s.log.Debug("statistic computed", "what", what, "took", time.Since(began))
	return nil
}

// aggSource is where the statistics over time ask the store to read.
func (s *Stats) aggSource() store.AggSource {
	if s.opts.DayRowsOnly {
		return store.AggDayRows
	}
	return store.AggAuto
}

// dayGroups returns the day groups of q's filter by keys, with measures.
func (s *Stats) dayGroups(ctx context.Context, q Query, what string, by []string, measures ...string) (store.AggRows, error) {
	rows, err := s.src.DayGroups(ctx, store.GroupQuery{Filter: q.filter(), By: by, Measures: measures, Source: s.aggSource()})
	if err != nil {
		return store.AggRows{}, fmt.Errorf("compute %s: %w", what, err)
	}
	s.log.Debug("statistic source", "what", what, "aggregated", rows.Aggregated)
	return rows, nil
}

// dayRows returns the day rows of f with the columns cols.
func (s *Stats) dayRows(ctx context.Context, f store.DayFilter, what string, cols ...string) (store.DayRows, error) {
	rows, err := s.src.DayRows(ctx, f, cols...)
	if err != nil {
		return store.DayRows{}, fmt.Errorf("compute %s: %w", what, err)
	}
	return rows, nil
}

// lastPerPeriod keeps, of points sorted by day, the last of every period,
// and sets its period: the value of a week or a month is the value on its
// last day with data. at gives a point's day and period field.
func lastPerPeriod[T any](iv Interval, points []T, at func(p *T) (day time.Time, period *time.Time)) []T {
	var out []T
	for i := range points {
		d, _ := at(&points[i])
		per := iv.period(d)
		if i+1 < len(points) {
			if next, _ := at(&points[i+1]); iv.period(next).Equal(per) {
				continue
			}
		}
		p := points[i]
		_, set := at(&p)
		*set = per
		out = append(out, p)
	}
	return out
}

// normSoftware lower-cases and trims a software name as stored.
func normSoftware(sw string) string { return strings.ToLower(strings.TrimSpace(sw)) }
