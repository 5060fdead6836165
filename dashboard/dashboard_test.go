package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"
)

const (
	testUserAgent = "fedilens/1.0 (+https://census.example/about)"
	testContact   = "census-admin@census.example"
)

// newTestServer serves a dashboard over the fakes. assets nil means the
// embedded assets (with echarts.min.js, which the tests require).
func newTestServer(t *testing.T, store *fakeStore, search *fakeSearch, assets fs.FS, logs io.Writer) *httptest.Server {
	t.Helper()
	if assets == nil {
		assets = embeddedAssets()
		_, err := fs.Stat(assets, echartsFile)
		require.NoError(t, err, "dashboard/assets/echarts.min.js is missing: run dashboard/assets/install.sh")
	}
	if logs == nil {
		logs = io.Discard
	}
	opts := Options{
		Store: store, Logger: slog.New(slog.NewTextHandler(logs, nil)),
		Version: "v9.8.7", Contact: testContact, UserAgent: testUserAgent,
	}
	if search != nil {
		opts.Search = search
	}
	d, err := newDashboard(opts, assets)
	require.NoError(t, err)
	mux := http.NewServeMux()
	d.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, srv *httptest.Server, path string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL+path, nil)
	require.NoError(t, err)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

func TestPages(t *testing.T) {
	for _, tc := range []struct {
		name     string
		path     string
		status   int
		contains []string
		absent   []string
	}{
		{
			name: "instance", path: "/instances/social.example", status: 200,
			contains: []string{
				"<h1>Social Example</h1>", `<dd id="fig-users">1,234,567</dd>`, `<dd id="fig-active-month">34,567</dd>`,
				"<dd>mastodon 4.3.2</dd>", "<dd>activitypub</dd>", "<dd>2026-10-03 12:30 UTC</dd>",
				"2 snapshots, newest first",
				`<tr><td>2026-11-03 12:30 UTC</td><td>4.3.2</td><td class="n">1,234,567</td><td class="n">34,567</td>`,
				`<tr><td>2026-10-27 12:30 UTC</td><td>4.3.2</td><td class="n">1,200,000</td><td class="n">unknown</td>`,
				"Peers (4)", `<a href="/instances/a.example">a.example</a>`,
				`<a href="/instances/quiet.example">quiet.example</a>`,
				// hostile peers are text, never links
				"<li>javascript:alert(1)</li>", "<li>&lt;b&gt;bold&lt;/b&gt;.example</li>",
				`href="/api/v1/instances/social.example"`,
				`<a href="https://social.example/" rel="nofollow noopener noreferrer" class="external">`,
			},
			// without Options.Stats there are no daily charts, only snapshots
			absent: []string{"<b>bold</b>", `href="javascript`, "Showing the first", "data-echarts-option", `id="history-h"`},
		},
		{
			name: "instance host is normalised", path: "/instances/SOCIAL.Example.", status: 200,
			contains: []string{"<h1>Social Example</h1>"},
		},
		{
			name: "instance without history or peers", path: "/instances/quiet.example", status: 200,
			contains: []string{"<h1>Quiet</h1>", "No snapshots kept.", "This instance publishes no peer list.", "<details open>"},
			absent:   []string{"data-echarts-option"},
		},
		{
			name: "unknown instance", path: "/instances/nowhere.example", status: 404,
			contains: []string{"<h1>Not Found</h1>", "fedilens knows no instance by that name."},
		},
		{
			name: "impossible host", path: "/instances/a%20b", status: 404,
			contains: []string{"<h1>Not Found</h1>"},
		},
		{
			name: "search form", path: "/search", status: 200,
			contains: []string{`<form method="get" action="/search"`, `name="q"`},
			absent:   []string{"result-count", "<script"},
		},
		{
			name: "search results", path: "/search?q=ducks", status: 200,
			contains: []string{
				`value="ducks"`, `<p class="count" id="result-count">3 results</p>`,
				"<span class=\"author\">Ann &lt;3</span>", `<summary class="cw">Content warning: birds</summary>`,
				`<p class="snippet">about <mark>ducks</mark> &amp; geese</p>`,
				`<a href="https://social.example/@ann/1" rel="nofollow noopener noreferrer ugc" class="external">Original post</a>`,
				`<a href="https://quiet.example/notes/9"`,
				`<a href="/instances/social.example">social.example</a>`,
				// a snippet with other markup is shown as text
				`<p class="snippet">&lt;mark&gt;ducks&lt;/mark&gt;&lt;img src=x onerror=alert(3)&gt;</p>`,
				`<time datetime="2026-11-03T12:30:00Z">2026-11-03 12:30 UTC</time>`,
				`href="/search?cursor=next%26page%3D2&amp;q=ducks" rel="next"`,
			},
			absent: []string{"javascript:alert", "<img", "<script"},
		},
		{
			name: "search with a bad query", path: "/search?q=bad(", status: 400,
			contains: []string{`<p class="error" role="alert">parse query: unbalanced parenthesis at 4: bad query</p>`, `value="bad("`},
		},
		{
			name: "search with an oversized query", path: "/search?q=" + strings.Repeat("x", maxQueryLen+1), status: 400,
			contains: []string{"The query is longer than 1024 bytes."},
		},
		{
			name: "about", path: "/about", status: 200,
			contains: []string{
				"NodeInfo", "Peer lists", "<code>indexable</code>", "<code>noindex</code>", "<code>#nobot</code>",
				"<code>#noindex</code>", "<code>#nosearch</code>", "robots.txt",
				"<pre>User-agent: fedilens\nDisallow: /</pre>",
				`<pre id="user-agent">fedilens/1.0 (&#43;https://census.example/about)</pre>`,
				`<span class="mono" id="contact">census-admin@census.example</span>`,
			},
			absent: []string{"<script"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store, search := newFakes()
			srv := newTestServer(t, store, search, nil, nil)
			resp, body := get(t, srv, tc.path)
			require.Equal(t, tc.status, resp.StatusCode)
			require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
			for _, want := range tc.contains {
				require.Contains(t, body, want)
			}
			for _, unwanted := range tc.absent {
				require.NotContains(t, body, unwanted)
			}
		})
	}
}

