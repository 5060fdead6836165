package indexer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/index/scorch/mergeplan"
)

// Compact merges the index's segments into one, blocking until done or
// ctx ends. Every query opens a reader per segment and term: an index
// freshly built by a crawl holds some twenty segments, and a search over
// one segment does a twentieth of the dictionary lookups. Compact needs
// free disk space for a second copy of the index while it runs; searches
// and writes go on meanwhile.
func (ix *Index) Compact(ctx context.Context) error {
	adv, err := ix.idx.Advanced()
	if err != nil {
		return fmt.Errorf("compacting index: %w", err)
	}
	s, ok := adv.(*scorch.Scorch)
	if !ok {
		return errors.New("compacting index: not a scorch index")
	}
	if err := s.ForceMerge(ctx, &mergeplan.SingleSegmentMergePlanOptions); err != nil {
		return fmt.Errorf("compacting index: %w", err)
	}
	return nil
}

// maintain compacts the index once it has been idle for
// CompactAfterIdle with at least CompactSegments segments: a crawl pass
// leaves some twenty, and searches between passes are then served from
// one. It runs until ctx ends (Close).
func (ix *Index) maintain(ctx context.Context) {
	defer close(ix.maintDone)
	idle := ix.opts.CompactAfterIdle
	if idle < 0 {
		return
	}
	tick := time.NewTicker(max(idle/4, 10*time.Millisecond))
	defer tick.Stop()
	compacted := int64(-1) // lastWrite at the last compaction
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		last := ix.lastWrite.Load()
		if last == compacted || time.Since(time.Unix(0, last)) < idle {
			continue
		}
		n := ix.Segments()
		if n < ix.opts.CompactSegments {
			continue
		}
		t0 := time.Now()
		if err := ix.Compact(ctx); err != nil {
			if ctx.Err() == nil {
				ix.log.Warn("index compaction failed", "segments", n, "err", err)
			}
			continue
		}
		compacted = last
		ix.metrics.compactions.Inc()
		ix.log.Info("index compacted", "segments before", n, "after", ix.Segments(), "took", time.Since(t0).Round(time.Millisecond))
	}
}

// Segments returns the number of segments the index's current snapshot
// holds (on disk and in memory).
func (ix *Index) Segments() int {
	adv, err := ix.idx.Advanced()
	if err != nil {
		return 0
	}
	s, ok := adv.(*scorch.Scorch)
	if !ok {
		return 0
	}
	m := s.StatsMap()
	n := 0
	for _, k := range []string{"num_root_filesegments", "num_root_memorysegments"} {
		if v, ok := m[k].(uint64); ok {
			n += int(v)
		}
	}
	return n
}
