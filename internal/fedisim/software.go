package fedisim

import (
	"strconv"
	"strings"
)

// swKind is a server program the simulation can play.
type swKind uint8

const (
	swMastodon swKind = iota
	swPleroma
	swAkkoma
	swMisskey
	swSharkey
	swFirefish
	swFedired
	swGoToSocial
	swLemmy
	swPeerTube
	swPixelfed
	swWriteFreely
	swSnac
	swFriendica
	swWordPress
	numKinds
)

// nodeinfoLink is one entry of a /.well-known/nodeinfo document.
type nodeinfoLink struct {
	version string // schema version, "2.1"
	path    string // document path on the instance
}

// swProfile describes how one server program looks from the outside.
type swProfile struct {
	// name is NodeInfo software.name exactly as served (Fedired capitalises).
	name string
	// weight is the share of instances, per mille.
	weight int
	// versions and their relative weights.
	versions       []string
	versionWeights []int
	// singleUser is the probability of a one-account instance.
	singleUser float64
	// maxUsers caps the ordinary (non-huge) user counts.
	maxUsers int64
	// canBeHuge allows the rare 100k+ instance.
	canBeHuge bool
	// openReg is the probability of open registrations.
	openReg float64
	// mastoAPI: the Mastodon client API family (/api/v1/instance, ...).
	mastoAPI bool
	// misskeyAPI: the Misskey family (POST /api/...).
	misskeyAPI bool
	// peersPath is where the program publishes its peer list ("" = nowhere).
	peersPath string
	// hasAccounts: the program serves accounts and posts over ActivityPub.
	hasAccounts bool
	// activeCounts: NodeInfo usage.users carries activeMonth/activeHalfyear.
	activeCounts bool
	// hostMeta: serves /.well-known/host-meta.
	hostMeta bool
}

var profiles = [numKinds]swProfile{
	swMastodon: {
		name: "mastodon", weight: 470,
		versions:       []string{"3.5.19", "4.0.2", "4.0.0rc2", "4.1.25", "4.2.24", "4.2.10+hometown-1.1.1", "4.3.12", "4.3.0+glitch", "4.4.8", "4.5.2", "4.5.2+glitch"},
		versionWeights: []int{4, 3, 1, 5, 14, 2, 22, 4, 20, 22, 3},
		singleUser:     0.18, maxUsers: 90000, canBeHuge: true, openReg: 0.55,
		mastoAPI: true, peersPath: "/api/v1/instance/peers", hasAccounts: true, activeCounts: true, hostMeta: true,
	},
	swPleroma: {
		name: "pleroma", weight: 50,
		versions:       []string{"2.5.5", "2.6.3", "2.7.0", "2.2.50-724-gf917285b-develop"},
		versionWeights: []int{3, 4, 3, 1},
		singleUser:     0.3, maxUsers: 8000, openReg: 0.4,
		mastoAPI: true, peersPath: "/api/v1/instance/peers", hasAccounts: true, hostMeta: true,
	},
	swAkkoma: {
		name: "akkoma", weight: 40,
		versions:       []string{"3.0.0", "3.10.4", "3.13.2", "3.15.2"},
		versionWeights: []int{2, 3, 3, 4},
		singleUser:     0.3, maxUsers: 8000, openReg: 0.4,
		mastoAPI: true, peersPath: "/api/v1/instance/peers", hasAccounts: true, hostMeta: true,
	},
	swMisskey: {
		name: "misskey", weight: 70,
		versions:       []string{"12.119.2", "13.14.2", "2023.12.2", "2024.11.0", "2025.4.1"},
		versionWeights: []int{1, 2, 3, 4, 4},
		singleUser:     0.25, maxUsers: 60000, canBeHuge: true, openReg: 0.6,
		misskeyAPI: true, peersPath: "/api/federation/instances", hasAccounts: true, activeCounts: true, hostMeta: true,
	},
	swSharkey: {
		name: "sharkey", weight: 30,
		versions:       []string{"2024.11.2", "2025.4.3"},
		versionWeights: []int{3, 3},
		singleUser:     0.35, maxUsers: 20000, openReg: 0.5,
		misskeyAPI: true, peersPath: "/api/federation/instances", hasAccounts: true, activeCounts: true, hostMeta: true,
	},
	swFirefish: {
		name: "firefish", weight: 20,
		versions:       []string{"1.0.5-rc", "20240504"},
		versionWeights: []int{2, 3},
		singleUser:     0.3, maxUsers: 20000, openReg: 0.4,
		misskeyAPI: true, peersPath: "/api/federation/instances", hasAccounts: true, activeCounts: true, hostMeta: true,
	},
	swFedired: {
		name: "Fedired", weight: 5,
		versions:       []string{"2024.1-beta3"},
		versionWeights: []int{1},
		singleUser:     0.3, maxUsers: 5000, openReg: 0.5,
		misskeyAPI: true, peersPath: "/api/federation/instances", hasAccounts: true, activeCounts: true, hostMeta: true,
	},
	swGoToSocial: {
		name: "gotosocial", weight: 55,
		versions:       []string{"0.16.0+git-6a6a4993", "0.17.4", "0.18.3", "0.19.1", "0.20.0"},
		versionWeights: []int{1, 2, 3, 3, 3},
		singleUser:     0.5, maxUsers: 300, openReg: 0.1,
		mastoAPI: true, peersPath: "/api/v1/instance/peers", hasAccounts: true, hostMeta: true,
	},
	swLemmy: {
		name: "lemmy", weight: 55,
		versions:       []string{"0.18.5", "0.19.3", "0.19.11"},
		versionWeights: []int{3, 3, 4},
		singleUser:     0.1, maxUsers: 60000, canBeHuge: true, openReg: 0.7,
		peersPath: "/api/v3/federated_instances", activeCounts: true,
	},
	swPeerTube: {
		name: "peertube", weight: 40,
		versions:       []string{"5.2.1", "6.3.3", "7.1.0"},
		versionWeights: []int{2, 3, 3},
		singleUser:     0.15, maxUsers: 5000, openReg: 0.4,
		activeCounts: true, hostMeta: true,
	},
	swPixelfed: {
		name: "pixelfed", weight: 30,
		versions:       []string{"0.11.13", "0.12.3", "0.12.5"},
		versionWeights: []int{2, 3, 3},
		singleUser:     0.15, maxUsers: 60000, canBeHuge: true, openReg: 0.6,
		mastoAPI: true, peersPath: "/api/v1/instance/peers", hasAccounts: true, activeCounts: true, hostMeta: true,
	},
	swWriteFreely: {
		name: "writefreely", weight: 30,
		versions:       []string{"0.15.1", "0.16.0"},
		versionWeights: []int{3, 2},
		singleUser:     0.6, maxUsers: 500, openReg: 0.2,
		hasAccounts: true, hostMeta: true,
	},
	swSnac: {
		name: "snac", weight: 25,
		versions:       []string{"2.75", "2.81", "2.94"},
		versionWeights: []int{2, 2, 3},
		singleUser:     0.8, maxUsers: 20,
		peersPath: "/api/v1/instance/peers", hasAccounts: true, activeCounts: true, hostMeta: true,
	},
	swFriendica: {
		name: "friendica", weight: 30,
		versions:       []string{"2024.03-1557", "2024.08-1576", "2024.12-dev"},
		versionWeights: []int{3, 3, 1},
		singleUser:     0.2, maxUsers: 5000, openReg: 0.5,
		mastoAPI: true, peersPath: "/api/v1/instance/peers", hasAccounts: true, activeCounts: true, hostMeta: true,
	},
	swWordPress: {
		name: "wordpress", weight: 50,
		versions:       []string{"6.6.2", "6.7.2", "6.8.1"},
		versionWeights: []int{2, 3, 3},
		singleUser:     0.7, maxUsers: 50,
		hasAccounts: true, activeCounts: true, hostMeta: true,
	},
}

