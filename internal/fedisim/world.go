package fedisim

import (
	"math"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
)

// Mastodon timeline access modes (timeline_preview before 4.5,
// timelines_access.live_feeds from 4.5).
const (
	tlPublic        uint8 = iota // anonymous readers get the local timeline
	tlAuthenticated              // 401 for anonymous readers
	tlDisabled                   // empty array (4.5 "disabled")
)

// instance is one virtual server. Everything the handler serves is derived
// from these fields (and, lazily, from content), so a world of tens of
// thousands of instances stays small.
type instance struct {
	idx     int
	host    string
	kind    swKind
	version string
	// title is the instance's display name; nodeName says whether NodeInfo
	// metadata.nodeName carries it (not every program or version sets it).
	title    string
	nodeName bool
	desc     string

	users, month, halfyear, posts int64
	noPosts                       bool // usage.localPosts omitted
	openReg                       bool

	beh      beh
	isolated bool
	peers    []int32 // >= 0: instance index; < 0: -(i+1) into world.extra
	offsite  int     // instance whose NodeInfo nodeinfo_offsite links to

	// Mastodon knobs.
	tlLocal, tlRemote uint8
	blocksVisible     bool
	// robotsWelcome: robots.txt disallows everyone but explicitly allows
	// the fedilens agent token (RFC 9309 group selection).
	robotsWelcome bool
	// denyAllAgent: robots_deny_all names the fedilens token instead of "*".
	denyAllAgent bool

	// apiAuth: Mastodon's DISALLOW_UNAUTHENTICATED_API_ACCESS (the
	// accounts, statuses, directory and timelines APIs answer 401);
	// authFetch: AUTHORIZED_FETCH (unsigned ActivityPub GETs answer 401).
	// GoToSocial always behaves as authFetch. Drawn by drawAccess.
	apiAuth, authFetch bool
	// plantSlot is 1 + the slot of a relevance plant host, 0 otherwise.
	plantSlot int

	// lazy caches the generated content. It is a pointer so that a day
	// view of the instance (history.go) can be a plain copy that shares
	// the canonical instance's cache.
	lazy *instanceLazy
	// viewDay is the day a day view (history.go) shows.
	viewDay int
}

// instanceLazy is an instance's content, generated on first use.
type instanceLazy struct {
	contentOnce sync.Once
	content     *content
	// The content of the current epoch (> 0), cached per instance.
	epochMu      sync.Mutex
	epochN       int
	epochContent *content
}

func (in *instance) has(b beh) bool { return in.beh&b != 0 }

func (in *instance) prof() *swProfile { return in.kind.prof() }

// world is the generated fediverse.
type world struct {
	seed      uint64
	now       time.Time
	instances []*instance
	byHost    map[string]*instance
	// extra holds the peer-list entries that are not instances: dead hosts
	// first (deadCount of them), then junk, then the trap entries.
	extra     []string
	deadCount int
	// farm is the spam farm (farm.go); its hosts follow the trap entries
	// in extra.
	farm *farm

	// postScale and plant are Options.PostScale and PlantRelevance;
	// plantHosts are the instances that carry the relevance cases.
	postScale  int
	plant      bool
	plantHosts []*instance
	// optInWord is Options.OptInWord.
	optInWord string
	// remoteReplies is Options.RemoteReplies.
	remoteReplies bool
	// epoch is the current epoch (epoch.go).
	epoch atomic.Int64
	// hist is the day dimension (nil without Options.HistoryDays) and
	// day the day served (history.go).
	hist *history
	day  atomic.Int64
}

func (w *world) peerName(ref int32) string {
	if ref >= 0 {
		return w.instances[ref].host
	}
	return w.extra[-ref-1]
}

