package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/chtest"
	"github.com/fedilens/fedilens/internal/fedisim"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/store"
)

// envAsMain makes the test binary run as the fedilens command, so tests can
// start it as a separate process and kill it (see crash_test.go).
const envAsMain = "FEDILENS_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(envAsMain) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(chtest.Main(m))
}

// simEnv is a running simulated fediverse with a trap listener on
// 127.0.0.2, and the flags that crawl it.
type simEnv struct {
	sim      *fedisim.Sim
	srv      *fedisim.Server
	trap     *fedisim.Server
	trap443  *fedisim.Server // nil when port 443 cannot be bound (not root)
	caPath   string
	seeds    []string
	crawlArg []string
}

func startSim(t *testing.T, instances int) *simEnv {
	t.Helper()
	return startSimWith(t, fedisim.Options{Seed: 7, Instances: instances})
}

func startSimWith(t *testing.T, opts fedisim.Options) *simEnv {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	sim := fedisim.New(opts)
	srv, err := sim.Start(ctx, "127.0.0.1:0", "")
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	// The trap: trap.sim.example resolves to 127.0.0.2, which --allow-net
	// does not include; redirect_trap instances redirect to https://127.0.0.2/.
	trap, err := sim.Listen(ctx, fedisim.TrapIP+":0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = trap.Close() })
	env := &simEnv{sim: sim, srv: srv, trap: trap, seeds: sim.Seeds()}
	if t443, err := sim.Listen(ctx, fedisim.TrapIP+":443"); err == nil {
		env.trap443 = t443
		t.Cleanup(func() { _ = t443.Close() })
	} else {
		t.Logf("cannot listen on %s:443 (%v): the redirect trap is checked through host states only", fedisim.TrapIP, err)
	}
	env.caPath = filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, sim.WriteCA(env.caPath))
	for _, s := range env.seeds {
		env.crawlArg = append(env.crawlArg, "--seed", "https://"+s)
	}
	env.crawlArg = append(env.crawlArg,
		"--resolve", "*="+srv.HTTPSAddr,
		"--resolve", fedisim.TrapHost+"="+trap.HTTPSAddr,
		"--allow-net", "127.0.0.1/32",
		"--ca-file", env.caPath,
		// The simulated posts are dated before the simulator's fixed
		// present (fedisim.DefaultNow): a retention limit measured from
		// today would expire more of them every day.
		"--post-retention", "0",
	)
	return env
}

// freshDSN returns a DSN of a database that does not exist yet on the test
// server, dropped at the end of the test.
func freshDSN(t *testing.T) string {
	t.Helper()
	db := fmt.Sprintf("e2e_%d", time.Now().UnixNano())
	t.Cleanup(func() { _ = chtest.DropDatabase(chtest.Addr(), db) })
	return "clickhouse://" + chtest.Addr() + "/" + db
}

