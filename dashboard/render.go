package dashboard

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fedilens/fedilens/internal/model"
)

//go:embed templates/*.html
var templateFiles embed.FS

// pageNames are the page templates; each defines "title" and "content"
// for templates/layout.html.
var pageNames = []string{"overview", "instance", "search", "about", "error", "instances", "posts",
	"software", "registrations", "languages", "datasets", "graph", "blocks"}

// navLink is one entry of the main navigation.
type navLink struct {
	Label, Path string
	Current     bool
}

// navPages are the pages the main navigation lists, in order. Only pages
// that exist are listed.
var navPages = []struct{ label, path string }{
	{"Overview", "/"},
	{"Software", "/software"},
	{"Registrations", "/registrations"},
	{"Languages", "/languages"},
	{"Instances", "/instances"},
	{"Graph", "/graph"},
	{"Blocks", "/blocks"},
	{"Posts", "/posts"},
	{"Search", "/search"},
	{"Datasets", "/datasets"},
	{"About", "/about"},
}

// nav is the main navigation of the page at path: the current section is
// marked (an instance's page belongs to the explorer).
func nav(path string) []navLink {
	out := make([]navLink, len(navPages))
	for i, p := range navPages {
		cur := path == p.path || (p.path == "/instances" && strings.HasPrefix(path, "/instances/"))
		out[i] = navLink{Label: p.label, Path: p.path, Current: cur}
	}
	return out
}

var templateFuncs = template.FuncMap{
	"num":          formatNum,
	"opt":          formatOptional,
	"when":         formatTime,
	"iso":          func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"day":          func(t time.Time) string { return t.UTC().Format(time.DateOnly) },
	"pct":          func(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) + " %" },
	"clip":         clip,
	"instancePath": instancePath,
	"yesno": func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	},
}

func parsePages() (map[string]*template.Template, error) {
	layout, err := template.New("layout.html").Funcs(templateFuncs).ParseFS(templateFiles, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	pages := make(map[string]*template.Template, len(pageNames))
	for _, name := range pageNames {
		t, err := layout.Clone()
		if err != nil {
			return nil, fmt.Errorf("clone layout for %s: %w", name, err)
		}
		if _, err := t.ParseFS(templateFiles, "templates/"+name+".html"); err != nil {
			return nil, fmt.Errorf("parse page %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// contentSecurityPolicy allows nothing but this origin. Scripts are only
// the two files under /assets/ (no inline script: see charts.go). Inline
// styles stay allowed because echarts writes style attributes into its
// tooltip markup; nothing remote reaches a style attribute.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// securityHeaders sets the headers every dashboard response carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY") // frame-ancestors for old browsers
		next.ServeHTTP(w, r)
	})
}

// pageResult is what a page handler produces: a template and its data.
type pageResult struct {
	// status is the HTTP status; 0 means 200.
	status int
	// name is one of pageNames.
	name  string
	title string
	data  any
	// charts makes the layout load echarts and the chart loader.
	charts bool
}

// pageFunc is what every page is written as; page turns it into a handler.
type pageFunc func(r *http.Request) (pageResult, error)

// layoutData is what templates/layout.html receives; pages find their own
// data in Page.
type layoutData struct {
	Title   string
	Version string
	// Scripts loads echarts and /assets/charts.js.
	Scripts bool
	// AssetsMissing shows the "run make assets" notice on chart pages.
	AssetsMissing bool
	// Nav is the main navigation.
	Nav  []navLink
	Page any
}

// pageError is an error with a status and a message safe to show.
type pageError struct {
	status  int
	message string
}

func (e *pageError) Error() string { return e.message }

// errorPage maps a handler error to the error page. It is the only place
// errors become statuses; internal detail goes to the log only.
func (d *Dashboard) errorPage(r *http.Request, err error) pageResult {
	var pe *pageError
	status, message := http.StatusInternalServerError, "Something went wrong on our side. Please try again later."
	switch {
	case errors.As(err, &pe):
		status, message = pe.status, pe.message
	case errors.Is(err, model.ErrNotFound):
		status, message = http.StatusNotFound, "There is nothing here."
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		d.log.Debug("page abandoned by client", "path", r.URL.Path, "err", err)
	default:
		d.log.Error("dashboard page failed", "path", r.URL.Path, "err", err)
	}
	return pageResult{
		status: status,
		name:   "error",
		title:  http.StatusText(status),
		data:   errorData{Title: http.StatusText(status), Message: message},
	}
}

type errorData struct {
	Title   string
	Message string
}

// page wraps a pageFunc: it maps errors, renders into a buffer (so a
// template failure becomes a clean 500, not half a page) and sets headers.
func (d *Dashboard) page(h pageFunc) http.Handler {
	return securityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := h(r)
		if err != nil {
			res = d.errorPage(r, err)
		}
		status := res.status
		if status == 0 {
			status = http.StatusOK
		}
		var buf bytes.Buffer
		err = d.pages[res.name].ExecuteTemplate(&buf, "layout", layoutData{
			Title:         res.title,
			Version:       d.opts.Version,
			Scripts:       res.charts && d.chartsReady,
			AssetsMissing: res.charts && !d.chartsReady,
			Nav:           nav(r.URL.Path),
			Page:          res.data,
		})
		if err != nil {
			d.log.Error("render page", "page", res.name, "err", err)
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte("internal error\n"))
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if status == http.StatusOK {
			w.Header().Set("Cache-Control", "public, max-age=60")
		} else {
			w.Header().Set("Cache-Control", "no-store")
		}
		w.WriteHeader(status)
		_, _ = w.Write(buf.Bytes())
	}))
}

