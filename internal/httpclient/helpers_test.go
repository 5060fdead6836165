package httpclient

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// loopback allows the whole loopback network, for tests that are not about
// the guard itself.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

// serveOn starts an httptest server listening on ip (Linux routes all of
// 127.0.0.0/8 to lo, so 127.0.0.2 and 127.0.0.3 work without setup).
func serveOn(t *testing.T, ip string, h http.Handler) *httptest.Server {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// named answers every request with its name, so tests see which server a
// request reached.
func named(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, name)
	})
}

// portOf returns the port of a test server.
func portOf(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	require.NoError(t, err)
	return port
}

func newClient(t *testing.T, opts Options) *Client {
	t.Helper()
	c, err := New(opts)
	require.NoError(t, err)
	t.Cleanup(c.HTTPClient().CloseIdleConnections)
	return c
}

// doer is what Client and *http.Client have in common.
type doer interface {
	Do(*http.Request) (*http.Response, error)
}

// get fetches url and returns the whole body; the error is from Do or from
// reading the body.
func get(ctx context.Context, c doer, url string) (*http.Response, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

// fakeResolver answers from a map and counts lookups.
type fakeResolver struct {
	mu      sync.Mutex
	answers map[string][]netip.Addr
	lookups []string
}

func newFakeResolver(answers map[string][]string) *fakeResolver {
	r := &fakeResolver{answers: map[string][]netip.Addr{}}
	for name, ips := range answers {
		for _, ip := range ips {
			r.answers[name] = append(r.answers[name], netip.MustParseAddr(ip))
		}
	}
	return r
}

func (r *fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lookups = append(r.lookups, host)
	if a, ok := r.answers[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func (r *fakeResolver) calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lookups...)
}

// hostURL builds http://host:port/path.
func hostURL(host string, port string, path string) string {
	return fmt.Sprintf("http://%s%s", net.JoinHostPort(host, port), path)
}
