package pipeline

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/store"
)

// recorder is a fake Store and Index for unit tests (the real ones are
// tested against ClickHouse and Bleve in their packages and end to end).
type recorder struct {
	mu        sync.Mutex
	fail      error
	snaps     []model.Snapshot
	peers     []model.Peers
	blocks    []model.Blocks
	states    []model.HostState
	posts     []model.Post
	indexed   []model.Post
	callOrder []string

	purges    []store.Purge
	forgotten []string
	optouts   []model.OptOut
	authors   []model.AuthorState
	cursors   []model.PostCursor
	access    []model.HostPostAccess
}

func (r *recorder) do(name string, f func()) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.callOrder = append(r.callOrder, name)
	f()
	return nil
}

func (r *recorder) InsertSnapshots(_ context.Context, s []model.Snapshot) error {
	return r.do("snaps", func() { r.snaps = append(r.snaps, s...) })
}
func (r *recorder) InsertPeers(_ context.Context, p []model.Peers) error {
	return r.do("peers", func() { r.peers = append(r.peers, p...) })
}
func (r *recorder) InsertBlocks(_ context.Context, b []model.Blocks) error {
	return r.do("blocks", func() { r.blocks = append(r.blocks, b...) })
}
func (r *recorder) UpsertHostStates(_ context.Context, s []model.HostState) error {
	return r.do("states", func() { r.states = append(r.states, s...) })
}
func (r *recorder) InsertPosts(_ context.Context, p []model.Post) error {
	return r.do("posts", func() { r.posts = append(r.posts, p...) })
}
func (r *recorder) Index(_ context.Context, p []model.Post) error {
	return r.do("index", func() { r.indexed = append(r.indexed, p...) })
}

func TestFlushOrderAndRetry(t *testing.T) {
	rec := &recorder{}
	p := New(rec, rec, Options{FlushEvery: time.Hour})
	ctx := context.Background()
	require.NoError(t, p.AddHostState(ctx, model.HostState{Host: "a.example"}))
	require.NoError(t, p.AddSnapshot(ctx, model.Snapshot{Host: "a.example"}))
	require.NoError(t, p.AddPeers(ctx, model.Peers{Host: "a.example", Peers: []string{"b.example"}}))
	require.NoError(t, p.AddPosts(ctx, []model.Post{{URI: "u1"}}))

	rec.fail = errors.New("clickhouse down")
	require.Error(t, p.Flush(ctx))
	require.Empty(t, rec.snaps)

	// Still buffered after the failure; written once the store is back.
	rec.fail = nil
	require.NoError(t, p.AddSnapshot(ctx, model.Snapshot{Host: "b.example"}))
	require.NoError(t, p.Close(ctx))
	require.Len(t, rec.snaps, 2)
	require.Equal(t, "a.example", rec.snaps[0].Host, "order kept")
	require.Len(t, rec.peers, 1)
	require.Len(t, rec.states, 1)
	require.Len(t, rec.posts, 1)
	require.Len(t, rec.indexed, 1)
	require.Equal(t, []string{"index", "posts", "peers", "snaps", "states"}, rec.callOrder)
}

// failOn makes one call of the recorder fail.
type failOn struct {
	*recorder
	name string
}

func (f failOn) InsertPeers(ctx context.Context, p []model.Peers) error {
	if f.name == "peers" {
		return errors.New("peers table unavailable")
	}
	return f.recorder.InsertPeers(ctx, p)
}

func TestVisitIsWrittenWholeAndInOrder(t *testing.T) {
	rec := &recorder{}
	store := failOn{recorder: rec, name: "peers"}
	p := New(store, rec, Options{FlushEvery: time.Hour})
	ctx := context.Background()
	v := model.Visit{
		State:    model.HostState{Host: "a.example", Status: model.StatusOK},
		Snapshot: &model.Snapshot{Host: "a.example"},
		Peers:    &model.Peers{Host: "a.example", Peers: []string{"b.example"}},
		Posts:    []model.Post{{URI: "u1"}},
	}
	require.NoError(t, p.AddVisit(ctx, v))
	// The peers insert fails: the snapshot and the state must not be
	// written ahead of it.
	require.Error(t, p.Flush(ctx))
	require.Len(t, rec.posts, 1)
	require.Empty(t, rec.snaps)
	require.Empty(t, rec.states)

	store.name = ""
	p.store = store
	require.NoError(t, p.Close(ctx))
	require.Len(t, rec.peers, 1)
	require.Len(t, rec.snaps, 1)
	require.Len(t, rec.states, 1)
	require.Len(t, rec.posts, 1, "posts written by the failed flush are not written twice")
}

func TestFlushByTimeAndSize(t *testing.T) {
	rec := &recorder{}
	p := New(rec, rec, Options{FlushEvery: 20 * time.Millisecond, MaxRows: 3})
	defer p.Close(context.Background())
	ctx := context.Background()
	for i := range 5 {
		require.NoError(t, p.AddSnapshot(ctx, model.Snapshot{Host: string(rune('a' + i))}))
	}
	require.Eventually(t, func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return len(rec.snaps) == 5
	}, 5*time.Second, 5*time.Millisecond)
}
