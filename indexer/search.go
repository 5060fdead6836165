package indexer

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
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
	// MaxFilterValues caps the values of one filter parameter
	// (SearchQuery.Hosts, ...).
	MaxFilterValues = 20
	// ExclusionWindow is how far back a query made only of exclusions
	// ("-word") searches: such a query matches nearly every post, so it
	// is bounded to the recent ones (newest first) unless since:/until:
	// say otherwise.
	ExclusionWindow = 7 * 24 * time.Hour
	// facetSize is the number of values reported per facet.
	facetSize    = 20
	snippetRunes = 240
	// snippetLead is how much text a snippet shows before the first match.
	snippetLead  = 60
	maxCursorLen = 512
)

// Parsed is a query in fedilens's search syntax, parsed:
//
//	word              the word, in the text, the content warning or the
//	                  media descriptions (matched in the post's language:
//	                  "trains" finds "train", "Züge" finds "Zug")
//	"a phrase"        the words side by side, in the text or content warning
//	-word, -"phrase"  excluded
//	#tag              posts with the hashtag (several: all of them)
//	from:user@host    posts by the author
//	instance:host     posts from the instance
//	lang:xx           posts in the language (ISO 639-1)
//	since:YYYY-MM-DD  posts created on or after the day (UTC)
//	until:YYYY-MM-DD  posts created before the end of the day (UTC)
//	-#tag, -from:user@host, -instance:host, -lang:xx
//	                  posts without the hashtag, not by the author, ...
//
// Everything is case-insensitive. Several words must all match; from:,
// instance: and lang: given several times match any of their values.
// Posts with the words side by side, tagged with a query word, or with
// the words in the text rather than the content warning rank higher.
// Any other "key:value" is an ordinary word. There are no wildcards,
// regular expressions or fuzzy matches: a word starting with "*" is
// refused, other punctuation is ignored like in the indexed text. A query
// made only of exclusions searches the posts of the last seven days
// (ExclusionWindow), newest first, unless since: or until: is given.
type Parsed struct {
	Words, Phrases, NotWords, NotPhrases []string
	Tags, Authors, Hosts, Langs          []string
	NotTags, NotAuthors, NotHosts        []string
	NotLangs                             []string
	Since, Until                         time.Time
}

// Parse parses q. Errors wrap model.ErrBadQuery and their message is safe to
// show to the user.
func Parse(q string) (Parsed, error) {
	p, err := parse(q)
	if err != nil {
		return p, err
	}
	if p.empty() {
		return p, fmt.Errorf("%w: the query needs at least one word, phrase or filter", model.ErrBadQuery)
	}
	return p, nil
}

// empty reports whether p has no clause at all.
func (p Parsed) empty() bool {
	return !p.positive() && len(p.NotWords)+len(p.NotPhrases)+len(p.NotTags)+len(p.NotAuthors)+len(p.NotHosts)+len(p.NotLangs) == 0
}

// positive reports whether p has a clause that selects posts (not only
// exclusions).
func (p Parsed) positive() bool {
	return len(p.Words)+len(p.Phrases)+len(p.Tags)+len(p.Authors)+len(p.Hosts)+len(p.Langs) > 0 ||
		!p.Since.IsZero() || !p.Until.IsZero()
}

// hasText reports whether p has words or phrases to rank by.
func (p Parsed) hasText() bool { return len(p.Words)+len(p.Phrases) > 0 }

