package httpclient

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// target is where an override sends a host: an address, and a port unless
// the request's port is kept (port 0).
type target struct {
	addr netip.Addr
	port uint16
}

// String formats the target the way Resolve values are written.
func (t target) String() string {
	if t.port != 0 {
		return netip.AddrPortFrom(t.addr, t.port).String()
	}
	if t.addr.Is6() {
		return "[" + t.addr.String() + "]"
	}
	return t.addr.String()
}

// overrides is the compiled form of Options.Resolve.
type overrides struct {
	exact    map[string]target // "host:port"
	host     map[string]target // "host"
	wildcard *target           // "*"
}

// newOverrides validates and compiles Options.Resolve.
func newOverrides(m map[string]string) (*overrides, error) {
	o := &overrides{exact: map[string]target{}, host: map[string]target{}}
	for k, v := range m {
		key, err := parseResolveKey(k)
		if err != nil {
			return nil, err
		}
		t, err := parseResolveValue(v)
		if err != nil {
			return nil, fmt.Errorf("parse resolve override for %q: %w", k, err)
		}
		switch {
		case key == "*":
			o.wildcard = &t
		case strings.Contains(key, ":"):
			o.exact[key] = t
		default:
			o.host[key] = t
		}
	}
	return o, nil
}

// lookup finds the override for a canonical host name and port: an exact
// "host:port" entry beats a "host" entry, which beats "*".
func (o *overrides) lookup(name string, port uint16) (target, bool) {
	if t, ok := o.exact[name+":"+strconv.Itoa(int(port))]; ok {
		return t, true
	}
	if t, ok := o.host[name]; ok {
		return t, true
	}
	if o.wildcard != nil {
		return *o.wildcard, true
	}
	return target{}, false
}

// ParseResolve parses one --resolve flag value, "HOST=ADDR", where HOST is
// "name", "name:port" or "*" and ADDR is "ip" or "ip:port" (IPv6 in
// brackets: "[::1]:8443"). It returns the key and value in the canonical
// form Options.Resolve expects (lower-case punycode name, no trailing dot).
// Overrides exist for host names only, so an IP address as HOST is an
// error, as is "*:port".
func ParseResolve(s string) (key, value string, err error) {
	k, v, ok := strings.Cut(s, "=")
	if !ok {
		return "", "", fmt.Errorf("parse resolve override %q: want HOST=ADDR", s)
	}
	key, err = parseResolveKey(k)
	if err != nil {
		return "", "", err
	}
	t, err := parseResolveValue(v)
	if err != nil {
		return "", "", fmt.Errorf("parse resolve override %q: %w", s, err)
	}
	return key, t.String(), nil
}

// parseResolveKey validates and canonicalises a Resolve key.
func parseResolveKey(k string) (string, error) {
	k = strings.TrimSpace(k)
	if k == "*" {
		return k, nil
	}
	host, port := k, ""
	if i := strings.LastIndexByte(k, ':'); i >= 0 && !strings.HasSuffix(k, "]") {
		host, port = k[:i], k[i+1:]
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil || n == 0 {
			return "", fmt.Errorf("parse resolve key %q: port %q is not in 1-65535", k, port)
		}
		port = strconv.FormatUint(n, 10)
	}
	if host == "*" {
		return "", fmt.Errorf("parse resolve key %q: a wildcard cannot have a port", k)
	}
	if strings.HasPrefix(host, "[") || strings.Contains(host, ":") {
		return "", fmt.Errorf("parse resolve key %q: overrides apply to host names, not addresses", k)
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return "", fmt.Errorf("parse resolve key %q: overrides apply to host names, not addresses", k)
	}
	name := canonicalName(host)
	if err := checkName(name); err != nil {
		return "", fmt.Errorf("parse resolve key %q: %w", k, err)
	}
	if port != "" {
		return name + ":" + port, nil
	}
	return name, nil
}

// parseResolveValue parses "ip", "[ipv6]", "ip:port" or "[ipv6]:port".
func parseResolveValue(v string) (target, error) {
	v = strings.TrimSpace(v)
	if ap, err := netip.ParseAddrPort(v); err == nil {
		if ap.Port() == 0 {
			return target{}, fmt.Errorf("address %q: port 0", v)
		}
		return target{addr: ap.Addr().Unmap(), port: ap.Port()}, nil
	}
	inner := v
	if strings.HasPrefix(v, "[") && strings.HasSuffix(v, "]") {
		inner = v[1 : len(v)-1]
	}
	a, err := netip.ParseAddr(inner)
	if err != nil {
		return target{}, fmt.Errorf("address %q is not IP or IP:PORT: %w", v, err)
	}
	return target{addr: a.Unmap()}, nil
}

// canonicalName lower-cases a host name, drops a trailing dot and converts
// Unicode to punycode, which is how the transport hands names to the
// dialer (minus the case and the dot, which it leaves as written).
func canonicalName(host string) string {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if !isASCII(host) {
		if a, err := idna.Lookup.ToASCII(host); err == nil {
			return strings.ToLower(a)
		}
	}
	return host
}

// checkName accepts the names an operator might override, "localhost" and
// "_underscored" lab names included: letters, digits, "-", "_" and dots,
// no empty labels.
func checkName(name string) error {
	if name == "" {
		return fmt.Errorf("empty host name")
	}
	if len(name) > 253 || !utf8.ValidString(name) {
		return fmt.Errorf("invalid host name %q", name)
	}
	for _, l := range strings.Split(name, ".") {
		if l == "" || len(l) > 63 {
			return fmt.Errorf("host name %q has an empty or overlong label", name)
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("host name %q contains the bad character %q", name, c)
			}
		}
	}
	return nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
