package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/chtest"
	"github.com/fedilens/fedilens/internal/hostid"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/store"
)

var linkDay = time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)

func day(n int) time.Time { return linkDay.AddDate(0, 0, n) }

// eventRows returns every peer_events row named through hosts, in key order.
func eventRows(t *testing.T, s *store.Store) []string {
	t.Helper()
	ctx := ctxT(t)
	rows, err := s.Conn().Query(ctx, `SELECT host_id, peer_id, toString(at), present FROM peer_events FINAL ORDER BY host_id, peer_id, at`)
	require.NoError(t, err)
	defer rows.Close()
	names := map[uint64]string{}
	for _, h := range []string{"a.test", "b.test", "x.test", "y.test", "z.test", "w.test"} {
		names[hostid.Of(h)] = h
	}
	var out []string
	for rows.Next() {
		var (
			h, p    uint64
			at      string
			present uint8
		)
		require.NoError(t, rows.Scan(&h, &p, &at, &present))
		out = append(out, names[h]+" "+names[p]+" "+at[:10]+" "+string(rune('0'+present)))
	}
	require.NoError(t, rows.Err())
	return out
}

func linksAt(t *testing.T, s *store.Store, host string, at time.Time) []model.PeerLink {
	t.Helper()
	l, err := s.PeerLinks(ctxT(t), host, at)
	require.NoError(t, err)
	return l
}

func TestConvertOldPeers(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := ctxT(t)
	type row struct {
		host  string
		at    time.Time
		peers []string
	}
	old := []row{
		{"a.test", day(1), []string{"x.test", "y.test"}},
		{"a.test", day(3), []string{"y.test", "z.test"}},
		{"a.test", day(2), []string{"y.test", "x.test"}}, // out of order: sorted by time
		{"a.test", day(4), []string{"y.test", "z.test"}},
		{"a.test", day(5), nil},
		{"b.test", day(1), []string{"x.test"}},
		{"b.test", day(1), []string{"x.test"}}, // a retried write
		{"b.test", day(6), []string{"x.test", "w.test"}},
	}
	batch, err := s.Conn().PrepareBatch(ctx, "INSERT INTO peers (host, crawled_at, peers)")
	require.NoError(t, err)
	for _, r := range old {
		p := r.peers
		if p == nil {
			p = []string{}
		}
		require.NoError(t, batch.Append(r.host, r.at, p))
	}
	require.NoError(t, batch.Send())

	require.NoError(t, s.ConvertPeers(ctx))
	want := []string{
		"a.test x.test 2026-01-11 1", "a.test x.test 2026-01-13 0",
		"a.test y.test 2026-01-11 1", "a.test y.test 2026-01-15 0",
		"a.test z.test 2026-01-13 1", "a.test z.test 2026-01-15 0",
		"b.test x.test 2026-01-11 1",
		"b.test w.test 2026-01-16 1",
	}
	got := eventRows(t, s)
	require.ElementsMatch(t, want, got)

	check := func() {
		p, err := s.Peers(ctx, "a.test")
		require.NoError(t, err, "a list read empty is a list")
		require.Nil(t, p)
		p, err = s.Peers(ctx, "b.test")
		require.NoError(t, err)
		require.Equal(t, []string{"w.test", "x.test"}, p)
		require.Equal(t, []model.PeerLink{
			{Peer: "x.test", FirstSeen: day(1), LastSeen: day(3), Present: false},
			{Peer: "y.test", FirstSeen: day(1), LastSeen: day(4), Present: true},
			{Peer: "z.test", FirstSeen: day(3), LastSeen: day(4), Present: true},
		}, linksAt(t, s, "a.test", day(4)))
		require.Equal(t, []model.PeerLink{
			{Peer: "x.test", FirstSeen: day(1), LastSeen: day(2), Present: true},
			{Peer: "y.test", FirstSeen: day(1), LastSeen: day(2), Present: true},
		}, linksAt(t, s, "a.test", day(2).Add(time.Hour)))
		hosts, err := s.PeerHosts(ctx)
		require.NoError(t, err)
		require.Equal(t, []string{"w.test", "x.test", "y.test", "z.test"}, hosts)
	}
	check()

	// Twice changes nothing: the same rows, which collapse.
	require.NoError(t, s.ConvertPeers(ctx))
	require.ElementsMatch(t, want, eventRows(t, s))
	check()
	var n uint64
	require.NoError(t, s.Conn().QueryRow(ctx, "SELECT count() FROM (SELECT DISTINCT host_id, peer_id, at, present FROM peer_events)").Scan(&n))
	require.Equal(t, uint64(len(want)), n)
}

