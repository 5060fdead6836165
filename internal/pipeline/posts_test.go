package pipeline

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/store"
)

// The recorder's posts side: deletes, purges and the crawl bookkeeping.

func (r *recorder) AuthorKey(acct string) string {
	if acct == "" {
		return ""
	}
	return "key:" + acct
}

func (r *recorder) PurgePosts(_ context.Context, p store.Purge) (int, error) {
	n := 0
	err := r.do("purge", func() {
		r.purges = append(r.purges, p)
		kept := r.posts[:0]
		for _, post := range r.posts {
			if slices.Contains(p.URIs, post.URI) || slices.Contains(p.AuthorKeys, r.AuthorKey(post.Author)) ||
				slices.Contains(p.Hosts, post.Host) || (!p.Before.IsZero() && post.Created.Before(p.Before)) {
				n++
				continue
			}
			kept = append(kept, post)
		}
		r.posts = kept
	})
	return n, err
}

func (r *recorder) ForgottenAuthors(context.Context) (map[string]bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return nil, r.fail
	}
	out := map[string]bool{}
	for _, a := range r.forgotten {
		out[r.AuthorKey(a)] = true
	}
	return out, nil
}

func (r *recorder) ForgetAuthor(_ context.Context, acct string) error {
	return r.do("forget", func() { r.forgotten = append(r.forgotten, acct) })
}

func (r *recorder) AddOptOut(_ context.Context, o model.OptOut) error {
	return r.do("optout", func() { r.optouts = append(r.optouts, o) })
}

func (r *recorder) UpsertAuthors(_ context.Context, a []model.AuthorState) error {
	return r.do("authors", func() { r.authors = append(r.authors, a...) })
}

func (r *recorder) UpsertPostCursors(_ context.Context, c []model.PostCursor) error {
	return r.do("cursors", func() { r.cursors = append(r.cursors, c...) })
}

func (r *recorder) InsertPostAccess(_ context.Context, a []model.HostPostAccess) error {
	return r.do("access", func() { r.access = append(r.access, a...) })
}

// deleteIndexed removes the indexed posts keep rejects.
func (r *recorder) deleteIndexed(name string, drop func(model.Post) bool) (int, error) {
	n := 0
	err := r.do(name, func() {
		kept := r.indexed[:0]
		for _, p := range r.indexed {
			if drop(p) {
				n++
				continue
			}
			kept = append(kept, p)
		}
		r.indexed = kept
	})
	return n, err
}

func (r *recorder) Delete(_ context.Context, uris []string) error {
	_, err := r.deleteIndexed("index-delete", func(p model.Post) bool { return slices.Contains(uris, p.URI) })
	return err
}

func (r *recorder) DeleteAuthors(_ context.Context, accts []string) (int, error) {
	return r.deleteIndexed("index-delete-authors", func(p model.Post) bool { return slices.Contains(accts, p.Author) })
}

func (r *recorder) DeleteHosts(_ context.Context, hosts []string) (int, error) {
	return r.deleteIndexed("index-delete-hosts", func(p model.Post) bool { return slices.Contains(hosts, p.Host) })
}

func (r *recorder) DeleteBefore(_ context.Context, t time.Time) (int, error) {
	return r.deleteIndexed("index-delete-before", func(p model.Post) bool { return p.Created.Before(t) })
}

func uris(posts []model.Post) []string {
	out := make([]string, 0, len(posts))
	for _, p := range posts {
		out = append(out, p.URI)
	}
	slices.Sort(out)
	return out
}

