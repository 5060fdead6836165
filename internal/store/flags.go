package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/sanity"
)

// Migration 7 stores the crawler's sanity verdict next to the figures it
// judges. Snapshots written before it read back with no flags, which is
// what the crawler would have said of most of them; nothing is recomputed
// because the raw counts are kept and the verdict only concerns totals.
var _ = register(migration{
	version: 7,
	name:    "add snapshots.flags",
	statements: []string{
		`ALTER TABLE snapshots ADD COLUMN IF NOT EXISTS flags Array(String)`,
	},
})

// suspectSQL is the ClickHouse array literal of the suspect flag names.
// The names are ours, not remote input, but are quoted all the same.
var suspectSQL = func() string {
	names := sanity.SuspectFlags()
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(n) + "'"
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}()

// suspectCond is true for a row of latestSQL whose latest snapshot has a
// suspect flag. Which flags are suspect is decided here, at query time,
// from internal/sanity: a change of a flag's severity applies to every
// stored snapshot at once.
var suspectCond = "hasAny(latest_flags, " + suspectSQL + ")"

// flaggedWhere returns the condition on latestSQL's rows that
// InstanceQuery.Flagged asks for ("" for none). An unknown value wraps
// model.ErrBadQuery.
func flaggedWhere(flagged string) (string, error) {
	switch flagged {
	case "", model.FlaggedInclude:
		return "", nil
	case model.FlaggedOnly:
		return suspectCond, nil
	case model.FlaggedExclude:
		return "NOT " + suspectCond, nil
	default:
		return "", fmt.Errorf("%w: flagged must be %q, %q or %q", model.ErrBadQuery,
			model.FlaggedInclude, model.FlaggedOnly, model.FlaggedExclude)
	}
}

// keepCond is the condition of the instances that statistics cover.
func keepCond(opts model.StatsOptions) string {
	if opts.IncludeFlagged {
		return "1"
	}
	return "NOT " + suspectCond
}

// LatestCounts returns, for every host, the counts and flags of its latest
// snapshot: Host, CrawledAt, the four counts and Flags are set, the rest
// is empty. The crawler reads it once when it starts, to judge each new
// snapshot against the previous one (sanity.TotalJump) without a query
// per host.
func (s *Store) LatestCounts(ctx context.Context) ([]model.Snapshot, error) {
	// The tuple keeps NULL counts: argMax skips rows whose argument is
	// NULL (see latestSQL).
	rows, err := s.conn.Query(ctx, `
SELECT
    host,
    last_crawl,
    tupleElement(latest, 1),
    tupleElement(latest, 2),
    tupleElement(latest, 3),
    tupleElement(latest, 4),
    latest_flags
FROM (
    SELECT
        host,
        max(crawled_at) AS last_crawl,
        argMax(tuple(users_total, users_active_month, users_active_halfyear, local_posts), crawled_at) AS latest,
        argMax(flags, crawled_at) AS latest_flags
    FROM snapshots
    GROUP BY host
)
ORDER BY host`)
	if err != nil {
		return nil, fmt.Errorf("read latest counts: %w", err)
	}
	defer rows.Close()
	var out []model.Snapshot
	for rows.Next() {
		var (
			sn      model.Snapshot
			crawled time.Time
		)
		if err := rows.Scan(&sn.Host, &crawled, &sn.UsersTotal, &sn.UsersActiveMonth, &sn.UsersActiveHalfyear,
			&sn.LocalPosts, &sn.Flags); err != nil {
			return nil, fmt.Errorf("read latest counts: %w", err)
		}
		sn.CrawledAt = fromDB(crawled)
		sn.Flags = nilIfEmpty(sn.Flags)
		out = append(out, sn)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read latest counts: %w", err)
	}
	return out, nil
}
