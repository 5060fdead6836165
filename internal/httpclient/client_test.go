package httpclient

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDialGuard(t *testing.T) {
	t.Parallel()
	one := serveOn(t, "127.0.0.1", named("one"))
	two := serveOn(t, "127.0.0.2", named("two"))
	p1, p2 := portOf(t, one), portOf(t, two)
	only1 := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	resolver := newFakeResolver(map[string][]string{
		"evil.test":  {"127.0.0.1"},
		"mixed.test": {"1.1.1.1", "127.0.0.1"},
		"good.test":  {"127.0.0.2"},
		"meta.test":  {"169.254.169.254"},
		"v6.test":    {"::ffff:127.0.0.1"},
	})

	tests := []struct {
		name    string
		allow   []netip.Prefix
		resolve map[string]string
		url     string
		want    string
		wantErr error
		// inErr is a string the error must contain (the refused address).
		inErr string
	}{
		{name: "loopback refused by default", url: one.URL, wantErr: ErrForbiddenAddress, inErr: "127.0.0.1"},
		{name: "second loopback refused by default", url: two.URL, wantErr: ErrForbiddenAddress, inErr: "127.0.0.2"},
		{name: "allowed prefix passes", allow: only1, url: one.URL, want: "one"},
		{name: "neighbour of allowed prefix refused", allow: only1, url: two.URL, wantErr: ErrForbiddenAddress, inErr: "127.0.0.2"},
		{name: "ipv4-mapped loopback refused", url: hostURL("::ffff:127.0.0.1", p1, "/"), wantErr: ErrForbiddenAddress, inErr: "127.0.0.1"},
		{name: "ipv4-mapped of allowed address passes", allow: only1, url: hostURL("::ffff:127.0.0.1", p1, "/"), want: "one"},
		{name: "ipv6 loopback refused", allow: only1, url: hostURL("::1", p1, "/"), wantErr: ErrForbiddenAddress, inErr: "::1"},
		{name: "unspecified refused", url: hostURL("0.0.0.0", p1, "/"), wantErr: ErrForbiddenAddress, inErr: "0.0.0.0"},
		{name: "private refused", url: "http://10.0.0.1/", wantErr: ErrForbiddenAddress, inErr: "10.0.0.1"},
		{name: "metadata refused", url: "http://169.254.169.254/latest/", wantErr: ErrForbiddenAddress, inErr: "169.254.169.254"},
		{name: "name resolving to loopback refused", url: hostURL("evil.test", p1, "/"), wantErr: ErrForbiddenAddress, inErr: "127.0.0.1"},
		{name: "name resolving to mapped loopback refused", url: hostURL("v6.test", p1, "/"), wantErr: ErrForbiddenAddress, inErr: "127.0.0.1"},
		{name: "name with one bad address refused", url: hostURL("mixed.test", p1, "/"), wantErr: ErrForbiddenAddress, inErr: "127.0.0.1"},
		{name: "name resolving to metadata refused", url: "http://meta.test/", wantErr: ErrForbiddenAddress, inErr: "169.254.169.254"},
		{name: "name resolving to allowed address passes", allow: loopback, url: hostURL("good.test", p2, "/"), want: "two"},
		{name: "override to loopback refused", resolve: map[string]string{"x.test": "127.0.0.1"}, url: hostURL("x.test", p1, "/"), wantErr: ErrForbiddenAddress, inErr: "127.0.0.1"},
		{name: "override to allowed address passes", allow: only1, resolve: map[string]string{"x.test": "127.0.0.1"}, url: hostURL("x.test", p1, "/"), want: "one"},
		{name: "override outside allowed prefix refused", allow: only1, resolve: map[string]string{"*": "127.0.0.2"}, url: hostURL("x.test", p2, "/"), wantErr: ErrForbiddenAddress, inErr: "127.0.0.2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newClient(t, Options{AllowNets: tc.allow, Resolve: tc.resolve, Resolver: resolver})
			_, body, err := get(context.Background(), c, tc.url)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				require.Contains(t, err.Error(), tc.inErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, body)
		})
	}

	t.Run("HTTPClient is guarded too", func(t *testing.T) {
		t.Parallel()
		c := newClient(t, Options{})
		resp, err := c.HTTPClient().Get(one.URL)
		if resp != nil {
			resp.Body.Close()
		}
		require.ErrorIs(t, err, ErrForbiddenAddress)
	})
}

