package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fedilens/fedilens/internal/graph"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/stats"
)

// LinkStats is the part of internal/stats behind the federation
// endpoints: peer degrees, the most-peered hosts, the most-blocked
// domains, block reasons and the Threads view, each at a date or over
// time selected by the common parameters (stats.ParseQuery). *stats.Stats
// satisfies it; when Options.Stats does not, those endpoints answer
// not_found.
type LinkStats interface {
	Degrees(ctx context.Context, q stats.Query) (stats.Degrees, error)
	MostPeered(ctx context.Context, q stats.Query, n int) (stats.MostPeeredHosts, error)
	MostBlocked(ctx context.Context, q stats.Query, n int) (stats.MostBlockedDomains, error)
	BlockReasons(ctx context.Context, q stats.Query, n int) (stats.BlockReasons, error)
	Threads(ctx context.Context, q stats.Query, domains []string) (stats.ThreadsView, error)
}

var _ LinkStats = (*stats.Stats)(nil)

// Graph is the laid-out federation graph the API serves: *graph.Graphs,
// which caches the top graph of its own query (the latest day, flagged
// instances left out), so that the common request costs no layout.
type Graph interface {
	Top(ctx context.Context, n int) (graph.Graph, error)
	Around(ctx context.Context, host string, n int) (graph.Graph, error)
	MaxNodes() int
}

var _ Graph = (*graph.Graphs)(nil)

// PostLinkStore reads the links the stored posts make between hosts
// (mentions, replies, boosts). *store.Store satisfies it; an Options.Store
// without it answers the post-links endpoints not_found.
type PostLinkStore interface {
	// PostLinks returns the links host's posts created at or before t
	// (zero: now) make, by target and kind.
	PostLinks(ctx context.Context, host string, t time.Time) ([]model.PostLink, error)
	// TopPostLinks returns the n links made by the most posts created
	// between from and to (zero: open), most first.
	TopPostLinks(ctx context.Context, from, to time.Time, n int) ([]model.PostLink, error)
}

// Routes of the federation statistics, the graph and the post links.
const (
	RouteDegrees      = "GET /api/v1/stats/degrees"
	RouteMostPeered   = "GET /api/v1/stats/most-peered"
	RouteMostBlocked  = "GET /api/v1/stats/most-blocked"
	RouteBlockReasons = "GET /api/v1/stats/block-reasons"
	RouteThreads      = "GET /api/v1/stats/threads"
	RouteTopPostLinks = "GET /api/v1/stats/post-links"
	RouteGraph        = "GET /api/v1/graph"
	RoutePostLinks    = "GET /api/v1/instances/{host}/post-links"
)

// Parameters and bounds of the federation endpoints. The top lists take n
// up to stats.MaxTop (what the store's daily summaries keep, so a
// ranking never falls back to counting every link); the graph takes up
// to its MaxNodes, whose layout is O(n²).
const (
	ParamN        = "n"
	ParamTop      = "top"
	ParamAround   = "around"
	ParamPlatform = "platform"

	DefaultTopN       = 20
	DefaultGraphNodes = 100
	DefaultEgoNodes   = 50
)

// registerLinkStats mounts the federation endpoints.
func (a *API) registerLinkStats(mux *http.ServeMux) {
	for _, r := range []struct {
		route string
		h     handlerFunc
	}{
		{RouteDegrees, a.linkRoute("peer degrees", func(ctx context.Context, s LinkStats, q stats.Query, _ url.Values) (any, error) {
			return s.Degrees(ctx, q)
		})},
		{RouteMostPeered, a.linkRoute("most-peered hosts", func(ctx context.Context, s LinkStats, q stats.Query, v url.Values) (any, error) {
			n, err := parseN(v, ParamN, DefaultTopN, stats.MaxTop)
			if err != nil {
				return nil, err
			}
			return s.MostPeered(ctx, q, n)
		})},
		{RouteMostBlocked, a.linkRoute("most-blocked domains", func(ctx context.Context, s LinkStats, q stats.Query, v url.Values) (any, error) {
			n, err := parseN(v, ParamN, DefaultTopN, stats.MaxTop)
			if err != nil {
				return nil, err
			}
			return s.MostBlocked(ctx, q, n)
		})},
		{RouteBlockReasons, a.linkRoute("block reasons", func(ctx context.Context, s LinkStats, q stats.Query, v url.Values) (any, error) {
			n, err := parseN(v, ParamN, DefaultTopN, stats.MaxTop)
			if err != nil {
				return nil, err
			}
			return s.BlockReasons(ctx, q, n)
		})},
		{RouteThreads, a.linkRoute("threads view", func(ctx context.Context, s LinkStats, q stats.Query, v url.Values) (any, error) {
			domains, err := a.platforms(v)
			if err != nil {
				return nil, err
			}
			return s.Threads(ctx, q, domains)
		})},
		{RouteGraph, a.graphRoute},
		{RoutePostLinks, a.postLinks},
		{RouteTopPostLinks, a.topPostLinks},
	} {
		mux.Handle(r.route, a.wrap(r.route, r.h))
	}
}

