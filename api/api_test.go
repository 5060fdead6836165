package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/stats"
	"github.com/fedilens/fedilens/internal/store"
)

// newServer mounts an API over the fakes on a fresh mux.
func newServer(t *testing.T, store *fakeStore, search *fakeSearch, opts Options) *httptest.Server {
	t.Helper()
	opts.Store = store
	if search != nil {
		opts.Search = search
	}
	mux := http.NewServeMux()
	New(opts).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, srv *httptest.Server, path string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL+path, nil)
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, body
}

func TestEndpoints(t *testing.T) {
	for _, tc := range []struct {
		name   string
		path   string
		status int
		// want is compared with require.JSONEq: the exact public format.
		want string
	}{
		{
			name: "instances list", path: "/api/v1/instances?limit=2", status: 200,
			want: `{"instances":[
			  {"host":"social.example","crawled_at":"2026-11-03T12:30:00Z","software":"mastodon","version":"4.3.2",
			   "nodeinfo_version":"2.0","title":"Social Example","open_registrations":true,"private":false,
			   "protocols":["activitypub"],"users_total":1200,"users_active_month":300,"users_active_halfyear":null,
			   "local_posts":45000,"flags":[],"suspect":false,"first_seen":"2026-10-01T08:00:00Z","snapshots":2,
			   "peer_count":null,"block_count":null},
			  {"host":"quiet.example","crawled_at":"2026-11-03T12:30:00Z","software":"gotosocial","version":"0.17.0",
			   "nodeinfo_version":"2.0","title":"Quiet","open_registrations":false,"private":false,
			   "protocols":[],"users_total":3,"users_active_month":null,"users_active_halfyear":null,
			   "local_posts":null,"flags":[],"suspect":false,"first_seen":"2026-10-01T08:00:00Z","snapshots":1,
			   "peer_count":null,"block_count":null}],
			  "next_cursor":"c2"}`,
		},
		{
			name: "instance detail", path: "/api/v1/instances/Social.Example.", status: 200,
			want: `{"instance":{"host":"social.example","crawled_at":"2026-11-03T12:30:00Z","software":"mastodon",
			   "version":"4.3.2","nodeinfo_version":"2.0","title":"Social Example","open_registrations":true,
			   "private":false,"protocols":["activitypub"],"users_total":1200,"users_active_month":300,
			   "users_active_halfyear":null,"local_posts":45000,"flags":[],"suspect":false,"first_seen":"2026-10-01T08:00:00Z","snapshots":2,
			   "peer_count":2,"block_count":0},
			 "history":[
			  {"host":"social.example","crawled_at":"2026-10-01T08:00:00Z","software":"mastodon","version":"4.3.1",
			   "nodeinfo_version":"2.0","title":"Social Example","open_registrations":true,"private":false,
			   "protocols":["activitypub"],"users_total":1100,"users_active_month":300,"users_active_halfyear":null,"local_posts":45000,
			   "flags":[],"suspect":false},
			  {"host":"social.example","crawled_at":"2026-11-03T12:30:00Z","software":"mastodon","version":"4.3.2",
			   "nodeinfo_version":"2.0","title":"Social Example","open_registrations":true,"private":false,
			   "protocols":["activitypub"],"users_total":1200,"users_active_month":300,"users_active_halfyear":null,"local_posts":45000,
			   "flags":[],"suspect":false}],
			 "peers":["a.example","quiet.example"]}`,
		},
		{
			name: "instance without peers or history", path: "/api/v1/instances/quiet.example", status: 200,
			want: `{"instance":{"host":"quiet.example","crawled_at":"2026-11-03T12:30:00Z","software":"gotosocial",
			   "version":"0.17.0","nodeinfo_version":"2.0","title":"Quiet","open_registrations":false,"private":false,
			   "protocols":[],"users_total":3,"users_active_month":null,"users_active_halfyear":null,"local_posts":null,
			   "flags":[],"suspect":false,"first_seen":"2026-10-01T08:00:00Z","snapshots":1,
			   "peer_count":null,"block_count":null},"history":[],"peers":[]}`,
		},
		{
			name: "unknown instance", path: "/api/v1/instances/nowhere.example", status: 404,
			want: `{"error":{"code":"not_found","message":"unknown instance"}}`,
		},
		{
			name: "invalid host", path: "/api/v1/instances/a%20b", status: 400,
			want: `{"error":{"code":"bad_request","message":"invalid host"}}`,
		},
		{
			name: "host with an encoded slash", path: "/api/v1/instances/a%2Fb", status: 400,
			want: `{"error":{"code":"bad_request","message":"invalid host"}}`,
		},
		{
			name: "search", path: "/api/v1/search?q=ducks", status: 200,
			want: `{"total":1,"hits":[{"uri":"https://social.example/users/ann/statuses/1",
			  "url":"https://social.example/@ann/1","host":"social.example","author":"ann@social.example",
			  "created":"2026-11-02T12:00:00Z","snippet":"about <mark>ducks</mark>","score":1.5}],"next_cursor":"s2"}`,
		},
		{
			name: "search without q", path: "/api/v1/search?q=%20", status: 400,
			want: `{"error":{"code":"bad_request","message":"q or a filter (instance, lang, tag, from, since, until) is required"}}`,
		},
		{
			name: "search with a bad query shows the index's message", path: "/api/v1/search?q=bad(", status: 400,
			want: `{"error":{"code":"bad_request","message":"search posts: parse query: unbalanced parenthesis at 4: bad query"}}`,
		},
		{
			name: "search with a huge q", path: "/api/v1/search?q=" + strings.Repeat("a", maxQueryLen+1), status: 400,
			want: `{"error":{"code":"bad_request","message":"q is longer than 1024 bytes"}}`,
		},
		{
			name: "search with a non-numeric limit", path: "/api/v1/search?q=x&limit=ten", status: 400,
			want: `{"error":{"code":"bad_request","message":"limit must be a positive integer"}}`,
		},
		{
			name: "instances with a non-numeric limit", path: "/api/v1/instances?limit=1e3", status: 400,
			want: `{"error":{"code":"bad_request","message":"limit must be a positive integer"}}`,
		},
		{
			name: "instances with a zero limit", path: "/api/v1/instances?limit=0", status: 400,
			want: `{"error":{"code":"bad_request","message":"limit must be a positive integer"}}`,
		},
		{
			name: "instances with an unknown sort", path: "/api/v1/instances?sort=title", status: 400,
			want: `{"error":{"code":"bad_request","message":"sort must be one of users, active, posts, peers, first_seen, host"}}`,
		},
		{
			name: "instances with an unknown order", path: "/api/v1/instances?sort=host&order=up", status: 400,
			want: `{"error":{"code":"bad_request","message":"order must be asc or desc"}}`,
		},
		{
			name: "instances with unknown registrations", path: "/api/v1/instances?registrations=maybe", status: 400,
			want: `{"error":{"code":"bad_request","message":"registrations must be open or closed"}}`,
		},
		{
			name: "instances with a long q", path: "/api/v1/instances?q=" + strings.Repeat("a", model.MaxInstanceText+1), status: 400,
			want: `{"error":{"code":"bad_request","message":"q is longer than 100 bytes"}}`,
		},
		{
			name: "instances with a malformed software", path: "/api/v1/instances?software=%3Cb%3E", status: 400,
			want: `{"error":{"code":"bad_request","message":"bad statistics query: software must be a program's NodeInfo name (letters, digits, '-', '_', '.')"}}`,
		},
		{
			name: "instances with a malformed include_flagged", path: "/api/v1/instances?include_flagged=yes", status: 400,
			want: `{"error":{"code":"bad_request","message":"bad statistics query: include_flagged must be true or false"}}`,
		},
		{
			name: "instances with contradicting flagged filters", path: "/api/v1/instances?flagged=only&include_flagged=false", status: 400,
			want: `{"error":{"code":"bad_request","message":"flagged=only contradicts include_flagged=false"}}`,
		},
		{
			name: "instances with a cursor the store rejects", path: "/api/v1/instances?cursor=bogus", status: 400,
			want: `{"error":{"code":"bad_request","message":"list instances: decode cursor \"bogus\": bad query"}}`,
		},
		{
			name: "instances with an oversized cursor", path: "/api/v1/instances?cursor=" + strings.Repeat("c", maxCursorLen+1), status: 400,
			want: `{"error":{"code":"bad_request","message":"cursor is longer than 1024 bytes"}}`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store, search := newFakes()
			srv := newServer(t, store, search, Options{})
			resp, body := get(t, srv, tc.path, nil)
			require.Equal(t, tc.status, resp.StatusCode, "body: %s", body)
			require.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
			require.JSONEq(t, tc.want, string(body))
		})
	}
}

