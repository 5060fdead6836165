package stats_test

import (
	"context"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/crawler"
	"github.com/fedilens/fedilens/internal/chtest"
	"github.com/fedilens/fedilens/internal/fedisim"
	"github.com/fedilens/fedilens/internal/fedisim/simtest"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/sanity"
	"github.com/fedilens/fedilens/internal/store"
)

func TestMain(m *testing.M) { os.Exit(chtest.Main(m)) }

// snapSink keeps the snapshots of one crawl pass.
type snapSink struct {
	mu    sync.Mutex
	snaps []model.Snapshot
}

func (s *snapSink) AddVisit(_ context.Context, v model.Visit) error {
	if v.Snapshot != nil {
		s.mu.Lock()
		s.snaps = append(s.snaps, *v.Snapshot)
		s.mu.Unlock()
	}
	return nil
}

func (s *snapSink) AddHostState(context.Context, model.HostState) error { return nil }

func (s *snapSink) take() []model.Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.snaps
	s.snaps = nil
	return out
}

// dayTruth is what a correct crawler stored on one day of the history.
type dayTruth struct {
	date time.Time
	// census are the instances stored that day, by host.
	census map[string]fedisim.InstanceTruth
}

// crawled is a simulated history crawled into a store, one pass a day,
// with every closed day rolled up, and the truth of each day.
type crawled struct {
	sim   *fedisim.Sim
	st    *store.Store
	days  []dayTruth
	langs map[string][]string // the instance document's languages by host
}

// crawlHistory builds a simulator with a history of days days and, for
// each day, serves that day, runs one crawler pass whose clock reads the
// day's date plus three hours, stores the snapshots and rolls up the
// closed days.
func crawlHistory(t *testing.T, opts fedisim.Options) *crawled {
	t.Helper()
	ctx := context.Background()
	days := opts.HistoryDays
	sim := fedisim.New(opts)
	client := simtest.Serve(t, sim)
	st := chtest.Store(t)

	var now atomic.Int64
	var seeds []crawler.Seed
	for _, s := range sim.Seeds() {
		seeds = append(seeds, crawler.Seed{Scheme: "https", Host: s})
	}
	truth0, err := sim.TruthAt(0)
	require.NoError(t, err)
	sink := &snapSink{}
	m, err := crawler.New(crawler.Options{
		Client: client, Seeds: seeds, HostDelay: -1, ProgressEvery: -1,
		RecrawlAfter: 0, DeadAfter: -1, MaxUnprovenPerDomain: -1, MaxCrawlDelay: time.Millisecond,
		Policy: instancesOnly{truth0},
		Now:    func() time.Time { return time.Unix(0, now.Load()).UTC() },
	}, sink, nil, nil, nil)
	require.NoError(t, err)

	c := &crawled{sim: sim, st: st, langs: map[string][]string{}}
	known := slices.Clone(sim.Seeds())
	knownSet := map[string]bool{}
	for _, h := range known {
		knownSet[h] = true
	}
	for d := range days {
		require.NoError(t, sim.SetDay(d))
		date := sim.DayDate(d)
		now.Store(date.Add(3 * time.Hour).UnixNano())
		_, err := m.RunOnce(ctx)
		require.NoError(t, err)
		require.NoError(t, st.InsertSnapshots(ctx, sink.take()))
		_, err = st.Rollup(ctx, date.AddDate(0, 0, 1))
		require.NoError(t, err)

		// The crawler remembers every host it ever found: its pass starts
		// from those and the seeds.
		truth, err := sim.TruthAt(d)
		require.NoError(t, err)
		dt := dayTruth{date: date, census: map[string]fedisim.InstanceTruth{}}
		for _, in := range truth.Census(known) {
			dt.census[in.Host] = in
			for _, h := range append([]string{in.Host}, readablePeers(&in)...) {
				if !knownSet[h] {
					knownSet[h] = true
					known = append(known, h)
				}
			}
		}
		c.days = append(c.days, dt)
	}
	for _, d := range c.days {
		for h := range d.census {
			if _, ok := c.langs[h]; ok {
				continue
			}
			doc, _ := sim.InstanceDoc(h)
			var langs []string
			if doc.Path != "" {
				langs = doc.Languages
			}
			c.langs[h] = langs
		}
	}
	return c
}

// instancesOnly lets the crawler contact the simulated instances only
// (born or not, alive or not), and none of the dead, junk or farm names
// their peer lists hold: those are never stored and publish no peers, so
// the census is the same, and a pass costs a fraction of the TLS
// handshakes.
type instancesOnly struct{ truth *fedisim.Truth }

func (p instancesOnly) Allowed(host string) (bool, string) {
	if _, ok := p.truth.Instance(host); ok {
		return true, ""
	}
	return false, "not a simulated instance"
}

func readablePeers(in *fedisim.InstanceTruth) []string {
	if !in.PeersReadable() {
		return nil
	}
	return in.Peers
}

// suspectFlags are the flag names that leave figures out.
var suspectFlags = sanity.SuspectFlags()

// suspect reports whether the truth's expected flags leave in out.
func suspect(in fedisim.InstanceTruth) bool {
	for _, f := range in.ExpectedFlags {
		if slices.Contains(suspectFlags, f) {
			return true
		}
	}
	return false
}
