package crawler

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/httpclient"
	"github.com/fedilens/fedilens/internal/model"
)

// farmWorld is a small fediverse behind one TLS listener: a seed whose
// peer list names a spam farm (farm.example: nothing but 404s or dropped
// connections), a hosting provider (provider.example: real instances, one
// in eight gone) and whatever hosts a test adds to dead.
type farmWorld struct {
	mu       sync.Mutex
	peers    []string
	dead     map[string]bool // hosts that drop every connection
	requests map[string]int  // requests per host
}

const farmSeed = "seed.example"

func newFarmWorld(farm, provider int) *farmWorld {
	w := &farmWorld{dead: map[string]bool{}, requests: map[string]int{}}
	for i := range farm {
		w.peers = append(w.peers, fmt.Sprintf("f%05d.farm.example", i))
	}
	for i := range provider {
		w.peers = append(w.peers, fmt.Sprintf("p%04d.provider.example", i))
	}
	return w
}

// providerGone reports whether a provider host is a departed customer.
func providerGone(host string) bool {
	var n int
	_, err := fmt.Sscanf(host, "p%04d.provider.example", &n)
	return err == nil && n%8 == 3
}

func (w *farmWorld) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	host, _, _ := strings.Cut(r.Host, ":")
	w.mu.Lock()
	w.requests[host]++
	dead := w.dead[host]
	peers := w.peers
	w.mu.Unlock()
	var farmN int
	_, farmErr := fmt.Sscanf(host, "f%05d.farm.example", &farmN)
	switch {
	case dead, farmErr == nil && farmN%2 == 1:
		conn, _, err := http.NewResponseController(rw).Hijack()
		if err == nil {
			_ = conn.Close()
		}
		return
	case farmErr == nil, providerGone(host), r.URL.Path == "/robots.txt":
		http.NotFound(rw, r) // junk hosts answer 404; a 404 robots.txt allows all
		return
	}
	rw.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/.well-known/nodeinfo":
		_, _ = fmt.Fprintf(rw, `{"links":[{"rel":"http://nodeinfo.diaspora.software/ns/schema/2.0","href":"https://%s/nodeinfo/2.0"}]}`, host)
	case "/nodeinfo/2.0":
		software := "hubzilla" // no peer list, no instance document
		if host == farmSeed {
			software = "mastodon"
		}
		_, _ = fmt.Fprintf(rw, `{"version":"2.0","software":{"name":%q,"version":"1.0"},"protocols":["activitypub"],"usage":{"users":{"total":3}},"openRegistrations":false,"metadata":{}}`, software)
	case "/api/v1/instance/peers":
		_ = json.NewEncoder(rw).Encode(peers)
	default:
		http.NotFound(rw, r)
	}
}

// contacted returns the hosts under suffix that received a request.
func (w *farmWorld) contacted(suffix string) map[string]bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string]bool{}
	for h := range w.requests {
		if strings.HasSuffix(h, suffix) {
			out[h] = true
		}
	}
	return out
}

func (w *farmWorld) resetRequests() {
	w.mu.Lock()
	w.requests = map[string]int{}
	w.mu.Unlock()
}

// wildcardTLS serves h over TLS with a self-signed certificate for every
// name the tests use, and returns the listener address and the pool that
// trusts it.
func wildcardTLS(t *testing.T, h http.Handler) (string, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "farm test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		DNSNames:              []string{farmSeed, "*.farm.example", "*.provider.example", "*.gone.example"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes the tests refuse on purpose
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return srv.Listener.Addr().String(), pool
}

// farmSink keeps every host's latest state.
type farmSink struct {
	mu     sync.Mutex
	states map[string]model.HostState
}

func (s *farmSink) AddVisit(ctx context.Context, v model.Visit) error {
	return s.AddHostState(ctx, v.State)
}
func (s *farmSink) AddHostState(_ context.Context, st model.HostState) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.states[st.Host] = st
	return nil
}

