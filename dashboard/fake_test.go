package dashboard

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/fedilens/fedilens/internal/model"
)

// xss is a hostile instance title and software name: if it ever reaches
// the page unescaped, it ends a script element and runs code.
const xss = `</script><img src=x onerror=alert(1)>`

// fakeStore is an in-memory Store; err, when set, fails every method.
type fakeStore struct {
	instances map[string]model.Instance
	history   map[string][]model.Snapshot
	peers     map[string][]string
	top       []model.Instance
	summary   model.Summary
	err       error
	// listed is the last query ListInstances received; listPage is what
	// it answers (nil: the instances of top, unfiltered, in order).
	listed   model.InstanceListQuery
	listPage *model.InstancePage
	// postLinks are the links seen in each host's posts; nil makes the
	// fake no PostLinkStore (see withPostLinks).
	postLinks map[string][]model.PostLink
	// lookups counts the hosts KnownInstances was asked about.
	lookups atomic.Int64
	// postLinksErr fails PostLinks, lookupErr KnownInstances.
	postLinksErr, lookupErr error
}

var (
	_ Store              = (*fakeStore)(nil)
	_ KnownInstanceStore = (*fakeStore)(nil)
	_ PostLinkStore      = postLinkFake{}
)

func (f *fakeStore) Instances(_ context.Context, q model.InstanceQuery) (model.InstancePage, error) {
	if f.err != nil {
		return model.InstancePage{}, f.err
	}
	top := filterFlagged(f.top, q.Flagged)
	return model.InstancePage{Instances: top[:min(len(top), q.Limit)]}, nil
}

func (f *fakeStore) ListInstances(_ context.Context, q model.InstanceListQuery) (model.InstancePage, error) {
	f.listed = q
	if f.err != nil {
		return model.InstancePage{}, f.err
	}
	if q.Cursor == "bad" {
		return model.InstancePage{}, fmt.Errorf("%w: invalid cursor", model.ErrBadQuery)
	}
	if f.listPage != nil {
		return *f.listPage, nil
	}
	top := filterFlagged(f.top, q.Flagged)
	return model.InstancePage{Instances: top[:min(len(top), q.Limit)]}, nil
}

// KnownInstances knows the hosts of instances.
func (f *fakeStore) KnownInstances(_ context.Context, hosts []string) (map[string]bool, error) {
	f.lookups.Add(int64(len(hosts)))
	if err := cmp.Or(f.err, f.lookupErr); err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, h := range hosts {
		if _, ok := f.instances[h]; ok {
			known[h] = true
		}
	}
	return known, nil
}

// postLinkFake is a fakeStore that is a PostLinkStore too.
type postLinkFake struct{ *fakeStore }

func (f postLinkFake) PostLinks(_ context.Context, host string, _ time.Time) ([]model.PostLink, error) {
	if err := cmp.Or(f.err, f.postLinksErr); err != nil {
		return nil, err
	}
	return slices.Clone(f.postLinks[host]), nil
}

func (f *fakeStore) Instance(_ context.Context, host string) (model.Instance, []model.Snapshot, error) {
	if f.err != nil {
		return model.Instance{}, nil, f.err
	}
	in, ok := f.instances[host]
	if !ok {
		return model.Instance{}, nil, fmt.Errorf("select instance %s: %w", host, model.ErrNotFound)
	}
	return in, f.history[host], nil
}

func (f *fakeStore) Peers(_ context.Context, host string) ([]string, error) {
	if f.err != nil {
		return nil, f.err
	}
	return f.peers[host], nil
}

func (f *fakeStore) Summary(context.Context) (model.Summary, error) {
	return f.summary, f.err
}

// fakeSearch answers every query with res and rejects "bad(" the way the
// Bleve index does.
type fakeSearch struct {
	res  model.SearchResult
	err  error
	last model.SearchQuery
}

var _ Searcher = (*fakeSearch)(nil)

func (f *fakeSearch) Search(_ context.Context, q model.SearchQuery) (model.SearchResult, error) {
	f.last = q
	if f.err != nil {
		return model.SearchResult{}, f.err
	}
	if q.Q == "bad(" {
		return model.SearchResult{}, fmt.Errorf("parse query: unbalanced parenthesis at 4: %w", model.ErrBadQuery)
	}
	return f.res, nil
}

var crawled = time.Date(2026, 11, 3, 12, 30, 0, 0, time.UTC)

func newFakes() (*fakeStore, *fakeSearch) {
	social := model.Instance{
		Snapshot: model.Snapshot{
			Host: "social.example", CrawledAt: crawled, Software: "mastodon", Version: "4.3.2",
			NodeInfoVersion: "2.0", Title: "Social Example", OpenRegistrations: true,
			Protocols: []string{"activitypub"}, UsersTotal: model.Int64(1234567),
			UsersActiveMonth: model.Int64(34567), LocalPosts: model.Int64(45000),
		},
		FirstSeen: crawled.AddDate(0, -1, 0),
		Snapshots: 2,
	}
	older := social.Snapshot
	older.CrawledAt = crawled.AddDate(0, 0, -7)
	older.UsersTotal = model.Int64(1200000)
	older.UsersActiveMonth = nil
	evil := model.Instance{
		Snapshot: model.Snapshot{
			Host: "evil.example", CrawledAt: crawled, Software: xss, Version: xss,
			Title: xss, UsersTotal: model.Int64(666),
		},
		FirstSeen: crawled,
		Snapshots: 1,
	}
	quiet := model.Instance{
		Snapshot: model.Snapshot{
			Host: "quiet.example", CrawledAt: crawled, Software: "gotosocial", Version: "0.17.0", Title: "Quiet",
		},
		FirstSeen: crawled,
		Snapshots: 1,
	}
	store := &fakeStore{
		instances: map[string]model.Instance{"social.example": social, "evil.example": evil, "quiet.example": quiet},
		history: map[string][]model.Snapshot{
			"social.example": {older, social.Snapshot},
			"evil.example":   {evil.Snapshot},
		},
		peers: map[string][]string{
			"social.example": {"a.example", "quiet.example", "javascript:alert(1)", "<b>bold</b>.example"},
		},
		top: []model.Instance{social, evil, quiet},
		summary: model.Summary{
			Instances: 4321, UsersTotal: 9876543, UsersActiveMonth: 123456, UsersActiveHalfyear: 234567,
			LocalPosts: 1, Softwares: 3, IndexedPosts: 5555, LastCrawl: crawled,
		},
	}
	search := &fakeSearch{res: model.SearchResult{
		Total: 3,
		Hits: []model.SearchHit{
			{
				URI: "https://social.example/users/ann/statuses/1", URL: "https://social.example/@ann/1",
				Host: "social.example", Author: "ann@social.example", AuthorName: "Ann <3",
				Created: crawled, Snippet: "about <mark>ducks</mark> &amp; geese", Summary: "birds",
			},
			{
				URI: "javascript:alert(1)", URL: "javascript:alert(2)",
				Host: "evil.example", Author: "mallory@evil.example", AuthorName: xss,
				Created: crawled, Snippet: `<mark>ducks</mark><img src=x onerror=alert(3)>`,
			},
			{
				URI: "https://quiet.example/notes/9", Host: "quiet.example", Author: "bo@quiet.example",
				Created: crawled, Snippet: "plain <mark>ducks</mark>",
			},
		},
		NextCursor: "next&page=2",
	}}
	return store, search
}