// TestControlGuard checks the second line of defence on its own: even an
// address that got past DialContext is refused when the socket connects.
func TestControlGuard(t *testing.T) {
	t.Parallel()
	d := &dialer{allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
	require.NoError(t, d.control("tcp4", "127.0.0.1:80", nil))
	require.ErrorIs(t, d.control("tcp4", "127.0.0.2:80", nil), ErrForbiddenAddress)
	require.ErrorIs(t, d.control("tcp6", "[::1]:80", nil), ErrForbiddenAddress)
	require.ErrorIs(t, d.control("tcp6", "[::ffff:10.0.0.1]:80", nil), ErrForbiddenAddress)
	require.Error(t, d.control("tcp", "garbage", nil))
}

func TestResolveOverrides(t *testing.T) {
	t.Parallel()
	one := serveOn(t, "127.0.0.1", named("one"))
	two := serveOn(t, "127.0.0.2", named("two"))
	three := serveOn(t, "127.0.0.3", named("three"))
	ports := strings.NewReplacer("{p1}", portOf(t, one), "{p2}", portOf(t, two), "{p3}", portOf(t, three))

	full := map[string]string{
		"*":           "127.0.0.1:{p1}",
		"host.test":   "127.0.0.2",
		"host.test:9": "127.0.0.3:{p3}",
	}
	noWildcard := map[string]string{"host.test": "127.0.0.2"}
	tests := []struct {
		name    string
		resolve map[string]string
		url     string
		want    string
		wantErr bool
		// lookups are the names the resolver must have been asked for.
		lookups []string
	}{
		{name: "wildcard catches other names", resolve: full, url: "http://other.test/", want: "one"},
		{name: "wildcard catches unresolvable names", resolve: full, url: "http://nx.test:{p2}/", want: "one"},
		{name: "host beats wildcard and keeps the port", resolve: full, url: "http://host.test:{p2}/", want: "two"},
		{name: "exact host and port beats host", resolve: full, url: "http://host.test:9/", want: "three"},
		{name: "host match ignores case and trailing dot", resolve: full, url: "http://HOST.Test.:{p2}/", want: "two"},
		{name: "ip literal not remapped by wildcard", resolve: full, url: "http://127.0.0.2:{p2}/", want: "two"},
		{name: "ip literal dialled as is", resolve: full, url: "http://127.0.0.3:{p3}/", want: "three"},
		{name: "wildcard without port keeps the port", resolve: map[string]string{"*": "127.0.0.2"}, url: "http://any.test:{p2}/", want: "two"},
		{name: "unicode key matches punycode host", resolve: map[string]string{"bücher.test": "127.0.0.3:{p3}"}, url: "http://xn--bcher-kva.test/", want: "three"},
		{name: "names without override use the resolver", resolve: noWildcard, url: "http://dns.test:{p3}/", want: "three", lookups: []string{"dns.test"}},
		{name: "resolver failure is an error", resolve: noWildcard, url: "http://nx.test/", wantErr: true, lookups: []string{"nx.test"}},
		{name: "override skips the resolver", resolve: noWildcard, url: "http://host.test:{p2}/", want: "two", lookups: []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resolver := newFakeResolver(map[string][]string{"dns.test": {"127.0.0.3"}})
			resolve := map[string]string{}
			for k, v := range tc.resolve {
				resolve[k] = ports.Replace(v)
			}
			c := newClient(t, Options{AllowNets: loopback, Resolve: resolve, Resolver: resolver})
			_, body, err := get(context.Background(), c, ports.Replace(tc.url))
			if tc.wantErr {
				require.Error(t, err)
			} else {
				require.NoError(t, err)
				require.Equal(t, tc.want, body)
			}
			if tc.lookups != nil {
				require.ElementsMatch(t, tc.lookups, resolver.calls())
			}
		})
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts Options
	}{
		{name: "resolve key is an address", opts: Options{Resolve: map[string]string{"127.0.0.1": "127.0.0.2"}}},
		{name: "resolve value is a name", opts: Options{Resolve: map[string]string{"a.test": "b.test"}}},
		{name: "resolve value port zero", opts: Options{Resolve: map[string]string{"a.test": "127.0.0.1:0"}}},
		{name: "resolve key bad port", opts: Options{Resolve: map[string]string{"a.test:http": "127.0.0.1"}}},
		{name: "invalid allowed prefix", opts: Options{AllowNets: []netip.Prefix{{}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(tc.opts)
			require.Error(t, err)
		})
	}
}

func TestParseResolve(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, key, value string
		wantErr        bool
	}{
		{in: "example.com=203.0.113.7", key: "example.com", value: "203.0.113.7"},
		{in: "Example.COM.:8443=10.0.0.1:443", key: "example.com:8443", value: "10.0.0.1:443"},
		{in: "*=127.0.0.1:8080", key: "*", value: "127.0.0.1:8080"},
		{in: "v6.example=[::1]", key: "v6.example", value: "[::1]"},
		{in: "v6.example=[::1]:8443", key: "v6.example", value: "[::1]:8443"},
		{in: "v6.example=::1", key: "v6.example", value: "[::1]"},
		{in: "mapped.example=[::ffff:127.0.0.1]:80", key: "mapped.example", value: "127.0.0.1:80"},
		{in: "bücher.example=127.0.0.1", key: "xn--bcher-kva.example", value: "127.0.0.1"},
		{in: "localhost:3000=127.0.0.1", key: "localhost:3000", value: "127.0.0.1"},
		{in: "lab_host.test=127.0.0.1", key: "lab_host.test", value: "127.0.0.1"},
		{in: "example.com", wantErr: true},
		{in: "=127.0.0.1", wantErr: true},
		{in: "example.com=", wantErr: true},
		{in: "example.com=other.example", wantErr: true},
		{in: "example.com=127.0.0.1:99999", wantErr: true},
		{in: "example.com=127.0.0.1:0", wantErr: true},
		{in: "example.com:0=127.0.0.1", wantErr: true},
		{in: "example.com:x=127.0.0.1", wantErr: true},
		{in: "*:443=127.0.0.1", wantErr: true},
		{in: "127.0.0.1=127.0.0.2", wantErr: true},
		{in: "[::1]:80=127.0.0.2", wantErr: true},
		{in: "a..b=127.0.0.1", wantErr: true},
		{in: "a b=127.0.0.1", wantErr: true},
		{in: "a/b=127.0.0.1", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			key, value, err := ParseResolve(tc.in)
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.key, key)
			require.Equal(t, tc.value, value)
			// What ParseResolve returns, New accepts.
			_, err = New(Options{Resolve: map[string]string{key: value}})
			require.NoError(t, err)
		})
	}
}

