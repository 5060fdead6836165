package store

import (
	"context"
	"fmt"
)

// PeerHosts returns every host named in the latest peer list of any host,
// sorted. At start the crawler treats those it has no state for as
// discovered: discoveries are then never lost to a crash, because a peer
// list is written before the snapshot that makes its host fresh.
func (s *Store) PeerHosts(ctx context.Context) ([]string, error) {
	rows, err := s.conn.Query(ctx, `
SELECT DISTINCT peer FROM (
    SELECT argMax(peers, crawled_at) AS latest FROM peers GROUP BY host
) ARRAY JOIN latest AS peer
ORDER BY peer`)
	if err != nil {
		return nil, fmt.Errorf("read peer hosts: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, fmt.Errorf("read peer hosts: %w", err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read peer hosts: %w", err)
	}
	return out, nil
}
