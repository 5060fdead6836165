package pipeline

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/model"
)

// slowIndex is an index whose writes wait for a release, like a Bleve
// index that takes posts slower than the crawl fetches them.
type slowIndex struct {
	*recorder
	release chan struct{}
}

func (s slowIndex) Index(ctx context.Context, p []model.Post) error {
	select {
	case <-s.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return s.recorder.Index(ctx, p)
}

// TestBackpressure: while writes are slower than the visits come in,
// AddVisit waits once MaxPending items are buffered, instead of
// buffering without bound; it resumes when a flush takes the buffer, and
// gives up with ctx. Nothing is lost.
func TestBackpressure(t *testing.T) {
	rec := &recorder{}
	idx := slowIndex{recorder: rec, release: make(chan struct{})}
	p := New(rec, idx, Options{FlushEvery: time.Hour, MaxRows: 10, MaxPending: 20})
	ctx := context.Background()
	visit := func(i int) model.Visit {
		var posts []model.Post
		for j := range 4 {
			posts = append(posts, model.Post{URI: fmt.Sprintf("https://b.example/%d/%d", i, j), Host: "b.example"})
		}
		return model.Visit{State: model.HostState{Host: "b.example"}, Posts: posts} // 5 rows
	}
	var added atomic.Int32
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 20 {
			require.NoError(t, p.AddVisit(ctx, visit(i)))
			added.Add(1)
		}
	}()
	// The first flush takes some visits and waits in the index; the
	// buffer fills up to MaxPending behind it, and AddVisit waits.
	time.Sleep(200 * time.Millisecond)
	n := added.Load()
	require.Less(t, n, int32(20), "AddVisit must wait while the buffer is full")
	p.mu.Lock()
	require.LessOrEqual(t, p.rows, 20+5, "buffered beyond MaxPending and one visit")
	p.mu.Unlock()
	close(idx.release) // the index catches up
	<-done
	require.NoError(t, p.Close(ctx))
	require.Len(t, rec.posts, 80)
	require.Len(t, rec.indexed, 80)

	// A full buffer and a cancelled context: AddVisit returns.
	rec2 := &recorder{}
	idx2 := slowIndex{recorder: rec2, release: make(chan struct{})}
	p2 := New(rec2, idx2, Options{FlushEvery: time.Hour, MaxRows: 10, MaxPending: 10})
	for i := 0; ; i++ {
		cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		err := p2.AddVisit(cctx, visit(i))
		cancel()
		if err != nil {
			require.ErrorIs(t, err, context.DeadlineExceeded)
			break
		}
		require.Less(t, i, 10)
	}
	close(idx2.release)
	require.NoError(t, p2.Close(ctx))
}
