package fedisim

import "math"

// rng is a small SplitMix64 generator. The simulation owns its generator
// instead of using math/rand so that the same Seed yields the same world on
// every Go release: the standard library reserves the right to change the
// values its helpers derive from a source.
type rng struct{ s uint64 }

// Salts that separate the random streams of one instance, so that adding a
// draw to one aspect (say, behaviours) never shifts another (say, content).
const (
	saltHost uint64 = iota + 1
	saltProfile
	saltBehaviour
	saltPeers
	saltContent
	saltDead
	saltWorld
	saltAccess // API access modes (drawAccess)
	saltExtras // media, replies, polls (decorate)
	saltEpoch  // epoch changes (applyEpoch)
	saltRelevance
	saltOptIn    // the opt-in word in bios (Options.OptInWord)
	saltLemmy    // Lemmy persons, posts and comments (lemmy_content.go)
	saltMisskey  // Misskey-family account flags (misskey_notes.go)
	saltPeerTube // PeerTube accounts and videos (peertube_content.go)
	saltHistory  // the day dimension (history.go)

	// Boosts at epoch 0, and their changes at later epochs (boosts.go).
	saltBoosts
	saltBoostEpoch
	saltRemoteReply // Options.RemoteReplies (remote_replies.go)
)

// newRNG returns a generator whose stream is a pure function of parts.
func newRNG(parts ...uint64) *rng {
	var h uint64 = 0x243f6a8885a308d3
	for _, p := range parts {
		h = mix64(h ^ mix64(p+0x9e3779b97f4a7c15))
	}
	return &rng{s: h}
}

// mix64 is the SplitMix64 finaliser: a cheap, well-distributed bijection.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// hashString is FNV-1a, used to derive per-host values (delays, variants)
// without keeping state.
func hashString(s string) uint64 {
	var h uint64 = 0xcbf29ce484222325
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 0x100000001b3
	}
	return mix64(h)
}

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return mix64(r.s)
}

// intn returns a value in [0, n); n <= 0 yields 0.
func (r *rng) intn(n int) int {
	if n <= 0 {
		return 0
	}
	return int(r.next() % uint64(n))
}

// between returns a value in [lo, hi].
func (r *rng) between(lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + r.intn(hi-lo+1)
}

// float returns a value in [0, 1).
func (r *rng) float() float64 {
	return float64(r.next()>>11) / (1 << 53)
}

// chance reports true with probability p.
func (r *rng) chance(p float64) bool { return r.float() < p }

// pick returns a random element of list.
func (r *rng) pick(list []string) string { return list[r.intn(len(list))] }

// logUniform returns an integer spread evenly over orders of magnitude
// between lo and hi.
func (r *rng) logUniform(lo, hi int64) int64 {
	a, b := math.Log(float64(lo)), math.Log(float64(hi))
	return int64(math.Exp(a + (b-a)*r.float()))
}

// weighted picks an index with probability proportional to weights.
func (r *rng) weighted(weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	x := r.intn(total)
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

// shuffle permutes n elements through swap.
func (r *rng) shuffle(n int, swap func(i, j int)) {
	for i := n - 1; i > 0; i-- {
		swap(i, r.intn(i+1))
	}
}
