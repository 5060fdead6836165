package httpclient

import (
	"fmt"
	"net/netip"
	"strings"
)

// reserved4 are the IPv4 networks fedilens never dials unless allowed:
// everything in the IANA special-purpose registry that is not globally
// reachable, plus multicast and the old class E.
var reserved4 = mustPrefixes(
	"0.0.0.0/8",       // "this network", includes the unspecified address
	"10.0.0.0/8",      // private (RFC 1918)
	"100.64.0.0/10",   // shared address space, CGNAT (RFC 6598)
	"127.0.0.0/8",     // loopback
	"169.254.0.0/16",  // link-local, cloud metadata services
	"172.16.0.0/12",   // private (RFC 1918)
	"192.0.0.0/24",    // IETF protocol assignments
	"192.0.2.0/24",    // documentation, TEST-NET-1
	"192.88.99.0/24",  // deprecated 6to4 relay anycast
	"192.168.0.0/16",  // private (RFC 1918)
	"198.18.0.0/15",   // benchmarking (RFC 2544)
	"198.51.100.0/24", // documentation, TEST-NET-2
	"203.0.113.0/24",  // documentation, TEST-NET-3
	"224.0.0.0/4",     // multicast
	"240.0.0.0/4",     // reserved, includes the broadcast address
)

// global6 is the IPv6 global unicast space; everything outside it
// (loopback, unspecified, IPv4-compatible, unique-local fc00::/7,
// link-local, site-local, multicast, discard 100::/64, ...) is refused.
var global6 = netip.MustParsePrefix("2000::/3")

// reserved6 are the special-purpose networks inside global6.
var reserved6 = mustPrefixes(
	"2001::/23",     // IETF protocol assignments: Teredo, benchmarking, ORCHID
	"2001:db8::/32", // documentation
	"3fff::/20",     // documentation (RFC 9637)
)

var (
	// nat64 embeds an IPv4 address in its last 32 bits (RFC 6052); DNS64
	// networks hand these out for IPv4-only hosts, so the embedded address
	// decides.
	nat64 = netip.MustParsePrefix("64:ff9b::/96")
	// sixToFour embeds an IPv4 address in bits 16-47 (RFC 3056).
	sixToFour = netip.MustParsePrefix("2002::/16")
)

func mustPrefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// IsForbidden reports whether the client refuses to connect to ip: loopback,
// private, link-local, multicast, unspecified, CGNAT, unique-local,
// documentation, benchmarking and other reserved addresses, in IPv4,
// IPv6, IPv4-mapped IPv6, NAT64 and 6to4 forms, unless ip lies in one of
// the allowed networks. Invalid addresses are forbidden.
func IsForbidden(ip netip.Addr, allow []netip.Prefix) bool {
	if !ip.IsValid() {
		return true
	}
	ip = ip.WithZone("").Unmap()
	for _, p := range allow {
		if p.Addr().Is4In6() {
			p = normalizePrefix(p)
		}
		if p.Contains(ip) {
			return false
		}
	}
	return isReserved(ip)
}

// isReserved reports whether an unmapped, zoneless address is outside the
// public internet.
func isReserved(ip netip.Addr) bool {
	if ip.Is4() {
		for _, p := range reserved4 {
			if p.Contains(ip) {
				return true
			}
		}
		return false
	}
	b := ip.As16()
	switch {
	case nat64.Contains(ip):
		return isReserved(netip.AddrFrom4([4]byte(b[12:16])))
	case sixToFour.Contains(ip):
		return isReserved(netip.AddrFrom4([4]byte(b[2:6])))
	case !global6.Contains(ip):
		return true
	}
	for _, p := range reserved6 {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// ParseAllowNet parses an entry of the --allow-net flag: a CIDR prefix
// ("10.0.0.0/8", "fd00::/8") or a single address ("127.0.0.1"), which
// allows just that address. The prefix is masked ("10.1.2.3/8" allows
// 10.0.0.0/8), and IPv4-mapped IPv6 prefixes become IPv4 prefixes, so they
// match the way addresses are checked.
func ParseAllowNet(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return netip.Prefix{}, fmt.Errorf("parse allowed network: empty")
	}
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return netip.Prefix{}, fmt.Errorf("parse allowed network %q: %w", s, err)
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("parse allowed network %q: %w", s, err)
		}
		if a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("parse allowed network %q: zones are not supported", s)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	return normalizePrefix(p), nil
}

// normalizePrefix masks p and turns IPv4-mapped IPv6 prefixes into IPv4.
func normalizePrefix(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked()
}
