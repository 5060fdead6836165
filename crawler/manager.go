// Package crawler takes the census of the fediverse: from seed hosts it
// follows the peer lists instances publish, reads each instance's NodeInfo,
// and (for Mastodon) the public posts of authors who opted in.
//
// Politeness is the point, not an afterthought: robots.txt is read first on
// every host and obeyed for every path (RFC 9309; 5xx means disallow all);
// requests to one host are strictly sequential and spaced by a gap (default
// 1 s, or the host's Crawl-delay if larger); 429 and 503 answers are waited
// out as Retry-After says; NodeInfo served with X-Robots-Tag: noindex is not
// used; an endpoint an admin switched off (404, 401, 403) is a refusal, not
// an obstacle. Every request goes through the one hardened HTTP client
// (internal/httpclient), with colly as the fetch layer.
//
// The crawler remembers every host's state (model.HostState) through its
// Sink, and reads it back at start, so a restarted crawler skips the hosts
// whose snapshot is still fresh and continues with the rest.
package crawler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fedilens/fedilens/internal/model"
)

// Sink receives what the crawler observes. Implementations buffer and
// batch; an error means the item was not accepted.
type Sink interface {
	// AddVisit takes everything one visit produced, as one unit: it must
	// never store the snapshot of a visit without its peers and posts.
	AddVisit(ctx context.Context, v model.Visit) error
	// AddHostState records a host's state alone (a newly discovered host).
	AddHostState(ctx context.Context, s model.HostState) error
}

// StateSource gives the host states stored by earlier runs.
type StateSource interface {
	HostStates(ctx context.Context) ([]model.HostState, error)
}

// Seed is a starting point of the crawl.
type Seed struct {
	Scheme string // "https", or "http" where explicitly asked for
	Host   string // normalised
}

// ParseSeed parses a seed URL. A bare host name means https; http is
// allowed only when written out.
func ParseSeed(s string) (Seed, error) {
	raw := strings.TrimSpace(s)
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return Seed{}, fmt.Errorf("invalid seed %q: %w", s, err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return Seed{}, fmt.Errorf("invalid seed %q: scheme must be https or http", s)
	}
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return Seed{}, fmt.Errorf("invalid seed %q: give the instance's base URL only", s)
	}
	h, err := normaliseFor(u.Scheme, u.Host)
	if err != nil {
		return Seed{}, fmt.Errorf("invalid seed %q: %w", s, err)
	}
	return Seed{Scheme: u.Scheme, Host: h}, nil
}

