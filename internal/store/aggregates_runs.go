package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

const insertRunsSQL = `INSERT INTO host_runs (host, first_day, last_day, open, software, suspect, languages, version)`

// runAttrs are what a run keeps constant: the attributes filters select
// on. languages are compared as stored (order included): a host that
// reorders its languages starts a new run, which changes no statistic.
type runAttrs struct {
	software  string
	suspect   uint8
	languages []string
}

func (a runAttrs) equal(b runAttrs) bool {
	return a.software == b.software && a.suspect == b.suspect && slices.Equal(a.languages, b.languages)
}

// openRun is a run that reaches the last day in host_runs.
type openRun struct {
	first time.Time
	runAttrs
}

// syncRuns brings host_runs up to the last rolled-up day. Days to add
// after the days it holds are added one at a time (extendRuns); when a
// day it holds was rolled up again (a late snapshot), the days from that
// one on are taken back one at a time, newest first (undoRuns), and added
// again, which at the usual redo of the day before costs two steps, not
// a pass over all of daily. More days than maxIncrementalRunDays, a
// changed fingerprint, or a table that does not hold what agg_log says
// (a step cut short) make it rebuild host_runs from daily instead. It
// does nothing while some day's rollup is unfinished, since daily is then
// in flux. It returns the days added and taken back one at a time, and
// whether it rebuilt.
func (s *Store) syncRuns(ctx context.Context, fp string) (added, undone int, rebuilt bool, err error) {
	states, logged, _, err := s.aggState(ctx, aggRuns)
	if err != nil {
		return 0, 0, false, err
	}
	var (
		need, covered []time.Time
		fpOK          = true
	)
	for _, d := range unionDays(states, logged) {
		r, e := states[d], logged[d]
		if r.started != r.done {
			return 0, 0, false, nil
		}
		if e.src != 0 {
			covered = append(covered, d)
			fpOK = fpOK && e.fp == fp
		}
		if !e.fits(r, fp) {
			need = append(need, d)
		}
	}
	if len(need) == 0 {
		return 0, 0, false, nil
	}
	// Every day before the first day needed fits: host_runs holds it. The
	// days it holds from that one on are taken back, and every rolled-up
	// day from that one on is added again.
	var (
		last       time.Time // the last day held before need[0]
		undo, redo []time.Time
	)
	for _, d := range covered {
		if d.Before(need[0]) {
			last = d
		} else {
			undo = append(undo, d)
		}
	}
	for _, d := range unionDays(states, logged) {
		if !d.Before(need[0]) && states[d].done != 0 {
			redo = append(redo, d)
		}
	}
	stepwise := fpOK && len(undo)+len(redo) <= maxIncrementalRunDays
	if stepwise {
		top := last
		if len(undo) > 0 {
			top = undo[len(undo)-1]
		}
		if stepwise, err = s.runsHoldExactly(ctx, top); err != nil {
			return 0, 0, false, err
		}
	}
	if !stepwise {
		return 0, 0, true, s.rebuildRuns(ctx, states, logged, fp)
	}
	if len(undo) > 0 {
		// agg_log first: a crash while taking days back leaves host_runs
		// at some earlier day, which the next call sees as not held.
		if err := s.logAgg(ctx, aggRuns, undo, func(time.Time) uint64 { return 0 }, ""); err != nil {
			return 0, 0, false, err
		}
		for i := len(undo) - 1; i >= 0; i-- {
			prev := last
			if i > 0 {
				prev = undo[i-1]
			}
			if err := s.undoRuns(ctx, undo[i], prev); err != nil {
				return 0, 0, false, err
			}
		}
	}
	prev := last
	for _, d := range redo {
		if err := s.extendRuns(ctx, prev, d); err != nil {
			return 0, 0, false, err
		}
		if err := s.logAgg(ctx, aggRuns, []time.Time{d}, func(time.Time) uint64 { return states[d].done }, fp); err != nil {
			return 0, 0, false, err
		}
		prev = d
	}
	return len(redo), len(undo), false, nil
}

// runsDedupSQL is host_runs with one row per run, its latest version:
// host, first_day, run_last, run_open, run_software, run_suspect,
// run_languages. It groups rather than reading FINAL because its readers
// filter on the open flag and the last day, which change between
// versions: 18.16 may move such a condition into PREWHERE, before FINAL
// keeps the latest version, and would then find an older one. Its
// columns are named apart from the table's so that no condition on them
// is pushed below the GROUP BY.
const runsDedupSQL = `
SELECT host, first_day, argMax(last_day, version) AS run_last, argMax(open, version) AS run_open,
       any(software) AS run_software, any(suspect) AS run_suspect, any(languages) AS run_languages
FROM host_runs
GROUP BY host, first_day`

