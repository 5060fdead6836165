package indexer

import (
	"html"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/search"
)

// span is a matched byte range of a text.
type span struct{ start, end int }

// snippet returns up to n runes of text around its first match, as HTML:
// the text is escaped, and the matched words are wrapped in <mark>, the
// only markup a snippet ever has. It does not use Bleve's highlighter,
// whose output is only as safe as its formatter: the stored text is remote
// content, so escaping is done here, on the plain text, once. Locations
// that do not fall on character boundaries of text are ignored.
func snippet(text string, locs search.TermLocationMap, n int) string {
	var spans []span
	for _, ls := range locs {
		for _, l := range ls {
			if l == nil || l.End > uint64(len(text)) || l.Start >= l.End {
				continue
			}
			s, e := int(l.Start), int(l.End)
			if !utf8.RuneStart(text[s]) || (e < len(text) && !utf8.RuneStart(text[e])) {
				continue
			}
			spans = append(spans, span{s, e})
		}
	}
	slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
	merged := spans[:0]
	for _, s := range spans {
		if k := len(merged) - 1; k >= 0 && s.start <= merged[k].end {
			merged[k].end = max(merged[k].end, s.end)
			continue
		}
		merged = append(merged, s)
	}
	spans = merged

	// The window: from a little before the first match, n runes long.
	from := 0
	if len(spans) > 0 && utf8.RuneCountInString(text[:spans[0].end]) > n-snippetLead/2 {
		from = spans[0].start
		for i := 0; i < snippetLead && from > 0; i++ {
			_, size := utf8.DecodeLastRuneInString(text[:from])
			from -= size
		}
		// Start on a word: skip to after the next space if one is near.
		if from > 0 {
			if sp := strings.IndexByte(text[from:spans[0].start], ' '); sp >= 0 {
				from += sp + 1
			}
		}
	}
	to := from
	for i := 0; i < n && to < len(text); i++ {
		_, size := utf8.DecodeRuneInString(text[to:])
		to += size
	}
	var b strings.Builder
	if from > 0 {
		b.WriteString("…")
	}
	pos := from
	for _, s := range spans {
		if s.end <= pos {
			continue
		}
		if s.start >= to {
			break
		}
		start, end := max(s.start, pos), min(s.end, to)
		b.WriteString(html.EscapeString(text[pos:start]))
		b.WriteString("<mark>")
		b.WriteString(html.EscapeString(text[start:end]))
		b.WriteString("</mark>")
		pos = end
	}
	b.WriteString(html.EscapeString(text[pos:to]))
	if to < len(text) {
		b.WriteString("…")
	}
	return b.String()
}