func TestSecurityHeaders(t *testing.T) {
	store, search := newFakes()
	srv := newTestServer(t, store, search, nil, nil)
	for _, path := range []string{"/", "/instances/social.example", "/instances/nowhere.example", "/search?q=ducks", "/about", "/assets/style.css"} {
		t.Run(path, func(t *testing.T) {
			resp, _ := get(t, srv, path)
			require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
			require.Equal(t, "no-referrer", resp.Header.Get("Referrer-Policy"))
			csp := resp.Header.Get("Content-Security-Policy")
			require.Contains(t, csp, "default-src 'self'")
			require.Contains(t, csp, "script-src 'self';", "no inline script, no other origin")
			require.Contains(t, csp, "frame-ancestors 'none'")
			require.NotRegexp(t, `https?:`, csp)
		})
	}
}

// chartOptions returns every chart's echarts option on a page, decoded
// the way the browser decodes it (HTML attribute, then JSON).
func chartOptions(t *testing.T, page string) map[string]map[string]any {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	require.NoError(t, err)
	out := map[string]map[string]any{}
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		var id, option string
		for _, a := range n.Attr {
			switch a.Key {
			case "data-echarts-for":
				id = a.Val
			case "data-echarts-option":
				option = a.Val
			}
		}
		if option == "" {
			continue
		}
		var decoded map[string]any
		require.NoError(t, json.Unmarshal([]byte(option), &decoded), "chart %s", id)
		out[id] = decoded
	}
	return out
}

// absoluteURL finds http(s) URLs and protocol-relative ones in a page.
var absoluteURL = regexp.MustCompile(`(?i)(https?:)?//[^\s"'<>&()]+`)

func TestNoThirdPartyURLs(t *testing.T) {
	store, search := newFakes()
	srv := newTestServer(t, store, search, nil, nil)
	for _, tc := range []struct {
		path string
		// allowed are the only absolute URLs the page may contain: links
		// built from remote data (https/http only), shown as href and text,
		// and the operator's own User-Agent text.
		allowed []string
	}{
		{path: "/"},
		{path: "/instances/social.example", allowed: []string{"https://social.example/"}},
		{path: "/instances/evil.example", allowed: []string{"https://evil.example/"}},
		{path: "/instances/nowhere.example"},
		{path: "/search"},
		{path: "/search?q=ducks", allowed: []string{"https://social.example/@ann/1", "https://quiet.example/notes/9"}},
		{path: "/about", allowed: []string{"https://census.example/about"}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			_, body := get(t, srv, tc.path)
			require.NotContains(t, body, "go-echarts.github.io", "no CDN")
			for _, u := range absoluteURL.FindAllString(body, -1) {
				require.Contains(t, tc.allowed, u, "unexpected absolute URL")
			}
			// Resources (src, stylesheets) are always local.
			doc, err := html.Parse(strings.NewReader(body))
			require.NoError(t, err)
			for n := range doc.Descendants() {
				for _, a := range n.Attr {
					switch a.Key {
					case "src", "action", "srcset", "poster", "data", "formaction":
						require.True(t, strings.HasPrefix(a.Val, "/") && !strings.HasPrefix(a.Val, "//"), "%s=%q", a.Key, a.Val)
					case "href":
						if n.Data == "link" {
							// Besides assets, the OpenSearch description and
							// the search's feed: same-origin, not loaded.
							require.True(t, strings.HasPrefix(a.Val, "/assets/") || a.Val == "/opensearch.xml" ||
								strings.HasPrefix(a.Val, "/search.atom?"), "%s", a.Val)
						}
						require.NotRegexp(t, `(?i)^\s*(javascript|data|vbscript):`, a.Val)
					}
				}
			}
		})
	}
}

