package fedisim

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// History rates (see the package doc's "History" section).
const (
	histBornLater   = 0.15 // born during the history (growth)
	histDies        = 0.08 // die during the history (churn)
	histReturns     = 0.40 // of those that die: come back later
	histNoUpgrade   = 0.20 // never upgrade
	histToggleReg   = 0.10 // registrations toggled for a window of days
	histLatePeer    = 0.25 // peer entries that appear during the history
	histBlockThread = 0.30 // Mastodon instances with visible blocks: threads.net
	histBlockBridge = 0.12 // ... bsky.brid.gy
	histBlockLate   = 0.70 // of those blocks: added during the history
)

// Domains that a share of the instances block or silence from some day on.
// They are block-list entries only, never peers: nothing contacts them.
const (
	ThreadsDomain = "threads.net"
	BridgyDomain  = "bsky.brid.gy"
)

// ErrDayOutOfRange is returned by SetDay and TruthAt for a day outside
// 0..HistoryDays-1 (only day 0 exists without a history).
var ErrDayOutOfRange = errors.New("fedisim: day out of range")

var (
	threadsReasons       = []string{"Meta", "Surveillance capitalism", "Threads: no thanks", ""}
	bridgeReasons        = []string{"Bridge without consent", "Bluesky bridge", ""}
	instanceBlockReasons = []string{"spam", "harassment", "hate speech", "no moderation", ""}
)

// blockEntry is one domain block as Mastodon's /api/v1/instance/domain_blocks
// serves it.
type blockEntry struct {
	domain, severity, comment string
	day                       int // the day it is added (0 for old blocks)
}

// instHistory is one instance's life over the history, drawn once from
// (seed, instance) with saltHistory.
type instHistory struct {
	birth, death, ret int // death and ret are -1 when they do not happen
	// gUsers is the users' share (per mille of today's) at birth, square
	// says whether they grow quadratically (else linearly); gPosts is the
	// posts' share at birth.
	gUsers, gPosts int64
	square         bool
	// versions is the upgrade chain (oldest first, today's last) and
	// upgrades the day each one is installed (upgrades[0] = birth).
	versions []string
	upgrades []int
	// regFrom..regTo (exclusive) is a window of days in which the
	// registrations are the opposite of today's; regTo = 0 for none.
	regFrom, regTo int
	// peerDay[i] is the day in.peers[i] appears in the published list.
	peerDay []int32
	blocks  []blockEntry
}

// history is the day dimension of a world (Options.HistoryDays > 0).
type history struct {
	days int
	inst []instHistory
}

// buildHistory draws every instance's history. Peers must be final
// (after publishFarm).
func (w *world) buildHistory(days int) *history {
	h := &history{days: days, inst: make([]instHistory, len(w.instances))}
	last := days - 1
	for _, in := range w.instances {
		ih := &h.inst[in.idx]
		r := newRNG(w.seed, saltHistory, uint64(in.idx))
		ih.death, ih.ret = -1, -1
		fixed := in.idx <= 2 || w.farm.publishes(in.idx) || in.plantSlot > 0
		if !fixed && last >= 1 && r.chance(histBornLater) {
			ih.birth = 1 + r.intn(last)
		}
		if !fixed && ih.birth+1 <= last && r.chance(histDies) {
			ih.death = ih.birth + 1 + r.intn(last-ih.birth)
			if ih.death+1 <= last && r.chance(histReturns) {
				ih.ret = ih.death + 1 + r.intn(last-ih.death)
			}
		}
		if ih.birth == 0 {
			ih.gUsers = 500 + int64(r.intn(450))
		} else {
			ih.gUsers = 20 + int64(r.intn(300))
		}
		ih.gPosts = ih.gUsers / 2
		ih.square = r.chance(0.5)

		ih.versions, ih.upgrades = []string{in.version}, []int{ih.birth}
		if !r.chance(histNoUpgrade) {
			if older := olderVersions(in); len(older) > 0 {
				k := min(len(older), 1+r.intn(2))
				chain := older[len(older)-k:]
				days := make([]int, k)
				for i := range days {
					days[i] = ih.birth + 1 + r.intn(max(1, last-ih.birth))
				}
				slices.Sort(days)
				if ih.birth < last {
					ih.versions = append(append([]string(nil), chain...), in.version)
					ih.upgrades = append([]int{ih.birth}, days...)
				}
			}
		}
		if last >= 2 && r.chance(histToggleReg) && !(in.kind == swAkkoma && in.version == "3.0.0") {
			ih.regFrom = r.intn(last)
			ih.regTo = ih.regFrom + 1 + r.intn(last-ih.regFrom)
		}

		pr := newRNG(w.seed, saltHistory, uint64(in.idx), 1)
		ih.peerDay = make([]int32, len(in.peers))
		for i, ref := range in.peers {
			d := ih.birth
			late, at := pr.chance(histLatePeer), ih.birth+pr.intn(days-ih.birth)
			if ref >= 0 && late { // the peer's own birth is applied below
				d = at
			}
			ih.peerDay[i] = int32(d)
		}
		if in.kind == swMastodon && in.blocksVisible {
			ih.blocks = w.drawBlocks(in, ih, days)
		}
	}
	// A peer's birth is only known once every instance is drawn.
	for _, in := range w.instances {
		ih := &h.inst[in.idx]
		for i, ref := range in.peers {
			if ref >= 0 {
				ih.peerDay[i] = max(ih.peerDay[i], int32(h.inst[ref].birth))
			}
		}
		for i := range ih.blocks {
			if t := w.byHost[ih.blocks[i].domain]; t != nil {
				ih.blocks[i].day = max(ih.blocks[i].day, h.inst[t.idx].birth)
			}
		}
		slices.SortStableFunc(ih.blocks, func(a, b blockEntry) int { return a.day - b.day })
	}
	return h
}

