package dashboard

import (
	"context"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/fedilens/fedilens/internal/stats"
)

// escaper writes text as the page templates do.
var escaper = template.Must(template.New("esc").Parse(`{{.}}`))

// esc is s as html/template writes it in text.
func esc(s string) string {
	var b strings.Builder
	if err := escaper.Execute(&b, s); err != nil {
		panic(err)
	}
	return b.String()
}

// apiLinks returns the links of a page's "Data:" lines, in order.
func apiLinks(t *testing.T, body string) []string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	require.NoError(t, err)
	var out []string
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode || n.Data != "a" || n.Parent == nil || n.Parent.Data != "p" || attr(n.Parent, "class") != "api" {
			continue
		}
		out = append(out, attr(n, "href"))
	}
	return out
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// tableRows returns the text of each body row's cells of the table with
// the given id.
func tableRows(t *testing.T, body, id string) [][]string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	require.NoError(t, err)
	var rows [][]string
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode || n.Data != "table" || attr(n, "id") != id {
			continue
		}
		for tr := range n.Descendants() {
			if tr.Type != html.ElementNode || tr.Data != "tr" || tr.Parent.Data != "tbody" {
				continue
			}
			var row []string
			for td := tr.FirstChild; td != nil; td = td.NextSibling {
				if td.Type == html.ElementNode && td.Data == "td" {
					var b strings.Builder
					for c := range td.Descendants() {
						if c.Type == html.TextNode {
							b.WriteString(c.Data)
						}
					}
					row = append(row, b.String())
				}
			}
			rows = append(rows, row)
		}
	}
	return rows
}

// contains reports whether v, decoded JSON, holds a string containing s.
func contains(v any, s string) bool {
	switch x := v.(type) {
	case string:
		return strings.Contains(x, s)
	case []any:
		return slices.ContainsFunc(x, func(e any) bool { return contains(e, s) })
	case map[string]any:
		for _, e := range x {
			if contains(e, s) {
				return true
			}
		}
	}
	return false
}

func chartAttrs(ids ...string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = `data-echarts-for="` + id + `"`
	}
	return out
}