func TestEmptyResultsAreArraysNotNull(t *testing.T) {
	store, search := &fakeStore{}, &fakeSearch{}
	srv := newServer(t, store, search, Options{})
	for path, want := range map[string]string{
		"/api/v1/instances":                  `{"instances":[]}`,
		"/api/v1/search?q=nothing":           `{"total":0,"hits":[]}`,
		"/api/v1/instances/unknown.example.": `{"error":{"code":"not_found","message":"unknown instance"}}`,
	} {
		t.Run(path, func(t *testing.T) {
			_, body := get(t, srv, path, nil)
			require.JSONEq(t, want, string(body))
		})
	}
}

func TestQueryParameters(t *testing.T) {
	for _, tc := range []struct {
		name string
		path string
		want model.InstanceListQuery
	}{
		{"defaults", "/api/v1/instances", model.InstanceListQuery{Limit: 50}},
		{"limit capped at 1000", "/api/v1/instances?limit=5000&sort=host", model.InstanceListQuery{Limit: 1000, Sort: "host"}},
		{"software lower-cased and trimmed", "/api/v1/instances?software=%20Mastodon%20&cursor=abc&limit=7",
			model.InstanceListQuery{Software: []string{"mastodon"}, Limit: 7, Cursor: "abc"}},
		{"every filter", "/api/v1/instances?software=lemmy,Misskey&software=lemmy&language=PT-br&registrations=closed" +
			"&q=%20Duck%20Pond%20&sort=first_seen&order=asc&flagged=exclude&from=2026-01-01",
			model.InstanceListQuery{Software: []string{"lemmy", "misskey"}, Language: "pt-br", Registrations: "closed",
				Text: "Duck Pond", Sort: "first_seen", Order: "asc", Flagged: "exclude", Limit: 50}},
		{"include_flagged=false leaves them out", "/api/v1/instances?include_flagged=false",
			model.InstanceListQuery{Flagged: "exclude", Limit: 50}},
		{"include_flagged=true lists them", "/api/v1/instances?include_flagged=true",
			model.InstanceListQuery{Flagged: "include", Limit: 50}},
		{"flagged=only agrees with include_flagged=true", "/api/v1/instances?include_flagged=1&flagged=only",
			model.InstanceListQuery{Flagged: "only", Limit: 50}},
		{"flagged=exclude agrees with include_flagged=false", "/api/v1/instances?include_flagged=false&flagged=exclude",
			model.InstanceListQuery{Flagged: "exclude", Limit: 50}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store, _ := newFakes()
			srv := newServer(t, store, nil, Options{})
			resp, _ := get(t, srv, tc.path, nil)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			store.mu.Lock()
			defer store.mu.Unlock()
			require.Equal(t, tc.want, store.lastQuery)
		})
	}

	for _, tc := range []struct {
		name string
		path string
		want model.SearchQuery
	}{
		{"search defaults", "/api/v1/search?q=ducks", model.SearchQuery{Q: "ducks", Limit: 20}},
		{"search limit capped at 100", "/api/v1/search?q=ducks&limit=101&cursor=s2", model.SearchQuery{Q: "ducks", Limit: 100, Cursor: "s2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store, search := newFakes()
			srv := newServer(t, store, search, Options{})
			resp, _ := get(t, srv, tc.path, nil)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			search.mu.Lock()
			defer search.mu.Unlock()
			require.Equal(t, tc.want, search.last)
		})
	}
}