// Options configures a Manager. The zero value of every field but Client
// has a sensible default.
type Options struct {
	Seeds []Seed
	// Client is the hardened HTTP client every request goes through.
	Client *http.Client
	// ReleaseHost, when set, is called when no request to a host is in
	// flight or due any more (its visit is over), to close the host's
	// kept-alive connections (httpclient.Client.CloseHost).
	ReleaseHost func(host string)
	// UserAgent names fedilens, its version and the operator's contact.
	UserAgent string
	// AgentToken is the product token robots.txt groups are matched
	// against (default "fedilens").
	AgentToken string
	// HostDelay is the minimum gap between two requests to one host
	// (default 1 s; a robots.txt Crawl-delay that is larger wins). Negative
	// means no gap (benchmarks against the simulator only).
	HostDelay time.Duration
	// MaxCrawlDelay caps how long a Crawl-delay is honoured (0: no cap).
	MaxCrawlDelay time.Duration
	// MaxRetryAfter is the longest Retry-After waited out within a visit
	// (default 2 min); a longer one ends the visit and reschedules the host.
	MaxRetryAfter time.Duration
	// Workers is the number of hosts visited at once (default 256).
	Workers int
	// MaxInFlight caps the requests in flight over all hosts (default 64).
	MaxInFlight int
	// RecrawlAfter is how long a successful snapshot stays fresh (±10%
	// jitter; the commands default to RecrawlDefault). 0 means every host
	// is due at every pass.
	RecrawlAfter time.Duration
	// Posts enables the posts crawl: the public posts of consenting
	// authors, through the post source of each host's software.
	Posts bool
	// PostState gives the cursors and stored posts of earlier visits; nil
	// means none (every visit reads everything and detects no deletions).
	PostState PostState
	// PostRetention is how old a post may be and still be read and kept
	// (0: no limit). Older posts are expired from storage by the pipeline.
	PostRetention time.Duration
	// PostRevalidateAfter is how often an author's posts are listed in
	// full, to notice deleted posts (0: at every visit; the commands
	// default to a week).
	PostRevalidateAfter time.Duration
	// MaxPostRequests bounds one visit's posts crawl (default
	// DefaultMaxPostRequests); the next visit continues from the cursors.
	MaxPostRequests int
	// OptInWord, when set, lets authors on software without an indexable
	// flag opt in by putting the word in their bio or a profile field
	// (consent.Account.OptInWord). Off by default.
	OptInWord string
	// ProgressEvery is the interval of the progress log line (default 10 s; negative: none).
	ProgressEvery time.Duration
	// Progress, when set (a terminal), receives a progress line rewritten
	// in place every second instead of the periodic log line.
	Progress io.Writer
	// MaxUnprovenPerDomain caps, per registrable domain and pass, the
	// hosts that never answered as an instance which are pending or failed
	// (default DefaultMaxUnprovenPerDomain; negative: no cap). See farms.go.
	MaxUnprovenPerDomain int
	// DeadAfter is how long a host may go without a successful visit
	// (since its last success, or since first seen) before it is marked
	// dead and retried weekly (default DefaultDeadAfter; negative: never).
	DeadAfter time.Duration
	// Now is the clock (tests).
	Now func() time.Time
	// Policy, when set, is asked before a discovered host is queued and
	// before every visit: a host it refuses (operator's denylist, admin's
	// opt-out) gets no request at all. See policy.go.
	Policy HostPolicy
	// Controls, when set, is refreshed at every pass start and every
	// RefreshEvery (opt-outs), and gives the hosts submitted by hand.
	Controls Controls
	// RefreshEvery is how often Controls is refreshed while the crawler
	// runs (0: DefaultRefreshEvery; negative: only at pass start).
	RefreshEvery time.Duration
}

// Manager runs crawl passes.
type Manager struct {
	opts    Options
	sink    Sink
	states  StateSource
	log     *slog.Logger
	fetcher *fetcher
	metrics *metrics

	// The forgotten authors' keys, cached for a minute, and the hosts
	// that have post cursors, read at pass start (sources.go).
	postStateMu sync.Mutex
	forgot      map[string]bool
	forgotAt    time.Time
	cursorHosts map[string]bool

	mu     sync.Mutex
	hosts  map[string]*hostEntry
	queue  []string
	qcond  *sync.Cond
	closed bool
	wg     sync.WaitGroup // outstanding hosts of the current pass

	done, failed, inFlight atomic.Int64

	gatesMu sync.Mutex
	gates   map[string]*gate // per-host politeness, see gate.go
	gateOps uint64

	farms *farmCap // per-domain cap of unproven hosts, see farms.go; guarded by mu

	totals hostTotals // previous user totals for the sanity verdict, see sanity.go
}

type hostEntry struct {
	state  model.HostState
	scheme string
	queued bool // queued or being visited in the current pass
}

// RecrawlDefault is the default freshness of a snapshot.
const RecrawlDefault = 24 * time.Hour

// New returns a Manager. states may be nil (nothing stored yet).
func New(opts Options, sink Sink, states StateSource, logger *slog.Logger, reg prometheus.Registerer) (*Manager, error) {
	if opts.Client == nil {
		return nil, errors.New("crawler: no HTTP client")
	}
	if sink == nil {
		return nil, errors.New("crawler: no sink")
	}
	if opts.AgentToken == "" {
		opts.AgentToken = "fedilens"
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "fedilens"
	}
	switch {
	case opts.HostDelay == 0:
		opts.HostDelay = time.Second
	case opts.HostDelay < 0:
		opts.HostDelay = 0
	}
	if opts.MaxRetryAfter <= 0 {
		opts.MaxRetryAfter = 2 * time.Minute
	}
	if opts.Workers <= 0 {
		opts.Workers = 256
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = 64
	}
	if opts.RecrawlAfter < 0 {
		opts.RecrawlAfter = 0
	}
	if opts.MaxPostRequests <= 0 {
		opts.MaxPostRequests = DefaultMaxPostRequests
	}
	opts.PostRetention = max(opts.PostRetention, 0)
	opts.PostRevalidateAfter = max(opts.PostRevalidateAfter, 0)
	if opts.ProgressEvery == 0 {
		opts.ProgressEvery = 10 * time.Second
	}
	farmDefaults(&opts)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	f, err := newFetcher(opts.Client, opts.UserAgent, opts.MaxInFlight)
	if err != nil {
		return nil, err
	}
	m := &Manager{
		opts: opts, sink: sink, states: states, log: logger, fetcher: f,
		metrics: newMetrics(reg), hosts: map[string]*hostEntry{}, gates: map[string]*gate{},
	}
	m.qcond = sync.NewCond(&m.mu)
	m.farms = newFarmCap(opts, reg)
	return m, nil
}

