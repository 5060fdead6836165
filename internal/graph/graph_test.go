package graph_test

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/chtest"
	"github.com/fedilens/fedilens/internal/fedisim"
	"github.com/fedilens/fedilens/internal/graph"
	"github.com/fedilens/fedilens/internal/hostname"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/observtest"
	"github.com/fedilens/fedilens/internal/sanity"
	"github.com/fedilens/fedilens/internal/stats"
)

func TestMain(m *testing.M) { os.Exit(chtest.Main(m)) }

// requireGoodLayout checks what the browser relies on: finite
// coordinates in [0, 1] and no two nodes on the same point.
func requireGoodLayout(t *testing.T, xs, ys []float64) {
	t.Helper()
	seen := map[[2]float64]int{}
	for i := range xs {
		for _, v := range []float64{xs[i], ys[i]} {
			require.False(t, math.IsNaN(v) || math.IsInf(v, 0), "node %d: %v", i, v)
			require.GreaterOrEqual(t, v, 0.0, "node %d", i)
			require.LessOrEqual(t, v, 1.0, "node %d", i)
		}
		p := [2]float64{xs[i], ys[i]}
		if j, dup := seen[p]; dup {
			require.Failf(t, "two nodes on one point", "nodes %d and %d at %v", j, i, p)
		}
		seen[p] = i
	}
}

func TestLayout(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	randomEdges := func(n, m int) [][2]int {
		var out [][2]int
		for range m {
			out = append(out, [2]int{r.IntN(n), r.IntN(n)})
		}
		return out
	}
	star := func(n int) [][2]int {
		var out [][2]int
		for i := 1; i < n; i++ {
			out = append(out, [2]int{0, i})
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		n     int
		edges [][2]int
		iters int // default DefaultIterations
	}{
		{"empty", 0, nil, 0},
		{"one node", 1, nil, 0},
		{"two linked", 2, [][2]int{{0, 1}, {1, 0}}, 0},
		{"no links", 40, nil, 0},
		{"a star", 60, star(60), 0},
		{"two components and loners", 30, [][2]int{{0, 1}, {1, 2}, {2, 0}, {10, 11}, {11, 12}, {3, 3}}, 0},
		{"random", 120, randomEdges(120, 600), 0},
		{"the largest", stats.MaxGraphNodes, randomEdges(stats.MaxGraphNodes, 3000), 60},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.iters == 0 {
				tc.iters = graph.DefaultIterations
			}
			began := time.Now()
			xs, ys := graph.Layout(tc.n, tc.edges, tc.iters)
			took := time.Since(began)
			require.Len(t, xs, tc.n)
			require.Len(t, ys, tc.n)
			requireGoodLayout(t, xs, ys)
			again, againY := graph.Layout(tc.n, slices.Clone(tc.edges), tc.iters)
			require.Equal(t, xs, again, "deterministic")
			require.Equal(t, ys, againY, "deterministic")
			if tc.n > 2 {
				t.Logf("%d nodes, %d edges: %s", tc.n, len(tc.edges), took)
			}
		})
	}
	t.Run("linked nodes end closer than unlinked ones", func(t *testing.T) {
		// Two cliques of ten: every link within a clique is shorter than
		// the distance between the cliques' centres.
		var edges [][2]int
		for c := range 2 {
			for i := range 10 {
				for j := i + 1; j < 10; j++ {
					edges = append(edges, [2]int{c*10 + i, c*10 + j})
				}
			}
		}
		xs, ys := graph.Layout(20, edges, graph.DefaultIterations)
		centre := func(c int) (x, y float64) {
			for i := range 10 {
				x += xs[c*10+i] / 10
				y += ys[c*10+i] / 10
			}
			return x, y
		}
		ax, ay := centre(0)
		bx, by := centre(1)
		apart := math.Hypot(ax-bx, ay-by)
		for _, e := range edges {
			require.Less(t, math.Hypot(xs[e[0]]-xs[e[1]], ys[e[0]]-ys[e[1]]), apart)
		}
	})
}