func TestHeaders(t *testing.T) {
	store, search := newFakes()
	srv := newServer(t, store, search, Options{Version: "v1.2.3"})
	for _, tc := range []struct {
		name         string
		path         string
		status       int
		cacheControl string
	}{
		{"success is cacheable", "/api/v1/instances", 200, "public, max-age=60"},
		{"errors are not cached", "/api/v1/instances/nowhere.example", 404, "no-store"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := get(t, srv, tc.path, nil)
			require.Equal(t, tc.status, resp.StatusCode)
			require.Equal(t, tc.cacheControl, resp.Header.Get("Cache-Control"))
			require.Equal(t, "*", resp.Header.Get("Access-Control-Allow-Origin"))
			require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
			require.Equal(t, "v1.2.3", resp.Header.Get("X-Fedilens-Version"))
		})
	}

	t.Run("other methods are refused", func(t *testing.T) {
		resp, err := srv.Client().Post(srv.URL+"/api/v1/stats/summary", "application/json", strings.NewReader("{}"))
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	})
}

func TestETag(t *testing.T) {
	store, search := newFakes()
	srv := newServer(t, store, search, Options{})
	resp, body := get(t, srv, "/api/v1/instances", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	etag := resp.Header.Get("ETag")
	require.Regexp(t, `^"[0-9a-f]{32}"$`, etag)

	for _, tc := range []struct {
		name        string
		ifNoneMatch string
		status      int
	}{
		{"same tag", etag, http.StatusNotModified},
		{"weak form of the same tag", "W/" + etag, http.StatusNotModified},
		{"tag in a list", `"other", ` + etag, http.StatusNotModified},
		{"wildcard", "*", http.StatusNotModified},
		{"other tag", `"0123"`, http.StatusOK},
		{"unquoted tag does not match", strings.Trim(etag, `"`), http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, got := get(t, srv, "/api/v1/instances", http.Header{"If-None-Match": {tc.ifNoneMatch}})
			require.Equal(t, tc.status, resp.StatusCode)
			require.Equal(t, etag, resp.Header.Get("ETag"))
			if tc.status == http.StatusNotModified {
				require.Empty(t, got)
				require.Equal(t, "public, max-age=60", resp.Header.Get("Cache-Control"))
			} else {
				require.Equal(t, body, got)
			}
		})
	}

	t.Run("changed data changes the tag", func(t *testing.T) {
		store.mu.Lock()
		store.page.Instances = store.page.Instances[:1]
		store.mu.Unlock()
		resp, _ := get(t, srv, "/api/v1/instances", http.Header{"If-None-Match": {etag}})
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.NotEqual(t, etag, resp.Header.Get("ETag"))
	})
}

