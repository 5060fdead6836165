package dashboard

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/graph"
	"github.com/fedilens/fedilens/internal/stats"
)

// graphNodes returns the nodes of the graph chart's series.
func graphNodes(t *testing.T, option map[string]any) []map[string]any {
	t.Helper()
	series, ok := option["series"].([]any)
	require.True(t, ok)
	require.Len(t, series, 1)
	s := series[0].(map[string]any)
	require.Equal(t, "graph", s["type"])
	require.Equal(t, "none", s["layout"], "the browser computes no layout")
	var out []map[string]any
	for _, n := range s["data"].([]any) {
		out = append(out, n.(map[string]any))
	}
	return out
}

// testGraphPage: /graph draws the laid-out graph of internal/graph (top
// and ego view), lists its hosts, links its API query, escapes the remote
// software names in the table, the legend and the tooltips, and answers
// bad parameters with a 400 page.
func testGraphPage(t *testing.T, o *observatory) {
	ctx := context.Background()

	t.Run("top", func(t *testing.T) {
		want, err := o.graphs.Top(ctx, defaultGraphTop)
		require.NoError(t, err)
		require.NotEmpty(t, want.Nodes)
		resp, body := get(t, o.srv, "/graph")
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		mustContain(t, body, `<a href="/graph" aria-current="page">Graph</a>`)
		mustContain(t, body, "<h1>Federation graph</h1>")
		require.Equal(t, []string{"/api/v1/graph?top=100"}, apiLinks(t, body))
		rows := tableRows(t, body, "graph-table")
		require.Len(t, rows, len(want.Nodes))
		for i, n := range want.Nodes {
			require.Equal(t, n.Host, rows[i][0])
			require.Equal(t, formatNum(n.Degree), rows[i][3])
		}
		nodes := graphNodes(t, chartOptions(t, body)["graph-chart"])
		require.Len(t, nodes, len(want.Nodes))
		for i, n := range want.Nodes {
			require.Equal(t, n.Host, nodes[i]["name"])
			require.InDelta(t, 10+1000*n.X, nodes[i]["x"], 0.01, "the layout's place")
			require.InDelta(t, 10+1000*n.Y, nodes[i]["y"], 0.01, "the layout's place")
		}
		require.NotContains(t, body, `"force"`)
	})

	t.Run("ego view with the hostile software", func(t *testing.T) {
		want, err := o.graphs.Around(ctx, hostileHost, defaultGraphAround)
		require.NoError(t, err)
		resp, body := get(t, o.srv, "/graph?around="+hostileHost+"&size=users")
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		mustContain(t, body, "<h1>Federation graph around "+hostileHost+"</h1>")
		mustContain(t, body, `<input type="hidden" name="around" value="`+hostileHost+`">`)
		mustContain(t, body, `<option value="users" selected>Users</option>`)
		mustContain(t, body, `<a href="/graph?size=users" id="graph-top">`)
		require.Equal(t, []string{"/api/v1/graph?around=" + hostileHost + "&n=50"}, apiLinks(t, body))
		require.NotContains(t, body, "<img")
		mustContain(t, body, "<td>"+esc(hostileSoftware)+"</td>")
		rows := tableRows(t, body, "graph-table")
		var hosts []string
		for _, r := range rows {
			hosts = append(hosts, r[0])
		}
		require.Len(t, hosts, len(want.Nodes))
		require.Equal(t, hostileHost, hosts[0], "the host first")
		require.Contains(t, hosts, hostileSoftHost)
		require.Contains(t, hosts, o.normal)

		option := chartOptions(t, body)["graph-chart"]
		legend := option["legend"].(map[string]any)
		require.Equal(t, true, legend["show"])
		cats := option["series"].([]any)[0].(map[string]any)["categories"].([]any)
		var names []string
		for _, c := range cats {
			names = append(names, c.(map[string]any)["name"].(string))
		}
		require.Contains(t, names, hostileSoftware, "the legend names the software as data (drawn on the canvas)")
		var tip string
		for _, n := range graphNodes(t, option) {
			if n["name"] == hostileSoftHost {
				tip = n["tooltip"].(map[string]any)["formatter"].(string)
			}
		}
		require.Contains(t, tip, "Software: &lt;img src=x onerror=alert(2)&gt;", "the tooltip's HTML template holds the name escaped")
		require.NotContains(t, tip, "<img")
		for _, m := range regexp.MustCompile(`data-echarts-option="([^"]*)"`).FindAllStringSubmatch(body, -1) {
			require.NotContains(t, m[1], "<")
			require.NotContains(t, m[1], ">")
		}
	})

	t.Run("instance page links its ego view", func(t *testing.T) {
		_, body := get(t, o.srv, "/instances/"+o.normal)
		mustContain(t, body, `<a href="/graph?around=`+o.normal+`" id="graph-around">Federation graph around this instance</a>`)
		_, body = get(t, o.srv, "/graph?around="+o.normal)
		mustContain(t, body, "<h1>Federation graph around "+o.normal+"</h1>")
	})

	t.Run("graph sizes", func(t *testing.T) {
		_, body := get(t, o.srv, "/graph?top=3")
		require.Len(t, tableRows(t, body, "graph-table"), 3)
		require.Equal(t, []string{"/api/v1/graph?top=3"}, apiLinks(t, body))
		mustContain(t, body, `<a href="/graph?size=users&amp;top=3">size by users</a>`)
		_, body = get(t, o.srv, "/graph?around="+hostileHost+"&n=1")
		require.Len(t, tableRows(t, body, "graph-table"), 2, "the host and one neighbour")
	})

	for _, tc := range []struct {
		path    string
		status  int
		message string
	}{
		{"/graph?top=0", 400, "Invalid graph size: top must be a number from 1 to 500."},
		{"/graph?top=501", 400, "Invalid graph size: top must be a number from 1 to 500."},
		{"/graph?top=ten", 400, "Invalid graph size: top must be a number from 1 to 500."},
		{"/graph?around=" + hostileHost + "&n=-1", 400, "Invalid graph size: n must be a number from 1 to 500."},
		{"/graph?around=" + url.QueryEscape("<b>x</b>"), 400, "Invalid host: around must be a host name such as mastodon.social."},
		{"/graph?around=" + hostileHost + "&top=5", 400, "choose the top hosts or the hosts around one, not both."},
		{"/graph?n=5", 400, "Invalid graph: n counts the hosts around one"},
		{"/graph?size=posts", 400, "Invalid size: size the nodes by degree or users."},
		{"/graph?around=" + unknownLinked, 404, "fedilens knows no peer links of that instance"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, body := get(t, o.srv, tc.path)
			require.Equal(t, tc.status, resp.StatusCode, body)
			mustContain(t, body, tc.message)
			require.NotContains(t, body, "<b>x")
		})
	}
}

