// Package hostname turns the host names fedilens meets (seeds, peer lists,
// actor ids, API submissions) into one canonical spelling, so that
// "Example.COM.", "example.com:443" and "example.com" are the same instance
// everywhere: in the crawler's memory, in ClickHouse and in the index.
//
// Peer lists are remote input and full of junk ("bad host", "*.example",
// "127.0.0.1", "x.example:99999"), so everything that is not a plausible
// public DNS name is rejected with a reason that can be logged and counted.
package hostname

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Sentinel errors. Every rejection wraps ErrInvalid, so callers that only
// want "usable or not" need one check; ErrIPLiteral and ErrSingleLabel are
// wrapped in addition because they are syntactically fine and some callers
// (tests, local simulations, an operator's explicit seed) may want to accept
// them anyway.
var (
	// ErrInvalid marks a string that is not an acceptable host name.
	ErrInvalid = errors.New("invalid host name")
	// ErrIPLiteral marks an IP address where a host name was expected.
	// Instances are identified by name, and an address in a peer list is a
	// classic way to point a crawler at internal services.
	ErrIPLiteral = errors.New("ip literal instead of host name")
	// ErrSingleLabel marks a name without a dot ("localhost", "intranet"):
	// such names only resolve on local networks, never on the public
	// fediverse.
	ErrSingleLabel = errors.New("single-label host name")
)

const (
	// maxNameLen is the longest DNS name in text form without the trailing
	// dot (RFC 1035: 255 octets on the wire).
	maxNameLen = 253
	// maxLabelLen is the longest DNS label (RFC 1035).
	maxLabelLen = 63
	// maxInputLen bounds the work done on hostile input before any parsing:
	// a name with a port and some Unicode never needs more.
	maxInputLen = 1024
)

// profile maps and validates names the way a resolver would look them up
// (UTS #46 non-transitional, STD3 ASCII rules, Bidi rule), but without the
// CheckHyphens rule, which rejects real names such as "r3---sn-x.example";
// leading and trailing hyphens are checked below with a clearer message.
var profile = idna.New(
	idna.MapForLookup(),
	idna.BidiRule(),
	idna.Transitional(false),
	idna.CheckHyphens(false),
)

// Normalize returns the canonical form of a host name with an optional port:
// lower-case, punycode (A-labels), no trailing dot, and the port only when
// it is not 443, since fedilens speaks https unless told otherwise.
//
// It rejects, with an error wrapping ErrInvalid and naming the reason:
// empty input, names longer than 253 octets or with labels over 63, empty
// labels, characters outside letters, digits and hyphens (underscores and
// "*" included), labels that start or end with a hyphen, ports outside
// 1-65535, and anything carrying a scheme, userinfo, path, query or
// fragment. IP literals also wrap ErrIPLiteral and single-label names also
// wrap ErrSingleLabel; for those two the canonical form is returned together
// with the error ("127.0.0.1:8080", "[::1]", "localhost:3000"), so a caller
// that decides to accept them does not have to normalise them again.
func Normalize(s string) (string, error) {
	return normalize(s, "443")
}

// FromURL returns the normalised host of an http or https URL:
// "https://Example.com/path" gives "example.com". https URLs drop port 443
// and http URLs drop port 80; any other port is kept. The URL must not carry
// userinfo. Errors follow Normalize, including the canonical form returned
// with ErrIPLiteral and ErrSingleLabel.
func FromURL(u string) (string, error) {
	if len(u) > 8*maxInputLen {
		return "", fmt.Errorf("%w: url longer than %d bytes", ErrInvalid, 8*maxInputLen)
	}
	pu, err := url.Parse(strings.TrimSpace(u))
	if err != nil {
		return "", fmt.Errorf("%w: parse url: %w", ErrInvalid, err)
	}
	var defPort string
	switch strings.ToLower(pu.Scheme) {
	case "https":
		defPort = "443"
	case "http":
		defPort = "80"
	case "":
		return "", fmt.Errorf("%w: url %q has no scheme", ErrInvalid, u)
	default:
		return "", fmt.Errorf("%w: url scheme %q is not http or https", ErrInvalid, pu.Scheme)
	}
	if pu.User != nil {
		return "", fmt.Errorf("%w: url carries userinfo", ErrInvalid)
	}
	if pu.Host == "" {
		return "", fmt.Errorf("%w: url %q has no host", ErrInvalid, u)
	}
	// "https://example.com:/" means the default port (RFC 3986 3.2.3).
	return normalize(strings.TrimSuffix(pu.Host, ":"), defPort)
}

