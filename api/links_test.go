package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/chtest"
	"github.com/fedilens/fedilens/internal/fedisim"
	"github.com/fedilens/fedilens/internal/graph"
	"github.com/fedilens/fedilens/internal/hostname"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/observtest"
	"github.com/fedilens/fedilens/internal/stats"
)

// testLinks checks the federation endpoints over the crawled history:
// the answers are internal/stats's (and internal/graph's), they match the
// OpenAPI document, agree with the simulator's truth where it is simple
// to tell, and bad parameters are clear 400s.
func (c *census) testLinks(t *testing.T) {
	ctx := context.Background()
	days := c.hist.Days
	date := func(i int) string { return days[i].Date.Format(time.DateOnly) }

	t.Run("equal internal/stats", func(t *testing.T) {
		queries := []string{
			"",
			"software=mastodon,misskey",
			"to=" + date(len(days)/2),
			"include_flagged=true",
			"language=en",
			"to=2000-01-01",
		}
		type endpoint struct {
			route, path string
			want        func(q stats.Query) (any, error)
		}
		endpoints := []endpoint{
			{RouteDegrees, "/api/v1/stats/degrees", func(q stats.Query) (any, error) { return c.stats.Degrees(ctx, q) }},
			{RouteMostPeered, "/api/v1/stats/most-peered", func(q stats.Query) (any, error) { return c.stats.MostPeered(ctx, q, DefaultTopN) }},
			{RouteMostPeered, "/api/v1/stats/most-peered?n=3", func(q stats.Query) (any, error) { return c.stats.MostPeered(ctx, q, 3) }},
			{RouteMostBlocked, "/api/v1/stats/most-blocked?n=1000", func(q stats.Query) (any, error) { return c.stats.MostBlocked(ctx, q, 1000) }},
			{RouteBlockReasons, "/api/v1/stats/block-reasons?n=5", func(q stats.Query) (any, error) { return c.stats.BlockReasons(ctx, q, 5) }},
			{RouteThreads, "/api/v1/stats/threads", func(q stats.Query) (any, error) { return c.stats.Threads(ctx, q, nil) }},
			{RouteThreads, "/api/v1/stats/threads?platform=Threads.NET.&interval=week", func(q stats.Query) (any, error) {
				q.Interval = stats.Week
				return c.stats.Threads(ctx, q, []string{fedisim.ThreadsDomain})
			}},
		}
		for i, raw := range queries {
			v, err := url.ParseQuery(raw)
			require.NoError(t, err)
			q, err := stats.ParseQuery(v)
			require.NoError(t, err)
			for _, e := range endpoints {
				if e.route == RouteThreads && i >= 3 {
					continue // the Threads view reads every day: a fifth of a second a call
				}
				path := e.path + sep(e.path) + raw
				t.Run(path, func(t *testing.T) {
					want, err := e.want(q)
					require.NoError(t, err)
					require.JSONEq(t, mustJSON(t, want), string(c.get(t, e.route, path)))
				})
			}
		}
	})

	last := len(days) - 1
	clean := c.cleanCensus(last)
	t.Run("spot checks against the truth", func(t *testing.T) {
		// Out-degree: one value per clean instance whose peer list was read.
		var readers int64
		inDegree := map[string]int64{}
		for _, in := range clean {
			if !in.PeersReadable() || in.Software == "snac" {
				continue
			}
			readers++
			for _, p := range peerSet(&in) {
				inDegree[p]++
			}
		}
		require.Positive(t, readers)
		var deg stats.Degrees
		require.NoError(t, json.Unmarshal(c.get(t, RouteDegrees, "/api/v1/stats/degrees"), &deg))
		require.Equal(t, days[last].Date, deg.Day.UTC())
		require.Equal(t, readers, deg.Out.Instances)
		require.EqualValues(t, len(inDegree), deg.In.Instances, "every listed host once")

		var top stats.MostPeeredHosts
		require.NoError(t, json.Unmarshal(c.get(t, RouteMostPeered, "/api/v1/stats/most-peered?n=5"), &top))
		require.Len(t, top.Hosts, 5)
		for _, h := range top.Hosts {
			require.Equal(t, inDegree[h.Host], h.InDegree, h.Host)
			in, ok := days[last].Census[h.Host]
			require.Equal(t, ok && !suspect(in), h.Known, h.Host)
			if h.Known {
				require.Equal(t, in.Software, h.Software, h.Host)
				require.Equal(t, in.UsersTotal, h.Accounts, h.Host)
			}
		}

		// The Threads view puts every instance in exactly one category.
		var view stats.ThreadsView
		require.NoError(t, json.Unmarshal(c.get(t, RouteThreads, "/api/v1/stats/threads"), &view))
		require.Equal(t, stats.DefaultWatchedDomains, view.Domains)
		for _, at := range view.At {
			require.EqualValues(t, len(clean), at.All.Total().Instances, at.Domain)
			var federate int64
			for _, in := range clean {
				if slices.Contains(peerSet(&in), at.Domain) {
					federate++
				}
			}
			// An instance listing the domain federates unless its
			// public block list restricts it.
			require.LessOrEqual(t, at.All.Federate.Instances, federate, at.Domain)
		}
		threads := view.At[slices.Index(view.Domains, fedisim.ThreadsDomain)]
		require.Positive(t, threads.All.Suspend.Instances+threads.All.Limit.Instances, "some instances restrict threads.net")
		require.Positive(t, threads.All.Unknown.Instances, "some instances publish no block list")
		series := view.OverTime[slices.Index(view.Domains, fedisim.ThreadsDomain)]
		require.Len(t, series.Points, len(days))

		var reasons stats.BlockReasons
		require.NoError(t, json.Unmarshal(c.get(t, RouteBlockReasons, "/api/v1/stats/block-reasons"), &reasons))
		require.NotEmpty(t, reasons.Reasons)
		var blocked stats.MostBlockedDomains
		require.NoError(t, json.Unmarshal(c.get(t, RouteMostBlocked, "/api/v1/stats/most-blocked?n=1"), &blocked))
		require.Len(t, blocked.Domains, 1)
		var blockers int64
		for _, in := range clean {
			for _, b := range in.Blocks {
				if b.Domain == blocked.Domains[0].Domain && b.Severity != "noop" {
					blockers++
				}
			}
		}
		require.Positive(t, blocked.Domains[0].Blockers.Instances)
		require.LessOrEqual(t, blocked.Domains[0].Blockers.Instances, blockers, "only lists the crawler could read count")
	})

	t.Run("graph", func(t *testing.T) { c.testGraph(t, clean) })

	t.Run("bad parameters", func(t *testing.T) {
		for _, tc := range []struct {
			route, path string
			status      int
			msg         string
		}{
			{RouteMostPeered, "/api/v1/stats/most-peered?n=0", 400, "n must be an integer between 1 and 1000"},
			{RouteMostPeered, "/api/v1/stats/most-peered?n=1001", 400, "n must be an integer between 1 and 1000"},
			{RouteMostBlocked, "/api/v1/stats/most-blocked?n=99999999999999999999", 400, "n must be an integer between 1 and 1000"},
			{RouteBlockReasons, "/api/v1/stats/block-reasons?n=-3", 400, "n must be an integer between 1 and 1000"},
			{RouteBlockReasons, "/api/v1/stats/block-reasons?n=ten", 400, "n must be an integer between 1 and 1000"},
			{RouteDegrees, "/api/v1/stats/degrees?to=2026-02-30", 400, "bad statistics query: to must be a date such as 2026-01-31"},
			{RouteMostPeered, "/api/v1/stats/most-peered?software=%3Cscript%3E", 400, "bad statistics query: software must be a program's NodeInfo name (letters, digits, '-', '_', '.')"},
			{RouteThreads, "/api/v1/stats/threads?interval=year", 400, `bad statistics query: interval must be "day", "week" or "month"`},
			{RouteThreads, "/api/v1/stats/threads?platform=evil.example", 400, "platform must be one of the watched platforms: threads.net, bsky.brid.gy"},
			{RouteThreads, "/api/v1/stats/threads?platform=threads.net,%3Cx%3E", 400, "platform must be one of the watched platforms: threads.net, bsky.brid.gy"},
			{RouteGraph, "/api/v1/graph?top=0", 400, "top must be an integer between 1 and 500"},
			{RouteGraph, "/api/v1/graph?top=501", 400, "top must be an integer between 1 and 500"},
			{RouteGraph, "/api/v1/graph?top=0&include_flagged=true&to=" + date(2), 400, "top must be an integer between 1 and 500"},
			{RouteGraph, "/api/v1/graph?around=a.example&n=100000", 400, "n must be an integer between 1 and 500"},
			{RouteGraph, "/api/v1/graph?around=a.example&top=5", 400, "give top or around, not both"},
			{RouteGraph, "/api/v1/graph?n=5", 400, "n goes with around; the top graph's size is top"},
			{RouteGraph, "/api/v1/graph?around=a%20b", 400, "invalid host"},
			{RouteGraph, "/api/v1/graph?language=%27", 400, "bad statistics query: language must be a language tag such as en or pt-br"},
			{RouteGraph, "/api/v1/graph?around=nowhere.example", 404, "unknown instance"},
			{RouteGraph, "/api/v1/graph?around=nowhere.example&include_flagged=true", 404, "unknown instance"},
			{RouteTopPostLinks, "/api/v1/stats/post-links?n=0", 400, "n must be an integer between 1 and 1000"},
			{RouteTopPostLinks, "/api/v1/stats/post-links?from=tomorrow", 400, "bad statistics query: from must be a date such as 2026-01-31"},
			{RoutePostLinks, "/api/v1/instances/nowhere.example/post-links", 404, "unknown instance"},
			{RoutePostLinks, "/api/v1/instances/a%3Cb/post-links", 400, "invalid host"},
			{RoutePostLinks, "/api/v1/instances/a.example/post-links?to=2026-1-1", 400, "bad statistics query: to must be a date such as 2026-01-31"},
		} {
			t.Run(tc.path, func(t *testing.T) {
				require.Equal(t, tc.msg, c.failing(t, tc.route, tc.path, tc.status))
			})
		}
	})

	t.Run("headers", func(t *testing.T) {
		for _, path := range []string{"/api/v1/stats/degrees", "/api/v1/stats/most-peered", "/api/v1/stats/most-blocked",
			"/api/v1/stats/block-reasons", "/api/v1/stats/threads", "/api/v1/graph?top=10", "/api/v1/stats/post-links"} {
			resp, body := get(t, c.srv, path, nil)
			require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", path, body)
			require.Equal(t, "*", resp.Header.Get("Access-Control-Allow-Origin"), path)
			require.Equal(t, "public, max-age=60", resp.Header.Get("Cache-Control"), path)
			require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), path)
			etag := resp.Header.Get("ETag")
			require.NotEmpty(t, etag, path)
			resp, body = get(t, c.srv, path, http.Header{"If-None-Match": {etag}})
			require.Equal(t, http.StatusNotModified, resp.StatusCode, path)
			require.Empty(t, body, path)
		}
		resp, _ := get(t, c.srv, "/api/v1/stats/most-peered?n=0", nil)
		require.Equal(t, "no-store", resp.Header.Get("Cache-Control"), "errors are not cached")
		require.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
	})

	t.Run("rate limited", func(t *testing.T) {
		mux := http.NewServeMux()
		now := time.Now()
		New(Options{Store: c.st, Stats: c.stats, Graph: c.graphs, ReadPerSecond: 1, ReadBurst: 2,
			Now: func() time.Time { return now }}).Register(mux)
		for _, path := range []string{"/api/v1/stats/threads", "/api/v1/graph", "/api/v1/instances/a.example/post-links"} {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			req.RemoteAddr = "192.0.2.9:1"
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			if path == "/api/v1/instances/a.example/post-links" {
				require.Equal(t, http.StatusTooManyRequests, rec.Code, rec.Body.String())
				require.Equal(t, "1", rec.Header().Get("Retry-After"))
				c.validate(t, RoutePostLinks, http.StatusTooManyRequests, rec.Body.Bytes())
			} else {
				require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			}
		}
	})

	t.Run("timings", func(t *testing.T) { c.timeLinks(t) })
}

