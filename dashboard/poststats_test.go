package dashboard

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/model"
)

// postStatsFake adds post statistics to the fake store.
type postStatsFake struct {
	*fakeStore
	stats model.PostStats
	err   error
	last  model.PostStatsQuery
}

var _ PostStatsStore = (*postStatsFake)(nil)

func (f *postStatsFake) PostStats(_ context.Context, q model.PostStatsQuery) (model.PostStats, error) {
	f.last = q
	if f.err != nil {
		return model.PostStats{}, f.err
	}
	return f.stats, nil
}

// newPostsFake is a store with post statistics in which every remote
// string (a language, an instance host, a skip reason, an access verdict
// a future crawler might record) carries the XSS payload somewhere.
func newPostsFake() *postStatsFake {
	base, _ := newFakes()
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	return &postStatsFake{fakeStore: base, stats: model.PostStats{
		Posts:             1000,
		ConsentingAuthors: 40,
		DeclinedAuthors:   map[string]uint64{"not_indexable": 70, "opt_out_word": 5, xss: 1},
		HostsByAccess:     map[string]uint64{model.PostAccessOK: 12, model.PostAccessSignatureRequired: 3, xss: 1},
		Skipped:           map[string]uint64{"not_public": 300, "not_indexable": 2100, xss: 7},
		ByLanguage:        []model.NameCount{{Name: "en", Count: 600}, {Name: "", Count: 250}, {Name: xss, Count: 50}},
		ByInstance:        []model.NameCount{{Name: "social.example", Count: 700}, {Name: xss, Count: 200}},
		PerDay:            []model.DayCount{{Day: day, Count: 10}, {Day: day.AddDate(0, 0, 1)}, {Day: day.AddDate(0, 0, 2), Count: 1234}},
		ContentWarning:    125,
		Sensitive:         50,
		AltText:           333,
	}}
}

func newPostsServer(t *testing.T, store Store, assets fs.FS, logs io.Writer) *httptest.Server {
	t.Helper()
	if assets == nil {
		assets = embeddedAssets()
	}
	if logs == nil {
		logs = io.Discard
	}
	d, err := newDashboard(Options{Store: store, Logger: slog.New(slog.NewTextHandler(logs, nil)), Version: "v9.8.7"}, assets)
	require.NoError(t, err)
	mux := http.NewServeMux()
	d.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestPostsPage(t *testing.T) {
	fake := newPostsFake()
	srv := newPostsServer(t, fake, nil, nil)
	resp, body := get(t, srv, "/posts")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, contentSecurityPolicy, resp.Header.Get("Content-Security-Policy"))

	// The window: the 90 UTC days up to and including today, top 20.
	require.Equal(t, postsTop, fake.last.Top)
	require.Equal(t, postsDays*24*time.Hour, fake.last.To.Sub(fake.last.From))
	require.True(t, fake.last.To.After(time.Now()) && fake.last.To.Add(-24*time.Hour).Before(time.Now()))

	for _, want := range []string{
		`<a href="/posts" aria-current="page">Posts</a>`,
		"only when its author opted in to being found",
		`<dd id="posts-stored">1,000</dd>`, `<dd id="posts-consenting">40</dd>`, `<dd id="posts-declined">76</dd>`,
		`<dd id="posts-cw">125 (12.5 %)</dd>`, `<dd id="posts-sensitive">50 (5.0 %)</dd>`, `<dd id="posts-alt">333 (33.3 %)</dd>`,
		`data-echarts-for="posts-per-day"`, `data-echarts-for="posts-languages"`,
		`data-echarts-for="posts-access"`, `data-echarts-for="posts-skipped"`,
		`<tr><td>2026-11-03</td><td class="n">1,234</td></tr>`, `<tr><td>2026-11-02</td><td class="n">0</td></tr>`,
		// languages, with und and the rest
		`<td>en</td><td></td><td class="n">600</td><td class="n">60.0 %</td>`,
		`<td>und</td><td></td><td class="n">250</td>`,
		`<td>other languages</td><td></td><td class="n">100</td><td class="n">10.0 %</td>`,
		// verdicts and reasons, largest first, with their meaning
		`<td>ok</td><td>posts read</td><td class="n">12</td><td class="n">75.0 %</td>`,
		`<td>signature_required</td><td>requires signed requests (authorized fetch); skipped until fedilens signs</td><td class="n">3</td>`,
		`<td>not_indexable</td><td>the author did not opt in to being searchable</td><td class="n">2,100</td>`,
		`<td>not_indexable</td><td>the author did not opt in to being searchable</td><td class="n">70</td>`,
		// instances link to their pages; a hostile host does not
		`<a href="/instances/social.example">social.example</a>`,
		`<td>other instances</td><td></td><td class="n">100</td>`,
		`href="/api/v1/stats/posts"`,
	} {
		require.Contains(t, body, want)
	}
	// Tables come in the order of their counts.
	require.Less(t, strings.Index(body, "<td>not_indexable</td><td>the author did not opt in to being searchable</td><td class=\"n\">2,100"),
		strings.Index(body, "<td>not_public</td>"))
}

