package crawler

import (
	"context"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/fedisim"
	"github.com/fedilens/fedilens/internal/model"
)

// memPosts is an in-memory Sink and PostState doing with each visit's
// posts what the pipeline does (store them by URI, purge the authors found
// withdrawn and the posts found gone, replace cursors), so that a source
// can be tested against the simulator's truth without ClickHouse and
// Bleve; cmd/fedilens's end-to-end tests do the same through the real
// store and index.
type memPosts struct {
	mu      sync.Mutex
	posts   map[string]model.Post        // by URI
	cursors map[string]model.PostCursor  // host \x00 account \x00 source
	access  map[string]*model.PostVisit  // latest posts crawl per host
	visits  map[string]model.Visit       // latest visit per host
	authors map[string]model.AuthorState // latest consent check per author
}

func newMemPosts() *memPosts {
	return &memPosts{posts: map[string]model.Post{}, cursors: map[string]model.PostCursor{},
		access: map[string]*model.PostVisit{}, visits: map[string]model.Visit{}, authors: map[string]model.AuthorState{}}
}

func (m *memPosts) AddVisit(_ context.Context, v model.Visit) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.visits[v.State.Host] = v
	pv := v.PostVisit
	if pv == nil {
		return nil
	}
	m.access[v.State.Host] = pv
	withdrawn := map[string]bool{}
	for _, a := range pv.Authors {
		withdrawn[a.Author] = !a.Consent
		m.authors[a.Author] = a
	}
	gone := map[string]bool{}
	for _, u := range pv.Gone {
		gone[u] = true
	}
	for uri, p := range m.posts {
		if withdrawn[p.Author] || gone[uri] {
			delete(m.posts, uri)
		}
	}
	for _, p := range v.Posts {
		if !withdrawn[p.Author] && !gone[p.URI] {
			m.posts[p.URI] = p
		}
	}
	for _, c := range pv.Cursors {
		m.cursors[c.Host+"\x00"+c.Account+"\x00"+c.Source] = c
	}
	return nil
}

func (m *memPosts) AddHostState(context.Context, model.HostState) error { return nil }

func (m *memPosts) AuthorKey(acct string) string { return acct }

func (m *memPosts) PostCursors(_ context.Context, host string) ([]model.PostCursor, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []model.PostCursor
	for _, c := range m.cursors {
		if c.Host == host {
			c.AccountKey = c.Account
			out = append(out, c)
		}
	}
	return out, nil
}

func (m *memPosts) StoredPosts(_ context.Context, host string) (map[string][]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string][]string{}
	for uri, p := range m.posts {
		if p.Host == host {
			out[p.Author] = append(out[p.Author], uri)
		}
	}
	return out, nil
}

func (m *memPosts) ForgottenAuthors(context.Context) (map[string]bool, error) {
	return map[string]bool{}, nil
}

func (m *memPosts) PostCursorHosts(context.Context) (map[string]bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]bool{}
	for _, c := range m.cursors {
		out[c.Host] = true
	}
	return out, nil
}

// urisOf returns the stored URIs of the hosts keep selects, sorted.
func (m *memPosts) urisOf(keep func(host string) bool) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for uri, p := range m.posts {
		if keep(p.Host) {
			out = append(out, uri)
		}
	}
	sort.Strings(out)
	return out
}

// postSimManager returns a Manager that crawls a running simulator with
// posts on, its state in mem, every host due on every pass, with the
// opt-in word of the simulator.
func postSimManager(t *testing.T, sim *fedisim.Sim, mem *memPosts, optIn string) *Manager {
	t.Helper()
	m := docSimManager(t, sim, mem)
	m.opts.Posts = true
	m.opts.PostState = mem
	m.opts.OptInWord = optIn
	m.opts.PostRetention = 0
	if m.opts.MaxPostRequests == 0 {
		m.opts.MaxPostRequests = DefaultMaxPostRequests
	}
	m.opts.PostRevalidateAfter = 0 // list in full every visit: deletions show
	m.opts.RecrawlAfter = 0
	return m
}

// checkPostsAgainstTruth crawls sim once per epoch (advancing between
// crawls) and, after each, compares the stored posts of the hosts whose
// software is in software with the truth's Posts, URI by URI, and each
// such host's posts-crawl access with InstanceTruth.PostAccess. It returns
// the number of truth posts compared after the last crawl.
func checkPostsAgainstTruth(t *testing.T, opts fedisim.Options, epochs int, software ...string) int {
	t.Helper()
	sim := fedisim.New(opts)
	mem := newMemPosts()
	m := postSimManager(t, sim, mem, opts.OptInWord)
	wanted := map[string]bool{}
	for _, s := range software {
		wanted[strings.ToLower(s)] = true
	}
	var n int
	for e := 0; e < epochs; e++ {
		if e > 0 {
			sim.Advance()
		}
		_, err := m.RunOnce(context.Background())
		require.NoError(t, err, "epoch %d", e)
		truth := sim.Truth()
		hosts := map[string]bool{}
		for _, it := range truth.Census(sim.Seeds()) {
			if !wanted[it.Software] {
				continue
			}
			hosts[it.Host] = true
			pv := mem.access[it.Host]
			require.NotNil(t, pv, "epoch %d: %s (%s) has no posts crawl", e, it.Host, it.Software)
			require.Equal(t, it.PostAccess, pv.Access, "epoch %d: %s (%s): skipped %v", e, it.Host, it.Software, pv.Skipped)
		}
		var want []string
		for _, p := range truth.Posts(sim.Seeds(), time.Time{}) {
			if hosts[hostOfAcct(p.Author)] {
				want = append(want, p.URI)
			}
		}
		sort.Strings(want)
		got := mem.urisOf(func(h string) bool { return hosts[h] })
		require.Equal(t, want, got, "epoch %d: stored posts of %v differ from the truth", e, software)
		n = len(want)
	}
	return n
}

func hostOfAcct(acct string) string {
	_, h, _ := strings.Cut(acct, "@")
	return h
}

// TestMastodonSourceMatchesTruth: the Mastodon API family's posts, across
// two epochs, with and without an opt-in word (Pleroma's and Akkoma's
// accounts have no indexable flag: only the word makes them consent).
func TestMastodonSourceMatchesTruth(t *testing.T) {
	family := []string{"mastodon", "pleroma", "akkoma", "gotosocial", "pixelfed", "friendica"}
	for _, word := range []string{"", "#searchable"} {
		t.Run("optin="+word, func(t *testing.T) {
			n := checkPostsAgainstTruth(t, fedisim.Options{Seed: 21, Instances: 250, NoHostile: true, OptInWord: word}, 2, family...)
			require.Greater(t, n, 100)
		})
	}
}
