package crawler

import (
	"context"
	"fmt"
	"time"

	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/robots"
)

// Lifetimes of the robots.txt cache. RFC 9309 2.4: a crawler should not use
// a cached robots.txt for more than 24 hours; a 5xx answer means "disallow
// everything for now", so that verdict is kept for a shorter time.
const (
	robotsTTL      = 24 * time.Hour
	robotsErrorTTL = time.Hour
	// gateIdle is how long an unused gate is kept after its last request
	// (at least the gap): long enough for every request of a visit and of
	// look-ups that follow it to share the cached robots.txt and the gap.
	gateIdle    = 10 * time.Minute
	sweepPeriod = 4096 // acquisitions between sweeps of idle gates
)

// gate is one host's politeness state, shared by every request to the host
// whatever code path sends it (visits, look-ups): one request in flight at
// a time, a minimum gap between requests, and the cached robots.txt.
type gate struct {
	sem chan struct{} // holds one token while a request to the host is in flight

	// Guarded by sem.
	last         time.Time // end of the previous request
	gap          time.Duration
	robots       *robots.Group
	robotsStatus model.HostStatus // StatusOK, or why robots.txt could not be used
	robotsReason string
	robotsExpiry time.Time

	// Guarded by Manager.gatesMu.
	users int
}

func (g *gate) lock(ctx context.Context) error {
	select {
	case g.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *gate) unlock() { <-g.sem }

// acquireGate returns host's gate, creating it, and counts a user; call
// releaseGate when done.
func (m *Manager) acquireGate(host string) *gate {
	m.gatesMu.Lock()
	defer m.gatesMu.Unlock()
	m.gateOps++
	if m.gateOps%sweepPeriod == 0 {
		m.sweepGatesLocked(time.Now())
	}
	g, ok := m.gates[host]
	if !ok {
		g = &gate{sem: make(chan struct{}, 1), gap: m.opts.HostDelay}
		m.gates[host] = g
	}
	g.users++
	return g
}

func (m *Manager) releaseGate(host string, g *gate) {
	m.gatesMu.Lock()
	g.users--
	idle := g.users == 0
	m.gatesMu.Unlock()
	// Nobody is sending to the host any more: its kept-alive connection
	// would only sit idle until the next pass (hours), holding memory and
	// a file descriptor.
	if idle && m.opts.ReleaseHost != nil {
		m.opts.ReleaseHost(host)
	}
}

// sweepGatesLocked forgets gates nobody uses whose last request is long
// enough ago; their robots.txt is fetched again at the next visit.
func (m *Manager) sweepGatesLocked(now time.Time) {
	for h, g := range m.gates {
		if g.users > 0 {
			continue
		}
		// users == 0 and gatesMu held: nobody can hold sem, so the fields
		// are safe to read.
		if now.Sub(g.last) > max(g.gap, gateIdle) {
			delete(m.gates, h)
		}
	}
}

// newHostCrawl prepares requests to one host. Call the returned func when
// done with it.
func (m *Manager) newHostCrawl(host, scheme string) (*hostCrawl, func()) {
	g := m.acquireGate(host)
	return &hostCrawl{m: m, host: host, scheme: scheme, g: g}, func() { m.releaseGate(host, g) }
}

// robotsLocked returns the host's robots.txt group for our agent, fetching
// it when the cache has expired. The gate must be locked. A status other
// than StatusOK means robots.txt forbids everything for now (5xx, 429);
// an error means the host could not be reached.
func (hc *hostCrawl) robotsLocked(ctx context.Context) (*robots.Group, model.HostStatus, string, error) {
	g := hc.g
	if g.robotsStatus != "" && time.Now().Before(g.robotsExpiry) {
		return g.robots, g.robotsStatus, g.robotsReason, nil
	}
	resp, err := hc.sendLocked(ctx, fetchRequest{URL: hc.url("/robots.txt"), Accept: "text/plain", MaxBody: maxRobotsBody})
	if err != nil {
		return nil, "", "", err
	}
	var rb *robots.Robots
	g.robotsStatus, g.robotsReason, g.robotsExpiry = model.StatusOK, "", time.Now().Add(robotsTTL)
	switch {
	case resp.Status >= 200 && resp.Status < 300:
		rb = robots.Parse(resp.Body)
	case resp.Status >= 400 && resp.Status < 500 && resp.Status != 429:
		rb = robots.AllowAll() // RFC 9309 2.3.1.3: unavailable means allowed
	default:
		rb = robots.DisallowAll() // 2.3.1.4: unreachable means disallowed, for now
		g.robotsStatus = model.StatusRobotsDisallowed
		g.robotsReason = fmt.Sprintf("robots.txt answered %d: treated as disallow all", resp.Status)
		g.robotsExpiry = time.Now().Add(robotsErrorTTL)
	}
	g.robots = rb.Group(hc.m.opts.AgentToken)
	g.gap = hc.m.opts.HostDelay
	if cd := g.robots.CrawlDelay(); cd > g.gap {
		if hc.m.opts.MaxCrawlDelay > 0 && cd > hc.m.opts.MaxCrawlDelay {
			cd = hc.m.opts.MaxCrawlDelay
		}
		g.gap = max(g.gap, cd)
	}
	return g.robots, g.robotsStatus, g.robotsReason, nil
}

// waitLocked sleeps until the gap since the host's previous request is
// over, and at least extra (a Retry-After). The gate must be locked.
func (hc *hostCrawl) waitLocked(ctx context.Context, extra time.Duration) error {
	d := extra
	if !hc.g.last.IsZero() {
		d = max(d, time.Until(hc.g.last.Add(hc.g.gap)))
	}
	if d <= 0 {
		return nil
	}
	hc.m.metrics.politenessWait.Add(d.Seconds())
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// sendLocked sends one request after the politeness gap; 429 and 503
// answers with a Retry-After within Options.MaxRetryAfter are waited out
// and retried. The gate must be locked; robots.txt is the caller's.
func (hc *hostCrawl) sendLocked(ctx context.Context, r fetchRequest) (*fetchResponse, error) {
	var extra time.Duration
	for attempt := 1; ; attempt++ {
		if err := hc.waitLocked(ctx, extra); err != nil {
			return nil, err
		}
		resp, err := hc.m.fetcher.fetch(ctx, r)
		hc.g.last = time.Now()
		hc.m.metrics.observeRequest(resp, err)
		if err != nil {
			return nil, err
		}
		if resp.Status != 429 && resp.Status != 503 {
			return resp, nil
		}
		d, ok := retryAfter(resp.Header, time.Now())
		if !ok || d > hc.m.opts.MaxRetryAfter || attempt >= maxRetries {
			return resp, nil
		}
		hc.m.metrics.retryAfter.Inc()
		extra = d
	}
}
