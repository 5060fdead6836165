package pipeline

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/model"
)

type failBlocks struct {
	*recorder
	fail bool
}

func (f *failBlocks) InsertBlocks(ctx context.Context, b []model.Blocks) error {
	if f.fail {
		return errors.New("block_events unavailable")
	}
	return f.recorder.InsertBlocks(ctx, b)
}

// A visit's block list is written after its peers and before its
// snapshot, so a stored snapshot always comes with its links; a failed
// block write holds the snapshot and the state back until it succeeds.
func TestBlocksAreWrittenBeforeTheSnapshot(t *testing.T) {
	rec := &recorder{}
	st := &failBlocks{recorder: rec, fail: true}
	p := New(st, rec, Options{FlushEvery: time.Hour})
	ctx := context.Background()
	v := model.Visit{
		State:    model.HostState{Host: "a.example", Status: model.StatusOK},
		Snapshot: &model.Snapshot{Host: "a.example"},
		Peers:    &model.Peers{Host: "a.example", Peers: []string{"b.example"}},
		Blocks:   &model.Blocks{Host: "a.example", Blocks: []model.DomainBlock{{Domain: "threads.net", Severity: model.SeveritySuspend}}},
	}
	require.NoError(t, p.AddVisit(ctx, v))
	require.Error(t, p.Flush(ctx))
	require.Len(t, rec.peers, 1)
	require.Empty(t, rec.blocks)
	require.Empty(t, rec.snaps)
	require.Empty(t, rec.states)

	st.fail = false
	require.NoError(t, p.Close(ctx))
	require.Len(t, rec.blocks, 1)
	require.Equal(t, "threads.net", rec.blocks[0].Blocks[0].Domain)
	require.Equal(t, []string{"peers", "blocks", "snaps", "states"}, rec.callOrder)
}
