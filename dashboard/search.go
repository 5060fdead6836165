package dashboard

import (
	"cmp"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/websearch"
)

// Routes of the search: the page, its Atom feed and the OpenSearch
// description that lets browsers add fedilens as a search engine.
const (
	searchPath     = "/search"
	feedPath       = "/search.atom"
	openSearchPath = "/opensearch.xml"
)

// searchCSP is the search page's policy: the dashboard's, without even
// inline styles. The page runs no script at all and works with JavaScript
// off; it shows more remote text than any other page, so it gets the
// tightest policy.
const searchCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// registerSearch mounts the search page, the feed and the OpenSearch
// description.
func (d *Dashboard) registerSearch(mux *http.ServeMux) {
	mux.Handle("GET "+searchPath, withCSP(searchCSP, d.page(d.searchPage)))
	mux.Handle("GET "+feedPath, http.HandlerFunc(d.feed))
	mux.Handle("GET "+openSearchPath, http.HandlerFunc(d.openSearch))
}

// withCSP replaces the Content-Security-Policy that next sets by csp, when
// the status line is written (after securityHeaders has run).
func withCSP(csp string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&cspWriter{ResponseWriter: w, csp: csp}, r)
	})
}

type cspWriter struct {
	http.ResponseWriter
	csp   string
	wrote bool
}