func TestRedirects(t *testing.T) {
	t.Parallel()
	var twoHits, loopHits atomic.Int64
	two := serveOn(t, "127.0.0.2", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		twoHits.Add(1)
		io.WriteString(w, "two")
	}))
	p2 := portOf(t, two)

	mux := http.NewServeMux()
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		loopHits.Add(1)
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	mux.HandleFunc("/to", func(w http.ResponseWriter, r *http.Request) {
		// Location is written raw: http.Redirect would clean it up.
		w.Header().Set("Location", r.URL.Query().Get("u"))
		w.WriteHeader(http.StatusFound)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "one") })
	one := serveOn(t, "127.0.0.1", mux)

	tlsMux := http.NewServeMux()
	tlsMux.HandleFunc("/down", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, one.URL+"/", http.StatusMovedPermanently)
	})
	tlsMux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "tls") })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	secure := httptest.NewUnstartedServer(tlsMux)
	secure.Listener.Close()
	secure.Listener = ln
	secure.StartTLS()
	t.Cleanup(secure.Close)
	roots := x509.NewCertPool()
	roots.AddCert(secure.Certificate())

	to := func(u string) string { return one.URL + "/to?u=" + u }
	only1 := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	resolver := newFakeResolver(map[string][]string{"evil.test": {"127.0.0.2"}})

	tests := []struct {
		name         string
		maxRedirects int
		url          string
		want         string
		wantStatus   int
		wantErr      error
		// twoUntouched: the forbidden server must not have been reached.
		twoUntouched bool
		// loops is the number of requests /loop must have seen.
		loops int64
		// permissive: go through an HTTPClient copy whose CheckRedirect a
		// library replaced with one that allows everything; the
		// transport must still enforce the rules.
		permissive bool
	}{
		{name: "redirect to forbidden address", url: to(hostURL("127.0.0.2", p2, "/")), wantErr: ErrForbiddenAddress, twoUntouched: true},
		{name: "redirect to name of forbidden address", url: to(hostURL("evil.test", p2, "/")), wantErr: ErrForbiddenAddress, twoUntouched: true},
		{name: "redirect to mapped forbidden address", url: to(hostURL("::ffff:127.0.0.2", p2, "/")), wantErr: ErrForbiddenAddress, twoUntouched: true},
		{name: "redirect loop", maxRedirects: 3, url: one.URL + "/loop", wantErr: ErrTooManyRedirects, loops: 4},
		{name: "javascript redirect", url: to("javascript:alert(1)"), wantErr: ErrBadScheme},
		{name: "file redirect", url: to("file:///etc/passwd"), wantErr: ErrBadScheme},
		{name: "ftp redirect", url: to("ftp://example.com/"), wantErr: ErrBadScheme},
		{name: "https to http refused", url: secure.URL + "/down", wantErr: ErrBadScheme},
		{name: "http to https allowed", url: to(secure.URL + "/"), want: "tls"},
		{name: "relative redirect followed", url: to("/final"), want: "one"},
		{name: "chain within the limit", maxRedirects: 2, url: to(to(one.URL + "/")), want: "one"},
		{name: "chain over the limit", maxRedirects: 1, url: to(to(one.URL + "/")), wantErr: ErrTooManyRedirects},
		{name: "no redirects returns the redirect", maxRedirects: -1, url: to(one.URL + "/"), wantStatus: http.StatusFound},
		{name: "file url refused", url: "file:///etc/passwd", wantErr: ErrBadScheme},
		{name: "replaced CheckRedirect: loop", permissive: true, maxRedirects: 3, url: one.URL + "/loop", wantErr: ErrTooManyRedirects, loops: 4},
		{name: "replaced CheckRedirect: https to http", permissive: true, url: secure.URL + "/down", wantErr: ErrBadScheme},
		{name: "replaced CheckRedirect: javascript", permissive: true, url: to("javascript:alert(1)"), wantErr: ErrBadScheme},
		{name: "replaced CheckRedirect: forbidden address", permissive: true, url: to(hostURL("127.0.0.2", p2, "/")), wantErr: ErrForbiddenAddress, twoUntouched: true},
		{name: "replaced CheckRedirect: chain within the limit", permissive: true, maxRedirects: 2, url: to(to(one.URL + "/")), want: "one"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Not parallel: the hit counters are shared.
			before, loopsBefore := twoHits.Load(), loopHits.Load()
			c := newClient(t, Options{AllowNets: only1, RootCAs: roots, MaxRedirects: tc.maxRedirects, Resolver: resolver})
			var d doer = c
			if tc.permissive {
				hc := c.HTTPClient()
				hc.CheckRedirect = func(*http.Request, []*http.Request) error { return nil }
				d = hc
			}
			resp, body, err := get(context.Background(), d, tc.url)
			switch {
			case tc.wantErr != nil:
				require.ErrorIs(t, err, tc.wantErr)
			case tc.wantStatus != 0:
				require.NoError(t, err)
				require.Equal(t, tc.wantStatus, resp.StatusCode)
			default:
				require.NoError(t, err)
				require.Equal(t, tc.want, body)
			}
			if tc.twoUntouched {
				require.Equal(t, before, twoHits.Load())
			}
			if tc.loops != 0 {
				require.Equal(t, tc.loops, loopHits.Load()-loopsBefore)
			}
		})
	}
}

