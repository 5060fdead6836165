package store

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/fedilens/fedilens/internal/model"
)

// Link summaries (migrations 42 and 43). A host's in-degree on a day (how
// many of the day's instances list it) needs every current link of every
// instance: with 50,000 instances listing up to 100,000 peers that is a
// hundred million links, a minute of work, far too slow for a page; and
// the Threads view over a year reads a row per instance and day. So for
// each closed day, Rollup also writes small summaries, and the statistics
// read those:
//   - in_degree_hist and in_degree_top (kind "in_degree"): the day's
//     in-degree distribution (degree, hosts) and its InDegreeTopK
//     most-peered hosts, once with the flagged instances left out
//     (flagged 0) and once with them (flagged 1);
//   - watch_daily (kind "watch", links_watch.go): the Threads view's
//     split of the day's instances for each of WatchedDomains, by
//     software, suspect and instance language;
//   - blocked_top and reasons_top (kind "blocks", links_blocks.go): the
//     most-blocked domains and the most given block reasons, with and
//     without the flagged instances.
//
// Queries the summaries cannot answer (see the statistics) compute the
// same figures from the links and the day rows.
//
// A summary is valid while what it was computed from has not changed: the
// day's daily rows (the rollups log's latest "done" of the day has the
// started version the summary recorded; a late snapshot redoes the day
// and so outdates it) and the opt-out list (no opt-out row is newer than
// the summary). Rollup computes the missing and outdated summaries: the
// in-degrees newest day first, at most maxSummariesPerRollup days per call
// (a minute each at that scale) and of the cheaper kinds at most
// maxCheapSummariesPerRollup, so that a store upgraded with a year of
// days, or a changed opt-out list, is brought up to date over the
// following calls, the newest days first. The rows of a summary carry its version; link_summaries
// records it once it is complete, and readers take the newest complete
// valid version (an interrupted computation is never read; superseded
// versions stay, a few thousand rows each).
var _ = register(migration{
	version: 42,
	name:    "create in_degree_hist, in_degree_top and link_summaries",
	statements: []string{`
CREATE TABLE IF NOT EXISTS in_degree_hist (
    day     Date,
    flagged UInt8,
    version UInt64,
    degree  Int64,
    hosts   Int64
) ENGINE = MergeTree()
PARTITION BY toYYYYMM(day)
ORDER BY (day, flagged, version, degree)`, `
CREATE TABLE IF NOT EXISTS in_degree_top (
    day     Date,
    flagged UInt8,
    version UInt64,
    rank    UInt32,
    host    String,
    degree  Int64
) ENGINE = MergeTree()
PARTITION BY toYYYYMM(day)
ORDER BY (day, flagged, version, rank)`, `
CREATE TABLE IF NOT EXISTS link_summaries (
    day     Date,
    kind    String,
    flagged UInt8,
    version UInt64,
    started UInt64,
    at      DateTime('UTC')
) ENGINE = MergeTree()
ORDER BY (day, kind, flagged, version)`,
	},
})

// Kinds of link summaries.
const (
	summaryInDegree = "in_degree"
	summaryWatch    = "watch"
)

// InDegreeTopK is how many most-peered hosts a summary keeps: the largest
// top list the statistics serve.
const InDegreeTopK = 1000

// maxSummariesPerRollup bounds the days whose in-degrees one Rollup
// summarises, maxCheapSummariesPerRollup those of the other kinds (about
// a second a day each at 50,000 instances).
const (
	maxSummariesPerRollup      = 3
	maxCheapSummariesPerRollup = 60
)

// dayEndLiteral is the DateTime literal of the end of t's UTC day.
func dayEndLiteral(t time.Time) string {
	return dbLiteral(dayStart(t).AddDate(0, 0, 1), false)
}

// DegreeCount is one value of a degree distribution.
type DegreeCount struct {
	Degree, Hosts int64
}

// InDegreeSummary is a day's in-degree distribution and most-peered hosts.
type InDegreeSummary struct {
	Day time.Time
	// Degrees are sorted by degree.
	Degrees []DegreeCount
	// Top are the most-peered hosts, most first, ties by name (at most
	// InDegreeTopK, fewer when asked for fewer).
	Top []model.HostCount
}

// validSummariesSQL selects (day, flagged, version) of the valid complete
// summaries of kind (see the comment on migration 42).
func validSummariesSQL(kind string) string {
	return `
SELECT day, flagged, max(v) AS version FROM (
    SELECT day, flagged, version AS v, started FROM link_summaries WHERE kind = ` + quoteString(kind) + `
)
ANY INNER JOIN (
    SELECT day, maxIf(started, kind = 'done') AS started FROM rollups GROUP BY day
) USING (day, started)
WHERE v > (SELECT max(version) FROM optouts)
GROUP BY day, flagged`
}

