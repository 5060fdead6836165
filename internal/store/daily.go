package store

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/fedilens/fedilens/internal/model"
)

// Migrations 21 and 22: the daily rollup and its bookkeeping.
//
// daily holds one row per (day, host): the host's last snapshot of that
// UTC day, with the columns the statistics read, for CLOSED days only. It
// is written once per day by Rollup with INSERT ... SELECT, so statistics
// over a year read 365 x instances rows in key order instead of grouping
// every snapshot. ORDER BY (day, software, host) makes a date range (and a
// software filter within it) a primary-key range; the partition by month
// keeps a redo's DELETE mutation to one month's parts. Flags are kept raw:
// which flags are suspect is decided at query time, like everywhere else.
//
// rollups is an append-only log of what Rollup and InsertSnapshots did to
// a day: "start" (a rollup began; started = its version), "done" (it
// finished; started = the version of its start, rows = rows written) and
// "dirty" (a snapshot was written for a day already rolled up, version =
// when). A day needs (re)doing when it has no "done", or a "dirty" newer
// than its last done's start; a start without a done is a crash, found by
// the same rule.
var _ = register(
	migration{
		version: 21,
		name:    "create daily",
		statements: []string{`
CREATE TABLE IF NOT EXISTS daily (
    day                   Date,
    host                  String,
    crawled_at            DateTime('UTC'),
    software              String,
    version               String,
    open_registrations    UInt8,
    registration_mode     String,
    users_total           Nullable(Int64),
    users_active_month    Nullable(Int64),
    users_active_halfyear Nullable(Int64),
    local_posts           Nullable(Int64),
    flags                 Array(String),
    languages             Array(String)
) ENGINE = ReplacingMergeTree(crawled_at)
PARTITION BY toYYYYMM(day)
ORDER BY (day, software, host)`},
	},
	migration{
		version: 22,
		name:    "create rollups",
		statements: []string{`
CREATE TABLE IF NOT EXISTS rollups (
    day     Date,
    kind    String,
    started UInt64,
    rows    UInt64,
    version UInt64,
    at      DateTime('UTC')
) ENGINE = MergeTree()
ORDER BY (day, version)`},
	},
)

// dailyColumns are the columns of daily, in the order rollupSelectSQL
// produces them.
const dailyColumns = `day, host, crawled_at, software, version, open_registrations, registration_mode,
    users_total, users_active_month, users_active_halfyear, local_posts, flags, languages, peer_count, block_count`

// rollupSelectSQL picks each host's last snapshot of one day (the two
// placeholders are the day's start and the next day's start). LIMIT 1 BY
// also drops a snapshot written twice.
const rollupSelectSQL = `
SELECT toDate(crawled_at) AS day, host, crawled_at, software, version, open_registrations, registration_mode,
       users_total, users_active_month, users_active_halfyear, local_posts, flags, languages, peer_count, block_count
FROM snapshots
WHERE crawled_at >= ? AND crawled_at < ?
ORDER BY host, crawled_at DESC
LIMIT 1 BY host`

// Kinds of rollups rows.
const (
	rollupStart = "start"
	rollupDone  = "done"
	rollupDirty = "dirty"
)

const insertRollupSQL = `INSERT INTO rollups (day, kind, started, rows, version, at)`

// RollupStats says what one Rollup call did.
type RollupStats struct {
	// Days are the days rolled up (first time or again), oldest first.
	Days []time.Time
	// Rows is the number of daily rows written.
	Rows uint64
	// Aggregates is what SyncAggregates did after the days were rolled up.
	Aggregates AggregateStats
}

