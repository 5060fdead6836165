package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Migrations 30 to 33: the per-day aggregates, so that a statistic over a
// year reads thousands of rows instead of the 18 million rows of daily at
// 50,000 instances.
//
// daily_agg holds, for every rolled-up day, the daily rows summed by
// (language, software, suspect, open_registrations): the number of
// instances and the sums of their counts (unknown counts add nothing, as
// in the statistics). Each instance appears once under the empty language (the
// unfiltered totals) and once under each distinct language its instance
// document lists, so a language filter is an exact key lookup instead of
// has(languages, ...). daily_agg_versions is the same keyed by version
// instead of registrations, for version share; it is a table of its own
// because (software, version) pairs are many and only one software's are
// read at a time, which its ORDER BY makes a key range.
//
// host_runs holds each host's runs: maximal spans of consecutive days it
// answered with the same software, suspect verdict and languages (the
// attributes the filters select on). Growth (new, dead, returning) only
// depends on the gaps between the days a host was seen under a filter, and
// a filter keeps or drops whole runs, so the runs give the exact growth of
// every filter and every DeadAfter from about one row per host. A run that
// reaches the last day aggregated is open (open = 1): rolling up the next
// day costs one row per host whose run starts or ends, not one per host.
// A run's rows are replaced by version (the row that closes an open run
// wins); readers take its latest version (FINAL, filtering only on what
// is the same in every version of a run).
//
// agg_log says, per kind ('days' for daily_agg and daily_agg_versions,
// 'runs' for host_runs) and day, which rollup of the day (rollups.started)
// the aggregates were built from and with which fingerprint (the suspect
// flags, and for 'days' the opted-out hosts left out); src 0 means none.
// Readers use the aggregates only for days on which agg_log and the
// rollups log agree, and fall back to DayRows otherwise, so a missing,
// stale or half-written aggregate is never read.
//
// All four are plain MergeTree or ReplacingMergeTree tables written with
// INSERT ... SELECT and redone with an ALTER TABLE ... DELETE mutation, as
// daily is: no SummingMergeTree or AggregatingMergeTree, whose merges
// differ between 18.16 and current releases. The day tables are
// partitioned by year, not by month like daily: a statistic reads a key
// range in every partition, and at a few million rows a year a month's
// partition costs more to open than to read (version share over a year:
// about 25 ms by year, 100 ms by month, measured at 50,000 instances),
// while a redo's mutation of a year's partition takes about a second.
var _ = register(
	migration{
		version: 30,
		name:    "create daily_agg",
		statements: []string{`
CREATE TABLE IF NOT EXISTS daily_agg (
    day                   Date,
    language              String,
    software              String,
    suspect               UInt8,
    open_registrations    UInt8,
    instances             Int64,
    users_total           Int64,
    users_active_month    Int64,
    users_active_halfyear Int64,
    local_posts           Int64
) ENGINE = MergeTree()
PARTITION BY toYear(day)
ORDER BY (language, day, software, suspect, open_registrations)`},
	},
	migration{
		version: 31,
		name:    "create daily_agg_versions",
		statements: []string{`
CREATE TABLE IF NOT EXISTS daily_agg_versions (
    day                   Date,
    language              String,
    software              String,
    version               String,
    suspect               UInt8,
    instances             Int64,
    users_total           Int64,
    users_active_month    Int64,
    users_active_halfyear Int64,
    local_posts           Int64
) ENGINE = MergeTree()
PARTITION BY toYear(day)
ORDER BY (language, software, day, version, suspect)`},
	},
	migration{
		version: 32,
		name:    "create host_runs",
		statements: []string{`
CREATE TABLE IF NOT EXISTS host_runs (
    host      String,
    first_day Date,
    last_day  Date,
    open      UInt8,
    software  String,
    suspect   UInt8,
    languages Array(String),
    version   UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (host, first_day)`},
	},
	migration{
		version: 33,
		name:    "create agg_log",
		statements: []string{`
CREATE TABLE IF NOT EXISTS agg_log (
    kind    String,
    day     Date,
    src     UInt64,
    fp      String,
    version UInt64,
    at      DateTime('UTC')
) ENGINE = ReplacingMergeTree(version)
ORDER BY (kind, day)`},
	},
)

// Kinds of agg_log rows.
const (
	aggDays = "days"
	aggRuns = "runs"
)

// aggFormat names the aggregates' layout and rules; changing how they are
// computed means changing it, so that every store rebuilds them.
const aggFormat = "fedilens aggregates 1"

