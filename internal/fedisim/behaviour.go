package fedisim

// Behaviour names as they appear in InstanceTruth.Behaviours. Each is
// deterministic per host and documented with what the simulated server does.
const (
	// BehaviourDown: TLS handshakes are refused and plain HTTP connections
	// are closed without an answer.
	BehaviourDown = "down"
	// BehaviourHTTP503: every request is answered 503.
	BehaviourHTTP503 = "http_503"
	// BehaviourSlow: every response is delayed by 50 to 300 ms.
	BehaviourSlow = "slow"
	// BehaviourRateLimit: the first request of each path group (well-known,
	// nodeinfo, api, users, other; robots.txt is exempt) is answered 429
	// with Retry-After: 1; every later request is served normally.
	BehaviourRateLimit = "ratelimit"
	// BehaviourRobotsDenyAll: robots.txt disallows / for "*" or for the
	// "fedilens" agent token.
	BehaviourRobotsDenyAll = "robots_deny_all"
	// BehaviourRobotsDenyNodeInfo: robots.txt disallows /.well-known/nodeinfo
	// and /nodeinfo/ (GoToSocial's default instance-stats-mode).
	BehaviourRobotsDenyNodeInfo = "robots_deny_nodeinfo"
	// BehaviourRobotsDenyAPI: robots.txt disallows /api/ for everyone, so
	// neither peers nor timelines may be read (NodeInfo is still allowed).
	BehaviourRobotsDenyAPI = "robots_deny_api"
	// BehaviourRobots5xx: robots.txt answers 500; a crawler must treat the
	// whole host as disallowed.
	BehaviourRobots5xx = "robots_5xx"
	// BehaviourNodeInfoBroken: the NodeInfo documents are invalid JSON.
	BehaviourNodeInfoBroken = "nodeinfo_broken"
	// BehaviourNodeInfo404: no NodeInfo at all (discovery and documents 404).
	BehaviourNodeInfo404 = "nodeinfo_404"
	// BehaviourNodeInfoOffsite: the discovery document links to another
	// host's NodeInfo, which the crawler must refuse.
	BehaviourNodeInfoOffsite = "nodeinfo_offsite"
	// BehaviourNodeInfoNoIndex: the NodeInfo document is served with
	// X-Robots-Tag: noindex, so its statistics must not be used.
	BehaviourNodeInfoNoIndex = "nodeinfo_noindex"
	// BehaviourPeersDisabled: the peers endpoint answers 404.
	BehaviourPeersDisabled = "peers_disabled"
	// BehaviourPrivate: Pleroma/Akkoma metadata.private is true (the instance
	// restricts unauthenticated access; its public timeline answers 403).
	BehaviourPrivate = "private"
	// BehaviourRedirectTrap: /.well-known/nodeinfo answers 302 to
	// https://127.0.0.2/..., a forbidden address.
	BehaviourRedirectTrap = "redirect_trap"
	// BehaviourStatsInconsistent: usage.users.activeHalfyear exceeds total,
	// as some real servers publish (the counts are stored as served).
	BehaviourStatsInconsistent = "stats_inconsistent"
	// BehaviourUnknown names hosts that are not in the simulation: every
	// request is answered by closing the connection. It never appears in an
	// InstanceTruth; it is listed for completeness.
	BehaviourUnknown = "unknown"
)

// beh is a behaviour bit.
type beh uint32

const (
	bDown beh = 1 << iota
	bHTTP503
	bSlow
	bRateLimit
	bRobotsDenyAll
	bRobotsDenyNodeInfo
	bRobotsDenyAPI
	bRobots5xx
	bNodeInfoBroken
	bNodeInfo404
	bNodeInfoOffsite
	bNodeInfoNoIndex
	bPeersDisabled
	bPrivate
	bRedirectTrap
	bStatsInconsistent
)

// behNames maps bits to names in the order Behaviours lists them.
var behNames = []struct {
	b    beh
	name string
}{
	{bDown, BehaviourDown},
	{bHTTP503, BehaviourHTTP503},
	{bSlow, BehaviourSlow},
	{bRateLimit, BehaviourRateLimit},
	{bRobotsDenyAll, BehaviourRobotsDenyAll},
	{bRobotsDenyNodeInfo, BehaviourRobotsDenyNodeInfo},
	{bRobotsDenyAPI, BehaviourRobotsDenyAPI},
	{bRobots5xx, BehaviourRobots5xx},
	{bNodeInfoBroken, BehaviourNodeInfoBroken},
	{bNodeInfo404, BehaviourNodeInfo404},
	{bNodeInfoOffsite, BehaviourNodeInfoOffsite},
	{bNodeInfoNoIndex, BehaviourNodeInfoNoIndex},
	{bPeersDisabled, BehaviourPeersDisabled},
	{bPrivate, BehaviourPrivate},
	{bRedirectTrap, BehaviourRedirectTrap},
	{bStatsInconsistent, BehaviourStatsInconsistent},
}

// fatal behaviours keep an instance out of the census; at most one is
// assigned per instance so each can be tested in isolation.
const fatalBeh = bDown | bHTTP503 | bRobotsDenyAll | bRobotsDenyNodeInfo | bRobots5xx |
	bNodeInfoBroken | bNodeInfo404 | bNodeInfoOffsite | bNodeInfoNoIndex | bRedirectTrap

func (b beh) names() []string {
	var out []string
	for _, n := range behNames {
		if b&n.b != 0 {
			out = append(out, n.name)
		}
	}
	return out
}

// behaviourChance is the per-instance probability of each behaviour and
// which instances can have it.
type behaviourChance struct {
	b  beh
	p  float64
	ok func(in *instance) bool
}

func anyInstance(*instance) bool { return true }

var fatalChances = []behaviourChance{
	{bDown, 0.03, anyInstance},
	{bHTTP503, 0.02, anyInstance},
	{bRobotsDenyAll, 0.02, anyInstance},
	{bRobots5xx, 0.015, anyInstance},
	{bNodeInfoBroken, 0.015, anyInstance},
	{bNodeInfo404, 0.015, anyInstance},
	{bNodeInfoOffsite, 0.01, anyInstance},
	{bNodeInfoNoIndex, 0.015, anyInstance},
	{bRedirectTrap, 0.01, anyInstance},
	{bRobotsDenyNodeInfo, 0.004, anyInstance},
}

var benignChances = []behaviourChance{
	{bSlow, 0.04, anyInstance},
	{bRateLimit, 0.04, anyInstance},
	{bPeersDisabled, 0.05, func(in *instance) bool { return in.kind.prof().mastoAPI && in.kind.prof().peersPath != "" }},
	{bRobotsDenyAPI, 0.03, func(in *instance) bool { return in.kind == swMastodon }},
	{bPrivate, 0.3, func(in *instance) bool { return in.kind == swPleroma || in.kind == swAkkoma }},
	{bStatsInconsistent, 0.01, func(in *instance) bool { return in.kind.prof().activeCounts && in.users > 3 }},
}