// Rollup writes the daily rows of every closed day (UTC days before
// through's day) that is not rolled up yet or that got a snapshot after it
// was, oldest first. It is idempotent and cheap when nothing is due: it
// reads the small rollups log and the snapshots since the last day done.
// After the days it brings the per-day aggregates in line with daily
// (SyncAggregates), so that statistics over time read them.
//
// A day is redone by deleting its rows (an ALTER TABLE ... DELETE
// mutation, waited for) and inserting them again. A crash between the
// insert and the bookkeeping leaves a "start" without a "done": the next
// call finds the day's rows complete (as many as the day's hosts; an
// INSERT below a million rows is one block, written whole or not at all)
// and only records it, or redoes it otherwise. Two processes rolling up
// the same day at once may write its rows twice until ReplacingMergeTree
// merges them: run Rollup from one process (fedilens run or crawl).
func (s *Store) Rollup(ctx context.Context, through time.Time) (RollupStats, error) {
	closed := dayStart(through)
	due, err := s.dueDays(ctx, closed)
	if err != nil {
		return RollupStats{}, fmt.Errorf("roll up days before %s: %w", closed.Format(time.DateOnly), err)
	}
	var st RollupStats
	for _, d := range due {
		n, err := s.rollupDay(ctx, d)
		if err != nil {
			return st, fmt.Errorf("roll up %s: %w", d.day.Format(time.DateOnly), err)
		}
		st.Days = append(st.Days, d.day)
		st.Rows += n
	}
	// The per-day aggregates follow daily (aggregates.go).
	if st.Aggregates, err = s.SyncAggregates(ctx); err != nil {
		return st, fmt.Errorf("roll up days before %s: %w", closed.Format(time.DateOnly), err)
	}
	if len(st.Days) > 0 {
		s.logger.Debug("rolled up days", "days", len(st.Days), "rows", st.Rows)
	}
	if err := s.summarizeLinks(ctx); err != nil { // links_summary.go
		return st, fmt.Errorf("roll up days before %s: %w", closed.Format(time.DateOnly), err)
	}
	return st, nil
}

// dueDay is a day Rollup must (re)do and what the log says of it.
type dueDay struct {
	day time.Time
	// marked: the log has a row of any kind for the day; done: a finished
	// rollup; dirty: a late snapshot.
	marked, done, dirty bool
}

// dueDays lists the closed days to do, oldest first: those the log says
// are unfinished or dirty, and the days after the last one done that have
// snapshots.
func (s *Store) dueDays(ctx context.Context, closed time.Time) ([]dueDay, error) {
	rows, err := s.conn.Query(ctx, `
SELECT day,
       maxIf(started, kind = 'done')  AS done_started,
       maxIf(version, kind = 'dirty') AS dirty
FROM rollups
WHERE day < ?
GROUP BY day
HAVING done_started = 0 OR dirty > done_started`, closed.Format(time.DateOnly))
	if err != nil {
		return nil, fmt.Errorf("read rollups: %w", err)
	}
	byDay := map[time.Time]dueDay{}
	for rows.Next() {
		var (
			day           time.Time
			started, drty uint64
		)
		if err := rows.Scan(&day, &started, &drty); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read rollups: %w", err)
		}
		d := dueDay{day: dayStart(day), marked: true, done: started > 0, dirty: drty > 0}
		byDay[d.day] = d
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, fmt.Errorf("read rollups: %w", err)
	}

	last, err := s.lastDoneDay(ctx)
	if err != nil {
		return nil, err
	}
	from := minTime
	if !last.IsZero() {
		from = last.AddDate(0, 0, 1)
	}
	if from.Before(closed) {
		rows, err := s.conn.Query(ctx, `
SELECT DISTINCT toDate(crawled_at) FROM snapshots WHERE crawled_at >= ? AND crawled_at < ?`, toDB(from), toDB(closed))
		if err != nil {
			return nil, fmt.Errorf("list days with snapshots: %w", err)
		}
		for rows.Next() {
			var day time.Time
			if err := rows.Scan(&day); err != nil {
				rows.Close()
				return nil, fmt.Errorf("list days with snapshots: %w", err)
			}
			if _, ok := byDay[dayStart(day)]; !ok {
				byDay[dayStart(day)] = dueDay{day: dayStart(day)}
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("list days with snapshots: %w", err)
		}
	}
	out := make([]dueDay, 0, len(byDay))
	for _, d := range byDay {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].day.Before(out[j].day) })
	return out, nil
}

// lastDoneDay is the last day a rollup finished (zero: none).
func (s *Store) lastDoneDay(ctx context.Context) (time.Time, error) {
	var (
		day time.Time
		n   uint64
	)
	if err := s.conn.QueryRow(ctx, `SELECT max(day), count() FROM rollups WHERE kind = 'done'`).Scan(&day, &n); err != nil {
		return time.Time{}, fmt.Errorf("read last rolled-up day: %w", err)
	}
	if n == 0 {
		return time.Time{}, nil
	}
	return dayStart(day), nil
}

