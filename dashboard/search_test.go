package dashboard

import (
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/fedilens/fedilens/internal/websearch/websearchtest"
)

// searchTestServer serves the dashboard over a real in-memory index holding
// the test corpus and the hostile posts.
func searchTestServer(t *testing.T, opts Options) *httptest.Server {
	t.Helper()
	ix := websearchtest.Shared(t)
	store, _ := newFakes()
	opts.Store, opts.Search = store, ix
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := newDashboard(opts, embeddedAssets())
	require.NoError(t, err)
	mux := http.NewServeMux()
	d.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// pageLinks returns the href of every <a> matching the CSS-like class (""
// for all) and rel, in document order.
func pageLinks(t *testing.T, body, class, rel string) []string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	require.NoError(t, err)
	var out []string
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode || n.Data != "a" {
			continue
		}
		attrs := map[string]string{}
		for _, a := range n.Attr {
			attrs[a.Key] = a.Val
		}
		if (class == "" || attrs["class"] == class) && (rel == "" || attrs["rel"] == rel) {
			out = append(out, attrs["href"])
		}
	}
	return out
}

// hitURIs are the original-post links of a result page.
func hitURIs(t *testing.T, body string) []string {
	return pageLinks(t, body, "external", "")
}

func TestSearchPageHostilePosts(t *testing.T) {
	srv := searchTestServer(t, Options{})
	resp, body := get(t, srv, "/search?q="+websearchtest.HostileWord)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, `<p class="count" id="result-count">3 results</p>`)

	require.Empty(t, websearchtest.Active(t, body), "active content in the page")
	require.NotContains(t, body, "<script", "the page has no script at all")
	require.NotContains(t, body, "<svg")
	require.NotContains(t, body, "<img")

	// The content warning is the summary of a closed <details>, as text.
	require.Contains(t, body, `<details><summary class="cw">Content warning: CW &lt;script&gt;alert(&#34;script&#34;)&lt;/script&gt;&#34;&gt;&lt;svg onload=alert(&#34;svg&#34;)&gt;</summary>`)
	// The author name is text.
	require.Contains(t, body, `<span class="author">&lt;img src=x onerror=alert(&#34;img&#34;)&gt;&#34;&gt;&lt;svg onload=alert(&#34;svg&#34;)&gt;</span>`)
	// Links to originals are http(s) only, with rel nofollow noopener ugc:
	// the javascript: URL falls back to the post's https URI, the URL with
	// markup in it and the javascript: URI give no link at all.
	require.Equal(t, []string{"https://evil.example/@mallory/3", "https://evil.example/notes/1"}, sortedCopy(hitURIs(t, body)))
	for _, m := range regexp.MustCompile(`<a href="[^"]*" rel="([^"]*)" class="external">`).FindAllStringSubmatch(body, -1) {
		for _, want := range []string{"nofollow", "noopener", "ugc"} {
			require.Contains(t, strings.Fields(m[1]), want)
		}
	}
	// A hostile hashtag is shown as text, not as a filter link.
	require.NotContains(t, body, `tag=%22%3E%3Csvg`)
	require.Contains(t, body, `#&#34;&gt;&lt;svg onload=alert(&#34;svg&#34;)&gt;`)

	// The tight policy: no inline script or style, no other origin.
	csp := resp.Header.Get("Content-Security-Policy")
	require.Contains(t, csp, "style-src 'self';")
	require.NotContains(t, csp, "unsafe-inline")
	require.Contains(t, csp, "frame-ancestors 'none'")
}

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestSearchPageFacetsFiltersAndPaging(t *testing.T) {
	srv := searchTestServer(t, Options{})
	resp, body := get(t, srv, "/search?q=ducks")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, `<p class="count" id="result-count">130 results</p>`)
	page1 := hitURIs(t, body)
	require.Len(t, page1, searchPageSize)

	// Facet links add their filter to the search.
	for _, want := range []string{
		`<a href="/search?instance=b.example&amp;q=ducks">b.example</a>`,
		`<a href="/search?lang=de&amp;q=ducks">de</a>`,
		`<a href="/search?q=ducks&amp;tag=rain">#rain</a>`,
		`<a href="/search?q=ducks&amp;since=2026-10-01&amp;until=2026-10-31">2026-10</a>`,
	} {
		require.Contains(t, body, want)
	}
	require.Contains(t, body, `<link rel="alternate" type="application/atom+xml" href="/search.atom?q=ducks"`)
	require.Contains(t, body, `href="/api/v1/search?facets=1&amp;q=ducks"`)

	// The next page is disjoint from the first.
	next := pageLinks(t, body, "", "next")
	require.Len(t, next, 1)
	_, body2 := get(t, srv, next[0])
	page2 := hitURIs(t, body2)
	require.Len(t, page2, searchPageSize)
	for _, u := range page2 {
		require.NotContains(t, page1, u)
	}

	// Following the month facet, then the instance facet: both apply.
	_, body = get(t, srv, "/search?q=ducks&since=2026-10-01&until=2026-10-31&instance=b.example")
	want := websearchtest.Count(func(i int) bool { return i < 12 && i%3 == 1 })
	require.Contains(t, body, `<p class="count" id="result-count">`+itoa(want)+` results</p>`)
	for _, u := range hitURIs(t, body) {
		require.True(t, strings.HasPrefix(u, "https://b.example/"), u)
	}
	// Each active filter has a link that removes it, keeping the others.
	require.Contains(t, body, `instance: <span class="mono">b.example</span> <a href="/search?q=ducks&amp;since=2026-10-01&amp;until=2026-10-31"`)
	require.Contains(t, body, `since: <span class="mono">2026-10-01</span> <a href="/search?instance=b.example&amp;q=ducks&amp;until=2026-10-31"`)
	// The form shows the filters, so they can be edited.
	require.Contains(t, body, `<input id="f-instance-0" name="instance" type="text" value="b.example"`)
	require.Contains(t, body, `<input id="f-since" name="since" type="date" value="2026-10-01">`)

	// Newest first, as the form's select says.
	_, body = get(t, srv, "/search?q=ducks&sort=newest")
	require.Contains(t, body, `<option value="newest" selected>`)
	require.Equal(t, "https://a.example/@u4/129", hitURIs(t, body)[0])
}