func (m *Manager) now() time.Time { return m.opts.Now().UTC() }

// PassStats summarises one pass.
type PassStats struct {
	Visited, OK, Failed int64
	Known               int
	Duration            time.Duration
}

// RunOnce runs one full pass: every known host that is due, the seeds, and
// every host discovered on the way, until none is left. Hosts whose
// snapshot is fresh are not fetched.
func (m *Manager) RunOnce(ctx context.Context) (PassStats, error) {
	start := time.Now()
	if err := m.load(ctx); err != nil {
		return PassStats{}, err
	}
	m.refreshControls(ctx, true)
	if err := m.loadCursorHosts(ctx); err != nil {
		return PassStats{}, err
	}
	m.mu.Lock()
	m.closed = false
	m.done.Store(0)
	m.failed.Store(0)
	m.farmStartPassLocked()
	now := m.now()
	for _, s := range m.opts.Seeds {
		if _, ok := m.hosts[s.Host]; !ok {
			m.hosts[s.Host] = &hostEntry{state: model.HostState{Host: s.Host, DiscoveredFrom: "seed", FirstSeen: m.now()}, scheme: s.Scheme}
			m.persistLocked(ctx, m.hosts[s.Host].state)
		} else {
			m.hosts[s.Host].scheme = s.Scheme
		}
	}
	for h, e := range m.hosts {
		if m.opts.RecrawlAfter == 0 || !e.state.NextDue.After(now) { // 0: every host is due now
			m.enqueueLocked(h, e)
		}
	}
	m.farmAdmitStartLocked()
	m.mu.Unlock()

	stopProgress := m.progress(ctx)
	stopRefresh := m.refreshDuringPass(ctx)
	var workers sync.WaitGroup
	for range m.opts.Workers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			m.work(ctx)
		}()
	}
	// Close the queue once every queued host (including the ones found on
	// the way) is visited, or the context ends.
	allDone := make(chan struct{})
	go func() { m.wg.Wait(); close(allDone) }()
	select {
	case <-allDone:
	case <-ctx.Done():
	}
	m.mu.Lock()
	m.closed = true
	m.qcond.Broadcast()
	m.mu.Unlock()
	workers.Wait()
	stopProgress()
	stopRefresh()

	m.mu.Lock()
	for range m.queue { // left behind by a cancelled pass
		m.wg.Done()
	}
	m.queue = nil
	m.farmEndPassLocked(ctx)
	known := len(m.hosts)
	for _, e := range m.hosts {
		e.queued = false
	}
	m.mu.Unlock()
	<-allDone
	st := PassStats{Visited: m.done.Load(), Failed: m.failed.Load(), Known: known, Duration: time.Since(start)}
	st.OK = st.Visited - st.Failed
	m.log.Info("crawl pass finished", "visited", st.Visited, "ok", st.OK, "failed", st.Failed, "known", st.Known, "duration", st.Duration.Round(time.Millisecond))
	return st, ctx.Err()
}

