package fedisim

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testOpts is the world most tests share: the e2e size.
var testOpts = Options{Seed: 42, Instances: 500}

var (
	sharedOnce sync.Once
	shared     *Sim
)

// sharedSim returns one simulation for read-only tests (rate-limit state is
// the only mutable part; tests that need it use their own Sim).
func sharedSim(t *testing.T) *Sim {
	t.Helper()
	sharedOnce.Do(func() {
		shared = New(testOpts)
		shared.skipDelays = true
	})
	return shared
}

// response is a served answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do serves one request through the handler without a network. A dropped
// connection (down or unknown host) yields status 0.
func do(t *testing.T, s *Sim, method, url, accept, body string) (resp response) {
	t.Helper()
	defer func() {
		if v := recover(); v != nil {
			if err, ok := v.(error); !ok || !errors.Is(err, http.ErrAbortHandler) {
				panic(v)
			}
			resp = response{status: 0}
		}
	}()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, url, rd)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// get is a GET that honours one 429 (the simulated rate limit answers 429
// once per path group and does not depend on time).
func get(t *testing.T, s *Sim, url string) response {
	t.Helper()
	r := do(t, s, http.MethodGet, url, "", "")
	if r.status == http.StatusTooManyRequests {
		r = do(t, s, http.MethodGet, url, "", "")
	}
	return r
}

// decode parses JSON into v and fails the test otherwise.
func decode(t *testing.T, b []byte, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(b, v), "body: %.300s", b)
}

// instanceWith returns the first non-seed instance truth matching ok.
func instanceWith(t *testing.T, tr *Truth, ok func(it InstanceTruth) bool) InstanceTruth {
	t.Helper()
	for _, it := range tr.Instances {
		if !strings.HasSuffix(it.Host, ".sim.example") && ok(it) {
			return it
		}
	}
	require.FailNow(t, "no instance matches")
	return InstanceTruth{}
}

// startTLS starts the simulation and returns a client that trusts its CA
// and sends every connection to the HTTPS listener, the way the crawler's
// resolve override does.
func startTLS(t *testing.T, s *Sim, withHTTP bool) (*Server, *http.Client) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	httpAddr := ""
	if withHTTP {
		httpAddr = "127.0.0.1:0"
	}
	srv, err := s.Start(ctx, "127.0.0.1:0", httpAddr)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, srv.Close()) })
	return srv, clientFor(t, s, srv.HTTPSAddr, srv.HTTPAddr)
}

// clientFor builds a client dialling httpsAddr for port 443 and httpAddr
// for port 80, whatever the host name.
func clientFor(t *testing.T, s *Sim, httpsAddr, httpAddr string) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(s.CACertPEM()))
	var d net.Dialer
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if strings.HasSuffix(addr, ":80") && httpAddr != "" {
				return d.DialContext(ctx, network, httpAddr)
			}
			return d.DialContext(ctx, network, httpsAddr)
		},
		ForceAttemptHTTP2: true,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{
		Transport:     tr,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// hello builds a ClientHelloInfo for GetCertificate tests.
func hello(name string) *tls.ClientHelloInfo { return &tls.ClientHelloInfo{ServerName: name} }

// httpRequest builds a GET with an Accept header and extra headers.
func httpRequest(t *testing.T, url, accept string, headers map[string]string) *http.Request {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept", accept)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return req
}

// serve runs req through the handler, honouring one 429.
func serve(t *testing.T, s *Sim, req *http.Request) response {
	t.Helper()
	for i := 0; ; i++ {
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusTooManyRequests || i > 0 {
			return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
		}
	}
}

func httptestRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

// postJSON is a JSON POST that honours one 429.
func postJSON(t *testing.T, s *Sim, url, body string) response {
	t.Helper()
	r := do(t, s, http.MethodPost, url, "", body)
	if r.status == http.StatusTooManyRequests {
		r = do(t, s, http.MethodPost, url, "", body)
	}
	return r
}