func TestRequestHeaders(t *testing.T) {
	t.Parallel()
	echo := serveOn(t, "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Header.Get("User-Agent")+"|"+r.Header.Get("Accept-Encoding"))
	}))
	tests := []struct {
		name      string
		optionUA  string
		requestUA string
		want      string
	}{
		{name: "user agent set", optionUA: "fedilens/0.1 (+https://fedilens.example)", want: "fedilens/0.1 (+https://fedilens.example)|gzip"},
		{name: "caller user agent kept", optionUA: "fedilens/0.1", requestUA: "custom/1", want: "custom/1|gzip"},
		{name: "no user agent configured", want: "Go-http-client/1.1|gzip"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newClient(t, Options{AllowNets: loopback, UserAgent: tc.optionUA})
			req, err := http.NewRequest(http.MethodGet, echo.URL, nil)
			require.NoError(t, err)
			if tc.requestUA != "" {
				req.Header.Set("User-Agent", tc.requestUA)
			}
			req.Header.Set("Accept-Encoding", "br")
			resp, err := c.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.Equal(t, tc.want, string(b))
			// The caller's request is left as it was.
			require.Equal(t, "br", req.Header.Get("Accept-Encoding"))
			require.Equal(t, tc.requestUA, req.Header.Get("User-Agent"))
			require.Equal(t, req.URL.String(), resp.Request.URL.String())
		})
	}
}

