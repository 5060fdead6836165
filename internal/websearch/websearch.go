// Package websearch holds the rules the search API, the search page and the
// Atom feed share: how a search is read from URL parameters (and written
// back into links), and the last checks that keep remote strings harmless
// on their way out (snippets that may carry only <mark>, links that may only
// be http or https).
//
// The three outputs must agree exactly: a page's "next" link, its feed link
// and the API call a client makes from the same parameters have to run the
// same query, so the parameters are parsed and encoded in one place.
package websearch

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/fedilens/fedilens/internal/hostname"
	"github.com/fedilens/fedilens/internal/model"
)

// The URL parameters of a search.
const (
	ParamQ        = "q"
	ParamSort     = "sort"
	ParamInstance = "instance"
	ParamLang     = "lang"
	ParamTag      = "tag"
	ParamFrom     = "from"
	ParamSince    = "since"
	ParamUntil    = "until"
	ParamFacets   = "facets"
	ParamLimit    = "limit"
	ParamCursor   = "cursor"
)

// Bounds on what one request may ask for. They keep a single request cheap
// for the index whatever a client sends.
const (
	// DefaultLimit is the page size when limit is not given.
	DefaultLimit = 20
	// MaxLimit is the largest page: a larger limit is capped to it, so a
	// client asking for more simply gets a full page.
	MaxLimit = 100
	// MaxValues is how often each filter parameter may be repeated.
	MaxValues = 10
	// MaxQueryLen bounds q in bytes.
	MaxQueryLen = 1024
	// MaxCursorLen bounds the opaque cursor in bytes.
	MaxCursorLen = 1024
	// maxValueLen bounds one filter value in bytes (a user@host handle is
	// at most a long user name and a 253-byte host).
	maxValueLen = 320
)

// dateLayout is the form of since and until.
const dateLayout = time.DateOnly

// Error is a parameter the client got wrong. It wraps model.ErrBadQuery
// and its message is safe to show as it is.
type Error struct {
	msg string
}

func (e *Error) Error() string { return e.msg }

// Unwrap makes errors.Is(err, model.ErrBadQuery) hold.
func (e *Error) Unwrap() error { return model.ErrBadQuery }

func bad(format string, args ...any) error {
	return &Error{msg: fmt.Sprintf(format, args...)}
}

// Parse reads a search from URL parameters. Filters may be repeated (up to
// MaxValues each); different filters combine with each other and with q by
// AND, and the index combines repeated values (a post has one instance,
// language and author, so those are alternatives; every tag given must be
// on the post). since and
// until are days (UTC); until includes its whole day, so SearchQuery.Until
// is the midnight after it (exclusive), as indexer.Parse reads "until:".
// An empty search (no q, no filter) is not an error here: the API answers it
// with 400, the page with the empty form (see Empty).
//
// Errors are *Error (wrapping model.ErrBadQuery) with a message that names
// the parameter.
func Parse(v url.Values) (model.SearchQuery, error) {
	var q model.SearchQuery
	q.Q = strings.TrimSpace(v.Get(ParamQ))
	if len(q.Q) > MaxQueryLen {
		return q, bad("q is longer than %d bytes", MaxQueryLen)
	}
	if !utf8.ValidString(q.Q) {
		return q, bad("q is not valid UTF-8")
	}

	switch s := v.Get(ParamSort); s {
	case "", model.SortRelevance:
		q.Sort = ""
	case model.SortNewest:
		q.Sort = model.SortNewest
	default:
		return q, bad("sort must be relevance or newest")
	}

	var err error
	if q.Hosts, err = values(v, ParamInstance, parseHost); err != nil {
		return q, err
	}
	if q.Langs, err = values(v, ParamLang, parseLang); err != nil {
		return q, err
	}
	if q.Tags, err = values(v, ParamTag, parseTag); err != nil {
		return q, err
	}
	if q.Authors, err = values(v, ParamFrom, parseAuthor); err != nil {
		return q, err
	}
	if q.Since, err = day(v, ParamSince); err != nil {
		return q, err
	}
	until, err := day(v, ParamUntil)
	if err != nil {
		return q, err
	}
	if !until.IsZero() {
		q.Until = until.AddDate(0, 0, 1)
		if !q.Since.IsZero() && until.Before(q.Since) {
			return q, bad("until is before since")
		}
	}

	switch f := v.Get(ParamFacets); f {
	case "", "0", "false":
	case "1", "true":
		q.Facets = true
	default:
		return q, bad("facets must be 1 or 0")
	}

	q.Limit = DefaultLimit
	if l := v.Get(ParamLimit); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			return q, bad("limit must be a positive integer")
		}
		q.Limit = min(n, MaxLimit)
	}

	q.Cursor = v.Get(ParamCursor)
	if len(q.Cursor) > MaxCursorLen {
		return q, bad("cursor is longer than %d bytes", MaxCursorLen)
	}
	return q, nil
}