func itoa(n int) string { return formatNum(n) }

// markup matches tags, to compare the text of HTML.
var markup = regexp.MustCompile(`<[^>]*>`)

func TestSearchPageStates(t *testing.T) {
	srv := searchTestServer(t, Options{})
	for _, tc := range []struct {
		name, path string
		status     int
		contains   []string
		absent     []string
	}{
		{
			name: "empty form explains syntax and consent", path: "/search", status: 200,
			contains: []string{
				`<form method="get" action="/search" role="search" class="search">`,
				`<code>from:user@host</code>`, `<code>since:YYYY-MM-DD</code>`, `<code>-word</code>`,
				"Only public posts of people who opted in to search", `<a href="/about">`,
			},
			absent: []string{"result-count", "<script", `<p class="error"`},
		},
		{
			name: "bad query syntax", path: "/search?q=%22unclosed", status: 400,
			contains: []string{`<p class="error" role="alert">bad query: a phrase is missing its closing quote</p>`, `value="&#34;unclosed"`},
		},
		{
			name: "bad parameter", path: "/search?q=ducks&sort=sideways", status: 400,
			contains: []string{`<p class="error" role="alert">Sort must be relevance or newest.</p>`},
		},
		{
			name: "bad date keeps the form", path: "/search?q=ducks&since=tomorrow&tag=rain", status: 400,
			contains: []string{`<p class="error" role="alert">Since wants a date like 2026-01-31.</p>`, `value="rain"`, `value="tomorrow"`},
		},
		{
			name: "filters without words", path: "/search?tag=bread&lang=en", status: 200,
			contains: []string{`<p class="count" id="result-count">` + itoa(websearchtest.Count(func(i int) bool { return i%4 == 2 && i%2 == 0 })) + ` results</p>`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, srv, tc.path)
			require.Equal(t, tc.status, resp.StatusCode)
			for _, want := range tc.contains {
				require.Contains(t, body, want)
			}
			for _, unwanted := range tc.absent {
				require.NotContains(t, body, unwanted)
			}
		})
	}
}