// The truth side: what a correct crawler stored on each day.

func suspect(in fedisim.InstanceTruth) bool {
	for _, f := range in.ExpectedFlags {
		if slices.Contains(sanity.SuspectFlags(), f) {
			return true
		}
	}
	return false
}

func peersOf(in *fedisim.InstanceTruth) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range observtest.ReadablePeers(in) {
		h, err := hostname.Normalize(r)
		if err != nil || h == in.Host || strings.Contains(h, ":") || seen[h] {
			continue
		}
		seen[h] = true
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// listers are the instances of day d whose links count (not suspect).
func listers(d observtest.Day) []fedisim.InstanceTruth {
	var out []fedisim.InstanceTruth
	for _, in := range d.Census {
		if !suspect(in) {
			out = append(out, in)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Host < out[b].Host })
	return out
}

func inDegrees(d observtest.Day) map[string]int64 {
	in := map[string]int64{}
	for _, l := range listers(d) {
		for _, p := range peersOf(&l) {
			in[p]++
		}
	}
	return in
}

func wantEdges(d observtest.Day, members []string, ego string) []graph.Edge {
	from := listers(d)
	if in, ok := d.Census[ego]; ok && suspect(in) {
		from = append(from, in)
	}
	out := []graph.Edge{}
	for _, l := range from {
		if !slices.Contains(members, l.Host) {
			continue
		}
		for _, p := range peersOf(&l) {
			if slices.Contains(members, p) {
				out = append(out, graph.Edge{Source: l.Host, Target: p})
			}
		}
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].Source != out[b].Source {
			return out[a].Source < out[b].Source
		}
		return out[a].Target < out[b].Target
	})
	return out
}

// wantNode is a node as the truth describes it (without its place).
func wantNode(d observtest.Day, host string, in map[string]int64) graph.Node {
	n := graph.Node{Host: host, Degree: in[host]}
	if it, ok := d.Census[host]; ok && !suspect(it) {
		n.Software, n.Users = it.Software, it.UsersTotal
		if it.PeersReadable() && it.Software != "snac" {
			k := int64(len(peersOf(&it)))
			n.OutDegree = &k
		}
	}
	return n
}

func unplaced(nodes []graph.Node) []graph.Node {
	out := make([]graph.Node, len(nodes))
	for i, n := range nodes {
		n.X, n.Y = 0, 0
		out[i] = n
	}
	return out
}

// requireGoodGraph is requireGoodLayout over a graph's nodes.
func requireGoodGraph(t *testing.T, g graph.Graph) {
	t.Helper()
	var xs, ys []float64
	for _, n := range g.Nodes {
		xs, ys = append(xs, n.X), append(ys, n.Y)
	}
	requireGoodLayout(t, xs, ys)
}

