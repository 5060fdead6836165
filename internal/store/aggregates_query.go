package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fedilens/fedilens/internal/model"
)

// AggSource says where DayGroups and HostRuns read the rolled-up days.
type AggSource uint8

const (
	// AggAuto reads the aggregate tables where agg_log says they fit the
	// rolled-up days exactly, and DayRows otherwise.
	AggAuto AggSource = iota
	// AggDayRows always reads DayRows, the reference the aggregates must
	// equal: for comparisons and benchmarks.
	AggDayRows
)

// The grouping columns and the measures DayGroups can give.
var (
	// DayGroupKeys: software String, version String, open_registrations
	// UInt8. version and open_registrations cannot be asked together.
	DayGroupKeys = []string{"software", "version", "open_registrations"}
	// DayGroupMeasures are Int64 sums of the counts (unknown counts add
	// nothing): users_total, users_active_month, users_active_halfyear,
	// local_posts.
	DayGroupMeasures = []string{"users_total", "users_active_month", "users_active_halfyear", "local_posts"}
)

// GroupQuery asks DayGroups for the day rows of Filter counted per day
// and By.
type GroupQuery struct {
	// Filter selects the rows as for DayRows; Host and At are not
	// allowed, and CarryDays > 1 is answered from DayRows.
	Filter DayFilter
	// By are the grouping columns besides day (DayGroupKeys).
	By []string
	// Measures are the sums wanted (DayGroupMeasures).
	Measures []string
	// Source is AggAuto unless comparing.
	Source AggSource
}

// AggRows is a query for a statistic over time.
type AggRows struct {
	// SQL is a SELECT with every value inlined, to use as a subquery.
	SQL string
	// Last is the last day with a snapshot of any host, before the filter
	// (as DayRows.Last).
	Last time.Time
	// Aggregated says the rolled-up days were read from the aggregate
	// tables (or there were none to read); false: from DayRows.
	Aggregated bool
}

// DayGroups is the input of the census statistics over time (totals,
// software and version share, registrations): rows with the columns day,
// By..., instances Int64, Measures..., whose sums per day and key are the
// counts of the day rows of q.Filter; a (day, key) may span several rows.
// The rolled-up days come from daily_agg (or daily_agg_versions, when By
// has version) where agg_log says they fit, the days after them from the
// snapshots as in DayRows; a query the aggregates cannot answer exactly
// (CarryDays > 1, a day not aggregated yet, opt-outs or suspect flags
// changed since) reads DayRows throughout, with the same result.
func (s *Store) DayGroups(ctx context.Context, q GroupQuery) (AggRows, error) {
	f := q.Filter
	if err := checkAggFilter(f); err != nil {
		return AggRows{}, err
	}
	for _, k := range q.By {
		if !slices.Contains(DayGroupKeys, k) {
			return AggRows{}, fmt.Errorf("build day groups: unknown key %q", k)
		}
	}
	if slices.Contains(q.By, "version") && slices.Contains(q.By, "open_registrations") {
		return AggRows{}, fmt.Errorf("build day groups: version and open_registrations cannot be grouped together")
	}
	for _, m := range q.Measures {
		if !slices.Contains(DayGroupMeasures, m) {
			return AggRows{}, fmt.Errorf("build day groups: unknown measure %q", m)
		}
	}

	// The days read live (or all of them, without aggregates), grouped.
	live := func(f DayFilter) (string, time.Time, error) {
		cols := append(append([]string{"day"}, q.By...), q.Measures...)
		rows, err := s.DayRows(ctx, f, cols...)
		if err != nil {
			return "", time.Time{}, err
		}
		// The sums are named apart from the columns they sum, then renamed
		// outside: an alias equal to a column inside its own expression
		// is read differently by releases with the new query analyzer.
		keys := append([]string{"day"}, q.By...)
		inner := append(slices.Clone(keys), "toInt64(count()) AS instances")
		outer := append(slices.Clone(keys), "instances")
		for _, m := range q.Measures {
			inner = append(inner, "sum(ifNull("+m+", 0)) AS sum_"+m)
			outer = append(outer, "sum_"+m+" AS "+m)
		}
		return "\nSELECT " + strings.Join(outer, ", ") + "\nFROM (\nSELECT " + strings.Join(inner, ", ") + "\nFROM (" + rows.SQL +
			"\n)\nGROUP BY " + strings.Join(keys, ", ") + "\n)", rows.Last, nil
	}

	through, ok, _, err := s.aggregatesThrough(ctx, q.Source, f, aggDays)
	if err != nil {
		return AggRows{}, fmt.Errorf("build day groups: %w", err)
	}
	from, to := dayOrZero(f.From), minDay(dayOrZero(f.To), through)
	if !ok || through.IsZero() || (!from.IsZero() && from.After(to)) {
		// Without aggregates, or with none in the range: the day rows.
		sql, last, err := live(f)
		if err != nil {
			return AggRows{}, fmt.Errorf("build day groups: %w", err)
		}
		return AggRows{SQL: sql, Last: last, Aggregated: ok}, nil
	}

	table := "daily_agg"
	if slices.Contains(q.By, "version") {
		table = "daily_agg_versions"
	}
	cols := append(append([]string{"day"}, q.By...), "instances")
	cols = append(cols, q.Measures...)
	cond := []string{"language = " + quoteString(normLanguage(f.Language))}
	if r := rangeCond("day", from, to, true); r != "1" {
		cond = append(cond, r)
	}
	if !f.IncludeFlagged {
		cond = append(cond, "suspect = 0")
	}
	if sw := softwareCond(f.Software); sw != "" {
		cond = append(cond, sw)
	}
	parts := []string{"\nSELECT " + strings.Join(cols, ", ") + "\nFROM " + table + "\nWHERE " + strings.Join(cond, " AND ")}

	lf := f
	if after := through.AddDate(0, 0, 1); lf.From.IsZero() || lf.From.Before(after) {
		lf.From = after
	}
	sql, last, err := live(lf)
	if err != nil {
		return AggRows{}, fmt.Errorf("build day groups: %w", err)
	}
	parts = append(parts, sql)
	return AggRows{SQL: strings.Join(parts, "\nUNION ALL"), Last: last, Aggregated: true}, nil
}

