package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// The block rankings (most-blocked domains, block reasons) and their
// daily summaries (migration 44, kind "blocks"; see the comment on
// migration 42): for each rolled-up day, the BlockTopK most-blocked
// domains with their weights and the BlockTopK most given reasons, with
// and without the flagged instances. MostBlockedSQL and BlockReasonsSQL
// are the one definition of both, for the summaries and for the queries
// the summaries cannot answer.
var _ = register(migration{
	version: 44,
	name:    "create blocked_top and reasons_top",
	statements: []string{`
CREATE TABLE IF NOT EXISTS blocked_top (
    day                  Date,
    flagged              UInt8,
    version              UInt64,
    rank                 UInt32,
    domain               String,
    suspend_instances    Int64,
    suspend_accounts     Int64,
    suspend_active_month Int64,
    silence_instances    Int64,
    silence_accounts     Int64,
    silence_active_month Int64,
    limit_instances      Int64,
    limit_accounts       Int64,
    limit_active_month   Int64
) ENGINE = MergeTree()
PARTITION BY toYYYYMM(day)
ORDER BY (day, flagged, version, rank)`, `
CREATE TABLE IF NOT EXISTS reasons_top (
    day       Date,
    flagged   UInt8,
    version   UInt64,
    rank      UInt32,
    reason    String,
    blocks    Int64,
    instances Int64
) ENGINE = MergeTree()
PARTITION BY toYYYYMM(day)
ORDER BY (day, flagged, version, rank)`},
})

// summaryBlocks is the kind of the block summaries.
const summaryBlocks = "blocks"

// BlockTopK is how many domains and reasons a block summary keeps.
const BlockTopK = InDegreeTopK

// BlockedCounts is a domain with the instances restricting it, per
// severity: [instances, accounts, monthly active users].
type BlockedCounts struct {
	Domain                  string
	Suspend, Silence, Limit [3]int64
}

// ReasonCounts is a public block reason with the entries and the
// instances giving it.
type ReasonCounts struct {
	Reason            string
	Blocks, Instances int64
}

// blocksAtSQL selects (host_id, domain, severity, reason): the entries of
// the public block lists (block_count not NULL) of the hosts of listers
// at the end of day at.
func blocksAtSQL(listers string, at time.Time) string {
	return `
SELECT host_id, domain, tupleElement(last, 2) AS severity, tupleElement(last, 3) AS reason
FROM (
    SELECT host_id, domain, argMax(tuple(present, severity, reason), at) AS last
    FROM block_events
    WHERE host_id IN (SELECT cityHash64(host) FROM (` + listers + `) WHERE block_count IS NOT NULL)
      AND at < ` + dayEndLiteral(at) + `
    GROUP BY host_id, domain
)
WHERE tupleElement(last, 1) = 1`
}

// MostBlockedSQL selects the n domains suspended, silenced or limited by
// the most hosts of listers (a DayRows query with host, users_total,
// users_active_month and block_count) with a public list at the end of
// day at, most first, ties by domain, opted-out domains left out: domain,
// then instances, accounts and monthly active users of the suspending,
// the silencing and the limiting hosts (scanned as BlockedCounts).
func MostBlockedSQL(listers string, at time.Time, n int) string {
	weights := func(sev string) string {
		return fmt.Sprintf("toInt64(countIf(severity = '%[1]s')), sumIf(u, severity = '%[1]s'), sumIf(m, severity = '%[1]s')", sev)
	}
	return `
SELECT domain, ` + weights("suspend") + `, ` + weights("silence") + `, ` + weights("limit") + `
FROM (` + blocksAtSQL(listers, at) + `)
ANY INNER JOIN (
    SELECT cityHash64(host) AS host_id, ifNull(users_total, 0) AS u, ifNull(users_active_month, 0) AS m
    FROM (` + listers + `)
    WHERE block_count IS NOT NULL
) USING host_id
WHERE severity IN ('suspend', 'silence', 'limit') AND domain NOT IN (` + liveOptOutsSQL + `)
GROUP BY domain
ORDER BY count() DESC, domain
LIMIT ` + strconv.Itoa(n)
}

// BlockReasonsSQL selects the n public reasons given by the most block
// entries (any severity) of the hosts of listers (a DayRows query with
// host and block_count) with a public list at the end of day at, most
// first, ties by the grouping key: reasons are grouped without
// surrounding white space and case, and shown in the group's most
// frequent trimmed form (ties by the form that sorts last). It selects
// reason, blocks and instances (scanned as ReasonCounts).
func BlockReasonsSQL(listers string, at time.Time, n int) string {
	return `
SELECT argMax(shown, tuple(c, shown)), sum(c) AS blocks, toInt64(uniqExactArray(hs))
FROM (
    SELECT key, shown, toInt64(count()) AS c, groupUniqArray(host_id) AS hs
    FROM (
        SELECT host_id, replaceRegexpAll(reason, '^[[:space:]]+|[[:space:]]+$', '') AS shown, lowerUTF8(shown) AS key
        FROM (` + blocksAtSQL(listers, at) + `)
    )
    WHERE key != ''
    GROUP BY key, shown
)
GROUP BY key
ORDER BY blocks DESC, key
LIMIT ` + strconv.Itoa(n)
}

