package main

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/crawler"
	"github.com/fedilens/fedilens/internal/chtest"
	"github.com/fedilens/fedilens/internal/fedisim"
	"github.com/fedilens/fedilens/internal/fedisim/simtest"
	"github.com/fedilens/fedilens/internal/hostname"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/pipeline"
	"github.com/fedilens/fedilens/internal/store"
)

// noIndex is the search index of a crawl without posts: never written.
type noIndex struct{}

func (noIndex) Index(context.Context, []model.Post) error            { return nil }
func (noIndex) Delete(context.Context, []string) error               { return nil }
func (noIndex) DeleteAuthors(context.Context, []string) (int, error) { return 0, nil }
func (noIndex) DeleteHosts(context.Context, []string) (int, error)   { return 0, nil }
func (noIndex) DeleteBefore(context.Context, time.Time) (int, error) { return 0, nil }

// wantPeers is the peer set a crawler keeps of a served list: valid DNS
// names, normalised, without self or a port, de-duplicated, sorted.
func wantPeers(it *fedisim.InstanceTruth) []string {
	if !it.PeersReadable() {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, r := range it.Peers {
		h, err := hostname.Normalize(r)
		if err != nil || h == it.Host || strings.Contains(h, ":") || seen[h] {
			continue
		}
		seen[h] = true
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// wantBlockList is the block list a crawler reads of an instance on a day
// ("domain severity reason" lines, sorted), and whether it can read one.
func wantBlockList(it *fedisim.InstanceTruth) ([]string, bool) {
	if it.Blocks == nil {
		return nil, false
	}
	switch it.Software {
	case "pleroma", "akkoma":
	case "lemmy":
		if !it.PeersReadable() {
			return nil, false
		}
	default:
		if !it.Allows("/api/v1/instance/domain_blocks") {
			return nil, false
		}
	}
	out := []string{}
	for _, b := range it.Blocks {
		out = append(out, b.Domain+" "+b.Severity+" "+b.Comment)
	}
	sort.Strings(out)
	return out, true
}

func blockLines(bl []store.BlockLink) []string {
	out := []string{}
	for _, b := range bl {
		out = append(out, b.Domain+" "+b.Severity+" "+b.Reason)
	}
	sort.Strings(out)
	return out
}

// TestLinksHistoryMatchesTruth crawls a simulated fediverse through its
// history, one pass a day with the crawler's clock on that day, and
// checks every few days that every host crawled that day has exactly the
// day's peer set and block list in ClickHouse, that first-seen days are
// the days the links appeared, and that the as-of readers give back the
// earlier days.
func TestLinksHistoryMatchesTruth(t *testing.T) {
	const (
		instances = 100
		days      = 20
	)
	ctx := context.Background()
	sim := fedisim.New(fedisim.Options{Seed: 21, Instances: instances, HistoryDays: days, NoHostile: true})
	client := simtest.Serve(t, sim)

	st := chtest.Store(t)
	pipe := pipeline.New(st, noIndex{}, pipeline.Options{FlushEvery: time.Hour})
	t.Cleanup(func() { _ = pipe.Close(ctx) })
	var clock atomic.Int64
	var seeds []crawler.Seed
	for _, s := range sim.Seeds() {
		seeds = append(seeds, crawler.Seed{Scheme: "https", Host: s})
	}
	m, err := crawler.New(crawler.Options{
		Client: client, Seeds: seeds, HostDelay: -1, ProgressEvery: -1, Workers: 16,
		RecrawlAfter: 0, // every host is due at every pass
		Now:          func() time.Time { return time.Unix(clock.Load(), 0).UTC() },
	}, pipe, st, nil, nil)
	require.NoError(t, err)

	// firstPeer and firstBlock are the first day each link was served to
	// a crawl (the host alive and stored that day).
	firstPeer := map[string]map[string]time.Time{}
	firstBlock := map[string]map[string]time.Time{}
	truths := make([]*fedisim.Truth, days)
	checked := 0
	for d := range days {
		require.NoError(t, sim.SetDay(d))
		at := sim.DayDate(d).Add(2 * time.Hour)
		clock.Store(at.Unix())
		_, err := m.RunOnce(ctx)
		require.NoError(t, err)
		require.NoError(t, pipe.Flush(ctx))
		truth, err := sim.TruthAt(d)
		require.NoError(t, err)
		truths[d] = truth

		crawled := crawledOn(t, st, at)
		for host := range crawled {
			it, ok := truth.Instance(host)
			require.True(t, ok, host)
			require.True(t, it.Stored(), "%s stored on day %d against the truth", host, d)
			for _, p := range wantPeers(&it) {
				if firstPeer[host] == nil {
					firstPeer[host] = map[string]time.Time{}
				}
				if _, seen := firstPeer[host][p]; !seen {
					firstPeer[host][p] = at
				}
			}
			if bl, ok := wantBlockList(&it); ok {
				for _, b := range bl {
					dom := strings.Fields(b)[0]
					if firstBlock[host] == nil {
						firstBlock[host] = map[string]time.Time{}
					}
					if _, seen := firstBlock[host][dom]; !seen {
						firstBlock[host][dom] = at
					}
				}
			}
		}
		if d%5 != 4 && d != days-1 {
			continue
		}
		checked++
		var peers, blocks int
		for host := range crawled {
			it, _ := truth.Instance(host)
			want := wantPeers(&it)
			got, err := st.Peers(ctx, host)
			switch {
			case it.PeersReadable() && len(want) > 0:
				require.NoError(t, err, host)
				require.Equal(t, want, got, "%s peers on day %d", host, d)
				peers += len(got)
			case it.PeersReadable(): // an empty list (snac's is not even asked for)
				if err != nil {
					require.ErrorIs(t, err, model.ErrNotFound, host)
				}
				require.Empty(t, got, host)
			default:
				require.ErrorIs(t, err, model.ErrNotFound, host)
			}
			links, err := st.PeerLinks(ctx, host, time.Time{})
			require.NoError(t, err)
			for _, l := range links {
				require.True(t, l.Present, "%s: peer %s left although entries never disappear", host, l.Peer)
				require.Equal(t, firstPeer[host][l.Peer], l.FirstSeen, "%s: first seen of %s", host, l.Peer)
				require.Equal(t, at, l.LastSeen, "%s: last seen of %s", host, l.Peer)
			}

			wantB, readable := wantBlockList(&it)
			gotB, err := st.Blocks(ctx, host, time.Time{})
			if !readable {
				require.ErrorIs(t, err, model.ErrNotFound, "%s (%s) has no readable block list", host, it.Software)
				continue
			}
			require.NoError(t, err, host)
			require.Equal(t, wantB, blockLines(gotB), "%s (%s) blocks on day %d", host, it.Software, d)
			for _, b := range gotB {
				require.Equal(t, firstBlock[host][b.Domain], b.FirstSeen, "%s: first seen of block %s", host, b.Domain)
			}
			blocks += len(gotB)
		}
		t.Logf("day %d: %d hosts crawled, %d peer links, %d blocks", d, len(crawled), peers, blocks)
		require.Positive(t, peers)
		require.Positive(t, blocks)
	}
	require.Equal(t, 4, checked)

	// History: the sets as of an earlier day are that day's truth, for the
	// hosts crawled on that day.
	for _, d := range []int{3, 11} {
		at := sim.DayDate(d).Add(2 * time.Hour)
		for host := range crawledOn(t, st, at) {
			it, _ := truths[d].Instance(host)
			links, err := st.PeerLinks(ctx, host, at)
			require.NoError(t, err)
			var got []string
			for _, l := range links {
				if l.Present {
					got = append(got, l.Peer)
				}
			}
			require.Equal(t, wantPeers(&it), got, "%s peers as of day %d", host, d)
			if wantB, ok := wantBlockList(&it); ok {
				gotB, err := st.Blocks(ctx, host, at)
				require.NoError(t, err)
				require.Equal(t, wantB, blockLines(gotB), "%s blocks as of day %d", host, d)
			}
		}
	}

	// Who blocks threads.net today, against the truth.
	last := truths[days-1]
	var want []string
	for host := range crawledOn(t, st, sim.DayDate(days-1).Add(2*time.Hour)) {
		it, _ := last.Instance(host)
		bl, ok := wantBlockList(&it)
		for _, b := range bl {
			if ok && strings.HasPrefix(b, fedisim.ThreadsDomain+" ") {
				want = append(want, host+" "+strings.Fields(b)[1])
			}
		}
	}
	who, err := st.BlocksOf(ctx, fedisim.ThreadsDomain, time.Time{})
	require.NoError(t, err)
	var got []string
	for _, b := range who {
		got = append(got, b.Host+" "+b.Severity)
	}
	slices.Sort(want)
	require.NotEmpty(t, want)
	require.Equal(t, want, got)
}

// crawledOn returns the hosts with a snapshot taken at at.
func crawledOn(t *testing.T, st *store.Store, at time.Time) map[string]bool {
	t.Helper()
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{chtest.Addr()}, Auth: clickhouse.Auth{Database: st.Database()}, MaxOpenConns: 1})
	require.NoError(t, err)
	defer conn.Close()
	rows, err := conn.Query(context.Background(), "SELECT DISTINCT host FROM snapshots WHERE crawled_at = ?", at)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var h string
		require.NoError(t, rows.Scan(&h))
		out[h] = true
	}
	require.NoError(t, rows.Err())
	require.NotEmpty(t, out, fmt.Sprintf("no host crawled at %s", at))
	return out
}
