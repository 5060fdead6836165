package store

import (
	"context"
	"fmt"
)

// ResetPostCursors deletes every stored post cursor and returns how many
// (host, account, source) cursors there were. Without cursors the next
// crawl lists every consenting author's posts in full, as on a first
// visit, and indexes them again (idempotent by URI): the way to put back
// into a rebuilt search index what the old one never stored (alt text).
// It costs one full read of each author's posts, within each visit's
// request budget, so it is for rare use; the crawler must not run
// meanwhile (its cursors of the current pass would survive).
func (s *Store) ResetPostCursors(ctx context.Context) (int, error) {
	var n uint64
	if err := s.conn.QueryRow(ctx, `SELECT count() FROM (SELECT 1 FROM post_cursors GROUP BY host, account_key, source)`).Scan(&n); err != nil {
		return 0, fmt.Errorf("reset post cursors: count them: %w", err)
	}
	// TRUNCATE is immediate on 18.16 and current releases alike, where a
	// DELETE mutation would have to be waited for.
	if err := s.conn.Exec(ctx, `TRUNCATE TABLE post_cursors`); err != nil {
		return 0, fmt.Errorf("reset post cursors: %w", err)
	}
	return int(n), nil
}
