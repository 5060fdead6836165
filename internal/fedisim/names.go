package fedisim

import (
	"strconv"
	"strings"

	"golang.org/x/net/idna"
)

// Fixed names of the simulation. They are exported so that tests and the
// "fedilens sim" command can refer to them instead of repeating literals.
const (
	// SeedA, SeedB and SeedC are the seed instances: a large Mastodon, a
	// Misskey and an Akkoma server. They are never hostile.
	SeedA = "a.sim.example"
	SeedB = "b.sim.example"
	SeedC = "c.sim.example"
	// TrapHost is published in a few peer lists but is no instance; end-to-end
	// tests resolve it to TrapIP, an address the crawler must never contact.
	TrapHost = "trap.sim.example"
	// TrapIP is the loopback address the trap listener uses (Linux routes all
	// of 127/8 to lo). It is also published as an IP-literal peer.
	TrapIP = "127.0.0.2"
	// HostingDomain is a hosting provider that runs many small instances as
	// subdomains, like masto.host in the real fediverse.
	HostingDomain = "masto-host.example"
)

// Reserved top-level domains only (RFC 2606 / RFC 6761): no generated name
// can ever leak to a real server.
var tlds = []string{"example", "test"}

var wordsA = []string{
	"bright", "fern", "oak", "river", "stone", "silver", "moss", "pine", "cedar",
	"maple", "amber", "cloud", "frost", "ember", "copper", "willow", "hazel",
	"lark", "raven", "wren", "thistle", "heather", "birch", "alder", "rowan",
	"ivy", "clover", "sorrel", "saffron", "indigo", "cobalt", "granite", "marble",
	"quartz", "coral", "tide", "storm", "sun", "moon", "star", "north", "south",
	"east", "west", "high", "low", "green", "blue", "red", "gold", "iron", "salt",
	"sea", "lake", "snow", "rain", "mist", "dawn", "dusk", "owl", "fox", "otter",
	"badger", "heron", "kestrel", "plover", "puffin", "robin", "swift", "teal",
	"tern", "vole", "yarrow", "zephyr", "juniper", "lichen", "bramble", "nettle",
}

var wordsB = []string{
	"water", "hill", "field", "brook", "wood", "dale", "vale", "haven", "ridge",
	"ford", "marsh", "moor", "glen", "hollow", "meadow", "harbor", "port", "bay",
	"cove", "point", "reach", "crest", "fell", "gate", "mere", "stead", "wick",
	"bury", "ton", "worth", "land", "shire", "garden", "grove", "park", "square",
	"commons", "works", "lab", "hall", "house", "nest", "den", "burrow", "roost",
	"circle", "club", "camp", "town", "city", "place", "space", "zone", "net",
	"social", "cafe", "corner", "lounge", "garage", "forge", "mill", "yard",
}

// idnWords become punycode labels ("xn--..."), as real IDN instances appear
// in peer lists.
var idnWords = []string{
	"bücherwurm", "café-nord", "straße", "øresund", "çiçek", "ñandú", "дача",
	"東京", "mañana", "größe", "fjällräv", "kühlschrank", "ελιά", "über-alles",
}

// idnLabels is idnWords converted once; words idna rejects are skipped.
var idnLabels = func() []string {
	var out []string
	for _, w := range idnWords {
		a, err := idna.Lookup.ToASCII(w)
		if err == nil && strings.HasPrefix(a, "xn--") {
			out = append(out, a)
		}
	}
	return out
}()

// junkPeers are peer-list entries that are not valid host names: every one
// of them must be dropped by a crawler (rule 1 of the package doc).
var junkPeers = []string{
	"bad host",
	"-x-.example",
	"localhost",
	"127.0.0.1",
	"10.0.0.5",
	"192.0.2.17",
	"::1",
	"[2001:db8::1]",
	"a..b.example",
	"under_score.example",
	"*.wildcard.example",
	"trailing-.example",
	"x.example:99999",
	"",
	strings.Repeat("l", 64) + ".example",
	"javascript:alert(1)",
	"<script>.example",
}