func TestLoadCAFile(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	secure := httptest.NewUnstartedServer(named("tls"))
	secure.Config.ErrorLog = log.New(io.Discard, "", 0) // the untrusted case logs a handshake error
	secure.Listener.Close()
	secure.Listener = ln
	secure.StartTLS()
	t.Cleanup(secure.Close)

	dir := t.TempDir()
	good := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(good, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: secure.Certificate().Raw}), 0o600))
	junk := filepath.Join(dir, "junk.pem")
	require.NoError(t, os.WriteFile(junk, []byte("not a certificate"), 0o600))

	t.Run("without the CA the server is not trusted", func(t *testing.T) {
		t.Parallel()
		c := newClient(t, Options{AllowNets: loopback})
		_, _, err := get(context.Background(), c, secure.URL)
		var uerr x509.UnknownAuthorityError
		require.ErrorAs(t, err, &uerr)
	})
	t.Run("with the CA file it is", func(t *testing.T) {
		t.Parallel()
		pool, err := LoadCAFile(good)
		require.NoError(t, err)
		c := newClient(t, Options{AllowNets: loopback, RootCAs: pool})
		_, body, err := get(context.Background(), c, secure.URL)
		require.NoError(t, err)
		require.Equal(t, "tls", body)
	})
	t.Run("file without certificates", func(t *testing.T) {
		t.Parallel()
		_, err := LoadCAFile(junk)
		require.ErrorIs(t, err, errNoCerts)
	})
	t.Run("missing file", func(t *testing.T) {
		t.Parallel()
		_, err := LoadCAFile(filepath.Join(dir, "missing.pem"))
		require.ErrorIs(t, err, os.ErrNotExist)
	})
}

func TestContextCancel(t *testing.T) {
	t.Parallel()
	hang := serveOn(t, "127.0.0.1", http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	c := newClient(t, Options{AllowNets: loopback})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := get(ctx, c, hang.URL)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), 2*time.Second)
}

// TestHTTPClientCopies checks that what a library changes on the
// *http.Client it was given does not change the Client everyone else uses.
func TestHTTPClientCopies(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/hop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/", http.StatusFound)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "one") })
	srv := serveOn(t, "127.0.0.1", mux)
	c := newClient(t, Options{AllowNets: loopback, Timeout: 5 * time.Second})

	hc := c.HTTPClient()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	hc.Timeout = time.Nanosecond
	require.NotSame(t, hc, c.HTTPClient())

	_, body, err := get(context.Background(), c, srv.URL+"/hop")
	require.NoError(t, err)
	require.Equal(t, "one", body)
	require.Equal(t, 5*time.Second, c.HTTPClient().Timeout)
}

func TestRedirectPolicy(t *testing.T) {
	t.Parallel()
	var twoHits atomic.Int64
	two := serveOn(t, "127.0.0.2", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		twoHits.Add(1)
		io.WriteString(w, "two")
	}))
	mux := http.NewServeMux()
	mux.HandleFunc("/to", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", r.URL.Query().Get("u"))
		w.WriteHeader(http.StatusFound)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "one") })
	one := serveOn(t, "127.0.0.1", mux)
	c, err := New(Options{AllowNets: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	require.NoError(t, err)

	errOff := errors.New("off site")
	sameHost := func(from, to *url.URL) error {
		if from.Hostname() != to.Hostname() {
			return errOff
		}
		return nil
	}
	get := func(ctx context.Context, target string) (string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, one.URL+"/to?u="+url.QueryEscape(target), nil)
		require.NoError(t, err)
		resp, err := c.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	ctx := WithRedirectPolicy(context.Background(), sameHost)

	body, err := get(ctx, one.URL+"/")
	require.NoError(t, err)
	require.Equal(t, "one", body, "a redirect on the same host is followed")

	_, err = get(ctx, two.URL+"/")
	require.ErrorIs(t, err, errOff)
	require.Zero(t, twoHits.Load(), "the refused hop is never dialled")

	body, err = get(context.Background(), two.URL+"/")
	require.NoError(t, err, "without a policy the client's own rules apply")
	require.Equal(t, "two", body)
}

// TestHTTP1Only: even against a server that offers HTTP/2, the client
// speaks HTTP/1.1, whose idle connections MaxIdleConns bounds (HTTP/2's
// pool is not bounded by it and ran a 20,000-host crawl out of file
// descriptors).
func TestHTTP1Only(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Proto)
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	c, err := New(Options{AllowNets: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, RootCAs: pool})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, 1, resp.ProtoMajor)
	require.Equal(t, "HTTP/1.1", string(body))
}