func (s *farmSink) byStatus(suffix string) map[model.HostStatus]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[model.HostStatus]int{}
	for h, st := range s.states {
		if strings.HasSuffix(h, suffix) {
			out[st.Status]++
		}
	}
	return out
}

func (s *farmSink) state(host string) model.HostState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.states[host]
}

// fakeClock is a settable Options.Now.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newFarmManager(t *testing.T, w *farmWorld, opts Options, reg prometheus.Registerer) (*Manager, *farmSink) {
	t.Helper()
	addr, pool := wildcardTLS(t, w)
	client, err := httpclient.New(httpclient.Options{
		AllowNets: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		Resolve:   map[string]string{"*": addr},
		RootCAs:   pool,
	})
	require.NoError(t, err)
	opts.Client = client.HTTPClient()
	opts.Seeds = []Seed{{Scheme: "https", Host: farmSeed}}
	opts.HostDelay = -1
	opts.ProgressEvery = -1
	opts.Workers = 16
	sink := &farmSink{states: map[string]model.HostState{}}
	m, err := New(opts, sink, nil, nil, reg)
	require.NoError(t, err)
	return m, sink
}

func TestFarmCapHoldsBackUnprovenHosts(t *testing.T) {
	const farm, provider, maxUnproven = 200, 80, 10
	w := newFarmWorld(farm, provider)
	clock := &fakeClock{now: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	reg := prometheus.NewRegistry()
	m, sink := newFarmManager(t, w, Options{MaxUnprovenPerDomain: maxUnproven, RecrawlAfter: 24 * time.Hour, Now: clock.Now}, reg)
	ctx := context.Background()

	st, err := m.RunOnce(ctx)
	require.NoError(t, err)

	// The farm: exactly the cap of its hosts was contacted, the rest is
	// capped, known and due again in about an hour.
	pass1 := w.contacted(".farm.example")
	require.Len(t, pass1, maxUnproven)
	got := sink.byStatus(".farm.example")
	require.Equal(t, farm-maxUnproven, got[model.StatusCapped], "%v", got)
	require.Equal(t, maxUnproven, got[model.StatusNoNodeInfo]+got[model.StatusUnreachable], "%v", got)
	capped := sink.state("f00199.farm.example")
	require.Equal(t, model.StatusCapped, capped.Status)
	require.Contains(t, capped.Reason, "farm.example")
	require.Contains(t, capped.Reason, "cap 10")
	require.True(t, capped.LastAttempt.IsZero(), "a capped host was not attempted")
	require.Equal(t, clock.Now(), capped.FirstSeen)
	require.WithinDuration(t, clock.Now().Add(time.Hour), capped.NextDue, 7*time.Minute)

	// The provider: one in eight subdomains is gone, yet every instance
	// was visited and stored, because proven hosts widen the cap.
	require.Len(t, w.contacted(".provider.example"), provider)
	got = sink.byStatus(".provider.example")
	require.Equal(t, provider/8, got[model.StatusNoNodeInfo], "%v", got)
	require.Equal(t, provider-provider/8, got[model.StatusOK], "%v", got)
	require.Zero(t, got[model.StatusCapped])

	require.Equal(t, int64(1+provider+maxUnproven), st.Visited)
	require.Equal(t, []FarmReport{{Domain: "farm.example", Capped: farm - maxUnproven, Unproven: maxUnproven}}, m.Farms())
	require.Equal(t, 1.0, testutil.ToFloat64(m.farms.farmDomains))
	require.Equal(t, float64(farm-maxUnproven), testutil.ToFloat64(m.farms.cappedHosts))

	// Two hours later: the failed farm hosts and the capped ones are due.
	// The hosts the first pass left out get the slots first, so the farm
	// is worked through rather than retried.
	w.resetRequests()
	clock.advance(2 * time.Hour)
	_, err = m.RunOnce(ctx)
	require.NoError(t, err)
	pass2 := w.contacted(".farm.example")
	require.Len(t, pass2, maxUnproven)
	for h := range pass2 {
		require.False(t, pass1[h], "%s was tried again before the capped hosts had their turn", h)
	}
	for h := range w.contacted(".provider.example") {
		require.True(t, providerGone(h), "%s: stored instances are fresh, only the failed ones are retried", h)
	}
	// The hosts tried in the first pass were due again but waited behind
	// the fresh ones: everything but this pass's ten is capped now.
	require.Equal(t, farm-maxUnproven, sink.byStatus(".farm.example")[model.StatusCapped])
	for h := range pass1 {
		require.Equal(t, model.StatusCapped, sink.state(h).Status, h)
	}
}

func TestFarmCapDisabled(t *testing.T) {
	w := newFarmWorld(30, 0)
	m, sink := newFarmManager(t, w, Options{MaxUnprovenPerDomain: -1}, nil)
	_, err := m.RunOnce(context.Background())
	require.NoError(t, err)
	require.Len(t, w.contacted(".farm.example"), 30)
	require.Zero(t, sink.byStatus(".farm.example")[model.StatusCapped])
	require.Empty(t, m.Farms())
}

func TestFarmCapProvenHostsFreeSlots(t *testing.T) {
	// A provider whose instances all answer, with a cap of one: each
	// instance proves itself and frees its slot for the next.
	w := newFarmWorld(0, 0)
	for i := range 20 {
		if i%8 != 3 {
			w.peers = append(w.peers, fmt.Sprintf("p%04d.provider.example", i))
		}
	}
	m, sink := newFarmManager(t, w, Options{MaxUnprovenPerDomain: 1}, nil)
	_, err := m.RunOnce(context.Background())
	require.NoError(t, err)
	require.Equal(t, map[model.HostStatus]int{model.StatusOK: 17}, sink.byStatus(".provider.example"))
	require.Empty(t, m.Farms())
}

func TestDeadHosts(t *testing.T) {
	w := newFarmWorld(0, 0)
	w.peers = []string{"a.gone.example", "b.gone.example"}
	w.dead["a.gone.example"] = true
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := &fakeClock{now: start}
	m, sink := newFarmManager(t, w, Options{RecrawlAfter: 24 * time.Hour, Now: clock.Now}, nil)
	ctx := context.Background()

	_, err := m.RunOnce(ctx)
	require.NoError(t, err)
	a := sink.state("a.gone.example")
	require.Equal(t, model.StatusUnreachable, a.Status)
	require.Equal(t, start, a.FirstSeen)
	require.Equal(t, model.StatusOK, sink.state("b.gone.example").Status)

	// b stops answering too; 29 days on, a is still only unreachable.
	w.mu.Lock()
	w.dead["b.gone.example"] = true
	w.mu.Unlock()
	clock.advance(29 * 24 * time.Hour)
	_, err = m.RunOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, model.StatusUnreachable, sink.state("a.gone.example").Status)
	require.Equal(t, model.StatusUnreachable, sink.state("b.gone.example").Status)

	// 31 days after it was first seen, a never answered: dead, with its
	// last error, due again in a week. b answered 31 days ago: dead too.
	clock.advance(2 * 24 * time.Hour)
	_, err = m.RunOnce(ctx)
	require.NoError(t, err)
	for _, h := range []string{"a.gone.example", "b.gone.example"} {
		s := sink.state(h)
		require.Equal(t, model.StatusDead, s.Status, h)
		require.Contains(t, s.Reason, "last error: unreachable: ", h)
		require.WithinDuration(t, clock.Now().Add(7*24*time.Hour), s.NextDue, 17*time.Hour, h)
	}
	require.Contains(t, sink.state("a.gone.example").Reason, "first seen 2026-01-01")
	require.Contains(t, sink.state("b.gone.example").Reason, "no successful visit since 2026-01-01")

	// Not due before the week is over; then retried, and back to ok as
	// soon as it answers.
	w.resetRequests()
	clock.advance(6 * 24 * time.Hour)
	_, err = m.RunOnce(ctx)
	require.NoError(t, err)
	require.Empty(t, w.contacted(".gone.example"))
	w.mu.Lock()
	delete(w.dead, "b.gone.example")
	w.mu.Unlock()
	clock.advance(2 * 24 * time.Hour)
	_, err = m.RunOnce(ctx)
	require.NoError(t, err)
	require.Len(t, w.contacted(".gone.example"), 2)
	require.Equal(t, model.StatusOK, sink.state("b.gone.example").Status)
	require.Equal(t, model.StatusDead, sink.state("a.gone.example").Status)
}

