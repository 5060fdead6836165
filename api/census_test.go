package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/chtest"
	"github.com/fedilens/fedilens/internal/fedisim"
	"github.com/fedilens/fedilens/internal/graph"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/observtest"
	"github.com/fedilens/fedilens/internal/sanity"
	"github.com/fedilens/fedilens/internal/stats"
	"github.com/fedilens/fedilens/internal/store"
)

// censusDeadAfter is the statistics' dead-after of these tests: short
// enough that the history has dead and returning instances.
const censusDeadAfter = 4

// census is the API over a real store filled with a crawled simulated
// history (observtest.Crawl), the statistics it serves, and the truth.
type census struct {
	hist  *observtest.History
	st    *store.Store
	stats *stats.Stats
	// graphs is the API's federation graph (its cache is shared with the
	// tests' expectations).
	graphs *graph.Graphs
	srv    *httptest.Server
	doc    *openapi3.T
}

// newCensus crawls one small history (hostile instances included, so that
// some figures are flagged) and serves the API over it.
func newCensus(t *testing.T) *census {
	t.Helper()
	began := time.Now()
	st := chtest.Store(t)
	h := observtest.Crawl(t, st, fedisim.Options{Seed: 3, Instances: 32, HistoryDays: 12}, observtest.Options{})
	t.Logf("crawled %d days in %s", len(h.Days), time.Since(began).Round(time.Millisecond))
	c := &census{hist: h, st: st, stats: stats.New(st, stats.Options{DeadAfter: censusDeadAfter})}
	c.graphs = graph.New(c.stats, graph.Options{})
	mux := http.NewServeMux()
	New(Options{Store: st, Stats: c.stats, Graph: c.graphs, ReadPerSecond: -1}).Register(mux)
	c.srv = httptest.NewServer(mux)
	t.Cleanup(c.srv.Close)
	doc, err := openapi3.NewLoader().LoadFromData(OpenAPI("test"))
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()))
	c.doc = doc
	return c
}