// maxIncrementalRunDays is how many new days SyncAggregates adds to
// host_runs one at a time; more (a first fill, a long outage) are cheaper
// to rebuild in one pass over daily.
const maxIncrementalRunDays = 31

// aggChunkRanges bounds the day ranges of one aggregate build, so its
// statements stay far below max_query_size.
const aggChunkRanges = 500

const insertAggLogSQL = `INSERT INTO agg_log (kind, day, src, fp, version, at)`

// AggregateStats says what one SyncAggregates call did.
type AggregateStats struct {
	// Days is the number of days whose daily_agg and daily_agg_versions
	// rows were (re)built.
	Days int
	// RunDays is the number of days added to host_runs one at a time,
	// RunDaysUndone the number taken back first (to add again a day
	// rolled up again, and the days after it); RunsRebuilt says host_runs
	// was rebuilt from daily instead.
	RunDays, RunDaysUndone int
	RunsRebuilt            bool
	// Took is the call's wall time.
	Took time.Duration
}

// fingerprints are what the aggregates depend on besides daily: the
// suspect flags (both kinds) and the opted-out hosts ('days' only; runs
// leave opted-out hosts out when read).
type fingerprints struct{ days, runs string }

// aggFingerprints hashes the format, the suspect flags and the sorted
// opted-out hosts.
func aggFingerprints(optOuts []string) fingerprints {
	h := sha256.New()
	h.Write([]byte(aggFormat + "\n" + suspectSQL + "\n"))
	runs := hex.EncodeToString(h.Sum(nil))[:24]
	for _, o := range optOuts {
		h.Write([]byte(o + "\n"))
	}
	return fingerprints{days: hex.EncodeToString(h.Sum(nil))[:24], runs: runs}
}

// rollupState is what the rollups log says of one day: the version of its
// last rollup start and of its last finished one (0: none). Equal and
// non-zero, daily holds the rows of that rollup; different, a rollup is
// running or crashed and the day's rows are in flux.
type rollupState struct{ started, done uint64 }

// aggEntry is agg_log's latest word on one (kind, day).
type aggEntry struct {
	src uint64
	fp  string
}

// fits reports whether e describes aggregates built from the rollup r with
// fingerprint fp (for a day without a finished rollup: no aggregates).
func (e aggEntry) fits(r rollupState, fp string) bool {
	if r.done == 0 {
		return e.src == 0
	}
	return e.src == r.done && e.fp == fp
}

// aggState reads, in one round trip, the rollups log per day, agg_log's
// latest entry per day for kind, and the opted-out hosts (sorted).
func (s *Store) aggState(ctx context.Context, kind string) (map[time.Time]rollupState, map[time.Time]aggEntry, []string, error) {
	rows, err := s.conn.Query(ctx, `
SELECT toUInt8(0) AS part, day, maxIf(started, kind = 'start') AS a, maxIf(started, kind = 'done') AS b, '' AS str
FROM rollups
GROUP BY day
UNION ALL
SELECT toUInt8(1) AS part, day, argMax(src, version) AS a, toUInt64(0) AS b, argMax(fp, version) AS str
FROM agg_log
WHERE kind = ?
GROUP BY day
UNION ALL
SELECT toUInt8(2) AS part, toDate('1970-01-01') AS day, toUInt64(0) AS a, toUInt64(0) AS b, host AS str
FROM (`+liveOptOutsSQL+`)`, kind)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read rollups, agg_log and opt-outs: %w", err)
	}
	defer rows.Close()
	states, entries := map[time.Time]rollupState{}, map[time.Time]aggEntry{}
	var optOuts []string
	for rows.Next() {
		var (
			log  uint8
			day  time.Time
			a, b uint64
			fp   string
		)
		if err := rows.Scan(&log, &day, &a, &b, &fp); err != nil {
			return nil, nil, nil, fmt.Errorf("read rollups, agg_log and opt-outs: %w", err)
		}
		switch log {
		case 0:
			states[dayStart(day)] = rollupState{started: a, done: b}
		case 1:
			entries[dayStart(day)] = aggEntry{src: a, fp: fp}
		default:
			optOuts = append(optOuts, fp)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, nil, fmt.Errorf("read rollups, agg_log and opt-outs: %w", err)
	}
	sort.Strings(optOuts)
	return states, entries, optOuts, nil
}

// logAgg records that the aggregates of kind for days were built from
// src(day) with fingerprint fp (src 0: they are gone or being rebuilt).
func (s *Store) logAgg(ctx context.Context, kind string, days []time.Time, src func(time.Time) uint64, fp string) error {
	now := toDB(time.Now())
	err := s.insert(ctx, insertAggLogSQL, len(days), func(b driver.Batch, i int) error {
		return b.Append(kind, days[i], src(days[i]), fp, s.nextVersion(), now)
	})
	if err != nil {
		return fmt.Errorf("record %s aggregates of %d days: %w", kind, len(days), err)
	}
	return nil
}