func TestPostsPageEscapesRemoteStrings(t *testing.T) {
	srv := newPostsServer(t, newPostsFake(), nil, nil)
	_, body := get(t, srv, "/posts")
	escaped := `&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;`
	require.NotContains(t, body, "<img")
	require.NotContains(t, body, "</script><")
	// In tables: language, instance, access, skip reason, declined reason.
	require.GreaterOrEqual(t, strings.Count(body, escaped), 5)
	require.Equal(t, 2, strings.Count(body, "<script"), "only the two local scripts")
	require.Equal(t, 2, strings.Count(body, "</script>"))
	for _, m := range regexp.MustCompile(`data-echarts-option="([^"]*)"`).FindAllStringSubmatch(body, -1) {
		require.NotContains(t, m[1], "<")
		require.NotContains(t, m[1], ">")
	}
	// The charts show the strings as data, intact.
	options := chartOptions(t, body)
	for _, id := range []string{"posts-languages", "posts-access", "posts-skipped"} {
		require.Contains(t, options, id)
		labels := options[id]["yAxis"].([]any)[0].(map[string]any)["data"].([]any)
		require.Contains(t, labels, xss, id)
	}
	require.Len(t, options["posts-per-day"]["xAxis"].([]any)[0].(map[string]any)["data"], 3)
}

func TestPostsPageStates(t *testing.T) {
	assetsWithoutEcharts := fstest.MapFS{}
	for _, name := range []string{"style.css", "charts.js"} {
		b, err := fs.ReadFile(embeddedAssets(), name)
		require.NoError(t, err)
		assetsWithoutEcharts[name] = &fstest.MapFile{Data: b}
	}
	base, _ := newFakes()
	for _, tc := range []struct {
		name     string
		store    Store
		assets   fs.FS
		status   int
		contains []string
		absent   []string
		logged   string
	}{
		{
			name: "store without post statistics", store: base, status: http.StatusNotFound,
			contains: []string{"Post statistics are not available on this server."},
		},
		{
			name: "store failure", status: http.StatusInternalServerError,
			store:    &postStatsFake{fakeStore: base, err: errors.New("dial tcp 10.9.8.7:9000: password=hunter2")},
			contains: []string{"Something went wrong"}, absent: []string{"hunter2"}, logged: "hunter2",
		},
		{
			name: "nothing crawled yet", status: http.StatusOK,
			store: &postStatsFake{fakeStore: base},
			contains: []string{`<dd id="posts-stored">0</dd>`, `<dd id="posts-cw">0 (0.0 %)</dd>`,
				"No posts stored yet.", "No instance&#39;s posts were crawled yet.", "Nothing was skipped.", "No author declined."},
			absent: []string{"data-echarts-option", "other languages"},
		},
		{
			name: "echarts not installed", status: http.StatusOK, store: newPostsFake(), assets: assetsWithoutEcharts,
			contains: []string{`echarts assets missing: run make assets`, `<td>en</td>`, `<tr><td>2026-11-03</td>`},
			absent:   []string{"<script", "data-echarts-option", "<details>"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			srv := newPostsServer(t, tc.store, tc.assets, &logs)
			resp, body := get(t, srv, "/posts")
			require.Equal(t, tc.status, resp.StatusCode)
			for _, want := range tc.contains {
				require.Contains(t, body, want)
			}
			for _, not := range tc.absent {
				require.NotContains(t, body, not)
			}
			if tc.logged != "" {
				require.Contains(t, logs.String(), tc.logged)
			}
		})
	}
}