// atomDoc is an Atom feed as a reader decodes it.
type atomDoc struct {
	XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string   `xml:"id"`
	Title   string   `xml:"title"`
	Updated string   `xml:"updated"`
	Links   []struct {
		Rel  string `xml:"rel,attr"`
		Type string `xml:"type,attr"`
		Href string `xml:"href,attr"`
	} `xml:"link"`
	Author  string `xml:"author>name"`
	Entries []struct {
		ID      string `xml:"id"`
		Title   string `xml:"title"`
		Updated string `xml:"updated"`
		Author  string `xml:"author>name"`
		Links   []struct {
			Rel  string `xml:"rel,attr"`
			Href string `xml:"href,attr"`
		} `xml:"link"`
		Summary *struct {
			Type string `xml:"type,attr"`
			Text string `xml:",chardata"`
		} `xml:"summary"`
		Content struct {
			Type string `xml:"type,attr"`
			Text string `xml:",chardata"`
		} `xml:"content"`
	} `xml:"entry"`
}

func getFeed(t *testing.T, srv *httptest.Server, query string) (atomDoc, string) {
	t.Helper()
	resp, body := get(t, srv, "/search.atom?"+query)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Equal(t, "application/atom+xml; charset=utf-8", resp.Header.Get("Content-Type"))
	require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	require.Contains(t, resp.Header.Get("Content-Security-Policy"), "default-src 'none'")
	var doc atomDoc
	require.NoError(t, xml.Unmarshal([]byte(body), &doc), "well-formed Atom")
	return doc, body
}

func TestFeed(t *testing.T) {
	srv := searchTestServer(t, Options{})
	doc, raw := getFeed(t, srv, "q=ducks&instance=a.example&sort=relevance&cursor=x&limit=3")

	// RFC 4287: id, title, updated and a self link on the feed.
	self := srv.URL + "/search.atom?instance=a.example&q=ducks"
	require.Equal(t, self, doc.ID)
	require.Equal(t, "fedilens search: ducks instance:a.example", doc.Title)
	require.Equal(t, "fedilens", doc.Author)
	require.Contains(t, doc.Links, struct {
		Rel  string `xml:"rel,attr"`
		Type string `xml:"type,attr"`
		Href string `xml:"href,attr"`
	}{"self", "application/atom+xml", self})

	// Newest first: sort, limit and cursor are the feed's.
	require.Len(t, doc.Entries, websearchtest.Count(func(i int) bool { return i%3 == 0 }))
	newest := websearchtest.Corpus()[129] // a.example has posts 0, 3, ..., 129
	require.Equal(t, newest.URI, doc.Entries[0].ID)
	require.Equal(t, newest.Created.Format(time.RFC3339), doc.Updated)
	var updated []string
	for _, e := range doc.Entries {
		updated = append(updated, e.Updated)
		require.Equal(t, "html", e.Content.Type)
		require.Len(t, e.Links, 1)
		require.True(t, strings.HasPrefix(e.Links[0].Href, "https://a.example/@"))
		require.Nil(t, e.Summary)
	}
	require.True(t, slices.IsSortedFunc(updated, func(a, b string) int { return strings.Compare(b, a) }))
	e := doc.Entries[0]
	// The content is HTML (the post's, or the highlighted snippet when the
	// index does not return it), escaped exactly once in the XML.
	require.Contains(t, markup.ReplaceAllString(e.Content.Text, ""), "Post 129 about ducks on the pond")
	require.Regexp(t, `&lt;(p|mark)&gt;`, raw)
	require.NotContains(t, raw, "&amp;lt;")
	require.Equal(t, "User 4 (u4@a.example)", e.Author)

	// At most 50 entries.
	doc, _ = getFeed(t, srv, "q=ducks")
	require.Len(t, doc.Entries, feedEntries)
	require.Equal(t, newest.URI, doc.Entries[0].ID)

	// No match: still a valid feed, with an updated time.
	doc, _ = getFeed(t, srv, "q=nothingmatchesthis")
	require.Empty(t, doc.Entries)
	_, err := time.Parse(time.RFC3339, doc.Updated)
	require.NoError(t, err)

	for query, status := range map[string]int{"q=": 400, "q=%22unclosed": 400, "q=ducks&lang=klingon": 400} {
		resp, _ := get(t, srv, "/search.atom?"+query)
		require.Equal(t, status, resp.StatusCode, query)
	}
}

