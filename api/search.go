package api

import (
	"fmt"
	"net/http"
	"time"

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
		Hits:       make([]searchHitJSON, 0, len(res.Hits)),
		NextCursor: res.NextCursor,
	}
	for _, h := range res.Hits {
		out.Hits = append(out.Hits, newSearchHitJSON(h))
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
	Total      uint64          `json:"total"`
	Hits       []searchHitJSON `json:"hits"`
	NextCursor string          `json:"next_cursor,omitempty"`
	Facets     *facetsJSON     `json:"facets,omitempty"`
}

// searchHitJSON is one post found. Text fields are plain text; snippet and
// html are HTML that is safe to embed.
type searchHitJSON struct {
	URI        string    `json:"uri"`
	URL        string    `json:"url,omitempty"`
	Host       string    `json:"host"`
	Author     string    `json:"author"`
	AuthorName string    `json:"author_name,omitempty"`
	Created    time.Time `json:"created"`
	Language   string    `json:"language,omitempty"`
	Summary    string    `json:"summary,omitempty"`
	Snippet    string    `json:"snippet"`
	Tags       []string  `json:"tags,omitempty"`
	Score      float64   `json:"score"`
	Kind       string    `json:"kind,omitempty"`
	Sensitive  bool      `json:"sensitive,omitempty"`
	HTML       string    `json:"html,omitempty"`
}

func newSearchHitJSON(h model.SearchHit) searchHitJSON {
	snippet, _ := websearch.Snippet(h.Snippet)
	out := searchHitJSON{
		URI:        h.URI,
		URL:        websearch.HTTPURL(h.URL),
		Host:       h.Host,
		Author:     h.Author,
		AuthorName: h.AuthorName,
		Created:    h.Created.UTC(),
		Language:   h.Language,
		Summary:    h.Summary,
		Snippet:    snippet,
		Tags:       h.Tags,
		Score:      h.Score,
		Kind:       h.Kind,
		Sensitive:  h.Sensitive,
	}
	if h.HTML != "" {
		out.HTML = sanitize.HTML(h.HTML)
	}
	return out
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