func parse(q string) (Parsed, error) {
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
		if strings.HasPrefix(word, "*") || strings.HasPrefix(word, "#*") {
			return p, fmt.Errorf("%w: wildcards are not supported (%q): search for whole words", model.ErrBadQuery, word)
		}
		key, val, hasKey := strings.Cut(word, ":")
		pick := func(pos, neg *[]string, v string) {
			if t.neg {
				*neg = append(*neg, v)
			} else {
				*pos = append(*pos, v)
			}
		}
		switch {
		case strings.HasPrefix(word, "#") && len(word) > 1:
			pick(&p.Tags, &p.NotTags, strings.ToLower(word[1:]))
		case hasKey && val != "" && strings.EqualFold(key, "from"):
			pick(&p.Authors, &p.NotAuthors, normAuthor(val))
		case hasKey && val != "" && strings.EqualFold(key, "instance"):
			pick(&p.Hosts, &p.NotHosts, normHost(val))
		case hasKey && val != "" && strings.EqualFold(key, "lang"):
			pick(&p.Langs, &p.NotLangs, strings.ToLower(val))
		case hasKey && !t.neg && (strings.EqualFold(key, "since") || strings.EqualFold(key, "until")):
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
			pick(&p.Words, &p.NotWords, word)
		}
	}
	return p, nil
}

func normAuthor(v string) string {
	return strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(v), "acct:"), "@"))
}

func normHost(v string) string { return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(v)), ".") }

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

// plan is a query ready to run: the parsed query merged with the
// parameter filters.
type plan struct {
	p Parsed
	// Filter groups from the parameters, AND-ed with those of p.
	hosts, langs, tags, authors []string
	sort                        string
}

// newPlan merges q's parameters into its parsed query and checks them.
func newPlan(q model.SearchQuery) (plan, error) {
	p, err := parse(q.Q)
	if err != nil {
		return plan{}, err
	}
	pl := plan{p: p}
	for _, f := range []struct {
		name string
		in   []string
		out  *[]string
		norm func(string) string
	}{
		{"instance", q.Hosts, &pl.hosts, normHost},
		{"lang", q.Langs, &pl.langs, strings.ToLower},
		{"tag", q.Tags, &pl.tags, func(s string) string { return strings.ToLower(strings.TrimPrefix(strings.TrimSpace(s), "#")) }},
		{"from", q.Authors, &pl.authors, normAuthor},
	} {
		if len(f.in) > MaxFilterValues {
			return plan{}, fmt.Errorf("%w: more than %d %s filters", model.ErrBadQuery, MaxFilterValues, f.name)
		}
		for _, v := range f.in {
			if !utf8.ValidString(v) || len(v) > 300 {
				return plan{}, fmt.Errorf("%w: invalid %s filter", model.ErrBadQuery, f.name)
			}
			if v = f.norm(v); v != "" {
				*f.out = append(*f.out, v)
			}
		}
	}
	if !q.Since.IsZero() && (pl.p.Since.IsZero() || q.Since.After(pl.p.Since)) {
		pl.p.Since = q.Since
	}
	if !q.Until.IsZero() && (pl.p.Until.IsZero() || q.Until.Before(pl.p.Until)) {
		pl.p.Until = q.Until
	}
	if pl.p.empty() && len(pl.hosts)+len(pl.langs)+len(pl.tags)+len(pl.authors) == 0 {
		return plan{}, fmt.Errorf("%w: the query needs at least one word, phrase or filter", model.ErrBadQuery)
	}
	switch q.Sort {
	case "", model.SortRelevance:
		pl.sort = model.SortRelevance
		if !pl.p.hasText() {
			// Without words every match scores alike: newest first is
			// the only useful order.
			pl.sort = model.SortNewest
		}
	case model.SortNewest:
		pl.sort = model.SortNewest
	default:
		return plan{}, fmt.Errorf("%w: sort must be %q or %q", model.ErrBadQuery, model.SortRelevance, model.SortNewest)
	}
	if !pl.p.positive() && len(pl.hosts)+len(pl.langs)+len(pl.tags)+len(pl.authors) == 0 {
		pl.p.Since = time.Now().UTC().Add(-ExclusionWindow)
	}
	return pl, nil
}