// runsHoldExactly reports whether host_runs holds the runs through day
// last and nothing after it: no run starts after last, none is closed on
// or after it. Every step after last would leave one or the other, unless
// it changed nothing, so a step cut short before agg_log recorded it is
// found, and so is an undo cut short.
func (s *Store) runsHoldExactly(ctx context.Context, last time.Time) (bool, error) {
	var (
		n                   uint64
		maxFirst, maxClosed time.Time
	)
	err := s.conn.QueryRow(ctx, `SELECT count(), max(first_day), maxIf(run_last, run_open = 0) FROM (`+runsDedupSQL+`)`).
		Scan(&n, &maxFirst, &maxClosed)
	if err != nil {
		return false, fmt.Errorf("read host_runs extent: %w", err)
	}
	if n == 0 {
		return true, nil
	}
	maxFirst, maxClosed = fromDB(maxFirst), fromDB(maxClosed)
	if last.IsZero() {
		return false, nil
	}
	return !maxFirst.After(last) && maxClosed.Before(last), nil
}

// undoRuns takes day back from host_runs, which holds the runs through
// day and whose previous day held is prev (zero: none): the runs closed
// at prev, because their host did not go on to day, are open again, and
// the runs that started on day are deleted (a mutation, waited for, of a
// table of about one row per host). Cut short in between, host_runs
// still has runs starting on day, so runsHoldExactly(prev) is false.
func (s *Store) undoRuns(ctx context.Context, day, prev time.Time) error {
	rows, err := s.conn.Query(ctx, `
SELECT host, first_day, run_software, run_suspect, run_languages
FROM (`+runsDedupSQL+`)
WHERE run_open = 0 AND run_last = ?`, toDB(prev).Format(time.DateOnly))
	if err != nil {
		return fmt.Errorf("read the runs of %s: %w", day.Format(time.DateOnly), err)
	}
	type runRow struct {
		host  string
		first time.Time
		runAttrs
	}
	var runs []runRow
	for rows.Next() {
		var r runRow
		if err := rows.Scan(&r.host, &r.first, &r.software, &r.suspect, &r.languages); err != nil {
			rows.Close()
			return fmt.Errorf("read the runs of %s: %w", day.Format(time.DateOnly), err)
		}
		r.first = dayStart(r.first)
		runs = append(runs, r)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return fmt.Errorf("read the runs of %s: %w", day.Format(time.DateOnly), err)
	}
	version := s.nextVersion()
	err = s.insert(ctx, insertRunsSQL, len(runs), func(b driver.Batch, i int) error {
		r := &runs[i]
		return b.Append(r.host, r.first, prev, uint8(1), r.software, r.suspect, nonNil(r.languages), version)
	})
	if err != nil {
		return fmt.Errorf("take %s back from host_runs: %w", day.Format(time.DateOnly), err)
	}
	if err := s.deleteWhere(ctx, "host_runs", "first_day = "+dbLiteral(day, true)); err != nil {
		return fmt.Errorf("take %s back from host_runs: %w", day.Format(time.DateOnly), err)
	}
	return nil
}

// extendRuns adds day to host_runs, whose open runs reach prev (zero:
// host_runs is empty): an open run goes on when its host answered on day,
// prev being the day before, with the same attributes; the others are
// closed at prev, and every host of day without a run going on opens one.
// Only the runs that start or end are written.
func (s *Store) extendRuns(ctx context.Context, prev, day time.Time) error {
	open, err := s.openRuns(ctx)
	if err != nil {
		return err
	}
	today, err := s.dayAttrs(ctx, day)
	if err != nil {
		return err
	}
	type runRow struct {
		host        string
		first, last time.Time
		open        uint8
		runAttrs
	}
	var rows []runRow
	adjacent := !prev.IsZero() && prev.AddDate(0, 0, 1).Equal(day)
	goesOn := map[string]bool{}
	for h, r := range open {
		if t, ok := today[h]; ok && adjacent && t.equal(r.runAttrs) {
			goesOn[h] = true
			continue
		}
		rows = append(rows, runRow{host: h, first: r.first, last: prev, runAttrs: r.runAttrs})
	}
	for h, t := range today {
		if !goesOn[h] {
			rows = append(rows, runRow{host: h, first: day, last: day, open: 1, runAttrs: t})
		}
	}
	version := s.nextVersion()
	err = s.insert(ctx, insertRunsSQL, len(rows), func(b driver.Batch, i int) error {
		r := &rows[i]
		return b.Append(r.host, r.first, r.last, r.open, r.software, r.suspect, nonNil(r.languages), version)
	})
	if err != nil {
		return fmt.Errorf("extend host_runs to %s: %w", day.Format(time.DateOnly), err)
	}
	return nil
}

