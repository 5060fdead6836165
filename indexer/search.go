package indexer

import (
	"context"
	"encoding/base64"
	"fmt"
	"html"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/fedilens/fedilens/internal/model"
)

// Limits on what one query may ask for. Queries are built only from match,
// phrase, term and date-range queries: there is no wildcard, regexp or fuzzy
// form at all, so no query can be expensive beyond these bounds.
const (
	MaxLimit     = 100
	DefaultLimit = 20
	MaxClauses   = 32
	MaxQueryLen  = 1000
	MaxOffset    = 10000
	snippetRunes = 240
)

// Parsed is a query in fedilens's search syntax, parsed:
//
//	word              the word, in the text or the content warning
//	"a phrase"        the exact phrase in the text
//	-word, -"phrase"  excluded
//	#tag              posts with the hashtag
//	from:user@host    posts by the author
//	instance:host     posts from the instance
//	lang:xx           posts in the language (ISO 639-1)
//	since:YYYY-MM-DD  posts created on or after the day (UTC)
//	until:YYYY-MM-DD  posts created before the end of the day (UTC)
//
// Everything is case-insensitive. Any other "key:value" is an ordinary word.
type Parsed struct {
	Words, Phrases, NotWords, NotPhrases []string
	Tags, Authors, Hosts, Langs          []string
	Since, Until                         time.Time
}

// Parse parses q. Errors wrap model.ErrBadQuery and their message is safe to
// show to the user.
func Parse(q string) (Parsed, error) {
	var p Parsed
	if !utf8.ValidString(q) {
		return p, fmt.Errorf("%w: the query is not valid UTF-8", model.ErrBadQuery)
	}
	if len(q) > MaxQueryLen {
		return p, fmt.Errorf("%w: the query is longer than %d bytes", model.ErrBadQuery, MaxQueryLen)
	}
	toks, err := tokenize(q)
	if err != nil {
		return p, err
	}
	if len(toks) > MaxClauses {
		return p, fmt.Errorf("%w: the query has more than %d terms", model.ErrBadQuery, MaxClauses)
	}
	for _, t := range toks {
		if t.phrase {
			if t.neg {
				p.NotPhrases = append(p.NotPhrases, t.text)
			} else {
				p.Phrases = append(p.Phrases, t.text)
			}
			continue
		}
		word := t.text
		key, val, hasKey := strings.Cut(word, ":")
		if t.neg {
			p.NotWords = append(p.NotWords, word)
			continue
		}
		switch {
		case strings.HasPrefix(word, "#") && len(word) > 1:
			p.Tags = append(p.Tags, strings.ToLower(word[1:]))
		case hasKey && val != "" && strings.EqualFold(key, "from"):
			p.Authors = append(p.Authors, strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(val, "acct:"), "@")))
		case hasKey && val != "" && strings.EqualFold(key, "instance"):
			p.Hosts = append(p.Hosts, strings.TrimSuffix(strings.ToLower(val), "."))
		case hasKey && val != "" && strings.EqualFold(key, "lang"):
			p.Langs = append(p.Langs, strings.ToLower(val))
		case hasKey && (strings.EqualFold(key, "since") || strings.EqualFold(key, "until")):
			d, err := time.Parse("2006-01-02", val)
			if err != nil {
				return p, fmt.Errorf("%w: %s: wants a date like 2026-01-31", model.ErrBadQuery, strings.ToLower(key))
			}
			if strings.EqualFold(key, "since") {
				p.Since = d
			} else {
				p.Until = d.Add(24 * time.Hour)
			}
		default:
			p.Words = append(p.Words, word)
		}
	}
	if len(p.Words)+len(p.Phrases)+len(p.Tags)+len(p.Authors)+len(p.Hosts)+len(p.Langs) == 0 && p.Since.IsZero() && p.Until.IsZero() {
		return p, fmt.Errorf("%w: the query needs at least one word, phrase or filter", model.ErrBadQuery)
	}
	return p, nil
}

type token struct {
	text   string
	phrase bool
	neg    bool
}

func tokenize(q string) ([]token, error) {
	var toks []token
	rs := []rune(q)
	for i := 0; i < len(rs); {
		if unicode.IsSpace(rs[i]) {
			i++
			continue
		}
		neg := false
		if rs[i] == '-' && i+1 < len(rs) && !unicode.IsSpace(rs[i+1]) {
			neg = true
			i++
		}
		if rs[i] == '"' {
			end := i + 1
			for end < len(rs) && rs[end] != '"' {
				end++
			}
			if end >= len(rs) {
				return nil, fmt.Errorf("%w: a phrase is missing its closing quote", model.ErrBadQuery)
			}
			text := strings.TrimSpace(string(rs[i+1 : end]))
			if text != "" {
				toks = append(toks, token{text: text, phrase: true, neg: neg})
			}
			i = end + 1
			continue
		}
		start := i
		for i < len(rs) && !unicode.IsSpace(rs[i]) {
			i++
		}
		toks = append(toks, token{text: string(rs[start:i]), neg: neg})
	}
	return toks, nil
}