// query builds the Bleve query of a plan. fams are the analyser families
// with posts in the index. A fast query searches phrases through word
// pairs (phraseQuery), which have no positions: the query for snippets'
// locations is the plain one.
func (ix *Index) query(pl plan, fams []string, fast bool) query.Query {
	p := pl.p
	var must, should, mustNot []query.Query

	if p.hasText() {
		var perFamily []query.Query
		for _, fam := range fams {
			if q := ix.familyQuery(p, fam, fast); q != nil {
				perFamily = append(perFamily, q)
			}
		}
		if len(perFamily) == 0 {
			// Nothing but stop words, or an empty index.
			return bleve.NewMatchNoneQuery()
		}
		must = append(must, disjunction(perFamily))
		// Ranking: posts tagged with a query word, and posts holding the
		// words side by side.
		for _, w := range p.Words {
			if t := strings.ToLower(strings.TrimFunc(w, isPunct)); t != "" {
				q := bleve.NewTermQuery(t)
				q.SetField(fieldTags)
				q.SetBoost(boostTag)
				should = append(should, q)
			}
		}
		if len(p.Words) > 1 {
			joined := strings.Join(p.Words, " ")
			for _, fam := range fams {
				if ix.tokens(joined, fam) < 2 {
					continue
				}
				should = append(should, ix.phraseQuery(joined, fam, boostPhrase, fast))
			}
		}
	}
	// Restrictions (hashtags, author, instance, language, dates) are
	// filters when there is text to search: they neither score nor read
	// term frequencies, so skipping to the text's matches in their long
	// posting lists is cheap. Alone, they are what the query matches.
	var filters []query.Query
	for _, tag := range append(slices.Clone(p.Tags), pl.tags...) {
		if p.hasText() {
			filters = append(filters, termQuery(fieldTags, tag))
		} else {
			must = append(must, termQuery(fieldTags, tag))
		}
	}
	anyOf := func(field string, vs []string) {
		if len(vs) == 0 {
			return
		}
		qs := make([]query.Query, len(vs))
		for i, v := range vs {
			qs[i] = termQuery(field, v)
		}
		filters = append(filters, disjunction(qs))
	}
	anyOf(fieldAuthor, p.Authors)
	anyOf(fieldAuthor, pl.authors)
	anyOf(fieldHost, p.Hosts)
	anyOf(fieldHost, pl.hosts)
	anyOf(fieldLang, p.Langs)
	anyOf(fieldLang, pl.langs)
	if !p.Since.IsZero() || !p.Until.IsZero() {
		filters = append(filters, ix.dateQuery(p.Since, p.Until))
	}

	for _, w := range p.NotWords {
		for _, fam := range fams {
			for _, f := range []string{fieldText, fieldSummary} {
				q := bleve.NewMatchQuery(w)
				q.SetField(fieldOf(f, fam))
				q.SetOperator(query.MatchQueryOperatorAnd)
				mustNot = append(mustNot, q)
			}
		}
	}
	for _, ph := range p.NotPhrases {
		for _, fam := range fams {
			q := bleve.NewMatchPhraseQuery(ph)
			q.SetField(fieldOf(fieldSummary, fam))
			mustNot = append(mustNot, ix.phraseQuery(ph, fam, boostText, fast), q)
		}
	}
	for _, v := range p.NotTags {
		mustNot = append(mustNot, termQuery(fieldTags, v))
	}
	for _, v := range p.NotAuthors {
		mustNot = append(mustNot, termQuery(fieldAuthor, v))
	}
	for _, v := range p.NotHosts {
		mustNot = append(mustNot, termQuery(fieldHost, v))
	}
	for _, v := range p.NotLangs {
		mustNot = append(mustNot, termQuery(fieldLang, v))
	}

	b := bleve.NewBooleanQuery()
	switch {
	case len(must) > 0 && len(filters) > 0:
		b.AddMust(must...)
		if len(filters) == 1 {
			b.AddFilter(filters[0])
		} else {
			b.AddFilter(bleve.NewConjunctionQuery(filters...))
		}
	case len(must) > 0:
		b.AddMust(must...)
	case len(filters) > 0:
		b.AddMust(filters...)
	default:
		b.AddMust(bleve.NewMatchAllQuery())
	}
	if len(should) > 0 {
		b.AddShould(should...)
	}
	if len(mustNot) > 0 {
		b.AddMustNot(mustNot...)
	}
	return b
}

