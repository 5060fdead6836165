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
// one. Then, or when idle without the need to compact (a reopened index),
// it reads the segments' facet values (WarmFacets), so that the first
// faceted search does not. It runs until ctx ends (Close).
func (ix *Index) maintain(ctx context.Context) {
	defer close(ix.maintDone)
	idle := ix.opts.CompactAfterIdle
	if idle < 0 {
		return
	}
	tick := time.NewTicker(max(idle/4, 10*time.Millisecond))
	defer tick.Stop()
	done := int64(-1) // lastWrite when the index was last compacted and warmed
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		last := ix.lastWrite.Load()
		if last == done || time.Since(time.Unix(0, last)) < idle {
			continue
		}
		if n := ix.Segments(); n >= ix.opts.CompactSegments {
			t0 := time.Now()
			if err := ix.Compact(ctx); err != nil {
				if ctx.Err() == nil {
					ix.log.Warn("index compaction failed", "segments", n, "err", err)
				}
				continue
			}
			ix.metrics.compactions.Inc()
			ix.log.Info("index compacted", "segments before", n, "after", ix.Segments(), "took", time.Since(t0).Round(time.Millisecond))
		}
		// The first faceted search would otherwise read the segments'
		// facet values (about a second a million posts).
		if err := ix.WarmFacets(); err != nil && ctx.Err() == nil {
			ix.log.Warn("reading facet values", "err", err)
		}
		done = last
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