func TestInternalErrorsDoNotLeak(t *testing.T) {
	const secret = "dial tcp 10.1.2.3:9000: password=hunter2"
	for _, path := range []string{
		"/api/v1/instances",
		"/api/v1/instances/social.example",
		"/api/v1/search?q=ducks",
		"/api/v1/stats/summary",
		"/api/v1/stats/software",
		"/api/v1/stats/instances-over-time",
		"/api/v1/stats/totals",
		"/api/v1/stats/versions/mastodon/over-time",
		"/api/v1/stats/sizes",
		"/api/v1/instances/social.example/history",
	} {
		t.Run(path, func(t *testing.T) {
			store, search := newFakes()
			store.err = errors.New(secret)
			search.err = fmt.Errorf("search shard 3: %w", errors.New(secret))
			var logs bytes.Buffer
			srv := newServer(t, store, search, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)),
				Stats: stats.New(failingSource{errors.New(secret)}, stats.Options{})})

			resp, body := get(t, srv, path, nil)
			require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
			require.JSONEq(t, `{"error":{"code":"internal","message":"internal error"}}`, string(body))
			require.NotContains(t, string(body), "hunter2")
			require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
			require.Empty(t, resp.Header.Get("ETag"))
			require.Contains(t, logs.String(), "hunter2", "the detail must reach the log")
		})
	}
}

func TestPeersErrorIsInternal(t *testing.T) {
	store, _ := newFakes()
	srv := newServerWith(t, &peersFailing{fakeStore: store})
	resp, body := get(t, srv, "/api/v1/instances/social.example", nil)
	require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	require.NotContains(t, string(body), "peers table")
}