// TestFeedHostilePosts checks what a feed reader renders: each entry's
// content, decoded from the XML, is HTML without anything that runs; the
// content warning is the summary; links are http(s) only.
func TestFeedHostilePosts(t *testing.T) {
	srv := searchTestServer(t, Options{})
	doc, _ := getFeed(t, srv, "q="+websearchtest.HostileWord)
	require.Len(t, doc.Entries, 3)
	for _, e := range doc.Entries {
		require.Empty(t, websearchtest.Active(t, e.Content.Text), "content of %s: %s", e.ID, e.Content.Text)
		require.Regexp(t, `^(https://evil\.example/notes/[0-9]|urn:fedilens:post:[0-9a-f]{32})$`, e.ID)
		for _, l := range e.Links {
			u, err := url.Parse(l.Href)
			require.NoError(t, err)
			require.Equal(t, "https", u.Scheme, l.Href)
			require.NotContains(t, l.Href, `"`)
		}
	}
	first := doc.Entries[2] // oldest: the post with the content warning
	require.Equal(t, "https://evil.example/notes/1", first.ID)
	require.NotNil(t, first.Summary)
	require.Equal(t, "text", first.Summary.Type)
	require.Equal(t, "CW "+websearchtest.ScriptTag+websearchtest.AttrBreak, first.Summary.Text)
	require.True(t, strings.HasPrefix(first.Title, "CW: "))
	require.Contains(t, markup.ReplaceAllString(first.Content.Text, ""), "mallory writes")
}

func TestOpenSearch(t *testing.T) {
	type description struct {
		XMLName   xml.Name `xml:"http://a9.com/-/spec/opensearch/1.1/ OpenSearchDescription"`
		ShortName string   `xml:"ShortName"`
		URLs      []struct {
			Type     string `xml:"type,attr"`
			Template string `xml:"template,attr"`
		} `xml:"Url"`
	}
	for _, tc := range []struct {
		name    string
		baseURL string
		host    string
		want    string
	}{
		{name: "from the request", want: ""},
		{name: "configured", baseURL: "https://fedilens.example/", want: "https://fedilens.example"},
		{name: "hostile Host header", host: `evil"><x`, want: "http://localhost"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := searchTestServer(t, Options{BaseURL: tc.baseURL})
			req, err := http.NewRequest(http.MethodGet, srv.URL+"/opensearch.xml", nil)
			require.NoError(t, err)
			if tc.host != "" {
				req.Host = tc.host
			}
			resp, err := srv.Client().Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Equal(t, "application/opensearchdescription+xml; charset=utf-8", resp.Header.Get("Content-Type"))
			var d description
			require.NoError(t, xml.Unmarshal(body, &d))
			require.Equal(t, "fedilens", d.ShortName)
			base := tc.want
			if base == "" {
				base = srv.URL
			}
			require.Len(t, d.URLs, 3)
			require.Equal(t, "text/html", d.URLs[0].Type)
			require.Equal(t, base+"/search?q={searchTerms}", d.URLs[0].Template)
			require.Equal(t, "application/atom+xml", d.URLs[1].Type)
			require.Equal(t, base+"/search.atom?q={searchTerms}", d.URLs[1].Template)
		})
	}

	// Every page tells browsers where the description is.
	srv := searchTestServer(t, Options{})
	for _, path := range []string{"/", "/search", "/about", "/instances/social.example"} {
		_, body := get(t, srv, path)
		require.Contains(t, body, `<link rel="search" type="application/opensearchdescription+xml" href="/opensearch.xml" title="fedilens">`, path)
	}

	// A BaseURL that is not an origin is a start-up error.
	store, _ := newFakes()
	for _, bad := range []string{"fedilens.example", "ftp://fedilens.example", "https://fedilens.example/search", "https://u:p@fedilens.example"} {
		_, err := newDashboard(Options{Store: store, BaseURL: bad}, embeddedAssets())
		require.Error(t, err, bad)
	}
}
