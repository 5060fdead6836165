package sanitize

import (
	"net/url"
	"sort"
	"strings"

	"golang.org/x/net/html"
)

// Content returns what a post converter needs of remote HTML content, at
// the cost of two parses instead of three: HTML(s) (bluemonday's pass, the
// security boundary), then Text(s) and Links(s) from one tokenizer pass
// over s. The results are byte-identical to the three separate calls.
//
// Text and Links read the remote HTML, not the sanitised one, on purpose:
// the allow-list drops the class and rel attributes that mark mentions and
// hashtags (Links would count them) and the div, h1-h6 and tr tags that
// end a line of text (Text would run lines together).
func Content(s string) (sanitised, text string, links []string) {
	s = validUTF8(s)
	text, links = textLinks(s)
	return strings.TrimSpace(policy.Sanitize(s)), text, links
}

// TextLinks returns Text(s) and Links(s) from one tokenizer pass, for
// callers that sanitise some other HTML (or already sanitised s).
func TextLinks(s string) (text string, links []string) {
	return textLinks(validUTF8(s))
}

// textLinks is Text and Links of valid UTF-8 s in one tokenizer pass: the
// token handling of both, unchanged, side by side.
func textLinks(s string) (string, []string) {
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	b.Grow(len(s))
	skip := 0
	var seen map[string]bool
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return foldText(b.String()), sortedLinks(seen)
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			switch n := string(name); {
			case n == "script" || n == "style":
				if tt == html.StartTagToken {
					skip++
				}
			case blockElements[n]:
				b.WriteByte('\n')
			case n == "a" && hasAttr:
				if l, ok := linkOf(z); ok {
					if seen == nil {
						seen = map[string]bool{}
					}
					seen[l] = true
				}
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch n := string(name); {
			case n == "script" || n == "style":
				if skip > 0 {
					skip--
				}
			case blockElements[n]:
				b.WriteByte('\n')
			}
		}
	}
}

// linkOf reads the attributes of the current <a> tag as Links does: the
// normalised http(s) href, unless the tag marks a mention or hashtag.
func linkOf(z *html.Tokenizer) (string, bool) {
	var href string
	skip := false
	for {
		k, v, more := z.TagAttr()
		switch string(k) {
		case "href":
			href = strings.TrimSpace(string(v))
		case "class":
			for _, c := range strings.Fields(string(v)) {
				if c == "mention" || c == "hashtag" || c == "u-url" {
					skip = true
				}
			}
		case "rel":
			for _, r := range strings.Fields(string(v)) {
				if r == "tag" {
					skip = true
				}
			}
		}
		if !more {
			break
		}
	}
	if skip || href == "" {
		return "", false
	}
	u, err := url.Parse(href)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "", false
	}
	return u.String(), true
}

// sortedLinks is the tail of Links: sorted, at most MaxLinks, never nil.
func sortedLinks(seen map[string]bool) []string {
	out := make([]string, 0, len(seen))
	for l := range seen {
		out = append(out, l)
	}
	sort.Strings(out)
	if len(out) > MaxLinks {
		out = out[:MaxLinks]
	}
	return out
}

// foldText is the tail of Text without its regular expressions and
// intermediate strings: runs of [ \t\r\f\v] become one space, every line
// is trimmed, runs of blank lines become one, the whole is trimmed.
func foldText(raw string) string {
	var out strings.Builder
	out.Grow(len(raw))
	var line []byte
	blank := false // a line break (or more) is pending before the next line
	for rest := raw; ; {
		l, next, more := strings.Cut(rest, "\n")
		line = foldSpaces(line[:0], l)
		if t := strings.TrimSpace(string(line)); t != "" {
			if out.Len() > 0 {
				if blank {
					out.WriteString("\n\n")
				} else {
					out.WriteByte('\n')
				}
			}
			out.WriteString(t)
			blank = false
		} else if out.Len() > 0 {
			blank = true
		}
		if !more {
			return out.String()
		}
		rest = next
	}
}

// foldSpaces appends s to dst with every run of [ \t\r\f\v] as one space.
func foldSpaces(dst []byte, s string) []byte {
	space := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\r', '\f', '\v':
			if !space {
				dst = append(dst, ' ')
				space = true
			}
		default:
			dst = append(dst, c)
			space = false
		}
	}
	return dst
}

// plainText is Text(s) as far as strings.Fields can tell: a name or a
// content warning without '<' or '&' has no tag and no entity, so Text
// would only fold its white space, which Fields folds anyway; such strings
// (most display names) skip the tokenizer.
func plainText(s string) string {
	if strings.ContainsAny(s, "<&") {
		return Text(s)
	}
	return validUTF8(s)
}