// rollupDay (re)writes one day's rows and records it.
func (s *Store) rollupDay(ctx context.Context, d dueDay) (uint64, error) {
	dayStr := d.day.Format(time.DateOnly)
	started := s.nextVersion()
	if err := s.logRollup(ctx, d.day, rollupStart, started, 0); err != nil {
		return 0, err
	}
	var have uint64
	if err := s.conn.QueryRow(ctx, `SELECT count() FROM daily WHERE day = ?`, dayStr).Scan(&have); err != nil {
		return 0, fmt.Errorf("count daily rows: %w", err)
	}
	if have > 0 {
		if d.marked && !d.done && !d.dirty {
			// A crash after the insert? Complete rows only need recording.
			var want uint64
			err := s.conn.QueryRow(ctx, `SELECT uniqExact(host) FROM snapshots WHERE crawled_at >= ? AND crawled_at < ?`,
				toDB(d.day), toDB(d.day.AddDate(0, 0, 1))).Scan(&want)
			if err != nil {
				return 0, fmt.Errorf("count hosts: %w", err)
			}
			if want == have {
				return have, s.logRollup(ctx, d.day, rollupDone, started, have)
			}
		}
		if err := s.conn.Exec(ctx, `ALTER TABLE daily DELETE WHERE day = ?`, dayStr); err != nil {
			return 0, fmt.Errorf("delete daily rows: %w", err)
		}
		if err := s.waitMutations(ctx, "daily"); err != nil {
			return 0, err
		}
	}
	err := s.conn.Exec(ctx, `INSERT INTO daily (`+dailyColumns+`)`+rollupSelectSQL, toDB(d.day), toDB(d.day.AddDate(0, 0, 1)))
	if err != nil {
		return 0, fmt.Errorf("insert daily rows: %w", err)
	}
	var n uint64
	if err := s.conn.QueryRow(ctx, `SELECT count() FROM daily WHERE day = ?`, dayStr).Scan(&n); err != nil {
		return 0, fmt.Errorf("count daily rows: %w", err)
	}
	return n, s.logRollup(ctx, d.day, rollupDone, started, n)
}

// logRollup appends one row to the rollups log.
func (s *Store) logRollup(ctx context.Context, day time.Time, kind string, started, rows uint64) error {
	err := s.insert(ctx, insertRollupSQL, 1, func(b driver.Batch, _ int) error {
		return b.Append(day, kind, started, rows, s.nextVersion(), toDB(time.Now()))
	})
	if err != nil {
		return fmt.Errorf("record rollup %s of %s: %w", kind, day.Format(time.DateOnly), err)
	}
	return nil
}

// markLateDays records a "dirty" row for every day of snaps that a rollup
// has already started or finished, so that the next Rollup redoes it. It
// runs after the snapshots are written: a rollup that started before the
// check may have missed them and is marked; one that starts after it reads
// them.
func (s *Store) markLateDays(ctx context.Context, snaps []model.Snapshot) error {
	days := map[time.Time]bool{}
	for i := range snaps {
		days[dayStart(toDB(snaps[i].CrawledAt))] = true
	}
	if len(days) == 0 {
		return nil
	}
	var (
		last time.Time
		n    uint64
	)
	if err := s.conn.QueryRow(ctx, `SELECT max(day), count() FROM rollups WHERE kind != 'dirty'`).Scan(&last, &n); err != nil {
		return fmt.Errorf("check rolled-up days: %w", err)
	}
	if n == 0 {
		return nil
	}
	last = dayStart(last)
	var late []time.Time
	for d := range days {
		if !d.After(last) {
			late = append(late, d)
		}
	}
	if len(late) == 0 {
		return nil
	}
	sort.Slice(late, func(i, j int) bool { return late[i].Before(late[j]) })
	now := toDB(time.Now())
	err := s.insert(ctx, insertRollupSQL, len(late), func(b driver.Batch, i int) error {
		return b.Append(late[i], rollupDirty, uint64(0), uint64(0), s.nextVersion(), now)
	})
	if err != nil {
		return fmt.Errorf("mark %d rolled-up days for a redo: %w", len(late), err)
	}
	return nil
}