// drawBlocks draws a Mastodon instance's domain blocks: the old ones
// (dead hosts from its peer list, as without a history) and the ones
// added over time.
func (w *world) drawBlocks(in *instance, ih *instHistory, days int) []blockEntry {
	var out []blockEntry
	for i, d := range w.deadBlocked(in, 5) {
		sev := "silence"
		if i%2 == 0 {
			sev = "suspend"
		}
		out = append(out, blockEntry{domain: d, severity: sev, comment: "spam", day: ih.birth})
	}
	r := newRNG(w.seed, saltHistory, uint64(in.idx), 2)
	add := func(domain string, reasons []string, suspend float64) {
		e := blockEntry{domain: domain, severity: "silence", comment: r.pick(reasons), day: ih.birth}
		if r.chance(suspend) {
			e.severity = "suspend"
		}
		if r.chance(histBlockLate) {
			e.day = ih.birth + r.intn(days-ih.birth)
		}
		out = append(out, e)
	}
	if r.chance(histBlockThread) {
		add(ThreadsDomain, threadsReasons, 0.6)
	}
	if r.chance(histBlockBridge) {
		add(BridgyDomain, bridgeReasons, 0.3)
	}
	for k := r.intn(3); k > 0; k-- {
		t := w.instances[3+r.intn(len(w.instances)-3)]
		if t == in || slices.ContainsFunc(out, func(e blockEntry) bool { return e.domain == t.host }) {
			continue
		}
		add(t.host, instanceBlockReasons, 0.5)
	}
	return out
}

// deadBlocked returns up to n dead hosts from the instance's peer list.
func (w *world) deadBlocked(in *instance, n int) []string {
	out := []string{}
	for _, ref := range in.peers {
		if len(out) == n {
			break
		}
		if ref < 0 && int(-ref-1) < w.deadCount {
			out = append(out, w.extra[-ref-1])
		}
	}
	return out
}

// olderVersions are the versions of in's program an instance may have run
// before today's: listed earlier by the profile, lower, with the same fork
// suffix, and served the same way where the census can tell (NodeInfo
// documents, nodeName, the API generation), so that the census of a day
// depends on the version only through the version string. Sorted oldest
// first.
func olderVersions(in *instance) []string {
	p := in.prof()
	cls := versionClass(in.kind, in.version)
	var out []string
	for _, v := range p.versions {
		if compareVersions(v, in.version) < 0 && versionClass(in.kind, v) == cls && forkSuffix(v) == forkSuffix(in.version) {
			out = append(out, v)
		}
	}
	slices.SortFunc(out, compareVersions)
	return slices.Compact(out)
}