// testBlocksPage: /blocks shows the link statistics as internal/stats
// computes them, with the hostile reason and software escaped, the API
// query behind each chart, and a 400 page for bad filters.
func testBlocksPage(t *testing.T, o *observatory) {
	ctx := context.Background()
	resp, body := get(t, o.srv, "/blocks")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	mustContain(t, body, `<a href="/blocks" aria-current="page">Blocks</a>`)
	for _, c := range chartAttrs("most-blocked-instances", "most-blocked-accounts", "block-reasons-chart", "threads-a-instances",
		"threads-a-accounts", "threads-software-a-chart", "threads-b-instances", "threads-software-b-chart", "degrees-chart",
		"most-peered-chart") {
		mustContain(t, body, c)
	}
	require.NotContains(t, body, "<img")

	t.Run("figures match the statistics", func(t *testing.T) {
		q := stats.Query{}
		blocked, err := o.stats.MostBlocked(ctx, q, rankShown)
		require.NoError(t, err)
		rows := tableRows(t, body, "most-blocked-table")
		require.Len(t, rows, len(blocked.Domains))
		var threads []string
		for i, b := range blocked.Domains {
			require.Equal(t, []string{b.Domain, formatNum(b.Suspend.Instances), formatNum(b.Silence.Instances), formatNum(b.Limit.Instances),
				formatNum(b.Blockers.Instances), formatNum(b.Blockers.Accounts), formatNum(b.Blockers.ActiveMonth)}, rows[i])
			if b.Domain == "threads.net" {
				threads = rows[i]
			}
		}
		require.NotNil(t, threads, "the hostile instance suspends threads.net")

		reasons, err := o.stats.BlockReasons(ctx, q, rankShown)
		require.NoError(t, err)
		rows = tableRows(t, body, "block-reasons-table")
		require.Len(t, rows, len(reasons.Reasons))
		var seen bool
		for i, c := range reasons.Reasons {
			require.Equal(t, []string{clip(300, c.Reason), formatNum(c.Blocks), formatNum(c.Instances)}, rows[i])
			seen = seen || c.Reason == hostileReason
		}
		require.True(t, seen, "the hostile reason is ranked")
		mustContain(t, body, "<td>"+esc(hostileReason)+"</td>")

		over, err := o.stats.ThreadsOverTime(ctx, q, nil)
		require.NoError(t, err)
		require.Equal(t, "threads.net", over[0].Domain)
		rows = tableRows(t, body, "threads-a-table")
		require.Len(t, rows, len(over[0].Points))
		require.Len(t, rows, len(o.days), "one row a day")
		for i, p := range over[0].Points {
			want := []string{dayLabel(p.Period)}
			for _, w := range []stats.Weighted{p.Suspend, p.Limit, p.Federate, p.Neither, p.Unknown} {
				want = append(want, formatNum(w.Instances))
			}
			require.Equal(t, want, rows[i][:6])
		}
		last := over[0].Points[len(over[0].Points)-1]
		require.Positive(t, last.Suspend.Instances)

		at, err := o.stats.ThreadsBySoftware(ctx, q, nil)
		require.NoError(t, err)
		rows = tableRows(t, body, "threads-software-a-table")
		require.Equal(t, "All software", rows[0][0])
		require.Equal(t, formatNum(at[0].All.Total().Instances), rows[0][6])
		require.Equal(t, formatNum(at[0].All.Suspend.Instances), rows[0][1])
		require.Len(t, rows, 1+min(len(at[0].BySoftware), barsShown+1))
		mustContain(t, body, "<td>"+esc(hostileSoftware)+"</td>")

		degrees, err := o.stats.Degrees(ctx, q)
		require.NoError(t, err)
		rows = tableRows(t, body, "degrees-table")
		var out, in int64
		for _, r := range rows {
			o, err := strconv.ParseInt(strings.ReplaceAll(r[1], ",", ""), 10, 64)
			require.NoError(t, err)
			i, err := strconv.ParseInt(strings.ReplaceAll(r[2], ",", ""), 10, 64)
			require.NoError(t, err)
			out, in = out+o, in+i
		}
		require.Equal(t, degrees.Out.Instances, out, "every listing instance in a bucket")
		require.Equal(t, degrees.In.Instances, in, "every listed host in a bucket")
		require.Positive(t, out)

		peered, err := o.stats.MostPeered(ctx, q, rankShown)
		require.NoError(t, err)
		rows = tableRows(t, body, "most-peered-table")
		require.Len(t, rows, len(peered.Hosts))
		for i, h := range peered.Hosts {
			require.Equal(t, h.Host, rows[i][0])
			require.Equal(t, formatNum(h.InDegree), rows[i][3])
		}
	})

	t.Run("escaping in the charts", func(t *testing.T) {
		options := chartOptions(t, body)
		require.True(t, contains(options["block-reasons-chart"], hostileReason))
		require.True(t, contains(options["threads-software-a-chart"], hostileSoftware))
		for _, m := range regexp.MustCompile(`data-echarts-option="([^"]*)"`).FindAllStringSubmatch(body, -1) {
			require.NotContains(t, m[1], "<")
			require.NotContains(t, m[1], ">")
		}
	})

	t.Run("api links", func(t *testing.T) {
		v := url.Values{"from": {o.day(1)}, "to": {o.day(-2)}, "interval": {"week"}, "software": {"mastodon,misskey"},
			"include_flagged": {"true"}}
		q, err := stats.ParseQuery(v)
		require.NoError(t, err)
		resp, body := get(t, o.srv, "/blocks?"+v.Encode())
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		mustContain(t, body, "<summary>Filters (active)</summary>")
		w := func(p string) string { return withQuery(p, q) }
		require.Equal(t, []string{w(apiMostBlocked), w(apiBlockReasons), w(apiThreads), w(apiThreads), w(apiThreads), w(apiThreads),
			w(apiDegrees), w(apiMostPeered)}, apiLinks(t, body))
		for _, link := range apiLinks(t, body) {
			u, err := url.Parse(link)
			require.NoError(t, err)
			got, err := stats.ParseQuery(u.Query())
			require.NoError(t, err)
			require.Equal(t, q, got)
		}
	})

	for _, tc := range []struct{ path, message string }{
		{"/blocks?interval=year", "Invalid filter: interval must be"},
		{"/blocks?to=2026-13-01", "Invalid filter: to must be a date"},
		{"/blocks?from=" + o.day(5) + "&to=" + o.day(1), "Invalid filter: to is before from."},
		{"/blocks?software=%3Cimg%3E", "Invalid filter: software must be a program&#39;s NodeInfo name"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, body := get(t, o.srv, tc.path)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
			mustContain(t, body, tc.message)
			require.NotContains(t, body, "<img")
		})
	}

	t.Run("without link statistics or graph", func(t *testing.T) {
		// censusOnly hides the link statistics of *stats.Stats.
		type censusOnly struct{ Stats }
		d, err := New(Options{Store: o.st, Stats: censusOnly{o.stats}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		require.NoError(t, err)
		mux := http.NewServeMux()
		d.Register(mux)
		srv := httptest.NewServer(mux)
		defer srv.Close()
		resp, body := get(t, srv, "/blocks")
		require.Equal(t, http.StatusNotFound, resp.StatusCode)
		mustContain(t, body, "The link statistics are not available on this server.")
		resp, body = get(t, srv, "/graph")
		require.Equal(t, http.StatusNotFound, resp.StatusCode)
		mustContain(t, body, "The federation graph is not available on this server.")
		_, body = get(t, srv, "/instances/"+o.normal)
		require.NotContains(t, body, "graph-around")
		_, body = get(t, srv, "/blocks?interval=year")
		mustContain(t, body, "The link statistics are not available on this server.")
	})
}

// A graph over a source that fails is an internal error, never a page
// with half a graph.
func TestGraphPageErrors(t *testing.T) {
	store, search := newFakes()
	var logs strings.Builder
	srv := newGraphServer(t, store, search, graph.New(failingLinks{}, graph.Options{}), &logs)
	resp, body := get(t, srv, "/graph")
	require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	require.NotContains(t, body, "links unavailable", "internal detail stays in the log")
	require.Contains(t, logs.String(), "links unavailable")
	resp, _ = get(t, srv, "/graph?around=a.example")
	require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
}

// failingLinks is a graph.Source whose every read fails.
type failingLinks struct{}

func (failingLinks) TopLinks(context.Context, stats.Query, int) (stats.LinkGraph, error) {
	return stats.LinkGraph{}, errLinks
}

func (failingLinks) EgoLinks(context.Context, stats.Query, string, int) (stats.LinkGraph, error) {
	return stats.LinkGraph{}, errLinks
}

var errLinks = errors.New("links unavailable")

// newGraphServer serves the dashboard over the fakes with g as its graph.
func newGraphServer(t *testing.T, store *fakeStore, search *fakeSearch, g Graphs, logs io.Writer) *httptest.Server {
	t.Helper()
	d, err := New(Options{Store: store, Search: search, Graph: g, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	require.NoError(t, err)
	mux := http.NewServeMux()
	d.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}