// formatNum writes an integer with thousands separators.
func formatNum(v any) string {
	var s string
	switch n := v.(type) {
	case int:
		s = strconv.Itoa(n)
	case int64:
		s = strconv.FormatInt(n, 10)
	case uint64:
		s = strconv.FormatUint(n, 10)
	default:
		return fmt.Sprint(v)
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// formatOptional shows an optional count; NodeInfo lets servers omit
// most of them, and "unknown" must not look like 0.
func formatOptional(v *int64) string {
	if v == nil {
		return "unknown"
	}
	return formatNum(*v)
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// clip shortens remote text for table cells; the full text is in the API.
func clip(n int, s string) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// hostPattern is what the dashboard links as a host: DNS labels with at
// least one dot and an optional port. Anything else is shown as text only.
var hostPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?)+(:[0-9]{1,5})?$`)

func linkableHost(host string) bool {
	return len(host) <= 259 && hostPattern.MatchString(host)
}

// instancePath is the dashboard page of host, or "" when host is not a
// host name (hostile peer lists contain anything).
func instancePath(host string) string {
	if !linkableHost(host) {
		return ""
	}
	return "/instances/" + url.PathEscape(host)
}

// externalURL is the https address of host, or "" when host is not a
// linkable host name. Only https is ever built here.
func externalURL(host string) string {
	if !linkableHost(host) {
		return ""
	}
	return (&url.URL{Scheme: "https", Host: host, Path: "/"}).String()
}

// remoteLink returns raw if it is an absolute http(s) URL with a host, and
// "" otherwise: a javascript:, data: or relative URL from a remote server
// must never become a link on this origin.
func remoteLink(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil {
		return ""
	}
	switch strings.ToLower(u.Scheme) {
	case "https", "http":
		return u.String()
	default:
		return ""
	}
}

// safeSnippet trusts the index's snippet (sanitised, only <mark>) but
// checks it: if anything but <mark> and </mark> looks like markup, the
// whole snippet is shown as escaped text instead.
func safeSnippet(s string) template.HTML {
	rest := strings.NewReplacer("<mark>", "", "</mark>", "").Replace(s)
	if strings.ContainsAny(rest, "<>") {
		return template.HTML(template.HTMLEscapeString(s)) //nolint:gosec // escaped
	}
	return template.HTML(s) //nolint:gosec // only <mark> markup, checked above
}

// normaliseHost turns a host from the URL into the store's form (lower
// case, no trailing dot); names that cannot be hosts are not found.
func normaliseHost(raw string) (string, error) {
	host := strings.TrimSuffix(strings.ToLower(raw), ".")
	if host == "" || len(host) > 259 || strings.ContainsAny(host, "/\\ \t\r\n<>\"'") {
		return "", &pageError{status: http.StatusNotFound, message: "fedilens knows no instance by that name."}
	}
	return host, nil
}