// SyncAggregates brings the aggregates in line with daily: it (re)builds
// daily_agg and daily_agg_versions for every rolled-up day whose rows are
// missing, stale (the day was rolled up again) or built with other
// suspect flags or opt-outs, and brings host_runs up to the last day
// rolled up: one day at a time after the days it holds, or rebuilt from
// daily when an older day changed. Rollup calls it after each pass; after
// an upgrade its first call fills the aggregates of every day already
// rolled up. Days whose rollup is unfinished (running elsewhere, or
// crashed and due again) are left for a later call. It is idempotent, and
// a call cut short leaves agg_log saying which days are not usable, so
// readers fall back to DayRows for them.
func (s *Store) SyncAggregates(ctx context.Context) (AggregateStats, error) {
	began := time.Now()
	var st AggregateStats
	states, dayLog, optOuts, err := s.aggState(ctx, aggDays)
	if err != nil {
		return st, fmt.Errorf("sync aggregates: %w", err)
	}
	fps := aggFingerprints(optOuts)
	var build []time.Time
	for _, d := range unionDays(states, dayLog) {
		r := states[d]
		if r.started != r.done {
			continue
		}
		if !dayLog[d].fits(r, fps.days) {
			build = append(build, d)
		}
	}
	if len(build) > 0 {
		if err := s.buildDayAggregates(ctx, build, states, optOuts, fps.days); err != nil {
			return st, fmt.Errorf("sync aggregates: %w", err)
		}
		st.Days = len(build)
	}

	if st.RunDays, st.RunDaysUndone, st.RunsRebuilt, err = s.syncRuns(ctx, fps.runs); err != nil {
		return st, fmt.Errorf("sync aggregates: %w", err)
	}
	st.Took = time.Since(began)
	if st.Days > 0 || st.RunDays > 0 || st.RunsRebuilt {
		s.logger.Debug("aggregates synced", "days", st.Days, "run_days", st.RunDays, "run_days_undone", st.RunDaysUndone,
			"runs_rebuilt", st.RunsRebuilt, "took", st.Took)
	}
	return st, nil
}

