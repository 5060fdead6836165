package crawler

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/fedisim"
	"github.com/fedilens/fedilens/internal/fedisim/simtest"
	"github.com/fedilens/fedilens/internal/model"
)

// recordSink keeps the latest state and the snapshots of every host.
type recordSink struct {
	mu     sync.Mutex
	states map[string]model.HostState
	snaps  map[string]int
}

func newRecordSink() *recordSink {
	return &recordSink{states: map[string]model.HostState{}, snaps: map[string]int{}}
}

func (r *recordSink) AddSnapshot(_ context.Context, s model.Snapshot) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.snaps[s.Host]++
	return nil
}
func (r *recordSink) AddPeers(context.Context, model.Peers) error { return nil }
func (r *recordSink) AddHostState(_ context.Context, s model.HostState) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.states[s.Host] = s
	return nil
}
func (r *recordSink) AddPosts(context.Context, []model.Post) error { return nil }

// AddVisit records a visit's snapshot and state.
func (r *recordSink) AddVisit(ctx context.Context, v model.Visit) error {
	if v.Snapshot != nil {
		_ = r.AddSnapshot(ctx, *v.Snapshot)
	}
	return r.AddHostState(ctx, v.State)
}

func (r *recordSink) state(host string) (model.HostState, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.states[host]
	return s, ok
}

func (r *recordSink) snapshots(host string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.snaps[host]
}

// mapPolicy refuses the hosts in its map, with the mapped reason.
type mapPolicy struct {
	mu     sync.Mutex
	refuse map[string]string
}

func (p *mapPolicy) Allowed(host string) (bool, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r, ok := p.refuse[host]; ok {
		return false, r
	}
	return true, ""
}

func (p *mapPolicy) set(host, reason string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refuse[host] = reason
}

// fakeControls counts refreshes and hands out queued submissions once.
type fakeControls struct {
	refreshes atomic.Int32
	mu        sync.Mutex
	pending   []string
}

func (c *fakeControls) Refresh(context.Context) error {
	c.refreshes.Add(1)
	return nil
}

func (c *fakeControls) Submitted(context.Context) ([]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.pending
	c.pending = nil
	return out, nil
}

func (c *fakeControls) submit(hosts ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pending = append(c.pending, hosts...)
}

// simManager starts a well-behaved simulated fediverse and a Manager that
// crawls it without a politeness gap.
func simManager(t *testing.T, instances int, opts Options) (*fedisim.Sim, *Manager, *recordSink) {
	t.Helper()
	sim := fedisim.New(fedisim.Options{Seed: 11, Instances: instances, NoHostile: true})
	for _, s := range sim.Seeds() {
		opts.Seeds = append(opts.Seeds, Seed{Scheme: "https", Host: s})
	}
	opts.Client = simtest.Serve(t, sim)
	opts.HostDelay = -1
	opts.ProgressEvery = -1
	opts.Workers = 16
	sink := newRecordSink()
	m, err := New(opts, sink, nil, nil, nil)
	require.NoError(t, err)
	return sim, m, sink
}

// peerNamed returns two stored, non-seed instances that some stored
// instance names in a readable peer list.
func peerNamed(t *testing.T, sim *fedisim.Sim) []string {
	t.Helper()
	truth := sim.Truth()
	seeds := map[string]bool{}
	for _, s := range sim.Seeds() {
		seeds[s] = true
	}
	stored := map[string]bool{}
	for _, in := range truth.Census(sim.Seeds()) {
		stored[in.Host] = true
	}
	var out []string
	seen := map[string]bool{}
	for _, in := range truth.Census(sim.Seeds()) {
		if !in.PeersReadable() {
			continue
		}
		for _, p := range in.Peers {
			if stored[p] && !seeds[p] && !seen[p] {
				seen[p] = true
				out = append(out, p)
				if len(out) == 2 {
					return out
				}
			}
		}
	}
	t.Fatal("the simulation has no two peer-named instances")
	return nil
}

