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
	hosts, err := s.stringColumn(ctx, `
SELECT DISTINCT host FROM hosts
WHERE id IN (SELECT peer_id FROM peer_events WHERE present = 1)
ORDER BY host`)
	if err != nil {
		return nil, fmt.Errorf("read peer hosts: %w", err)
	}
	return hosts, nil
}
