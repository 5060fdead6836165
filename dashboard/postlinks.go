package dashboard

import (
	"cmp"
	"context"
	"net/url"
	"slices"
	"time"

	"github.com/fedilens/fedilens/internal/model"
)

// PostLinkStore is the part of the store behind an instance's links seen
// in posts: the instances its stored posts mention, answer and boost. The
// ClickHouse store (*store.Store) satisfies it; with a Store that does
// not, the instance page leaves the section out.
type PostLinkStore interface {
	// PostLinks returns the links host's stored posts make at t (zero:
	// now), one per target host and kind.
	PostLinks(ctx context.Context, host string, t time.Time) ([]model.PostLink, error)
}

// KnownInstanceStore tells a known instance from any host name: the hosts
// posts link to are names read from remote posts, and only those fedilens
// has an instance page of are linked to it. The ClickHouse store
// (*store.Store) satisfies it; with a Store that does not, the linked
// hosts are shown as text.
type KnownInstanceStore interface {
	// KnownInstances returns the known instances among hosts (those with
	// a snapshot, opted-out ones excepted), in one lookup.
	KnownInstances(ctx context.Context, hosts []string) (map[string]bool, error)
}

const (
	// maxPostLinksShown bounds the links seen in posts on an instance
	// page: a large instance's posts link to thousands of hosts.
	maxPostLinksShown = 100
)

// postLinksView is the "Links seen in posts" section of an instance page.
type postLinksView struct {
	Entries []postLinkView
	// Total is the number of links (host and kind) before the bound.
	Total int
	// APIPath is the links in the API.
	APIPath string
}

type postLinkView struct {
	Host, Kind string
	// Path is the linked host's instance page, "" when it is not a known
	// instance.
	Path        string
	Count       int64
	First, Last time.Time
}

// KindLabel names a link's kind: mention, reply or boost.
func (v postLinkView) KindLabel() string {
	return clip(20, v.Kind)
}

// postLinks reads host's links seen in posts, keeps the maxPostLinksShown
// made by the most posts (ties by host, then kind) and finds which of
// their hosts are known instances.
func (d *Dashboard) postLinks(ctx context.Context, ps PostLinkStore, host string) (*postLinksView, error) {
	links, err := ps.PostLinks(ctx, host, time.Time{})
	if err != nil {
		return nil, wrap("get post links of "+host, err)
	}
	slices.SortFunc(links, func(a, b model.PostLink) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Target, b.Target), cmp.Compare(a.Kind, b.Kind))
	})
	v := &postLinksView{Total: len(links), APIPath: "/api/v1/instances/" + url.PathEscape(host) + "/post-links"}
	links = links[:min(len(links), maxPostLinksShown)]
	known, err := d.knownInstances(ctx, links)
	if err != nil {
		return nil, err
	}
	for _, l := range links {
		pv := postLinkView{Host: l.Target, Kind: l.Kind, Count: l.Count, First: l.FirstSeen, Last: l.LastSeen}
		if known[l.Target] {
			pv.Path = instancePath(l.Target)
		}
		v.Entries = append(v.Entries, pv)
	}
	return v, nil
}

// knownInstances reports which of the links' target hosts have an
// instance page, asking the store (when it can tell) about the linkable
// names in one lookup.
func (d *Dashboard) knownInstances(ctx context.Context, links []model.PostLink) (map[string]bool, error) {
	ks, ok := d.store.(KnownInstanceStore)
	if !ok {
		return nil, nil
	}
	hosts := make([]string, 0, len(links))
	for _, l := range links {
		if linkableHost(l.Target) && !slices.Contains(hosts, l.Target) {
			hosts = append(hosts, l.Target)
		}
	}
	if len(hosts) == 0 {
		return nil, nil
	}
	known, err := ks.KnownInstances(ctx, hosts)
	return known, wrap("look up the hosts linked in posts", err)
}
