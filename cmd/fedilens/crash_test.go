package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/indexer"
	"github.com/fedilens/fedilens/internal/fedisim"
	"github.com/fedilens/fedilens/internal/store"
)

// TestKill9ThenResume kills a crawl with SIGKILL in the middle, restarts it,
// and checks that nothing is lost (the census and the posts equal the
// ground truth, in ClickHouse and in Bleve) and that no host whose snapshot
// was stored before the kill is fetched again.
func TestKill9ThenResume(t *testing.T) {
	env := startSim(t, 300)
	dsn := freshDSN(t)
	data := t.TempDir()
	ctx := context.Background()

	slow := append([]string{"crawl", "--once", "--data", data, "--clickhouse", dsn,
		"--host-delay", "150ms", "--workers", "16", "--log-level", "warn"}, env.crawlArg...)
	cmd := exec.Command(os.Args[0], slow...)
	cmd.Env = append(os.Environ(), envAsMain+"=1")
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())

	st, err := store.Open(ctx, store.Options{Addr: dsn})
	require.NoError(t, err)
	defer st.Close()
	census := env.sim.Truth().Census(env.seeds)
	snapshotted := func() map[string]bool {
		latest, err := st.LatestCounts(ctx)
		require.NoError(t, err)
		hosts := map[string]bool{}
		for _, sn := range latest {
			hosts[sn.Host] = true
		}
		return hosts
	}
	require.Eventually(t, func() bool { return len(snapshotted()) >= 30 },
		90*time.Second, 50*time.Millisecond, "the crawl stored too little; output: %s", out.String())
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	before := snapshotted()
	require.Less(t, len(before), len(census), "the kill came after the crawl had finished")
	t.Logf("killed with %d of %d instances stored", len(before), len(census))

	// Requests of the killed process that the simulator was still serving
	// (slow hosts answer after up to 300 ms) are logged when they end: wait
	// until the log is still, so none lands in the restarted run's log.
	for n, i := -1, 0; i < 50; i++ {
		if m := len(env.sim.Requests()); m == n {
			break
		} else {
			n = m
		}
		time.Sleep(500 * time.Millisecond)
	}

	// Restart: the pass completes, and fresh hosts are not touched.
	env.sim.ResetRequests()
	runMain(t, append([]string{"crawl", "--once", "--data", data, "--clickhouse", dsn, "--host-delay", "20ms", "--log-level", "warn"}, env.crawlArg...)...)
	reqs := env.sim.Requests()
	for _, r := range reqs {
		_, fresh := before[r.Host]
		require.False(t, fresh, "host %s, fresh before the kill, was fetched again: %s %s", r.Host, r.Method, r.Path)
	}
	require.Empty(t, env.sim.CheckPoliteness(reqs, fedisim.PolitenessRules{MinGap: 20 * time.Millisecond}))

	// Nothing lost: the census and the posts are complete.
	got := allInstances(t, st)
	var want []string
	for _, in := range census {
		want = append(want, in.Host)
		require.Equal(t, in.UsersTotal, got[in.Host].UsersTotal, in.Host)
	}
	require.ElementsMatch(t, want, keys(got))
	var wantPosts []string
	for _, p := range env.sim.Truth().Posts(env.seeds, time.Time{}) {
		wantPosts = append(wantPosts, p.URI)
	}
	sort.Strings(wantPosts)
	chPosts, err := st.PostURIs(ctx)
	require.NoError(t, err)
	require.Equal(t, wantPosts, chPosts, "posts in ClickHouse")
	ix, err := indexer.Open(indexer.Options{Dir: filepath.Join(data, "index")})
	require.NoError(t, err)
	defer ix.Close()
	bv, err := ix.AllURIs(ctx)
	require.NoError(t, err)
	require.Equal(t, wantPosts, bv, "posts in Bleve")
}
