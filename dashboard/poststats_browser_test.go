package dashboard

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// TestBrowserPostsPage loads the posts page, whose languages, hosts and
// reasons carry an XSS payload, in headless Chromium: its four charts draw
// under the Content-Security-Policy, the payload shown in a chart tooltip
// stays text, nothing runs (no dialog, no console error), and the page fits
// a phone screen.
func TestBrowserPostsPage(t *testing.T) {
	ctx, watch := startSearchBrowser(t)
	srv := newPostsServer(t, newPostsFake(), nil, nil)

	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, chromedp.Do(tctx,
		chromedp.Navigate(srv.URL+"/posts"),
		chromedp.WaitVisible(chromedp.CSS("#posts-per-day canvas")),
		chromedp.WaitVisible(chromedp.CSS("#posts-languages canvas")),
		chromedp.WaitVisible(chromedp.CSS("#posts-access canvas")),
		chromedp.WaitVisible(chromedp.CSS("#posts-skipped canvas")),
	))
	// echarts builds tooltips with innerHTML: show the hostile language's.
	tooltip, err := chromedp.Run(tctx, chromedp.Evaluate[string](`(() => {
		const el = document.getElementById("posts-languages");
		echarts.getInstanceByDom(el).dispatchAction({type: "showTip", seriesIndex: 0, dataIndex: 2});
		return el.textContent;
	})()`))
	require.NoError(t, err)
	require.Contains(t, tooltip, xss, "the tooltip shows the language as text")
	images, err := chromedp.Run(tctx, chromedp.Evaluate[int](`document.querySelectorAll("img").length`))
	require.NoError(t, err)
	require.Zero(t, images, "a remote string became markup")

	require.NoError(t, chromedp.Do(tctx,
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)),
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS("#posts-skipped canvas")),
		chromedp.Sleep(200*time.Millisecond), // late errors still count
	))
	fits, err := chromedp.Run(tctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`))
	require.NoError(t, err)
	require.True(t, fits, "the posts page scrolls sideways on a phone")
	if dir := os.Getenv("FEDILENS_SCREENSHOTS"); dir != "" {
		shot, err := chromedp.Run(tctx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "posts-phone.png"), shot, 0o644))
	}

	dialogs, errs := watch.take()
	require.Empty(t, dialogs, "a remote string ran as script")
	require.Empty(t, errs, "console errors")
}