// familyQuery is the text part of p for one family's fields: every word
// and phrase in the text, content warning or media descriptions. Words
// that are stop words in the family's language are left out; nil when
// nothing is left.
func (ix *Index) familyQuery(p Parsed, fam string, fast bool) query.Query {
	var clauses []query.Query
	for _, w := range p.Words {
		if ix.tokens(w, fam) == 0 {
			continue
		}
		var fields []query.Query
		for _, f := range []struct {
			base  string
			boost float64
		}{{fieldText, boostText}, {fieldSummary, boostSummary}, {fieldAlt, boostAlt}} {
			q := bleve.NewMatchQuery(w)
			q.SetField(fieldOf(f.base, fam))
			q.SetOperator(query.MatchQueryOperatorAnd)
			q.SetBoost(f.boost)
			fields = append(fields, q)
		}
		clauses = append(clauses, disjunction(fields))
	}
	for _, ph := range p.Phrases {
		if ix.tokens(ph, fam) == 0 {
			continue
		}
		t := ix.phraseQuery(ph, fam, boostText, fast)
		s := bleve.NewMatchPhraseQuery(ph)
		s.SetField(fieldOf(fieldSummary, fam))
		s.SetBoost(boostSummary)
		clauses = append(clauses, disjunction([]query.Query{t, s}))
	}
	switch len(clauses) {
	case 0:
		return nil
	case 1:
		return clauses[0]
	}
	return bleve.NewConjunctionQuery(clauses...)
}

// tokens is the number of tokens the family's analyser makes of s.
func (ix *Index) tokens(s, fam string) int {
	a := ix.idx.Mapping().AnalyzerNamed(analyzerOf(fam))
	if a == nil {
		return 0
	}
	return len(a.Analyze([]byte(s)))
}

func disjunction(qs []query.Query) query.Query {
	if len(qs) == 1 {
		return qs[0]
	}
	return bleve.NewDisjunctionQuery(qs...)
}

func isPunct(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) }

// presentFamilies are the families with posts, in a fixed order.
func (ix *Index) presentFamilies() []string {
	known := *ix.families.Load()
	out := make([]string, 0, len(known))
	for _, f := range familyNames {
		if known[f] {
			out = append(out, f)
		}
	}
	return out
}

// cursor is what NextCursor encodes: the sort keys of the last hit of a
// page, for SearchAfter. Pages stay stable when posts are added or removed
// between requests: no hit is skipped or repeated because of an offset
// moving (with relevance sort, a new post can change other posts' scores,
// so order across pages is only as stable as the scores).
//
// Keys are [sort key, URI] for newest first (see sortKey; an RFC 3339
// time instead of the key on an index from before it) and [score, URI]
// for relevance.
type cursor struct {
	Sort string   `json:"s"`
	Keys []string `json:"k"`
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c) // strings only: cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s, sort string, legacy bool) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	bad := fmt.Errorf("%w: invalid cursor", model.ErrBadQuery)
	if len(s) > maxCursorLen {
		return nil, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil || len(c.Keys) != 2 {
		return nil, bad
	}
	if c.Sort != sort {
		return nil, fmt.Errorf("%w: the cursor belongs to another sort order", model.ErrBadQuery)
	}
	switch {
	case sort == model.SortRelevance:
		if _, err := strconv.ParseFloat(c.Keys[0], 64); err != nil {
			return nil, bad
		}
	case legacy:
		if _, err := time.Parse(time.RFC3339Nano, c.Keys[0]); err != nil {
			return nil, bad
		}
	default:
		if !validSortKey(c.Keys[0]) {
			return nil, bad
		}
	}
	return c.Keys, nil
}