// testCensusPages loads every page over the filled store: statuses, the
// charts each draws, the filters' state, the navigation.
func testCensusPages(t *testing.T, o *observatory) {
	filtered := url.Values{"from": {o.day(2)}, "to": {o.day(-1)}, "interval": {"week"}, "software": {"mastodon"},
		"include_flagged": {"true"}}.Encode()
	for _, tc := range []struct {
		name, path string
		status     int
		contains   []string
		absent     []string
	}{
		{
			name: "overview", path: "/", status: 200,
			contains: append(chartAttrs("totals-instances", "totals-users", "totals-posts", "growth-chart", "software-instances",
				"software-active", "sizes-chart"),
				"<h1>Fediverse census</h1>", `<a href="/" aria-current="page">Overview</a>`, "<summary>Filters</summary>",
				`<dd id="stat-instances">`+formatNum(o.lastClean)+`</dd>`, "the changes are since "+o.day(0),
				`<a href="/instances?flagged=only">1 instance publishes suspect figures</a>, left out of these figures unless included.`,
				`href="/api/v1/instances?flagged=exclude&amp;limit=20&amp;sort=users"`, "Instances with suspect figures are not ranked.",
				`<a href="/instances/`+o.normal+`">`, `<a href="/software?software=mastodon">mastodon</a>`),
			absent: []string{"liar.example", `id="no-data"`},
		},
		{
			name: "overview with filters", path: "/?" + filtered, status: 200,
			contains: append(chartAttrs("totals-instances", "growth-chart", "software-instances", "sizes-chart"),
				"<summary>Filters (active)</summary>", `value="`+o.day(2)+`"`, `value="`+o.day(-1)+`"`,
				`<option value="week" selected>`, `value="mastodon"`, `value="true" checked`, `<a href="/">Clear the filters</a>`,
				`href="/api/v1/instances?flagged=include&amp;limit=20&amp;software=mastodon&amp;sort=users"`,
				"of mastodon only", "Instances with suspect figures are included.", "the changes are since"),
			absent: []string{`<option value="day" selected>`},
		},
		{
			name: "overview of a range without data", path: "/?from=2030-01-01", status: 200,
			contains: []string{`id="no-data"`, "No day in this range has data: widen the filters", "No day in this range has data."},
			absent:   []string{`id="stat-instances"`, `data-echarts-for="totals-instances"`},
		},
		{
			name: "software", path: "/software", status: 200,
			contains: append(chartAttrs("software-instances", "software-accounts", "software-active", "software-over-time-chart"),
				`<a href="/software" aria-current="page">Software</a>`, `id="choose-software"`,
				`<a href="/software?software=mastodon">mastodon</a>`),
			absent: []string{"versions-a"},
		},
		{
			name: "software with its versions", path: "/software?software=mastodon&interval=week", status: 200,
			contains: append(chartAttrs("software-instances", "software-over-time-chart", "versions-a-instances", "versions-a-active",
				"versions-over-time-a-chart"),
				`<h2 id="versions-a-h">Versions of mastodon</h2>`, `<h2 id="versions-over-time-a-h">Versions of mastodon over time</h2>`,
				`<a href="/software?interval=week&amp;software=misskey">misskey</a>`),
			absent: []string{`id="choose-software"`},
		},
		{
			name: "at most four softwares' versions", path: "/software?software=mastodon,misskey,akkoma,pixelfed,pleroma", status: 200,
			contains: []string{`id="versions-d-h"`, "The versions of 1 more software are not shown"},
			absent:   []string{`id="versions-e-h"`},
		},
		{
			name: "registrations", path: "/registrations", status: 200,
			contains: append(chartAttrs("registrations-chart", "registrations-by-software-chart"),
				`<a href="/registrations" aria-current="page">Registrations</a>`),
		},
		{
			name: "languages", path: "/languages", status: 200,
			contains: append(chartAttrs("languages-instances", "languages-active"),
				`<a href="/languages" aria-current="page">Languages</a>`, `<a href="/?language=en">en</a>`, "(none listed)"),
			absent: []string{`name="interval"`},
		},
		{
			name: "instance", path: "/instances/" + o.normal, status: 200,
			contains: append(chartAttrs("history-users", "history-active", "history-posts"),
				`<a href="/instances" aria-current="page">Instances</a>`, "<summary>Time range</summary>",
				`href="/api/v1/instances/`+o.normal+`/history"`, "Table: daily figures, newest first",
				"<h2 id=\"snapshots\">Snapshots</h2>"),
			absent: []string{`name="software"`, `name="language"`, `name="interval"`},
		},
		{
			name: "hostile instance", path: "/instances/" + hostileHost, status: 200,
			contains: append(chartAttrs("history-users", "history-active", "history-posts", "lists-chart"),
				"<h1>"+esc(hostileTitle)+"</h1>", `<h2 id="blocks">Public block list (2)</h2>`,
				`<td><a href="/instances/threads.net">threads.net</a></td><td>suspend</td><td>`+esc(hostileReason)+`</td>`,
				`<td>spam*.example</td><td>limit</td><td></td>`,
				"<tr><td>"+o.day(-1)+`</td><td class="n">14</td><td class="n">1</td></tr>`),
		},
		{
			name: "instance without days in the range", path: "/instances/" + o.normal + "?from=2030-01-01", status: 200,
			contains: []string{`<p class="notice" role="status" id="history-notice">No daily figures of this instance in this range.`,
				"<summary>Time range (active)</summary>"},
			absent: []string{`data-echarts-for="history-users"`},
		},
		{
			name: "instance that never published a block list", path: "/instances/" + o.normal, status: 200,
			contains: []string{"fedilens has not read a public domain-block list of this instance"},
		},
		{
			name: "unknown instance", path: "/instances/nowhere.example", status: 404,
			contains: []string{"fedilens knows no instance by that name."},
		},
		{
			name: "datasets", path: "/datasets", status: 200,
			contains: []string{`<a href="/datasets" aria-current="page">Datasets</a>`, "No dataset is published here yet",
				"Creative Commons Attribution 4.0", "keyed pseudonym", "10 accounts", "<code>fedilens export</code>"},
			absent: []string{`href="/datasets/`, `href="/api/v1/datasets`, "<script", ".csv.gz\""},
		},
		{
			name: "posts", path: "/posts", status: 200,
			contains: []string{`<a href="/posts" aria-current="page">Posts</a>`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, o.srv, tc.path)
			require.Equal(t, tc.status, resp.StatusCode, body)
			for _, s := range tc.contains {
				mustContain(t, body, s)
			}
			for _, s := range tc.absent {
				require.NotContains(t, body, s)
			}
			// Every page links every page of the navigation.
			for _, p := range navPages {
				mustContain(t, body, `<a href="`+p.path+`"`)
			}
			// Everything a page loads is this server's.
			for _, m := range regexp.MustCompile(`\ssrc="([^"]*)"`).FindAllStringSubmatch(body, -1) {
				require.True(t, strings.HasPrefix(m[1], "/assets/"), "src=%q", m[1])
			}
			require.NotContains(t, body, "go-echarts.github.io", "no CDN")
		})
	}
}

