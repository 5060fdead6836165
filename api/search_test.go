package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/websearch/websearchtest"
)

// searchServer serves the API over a real in-memory index holding the
// test corpus and the hostile posts.
func searchServer(t *testing.T) *httptest.Server {
	t.Helper()
	ix := websearchtest.Shared(t)
	store, _ := newFakes()
	a := New(Options{Store: store, Search: ix})
	mux := http.NewServeMux()
	a.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// searchJSON is the answer's format as a client decodes it.
type searchJSON struct {
	Total uint64 `json:"total"`
	Hits  []struct {
		URI       string    `json:"uri"`
		URL       string    `json:"url"`
		Host      string    `json:"host"`
		Author    string    `json:"author"`
		Created   time.Time `json:"created"`
		Language  string    `json:"language"`
		Summary   string    `json:"summary"`
		Snippet   string    `json:"snippet"`
		Tags      []string  `json:"tags"`
		Sensitive bool      `json:"sensitive"`
		HTML      string    `json:"html"`
	} `json:"hits"`
	NextCursor string                      `json:"next_cursor"`
	Facets     map[string][]facetCountJSON `json:"facets"`
}

func searchGet(t *testing.T, srv *httptest.Server, query string) (int, searchJSON, []byte) {
	t.Helper()
	resp, body := get(t, srv, "/api/v1/search?"+query, nil)
	var out searchJSON
	if resp.StatusCode == http.StatusOK {
		require.NoError(t, json.Unmarshal(body, &out), "%s", body)
	}
	return resp.StatusCode, out, body
}

func TestSearchParameterErrors(t *testing.T) {
	srv := searchServer(t)
	for _, tc := range []struct {
		name, query, message string
	}{
		{"nothing to search", "q=%20", "q or a filter (instance, lang, tag, from, since, until) is required"},
		{"unknown sort", "q=ducks&sort=oldest", "sort must be relevance or newest"},
		{"zero limit", "q=ducks&limit=0", "limit must be a positive integer"},
		{"negative limit", "q=ducks&limit=-5", "limit must be a positive integer"},
		{"eleven instances", "q=ducks" + strings.Repeat("&instance=a.example", 11), "instance may be given at most 10 times"},
		{"bad instance", "q=ducks&instance=a%20b", "instance: not a host name"},
		{"bad language", "q=ducks&lang=english", "lang: wants a language code like en"},
		{"bad author", "q=ducks&from=nobody", "from: wants an account like user@host"},
		{"bad date", "q=ducks&since=yesterday", "since wants a date like 2026-01-31"},
		{"until before since", "q=ducks&since=2026-11-02&until=2026-11-01", "until is before since"},
		{"bad facets", "q=ducks&facets=please", "facets must be 1 or 0"},
		{"long q", "q=" + strings.Repeat("x", 1025), "q is longer than 1024 bytes"},
		{"long cursor", "q=ducks&cursor=" + strings.Repeat("c", 1025), "cursor is longer than 1024 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := searchGet(t, srv, tc.query)
			require.Equal(t, http.StatusBadRequest, status)
			require.JSONEq(t, `{"error":{"code":"bad_request","message":`+quote(tc.message)+`}}`, string(body))
		})
	}
	// Errors the index finds: the message is the index's, prefixed.
	for _, query := range []string{"q=%22unclosed", "q=ducks&cursor=bogus"} {
		t.Run(query, func(t *testing.T) {
			status, _, body := searchGet(t, srv, query)
			require.Equal(t, http.StatusBadRequest, status, "%s", body)
			require.Contains(t, string(body), `"code":"bad_request"`)
			require.Contains(t, string(body), `"message":"search posts: bad query: `)
		})
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestSearchLimits(t *testing.T) {
	srv := searchServer(t)
	for _, tc := range []struct {
		query string
		hits  int
	}{
		{"q=ducks", 20},
		{"q=ducks&limit=7", 7},
		{"q=ducks&limit=100", 100},
		{"q=ducks&limit=5000", 100}, // capped, not refused
	} {
		t.Run(tc.query, func(t *testing.T) {
			status, res, body := searchGet(t, srv, tc.query)
			require.Equal(t, http.StatusOK, status, "%s", body)
			require.Equal(t, uint64(websearchtest.N), res.Total)
			require.Len(t, res.Hits, tc.hits)
			require.NotEmpty(t, res.NextCursor)
		})
	}
}

func TestSearchFilters(t *testing.T) {
	srv := searchServer(t)
	day := func(i int) time.Time { return websearchtest.Start.Add(time.Duration(i) * time.Hour) }
	nov2 := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	nov4 := time.Date(2026, 11, 4, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		query string
		keep  func(i int) bool
	}{
		{"instance", "q=ducks&instance=B.Example", func(i int) bool { return i%3 == 1 }},
		{"instance and language", "q=ducks&instance=b.example&lang=de", func(i int) bool { return i%3 == 1 && i%2 == 1 }},
		{"two instances are alternatives", "q=ducks&instance=a.example&instance=b.example&lang=en", func(i int) bool { return i%3 != 2 && i%2 == 0 }},
		{"filter and query filter", "q=ducks+lang:en&instance=c.example", func(i int) bool { return i%3 == 2 && i%2 == 0 }},
		{"two tags", "q=ducks&tag=%23ducks&tag=rain", func(i int) bool { return i%4 == 3 }},
		{"author", "q=ducks&from=u1@a.example", func(i int) bool { return i%3 == 0 && i%5 == 1 }},
		{"filters only", "tag=bread&lang=en", func(i int) bool { return i%4 == 2 && i%2 == 0 }},
		{"days", "q=ducks&since=2026-11-02&until=2026-11-03", func(i int) bool {
			return !day(i).Before(nov2) && day(i).Before(nov4)
		}},
		{"since and instance", "q=ducks&since=2026-11-04&instance=a.example", func(i int) bool {
			return !day(i).Before(nov4) && i%3 == 0
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, res, body := searchGet(t, srv, tc.query+"&limit=100")
			require.Equal(t, http.StatusOK, status, "%s", body)
			want := websearchtest.Count(tc.keep)
			require.Equal(t, uint64(want), res.Total)
			require.Len(t, res.Hits, min(want, 100))
			v, err := url.ParseQuery(tc.query)
			require.NoError(t, err)
			for _, h := range res.Hits {
				if hosts := v["instance"]; len(hosts) > 0 {
					require.Contains(t, strings.ToLower(strings.Join(hosts, " ")), h.Host)
				}
				if langs := v["lang"]; len(langs) == 1 {
					require.Equal(t, langs[0], h.Language)
				}
				for _, tag := range v["tag"] {
					require.Contains(t, h.Tags, strings.TrimPrefix(tag, "#"))
				}
			}
		})
	}
}

func TestSearchCursorsGiveDisjointPages(t *testing.T) {
	srv := searchServer(t)
	for _, sort := range []string{"relevance", "newest"} {
		t.Run(sort, func(t *testing.T) {
			seen := map[string]bool{}
			var created []time.Time
			cursor := ""
			for pages := 0; ; pages++ {
				require.Less(t, pages, 20, "paging does not end")
				status, res, body := searchGet(t, srv, "q=ducks&limit=30&sort="+sort+"&cursor="+url.QueryEscape(cursor))
				require.Equal(t, http.StatusOK, status, "%s", body)
				for _, h := range res.Hits {
					require.False(t, seen[h.URI], "%s on two pages", h.URI)
					seen[h.URI] = true
					created = append(created, h.Created)
				}
				if res.NextCursor == "" {
					break
				}
				cursor = res.NextCursor
			}
			require.Len(t, seen, websearchtest.N)
			if sort == "newest" {
				require.True(t, slices.IsSortedFunc(created, func(a, b time.Time) int { return b.Compare(a) }), "newest first")
			}
		})
	}
}

func TestSearchFacetsOnlyWhenAsked(t *testing.T) {
	srv := searchServer(t)

	_, body := get(t, srv, "/api/v1/search?q=ducks", nil)
	var raw map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(body, &raw))
	require.NotContains(t, raw, "facets")

	status, res, body := searchGet(t, srv, "q=ducks&facets=1&limit=1")
	require.Equal(t, http.StatusOK, status, "%s", body)
	require.Len(t, res.Facets, 4)
	require.ElementsMatch(t, []facetCountJSON{
		{"a.example", websearchtest.Count(func(i int) bool { return i%3 == 0 })},
		{"b.example", websearchtest.Count(func(i int) bool { return i%3 == 1 })},
		{"c.example", websearchtest.Count(func(i int) bool { return i%3 == 2 })},
	}, res.Facets["instance"])
	require.ElementsMatch(t, []facetCountJSON{{"en", 65}, {"de", 65}}, res.Facets["language"])
	require.Contains(t, res.Facets["hashtag"], facetCountJSON{"ducks", websearchtest.N})
	require.ElementsMatch(t, []facetCountJSON{{"2026-10", 12}, {"2026-11", websearchtest.N - 12}}, res.Facets["month"])

	// No match: the facets are there, as empty arrays.
	_, body = get(t, srv, "/api/v1/search?q=nothingmatchesthis&facets=1", nil)
	require.JSONEq(t, `{"total":0,"hits":[],"facets":{"instance":[],"language":[],"hashtag":[],"month":[]}}`, string(body))
}

// TestSearchHostilePostsComeBackHarmless searches the posts whose every
// field carries script: the snippets and the HTML a client embeds hold
// nothing that runs, and the links are http(s) or absent.
func TestSearchHostilePostsComeBackHarmless(t *testing.T) {
	srv := searchServer(t)
	status, res, body := searchGet(t, srv, "q="+websearchtest.HostileWord+"&limit=100")
	require.Equal(t, http.StatusOK, status, "%s", body)
	require.Len(t, res.Hits, len(websearchtest.Hostile()))
	for _, h := range res.Hits {
		require.Empty(t, websearchtest.Active(t, h.Snippet), "snippet of %s: %s", h.URI, h.Snippet)
		require.Empty(t, websearchtest.Active(t, h.HTML), "html of %s: %s", h.URI, h.HTML)
		if h.URL != "" {
			u, err := url.Parse(h.URL)
			require.NoError(t, err)
			require.Contains(t, []string{"http", "https"}, u.Scheme)
			require.NotContains(t, h.URL, `"`)
		}
	}

	resp, _ := get(t, srv, "/api/v1/search?q=ducks", nil)
	require.Equal(t, "*", resp.Header.Get("Access-Control-Allow-Origin"))
	require.Equal(t, "public, max-age=60", resp.Header.Get("Cache-Control"))
	require.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
}
