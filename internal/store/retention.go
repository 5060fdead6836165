package store

import (
	"context"
	"fmt"
	"time"
)

// ExpirePosts removes the posts created before before (the retention
// limit) and returns how many it removed. A zero before removes nothing:
// a retention of 0 keeps posts forever. The index must be purged with the
// same limit (see pipeline.Pipeline.Expire), so both keep the same posts.
func (s *Store) ExpirePosts(ctx context.Context, before time.Time) (int, error) {
	if before.IsZero() {
		return 0, nil
	}
	n, err := s.PurgePosts(ctx, Purge{Before: before})
	if err != nil {
		return n, fmt.Errorf("expire posts created before %s: %w", before.UTC().Format(time.RFC3339), err)
	}
	return n, nil
}
