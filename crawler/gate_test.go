package crawler

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/httpclient"
	"github.com/fedilens/fedilens/internal/model"
)

// nopSink discards everything.
type nopSink struct{}

func (nopSink) AddVisit(context.Context, model.Visit) error         { return nil }
func (nopSink) AddHostState(context.Context, model.HostState) error { return nil }

// politeServer records, per request, whether another request to the same
// host was in flight, and the gaps between requests.
type politeServer struct {
	mu       sync.Mutex
	inFlight map[string]int
	overlap  atomic.Int32
	robots   atomic.Int32
	last     map[string]time.Time
	minGap   time.Duration
	robotsTx func(w http.ResponseWriter)
}

func (p *politeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	p.mu.Lock()
	p.inFlight[host]++
	if p.inFlight[host] > 1 {
		p.overlap.Add(1)
	}
	if l, ok := p.last[host]; ok {
		if gap := time.Since(l); p.minGap == 0 || gap < p.minGap {
			p.minGap = gap
		}
	}
	p.mu.Unlock()
	time.Sleep(2 * time.Millisecond)
	if r.URL.Path == "/robots.txt" {
		p.robots.Add(1)
		if p.robotsTx != nil {
			p.robotsTx(w)
		} else {
			_, _ = w.Write([]byte("User-agent: *\nDisallow: /private/\n"))
		}
	} else {
		_, _ = w.Write([]byte(`{}`))
	}
	p.mu.Lock()
	p.inFlight[host]--
	p.last[host] = time.Now()
	p.mu.Unlock()
}

func newTestManager(t *testing.T, h http.Handler, delay time.Duration) *Manager {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	client, err := httpclient.New(httpclient.Options{
		AllowNets: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		Resolve:   map[string]string{"*": strings.TrimPrefix(srv.URL, "http://")},
	})
	require.NoError(t, err)
	m, err := New(Options{Client: client.HTTPClient(), HostDelay: delay, ProgressEvery: -1}, nopSink{}, nil, nil, nil)
	require.NoError(t, err)
	return m
}

func TestGateSerialisesAllPathsToAHost(t *testing.T) {
	ps := &politeServer{inFlight: map[string]int{}, last: map[string]time.Time{}}
	const delay = 30 * time.Millisecond
	m := newTestManager(t, ps, delay)
	ctx := context.Background()

	// Two independent users of the same host (a visit and a look-up, say)
	// send requests at the same time.
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc, release := m.newHostCrawl("polite.example", "http")
			defer release()
			for range 3 {
				resp, err := hc.get(ctx, fetchRequest{URL: hc.url("/public")})
				require.NoError(t, err)
				require.Equal(t, 200, resp.Status)
			}
		}()
	}
	wg.Wait()
	require.Zero(t, ps.overlap.Load(), "two requests were in flight to one host")
	require.Equal(t, int32(1), ps.robots.Load(), "robots.txt is fetched once and cached")
	require.GreaterOrEqual(t, ps.minGap, delay-2*time.Millisecond, "gap below the delay") // server clock vs client clock slack

	hc, release := m.newHostCrawl("polite.example", "http")
	defer release()
	_, err := hc.get(ctx, fetchRequest{URL: hc.url("/private/x")})
	require.ErrorIs(t, err, errRobots)
	require.Equal(t, model.StatusRobotsDisallowed, classify(err))
}

func TestGateRobots5xxDisallowsForNow(t *testing.T) {
	ps := &politeServer{inFlight: map[string]int{}, last: map[string]time.Time{},
		robotsTx: func(w http.ResponseWriter) { w.WriteHeader(http.StatusInternalServerError) }}
	m := newTestManager(t, ps, -1)
	hc, release := m.newHostCrawl("flaky.example", "http")
	defer release()
	_, err := hc.get(context.Background(), fetchRequest{URL: hc.url("/anything")})
	var unavailable *errRobotsUnavailable
	require.True(t, errors.As(err, &unavailable), "%v", err)
	require.Equal(t, model.StatusRobotsDisallowed, classify(err))
	_, err = hc.get(context.Background(), fetchRequest{URL: hc.url("/other")})
	require.Error(t, err)
	require.Equal(t, int32(1), ps.robots.Load(), "the 5xx verdict is cached for a while")
}