// failingSource is a statistics source whose every query fails, to check
// that an internal error stays internal.
type failingSource struct{ err error }

func (f failingSource) DayRows(context.Context, store.DayFilter, ...string) (store.DayRows, error) {
	return store.DayRows{}, f.err
}

func (f failingSource) ReadQuery(context.Context, string, ...any) (driver.Rows, error) {
	return nil, f.err
}

func (f failingSource) DayGroups(context.Context, store.GroupQuery) (store.AggRows, error) {
	return store.AggRows{}, f.err
}

func (f failingSource) HostRuns(context.Context, store.DayFilter, store.AggSource) (store.AggRows, error) {
	return store.AggRows{}, f.err
}

// peersFailing fails only Peers, after Instance succeeded.
type peersFailing struct{ *fakeStore }

func (p *peersFailing) Peers(context.Context, string) ([]string, error) {
	return nil, errors.New("peers table is gone")
}

func TestNotFoundIsJSON(t *testing.T) {
	store, _ := newFakes()
	srv := newServer(t, store, nil, Options{}) // no search index
	for path, want := range map[string]string{
		"/api/v1/search?q=ducks": `{"error":{"code":"not_found","message":"search is not enabled on this server"}}`,
		"/api/v1/nothing":        `{"error":{"code":"not_found","message":"unknown endpoint"}}`,
		"/api/v1/instances/a/b":  `{"error":{"code":"not_found","message":"unknown endpoint"}}`,
		"/api/v1/stats/totals":   `{"error":{"code":"not_found","message":"statistics are not available on this server"}}`,
		"/api/v1/stats/summary":  `{"error":{"code":"not_found","message":"statistics are not available on this server"}}`,
	} {
		t.Run(path, func(t *testing.T) {
			resp, body := get(t, srv, path, nil)
			require.Equal(t, http.StatusNotFound, resp.StatusCode)
			require.JSONEq(t, want, string(body))
		})
	}
}

func TestMetrics(t *testing.T) {
	store, search := newFakes()
	reg := prometheus.NewPedanticRegistry()
	srv := newServer(t, store, search, Options{Registerer: reg})
	get(t, srv, "/api/v1/instances", nil)
	get(t, srv, "/api/v1/instances?limit=1", nil)
	get(t, srv, "/api/v1/instances/nowhere.example", nil)
	get(t, srv, "/api/v1/instances/social.example", nil)

	a := New(Options{Store: store, Registerer: reg}) // a second API shares the series
	for _, tc := range []struct {
		route string
		code  string
		want  float64
	}{
		{RouteInstances, "200", 2},
		{RouteInstance, "404", 1},
		{RouteInstance, "200", 1},
		{RouteSoftware, "200", 0},
	} {
		t.Run(tc.route+" "+tc.code, func(t *testing.T) {
			require.InDelta(t, tc.want, testutil.ToFloat64(a.metrics.requests.WithLabelValues(tc.route, tc.code)), 0)
		})
	}
	require.Equal(t, 2, testutil.CollectAndCount(a.metrics.duration), "one histogram per route seen")
	problems, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	require.Empty(t, problems)
}

// newServer takes a *fakeStore; this variant accepts any Store for the
// tests that override one method.
func newServerWith(t *testing.T, store Store) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	New(Options{Store: store}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestNormaliseHost(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"Example.ORG.", "example.org", true},
		{"example.org:8443", "example.org:8443", true},
		{"[2001:db8::1]:443", "[2001:db8::1]:443", true},
		{"bücher.example", "bücher.example", true},
		{"", "", false},
		{".", "", false},
		{"a/b", "", false},
		{"a b", "", false},
		{"evil.example\r\nX: y", "", false},
		{"<script>", "", false},
		{strings.Repeat("a", maxHostLen+1), "", false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := normaliseHost(tc.in)
			if !tc.ok {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestTruncate(t *testing.T) {
	require.Equal(t, "abc", truncate("abc", 3))
	require.Equal(t, "ab…", truncate("abc", 2))
	// "é" is two bytes: cutting after one byte must drop the whole rune.
	require.Equal(t, "a…", truncate("aé", 2))
}
