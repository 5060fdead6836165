package dashboard

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/api"
	"github.com/fedilens/fedilens/internal/model"
)

// nextLink finds a page's "Next page" link.
var nextLink = regexp.MustCompile(`<a href="([^"]*)" rel="next">`)

// testExplorer pages through the instance explorer with a small page size
// under every filter and sort, and compares what it lists with the store's
// own listing and with the API query the page links.
func testExplorer(t *testing.T, o *observatory) {
	const pageSize = 10
	d, err := New(Options{Store: o.st, Stats: o.stats})
	require.NoError(t, err)
	d.listSize = pageSize
	mux := http.NewServeMux()
	d.Register(mux)
	api.New(api.Options{Store: o.st, Stats: o.stats, ReadPerSecond: -1}).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	ctx := context.Background()

	// pages follows the "Next page" links from path and returns every
	// row's cells, checking each page's API link on the way.
	pages := func(t *testing.T, path string) (hosts []string, rows [][]string) {
		t.Helper()
		for range 100 {
			resp, body := get(t, srv, path)
			require.Equal(t, http.StatusOK, resp.StatusCode, body)
			got := tableRows(t, body, "explorer")
			require.LessOrEqual(t, len(got), pageSize)
			if len(got) == 1 && len(got[0]) == 1 {
				got = nil // "No instances match these filters."
			}
			for _, r := range got {
				require.Len(t, r, 13)
				hosts = append(hosts, r[1])
			}
			rows = append(rows, got...)

			// The API link is the page's own query with its page size,
			// and answers the same rows.
			links := apiLinks(t, body)
			require.Len(t, links, 1)
			apiURL, err := url.Parse(links[0])
			require.NoError(t, err)
			require.Equal(t, apiInstances, apiURL.Path)
			pageURL, err := url.Parse(path)
			require.NoError(t, err)
			want := pageURL.Query()
			want.Set("limit", "10")
			require.Equal(t, want, apiURL.Query(), "the API link holds the page's query")
			resp, raw := get(t, srv, links[0])
			require.Equal(t, http.StatusOK, resp.StatusCode, raw)
			var listing struct {
				Instances []struct {
					Host string `json:"host"`
				} `json:"instances"`
			}
			require.NoError(t, json.Unmarshal([]byte(raw), &listing))
			require.Len(t, listing.Instances, len(got))
			for i, in := range listing.Instances {
				require.Equal(t, in.Host, got[i][1])
			}

			m := nextLink.FindStringSubmatch(body)
			if m == nil {
				return hosts, rows
			}
			require.Contains(t, m[1], "cursor=")
			path = html.UnescapeString(m[1])
		}
		t.Fatal("no last page")
		return nil, nil
	}
	// listed is the store's listing of q in one page.
	listed := func(t *testing.T, q model.InstanceListQuery) []string {
		t.Helper()
		q.Limit = 1000
		page, err := o.st.ListInstances(ctx, q)
		require.NoError(t, err)
		require.Empty(t, page.NextCursor)
		hosts := []string{}
		for _, in := range page.Instances {
			hosts = append(hosts, in.Host)
		}
		return hosts
	}
	all := listed(t, model.InstanceListQuery{})
	require.Greater(t, len(all), 2*pageSize, "several pages")
	// other is a program besides mastodon that some instance runs.
	other := ""
	everything, err := o.st.ListInstances(ctx, model.InstanceListQuery{Limit: 1000, Sort: model.InstanceSortHost})
	require.NoError(t, err)
	for _, in := range everything.Instances {
		if in.Software != "mastodon" && queryName(in.Software) && other == "" {
			other = in.Software
		}
	}
	require.NotEmpty(t, other)

	type lq = model.InstanceListQuery
	for _, tc := range []struct {
		name, path string
		q          lq
		// atLeast is the fewest instances the listing must hold, so that
		// a filter that matches nothing cannot pass unnoticed.
		atLeast int
	}{
		{"every instance, by users", "/instances", lq{}, len(all)},
		{"by active users", "/instances?sort=active", lq{Sort: "active"}, len(all)},
		{"by posts", "/instances?sort=posts", lq{Sort: "posts"}, len(all)},
		{"by peers", "/instances?sort=peers", lq{Sort: "peers"}, len(all)},
		{"by first seen", "/instances?sort=first_seen", lq{Sort: "first_seen"}, len(all)},
		{"by host", "/instances?sort=host", lq{Sort: "host"}, len(all)},
		{"fewest users first", "/instances?order=asc", lq{Order: "asc"}, len(all)},
		{"hosts from Z", "/instances?order=desc&sort=host", lq{Sort: "host", Order: "desc"}, len(all)},
		{"oldest first", "/instances?order=asc&sort=first_seen", lq{Sort: "first_seen", Order: "asc"}, len(all)},
		{"fewest peers first", "/instances?order=asc&sort=peers", lq{Sort: "peers", Order: "asc"}, len(all)},
		{"one software", "/instances?software=mastodon&sort=host", lq{Software: []string{"mastodon"}, Sort: "host"}, 2},
		{"two programs", "/instances?software=mastodon%2C" + other, lq{Software: []string{"mastodon", other}}, 3},
		{"one language", "/instances?language=en", lq{Language: "en"}, 1},
		{"open registrations", "/instances?registrations=open", lq{Registrations: "open"}, 1},
		{"closed registrations", "/instances?registrations=closed&sort=posts", lq{Registrations: "closed", Sort: "posts"}, 1},
		{"a name", "/instances?q=xss", lq{Text: "xss"}, 1},
		{"a title in any case", "/instances?q=EVIL+SOFT", lq{Text: "EVIL SOFT"}, 1},
		{"suspect figures only", "/instances?flagged=only", lq{Flagged: "only"}, 1},
		{"clean figures only", "/instances?flagged=exclude&sort=active", lq{Flagged: "exclude", Sort: "active"}, len(all) - 1},
		{"everything at once", "/instances?flagged=exclude&order=asc&q=.&registrations=open&software=mastodon&sort=peers",
			lq{Software: []string{"mastodon"}, Registrations: "open", Text: ".", Flagged: "exclude", Sort: "peers", Order: "asc"}, 1},
		{"nothing matches", "/instances?q=no-such-instance", lq{Text: "no-such-instance"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := listed(t, tc.q)
			require.GreaterOrEqual(t, len(want), tc.atLeast)
			hosts, _ := pages(t, tc.path)
			if len(want) == 0 {
				require.Empty(t, hosts)
				return
			}
			require.Equal(t, want, hosts)
		})
	}

	t.Run("the rows show what the store lists", func(t *testing.T) {
		_, rows := pages(t, "/instances?q=xss")
		require.Len(t, rows, 1)
		in, _, err := o.st.Instance(ctx, hostileHost)
		require.NoError(t, err)
		lc, err := o.st.InstanceLinkCounts(ctx, hostileHost)
		require.NoError(t, err)
		require.Equal(t, []string{hostileTitle, hostileHost, "mastodon", hostileVersion, formatOptional(in.UsersTotal),
			"40,000", formatOptional(in.LocalPosts), listSize(lc.Peers), listSize(lc.Blocks), "open", "en", in.FirstSeen.Format(time.DateOnly), ""}, rows[0])
		_, rows = pages(t, "/instances?flagged=only")
		require.Equal(t, liarHost, rows[0][1])
		require.Equal(t, "not read", rows[0][7], "no peer list was read")
		require.Equal(t, "active_above_total", rows[0][12])
	})

	t.Run("headings, form and links keep the state", func(t *testing.T) {
		_, body := get(t, srv, "/instances?software=mastodon&sort=host&registrations=open&q=ex")
		mustContain(t, body, "<h1>Instances running mastodon</h1>")
		mustContain(t, body, `<option value="host" selected>`)
		mustContain(t, body, `<option value="open" selected>Open</option>`)
		mustContain(t, body, `<input id="e-q" name="q" type="text" value="ex"`)
		mustContain(t, body, `<th scope="col" aria-sort="ascending"><a href="/instances?order=desc&amp;q=ex&amp;registrations=open&amp;software=mastodon&amp;sort=host" title="Sort by host, descending">Host <span aria-hidden="true">▲</span></a></th>`,
			"the sorted column reverses the order")
		mustContain(t, body, `<th scope="col" class="n"><a href="/instances?q=ex&amp;registrations=open&amp;software=mastodon" title="Sort by users, descending">Users</a></th>`,
			"sorting keeps the filters")
		mustContain(t, body, `<a href="/instances?flagged=only&amp;q=ex&amp;registrations=open&amp;software=mastodon&amp;sort=host">Suspect figures</a>`)
		require.Equal(t, 1, strings.Count(body, "aria-sort="), "one sorted column")

		_, body = get(t, srv, "/instances?sort=peers&order=asc")
		mustContain(t, body, `<th scope="col" class="n" aria-sort="ascending"><a href="/instances?sort=peers" title="Sort by peers, descending">Peers <span aria-hidden="true">▲</span></a></th>`)
		mustContain(t, body, `<option value="asc" selected>Ascending</option>`)
	})

	t.Run("paging keeps filters and sort", func(t *testing.T) {
		_, body := get(t, srv, "/instances?sort=posts&order=asc&flagged=exclude")
		m := nextLink.FindStringSubmatch(body)
		require.NotNil(t, m)
		next, err := url.Parse(html.UnescapeString(m[1]))
		require.NoError(t, err)
		require.Equal(t, "asc", next.Query().Get("order"))
		require.Equal(t, "posts", next.Query().Get("sort"))
		require.Equal(t, "exclude", next.Query().Get("flagged"))
		_, body = get(t, srv, next.String())
		mustContain(t, body, `<a href="/instances?flagged=exclude&amp;order=asc&amp;sort=posts">First page</a>`)
	})

	t.Run("a cursor of another sort", func(t *testing.T) {
		_, body := get(t, srv, "/instances?sort=host")
		m := nextLink.FindStringSubmatch(body)
		require.NotNil(t, m)
		next, err := url.Parse(html.UnescapeString(m[1]))
		require.NoError(t, err)
		resp, body := get(t, srv, "/instances?cursor="+url.QueryEscape(next.Query().Get("cursor")))
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		mustContain(t, body, "The page cursor is invalid.")
	})

	t.Run("a hostile name is echoed as text", func(t *testing.T) {
		const hostile = `"><img src=x onerror=alert(6)>`
		resp, body := get(t, srv, "/instances?q="+url.QueryEscape(hostile))
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.NotContains(t, body, "<img")
		mustContain(t, body, `value="&#34;&gt;&lt;img src=x onerror=alert(6)&gt;"`)
		mustContain(t, body, "No instances match these filters.")
		mustContain(t, body, `href="/api/v1/instances?limit=10&amp;q=%22%3E%3Cimg&#43;src%3Dx&#43;onerror%3Dalert%286%29%3E"`)
	})
}

