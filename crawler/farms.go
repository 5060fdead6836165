package crawler

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fedilens/fedilens/internal/hostname"
	"github.com/fedilens/fedilens/internal/model"
)

// Spam farms and dead hosts.
//
// Peer lists are remote input: one instance can publish 30,000 generated
// subdomains of a domain it owns ("x7k2.spamfarm.example"), none of which
// answers. Visited like any other host, they would take most of a pass
// (every one costs a DNS look-up, a connection attempt and a state) and
// push real instances back. The crawler therefore groups hosts by
// registrable domain (hostname.Registrable) and limits, per domain and
// pass, the hosts that have not proven themselves: an unproven host (one
// that never had status ok) takes a slot of its domain when it is queued,
// and keeps it while it is pending and, if it fails, for the rest of the
// pass; one that answers as an instance is proven and frees its slot at
// once. When a domain's slots are taken, its further unproven hosts wait;
// a slot that frees admits the next one, and the hosts still waiting when
// the pass ends were not visited: they get StatusCapped and are retried in
// a later pass. Hosts that have proven themselves are never held back, so a
// hosting provider whose instances answer proceeds without limit.
//
// The slots of a domain are Options.MaxUnprovenPerDomain plus the number of
// its hosts that have proven themselves: a provider with 600 real
// instances and 100 departed customers is not throttled by its dead
// subdomains, while a farm whose hosts never answer stays at the cap. So a
// farm costs at most the cap in visits per pass, and a provider at most as
// many failing visits as it has real instances, plus the cap.
//
// A host that has not answered successfully for longer than
// Options.DeadAfter (since its last success, or since it was first seen)
// gets StatusDead and is retried weekly. Neither capped nor dead hosts are
// ever forgotten: farms get cleaned up and servers come back.

// Defaults of the farm cap and the dead-host rule.
const (
	// DefaultMaxUnprovenPerDomain is the default of
	// Options.MaxUnprovenPerDomain.
	DefaultMaxUnprovenPerDomain = 50
	// DefaultDeadAfter is the default of Options.DeadAfter.
	DefaultDeadAfter = 30 * 24 * time.Hour
	// deadRetry is how often a dead host is tried again: the longest
	// backoff of a failing host.
	deadRetry = 7 * 24 * time.Hour
	// cappedRetry is when a capped host is due again: the next pass that
	// runs an hour later gives it another chance at a slot.
	cappedRetry = time.Hour
	// maxFarmReports bounds the domains Farms reports and the pass log names.
	maxFarmReports = 100
	// maxReasonLen bounds the reason of a dead host (the last error plus
	// what the rule adds).
	maxReasonLen = 400
)

// FarmReport is one registrable domain whose unproven hosts were capped in
// the latest pass.
type FarmReport struct {
	// Domain is the registrable domain (eTLD+1).
	Domain string
	// Capped is the number of its hosts that were not visited.
	Capped int
	// Unproven is the number of its unproven hosts that were visited (and
	// failed, or were still pending when the pass was cut short).
	Unproven int
	// Proven is the number of its hosts that ever answered as an instance,
	// which widened its cap by as many slots.
	Proven int
}

// farmCap is the per-domain cap of unproven hosts. Every field is guarded
// by Manager.mu.
type farmCap struct {
	max   int // <= 0: no cap
	seeds map[string]bool
	// proven counts, per registrable domain, the known hosts that ever had
	// status ok; filled from the host states at the first pass, then kept
	// up to date as hosts prove themselves.
	proven     map[string]int
	provenInit bool
	// domains and slotOf are the current pass's bookkeeping: slotOf maps a
	// host holding a slot to its domain until it is visited.
	domains map[string]*farmDomain
	slotOf  map[string]string
	// starting is true while a pass queues its due hosts: unproven ones
	// are all put on their domain's waiting list, and farmAdmitStartLocked
	// then gives the slots in priority order.
	starting bool
	// last is the report of the latest completed pass.
	last []FarmReport

	farmDomains  prometheus.Gauge
	cappedHosts  prometheus.Gauge
	cappedTotal  prometheus.Counter
	deadMarkings prometheus.Counter
}

// farmDomain is one domain's slots in the current pass.
type farmDomain struct {
	open int // unproven hosts queued, in flight, or failed in this pass
	// waiting holds hosts without a slot, first the ones never tried or
	// capped last time, then the ones that failed before: each pass gives
	// the ones the last pass left out the first free slots, so a
	// provider's new instances are not starved by its departed ones.
	fresh, retry []string
}

func (d *farmDomain) waiting() int { return len(d.fresh) + len(d.retry) }

func (d *farmDomain) pop() (string, bool) {
	for _, q := range []*[]string{&d.fresh, &d.retry} {
		if len(*q) > 0 {
			h := (*q)[0]
			(*q)[0] = ""
			*q = (*q)[1:]
			return h, true
		}
	}
	return "", false
}

