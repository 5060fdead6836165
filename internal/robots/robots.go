// Package robots parses robots.txt files (RFC 9309) and answers whether
// fedilens may fetch a path. Honouring robots.txt is how instance admins say
// "no" to crawlers without talking to us: GoToSocial, for one, disallows
// NodeInfo by default and may serve fake statistics to whoever ignores it.
//
// The parser is lenient, as the RFC asks: it never fails, skips lines it
// does not understand, and accepts common misspellings. It is also bounded,
// because robots.txt is remote input: it reads at most MaxBytes, keeps at
// most MaxRules rules and MaxAgents user-agent names, and matching is linear
// in the path length for every rule, whatever the wildcards.
package robots

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"time"
)

const (
	// MaxBytes is how much of a robots.txt file is parsed; the rest is
	// ignored. RFC 9309 2.5 requires at least 500 KiB. Callers should not
	// download more than this.
	MaxBytes = 512 << 10
	// MaxRules caps the allow and disallow rules kept over all groups, which
	// bounds memory and the cost of each Allowed call.
	MaxRules = 10000
	// MaxAgents caps the user-agent names kept over all groups.
	MaxAgents = 10000
	// MaxPatternLen caps the length of one rule's path pattern; longer
	// rules are dropped (no real site needs them, a hostile one can).
	MaxPatternLen = 4096
	// MaxCrawlDelay is the largest crawl delay reported. Larger values are
	// clamped rather than trusted, so arithmetic on them cannot overflow.
	MaxCrawlDelay = 24 * time.Hour
)

// Robots is a parsed robots.txt file. The zero value and nil allow
// everything, like a missing file.
type Robots struct {
	groups []*rawGroup
}

// rawGroup is one group as written in the file: the user-agent lines that
// open it and the rules below them.
type rawGroup struct {
	agents     []string // product tokens, lower-case; "*" for any
	rules      []rule
	crawlDelay time.Duration
	hasDelay   bool
}

// Group is the set of rules that applies to one crawler: all groups of the
// file that name its product token, merged, or else all "*" groups. The zero
// value and nil allow everything.
type Group struct {
	rules      []rule
	crawlDelay time.Duration
}

// rule is one allow or disallow line, compiled for matching.
type rule struct {
	allow bool
	// segs are the literal parts of the pattern between "*" wildcards, in
	// canonical percent-encoding. The pattern matches a path when segs[0]
	// is a prefix of it and the others follow in order.
	segs []string
	// anchored is set when the pattern ended in "$": the last segment must
	// then end the path.
	anchored bool
	// length is the specificity of the rule: the octets of its canonical
	// pattern, wildcards and anchor included (RFC 9309 2.2.2).
	length int
}

// AllowAll returns rules that allow everything. RFC 9309 2.3.1.3: a
// robots.txt answered with 4xx ("unavailable") may be treated as absent.
func AllowAll() *Robots { return &Robots{} }

// DisallowAll returns rules that disallow everything except /robots.txt
// itself. RFC 9309 2.3.1.4: when robots.txt is unreachable (5xx, network
// errors) the crawler must assume complete disallow.
func DisallowAll() *Robots {
	return &Robots{groups: []*rawGroup{{
		agents: []string{"*"},
		rules:  []rule{compileRule(false, "/")},
	}}}
}

// Parse parses a robots.txt body. It never fails: unknown lines, rules
// outside any group and malformed values are skipped, and input past
// MaxBytes is ignored (as is a line cut by that limit, which could otherwise
// turn "Allow: /private" into "Allow: /").
func Parse(body []byte) *Robots {
	if len(body) > MaxBytes {
		body = body[:MaxBytes]
		if i := bytes.LastIndexAny(body, "\r\n"); i >= 0 {
			body = body[:i]
		} else {
			body = nil
		}
	}
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))

	r := &Robots{}
	var (
		cur      *rawGroup
		inAgents bool // the previous record was a user-agent line
		nRules   int
		nAgents  int
	)
	for len(body) > 0 {
		var line []byte
		if i := bytes.IndexAny(body, "\r\n"); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			line, body = body, nil
		}
		if i := bytes.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		key, value, ok := splitLine(line)
		if !ok {
			continue
		}
		switch key {
		case "user-agent":
			if !inAgents {
				cur = &rawGroup{}
				r.groups = append(r.groups, cur)
				inAgents = true
			}
			if tok := agentToken(value); tok != "" && nAgents < MaxAgents {
				cur.agents = append(cur.agents, tok)
				nAgents++
			}
		case "allow", "disallow":
			inAgents = false
			// Empty values mean "no rule" (RFC 9309 2.2.2); rules before
			// the first user-agent line belong to no group.
			if cur == nil || value == "" || len(value) > MaxPatternLen || nRules >= MaxRules {
				continue
			}
			cur.rules = append(cur.rules, compileRule(key == "allow", value))
			nRules++
		case "crawl-delay":
			inAgents = false
			if cur == nil {
				continue
			}
			if d, ok := parseDelay(value); ok && (!cur.hasDelay || d > cur.crawlDelay) {
				cur.crawlDelay, cur.hasDelay = d, true
			}
		default:
			// Sitemap and unknown records neither belong to a group nor
			// end the list of user-agent lines above them.
		}
	}
	return r
}