// openRuns reads the open runs by host.
func (s *Store) openRuns(ctx context.Context) (map[string]openRun, error) {
	rows, err := s.conn.Query(ctx, `
SELECT host, first_day, any(software), any(suspect), any(languages)
FROM host_runs
GROUP BY host, first_day
HAVING argMax(open, version) = 1`)
	if err != nil {
		return nil, fmt.Errorf("read open runs: %w", err)
	}
	defer rows.Close()
	out := map[string]openRun{}
	for rows.Next() {
		var (
			host string
			r    openRun
		)
		if err := rows.Scan(&host, &r.first, &r.software, &r.suspect, &r.languages); err != nil {
			return nil, fmt.Errorf("read open runs: %w", err)
		}
		r.first = dayStart(r.first)
		out[host] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read open runs: %w", err)
	}
	return out, nil
}

// dayAttrs reads the run attributes of every host in daily on day (of a
// host written twice by concurrent rollups, its latest crawl).
func (s *Store) dayAttrs(ctx context.Context, day time.Time) (map[string]runAttrs, error) {
	rows, err := s.conn.Query(ctx, `
SELECT host, software, hasAny(flags, `+suspectSQL+`), languages
FROM daily
WHERE day = ?
ORDER BY host, crawled_at DESC
LIMIT 1 BY host`, day.Format(time.DateOnly))
	if err != nil {
		return nil, fmt.Errorf("read daily rows of %s: %w", day.Format(time.DateOnly), err)
	}
	defer rows.Close()
	out := map[string]runAttrs{}
	for rows.Next() {
		var (
			host string
			a    runAttrs
		)
		if err := rows.Scan(&host, &a.software, &a.suspect, &a.languages); err != nil {
			return nil, fmt.Errorf("read daily rows of %s: %w", day.Format(time.DateOnly), err)
		}
		out[host] = a
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read daily rows of %s: %w", day.Format(time.DateOnly), err)
	}
	return out, nil
}

// rebuildRuns computes host_runs afresh from daily: agg_log first says
// no day is usable, then the rows are deleted and inserted again, then
// every rolled-up day is recorded.
func (s *Store) rebuildRuns(ctx context.Context, states map[time.Time]rollupState, logged map[time.Time]aggEntry, fp string) error {
	var stale, done []time.Time
	var last time.Time
	for _, d := range unionDays(states, logged) {
		if logged[d].src != 0 {
			stale = append(stale, d)
		}
		if states[d].done != 0 {
			done = append(done, d)
			last = d
		}
	}
	if err := s.logAgg(ctx, aggRuns, stale, func(time.Time) uint64 { return 0 }, ""); err != nil {
		return err
	}
	if err := s.deleteWhere(ctx, "host_runs", "1"); err != nil {
		return err
	}
	if len(done) == 0 {
		return nil
	}
	if err := s.conn.Exec(ctx, rebuildRunsSQL(last, s.nextVersion())); err != nil {
		return fmt.Errorf("rebuild host_runs: %w", err)
	}
	return s.logAgg(ctx, aggRuns, done, func(d time.Time) uint64 { return states[d].done }, fp)
}

// rebuildRunsSQL computes every run from daily through day last: per
// host and attributes, the sorted day numbers split wherever two
// neighbours are more than a day apart. A host that changes attributes
// ends one group's run and starts another's on the next day, which the
// split finds as a gap in each group. A day twice (rows not merged yet) is
// a gap of 0 and splits nothing. The lambdas take the neighbours as
// arrays of their own: indexing a captured array copies it per element.
func rebuildRunsSQL(last time.Time, version uint64) string {
	return fmt.Sprintf(`
INSERT INTO host_runs (host, first_day, last_day, open, software, suspect, languages, version)
SELECT host, first_day, last_day, toUInt8(last_day = toDate('%[1]s')), software, suspect, languages, toUInt64(%[2]d)
FROM (
    SELECT host, software, suspect, languages,
           arrayMap(x -> toDate('1970-01-01') + x,
               arrayFilter((x, p) -> x - p > 1, days, arrayPopBack(arrayPushFront(days, toInt32(0))))) AS firsts,
           arrayMap(x -> toDate('1970-01-01') + x,
               arrayFilter((x, n) -> n - x > 1, days, arrayPopFront(arrayPushBack(days, toInt32(2147483647))))) AS lasts
    FROM (
        SELECT host, software, hasAny(flags, %[3]s) AS suspect, languages,
               arraySort(groupArray(toInt32(toRelativeDayNum(day)))) AS days
        FROM daily
        WHERE day <= toDate('%[1]s')
        GROUP BY host, software, suspect, languages
    )
)
ARRAY JOIN firsts AS first_day, lasts AS last_day`, last.Format(time.DateOnly), version, suspectSQL)
}
