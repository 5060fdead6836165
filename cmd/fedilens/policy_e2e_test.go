package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/indexer"
	"github.com/fedilens/fedilens/internal/fedisim"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/store"
)

// censusExcluding is Truth.Census with hosts the crawler must not contact:
// the fixpoint of the package doc's rules 1 to 3 where an excluded host is
// discovered but neither stored nor followed, so the hosts only it names
// drop out too.
func censusExcluding(truth *fedisim.Truth, seeds []string, excluded func(string) bool) map[string]fedisim.InstanceTruth {
	out := map[string]fedisim.InstanceTruth{}
	for _, it := range truth.CensusExcluding(seeds, excluded) {
		out[it.Host] = it
	}
	return out
}

// policyHosts picks two stored, non-seed instances that other stored
// instances name in their peer lists and that publish peers themselves,
// so that leaving them out also changes what is discovered after them.
func policyHosts(t *testing.T, truth *fedisim.Truth, seeds []string) (string, string) {
	t.Helper()
	isSeed := map[string]bool{}
	for _, s := range seeds {
		isSeed[s] = true
	}
	census := truth.Census(seeds)
	named := map[string]bool{}
	for _, in := range census {
		if in.PeersReadable() {
			for _, p := range in.Peers {
				if p != in.Host {
					named[p] = true
				}
			}
		}
	}
	var picked []string
	for _, in := range census {
		if !isSeed[in.Host] && named[in.Host] && in.PeersReadable() && len(in.Peers) > 0 {
			picked = append(picked, in.Host)
			if len(picked) == 2 {
				return picked[0], picked[1]
			}
		}
	}
	t.Fatal("the simulation has no two peer-named instances that publish peers")
	return "", ""
}

// TestDenylistAndOptOutCensus crawls the simulator with a denylisted host
// (from --deny-file) and an opted-out host (from `fedilens optout add`),
// both named in peer lists, plus a host submitted through the API table:
// neither of the first two gets a single request, and the census is the
// ground truth minus them (and what only they lead to), plus the
// submitted host. Then a host with posts opts out: the next pass purges
// its posts from ClickHouse and Bleve and the census reads leave it out.
func TestDenylistAndOptOutCensus(t *testing.T) {
	env := startSim(t, 200)
	dsn := freshDSN(t)
	data := t.TempDir()
	ctx := context.Background()
	truth := env.sim.Truth()
	denied, optedOut := policyHosts(t, truth, env.seeds)

	// A submitted host nobody names: only the submission brings it in.
	var submitted string
	for _, in := range truth.Instances {
		if in.Isolated && in.Stored() {
			submitted = in.Host
			break
		}
	}
	require.NotEmpty(t, submitted, "the simulation has no isolated instance")

	excluded := func(h string) bool {
		return h == optedOut || h == denied || strings.HasSuffix(h, "."+denied)
	}
	// The helper is the truth's own fixpoint when nothing is excluded.
	full := censusExcluding(truth, env.seeds, func(string) bool { return false })
	var fullHosts []string
	for _, in := range truth.Census(env.seeds) {
		fullHosts = append(fullHosts, in.Host)
	}
	require.Equal(t, fullHosts, keys(full))
	want := censusExcluding(truth, append(append([]string(nil), env.seeds...), submitted), excluded)
	require.NotContains(t, want, denied)
	require.NotContains(t, want, optedOut)
	require.Contains(t, want, submitted)

	denyFile := filepath.Join(t.TempDir(), "deny.txt")
	require.NoError(t, os.WriteFile(denyFile, []byte("# the operator's denylist\n\n."+denied+"   # and its subdomains\n"), 0o600))
	out := runMain(t, "optout", "add", optedOut, "--reason", "asked by mail", "--clickhouse", dsn, "--data", data, "--log-level", "warn")
	require.Equal(t, "opted out: "+optedOut+"\n", out)
	st, err := store.Open(ctx, store.Options{Addr: dsn})
	require.NoError(t, err)
	defer st.Close()
	require.NoError(t, st.AddSubmission(ctx, model.Submission{Host: submitted, ClientHash: "test"}))

	crawlArgs := append([]string{"crawl", "--once", "--data", data, "--clickhouse", dsn, "--host-delay", "5ms",
		"--log-level", "warn", "--deny-file", denyFile}, env.crawlArg...)
	runMain(t, crawlArgs...)

	// Not one request to either host, not even a TLS handshake.
	reqs := env.sim.Requests()
	require.NotEmpty(t, reqs)
	for _, r := range reqs {
		require.False(t, excluded(r.Host), "request to a refused host: %+v", r)
	}

	// The census is the ground truth minus the refused hosts.
	got := allInstances(t, st)
	require.Equal(t, keys(want), keys(got), "stored hosts differ from the ground truth without the refused hosts")
	for host, w := range want {
		g := got[host]
		require.Equal(t, w.Software, g.Software, host)
		require.Equal(t, w.Version, g.Version, host)
		require.Equal(t, w.UsersTotal, g.UsersTotal, host)
		require.Equal(t, w.LocalPosts, g.LocalPosts, host)
	}
	states := map[string]model.HostState{}
	all, err := st.HostStates(ctx)
	require.NoError(t, err)
	for _, s := range all {
		states[s.Host] = s
	}
	require.Equal(t, model.StatusRefused, states[denied].Status)
	require.Equal(t, "policy: denied by the operator (."+denied+")", states[denied].Reason)
	require.Equal(t, model.StatusRefused, states[optedOut].Status)
	require.Equal(t, "policy: the instance's admin opted out of fedilens", states[optedOut].Reason)
	require.Equal(t, "api", states[submitted].DiscoveredFrom)
	require.Equal(t, model.StatusOK, states[submitted].Status)

	// Posts: exactly the ground truth's, of the hosts in the census.
	var wantPosts []string
	byHost := map[string][]string{}
	for _, p := range truth.Posts(append(append([]string(nil), env.seeds...), submitted), time.Time{}) {
		host := p.Author[strings.LastIndexByte(p.Author, '@')+1:]
		if _, ok := want[host]; ok {
			wantPosts = append(wantPosts, p.URI)
			byHost[host] = append(byHost[host], p.URI)
		}
	}
	sort.Strings(wantPosts)
	require.NotEmpty(t, wantPosts)
	require.Equal(t, wantPosts, storedPosts(t, st, data), "posts after the first crawl")

	// A host with posts opts out: the next pass purges them and the census
	// leaves it out, without a request to it.
	var purged string
	for _, h := range keys(byHost) {
		purged = h
		break
	}
	runMain(t, "optout", "add", purged, "--clickhouse", dsn, "--data", data, "--log-level", "warn")
	env.sim.ResetRequests()
	runMain(t, crawlArgs...)
	for _, r := range env.sim.Requests() {
		require.NotEqual(t, purged, r.Host, "request to a host that opted out: %+v", r)
	}
	var remaining []string
	gone := map[string]bool{}
	for _, u := range byHost[purged] {
		gone[u] = true
	}
	for _, u := range wantPosts {
		if !gone[u] {
			remaining = append(remaining, u)
		}
	}
	require.Equal(t, remaining, storedPosts(t, st, data), "posts after the opt-out of %s", purged)
	got = allInstances(t, st)
	require.NotContains(t, got, purged)
	require.Len(t, got, len(want)-1)
	_, _, err = st.Instance(ctx, purged)
	require.ErrorIs(t, err, model.ErrNotFound)
}

