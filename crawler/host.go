package crawler

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/fedilens/fedilens/internal/hostname"
	"github.com/fedilens/fedilens/internal/httpclient"
	"github.com/fedilens/fedilens/internal/model"
)

// Response size caps per endpoint.
const (
	maxRobotsBody   = 512 << 10
	maxNodeInfoBody = 1 << 20
	maxRetries      = 3
)

var errRobots = errors.New("disallowed by robots.txt")

// hostCrawl sends requests to one host through the host's gate (see
// gate.go): strictly sequential, spaced by the politeness gap measured from
// the end of one request to the start of the next, and checked against
// robots.txt.
type hostCrawl struct {
	m      *Manager
	host   string
	scheme string
	g      *gate
	// out collects what a visit produces; the Manager hands it to the sink
	// with the host's new state, in one piece.
	out model.Visit
	// nodeInfoBody is the NodeInfo document read in this visit (nil after
	// a 304), and lemmyBlocked the "blocked" domains of Lemmy's
	// federated_instances when the peers were read: the domain-block
	// lists some programs publish there (blocks.go).
	nodeInfoBody []byte
	lemmyBlocked *[]string
}

func (hc *hostCrawl) url(pathAndQuery string) string {
	return hc.scheme + "://" + hc.host + pathAndQuery
}

// errRobotsUnavailable: robots.txt answered 5xx or 429, which means
// "disallow everything for now".
type errRobotsUnavailable struct{ reason string }

func (e *errRobotsUnavailable) Error() string { return e.reason }
func (e *errRobotsUnavailable) Unwrap() error { return errRobots }

// get sends one request to the host: it reads robots.txt first (cached),
// refuses a disallowed path, waits out the politeness gap, and honours
// Retry-After (see sendLocked).
func (hc *hostCrawl) get(ctx context.Context, r fetchRequest) (*fetchResponse, error) {
	u, err := url.Parse(r.URL)
	if err != nil {
		return nil, fmt.Errorf("%w: bad url %q", errMalformed, r.URL)
	}
	// The policy is asked at every request, not only before a visit: an
	// opt-out that lands during a visit stops it at the next request.
	if ok, why := hc.m.allowed(hc.host); !ok {
		return nil, fmt.Errorf("%w: %s: %.200s", ErrHostRefused, hc.host, why)
	}
	if err := hc.g.lock(ctx); err != nil {
		return nil, err
	}
	defer hc.g.unlock()
	grp, status, reason, err := hc.robotsLocked(ctx)
	if err != nil {
		return nil, fmt.Errorf("robots.txt: %w", err)
	}
	if status != model.StatusOK {
		return nil, &errRobotsUnavailable{reason}
	}
	if !grp.Allowed(u.RequestURI()) {
		return nil, fmt.Errorf("%w: %s", errRobots, u.Path)
	}
	resp, err := hc.sendLocked(ctx, r)
	if err == nil && resp.Status >= 200 && resp.Status < 300 && strings.Contains(r.Accept, "json") {
		err = expectJSON(resp)
	}
	return resp, err
}

// visit crawls the host: robots.txt, NodeInfo, peers and (for Mastodon)
// the first page of the local public timeline. It returns the host's new
// state; everything observed is collected in hc.out.
func (hc *hostCrawl) visit(ctx context.Context, st model.HostState) model.HostState {
	st.LastAttempt = hc.m.now()
	status, reason, snap := hc.visitNodeInfo(ctx, &st)
	st.Status, st.Reason = status, reason
	if status != model.StatusOK {
		return st
	}
	// Everything a visit records carries the visit's start time: at
	// restart a snapshot newer than the stored state's LastAttempt is then
	// proof of a visit whose state was lost (see Manager.load).
	snap.CrawledAt = st.LastAttempt
	st.Software = snap.Software
	st.LastSuccess = st.LastAttempt
	if err := hc.readInstanceDoc(ctx, &snap); err != nil {
		hc.m.log.Debug("instance document not read", "host", hc.host, "err", err)
	}
	hc.m.judge(&snap)
	hc.out.Snapshot = &snap
	hc.m.metrics.hosts.WithLabelValues(snap.Software).Inc()

	// A peer list is not fetched again before the lifetime its server
	// announced is over (Mastodon: a day), unless every host is due anyway.
	peersFresh := hc.m.opts.RecrawlAfter > 0 && st.PeersFreshUntil.After(st.LastAttempt)
	if src := peerSources[snap.Software]; src != peersNone && !peersFresh {
		peers, fresh, err := hc.fetchPeers(ctx, src)
		switch {
		case err == nil:
			st.PeersFreshUntil = st.LastAttempt.Add(fresh)
			hc.out.Peers = &model.Peers{Host: hc.host, CrawledAt: st.LastAttempt, Peers: peers}
			n := int64(len(peers))
			snap.PeerCount = &n
			for _, p := range peers {
				hc.m.discover(ctx, p, hc.host)
			}
		case ctx.Err() != nil:
			return st
		default:
			st.Reason = "peers: " + errText(err)
		}
	}

	// Domain blocks are read at the peers' pace (NodeInfo's mrf_simple
	// whenever NodeInfo was read).
	if !peersFresh || blockSources[snap.Software] == blocksMRF {
		hc.visitBlocks(ctx, &st, &snap)
	}

	if hc.m.opts.Posts {
		mentioned, err := hc.crawlPosts(ctx, &snap)
		for _, h := range mentioned {
			hc.m.discover(ctx, h, hc.host)
		}
		if err != nil && ctx.Err() == nil {
			if st.Reason != "" {
				st.Reason += "; "
			}
			st.Reason += "posts: " + errText(err)
		}
	}
	return st
}