// Run runs passes until ctx ends, sleeping between passes until the next
// host is due (at least minPause, at most an hour, so discoveries by the API
// are picked up).
func (m *Manager) Run(ctx context.Context, minPause time.Duration) error {
	for {
		if _, err := m.RunOnce(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		wait := time.Hour
		m.mu.Lock()
		now := m.now()
		for _, e := range m.hosts {
			if d := e.state.NextDue.Sub(now); d < wait {
				wait = d
			}
		}
		m.mu.Unlock()
		wait = max(wait, minPause)
		m.log.Info("next crawl pass", "in", wait.Round(time.Second))
		if !m.pause(ctx, wait) {
			return nil
		}
	}
}

// load reads stored host states once.
func (m *Manager) load(ctx context.Context) error {
	m.mu.Lock()
	loaded := len(m.hosts) > 0
	m.mu.Unlock()
	if loaded || m.states == nil {
		return nil
	}
	states, err := m.states.HostStates(ctx)
	if err != nil {
		return fmt.Errorf("loading host states: %w", err)
	}
	// A snapshot stored just before a crash whose host state did not reach
	// the database still makes its host fresh: nothing fresh is refetched.
	last, err := m.loadTotals(ctx)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range states {
		if t, ok := last[s.Host]; ok && t.After(s.LastAttempt) {
			s.Status, s.Reason, s.LastSuccess, s.LastAttempt, s.Failures = model.StatusOK, "", t, t, 0
			s.NextDue = t.Add(m.opts.RecrawlAfter)
		}
		m.hosts[s.Host] = &hostEntry{state: s, scheme: "https"}
	}
	// Hosts named in stored peer lists but without a state of their own
	// (their discovery did not reach the database before a crash) are
	// discovered again.
	if ph, ok := m.states.(peerHosts); ok {
		m.mu.Unlock()
		hosts, err := ph.PeerHosts(ctx)
		m.mu.Lock()
		if err != nil {
			return fmt.Errorf("loading peer hosts: %w", err)
		}
		for _, h := range hosts {
			if _, known := m.hosts[h]; !known {
				m.hosts[h] = &hostEntry{state: model.HostState{Host: h, DiscoveredFrom: "peers"}, scheme: "https"}
			}
		}
	}
	m.log.Info("host states loaded", "hosts", len(m.hosts))
	return nil
}

// peerHosts is an optional capability of a StateSource.
type peerHosts interface {
	PeerHosts(ctx context.Context) ([]string, error)
}

// discover records a host named by another host's peer list and queues it
// when it is new.
func (m *Manager) discover(ctx context.Context, host, from string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.hosts[host]; ok {
		return
	}
	if m.refuseDiscoveredLocked(ctx, host, from) {
		return
	}
	e := &hostEntry{state: model.HostState{Host: host, DiscoveredFrom: from, FirstSeen: m.now()}, scheme: "https"}
	m.hosts[host] = e
	m.metrics.discovered.Inc()
	m.persistLocked(ctx, e.state)
	if !m.closed {
		m.enqueueLocked(host, e)
	}
}

// persistLocked stores a state (a newly known host), logging failures: a
// lost discovery is found again from the same peer list next time.
func (m *Manager) persistLocked(ctx context.Context, s model.HostState) {
	if err := m.sink.AddHostState(ctx, s); err != nil {
		m.log.Warn("storing host state failed", "host", s.Host, "err", err)
	}
}

func (m *Manager) enqueueLocked(host string, e *hostEntry) {
	if e.queued {
		return
	}
	e.queued = true
	if m.farmHoldLocked(host, e) {
		return // waits for a slot of its domain's cap (farms.go)
	}
	m.wg.Add(1)
	m.queue = append(m.queue, host)
	m.metrics.queue.Set(float64(len(m.queue)))
	m.qcond.Signal()
}

func (m *Manager) work(ctx context.Context) {
	for {
		m.mu.Lock()
		for len(m.queue) == 0 && !m.closed {
			m.qcond.Wait()
		}
		if m.closed && (len(m.queue) == 0 || ctx.Err() != nil) {
			m.mu.Unlock()
			return
		}
		host := m.queue[0]
		m.queue[0] = ""
		m.queue = m.queue[1:]
		m.metrics.queue.Set(float64(len(m.queue)))
		e := m.hosts[host]
		state, scheme := e.state, e.scheme
		m.mu.Unlock()
		if m.refuseVisit(ctx, host, e, state) {
			m.wg.Done()
			continue
		}

		m.inFlight.Add(1)
		m.metrics.inFlightHosts.Inc()
		hc, release := m.newHostCrawl(host, scheme)
		state = hc.visit(ctx, state)
		release()
		m.inFlight.Add(-1)
		m.metrics.inFlightHosts.Dec()
		if ctx.Err() != nil {
			m.wg.Done()
			continue // the visit was interrupted: its state is not recorded
		}
		m.schedule(&state)
		m.metrics.outcomes.WithLabelValues(string(state.Status)).Inc()
		if state.Status != model.StatusOK {
			m.failed.Add(1)
			m.log.Debug("host failed", "host", host, "status", state.Status, "reason", state.Reason)
		}
		m.done.Add(1)
		hc.out.State = state
		if err := m.sink.AddVisit(ctx, hc.out); err != nil {
			m.log.Warn("storing visit failed", "host", host, "err", err)
		}
		m.mu.Lock()
		e.state = state
		m.farmVisitedLocked(host, state)
		m.mu.Unlock()
		m.wg.Done()
	}
}

// schedule sets NextDue and Failures: fresh snapshots wait RecrawlAfter
// (±10%); failures back off exponentially from an hour to a week, with
// jitter, so a dead host moves to a slower schedule but is never deleted.
func (m *Manager) schedule(s *model.HostState) {
	jitter := func(d time.Duration) time.Duration {
		if d <= 0 {
			return 0
		}
		return d + time.Duration((rand.Float64()*0.2-0.1)*float64(d))
	}
	if s.Status == model.StatusOK {
		s.Failures = 0
		s.NextDue = s.LastAttempt.Add(jitter(m.opts.RecrawlAfter))
		// Not before the NodeInfo document's announced lifetime is over
		// (RecrawlAfter 0 means every host is due now, whatever it says).
		if m.opts.RecrawlAfter > 0 && s.NodeInfoFreshUntil.After(s.NextDue) {
			s.NextDue = s.NodeInfoFreshUntil
		}
		return
	}
	s.Failures++
	backoff := time.Hour << min(s.Failures-1, 7)
	if backoff > 7*24*time.Hour {
		backoff = 7 * 24 * time.Hour
	}
	if m.opts.RecrawlAfter == 0 {
		backoff = 0
	}
	s.NextDue = s.LastAttempt.Add(jitter(backoff))
	m.markDead(s)
}

// progress reports periodically until the returned func is called: a line
// rewritten in place on a terminal (Options.Progress), a log line
// otherwise. Both give hosts done, in flight, queued, failed and requests
// per second; the hosts-by-status gauge is refreshed at the same time.
func (m *Manager) progress(ctx context.Context) func() {
	every := m.opts.ProgressEvery
	if m.opts.Progress != nil {
		every = time.Second
	}
	if every < 0 {
		return func() { m.updateStatusGauge() }
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		lastReq, lastT := m.metrics.requestCount(), time.Now()
		report := func(now time.Time, final bool) {
			req := m.metrics.requestCount()
			rps := float64(req-lastReq) / max(now.Sub(lastT).Seconds(), 1e-9)
			lastReq, lastT = req, now
			m.mu.Lock()
			queued := len(m.queue)
			m.mu.Unlock()
			m.updateStatusGauge()
			if m.opts.Progress != nil {
				end := ""
				if final {
					end = "\n"
				}
				fmt.Fprintf(m.opts.Progress, "\r\033[Kcrawl: %d done, %d in flight, %d queued, %d failed, %.0f req/s%s",
					m.done.Load(), m.inFlight.Load(), queued, m.failed.Load(), rps, end)
				return
			}
			if !final {
				m.log.Info("crawl progress", "done", m.done.Load(), "in_flight", m.inFlight.Load(), "queued", queued, "failed", m.failed.Load(), "req_per_s", fmt.Sprintf("%.1f", rps))
			}
		}
		for {
			select {
			case <-ctx.Done():
				report(time.Now(), true)
				return
			case <-stop:
				report(time.Now(), true)
				return
			case now := <-t.C:
				report(now, false)
			}
		}
	}()
	return func() { close(stop); wg.Wait() }
}

// updateStatusGauge counts known hosts by the status of their latest visit
// ("pending" for hosts not visited yet).
func (m *Manager) updateStatusGauge() {
	counts := map[string]float64{}
	m.mu.Lock()
	for _, e := range m.hosts {
		st := string(e.state.Status)
		if st == "" {
			st = "pending"
		}
		counts[st]++
	}
	m.mu.Unlock()
	m.metrics.hostsByStatus.Reset()
	for st, n := range counts {
		m.metrics.hostsByStatus.WithLabelValues(st).Set(n)
	}
}
