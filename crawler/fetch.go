package crawler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gocolly/colly/v2"

	"github.com/fedilens/fedilens/internal/hostname"
	"github.com/fedilens/fedilens/internal/httpclient"
)

// fetcher is the fetch layer: colly on top of the one hardened HTTP client.
//
// colly's own limits are per rule, not per host, its robots handling runs
// outside any context and it has no Retry-After support (LIBRARIES.md), so
// it is used only to send requests: one global rule caps the requests in
// flight across all hosts, and per-host politeness, robots.txt and backoff
// are the crawler's (see host.go).
type fetcher struct {
	base *colly.Collector
}

// fetchRequest is one request of the crawler.
type fetchRequest struct {
	Method  string // "" = GET
	URL     string
	Accept  string
	Body    []byte // JSON body for POST (Misskey's API)
	MaxBody int64  // response cap; 0 = the client's default
	Header  http.Header
}

// fetchResponse is a complete response (the body is fully read, capped).
type fetchResponse struct {
	Status int
	Header http.Header
	Body   []byte
	URL    *url.URL // after redirects
}

func newFetcher(client *http.Client, userAgent string, maxInFlight int) (*fetcher, error) {
	c := colly.NewCollector(
		colly.AllowURLRevisit(),
		colly.ParseHTTPErrorResponse(),
		colly.IgnoreRobotsTxt(), // robots.txt is ours: RFC 9309, cached, with a context
		colly.MaxBodySize(0),    // the hardened client caps bodies, with an error instead of truncation
		colly.UserAgent(userAgent),
	)
	c.SetClient(client)
	c.DisableCookies()
	if err := c.Limit(&colly.LimitRule{DomainGlob: "*", Parallelism: maxInFlight}); err != nil {
		return nil, fmt.Errorf("setting colly limit: %w", err)
	}
	return &fetcher{base: c}, nil
}

// fetch sends one request. Transport errors (including the hardened
// client's refusals, which wrap httpclient sentinels) are returned as
// errors; every HTTP status is a response.
func (f *fetcher) fetch(ctx context.Context, r fetchRequest) (*fetchResponse, error) {
	c := f.base.Clone() // cheap; gives this request its own context and callbacks
	rctx := ctx
	if r.MaxBody > 0 {
		rctx = httpclient.WithMaxBody(ctx, r.MaxBody)
	}
	c.Context = httpclient.WithRedirectPolicy(rctx, sameSite)
	var out *fetchResponse
	c.OnResponse(func(resp *colly.Response) {
		out = &fetchResponse{Status: resp.StatusCode, Body: resp.Body, URL: resp.Request.URL}
		if resp.Headers != nil {
			out.Header = *resp.Headers
		}
	})
	hdr := http.Header{}
	for k, v := range r.Header {
		hdr[k] = append([]string(nil), v...)
	}
	if r.Accept != "" {
		hdr.Set("Accept", r.Accept)
	}
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	var body *bytes.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
		hdr.Set("Content-Type", "application/json")
	}
	var err error
	if body != nil {
		err = c.Request(method, r.URL, body, nil, hdr)
	} else {
		err = c.Request(method, r.URL, nil, nil, hdr)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	if out == nil {
		return nil, errors.New("no response")
	}
	return out, nil
}

// errOffsite: a request was redirected to another site.
var errOffsite = errors.New("redirect to another site")

// sameSite keeps the crawler's requests on the site they were sent to: a
// redirect may change the host within one registrable domain (example.com
// to social.example.com, the usual split of account domain and web
// domain), never to another site, where it would bypass that host's
// robots.txt and politeness gate.
func sameSite(from, to *url.URL) error {
	f, t := strings.ToLower(from.Hostname()), strings.ToLower(to.Hostname())
	if f != "" && (f == t || hostname.Registrable(f) == hostname.Registrable(t)) {
		return nil
	}
	return fmt.Errorf("%w: %s to %s", errOffsite, from.Host, to.Host)
}

// expectJSON refuses a response declared as something other than JSON
// (an HTML error page, say) before it is parsed. No declared type, text/plain
// and application/octet-stream pass: many servers label JSON carelessly.
func expectJSON(resp *fetchResponse) error {
	ct := resp.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	// Only the media type is judged: parameters are often malformed in
	// the wild (Pleroma sends an unquoted profile=http://...#).
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	if strings.Contains(mt, "json") || mt == "text/plain" || mt == "application/octet-stream" {
		return nil
	}
	return fmt.Errorf("%w: content type %s where JSON was expected", errMalformed, truncate(mt, 100))
}

// maxCacheLifetime caps how long an announced cache lifetime is trusted.
const maxCacheLifetime = 7 * 24 * time.Hour

// cacheLifetime is how long a response may be reused as the server
// announced it (Cache-Control max-age), 0 for none, no-store or no-cache.
func cacheLifetime(h http.Header) time.Duration {
	var age time.Duration
	for _, v := range h.Values("Cache-Control") {
		for _, d := range strings.Split(v, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(strings.ToLower(d)), "=")
			switch name {
			case "no-store", "no-cache":
				return 0
			case "max-age":
				if n, err := strconv.ParseInt(strings.Trim(val, `"`), 10, 64); err == nil && n > 0 {
					age = time.Duration(min(n, int64(maxCacheLifetime/time.Second))) * time.Second
				}
			}
		}
	}
	return age
}

// retryAfter parses a Retry-After header (delay seconds or an HTTP date).
// ok is false when the header is absent or unparseable.
func retryAfter(h http.Header, now time.Time) (d time.Duration, ok bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > 1<<31 {
			secs = 1 << 31
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// hasNoIndex reports whether X-Robots-Tag forbids indexing for us: either
// a bare directive list containing noindex or none, or one addressed to our
// product token ("fedilens: noindex").
func hasNoIndex(h http.Header, token string) bool {
	for _, v := range h.Values("X-Robots-Tag") {
		v = strings.ToLower(v)
		agent, rest, found := strings.Cut(v, ":")
		directives := v
		if found && !strings.ContainsAny(agent, ", ") {
			if strings.TrimSpace(agent) != strings.ToLower(token) {
				continue
			}
			directives = rest
		}
		for _, d := range strings.Split(directives, ",") {
			switch strings.TrimSpace(d) {
			case "noindex", "none":
				return true
			}
		}
	}
	return false
}
