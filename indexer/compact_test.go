package indexer

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/model"
)

// TestCompactWhenIdle writes posts in many small batches, then leaves the
// index idle: it must compact itself once (to one segment), with every
// post still found, not again while nothing is written, and keep
// accepting writes. (Scorch merges small segments by itself: the bench
// shows the twenty segments of a crawl going down to one or two.)
func TestCompactWhenIdle(t *testing.T) {
	ctx := context.Background()
	ix, err := Open(Options{Dir: t.TempDir(), CompactAfterIdle: 200 * time.Millisecond, CompactSegments: 1})
	require.NoError(t, err)
	defer ix.Close()
	indexBatches(t, ix, "p", 12, 20, "compaction test")
	require.Eventually(t, func() bool { return testutil.ToFloat64(ix.metrics.compactions) == 1 }, 20*time.Second, 20*time.Millisecond)
	require.Equal(t, 1, ix.Segments())
	require.Eventually(t, func() bool {
		ix.facets.mu.Lock()
		defer ix.facets.mu.Unlock()
		return len(ix.facets.segs) == 1
	}, 5*time.Second, 20*time.Millisecond, "the compacted segment's facet values are read while idle")
	time.Sleep(500 * time.Millisecond)
	require.Equal(t, 1.0, testutil.ToFloat64(ix.metrics.compactions), "an idle, compacted index is not compacted again")
	r, err := ix.Search(ctx, model.SearchQuery{Q: "compaction"})
	require.NoError(t, err)
	require.Equal(t, uint64(240), r.Total)
	require.NoError(t, ix.Index(ctx, []model.Post{{URI: "https://k.example/p/late", Host: "k.example", Text: "compaction late", Created: time.Now()}}))
	r, err = ix.Search(ctx, model.SearchQuery{Q: "late"})
	require.NoError(t, err)
	require.Equal(t, uint64(1), r.Total)
}

// TestCompactNever: a negative CompactAfterIdle never compacts, and an
// index with fewer segments than CompactSegments is left alone.
func TestCompactNever(t *testing.T) {
	for _, o := range []Options{{CompactAfterIdle: -1, CompactSegments: 1}, {CompactAfterIdle: 50 * time.Millisecond, CompactSegments: 1000}} {
		ctx := context.Background()
		o.Dir = t.TempDir()
		ix, err := Open(o)
		require.NoError(t, err)
		for b := range 6 {
			require.NoError(t, ix.Index(ctx, []model.Post{{URI: fmt.Sprintf("https://k.example/n/%d", b), Text: "x", Created: time.Now()}}))
		}
		time.Sleep(400 * time.Millisecond)
		require.Zero(t, testutil.ToFloat64(ix.metrics.compactions))
		require.NoError(t, ix.Close())
	}
}

// indexBatches indexes batches calls of per posts each (one segment per
// call), with URIs under https://k.example/<path>/ and the text given.
func indexBatches(t *testing.T, ix *Index, path string, batches, per int, text string) {
	t.Helper()
	for b := range batches {
		var posts []model.Post
		for i := range per {
			posts = append(posts, model.Post{URI: fmt.Sprintf("https://k.example/%s/%d-%d", path, b, i), Host: "k.example",
				Text: text, Created: time.Date(2026, 9, 1, b, i, 0, 0, time.UTC)})
		}
		require.NoError(t, ix.Index(context.Background(), posts))
	}
}
