package hostname

import (
	"net/netip"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// Registrable returns the registrable domain of host: its effective top-level
// domain plus one label (eTLD+1), after the Public Suffix List as shipped
// with golang.org/x/net/publicsuffix, ICANN and private sections both. The
// crawler groups hosts by it, because one registrant controls every name
// under a registrable domain: a spam farm can mint 30,000 subdomains of
// "spamfarm.example" for free, and a hosting provider runs its customers'
// instances as subdomains of one domain. Private suffixes such as
// "github.io" count as suffixes, so their users' sites are separate
// registrants, as they are in browsers' cookie rules.
//
// host is expected in Normalize's form; a port is stripped, and case and a
// trailing dot are forgiven. Under top-level domains the list does not know
// (".example", ".test", a brand-new gTLD) the list's default rule "*"
// applies: the eTLD is the last label and the result the last two labels.
// A name that is itself a public suffix ("co.uk"), a single label
// ("localhost") and an IP literal (without brackets and port) are their
// own group and returned as they are. Empty input gives "".
func Registrable(host string) string {
	h := strings.ToLower(strings.TrimSpace(host))
	if len(h) > maxInputLen {
		return ""
	}
	h = stripPort(h)
	h = strings.TrimSuffix(h, ".")
	if h == "" {
		return ""
	}
	if addr, err := netip.ParseAddr(h); err == nil {
		return addr.WithZone("").String()
	}
	d, err := publicsuffix.EffectiveTLDPlusOne(h)
	if err != nil {
		// The name is a public suffix itself, a single label or malformed
		// (empty labels): it has no registrable part, so it stands alone.
		return h
	}
	return d
}

// stripPort removes a port and IPv6 brackets: "x.example:8443" gives
// "x.example", "[::1]:443" gives "::1"; a bare IPv6 address stays whole.
func stripPort(h string) string {
	if strings.HasPrefix(h, "[") {
		if end := strings.IndexByte(h, ']'); end > 0 {
			return h[1:end]
		}
		return strings.TrimPrefix(h, "[")
	}
	if strings.Count(h, ":") == 1 {
		h, _, _ = strings.Cut(h, ":")
	}
	return h
}
