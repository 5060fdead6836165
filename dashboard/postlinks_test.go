package dashboard

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/model"
)

// newPostLinkServer serves the dashboard over store as a PostLinkStore.
func newPostLinkServer(t *testing.T, store *fakeStore) *httptest.Server {
	t.Helper()
	d, err := New(Options{Store: postLinkFake{store}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	mux := http.NewServeMux()
	d.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestPostLinksSection(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 10, d, 9, 0, 0, 0, time.UTC) }
	link := func(target, kind string, n int64) model.PostLink {
		return model.PostLink{Host: "social.example", Target: target, Kind: kind, Count: n, FirstSeen: day(1), LastSeen: day(int(n%28) + 1)}
	}
	for _, tc := range []struct {
		name  string
		links []model.PostLink
		rows  [][]string
		// contains are further bits of the page.
		contains, absent []string
	}{
		{
			name: "most posts first, known instances linked",
			links: []model.PostLink{link("unknown.example", model.PostLinkMention, 2), link("quiet.example", model.PostLinkReply, 2),
				link("quiet.example", model.PostLinkMention, 7), link(xss, model.PostLinkMention, 9), link("javascript:alert(1)", model.PostLinkBoost, 1)},
			rows: [][]string{
				{xss, "mention", "9", "2026-10-01", "2026-10-10"},
				{"quiet.example", "mention", "7", "2026-10-01", "2026-10-08"},
				{"quiet.example", "reply", "2", "2026-10-01", "2026-10-03"},
				{"unknown.example", "mention", "2", "2026-10-01", "2026-10-03"},
				{"javascript:alert(1)", "boost", "1", "2026-10-01", "2026-10-02"},
			},
			contains: []string{`<h2 id="post-links">Links seen in posts (5)</h2>`,
				`<tr><td><a href="/instances/quiet.example">quiet.example</a></td><td>mention</td>`,
				`<tr><td>unknown.example</td><td>mention</td>`, `<tr><td>javascript:alert(1)</td><td>boost</td>`},
			absent: []string{"<img", `href="javascript`, `href="/instances/unknown.example"`, "Showing the"},
		},
		{
			name:     "none",
			contains: []string{`<h2 id="post-links">Links seen in posts</h2>`, "No stored post of this instance links to another instance."},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store, _ := newFakes()
			store.postLinks = map[string][]model.PostLink{"social.example": tc.links}
			srv := newPostLinkServer(t, store)
			resp, body := get(t, srv, "/instances/social.example")
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Equal(t, tc.rows, tableRows(t, body, "post-links-table"))
			for _, s := range tc.contains {
				mustContain(t, body, s)
			}
			for _, s := range tc.absent {
				require.NotContains(t, body, s)
			}
		})
	}
}

func TestPostLinksBounded(t *testing.T) {
	store, _ := newFakes()
	var links []model.PostLink
	for i := range 250 {
		links = append(links, model.PostLink{Target: fmt.Sprintf("h%03d.example", i), Kind: model.PostLinkMention, Count: int64(i)})
	}
	store.postLinks = map[string][]model.PostLink{"social.example": links}
	srv := newPostLinkServer(t, store)
	_, body := get(t, srv, "/instances/social.example")
	rows := tableRows(t, body, "post-links-table")
	require.Len(t, rows, maxPostLinksShown)
	require.Equal(t, "h249.example", rows[0][0], "most posts first")
	require.Equal(t, "h150.example", rows[99][0])
	mustContain(t, body, "Links seen in posts (250)")
	mustContain(t, body, "Showing the 100 links made by the most posts, of 250.")
	require.EqualValues(t, maxPostLinksShown, store.lookups.Load(), "only the shown hosts are looked up")
}

func TestPostLinksErrors(t *testing.T) {
	store, _ := newFakes()
	store.postLinks = map[string][]model.PostLink{"social.example": {{Target: "quiet.example", Kind: model.PostLinkMention, Count: 1}}}
	// Without a PostLinkStore there is no section.
	srv := newTestServer(t, store, nil, nil, nil)
	_, body := get(t, srv, "/instances/social.example")
	require.NotContains(t, body, "post-links")

	// A failing read or lookup is a 500 without detail.
	for _, fail := range []func(){
		func() { store.postLinksErr = errors.New("dial tcp 10.1.2.3:9000: secret") },
		func() { store.postLinksErr, store.lookupErr = nil, errors.New("read tcp 10.1.2.3:9000: secret") },
	} {
		fail()
		srv = newPostLinkServer(t, store)
		resp, body := get(t, srv, "/instances/social.example")
		require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
		require.False(t, strings.Contains(body, "secret"))
	}
	store.lookupErr = nil
	resp, _ := get(t, srv, "/instances/social.example")
	require.Equal(t, http.StatusOK, resp.StatusCode)
}