func (w *cspWriter) WriteHeader(status int) {
	if !w.wrote {
		w.wrote = true
		w.Header().Set("Content-Security-Policy", w.csp)
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *cspWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// searchData is what templates/search.html shows.
type searchData struct {
	// Q is the query text as typed, for the form.
	Q       string
	Enabled bool
	// Error is a message about the query, safe to show.
	Error string
	Ran   bool
	Total uint64
	Hits  []hitView
	Form  searchForm
	// Active are the filters given as parameters, each with a link that
	// removes it.
	Active []activeFilter
	Facets []facetGroup
	// NextPath is the next page of results, "" on the last page.
	NextPath string
	// FeedPath is the Atom feed of this search, APIPath the same search in
	// the JSON API.
	FeedPath string
	APIPath  string
}

// searchForm holds the form's values as the visitor typed them.
type searchForm struct {
	Sort string
	// Fields are the repeatable filters: an input per value given, and an
	// empty one to add another.
	Fields       []filterField
	Since, Until string
	// Any opens the filters part of the form when a filter is set.
	Any bool
}

type filterField struct {
	ID, Name, Label, Placeholder string
	Values                       []string
}

type hitView struct {
	model.SearchHit
	// SnippetHTML is the checked snippet (see websearch.Snippet).
	SnippetHTML template.HTML
	// Link is the post's http(s) address, "" when it has none.
	Link string
	// InstancePath is the author's instance page, "" for odd hosts.
	InstancePath string
	// TagLinks are the post's hashtags, each linking to this search
	// narrowed to it ("" Path when the tag cannot be a filter).
	TagLinks []valueLink
}

type valueLink struct {
	Label string
	Path  string
}

type activeFilter struct {
	Label      string
	Value      string
	RemovePath string
}

// facetGroup is one facet: its values with their counts, each a link that
// adds the value as a filter.
type facetGroup struct {
	Heading string
	Values  []facetValue
}

type facetValue struct {
	Label string
	Count int
	// Path adds the value to the search; "" when the value cannot be a
	// filter (hostile or odd values are shown, not linked).
	Path string
}

func (d *Dashboard) searchPage(r *http.Request) (pageResult, error) {
	params := r.URL.Query()
	data := searchData{Enabled: d.search != nil, Form: formValues(params)}
	data.Q = clip(websearch.MaxQueryLen, strings.TrimSpace(params.Get(websearch.ParamQ)))
	res := pageResult{name: "search", title: "Search", data: &data}
	if !data.Enabled {
		res.status = http.StatusNotFound
		return res, nil
	}
	if len(strings.TrimSpace(params.Get(websearch.ParamQ))) > websearch.MaxQueryLen {
		data.Error = fmt.Sprintf("The query is longer than %d bytes.", websearch.MaxQueryLen)
		res.status = http.StatusBadRequest
		return res, nil
	}
	q, err := websearch.Parse(params)
	if err != nil {
		data.Error = capitalise(err.Error()) + "."
		res.status = http.StatusBadRequest
		return res, nil
	}
	if websearch.Empty(q) {
		return res, nil
	}
	// The page always shows facets and pages of its own size; the
	// parameters' limit and facets only matter to the API.
	q.Limit, q.Facets = searchPageSize, true
	base := q
	base.Cursor, base.Limit, base.Facets = "", 0, false

	found, err := d.search.Search(r.Context(), q)
	if errors.Is(err, model.ErrBadQuery) {
		// The index's contract: this message is safe to show.
		data.Error = clip(300, err.Error())
		res.status = http.StatusBadRequest
		return res, nil
	}
	if err != nil {
		return pageResult{}, fmt.Errorf("search posts: %w", err)
	}
	res.title = "Search: " + clip(60, cmp.Or(q.Q, "filters"))
	data.Ran, data.Total = true, found.Total
	for _, h := range found.Hits {
		snippet, _ := websearch.Snippet(h.Snippet)
		hv := hitView{
			SearchHit:    h,
			SnippetHTML:  template.HTML(snippet), //nolint:gosec // only <mark> markup: checked by websearch.Snippet
			Link:         cmp.Or(websearch.HTTPURL(h.URL), websearch.HTTPURL(h.URI)),
			InstancePath: instancePath(h.Host),
		}
		for _, tag := range h.Tags {
			hv.TagLinks = append(hv.TagLinks, valueLink{Label: tag, Path: narrowed(base, func(q *model.SearchQuery) {
				q.Tags = appendNew(q.Tags, tag)
			})})
		}
		data.Hits = append(data.Hits, hv)
	}
	data.Active = activeFilters(base)
	data.Facets = facetGroups(base, found.Facets)
	if found.NextCursor != "" {
		v := websearch.Values(base)
		v.Set(websearch.ParamCursor, found.NextCursor)
		data.NextPath = searchPath + "?" + v.Encode()
	}
	data.FeedPath = feedPath + "?" + websearch.Values(base).Encode()
	api := base
	api.Facets = true
	data.APIPath = "/api/v1/search?" + websearch.Values(api).Encode()
	return res, nil
}

// formValues returns the parameters as typed, bounded, for the form: after
// a bad query the visitor sees what they sent and can fix it.
func formValues(params url.Values) searchForm {
	list := func(name string) []string {
		var out []string
		for _, v := range params[name] {
			if v = strings.TrimSpace(v); v != "" && len(out) < websearch.MaxValues {
				out = append(out, clip(100, v))
			}
		}
		return out
	}
	f := searchForm{
		Sort: params.Get(websearch.ParamSort),
		Fields: []filterField{
			{ID: "f-instance", Name: websearch.ParamInstance, Label: "Instance", Placeholder: "mastodon.social", Values: list(websearch.ParamInstance)},
			{ID: "f-lang", Name: websearch.ParamLang, Label: "Language", Placeholder: "en", Values: list(websearch.ParamLang)},
			{ID: "f-tag", Name: websearch.ParamTag, Label: "Hashtag", Placeholder: "#fediverse", Values: list(websearch.ParamTag)},
			{ID: "f-from", Name: websearch.ParamFrom, Label: "Author", Placeholder: "user@host", Values: list(websearch.ParamFrom)},
		},
		Since: clip(10, strings.TrimSpace(params.Get(websearch.ParamSince))),
		Until: clip(10, strings.TrimSpace(params.Get(websearch.ParamUntil))),
	}
	f.Any = f.Since != "" || f.Until != ""
	for _, field := range f.Fields {
		f.Any = f.Any || len(field.Values) > 0
	}
	return f
}

// narrowed returns the search page of base changed by edit, or "" when the
// result is not a valid search (a hostile facet value, an 11th filter).
func narrowed(base model.SearchQuery, edit func(*model.SearchQuery)) string {
	q := base
	q.Hosts, q.Langs, q.Tags, q.Authors = slices.Clone(q.Hosts), slices.Clone(q.Langs), slices.Clone(q.Tags), slices.Clone(q.Authors)
	edit(&q)
	v := websearch.Values(q)
	if _, err := websearch.Parse(v); err != nil {
		return ""
	}
	return searchPath + "?" + v.Encode()
}

func appendNew(list []string, v string) []string {
	if slices.Contains(list, v) {
		return list
	}
	return append(list, v)
}

func without(list []string, v string) []string {
	return slices.DeleteFunc(slices.Clone(list), func(s string) bool { return s == v })
}

// activeFilters lists base's parameter filters with links that drop them.
func activeFilters(base model.SearchQuery) []activeFilter {
	var out []activeFilter
	for _, f := range []struct {
		label string
		vals  []string
		field func(*model.SearchQuery) *[]string
	}{
		{"instance", base.Hosts, func(q *model.SearchQuery) *[]string { return &q.Hosts }},
		{"language", base.Langs, func(q *model.SearchQuery) *[]string { return &q.Langs }},
		{"hashtag", base.Tags, func(q *model.SearchQuery) *[]string { return &q.Tags }},
		{"author", base.Authors, func(q *model.SearchQuery) *[]string { return &q.Authors }},
	} {
		for _, v := range f.vals {
			out = append(out, activeFilter{Label: f.label, Value: v, RemovePath: narrowed(base, func(q *model.SearchQuery) {
				p := f.field(q)
				*p = without(*p, v)
			})})
		}
	}
	if !base.Since.IsZero() {
		out = append(out, activeFilter{Label: "since", Value: base.Since.UTC().Format(time.DateOnly),
			RemovePath: narrowed(base, func(q *model.SearchQuery) { q.Since = time.Time{} })})
	}
	if !base.Until.IsZero() {
		out = append(out, activeFilter{Label: "until", Value: base.Until.UTC().AddDate(0, 0, -1).Format(time.DateOnly),
			RemovePath: narrowed(base, func(q *model.SearchQuery) { q.Until = time.Time{} })})
	}
	return out
}

// monthPattern is the month facet's value form.
var monthPattern = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}$`)

// facetGroups turns the index's facet counts into links that add each
// value to the search. The month facet narrows since/until to the month.
func facetGroups(base model.SearchQuery, f *model.Facets) []facetGroup {
	if f == nil {
		return nil
	}
	group := func(heading string, counts []model.FacetCount, label func(string) string, edit func(*model.SearchQuery, string) bool) facetGroup {
		g := facetGroup{Heading: heading}
		for _, c := range counts {
			fv := facetValue{Label: clip(80, label(c.Value)), Count: c.Count}
			ok := true
			path := narrowed(base, func(q *model.SearchQuery) { ok = edit(q, c.Value) })
			if ok {
				fv.Path = path
			}
			g.Values = append(g.Values, fv)
		}
		return g
	}
	same := func(s string) string { return s }
	groups := []facetGroup{
		group("Instance", f.Instance, same, func(q *model.SearchQuery, v string) bool {
			q.Hosts = appendNew(q.Hosts, v)
			return true
		}),
		group("Language", f.Language, same, func(q *model.SearchQuery, v string) bool {
			q.Langs = appendNew(q.Langs, v)
			return true
		}),
		group("Hashtag", f.Hashtag, func(s string) string { return "#" + s }, func(q *model.SearchQuery, v string) bool {
			q.Tags = appendNew(q.Tags, v)
			return true
		}),
		group("Month", f.Month, same, func(q *model.SearchQuery, v string) bool {
			if !monthPattern.MatchString(v) {
				return false
			}
			m, err := time.Parse("2006-01", v)
			if err != nil {
				return false
			}
			q.Since, q.Until = m, m.AddDate(0, 1, 0)
			return true
		}),
	}
	return slices.DeleteFunc(groups, func(g facetGroup) bool { return len(g.Values) == 0 })
}

// capitalise upper-cases the first ASCII letter of a message.
func capitalise(s string) string {
	if s != "" && s[0] >= 'a' && s[0] <= 'z' {
		return string(s[0]-'a'+'A') + s[1:]
	}
	return s
}
