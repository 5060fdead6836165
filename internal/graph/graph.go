// Package graph gives the federation graph to the dashboard and the API:
// the most-peered hosts and the peer links among them, or one host's
// neighbourhood, each with a force-directed layout computed here, so that
// the browser only draws (no layout in JavaScript, whose cost grows with
// the square of the nodes on a phone).
//
// The layout is Fruchterman-Reingold: deterministic (fixed starting
// points on a sunflower spiral and a fixed order of the forces: the same
// links give the same picture), finite, and with no two nodes on the same
// point. The top graph is computed once for the largest n (Options.
// MaxNodes) and kept for Options.Refresh, so a smaller n is a cut of the
// same picture: a node keeps its place when the reader changes n. The ego
// view is computed per request (a few hundred nodes at most).
package graph

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/fedilens/fedilens/internal/stats"
)

// Source is what the graph reads: *stats.Stats.
type Source interface {
	TopLinks(ctx context.Context, q stats.Query, n int) (stats.LinkGraph, error)
	EgoLinks(ctx context.Context, q stats.Query, host string, n int) (stats.LinkGraph, error)
}

// ErrTooManyNodes is wrapped by the error of a request for more nodes than
// Options.MaxNodes (or fewer than one). It also wraps stats.ErrBadQuery,
// so an API answers it like any bad parameter.
var ErrTooManyNodes = fmt.Errorf("%w: graph size out of range", stats.ErrBadQuery)

// Defaults of Options.
const (
	DefaultRefresh    = 10 * time.Minute // the rollup's period
	DefaultIterations = 300
)

// Options configures Graphs.
type Options struct {
	// MaxNodes bounds n (default and at most stats.MaxGraphNodes): the
	// layout costs O(n²) per iteration.
	MaxNodes int
	// Refresh is how long a computed top graph is served before the next
	// request computes it again (default DefaultRefresh: the links change
	// once a day, the rollup runs every ten minutes). Graphs.Refresh
	// recomputes it at once.
	Refresh time.Duration
	// Iterations of the layout (default DefaultIterations).
	Iterations int
	// Query selects the day and the listing hosts (default: the latest
	// day, flagged instances left out).
	Query stats.Query
	// Logger receives the layout timings at debug level. Nil discards.
	Logger *slog.Logger
	// Now is the clock of the refresh (default time.Now).
	Now func() time.Time
}

