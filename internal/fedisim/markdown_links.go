package fedisim

import (
	"net/url"
	"regexp"
	"strings"
)

// The links of the Markdown the simulator serves for Lemmy (post bodies,
// comments) and PeerTube (video descriptions), as both programs' web
// clients show them: markdown-it with raw HTML off and linkify on. This
// model is the simulator's own, independent of the crawler's renderer
// (internal/markdown); it covers what the simulator writes (no nested
// brackets, no parentheses or quotes inside URLs, no "www." hosts without
// a scheme), which TestMarkdownItLinks pins template by template:
//
//   - a link's http(s) destination is a link; an image's is none;
//   - a link to javascript:, vbscript:, file: or data: is no link but
//     text, read like any other;
//   - raw HTML is text, so a URL in an attribute ("<a href="https://…">")
//     is a bare URL;
//   - a bare http(s) URL is a link unless it continues a word (a letter,
//     digit or '+' before it); trailing punctuation is not part of it.
var (
	mdImageRE   = regexp.MustCompile(`!\[[^\]\n]*\]\([^)\n]*\)`)
	mdLinkRE    = regexp.MustCompile(`\[[^\]\n]*\]\(([^)\s]*)\)`)
	mdBareURLRE = regexp.MustCompile(`(?:^|[^A-Za-z0-9+])(https?://[^\s<>"'()\[\]{}]+)`)
)

// markdownItLinks returns the http(s) links of Markdown s, in order,
// duplicates included.
func markdownItLinks(s string) []string {
	var out []string
	s = mdImageRE.ReplaceAllStringFunc(s, func(img string) string {
		if dest := mdLinkRE.FindStringSubmatch(img[1:])[1]; !mdLinkAllowed(dest) {
			return img // text
		}
		return " "
	})
	s = mdLinkRE.ReplaceAllStringFunc(s, func(link string) string {
		dest := mdLinkRE.FindStringSubmatch(link)[1]
		if !mdLinkAllowed(dest) {
			return link // text
		}
		if u, err := url.Parse(dest); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
			out = append(out, u.String())
		}
		return " " // its text is no place for another link
	})
	for _, m := range mdBareURLRE.FindAllStringSubmatch(s, -1) {
		out = append(out, strings.TrimRight(m[1], ".,;:!?*"))
	}
	return out
}

// mdLinkAllowed is markdown-it's validateLink.
func mdLinkAllowed(dest string) bool {
	d := strings.ToLower(strings.TrimSpace(dest))
	for _, bad := range []string{"javascript:", "vbscript:", "file:", "data:"} {
		if strings.HasPrefix(d, bad) {
			return false
		}
	}
	return true
}
