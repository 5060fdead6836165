package store_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/chtest"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/store"
)

// TestDailyLinkCounts checks that the daily rollup carries each host's
// peer and block counts of the day into the day rows, and that migration
// 40 has days rolled up without them rolled up again.
func TestDailyLinkCounts(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := ctxT(t)
	day0 := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	n := func(v int64) *int64 { return &v }
	require.NoError(t, s.InsertSnapshots(ctx, []model.Snapshot{
		{Host: "a.example", CrawledAt: day0.Add(time.Hour), Software: "mastodon", PeerCount: n(3), BlockCount: n(1)},
		{Host: "a.example", CrawledAt: day0.Add(5 * time.Hour), Software: "mastodon", PeerCount: n(4)}, // the day's last: no block list
		{Host: "b.example", CrawledAt: day0.Add(2 * time.Hour), Software: "misskey", PeerCount: n(7)},
		{Host: "a.example", CrawledAt: day0.AddDate(0, 0, 1).Add(time.Hour), Software: "mastodon", PeerCount: n(5), BlockCount: n(2)},
	}))
	_, err := s.Rollup(ctx, day0.AddDate(0, 0, 2))
	require.NoError(t, err)

	type row struct {
		host          string
		peers, blocks *int64
	}
	read := func(day time.Time) []row {
		f := store.DayFilter{From: day, To: day, IncludeFlagged: true}
		dr, err := s.DayRows(ctx, f, "host", "peer_count", "block_count")
		require.NoError(t, err)
		rows, err := s.ReadQuery(ctx, "SELECT host, peer_count, block_count FROM ("+dr.SQL+") ORDER BY host")
		require.NoError(t, err)
		defer rows.Close()
		var out []row
		for rows.Next() {
			var r row
			require.NoError(t, rows.Scan(&r.host, &r.peers, &r.blocks))
			out = append(out, r)
		}
		require.NoError(t, rows.Err())
		return out
	}
	want0 := []row{{"a.example", n(4), nil}, {"b.example", n(7), nil}}
	want1 := []row{{"a.example", n(5), n(2)}}
	require.Equal(t, want0, read(day0), "rolled up")
	require.Equal(t, want1, read(day0.AddDate(0, 0, 1)), "rolled up")
	// A day not rolled up yet: the same columns from the snapshots.
	require.NoError(t, s.InsertSnapshots(ctx, []model.Snapshot{
		{Host: "b.example", CrawledAt: day0.AddDate(0, 0, 2).Add(time.Hour), Software: "misskey", BlockCount: n(0)},
	}))
	require.Equal(t, []row{{"b.example", nil, n(0)}}, read(day0.AddDate(0, 0, 2)), "live")

	// A day rolled up before the columns existed: its counts are NULL
	// until the migration's step marks it and Rollup writes it again.
	require.NoError(t, s.Conn().Exec(ctx, "ALTER TABLE daily DELETE WHERE day = '2026-04-01'"))
	require.NoError(t, s.Conn().Exec(ctx, `INSERT INTO daily (day, host, crawled_at, software)
SELECT toDate('2026-04-01'), host, max(crawled_at), any(software) FROM snapshots WHERE crawled_at < '2026-04-02 00:00:00' GROUP BY host`))
	require.Eventually(t, func() bool {
		r := read(day0)
		return len(r) == 2 && r[0].peers == nil && r[1].peers == nil
	}, 10*time.Second, 50*time.Millisecond)
	st, err := s.Rollup(ctx, day0.AddDate(0, 0, 2))
	require.NoError(t, err)
	require.Empty(t, st.Days, "nothing is due before the migration's step")
	require.NoError(t, s.RunMigrationStep(ctx, 40))
	st, err = s.Rollup(ctx, day0.AddDate(0, 0, 2))
	require.NoError(t, err)
	require.Equal(t, []time.Time{day0, day0.AddDate(0, 0, 1)}, st.Days, "every day rolled up is done again")
	require.Equal(t, want0, read(day0), "rolled up again")
	require.Equal(t, want1, read(day0.AddDate(0, 0, 1)), "rolled up again")
}

