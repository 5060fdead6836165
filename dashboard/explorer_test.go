package dashboard

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/model"
)

// TestExplorerQuery checks what the explorer asks the store for each of
// its parameters, and that its own links and its API link hold that
// query again.
func TestExplorerQuery(t *testing.T) {
	type lq = model.InstanceListQuery
	base := func(q lq) lq {
		q.Limit = listPageSize
		if q.Sort == "" {
			q.Sort = model.InstanceSortUsers
		}
		if q.Order == "" {
			q.Order = naturalOrder(q.Sort)
		}
		if q.Flagged == "" {
			q.Flagged = model.FlaggedInclude
		}
		return q
	}
	for _, tc := range []struct {
		name, path string
		want       lq
		// api is the query of the page's API link.
		api string
	}{
		{"defaults", "/instances", lq{}, "limit=50"},
		{"software, repeated and listed", "/instances?software=Mastodon&software=misskey,mastodon", lq{Software: []string{"mastodon", "misskey"}},
			"limit=50&software=mastodon%2Cmisskey"},
		{"language", "/instances?language=PT-BR", lq{Language: "pt-br"}, "language=pt-br&limit=50"},
		{"open registrations", "/instances?registrations=open", lq{Registrations: "open"}, "limit=50&registrations=open"},
		{"closed registrations", "/instances?registrations=closed", lq{Registrations: "closed"}, "limit=50&registrations=closed"},
		{"a name", "/instances?q=+Social+", lq{Text: "Social"}, "limit=50&q=Social"},
		{"suspect only", "/instances?flagged=only", lq{Flagged: "only"}, "flagged=only&limit=50"},
		{"clean only", "/instances?flagged=exclude", lq{Flagged: "exclude"}, "flagged=exclude&limit=50"},
		{"include_flagged=false", "/instances?include_flagged=false", lq{Flagged: "exclude"}, "flagged=exclude&limit=50"},
		{"include_flagged=true", "/instances?include_flagged=true", lq{}, "limit=50"},
		{"include_flagged=true with suspect only", "/instances?include_flagged=true&flagged=only", lq{Flagged: "only"}, "flagged=only&limit=50"},
		{"sort by active users", "/instances?sort=active", lq{Sort: "active"}, "limit=50&sort=active"},
		{"sort by posts", "/instances?sort=posts", lq{Sort: "posts"}, "limit=50&sort=posts"},
		{"sort by peers", "/instances?sort=peers", lq{Sort: "peers"}, "limit=50&sort=peers"},
		{"sort by first seen", "/instances?sort=first_seen", lq{Sort: "first_seen"}, "limit=50&sort=first_seen"},
		{"sort by host", "/instances?sort=host", lq{Sort: "host", Order: "asc"}, "limit=50&sort=host"},
		{"the natural order is left out", "/instances?sort=users&order=desc", lq{}, "limit=50"},
		{"reversed", "/instances?sort=host&order=desc", lq{Sort: "host", Order: "desc"}, "limit=50&order=desc&sort=host"},
		{"fewest users first", "/instances?order=asc", lq{Order: "asc"}, "limit=50&order=asc"},
		{"every parameter", "/instances?software=gotosocial&language=de&registrations=open&q=x&flagged=exclude&sort=posts&order=asc&cursor=abc",
			lq{Software: []string{"gotosocial"}, Language: "de", Registrations: "open", Text: "x", Flagged: "exclude", Sort: "posts",
				Order: "asc", Cursor: "abc"},
			"cursor=abc&flagged=exclude&language=de&limit=50&order=asc&q=x&registrations=open&software=gotosocial&sort=posts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store, _ := newFakes()
			srv := newTestServer(t, store, nil, nil, nil)
			resp, body := get(t, srv, tc.path)
			require.Equal(t, http.StatusOK, resp.StatusCode, body)
			want := base(tc.want)
			require.Equal(t, want, store.listed)
			api := "/api/v1/instances?" + tc.api
			require.Equal(t, api, explorerAPIPath(want))
			require.Equal(t, withValues("/instances", explorerValues(want)), explorerPath(want))
			mustContain(t, body, `<p class="api">Data: <a href="`+esc(api)+`">`)

			// The page's own URL form reads back to the same query.
			again, _, err := explorerQuery(mustQuery(t, explorerPath(want)), listPageSize)
			require.NoError(t, err)
			require.Equal(t, want, again)
		})
	}
}