func TestPostVisitFlushOrder(t *testing.T) {
	rec := &recorder{}
	p := New(rec, rec, Options{FlushEvery: time.Hour})
	ctx := context.Background()
	crawled := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

	// Stored by an earlier crawl.
	require.NoError(t, p.AddPosts(ctx, []model.Post{
		{URI: "a/1", Host: "a", Author: "ann@a"}, {URI: "a/2", Host: "a", Author: "bob@a"}, {URI: "a/3", Host: "a", Author: "bob@a"},
	}))
	require.NoError(t, p.Flush(ctx))

	// ann withdraws in one visit, after another visit of the same flush
	// brought a new post of hers; a/2 is gone; cy re-consents in the same
	// flush after a withdrawal and keeps her post.
	require.NoError(t, p.AddVisit(ctx, model.Visit{
		State: model.HostState{Host: "a", LastAttempt: crawled},
		Posts: []model.Post{{URI: "a/4", Host: "a", Author: "ann@a"}, {URI: "a/5", Host: "a", Author: "cy@a"}, {URI: "a/2", Host: "a", Author: "bob@a"}},
		PostVisit: &model.PostVisit{
			Source: model.SourceMastodon, Access: model.PostAccessOK, Requests: 4,
			Authors: []model.AuthorState{{Author: "ann@a", Consent: true}, {Author: "cy@a", Reason: "noindex"}, {Author: "cy@a", Consent: true}},
			Cursors: []model.PostCursor{{Host: "a", Account: "ann@a", Source: model.SourceMastodon, Cursor: "4"}},
			Skipped: map[string]int{"not_public": 2},
		},
	}))
	require.NoError(t, p.AddVisit(ctx, model.Visit{
		State:     model.HostState{Host: "a"},
		PostVisit: &model.PostVisit{Host: "a", Authors: []model.AuthorState{{Author: "ann@a", Reason: "noindex"}}, Gone: []string{"a/2"}},
	}))
	rec.callOrder = nil
	require.NoError(t, p.Flush(ctx))

	require.Equal(t, []string{"a/3", "a/5"}, uris(rec.posts), "the withdrawn author's and the gone posts do not survive")
	require.Equal(t, []string{"a/3", "a/5"}, uris(rec.indexed))
	require.Equal(t, []string{"index", "posts", "index-delete", "index-delete-authors", "purge", "authors", "cursors", "access", "states"}, rec.callOrder)
	require.Equal(t, []store.Purge{{URIs: []string{"a/2"}, AuthorKeys: []string{"key:ann@a"}}}, rec.purges[len(rec.purges)-1:])
	require.Len(t, rec.authors, 4, "every check is recorded")
	require.Len(t, rec.cursors, 1)
	require.Equal(t, []model.HostPostAccess{
		{Host: "a", Crawled: crawled, Source: model.SourceMastodon, Access: model.PostAccessOK, Requests: 4, Skipped: map[string]int{"not_public": 2}},
		{Host: "a", Crawled: rec.access[1].Crawled},
	}, rec.access)
	require.False(t, rec.access[1].Crawled.IsZero(), "a visit without an attempt time is dated now")
}

// purgeFails fails the store's purge until told otherwise.
type purgeFails struct {
	*recorder
	fail bool
}

func (f *purgeFails) PurgePosts(ctx context.Context, p store.Purge) (int, error) {
	if f.fail {
		return 0, errors.New("mutation failed")
	}
	return f.recorder.PurgePosts(ctx, p)
}

func TestFailedPurgeIsRetried(t *testing.T) {
	rec := &recorder{}
	st := &purgeFails{recorder: rec, fail: true}
	p := New(st, rec, Options{FlushEvery: time.Hour})
	ctx := context.Background()
	rec.posts = []model.Post{{URI: "a/1", Host: "a", Author: "ann@a"}, {URI: "a/2", Host: "a", Author: "bob@a"}}
	require.NoError(t, p.AddVisit(ctx, model.Visit{
		State:     model.HostState{Host: "a"},
		Snapshot:  &model.Snapshot{Host: "a"},
		PostVisit: &model.PostVisit{Authors: []model.AuthorState{{Author: "ann@a", Reason: "nobot"}}, Gone: []string{"a/2"}},
	}))
	require.Error(t, p.Flush(ctx))
	require.Empty(t, rec.authors, "a withdrawal is recorded only after its purge")
	require.Empty(t, rec.snaps)
	require.Len(t, rec.posts, 2)

	st.fail = false
	require.NoError(t, p.Close(ctx))
	require.Empty(t, rec.posts)
	require.Len(t, rec.authors, 1)
	require.Len(t, rec.snaps, 1)
	require.Len(t, rec.access, 1)
}