// dayStart is the start of t's UTC day.
func dayStart(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// DayFilter selects the rows of DayRows.
type DayFilter struct {
	// From and To bound the UTC days, both included; zero means unbounded.
	From, To time.Time
	// Software keeps the listed programs (lower-cased, trimmed); empty: all.
	Software []string
	// Language keeps instances whose instance document lists it.
	Language string
	// IncludeFlagged keeps rows with a suspect sanity flag, which are left
	// out by default.
	IncludeFlagged bool
	// Host, when set, reads only that host's days (from snapshots, through
	// their (host, crawled_at) key, not from daily).
	Host string
	// At reads one day only, the day of a statistic at a date: To's day,
	// or the last day with data when To is zero or after it (From is
	// ignored).
	At bool
	// CarryDays is how many days an answer counts for: 0 or 1, the day it
	// was given; N > 1 carries a host's last answer forward to the N-1
	// following days without one (never past the last day with data), for
	// deployments that visit each host less often than daily. It costs a
	// group by (day, host) over N times the rows.
	CarryDays int
}

// MaxCarryDays bounds DayFilter.CarryDays.
const MaxCarryDays = 31

// DayRowColumns are the columns DayRows can give: day Date, host String,
// software String, version String, open_registrations UInt8,
// registration_mode String, users_total, users_active_month,
// users_active_halfyear and local_posts Nullable(Int64), languages
// Array(String), suspect UInt8 (the snapshot has a suspect sanity flag),
// peer_count and block_count Nullable(Int64) (the sizes of the peer and
// domain-block lists read, NULL when none was; links_stats.go).
var DayRowColumns = []string{"day", "host", "software", "version", "open_registrations", "registration_mode",
	"users_total", "users_active_month", "users_active_halfyear", "local_posts", "languages", "suspect",
	"peer_count", "block_count"}

// DayRows is the input of every statistic over time: one row per (day,
// host) with the host's last snapshot of that day, from daily for the days
// rolled up and from the snapshots themselves after the last one (today,
// and any day not rolled up yet), opted-out hosts left out and the
// filter applied after the day's last snapshot is chosen.
type DayRows struct {
	// SQL is a SELECT of the columns asked for, in the order asked, with
	// every value inlined (no placeholders), to use as a subquery.
	SQL string
	// Last is the last day with a snapshot of any host, before the filter
	// (zero when there is none): "the latest date" of statistics at a date.
	Last time.Time
}

// maxInlineOptOuts is how many opted-out hosts DayRows writes into the
// query as a literal set; more are read with a subquery.
const maxInlineOptOuts = 1000

// DayRows builds the day rows query for f, with the columns cols (a subset
// of DayRowColumns; none means all). Only the columns a statistic and the
// filter need are read: ClickHouse 18.16 does not prune the columns of a
// UNION ALL subquery. It asks the server three small questions (the
// opted-out hosts, the last day rolled up, the last snapshot after it;
// for one host, the opted-out hosts and its last snapshot).
func (s *Store) DayRows(ctx context.Context, f DayFilter, cols ...string) (DayRows, error) {
	if len(cols) == 0 {
		cols = DayRowColumns
	}
	for _, c := range cols {
		if !slices.Contains(DayRowColumns, c) {
			return DayRows{}, fmt.Errorf("build day rows: unknown column %q", c)
		}
	}
	carry := max(f.CarryDays, 1)
	if carry > MaxCarryDays {
		return DayRows{}, fmt.Errorf("build day rows: %w: carry days must be at most %d", model.ErrBadQuery, MaxCarryDays)
	}

	// The filter, on the day rows.
	var filter []string
	need := slices.Clone(cols)
	use := func(c string) {
		if !slices.Contains(need, c) {
			need = append(need, c)
		}
	}
	if !f.IncludeFlagged {
		filter = append(filter, "NOT suspect")
		use("suspect")
	}
	var swList []string
	for _, sw := range f.Software {
		if sw = strings.ToLower(strings.TrimSpace(sw)); sw != "" {
			swList = append(swList, quoteString(sw))
		}
	}
	swCond := ""
	if len(swList) > 0 {
		swCond = "software IN (" + strings.Join(swList, ", ") + ")"
		filter = append(filter, swCond)
		use("software")
	}
	if lang := strings.ToLower(strings.TrimSpace(f.Language)); lang != "" {
		filter = append(filter, "has(languages, "+quoteString(lang)+")")
		use("languages")
	}
	if carry > 1 {
		use("day")
		use("host")
	}

	optOut, err := s.optOutCond(ctx)
	if err != nil {
		return DayRows{}, fmt.Errorf("build day rows: %w", err)
	}
	// The last day with data first: a filter At one day reads it.
	var done, last time.Time
	if f.Host != "" {
		var l time.Time
		if err := s.conn.QueryRow(ctx, `SELECT max(crawled_at) FROM snapshots WHERE host = ?`, f.Host).Scan(&l); err != nil {
			return DayRows{}, fmt.Errorf("build day rows: read last snapshot: %w", err)
		}
		last = dayOrZero(fromDB(l))
	} else {
		if done, err = s.lastDoneDay(ctx); err != nil {
			return DayRows{}, fmt.Errorf("build day rows: %w", err)
		}
		var liveLast time.Time
		if err := s.conn.QueryRow(ctx, `SELECT max(crawled_at) FROM snapshots WHERE crawled_at >= ?`, toDB(done.AddDate(0, 0, 1))).Scan(&liveLast); err != nil {
			return DayRows{}, fmt.Errorf("build day rows: read last snapshot: %w", err)
		}
		last = dayOrZero(fromDB(liveLast))
		if last.IsZero() {
			last = done
		}
	}

	from, to := dayOrZero(f.From), dayOrZero(f.To)
	if f.At {
		at := last
		if !to.IsZero() && to.Before(last) {
			at = to
		}
		from, to = at, at
	}
	wantFrom := from
	if carry > 1 && !from.IsZero() {
		from = from.AddDate(0, 0, -(carry - 1)) // the answers carried into the range
	}

	var parts []string
	liveFrom := from
	switch {
	case f.At && last.IsZero(): // no data at all
	case f.Host != "":
		parts = append(parts, liveDayRows(need, "host = "+quoteString(f.Host)+" AND "+rangeCond("crawled_at", from, to, false)+optOut))
	default:
		if !done.IsZero() && (from.IsZero() || !from.After(done)) {
			dailyTo := done
			if !to.IsZero() && to.Before(done) {
				dailyTo = to
			}
			cond := rangeCond("day", from, dailyTo, true)
			if swCond != "" && carry == 1 { // through the primary key
				cond += " AND " + swCond
			}
			var exprs []string
			for _, c := range need {
				if c == "suspect" {
					c = "hasAny(flags, " + suspectSQL + ") AS suspect"
				}
				exprs = append(exprs, c)
			}
			parts = append(parts, "\nSELECT "+strings.Join(exprs, ", ")+"\nFROM daily\nWHERE "+cond+optOut)
			liveFrom = done.AddDate(0, 0, 1)
			if from.After(done) {
				liveFrom = from
			}
		}
		if (to.IsZero() || !to.Before(liveFrom)) && (last.IsZero() || !liveFrom.After(last)) {
			parts = append(parts, liveDayRows(need, rangeCond("crawled_at", liveFrom, to, false)+optOut))
		}
	}
	if len(parts) == 0 { // a range without data
		parts = append(parts, liveDayRows(need, "0"))
	}
	src := strings.Join(parts, "\nUNION ALL")
	if carry > 1 {
		src = carryDayRows(need, src, carry, wantFrom, to, last)
	}
	where := ""
	if len(filter) > 0 {
		where = "\nWHERE " + strings.Join(filter, " AND ")
	}
	return DayRows{SQL: "SELECT " + strings.Join(cols, ", ") + " FROM (" + src + "\n)" + where, Last: last}, nil
}

// liveDayRows picks each host's last snapshot of each day from the
// snapshots that match cond, with the columns need.
func liveDayRows(need []string, cond string) string {
	var fields, outer []string
	for _, c := range need {
		switch c {
		case "day", "host":
			outer = append(outer, c)
		case "suspect":
			fields = append(fields, "flags")
			outer = append(outer, fmt.Sprintf("hasAny(tupleElement(t, %d), %s) AS suspect", len(fields), suspectSQL))
		default:
			fields = append(fields, c)
			outer = append(outer, fmt.Sprintf("tupleElement(t, %d) AS %s", len(fields), c))
		}
	}
	// The tuple keeps NULL counts: argMax skips rows whose argument is NULL.
	agg := ""
	if len(fields) > 0 {
		agg = ", argMax(tuple(" + strings.Join(fields, ", ") + "), crawled_at) AS t"
	}
	return `
SELECT ` + strings.Join(outer, ", ") + `
FROM (
    SELECT toDate(crawled_at) AS day, host` + agg + `
    FROM snapshots
    WHERE ` + cond + `
    GROUP BY day, host
)`
}

// carryDayRows carries each host's last answer forward over the days
// without one (see DayFilter.CarryDays): every row also stands for the
// carry-1 following days, and of the rows standing for a (day, host) the
// one answered last wins. Days outside from..to, or after last, are cut.
func carryDayRows(need []string, src string, carry int, from, to, last time.Time) string {
	var inner, fields, outer []string
	for _, c := range need {
		switch c {
		case "day":
			inner = append(inner, "day AS src_day")
		case "host":
			inner = append(inner, c)
		default:
			inner = append(inner, c)
			fields = append(fields, c)
		}
	}
	outer = append(outer, "day", "host")
	for i, c := range fields {
		outer = append(outer, fmt.Sprintf("tupleElement(t, %d) AS %s", i+1, c))
	}
	agg := ""
	if len(fields) > 0 {
		agg = ", argMax(tuple(" + strings.Join(fields, ", ") + "), src_day) AS t"
	}
	end := last
	if !to.IsZero() && to.Before(end) {
		end = to
	}
	bounds := []string{"day <= " + dbLiteral(end, true)}
	if !from.IsZero() {
		bounds = append(bounds, "day >= "+dbLiteral(from, true))
	}
	return `
SELECT ` + strings.Join(outer, ", ") + `
FROM (
    SELECT toDate(src_day + k) AS day, host` + agg + `
    FROM (SELECT ` + strings.Join(inner, ", ") + ` FROM (` + src + `))
    ARRAY JOIN range(` + fmt.Sprint(carry) + `) AS k
    GROUP BY day, host
)
WHERE ` + strings.Join(bounds, " AND ")
}

// optOutCond is the condition (with a leading AND) that leaves opted-out
// hosts out, "" when there are none: a literal set when they are few, so
// the usual query needs no subquery and no per-row lookup.
func (s *Store) optOutCond(ctx context.Context) (string, error) {
	rows, err := s.conn.Query(ctx, liveOptOutsSQL+` LIMIT `+fmt.Sprint(maxInlineOptOuts+1))
	if err != nil {
		return "", fmt.Errorf("read opt-outs: %w", err)
	}
	defer rows.Close()
	var hosts []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return "", fmt.Errorf("read opt-outs: %w", err)
		}
		hosts = append(hosts, quoteString(h))
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("read opt-outs: %w", err)
	}
	switch {
	case len(hosts) == 0:
		return "", nil
	case len(hosts) > maxInlineOptOuts:
		return " AND host NOT IN (" + liveOptOutsSQL + ")", nil
	}
	return " AND host NOT IN (" + strings.Join(hosts, ", ") + ")", nil
}