// TestPeerEventsByPeer checks the reverse copy of peer_events: kept on
// every insert by the materialized view, and rebuilt by migration 41's
// backfill for events written before it (twice changes no reader).
func TestPeerEventsByPeer(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := ctxT(t)
	at := time.Date(2026, 4, 1, 3, 0, 0, 0, time.UTC)
	require.NoError(t, s.InsertPeers(ctx, []model.Peers{
		{Host: "a.example", CrawledAt: at, Peers: []string{"b.example", "c.example"}},
		{Host: "b.example", CrawledAt: at, Peers: []string{"c.example"}},
		{Host: "a.example", CrawledAt: at.AddDate(0, 0, 1), Peers: []string{"c.example"}},
	}))
	const listers = `SELECT peer_id, groupArray(host_id) FROM (
    SELECT peer_id, host_id FROM %s GROUP BY peer_id, host_id HAVING argMax(present, at) = 1 ORDER BY peer_id, host_id
) GROUP BY peer_id ORDER BY peer_id`
	current := func(table string) map[uint64][]uint64 {
		rows, err := s.ReadQuery(ctx, fmtTable(listers, table))
		require.NoError(t, err)
		defer rows.Close()
		out := map[uint64][]uint64{}
		for rows.Next() {
			var (
				p  uint64
				hs []uint64
			)
			require.NoError(t, rows.Scan(&p, &hs))
			out[p] = hs
		}
		require.NoError(t, rows.Err())
		return out
	}
	want := current("peer_events")
	require.Len(t, want, 1, "only c.example is listed now (by a and b)")
	require.Len(t, want[firstKey(want)], 2)
	require.Equal(t, want, current("peer_events_by_peer"), "kept by the view")

	var n uint64
	require.NoError(t, s.Conn().QueryRow(ctx, "SELECT count() FROM peer_events").Scan(&n))
	require.NoError(t, s.Conn().Exec(ctx, "TRUNCATE TABLE peer_events_by_peer"))
	require.NoError(t, s.RunMigrationStep(ctx, 41))
	require.Equal(t, want, current("peer_events_by_peer"), "backfilled")
	require.NoError(t, s.RunMigrationStep(ctx, 41))
	require.Equal(t, want, current("peer_events_by_peer"), "backfilled twice")
	var copied uint64
	require.NoError(t, s.Conn().QueryRow(ctx, "SELECT count() FROM (SELECT DISTINCT * FROM peer_events_by_peer)").Scan(&copied))
	require.Equal(t, n, copied, "every event, once")
}

func fmtTable(q, table string) string {
	return strings.Replace(q, "%s", table, 1)
}

func firstKey(m map[uint64][]uint64) uint64 {
	for k := range m {
		return k
	}
	return 0
}