func TestForgottenAuthorsPostsAreDropped(t *testing.T) {
	rec := &recorder{forgotten: []string{"ann@a"}}
	p := New(rec, rec, Options{FlushEvery: time.Hour})
	ctx := context.Background()
	require.NoError(t, p.AddPosts(ctx, []model.Post{{URI: "a/1", Host: "a", Author: "ann@a"}, {URI: "a/2", Host: "a", Author: "bob@a"}}))
	require.NoError(t, p.Close(ctx))
	require.Equal(t, []string{"a/2"}, uris(rec.posts))
	require.Equal(t, []string{"a/2"}, uris(rec.indexed))

	rec.fail = errors.New("clickhouse down")
	p = New(rec, rec, Options{FlushEvery: time.Hour})
	require.NoError(t, p.AddPosts(ctx, []model.Post{{URI: "a/3", Host: "a", Author: "bob@a"}}))
	require.Error(t, p.Flush(ctx), "without the forgotten list nothing is written")
	rec.fail = nil
	require.NoError(t, p.Close(ctx))
	require.Equal(t, []string{"a/2", "a/3"}, uris(rec.posts))
}

func TestPipelineForgetAndExpire(t *testing.T) {
	rec := &recorder{}
	p := New(rec, rec, Options{FlushEvery: time.Hour})
	ctx := context.Background()
	now := time.Now()
	require.NoError(t, p.AddPosts(ctx, []model.Post{
		{URI: "a/1", Host: "a", Author: "ann@a", Created: now}, {URI: "a/2", Host: "a", Author: "bob@a", Created: now},
		{URI: "b/1", Host: "b", Author: "cy@b", Created: now}, {URI: "c/1", Host: "c", Author: "dee@c", Created: now.Add(-48 * time.Hour)},
	}))
	require.NoError(t, p.Flush(ctx))
	// Buffered, not flushed yet.
	require.NoError(t, p.AddPosts(ctx, []model.Post{
		{URI: "a/3", Host: "a", Author: "ann@a", Created: now}, {URI: "b/2", Host: "b", Author: "cy@b", Created: now},
		{URI: "c/2", Host: "c", Author: "dee@c", Created: now.Add(-72 * time.Hour)}, {URI: "c/3", Host: "c", Author: "dee@c", Created: now},
	}))

	res, err := p.Forget(ctx, rec, model.PurgeScope{Author: "ann@a", Host: "a"})
	require.NoError(t, err)
	require.Equal(t, ForgetResult{Indexed: 1, Stored: 1}, res)
	require.Equal(t, []string{"ann@a"}, rec.forgotten)

	res, err = p.Forget(ctx, rec, model.PurgeScope{Host: "b"})
	require.NoError(t, err)
	require.Equal(t, ForgetResult{Indexed: 1, Stored: 1}, res)
	require.Equal(t, []model.OptOut{{Host: "b", Reason: ReasonForgotten}}, rec.optouts)

	_, err = p.Forget(ctx, rec, model.PurgeScope{})
	require.ErrorIs(t, err, ErrBadScope)

	n, err := p.Expire(ctx, time.Time{})
	require.NoError(t, err)
	require.Zero(t, n)
	n, err = p.Expire(ctx, now.Add(-24*time.Hour))
	require.NoError(t, err)
	require.Equal(t, 1, n)

	require.NoError(t, p.Close(ctx))
	require.Equal(t, []string{"a/2", "c/3"}, uris(rec.posts), "buffered posts of the forgotten and expired are dropped too")
	require.Equal(t, []string{"a/2", "c/3"}, uris(rec.indexed))
	var forgetCalls []string
	for _, o := range rec.callOrder {
		if o == "forget" || o == "optout" || strings.HasPrefix(o, "index-delete-") || o == "purge" {
			forgetCalls = append(forgetCalls, o)
		}
	}
	require.Equal(t, []string{"forget", "index-delete-authors", "purge", "optout", "index-delete-hosts", "purge",
		"index-delete-before", "purge"}, forgetCalls, "the decision is recorded first, the index purged before the store")
}