// testBadParameters: a filter the page cannot use is a 400 page that says
// what is wrong, never a 500 or a silently ignored filter.
func testBadParameters(t *testing.T, o *observatory) {
	for _, tc := range []struct {
		path, message string
	}{
		{"/?from=yesterday", "Invalid filter: from must be a date such as 2026-01-31."},
		{"/?interval=year", "Invalid filter: interval must be"},
		{"/?from=" + o.day(5) + "&to=" + o.day(1), "Invalid filter: to is before from."},
		{"/?software=%3Cb%3E", "Invalid filter: software must be a program&#39;s NodeInfo name"},
		{"/software?software=a%20b", "Invalid filter: software must be a program&#39;s NodeInfo name"},
		{"/software?to=2026-02-30", "Invalid filter: to must be a date"},
		{"/registrations?include_flagged=maybe", "Invalid filter: include_flagged must be true or false."},
		{"/languages?language=en%20gb", "Invalid filter: language must be a language tag such as en or pt-br."},
		{"/instances/" + hostileHost + "?from=1.1.2026", "Invalid filter: from must be a date"},
		{"/instances?sort=title", "Invalid order: sort by users, active, posts, peers, first_seen or host."},
		{"/instances?order=up", "Invalid order: order must be asc or desc."},
		{"/instances?registrations=maybe", "Invalid filter: registrations must be open or closed."},
		{"/instances?language=en%20gb", "Invalid filter: language must be a language tag such as en or pt-br."},
		{"/instances?q=" + strings.Repeat("x", 101), "Invalid filter: the name to look for is longer than 100 bytes."},
		{"/instances?include_flagged=false&flagged=only", "Invalid filter: flagged contradicts include_flagged."},
		{"/instances?include_flagged=perhaps", "Invalid filter: include_flagged must be true or false."},
		{"/instances?software=%3Cimg%3E", "Invalid filter: software must be a program&#39;s NodeInfo name"},
		{"/instances?flagged=everything", "Unknown filter: choose all instances, suspect figures or clean figures."},
		{"/instances?cursor=garbage", "The page cursor is invalid."},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, body := get(t, o.srv, tc.path)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
			require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
			mustContain(t, body, "<h1>Bad Request</h1>")
			mustContain(t, body, tc.message)
			require.NotContains(t, body, "<img")
		})
	}
}