// subdomain prefixes per software family, as they are commonly chosen.
var hostPrefixes = map[swKind][]string{
	swMastodon:    {"mastodon.", "social.", "", "masto.", "toot.", "m.", "mstdn."},
	swPleroma:     {"pl.", "fedi.", "", "pleroma."},
	swAkkoma:      {"akko.", "fedi.", "", "ak."},
	swMisskey:     {"mk.", "misskey.", "", "notes."},
	swSharkey:     {"shark.", "", "sk."},
	swFirefish:    {"ff.", "firefish.", ""},
	swFedired:     {"fedired.", ""},
	swGoToSocial:  {"gts.", "", "social.", "fedi."},
	swLemmy:       {"lemmy.", "", "forum.", "links."},
	swPeerTube:    {"tube.", "video.", "peertube."},
	swPixelfed:    {"pixelfed.", "photos.", "pix."},
	swWriteFreely: {"write.", "blog.", "words."},
	swSnac:        {"snac.", "", "me."},
	swFriendica:   {"friendica.", "", "f."},
	swWordPress:   {"", "blog.", "www."},
}

// nameGen hands out unique, realistic host names.
type nameGen struct {
	used map[string]struct{}
}

func newNameGen(capacity int) *nameGen {
	g := &nameGen{used: make(map[string]struct{}, capacity)}
	for _, h := range []string{SeedA, SeedB, SeedC, TrapHost, HostingDomain} {
		g.used[h] = struct{}{}
	}
	return g
}

// base returns a registrable-looking label such as "brightwater" or
// "oak-ridge", or a punycode label now and then.
func (g *nameGen) base(r *rng, allowIDN bool) string {
	if allowIDN && len(idnLabels) > 0 && r.chance(0.006) {
		return r.pick(idnLabels)
	}
	a, b := r.pick(wordsA), r.pick(wordsB)
	if r.chance(0.12) {
		return a + "-" + b
	}
	return a + b
}

// take reserves name if it is free.
func (g *nameGen) take(name string) bool {
	if _, ok := g.used[name]; ok {
		return false
	}
	g.used[name] = struct{}{}
	return true
}

// instanceHost returns a fresh host name for an instance of kind k.
func (g *nameGen) instanceHost(r *rng, k swKind) string {
	for attempt := 0; ; attempt++ {
		var prefix, suffix string
		if k == swMastodon && r.chance(0.08) {
			suffix = "." + HostingDomain
		} else {
			prefixes := hostPrefixes[k]
			prefix, suffix = prefixes[r.intn(len(prefixes))], "."+r.pick(tlds)
		}
		base := g.base(r, attempt < 6)
		if attempt >= 6 {
			// The word space is finite; large worlds fall back to numbered
			// names, which real fediverses have plenty of as well.
			base += strconv.Itoa(attempt)
		}
		if name := prefix + base + suffix; g.take(name) {
			return name
		}
	}
}

// deadHost returns a valid name that no instance answers for: servers that
// shut down but linger in everyone's peer lists.
func (g *nameGen) deadHost(r *rng) string {
	prefixes := []string{"", "social.", "mastodon.", "old.", "pl.", "mk."}
	for attempt := 0; ; attempt++ {
		name := prefixes[r.intn(len(prefixes))] + g.base(r, attempt < 6) + "." + r.pick(tlds)
		if attempt >= 6 {
			name = "gone" + strconv.Itoa(attempt) + "-" + name
		}
		if g.take(name) {
			return name
		}
	}
}

// ValidHostName reports whether s is a host name a crawler may follow from a
// peer list (rule 1 of the package doc): lower-case ASCII, at most 253
// characters, at least two dot-separated labels of 1 to 63 letters, digits
// or hyphens that neither start nor end with a hyphen, a top-level label
// that is not all digits (no IPv4 literals), and not "localhost" or a name
// under ".localhost".
func ValidHostName(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	if s == "localhost" || strings.HasSuffix(s, ".localhost") {
		return false
	}
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	allDigits := true
	for i := 0; i < len(tld); i++ {
		if tld[i] < '0' || tld[i] > '9' {
			allDigits = false
			break
		}
	}
	return !allDigits
}