// sep is what joins more parameters to path.
func sep(path string) string {
	if strings.Contains(path, "?") {
		return "&"
	}
	return "?"
}

// cleanCensus is day i's census without the instances whose figures the
// default queries leave out.
func (c *census) cleanCensus(i int) []fedisim.InstanceTruth {
	var out []fedisim.InstanceTruth
	for _, in := range c.hist.Days[i].Census {
		if !suspect(in) {
			out = append(out, in)
		}
	}
	return out
}

// peerSet is the peer set the crawler keeps of in's served list.
func peerSet(in *fedisim.InstanceTruth) []string {
	var out []string
	for _, r := range observtest.ReadablePeers(in) {
		h, err := hostname.Normalize(r)
		if err != nil || h == in.Host || strings.Contains(h, ":") || slices.Contains(out, h) {
			continue
		}
		out = append(out, h)
	}
	return out
}

// withoutComputed is a graph's JSON without the time of its layout,
// which differs between two computations of the same picture.
func withoutComputed(t *testing.T, b []byte) string {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	require.Contains(t, m, "computed")
	delete(m, "computed")
	return mustJSON(t, m)
}

func (c *census) testGraph(t *testing.T, clean []fedisim.InstanceTruth) {
	ctx := context.Background()
	full, err := c.graphs.Top(ctx, c.graphs.MaxNodes())
	require.NoError(t, err)
	require.NotEmpty(t, full.Edges)

	t.Run("top", func(t *testing.T) {
		for _, n := range []int{DefaultGraphNodes, 1, 7, 500} {
			path := fmt.Sprintf("/api/v1/graph?top=%d", n)
			if n == DefaultGraphNodes {
				path = "/api/v1/graph"
			}
			want, err := c.graphs.Top(ctx, n)
			require.NoError(t, err)
			body := c.get(t, RouteGraph, path)
			require.JSONEq(t, mustJSON(t, want), string(body), path)
			var got graph.Graph
			require.NoError(t, json.Unmarshal(body, &got))
			require.Len(t, got.Nodes, min(n, len(full.Nodes)))
			for i, nd := range got.Nodes {
				require.Equal(t, full.Nodes[i], nd, "a node keeps its place in every cut")
			}
		}
	})

	t.Run("top matches the truth", func(t *testing.T) {
		inDegree := map[string]int64{}
		for _, in := range clean {
			if in.PeersReadable() && in.Software != "snac" {
				for _, p := range peerSet(&in) {
					inDegree[p]++
				}
			}
		}
		var g graph.Graph
		require.NoError(t, json.Unmarshal(c.get(t, RouteGraph, "/api/v1/graph?top=10"), &g))
		byHost := map[string]fedisim.InstanceTruth{}
		for _, in := range clean {
			byHost[in.Host] = in
		}
		members := map[string]bool{}
		for _, nd := range g.Nodes {
			members[nd.Host] = true
			require.Equal(t, inDegree[nd.Host], nd.Degree, nd.Host)
			require.True(t, nd.X >= 0 && nd.X <= 1 && nd.Y >= 0 && nd.Y <= 1, nd.Host)
			if in, ok := byHost[nd.Host]; ok {
				require.Equal(t, in.Software, nd.Software, nd.Host)
				require.Equal(t, in.UsersTotal, nd.Users, nd.Host)
			}
		}
		// Every edge is a peer listed by a clean instance of the graph.
		var want []graph.Edge
		for _, in := range clean {
			if !members[in.Host] || !in.PeersReadable() || in.Software == "snac" {
				continue
			}
			for _, p := range peerSet(&in) {
				if members[p] {
					want = append(want, graph.Edge{Source: in.Host, Target: p})
				}
			}
		}
		require.ElementsMatch(t, want, g.Edges)
	})

	t.Run("a day's graph ignores from and interval", func(t *testing.T) {
		want, err := c.graphs.Top(ctx, 5)
		require.NoError(t, err)
		require.JSONEq(t, mustJSON(t, want), string(c.get(t, RouteGraph, "/api/v1/graph?top=5&interval=month&from=2026-01-01")),
			"the cached layout, computed time and all")
	})

	t.Run("filtered", func(t *testing.T) {
		for _, raw := range []string{"top=12&include_flagged=true", "software=mastodon", "to=" + c.hist.Days[3].Date.Format(time.DateOnly)} {
			v, _ := url.ParseQuery(raw)
			q, err := stats.ParseQuery(v)
			require.NoError(t, err)
			n := DefaultGraphNodes
			if v.Has("top") {
				n = 12
			}
			want, err := graph.New(c.stats, graph.Options{Query: q, MaxNodes: n}).Top(ctx, n)
			require.NoError(t, err)
			require.Equal(t, withoutComputed(t, []byte(mustJSON(t, want))), withoutComputed(t, c.get(t, RouteGraph, "/api/v1/graph?"+raw)), raw)
		}
	})

	t.Run("around", func(t *testing.T) {
		host := full.Nodes[0].Host
		for _, raw := range []string{"", "&n=3", "&n=500", "&include_flagged=true&n=4"} {
			v, _ := url.ParseQuery(strings.TrimPrefix(raw, "&"))
			q, err := stats.ParseQuery(v)
			require.NoError(t, err)
			n := DefaultEgoNodes
			if v.Has("n") {
				n, err = strconv.Atoi(v.Get("n"))
				require.NoError(t, err)
			}
			g := c.graphs
			if len(q.Values()) > 0 {
				g = graph.New(c.stats, graph.Options{Query: q})
			}
			want, err := g.Around(ctx, host, n)
			require.NoError(t, err)
			body := c.get(t, RouteGraph, "/api/v1/graph?around="+strings.ToUpper(host)+raw)
			require.Equal(t, withoutComputed(t, []byte(mustJSON(t, want))), withoutComputed(t, body), raw)
			var got graph.Graph
			require.NoError(t, json.Unmarshal(body, &got))
			require.Equal(t, host, got.Nodes[0].Host, "the host is the first node")
			require.LessOrEqual(t, len(got.Nodes), n+1)
		}
	})
}

