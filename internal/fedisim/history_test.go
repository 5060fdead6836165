package fedisim

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const histTestDays = 120

var histOpts = Options{Seed: 42, Instances: 500, HistoryDays: histTestDays}

var (
	histOnce sync.Once
	histSim  *Sim
)

// historySim is a shared read-only world with a history; tests that change
// the day build their own.
func historySim(t *testing.T) *Sim {
	t.Helper()
	histOnce.Do(func() {
		histSim = New(histOpts)
		histSim.skipDelays = true
	})
	return histSim
}

func newHistorySim(t *testing.T) *Sim {
	t.Helper()
	s := New(histOpts)
	s.skipDelays = true
	return s
}

// allDays returns the truth of every day, timing the build.
func allDays(t *testing.T, s *Sim) []*Truth {
	t.Helper()
	start := time.Now()
	out := make([]*Truth, s.HistoryDays())
	for d := range out {
		tr, err := s.TruthAt(d)
		require.NoError(t, err)
		out[d] = tr
	}
	t.Logf("truth of %d days for %d instances in %v", len(out), len(out[0].Instances), time.Since(start))
	return out
}

func TestHistoryTruthInvariants(t *testing.T) {
	s := historySim(t)
	days := allDays(t, s)
	var born, died, returned, upgraded, threads, newPeers int
	for i := range days[0].Instances {
		host := days[0].Instances[i].Host
		var prev *InstanceTruth
		wasAlive, wasDead := false, false
		for d, tr := range days {
			it, ok := tr.Instance(host)
			require.True(t, ok)
			require.Equal(t, d, tr.Day)
			require.Equal(t, s.Now().AddDate(0, 0, d-(histTestDays-1)), tr.Date)
			if it.Dead {
				if wasAlive {
					wasDead = true
				}
				require.False(t, it.Stored(), "%s day %d", host, d)
				continue
			}
			if !wasAlive && d > 0 {
				born++
			}
			if wasDead {
				returned++
				wasDead = false
			}
			wasAlive = true
			if !it.SuspectFigures && it.UsersActiveHalfyear != nil {
				require.LessOrEqual(t, *it.UsersActiveMonth, *it.UsersActiveHalfyear, "%s day %d", host, d)
				require.LessOrEqual(t, *it.UsersActiveHalfyear, *it.UsersTotal, "%s day %d", host, d)
			}
			for _, p := range it.Peers {
				if pt, ok := tr.Instance(p); ok {
					if s.world.hist.inst[s.world.byHost[pt.Host].idx].birth > d {
						t.Fatalf("%s lists %s before its birth on day %d", host, p, d)
					}
				}
			}
			for _, b := range it.Blocks {
				if b.Domain == ThreadsDomain && d == histTestDays-1 {
					threads++
				}
			}
			if prev != nil {
				require.GreaterOrEqual(t, *it.UsersTotal, *prev.UsersTotal, "%s day %d", host, d)
				if it.LocalPosts != nil {
					require.GreaterOrEqual(t, *it.LocalPosts, *prev.LocalPosts, "%s day %d", host, d)
				}
				c := compareVersions(it.Version, prev.Version)
				require.GreaterOrEqual(t, c, 0, "%s downgraded on day %d: %s -> %s", host, d, prev.Version, it.Version)
				if c > 0 {
					upgraded++
				}
				require.True(t, subsequence(prev.Peers, it.Peers), "%s day %d: peers vanished", host, d)
				if len(it.Peers) > len(prev.Peers) {
					newPeers++
				}
				require.Subset(t, it.Blocks, prev.Blocks, "%s day %d", host, d)
			}
			prev = &it
		}
		if wasDead {
			died++
		}
	}
	t.Logf("born %d, dead today %d, returned %d, upgrades %d, threads.net blocks %d, peer-list growths %d",
		born, died, returned, upgraded, threads, newPeers)
	for name, n := range map[string]int{"born": born, "died": died, "returned": returned, "upgraded": upgraded,
		"threads": threads, "new peers": newPeers} {
		require.Positive(t, n, name)
	}

	// Today is the world without a history but for the instances born or
	// dead.
	today, plain := days[histTestDays-1], sharedSim(t).Truth()
	require.Len(t, today.Instances, len(plain.Instances))
	for i, it := range today.Instances {
		if it.Dead {
			continue
		}
		want := plain.Instances[i]
		require.Equal(t, want.Host, it.Host)
		require.Equal(t, want.Version, it.Version)
		require.Equal(t, want.UsersTotal, it.UsersTotal)
		require.Equal(t, want.UsersActiveMonth, it.UsersActiveMonth)
		require.Equal(t, want.LocalPosts, it.LocalPosts)
		require.Equal(t, want.OpenRegistrations, it.OpenRegistrations)
		require.Equal(t, want.Peers, it.Peers)
	}
	// The census of a day never holds an instance dead that day.
	for _, d := range []int{0, 60, histTestDays - 1} {
		for _, it := range days[d].Census(s.Seeds()) {
			require.False(t, it.Dead)
		}
	}
	require.NotEqual(t, len(days[0].Census(s.Seeds())), len(days[histTestDays-1].Census(s.Seeds())))
}