// keyAliases maps the record names seen in the wild, misspellings included
// (as Google's parser accepts them), to the canonical ones.
var keyAliases = map[string]string{
	"user-agent":  "user-agent",
	"useragent":   "user-agent",
	"user agent":  "user-agent",
	"user_agent":  "user-agent",
	"allow":       "allow",
	"disallow":    "disallow",
	"dissallow":   "disallow",
	"dissalow":    "disallow",
	"disalow":     "disallow",
	"diasllow":    "disallow",
	"disallaw":    "disallow",
	"crawl-delay": "crawl-delay",
	"crawldelay":  "crawl-delay",
	"crawl_delay": "crawl-delay",
}

// splitLine splits a record into its canonical lower-case key and trimmed
// value. A missing colon is tolerated when the key is followed by blanks
// ("Disallow /x"). It reports false for blank and unknown lines.
func splitLine(line []byte) (key, value string, ok bool) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return "", "", false
	}
	var k, v []byte
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		k, v = line[:i], line[i+1:]
	} else if i := bytes.IndexAny(line, " \t"); i >= 0 {
		k, v = line[:i], line[i+1:]
	} else {
		return "", "", false
	}
	key, ok = keyAliases[strings.ToLower(string(bytes.TrimSpace(k)))]
	if !ok {
		return "", "", false
	}
	v = bytes.TrimSpace(v)
	// A value is one token: anything after inner whitespace is junk.
	if i := bytes.IndexAny(v, " \t"); i >= 0 && key != "user-agent" {
		v = v[:i]
	}
	return key, string(v), true
}

// agentToken extracts the lower-case product token from a user-agent value
// or a full User-Agent header: the leading run of letters, digits, "-" and
// "_" ("fedilens/1.0 (+https://x)" gives "fedilens"). "*" stays "*".
func agentToken(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "*") {
		return "*"
	}
	end := 0
	for end < len(s) && isTokenByte(s[end]) {
		end++
	}
	return strings.ToLower(s[:end])
}

// isTokenByte reports whether b may appear in a product token. RFC 9309
// allows letters, "_" and "-"; digits are accepted too, so "bot2" never
// matches a group for "bot".
func isTokenByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_'
}

// parseDelay parses a crawl delay in seconds, fractions allowed.
func parseDelay(s string) (time.Duration, bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f < 0 {
		return 0, false
	}
	if f >= MaxCrawlDelay.Seconds() {
		return MaxCrawlDelay, true
	}
	return time.Duration(f * float64(time.Second)), true
}

// Group returns the rules for a crawler. agent may be the bare product token
// or a full User-Agent header; its token is compared case-insensitively with
// the user-agent lines. All groups naming the token are merged (RFC 9309
// 2.2.1); without any, all "*" groups are merged; without those, the result
// allows everything.
func (r *Robots) Group(agent string) *Group {
	g := &Group{}
	if r == nil {
		return g
	}
	tok := agentToken(agent)
	if tok == "*" {
		tok = ""
	}
	if tok == "" || !r.merge(g, tok) {
		r.merge(g, "*")
	}
	return g
}