func TestAssets(t *testing.T) {
	store, search := newFakes()
	srv := newTestServer(t, store, search, nil, nil)
	for _, tc := range []struct {
		path        string
		status      int
		contentType string
		minSize     int
	}{
		{"/assets/echarts.min.js", 200, "text/javascript; charset=utf-8", 500_000},
		{"/assets/charts.js", 200, "text/javascript; charset=utf-8", 100},
		{"/assets/style.css", 200, "text/css; charset=utf-8", 100},
		{"/assets/package.json", 404, "text/plain; charset=utf-8", 0},
		{"/assets/install.sh", 404, "text/plain; charset=utf-8", 0},
		{"/assets/nothing.js", 404, "text/plain; charset=utf-8", 0},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, body := get(t, srv, tc.path)
			require.Equal(t, tc.status, resp.StatusCode)
			require.Equal(t, tc.contentType, resp.Header.Get("Content-Type"))
			require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
			require.GreaterOrEqual(t, len(body), tc.minSize)
		})
	}

	t.Run("conditional request", func(t *testing.T) {
		resp, _ := get(t, srv, "/assets/style.css")
		etag := resp.Header.Get("ETag")
		require.NotEmpty(t, etag)
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL+"/assets/style.css", nil)
		require.NoError(t, err)
		req.Header.Set("If-None-Match", etag)
		resp, err = srv.Client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusNotModified, resp.StatusCode)
	})
}

func TestAssetsMissing(t *testing.T) {
	// The assets as they are before `make assets`: no echarts.min.js.
	assets := fstest.MapFS{}
	for _, name := range []string{"style.css", "charts.js"} {
		b, err := fs.ReadFile(embeddedAssets(), name)
		require.NoError(t, err)
		assets[name] = &fstest.MapFile{Data: b}
	}
	store, search := newFakes()
	srv := newTestServer(t, store, search, assets, nil)

	resp, body := get(t, srv, "/assets/echarts.min.js")
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	require.Contains(t, body, "echarts assets missing: run make assets")

	for _, path := range []string{"/instances/social.example"} {
		t.Run(path, func(t *testing.T) {
			resp, body := get(t, srv, path)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Contains(t, body, `<p class="notice" role="alert">echarts assets missing: run make assets`)
			require.NotContains(t, body, "<script")
			require.NotContains(t, body, "data-echarts-option")
			require.Contains(t, body, "<details open>", "tables replace the charts")
		})
	}
	_, body = get(t, srv, "/about")
	require.NotContains(t, body, "echarts assets missing", "pages without charts need no notice")
}

func TestInternalErrorsDoNotLeak(t *testing.T) {
	for _, path := range []string{"/instances", "/instances/social.example", "/search?q=ducks"} {
		t.Run(path, func(t *testing.T) {
			store, search := newFakes()
			store.err = errors.New("dial tcp 10.9.8.7:9000: password=hunter2")
			search.err = store.err
			var logs bytes.Buffer
			srv := newTestServer(t, store, search, nil, &logs)
			resp, body := get(t, srv, path)
			require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
			require.Contains(t, body, "Something went wrong")
			require.NotContains(t, body, "hunter2")
			require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
			require.Contains(t, logs.String(), "hunter2")
		})
	}
}

func TestSearchDisabled(t *testing.T) {
	store, _ := newFakes()
	srv := newTestServer(t, store, nil, nil, nil)
	resp, body := get(t, srv, "/search?q=ducks")
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	require.Contains(t, body, "Search is not enabled on this server.")
}

func TestSearchPassesQuery(t *testing.T) {
	store, search := newFakes()
	srv := newTestServer(t, store, search, nil, nil)
	resp, _ := get(t, srv, "/search?q=%20ducks%20&cursor=abc")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "ducks", search.last.Q)
	require.Equal(t, "abc", search.last.Cursor)
	require.Equal(t, searchPageSize, search.last.Limit)
}