// normalize is Normalize with the port that is dropped as the default.
func normalize(s, defPort string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", fmt.Errorf("%w: empty", ErrInvalid)
	}
	if len(s) > maxInputLen {
		return "", fmt.Errorf("%w: longer than %d bytes", ErrInvalid, maxInputLen)
	}
	if strings.Contains(s, "://") {
		return "", fmt.Errorf("%w: %q has a scheme, expected a bare host name", ErrInvalid, s)
	}
	if strings.ContainsAny(s, "/?#\\") {
		return "", fmt.Errorf("%w: %q has a path, query or fragment", ErrInvalid, s)
	}
	if strings.Contains(s, "@") {
		return "", fmt.Errorf("%w: %q has userinfo", ErrInvalid, s)
	}

	host, port, err := splitPort(s)
	if err != nil {
		return "", err
	}
	if port == defPort {
		port = ""
	}

	if lit, ok, err := ipLiteral(host); ok || err != nil {
		if err != nil {
			return "", err
		}
		return joinPort(lit, port), fmt.Errorf("%w: %w: %q", ErrInvalid, ErrIPLiteral, s)
	}

	name, err := toASCII(host)
	if err != nil {
		return "", err
	}
	// Unicode mapping can turn a name into an address ("１２７.０.０.１"
	// maps to "127.0.0.1"), so look again after it.
	if lit, ok, _ := ipLiteral(name); ok {
		return joinPort(lit, port), fmt.Errorf("%w: %w: %q", ErrInvalid, ErrIPLiteral, s)
	}
	out := joinPort(name, port)
	if !strings.Contains(name, ".") {
		return out, fmt.Errorf("%w: %w: %q", ErrInvalid, ErrSingleLabel, s)
	}
	return out, nil
}

// splitPort separates an optional port. A bracketed host keeps its brackets
// so ipLiteral can recognise it; a bare IPv6 address (several colons, no
// brackets) is returned whole, without a port.
func splitPort(s string) (host, port string, err error) {
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", "", fmt.Errorf("%w: %q has an unclosed bracket", ErrInvalid, s)
		}
		host, rest := s[:end+1], s[end+1:]
		if rest == "" {
			return host, "", nil
		}
		if rest[0] != ':' {
			return "", "", fmt.Errorf("%w: %q has junk after the bracket", ErrInvalid, s)
		}
		port, err := parsePort(rest[1:])
		return host, port, err
	}
	switch strings.Count(s, ":") {
	case 0:
		return s, "", nil
	case 1:
		i := strings.IndexByte(s, ':')
		port, err := parsePort(s[i+1:])
		return s[:i], port, err
	default:
		return s, "", nil
	}
}

// parsePort validates a decimal port in 1-65535 and returns it without
// leading zeros.
func parsePort(p string) (string, error) {
	if p == "" {
		return "", fmt.Errorf("%w: empty port", ErrInvalid)
	}
	if len(p) > 5 || strings.Trim(p, "0123456789") != "" {
		return "", fmt.Errorf("%w: port %q is not a number in 1-65535", ErrInvalid, p)
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("%w: port %q is out of range 1-65535", ErrInvalid, p)
	}
	return strconv.Itoa(n), nil
}

