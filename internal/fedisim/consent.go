package fedisim

import (
	"html"
	"regexp"
	"strings"
)

// optOutRE matches the opt-out words of rule 4 on word boundaries,
// case-insensitively: #nobot, #nobots, #noindex, #nosearch and the bare
// words noindex and nosearch. "#nobotany", "noindexing" and
// "#nobots_allowed" do not match.
var optOutRE = regexp.MustCompile(`(?i)(?:^|[^\p{L}\p{N}_#])(?:#nobots?|#?noindex|#?nosearch)(?:$|[^\p{L}\p{N}_])`)

var (
	tagRE    = regexp.MustCompile(`<[^>]*>`)
	scriptRE = regexp.MustCompile(`(?is)<(script|style)\b[^>]*>.*?</(script|style)\s*>`)
	blockRE  = regexp.MustCompile(`(?i)</?(p|br|div|li|ul|ol|blockquote|h[1-6]|pre)\b[^>]*>`)
)

// htmlText reduces HTML to text the way an indexer does: scripts and styles
// vanish with their content, block elements become line breaks, inline
// tags are dropped (so "#<span>nobot</span>" reads "#nobot") and entities
// are decoded.
func htmlText(s string) string {
	s = scriptRE.ReplaceAllString(s, "")
	s = blockRE.ReplaceAllString(s, "\n")
	return strings.TrimSpace(html.UnescapeString(tagRE.ReplaceAllString(s, "")))
}

// HasOptOut reports whether the HTML or text s carries an opt-out word
// (rule 4 of the package doc).
func HasOptOut(s string) bool {
	return optOutRE.MatchString(htmlText(s))
}

// consents applies rule 4 to an account, with the world's opt-in word
// for accounts whose program has no indexable flag.
func (w *world) consents(a *account) bool {
	switch {
	case a.indexable == nil:
		if w.optInWord == "" || !hasWord(a, w.optInWord) {
			return false
		}
	case !*a.indexable:
		return false
	}
	if a.noindex {
		return false
	}
	if HasOptOut(a.noteHTML) {
		return false
	}
	for _, f := range a.fields {
		if HasOptOut(f.name) || HasOptOut(f.value) {
			return false
		}
	}
	return true
}

// plainBio is the bio as plain text, for programs whose APIs serve text
// (Misskey's description).
func plainBio(a *account) string {
	return htmlText(a.noteHTML)
}

// hasWord reports whether the bio or a profile field carries word as a
// whole word, case-insensitively, after reducing HTML to text.
func hasWord(a *account, word string) bool {
	re := regexp.MustCompile(`(?i)(?:^|[^\p{L}\p{N}_#])` + regexp.QuoteMeta(word) + `(?:$|[^\p{L}\p{N}_])`)
	if re.MatchString(htmlText(a.noteHTML)) {
		return true
	}
	for _, f := range a.fields {
		if re.MatchString(htmlText(f.name)) || re.MatchString(htmlText(f.value)) {
			return true
		}
	}
	return false
}
