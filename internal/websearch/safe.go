package websearch

import (
	"html"
	"net/url"
	"strings"
)

// Snippet returns the index's snippet if it is what the index promises:
// text with HTML entities and balanced, unnested <mark>…</mark> and no
// other markup. Anything else (a tag, an attribute on <mark>, a stray '<'
// or '>') means the promise broke somewhere, and the whole snippet is
// returned escaped, so it shows as text and never runs. ok reports whether
// the snippet passed unchanged.
func Snippet(s string) (out string, ok bool) {
	depth := 0
	for rest := s; rest != ""; {
		i := strings.IndexAny(rest, "<>")
		if i < 0 {
			break
		}
		if rest[i] == '>' {
			return html.EscapeString(s), false
		}
		rest = rest[i:]
		switch {
		case strings.HasPrefix(rest, "<mark>") && depth == 0:
			depth++
			rest = rest[len("<mark>"):]
		case strings.HasPrefix(rest, "</mark>") && depth == 1:
			depth--
			rest = rest[len("</mark>"):]
		default:
			return html.EscapeString(s), false
		}
	}
	if depth != 0 {
		return html.EscapeString(s), false
	}
	return s, true
}

// maxURLLen bounds a link taken from a post; longer ones are dropped.
const maxURLLen = 2048

// HTTPURL returns raw if it is an absolute http or https URL with a host
// and no user information, and "" otherwise: a javascript:, data: or
// relative URL from a remote server must never become a link.
func HTTPURL(raw string) string {
	if raw == "" || len(raw) > maxURLLen || strings.ContainsAny(raw, " \t\r\n\"'<>\\`") {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Opaque != "" {
		return ""
	}
	switch strings.ToLower(u.Scheme) {
	case "https", "http":
		return u.String()
	default:
		return ""
	}
}
