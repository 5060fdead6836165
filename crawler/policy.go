package crawler

import (
	"context"
	"sync"
	"time"

	"github.com/fedilens/fedilens/internal/hostname"
	"github.com/fedilens/fedilens/internal/model"
)

// HostPolicy decides whether a host may be contacted at all: the
// operator's denylist and the opt-outs admins asked for
// (*policy.Policy). Allowed must be safe for concurrent use and cheap: it
// is asked for every discovered host and before every visit.
type HostPolicy interface {
	Allowed(host string) (ok bool, reason string)
}

// Controls connects the crawler to the operator's controls that change
// while it runs (*policy.Refresher).
type Controls interface {
	// Refresh reloads what may change at run time (the opt-outs, which
	// HostPolicy then answers with) and purges what must go. An error is
	// logged; the crawl goes on with what was loaded before.
	Refresh(ctx context.Context) error
	// Submitted returns the hosts submitted by hand since the previous
	// call. They are treated like hosts found in a peer list.
	Submitted(ctx context.Context) ([]string, error)
}

// DefaultRefreshEvery is how often Controls.Refresh runs while the crawler
// runs, when Options.RefreshEvery is 0: an opt-out takes effect within a
// minute, and a submitted host is picked up within a minute between passes.
const DefaultRefreshEvery = time.Minute

// discoveredFromAPI is HostState.DiscoveredFrom for submitted hosts.
const discoveredFromAPI = "api"

func (m *Manager) refreshEvery() time.Duration {
	if m.opts.RefreshEvery == 0 {
		return DefaultRefreshEvery
	}
	return m.opts.RefreshEvery
}

// allowed asks the policy, if there is one.
func (m *Manager) allowed(host string) (bool, string) {
	if m.opts.Policy == nil {
		return true, ""
	}
	return m.opts.Policy.Allowed(host)
}

// refusedState marks st as refused by the policy, without a request: no
// attempt, no failure counted (a refusal says nothing about the host), due
// again after the freshness window so a lifted opt-out takes effect.
func (m *Manager) refusedState(st model.HostState, reason string) model.HostState {
	st.Status = model.StatusRefused
	st.Reason = "policy: " + reason
	st.NextDue = m.now().Add(m.opts.RecrawlAfter)
	return st
}

// refuseDiscoveredLocked is discover's check: a new host the policy
// refuses is remembered as refused and not queued. It reports whether the
// host was refused. m.mu must be held.
func (m *Manager) refuseDiscoveredLocked(ctx context.Context, host, from string) bool {
	ok, reason := m.allowed(host)
	if ok {
		return false
	}
	e := &hostEntry{state: m.refusedState(model.HostState{Host: host, DiscoveredFrom: from}, reason), scheme: "https"}
	m.hosts[host] = e
	m.persistLocked(ctx, e.state)
	m.log.Debug("discovered host refused by policy", "host", host, "from", from, "reason", reason)
	return true
}

// refuseVisit is work's check right before a visit: a host the policy
// refuses gets no request at all. It reports whether the host was
// refused; the refusal is recorded in its state.
func (m *Manager) refuseVisit(ctx context.Context, host string, e *hostEntry, st model.HostState) bool {
	ok, reason := m.allowed(host)
	if ok {
		return false
	}
	st = m.refusedState(st, reason)
	if err := m.sink.AddHostState(ctx, st); err != nil {
		m.log.Warn("storing host state failed", "host", host, "err", err)
	}
	m.mu.Lock()
	e.state = st
	m.mu.Unlock()
	m.log.Debug("visit refused by policy", "host", host, "reason", reason)
	return true
}

// refreshControls runs Controls.Refresh and, if submissions is set, picks
// up submitted hosts. It returns how many submitted hosts were new and
// allowed.
func (m *Manager) refreshControls(ctx context.Context, submissions bool) int {
	c := m.opts.Controls
	if c == nil {
		return 0
	}
	if err := c.Refresh(ctx); err != nil && ctx.Err() == nil {
		m.log.Warn("refreshing the operator's controls failed; the opt-outs loaded before stay in force", "err", err)
	}
	if !submissions {
		return 0
	}
	hosts, err := c.Submitted(ctx)
	if err != nil && ctx.Err() == nil {
		m.log.Warn("reading submitted hosts failed", "err", err)
	}
	n := 0
	for _, h := range hosts {
		h, err := hostname.Normalize(h)
		if err != nil {
			continue
		}
		m.mu.Lock()
		_, known := m.hosts[h]
		m.mu.Unlock()
		if known {
			continue
		}
		m.discover(ctx, h, discoveredFromAPI)
		if ok, _ := m.allowed(h); ok {
			n++
		}
	}
	if n > 0 {
		m.log.Info("submitted hosts picked up", "hosts", n)
	}
	return n
}

// refreshDuringPass runs Controls.Refresh every refreshEvery while a pass
// runs, so an opt-out reaches the workers within that time. Submissions
// wait for the next pass: queueing into a pass that may be finishing is
// not safe (see RunOnce's WaitGroup). Call the returned func to stop.
func (m *Manager) refreshDuringPass(ctx context.Context) func() {
	if m.opts.Controls == nil || m.refreshEvery() < 0 {
		return func() {}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(m.refreshEvery())
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-stop:
				return
			case <-t.C:
				m.refreshControls(ctx, false)
			}
		}
	}()
	return func() { close(stop); wg.Wait() }
}

// pause is Run's wait between passes: it sleeps for wait, refreshing the
// controls every refreshEvery, and ends early when submitted hosts
// arrive. It returns false when ctx ends.
func (m *Manager) pause(ctx context.Context, wait time.Duration) bool {
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	var tick <-chan time.Time
	if m.opts.Controls != nil && m.refreshEvery() > 0 {
		t := time.NewTicker(m.refreshEvery())
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return false
		case <-deadline.C:
			return true
		case <-tick:
			if m.refreshControls(ctx, true) > 0 {
				return true
			}
		}
	}
}