// linkRoute is the handler of one link statistic: the common parameters
// first (a malformed one is a 400), then f with the endpoint's own.
func (a *API) linkRoute(what string, f func(ctx context.Context, s LinkStats, q stats.Query, v url.Values) (any, error)) handlerFunc {
	return func(r *http.Request) (any, error) {
		q, s, err := a.statsQuery(r)
		if err != nil {
			return nil, err
		}
		ls, ok := s.(LinkStats)
		if !ok {
			return nil, notFound("federation statistics are not available on this server")
		}
		v, err := f(r.Context(), ls, q, r.URL.Query())
		if err != nil {
			return nil, fmt.Errorf("get %s: %w", what, err)
		}
		return v, nil
	}
}

// parseN reads a count parameter between 1 and limit (def when absent).
// Unlike a page size it is not capped: n=100000 asks for a ranking the
// server does not keep, and saying so beats a silently shorter answer.
func parseN(v url.Values, name string, def, limit int) (int, error) {
	s := strings.TrimSpace(v.Get(name))
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > limit {
		return 0, badRequest("%s must be an integer between 1 and %d", name, limit)
	}
	return n, nil
}

// platforms reads the watched domains the Threads view is asked for
// (platform, repeated or comma-separated): only the configured ones, whose
// daily summaries the rollup keeps (any other domain would be computed
// from every day's rows per request). None: all of them.
func (a *API) platforms(v url.Values) ([]string, error) {
	var out []string
	for _, raw := range v[ParamPlatform] {
		for _, d := range strings.Split(raw, ",") {
			d = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
			if d == "" || slices.Contains(out, d) {
				continue
			}
			if !slices.Contains(a.watched, d) {
				return nil, badRequest("%s must be one of the watched platforms: %s", ParamPlatform, strings.Join(a.watched, ", "))
			}
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		out = slices.Clone(a.watched)
	}
	return out, nil
}

// graphRoute serves the federation graph: the top N hosts by in-degree
// (?top=N) or one host's neighbourhood (?around=host&n=N), laid out. The
// default query is answered from the Graph's cache; any common parameter
// selects other listing hosts or another day, whose graph is computed
// for the request (of exactly the nodes asked for).
func (a *API) graphRoute(r *http.Request) (any, error) {
	if a.graph == nil {
		return nil, notFound("the federation graph is not available on this server")
	}
	q, s, err := a.statsQuery(r)
	if err != nil {
		return nil, err
	}
	v := r.URL.Query()
	around, top, n := strings.TrimSpace(v.Get(ParamAround)), v.Get(ParamTop), v.Get(ParamN)
	switch {
	case around != "" && top != "":
		return nil, badRequest("give %s or %s, not both", ParamTop, ParamAround)
	case around == "" && n != "":
		return nil, badRequest("%s goes with %s; the top graph's size is %s", ParamN, ParamAround, ParamTop)
	}
	g, limit := a.graph, a.graph.MaxNodes()
	var src graph.Source
	// A graph is of one day: from and interval change nothing, and must
	// not cost a layout per request.
	at := q
	at.From, at.Interval = time.Time{}, ""
	if len(at.Values()) > 0 {
		var ok bool
		if src, ok = s.(graph.Source); !ok {
			return nil, notFound("the filtered federation graph is not available on this server")
		}
	}
	if around == "" {
		size, err := parseN(v, ParamTop, min(DefaultGraphNodes, limit), limit)
		if err != nil {
			return nil, err
		}
		if src != nil {
			g = graph.New(src, graph.Options{Query: at, MaxNodes: size, Logger: a.log})
		}
		out, err := g.Top(r.Context(), size)
		if err != nil {
			return nil, fmt.Errorf("get the federation graph: %w", err)
		}
		return graphJSON(out), nil
	}
	if src != nil {
		g = graph.New(src, graph.Options{Query: at, MaxNodes: limit, Logger: a.log})
	}
	host, err := normaliseHost(around)
	if err != nil {
		return nil, err
	}
	size, err := parseN(v, ParamN, min(DefaultEgoNodes, limit), limit)
	if err != nil {
		return nil, err
	}
	out, err := g.Around(r.Context(), host, size)
	if errors.Is(err, model.ErrNotFound) {
		return nil, notFound("unknown instance")
	}
	if err != nil {
		return nil, fmt.Errorf("get the federation graph around %s: %w", host, err)
	}
	return graphJSON(out), nil
}

// graphJSON makes a graph's missing nodes and edges empty lists: the
// answers are arrays, never null (an empty top graph has nil nodes).
func graphJSON(g graph.Graph) graph.Graph {
	if g.Nodes == nil {
		g.Nodes = []graph.Node{}
	}
	if g.Edges == nil {
		g.Edges = []graph.Edge{}
	}
	return g
}

// postLinkJSON is one link made by stored posts: Count posts (boosts) of
// Host's consenting authors mention accounts of Target, answer its posts
// or boost them (Kind), created between FirstSeen and LastSeen.
type postLinkJSON struct {
	Host      string    `json:"host"`
	Target    string    `json:"target"`
	Kind      string    `json:"kind" doc:"mention, reply or boost"`
	Count     int64     `json:"count"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// postLinksJSON is the answer of RoutePostLinks: the links of one host,
// by target, then kind.
type postLinksJSON struct {
	Host  string         `json:"host"`
	Links []postLinkJSON `json:"links"`
}

// topPostLinksJSON is the answer of RouteTopPostLinks, most posts first.
type topPostLinksJSON struct {
	Links []postLinkJSON `json:"links"`
}

func postLinksOf(ls []model.PostLink) []postLinkJSON {
	out := make([]postLinkJSON, 0, len(ls))
	for _, l := range ls {
		out = append(out, postLinkJSON{Host: l.Host, Target: l.Target, Kind: l.Kind, Count: l.Count,
			FirstSeen: l.FirstSeen.UTC(), LastSeen: l.LastSeen.UTC()})
	}
	return out
}

// endOfDay is the last second of d's UTC day (zero stays zero: now): the
// store's bounds are inclusive and in seconds.
func endOfDay(d time.Time) time.Time {
	if d.IsZero() {
		return d
	}
	y, m, dd := d.UTC().Date()
	return time.Date(y, m, dd+1, 0, 0, 0, 0, time.UTC).Add(-time.Second)
}

// postLinkStore returns the store's post-link reader and the common
// parameters.
func (a *API) postLinkStore(r *http.Request) (PostLinkStore, stats.Query, error) {
	ps, ok := a.store.(PostLinkStore)
	if !ok {
		return nil, stats.Query{}, notFound("post links are not available on this server")
	}
	q, err := stats.ParseQuery(r.URL.Query())
	if err != nil {
		return nil, stats.Query{}, badRequest("%s", truncate(err.Error(), maxMessageLen))
	}
	return ps, q, nil
}

// postLinks serves the hosts one instance's stored posts link to, as of
// the end of to's day (default: now). An instance without a snapshot is
// not_found; one whose posts make no link, an empty list.
func (a *API) postLinks(r *http.Request) (any, error) {
	ps, q, err := a.postLinkStore(r)
	if err != nil {
		return nil, err
	}
	host, err := normaliseHost(r.PathValue("host"))
	if err != nil {
		return nil, err
	}
	ls, err := ps.PostLinks(r.Context(), host, endOfDay(q.To))
	if err != nil {
		return nil, fmt.Errorf("get post links: %w", err)
	}
	if len(ls) == 0 {
		// Only an empty answer pays for telling unknown from quiet.
		if _, err := a.store.InstanceLinkCounts(r.Context(), host); errors.Is(err, model.ErrNotFound) {
			return nil, notFound("unknown instance")
		} else if err != nil {
			return nil, fmt.Errorf("get post links: %w", err)
		}
	}
	return postLinksJSON{Host: host, Links: postLinksOf(ls)}, nil
}

// topPostLinks serves the links made by the most stored posts created
// from from's day through to's day (default: all).
func (a *API) topPostLinks(r *http.Request) (any, error) {
	ps, q, err := a.postLinkStore(r)
	if err != nil {
		return nil, err
	}
	n, err := parseN(r.URL.Query(), ParamN, DefaultTopN, stats.MaxTop)
	if err != nil {
		return nil, err
	}
	ls, err := ps.TopPostLinks(r.Context(), q.From, endOfDay(q.To), n)
	if err != nil {
		return nil, fmt.Errorf("rank post links: %w", err)
	}
	return topPostLinksJSON{Links: postLinksOf(ls)}, nil
}

// watchedDomains normalises Options.WatchedDomains (lower case, without
// a trailing dot, de-duplicated); none gives stats.DefaultWatchedDomains.
func watchedDomains(in []string) []string {
	var out []string
	for _, d := range in {
		d = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
		if d != "" && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		out = slices.Clone(stats.DefaultWatchedDomains)
	}
	return out
}