// testCensusEscaping: the hostile strings stored through the real insert
// path are text in the HTML and intact data in the chart options, whose
// attribute holds no markup character.
func testCensusEscaping(t *testing.T, o *observatory) {
	for _, tc := range []struct {
		path string
		// inHTML are the hostile strings the page shows (escaped).
		inHTML []string
		// inChart maps chart IDs to the hostile string their options hold.
		inChart map[string]string
	}{
		{path: "/", inHTML: []string{hostileTitle, hostileSoftware, hostileVersion},
			inChart: map[string]string{"software-instances": hostileSoftware}},
		{path: "/software?software=mastodon", inHTML: []string{hostileSoftware, hostileVersion},
			inChart: map[string]string{"software-instances": hostileSoftware, "versions-a-active": hostileVersion}},
		{path: "/registrations", inHTML: []string{hostileSoftware},
			inChart: map[string]string{"registrations-by-software-chart": hostileSoftware}},
		{path: "/instances/" + hostileHost, inHTML: []string{hostileTitle, hostileVersion, hostileReason, "Hello " + hostileTitle},
			inChart: map[string]string{"history-users": hostileTitle, "history-active": hostileTitle}},
		{path: "/instances/" + hostileSoftHost, inHTML: []string{hostileSoftware}},
		{path: "/instances?software=mastodon&sort=host", inHTML: []string{hostileTitle, hostileVersion}},
		{path: "/instances?sort=users", inHTML: []string{hostileTitle, hostileSoftware, hostileVersion}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, body := get(t, o.srv, tc.path)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.NotContains(t, body, "<img")
			require.LessOrEqual(t, strings.Count(body, "<script"), 2, "only the two local scripts")
			for _, h := range tc.inHTML {
				mustContain(t, body, esc(h))
			}
			options := chartOptions(t, body)
			for id, h := range tc.inChart {
				require.Contains(t, options, id)
				require.True(t, contains(options[id], h), "chart %s holds %q as data", id, h)
			}
			for _, m := range regexp.MustCompile(`data-echarts-option="([^"]*)"`).FindAllStringSubmatch(body, -1) {
				require.NotContains(t, m[1], "<")
				require.NotContains(t, m[1], ">")
			}
		})
	}
}

// testAPILinks: each chart's "Data:" link is the API path behind it with
// the page's own query (Query.Values), so it returns what the chart shows.
func testAPILinks(t *testing.T, o *observatory) {
	v := url.Values{"from": {o.day(1)}, "to": {o.day(-2)}, "interval": {"month"}, "software": {"mastodon,misskey"},
		"language": {"en"}, "include_flagged": {"true"}}
	q, err := stats.ParseQuery(v)
	require.NoError(t, err)
	all := q
	all.Software = nil
	host := stats.Query{From: q.From, To: q.To, IncludeFlagged: true}
	with := func(path string, q stats.Query) string { return withQuery(path, q) }
	for _, tc := range []struct {
		page string
		want []string
	}{
		{"/", []string{with(apiTotals, q), with(apiTotals, q), with(apiGrowth, q), with(apiSoftware, q), with(apiSizes, q),
			// the listing takes one software at most: none of two
			"/api/v1/instances?flagged=include&limit=20&sort=users"}},
		{"/software", []string{with(apiSoftware, all), with(apiSoftwareOverTime, all),
			with("/api/v1/stats/versions/mastodon", all), with("/api/v1/stats/versions/mastodon/over-time", all),
			with("/api/v1/stats/versions/misskey", all), with("/api/v1/stats/versions/misskey/over-time", all)}},
		{"/registrations", []string{with(apiRegistrations, q), with(apiRegistrationsByProg, q)}},
		{"/languages", []string{with(apiLanguages, q)}},
		{"/instances/" + o.normal, []string{"/api/v1/instances/" + o.normal, with("/api/v1/instances/"+o.normal+"/history", host),
			"/api/v1/instances/" + o.normal + "/post-links"}},
	} {
		t.Run(tc.page, func(t *testing.T) {
			resp, body := get(t, o.srv, tc.page+"?"+v.Encode())
			require.Equal(t, http.StatusOK, resp.StatusCode, body)
			require.Equal(t, tc.want, apiLinks(t, body))
			for _, link := range tc.want {
				u, err := url.Parse(link)
				require.NoError(t, err)
				if !strings.HasPrefix(u.Path, "/api/v1/stats/") {
					continue
				}
				// The link reads back to the query the page ran.
				got, err := stats.ParseQuery(u.Query())
				require.NoError(t, err)
				want := q
				if tc.page == "/software" {
					want = all
				}
				require.Equal(t, want, got)
			}
		})
	}
}