// TestExplorerBadParameters: a parameter the explorer cannot use is a 400
// page saying which, and the store is not asked.
func TestExplorerBadParameters(t *testing.T) {
	for _, tc := range []struct{ path, message string }{
		{"/instances?sort=title", "Invalid order: sort by users, active, posts, peers, first_seen or host."},
		{"/instances?order=sideways", "Invalid order: order must be asc or desc."},
		{"/instances?registrations=approval", "Invalid filter: registrations must be open or closed."},
		{"/instances?software=%3Cimg%3E", "Invalid filter: software must be a program&#39;s NodeInfo name"},
		{"/instances?language=%3Cb%3E", "Invalid filter: language must be a language tag"},
		{"/instances?q=" + strings.Repeat("é", 51), "Invalid filter: the name to look for is longer than 100 bytes."},
		{"/instances?flagged=everything", "Unknown filter: choose all instances, suspect figures or clean figures."},
		{"/instances?flagged=everything&include_flagged=true", "Unknown filter"},
		{"/instances?flagged=include&include_flagged=false", "Invalid filter: flagged contradicts include_flagged."},
		{"/instances?include_flagged=sometimes", "Invalid filter: include_flagged must be true or false."},
		{"/instances?from=last-week", "Invalid filter: from must be a date"},
		{"/instances?cursor=" + strings.Repeat("c", maxCursorLen+1), "The page cursor is invalid."},
		// The store rejects the cursor.
		{"/instances?cursor=bad", "The page cursor is invalid."},
	} {
		t.Run(tc.path, func(t *testing.T) {
			store, _ := newFakes()
			srv := newTestServer(t, store, nil, nil, nil)
			resp, body := get(t, srv, tc.path)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
			mustContain(t, body, tc.message)
			if !strings.Contains(tc.path, "cursor=bad") {
				require.Zero(t, store.listed, "the store is not asked")
			}
		})
	}
}

// TestExplorerPage checks the rendered explorer over the fake listing:
// columns, sort headings, the form's state, escaping of the name echoed.
func TestExplorerPage(t *testing.T) {
	store, _ := newFakes()
	social := store.instances["social.example"]
	social.PeerCount, social.BlockCount = model.Int64(1234), model.Int64(0)
	store.listPage = &model.InstancePage{Instances: []model.Instance{social, store.instances["evil.example"]}, NextCursor: "n&1"}
	srv := newTestServer(t, store, nil, nil, nil)

	const hostile = `"><script>alert(1)</script>`
	resp, body := get(t, srv, "/instances?registrations=open&sort=peers&language=en&q="+strings.ReplaceAll(hostile, "<", "%3C"))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NotContains(t, body, "<script>alert")
	require.NotContains(t, body, "<img")
	mustContain(t, body, `<input id="e-q" name="q" type="text" value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"`)
	mustContain(t, body, `<input id="e-language" name="language" type="text" value="en"`)
	mustContain(t, body, `<option value="open" selected>Open</option>`)
	mustContain(t, body, `<option value="peers" selected>Peers</option>`)
	mustContain(t, body, `<option value="" selected>Largest or newest first (hosts A to Z)</option>`)
	mustContain(t, body, `<a href="/instances">Clear</a>`)

	rows := tableRows(t, body, "explorer")
	require.Len(t, rows, 2)
	require.Equal(t, []string{"Social Example", "social.example", "mastodon", "4.3.2", "1,234,567", "34,567", "45,000", "1,234", "0",
		"open", "", "2026-10-03", ""}, rows[0])
	require.Equal(t, []string{"not read", "not read"}, rows[1][7:9], "lists never read")
	require.Equal(t, "unknown", rows[1][6])
	// The row's software filters the listing, keeping the rest.
	q := `language=en&amp;q=%22%3E%3Cscript%3Ealert%281%29%3C%2Fscript%3E&amp;registrations=open`
	mustContain(t, body, `<a href="/instances?`+q+`&amp;software=mastodon&amp;sort=peers">mastodon</a>`)
	require.NotContains(t, body, `software=%3C`, "a hostile software name is no filter link")
	// Headings: peers sorted (descending; the link reverses it), the
	// others sort in their natural order, all keep the filters.
	mustContain(t, body, `<th scope="col" class="n" aria-sort="descending"><a href="/instances?language=en&amp;order=asc&amp;q=%22%3E%3Cscript%3Ealert%281%29%3C%2Fscript%3E&amp;registrations=open&amp;sort=peers" title="Sort by peers, ascending">Peers <span aria-hidden="true">▼</span></a></th>`)
	mustContain(t, body, `<a href="/instances?`+q+`&amp;sort=first_seen" title="Sort by first seen, descending">First seen</a>`)
	mustContain(t, body, `<a href="/instances?`+q+`&amp;sort=host" title="Sort by host, ascending">Host</a>`)
	mustContain(t, body, `<a href="/instances?`+q+`" title="Sort by users, descending">Users</a>`)
	// Paging keeps everything.
	mustContain(t, body, `<a href="/instances?cursor=n%261&amp;`+q+`&amp;sort=peers" rel="next">Next page</a>`)
}

// mustQuery is the query of path.
func mustQuery(t *testing.T, path string) url.Values {
	t.Helper()
	u, err := url.Parse(path)
	require.NoError(t, err)
	return u.Query()
}
