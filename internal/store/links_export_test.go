package store

import "context"

// ConvertPeers runs migration 15's Go step (the old peers table into
// peer_events) again.
func (s *Store) ConvertPeers(ctx context.Context) error { return s.convertPeers(ctx) }
