package dashboard

import (
	"context"
	"encoding/xml"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/websearch/websearchtest"
)

// browserWatch records what must never happen on a page built from remote
// content: a dialog (every payload calls alert), a console error (a CSP
// violation is one) or an uncaught exception. Dialogs are dismissed, so a
// payload that runs cannot block the test either.
type browserWatch struct {
	mu      sync.Mutex
	dialogs []string
	errors  []string
}

func (w *browserWatch) take() (dialogs, errs []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	dialogs, errs = w.dialogs, w.errors
	w.dialogs, w.errors = nil, nil
	return dialogs, errs
}

// startSearchBrowser starts headless Chromium with a tab watched by the
// returned browserWatch.
func startSearchBrowser(t *testing.T) (context.Context, *browserWatch) {
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
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancel := chromedp.NewContext(allocCtx)
	require.NoError(t, chromedp.Do(ctx), "start chromium")

	w := &browserWatch{}
	listenCtx, stopListening := context.WithCancel(ctx)
	var wg sync.WaitGroup
	messages := chromedp.Console(listenCtx)
	opened := chromedp.Events(listenCtx, page.JavascriptDialogOpening)
	wg.Add(2)
	go func() {
		defer wg.Done()
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				w.mu.Lock()
				w.errors = append(w.errors, m.String())
				w.mu.Unlock()
			}
		}
	}()
	go func() {
		defer wg.Done()
		for ev, err := range opened {
			if err != nil {
				return
			}
			w.mu.Lock()
			w.dialogs = append(w.dialogs, ev.Message)
			w.mu.Unlock()
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

// feedReader serves what a feed reader without any protection shows of a
// feed: every entry's title, summary and content as HTML, no CSP. It also
// serves two controls that prove the watch sees a payload that runs.
func feedReader(t *testing.T, feed []byte) *httptest.Server {
	t.Helper()
	var doc atomDoc
	require.NoError(t, xml.Unmarshal(feed, &doc))
	var b strings.Builder
	b.WriteString("<!DOCTYPE html><html><head><title>reader</title></head><body>\n")
	for _, e := range doc.Entries {
		b.WriteString("<article><h2>" + html.EscapeString(e.Title) + "</h2>\n")
		if e.Summary != nil {
			b.WriteString("<p class=cw>" + html.EscapeString(e.Summary.Text) + "</p>\n")
		}
		for _, l := range e.Links {
			b.WriteString(`<a href="` + html.EscapeString(l.Href) + `">original</a>` + "\n")
		}
		b.WriteString("<div class=content>" + e.Content.Text + "</div></article>\n")
	}
	b.WriteString(`<p id="done">end</p></body></html>`)
	rendered := b.String()

	mux := http.NewServeMux()
	serve := func(path, body, csp string) {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			if csp != "" {
				w.Header().Set("Content-Security-Policy", csp)
			}
			_, _ = w.Write([]byte(body))
		})
	}
	serve("/feed", rendered, "")
	serve("/control-script", `<!DOCTYPE html><p id="done">x</p><img src=x onerror="alert('control')">`, "")
	serve("/control-csp", `<!DOCTYPE html><p id="done">x</p><script>document.title = "ran"</script>`, "script-src 'none'")
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestBrowserSearch loads the search page and a feed reader's rendering of
// the feed, both full of hostile posts, in headless Chromium: nothing may
// run (no dialog, no console error, no CSP violation). Then, with
// JavaScript switched off, it searches through the form, narrows with a
// filter and a facet, and pages: the page needs no script.
func TestBrowserSearch(t *testing.T) {
	srv := searchTestServer(t, Options{})
	ctx, watch := startSearchBrowser(t)
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	_, feed := get(t, srv, "/search.atom?q="+websearchtest.HostileWord)
	reader := feedReader(t, []byte(feed))

	// The controls: a payload that runs and a CSP violation are seen.
	require.NoError(t, chromedp.Do(tctx,
		chromedp.Navigate(reader.URL+"/control-script"),
		chromedp.WaitVisible(chromedp.CSS("#done")),
		chromedp.Sleep(200*time.Millisecond),
	))
	dialogs, _ := watch.take()
	require.Equal(t, []string{"control"}, dialogs, "the watch sees a script that runs")
	require.NoError(t, chromedp.Do(tctx,
		chromedp.Navigate(reader.URL+"/control-csp"),
		chromedp.WaitVisible(chromedp.CSS("#done")),
		chromedp.Sleep(200*time.Millisecond),
	))
	_, errs := watch.take()
	require.NotEmpty(t, errs, "the watch sees a CSP violation")

	// The search page with every hostile post, the content warning opened.
	require.NoError(t, chromedp.Do(tctx,
		chromedp.Navigate(srv.URL+"/search?q="+websearchtest.HostileWord),
		chromedp.WaitVisible(chromedp.CSS("#result-count")),
		chromedp.Click(chromedp.CSS("summary.cw")),
		chromedp.Sleep(200*time.Millisecond),
	))
	cw, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS("summary.cw")))
	require.NoError(t, err)
	require.Contains(t, cw, websearchtest.ScriptTag, "the content warning shows as text")
	author, err := chromedp.Run(tctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll(".author"), e => e.textContent).join("\n")`))
	require.NoError(t, err)
	require.Contains(t, author, websearchtest.ImgOnerror+websearchtest.AttrBreak)
	elements, err := chromedp.Run(tctx, chromedp.Evaluate[int](`document.querySelectorAll("main script, main img, main svg, main iframe, main style").length`))
	require.NoError(t, err)
	require.Zero(t, elements, "remote text became markup")
	dialogs, errs = watch.take()
	require.Empty(t, dialogs, "a remote string ran as script on the search page")
	require.Empty(t, errs, "console errors on the search page")

	// A feed reader without protection shows the feed's HTML as it is.
	require.NoError(t, chromedp.Do(tctx,
		chromedp.Navigate(reader.URL+"/feed"),
		chromedp.WaitVisible(chromedp.CSS("#done")),
		chromedp.Sleep(300*time.Millisecond),
	))
	articles, err := chromedp.Run(tctx, chromedp.Evaluate[int](`document.querySelectorAll("article").length`))
	require.NoError(t, err)
	require.Equal(t, 3, articles)
	dialogs, errs = watch.take()
	require.Empty(t, dialogs, "the feed's content ran as script")
	require.Empty(t, errs, "console errors rendering the feed")

	// JavaScript off: the page still searches, filters, narrows and pages.
	_, err = chromedp.Call(tctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(tctx,
		chromedp.Navigate(reader.URL+"/control-script"),
		chromedp.WaitVisible(chromedp.CSS("#done")),
		chromedp.Sleep(200*time.Millisecond),
	))
	dialogs, _ = watch.take()
	require.Empty(t, dialogs, "scripts are off")

	require.NoError(t, chromedp.Do(tctx,
		chromedp.Navigate(srv.URL+"/search"),
		chromedp.SendKeys(chromedp.CSS("#q"), "ducks"),
		chromedp.Click(chromedp.CSS("details.filters-form summary")),
		chromedp.SendKeys(chromedp.CSS("#f-instance"), "b.example"),
		chromedp.Click(chromedp.CSS(`form.search button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#result-count")),
	))
	count, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS("#result-count")))
	require.NoError(t, err)
	onB := websearchtest.Count(func(i int) bool { return i%3 == 1 })
	require.Equal(t, formatNum(onB)+" results", count)
	location, err := chromedp.Run(tctx, chromedp.Location())
	require.NoError(t, err)
	require.Contains(t, location, "instance=b.example")

	// A facet link (the German posts), then the next page.
	require.NoError(t, chromedp.Do(tctx,
		chromedp.Click(chromedp.CSS(`aside.facets a[href*="lang=de"]`)),
		chromedp.WaitVisible(chromedp.CSS(`ul.active-filters`)),
	))
	count, err = chromedp.Run(tctx, chromedp.Text(chromedp.CSS("#result-count")))
	require.NoError(t, err)
	require.Equal(t, formatNum(websearchtest.Count(func(i int) bool { return i%3 == 1 && i%2 == 1 }))+" results", count)
	first, err := chromedp.Run(tctx, chromedp.AttributeValue(chromedp.CSS("a.external"), "href"))
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(tctx,
		chromedp.Click(chromedp.CSS(`a[rel="next"]`)),
		chromedp.WaitVisible(chromedp.CSS("#result-count")),
	))
	second, err := chromedp.Run(tctx, chromedp.AttributeValue(chromedp.CSS("a.external"), "href"))
	require.NoError(t, err)
	require.NotEqual(t, first, second, "the next page shows other posts")
	dialogs, errs = watch.take()
	require.Empty(t, dialogs)
	require.Empty(t, errs, "console errors without JavaScript")
}