func newFarmCap(opts Options, reg prometheus.Registerer) *farmCap {
	f := &farmCap{
		max:     opts.MaxUnprovenPerDomain,
		seeds:   map[string]bool{},
		proven:  map[string]int{},
		domains: map[string]*farmDomain{},
		slotOf:  map[string]string{},
		farmDomains: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "fedilens_crawler_farm_domains", Help: "Registrable domains whose unproven hosts were capped in the latest pass (likely spam farms).",
		}),
		cappedHosts: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "fedilens_crawler_capped_hosts", Help: "Hosts not visited in the latest pass because their registrable domain reached the cap of unproven hosts.",
		}),
		cappedTotal: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fedilens_crawler_capped_hosts_total", Help: "Host visits skipped because of the per-domain cap of unproven hosts.",
		}),
		deadMarkings: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fedilens_crawler_dead_markings_total", Help: "Failed visits of hosts that had not answered for longer than the dead-after period.",
		}),
	}
	for _, s := range opts.Seeds {
		f.seeds[s.Host] = true
	}
	if reg != nil {
		reg.MustRegister(f.farmDomains, f.cappedHosts, f.cappedTotal, f.deadMarkings)
	}
	return f
}

// farmDefaults applies the defaults of the farm and dead-host options.
func farmDefaults(opts *Options) {
	if opts.MaxUnprovenPerDomain == 0 {
		opts.MaxUnprovenPerDomain = DefaultMaxUnprovenPerDomain
	}
	if opts.DeadAfter == 0 {
		opts.DeadAfter = DefaultDeadAfter
	}
}

// Farms reports the registrable domains whose unproven hosts were capped in
// the latest completed pass, most capped first (at most 100).
func (m *Manager) Farms() []FarmReport {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]FarmReport(nil), m.farms.last...)
}

// farmStartPassLocked starts a pass's queuing (the slots were reset when
// the previous pass ended). The first time, it counts the proven hosts of
// every domain from the loaded states.
func (m *Manager) farmStartPassLocked() {
	f := m.farms
	f.starting = f.max > 0
	if f.provenInit || f.max <= 0 {
		return
	}
	f.provenInit = true
	for h, e := range m.hosts {
		if !e.state.LastSuccess.IsZero() {
			f.proven[hostname.Registrable(h)]++
		}
	}
}

// farmHoldLocked is called for every host about to be queued. It reports
// whether the host has to wait for a slot of its domain instead (it is then
// kept on the domain's waiting list); otherwise the host is queued, holding
// a slot if it is unproven. Seeds and proven hosts never wait.
func (m *Manager) farmHoldLocked(host string, e *hostEntry) bool {
	f := m.farms
	if f.max <= 0 || !e.state.LastSuccess.IsZero() || f.seeds[host] {
		return false
	}
	dom := hostname.Registrable(host)
	if dom == "" {
		return false
	}
	d := f.domains[dom]
	if d == nil {
		d = &farmDomain{}
		f.domains[dom] = d
	}
	if !f.starting && d.open < f.max+f.proven[dom] {
		d.open++
		f.slotOf[host] = dom
		return false
	}
	if e.state.LastAttempt.IsZero() || e.state.Status == model.StatusCapped {
		d.fresh = append(d.fresh, host)
	} else {
		d.retry = append(d.retry, host)
	}
	return true
}

// farmVisitedLocked is called when a visit's new state is recorded, before
// the host counts as done. A host that proved itself frees its slot and
// widens its domain's cap, and the slots free now admit waiting hosts; a
// host that failed keeps its slot until the pass ends.
func (m *Manager) farmVisitedLocked(host string, st model.HostState) {
	f := m.farms
	dom, ok := f.slotOf[host]
	if !ok {
		return
	}
	delete(f.slotOf, host)
	if st.LastSuccess.IsZero() {
		return
	}
	f.proven[dom]++
	d := f.domains[dom]
	d.open--
	if !m.closed {
		m.farmAdmitLocked(dom, d)
	}
}

// farmAdmitStartLocked ends the queuing of a pass's due hosts: every
// domain's waiting hosts get the free slots, those never tried or capped
// last time first (in host order, so successive passes work through a
// farm instead of retrying the same hosts), then those that failed before.
func (m *Manager) farmAdmitStartLocked() {
	f := m.farms
	if !f.starting {
		return
	}
	f.starting = false
	doms := make([]string, 0, len(f.domains))
	for dom := range f.domains {
		doms = append(doms, dom)
	}
	sort.Strings(doms)
	for _, dom := range doms {
		d := f.domains[dom]
		sort.Strings(d.fresh)
		sort.Strings(d.retry)
		m.farmAdmitLocked(dom, d)
	}
}