// Empty reports whether q asks for nothing: no query text and no filter.
func Empty(q model.SearchQuery) bool {
	return q.Q == "" && !HasFilters(q)
}

// HasFilters reports whether q has a filter given as a parameter.
func HasFilters(q model.SearchQuery) bool {
	return len(q.Hosts)+len(q.Langs)+len(q.Tags)+len(q.Authors) > 0 || !q.Since.IsZero() || !q.Until.IsZero()
}

// Values is Parse's inverse for links: the parameters that run the same
// search (q, sort, filters, facets). Limit and cursor are left out; pages
// and feeds add them as they need. The order of url.Values.Encode is
// stable, so equal searches give equal links.
func Values(q model.SearchQuery) url.Values {
	v := url.Values{}
	if q.Q != "" {
		v.Set(ParamQ, q.Q)
	}
	if q.Sort == model.SortNewest {
		v.Set(ParamSort, model.SortNewest)
	}
	for _, p := range []struct {
		name string
		vals []string
	}{{ParamInstance, q.Hosts}, {ParamLang, q.Langs}, {ParamTag, q.Tags}, {ParamFrom, q.Authors}} {
		for _, s := range p.vals {
			v.Add(p.name, s)
		}
	}
	if !q.Since.IsZero() {
		v.Set(ParamSince, q.Since.UTC().Format(dateLayout))
	}
	if !q.Until.IsZero() {
		v.Set(ParamUntil, q.Until.UTC().AddDate(0, 0, -1).Format(dateLayout))
	}
	if q.Facets {
		v.Set(ParamFacets, "1")
	}
	return v
}

// values reads the repeated parameter name through parse, dropping
// duplicates and empty values.
func values(v url.Values, name string, parse func(string) (string, error)) ([]string, error) {
	raw := v[name]
	if len(raw) > MaxValues {
		return nil, bad("%s may be given at most %d times", name, MaxValues)
	}
	var out []string
	for _, s := range raw {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if len(s) > maxValueLen || !utf8.ValidString(s) {
			return nil, bad("%s is not valid", name)
		}
		p, err := parse(s)
		if err != nil {
			return nil, bad("%s: %v", name, err)
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

func day(v url.Values, name string) (time.Time, error) {
	raw := v[name]
	switch {
	case len(raw) == 0 || (len(raw) == 1 && strings.TrimSpace(raw[0]) == ""):
		return time.Time{}, nil
	case len(raw) > 1:
		return time.Time{}, bad("%s may be given once", name)
	}
	d, err := time.Parse(dateLayout, strings.TrimSpace(raw[0]))
	if err != nil {
		return time.Time{}, bad("%s wants a date like 2026-01-31", name)
	}
	return d.UTC(), nil
}

// parseHost accepts what the crawler stores as a host: hostname.Normalize's
// canonical form. IP literals and single-label names are accepted too (a
// local simulation stores them), since a filter only narrows a search.
func parseHost(s string) (string, error) {
	h, err := hostname.Normalize(s)
	if err != nil && !errors.Is(err, hostname.ErrIPLiteral) && !errors.Is(err, hostname.ErrSingleLabel) {
		return "", errors.New("not a host name")
	}
	return h, nil
}

// parseLang accepts an ISO 639 code (two or three letters), the primary
// tag of what posts record as their language.
func parseLang(s string) (string, error) {
	s = strings.ToLower(s)
	if len(s) < 2 || len(s) > 3 || strings.IndexFunc(s, func(r rune) bool { return r < 'a' || r > 'z' }) >= 0 {
		return "", errors.New("wants a language code like en")
	}
	return s, nil
}

// parseTag accepts a hashtag with or without '#': letters, marks, digits,
// '_' and the middle dot, as Mastodon allows.
func parseTag(s string) (string, error) {
	s = strings.ToLower(strings.TrimPrefix(s, "#"))
	if s == "" || strings.IndexFunc(s, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsMark(r) && !unicode.IsDigit(r) && r != '_' && r != '·' && r != '\u200c'
	}) >= 0 {
		return "", errors.New("wants a hashtag like #fediverse")
	}
	return s, nil
}

// parseAuthor accepts user@host, optionally as @user@host or
// acct:user@host, and returns it in lower case with a canonical host.
func parseAuthor(s string) (string, error) {
	s = strings.TrimPrefix(strings.TrimPrefix(strings.ToLower(s), "acct:"), "@")
	user, host, ok := strings.Cut(s, "@")
	if !ok || user == "" || strings.ContainsAny(user, "@/:?#") || strings.IndexFunc(user, unicode.IsSpace) >= 0 {
		return "", errors.New("wants an account like user@host")
	}
	h, err := parseHost(host)
	if err != nil {
		return "", errors.New("wants an account like user@host")
	}
	return user + "@" + h, nil
}
