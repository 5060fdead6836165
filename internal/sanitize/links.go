package sanitize

import (
	"net/url"
	"sort"
	"strings"

	"golang.org/x/net/html"
)

// MaxLinks bounds the links Links returns.
const MaxLinks = 20

// Links returns the http(s) links of remote HTML content, without the
// mentions and hashtags (Mastodon and its kin mark them with class
// "mention" or "hashtag", or rel="tag"), de-duplicated and sorted, at most
// MaxLinks. Hrefs that do not parse as absolute http(s) URLs are dropped.
func Links(s string) []string {
	z := html.NewTokenizer(strings.NewReader(validUTF8(s)))
	seen := map[string]bool{}
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		name, hasAttr := z.TagName()
		if string(name) != "a" || !hasAttr {
			continue
		}
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
			continue
		}
		u, err := url.Parse(href)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			continue
		}
		seen[u.String()] = true
	}
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