// testPostLinks checks the instance page's links seen in posts against
// the store's PostLinks: most posts first, known instances linked, other
// and hostile names as text.
func testPostLinks(t *testing.T, o *observatory) {
	links, err := o.st.PostLinks(context.Background(), hostileHost, time.Time{})
	require.NoError(t, err)
	require.Len(t, links, 5)

	resp, body := get(t, o.srv, "/instances/"+hostileHost)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NotContains(t, body, "<img")
	mustContain(t, body, `<h2 id="post-links">Links seen in posts (5)</h2>`)
	day := o.days[len(o.days)-1].Format(time.DateOnly)
	rows := tableRows(t, body, "post-links-table")
	ones := [][]string{{hostileMentioned, "mention", "1", day, day}, {unknownLinked, "mention", "1", day, day}, {o.normal, "reply", "1", day, day}}
	slices.SortFunc(ones, func(a, b []string) int { return strings.Compare(a[0], b[0]) }) // ties by host
	require.Equal(t, append([][]string{{o.normal, "mention", "3", day, day}, {o.normal, "boost", "2", day, day}}, ones...), rows)
	require.Equal(t, 3, strings.Count(body, `<tr><td><a href="/instances/`+o.normal+`">`+o.normal+`</a></td>`), "a known instance is linked")
	mustContain(t, body, `<tr><td>`+unknownLinked+`</td><td>mention</td>`, "a host that is no instance is text")
	mustContain(t, body, `<tr><td>`+esc(hostileMentioned)+`</td><td>mention</td>`)

	_, body = get(t, o.srv, "/instances/"+o.normal)
	mustContain(t, body, "No stored post of this instance links to another instance.")
}