// get fetches path, requires a 200, validates the answer against the
// route's response schema in the OpenAPI document and returns the body.
func (c *census) get(t *testing.T, route, path string) []byte {
	t.Helper()
	resp, body := get(t, c.srv, path, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", path, body)
	c.validate(t, route, http.StatusOK, body)
	return body
}

// validate checks body against the document's schema of route's answer
// with status.
func (c *census) validate(t *testing.T, route string, status int, body []byte) {
	t.Helper()
	_, tmpl, _ := strings.Cut(route, " ")
	item := c.doc.Paths.Value(tmpl)
	require.NotNil(t, item, "route %s is not documented", route)
	op := item.Get
	require.NotNil(t, op, route)
	resp := op.Responses.Status(status)
	require.NotNil(t, resp, "%s does not document %d", route, status)
	media := resp.Value.Content.Get("application/json")
	require.NotNil(t, media)
	var v any
	require.NoError(t, json.Unmarshal(body, &v))
	require.NoError(t, media.Schema.Value.VisitJSON(v), "%s: the answer does not match the OpenAPI document: %s", route, body)
}

// failing fetches path, requires status and returns the error message,
// after checking the error envelope against the document.
func (c *census) failing(t *testing.T, route, path string, status int) string {
	t.Helper()
	resp, body := get(t, c.srv, path, nil)
	require.Equal(t, status, resp.StatusCode, "%s: %s", path, body)
	c.validate(t, route, status, body)
	var e errorBody
	require.NoError(t, json.Unmarshal(body, &e))
	return e.Error.Message
}

// suspect reports whether the truth's expected flags leave in out.
func suspect(in fedisim.InstanceTruth) bool {
	return sanity.Suspect(in.ExpectedFlags)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func TestCensusAPI(t *testing.T) {
	c := newCensus(t)
	ctx := context.Background()
	days := c.hist.Days
	last := days[len(days)-1]
	date := func(i int) string { return days[i].Date.Format(time.DateOnly) }

	// The history must exercise what is served.
	var flagged int
	for _, in := range last.Census {
		if suspect(in) {
			flagged++
		}
	}
	require.Positive(t, flagged, "some instances should have suspect figures")
	require.NotEqual(t, len(days[0].Census), len(last.Census), "the census should change")

	t.Run("statistics equal internal/stats", func(t *testing.T) {
		queries := []string{
			"",
			"interval=week",
			"interval=month&include_flagged=true",
			"software=mastodon,misskey&interval=week",
			"software=lemmy&software=mastodon",
			"language=en",
			"from=" + date(3) + "&to=" + date(len(days)-5),
			"to=" + date(len(days)/2),
			"from=" + date(len(days)/2) + "&interval=month&include_flagged=1",
			"to=2099-01-01",
			"to=2000-01-01",
		}
		type endpoint struct {
			route, path string
			want        func(q stats.Query) (any, error)
		}
		endpoints := []endpoint{
			{RouteTotals, "/api/v1/stats/totals", func(q stats.Query) (any, error) { return orEmpty(c.stats.Totals(ctx, q)) }},
			{RouteSoftware, "/api/v1/stats/software", func(q stats.Query) (any, error) { return sharesJSON(c.stats.SoftwareShare(ctx, q)) }},
			{RouteSoftwareOverTime, "/api/v1/stats/software/over-time", func(q stats.Query) (any, error) {
				return orEmpty(c.stats.SoftwareShareOverTime(ctx, q))
			}},
			{RouteVersions, "/api/v1/stats/versions/Mastodon", func(q stats.Query) (any, error) {
				return sharesJSON(c.stats.VersionShare(ctx, q, "mastodon"))
			}},
			{RouteVersionsOverTime, "/api/v1/stats/versions/misskey/over-time", func(q stats.Query) (any, error) {
				return orEmpty(c.stats.VersionShareOverTime(ctx, q, "misskey"))
			}},
			{RouteGrowth, "/api/v1/stats/growth", func(q stats.Query) (any, error) { return orEmpty(c.stats.Growth(ctx, q)) }},
			{RouteRegistrations, "/api/v1/stats/registrations", func(q stats.Query) (any, error) { return orEmpty(c.stats.Registrations(ctx, q)) }},
			{RouteRegistrationsBySoftware, "/api/v1/stats/registrations/by-software", func(q stats.Query) (any, error) {
				return c.stats.RegistrationsBySoftware(ctx, q)
			}},
			{RouteLanguages, "/api/v1/stats/languages", func(q stats.Query) (any, error) { return sharesJSON(c.stats.Languages(ctx, q)) }},
			{RouteSizes, "/api/v1/stats/sizes", func(q stats.Query) (any, error) { return c.stats.Sizes(ctx, q) }},
			{RouteInstancesOverTime, "/api/v1/stats/instances-over-time", func(q stats.Query) (any, error) {
				pts, err := c.stats.Totals(ctx, q)
				out := []map[string]any{}
				for _, p := range pts {
					out = append(out, map[string]any{"period": p.Period.Format(time.DateOnly), "day": p.Day.Format(time.DateOnly), "count": p.Instances})
				}
				return out, err
			}},
		}
		for _, raw := range queries {
			v, err := url.ParseQuery(raw)
			require.NoError(t, err)
			q, err := stats.ParseQuery(v)
			require.NoError(t, err)
			for _, e := range endpoints {
				t.Run(e.path+"?"+raw, func(t *testing.T) {
					want, err := e.want(q)
					require.NoError(t, err)
					got := c.get(t, e.route, e.path+"?"+raw)
					require.JSONEq(t, mustJSON(t, want), string(got))
				})
			}
		}
	})

	t.Run("spot checks against the truth", func(t *testing.T) {
		var clean, accounts int64
		bySoftware := map[string]int64{}
		for _, in := range last.Census {
			if suspect(in) {
				continue
			}
			clean++
			bySoftware[in.Software]++
			if in.UsersTotal != nil {
				accounts += *in.UsersTotal
			}
		}
		var totals []stats.TotalsPoint
		require.NoError(t, json.Unmarshal(c.get(t, RouteTotals, "/api/v1/stats/totals"), &totals))
		require.Len(t, totals, len(days))
		require.Equal(t, last.Date, totals[len(totals)-1].Day.UTC())
		require.Equal(t, clean, totals[len(totals)-1].Instances)
		require.Equal(t, accounts, totals[len(totals)-1].Accounts)

		var sw stats.Shares
		require.NoError(t, json.Unmarshal(c.get(t, RouteSoftware, "/api/v1/stats/software"), &sw))
		got := map[string]int64{}
		for _, sh := range sw.Shares {
			got[sh.Key] = sh.Instances
		}
		require.Equal(t, bySoftware, got)

		var byMonth []map[string]any
		require.NoError(t, json.Unmarshal(c.get(t, RouteInstancesOverTime, "/api/v1/stats/instances-over-time?interval=month&include_flagged=true"), &byMonth))
		require.Equal(t, map[string]any{"period": "2026-11-01", "day": "2026-11-01", "count": float64(len(last.Census))}, byMonth[len(byMonth)-1])
		require.Equal(t, "2026-10-01", byMonth[0]["period"])
		require.Equal(t, "2026-10-31", byMonth[0]["day"], "a month stands for its last day with data")
	})

	t.Run("summary", func(t *testing.T) {
		for _, raw := range []string{"", "include_flagged=true", "software=mastodon", "to=" + date(5), "to=" + date(5) + "&include_flagged=true&language=en"} {
			t.Run(raw, func(t *testing.T) {
				v, _ := url.ParseQuery(raw)
				q, err := stats.ParseQuery(v)
				require.NoError(t, err)
				at := len(days) - 1
				if !q.To.IsZero() {
					at = slices.IndexFunc(days, func(d observtest.Day) bool { return d.Date.Equal(q.To) })
				}
				// The truth of that day under the filters, computed here.
				var want summaryJSON
				var kept, all int64
				programs := map[string]bool{}
				for _, in := range days[at].Census {
					if len(q.Software) > 0 && !slices.Contains(q.Software, in.Software) {
						continue
					}
					if q.Language != "" && !slices.Contains(c.hist.Langs[in.Host], q.Language) {
						continue
					}
					all++
					if suspect(in) && !q.IncludeFlagged {
						continue
					}
					kept++
					if in.Software != "" {
						programs[in.Software] = true
					}
					want.UsersTotal += val(in.UsersTotal)
					want.UsersActiveMonth += val(in.UsersActiveMonth)
					want.UsersActiveHalfyear += val(in.UsersActiveHalfyear)
					want.LocalPosts += val(in.LocalPosts)
				}
				want.Instances = uint64(kept)
				want.Softwares = uint64(len(programs))
				want.FlaggedInstances = uint64(all - kept)
				if q.IncludeFlagged {
					var clean int64
					for _, in := range days[at].Census {
						if (len(q.Software) == 0 || slices.Contains(q.Software, in.Software)) &&
							(q.Language == "" || slices.Contains(c.hist.Langs[in.Host], q.Language)) && !suspect(in) {
							clean++
						}
					}
					want.FlaggedInstances = uint64(all - clean)
				}
				want.IncludeFlagged = q.IncludeFlagged
				want.LastCrawl = timestamp(last.CrawledAt)
				d := days[at].Date.Format(time.DateOnly)
				want.Day = &d
				got := c.get(t, RouteSummary, "/api/v1/stats/summary?"+raw)
				require.JSONEq(t, mustJSON(t, want), string(got))
			})
		}
	})

	t.Run("bad parameters", func(t *testing.T) {
		var anyHost string
		for h := range last.Census {
			anyHost = h
		}
		for _, tc := range []struct{ route, path, msg string }{
			{RouteTotals, "/api/v1/stats/totals?interval=year", `bad statistics query: interval must be "day", "week" or "month"`},
			{RouteTotals, "/api/v1/stats/totals?from=2026-13-01", "bad statistics query: from must be a date such as 2026-01-31"},
			{RouteGrowth, "/api/v1/stats/growth?from=2026-10-10&to=2026-10-01", "bad statistics query: to is before from"},
			{RouteSoftware, "/api/v1/stats/software?software=%3Cscript%3E", "bad statistics query: software must be a program's NodeInfo name (letters, digits, '-', '_', '.')"},
			{RouteLanguages, "/api/v1/stats/languages?language=en%20gb", "bad statistics query: language must be a language tag such as en or pt-br"},
			{RouteSizes, "/api/v1/stats/sizes?include_flagged=maybe", "bad statistics query: include_flagged must be true or false"},
			{RouteSummary, "/api/v1/stats/summary?to=yesterday", "bad statistics query: to must be a date such as 2026-01-31"},
			{RouteInstancesOverTime, "/api/v1/stats/instances-over-time?interval=hour", `bad statistics query: interval must be "day", "week" or "month"`},
			{RouteVersions, "/api/v1/stats/versions/a%20b", "bad statistics query: software must be a program's NodeInfo name (letters, digits, '-', '_', '.')"},
			{RouteVersionsOverTime, "/api/v1/stats/versions/lemmy,mastodon/over-time", "the path must name one program by its NodeInfo name"},
			{RouteVersions, "/api/v1/stats/versions/%20", "the path must name one program by its NodeInfo name"},
			{RouteHistory, "/api/v1/instances/" + anyHost + "/history?to=2026-02-30", "bad statistics query: to must be a date such as 2026-01-31"},
			{RouteHistory, "/api/v1/instances/a%20b/history", "invalid host"},
			{RouteInstances, "/api/v1/instances?sort=peers&order=sideways", "order must be asc or desc"},
			{RouteInstances, "/api/v1/instances?cursor=bogus", "list instances: bad query: invalid cursor"},
		} {
			t.Run(tc.path, func(t *testing.T) {
				require.Equal(t, tc.msg, c.failing(t, tc.route, tc.path, http.StatusBadRequest))
			})
		}
	})

	t.Run("federation", func(t *testing.T) { c.testLinks(t) })
	t.Run("instance listing", func(t *testing.T) { c.testListing(t) })
	t.Run("history", func(t *testing.T) { c.testHistory(t) })

	t.Run("unknown instances", func(t *testing.T) {
		for _, tc := range []struct{ route, path string }{
			{RouteHistory, "/api/v1/instances/nowhere.example/history"},
			{RouteInstance, "/api/v1/instances/nowhere.example"},
		} {
			require.Equal(t, "unknown instance", c.failing(t, tc.route, tc.path, http.StatusNotFound))
		}
	})

	t.Run("instance detail with list sizes", func(t *testing.T) {
		var withPeers int
		for host := range last.Census {
			var detail struct {
				Instance struct {
					PeerCount *int64 `json:"peer_count"`
				} `json:"instance"`
				Peers []string `json:"peers"`
			}
			require.NoError(t, json.Unmarshal(c.get(t, RouteInstance, "/api/v1/instances/"+host), &detail))
			if detail.Instance.PeerCount == nil {
				continue
			}
			withPeers++
			require.EqualValues(t, len(detail.Peers), *detail.Instance.PeerCount, "%s: the size of the list the detail shows", host)
		}
		require.Positive(t, withPeers)
	})
}

func val(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// latest is each host's truth on the last day it was stored, its number of
// days stored and when it was first stored.
type latest struct {
	in        fedisim.InstanceTruth
	snapshots int
	firstSeen time.Time
}

func (c *census) latest() map[string]latest {
	out := map[string]latest{}
	for _, d := range c.hist.Days {
		for host, in := range d.Census {
			l, ok := out[host]
			if !ok {
				l.firstSeen = d.CrawledAt
			}
			l.in = in
			l.snapshots++
			out[host] = l
		}
	}
	return out
}

// listed is one instance of the listing as the tests read it.
type listed struct {
	Host              string   `json:"host"`
	Software          string   `json:"software"`
	Title             string   `json:"title"`
	OpenRegistrations bool     `json:"open_registrations"`
	UsersTotal        *int64   `json:"users_total"`
	UsersActiveMonth  *int64   `json:"users_active_month"`
	LocalPosts        *int64   `json:"local_posts"`
	Suspect           bool     `json:"suspect"`
	Flags             []string `json:"flags"`
	FirstSeen         string   `json:"first_seen"`
	Snapshots         int      `json:"snapshots"`
	PeerCount         *int64   `json:"peer_count"`
	BlockCount        *int64   `json:"block_count"`
}

// walk lists every page of the listing with params, checking each page.
func (c *census) walk(t *testing.T, params url.Values, limit int) []listed {
	t.Helper()
	params = maps(params)
	params.Set("limit", fmt.Sprint(limit))
	var out []listed
	for range 1000 {
		var page struct {
			Instances  []listed `json:"instances"`
			NextCursor string   `json:"next_cursor"`
		}
		require.NoError(t, json.Unmarshal(c.get(t, RouteInstances, "/api/v1/instances?"+params.Encode()), &page))
		require.LessOrEqual(t, len(page.Instances), limit)
		out = append(out, page.Instances...)
		if page.NextCursor == "" {
			return out
		}
		require.Len(t, page.Instances, limit, "a page before the last is full")
		params.Set("cursor", page.NextCursor)
	}
	t.Fatal("the listing did not end")
	return nil
}

func maps(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

func hostsOf(ls []listed) []string {
	out := []string{}
	for _, l := range ls {
		out = append(out, l.Host)
	}
	return out
}

func (c *census) testListing(t *testing.T) {
	truth := c.latest()
	all := c.walk(t, url.Values{"sort": {"host"}}, 1000)
	require.Len(t, all, len(truth), "every instance ever stored is listed")
	byHost := map[string]listed{}
	for _, l := range all {
		byHost[l.Host] = l
		want := truth[l.Host]
		require.Equal(t, want.in.Software, l.Software, l.Host)
		require.Equal(t, want.in.UsersTotal, l.UsersTotal, l.Host)
		require.Equal(t, want.snapshots, l.Snapshots, l.Host)
		require.Equal(t, want.firstSeen.Format(time.RFC3339), l.FirstSeen, l.Host)
		require.Equal(t, suspect(want.in), l.Suspect, l.Host)
	}

	// The expected order of every sort, from the truth (and, for the peer
	// lists' sizes, from the listing's own figures).
	value := map[string]func(h string) *int64{
		"users":  func(h string) *int64 { return truth[h].in.UsersTotal },
		"active": func(h string) *int64 { return truth[h].in.UsersActiveMonth },
		"posts":  func(h string) *int64 { return truth[h].in.LocalPosts },
		"peers":  func(h string) *int64 { return byHost[h].PeerCount },
		"first_seen": func(h string) *int64 {
			v := truth[h].firstSeen.Unix()
			return &v
		},
	}
	hosts := make([]string, 0, len(truth))
	for h := range truth {
		hosts = append(hosts, h)
	}
	expect := func(sortBy, order string, keep func(h string) bool) []string {
		out := []string{}
		for _, h := range hosts {
			if keep == nil || keep(h) {
				out = append(out, h)
			}
		}
		sort.Slice(out, func(i, j int) bool {
			a, b := out[i], out[j]
			if sortBy == "host" {
				return (a < b) == (order != "desc")
			}
			va, vb := value[sortBy](a), value[sortBy](b)
			switch {
			case va == nil || vb == nil:
				if (va == nil) != (vb == nil) {
					return vb == nil
				}
			case *va != *vb:
				return (*va < *vb) == (order == "asc")
			}
			return a < b
		})
		return out
	}
	var withPeers int
	for _, l := range all {
		if l.PeerCount != nil {
			withPeers++
		}
	}
	require.Positive(t, withPeers, "some peer lists were read")
	require.Less(t, withPeers, len(all), "some instances publish no peer list")

	for _, sortBy := range model.InstanceSorts {
		for _, order := range []string{"", "asc", "desc"} {
			t.Run(sortBy+" "+order, func(t *testing.T) {
				wantOrder := order
				if order == "" {
					wantOrder = "desc"
					if sortBy == "host" {
						wantOrder = "asc"
					}
				}
				want := expect(sortBy, wantOrder, nil)
				params := url.Values{"sort": {sortBy}}
				if order != "" {
					params.Set("order", order)
				}
				for _, limit := range []int{7, 25} {
					got := hostsOf(c.walk(t, params, limit))
					require.Equal(t, want, got, "pages of %d: no duplicates, no gaps, in order", limit)
				}
			})
		}
	}

	lang := ""
	for _, h := range hosts {
		if ls := c.hist.Langs[h]; len(ls) > 0 && lang == "" {
			lang = ls[0]
		}
	}
	require.NotEmpty(t, lang)
	needle := strings.ToUpper(hosts[0][:3])
	for _, tc := range []struct {
		name   string
		params url.Values
		keep   func(h string) bool
	}{
		{"software", url.Values{"software": {"mastodon,lemmy"}},
			func(h string) bool { return slices.Contains([]string{"mastodon", "lemmy"}, truth[h].in.Software) }},
		{"language", url.Values{"language": {lang}}, func(h string) bool { return slices.Contains(c.hist.Langs[h], lang) }},
		{"open", url.Values{"registrations": {"open"}}, func(h string) bool { return truth[h].in.OpenRegistrations }},
		{"closed", url.Values{"registrations": {"closed"}, "sort": {"active"}, "order": {"asc"}},
			func(h string) bool { return !truth[h].in.OpenRegistrations }},
		{"flagged left out", url.Values{"include_flagged": {"false"}}, func(h string) bool { return !suspect(truth[h].in) }},
		{"flagged only", url.Values{"flagged": {"only"}}, func(h string) bool { return suspect(truth[h].in) }},
		{"text", url.Values{"q": {needle}, "sort": {"first_seen"}}, func(h string) bool {
			in := truth[h].in
			n := strings.ToLower(needle)
			return strings.Contains(h, n) || strings.Contains(strings.ToLower(in.Title), n) || strings.Contains(strings.ToLower(in.InstanceTitle), n)
		}},
		{"together", url.Values{"software": {"mastodon"}, "registrations": {"open"}, "include_flagged": {"false"}, "sort": {"posts"}},
			func(h string) bool {
				in := truth[h].in
				return in.Software == "mastodon" && in.OpenRegistrations && !suspect(in)
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sortBy, order := tc.params.Get("sort"), tc.params.Get("order")
			if sortBy == "" {
				sortBy = "users"
			}
			if order == "" {
				order = "desc"
			}
			want := expect(sortBy, order, tc.keep)
			require.NotEmpty(t, want, "the filter should keep some instances")
			require.Less(t, len(want), len(truth), "the filter should leave some out")
			require.Equal(t, want, hostsOf(c.walk(t, tc.params, 5)))
		})
	}
}

func (c *census) testHistory(t *testing.T) {
	days := c.hist.Days
	// The host stored on the most days, and one stored on some days only
	// (a gap, a birth or a death).
	full, partial := "", ""
	var most, fewest int
	for h, l := range c.latest() {
		n := l.snapshots
		if suspect(l.in) {
			continue
		}
		if n > most || n == most && h < full {
			full, most = h, n
		}
		if n < len(days) && (partial == "" || n < fewest || n == fewest && h < partial) {
			partial, fewest = h, n
		}
	}
	require.NotEmpty(t, partial, "the history should have an instance with a gap, a birth or a death")
	for _, host := range []string{full, partial} {
		t.Run(host, func(t *testing.T) { c.testHostHistory(t, host) })
	}
	t.Run("a range without points", func(t *testing.T) {
		require.JSONEq(t, `[]`, string(c.get(t, RouteHistory, "/api/v1/instances/"+full+"/history?to=2000-01-01")))
	})
}

// testHostHistory checks host's history against the truth, in ranges and
// intervals.
func (c *census) testHostHistory(t *testing.T, host string) {
	ctx := context.Background()
	days := c.hist.Days
	type point struct {
		day string
		in  fedisim.InstanceTruth
	}
	var truth []point
	for _, d := range days {
		if in, ok := d.Census[host]; ok {
			truth = append(truth, point{d.Date.Format(time.DateOnly), in})
		}
	}
	mid := truth[len(truth)/2].day
	for _, tc := range []struct {
		params string
		// keep picks the truth's points the answer has, in order.
		keep func(i int) bool
	}{
		{"", func(int) bool { return true }},
		{"from=" + mid, func(i int) bool { return truth[i].day >= mid }},
		{"to=" + mid + "&include_flagged=true", func(i int) bool { return truth[i].day <= mid }},
		{"interval=week", func(i int) bool {
			return i+1 == len(truth) || periodStart(stats.Week, day(truth[i+1].day)) != periodStart(stats.Week, day(truth[i].day))
		}},
		{"interval=month&from=" + mid, func(i int) bool {
			return truth[i].day >= mid && (i+1 == len(truth) || day(truth[i+1].day).Month() != day(truth[i].day).Month())
		}},
	} {
		t.Run(tc.params, func(t *testing.T) {
			body := c.get(t, RouteHistory, "/api/v1/instances/"+strings.ToUpper(host)+"./history?"+tc.params)
			var got []stats.HostPoint
			require.NoError(t, json.Unmarshal(body, &got))
			var want []stats.HostPoint
			for i, p := range truth {
				if tc.keep(i) {
					want = append(want, stats.HostPoint{Day: day(p.day), Software: p.in.Software, Version: p.in.Version,
						OpenRegistrations: p.in.OpenRegistrations, Accounts: p.in.UsersTotal, ActiveMonth: p.in.UsersActiveMonth,
						ActiveHalfyear: p.in.UsersActiveHalfyear, LocalPosts: p.in.LocalPosts})
				}
			}
			require.NotEmpty(t, want)
			require.Equal(t, want, got)

			// And day by day, it is what internal/stats answers.
			v, _ := url.ParseQuery(tc.params)
			v.Del("interval")
			q, err := stats.ParseQuery(v)
			require.NoError(t, err)
			pts, err := c.stats.History(ctx, host, q)
			require.NoError(t, err)
			if !strings.Contains(tc.params, "interval") {
				require.JSONEq(t, mustJSON(t, pts), string(body))
			} else {
				require.Subset(t, pts, got)
			}
		})
	}
}

// day parses a YYYY-MM-DD day of the tests.
func day(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

// TestCensusAPIEmpty: before the first crawl every statistic answers
// zeros and empty lists, never null, and the summary has no day.
func TestCensusAPIEmpty(t *testing.T) {
	st := chtest.Store(t)
	c := &census{st: st, stats: stats.New(st, stats.Options{})}
	c.graphs = graph.New(c.stats, graph.Options{})
	mux := http.NewServeMux()
	New(Options{Store: st, Stats: c.stats, Graph: c.graphs, ReadPerSecond: -1}).Register(mux)
	c.srv = httptest.NewServer(mux)
	t.Cleanup(c.srv.Close)
	doc, err := openapi3.NewLoader().LoadFromData(OpenAPI("test"))
	require.NoError(t, err)
	c.doc = doc
	for _, tc := range []struct{ route, path, want string }{
		{RouteTotals, "/api/v1/stats/totals", `[]`},
		{RouteInstancesOverTime, "/api/v1/stats/instances-over-time?interval=week", `[]`},
		{RouteSoftware, "/api/v1/stats/software", `{"period":"0001-01-01T00:00:00Z","day":"0001-01-01T00:00:00Z","shares":[]}`},
		{RouteSoftwareOverTime, "/api/v1/stats/software/over-time", `[]`},
		{RouteVersions, "/api/v1/stats/versions/mastodon", `{"period":"0001-01-01T00:00:00Z","day":"0001-01-01T00:00:00Z","shares":[]}`},
		{RouteVersionsOverTime, "/api/v1/stats/versions/mastodon/over-time", `[]`},
		{RouteGrowth, "/api/v1/stats/growth", `[]`},
		{RouteRegistrations, "/api/v1/stats/registrations", `[]`},
		{RouteRegistrationsBySoftware, "/api/v1/stats/registrations/by-software", `{"day":"0001-01-01T00:00:00Z","software":[]}`},
		{RouteLanguages, "/api/v1/stats/languages", `{"period":"0001-01-01T00:00:00Z","day":"0001-01-01T00:00:00Z","shares":[]}`},
		{RouteSizes, "/api/v1/stats/sizes", `{"day":"0001-01-01T00:00:00Z",
			"accounts":{"instances":0,"total":0,"median":0,"p75":0,"p90":0,"p99":0,"top1_sum":0,"top10_sum":0,"top1_share":0,"top10_share":0},
			"active_month":{"instances":0,"total":0,"median":0,"p75":0,"p90":0,"p99":0,"top1_sum":0,"top10_sum":0,"top1_share":0,"top10_share":0}}`},
		{RouteSummary, "/api/v1/stats/summary", `{"instances":0,"users_total":0,"users_active_month":0,"users_active_halfyear":0,
			"local_posts":0,"softwares":0,"indexed_posts":0,"last_crawl":null,"flagged_instances":0,"include_flagged":false,"day":null}`},
		{RouteInstances, "/api/v1/instances?sort=peers", `{"instances":[]}`},
		{RouteMostPeered, "/api/v1/stats/most-peered", `{"day":"0001-01-01T00:00:00Z","hosts":[]}`},
		{RouteMostBlocked, "/api/v1/stats/most-blocked", `{"day":"0001-01-01T00:00:00Z","domains":[]}`},
		{RouteBlockReasons, "/api/v1/stats/block-reasons", `{"day":"0001-01-01T00:00:00Z","reasons":[]}`},
		{RouteTopPostLinks, "/api/v1/stats/post-links", `{"links":[]}`},
		{RouteDegrees, "/api/v1/stats/degrees", `{"day":"0001-01-01T00:00:00Z",
			"out":{"instances":0,"total":0,"median":0,"p75":0,"p90":0,"p99":0,"top1_sum":0,"top10_sum":0,"top1_share":0,"top10_share":0,"histogram":[]},
			"in":{"instances":0,"total":0,"median":0,"p75":0,"p90":0,"p99":0,"top1_sum":0,"top10_sum":0,"top1_share":0,"top10_share":0,"histogram":[]}}`},
	} {
		t.Run(tc.path, func(t *testing.T) {
			require.JSONEq(t, tc.want, string(c.get(t, tc.route, tc.path)))
		})
	}
	require.Equal(t, "unknown instance", c.failing(t, RouteHistory, "/api/v1/instances/a.example/history", http.StatusNotFound))
	require.Equal(t, "unknown instance", c.failing(t, RouteGraph, "/api/v1/graph?around=a.example", http.StatusNotFound))
	require.Equal(t, "unknown instance", c.failing(t, RoutePostLinks, "/api/v1/instances/a.example/post-links", http.StatusNotFound))
	var g struct {
		Nodes []any `json:"nodes"`
		Edges []any `json:"edges"`
	}
	require.NoError(t, json.Unmarshal(c.get(t, RouteGraph, "/api/v1/graph"), &g))
	require.NotNil(t, g.Nodes)
	require.Empty(t, g.Nodes)
	require.NotNil(t, g.Edges)
	var view stats.ThreadsView
	require.NoError(t, json.Unmarshal(c.get(t, RouteThreads, "/api/v1/stats/threads"), &view))
	require.Equal(t, stats.DefaultWatchedDomains, view.Domains)
	require.Len(t, view.OverTime, len(view.Domains))
	require.Len(t, view.At, len(view.Domains))
	for i, ser := range view.OverTime {
		require.Empty(t, ser.Points)
		require.Zero(t, view.At[i].All.Total())
	}
}