func TestPolicyRefusedHostsGetNoRequest(t *testing.T) {
	pol := &mapPolicy{refuse: map[string]string{}}
	ctl := &fakeControls{}
	sim, m, sink := simManager(t, 60, Options{Policy: pol, Controls: ctl})
	refused := peerNamed(t, sim)
	pol.set(refused[0], "denied by the operator (x)")
	pol.set(refused[1], "the instance's admin opted out of fedilens")

	_, err := m.RunOnce(context.Background())
	require.NoError(t, err)
	require.Equal(t, int32(1), ctl.refreshes.Load(), "the controls are refreshed at pass start")

	for _, r := range sim.Requests() {
		require.NotContains(t, refused, r.Host, "a refused host got a request: %+v", r)
	}
	for i, h := range refused {
		st, ok := sink.state(h)
		require.True(t, ok, "the refused host %s is remembered", h)
		require.Equal(t, model.StatusRefused, st.Status)
		require.Contains(t, st.Reason, "policy: ")
		require.Zero(t, st.Failures, "a refusal is not a failure of the host")
		require.Zero(t, sink.snapshots(h))
		_, reason := pol.Allowed(refused[i])
		require.Equal(t, "policy: "+reason, st.Reason)
	}
	// Everything else of the census was visited.
	var visited int
	for _, in := range sim.Truth().Census(sim.Seeds()) {
		if sink.snapshots(in.Host) > 0 {
			visited++
		}
	}
	require.Positive(t, visited)

	// A host the policy starts refusing after it was crawled is refused
	// before the next visit: no request at all.
	sim.ResetRequests()
	seed := sim.Seeds()[0]
	pol.set(seed, "the instance's admin opted out of fedilens")
	_, err = m.RunOnce(context.Background())
	require.NoError(t, err)
	for _, r := range sim.Requests() {
		require.NotEqual(t, seed, r.Host, "an opted-out seed got a request: %+v", r)
	}
	st, _ := sink.state(seed)
	require.Equal(t, model.StatusRefused, st.Status)
	require.Equal(t, "mastodon", st.Software, "what was known about the host is kept")
}

func TestSubmittedHostsArePickedUp(t *testing.T) {
	pol := &mapPolicy{refuse: map[string]string{}}
	ctl := &fakeControls{}
	sim, m, sink := simManager(t, 120, Options{Policy: pol, Controls: ctl, RefreshEvery: 20 * time.Millisecond, RecrawlAfter: time.Hour})
	// An isolated instance is named in no peer list: only a submission
	// can bring it into the census.
	var isolated []string
	for _, in := range sim.Truth().Instances {
		if in.Isolated && in.Stored() {
			isolated = append(isolated, in.Host)
		}
	}
	require.GreaterOrEqual(t, len(isolated), 2, "the simulation needs two isolated instances")
	pol.set(isolated[1], "denied by the operator (x)")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, time.Hour) }()

	// The first pass ends and Run waits (an hour); a submission ends the
	// wait within RefreshEvery.
	require.Eventually(t, func() bool { return ctl.refreshes.Load() >= 3 }, 30*time.Second, 10*time.Millisecond)
	ctl.submit(isolated[0], isolated[1], "bad host", isolated[0])
	require.Eventually(t, func() bool { return sink.snapshots(isolated[0]) > 0 }, 30*time.Second, 10*time.Millisecond)
	st, ok := sink.state(isolated[0])
	require.True(t, ok)
	require.Equal(t, "api", st.DiscoveredFrom)

	cancel()
	require.NoError(t, <-done)
	st, ok = sink.state(isolated[1])
	require.True(t, ok)
	require.Equal(t, model.StatusRefused, st.Status, "a submitted host the policy refuses is refused like any other")
	require.Equal(t, "api", st.DiscoveredFrom)
	for _, r := range sim.Requests() {
		require.NotEqual(t, isolated[1], r.Host)
	}
}
