package dashboard

import (
	"context"
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

// TestBrowserOverview loads the overview in a real headless Chromium and
// checks what only a browser can: echarts loads from /assets/, the charts
// draw under the Content-Security-Policy, the console stays clean, nothing
// is requested from another host, the page fits a phone screen, and the
// hostile instance title does not run as script in its chart.
// Screenshots go to $FEDILENS_SCREENSHOTS, or a temporary directory.
func TestBrowserOverview(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		if testing.Short() {
			t.Skipf("no %s in -short mode: %v", chromiumPath, err)
		}
		t.Fatalf("the browser test needs %s (apt-get install chromium): %v", chromiumPath, err)
	}
	store, search := newFakes()
	srv := newTestServer(t, store, search, nil, nil)
	serverURL, err := url.Parse(srv.URL)
	require.NoError(t, err)

	shots := os.Getenv("FEDILENS_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(shots, 0o755))

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
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	require.NoError(t, chromedp.Do(ctx), "start chromium") // no timeout: it would stop the browser

	// Record the console, the requests and the responses of the tab.
	listenCtx, stopListening := context.WithCancel(ctx)
	var (
		mu        sync.Mutex
		console   []chromedp.ConsoleMessage
		requested []string
		failed    []string
		dialogs   []string
		wg        sync.WaitGroup
	)
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
			mu.Lock()
			console = append(console, m)
			mu.Unlock()
		}
	}()
	go func() {
		defer wg.Done()
		for ev, err := range requests {
			if err != nil {
				return
			}
			mu.Lock()
			requested = append(requested, ev.Request.URL)
			mu.Unlock()
		}
	}()
	go func() {
		defer wg.Done()
		for ev, err := range responses {
			if err != nil {
				return
			}
			if ev.Response.Status >= 400 {
				mu.Lock()
				failed = append(failed, ev.Response.URL)
				mu.Unlock()
			}
		}
	}()

	go func() {
		defer wg.Done()
		for ev, err := range opened {
			if err != nil {
				return
			}
			mu.Lock()
			dialogs = append(dialogs, ev.Message)
			mu.Unlock()
		}
	}()

	tctx, tcancel := context.WithTimeout(ctx, 30*time.Second)
	defer tcancel()
	require.NoError(t, chromedp.Do(tctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#software-instances canvas")),
		chromedp.WaitVisible(chromedp.CSS("#software-active canvas")),
		chromedp.WaitVisible(chromedp.CSS("#instances-over-time canvas")),
	))
	// echarts builds its tooltip with innerHTML: show the tooltip of the
	// bar whose software name is an XSS payload, and check it stays text.
	tooltip, err := chromedp.Run(tctx, chromedp.Evaluate[string](`(() => {
		const el = document.getElementById("software-instances");
		echarts.getInstanceByDom(el).dispatchAction({type: "showTip", seriesIndex: 0, dataIndex: 2});
		return el.textContent;
	})()`))
	require.NoError(t, err)
	require.Contains(t, tooltip, xss, "the tooltip shows the name as text")
	images, err := chromedp.Run(tctx, chromedp.Evaluate[int](`document.querySelectorAll("img").length`))
	require.NoError(t, err)
	require.Zero(t, images, "a remote string became markup")

	desktop, err := chromedp.Run(tctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(shots, "overview-desktop.png"), desktop, 0o644))

	// A phone: the layout must not scroll sideways (wide tables scroll
	// inside their own box) and the charts must still be drawn.
	require.NoError(t, chromedp.Do(tctx,
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)),
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS("#software-instances canvas")),
	))
	fits, err := chromedp.Run(tctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`))
	require.NoError(t, err)
	require.True(t, fits, "the overview scrolls sideways on a phone")
	phone, err := chromedp.Run(tctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(shots, "overview-phone.png"), phone, 0o644))

	// The instance whose title is an XSS payload: its chart must draw the
	// title as text. alert() would open a dialog (and block the page).
	require.NoError(t, chromedp.Do(tctx,
		chromedp.Navigate(srv.URL+"/instances/evil.example"),
		chromedp.WaitVisible(chromedp.CSS("#instance-history canvas")),
		// Late messages (a chart that throws after drawing) still count.
		chromedp.Sleep(200*time.Millisecond),
	))
	stopListening()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()

	for _, m := range console {
		if m.Type == chromedp.ConsoleError || m.IsException() {
			t.Errorf("console %s at %s:%d", m, m.URL, m.Line+1)
		}
	}
	require.NotEmpty(t, requested)
	for _, raw := range requested {
		u, err := url.Parse(raw)
		require.NoError(t, err)
		require.Equal(t, serverURL.Host, u.Host, "request to another host: %s", raw)
	}
	require.Contains(t, requested, srv.URL+"/assets/echarts.min.js")
	require.Empty(t, failed, "failed responses")
	require.Empty(t, dialogs, "a remote string ran as script")
	t.Logf("screenshots in %s", shots)
}