// timeLinks logs how long each endpoint takes beside the library call it
// makes (the better of two of each, on the test store): the API adds its
// parameter parsing and the JSON encoding only.
func (c *census) timeLinks(t *testing.T) {
	ctx := context.Background()
	best := func(f func()) time.Duration {
		var b time.Duration
		for i := range 2 {
			began := time.Now()
			f()
			if d := time.Since(began); i == 0 || d < b {
				b = d
			}
		}
		return b
	}
	q := stats.Query{}
	for _, tc := range []struct {
		path string
		lib  func() error
	}{
		{"/api/v1/stats/degrees", func() error { _, err := c.stats.Degrees(ctx, q); return err }},
		{"/api/v1/stats/most-peered", func() error { _, err := c.stats.MostPeered(ctx, q, DefaultTopN); return err }},
		{"/api/v1/stats/most-blocked", func() error { _, err := c.stats.MostBlocked(ctx, q, DefaultTopN); return err }},
		{"/api/v1/stats/block-reasons", func() error { _, err := c.stats.BlockReasons(ctx, q, DefaultTopN); return err }},
		{"/api/v1/stats/threads", func() error { _, err := c.stats.Threads(ctx, q, nil); return err }},
		{"/api/v1/graph", func() error { _, err := c.graphs.Top(ctx, DefaultGraphNodes); return err }},
		{"/api/v1/graph?software=mastodon", func() error {
			_, err := graph.New(c.stats, graph.Options{Query: stats.Query{Software: []string{"mastodon"}}, MaxNodes: DefaultGraphNodes}).Top(ctx, DefaultGraphNodes)
			return err
		}},
		{"/api/v1/stats/post-links", func() error { _, err := c.st.TopPostLinks(ctx, time.Time{}, time.Time{}, DefaultTopN); return err }},
	} {
		lib := best(func() { require.NoError(t, tc.lib()) })
		api := best(func() {
			resp, body := get(t, c.srv, tc.path, nil)
			require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
		})
		t.Logf("%-36s library %8s  API %8s", tc.path, lib.Round(10*time.Microsecond), api.Round(10*time.Microsecond))
	}
}

