package api

import (
	"fmt"
	"net/http"

	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/sanitize"
	"github.com/fedilens/fedilens/internal/websearch"
)

// searchPosts answers GET /api/v1/search. The parameters are the search
// page's (see websearch.Parse): q, sort, the filters instance, lang, tag,
// from, since and until (repeatable up to 10 times each, all combined by
// AND), facets, limit (default 20, capped at 100) and cursor.
//
// The index promises harmless output, and the API checks it once more on
// the way out, because API clients embed what they get: a snippet with any
// markup but <mark> is sent escaped, a post link that is not http(s) is
// left out, and the post HTML is run through the sanitiser again.
func (a *API) searchPosts(r *http.Request) (any, error) {
	if a.search == nil {
		return nil, notFound("search is not enabled on this server")
	}
	q, err := websearch.Parse(r.URL.Query())
	if err != nil {
		return nil, badRequest("%s", err.Error())
	}
	if websearch.Empty(q) {
		return nil, badRequest("q or a filter (instance, lang, tag, from, since, until) is required")
	}
	res, err := a.search.Search(r.Context(), q)
	if err != nil {
		return nil, fmt.Errorf("search posts: %w", err)
	}
	out := searchResultJSON{
		Total:      res.Total,
		Hits:       make([]model.SearchHit, 0, len(res.Hits)),
		NextCursor: res.NextCursor,
	}
	for _, h := range res.Hits {
		out.Hits = append(out.Hits, searchHit(h))
	}
	// Facets cost the index work and the client bytes: they are sent only
	// when asked for, whatever the index returned.
	if q.Facets {
		out.Facets = newFacetsJSON(res.Facets)
	}
	return out, nil
}

// searchResultJSON is one page of search results.
type searchResultJSON struct {
	Total      uint64            `json:"total"`
	Hits       []model.SearchHit `json:"hits"`
	NextCursor string            `json:"next_cursor,omitempty"`
	Facets     *facetsJSON       `json:"facets,omitempty"`
}

// searchHit is one post found, as the API shows it: model.SearchHit (its
// JSON form is the API's) with the snippet and the HTML sanitised once
// more and the URL kept only when it is http(s). Text fields are plain
// text; snippet and html are HTML that is safe to embed.
func searchHit(h model.SearchHit) model.SearchHit {
	h.Snippet, _ = websearch.Snippet(h.Snippet)
	h.URL = websearch.HTTPURL(h.URL)
	h.Created = h.Created.UTC()
	if h.HTML != "" {
		h.HTML = sanitize.HTML(h.HTML)
	}
	return h
}

// facetsJSON are the counts over all matches, top values first. Every
// facet is an array, never null.
type facetsJSON struct {
	Instance []facetCountJSON `json:"instance"`
	Language []facetCountJSON `json:"language"`
	Hashtag  []facetCountJSON `json:"hashtag"`
	Month    []facetCountJSON `json:"month"`
}

type facetCountJSON struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

func newFacetsJSON(f *model.Facets) *facetsJSON {
	if f == nil {
		f = &model.Facets{}
	}
	conv := func(in []model.FacetCount) []facetCountJSON {
		out := make([]facetCountJSON, 0, len(in))
		for _, c := range in {
			out = append(out, facetCountJSON{Value: c.Value, Count: c.Count})
		}
		return out
	}
	return &facetsJSON{
		Instance: conv(f.Instance),
		Language: conv(f.Language),
		Hashtag:  conv(f.Hashtag),
		Month:    conv(f.Month),
	}
}