func TestGateCrawlDelayAndSweep(t *testing.T) {
	ps := &politeServer{inFlight: map[string]int{}, last: map[string]time.Time{},
		robotsTx: func(w http.ResponseWriter) { _, _ = w.Write([]byte("User-agent: fedilens\nCrawl-delay: 0.05\n")) }}
	m := newTestManager(t, ps, time.Millisecond)
	hc, release := m.newHostCrawl("slow.example", "http")
	for range 3 {
		_, err := hc.get(context.Background(), fetchRequest{URL: hc.url("/x")})
		require.NoError(t, err)
	}
	release()
	require.GreaterOrEqual(t, ps.minGap, 48*time.Millisecond, "Crawl-delay wins over a smaller host delay")

	// An idle gate is forgotten only after its gap and idle time.
	m.gatesMu.Lock()
	m.sweepGatesLocked(time.Now())
	require.Contains(t, m.gates, "slow.example")
	m.sweepGatesLocked(time.Now().Add(gateIdle + time.Second))
	require.NotContains(t, m.gates, "slow.example")
	m.gatesMu.Unlock()
}

func TestProgressLineAndStatusGauge(t *testing.T) {
	ps := &politeServer{inFlight: map[string]int{}, last: map[string]time.Time{}}
	srv := httptest.NewServer(ps)
	t.Cleanup(srv.Close)
	client, err := httpclient.New(httpclient.Options{
		AllowNets: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		Resolve:   map[string]string{"*": strings.TrimPrefix(srv.URL, "http://")},
	})
	require.NoError(t, err)
	var progress strings.Builder
	reg := prometheus.NewRegistry()
	m, err := New(Options{Client: client.HTTPClient(), HostDelay: -1, Progress: &progress,
		Seeds: []Seed{{Scheme: "http", Host: "one.example"}}}, nopSink{}, nil, nil, reg)
	require.NoError(t, err)
	st, err := m.RunOnce(context.Background())
	require.NoError(t, err)
	require.Equal(t, int64(1), st.Visited)
	require.Contains(t, progress.String(), "\r\033[Kcrawl: ")
	require.Contains(t, progress.String(), "1 done, 0 in flight, 0 queued, 1 failed")
	require.True(t, strings.HasSuffix(progress.String(), "\n"))
	// {} is no NodeInfo discovery document: the host is malformed.
	require.Equal(t, 1.0, testutil.ToFloat64(m.metrics.hostsByStatus.WithLabelValues(string(model.StatusMalformed))))
}

// denyAfter allows a host for its first n questions, then refuses it: an
// opt-out landing in the middle of a visit.
type denyAfter struct{ n atomic.Int32 }

func (d *denyAfter) Allowed(string) (bool, string) {
	if d.n.Add(-1) < 0 {
		return false, "the instance's admin opted out of fedilens"
	}
	return true, ""
}

func TestPolicyCheckedAtEveryRequest(t *testing.T) {
	ps := &politeServer{inFlight: map[string]int{}, last: map[string]time.Time{}}
	m := newTestManager(t, ps, -1)
	pol := &denyAfter{}
	pol.n.Store(1)
	m.opts.Policy = pol
	hc, release := m.newHostCrawl("optout.example", "http")
	defer release()
	_, err := hc.get(context.Background(), fetchRequest{URL: hc.url("/a")})
	require.NoError(t, err)
	served := ps.robots.Load()
	_, err = hc.get(context.Background(), fetchRequest{URL: hc.url("/b")})
	require.ErrorIs(t, err, ErrHostRefused)
	require.Equal(t, model.StatusRefused, classify(err))
	require.Equal(t, served, ps.robots.Load())
}