// buildWorld generates the instances, their behaviours and the federation
// graph. It is a pure function of its arguments.
func buildWorld(seed int64, n int, now time.Time, noHostile bool) *world {
	w := &world{
		seed:      uint64(seed),
		now:       now,
		instances: make([]*instance, n),
		byHost:    make(map[string]*instance, n),
	}
	names := newNameGen(n + n/4 + 64)
	hostRNG := newRNG(w.seed, saltHost)
	for i := 0; i < n; i++ {
		in := &instance{idx: i, lazy: &instanceLazy{}}
		r := newRNG(w.seed, saltProfile, uint64(i))
		w.profileInstance(in, r)
		switch i {
		case 0:
			in.host = SeedA
		case 1:
			in.host = SeedB
		case 2:
			in.host = SeedC
		default:
			in.host = names.instanceHost(hostRNG, in.kind)
		}
		in.title, in.desc = makeTitle(in, r)
		w.instances[i] = in
		w.byHost[in.host] = in
	}

	// Dead hosts: valid names nobody answers for.
	deadRNG := newRNG(w.seed, saltDead)
	w.deadCount = max(20, n/5)
	for i := 0; i < w.deadCount; i++ {
		w.extra = append(w.extra, names.deadHost(deadRNG))
	}
	w.extra = append(w.extra, junkPeers...)
	w.extra = append(w.extra, TrapHost, TrapIP)
	w.buildFarm()

	if !noHostile {
		w.assignBehaviours()
	}
	w.buildPeers()
	w.publishFarm()
	return w
}

// profileInstance draws software, version, counts and settings.
func (w *world) profileInstance(in *instance, r *rng) {
	switch in.idx {
	case 0:
		in.kind, in.version = swMastodon, "4.5.2"
	case 1:
		in.kind, in.version = swMisskey, "2025.4.1"
	case 2:
		in.kind, in.version = swAkkoma, "3.15.2"
	default:
		in.kind = swKind(r.weighted(kindWeights))
		p := in.prof()
		in.version = p.versions[r.weighted(p.versionWeights)]
	}
	p := in.prof()

	switch {
	case in.idx == 0:
		in.users = 250000 + int64(r.intn(100000))
	case in.idx == 1:
		in.users = 30000 + int64(r.intn(30000))
	case in.idx == 2:
		in.users = 5000 + int64(r.intn(5000))
	case p.canBeHuge && r.chance(0.006):
		in.users = r.logUniform(100000, 1500000)
	case r.chance(p.singleUser):
		in.users = 1
	default:
		// Pareto tail: most instances are small, a few are large.
		u := 1 - r.float()
		v := int64(2 / math.Pow(u, 1/0.75))
		in.users = min(max(v, 2), p.maxUsers)
	}

	if in.users == 1 {
		in.halfyear = int64(r.between(0, 1))
		if in.halfyear == 1 && r.chance(0.8) {
			in.month = 1
		}
		in.posts = r.logUniform(5, 5000)
	} else {
		in.halfyear = max(1, int64(float64(in.users)*(0.08+0.5*r.float())))
		in.month = max(0, int64(float64(in.halfyear)*(0.2+0.6*r.float())))
		in.posts = in.users * r.logUniform(3, 900)
	}
	switch in.kind {
	case swWordPress:
		in.noPosts = r.chance(0.3)
	case swFriendica:
		in.noPosts = r.chance(0.1)
	}

	in.openReg = r.chance(p.openReg)
	if in.users > 100000 {
		in.openReg = r.chance(0.8)
	}
	if in.kind == swAkkoma && in.version == "3.0.0" {
		// Akkoma 3.0.0 serves the string "FALSE"; the sim only ever serves
		// that spelling, so the truth is false.
		in.openReg = false
	}

	in.nodeName = nodeNameServed(in, r)

	if in.kind == swMastodon {
		if versionAtLeast(in.version, 4, 5) {
			modes := []int{70, 15, 15}
			in.tlLocal = uint8(r.weighted(modes))
			in.tlRemote = uint8(r.weighted(modes))
		} else if r.chance(0.15) {
			in.tlLocal, in.tlRemote = tlAuthenticated, tlAuthenticated
		}
		if in.idx == 0 {
			in.tlLocal = tlPublic // the seed's timeline feeds the thin post path
		}
		in.blocksVisible = r.chance(0.6)
		in.robotsWelcome = in.idx > 2 && r.chance(0.01)
	}
	in.denyAllAgent = r.chance(0.5)
	in.isolated = in.idx > 2 && r.chance(0.03)
}

