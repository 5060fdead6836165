package crawler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/fedilens/fedilens/internal/hostname"
)

// Limits on peer lists: mastodon.social publishes about 100,000 peers; a
// list past these bounds is cut with an error, not loaded.
const (
	maxPeersBody  = 32 << 20
	maxPeers      = 250_000
	misskeyPage   = 100
	maxMisskeyReq = 2_500 // 250,000 hosts
)

// peerSource is how one family of server software publishes its peers.
type peerSource int

const (
	peersNone     peerSource = iota
	peersMastodon            // GET /api/v1/instance/peers: ["host", ...]
	peersMisskey             // POST /api/federation/instances {"limit","offset"}: [{"host": ...}]
	peersLemmy               // GET /api/v3/federated_instances: {"federated_instances":{"linked":[{"domain"}]}}
)

// peerSources maps NodeInfo software names to their peer list.
var peerSources = map[string]peerSource{
	"mastodon": peersMastodon, "hometown": peersMastodon, "glitch": peersMastodon, "glitchsoc": peersMastodon,
	"pleroma": peersMastodon, "akkoma": peersMastodon, "gotosocial": peersMastodon, "pixelfed": peersMastodon,
	"friendica": peersMastodon, "mitra": peersMastodon,
	"misskey": peersMisskey, "sharkey": peersMisskey, "firefish": peersMisskey, "calckey": peersMisskey,
	"foundkey": peersMisskey, "iceshrimp": peersMisskey, "catodon": peersMisskey, "meisskey": peersMisskey,
	"cherrypick": peersMisskey, "fedired": peersMisskey,
	"lemmy": peersLemmy,
}

// peerPath is the path robots.txt is checked against for a source.
func (s peerSource) path() string {
	switch s {
	case peersMastodon:
		return "/api/v1/instance/peers"
	case peersMisskey:
		return "/api/federation/instances"
	case peersLemmy:
		return "/api/v3/federated_instances"
	}
	return ""
}

// errRefused marks an endpoint the admin switched off (404, 401, 403...):
// a refusal, which is respected and not routed around.
var errRefused = errors.New("endpoint refused")

// fetchPeers reads a host's published peer list. It returns the valid,
// normalised, de-duplicated host names, sorted.
func (hc *hostCrawl) fetchPeers(ctx context.Context, src peerSource) ([]string, time.Duration, error) {
	var (
		raw   []string
		fresh time.Duration
	)
	switch src {
	case peersMastodon:
		resp, err := hc.get(ctx, fetchRequest{URL: hc.url("/api/v1/instance/peers"), Accept: "application/json", MaxBody: maxPeersBody})
		if err != nil {
			return nil, 0, err
		}
		if err := okStatus(resp); err != nil {
			return nil, 0, err
		}
		fresh = cacheLifetime(resp.Header)
		if err := decodeJSON(resp.Body, &raw); err != nil {
			return nil, 0, fmt.Errorf("%w: peer list is not a JSON array of strings: %v", errMalformed, err)
		}
	case peersLemmy:
		resp, err := hc.get(ctx, fetchRequest{URL: hc.url("/api/v3/federated_instances"), Accept: "application/json", MaxBody: maxPeersBody})
		if err != nil {
			return nil, 0, err
		}
		if err := okStatus(resp); err != nil {
			return nil, 0, err
		}
		fresh = cacheLifetime(resp.Header)
		var doc struct {
			Federated *struct {
				Linked []struct {
					Domain string `json:"domain"`
				} `json:"linked"`
				Blocked []struct {
					Domain string `json:"domain"`
				} `json:"blocked"`
			} `json:"federated_instances"`
		}
		if err := decodeJSON(resp.Body, &doc); err != nil || doc.Federated == nil {
			return nil, 0, fmt.Errorf("%w: lemmy federated_instances has no federated_instances object", errMalformed)
		}
		for _, l := range doc.Federated.Linked {
			raw = append(raw, l.Domain)
		}
		blocked := make([]string, 0, min(len(doc.Federated.Blocked), maxBlocks))
		for _, b := range doc.Federated.Blocked {
			blocked = append(blocked, b.Domain)
		}
		hc.lemmyBlocked = &blocked
	case peersMisskey:
		for page := 0; page < maxMisskeyReq; page++ {
			body, _ := json.Marshal(map[string]int{"limit": misskeyPage, "offset": page * misskeyPage})
			resp, err := hc.get(ctx, fetchRequest{Method: "POST", URL: hc.url("/api/federation/instances"), Accept: "application/json", Body: body, MaxBody: 4 << 20})
			if err != nil {
				return nil, 0, err
			}
			if err := okStatus(resp); err != nil {
				return nil, 0, err
			}
			var items []struct {
				Host string `json:"host"`
			}
			if err := decodeJSON(resp.Body, &items); err != nil {
				return nil, 0, fmt.Errorf("%w: misskey federation/instances is not an array: %v", errMalformed, err)
			}
			for _, it := range items {
				raw = append(raw, it.Host)
			}
			if len(items) < misskeyPage || len(raw) >= maxPeers {
				break
			}
		}
	default:
		return nil, 0, nil
	}
	if len(raw) > maxPeers {
		raw = raw[:maxPeers]
	}
	return normaliseHosts(raw, hc.host), fresh, nil
}

// normaliseHosts keeps the valid DNS names of a peer list, normalised,
// without self, de-duplicated and sorted. IP literals, single-label names,
// names with a port and junk are dropped: peers are discovered by name
// only, on the default https port (a peer list must not point the crawler
// at arbitrary ports of other machines).
func normaliseHosts(raw []string, self string) []string {
	seen := make(map[string]struct{}, len(raw))
	out := make([]string, 0, len(raw))
	for _, r := range raw {
		h, err := hostname.Normalize(r)
		if err != nil || h == self || strings.Contains(h, ":") {
			continue
		}
		if _, dup := seen[h]; dup {
			continue
		}
		seen[h] = struct{}{}
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// okStatus turns a non-2xx answer into an error: 404, 410, 401 and 403 are
// refusals (the admin switched the endpoint off), the rest failures.
func okStatus(resp *fetchResponse) error {
	switch {
	case resp.Status >= 200 && resp.Status < 300:
		return nil
	case resp.Status == 401 || resp.Status == 403 || resp.Status == 404 || resp.Status == 410:
		return &refusedError{status: resp.Status}
	default:
		return &statusError{resp.Status}
	}
}

// refusedError is a refusal (errRefused) with its status, so callers can
// tell a missing resource (404, 410) from a closed door (401, 403).
type refusedError struct{ status int }

func (e *refusedError) Error() string { return fmt.Sprintf("%v: status %d", errRefused, e.status) }
func (e *refusedError) Unwrap() error { return errRefused }

// statusError is an unexpected HTTP status.
type statusError struct{ status int }

func (e *statusError) Error() string { return fmt.Sprintf("unexpected status %d", e.status) }
