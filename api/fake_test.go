package api

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/fedilens/fedilens/internal/model"
)

// fakeStore is an in-memory Store. err, when set, is returned by every
// method, to test error mapping; the last queries are recorded.
type fakeStore struct {
	mu        sync.Mutex
	instances map[string]model.Instance
	history   map[string][]model.Snapshot
	peers     map[string][]string
	links     map[string]model.LinkCounts
	page      model.InstancePage
	posts     uint64
	lastCrawl time.Time
	err       error
	lastQuery model.InstanceListQuery
	lastHost  string
}

var _ Store = (*fakeStore)(nil)

func (f *fakeStore) ListInstances(_ context.Context, q model.InstanceListQuery) (model.InstancePage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastQuery = q
	if f.err != nil {
		return model.InstancePage{}, f.err
	}
	if q.Cursor == "bogus" {
		return model.InstancePage{}, fmt.Errorf("decode cursor %q: %w", q.Cursor, model.ErrBadQuery)
	}
	return f.page, nil
}

func (f *fakeStore) Instance(_ context.Context, host string) (model.Instance, []model.Snapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastHost = host
	if f.err != nil {
		return model.Instance{}, nil, f.err
	}
	in, ok := f.instances[host]
	if !ok {
		return model.Instance{}, nil, fmt.Errorf("select instance %s: %w", host, model.ErrNotFound)
	}
	return in, f.history[host], nil
}

func (f *fakeStore) InstanceLinkCounts(_ context.Context, host string) (model.LinkCounts, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return model.LinkCounts{}, f.err
	}
	lc, ok := f.links[host]
	if !ok {
		return model.LinkCounts{}, fmt.Errorf("list sizes of %s: %w", host, model.ErrNotFound)
	}
	return lc, nil
}

func (f *fakeStore) Peers(_ context.Context, host string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	return f.peers[host], nil
}

func (f *fakeStore) PostCount(context.Context) (uint64, error) {
	if f.err != nil {
		return 0, f.err
	}
	return f.posts, nil
}

func (f *fakeStore) LastCrawl(context.Context) (time.Time, error) {
	if f.err != nil {
		return time.Time{}, f.err
	}
	return f.lastCrawl, nil
}

// fakeSearch answers every query with res, rejects the query "bad(" the
// way the Bleve index does, and records the last query.
type fakeSearch struct {
	mu   sync.Mutex
	res  model.SearchResult
	err  error
	last model.SearchQuery
}

var _ Searcher = (*fakeSearch)(nil)

func (f *fakeSearch) Search(_ context.Context, q model.SearchQuery) (model.SearchResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.last = q
	if f.err != nil {
		return model.SearchResult{}, f.err
	}
	if q.Q == "bad(" {
		return model.SearchResult{}, fmt.Errorf("parse query: unbalanced parenthesis at 4: %w", model.ErrBadQuery)
	}
	return f.res, nil
}

var (
	crawled   = time.Date(2026, 11, 3, 12, 30, 0, 0, time.UTC)
	firstSeen = time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)
)

func newFakes() (*fakeStore, *fakeSearch) {
	social := model.Instance{
		Snapshot: model.Snapshot{
			Host: "social.example", CrawledAt: crawled, Software: "mastodon", Version: "4.3.2",
			NodeInfoVersion: "2.0", Title: "Social Example", OpenRegistrations: true,
			Protocols: []string{"activitypub"}, UsersTotal: model.Int64(1200),
			UsersActiveMonth: model.Int64(300), LocalPosts: model.Int64(45000),
		},
		FirstSeen: firstSeen,
		Snapshots: 2,
	}
	older := social.Snapshot
	older.CrawledAt = firstSeen
	older.UsersTotal = model.Int64(1100)
	older.Version = "4.3.1"
	quiet := model.Instance{
		Snapshot: model.Snapshot{
			Host: "quiet.example", CrawledAt: crawled, Software: "gotosocial", Version: "0.17.0",
			NodeInfoVersion: "2.0", Title: "Quiet", UsersTotal: model.Int64(3),
		},
		FirstSeen: firstSeen,
		Snapshots: 1,
	}
	store := &fakeStore{
		instances: map[string]model.Instance{"social.example": social, "quiet.example": quiet},
		history:   map[string][]model.Snapshot{"social.example": {older, social.Snapshot}},
		peers:     map[string][]string{"social.example": {"a.example", "quiet.example"}},
		links:     map[string]model.LinkCounts{"social.example": {Peers: model.Int64(2), Blocks: model.Int64(0)}},
		page:      model.InstancePage{Instances: []model.Instance{social, quiet}, NextCursor: "c2"},
		posts:     17,
		lastCrawl: crawled,
	}
	search := &fakeSearch{res: model.SearchResult{
		Total: 1,
		Hits: []model.SearchHit{{
			URI: "https://social.example/users/ann/statuses/1", URL: "https://social.example/@ann/1",
			Host: "social.example", Author: "ann@social.example",
			Created: time.Date(2026, 11, 2, 13, 0, 0, 0, time.FixedZone("CET", 3600)),
			Snippet: "about <mark>ducks</mark>", Score: 1.5,
		}},
		NextCursor: "s2",
	}}
	return store, search
}
