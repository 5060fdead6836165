package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/fedilens/fedilens/internal/hostid"
)

// The Threads view's summaries (migration 43, see the comment on
// migration 42): for each rolled-up day and each of WatchedDomains, the
// day's instances split by how they treat the domain (WatchCategorySQL),
// counted with their accounts and monthly active users per (software,
// suspect, language). An instance listing several languages is counted
// once under each and once more under language "" (every instance), so
// that a language filter, or none, sums exact figures; a software filter
// and the flagged rule sum over those columns. A year of them is a few
// hundred thousand rows instead of a row per instance and day.
var _ = register(migration{
	version: 43,
	name:    "create watch_daily",
	statements: []string{`
CREATE TABLE IF NOT EXISTS watch_daily (
    domain       String,
    language     String,
    day          Date,
    software     String,
    suspect      UInt8,
    category     String,
    version      UInt64,
    instances    Int64,
    accounts     Int64,
    active_month Int64
) ENGINE = MergeTree()
PARTITION BY toYYYYMM(day)
ORDER BY (domain, language, day, software, suspect, category, version)`},
})

// WatchedDomains are the platforms whose Threads view is summarised every
// day: Meta's Threads and Bridgy Fed's Bluesky bridge, the default of the
// statistics' Threads view.
var WatchedDomains = []string{"threads.net", "bsky.brid.gy"}

// The categories of the Threads view, in their order of precedence.
const (
	WatchSuspend  = "suspend"
	WatchLimit    = "limit"
	WatchFederate = "federate"
	WatchNeither  = "neither"
	WatchUnknown  = "unknown"
)

// WatchCategorySQL selects, for every row of dayRows (a DayRows query with
// at least the columns day, host and block_count), the columns keep (a
// comma-separated list of dayRows' other columns, or ""), day and cat: the
// row's category for domain at the end of its day, by the Threads view's
// rules (see internal/stats): suspend or limit when its public block list
// (block_count not NULL) says so, federate when the domain is in its peer
// set, neither when its list is public, else unknown. The domain's block
// events (a scan of block_events' domain column only) and peer events
// (peer_events_by_peer: one key range) up to the end of day end are
// gathered per host into one sorted array of (day number, time, kind,
// state), kind 0 a block entry (state 0 none, 1 suspend, 2 silence or
// limit, 3 noop) and kind 1 a peer entry (state = present), and each row
// takes the last event of each kind on or before its day. The lambdas
// take the row's day as an array of their own: ClickHouse 18.16 loses a
// column of a joined subquery that only a lambda reads.
func WatchCategorySQL(dayRows, domain string, end time.Time, keep string) string {
	if keep != "" {
		keep += ", "
	}
	return `
SELECT ` + keep + `day,
       arrayResize([toRelativeDayNum(day)], length(ev), toRelativeDayNum(day)) AS dns,
       arrayFilter((e, dn) -> tupleElement(e, 1) <= dn AND tupleElement(e, 3) = 0, ev, dns) AS b,
       arrayFilter((e, dn) -> tupleElement(e, 1) <= dn AND tupleElement(e, 3) = 1, ev, dns) AS p,
       if(empty(b), toUInt8(0), tupleElement(b[length(b)], 4)) AS bs,
       if(empty(p), toUInt8(0), tupleElement(p[length(p)], 4)) AS ps,
       multiIf(block_count IS NOT NULL AND bs = 1, '` + WatchSuspend + `',
               block_count IS NOT NULL AND bs = 2, '` + WatchLimit + `',
               ps = 1, '` + WatchFederate + `',
               block_count IS NOT NULL, '` + WatchNeither + `',
               '` + WatchUnknown + `') AS cat
FROM (
    SELECT ` + keep + `day, block_count, cityHash64(host) AS host_id FROM (` + dayRows + `)
)
ANY LEFT JOIN (
    SELECT host_id, arraySort(groupArray(tuple(toRelativeDayNum(toDate(at)), at, kind, st))) AS ev
    FROM (
        SELECT host_id, at, toUInt8(0) AS kind,
               toUInt8(if(present = 0, 0, multiIf(severity = 'suspend', 1, severity IN ('silence', 'limit'), 2, 3))) AS st
        FROM block_events
        WHERE domain = ` + quoteString(domain) + ` AND at < ` + dayEndLiteral(end) + `
        UNION ALL
        SELECT host_id, at, toUInt8(1) AS kind, present AS st
        FROM peer_events_by_peer
        WHERE peer_id = ` + strconv.FormatUint(hostid.Of(domain), 10) + ` AND at < ` + dayEndLiteral(end) + `
    )
    GROUP BY host_id
) USING host_id`
}