// TestGraphsMatchTruth crawls a small simulated history and checks the
// top graph and the ego view against the last day's truth, the cache and
// the bounds.
func TestGraphsMatchTruth(t *testing.T) {
	ctx := context.Background()
	h := observtest.Crawl(t, chtest.Store(t), fedisim.Options{Seed: 4, Instances: 50, HistoryDays: 4, NoHostile: true}, observtest.Options{})
	last := h.Days[len(h.Days)-1]
	var clock atomic.Int64
	clock.Store(last.CrawledAt.Add(time.Hour).UnixNano())
	g := graph.New(stats.New(h.Store, stats.Options{}), graph.Options{MaxNodes: 40, Refresh: time.Hour,
		Now: func() time.Time { return time.Unix(0, clock.Load()).UTC() }})
	in := inDegrees(last)

	t.Run("top", func(t *testing.T) {
		ranked := make([]string, 0, len(in))
		for host := range in {
			ranked = append(ranked, host)
		}
		sort.Slice(ranked, func(a, b int) bool {
			if in[ranked[a]] != in[ranked[b]] {
				return in[ranked[a]] > in[ranked[b]]
			}
			return ranked[a] < ranked[b]
		})
		top, err := g.Top(ctx, 40)
		require.NoError(t, err)
		require.Equal(t, last.Date, top.Day)
		members := ranked[:min(40, len(ranked))]
		var want []graph.Node
		for _, host := range members {
			want = append(want, wantNode(last, host, in))
		}
		require.Equal(t, want, unplaced(top.Nodes))
		require.Equal(t, wantEdges(last, members, ""), top.Edges)
		require.NotEmpty(t, top.Edges)
		requireGoodGraph(t, top)

		small, err := g.Top(ctx, 7)
		require.NoError(t, err)
		require.Equal(t, top.Nodes[:7], small.Nodes, "a smaller top is a cut of the same picture")
		require.Equal(t, wantEdges(last, members[:7], ""), small.Edges)
		require.Equal(t, top.Computed, small.Computed, "served from the cache")

		clock.Add(int64(2 * time.Hour))
		again, err := g.Top(ctx, 40)
		require.NoError(t, err)
		require.True(t, again.Computed.After(top.Computed), "computed again after Refresh")
		require.Equal(t, top.Nodes, again.Nodes, "the same links give the same picture")
		require.NoError(t, g.Refresh(ctx))
	})

	t.Run("around", func(t *testing.T) {
		// The instance with the most neighbours that is in the census.
		ego, best := "", -1
		for _, l := range listers(last) {
			if k := len(peersOf(&l)) + int(in[l.Host]); k > best || (k == best && l.Host < ego) {
				ego, best = l.Host, k
			}
		}
		egoTruth := last.Census[ego]
		out := peersOf(&egoTruth)
		var listing []string
		for _, l := range listers(last) {
			if slices.Contains(peersOf(&l), ego) {
				listing = append(listing, l.Host)
			}
		}
		for _, n := range []int{1, 5, 40} {
			seen := map[string]bool{}
			var neigh []string
			for _, host := range append(slices.Clone(out), listing...) {
				if !seen[host] && host != ego {
					seen[host] = true
					neigh = append(neigh, host)
				}
			}
			mutual := func(host string) bool { return slices.Contains(out, host) && slices.Contains(listing, host) }
			users := func(host string) *int64 { return wantNode(last, host, in).Users }
			sort.Slice(neigh, func(a, b int) bool {
				x, y := neigh[a], neigh[b]
				if mutual(x) != mutual(y) {
					return mutual(x)
				}
				ux, uy := users(x), users(y)
				if (ux == nil) != (uy == nil) {
					return ux != nil
				}
				if ux != nil && *ux != *uy {
					return *ux > *uy
				}
				return x < y
			})
			members := append([]string{ego}, neigh[:min(n, len(neigh))]...)
			var want []graph.Node
			for _, host := range members {
				want = append(want, wantNode(last, host, in))
			}
			got, err := g.Around(ctx, ego, n)
			require.NoError(t, err)
			require.Equal(t, want, unplaced(got.Nodes), "around %s, n=%d", ego, n)
			require.Equal(t, wantEdges(last, members, ego), got.Edges, "around %s, n=%d", ego, n)
			requireGoodGraph(t, got)
		}
		_, err := g.Around(ctx, "never.seen.example", 10)
		require.ErrorIs(t, err, model.ErrNotFound)
	})

	t.Run("bounds", func(t *testing.T) {
		for _, n := range []int{0, -3, 41} {
			_, err := g.Top(ctx, n)
			require.ErrorIs(t, err, graph.ErrTooManyNodes)
			require.ErrorIs(t, err, stats.ErrBadQuery)
			_, err = g.Around(ctx, "a.example", n)
			require.ErrorIs(t, err, graph.ErrTooManyNodes)
		}
		require.Equal(t, stats.MaxGraphNodes, graph.New(nil, graph.Options{MaxNodes: 10_000}).MaxNodes())
	})
}