// ipLiteral reports whether host is an IP address, in the forms URL parsers
// and resolvers accept: bracketed or bare IPv6, dotted IPv4, and names whose
// last label is numeric ("127.1", "0x7f.1"), which WHATWG URL parsing and
// inet_aton treat as IPv4 addresses rather than names. It returns the
// literal in canonical form where netip can parse it (IPv6 in brackets),
// otherwise lower-cased as given.
func ipLiteral(host string) (string, bool, error) {
	if strings.HasPrefix(host, "[") {
		a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
		if err != nil || !a.Is6() {
			return "", false, fmt.Errorf("%w: %q is not a valid bracketed IPv6 address", ErrInvalid, host)
		}
		return "[" + a.String() + "]", true, nil
	}
	if strings.Contains(host, ":") {
		a, err := netip.ParseAddr(host)
		if err != nil {
			return "", false, fmt.Errorf("%w: %q has bad characters", ErrInvalid, host)
		}
		return "[" + a.String() + "]", true, nil
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return a.String(), true, nil
	}
	labels := strings.Split(strings.TrimSuffix(host, "."), ".")
	last := strings.ToLower(labels[len(labels)-1])
	if isNumericLabel(last) {
		return strings.ToLower(strings.TrimSuffix(host, ".")), true, nil
	}
	return "", false, nil
}

// isNumericLabel reports whether a label is a decimal, octal or hex number,
// which makes the whole name an IPv4 address to URL parsers.
func isNumericLabel(l string) bool {
	if l == "" {
		return false
	}
	if strings.HasPrefix(l, "0x") {
		return strings.Trim(l[2:], "0123456789abcdef") == ""
	}
	return strings.Trim(l, "0123456789") == ""
}

// toASCII maps a (possibly Unicode) name to lower-case A-labels and
// validates it with reasons a human can act on.
func toASCII(host string) (string, error) {
	if strings.HasSuffix(host, ".") {
		host = host[:len(host)-1]
	}
	if host == "" {
		return "", fmt.Errorf("%w: empty name", ErrInvalid)
	}
	if !utf8.ValidString(host) {
		return "", fmt.Errorf("%w: %q is not valid UTF-8", ErrInvalid, host)
	}
	if strings.Contains(host, "_") {
		return "", fmt.Errorf("%w: %q contains an underscore", ErrInvalid, host)
	}
	for _, r := range host {
		if r < 0x80 && !isLDH(byte(r)) && r != '.' {
			return "", fmt.Errorf("%w: %q contains the bad character %q", ErrInvalid, host, r)
		}
	}
	for _, l := range strings.Split(host, ".") {
		if l == "" {
			return "", fmt.Errorf("%w: %q has an empty label", ErrInvalid, host)
		}
	}
	name, err := profile.ToASCII(host)
	if err != nil {
		return "", fmt.Errorf("%w: %q is not a valid international name: %w", ErrInvalid, host, err)
	}
	name = strings.ToLower(name)
	if len(name) > maxNameLen {
		return "", fmt.Errorf("%w: name is %d bytes long, over %d", ErrInvalid, len(name), maxNameLen)
	}
	for _, l := range strings.Split(name, ".") {
		switch {
		case l == "":
			return "", fmt.Errorf("%w: %q has an empty label", ErrInvalid, host)
		case len(l) > maxLabelLen:
			return "", fmt.Errorf("%w: label %q is %d bytes long, over %d", ErrInvalid, l, len(l), maxLabelLen)
		case l[0] == '-' || l[len(l)-1] == '-':
			return "", fmt.Errorf("%w: label %q starts or ends with a hyphen", ErrInvalid, l)
		}
		for i := 0; i < len(l); i++ {
			if !isLDH(l[i]) {
				return "", fmt.Errorf("%w: label %q contains the bad character %q", ErrInvalid, l, l[i])
			}
		}
	}
	return name, nil
}

// isLDH reports whether b is a letter, digit or hyphen.
func isLDH(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-'
}

// joinPort appends ":port" when there is one.
func joinPort(host, port string) string {
	if port == "" {
		return host
	}
	return host + ":" + port
}