// bleveQuery turns a parsed query into a Bleve query.
func (p Parsed) bleveQuery() query.Query {
	var must, mustNot []query.Query
	for _, w := range p.Words {
		t := bleve.NewMatchQuery(w)
		t.SetField("text")
		t.SetOperator(query.MatchQueryOperatorAnd)
		s := bleve.NewMatchQuery(w)
		s.SetField("summary")
		s.SetOperator(query.MatchQueryOperatorAnd)
		must = append(must, bleve.NewDisjunctionQuery(t, s))
	}
	for _, ph := range p.Phrases {
		q := bleve.NewMatchPhraseQuery(ph)
		q.SetField("text")
		must = append(must, q)
	}
	term := func(field, v string) query.Query {
		q := bleve.NewTermQuery(v)
		q.SetField(field)
		return q
	}
	for _, v := range p.Tags {
		must = append(must, term("tags", v))
	}
	for _, v := range p.Authors {
		must = append(must, term("author", v))
	}
	for _, v := range p.Hosts {
		must = append(must, term("host", v))
	}
	for _, v := range p.Langs {
		must = append(must, term("lang", v))
	}
	if !p.Since.IsZero() || !p.Until.IsZero() {
		var start, end time.Time
		if !p.Since.IsZero() {
			start = p.Since
		}
		if !p.Until.IsZero() {
			end = p.Until
		}
		q := bleve.NewDateRangeQuery(start, end)
		q.SetField("created")
		must = append(must, q)
	}
	for _, w := range p.NotWords {
		t := bleve.NewMatchQuery(w)
		t.SetField("text")
		t.SetOperator(query.MatchQueryOperatorAnd)
		mustNot = append(mustNot, t)
	}
	for _, ph := range p.NotPhrases {
		q := bleve.NewMatchPhraseQuery(ph)
		q.SetField("text")
		mustNot = append(mustNot, q)
	}
	b := bleve.NewBooleanQuery()
	b.AddMust(must...)
	if len(mustNot) > 0 {
		b.AddMustNot(mustNot...)
	}
	return b
}

// Search runs q. Bad queries and bad cursors wrap model.ErrBadQuery.
func (ix *Index) Search(ctx context.Context, q model.SearchQuery) (model.SearchResult, error) {
	var res model.SearchResult
	p, err := Parse(q.Q)
	if err != nil {
		return res, err
	}
	limit := q.Limit
	switch {
	case limit <= 0:
		limit = DefaultLimit
	case limit > MaxLimit:
		limit = MaxLimit
	}
	offset, err := decodeCursor(q.Cursor)
	if err != nil {
		return res, err
	}
	req := bleve.NewSearchRequestOptions(p.bleveQuery(), limit, offset, false)
	req.Fields = []string{"host", "author", "author_name", "lang", "tags", "created", "url", "summary", "text"}
	req.Highlight = bleve.NewHighlightWithStyle("html")
	req.Highlight.AddField("text")
	req.SortBy([]string{"-_score", "-created", "_id"})
	sr, err := ix.idx.SearchInContext(ctx, req)
	if err != nil {
		return res, fmt.Errorf("searching index: %w", err)
	}
	res.Total = sr.Total
	res.Hits = make([]model.SearchHit, 0, len(sr.Hits))
	for _, h := range sr.Hits {
		res.Hits = append(res.Hits, toHit(h))
	}
	if next := offset + len(sr.Hits); uint64(next) < sr.Total && next <= MaxOffset && len(sr.Hits) == limit {
		res.NextCursor = encodeCursor(next)
	}
	return res, nil
}

func toHit(h *search.DocumentMatch) model.SearchHit {
	str := func(k string) string {
		s, _ := h.Fields[k].(string)
		return s
	}
	hit := model.SearchHit{
		URI:        h.ID,
		URL:        str("url"),
		Host:       str("host"),
		Author:     str("author"),
		AuthorName: str("author_name"),
		Language:   str("lang"),
		Summary:    str("summary"),
		Score:      h.Score,
	}
	if c, err := time.Parse(time.RFC3339, str("created")); err == nil {
		hit.Created = c.UTC()
	}
	switch tags := h.Fields["tags"].(type) {
	case string:
		hit.Tags = []string{tags}
	case []any:
		for _, t := range tags {
			if s, ok := t.(string); ok {
				hit.Tags = append(hit.Tags, s)
			}
		}
	}
	if frags := h.Fragments["text"]; len(frags) > 0 {
		hit.Snippet = strings.Join(frags, " … ")
	} else {
		hit.Snippet = html.EscapeString(cut(str("text"), snippetRunes))
	}
	return hit
}

func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

func encodeCursor(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("o:" + strconv.Itoa(offset)))
}

func decodeCursor(c string) (int, error) {
	if c == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		if s, ok := strings.CutPrefix(string(b), "o:"); ok {
			if n, err := strconv.Atoi(s); err == nil && n >= 0 && n <= MaxOffset {
				return n, nil
			}
		}
	}
	return 0, fmt.Errorf("%w: invalid cursor", model.ErrBadQuery)
}