func TestMarkDead(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	tests := []struct {
		name       string
		deadAfter  time.Duration
		in         model.HostState
		wantStatus model.HostStatus
		wantSeen   time.Time
	}{
		{"never answered, first seen long ago", 0,
			model.HostState{Status: model.StatusUnreachable, FirstSeen: now.Add(-31 * day)}, model.StatusDead, now.Add(-31 * day)},
		{"never answered, first seen lately", 0,
			model.HostState{Status: model.StatusUnreachable, FirstSeen: now.Add(-29 * day)}, model.StatusUnreachable, now.Add(-29 * day)},
		{"answered lately, first seen long ago", 0,
			model.HostState{Status: model.StatusMalformed, FirstSeen: now.Add(-300 * day), LastSuccess: now.Add(-2 * day)}, model.StatusMalformed, now.Add(-300 * day)},
		{"last success long ago", 0,
			model.HostState{Status: model.StatusNoNodeInfo, FirstSeen: now.Add(-300 * day), LastSuccess: now.Add(-40 * day)}, model.StatusDead, now.Add(-300 * day)},
		{"a refusal is not death", 0,
			model.HostState{Status: model.StatusRobotsDisallowed, FirstSeen: now.Add(-300 * day)}, model.StatusRobotsDisallowed, now.Add(-300 * day)},
		{"noindex is not death", 0,
			model.HostState{Status: model.StatusNoIndex, FirstSeen: now.Add(-300 * day)}, model.StatusNoIndex, now.Add(-300 * day)},
		{"unknown first seen starts now", 0,
			model.HostState{Status: model.StatusUnreachable}, model.StatusUnreachable, now},
		{"shorter period", 48 * time.Hour,
			model.HostState{Status: model.StatusUnreachable, FirstSeen: now.Add(-3 * day)}, model.StatusDead, now.Add(-3 * day)},
		{"rule off", -1,
			model.HostState{Status: model.StatusUnreachable, FirstSeen: now.Add(-300 * day)}, model.StatusUnreachable, now.Add(-300 * day)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := New(Options{Client: http.DefaultClient, DeadAfter: tc.deadAfter, RecrawlAfter: time.Hour}, &farmSink{}, nil, nil, nil)
			require.NoError(t, err)
			s := tc.in
			s.Host, s.LastAttempt, s.Reason, s.Failures = "x.example", now, "robots.txt: dial tcp: refused", 4
			m.schedule(&s)
			require.Equal(t, tc.wantStatus, s.Status)
			require.Equal(t, tc.wantSeen, s.FirstSeen)
			require.Equal(t, uint32(5), s.Failures)
			if tc.wantStatus == model.StatusDead {
				require.Contains(t, s.Reason, "robots.txt: dial tcp: refused")
				require.WithinDuration(t, now.Add(7*day), s.NextDue, 17*time.Hour)
			} else {
				require.Equal(t, "robots.txt: dial tcp: refused", s.Reason)
				require.WithinDuration(t, now.Add(16*time.Hour), s.NextDue, 2*time.Hour, "the usual backoff")
			}
		})
	}
}

// TestWildcardTLSRefusesOtherNames keeps the test world honest: a name the
// certificate does not cover fails, so the hosts above really were reached
// by name.
func TestWildcardTLSRefusesOtherNames(t *testing.T) {
	addr, pool := wildcardTLS(t, newFarmWorld(0, 0))
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "other.example"})
	if err == nil {
		conn.Close()
	}
	require.Error(t, err)
	conn, err = tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "x.farm.example"})
	require.NoError(t, err)
	conn.Close()
}