// testFigures compares what the pages show with the statistics and the
// ground truth.
func testFigures(t *testing.T, o *observatory) {
	ctx := context.Background()
	row := func(cells ...string) string {
		var b strings.Builder
		b.WriteString("<tr>")
		for i, c := range cells {
			if i == 0 {
				b.WriteString("<td>" + c + "</td>")
			} else {
				b.WriteString(`<td class="n">` + c + "</td>")
			}
		}
		return b.String() + "</tr>"
	}
	n := func(v int64) string { return formatNum(v) }

	t.Run("overview", func(t *testing.T) {
		_, body := get(t, o.srv, "/")
		totals, err := o.stats.Totals(ctx, stats.Query{})
		require.NoError(t, err)
		require.Len(t, totals, len(o.days))
		last, first := totals[len(totals)-1], totals[0]
		require.EqualValues(t, o.lastClean, last.Instances, "the statistics match the ground truth")
		for _, p := range totals {
			mustContain(t, body, row(p.Period.Format(time.DateOnly), n(p.Instances), n(p.Accounts), n(p.ActiveMonth),
				n(p.ActiveHalfyear), n(p.LocalPosts)))
		}
		// The history is shorter than the 30 days the change looks back:
		// the change is since its first day.
		diff := last.Accounts - first.Accounts
		require.Positive(t, diff)
		mustContain(t, body, `<dd id="stat-accounts">`+n(last.Accounts)+`</dd><dd class="change change-up">`+
			esc(fmt.Sprintf("+%s (+%.1f\u00a0%%)", n(diff), 100*float64(diff)/float64(first.Accounts)))+"</dd>")

		growth, err := o.stats.Growth(ctx, stats.Query{})
		require.NoError(t, err)
		require.NotEmpty(t, growth)
		for _, p := range growth {
			mustContain(t, body, row(p.Period.Format(time.DateOnly), n(p.New), n(p.Returning), n(p.Dead)))
		}
		shares, err := o.stats.SoftwareShare(ctx, stats.Query{})
		require.NoError(t, err)
		var total int64
		for _, s := range shares.Shares {
			total += s.Instances
		}
		for _, s := range shares.Shares[:min(len(shares.Shares), barsShown)] {
			name := esc(s.Key)
			if p := softwarePath(s.Key, stats.Query{}); p != "" {
				name = `<a href="` + esc(p) + `">` + name + "</a>"
			}
			mustContain(t, body, "<tr><td>"+name+`</td><td class="n">`+n(s.Instances)+`</td><td class="n">`+
				formatPct(share(s.Instances, total))+"</td>")
		}
		sizes, err := o.stats.Sizes(ctx, stats.Query{})
		require.NoError(t, err)
		a := sizes.Accounts
		mustContain(t, body, row("Accounts", n(a.Instances), n(a.Total), n(a.Median), n(a.P75), n(a.P90), n(a.P99),
			formatPct(100*a.Top1Share), formatPct(100*a.Top10Share)))
	})

	t.Run("registrations", func(t *testing.T) {
		_, body := get(t, o.srv, "/registrations?interval=week")
		pts, err := o.stats.Registrations(ctx, stats.Query{Interval: stats.Week})
		require.NoError(t, err)
		require.NotEmpty(t, pts)
		for _, p := range pts {
			mustContain(t, body, row(p.Period.Format(time.DateOnly), n(p.Open), n(p.Closed), formatPct(share(p.Open, p.Open+p.Closed))))
		}
		by, err := o.stats.RegistrationsBySoftware(ctx, stats.Query{Interval: stats.Week})
		require.NoError(t, err)
		for _, s := range by.Software[:min(len(by.Software), barsShown)] {
			name := esc(softwareLabel(s.Software))
			if p := softwarePath(s.Software, stats.Query{Interval: stats.Week}); p != "" {
				name = `<a href="` + esc(p) + `">` + name + "</a>"
			}
			mustContain(t, body, "<tr><td>"+name+`</td><td class="n">`+n(s.Open)+`</td><td class="n">`+n(s.Closed)+"</td>")
		}
	})

	t.Run("languages", func(t *testing.T) {
		_, body := get(t, o.srv, "/languages")
		langs, err := o.stats.Languages(ctx, stats.Query{})
		require.NoError(t, err)
		for _, s := range langs.Shares {
			if s.Key == "en" {
				mustContain(t, body, `<td><a href="/?language=en">en</a></td><td class="n">`+n(s.Instances)+`</td><td class="n">`+n(s.Accounts)+"</td>")
			}
		}
	})

	t.Run("versions", func(t *testing.T) {
		_, body := get(t, o.srv, "/software?software=mastodon")
		vs, err := o.stats.VersionShare(ctx, stats.Query{}, "mastodon")
		require.NoError(t, err)
		require.NotEmpty(t, vs.Shares)
		for _, s := range vs.Shares[:min(len(vs.Shares), barsShown)] {
			mustContain(t, body, "<tr><td>"+esc(versionLabel(s.Key))+`</td><td class="n">`+n(s.Instances)+"</td>")
		}
	})

	t.Run("instance", func(t *testing.T) {
		_, body := get(t, o.srv, "/instances/"+o.normal)
		hist, err := o.stats.History(ctx, o.normal, stats.Query{})
		require.NoError(t, err)
		require.Len(t, hist, len(o.days))
		newest := hist[len(hist)-1]
		rows := tableRows(t, body, "history-table")
		require.Len(t, rows, len(hist), "one row a day")
		require.Equal(t, newest.Day.Format(time.DateOnly), rows[0][0], "newest first")
		require.Equal(t, newest.Version, rows[0][1])
		require.Equal(t, formatOptional(newest.Accounts), rows[0][3])
	})
}

