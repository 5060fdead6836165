package store

import (
	"context"
	"time"
)

// RunMigrationStep runs the Go step of one migration version, the way
// Migrate does after its statements (nothing when it has none).
func (s *Store) RunMigrationStep(ctx context.Context, version uint32) error {
	for _, m := range ordered() {
		if m.version == version && m.run != nil {
			return m.run(ctx, s)
		}
	}
	return nil
}

// CountInDegreesChunked is CountInDegrees with chunks of about chunk
// events.
func (s *Store) CountInDegreesChunked(ctx context.Context, listers string, at time.Time, chunk uint64) (clean, all InDegreeSummary, err error) {
	return s.countInDegreesChunked(ctx, listers, at, chunk)
}