// rangeCond bounds col to the days from..to (both included; zero:
// unbounded): a Date column, or a DateTime one (toDay false).
func rangeCond(col string, from, to time.Time, toDay bool) string {
	var c []string
	if !from.IsZero() {
		c = append(c, col+" >= "+dbLiteral(from, toDay))
	}
	if !to.IsZero() {
		if toDay {
			c = append(c, col+" <= "+dbLiteral(to, true))
		} else {
			c = append(c, col+" < "+dbLiteral(to.AddDate(0, 0, 1), false))
		}
	}
	if len(c) == 0 {
		return "1"
	}
	return strings.Join(c, " AND ")
}

// ReadQuery runs a read-only query for internal/stats, whose statistics
// are SELECTs over DayRows.
func (s *Store) ReadQuery(ctx context.Context, query string, args ...any) (driver.Rows, error) {
	rows, err := s.conn.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	return rows, nil
}

// dayOrZero is dayStart, keeping the zero time zero.
func dayOrZero(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return dayStart(t)
}

// dbLiteral is a DateTime or Date literal of t in UTC, clamped to
// DateTime's range.
func dbLiteral(t time.Time, date bool) string {
	t = toDB(t)
	if date {
		return "'" + t.Format(time.DateOnly) + "'"
	}
	return "'" + t.Format(time.DateTime) + "'"
}

// quoteString is a ClickHouse string literal of v.
func quoteString(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}