// TestPostLinksAPI serves the links made by stored posts from a real
// store: one instance's, and the top ones across instances.
func TestPostLinksAPI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := chtest.Store(t)
	day := func(d int) time.Time { return time.Date(2026, 10, d, 12, 0, 0, 0, time.UTC) }
	require.NoError(t, st.InsertSnapshots(ctx, []model.Snapshot{
		{Host: "a.example", CrawledAt: day(1), Software: "mastodon"},
		{Host: "quiet.example", CrawledAt: day(1), Software: "mastodon"},
	}))
	post := func(uri string, d int, mentions []string, reply string) model.Post {
		host := strings.Split(strings.TrimPrefix(uri, "https://"), "/")[0]
		return model.Post{URI: uri, Host: host, Author: "ann@" + host, Created: day(d), Mentions: mentions, ReplyHost: reply}
	}
	require.NoError(t, st.InsertPosts(ctx, []model.Post{
		post("https://a.example/1", 1, []string{"x@b.example", "y@B.example"}, "c.example"),
		post("https://a.example/2", 3, []string{"x@b.example", "ann@a.example"}, ""),
		post("https://a.example/3", 5, []string{hostileMention}, ""),
		post("https://b.example/1", 2, []string{"ann@a.example"}, "a.example"),
	}))
	require.NoError(t, st.InsertBoosts(ctx, []model.Boost{
		{URI: "https://a.example/b1", Host: "a.example", Author: "ann@a.example", Created: day(4), BoostedHost: "d.example", Source: model.SourceActivityPub},
	}))
	mux := http.NewServeMux()
	New(Options{Store: st, ReadPerSecond: -1}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c := &census{srv: srv}
	doc, err := openapi3.NewLoader().LoadFromData(OpenAPI("test"))
	require.NoError(t, err)
	c.doc = doc

	links := func(ls []model.PostLink) string {
		return mustJSON(t, postLinksOf(ls))
	}
	for _, to := range []string{"", "2026-10-03", "2026-10-01", "2026-09-30"} {
		t.Run("a.example to "+to, func(t *testing.T) {
			var at time.Time
			if to != "" {
				d, _ := time.Parse(time.DateOnly, to)
				at = d.Add(24*time.Hour - time.Second)
			}
			want, err := st.PostLinks(ctx, "a.example", at)
			require.NoError(t, err)
			if to == "" {
				require.GreaterOrEqual(t, len(want), 4, "mentions, a reply and a boost")
			}
			body := c.get(t, RoutePostLinks, "/api/v1/instances/A.example./post-links?to="+to)
			require.JSONEq(t, `{"host":"a.example","links":`+links(want)+`}`, string(body))
		})
	}
	var got postLinksJSON
	require.NoError(t, json.Unmarshal(c.get(t, RoutePostLinks, "/api/v1/instances/a.example/post-links?to=2026-10-01"), &got))
	require.Equal(t, []postLinkJSON{
		{Host: "a.example", Target: "b.example", Kind: model.PostLinkMention, Count: 1, FirstSeen: day(1), LastSeen: day(1)},
		{Host: "a.example", Target: "c.example", Kind: model.PostLinkReply, Count: 1, FirstSeen: day(1), LastSeen: day(1)},
	}, got.Links, "the day's own posts count; a post mentioning two accounts of one host counts once")

	require.JSONEq(t, `{"host":"quiet.example","links":[]}`, string(c.get(t, RoutePostLinks, "/api/v1/instances/quiet.example/post-links")),
		"an instance whose posts link nowhere")
	require.Equal(t, "unknown instance", c.failing(t, RoutePostLinks, "/api/v1/instances/nowhere.example/post-links", http.StatusNotFound))

	for _, tc := range []struct {
		params   string
		from, to time.Time
		n        int
	}{
		{"", time.Time{}, time.Time{}, DefaultTopN},
		{"n=1", time.Time{}, time.Time{}, 1},
		{"from=2026-10-02&to=2026-10-04&n=1000", day(2).Truncate(24 * time.Hour), day(4).Truncate(24 * time.Hour).Add(24*time.Hour - time.Second), 1000},
		{"to=2026-09-01", time.Time{}, time.Date(2026, 9, 1, 23, 59, 59, 0, time.UTC), DefaultTopN},
	} {
		t.Run("top "+tc.params, func(t *testing.T) {
			want, err := st.TopPostLinks(ctx, tc.from, tc.to, tc.n)
			require.NoError(t, err)
			require.JSONEq(t, `{"links":`+links(want)+`}`, string(c.get(t, RouteTopPostLinks, "/api/v1/stats/post-links?"+tc.params)))
		})
	}
	var top topPostLinksJSON
	require.NoError(t, json.Unmarshal(c.get(t, RouteTopPostLinks, "/api/v1/stats/post-links?n=1"), &top))
	require.Equal(t, []postLinkJSON{{Host: "a.example", Target: "b.example", Kind: model.PostLinkMention, Count: 2, FirstSeen: day(1), LastSeen: day(3)}}, top.Links)
}