// HostRuns is the input of growth: rows (host String, run_first Int64,
// run_last Int64) giving, for every host, the spans of consecutive days
// on which its day rows pass f (as day numbers, toRelativeDayNum). Spans
// of one host never overlap, except that a day twice (daily rows not
// merged yet) may give a span twice; they may touch (a host that changed
// software ends one span the day before the next starts). The rolled-up
// days come from host_runs, cut at f.To, where agg_log says it holds
// every rolled-up day exactly, the later days from the snapshots (one
// span per day); f.From is ignored (growth reads the whole history).
// Otherwise, and for CarryDays > 1, every day row of DayRows is a span of
// its own, which gives the same growth at DayRows' cost.
func (s *Store) HostRuns(ctx context.Context, f DayFilter, src AggSource) (AggRows, error) {
	if err := checkAggFilter(f); err != nil {
		return AggRows{}, err
	}
	f.From = time.Time{}
	live := func(f DayFilter) (string, time.Time, error) {
		rows, err := s.DayRows(ctx, f, "day", "host")
		if err != nil {
			return "", time.Time{}, err
		}
		return `
SELECT host, toInt64(toRelativeDayNum(day)) AS run_first, run_first AS run_last
FROM (` + rows.SQL + `
)`, rows.Last, nil
	}

	through, ok, optOuts, err := s.aggregatesThrough(ctx, src, f, aggRuns)
	if err != nil {
		return AggRows{}, fmt.Errorf("build host runs: %w", err)
	}
	if !ok || through.IsZero() {
		sql, last, err := live(f)
		if err != nil {
			return AggRows{}, fmt.Errorf("build host runs: %w", err)
		}
		return AggRows{SQL: sql, Last: last, Aggregated: ok}, nil
	}

	end := minDay(dayOrZero(f.To), through)
	cond := []string{"first_day <= " + dbLiteral(end, true)}
	if !f.IncludeFlagged {
		cond = append(cond, "suspect = 0")
	}
	if sw := softwareCond(f.Software); sw != "" {
		cond = append(cond, sw)
	}
	if lang := normLanguage(f.Language); lang != "" {
		cond = append(cond, "has(languages, "+quoteString(lang)+")")
	}
	optOut := optOutsCond(optOuts)
	// An open run lasts through the last day rolled up (through), which
	// the cut at end covers.
	endLit := "toDate(" + dbLiteral(end, true) + ")"
	// FINAL reads each run's latest version in key order, several times
	// cheaper than grouping by run; every condition is on what all the
	// versions of a run share (its key and attributes), so it may be
	// applied before the versions collapse (18.16 moves conditions into
	// PREWHERE).
	parts := []string{`
SELECT host, toInt64(toRelativeDayNum(first_day)) AS run_first,
       toInt64(toRelativeDayNum(if(open = 1, ` + endLit + `, least(last_day, ` + endLit + `)))) AS run_last
FROM host_runs FINAL
WHERE ` + strings.Join(cond, " AND ") + optOut}
	lf := f
	lf.From = through.AddDate(0, 0, 1)
	sql, last, err := live(lf)
	if err != nil {
		return AggRows{}, fmt.Errorf("build host runs: %w", err)
	}
	parts = append(parts, sql)
	return AggRows{SQL: strings.Join(parts, "\nUNION ALL"), Last: last, Aggregated: true}, nil
}