// Node is a host of the graph at its place.
type Node struct {
	Host     string `json:"host"`
	Software string `json:"software,omitempty"`
	// Users are its accounts (nil when unknown: not in the day's census).
	Users *int64 `json:"users"`
	// Degree is its in-degree: how many listing hosts list it that day.
	Degree int64 `json:"degree"`
	// OutDegree is the size of its own peer list (nil: none read).
	OutDegree *int64 `json:"out_degree"`
	// X and Y are in [0, 1], the larger extent of the picture spanning it.
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// Edge says that Source lists Target as a peer (host names).
type Edge struct {
	Source string `json:"source"`
	Target string `json:"target"`
}

// Graph is a laid-out graph of Day's links.
type Graph struct {
	Day time.Time `json:"day"`
	// Computed is when the layout was computed.
	Computed time.Time `json:"computed"`
	Nodes    []Node    `json:"nodes"`
	Edges    []Edge    `json:"edges"`
}

// Graphs computes and caches graphs. It is safe for concurrent use.
type Graphs struct {
	src  Source
	opts Options
	log  *slog.Logger

	mu  sync.Mutex // held while the top graph is computed
	top *Graph
}

// New returns Graphs over src.
func New(src Source, opts Options) *Graphs {
	if opts.MaxNodes <= 0 || opts.MaxNodes > stats.MaxGraphNodes {
		opts.MaxNodes = stats.MaxGraphNodes
	}
	if opts.Refresh <= 0 {
		opts.Refresh = DefaultRefresh
	}
	if opts.Iterations <= 0 {
		opts.Iterations = DefaultIterations
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Graphs{src: src, opts: opts, log: log}
}

// MaxNodes is the largest n Top and Around accept.
func (g *Graphs) MaxNodes() int { return g.opts.MaxNodes }

// Top returns the n most-peered hosts and the links among them, laid out.
// The layout is that of the MaxNodes most-peered hosts, computed at most
// once per Options.Refresh.
func (g *Graphs) Top(ctx context.Context, n int) (Graph, error) {
	if err := g.checkN(n); err != nil {
		return Graph{}, err
	}
	full, err := g.topGraph(ctx, false)
	if err != nil {
		return Graph{}, err
	}
	return cut(full, n), nil
}

// Refresh computes the top graph again now.
func (g *Graphs) Refresh(ctx context.Context) error {
	_, err := g.topGraph(ctx, true)
	return err
}

// Around returns host, up to n of its neighbours (stats.EgoLinks: the
// hosts it lists and those listing it) and the links among them, laid
// out. It wraps model.ErrNotFound for a host without links or census row.
func (g *Graphs) Around(ctx context.Context, host string, n int) (Graph, error) {
	if err := g.checkN(n); err != nil {
		return Graph{}, err
	}
	lg, err := g.src.EgoLinks(ctx, g.opts.Query, host, n)
	if err != nil {
		return Graph{}, fmt.Errorf("build the graph around %q: %w", host, err)
	}
	return g.layout(lg), nil
}

func (g *Graphs) checkN(n int) error {
	if n < 1 || n > g.opts.MaxNodes {
		return fmt.Errorf("%w: n must be between 1 and %d", ErrTooManyNodes, g.opts.MaxNodes)
	}
	return nil
}

// topGraph returns the cached top graph, computing it when it is missing,
// older than Refresh, or force is set. Concurrent callers wait for one
// computation.
func (g *Graphs) topGraph(ctx context.Context, force bool) (*Graph, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !force && g.top != nil && g.opts.Now().Sub(g.top.Computed) < g.opts.Refresh {
		return g.top, nil
	}
	lg, err := g.src.TopLinks(ctx, g.opts.Query, g.opts.MaxNodes)
	if err != nil {
		return nil, fmt.Errorf("build the top graph: %w", err)
	}
	top := g.layout(lg)
	g.top = &top
	return g.top, nil
}

// cut keeps the first n nodes of full (the most peered) and the edges
// among them, at their places in full.
func cut(full *Graph, n int) Graph {
	out := Graph{Day: full.Day, Computed: full.Computed, Nodes: full.Nodes, Edges: []Edge{}}
	if len(out.Nodes) > n {
		out.Nodes = out.Nodes[:n]
	}
	out.Nodes = append([]Node(nil), out.Nodes...)
	keep := make(map[string]bool, len(out.Nodes))
	for _, nd := range out.Nodes {
		keep[nd.Host] = true
	}
	for _, e := range full.Edges {
		if keep[e.Source] && keep[e.Target] {
			out.Edges = append(out.Edges, e)
		}
	}
	return out
}

// layout places the nodes of lg.
func (g *Graphs) layout(lg stats.LinkGraph) Graph {
	began := g.opts.Now()
	out := Graph{Day: lg.Day, Nodes: make([]Node, len(lg.Nodes)), Edges: make([]Edge, 0, len(lg.Edges))}
	index := make(map[string]int, len(lg.Nodes))
	for i, n := range lg.Nodes {
		out.Nodes[i] = Node{Host: n.Host, Software: n.Software, Users: n.Accounts, Degree: n.InDegree, OutDegree: n.OutDegree}
		index[n.Host] = i
	}
	var pairs [][2]int
	for _, e := range lg.Edges {
		a, okA := index[e.Source]
		b, okB := index[e.Target]
		if !okA || !okB || a == b {
			continue
		}
		out.Edges = append(out.Edges, Edge{Source: e.Source, Target: e.Target})
		pairs = append(pairs, [2]int{a, b})
	}
	xs, ys := Layout(len(out.Nodes), pairs, iterationsFor(len(out.Nodes), g.opts.Iterations))
	for i := range out.Nodes {
		out.Nodes[i].X, out.Nodes[i].Y = xs[i], ys[i]
	}
	out.Computed = g.opts.Now()
	g.log.Debug("graph laid out", "nodes", len(out.Nodes), "edges", len(out.Edges), "took", out.Computed.Sub(began))
	return out
}

// layoutBudget bounds the node pairs one layout evaluates (about 10 ns
// each): 20 million, a fifth of a second, so that an ego view of
// MaxNodes costs a request no more.
const layoutBudget = 20_000_000

// iterationsFor is the number of iterations for n nodes: want, or fewer
// so that the layout stays within layoutBudget (at least 50, which is
// where Fruchterman-Reingold's picture has settled for a few hundred
// nodes).
func iterationsFor(n, want int) int {
	pairs := max(n*(n-1)/2, 1)
	return max(min(want, layoutBudget/pairs), min(want, 50))
}

// Layout places n nodes joined by edges (pairs of node indexes; a link
// listed both ways pulls twice) with iterations rounds of
// Fruchterman-Reingold, and returns coordinates in [0, 1] (the larger
// extent spanning it, the picture centred). Node i starts at the i-th
// point of a sunflower spiral, so the first nodes (the most peered, in
// Top) start in the middle; the result depends on n, the edges and their
// order only. No two nodes end on the same point, and every coordinate is
// finite: a step is at most the temperature (0.1, cooling to 0) and a
// distance is never below 1e-9.
func Layout(n int, edges [][2]int, iterations int) (xs, ys []float64) {
	xs, ys = make([]float64, n), make([]float64, n)
	if n == 0 {
		return xs, ys
	}
	if n == 1 {
		xs[0], ys[0] = 0.5, 0.5
		return xs, ys
	}
	golden := math.Pi * (3 - math.Sqrt(5))
	for i := range n {
		r := 0.5 * math.Sqrt((float64(i)+0.5)/float64(n))
		xs[i], ys[i] = r*math.Cos(float64(i)*golden), r*math.Sin(float64(i)*golden)
	}
	k := math.Sqrt(1 / float64(n)) // the ideal distance in a unit square
	k2 := k * k
	const floor = 1e-9
	dx, dy := make([]float64, n), make([]float64, n)
	temp := 0.1
	for it := range iterations {
		clear(dx)
		clear(dy)
		for i := range n {
			xi, yi := xs[i], ys[i]
			var sx, sy float64
			for j := i + 1; j < n; j++ {
				// The repulsion k²/d along the unit vector v/d is v·k²/d²:
				// no square root in the O(n²) loop.
				vx, vy := xi-xs[j], yi-ys[j]
				f := k2 / math.Max(vx*vx+vy*vy, floor*floor)
				sx += vx * f
				sy += vy * f
				dx[j] -= vx * f
				dy[j] -= vy * f
			}
			dx[i] += sx
			dy[i] += sy
		}
		for _, e := range edges {
			a, b := e[0], e[1]
			vx, vy := xs[a]-xs[b], ys[a]-ys[b]
			d := math.Max(math.Sqrt(vx*vx+vy*vy), floor)
			f := d / k
			dx[a] -= vx * f
			dy[a] -= vy * f
			dx[b] += vx * f
			dy[b] += vy * f
		}
		for i := range n {
			// Gravity keeps components that share no link together.
			dx[i] -= xs[i] * 4 * k
			dy[i] -= ys[i] * 4 * k
			d := math.Max(math.Sqrt(dx[i]*dx[i]+dy[i]*dy[i]), floor)
			step := math.Min(d, temp)
			xs[i] += dx[i] / d * step
			ys[i] += dy[i] / d * step
		}
		temp = 0.1 * (1 - float64(it+1)/float64(iterations+1))
	}
	normalise(xs, ys)
	separate(xs, ys)
	return xs, ys
}

// normalise centres the picture and scales its larger extent to [0, 1].
func normalise(xs, ys []float64) {
	minX, maxX, minY, maxY := xs[0], xs[0], ys[0], ys[0]
	for i := range xs {
		minX, maxX = math.Min(minX, xs[i]), math.Max(maxX, xs[i])
		minY, maxY = math.Min(minY, ys[i]), math.Max(maxY, ys[i])
	}
	span := math.Max(maxX-minX, maxY-minY)
	if span <= 0 || math.IsNaN(span) || math.IsInf(span, 0) {
		span = 1
	}
	offX, offY := (span-(maxX-minX))/2, (span-(maxY-minY))/2
	for i := range xs {
		xs[i] = (xs[i] - minX + offX) / span
		ys[i] = (ys[i] - minY + offY) / span
	}
}

// separate moves a node that shares its point with an earlier one by a
// small step along the spiral, until every point is distinct. Rounding
// can make two nodes meet only in pathological inputs; a browser could
// not tell them apart.
func separate(xs, ys []float64) {
	seen := make(map[[2]float64]bool, len(xs))
	for i := range xs {
		for k := 1; seen[[2]float64{xs[i], ys[i]}]; k++ {
			a := float64(k) * 2.399963
			xs[i] = math.Min(1, math.Max(0, xs[i]+1e-6*math.Cos(a)*float64(k)))
			ys[i] = math.Min(1, math.Max(0, ys[i]+1e-6*math.Sin(a)*float64(k)))
		}
		seen[[2]float64{xs[i], ys[i]}] = true
	}
}