// ScanBlocked reads a row of MostBlockedSQL.
func ScanBlocked(r driver.Rows) (BlockedCounts, error) {
	var b BlockedCounts
	err := r.Scan(&b.Domain, &b.Suspend[0], &b.Suspend[1], &b.Suspend[2], &b.Silence[0], &b.Silence[1], &b.Silence[2],
		&b.Limit[0], &b.Limit[1], &b.Limit[2])
	return b, err
}

// ScanReason reads a row of BlockReasonsSQL.
func ScanReason(r driver.Rows) (ReasonCounts, error) {
	var c ReasonCounts
	err := r.Scan(&c.Reason, &c.Blocks, &c.Instances)
	return c, err
}

// summarizeBlocks writes the block summaries of day (flagged listers left
// out, and counted), computed from its daily rows (those of the rollup
// that started at started).
func (s *Store) summarizeBlocks(ctx context.Context, day time.Time, started uint64) error {
	version := s.nextVersion()
	for _, flagged := range []bool{false, true} {
		rows, err := s.DayRows(ctx, DayFilter{From: day, To: day, IncludeFlagged: flagged},
			"host", "users_total", "users_active_month", "block_count")
		if err != nil {
			return err
		}
		var blocked []BlockedCounts
		err = s.eachRow(ctx, MostBlockedSQL(rows.SQL, day, BlockTopK), func(r driver.Rows) error {
			b, err := ScanBlocked(r)
			blocked = append(blocked, b)
			return err
		})
		if err != nil {
			return fmt.Errorf("rank the blocked domains: %w", err)
		}
		var reasons []ReasonCounts
		err = s.eachRow(ctx, BlockReasonsSQL(rows.SQL, day, BlockTopK), func(r driver.Rows) error {
			c, err := ScanReason(r)
			reasons = append(reasons, c)
			return err
		})
		if err != nil {
			return fmt.Errorf("rank the block reasons: %w", err)
		}
		flag := flagOf(flagged)
		err = s.insert(ctx, `INSERT INTO blocked_top (day, flagged, version, rank, domain, suspend_instances, suspend_accounts,
    suspend_active_month, silence_instances, silence_accounts, silence_active_month, limit_instances, limit_accounts,
    limit_active_month)`, len(blocked), func(b driver.Batch, i int) error {
			d := &blocked[i]
			return b.Append(day, flag, version, uint32(i+1), d.Domain, d.Suspend[0], d.Suspend[1], d.Suspend[2],
				d.Silence[0], d.Silence[1], d.Silence[2], d.Limit[0], d.Limit[1], d.Limit[2])
		})
		if err != nil {
			return fmt.Errorf("write the blocked domains: %w", err)
		}
		err = s.insert(ctx, `INSERT INTO reasons_top (day, flagged, version, rank, reason, blocks, instances)`, len(reasons),
			func(b driver.Batch, i int) error {
				c := &reasons[i]
				return b.Append(day, flag, version, uint32(i+1), c.Reason, c.Blocks, c.Instances)
			})
		if err != nil {
			return fmt.Errorf("write the block reasons: %w", err)
		}
	}
	return s.logSummaries(ctx, day, summaryBlocks, version, started, 0, 1)
}

// BlockSummary reads day's valid block summary for includeFlagged: the
// first n most-blocked domains and the first n reasons. ok is false when
// there is none.
func (s *Store) BlockSummary(ctx context.Context, day time.Time, includeFlagged bool, n int) (blocked []BlockedCounts, reasons []ReasonCounts, ok bool, err error) {
	var version, found uint64
	err = s.conn.QueryRow(ctx, `SELECT max(version), count() FROM (`+validSummariesSQL(summaryBlocks)+`) WHERE day = ? AND flagged = ?`,
		dayStart(day).Format(time.DateOnly), flagOf(includeFlagged)).Scan(&version, &found)
	if err != nil || found == 0 {
		return nil, nil, false, wrapErr("read the block summary", err)
	}
	where := ` WHERE day = '` + dayStart(day).Format(time.DateOnly) + `' AND flagged = ` + strconv.Itoa(int(flagOf(includeFlagged))) +
		` AND version = ` + strconv.FormatUint(version, 10) + ` ORDER BY rank LIMIT ` + strconv.Itoa(n)
	err = s.eachRow(ctx, `SELECT domain, suspend_instances, suspend_accounts, suspend_active_month, silence_instances,
    silence_accounts, silence_active_month, limit_instances, limit_accounts, limit_active_month
FROM blocked_top`+where, func(r driver.Rows) error {
		b, err := ScanBlocked(r)
		blocked = append(blocked, b)
		return err
	})
	if err == nil {
		err = s.eachRow(ctx, `SELECT reason, blocks, instances FROM reasons_top`+where, func(r driver.Rows) error {
			c, err := ScanReason(r)
			reasons = append(reasons, c)
			return err
		})
	}
	if err != nil {
		return nil, nil, false, fmt.Errorf("read the block summary of %s: %w", day.Format(time.DateOnly), err)
	}
	return blocked, reasons, true, nil
}

// wrapErr wraps err with what was done, nil staying nil.
func wrapErr(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}