// versionClass groups the versions that serve the census endpoints alike.
func versionClass(k swKind, v string) string {
	c := fmt.Sprint(nodeinfoLinks(k, v))
	switch k {
	case swMastodon:
		c += fmt.Sprint(versionAtLeast(v, 4, 0) && v != "4.0.0rc2", versionAtLeast(v, 4, 5))
	case swAkkoma:
		c += fmt.Sprint(v == "3.0.0")
	case swMisskey:
		c += fmt.Sprint(versionAtLeast(v, 13, 0))
	case swLemmy:
		c += fmt.Sprint(versionAtLeast(v, 0, 19))
	}
	return c
}

// forkSuffix is what follows '+' in a version ("glitch"), or "".
func forkSuffix(v string) string {
	_, s, _ := strings.Cut(v, "+")
	return s
}

// compareVersions orders versions by their dotted numbers (non-numeric
// parts ignored, a missing part is 0), then by the string.
func compareVersions(a, b string) int {
	num := func(v string) []int {
		v, _, _ = strings.Cut(v, "+")
		var out []int
		for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r < '0' || r > '9' }) {
			n, _ := strconv.Atoi(f)
			out = append(out, n)
		}
		return out
	}
	na, nb := num(a), num(b)
	for i := 0; i < max(len(na), len(nb)); i++ {
		x, y := 0, 0
		if i < len(na) {
			x = na[i]
		}
		if i < len(nb) {
			y = nb[i]
		}
		if x != y {
			return x - y
		}
	}
	return strings.Compare(a, b)
}

// alive reports whether the instance answers on day d.
func (ih *instHistory) alive(d int) bool {
	if d < ih.birth {
		return false
	}
	return ih.death < 0 || d < ih.death || ih.ret >= 0 && d >= ih.ret
}

// share is the per-mille share of today's count on day d, growing from g
// at birth to 1000 on the last day.
func (ih *instHistory) share(g int64, square bool, d, last int) int64 {
	span := int64(last - ih.birth)
	if span <= 0 || d >= last {
		return 1000
	}
	t := int64(max(0, d-ih.birth))
	if square {
		return g + (1000-g)*t*t/(span*span)
	}
	return g + (1000-g)*t/span
}

// dayView returns in as it is on day d: a copy with that day's counts,
// version, registrations and peers (content stays the canonical
// instance's), or nil when the instance does not answer that day.
func (w *world) dayView(in *instance, d int) *instance {
	h := w.hist
	ih := &h.inst[in.idx]
	if !ih.alive(d) {
		return nil
	}
	last := h.days - 1
	v := *in
	v.viewDay = d
	if d == last {
		return &v
	}
	pm := ih.share(ih.gUsers, ih.square, d, last)
	v.users = max(min(in.users, 2), in.users*pm/1000)
	if in.users > 1 {
		r := newRNG(w.seed, saltHistory, uint64(in.idx), 3, uint64(d))
		jh, jm := 850+int64(r.intn(301)), 850+int64(r.intn(301))
		v.halfyear = min(max(1, in.halfyear*pm/1000*jh/1000), v.users*58/100)
		v.month = min(in.month*pm/1000*jm/1000, v.halfyear*80/100)
	}
	v.posts = max(min(in.posts, 5), in.posts*ih.share(ih.gPosts, false, d, last)/1000)
	for i, u := range ih.upgrades {
		if u <= d {
			v.version = ih.versions[i]
		}
	}
	if d >= ih.regFrom && d < ih.regTo {
		v.openReg = !in.openReg
	}
	v.peers = make([]int32, 0, len(in.peers))
	for i, ref := range in.peers {
		if int(ih.peerDay[i]) <= d {
			v.peers = append(v.peers, ref)
		}
	}
	return &v
}

// blocksOn returns the domain blocks in serves on day d (Mastodon with
// visible blocks only).
func (s *Sim) blocksOn(in *instance, d int) []blockEntry {
	if s.world.hist == nil {
		var out []blockEntry
		for i, dom := range s.world.deadBlocked(in, 5) {
			sev := "silence"
			if i%2 == 0 {
				sev = "suspend"
			}
			out = append(out, blockEntry{domain: dom, severity: sev, comment: "spam"})
		}
		return out
	}
	var out []blockEntry
	for _, b := range s.world.hist.inst[in.idx].blocks {
		if b.day <= d {
			out = append(out, b)
		}
	}
	return out
}

// HistoryDays returns the number of days of the history (0 without one).
func (s *Sim) HistoryDays() int {
	if s.world.hist == nil {
		return 0
	}
	return s.world.hist.days
}

// Day returns the day served: 0..HistoryDays-1 (always 0 without a
// history).
func (s *Sim) Day() int { return int(s.world.day.Load()) }

