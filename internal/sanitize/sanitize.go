// Package sanitize makes remote HTML safe: once, before it is stored, so
// every later reader (index, API, pages, feeds, datasets) gets harmless text.
package sanitize

import (
	"strings"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
)

// policy is the allow-list for post content: the formatting Mastodon and
// friends emit (paragraphs, line breaks, links, emphasis, lists, code,
// quotes), links only to http(s) with rel=nofollow noopener noreferrer, no
// attributes that run script, no images, no style.
var policy = func() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "span", "strong", "b", "em", "i", "u", "del", "s",
		"code", "pre", "blockquote", "ul", "ol", "li")
	p.AllowAttrs("href").OnElements("a")
	p.AllowURLSchemes("http", "https")
	p.RequireParseableURLs(true)
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(false)
	return p
}()

// HTML returns s sanitised by the allow-list: scripts, event handlers,
// styles, images, iframes and non-http(s) links are removed.
func HTML(s string) string {
	return strings.TrimSpace(policy.Sanitize(validUTF8(s)))
}

// blockElements end a line of text.
var blockElements = map[string]bool{"p": true, "br": true, "div": true, "li": true, "blockquote": true, "pre": true, "h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true, "tr": true}

// Text reduces remote HTML to plain text for indexing and plain-text
// display: tags dropped (with line breaks for block elements), entities
// decoded, the contents of script and style dropped, white space folded.
func Text(s string) string {
	text, _ := textLinks(validUTF8(s))
	return text
}

// PlainLine is Text folded onto one line and cut to max runes (0 = no
// cut), for names and titles.
func PlainLine(s string, max int) string {
	t := strings.Join(strings.Fields(plainText(s)), " ")
	if max > 0 && utf8.RuneCountInString(t) > max {
		r := []rune(t)
		t = string(r[:max])
	}
	return t
}

func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