// testCensusAssetsMissing: without the echarts build, the census pages
// show their tables open and load no script.
func testCensusAssetsMissing(t *testing.T, o *observatory) {
	assets := fstest.MapFS{}
	for _, name := range []string{"style.css", "charts.js"} {
		b, err := fs.ReadFile(embeddedAssets(), name)
		require.NoError(t, err)
		assets[name] = &fstest.MapFile{Data: b}
	}
	d, err := newDashboard(Options{Store: o.st, Stats: o.stats, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, assets)
	require.NoError(t, err)
	mux := http.NewServeMux()
	d.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, path := range []string{"/", "/software?software=mastodon", "/registrations", "/languages", "/instances/" + o.normal} {
		t.Run(path, func(t *testing.T) {
			resp, body := get(t, srv, path)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			mustContain(t, body, `<p class="notice" role="alert">echarts assets missing: run make assets`)
			require.NotContains(t, body, "<script")
			require.NotContains(t, body, "data-echarts-option")
			mustContain(t, body, "<details open>\n    <summary>Table:", "the tables stand in for the charts")
			if !strings.HasPrefix(path, "/instances/") { // whose snapshot list is no chart's table
				require.NotRegexp(t, `<details>\s*<summary>Table:`, body, "every table is open")
			}
		})
	}
}

// The census pages need the statistics; without them they say so.
func TestCensusPagesWithoutStats(t *testing.T) {
	store, search := newFakes()
	srv := newTestServer(t, store, search, nil, nil)
	for _, path := range []string{"/", "/software", "/registrations", "/languages"} {
		resp, body := get(t, srv, path)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, path)
		mustContain(t, body, "The observatory&#39;s statistics are not available on this server.")
	}
	resp, _ := get(t, srv, "/datasets")
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// mustContain is require.Contains for pages: a failure names what is
// missing without printing the whole page.
func mustContain(t *testing.T, body, want string, msg ...any) {
	t.Helper()
	if !strings.Contains(body, want) {
		t.Fatalf("the page lacks %q %v", want, msg)
	}
}
