package sanitize

// MaxLinks bounds the links Links returns.
const MaxLinks = 20

// Links returns the http(s) links of remote HTML content, without the
// mentions and hashtags (Mastodon and its kin mark them with class
// "mention" or "hashtag", or rel="tag"), de-duplicated and sorted, at most
// MaxLinks. Hrefs that do not parse as absolute http(s) URLs are dropped.
func Links(s string) []string {
	_, links := textLinks(validUTF8(s))
	return links
}