// storedPosts returns the post URIs in ClickHouse, after checking that
// the Bleve index holds the same.
func storedPosts(t *testing.T, st *store.Store, data string) []string {
	t.Helper()
	ctx := context.Background()
	ch, err := st.PostURIs(ctx)
	require.NoError(t, err)
	ix, err := indexer.Open(indexer.Options{Dir: filepath.Join(data, "index")})
	require.NoError(t, err)
	bv, err := ix.AllURIs(ctx)
	require.NoError(t, err)
	require.NoError(t, ix.Close())
	require.Equal(t, ch, bv, "ClickHouse and Bleve disagree")
	return ch
}

// TestServeOperatorControls runs `fedilens serve` with an admin token from
// the environment and debug logging: the admin API answers only with the
// token, a submission is queued, and the token appears nowhere in the log.
func TestServeOperatorControls(t *testing.T) {
	const token = "e2e-admin-token-7f3a9c1d5b"
	dsn := freshDSN(t)
	t.Setenv("FEDILENS_ADMIN_TOKEN", token)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"serve", "--clickhouse", dsn, "--data", t.TempDir(), "--listen", "127.0.0.1:0",
			"--deny", "*.denied.example", "--log-level", "debug"}, &stdout, &stderr)
	}()
	var base string
	require.Eventually(t, func() bool {
		_, after, ok := strings.Cut(stdout.String(), "fedilens dashboard: ")
		if ok && strings.Contains(after, "\n") {
			base = strings.TrimSpace(strings.SplitN(after, "\n", 2)[0])
		}
		return base != ""
	}, 60*time.Second, 20*time.Millisecond, "no URL; stderr: %s", stderr.String())

	send := func(method, path, auth, body string) (int, string) {
		req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(base, "/")+path, strings.NewReader(body))
		require.NoError(t, err)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}
	code, _ := send(http.MethodGet, "/api/v1/admin/optouts", "", "")
	require.Equal(t, http.StatusUnauthorized, code)
	code, _ = send(http.MethodGet, "/api/v1/admin/optouts", "Bearer not-the-token-at-all", "")
	require.Equal(t, http.StatusUnauthorized, code)
	code, body := send(http.MethodPost, "/api/v1/admin/optouts", "Bearer "+token, `{"host":"gone.example","reason":"asked"}`)
	require.Equal(t, http.StatusOK, code, body)
	code, body = send(http.MethodGet, "/api/v1/admin/optouts", "Bearer "+token, "")
	require.Equal(t, http.StatusOK, code)
	var list struct {
		OptOuts []struct{ Host, Reason string } `json:"optouts"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &list))
	require.Len(t, list.OptOuts, 1)
	require.Equal(t, "gone.example", list.OptOuts[0].Host)

	// Submissions: queued, or refused by the denylist and by the opt-out
	// (which the admin call applied at once).
	code, body = send(http.MethodPost, "/api/v1/instances", "", `{"host":"new.example"}`)
	require.Equal(t, http.StatusAccepted, code, body)
	require.JSONEq(t, `{"host":"new.example","status":"queued"}`, body)
	code, body = send(http.MethodPost, "/api/v1/instances", "", `{"host":"x.denied.example"}`)
	require.Equal(t, http.StatusForbidden, code, body)
	require.Contains(t, body, "denied by the operator (*.denied.example)")
	code, body = send(http.MethodPost, "/api/v1/instances", "", `{"host":"gone.example"}`)
	require.Equal(t, http.StatusForbidden, code, body)
	require.Contains(t, body, "opted out")

	cancel()
	select {
	case code := <-done:
		require.Equal(t, 0, code, "stderr: %s", stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("fedilens serve did not stop")
	}
	logs := stderr.String()
	require.Contains(t, logs, "admin request refused")
	require.Contains(t, logs, "operator controls loaded")
	require.NotContains(t, logs, token)
	require.NotContains(t, logs, token[:10])
	require.NotContains(t, logs, "not-the-token-at-all")
}