// merge adds every group naming tok to g and reports whether there was one.
// When merged groups disagree on the crawl delay, the longest one is kept:
// the politest reading of the file.
func (r *Robots) merge(g *Group, tok string) bool {
	found := false
	for _, rg := range r.groups {
		if !containsString(rg.agents, tok) {
			continue
		}
		found = true
		g.rules = append(g.rules, rg.rules...)
		if rg.hasDelay && rg.crawlDelay > g.crawlDelay {
			g.crawlDelay = rg.crawlDelay
		}
	}
	return found
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// CrawlDelay is the delay the site asks for between requests, 0 if none.
// Fractional seconds are honoured; values are clamped to MaxCrawlDelay.
func (g *Group) CrawlDelay() time.Duration {
	if g == nil {
		return 0
	}
	return g.crawlDelay
}

// Allowed reports whether the group allows fetching path, which is the
// path and query of a URL as sent in a request ("/nodeinfo/2.0?x=1").
// The most specific (longest) matching rule decides and Allow wins a tie;
// no matching rule means allowed. "*" in a rule matches any run of
// characters and a final "$" anchors it at the end. Percent-encoding is
// compared in canonical form (RFC 9309 2.2.2), so "/%7Ea" and "/~a" are the
// same path. /robots.txt is always allowed.
func (g *Group) Allowed(path string) bool {
	if g == nil || len(g.rules) == 0 {
		return true
	}
	if i := strings.IndexByte(path, '#'); i >= 0 {
		path = path[:i]
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	p := canonical(path)
	if p == "/robots.txt" || strings.HasPrefix(p, "/robots.txt?") {
		return true
	}
	best, allowed := -1, true
	for i := range g.rules {
		ru := &g.rules[i]
		if ru.length < best || (ru.length == best && !ru.allow) {
			continue
		}
		if ru.match(p) {
			best, allowed = ru.length, ru.allow
		}
	}
	return allowed
}

// compileRule turns a pattern into a rule. Patterns that start with neither
// "/" nor "*" get a "/" in front: "Disallow: admin" most likely means
// "/admin", and reading it so is the cautious choice.
func compileRule(allow bool, pattern string) rule {
	if !strings.HasPrefix(pattern, "/") && !strings.HasPrefix(pattern, "*") {
		pattern = "/" + pattern
	}
	ru := rule{allow: allow}
	if strings.HasSuffix(pattern, "$") {
		ru.anchored = true
		pattern = pattern[:len(pattern)-1]
	}
	parts := strings.Split(pattern, "*")
	for i, part := range parts {
		parts[i] = canonical(part)
		ru.length += len(parts[i])
	}
	ru.length += len(parts) - 1 // the wildcards
	if ru.anchored {
		ru.length++
	}
	// Runs of wildcards act as one, so empty inner segments are dropped; a
	// trailing wildcard is kept as an empty last segment, which tells match
	// that the tail may sit anywhere.
	ru.segs = []string{parts[0]}
	for _, part := range parts[1:] {
		if part != "" {
			ru.segs = append(ru.segs, part)
		}
	}
	if len(parts) > 1 && parts[len(parts)-1] == "" {
		ru.segs = append(ru.segs, "")
	}
	return ru
}

// match reports whether the rule matches the canonical path p. Placing each
// inner segment at its leftmost possible position is optimal, so there is
// no backtracking: the cost is linear in len(p) per segment.
func (ru *rule) match(p string) bool {
	first := ru.segs[0]
	if !strings.HasPrefix(p, first) {
		return false
	}
	if len(ru.segs) == 1 {
		return !ru.anchored || len(p) == len(first)
	}
	pos := len(first)
	last := len(ru.segs) - 1
	for _, seg := range ru.segs[1:last] {
		i := strings.Index(p[pos:], seg)
		if i < 0 {
			return false
		}
		pos += i + len(seg)
	}
	tail := ru.segs[last]
	if ru.anchored {
		return len(p)-pos >= len(tail) && strings.HasSuffix(p, tail)
	}
	return strings.Contains(p[pos:], tail)
}

// canonical brings a path or pattern fragment to the form RFC 9309 2.2.2
// compares: escapes of printable US-ASCII characters other than "%" are
// decoded ("%7E" is "~", and as in the RFC's example "%3A%2F%2F" is "://"),
// other escapes get upper-case hex digits, and octets outside printable
// US-ASCII (UTF-8, controls, spaces) are percent-encoded. A "%" that starts
// no valid escape is encoded as "%25".
func canonical(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			v := unhex(s[i+1])<<4 | unhex(s[i+2])
			if v > 0x20 && v < 0x7f && v != '%' {
				b.WriteByte(v)
			} else {
				writeEscape(&b, v)
			}
			i += 2
		case c <= 0x20 || c >= 0x7f || c == '%':
			writeEscape(&b, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func writeEscape(b *strings.Builder, c byte) {
	const hex = "0123456789ABCDEF"
	b.WriteByte('%')
	b.WriteByte(hex[c>>4])
	b.WriteByte(hex[c&0xf])
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