// summarizeWatch writes the watch summaries of day, computed from its
// daily rows (those of the rollup that started at started).
func (s *Store) summarizeWatch(ctx context.Context, day time.Time, started uint64) error {
	version := s.nextVersion()
	rows, err := s.DayRows(ctx, DayFilter{From: day, To: day, IncludeFlagged: true},
		"day", "host", "software", "users_total", "users_active_month", "languages", "suspect", "block_count")
	if err != nil {
		return err
	}
	for _, dom := range WatchedDomains {
		err := s.conn.Exec(ctx, `
INSERT INTO watch_daily (domain, language, day, software, suspect, category, version, instances, accounts, active_month)
SELECT `+quoteString(dom)+`, lang, day, software, suspect, cat, `+strconv.FormatUint(version, 10)+`,
       toInt64(count()), sum(ifNull(users_total, 0)), sum(ifNull(users_active_month, 0))
FROM (`+WatchCategorySQL(rows.SQL, dom, day, "software, users_total, users_active_month, languages, suspect")+`)
ARRAY JOIN arrayPushFront(arrayFilter(x -> x != '', arrayDistinct(languages)), '') AS lang
GROUP BY lang, day, software, suspect, cat`)
		if err != nil {
			return fmt.Errorf("write the split for %s: %w", dom, err)
		}
	}
	return s.logSummaries(ctx, day, summaryWatch, version, started, 0)
}

// WatchCount is one category of a watched domain's split on a day.
type WatchCount struct {
	Day                              time.Time
	Category                         string
	Instances, Accounts, ActiveMonth int64
}

// WatchSummaries reads domain's split per day from the watch summaries,
// for the days of f (From, To, Software, Language, IncludeFlagged; the
// other fields must be zero) that are rolled up, oldest first. through is
// the last day rolled up: the days after it (today, and any day not
// rolled up yet) are not summarised. ok is false when domain is not one
// of WatchedDomains or some rolled-up day of the range lacks a valid
// summary (right after an upgrade or an opt-out change, until the next
// Rollup): the caller computes the split from the day rows then.
func (s *Store) WatchSummaries(ctx context.Context, domain string, f DayFilter) (counts []WatchCount, through time.Time, ok bool, err error) {
	known := false
	for _, d := range WatchedDomains {
		known = known || d == domain
	}
	if !known || f.Host != "" || f.At || f.CarryDays > 1 {
		return nil, time.Time{}, false, nil
	}
	if through, err = s.lastDoneDay(ctx); err != nil || through.IsZero() {
		return nil, through, err == nil, err
	}
	from, to := dayOrZero(f.From), dayOrZero(f.To)
	if to.IsZero() || to.After(through) {
		to = through
	}
	days := rangeCond("day", from, to, true)
	valid := validSummariesSQL(summaryWatch)
	var missing uint64
	err = s.conn.QueryRow(ctx, `
SELECT count() FROM (
    SELECT day FROM rollups WHERE kind = 'done' AND `+days+` GROUP BY day
)
ANY LEFT JOIN (SELECT day, toUInt8(1) AS valid FROM (`+valid+`)) USING day
WHERE valid = 0`).Scan(&missing)
	if err != nil {
		return nil, time.Time{}, false, fmt.Errorf("read the watch summaries of %s: %w", domain, err)
	}
	if missing > 0 {
		return nil, through, false, nil
	}
	cond := []string{"domain = " + quoteString(domain), days, "(day, version) IN (SELECT day, version FROM (" + valid + "))"}
	cond = append(cond, "language = "+quoteString(strings.ToLower(strings.TrimSpace(f.Language))))
	var sw []string
	for _, v := range f.Software {
		if v = strings.ToLower(strings.TrimSpace(v)); v != "" {
			sw = append(sw, quoteString(v))
		}
	}
	if len(sw) > 0 {
		cond = append(cond, "software IN ("+strings.Join(sw, ", ")+")")
	}
	if !f.IncludeFlagged {
		cond = append(cond, "suspect = 0")
	}
	err = s.eachRow(ctx, `
SELECT day, category, sum(instances), sum(accounts), sum(active_month)
FROM watch_daily
WHERE `+strings.Join(cond, " AND ")+`
GROUP BY day, category
ORDER BY day, category`, func(r driver.Rows) error {
		var c WatchCount
		if err := r.Scan(&c.Day, &c.Category, &c.Instances, &c.Accounts, &c.ActiveMonth); err != nil {
			return err
		}
		c.Day = dayStart(c.Day)
		counts = append(counts, c)
		return nil
	})
	if err != nil {
		return nil, time.Time{}, false, fmt.Errorf("read the watch summaries of %s: %w", domain, err)
	}
	return counts, through, true, nil
}
