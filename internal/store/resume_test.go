package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/chtest"
	"github.com/fedilens/fedilens/internal/model"
)

func TestPeerHosts(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := ctxT(t)
	got, err := s.PeerHosts(ctx)
	require.NoError(t, err)
	require.Empty(t, got)
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	require.NoError(t, s.InsertPeers(ctx, []model.Peers{
		{Host: "a.example", CrawledAt: t0, Peers: []string{"old.example", "b.example"}},
		{Host: "a.example", CrawledAt: t0.Add(time.Hour), Peers: []string{"b.example", "c.example"}},
		{Host: "b.example", CrawledAt: t0, Peers: []string{"c.example", "d.example"}},
		{Host: "e.example", CrawledAt: t0, Peers: nil},
	}))
	got, err = s.PeerHosts(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"b.example", "c.example", "d.example", "old.example"}, got, "every host ever listed counts")
}
