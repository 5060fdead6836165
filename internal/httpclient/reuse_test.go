package httpclient

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// wildcardServer starts a TLS server whose self-signed certificate covers
// *.test, counts the connections it accepts, and answers "resumed" or
// "full" after the handshake kind of the request's connection.
func wildcardServer(t *testing.T) (*httptest.Server, *x509.CertPool, *atomic.Int64) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "*.test"},
		DNSNames:              []string{"*.test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)

	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS.DidResume {
			io.WriteString(w, "resumed")
			return
		}
		io.WriteString(w, "full")
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, pool, &conns
}

// TestConnectionReuseAcrossManyHosts: a crawl visits hundreds of hosts at
// once and sends each several requests in turn. Every host must keep its
// connection between its requests: one TLS handshake per host, not per
// request. With the old pool of 100 idle connections, 300 interleaved
// hosts needed a new connection for every request.
func TestConnectionReuseAcrossManyHosts(t *testing.T) {
	t.Parallel()
	const hosts, rounds = 300, 3
	for _, tc := range []struct {
		name      string
		maxIdle   int
		wantConns int64
	}{
		{"default pool", 0, hosts},
		{"pool smaller than the hosts in flight", 100, hosts * rounds},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, pool, conns := wildcardServer(t)
			c := newClient(t, Options{
				AllowNets: loopback, RootCAs: pool, MaxIdleConns: tc.maxIdle,
				Resolve: map[string]string{"*": "127.0.0.1"},
			})
			port := portOf(t, srv)
			for r := 0; r < rounds; r++ {
				for h := 0; h < hosts; h++ {
					_, body, err := get(t.Context(), c, "https://h"+strconv.Itoa(h)+".test:"+port+"/")
					require.NoError(t, err)
					require.Contains(t, []string{"full", "resumed"}, body)
				}
			}
			require.Equal(t, tc.wantConns, conns.Load(), "connections opened")
		})
	}
}

// TestTLSSessionResumption: a new connection to a host seen before resumes
// the TLS session (no certificate chain to verify again), unless the cache
// is turned off.
func TestTLSSessionResumption(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cache int
		want  string
	}{{0, "resumed"}, {-1, "full"}} {
		t.Run(fmt.Sprint("cache ", tc.cache), func(t *testing.T) {
			srv, pool, _ := wildcardServer(t)
			c := newClient(t, Options{
				AllowNets: loopback, RootCAs: pool, TLSSessionCacheSize: tc.cache,
				Resolve: map[string]string{"*": "127.0.0.1"},
			})
			u := "https://a.test:" + portOf(t, srv) + "/"
			_, body, err := get(t.Context(), c, u)
			require.NoError(t, err)
			require.Equal(t, "full", body)
			c.HTTPClient().CloseIdleConnections()
			_, body, err = get(t.Context(), c, u)
			require.NoError(t, err)
			require.Equal(t, tc.want, body)
		})
	}
}

// TestCloseHost: a caller done with a host closes its connections; the
// other hosts keep theirs, and the host can be asked again.
func TestCloseHost(t *testing.T) {
	t.Parallel()
	srv, pool, conns := wildcardServer(t)
	c := newClient(t, Options{AllowNets: loopback, RootCAs: pool, Resolve: map[string]string{"*": "127.0.0.1"}})
	port := portOf(t, srv)
	for _, h := range []string{"a", "b", "c"} {
		_, _, err := get(t.Context(), c, "https://"+h+".test:"+port+"/")
		require.NoError(t, err)
	}
	require.Equal(t, 3, c.OpenConns())
	require.Equal(t, 1, c.CloseHost("B.test:"+port), "case and port do not matter")
	require.Equal(t, 0, c.CloseHost("b.test"), "nothing left to close")
	require.Equal(t, 2, c.OpenConns())
	for _, h := range []string{"a", "b"} {
		_, _, err := get(t.Context(), c, "https://"+h+".test:"+port+"/")
		require.NoError(t, err)
	}
	require.Equal(t, int64(4), conns.Load(), "only the closed host dialled again")
	require.Equal(t, 3, c.OpenConns())
}

// TestCloseHostSparesBusyConnections: a connection carrying a request
// (from the moment the request gets it until its body is closed) is not
// closed: another visit may be following a redirect to the host.
func TestCloseHostSparesBusyConnections(t *testing.T) {
	t.Parallel()
	entered, proceed := make(chan struct{}), make(chan struct{})
	srv, pool, _ := wildcardServer(t)
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		close(entered)
		<-proceed
		io.WriteString(w, "done")
	})
	c := newClient(t, Options{AllowNets: loopback, RootCAs: pool, Resolve: map[string]string{"*": "127.0.0.1"}})
	errc := make(chan error, 1)
	go func() {
		_, body, err := get(t.Context(), c, "https://slow.test:"+portOf(t, srv)+"/")
		if err == nil && body != "done" {
			err = fmt.Errorf("body %q", body)
		}
		errc <- err
	}()
	<-entered
	require.Equal(t, 0, c.CloseHost("slow.test"), "the busy connection stays open")
	close(proceed)
	require.NoError(t, <-errc)
	require.Equal(t, 1, c.CloseHost("slow.test"), "idle once the body is read and closed")
}