// nodeNameServed says whether NodeInfo metadata.nodeName carries the title.
func nodeNameServed(in *instance, r *rng) bool {
	switch in.kind {
	case swMastodon:
		// 3.x serves "metadata":{}, 4.0.0rc2 serves "metadata":[].
		return versionAtLeast(in.version, 4, 0) && in.version != "4.0.0rc2"
	case swGoToSocial, swLemmy:
		return false
	case swMisskey, swSharkey, swFirefish, swFedired:
		return !r.chance(0.1) // unset names are served as null
	case swSnac:
		return r.chance(0.3) // snac serves "" unless configured
	}
	return true
}

// instanceDocTitle is the name the program's own instance document
// carries: Misskey serves null and snac its host when no name is set.
func instanceDocTitle(in *instance) string {
	switch {
	case in.nodeName:
		return in.title
	case in.prof().misskeyAPI:
		return ""
	case in.kind == swSnac:
		return in.host
	}
	return in.title
}

var titleSuffixes = []string{"Social", "Commons", "Town", "Place", "Fedi", "Club", "Notes", "Space", ""}

// hostileTitles are remote strings that a dashboard must escape.
var hostileTitles = []string{
	`<script>alert("title")</script>`,
	`Tom & Jerry's "Place"`,
	`🐘 Elephant Herd 🐘`,
	`<b>Bold</b> Social`,
	"Zürich Fedi",
	"\u202eevil right-to-left",
	`' OR 1=1 --`,
}

// makeTitle derives a display name and description from the host.
func makeTitle(in *instance, r *rng) (string, string) {
	switch in.idx {
	case 0:
		return "Sim Alpha", "The first seed of the simulated fediverse."
	case 1:
		return "Sim Bravo", "A Misskey seed."
	case 2:
		return "Sim Charlie", "An Akkoma seed."
	}
	if r.chance(0.02) {
		return r.pick(hostileTitles), "Remote input is hostile."
	}
	labels := strings.Split(in.host, ".")
	base := labels[0]
	if len(labels) > 2 && base != "" && !strings.HasSuffix(in.host, HostingDomain) {
		base = labels[1]
	}
	switch in.kind {
	case swGoToSocial:
		if r.chance(0.6) {
			return in.host, "" // GoToSocial's default title is the host
		}
	case swPixelfed:
		if r.chance(0.3) {
			return "pixelfed", "Photo Sharing. For Everyone."
		}
	}
	word := base
	if !strings.HasPrefix(base, "xn--") && base != "" {
		rs := []rune(base)
		rs[0] = unicode.ToUpper(rs[0])
		word = string(rs)
	}
	suffix := r.pick(titleSuffixes)
	title := strings.TrimSpace(word + " " + suffix)
	return title, "A small community server called " + title + "."
}

// assignBehaviours draws hostile and broken behaviours, then makes sure each
// one occurs at least once in worlds big enough to have room for them.
func (w *world) assignBehaviours() {
	counts := map[beh]int{}
	for _, in := range w.instances[3:] {
		if w.farm.publishes(in.idx) {
			continue // farm publishers behave: their peer lists must be read
		}
		r := newRNG(w.seed, saltBehaviour, uint64(in.idx))
		if in.kind == swGoToSocial && r.chance(0.7) {
			in.beh |= bRobotsDenyNodeInfo
		} else {
			x := r.float()
			for _, c := range fatalChances {
				if x < c.p && c.ok(in) {
					in.beh |= c.b
					break
				}
				x -= c.p
			}
		}
		for _, c := range benignChances {
			if r.chance(c.p) && c.ok(in) {
				in.beh |= c.b
			}
		}
		if in.has(bNodeInfoOffsite) {
			in.offsite = w.offsiteTarget(in, r)
		}
		if in.beh&(bRobotsDenyAll|bRobotsDenyNodeInfo|bRobotsDenyAPI|bRobots5xx) != 0 {
			in.robotsWelcome = false // the behaviour must not be overridden by an agent group
		}
		for _, n := range behNames {
			if in.beh&n.b != 0 {
				counts[n.b]++
			}
		}
	}
	if len(w.instances) < 40 {
		return
	}
	all := append(append([]behaviourChance{}, fatalChances...), benignChances...)
	for _, c := range all {
		if counts[c.b] > 0 {
			continue
		}
		for _, in := range w.instances[3:] {
			if in.isolated || w.farm.publishes(in.idx) || !c.ok(in) {
				continue
			}
			if c.b&fatalBeh != 0 && in.beh != 0 || c.b&fatalBeh == 0 && in.beh&c.b != 0 {
				continue
			}
			in.beh |= c.b
			if c.b&(bRobotsDenyAll|bRobotsDenyNodeInfo|bRobotsDenyAPI|bRobots5xx) != 0 {
				in.robotsWelcome = false
			}
			if c.b == bNodeInfoOffsite {
				in.offsite = w.offsiteTarget(in, newRNG(w.seed, saltBehaviour, uint64(in.idx), 1))
			}
			counts[c.b]++
			break
		}
	}
}