// Search runs q. Bad queries, parameters and cursors wrap
// model.ErrBadQuery with a message that is safe to show.
func (ix *Index) Search(ctx context.Context, q model.SearchQuery) (model.SearchResult, error) {
	var res model.SearchResult
	pl, err := newPlan(q)
	if err != nil {
		return res, err
	}
	after, err := decodeCursor(q.Cursor, pl.sort, ix.legacySort)
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
	fams := ix.presentFamilies()
	bq := ix.query(pl, fams, !ix.plainPhrases)
	if after != nil && pl.sort == model.SortRelevance {
		if after, err = ix.rescore(ctx, bq, after); err != nil {
			return res, err
		}
	}
	var sr *bleve.SearchResult
	if pl.sort == model.SortNewest && !q.Facets && !ix.legacySort {
		var total uint64
		var ok bool
		sr, total, ok, err = ix.searchNewest(ctx, bq, after, limit, time.Now())
		if err != nil {
			return res, err
		}
		if ok {
			sr.Total = total
		} else {
			sr = nil
		}
	}
	if sr == nil {
		req := bleve.NewSearchRequestOptions(bq, limit, 0, false)
		req.Fields = storedFields
		req.SortByCustom(ix.sortOrder(pl.sort))
		if pl.sort == model.SortNewest {
			req.Score = "none" // sorted by time: scores would be thrown away
		}
		if after != nil {
			req.SearchAfter = after
		}
		var rec *recordingQuery
		switch {
		case q.Facets && !ix.bleveFacets:
			rec = &recordingQuery{inner: bq}
			req.Query = rec
			defer rec.release()
		case q.Facets:
			req.AddFacet("instance", bleve.NewFacetRequest(fieldHost, facetSize))
			req.AddFacet("language", bleve.NewFacetRequest(fieldLang, facetSize))
			req.AddFacet("hashtag", bleve.NewFacetRequest(fieldTags, facetSize))
			// Months are few (one a month): count them all, then keep the
			// newest.
			req.AddFacet("month", bleve.NewFacetRequest(fieldMonth, 10000))
		}
		if sr, err = ix.idx.SearchInContext(ctx, req); err != nil {
			return res, fmt.Errorf("searching index: %w", err)
		}
		if rec != nil {
			fc, err := ix.facets.count(rec)
			if err != nil {
				return res, err
			}
			res.Facets = facetsOfCounts(fc)
		}
	}
	if pl.p.hasText() && len(sr.Hits) > 0 {
		if err := ix.addLocations(ctx, ix.query(pl, fams, false), sr.Hits); err != nil {
			return res, err
		}
	}
	res.Total = sr.Total
	res.Hits = make([]model.SearchHit, 0, len(sr.Hits))
	for _, h := range sr.Hits {
		res.Hits = append(res.Hits, toHit(h))
	}
	if len(sr.Hits) == limit && uint64(limit) < sr.Total {
		res.NextCursor = encodeCursor(cursorAfter(pl.sort, sr.Hits[len(sr.Hits)-1]))
	}
	if q.Facets && res.Facets == nil {
		res.Facets = facetsOf(sr.Facets)
	}
	return res, nil
}

// addLocations sets the hits' term locations, for their snippets, from a
// second search of q restricted to them. Asking the search itself for
// locations would build them for every match, not only the page shown:
// a map per match and term, a fifth of a phrase search's time.
func (ix *Index) addLocations(ctx context.Context, q query.Query, hits []*search.DocumentMatch) error {
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	// A conjunction, not a Boolean filter: Bleve filters after matching,
	// so it would match every post again; a conjunction advances q to
	// the hits only.
	req := bleve.NewSearchRequestOptions(bleve.NewConjunctionQuery(bleve.NewDocIDQuery(ids), q), len(ids), 0, false)
	req.IncludeLocations = true
	sr, err := ix.idx.SearchInContext(ctx, req)
	if err != nil {
		return fmt.Errorf("locating matches for snippets: %w", err)
	}
	locs := make(map[string]search.FieldTermLocationMap, len(sr.Hits))
	for _, h := range sr.Hits {
		locs[h.ID] = h.Locations
	}
	for _, h := range hits {
		h.Locations = locs[h.ID]
	}
	return nil
}