func TestHistoryServedMatchesTruth(t *testing.T) {
	s := newHistorySim(t)
	for _, d := range []int{0, 37, 90, histTestDays - 1} {
		require.NoError(t, s.SetDay(d))
		require.Equal(t, d, s.Day())
		tr, err := s.TruthAt(d)
		require.NoError(t, err)
		require.Same(t, tr, s.Truth())
		checked := 0
		for _, it := range tr.Instances {
			if it.Software != "mastodon" || len(it.Behaviours) > 0 || it.Dead || checked >= 25 {
				continue
			}
			checked++
			var ni struct {
				Software struct{ Version string }
				Usage    struct {
					Users struct {
						Total, ActiveMonth, ActiveHalfyear int64
					}
					LocalPosts int64
				}
				OpenRegistrations bool
			}
			r := get(t, s, "https://"+it.Host+it.NodeInfoPath)
			require.Equal(t, http.StatusOK, r.status)
			decode(t, r.body, &ni)
			require.Equal(t, it.Version, ni.Software.Version, it.Host)
			require.Equal(t, *it.UsersTotal, ni.Usage.Users.Total, it.Host)
			require.Equal(t, *it.UsersActiveMonth, ni.Usage.Users.ActiveMonth, it.Host)
			require.Equal(t, *it.UsersActiveHalfyear, ni.Usage.Users.ActiveHalfyear, it.Host)
			require.Equal(t, *it.LocalPosts, ni.Usage.LocalPosts, it.Host)
			require.Equal(t, it.OpenRegistrations, ni.OpenRegistrations, it.Host)

			var peers []string
			r = get(t, s, "https://"+it.Host+"/api/v1/instance/peers")
			require.Equal(t, http.StatusOK, r.status)
			decode(t, r.body, &peers)
			require.Equal(t, it.Peers, peers, it.Host)

			r = get(t, s, "https://"+it.Host+"/api/v1/instance/domain_blocks")
			if it.Blocks == nil {
				require.Equal(t, http.StatusNotFound, r.status)
				continue
			}
			var blocks []struct{ Domain, Severity, Comment string }
			decode(t, r.body, &blocks)
			require.Len(t, blocks, len(it.Blocks), it.Host)
			for i, b := range blocks {
				require.Equal(t, it.Blocks[i], BlockTruth(b), it.Host)
			}
		}
		require.Equal(t, 25, checked)
	}
}