// checkAggFilter refuses what DayGroups and HostRuns do not answer.
func checkAggFilter(f DayFilter) error {
	switch {
	case f.Host != "" || f.At:
		return fmt.Errorf("build aggregate rows: %w: Host and At are for DayRows", model.ErrBadQuery)
	case f.CarryDays > MaxCarryDays:
		return fmt.Errorf("build aggregate rows: %w: carry days must be at most %d", model.ErrBadQuery, MaxCarryDays)
	}
	return nil
}

// aggregatesThrough says whether the aggregates of kind can answer f
// and, if so, the last rolled-up day they are read for (days after it
// come from DayRows). They can when src allows, CarryDays is at most 1,
// and agg_log agrees with the rollups log, with the current
// fingerprint, on every day f reads from daily: the days in f's range
// for 'days', every day for 'runs' (an open run means "through the last
// day rolled up"). With nothing rolled up, or a range after it, there is
// nothing to check and the answer is yes, through the last day rolled up
// (possibly zero). It also returns the opted-out hosts, read in the same
// round trip.
func (s *Store) aggregatesThrough(ctx context.Context, src AggSource, f DayFilter, kind string) (time.Time, bool, []string, error) {
	if src == AggDayRows || f.CarryDays > 1 {
		return time.Time{}, false, nil, nil
	}
	states, entries, optOuts, err := s.aggState(ctx, kind)
	if err != nil {
		return time.Time{}, false, nil, err
	}
	fp := aggFingerprints(optOuts).days
	if kind == aggRuns {
		fp = aggFingerprints(nil).runs
	}
	var done time.Time
	for d, r := range states {
		if r.done != 0 && d.After(done) {
			done = d
		}
	}
	from, to := dayOrZero(f.From), minDay(dayOrZero(f.To), done)
	if kind == aggRuns {
		from = time.Time{}
	}
	for _, d := range unionDays(states, entries) {
		if (!from.IsZero() && d.Before(from)) || (!to.IsZero() && d.After(to)) || d.After(done) {
			continue
		}
		if r := states[d]; r.started != r.done || !entries[d].fits(r, fp) {
			return done, false, optOuts, nil
		}
	}
	return done, true, optOuts, nil
}

// softwareCond is the software filter of f as a condition ("" for none),
// as DayRows applies it.
func softwareCond(software []string) string {
	var list []string
	for _, sw := range software {
		if sw = strings.ToLower(strings.TrimSpace(sw)); sw != "" {
			list = append(list, quoteString(sw))
		}
	}
	if len(list) == 0 {
		return ""
	}
	return "software IN (" + strings.Join(list, ", ") + ")"
}

// normLanguage is a language filter as DayRows applies it.
func normLanguage(lang string) string { return strings.ToLower(strings.TrimSpace(lang)) }

// minDay is the earlier of two days, a zero one standing for "unbounded".
func minDay(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}