// sortOrder is the Bleve sort of a sort name: the sort key (newest first)
// or the score, with the post URI breaking ties. Neither reads a stored
// field (see sortKey).
func (ix *Index) sortOrder(sort string) search.SortOrder {
	switch {
	case sort == model.SortRelevance:
		return search.SortOrder{&search.SortScore{Desc: true}, &search.SortDocID{}}
	case ix.legacySort:
		return search.SortOrder{
			&search.SortField{Field: fieldCreated, Desc: true, Type: search.SortFieldAsDate, Missing: search.SortFieldMissingLast},
			&search.SortDocID{},
		}
	}
	return search.SortOrder{
		&search.SortField{Field: fieldSortKey, Desc: true, Type: search.SortFieldAsString, Missing: search.SortFieldMissingLast},
		&search.SortDocID{},
	}
}

// cursorAfter is the cursor of the page after the one ending with last.
func cursorAfter(sort string, last *search.DocumentMatch) cursor {
	c := cursor{Sort: sort, Keys: []string{strconv.FormatFloat(last.Score, 'g', -1, 64), last.ID}}
	if sort == model.SortNewest && len(last.DecodedSort) > 0 {
		c.Keys[0] = last.DecodedSort[0]
	}
	return c
}

// rescore updates a relevance cursor's score to what its post scores now.
// Scores depend on index-wide statistics (document counts, term
// frequencies), so a post added since the previous page shifts every
// score a little; anchoring the cursor on the last post shown, rescored,
// keeps the next page starting right after it. When that post is gone,
// the old score is kept.
func (ix *Index) rescore(ctx context.Context, q query.Query, after []string) ([]string, error) {
	b := bleve.NewBooleanQuery()
	b.AddMust(q)
	b.AddFilter(bleve.NewDocIDQuery([]string{after[1]}))
	req := bleve.NewSearchRequestOptions(b, 1, 0, false)
	sr, err := ix.idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("rescoring cursor: %w", err)
	}
	if len(sr.Hits) == 1 {
		return []string{strconv.FormatFloat(sr.Hits[0].Score, 'g', -1, 64), after[1]}, nil
	}
	return after, nil
}

// facetsOf converts Bleve's facet results (see bleveFacets).
func facetsOf(fr search.FacetResults) *model.Facets {
	var fc facetCounts
	for i, name := range []string{"instance", "language", "hashtag", "month"} {
		fc[i] = map[string]int{}
		if r, ok := fr[name]; ok && r.Terms != nil {
			for _, t := range r.Terms.Terms() {
				fc[i][t.Term] = t.Count
			}
		}
	}
	return facetsOfCounts(fc)
}

func toHit(h *search.DocumentMatch) model.SearchHit {
	str := func(k string) string {
		s, _ := h.Fields[k].(string)
		return s
	}
	hit := model.SearchHit{
		URI:        h.ID,
		URL:        str(fieldURL),
		Host:       str(fieldHost),
		Author:     str(fieldAuthor),
		AuthorName: str(fieldAuthorName),
		Language:   str(fieldLang),
		Kind:       str(fieldKind),
		Sensitive:  str(fieldSensitive) == "1",
		HTML:       str(fieldHTML),
		Score:      h.Score,
	}
	if c, err := time.Parse(time.RFC3339, str(fieldCreated)); err == nil {
		hit.Created = c.UTC()
	}
	switch tags := h.Fields[fieldTags].(type) {
	case string:
		hit.Tags = []string{tags}
	case []any:
		for _, t := range tags {
			if s, ok := t.(string); ok {
				hit.Tags = append(hit.Tags, s)
			}
		}
	}
	for _, fam := range familyNames {
		if s := str(fieldOf(fieldSummary, fam)); s != "" {
			hit.Summary = s
		}
		if f := fieldOf(fieldText, fam); str(f) != "" {
			hit.Snippet = snippet(str(f), h.Locations[f], snippetRunes)
		}
	}
	return hit
}