func TestHistoryLifecycleServed(t *testing.T) {
	s := newHistorySim(t)
	h := s.world.hist
	pick := func(ok func(ih *instHistory) bool) *instance {
		for _, in := range s.world.instances {
			if in.beh == 0 && ok(&h.inst[in.idx]) {
				return in
			}
		}
		t.Fatal("no such instance")
		return nil
	}
	bornLate := pick(func(ih *instHistory) bool { return ih.birth > 0 && ih.death < 0 })
	deadToday := pick(func(ih *instHistory) bool { return ih.death > 0 && ih.ret < 0 })
	returning := pick(func(ih *instHistory) bool { return ih.ret > 0 })
	tests := []struct {
		name string
		in   *instance
		day  int
		up   bool
	}{
		{"before birth", bornLate, h.inst[bornLate.idx].birth - 1, false},
		{"at birth", bornLate, h.inst[bornLate.idx].birth, true},
		{"before death", deadToday, h.inst[deadToday.idx].death - 1, true},
		{"at death", deadToday, h.inst[deadToday.idx].death, false},
		{"dead today", deadToday, histTestDays - 1, false},
		{"away", returning, h.inst[returning.idx].death, false},
		{"back", returning, h.inst[returning.idx].ret, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, s.SetDay(tc.day))
			r := get(t, s, "https://"+tc.in.host+"/.well-known/nodeinfo")
			if tc.up {
				require.Equal(t, http.StatusOK, r.status)
			} else {
				require.Equal(t, 0, r.status, "the connection is closed")
			}
			tr, err := s.TruthAt(tc.day)
			require.NoError(t, err)
			it, ok := tr.Instance(tc.in.host)
			require.True(t, ok)
			require.Equal(t, !tc.up, it.Dead)
		})
	}
}

func TestHistoryDeterministic(t *testing.T) {
	a, b := newHistorySim(t), historySim(t)
	for _, d := range []int{5, 80} {
		require.NoError(t, a.SetDay(d))
		ta, err := a.TruthAt(d)
		require.NoError(t, err)
		tb, err := b.TruthAt(d)
		require.NoError(t, err)
		require.Equal(t, ta.Instances, tb.Instances)
		seed := a.Seeds()[0]
		c := New(histOpts)
		require.NoError(t, c.SetDay(d))
		for _, path := range []string{"/nodeinfo/2.0", "/api/v1/instance/peers", "/api/v1/instance/domain_blocks", "/api/v2/instance"} {
			require.Equal(t, get(t, a, "https://"+seed+path).body, get(t, c, "https://"+seed+path).body, path)
		}
	}
	// The days differ.
	t0, err := b.TruthAt(0)
	require.NoError(t, err)
	require.NotEqual(t, t0.Instances, b.Truth().Instances)
}

func TestHistoryDayRange(t *testing.T) {
	plain := New(Options{Seed: 1, Instances: 50})
	tests := []struct {
		name string
		s    *Sim
		day  int
		ok   bool
	}{
		{"no history day 0", plain, 0, true},
		{"no history day 1", plain, 1, false},
		{"negative", historySim(t), -1, false},
		{"last", newHistorySim(t), histTestDays - 1, true},
		{"past the end", historySim(t), histTestDays, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.s.TruthAt(tc.day)
			if !tc.ok {
				require.ErrorIs(t, err, ErrDayOutOfRange)
				require.ErrorIs(t, tc.s.SetDay(tc.day), ErrDayOutOfRange)
				return
			}
			require.NoError(t, err)
			require.NoError(t, tc.s.SetDay(tc.day))
		})
	}
	require.Equal(t, 0, plain.HistoryDays())
	require.Equal(t, 0, plain.Day())
	tr, err := plain.TruthAt(0)
	require.NoError(t, err)
	require.Same(t, plain.Truth(), tr)
	require.Equal(t, histTestDays-1, historySim(t).Day(), "a new Sim serves today")
}

// subsequence reports whether small is big with some entries left out, in
// the same order.
func subsequence(small, big []string) bool {
	i := 0
	for _, x := range big {
		if i < len(small) && small[i] == x {
			i++
		}
	}
	return i == len(small)
}
