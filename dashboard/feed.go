package dashboard

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/sanitize"
	"github.com/fedilens/fedilens/internal/websearch"
)

// feedEntries is how many posts a feed carries: the newest ones.
const feedEntries = 50

// feedCSP applies when a browser opens a feed directly: nothing in it may
// load or run anything.
const feedCSP = "default-src 'none'; sandbox; frame-ancestors 'none'"

// atomFeed is an Atom feed (RFC 4287).
type atomFeed struct {
	XMLName   xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID        string      `xml:"id"`
	Title     string      `xml:"title"`
	Subtitle  string      `xml:"subtitle,omitempty"`
	Updated   string      `xml:"updated"`
	Links     []atomLink  `xml:"link"`
	Author    atomPerson  `xml:"author"`
	Generator string      `xml:"generator"`
	Entries   []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomPerson struct {
	Name string `xml:"name"`
	URI  string `xml:"uri,omitempty"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

type atomCategory struct {
	Term string `xml:"term,attr"`
}

type atomEntry struct {
	ID         string         `xml:"id"`
	Title      atomText       `xml:"title"`
	Updated    string         `xml:"updated"`
	Published  string         `xml:"published"`
	Author     atomPerson     `xml:"author"`
	Links      []atomLink     `xml:"link"`
	Categories []atomCategory `xml:"category"`
	Summary    *atomText      `xml:"summary"`
	Content    atomText       `xml:"content"`
}

// feed answers GET /search.atom: the newest posts of a search, as Atom, so
// people can follow a query in their feed reader. It takes the search
// page's parameters (except sort, limit and cursor: a feed is always the
// newest feedEntries posts).
//
// Feed readers render entry content as HTML with whatever protection they
// have, often none: the content is the post's HTML sanitised again here
// (or the index's checked snippet), and escaped once for XML.
func (d *Dashboard) feed(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", feedCSP)
	h.Set("Referrer-Policy", "no-referrer")
	// Feeds are public data; web-based readers fetch them cross-origin.
	h.Set("Access-Control-Allow-Origin", "*")
	if d.search == nil {
		plainError(w, http.StatusNotFound, "search is not enabled on this server")
		return
	}
	q, err := websearch.Parse(r.URL.Query())
	if err != nil {
		plainError(w, http.StatusBadRequest, err.Error())
		return
	}
	if websearch.Empty(q) {
		plainError(w, http.StatusBadRequest, "q or a filter (instance, lang, tag, from, since, until) is required")
		return
	}
	q.Sort, q.Limit, q.Cursor, q.Facets = model.SortNewest, feedEntries, "", false
	found, err := d.search.Search(r.Context(), q)
	if errors.Is(err, model.ErrBadQuery) {
		plainError(w, http.StatusBadRequest, clip(300, err.Error()))
		return
	}
	if err != nil {
		if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
			d.log.Debug("feed abandoned by client", "path", r.URL.Path, "err", err)
		} else {
			d.log.Error("search feed failed", "path", r.URL.Path, "err", err)
		}
		plainError(w, http.StatusInternalServerError, "internal error")
		return
	}
	base := d.baseURL(r)
	body, err := xml.MarshalIndent(newAtomFeed(base, q, found, time.Now()), "", " ")
	if err != nil {
		d.log.Error("encode search feed", "err", err)
		plainError(w, http.StatusInternalServerError, "internal error")
		return
	}
	h.Set("Content-Type", "application/atom+xml; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=300")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(body)
}

// newAtomFeed builds the feed of search q at base from its results. now is
// the feed's updated time when it has no entries.
func newAtomFeed(base string, q model.SearchQuery, found model.SearchResult, now time.Time) atomFeed {
	linkQuery := q
	linkQuery.Sort, linkQuery.Limit, linkQuery.Cursor, linkQuery.Facets = "", 0, "", false
	params := websearch.Values(linkQuery).Encode()
	self := base + feedPath + "?" + params
	page := linkQuery
	page.Sort = model.SortNewest
	f := atomFeed{
		ID:       self,
		Title:    "fedilens search: " + describe(linkQuery),
		Subtitle: "The newest public posts matching this search, from people who opted in to search.",
		Links: []atomLink{
			{Rel: "self", Type: "application/atom+xml", Href: self},
			{Rel: "alternate", Type: "text/html", Href: base + searchPath + "?" + websearch.Values(page).Encode()},
		},
		Author:    atomPerson{Name: "fedilens", URI: base + "/about"},
		Generator: "fedilens",
	}
	var updated time.Time
	for _, h := range found.Hits {
		f.Entries = append(f.Entries, newAtomEntry(h))
		if h.Created.After(updated) {
			updated = h.Created.UTC()
		}
	}
	if updated.IsZero() {
		updated = now.UTC()
	}
	f.Updated = updated.Format(time.RFC3339)
	return f
}

func newAtomEntry(h model.SearchHit) atomEntry {
	created := h.Created.UTC().Format(time.RFC3339)
	snippet, _ := websearch.Snippet(h.Snippet)
	content := snippet
	if h.HTML != "" {
		content = sanitize.HTML(h.HTML)
	}
	e := atomEntry{
		ID:        entryID(h.URI),
		Title:     atomText{Type: "text", Body: entryTitle(h, snippet)},
		Updated:   created,
		Published: created,
		Author:    atomPerson{Name: cmp.Or(strings.TrimSpace(h.AuthorName), h.Author, "unknown")},
		Content:   atomText{Type: "html", Body: content},
	}
	if h.AuthorName != "" && h.Author != "" {
		e.Author.Name = strings.TrimSpace(h.AuthorName) + " (" + h.Author + ")"
	}
	if link := cmp.Or(websearch.HTTPURL(h.URL), websearch.HTTPURL(h.URI)); link != "" {
		e.Links = append(e.Links, atomLink{Rel: "alternate", Type: "text/html", Href: link})
	}
	for _, t := range h.Tags {
		e.Categories = append(e.Categories, atomCategory{Term: t})
	}
	if h.Summary != "" {
		e.Summary = &atomText{Type: "text", Body: h.Summary}
	}
	return e
}

// entryID is the post URI when it is an http(s) IRI (ActivityPub ids
// are), and otherwise a stable URN derived from it: readers may follow an
// id as a link when an entry has none, so it must never be javascript:.
func entryID(uri string) string {
	if u := websearch.HTTPURL(uri); u != "" {
		return u
	}
	sum := sha256.Sum256([]byte(uri))
	return "urn:fedilens:post:" + hex.EncodeToString(sum[:16])
}

// markTags finds the index's highlight markup in a checked snippet.
var markTags = regexp.MustCompile(`</?mark>`)

// entryTitle is the content warning, or else the start of the text: Atom
// requires a title, and posts have none.
func entryTitle(h model.SearchHit, snippet string) string {
	if h.Summary != "" {
		return clip(100, "CW: "+h.Summary)
	}
	text := strings.Join(strings.Fields(html.UnescapeString(markTags.ReplaceAllString(snippet, ""))), " ")
	return cmp.Or(clip(100, text), "Post by "+cmp.Or(h.Author, "unknown"))
}

// describe is a search in words for the feed title.
func describe(q model.SearchQuery) string {
	var parts []string
	if q.Q != "" {
		parts = append(parts, q.Q)
	}
	v := websearch.Values(q)
	v.Del(websearch.ParamQ)
	for _, name := range []string{websearch.ParamInstance, websearch.ParamLang, websearch.ParamTag, websearch.ParamFrom, websearch.ParamSince, websearch.ParamUntil} {
		for _, s := range v[name] {
			parts = append(parts, name+":"+s)
		}
	}
	return clip(200, strings.Join(parts, " "))
}

// baseURL is the public address of the server, for absolute links: the
// configured one, or else the request's scheme and Host header, when the
// header is a plausible host (it is client input).
func (d *Dashboard) baseURL(r *http.Request) string {
	if d.opts.BaseURL != "" {
		return strings.TrimSuffix(d.opts.BaseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := strings.ToLower(r.Host)
	if !requestHost.MatchString(host) {
		host = "localhost"
	}
	return scheme + "://" + host
}

// requestHost is what baseURL accepts from a Host header: a name or an IP
// (IPv6 in brackets) with an optional port.
var requestHost = regexp.MustCompile(`^([a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?|\[[0-9a-f:.]{2,45}\])(:[0-9]{1,5})?$`)

// checkBaseURL validates Options.BaseURL: empty, or an absolute http(s)
// URL without path, query or user information.
func checkBaseURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("dashboard: BaseURL %q is not an http(s) origin like https://fedilens.example", raw)
	}
	return nil
}

// plainError answers a feed or description request that failed: feed
// readers show the status, people the short text.
func plainError(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(message + "\n"))
}
