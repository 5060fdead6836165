package markdown

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The link recogniser of markdown-it (linkify-it 5, as markdown-it 14
// uses it), for the two kinds of bare link fedilens keeps: http(s) URLs
// and host names that start with "www.". linkify-it describes them with
// regular expressions full of look-aheads, which Go's regexp lacks, so
// they are written out here as scanners, one function per expression of
// linkify-it's lib/re.mjs, each named after it. Every scan is linear and
// bounded: a label is at most 63 runes, userinfo 50.
//
// Character classes, as linkify-it defines them on Unicode categories:
// ZCc is white space and control characters; ZPCc adds punctuation; a
// "pseudo letter" is any other character except the text separators
// '<', '>' and '｜' (so letters, digits, marks and symbols, emoji too).

// isZCc reports white space (Unicode Z) and control characters (Cc).
func isZCc(r rune) bool {
	return unicode.Is(unicode.Z, r) || unicode.Is(unicode.Cc, r)
}

// isZPCc reports white space, punctuation (Unicode P) and control
// characters.
func isZPCc(r rune) bool {
	return isZCc(r) || unicode.IsPunct(r)
}

// isTextSeparator reports the characters linkify-it never lets into a
// link: '<', '>' and the full-width vertical line.
func isTextSeparator(r rune) bool {
	return r == '<' || r == '>' || r == '\uff5c'
}

// isPseudoLetter is linkify-it's src_pseudo_letter.
func isPseudoLetter(r rune) bool {
	return !isTextSeparator(r) && !isZPCc(r)
}

// at decodes the rune at s[i]; size 0 at the end of s.
func at(s string, i int) (rune, int) {
	if i >= len(s) {
		return 0, 0
	}
	return utf8.DecodeRuneInString(s[i:])
}

// atEnd reports the end of s or a ZCc character at s[i]: the "$|ZCc"
// alternative of linkify-it's look-aheads.
func atEndOrZCc(s string, i int) bool {
	r, n := at(s, i)
	return n == 0 || isZCc(r)
}

// tldsDefault are linkify-it's default top-level domains beyond the
// two-letter ones (tlds_default).
var tldsDefault = map[string]bool{
	"biz": true, "com": true, "edu": true, "gov": true, "net": true, "org": true, "pro": true,
	"web": true, "xxx": true, "aero": true, "asia": true, "coop": true, "info": true,
	"museum": true, "name": true, "shop": true, "рф": true,
}

// tlds2 are the two-letter country domains linkify-it accepts
// (tlds_2ch_src_re), by first letter.
var tlds2 = map[byte]string{
	'a': "cdefgilmnoqrstuwxz", 'b': "abdefghijmnorstvwyz", 'c': "acdfghiklmnoruvwxyz", 'd': "ejkmoz",
	'e': "cegrstu", 'f': "ijkmor", 'g': "abdefghilmnpqrstuwy", 'h': "kmnrtu", 'i': "delmnoqrst",
	'j': "emop", 'k': "eghimnprwyz", 'l': "abcikrstuvy", 'm': "acdeghklmnopqrstuvwxyz",
	'n': "acefgilopruz", 'o': "m", 'p': "aefghklmnrstwy", 'q': "a", 'r': "eosuw",
	's': "abcdeghijklmnortuvxyz", 't': "cdfghjklmnortvwz", 'u': "agksyz", 'v': "aceginu",
	'w': "fs", 'y': "et", 'z': "amw",
}

// isTLD is linkify-it's src_tlds: a default top-level domain, a
// two-letter country domain or an encoded (xn--) one, in any case.
func isTLD(label string) bool {
	s := strings.ToLower(label)
	switch {
	case tldsDefault[s]:
		return true
	case len(s) == 2:
		return strings.IndexByte(tlds2[s[0]], s[1]) >= 0
	}
	return isXN(s)
}

// isXN is linkify-it's src_xn: "xn--" and 1 to 59 of [a-z0-9-], in any
// case.
func isXN(s string) bool {
	if len(s) < 5 || len(s) > 63 || !equalFoldASCII(s[:4], "xn--") {
		return false
	}
	for i := 4; i < len(s); i++ {
		c := lowerASCII(s[i])
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// label scans one domain label at s[i] (linkify-it's src_domain: pseudo
// letters with inner hyphens, at most 63 runes, or an xn-- label) and
// returns its end, or -1.
func label(s string, i int) int {
	j, runes, lastHyphen := i, 0, false
	for {
		r, n := at(s, j)
		if n == 0 || !(r == '-' || isPseudoLetter(r)) {
			break
		}
		if runes == 0 && r == '-' {
			return -1
		}
		lastHyphen = r == '-'
		j += n
		runes++
	}
	if runes == 0 || lastHyphen {
		return -1
	}
	if runes > 63 && !isXN(s[i:j]) {
		return -1
	}
	return j
}

// host scans linkify-it's src_host (labels separated by dots) at s[i].
// It returns the end of the host and of its last label's start, or -1:
// a label that breaks the rules ends every match, as the expression's
// host terminator then fails whatever it backtracks to.
func host(s string, i int) (end, lastLabel int) {
	for {
		j := label(s, i)
		if j < 0 {
			return -1, -1
		}
		r, n := at(s, j)
		if r != '.' || n == 0 {
			return j, i
		}
		if r2, n2 := at(s, j+1); n2 == 0 || !isPseudoLetter(r2) {
			return j, i // a dot the terminator judges
		}
		i = j + 1
	}
}

// port scans linkify-it's src_port (":" and 0 to 65535, leading zeros
// allowed up to five digits) at s[i]: its end, i when there is none, or
// -1 for digits that are no port.
func port(s string, i int) int {
	if i >= len(s) || s[i] != ':' || i+1 >= len(s) || s[i+1] < '0' || s[i+1] > '9' {
		return i
	}
	j := i + 1
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	d := s[i+1 : j]
	switch {
	case len(d) <= 4:
		return j
	case len(d) == 5 && d[0] >= '1' && d[0] <= '5':
		return j
	case len(d) == 5 && d[0] == '6' && d <= "65535":
		return j
	}
	return -1
}

// hostTerminator is linkify-it's src_host_terminator at s[i]: the host
// ends at the end of the text, a separator, white space or punctuation,
// but not at "-", "_", ":<digit>", ".-" or a dot followed by a letter.
func hostTerminator(s string, i int) bool {
	r, n := at(s, i)
	if n == 0 {
		return true
	}
	if !isTextSeparator(r) && !isZPCc(r) {
		return false
	}
	switch r {
	case '-', '_':
		return false
	case ':':
		r2, _ := at(s, i+1)
		return r2 < '0' || r2 > '9'
	case '.':
		r2, n2 := at(s, i+1)
		return n2 == 0 || r2 != '-' && isZPCc(r2)
	}
	return true
}

// auth scans linkify-it's src_auth (user information: 1 to 50 characters
// other than white space, "@/[]()", then "@") at s[i]: its end, or i.
func auth(s string, i int) int {
	j := i
	for k := 0; k < 50; k++ {
		r, n := at(s, j)
		if n == 0 || isZCc(r) || r == '/' || r == '[' || r == ']' || r == '(' || r == ')' {
			return i
		}
		if r == '@' {
			if k == 0 {
				return i
			}
			return j + 1
		}
		j += n
	}
	if r, _ := at(s, j); r == '@' {
		return j + 1
	}
	return i
}

// path scans linkify-it's src_path at s[i] and returns its end (i when
// there is none). Each step takes the first of the expression's
// alternatives that matches, as the regular expression does; nothing
// follows the path in any pattern, so no step is ever taken back.
func path(s string, i int) int {
	if i >= len(s) || s[i] != '/' && s[i] != '?' && s[i] != '#' {
		return i
	}
	start := i + 1
	j := start
	for {
		k := pathStep(s, j)
		if k < 0 {
			break
		}
		j = k
	}
	if j == start {
		if s[i] == '/' {
			return start // a lone "/"
		}
		return i
	}
	return j
}

// pathStep is one repetition of src_path's alternatives at s[j]: the end
// of what it takes, or -1.
func pathStep(s string, j int) int {
	r, n := at(s, j)
	if n == 0 || isZCc(r) || isTextSeparator(r) {
		return -1
	}
	switch r {
	case '[', '(', '{':
		closer := map[rune]rune{'[': ']', '(': ')', '{': '}'}[r]
		for k := j + n; ; {
			c, m := at(s, k)
			if m == 0 || isZCc(c) {
				return -1
			}
			if c == closer {
				return k + m
			}
			k += m
		}
	case '"', '\'':
		for k := j + n; ; {
			c, m := at(s, k)
			if m == 0 || isZCc(c) {
				break
			}
			if c == r {
				if k > j+n {
					return k + m
				}
				break
			}
			k += m
		}
		if r == '\'' {
			// I'm_king: a quote before a letter or a hyphen.
			if c, m := at(s, j+n); m > 0 && (c == '-' || isPseudoLetter(c)) {
				return j + n
			}
		}
		return -1
	case ')', ']', '}':
		return -1
	case '.':
		k := j
		for k < len(s) && s[k] == '.' {
			k++
		}
		if k-j >= 2 && k < len(s) && isPathDotsEnd(s[k]) {
			return k + 1
		}
		if atEndOrZCc(s, j+1) || s[j+1] == '.' {
			return -1
		}
		return j + 1
	case '-':
		k := j
		for k < len(s) && s[k] == '-' {
			k++
		}
		return k
	case ',', ';':
		if atEndOrZCc(s, j+1) {
			return -1
		}
		return j + 1
	case '!':
		k := j
		for k < len(s) && s[k] == '!' {
			k++
		}
		if atEndOrZCc(s, k) {
			return -1
		}
		return k
	case '?':
		if atEndOrZCc(s, j+1) || s[j+1] == '?' {
			return -1
		}
		return j + 1
	}
	return j + n
}

// isPathDotsEnd is the character class after a run of dots in a path
// ("google search" links, commit ranges).
func isPathDotsEnd(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '%' || c == '/' || c == '&'
}

// hostPortPath scans host, port, host terminator and path at s[i] (the
// part of a link after "//" or the user information): the end, or -1.
// fuzzy requires the last label to be a top-level domain (linkify-it's
// tpl_host_port_no_ip_fuzzy_strict), as links without a scheme need.
func hostPortPath(s string, i int, fuzzy bool) int {
	end, last := host(s, i)
	if end < 0 {
		return -1
	}
	if fuzzy && (last == i || !isTLD(s[last:end])) {
		return -1 // a fuzzy host has a dot and a known top-level domain
	}
	if end = port(s, end); end < 0 || !hostTerminator(s, end) {
		return -1
	}
	return path(s, end)
}

// schemeTail validates what follows "http:" or "https:" at s[i]:
// linkify-it's http validator, "//", optional user information, host,
// port and path. It returns the end of the link, or -1.
func schemeTail(s string, i int) int {
	if len(s)-i < 2 || s[i] != '/' || s[i+1] != '/' {
		return -1
	}
	i += 2
	if a := auth(s, i); a > i {
		if end := hostPortPath(s, a, false); end >= 0 {
			return end
		}
	}
	return hostPortPath(s, i, false)
}

// schemeAt returns the length of "http:" or "https:" at s[i], any case,
// or 0.
func schemeAt(s string, i int) int {
	for _, p := range []string{"https:", "http:"} {
		if len(s)-i >= len(p) && equalFoldASCII(s[i:i+len(p)], p) {
			return len(p)
		}
	}
	return 0
}

// equalFoldASCII compares a and b ignoring the case of ASCII letters
// only (strings.EqualFold would also fold "ſ" into "s").
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// linkMatch is one link found in a text: s[start:end], and whether it
// came without a scheme ("www.", which gets http://).
type linkMatch struct {
	start, end int
	fuzzy      bool
}

// findLinks is linkify-it's match() as markdown-it's core linkify rule
// calls it on a text, limited to http(s) links and fuzzy links of hosts
// that start with "www.": leftmost first, never overlapping.
//
// A scheme link starts at the start of the text or after white space,
// punctuation other than '_', '<' or '>' (schema_search); a fuzzy link
// at the start or after those or "$+<=>^`|", but not after ".:/-_@"
// (tpl_link_no_ip_fuzzy).
func findLinks(s string) []linkMatch {
	var out []linkMatch
	prev := rune(-1) // -1: the start of the text
	for i := 0; i < len(s); {
		r, n := at(s, i)
		if end := linkAt(s, i, prev); end > i {
			out = append(out, linkMatch{start: i, end: end, fuzzy: r == 'w' || r == 'W'})
			prev, _ = utf8.DecodeLastRuneInString(s[:end])
			i = end
			continue
		}
		prev = r
		i += n
	}
	return out
}

// linkAt returns the end of a link that starts at s[i] after the
// character prev (-1 at the start of the text), or -1.
func linkAt(s string, i int, prev rune) int {
	switch s[i] {
	case 'h', 'H':
		if prev != -1 && (prev == '_' || !isTextSeparator(prev) && !isZPCc(prev)) {
			return -1
		}
		if n := schemeAt(s, i); n > 0 {
			return schemeTail(s, i+n)
		}
	case 'w', 'W':
		if prev != -1 {
			switch prev {
			case '.', ':', '/', '-', '_', '@':
				return -1
			case '$', '+', '<', '=', '>', '^', '`', '|', '\uff5c':
			default:
				if !isZPCc(prev) {
					return -1
				}
			}
		}
		if len(s)-i > 4 && equalFoldASCII(s[i:i+4], "www.") {
			return hostPortPath(s, i, true)
		}
	}
	return -1
}