// LatestInDegreeDay is the newest day with a valid in-degree summary for
// includeFlagged (zero when there is none).
func (s *Store) LatestInDegreeDay(ctx context.Context, includeFlagged bool) (time.Time, error) {
	var (
		day time.Time
		n   uint64
	)
	err := s.conn.QueryRow(ctx, `SELECT max(day), count() FROM (`+validSummariesSQL(summaryInDegree)+`) WHERE flagged = ?`,
		flagOf(includeFlagged)).Scan(&day, &n)
	if err != nil {
		return time.Time{}, fmt.Errorf("find the latest in-degree summary: %w", err)
	}
	if n == 0 {
		return time.Time{}, nil
	}
	return dayStart(day), nil
}

// InDegreeSummary reads day's valid summary for includeFlagged with its
// top hosts (at most top of them); ok is false when there is none.
func (s *Store) InDegreeSummary(ctx context.Context, day time.Time, includeFlagged bool, top int) (sum InDegreeSummary, ok bool, err error) {
	var version uint64
	var n uint64
	err = s.conn.QueryRow(ctx, `SELECT max(version), count() FROM (`+validSummariesSQL(summaryInDegree)+`) WHERE day = ? AND flagged = ?`,
		dayStart(day).Format(time.DateOnly), flagOf(includeFlagged)).Scan(&version, &n)
	if err != nil {
		return InDegreeSummary{}, false, fmt.Errorf("read the in-degree summary of %s: %w", day.Format(time.DateOnly), err)
	}
	if n == 0 {
		return InDegreeSummary{}, false, nil
	}
	sum.Day = dayStart(day)
	where := ` WHERE day = '` + sum.Day.Format(time.DateOnly) + `' AND flagged = ` + strconv.Itoa(int(flagOf(includeFlagged))) +
		` AND version = ` + strconv.FormatUint(version, 10)
	err = s.eachRow(ctx, `SELECT degree, hosts FROM in_degree_hist`+where+` ORDER BY degree`, func(r driver.Rows) error {
		var c DegreeCount
		if err := r.Scan(&c.Degree, &c.Hosts); err != nil {
			return err
		}
		sum.Degrees = append(sum.Degrees, c)
		return nil
	})
	if err == nil && top > 0 {
		err = s.eachRow(ctx, `SELECT host, degree FROM in_degree_top`+where+` ORDER BY rank LIMIT `+strconv.Itoa(top), func(r driver.Rows) error {
			var c model.HostCount
			if err := r.Scan(&c.Host, &c.Count); err != nil {
				return err
			}
			sum.Top = append(sum.Top, c)
			return nil
		})
	}
	if err != nil {
		return InDegreeSummary{}, false, fmt.Errorf("read the in-degree summary of %s: %w", day.Format(time.DateOnly), err)
	}
	return sum, true, nil
}

func flagOf(includeFlagged bool) uint8 {
	if includeFlagged {
		return 1
	}
	return 0
}

// summarizeLinks computes the missing and outdated link summaries (see
// the comment on migration 42). It reads only small tables when nothing
// is due.
func (s *Store) summarizeLinks(ctx context.Context) error {
	due, err := s.dueSummaries(ctx, summaryInDegree, 2, maxSummariesPerRollup)
	if err != nil {
		return fmt.Errorf("summarise in-degrees: %w", err)
	}
	for _, d := range due {
		if err := s.summarizeDay(ctx, d.day, d.started); err != nil {
			return fmt.Errorf("summarise in-degrees of %s: %w", d.day.Format(time.DateOnly), err)
		}
	}
	if due, err = s.dueSummaries(ctx, summaryWatch, 1, maxCheapSummariesPerRollup); err != nil {
		return fmt.Errorf("summarise the watched domains: %w", err)
	}
	for _, d := range due {
		if err := s.summarizeWatch(ctx, d.day, d.started); err != nil {
			return fmt.Errorf("summarise the watched domains on %s: %w", d.day.Format(time.DateOnly), err)
		}
	}
	if due, err = s.dueSummaries(ctx, summaryBlocks, 2, maxCheapSummariesPerRollup); err != nil {
		return fmt.Errorf("summarise the block lists: %w", err)
	}
	for _, d := range due {
		if err := s.summarizeBlocks(ctx, d.day, d.started); err != nil {
			return fmt.Errorf("summarise the block lists of %s: %w", d.day.Format(time.DateOnly), err)
		}
	}
	return nil
}

