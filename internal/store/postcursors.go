package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/fedilens/fedilens/internal/model"
)

// Migration 12: where the next incremental posts crawl starts, and what
// each host's posts crawl came to.
//
// post_cursors holds one row per (host, account, source), the account as
// its key (AuthorKey; "" for host-wide cursors); the latest write wins.
//
// post_access holds one row per host visit that crawled posts: the access
// verdict and the skip counts by reason, as two parallel arrays (18.16 has
// no Map). The dashboard reads each host's latest row, so counts describe
// the fediverse as last seen rather than growing with every recrawl.
var _ = register(migration{
	version: 12,
	name:    "create post_cursors and post_access",
	statements: []string{`
CREATE TABLE IF NOT EXISTS post_cursors (
    host        String,
    account_key String,
    source      String,
    cursor      String,
    revalidated DateTime('UTC'),
    updated     DateTime('UTC'),
    version     UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (host, account_key, source)`, `
CREATE TABLE IF NOT EXISTS post_access (
    host         String,
    crawled      DateTime('UTC'),
    source       String,
    access       String,
    requests     UInt32,
    skip_reasons Array(String),
    skip_counts  Array(UInt64)
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(crawled)
ORDER BY (host, crawled)`},
})

// The INSERT statements of the posts crawl's bookkeeping.
const (
	insertPostCursorsSQL = `INSERT INTO post_cursors (host, account_key, source, cursor, revalidated, updated, version)`
	insertPostAccessSQL  = `INSERT INTO post_access (host, crawled, source, access, requests, skip_reasons, skip_counts)`
)

// UpsertPostCursors writes cursors; the latest write of a (host, account,
// source) wins, also within one call. The account is stored as its key:
// AccountKey when set, else AuthorKey(Account). A zero Updated means now.
func (s *Store) UpsertPostCursors(ctx context.Context, cursors []model.PostCursor) error {
	now := time.Now()
	err := s.insert(ctx, insertPostCursorsSQL, len(cursors), func(b driver.Batch, i int) error {
		c := &cursors[i]
		key := c.AccountKey
		if key == "" {
			key = s.AuthorKey(c.Account)
		}
		updated := c.Updated
		if updated.IsZero() {
			updated = now
		}
		return b.Append(c.Host, key, c.Source, c.Cursor, toDB(c.Revalidated), toDB(updated), s.nextVersion())
	})
	if err != nil {
		return fmt.Errorf("upsert %d post cursors: %w", len(cursors), err)
	}
	return nil
}

// PostCursors returns host's cursors, sorted by account key and source.
// They carry AccountKey, not Account: match them with AuthorKey(acct).
func (s *Store) PostCursors(ctx context.Context, host string) ([]model.PostCursor, error) {
	rows, err := s.conn.Query(ctx, `
SELECT account_key, source, argMax(cursor, version), argMax(revalidated, version), argMax(updated, version)
FROM post_cursors
WHERE host = ?
GROUP BY account_key, source
ORDER BY account_key, source`, host)
	if err != nil {
		return nil, fmt.Errorf("read post cursors of %s: %w", host, err)
	}
	defer rows.Close()
	var out []model.PostCursor
	for rows.Next() {
		var (
			c                    = model.PostCursor{Host: host}
			revalidated, updated time.Time
		)
		if err := rows.Scan(&c.AccountKey, &c.Source, &c.Cursor, &revalidated, &updated); err != nil {
			return nil, fmt.Errorf("read post cursors of %s: %w", host, err)
		}
		c.Revalidated, c.Updated = fromDB(revalidated), fromDB(updated)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read post cursors of %s: %w", host, err)
	}
	return out, nil
}

// InsertPostAccess records posts crawl outcomes in one INSERT.
func (s *Store) InsertPostAccess(ctx context.Context, access []model.HostPostAccess) error {
	err := s.insert(ctx, insertPostAccessSQL, len(access), func(b driver.Batch, i int) error {
		a := &access[i]
		reasons := make([]string, 0, len(a.Skipped))
		for r := range a.Skipped {
			reasons = append(reasons, r)
		}
		slices.Sort(reasons)
		counts := make([]uint64, len(reasons))
		for j, r := range reasons {
			counts[j] = uint64(max(a.Skipped[r], 0))
		}
		return b.Append(a.Host, toDB(a.Crawled), a.Source, a.Access, uint32(min(max(a.Requests, 0), 1<<31)), reasons, counts)
	})
	if err != nil {
		return fmt.Errorf("insert %d post access rows: %w", len(access), err)
	}
	return nil
}