// TestInDegreeSummaries checks the summaries Rollup writes: the newest
// days first, a few per call; outdated by an opt-out change or a redone
// day, and written again by the next Rollup.
func TestInDegreeSummaries(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := ctxT(t)
	day0 := time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC)
	const days = 5
	var snaps []model.Snapshot
	var lists []model.Peers
	for d := range days {
		at := day0.AddDate(0, 0, d).Add(3 * time.Hour)
		for _, h := range []string{"a.example", "b.example", "c.example"} {
			snaps = append(snaps, model.Snapshot{Host: h, CrawledAt: at, Software: "mastodon"})
		}
		peers := []string{"c.example", "x.example"}
		if d >= 2 {
			peers = append(peers, "y.example")
		}
		lists = append(lists,
			model.Peers{Host: "a.example", CrawledAt: at, Peers: peers},
			model.Peers{Host: "b.example", CrawledAt: at, Peers: []string{"a.example", "c.example"}})
	}
	require.NoError(t, s.InsertPeers(ctx, lists))
	require.NoError(t, s.InsertSnapshots(ctx, snaps))

	summary := func(d int) (store.InDegreeSummary, bool) {
		sum, ok, err := s.InDegreeSummary(ctx, day0.AddDate(0, 0, d), false, 10)
		require.NoError(t, err)
		return sum, ok
	}
	rollup := func() {
		_, err := s.Rollup(ctx, day0.AddDate(0, 0, days))
		require.NoError(t, err)
	}
	rollup()
	for d := range days {
		_, ok := summary(d)
		require.Equal(t, d >= days-3, ok, "day %d: the newest three days come first", d)
	}
	rollup()
	latest, err := s.LatestInDegreeDay(ctx, true)
	require.NoError(t, err)
	require.Equal(t, day0.AddDate(0, 0, days-1), latest)
	sum, ok := summary(1)
	require.True(t, ok)
	require.Equal(t, []store.DegreeCount{{Degree: 1, Hosts: 2}, {Degree: 2, Hosts: 1}}, sum.Degrees, "a 1, x 1, c 2")
	require.Equal(t, []model.HostCount{{Host: "c.example", Count: 2}, {Host: "a.example", Count: 1}, {Host: "x.example", Count: 1}}, sum.Top)
	sum, ok = summary(3)
	require.True(t, ok)
	require.Equal(t, []store.DegreeCount{{Degree: 1, Hosts: 3}, {Degree: 2, Hosts: 1}}, sum.Degrees, "y joined")

	// An opt-out outdates every summary; Rollup writes them again without
	// the host, newest first.
	require.NoError(t, s.AddOptOut(ctx, model.OptOut{Host: "x.example"}))
	_, ok = summary(3)
	require.False(t, ok, "outdated by the opt-out")
	latest, err = s.LatestInDegreeDay(ctx, false)
	require.NoError(t, err)
	require.True(t, latest.IsZero())
	rollup()
	sum, ok = summary(3)
	require.True(t, ok)
	require.Equal(t, []model.HostCount{{Host: "c.example", Count: 2}, {Host: "a.example", Count: 1}, {Host: "y.example", Count: 1}}, sum.Top)
	_, ok = summary(1)
	require.False(t, ok, "not yet: three days a call")
	rollup()
	_, ok = summary(1)
	require.True(t, ok)

	// A late snapshot redoes its day, which outdates the day's summary
	// until the same Rollup writes it again.
	require.NoError(t, s.InsertSnapshots(ctx, []model.Snapshot{{Host: "d.example", CrawledAt: day0.AddDate(0, 0, 1).Add(20 * time.Hour), Software: "misskey"}}))
	require.NoError(t, s.InsertPeers(ctx, []model.Peers{{Host: "d.example", CrawledAt: day0.AddDate(0, 0, 1).Add(20 * time.Hour), Peers: []string{"c.example"}}}))
	_, ok = summary(1)
	require.True(t, ok, "the day's rows are unchanged until it is redone")
	rollup()
	sum, ok = summary(1)
	require.True(t, ok)
	require.Equal(t, []model.HostCount{{Host: "c.example", Count: 3}, {Host: "a.example", Count: 1}}, sum.Top, "d's list counts")
}

// TestCountInDegreesInChunks checks that counting in chunks of listing
// hosts adds up to the count in one go, over listers with suspect ones.
func TestCountInDegreesInChunks(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := ctxT(t)
	at := time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC)
	var lists []model.Peers
	var hosts []string
	for h := range 40 {
		host := fmt.Sprintf("h%d.example", h)
		hosts = append(hosts, fmt.Sprintf("SELECT '%s' AS host, toUInt8(%d) AS suspect", host, h%7/6))
		var peers []string
		for p := range h + 1 {
			peers = append(peers, fmt.Sprintf("p%d.example", (p*p+h)%23))
		}
		lists = append(lists, model.Peers{Host: host, CrawledAt: at, Peers: peers})
		// A later list of some hosts drops peers: counted as of its day.
		if h%3 == 0 {
			lists = append(lists, model.Peers{Host: host, CrawledAt: at.AddDate(0, 0, 1), Peers: peers[:len(peers)/2]})
		}
	}
	require.NoError(t, s.InsertPeers(ctx, lists))
	listers := strings.Join(hosts, " UNION ALL ")
	for _, day := range []time.Time{at, at.AddDate(0, 0, 1)} {
		clean, all, err := s.CountInDegreesChunked(ctx, listers, day, 1<<40)
		require.NoError(t, err)
		require.NotEmpty(t, all.Top)
		require.NotEqual(t, clean, all, "some listers are suspect")
		for _, chunk := range []uint64{90, 200, 700} {
			c, a, err := s.CountInDegreesChunked(ctx, listers, day, chunk)
			require.NoError(t, err)
			require.Equal(t, clean, c, "chunks of %d events", chunk)
			require.Equal(t, all, a, "chunks of %d events", chunk)
		}
	}
}