// kindWeights lists profile weights in kind order for rng.weighted.
var kindWeights = func() []int {
	w := make([]int, numKinds)
	for k := range profiles {
		w[k] = profiles[k].weight
	}
	return w
}()

// prof returns the profile of k.
func (k swKind) prof() *swProfile { return &profiles[k] }

// versionAtLeast compares the leading dotted numbers of v with want
// ("4.3.0+glitch" >= "4.3"). Non-numeric suffixes are ignored.
func versionAtLeast(v string, want ...int) bool {
	parts := strings.FieldsFunc(v, func(r rune) bool { return r == '.' || r == '-' || r == '+' || (r >= 'a' && r <= 'z') })
	for i, w := range want {
		if i >= len(parts) {
			return false
		}
		n, err := strconv.Atoi(parts[i])
		if err != nil {
			return false
		}
		if n != w {
			return n > w
		}
	}
	return true
}

// nodeinfoLinks returns the NodeInfo documents an instance of kind k at
// version v offers, in the order its discovery document lists them.
func nodeinfoLinks(k swKind, v string) []nodeinfoLink {
	switch k {
	case swMastodon:
		return []nodeinfoLink{{"2.0", "/nodeinfo/2.0"}}
	case swPleroma, swAkkoma:
		return []nodeinfoLink{{"2.0", "/nodeinfo/2.0.json"}, {"2.1", "/nodeinfo/2.1.json"}}
	case swMisskey, swSharkey, swFirefish, swFedired:
		return []nodeinfoLink{{"2.1", "/nodeinfo/2.1"}, {"2.0", "/nodeinfo/2.0"}}
	case swGoToSocial:
		return []nodeinfoLink{{"2.0", "/nodeinfo/2.0"}, {"2.1", "/nodeinfo/2.1"}}
	case swLemmy:
		if versionAtLeast(v, 0, 19) {
			return []nodeinfoLink{{"2.1", "/nodeinfo/2.1"}}
		}
		return []nodeinfoLink{{"2.0", "/nodeinfo/2.0"}}
	case swPeerTube:
		return []nodeinfoLink{{"2.0", "/nodeinfo/2.0.json"}}
	case swPixelfed:
		return []nodeinfoLink{{"2.0", "/api/nodeinfo/2.0.json"}}
	case swWriteFreely:
		return []nodeinfoLink{{"2.0", "/api/nodeinfo"}}
	case swSnac:
		return []nodeinfoLink{{"2.1", "/nodeinfo_2_1"}, {"2.0", "/nodeinfo_2_0"}}
	case swFriendica:
		return []nodeinfoLink{{"1.0", "/nodeinfo/1.0"}, {"2.0", "/nodeinfo/2.0"}}
	case swWordPress:
		return []nodeinfoLink{{"2.0", "/wp-json/activitypub/1.0/nodeinfo"}}
	}
	return nil
}

// highestNodeinfo returns the highest version offered and its path.
func highestNodeinfo(links []nodeinfoLink) nodeinfoLink {
	var best nodeinfoLink
	for _, l := range links {
		if best.version == "" || l.version > best.version {
			best = l
		}
	}
	return best
}