// offsiteTarget picks another instance for nodeinfo_offsite links.
func (w *world) offsiteTarget(in *instance, r *rng) int {
	t := r.intn(len(w.instances) - 1)
	if t >= in.idx {
		t++
	}
	return t
}

// buildPeers draws every instance's published peer list.
func (w *world) buildPeers() {
	n := len(w.instances)
	var cand []int32
	var cum []float64
	total := 0.0
	for _, in := range w.instances {
		if in.isolated {
			continue
		}
		cand = append(cand, int32(in.idx))
		total += 1 + math.Sqrt(float64(in.users))
		cum = append(cum, total)
	}
	stamp := make([]int32, n)
	deadStamp := make([]int32, w.deadCount)
	junkBase := w.deadCount
	trapBase := w.deadCount + len(junkPeers)
	var scratch []int32
	for _, in := range w.instances {
		r := newRNG(w.seed, saltPeers, uint64(in.idx))
		mark := int32(in.idx + 1)
		stamp[in.idx] = mark // never list yourself
		limit := int(0.6 * float64(len(cand)))
		count := 2 + int(3*math.Sqrt(float64(in.users))) + r.intn(6)
		if in.idx <= 2 {
			count = limit
		}
		count = min(count, limit)
		peers := make([]int32, 0, count+count/8+6)
		if count > len(cand)/3 {
			// Dense lists: a partial shuffle of all candidates.
			scratch = append(scratch[:0], cand...)
			for i := 0; i < len(scratch) && len(peers) < count; i++ {
				j := i + r.intn(len(scratch)-i)
				scratch[i], scratch[j] = scratch[j], scratch[i]
				if c := scratch[i]; stamp[c] != mark {
					stamp[c] = mark
					peers = append(peers, c)
				}
			}
		} else {
			for tries := 0; len(peers) < count && tries < count*20; tries++ {
				var c int32
				if r.chance(0.5) {
					c = cand[sort.SearchFloat64s(cum, r.float()*total)]
				} else {
					c = cand[r.intn(len(cand))]
				}
				if stamp[c] != mark {
					stamp[c] = mark
					peers = append(peers, c)
				}
			}
		}
		// Servers that went away linger in peer lists.
		for k := count/8 + r.intn(2); k > 0; k-- {
			d := r.intn(w.deadCount)
			if deadStamp[d] != mark {
				deadStamp[d] = mark
				peers = append(peers, int32(-(d + 1)))
			}
		}
		if r.chance(0.15) {
			for k := r.between(1, 2); k > 0; k-- {
				peers = append(peers, int32(-(junkBase + r.intn(len(junkPeers)) + 1)))
			}
		}
		if in.idx == 2 || in.idx > 2 && r.chance(0.01) {
			peers = append(peers, int32(-(trapBase + 1)), int32(-(trapBase + 2)))
		}
		r.shuffle(len(peers), func(i, j int) { peers[i], peers[j] = peers[j], peers[i] })
		in.peers = peers
	}
}
