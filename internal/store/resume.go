package store

import (
	"context"
	"fmt"
)

// PeerHosts returns every host ever seen in a peer list (peer_events),
// sorted. At start the crawler treats those it has no state for as
// discovered: discoveries are then never lost to a crash, because a peer
// list is written before the snapshot that makes its host fresh. A peer
// that left every list stays: the crawler keeps what it discovered.
func (s *Store) PeerHosts(ctx context.Context) ([]string, error) {
	rows, err := s.conn.Query(ctx, `
SELECT DISTINCT host FROM hosts
WHERE id IN (SELECT peer_id FROM peer_events WHERE present = 1)
ORDER BY host`)
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
