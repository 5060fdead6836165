package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// chromiumPath is Debian's Chromium; CI installs it, so its absence is a
// failure, not a reason to skip (except in -short runs).
const chromiumPath = "/usr/bin/chromium"

// tabWatch records what a tab did: console errors and uncaught
// exceptions, dialogs (every payload calls alert; they are dismissed so
// a payload that runs cannot block the test), every request's URL and
// every response of 400 or more.
type tabWatch struct {
	mu        sync.Mutex
	errors    []string
	dialogs   []string
	requested []string
	failed    []string
}

// take returns and clears what was recorded.
func (w *tabWatch) take() (errs, dialogs, requested, failed []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	errs, dialogs, requested, failed = w.errors, w.dialogs, w.requested, w.failed
	w.errors, w.dialogs, w.requested, w.failed = nil, nil, nil, nil
	return errs, dialogs, requested, failed
}

// startBrowser starts headless Chromium with one tab watched by the
// returned tabWatch, stopped when the test ends.
func startBrowser(t *testing.T) (context.Context, *tabWatch) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if testing.Short() {
			t.Skipf("no %s in -short mode: %v", chromiumPath, err)
		}
		t.Fatalf("the browser test needs %s (apt-get install chromium): %v", chromiumPath, err)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// Containers often have a tiny /dev/shm; Chromium crashes when it fills.
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancel := chromedp.NewContext(allocCtx)
	require.NoError(t, chromedp.Do(ctx), "start chromium") // no timeout: it would stop the browser

	w := &tabWatch{}
	listenCtx, stopListening := context.WithCancel(ctx)
	var wg sync.WaitGroup
	record := func(list *[]string, s string) {
		w.mu.Lock()
		*list = append(*list, s)
		w.mu.Unlock()
	}
	messages := chromedp.Console(listenCtx)
	requests := chromedp.Events(listenCtx, network.RequestWillBeSent)
	responses := chromedp.Events(listenCtx, network.ResponseReceived)
	opened := chromedp.Events(listenCtx, page.JavascriptDialogOpening)
	wg.Add(4)
	go func() {
		defer wg.Done()
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				record(&w.errors, fmt.Sprintf("%s at %s:%d", m, m.URL, m.Line+1))
			}
		}
	}()
	go func() {
		defer wg.Done()
		for ev, err := range requests {
			if err != nil {
				return
			}
			record(&w.requested, ev.Request.URL)
		}
	}()
	go func() {
		defer wg.Done()
		for ev, err := range responses {
			if err != nil {
				return
			}
			if ev.Response.Status >= 400 {
				record(&w.failed, fmt.Sprintf("%d %s", ev.Response.Status, ev.Response.URL))
			}
		}
	}()
	go func() {
		defer wg.Done()
		for ev, err := range opened {
			if err != nil {
				return
			}
			record(&w.dialogs, ev.Message)
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	t.Cleanup(func() {
		stopListening()
		wg.Wait()
		cancel()
		cancelAlloc()
	})
	return ctx, w
}

// chartsDrawn is true once every chart container of the page holds a
// canvas or svg: echarts has started on each.
const chartsDrawn = `Array.from(document.querySelectorAll("[data-echarts-for]")).every(h => {
	const el = document.getElementById(h.getAttribute("data-echarts-for"));
	return el && el.querySelector("canvas, svg");
})`

// chartReport lists, for every chart container, whether its canvas (or
// svg) has a size and content: painted pixels, or svg elements.
const chartReport = `Array.from(document.querySelectorAll("[data-echarts-for]")).map(h => {
	const id = h.getAttribute("data-echarts-for");
	const el = document.getElementById(id);
	const c = el && el.querySelector("canvas, svg");
	if (!c) return id + ": no canvas or svg";
	const r = c.getBoundingClientRect();
	if (r.width < 50 || r.height < 50) return id + ": " + r.width + "x" + r.height;
	if (c.tagName.toLowerCase() === "svg") return c.querySelectorAll("path, text").length > 0 ? "" : id + ": empty svg";
	const px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
	let painted = 0;
	for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) painted++;
	return painted > 500 ? "" : id + ": " + painted + " painted pixels";
}).filter(s => s !== "")`

// browserPage is one page the browser test loads.
type browserPage struct {
	name, path string
	// charts is the least number of charts the page draws.
	charts int
	// shown are remote strings the page must show as visible text, and
	// inTables those it shows as text in its (closed) tables.
	shown, inTables []string
	// tooltips maps a chart to a remote label whose tooltip is opened:
	// echarts builds tooltips with innerHTML.
	tooltips map[string]string
	// nodeTips maps a graph chart to a node (its host) whose tooltip is
	// opened and a remote string it must show as text.
	nodeTips map[string][2]string
}

// showTip opens the tooltip of the category whose label contains needle
// in chart id; it reports whether there is one.
const showTip = `((id, needle) => {
	const el = document.getElementById(id);
	const chart = echarts.getInstanceByDom(el);
	const opt = chart.getOption();
	const axis = [].concat(opt.yAxis || [], opt.xAxis || []).find(a => a.type === "category");
	const i = axis.data.findIndex(v => String(v).includes(needle));
	if (i >= 0) chart.dispatchAction({type: "showTip", seriesIndex: 0, dataIndex: i});
	return i >= 0;
})`

// showNodeTip opens the tooltip of the graph node named node in chart
// id; it reports whether there is one.
const showNodeTip = `((id, node) => {
	const chart = echarts.getInstanceByDom(document.getElementById(id));
	const i = chart.getOption().series[0].data.findIndex(d => d.name === node);
	if (i >= 0) chart.dispatchAction({type: "showTip", seriesIndex: 0, dataIndex: i});
	return i >= 0;
})`

// tipShows is true once the chart's tooltip (which echarts fills in
// asynchronously) shows needle as text.
const tipShows = `((id, needle) => document.getElementById(id).textContent.includes(needle))`

// testBrowserObservatory loads every dashboard page over the filled store
// in headless Chromium, on a desktop and on a phone, in one tab: every
// chart draws, the console stays clean, nothing is requested from another
// host, no response fails, the hostile strings show as text and run
// nothing, and the page fits a 375 px screen. Screenshots of each page go
// to $FEDILENS_SCREENSHOTS, or a temporary folder (logged).
func testBrowserObservatory(t *testing.T, o *observatory) {
	ctx, watch := startBrowser(t)
	began := time.Now()
	shots := os.Getenv("FEDILENS_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(shots, 0o755))
	serverURL, err := url.Parse(o.srv.URL)
	require.NoError(t, err)

	filtered := url.Values{"from": {o.day(2)}, "to": {o.day(-1)}, "interval": {"week"}, "software": {o.software},
		"include_flagged": {"true"}}.Encode()
	pages := []browserPage{
		{name: "overview", path: "/", charts: 7, shown: []string{hostileTitle}, inTables: []string{hostileSoftware},
			tooltips: map[string]string{"software-instances": hostileSoftware}},
		{name: "overview-filtered", path: "/?" + filtered, charts: 7, shown: []string{hostileTitle}},
		{name: "software", path: "/software?software=mastodon", charts: 7, inTables: []string{hostileSoftware, hostileVersion},
			tooltips: map[string]string{"versions-a-instances": hostileVersion, "software-accounts": hostileSoftware}},
		{name: "registrations", path: "/registrations", charts: 2, inTables: []string{hostileSoftware},
			tooltips: map[string]string{"registrations-by-software-chart": hostileSoftware}},
		{name: "languages", path: "/languages", charts: 2},
		{name: "explorer", path: "/instances?sort=host&software=mastodon", shown: []string{hostileTitle, hostileVersion}},
		{name: "explorer-filtered", path: "/instances?registrations=open&q=" + url.QueryEscape(`xss"><img src=x onerror=alert(7)>`) +
			"&sort=peers&order=asc", shown: []string{"No instances match these filters."}},
		{name: "explorer-sorted", path: "/instances?q=ex&registrations=open&sort=peers&order=asc&flagged=exclude",
			shown: []string{hostileTitle, hostileVersion}},
		{name: "instance-hostile", path: "/instances/" + hostileHost, charts: 4, shown: []string{hostileTitle, hostileReason, hostileMentioned}},
		{name: "instance", path: "/instances/" + o.normal, charts: 3},
		{name: "graph", path: "/graph", charts: 1},
		{name: "graph-around", path: "/graph?around=" + hostileHost + "&size=users", charts: 1, inTables: []string{hostileSoftware},
			nodeTips: map[string][2]string{"graph-chart": {hostileSoftHost, hostileSoftware}}},
		{name: "blocks", path: "/blocks", charts: 10, inTables: []string{hostileReason, hostileSoftware},
			tooltips: map[string]string{"block-reasons-chart": hostileReason, "threads-software-a-chart": hostileSoftware}},
		{name: "datasets", path: "/datasets"},
		{name: "about", path: "/about"},
		{name: "posts", path: "/posts", charts: 1},
		{name: "search", path: "/search?q=ducks"},
	}
	for _, device := range []struct {
		name  string
		width int64
		setup chromedp.Action[chromedp.Void]
	}{
		{name: "desktop", width: 1280, setup: chromedp.EmulateViewport(1280, 900)},
		{name: "phone", width: 375, setup: chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile, chromedp.EmulateScale(1))},
	} {
		require.NoError(t, chromedp.Do(ctx, device.setup))
		for _, p := range pages {
			t.Run(device.name+"/"+p.name, func(t *testing.T) {
				tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
				defer cancel()
				require.NoError(t, chromedp.Do(tctx, chromedp.Navigate(o.srv.URL+p.path)))
				_, err := chromedp.Run(tctx, chromedp.Poll[bool](chartsDrawn, chromedp.WithPollingInterval(20*time.Millisecond)))
				require.NoError(t, err, "charts did not start")
				charts, err := chromedp.Run(tctx, chromedp.Evaluate[int](`document.querySelectorAll("[data-echarts-for]").length`))
				require.NoError(t, err)
				require.GreaterOrEqual(t, charts, p.charts, "charts on the page")
				report, err := chromedp.Run(tctx, chromedp.Evaluate[[]string](chartReport))
				require.NoError(t, err)
				require.Empty(t, report, "charts without content")
				text, err := chromedp.Run(tctx, chromedp.Evaluate[string](`document.body.innerText`))
				require.NoError(t, err)
				for _, h := range p.shown {
					require.Contains(t, text, h, "the remote string is shown as text")
				}
				text, err = chromedp.Run(tctx, chromedp.Evaluate[string](`document.body.textContent`))
				require.NoError(t, err)
				for _, h := range p.inTables {
					require.Contains(t, text, h, "the remote string is in the page as text")
				}
				width, err := chromedp.Run(tctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
				require.NoError(t, err)
				require.LessOrEqual(t, width, int(device.width), "the page scrolls sideways")

				shot, err := chromedp.Run(tctx, chromedp.FullScreenshot(100))
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(filepath.Join(shots, p.name+"-"+device.name+".png"), shot, 0o644))

				for id, needle := range p.tooltips {
					js, err := json.Marshal([]string{id, needle})
					require.NoError(t, err)
					found, err := chromedp.Run(tctx, chromedp.Evaluate[bool](showTip+"(..."+string(js)+")"))
					require.NoError(t, err)
					require.True(t, found, "chart %s has a category %q", id, needle)
					pctx, cancel := context.WithTimeout(tctx, 5*time.Second)
					_, err = chromedp.Run(pctx, chromedp.Poll[bool](tipShows+"(..."+string(js)+")", chromedp.WithPollingInterval(20*time.Millisecond)))
					cancel()
					require.NoError(t, err, "the tooltip of %s shows the label as text", id)
				}
				for id, tip := range p.nodeTips {
					node, err := json.Marshal([]string{id, tip[0]})
					require.NoError(t, err)
					found, err := chromedp.Run(tctx, chromedp.Evaluate[bool](showNodeTip+"(..."+string(node)+")"))
					require.NoError(t, err)
					require.True(t, found, "graph %s has a node %q", id, tip[0])
					shows, err := json.Marshal([]string{id, tip[1]})
					require.NoError(t, err)
					pctx, cancel := context.WithTimeout(tctx, 5*time.Second)
					_, err = chromedp.Run(pctx, chromedp.Poll[bool](tipShows+"(..."+string(shows)+")", chromedp.WithPollingInterval(20*time.Millisecond)))
					cancel()
					require.NoError(t, err, "the tooltip of node %s shows %q as text", tip[0], tip[1])
				}
				images, err := chromedp.Run(tctx, chromedp.Evaluate[int](`document.querySelectorAll("img").length`))
				require.NoError(t, err)
				require.Zero(t, images, "a remote string became markup")
				errs, dialogs, requested, failed := watch.take()
				require.Empty(t, errs, "console errors")
				require.Empty(t, dialogs, "a remote string ran as script")
				require.Empty(t, failed, "failed responses")
				require.NotEmpty(t, requested)
				for _, raw := range requested {
					u, err := url.Parse(raw)
					require.NoError(t, err)
					if u.Scheme == "data" {
						continue // Chromium's own icons (the date fields' calendar): no host at all
					}
					require.Equal(t, serverURL.Host, u.Host, "request to another host: %s", raw)
				}
				if p.charts > 0 {
					require.Contains(t, requested, o.srv.URL+"/assets/echarts.min.js")
				}
			})
		}
	}
	t.Logf("browser: %d pages on 2 devices in %s; screenshots in %s", len(pages), time.Since(began).Round(time.Millisecond), shots)
}
