package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/fedisim"
	"github.com/fedilens/fedilens/internal/store"
)

// TestCacheLifetimesAndConditionalRequests: hosts that announce a cache
// lifetime are not visited again before it ends, and NodeInfo documents
// with validators are fetched conditionally; a 304 records the previous
// figures again, so the census stays exact.
func TestCacheLifetimesAndConditionalRequests(t *testing.T) {
	env := startSim(t, 200)
	dsn := freshDSN(t)
	data := t.TempDir()
	crawl := func(extra ...string) {
		args := append([]string{"crawl", "--once", "--data", data, "--clickhouse", dsn, "--host-delay", "5ms", "--log-level", "warn"}, extra...)
		runMain(t, append(args, env.crawlArg...)...)
	}
	// Every host is due again at once after a visit, except where the
	// server announced a lifetime: Mastodon says its NodeInfo stays valid
	// for 30 minutes.
	crawl("--recrawl-after", "1ns")
	truth := env.sim.Truth()
	census := truth.Census(env.seeds)
	bySoftware := map[string][]string{}
	for _, in := range census {
		bySoftware[in.Software] = append(bySoftware[in.Software], in.Host)
	}
	require.NotEmpty(t, bySoftware["mastodon"])
	require.NotEmpty(t, append(bySoftware["pleroma"], bySoftware["akkoma"]...))

	env.sim.ResetRequests()
	crawl("--recrawl-after", "1ns")
	reqs := env.sim.Requests()
	byHost := map[string][]fedisim.Request{}
	for _, r := range reqs {
		byHost[r.Host] = append(byHost[r.Host], r)
	}
	for _, h := range bySoftware["mastodon"] {
		require.Empty(t, byHost[h], "mastodon host %s visited before its NodeInfo lifetime ended", h)
	}
	var notModified int
	for _, h := range append(bySoftware["pleroma"], bySoftware["akkoma"]...) {
		in, _ := truth.Instance(h)
		for _, r := range byHost[h] {
			if r.Path == in.NodeInfoPath {
				require.Equal(t, 304, r.Status, "%s: Last-Modified was sent, so the request is conditional", h)
				notModified++
			}
		}
	}
	require.Positive(t, notModified)
	require.Empty(t, env.sim.CheckPoliteness(reqs, fedisim.PolitenessRules{MinGap: 5e6}))

	// --recrawl-after 0: everything is due now; Mastodon's ETag is used.
	env.sim.ResetRequests()
	crawl("--recrawl-after", "0")
	var etag304, peerFetches int
	for _, r := range env.sim.Requests() {
		in, ok := truth.Instance(r.Host)
		if !ok || in.Software != "mastodon" {
			continue
		}
		if r.Path == in.NodeInfoPath && r.Status == 304 {
			etag304++
		}
		if r.Path == "/api/v1/instance/peers" {
			peerFetches++
		}
	}
	require.Positive(t, etag304, "conditional requests with If-None-Match answered 304")
	require.Positive(t, peerFetches, "with --recrawl-after 0 peer lists are fetched whatever their lifetime")

	// The census is still exact, and every stored host has its snapshots.
	st, err := store.Open(context.Background(), store.Options{Addr: dsn})
	require.NoError(t, err)
	defer st.Close()
	got := allInstances(t, st)
	require.Len(t, got, len(census))
	for _, in := range census {
		g := got[in.Host]
		require.Equal(t, in.UsersTotal, g.UsersTotal, in.Host)
		require.Equal(t, in.Software, g.Software, in.Host)
		if in.Software == "pleroma" || in.Software == "akkoma" {
			require.Equal(t, uint64(3), g.Snapshots, "%s: a snapshot per pass, 304s included", in.Host)
		}
	}
}
