package fedisim

import (
	"net/http"
	"sort"
	"strconv"
)

// FarmDomain is the registrable domain of the simulated spam farm: a few
// instances publish peer lists stuffed with thousands of its subdomains,
// as real spam and SEO operations do, to see whether a crawler spends its
// pass on them. None of them is an instance; most are unknown to the
// simulation (the connection is closed, like any unknown host) and one in
// FarmJunkEvery answers every request with a spam page.
const FarmDomain = "spamfarm.example"

// Farm sizing.
const (
	// FarmHostsPer20k is the number of farm hosts in a world of 20,000
	// instances; smaller and larger worlds scale it, with at least
	// MinFarmHosts.
	FarmHostsPer20k = 30_000
	// MinFarmHosts is the smallest farm.
	MinFarmHosts = 1_000
	// FarmJunkEvery: every FarmJunkEvery-th farm host answers as junk.
	FarmJunkEvery = 20
	// farmPublishers is the number of instances that publish the farm.
	farmPublishers = 3
	// saltFarm separates the farm's random stream from the others.
	saltFarm uint64 = 0x6661726d
)

// farm is the spam farm of a world.
type farm struct {
	// base is the index in world.extra of the first farm host; the farm's
	// hosts are extra[base : base+count].
	base, count int
	// publishers are the indexes of the instances whose peer lists carry
	// every farm host. They are never hostile (their peer lists must be
	// readable) and are always named by SeedA, so every crawl from the
	// seeds meets the farm.
	publishers []int
	isPub      map[int]bool
	junk       map[string]bool
}

// farmSize is the number of farm hosts in a world of n instances.
func farmSize(n int) int {
	return max(MinFarmHosts, int(int64(n)*FarmHostsPer20k/20_000))
}

// publishes reports whether instance idx publishes the farm.
func (f *farm) publishes(idx int) bool { return f != nil && f.isPub[idx] }

// buildFarm draws the farm's host names (appended to w.extra, after the
// dead, junk and trap entries, so their references do not move) and its
// publishers: Mastodon instances that are not seeds and not isolated. It
// runs before behaviours are assigned, so they can be exempted.
func (w *world) buildFarm() {
	n := len(w.instances)
	r := newRNG(w.seed, saltFarm)
	f := &farm{base: len(w.extra), count: farmSize(n), isPub: map[int]bool{}, junk: map[string]bool{}}
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
	for i := 0; i < f.count; i++ {
		// Generated labels, unique by their number: "k3x9qz-1234-promo".
		label := make([]byte, 0, 24)
		for k := 0; k < 6; k++ {
			label = append(label, letters[r.intn(len(letters))])
		}
		label = append(label, '-')
		label = strconv.AppendInt(label, int64(i), 10)
		label = append(label, r.pick([]string{"-promo", "-deals", "-casino", "-pills", "-seo", ""})...)
		host := string(label) + "." + FarmDomain
		w.extra = append(w.extra, host)
		if i%FarmJunkEvery == FarmJunkEvery-1 {
			f.junk[host] = true
		}
	}
	var cand []int
	for _, in := range w.instances {
		if in.idx > 2 && in.kind == swMastodon && !in.isolated {
			cand = append(cand, in.idx)
		}
	}
	for len(f.publishers) < farmPublishers && len(cand) > 0 {
		k := r.intn(len(cand))
		f.publishers = append(f.publishers, cand[k])
		f.isPub[cand[k]] = true
		cand = append(cand[:k], cand[k+1:]...)
	}
	sort.Ints(f.publishers)
	w.farm = f
}

// publishFarm appends every farm host to the publishers' peer lists (after
// their own peers, as a spammer's injected entries end up) and makes sure
// SeedA names each publisher. It runs after the peer lists are drawn.
func (w *world) publishFarm() {
	f := w.farm
	if f == nil || len(f.publishers) == 0 {
		return
	}
	seed := w.instances[0]
	named := map[int32]bool{}
	for _, ref := range seed.peers {
		named[ref] = true
	}
	for _, p := range f.publishers {
		if !named[int32(p)] {
			seed.peers = append(seed.peers, int32(p))
		}
		in := w.instances[p]
		peers := make([]int32, 0, len(in.peers)+f.count)
		peers = append(peers, in.peers...)
		for i := 0; i < f.count; i++ {
			peers = append(peers, int32(-(f.base + i + 1)))
		}
		in.peers = peers
	}
}

// farmJunk reports whether host is a farm host that answers as junk.
func (w *world) farmJunk(host string) bool { return w.farm != nil && w.farm.junk[host] }

// serveFarmJunk answers any request of a junk farm host: a 200 spam page,
// for robots.txt and NodeInfo alike, which no crawler can take for an
// instance.
func serveFarmJunk(w http.ResponseWriter) {
	writeText(w, http.StatusOK, "<!DOCTYPE html>\n<html><head><title>Best deals</title></head><body><h1>Cheap pills, casino bonus, SEO backlinks</h1><a href=\"/\">click here</a></body></html>\n",
		"text/html; charset=utf-8")
}

// farmTruth fills the farm's part of the truth.
func (w *world) farmTruth(t *Truth) {
	f := w.farm
	if f == nil {
		return
	}
	t.FarmDomain = FarmDomain
	t.FarmHosts = append([]string(nil), w.extra[f.base:f.base+f.count]...)
	sort.Strings(t.FarmHosts)
	for h := range f.junk {
		t.FarmJunkHosts = append(t.FarmJunkHosts, h)
	}
	sort.Strings(t.FarmJunkHosts)
	for _, p := range f.publishers {
		t.FarmPublishers = append(t.FarmPublishers, w.instances[p].host)
	}
	sort.Strings(t.FarmPublishers)
}