// farmAdmitLocked queues waiting hosts of a domain while it has free slots.
func (m *Manager) farmAdmitLocked(dom string, d *farmDomain) {
	f := m.farms
	for d.open < f.max+f.proven[dom] {
		host, ok := d.pop()
		if !ok {
			return
		}
		d.open++
		f.slotOf[host] = dom
		m.wg.Add(1)
		m.queue = append(m.queue, host)
		m.metrics.queue.Set(float64(len(m.queue)))
		m.qcond.Signal()
	}
}

// farmEndPassLocked runs when the pass's queue is empty: the hosts still
// waiting were not visited, and get StatusCapped with a reason naming their
// domain, due again after cappedRetry. A cancelled pass records nothing:
// its waiting hosts simply stay due.
func (m *Manager) farmEndPassLocked(ctx context.Context) {
	f := m.farms
	domains := f.domains
	f.domains, f.slotOf, f.starting = map[string]*farmDomain{}, map[string]string{}, false
	if ctx.Err() != nil {
		return
	}
	now := m.now()
	var reports []FarmReport
	total := 0
	for dom, d := range domains {
		if d.waiting() == 0 {
			continue
		}
		reason := fmt.Sprintf("not visited in this pass: %d unproven hosts of %s were pending or failed (cap %d", d.open, dom, f.max)
		if p := f.proven[dom]; p > 0 {
			reason += fmt.Sprintf(" + %d proven", p)
		}
		reason += ")"
		r := FarmReport{Domain: dom, Unproven: d.open, Proven: f.proven[dom]}
		for {
			host, ok := d.pop()
			if !ok {
				break
			}
			e := m.hosts[host]
			if e == nil {
				continue
			}
			st := e.state
			st.Status, st.Reason = model.StatusCapped, reason
			st.NextDue = now
			if m.opts.RecrawlAfter > 0 {
				st.NextDue = now.Add(farmJitter(cappedRetry))
			}
			if st.FirstSeen.IsZero() {
				st.FirstSeen = now
			}
			e.state = st
			m.persistLocked(ctx, st)
			r.Capped++
		}
		total += r.Capped
		reports = append(reports, r)
	}
	sort.Slice(reports, func(i, j int) bool {
		if reports[i].Capped != reports[j].Capped {
			return reports[i].Capped > reports[j].Capped
		}
		return reports[i].Domain < reports[j].Domain
	})
	f.farmDomains.Set(float64(len(reports)))
	f.cappedHosts.Set(float64(total))
	f.cappedTotal.Add(float64(total))
	if len(reports) > maxFarmReports {
		reports = reports[:maxFarmReports]
	}
	f.last = reports
	if total > 0 {
		names := make([]string, 0, min(len(reports), 10))
		for _, r := range reports[:min(len(reports), 10)] {
			names = append(names, fmt.Sprintf("%s (%d)", r.Domain, r.Capped))
		}
		m.log.Warn("unproven hosts capped per registrable domain", "domains", len(reports), "hosts", total,
			"cap", f.max, "top", strings.Join(names, ", "))
	}
}

// deadEligible are the failures that count towards StatusDead: the host
// did not answer as an instance. Refusals (robots.txt, noindex, the
// operator's own) are decisions, not death, and keep their status.
func deadEligible(s model.HostStatus) bool {
	switch s {
	case model.StatusUnreachable, model.StatusNoNodeInfo, model.StatusMalformed, model.StatusDead:
		return true
	}
	return false
}

// markDead applies the dead-host rule to the state of a failed visit whose
// NextDue schedule has just set: a host that has not answered successfully
// for longer than DeadAfter (since its last success, or since it was first
// seen) gets StatusDead, a reason that keeps the last error, and the weekly
// schedule. A state without FirstSeen (stored before it was recorded)
// starts counting now.
func (m *Manager) markDead(s *model.HostState) {
	if s.FirstSeen.IsZero() {
		s.FirstSeen = s.LastAttempt
	}
	if m.opts.DeadAfter < 0 || !deadEligible(s.Status) {
		return
	}
	since, what := s.LastSuccess, "no successful visit since"
	if since.IsZero() {
		since, what = s.FirstSeen, "never answered as an instance; first seen"
	}
	if s.LastAttempt.Sub(since) <= m.opts.DeadAfter {
		return
	}
	s.Reason = truncate(fmt.Sprintf("%s %s; last error: %s: %s", what, since.UTC().Format(time.DateOnly), s.Status, s.Reason), maxReasonLen)
	s.Status = model.StatusDead
	s.NextDue = s.LastAttempt
	if m.opts.RecrawlAfter > 0 {
		s.NextDue = s.LastAttempt.Add(farmJitter(deadRetry))
	}
	m.farms.deadMarkings.Inc()
}

// farmJitter spreads d by ±10%, like the schedule's jitter, so capped and
// dead hosts do not all fall due in the same pass.
func farmJitter(d time.Duration) time.Duration {
	return d + time.Duration((rand.Float64()*0.2-0.1)*float64(d))
}