// DayDate returns the date of day d: Now minus HistoryDays-1-d days.
func (s *Sim) DayDate(d int) time.Time {
	return s.opts.Now.AddDate(0, 0, -(s.HistoryDays() - 1 - d))
}

// SetDay chooses the day the handler serves. It is safe to call while
// the handler serves: requests that started before see either day.
func (s *Sim) SetDay(d int) error {
	if d < 0 || d >= max(1, s.HistoryDays()) {
		return fmt.Errorf("set day %d of %d: %w", d, s.HistoryDays(), ErrDayOutOfRange)
	}
	s.world.day.Store(int64(d))
	return nil
}

// TruthAt returns the ground truth of day d at the current epoch: what a
// correct crawler stores when it crawls on that day (Census rules 1 to 3
// on that day's peer lists). Cached per epoch and day; do not modify it.
func (s *Sim) TruthAt(d int) (*Truth, error) {
	if d < 0 || d >= max(1, s.HistoryDays()) {
		return nil, fmt.Errorf("build truth of day %d of %d: %w", d, s.HistoryDays(), ErrDayOutOfRange)
	}
	base := s.truthAt(s.Epoch())
	if s.world.hist == nil {
		return base, nil
	}
	s.dayMu.Lock()
	defer s.dayMu.Unlock()
	key := [2]int{base.Epoch, d}
	if t, ok := s.dayTruths[key]; ok {
		return t, nil
	}
	t := s.dayTruth(base, d)
	if s.dayTruths == nil {
		s.dayTruths = map[[2]int]*Truth{}
	}
	s.dayTruths[key] = t
	return t, nil
}

// dayTruth patches base (the epoch's truth with today's figures) to day d.
func (s *Sim) dayTruth(base *Truth, d int) *Truth {
	w := s.world
	t := *base
	t.Day, t.Date = d, s.DayDate(d)
	t.Instances = slices.Clone(base.Instances)
	for _, in := range w.instances {
		it := &t.Instances[base.index[in.host]]
		v := w.dayView(in, d)
		if v == nil {
			it.Dead = true
			continue
		}
		it.Version = v.version
		it.OpenRegistrations = v.openReg
		u := servedUsage(v)
		it.UsersTotal, it.UsersActiveMonth, it.UsersActiveHalfyear, it.LocalPosts = u.total, u.month, u.halfyear, u.posts
		it.ExpectedFlags, it.SuspectFigures = nil, false
		setExpectedFlags(it, v)
		it.Peers = peersTruth(w, v)
		it.Blocks = blocksTruth(s, v, d)
	}
	return &t
}

// peersTruth is the published peer list of in (nil when it publishes none).
func peersTruth(w *world, in *instance) []string {
	p := in.prof()
	if p.peersPath == "" || in.has(bPeersDisabled) {
		return nil
	}
	out := make([]string, 0, len(in.peers))
	if in.kind != swSnac { // snac publishes an empty list
		for _, ref := range in.peers {
			out = append(out, w.peerName(ref))
		}
	}
	return out
}

// blocksTruth is the domain-block list in serves on day d: Mastodon's
// /api/v1/instance/domain_blocks, Pleroma's and Akkoma's NodeInfo
// mrf_simple reject list and Lemmy's federated_instances "blocked" list
// (both "suspend", without a reason, the same on every day).
func blocksTruth(s *Sim, in *instance, d int) []BlockTruth {
	switch in.kind {
	case swPleroma, swAkkoma, swLemmy:
		n := 3
		if in.kind == swLemmy {
			n = 2
		}
		out := []BlockTruth{}
		for _, h := range s.blockedHosts(in, n) {
			out = append(out, BlockTruth{Domain: h, Severity: "suspend"})
		}
		return out
	}
	if in.kind != swMastodon || !in.blocksVisible {
		return nil
	}
	out := []BlockTruth{}
	for _, b := range s.blocksOn(in, d) {
		out = append(out, BlockTruth{Domain: b.domain, Severity: b.severity, Comment: b.comment})
	}
	return out
}

// BlockTruth is one entry of a Mastodon instance's public domain-block
// list (/api/v1/instance/domain_blocks).
type BlockTruth struct {
	Domain string
	// Severity is "silence" (limited) or "suspend".
	Severity string
	// Comment is the public reason ("" for none).
	Comment string
}
