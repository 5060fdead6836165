package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/chtest"
	"github.com/fedilens/fedilens/internal/model"
)

func TestResetPostCursors(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := ctxT(t)
	n, err := s.ResetPostCursors(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "nothing to reset")

	t0 := time.Date(2025, 2, 3, 4, 5, 6, 0, time.UTC)
	cursors := []model.PostCursor{
		{Host: "a.test", Account: "ann@a.test", Source: model.SourceMastodon, Cursor: "100", Updated: t0},
		{Host: "a.test", Source: model.SourceMastodon, Cursor: "timeline:5", Updated: t0},
		{Host: "b.test", Account: "bob@b.test", Source: model.SourceMisskey, Cursor: "x", Updated: t0},
	}
	require.NoError(t, s.UpsertPostCursors(ctx, cursors))
	// A later write of the same cursor is one cursor, not two.
	require.NoError(t, s.UpsertPostCursors(ctx, cursors[:1]))

	n, err = s.ResetPostCursors(ctx)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	hosts, err := s.PostCursorHosts(ctx)
	require.NoError(t, err)
	require.Empty(t, hosts)
	got, err := s.PostCursors(ctx, "a.test")
	require.NoError(t, err)
	require.Empty(t, got)

	// Cursors written afterwards are kept as usual.
	require.NoError(t, s.UpsertPostCursors(ctx, cursors[2:]))
	hosts, err = s.PostCursorHosts(ctx)
	require.NoError(t, err)
	require.Equal(t, map[string]bool{"b.test": true}, hosts)
}