func TestManyPeers(t *testing.T) {
	store, search := newFakes()
	var peers []string
	for i := range 250 {
		peers = append(peers, "peer"+strings.Repeat("x", i%3)+string(rune('a'+i%26))+".example")
	}
	store.peers["social.example"] = peers
	srv := newTestServer(t, store, search, nil, nil)

	_, body := get(t, srv, "/instances/social.example")
	require.Contains(t, body, "Peers (250)")
	require.Equal(t, maxPeersShown, strings.Count(body, `<li><a href="/instances/peer`))
	require.Contains(t, body, "Showing the first 200. All peers:")
}

func TestNew(t *testing.T) {
	_, err := New(Options{})
	require.ErrorIs(t, err, ErrNoStore)
	store, _ := newFakes()
	d, err := New(Options{Store: store})
	require.NoError(t, err)
	require.NotNil(t, d)
}

func TestSafeSnippet(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a <mark>b</mark> c", "a <mark>b</mark> c"},
		{"x &lt;y&gt; &amp; z", "x &lt;y&gt; &amp; z"},
		{"<mark>a</mark><script>alert(1)</script>", "&lt;mark&gt;a&lt;/mark&gt;&lt;script&gt;alert(1)&lt;/script&gt;"},
		{`<mark onmouseover="x">a</mark>`, "&lt;mark onmouseover=&#34;x&#34;&gt;a&lt;/mark&gt;"},
		{"a > b", "a &gt; b"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			require.Equal(t, tc.want, string(safeSnippet(tc.in)))
		})
	}
}

func TestLinks(t *testing.T) {
	for _, tc := range []struct {
		in, remote, external, path string
	}{
		{in: "https://a.example/@x/1", remote: "https://a.example/@x/1"},
		{in: "HTTP://a.example/x", remote: "http://a.example/x"},
		{in: "javascript:alert(1)"},
		{in: " javascript:alert(1)"},
		{in: "data:text/html,<b>"},
		{in: "//evil.example/x"},
		{in: "/relative"},
		{in: "https://user:pw@a.example/"},
		{in: "a.example", external: "https://a.example/", path: "/instances/a.example"},
		{in: "a.example:8443", external: "https://a.example:8443/", path: "/instances/a.example:8443"},
		{in: "xn--bcher-kva.example", external: "https://xn--bcher-kva.example/", path: "/instances/xn--bcher-kva.example"},
		{in: "localhost"},
		{in: "a.example/path"},
		{in: "a.example@b.example"},
		{in: "-a.example"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			require.Equal(t, tc.remote, remoteLink(tc.in))
			require.Equal(t, tc.external, externalURL(tc.in))
			require.Equal(t, tc.path, instancePath(tc.in))
		})
	}
}

func TestClipAndTime(t *testing.T) {
	require.Equal(t, "héllo", clip(5, "héllo"))
	require.Equal(t, "hél…", clip(3, "héllo"), "cuts runes, not bytes")
	require.Equal(t, "never", formatTime(time.Time{}))
	require.Equal(t, "2026-11-03 11:30 UTC", formatTime(time.Date(2026, 11, 3, 12, 30, 0, 0, time.FixedZone("CET", 3600))))
}

func TestFormatNum(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string
	}{
		{0, "0"}, {999, "999"}, {1000, "1,000"}, {int64(-1234567), "-1,234,567"},
		{uint64(18446744073709551615), "18,446,744,073,709,551,615"},
	} {
		require.Equal(t, tc.want, formatNum(tc.in))
	}
}

// TestNPMPin checks what install.sh depends on: an exact echarts 5.x pin
// and a lockfile that names no registry host, so `npm ci` uses whichever
// registry the machine is configured for.
func TestNPMPin(t *testing.T) {
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	b, err := os.ReadFile("assets/package.json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &pkg))
	require.Regexp(t, `^5\.\d+\.\d+$`, pkg.Dependencies["echarts"])

	lock, err := os.ReadFile("assets/package-lock.json")
	require.NoError(t, err)
	require.NotContains(t, string(lock), `"resolved"`)
	require.NotContains(t, string(lock), "registry")
	require.NotContains(t, string(lock), "http")
	require.Contains(t, string(lock), `"node_modules/echarts": {`+"\n"+`      "version": "`+pkg.Dependencies["echarts"]+`"`)

	npmrc, err := os.ReadFile("assets/.npmrc")
	require.NoError(t, err)
	require.Contains(t, string(npmrc), "omit-lockfile-registry-resolved=true")
}