// unionDays lists the days of both maps, oldest first.
func unionDays[A, B any](a map[time.Time]A, b map[time.Time]B) []time.Time {
	seen := make(map[time.Time]bool, len(a)+len(b))
	var out []time.Time
	for d := range a {
		seen[d] = true
		out = append(out, d)
	}
	for d := range b {
		if !seen[d] {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

// buildDayAggregates rewrites the daily_agg and daily_agg_versions rows
// of days (sorted) from daily, leaving optOuts out: agg_log first says
// they are unusable, then their rows are deleted and inserted again, then
// agg_log records them, so a crash at any point leaves them marked
// unusable, never wrong.
func (s *Store) buildDayAggregates(ctx context.Context, days []time.Time, states map[time.Time]rollupState,
	optOuts []string, fp string,
) error {
	ranges := dayRanges(days)
	for len(ranges) > 0 {
		chunk := ranges[:min(len(ranges), aggChunkRanges)]
		ranges = ranges[len(chunk):]
		var chunkDays []time.Time
		for _, r := range chunk {
			for d := r[0]; !d.After(r[1]); d = d.AddDate(0, 0, 1) {
				chunkDays = append(chunkDays, d)
			}
		}
		// Only days in the input: a range is built from consecutive input
		// days, so it holds nothing else.
		if err := s.logAgg(ctx, aggDays, chunkDays, func(time.Time) uint64 { return 0 }, ""); err != nil {
			return err
		}
		cond := rangesCond("day", chunk)
		for _, table := range []string{"daily_agg", "daily_agg_versions"} {
			if err := s.deleteWhere(ctx, table, cond); err != nil {
				return err
			}
		}
		notOut := optOutsCond(optOuts)
		if err := s.conn.Exec(ctx, dailyAggInsertSQL(cond+notOut)); err != nil {
			return fmt.Errorf("insert daily_agg rows: %w", err)
		}
		if err := s.conn.Exec(ctx, dailyAggVersionsInsertSQL(cond+notOut)); err != nil {
			return fmt.Errorf("insert daily_agg_versions rows: %w", err)
		}
		if err := s.logAgg(ctx, aggDays, chunkDays, func(d time.Time) uint64 { return states[d].done }, fp); err != nil {
			return err
		}
	}
	return nil
}

// deleteWhere deletes the rows of table matching cond, if there are any,
// and waits for the mutation.
func (s *Store) deleteWhere(ctx context.Context, table, cond string) error {
	var n uint64
	if err := s.conn.QueryRow(ctx, `SELECT count() FROM `+table+` WHERE `+cond).Scan(&n); err != nil {
		return fmt.Errorf("count %s rows: %w", table, err)
	}
	if n == 0 {
		return nil
	}
	if err := s.conn.Exec(ctx, `ALTER TABLE `+table+` DELETE WHERE `+cond); err != nil {
		return fmt.Errorf("delete %s rows: %w", table, err)
	}
	return s.waitMutations(ctx, table)
}

// dayRanges groups sorted days into runs of consecutive days [first, last].
func dayRanges(days []time.Time) [][2]time.Time {
	var out [][2]time.Time
	for _, d := range days {
		if n := len(out); n > 0 && out[n-1][1].AddDate(0, 0, 1).Equal(d) {
			out[n-1][1] = d
			continue
		}
		out = append(out, [2]time.Time{d, d})
	}
	return out
}

// rangesCond is the condition that col (a Date) falls in one of ranges.
func rangesCond(col string, ranges [][2]time.Time) string {
	parts := make([]string, len(ranges))
	for i, r := range ranges {
		if r[0].Equal(r[1]) {
			parts[i] = col + " = " + dbLiteral(r[0], true)
			continue
		}
		parts[i] = "(" + col + " >= " + dbLiteral(r[0], true) + " AND " + col + " <= " + dbLiteral(r[1], true) + ")"
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}

// optOutsCond is " AND host NOT IN (...)" for hosts, "" for none: a
// literal set when they are few, the opt-out subquery otherwise (which
// may see a newer list than the fingerprint; agg_log's fingerprint then
// no longer fits what readers compute, and they fall back until the next
// build).
func optOutsCond(hosts []string) string {
	switch {
	case len(hosts) == 0:
		return ""
	case len(hosts) > maxInlineOptOuts:
		return " AND host NOT IN (" + liveOptOutsSQL + ")"
	}
	quoted := make([]string, len(hosts))
	for i, h := range hosts {
		quoted[i] = quoteString(h)
	}
	return " AND host NOT IN (" + strings.Join(quoted, ", ") + ")"
}

// aggLanguagesSQL lists the language keys of a daily row: the empty one (every
// instance) and each distinct non-empty language it lists. A filter on
// language X keeps exactly the instances with has(languages, X), and X is
// never empty (an empty filter is no filter).
const aggLanguagesSQL = `arrayPushFront(arrayFilter(x -> x != '', arrayDistinct(languages)), '')`

// aggMeasuresSQL sums the counts of daily rows; unknown counts add nothing.
const aggMeasuresSQL = `toInt64(count()), sum(ifNull(users_total, 0)), sum(ifNull(users_active_month, 0)),
       sum(ifNull(users_active_halfyear, 0)), sum(ifNull(local_posts, 0))`

// dailyAggInsertSQL fills daily_agg from the daily rows matching cond.
func dailyAggInsertSQL(cond string) string {
	return `
INSERT INTO daily_agg (day, language, software, suspect, open_registrations,
    instances, users_total, users_active_month, users_active_halfyear, local_posts)
SELECT day, language, software, suspect, open_registrations, ` + aggMeasuresSQL + `
FROM (
    SELECT day, software, open_registrations, users_total, users_active_month, users_active_halfyear, local_posts,
           hasAny(flags, ` + suspectSQL + `) AS suspect, ` + aggLanguagesSQL + ` AS langs
    FROM daily
    WHERE ` + cond + `
)
ARRAY JOIN langs AS language
GROUP BY day, language, software, suspect, open_registrations`
}

// dailyAggVersionsInsertSQL fills daily_agg_versions from the daily rows
// matching cond.
func dailyAggVersionsInsertSQL(cond string) string {
	return `
INSERT INTO daily_agg_versions (day, language, software, version, suspect,
    instances, users_total, users_active_month, users_active_halfyear, local_posts)
SELECT day, language, software, version, suspect, ` + aggMeasuresSQL + `
FROM (
    SELECT day, software, version, users_total, users_active_month, users_active_halfyear, local_posts,
           hasAny(flags, ` + suspectSQL + `) AS suspect, ` + aggLanguagesSQL + ` AS langs
    FROM daily
    WHERE ` + cond + `
)
ARRAY JOIN langs AS language
GROUP BY day, language, software, version, suspect`
}