func runMain(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), args, &stdout, &stderr)
	require.Equal(t, 0, code, "fedilens %s\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), stdout.String(), tail(stderr.String(), 4000))
	return stdout.String()
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

func TestCrawlOnceMatchesGroundTruth(t *testing.T) {
	instances := e2eInstances(t)
	env := startSim(t, instances)
	dsn := freshDSN(t)
	data := t.TempDir()
	const delay = 40 * time.Millisecond

	start := time.Now()
	out := runMain(t, append([]string{"crawl", "--once", "--data", data, "--clickhouse", dsn,
		"--host-delay", delay.String(), "--log-level", "warn"}, env.crawlArg...)...)
	t.Logf("crawl --once of %d simulated instances took %s: %s", instances, time.Since(start).Round(time.Millisecond), strings.TrimSpace(out))

	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{Addr: dsn})
	require.NoError(t, err)
	defer st.Close()

	// The census: exactly the instances the ground truth says are
	// reachable and allowed, with their figures.
	truth := env.sim.Truth()
	want := map[string]fedisim.InstanceTruth{}
	for _, in := range truth.Census(env.seeds) {
		want[in.Host] = in
	}
	require.Greater(t, len(want), 300, "the simulator's census should be large")
	got := allInstances(t, st)
	require.ElementsMatch(t, keys(want), keys(got), "stored hosts differ from the ground truth's census")
	for host, w := range want {
		g := got[host]
		require.Equal(t, w.Software, g.Software, host)
		require.Equal(t, w.Version, g.Version, host)
		require.Equal(t, w.NodeInfoVersion, g.NodeInfoVersion, host)
		require.Equal(t, w.OpenRegistrations, g.OpenRegistrations, host)
		require.Equal(t, w.Private, g.Private, host)
		require.Equal(t, w.UsersTotal, g.UsersTotal, host)
		require.Equal(t, w.UsersActiveMonth, g.UsersActiveMonth, host)
		require.Equal(t, w.UsersActiveHalfyear, g.UsersActiveHalfyear, host)
		require.Equal(t, w.LocalPosts, g.LocalPosts, host)
		require.Equal(t, w.ExpectedFlags, g.Flags, "%s: sanity flags", host)
	}
	checkInstanceDocuments(t, env.sim, want, got) // titles too: NodeInfo's, else the instance document's
	checkCleanTotals(t, st, truth.Census(env.seeds))
	// The census must exercise the hostile kinds: some are excluded, some
	// (slow, rate-limited) are stored anyway.
	var excluded, hostileStored int
	for _, in := range truth.Instances {
		if _, ok := want[in.Host]; !ok && !in.Isolated && len(in.Behaviours) > 0 {
			excluded++
		}
		if _, ok := want[in.Host]; ok && len(in.Behaviours) > 0 {
			hostileStored++
		}
	}
	require.Positive(t, excluded)
	require.Positive(t, hostileStored)

	// Posts: exactly the consenting, public, live posts the ground truth
	// names, in ClickHouse and in Bleve.
	checkStoredPosts(t, st, data, truth.Posts(env.seeds, time.Time{}))

	// No request reached 127.0.0.2, which --allow-net does not include,
	// although peer lists name it and redirects point at it.
	reqs := env.sim.Requests()
	require.NotEmpty(t, reqs)
	checkFarmAndProvider(t, env, reqs, st, got) // spam farm capped, hosting provider whole (farm_e2e_test.go)
	for _, r := range reqs {
		require.False(t, strings.HasPrefix(r.LocalAddr, fedisim.TrapIP+":"), "request reached the trap address: %+v", r)
	}
	states, err := st.HostStates(ctx)
	require.NoError(t, err)
	var refused int
	for _, s := range states {
		if s.Host == fedisim.TrapHost {
			require.Equal(t, model.StatusRefused, s.Status, "the trap host is refused at dial time: %s", s.Reason)
		}
		if s.Status == model.StatusRefused {
			refused++
		}
	}
	require.Positive(t, refused)

	// Politeness, from the simulator's own log: robots.txt read first and
	// obeyed, never two requests in flight to one host, never a gap below
	// the delay, every Retry-After honoured, nothing at the trap address.
	violations := env.sim.CheckPoliteness(reqs, fedisim.PolitenessRules{MinGap: delay})
	require.Empty(t, violations, "politeness violations (first ones): %v", firstN(violations, 10))

	// A second pass with nothing due fetches nothing: snapshots are fresh.
	env.sim.ResetRequests()
	runMain(t, append([]string{"crawl", "--once", "--data", data, "--clickhouse", dsn, "--log-level", "warn"}, env.crawlArg...)...)
	require.Empty(t, env.sim.Requests(), "a fresh census is not fetched again")
}

// e2eInstances is the size of the simulated fediverse of the end-to-end
// census test: 500, or FEDILENS_E2E_INSTANCES to run the same checks at
// scale (FEDILENS_E2E_INSTANCES=20000 go test ./cmd/fedilens -run
// TestCrawlOnceMatchesGroundTruth -timeout 30m).
func e2eInstances(t *testing.T) int {
	v := os.Getenv("FEDILENS_E2E_INSTANCES")
	if v == "" {
		return 500
	}
	n, err := strconv.Atoi(v)
	require.NoError(t, err, "FEDILENS_E2E_INSTANCES")
	require.GreaterOrEqual(t, n, 100, "FEDILENS_E2E_INSTANCES")
	return n
}

