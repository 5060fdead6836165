package crawler

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/fedilens/fedilens/internal/webfinger"
)

// ErrRobotsDisallowed is wrapped by the errors of requests robots.txt does
// not allow (including a robots.txt that answered 5xx, which disallows
// everything for now), such as ResolveAccount on a GoToSocial instance,
// whose robots.txt disallows /.well-known/webfinger.
var ErrRobotsDisallowed = errRobots

// ErrHostRefused is wrapped by the errors of look-ups that would contact a
// host Options.Policy refuses (the operator's denylist, an admin's
// opt-out): such a host gets no request, whatever path asks.
var ErrHostRefused = errors.New("host refused by policy")

// ResolveAccount resolves a handle ("user@host", "@user@host" or
// "acct:user@host") to its ActivityPub actor with WebFinger (RFC 7033,
// host-meta fallback, canonical-domain confirmation; see
// internal/webfinger). Every request goes through the same per-host gate
// as the crawl's visits: robots.txt is read first and obeyed, requests to
// a host are never concurrent with a visit's and keep the politeness gap,
// and Retry-After is waited out; a host Options.Policy refuses gets no
// request. Errors wrap webfinger's sentinels, ErrRobotsDisallowed,
// ErrHostRefused, or the transport's.
func (m *Manager) ResolveAccount(ctx context.Context, acct string) (webfinger.Result, error) {
	res, err := webfinger.New(gateFetcher{m}, webfinger.Options{}).Lookup(ctx, acct)
	if err != nil {
		return webfinger.Result{}, fmt.Errorf("resolve account %.200q: %w", acct, err)
	}
	return res, nil
}

// gateFetcher is webfinger's Fetcher over the crawler's polite path.
type gateFetcher struct{ m *Manager }

// Fetch implements webfinger.Fetcher.
func (f gateFetcher) Fetch(ctx context.Context, rawURL, accept string, maxBody int64) (int, http.Header, []byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return 0, nil, nil, fmt.Errorf("%w: bad url %.300q", errMalformed, rawURL)
	}
	host, err := normaliseFor(u.Scheme, u.Host)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%w: bad host in %.300q: %w", errMalformed, rawURL, err)
	}
	if ok, reason := f.m.allowed(host); !ok {
		return 0, nil, nil, fmt.Errorf("%w: %s: %.200s", ErrHostRefused, host, reason)
	}
	u.Host = host
	hc, done := f.m.newHostCrawl(host, u.Scheme)
	defer done()
	resp, err := hc.get(ctx, fetchRequest{URL: u.String(), Accept: accept, MaxBody: maxBody})
	if err != nil {
		return 0, nil, nil, err
	}
	return resp.Status, resp.Header, resp.Body, nil
}