// latestPostAccessSQL is each host's latest post_access row.
const latestPostAccessSQL = `
SELECT host, argMax(access, crawled) AS access, argMax(source, crawled) AS source,
       argMax(skip_reasons, crawled) AS reasons, argMax(skip_counts, crawled) AS counts
FROM post_access GROUP BY host`

// PostSkipTotals sums the skip counts of every host's latest posts crawl,
// by reason: why accounts and posts were not stored, for the dashboard.
func (s *Store) PostSkipTotals(ctx context.Context) (map[string]uint64, error) {
	rows, err := s.conn.Query(ctx, `
SELECT reason, sum(n) FROM (`+latestPostAccessSQL+`)
ARRAY JOIN reasons AS reason, counts AS n
GROUP BY reason ORDER BY reason`)
	if err != nil {
		return nil, fmt.Errorf("sum post skips: %w", err)
	}
	defer rows.Close()
	out := map[string]uint64{}
	for rows.Next() {
		var (
			r string
			n uint64
		)
		if err := rows.Scan(&r, &n); err != nil {
			return nil, fmt.Errorf("sum post skips: %w", err)
		}
		out[r] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sum post skips: %w", err)
	}
	return out, nil
}

// PostAccessTotals counts hosts by the access verdict of their latest
// posts crawl (model.PostAccess*): how many instances answer, require
// signatures, are private, and so on.
func (s *Store) PostAccessTotals(ctx context.Context) (map[string]uint64, error) {
	rows, err := s.conn.Query(ctx, `SELECT access, count() FROM (`+latestPostAccessSQL+`) GROUP BY access ORDER BY access`)
	if err != nil {
		return nil, fmt.Errorf("count post access: %w", err)
	}
	defer rows.Close()
	out := map[string]uint64{}
	for rows.Next() {
		var (
			a string
			n uint64
		)
		if err := rows.Scan(&a, &n); err != nil {
			return nil, fmt.Errorf("count post access: %w", err)
		}
		out[a] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count post access: %w", err)
	}
	return out, nil
}

// HostPostAccess returns host's latest posts crawl outcome. It wraps
// model.ErrNotFound when its posts were never crawled.
func (s *Store) HostPostAccess(ctx context.Context, host string) (model.HostPostAccess, error) {
	rows, err := s.conn.Query(ctx, `
SELECT crawled, source, access, requests, skip_reasons, skip_counts
FROM post_access WHERE host = ? ORDER BY crawled DESC LIMIT 1`, host)
	if err != nil {
		return model.HostPostAccess{}, fmt.Errorf("read post access of %s: %w", host, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return model.HostPostAccess{}, fmt.Errorf("read post access of %s: %w", host, err)
		}
		return model.HostPostAccess{}, fmt.Errorf("read post access of %s: %w", host, model.ErrNotFound)
	}
	var (
		a        = model.HostPostAccess{Host: host}
		crawled  time.Time
		requests uint32
		reasons  []string
		counts   []uint64
	)
	if err := rows.Scan(&crawled, &a.Source, &a.Access, &requests, &reasons, &counts); err != nil {
		return model.HostPostAccess{}, fmt.Errorf("read post access of %s: %w", host, err)
	}
	a.Crawled, a.Requests = fromDB(crawled), int(requests)
	if len(reasons) > 0 {
		a.Skipped = make(map[string]int, len(reasons))
		for i, r := range reasons {
			if i < len(counts) {
				a.Skipped[r] = int(counts[i])
			}
		}
	}
	return a, nil
}

// PostCursorHosts returns the hosts that have at least one post cursor. The
// crawler reads it once a pass instead of asking for every host's cursors.
func (s *Store) PostCursorHosts(ctx context.Context) (map[string]bool, error) {
	rows, err := s.conn.Query(ctx, `SELECT DISTINCT host FROM post_cursors`)
	if err != nil {
		return nil, fmt.Errorf("read hosts with post cursors: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, fmt.Errorf("read hosts with post cursors: %w", err)
		}
		out[h] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read hosts with post cursors: %w", err)
	}
	return out, nil
}
