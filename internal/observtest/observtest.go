// Package observtest fills a real store with a crawled simulated history,
// for the tests of the packages that read the observatory (statistics, the
// API, the dashboard) and for the benchmarks: every day of the history is
// served in turn, crawled by the real crawler whose clock reads that day,
// written through the real pipeline (snapshots, peer lists and block
// lists) and rolled up, and the ground truth of each day is kept beside
// it so that tests can compute the expected figures independently.
package observtest

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/crawler"
	"github.com/fedilens/fedilens/internal/fedisim"
	"github.com/fedilens/fedilens/internal/fedisim/simtest"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/pipeline"
	"github.com/fedilens/fedilens/internal/store"
)

// Day is what a correct crawler stored on one day of the history.
type Day struct {
	// Date is the day's UTC midnight.
	Date time.Time
	// CrawledAt is the crawler's clock during the day's pass.
	CrawledAt time.Time
	// Census are the instances stored that day, by host.
	Census map[string]fedisim.InstanceTruth
	// Truth is the simulator's whole truth of the day.
	Truth *fedisim.Truth
}

// History is a simulated history crawled into a store, one pass a day,
// with every closed day rolled up.
type History struct {
	Sim   *fedisim.Sim
	Store *store.Store
	Days  []Day
	// Langs are the languages each stored host's instance document lists.
	Langs map[string][]string
}

// Options tunes Crawl.
type Options struct {
	// Workers is the crawler's concurrency (default 16).
	Workers int
	// HourOfDay is when each day's pass runs (default 3: 03:00 UTC).
	HourOfDay int
}

// Crawl builds a simulator from sim (which must set HistoryDays) and
// crawls each of its days into st, which should be empty. The crawler
// contacts simulated instances only (born or not, alive or not): the dead,
// junk and farm names of the peer lists are never stored and publish
// nothing, so the census is the same and a pass costs a fraction of the
// TLS handshakes.
func Crawl(t testing.TB, st *store.Store, sim fedisim.Options, opts Options) *History {
	t.Helper()
	require.Positive(t, sim.HistoryDays, "observtest.Crawl needs fedisim.Options.HistoryDays")
	if opts.Workers <= 0 {
		opts.Workers = 16
	}
	if opts.HourOfDay <= 0 || opts.HourOfDay > 23 {
		opts.HourOfDay = 3
	}
	ctx := context.Background()
	s := fedisim.New(sim)
	client := simtest.Serve(t, s)

	pipe := pipeline.New(st, noIndex{}, pipeline.Options{FlushEvery: time.Hour})
	t.Cleanup(func() { _ = pipe.Close(context.Background()) })

	var now atomic.Int64
	var seeds []crawler.Seed
	for _, h := range s.Seeds() {
		seeds = append(seeds, crawler.Seed{Scheme: "https", Host: h})
	}
	truth0, err := s.TruthAt(0)
	require.NoError(t, err)
	m, err := crawler.New(crawler.Options{
		Client: client, Seeds: seeds, HostDelay: -1, ProgressEvery: -1, Workers: opts.Workers,
		RecrawlAfter: 0, DeadAfter: -1, MaxUnprovenPerDomain: -1, MaxCrawlDelay: time.Millisecond,
		Policy: instancesOnly{truth0},
		Now:    func() time.Time { return time.Unix(0, now.Load()).UTC() },
	}, pipe, nil, nil, nil)
	require.NoError(t, err)

	h := &History{Sim: s, Store: st, Langs: map[string][]string{}}
	known := slices.Clone(s.Seeds())
	knownSet := map[string]bool{}
	for _, k := range known {
		knownSet[k] = true
	}
	for d := range sim.HistoryDays {
		require.NoError(t, s.SetDay(d))
		date := s.DayDate(d)
		at := date.Add(time.Duration(opts.HourOfDay) * time.Hour)
		now.Store(at.UnixNano())
		_, err := m.RunOnce(ctx)
		require.NoError(t, err)
		require.NoError(t, pipe.Flush(ctx))
		_, err = st.Rollup(ctx, date.AddDate(0, 0, 1))
		require.NoError(t, err)

		// The crawler remembers every host it ever found: its pass starts
		// from those and the seeds.
		truth, err := s.TruthAt(d)
		require.NoError(t, err)
		day := Day{Date: date, CrawledAt: at, Census: map[string]fedisim.InstanceTruth{}, Truth: truth}
		for _, in := range truth.Census(known) {
			day.Census[in.Host] = in
			for _, p := range append([]string{in.Host}, ReadablePeers(&in)...) {
				if !knownSet[p] {
					knownSet[p] = true
					known = append(known, p)
				}
			}
		}
		h.Days = append(h.Days, day)
	}
	for _, d := range h.Days {
		for host := range d.Census {
			if _, ok := h.Langs[host]; ok {
				continue
			}
			doc, _ := s.InstanceDoc(host)
			var langs []string
			if doc.Path != "" {
				langs = doc.Languages
			}
			h.Langs[host] = langs
		}
	}
	return h
}

// ReadablePeers are the peers a crawler reads from in's published list.
func ReadablePeers(in *fedisim.InstanceTruth) []string {
	if !in.PeersReadable() {
		return nil
	}
	return in.Peers
}

// instancesOnly lets the crawler contact the simulated instances only.
type instancesOnly struct{ truth *fedisim.Truth }

func (p instancesOnly) Allowed(host string) (bool, string) {
	if _, ok := p.truth.Instance(host); ok {
		return true, ""
	}
	return false, "not a simulated instance"
}

// noIndex is the post index of a census-only crawl: no posts are crawled.
type noIndex struct{}

func (noIndex) Index(context.Context, []model.Post) error            { return nil }
func (noIndex) Delete(context.Context, []string) error               { return nil }
func (noIndex) DeleteAuthors(context.Context, []string) (int, error) { return 0, nil }
func (noIndex) DeleteHosts(context.Context, []string) (int, error)   { return 0, nil }
func (noIndex) DeleteBefore(context.Context, time.Time) (int, error) { return 0, nil }
