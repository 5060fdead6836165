package store

import (
	"context"
	"fmt"
	"time"
)

// ListSizes is the size of a host's published peer list and public
// domain-block list on one UTC day, from the snapshots' peer_count and
// block_count: degree over time without reading the link tables.
type ListSizes struct {
	// Day is the UTC day.
	Day time.Time
	// Peers and Blocks are the sizes read last that day; nil when the
	// list was not read that day (not published, refused, or still fresh
	// from an earlier visit).
	Peers, Blocks *int64
}

// ListSizeHistory returns host's list sizes per UTC day from from's day
// to to's day (zero: unbounded), oldest first, leaving out the days on
// which neither list was read. Opted-out hosts are answered like others:
// callers show only hosts the census lists.
//
// argMax skips NULL values (its -Null combinator), so each day's figure
// is the last one read that day, and NULL only when none was.
func (s *Store) ListSizeHistory(ctx context.Context, host string, from, to time.Time) ([]ListSizes, error) {
	lo, hi := minTime, maxTime
	if !from.IsZero() {
		lo = toDB(dayStart(from))
	}
	if !to.IsZero() {
		hi = toDB(dayStart(to).AddDate(0, 0, 1).Add(-time.Second))
	}
	rows, err := s.conn.Query(ctx, `
SELECT toDate(crawled_at) AS d, argMax(peer_count, crawled_at), argMax(block_count, crawled_at)
FROM snapshots
WHERE host = ? AND crawled_at >= ? AND crawled_at <= ? AND (peer_count IS NOT NULL OR block_count IS NOT NULL)
GROUP BY d
ORDER BY d`, host, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("read list sizes of %q: %w", host, err)
	}
	defer rows.Close()
	var out []ListSizes
	for rows.Next() {
		var p ListSizes
		if err := rows.Scan(&p.Day, &p.Peers, &p.Blocks); err != nil {
			return nil, fmt.Errorf("read list sizes of %q: %w", host, err)
		}
		p.Day = dayStart(p.Day)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read list sizes of %q: %w", host, err)
	}
	return out, nil
}