// hostileMention is a mention whose host a hostile server made up: it
// must come back as inert JSON text, or not at all.
const hostileMention = `x@</script><b>.example`

// TestLinkEndpointsWithoutSources: a server without statistics, graph or
// post links answers those endpoints not_found in the error envelope.
func TestLinkEndpointsWithoutSources(t *testing.T) {
	srv := newServerWith(t, newFakeAPIStore())
	for _, path := range []string{"/api/v1/stats/degrees", "/api/v1/stats/most-peered", "/api/v1/stats/most-blocked",
		"/api/v1/stats/block-reasons", "/api/v1/stats/threads", "/api/v1/graph", "/api/v1/graph?around=a.example",
		"/api/v1/stats/post-links", "/api/v1/instances/a.example/post-links"} {
		resp, body := get(t, srv, path, nil)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, "%s: %s", path, body)
		var e errorBody
		require.NoError(t, json.Unmarshal(body, &e), path)
		require.Equal(t, codeNotFound, e.Error.Code, path)
	}
}

// TestWatchedDomains: the Threads view's platforms are the configured
// ones, normalised.
func TestWatchedDomains(t *testing.T) {
	require.Equal(t, stats.DefaultWatchedDomains, watchedDomains(nil))
	require.Equal(t, []string{"threads.net", "example.social"}, watchedDomains([]string{" Threads.NET. ", "", "example.social", "threads.net"}))
	a := New(Options{Store: newFakeAPIStore(), WatchedDomains: []string{"threads.net"}})
	got, err := a.platforms(url.Values{ParamPlatform: {"THREADS.net"}})
	require.NoError(t, err)
	require.Equal(t, []string{"threads.net"}, got)
	_, err = a.platforms(url.Values{ParamPlatform: {"bsky.brid.gy"}})
	require.EqualError(t, err, "bad_request: platform must be one of the watched platforms: threads.net")
	got, err = a.platforms(url.Values{})
	require.NoError(t, err)
	require.Equal(t, []string{"threads.net"}, got)
}