func firstN[T any](s []T, n int) []T {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// checkCleanTotals compares the summaries, clean and with the flagged
// instances, with the ground truth's totals of census, and the listing of
// flagged instances with the instances whose figures are suspect.
func checkCleanTotals(t *testing.T, st *store.Store, census []fedisim.InstanceTruth) {
	t.Helper()
	ctx := context.Background()
	var suspect []string
	for _, in := range census {
		if in.SuspectFigures {
			suspect = append(suspect, in.Host)
		}
	}
	require.NotEmpty(t, suspect, "the census should have instances with suspect figures")
	for _, include := range []bool{false, true} {
		want := fedisim.CleanTotals(census)
		if include {
			want = fedisim.AllTotals(census)
		}
		got, err := st.SummaryWith(ctx, model.StatsOptions{IncludeFlagged: include})
		require.NoError(t, err)
		require.Equal(t, want, fedisim.CensusTotals{
			Instances: got.Instances, Flagged: got.Flagged, UsersTotal: got.UsersTotal,
			UsersActiveMonth: got.UsersActiveMonth, UsersActiveHalfyear: got.UsersActiveHalfyear,
			LocalPosts: got.LocalPosts, Softwares: got.Softwares,
		}, "summary with include_flagged=%v", include)
	}
	page, err := st.Instances(ctx, model.InstanceQuery{Sort: "host", Limit: store.MaxLimit, Flagged: model.FlaggedOnly})
	require.NoError(t, err)
	var flagged []string
	for _, in := range page.Instances {
		flagged = append(flagged, in.Host)
	}
	require.Equal(t, suspect, flagged, "the listing of instances with suspect figures")
}

func allInstances(t *testing.T, st *store.Store) map[string]model.Instance {
	t.Helper()
	out := map[string]model.Instance{}
	q := model.InstanceQuery{Sort: "host", Limit: 1000}
	for {
		page, err := st.Instances(context.Background(), q)
		require.NoError(t, err)
		for _, in := range page.Instances {
			require.NotContains(t, out, in.Host, "duplicate instance")
			out[in.Host] = in
		}
		if page.NextCursor == "" {
			return out
		}
		q.Cursor = page.NextCursor
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestServeAfterCrawl checks that what a crawl stored is served: the API
// and the dashboard, wired as `fedilens serve` wires them.
func TestServeAfterCrawl(t *testing.T) {
	env := startSim(t, 120)
	dsn := freshDSN(t)
	data := t.TempDir()
	runMain(t, append([]string{"crawl", "--once", "--data", data, "--clickhouse", dsn, "--host-delay", "5ms", "--log-level", "warn"}, env.crawlArg...)...)

	ctx := context.Background()
	c := &common{clickhouse: dsn, data: data}
	st, err := store.Open(ctx, store.Options{Addr: dsn})
	require.NoError(t, err)
	defer st.Close()
	ix, err := c.openIndex(discard(), nil)
	require.NoError(t, err)
	defer ix.Close()
	h, err := newHandler(c, st, ix, newRegistry(), discard())
	require.NoError(t, err)
	ts := httptest.NewServer(h)
	defer ts.Close()

	census := env.sim.Truth().Census(env.seeds)
	clean := fedisim.CleanTotals(census)
	require.Positive(t, clean.Flagged, "the census should have instances with suspect figures")
	var summary map[string]any
	getJSON(t, ts.URL+"/api/v1/stats/summary", &summary)
	require.EqualValues(t, clean.Instances, summary["instances"], "summary: %v", summary)
	require.EqualValues(t, clean.UsersTotal, summary["users_total"], "summary: %v", summary)
	require.EqualValues(t, clean.Flagged, summary["flagged_instances"], "summary: %v", summary)
	getJSON(t, ts.URL+"/api/v1/stats/summary?include_flagged=true", &summary)
	require.EqualValues(t, len(census), summary["instances"], "summary: %v", summary)

	var page struct {
		Instances []map[string]any `json:"instances"`
	}
	getJSON(t, ts.URL+"/api/v1/instances?sort=host&limit=1000", &page)
	require.Len(t, page.Instances, len(census))

	var one map[string]any
	getJSON(t, ts.URL+"/api/v1/instances/"+env.seeds[0], &one)
	require.Contains(t, one, "instance")

	// The federation endpoints are wired: the graph, the Threads view, the
	// post links.
	var g struct {
		Nodes []map[string]any `json:"nodes"`
	}
	getJSON(t, ts.URL+"/api/v1/graph?top=10", &g)
	require.Len(t, g.Nodes, 10, "the API's graph is wired")
	var threads map[string]any
	getJSON(t, ts.URL+"/api/v1/stats/threads?platform=threads.net", &threads)
	require.Equal(t, []any{"threads.net"}, threads["domains"])
	var links map[string]any
	getJSON(t, ts.URL+"/api/v1/instances/"+env.seeds[0]+"/post-links", &links)
	require.Contains(t, links, "links")

	posts := env.sim.Truth().TimelinePosts(env.seeds)
	require.NotEmpty(t, posts)
	var sr model.SearchResult
	getJSON(t, ts.URL+"/api/v1/search?q=from:"+posts[0].Author, &sr)
	require.Positive(t, sr.Total)
	for _, hit := range sr.Hits {
		require.Equal(t, posts[0].Author, hit.Author)
	}

	for _, path := range []string{"/", "/instances/" + env.seeds[0], "/about", "/search?q=from:" + posts[0].Author, "/healthz", "/readyz", "/metrics",
		"/software?software=mastodon", "/registrations", "/languages", "/instances", "/datasets", "/posts"} {
		resp, err := http.Get(ts.URL + path)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", path, tail(string(body), 500))
		if path == "/" {
			require.Contains(t, string(body), "data-echarts-option", "the overview has a chart fed from ClickHouse")
			require.Contains(t, string(body), "mastodon")
		}
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", url, body)
	require.NoError(t, json.Unmarshal(body, v), "%s", body)
}

// TestCommandLine covers usage errors and help.
func TestCommandLine(t *testing.T) {
	tests := []struct {
		args []string
		code int
		out  string
	}{
		{nil, 2, "Commands:"},
		{[]string{"--help"}, 0, "Commands:"},
		{[]string{"version"}, 0, "fedilens"},
		{[]string{"nope"}, 2, "unknown command"},
		{[]string{"crawl", "--bogus"}, 2, "flag provided but not defined"},
		{[]string{"crawl", "--once", "--seed", "ftp://x.example", "--clickhouse", "127.0.0.1:1", "--data", "DATA"}, 2, "scheme must be https or http"},
		{[]string{"crawl", "--once", "--sim", "3", "--seed", "https://bad host", "--clickhouse", "127.0.0.1:1", "--data", "DATA"}, 2, "invalid seed"},
		{[]string{"sim", "--https", "0.0.0.0:0"}, 2, "loopback only"},
		{[]string{"serve", "extra"}, 2, "unexpected arguments"},
		{[]string{"crawl", "--config", "/nonexistent/fedilens.yml"}, 2, "reading config file"},
		{[]string{"crawl", "--once", "--sim", "3", "--opt-in-word", "#nobot", "--clickhouse", "127.0.0.1:1", "--data", "DATA"}, 2, "--opt-in-word"},
		{[]string{"crawl", "--once", "--sim", "3", "--opt-in-word", "two words", "--clickhouse", "127.0.0.1:1", "--data", "DATA"}, 2, "--opt-in-word"},
		{[]string{"crawl", "--once", "--sim", "3", "--post-retention", "-5h", "--clickhouse", "127.0.0.1:1", "--data", "DATA"}, 2, "--post-retention -5h0m0s: must not be negative"},
		{[]string{"crawl", "--once", "--sim", "3", "--post-revalidate-after", "-1s", "--clickhouse", "127.0.0.1:1", "--data", "DATA"}, 2, "--post-revalidate-after"},
		{[]string{"crawl", "--once", "--sim", "3", "--max-post-requests", "0", "--clickhouse", "127.0.0.1:1", "--data", "DATA"}, 2, "--max-post-requests 0: must be at least 1"},
		{[]string{"crawl", "--contact", "ops@example.org", "--resolve", "nonsense", "--data", "DATA", "--clickhouse", "127.0.0.1:1"}, 2, "--resolve"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			for i, a := range tc.args {
				if a == "DATA" {
					tc.args[i] = t.TempDir()
				}
			}
			var stdout, stderr bytes.Buffer
			code := Main(context.Background(), tc.args, &stdout, &stderr)
			require.Equal(t, tc.code, code, "stdout: %s\nstderr: %s", stdout.String(), stderr.String())
			require.Contains(t, stdout.String()+stderr.String(), tc.out)
		})
	}
}

// TestRealNetworkNeedsContact: crawling without the simulator requires an
// operator contact in the User-Agent.
func TestRealNetworkNeedsContact(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"crawl", "--once", "--seed", "https://mastodon.example", "--data", t.TempDir(), "--clickhouse", chtest.Addr()}, &stdout, &stderr)
	require.Equal(t, 2, code)
	require.Contains(t, stderr.String(), "--contact")
}

// TestAllowNetGuardsSeeds: a seed that resolves to a loopback address not in
// --allow-net is refused at dial time; nothing connects.
func TestAllowNetGuardsSeeds(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	accepted := make(chan struct{}, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- struct{}{}
			c.Close()
		}
	}()
	defer ln.Close()
	dsn := freshDSN(t)
	runMain(t, "crawl", "--once", "--seed", "https://victim.example", "--resolve", "*="+ln.Addr().String(),
		"--data", t.TempDir(), "--clickhouse", dsn, "--log-level", "error")
	select {
	case <-accepted:
		t.Fatal("the crawler connected to a loopback address outside --allow-net")
	case <-time.After(100 * time.Millisecond):
	}
	st, err := store.Open(context.Background(), store.Options{Addr: dsn})
	require.NoError(t, err)
	defer st.Close()
	states, err := st.HostStates(context.Background())
	require.NoError(t, err)
	require.Len(t, states, 1)
	require.Equal(t, model.StatusRefused, states[0].Status, states[0].Reason)
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// syncBuffer is a bytes.Buffer safe for a writer and a concurrent reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRunSim runs the main job as the quickstart does (run --sim, managed
// ClickHouse included): the dashboard URL is printed, the census fills in
// through the API, and Ctrl-C (context cancel) stops everything cleanly.
func TestRunSim(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	data := t.TempDir()
	go func() {
		done <- Main(ctx, []string{"run", "--sim", "60", "--data", data, "--listen", "127.0.0.1:0", "--host-delay", "5ms", "--log-level", "warn"}, &stdout, &stderr)
	}()
	var base string
	require.Eventually(t, func() bool {
		_, after, ok := strings.Cut(stdout.String(), "fedilens dashboard: ")
		if ok && strings.Contains(after, "\n") {
			base = strings.TrimSpace(strings.SplitN(after, "\n", 2)[0])
		}
		return base != ""
	}, 90*time.Second, 50*time.Millisecond, "no dashboard URL; stderr: %s", stderr.String())

	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "api/v1/stats/summary")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var s struct{ Instances int }
		return json.NewDecoder(resp.Body).Decode(&s) == nil && s.Instances > 10
	}, 60*time.Second, 200*time.Millisecond, "the census did not fill in; stderr: %s", stderr.String())

	resp, err := http.Get(base)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(body), "data-echarts-option")

	// A second command on the same --data shares the managed ClickHouse
	// and leaves it running for `run`.
	out := runMain(t, "export", "--data", data, "--log-level", "warn")
	require.Contains(t, out, "snapshot written to")
	resp, err = http.Get(base + "readyz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "run's ClickHouse must survive the export")

	cancel()
	select {
	case code := <-done:
		require.Equal(t, 0, code, "stderr: %s", stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatal("fedilens run did not stop after cancel")
	}
	// The managed ClickHouse is stopped: no process runs with its config.
	require.NoFileExists(t, filepath.Join(data, "clickhouse", "server.pid"))
	procs, err := filepath.Glob("/proc/[0-9]*/cmdline")
	require.NoError(t, err)
	for _, p := range procs {
		cmd, err := os.ReadFile(p)
		if err == nil && bytes.Contains(cmd, []byte(data)) {
			t.Fatalf("a process still runs with the data directory: %s: %q", p, cmd)
		}
	}
}