// dueSummary is a rolled-up day whose summary of some kind is missing or
// outdated, and the started version of its rollup.
type dueSummary struct {
	day     time.Time
	started uint64
}

// dueSummaries lists the rolled-up days without a valid summary of kind
// for each of its variants (flagged 0..variants-1), newest first, at most
// limit (0: all).
func (s *Store) dueSummaries(ctx context.Context, kind string, variants, limit int) ([]dueSummary, error) {
	lim := ""
	if limit > 0 {
		lim = "\nLIMIT " + strconv.Itoa(limit)
	}
	var due []dueSummary
	err := s.eachRow(ctx, `
SELECT day, started FROM (
    SELECT day, maxIf(started, kind = 'done') AS started FROM rollups GROUP BY day HAVING started > 0
)
ANY LEFT JOIN (
    SELECT day, toUInt64(count()) AS valid FROM (`+validSummariesSQL(kind)+`) GROUP BY day
) USING day
WHERE valid < `+strconv.Itoa(variants)+`
ORDER BY day DESC`+lim, func(r driver.Rows) error {
		var d dueSummary
		if err := r.Scan(&d.day, &d.started); err != nil {
			return err
		}
		d.day = dayStart(d.day)
		due = append(due, d)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("find the days due: %w", err)
	}
	return due, nil
}

// logSummaries records the complete summaries of kind of day (one row per
// flagged variant).
func (s *Store) logSummaries(ctx context.Context, day time.Time, kind string, version, started uint64, flags ...uint8) error {
	err := s.insert(ctx, `INSERT INTO link_summaries (day, kind, flagged, version, started, at)`, len(flags), func(b driver.Batch, i int) error {
		return b.Append(day, kind, flags[i], version, started, toDB(time.Now()))
	})
	if err != nil {
		return fmt.Errorf("record the summaries: %w", err)
	}
	return nil
}

// chunkEvents is about how many peer events one in-degree query groups:
// the (host, peer) pairs of a chunk are held in memory at once, some 50
// bytes each, so 8 million stay well below the server's memory limit.
const chunkEvents = 8_000_000

// peerDegree is one listed host's in-degree without and with the flagged
// listers.
type peerDegree struct {
	id          uint64
	clean, all_ int64
}

// CountInDegrees computes from the links the in-degree summaries of the
// hosts listed at the end of day at by the hosts that listers selects (a
// SELECT with host and suspect columns, such as a DayRows query): over
// the listers that are not suspect and over all of them, each with its
// InDegreeTopK most-peered hosts. The pairs are grouped in chunks of
// listing-host ids (a range of the key each, read once), at most
// chunkEvents events a chunk, so that memory stays bounded at a hundred
// million links; the per-peer counts are added up here.
func (s *Store) CountInDegrees(ctx context.Context, listers string, at time.Time) (clean, all InDegreeSummary, err error) {
	return s.countInDegreesChunked(ctx, listers, at, chunkEvents)
}

func (s *Store) countInDegreesChunked(ctx context.Context, listers string, at time.Time, chunk uint64) (clean, all InDegreeSummary, err error) {
	degrees, err := s.countInDegrees(ctx, listers, at, chunk)
	if err != nil {
		return InDegreeSummary{}, InDegreeSummary{}, fmt.Errorf("count in-degrees: %w", err)
	}
	clean, err = s.summarize(ctx, at, degrees, func(d peerDegree) int64 { return d.clean })
	if err == nil {
		all, err = s.summarize(ctx, at, degrees, func(d peerDegree) int64 { return d.all_ })
	}
	if err != nil {
		return InDegreeSummary{}, InDegreeSummary{}, fmt.Errorf("count in-degrees: %w", err)
	}
	return clean, all, nil
}

func (s *Store) countInDegrees(ctx context.Context, listers string, at time.Time, chunk uint64) ([]peerDegree, error) {
	var events uint64
	if err := s.conn.QueryRow(ctx, `SELECT count() FROM peer_events`).Scan(&events); err != nil {
		return nil, err
	}
	chunks := max(1, (events+chunk-1)/chunk)
	width := ^uint64(0)/chunks + 1
	byID := map[uint64]*peerDegree{}
	for c := range chunks {
		lo, hi := c*width, (c+1)*width-1
		if c == chunks-1 {
			hi = ^uint64(0)
		}
		err := s.eachRow(ctx, `
SELECT peer_id, toInt64(countIf(clean)), toInt64(count()) FROM (
    SELECT host_id, peer_id FROM peer_events
    WHERE host_id >= `+strconv.FormatUint(lo, 10)+` AND host_id <= `+strconv.FormatUint(hi, 10)+`
      AND host_id IN (SELECT cityHash64(host) FROM (`+listers+`)) AND at < `+dayEndLiteral(at)+`
    GROUP BY host_id, peer_id
    HAVING argMax(present, at) = 1
)
ANY INNER JOIN (SELECT cityHash64(host) AS host_id, NOT suspect AS clean FROM (`+listers+`)) USING host_id
WHERE peer_id NOT IN (SELECT cityHash64(host) FROM (`+liveOptOutsSQL+`))
GROUP BY peer_id`, func(r driver.Rows) error {
			var d peerDegree
			if err := r.Scan(&d.id, &d.clean, &d.all_); err != nil {
				return err
			}
			if p := byID[d.id]; p != nil {
				p.clean += d.clean
				p.all_ += d.all_
			} else {
				byID[d.id] = &d
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	out := make([]peerDegree, 0, len(byID))
	for _, d := range byID {
		out = append(out, *d)
	}
	return out, nil
}

// summarize builds one summary from the per-peer counts deg picks: the
// distribution, and the InDegreeTopK largest degrees and every host tied
// with the last of them, named (hosts without a name are left out, as in
// the statistics' own ranking), ordered by degree and name, and cut.
func (s *Store) summarize(ctx context.Context, day time.Time, degrees []peerDegree, deg func(peerDegree) int64) (InDegreeSummary, error) {
	sum := InDegreeSummary{Day: dayStart(day)}
	hist := map[int64]int64{}
	var listed []peerDegree
	for _, d := range degrees {
		if n := deg(d); n > 0 {
			hist[n]++
			listed = append(listed, d)
		}
	}
	for v, n := range hist {
		sum.Degrees = append(sum.Degrees, DegreeCount{Degree: v, Hosts: n})
	}
	sort.Slice(sum.Degrees, func(i, j int) bool { return sum.Degrees[i].Degree < sum.Degrees[j].Degree })

	sort.Slice(listed, func(i, j int) bool { return deg(listed[i]) > deg(listed[j]) })
	cut := min(len(listed), InDegreeTopK)
	for cut < len(listed) && cut > 0 && deg(listed[cut]) == deg(listed[cut-1]) {
		cut++
	}
	ids := make([]uint64, cut)
	for i := range cut {
		ids[i] = listed[i].id
	}
	names, err := s.hostNamesOf(ctx, ids)
	if err != nil {
		return InDegreeSummary{}, fmt.Errorf("name the most-peered hosts: %w", err)
	}
	for _, d := range listed[:cut] {
		if name, ok := names[d.id]; ok {
			sum.Top = append(sum.Top, model.HostCount{Host: name, Count: deg(d)})
		}
	}
	sort.Slice(sum.Top, func(i, j int) bool {
		if sum.Top[i].Count != sum.Top[j].Count {
			return sum.Top[i].Count > sum.Top[j].Count
		}
		return sum.Top[i].Host < sum.Top[j].Host
	})
	sum.Top = sum.Top[:min(len(sum.Top), InDegreeTopK)]
	return sum, nil
}

// summarizeDay writes the two summaries of day (flagged listers left out,
// and counted), computed from its daily rows (those of the rollup that
// started at started) in one pass over the listers' links.
func (s *Store) summarizeDay(ctx context.Context, day time.Time, started uint64) error {
	version := s.nextVersion()
	rows, err := s.DayRows(ctx, DayFilter{From: day, To: day, IncludeFlagged: true}, "host", "suspect")
	if err != nil {
		return err
	}
	clean, all, err := s.CountInDegrees(ctx, rows.SQL, day)
	if err != nil {
		return err
	}
	for flag, sum := range []InDegreeSummary{clean, all} {
		err := s.insert(ctx, `INSERT INTO in_degree_hist (day, flagged, version, degree, hosts)`, len(sum.Degrees), func(b driver.Batch, i int) error {
			return b.Append(day, uint8(flag), version, sum.Degrees[i].Degree, sum.Degrees[i].Hosts)
		})
		if err != nil {
			return fmt.Errorf("write the distribution: %w", err)
		}
		err = s.insert(ctx, `INSERT INTO in_degree_top (day, flagged, version, rank, host, degree)`, len(sum.Top), func(b driver.Batch, i int) error {
			return b.Append(day, uint8(flag), version, uint32(i+1), sum.Top[i].Host, sum.Top[i].Count)
		})
		if err != nil {
			return fmt.Errorf("write the most-peered hosts: %w", err)
		}
	}
	return s.logSummaries(ctx, day, summaryInDegree, version, started, 0, 1)
}