func TestMigrationConvertsPeers(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := ctxT(t)
	// An old database: the peers table has rows and migration 15 is not
	// recorded yet; the next Migrate converts them.
	batch, err := s.Conn().PrepareBatch(ctx, "INSERT INTO peers (host, crawled_at, peers)")
	require.NoError(t, err)
	require.NoError(t, batch.Append("a.test", day(1), []string{"x.test"}))
	require.NoError(t, batch.Send())
	require.NoError(t, s.Conn().Exec(ctx, "ALTER TABLE schema_migrations DELETE WHERE version = 15"))
	require.Eventually(t, func() bool {
		var n uint64
		return s.Conn().QueryRow(ctx, "SELECT count() FROM schema_migrations WHERE version = 15").Scan(&n) == nil && n == 0
	}, 20*time.Second, 20*time.Millisecond)
	require.NoError(t, s.Migrate(ctx))
	p, err := s.Peers(ctx, "a.test")
	require.NoError(t, err)
	require.Equal(t, []string{"x.test"}, p)
}

func TestInsertPeersWritesChanges(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := ctxT(t)
	lists := []model.Peers{
		{Host: "a.test", CrawledAt: day(2), Peers: []string{"y.test", "z.test"}},
		{Host: "a.test", CrawledAt: day(1), Peers: []string{"x.test", "y.test"}},
		{Host: "b.test", CrawledAt: day(1), Peers: []string{"y.test"}},
	}
	require.NoError(t, s.InsertPeers(ctx, lists))
	want := []string{
		"a.test x.test 2026-01-11 1", "a.test x.test 2026-01-12 0",
		"a.test y.test 2026-01-11 1", "a.test z.test 2026-01-12 1",
		"b.test y.test 2026-01-11 1",
	}
	require.ElementsMatch(t, want, eventRows(t, s))

	// The same lists again (a retried batch), and an unchanged list a day
	// later: no new rows.
	require.NoError(t, s.InsertPeers(ctx, lists))
	require.NoError(t, s.InsertPeers(ctx, []model.Peers{{Host: "a.test", CrawledAt: day(3), Peers: []string{"z.test", "y.test"}}}))
	var n uint64
	require.NoError(t, s.Conn().QueryRow(ctx, "SELECT count() FROM peer_events").Scan(&n))
	require.Equal(t, uint64(len(want)), n, "only changes are written")
	var legacy uint64
	require.NoError(t, s.Conn().QueryRow(ctx, "SELECT count() FROM peers").Scan(&legacy))
	require.Zero(t, legacy, "the old peers table is no longer written")

	// b.test drops y.test and lists x.test.
	require.NoError(t, s.InsertPeers(ctx, []model.Peers{{Host: "b.test", CrawledAt: day(4), Peers: []string{"x.test"}}}))

	in, err := s.InDegree(ctx, day(1), 10)
	require.NoError(t, err)
	require.Equal(t, []model.HostCount{{Host: "y.test", Count: 2}, {Host: "x.test", Count: 1}}, in)
	in, err = s.InDegree(ctx, time.Time{}, 2)
	require.NoError(t, err)
	require.Equal(t, []model.HostCount{{Host: "x.test", Count: 1}, {Host: "y.test", Count: 1}}, in, "ties by name, cut at n")
	in, err = s.InDegree(ctx, day(0), 5)
	require.NoError(t, err)
	require.Empty(t, in)

	deg, err := s.Degrees(ctx, day(2))
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"a.test": 2, "b.test": 1}, deg)
	deg, err = s.Degrees(ctx, time.Time{})
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"a.test": 2, "b.test": 1}, deg)

	got, err := s.Peers(ctx, "b.test")
	require.NoError(t, err)
	require.Equal(t, []string{"x.test"}, got)
	_, err = s.Peers(ctx, "nobody.test")
	require.ErrorIs(t, err, model.ErrNotFound)

	// Last seen follows the snapshots that record a peer crawl.
	two := int64(2)
	require.NoError(t, s.InsertSnapshots(ctx, []model.Snapshot{{Host: "a.test", CrawledAt: day(5), PeerCount: &two}, {Host: "a.test", CrawledAt: day(6)}}))
	require.Equal(t, []model.PeerLink{
		{Peer: "x.test", FirstSeen: day(1), LastSeen: day(2), Present: false},
		{Peer: "y.test", FirstSeen: day(1), LastSeen: day(5), Present: true},
		{Peer: "z.test", FirstSeen: day(2), LastSeen: day(5), Present: true},
	}, linksAt(t, s, "a.test", time.Time{}))
}

func TestInsertPeersEmpty(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	require.NoError(t, s.InsertPeers(context.Background(), nil))
}
