package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/api"
	"github.com/fedilens/fedilens/dashboard"
	"github.com/fedilens/fedilens/internal/store"
)

// The ClickHouse store serves the post statistics of the API and the
// dashboard, which find them by interface.
var (
	_ api.PostStatsStore       = (*store.Store)(nil)
	_ dashboard.PostStatsStore = (*store.Store)(nil)
)

func TestPublicURLSet(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{in: "https://fedilens.example", want: "https://fedilens.example", ok: true},
		{in: "https://fedilens.example/", want: "https://fedilens.example", ok: true},
		{in: " HTTPS://Fedilens.Example:8443/ ", want: "https://fedilens.example:8443", ok: true},
		{in: "http://127.0.0.1:8080", want: "http://127.0.0.1:8080", ok: true},
		{in: "http://[::1]:8080/", want: "http://[::1]:8080", ok: true},
		{in: "", want: "", ok: true},
		{in: "fedilens.example"},
		{in: "//fedilens.example"},
		{in: "ftp://fedilens.example"},
		{in: "javascript:alert(1)"},
		{in: "https://"},
		{in: "https://:8080"},
		{in: "https://user:pw@fedilens.example"},
		{in: "https://fedilens.example/?q=1"},
		{in: "https://fedilens.example?"},
		{in: "https://fedilens.example/#top"},
		{in: "https://fedilens.example#"},
		{in: "https://fedilens.example/fedilens"},
		{in: "https://fedilens.example/\"><script>"},
		{in: "https://fedi lens.example"},
		{in: "https://fedilens.example\n", want: "https://fedilens.example", ok: true},
		{in: "https://fedi\nlens.example"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			p := publicURL{origin: "https://previous.example"}
			err := p.Set(tc.in)
			if !tc.ok {
				require.ErrorIs(t, err, errPublicURL)
				require.Equal(t, "https://previous.example", p.String(), "a rejected value changes nothing")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, p.String())
		})
	}
}

// TestPublicURLUsage: a bad --public-url, from the command line or the
// environment, is a usage error (exit 2) before anything starts, and only
// serve and run take the flag.
func TestPublicURLUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  string
		want string
	}{
		{name: "serve flag", args: []string{"serve", "--public-url", "https://fedilens.example/?q=x"}, want: "for flag -public-url: want an absolute http(s) URL"},
		{name: "run flag", args: []string{"run", "--public-url=ftp://fedilens.example"}, want: "for flag -public-url: want an absolute http(s) URL"},
		{name: "environment", args: []string{"serve"}, env: "fedilens.example", want: "FEDILENS_PUBLIC_URL: want an absolute http(s) URL"},
		{name: "not a crawl flag", args: []string{"crawl", "--once", "--public-url", "https://fedilens.example"},
			want: "flag provided but not defined: -public-url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("FEDILENS_PUBLIC_URL", tc.env)
			var stderr bytes.Buffer
			code := Main(context.Background(), tc.args, io.Discard, &stderr)
			require.Equal(t, 2, code, "stderr: %s", stderr.String())
			require.Contains(t, stderr.String(), tc.want)
		})
	}
}

// TestPublicURLReachesDashboard builds the handler as serve and run do: the
// OpenSearch description links to the public URL, whatever Host the
// request came with, and the post statistics answer from the real store.
func TestPublicURLReachesDashboard(t *testing.T) {
	ctx := context.Background()
	dsn := freshDSN(t)
	st, err := store.Open(ctx, store.Options{Addr: dsn})
	require.NoError(t, err)
	defer st.Close()
	c := &common{clickhouse: dsn, data: t.TempDir()}
	require.NoError(t, c.publicURL.Set("https://fedilens.example/"))
	ix, err := c.openIndex(discard(), nil)
	require.NoError(t, err)
	defer ix.Close()
	h, err := newHandler(c, st, ix, newRegistry(), discard())
	require.NoError(t, err)
	ts := httptest.NewServer(h)
	defer ts.Close()

	for _, tc := range []struct {
		path, want string
	}{
		{"/opensearch.xml", `template="https://fedilens.example/search?q={searchTerms}"`},
		{"/api/v1/stats/posts", `"posts":0`},
		{"/posts", `<dd id="posts-stored">0</dd>`},
	} {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+tc.path, nil)
		require.NoError(t, err)
		req.Host = "attacker.example"
		resp, err := ts.Client().Do(req)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", tc.path, body)
		require.Contains(t, string(body), tc.want, tc.path)
		require.NotContains(t, string(body), "attacker.example", tc.path)
	}
}