// visitNodeInfo fetches robots.txt and NodeInfo and classifies the result.
func (hc *hostCrawl) visitNodeInfo(ctx context.Context, st *model.HostState) (model.HostStatus, string, model.Snapshot) {
	var snap model.Snapshot
	// robots.txt first (RFC 9309: 2xx parsed, 4xx allow all, 5xx disallow
	// all for now); get reads it through the gate's cache.
	resp, err := hc.get(ctx, fetchRequest{URL: hc.url("/.well-known/nodeinfo"), Accept: "application/json", MaxBody: maxNodeInfoBody})
	if err != nil {
		return classify(err), "nodeinfo discovery: " + errText(err), snap
	}
	if err := okStatus(resp); err != nil {
		return statusOf(err), "nodeinfo discovery: " + errText(err), snap
	}
	href, version, err := pickNodeInfo(resp.Body)
	if err != nil {
		return model.StatusMalformed, errText(err), snap
	}
	docURL, err := hc.sameHostURL(resp.URL, href)
	if err != nil {
		return model.StatusMalformed, "nodeinfo link: " + err.Error(), snap
	}
	req := fetchRequest{URL: docURL, Accept: `application/json, application/json; profile="http://nodeinfo.diaspora.software/ns/schema/` + version + `#"`, MaxBody: maxNodeInfoBody}
	// A conditional request where the server gave validators last time
	// and the snapshot they vouch for can be read back.
	var prev *model.Snapshot
	if st.NodeInfoETag != "" || st.NodeInfoLastModified != "" {
		if prev = hc.m.previousSnapshot(ctx, hc.host); prev != nil {
			req.Header = http.Header{}
			if st.NodeInfoETag != "" {
				req.Header.Set("If-None-Match", st.NodeInfoETag)
			}
			if st.NodeInfoLastModified != "" {
				req.Header.Set("If-Modified-Since", st.NodeInfoLastModified)
			}
		}
	}
	resp, err = hc.get(ctx, req)
	if err != nil {
		return classify(err), "nodeinfo: " + errText(err), snap
	}
	if resp.Status == http.StatusNotModified && prev != nil {
		snap = *prev
		snap.Flags = nil
		snap.CrawledAt = hc.m.now()
		st.NodeInfoFreshUntil = snap.CrawledAt.Add(cacheLifetime(resp.Header))
		hc.m.metrics.notModified.Inc()
		return model.StatusOK, "", snap
	}
	if err := okStatus(resp); err != nil {
		return statusOf(err), "nodeinfo: " + errText(err), snap
	}
	if hasNoIndex(resp.Header, hc.m.opts.AgentToken) {
		return model.StatusNoIndex, "nodeinfo served with X-Robots-Tag noindex", snap
	}
	snap, err = parseNodeInfo(resp.Body, hc.host, version)
	if err != nil {
		return model.StatusMalformed, errText(err), snap
	}
	hc.nodeInfoBody = resp.Body
	snap.CrawledAt = hc.m.now()
	st.NodeInfoETag = truncate(resp.Header.Get("ETag"), 200)
	st.NodeInfoLastModified = truncate(resp.Header.Get("Last-Modified"), 100)
	st.NodeInfoFreshUntil = snap.CrawledAt.Add(cacheLifetime(resp.Header))
	return model.StatusOK, "", snap
}

// sameHostURL resolves href against base and insists it stays on this
// host and scheme: a NodeInfo link to another host is not followed.
func (hc *hostCrawl) sameHostURL(base *url.URL, href string) (string, error) {
	ref, err := url.Parse(href)
	if err != nil {
		return "", fmt.Errorf("invalid href %q", truncate(href, 200))
	}
	u := ref
	if base != nil {
		u = base.ResolveReference(ref)
	}
	h, err := normaliseFor(u.Scheme, u.Host)
	if err != nil || h != hc.host {
		return "", fmt.Errorf("points to another host (%s)", truncate(u.Host, 200))
	}
	if u.Scheme != hc.scheme {
		return "", fmt.Errorf("scheme %q differs from %q", u.Scheme, hc.scheme)
	}
	u.Host = hc.host
	u.Fragment = ""
	return u.String(), nil
}

// normaliseFor normalises a URL's host for its scheme: hostname.Normalize
// drops https's default port, and this drops http's.
func normaliseFor(scheme, host string) (string, error) {
	h, err := hostname.Normalize(host)
	if err != nil {
		return "", err
	}
	if scheme == "http" {
		h = strings.TrimSuffix(h, ":80")
	}
	return h, nil
}

// classify maps a transport error to a host status.
func classify(err error) model.HostStatus {
	switch {
	case errors.Is(err, errRobots):
		return model.StatusRobotsDisallowed
	case errors.Is(err, httpclient.ErrForbiddenAddress), errors.Is(err, ErrHostRefused), errors.Is(err, errOffsite):
		return model.StatusRefused
	case errors.Is(err, errMalformed), errors.Is(err, httpclient.ErrBodyTooLarge), errors.Is(err, httpclient.ErrBadContentEncoding):
		return model.StatusMalformed
	default:
		return model.StatusUnreachable
	}
}

// statusOf maps an HTTP status error to a host status.
func statusOf(err error) model.HostStatus {
	if errors.Is(err, errRefused) {
		return model.StatusNoNodeInfo
	}
	return model.StatusUnreachable
}

// errText is an error's text, bounded, for the host state's reason.
func errText(err error) string {
	return truncate(err.Error(), 300)
}
