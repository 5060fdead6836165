package store_test

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/chtest"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/store"
)

var keyRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestAuthorKeyStableAcrossOpen(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	other := chtest.Store(t)
	ctx := ctxT(t)

	k := s.AuthorKey("ann@a.test")
	require.Regexp(t, keyRE, k)
	require.Equal(t, k, s.AuthorKey("ann@a.test"))
	require.NotEqual(t, k, s.AuthorKey("bob@a.test"))
	require.Empty(t, s.AuthorKey(""))
	require.NotEqual(t, k, other.AuthorKey("ann@a.test"), "every installation has its own secret")

	// Another process on the same database derives the same keys.
	s2, err := store.Open(ctx, store.Options{Addr: chtest.Addr(), Database: s.Database()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s2.Close() })
	require.Equal(t, k, s2.AuthorKey("ann@a.test"))

	// ClickHouse computes the same key from the stored secret (what the
	// in-place rewrite of old rows relies on).
	var inDB string
	require.NoError(t, s.Conn().QueryRow(ctx, `
SELECT lower(substring(hex(SHA256(concat(argMin(value, version), '\n', 'ann@a.test'))), 1, 32))
FROM installation WHERE name = 'author_key_secret'`).Scan(&inDB))
	require.Equal(t, k, inDB)
	var secrets uint64
	require.NoError(t, s.Conn().QueryRow(ctx, "SELECT count() FROM installation").Scan(&secrets))
	require.Equal(t, uint64(1), secrets, "opening again does not write another secret")
}

// TestMigrationPseudonymisesExistingPosts builds a database as fedilens
// left it before migration 10 (the posts table of migration 4, with raw
// handles) and opens it: every row must survive with its author replaced by
// the key.
func TestMigrationPseudonymisesExistingPosts(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	db := fmt.Sprintf("test_premig_%d", time.Now().UnixNano())
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{chtest.Addr()}, Auth: clickhouse.Auth{Database: "default"}})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = conn.Close()
		require.NoError(t, chtest.DropDatabase(chtest.Addr(), db))
	})
	require.NoError(t, conn.Exec(ctx, "CREATE DATABASE "+db))
	require.NoError(t, conn.Exec(ctx, `
CREATE TABLE `+db+`.posts (
    uri String, host String, author String, created DateTime('UTC'), language String, tags Array(String),
    sensitive UInt8, has_summary UInt8, replies Int64, reblogs Int64, favourites Int64, version UInt64
) ENGINE = ReplacingMergeTree(version) ORDER BY uri`))
	batch, err := conn.PrepareBatch(ctx, `INSERT INTO `+db+`.posts (uri, host, author, created, language, tags,
    sensitive, has_summary, replies, reblogs, favourites, version)`)
	require.NoError(t, err)
	created := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	const n = 300
	for i := range n {
		author := fmt.Sprintf("user%d@h%d.test", i%7, i%3)
		require.NoError(t, batch.Append(fmt.Sprintf("https://h%d.test/p/%d", i%3, i), fmt.Sprintf("h%d.test", i%3), author,
			created, "en", []string{"t"}, uint8(i%2), uint8(0), int64(i), int64(1), int64(2), uint64(1)))
	}
	require.NoError(t, batch.Send())

	s, err := store.Open(ctx, store.Options{Addr: chtest.Addr(), Database: db})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })

	metas, err := s.PostMetas(ctx, "")
	require.NoError(t, err)
	require.Len(t, metas, n, "no row lost")
	byURI := map[string]store.PostMeta{}
	for _, m := range metas {
		byURI[m.URI] = m
	}
	for i := range n {
		m, ok := byURI[fmt.Sprintf("https://h%d.test/p/%d", i%3, i)]
		require.True(t, ok)
		require.Equal(t, s.AuthorKey(fmt.Sprintf("user%d@h%d.test", i%7, i%3)), m.AuthorKey)
		require.Equal(t, int64(i), m.Replies, "the other columns are kept")
		require.Equal(t, i%2 == 1, m.Sensitive)
		require.Equal(t, created, m.Created)
	}
	var raw uint64
	require.NoError(t, s.Conn().QueryRow(ctx, "SELECT count() FROM posts WHERE author != ''").Scan(&raw))
	require.Zero(t, raw)

	// Opening again finds nothing to rewrite and changes nothing.
	s2, err := store.Open(ctx, store.Options{Addr: chtest.Addr(), Database: db})
	require.NoError(t, err)
	require.NoError(t, s2.Close())
	again, err := s.PostMetas(ctx, "")
	require.NoError(t, err)
	require.Equal(t, metas, again)
}

func TestPostDetails(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := ctxT(t)
	before := time.Now().Add(-time.Second).Truncate(time.Second)
	created := time.Date(2025, 5, 6, 7, 8, 9, 0, time.UTC)
	require.NoError(t, s.InsertPosts(ctx, []model.Post{
		{
			URI: "https://a.test/1", Host: "a.test", Author: "ann@a.test", Created: created, Language: "fr",
			Tags: []string{"x"}, Kind: "article", Source: model.SourceActivityPub, AltText: "a cat",
			Mentions: []string{"bob@B.test", "cy@a.test", "dee@b.test", "broken@"}, Links: []string{"https://x.test/", "https://y.test/"},
			InReplyTo: "https://b.test/9", Summary: "cw", Sensitive: true,
		},
		{URI: "https://a.test/2", Host: "a.test", Author: "bob@a.test", Created: created},
		{URI: "https://b.test/1", Host: "b.test", Author: "cy@b.test", Created: created},
	}))
	metas, err := s.PostMetas(ctx, "a.test")
	require.NoError(t, err)
	require.Len(t, metas, 2)
	m := metas[0]
	require.False(t, m.Fetched.Before(before), "fetched is the insert time")
	m.Fetched = time.Time{}
	require.Equal(t, store.PostMeta{
		URI: "https://a.test/1", Host: "a.test", AuthorKey: s.AuthorKey("ann@a.test"), Created: created, Language: "fr",
		Tags: []string{"x"}, Kind: "article", Source: model.SourceActivityPub, MentionHosts: []string{"a.test", "b.test"},
		Sensitive: true, HasSummary: true, HasAltText: true, Reply: true, Links: 2,
	}, m)
	require.Equal(t, "note", metas[1].Kind, "an empty kind reads as note")
	require.False(t, metas[1].Reply)

}

func TestAuthorsAndForget(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := ctxT(t)
	day := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	require.NoError(t, s.UpsertAuthors(ctx, []model.AuthorState{
		{Author: "ann@a.test", Host: "a.test", Consent: true, Checked: day},
		{Author: "bob@a.test", Host: "a.test", Consent: true, Checked: day},
		{Author: "cy@b.test", Host: "b.test", Reason: "not_indexable", Checked: day},
		// bob withdraws later in the same call: the later element wins.
		{Author: "bob@a.test", Host: "a.test", Consent: false, Reason: "noindex", Checked: day.Add(time.Hour)},
	}))
	totals, err := s.AuthorTotals(ctx)
	require.NoError(t, err)
	require.Equal(t, store.AuthorTotals{Consenting: 1, Declined: map[string]uint64{"noindex": 1, "not_indexable": 1}}, totals)

	forgotten, err := s.ForgottenAuthors(ctx)
	require.NoError(t, err)
	require.Empty(t, forgotten)
	require.ErrorIs(t, s.UnforgetAuthor(ctx, "ann@a.test"), model.ErrNotFound)
	require.ErrorIs(t, s.ForgetAuthor(ctx, " "), model.ErrBadQuery)

	require.NoError(t, s.ForgetAuthor(ctx, "ann@a.test"))
	// A later crawl that finds consent does not lift the forget.
	require.NoError(t, s.UpsertAuthors(ctx, []model.AuthorState{{Author: "ann@a.test", Host: "a.test", Consent: true}}))
	forgotten, err = s.ForgottenAuthors(ctx)
	require.NoError(t, err)
	require.Equal(t, map[string]bool{s.AuthorKey("ann@a.test"): true}, forgotten)

	require.NoError(t, s.ForgetAuthor(ctx, "cy@b.test"))
	totals, err = s.AuthorTotals(ctx)
	require.NoError(t, err)
	require.Equal(t, map[string]uint64{"noindex": 1, store.ReasonForgotten: 1}, totals.Declined)

	require.NoError(t, s.UnforgetAuthor(ctx, "ann@a.test"))
	forgotten, err = s.ForgottenAuthors(ctx)
	require.NoError(t, err)
	require.Equal(t, map[string]bool{s.AuthorKey("cy@b.test"): true}, forgotten)
	require.ErrorIs(t, s.UnforgetAuthor(ctx, "ann@a.test"), model.ErrNotFound)
}

func TestPostCursorsRoundTrip(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := ctxT(t)
	t0 := time.Date(2025, 2, 3, 4, 5, 6, 0, time.UTC)
	require.NoError(t, s.UpsertPostCursors(ctx, []model.PostCursor{
		{Host: "a.test", Account: "ann@a.test", Source: model.SourceMastodon, Cursor: "100", Updated: t0},
		{Host: "a.test", Source: model.SourceMastodon, Cursor: "timeline:5", Updated: t0},
		{Host: "a.test", Account: "ann@a.test", Source: model.SourceActivityPub, Cursor: "https://a.test/outbox?page=2", Updated: t0},
		{Host: "b.test", Account: "bob@b.test", Source: model.SourceMisskey, Cursor: "x", Updated: t0},
	}))
	got, err := s.PostCursors(ctx, "a.test")
	require.NoError(t, err)
	ann := s.AuthorKey("ann@a.test")
	want := []model.PostCursor{
		{Host: "a.test", AccountKey: "", Source: model.SourceMastodon, Cursor: "timeline:5", Updated: t0},
		{Host: "a.test", AccountKey: ann, Source: model.SourceActivityPub, Cursor: "https://a.test/outbox?page=2", Updated: t0},
		{Host: "a.test", AccountKey: ann, Source: model.SourceMastodon, Cursor: "100", Updated: t0},
	}
	require.Equal(t, want, got, "sorted by key (host-wide first) and source")

	// Written back by key (as the crawler does with what it read), the
	// latest write wins.
	next := got[2]
	next.Cursor, next.Revalidated, next.Updated = "200", t0.Add(time.Hour), t0.Add(time.Hour)
	require.NoError(t, s.UpsertPostCursors(ctx, []model.PostCursor{next}))
	got, err = s.PostCursors(ctx, "a.test")
	require.NoError(t, err)
	require.Len(t, got, 3)
	require.Equal(t, next, got[2])

	got, err = s.PostCursors(ctx, "none.test")
	require.NoError(t, err)
	require.Empty(t, got)

	hosts, err := s.PostCursorHosts(ctx)
	require.NoError(t, err)
	require.Equal(t, map[string]bool{"a.test": true, "b.test": true}, hosts)
}

func TestPostAccessAndSkips(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := ctxT(t)
	t0 := time.Date(2025, 2, 3, 0, 0, 0, 0, time.UTC)
	require.NoError(t, s.InsertPostAccess(ctx, []model.HostPostAccess{
		{Host: "a.test", Crawled: t0, Source: model.SourceMastodon, Access: model.PostAccessOK, Requests: 9,
			Skipped: map[string]int{"not_indexable": 5, "not_public": 7}},
		{Host: "a.test", Crawled: t0.Add(time.Hour), Source: model.SourceMastodon, Access: model.PostAccessOK, Requests: 3,
			Skipped: map[string]int{"not_indexable": 2}},
		{Host: "b.test", Crawled: t0, Access: model.PostAccessSignatureRequired, Requests: 1},
		{Host: "c.test", Crawled: t0, Source: model.SourceLemmy, Access: model.PostAccessOK, Skipped: map[string]int{"not_public": 1, "nobot": 4}},
	}))
	skips, err := s.PostSkipTotals(ctx)
	require.NoError(t, err)
	require.Equal(t, map[string]uint64{"not_indexable": 2, "not_public": 1, "nobot": 4}, skips, "each host's latest crawl counts")

	access, err := s.PostAccessTotals(ctx)
	require.NoError(t, err)
	require.Equal(t, map[string]uint64{model.PostAccessOK: 2, model.PostAccessSignatureRequired: 1}, access)

	a, err := s.HostPostAccess(ctx, "a.test")
	require.NoError(t, err)
	require.Equal(t, model.HostPostAccess{Host: "a.test", Crawled: t0.Add(time.Hour), Source: model.SourceMastodon,
		Access: model.PostAccessOK, Requests: 3, Skipped: map[string]int{"not_indexable": 2}}, a)
	_, err = s.HostPostAccess(ctx, "none.test")
	require.ErrorIs(t, err, model.ErrNotFound)
}

func TestPurgePosts(t *testing.T) {
	t.Parallel()
	old := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	recent := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	posts := []model.Post{
		{URI: "https://a.test/1", Host: "a.test", Author: "ann@a.test", Created: recent},
		{URI: "https://a.test/2", Host: "a.test", Author: "ann@a.test", Created: old},
		{URI: "https://a.test/3", Host: "a.test", Author: "bob@a.test", Created: recent},
		{URI: "https://b.test/1", Host: "b.test", Author: "cy@b.test", Created: recent},
		{URI: "https://b.test/2'); DROP TABLE posts; --", Host: "b.test", Author: "cy@b.test", Created: old},
		{URI: "https://c.test/1", Host: "c.test", Author: "dee@c.test", Created: recent},
	}
	tests := []struct {
		name  string
		purge func(s *store.Store) store.Purge
		left  []string
	}{
		{"nothing", func(*store.Store) store.Purge { return store.Purge{} },
			[]string{"https://a.test/1", "https://a.test/2", "https://a.test/3", "https://b.test/1", "https://b.test/2'); DROP TABLE posts; --", "https://c.test/1"}},
		{"uris", func(*store.Store) store.Purge {
			return store.Purge{URIs: []string{"https://a.test/3", "https://b.test/2'); DROP TABLE posts; --", "https://unknown.test/", "https://a.test/3"}}
		}, []string{"https://a.test/1", "https://a.test/2", "https://b.test/1", "https://c.test/1"}},
		{"authors", func(s *store.Store) store.Purge {
			return store.Purge{AuthorKeys: []string{s.AuthorKey("ann@a.test"), s.AuthorKey("cy@b.test"), s.AuthorKey("nobody@x.test")}}
		}, []string{"https://a.test/3", "https://c.test/1"}},
		{"hosts", func(*store.Store) store.Purge { return store.Purge{Hosts: []string{"a.test", "zzz.test"}} },
			[]string{"https://b.test/1", "https://b.test/2'); DROP TABLE posts; --", "https://c.test/1"}},
		{"before", func(*store.Store) store.Purge { return store.Purge{Before: recent.Add(-time.Hour)} },
			[]string{"https://a.test/1", "https://a.test/3", "https://b.test/1", "https://c.test/1"}},
		{"all at once", func(s *store.Store) store.Purge {
			return store.Purge{URIs: []string{"https://c.test/1"}, AuthorKeys: []string{s.AuthorKey("bob@a.test")}, Hosts: []string{"b.test"}, Before: recent}
		}, []string{"https://a.test/1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := chtest.Store(t)
			ctx := ctxT(t)
			require.NoError(t, s.InsertPosts(ctx, posts))
			n, err := s.PurgePosts(ctx, tc.purge(s))
			require.NoError(t, err)
			require.Equal(t, len(posts)-len(tc.left), n)
			got, err := s.PostURIs(ctx)
			require.NoError(t, err)
			require.Equal(t, tc.left, got, "purged as soon as PurgePosts returns")
			var mutations uint64
			require.NoError(t, s.Conn().QueryRow(ctx, "SELECT count() FROM system.mutations WHERE database = ?", s.Database()).Scan(&mutations))
			require.Equal(t, uint64(min(n, 1)), mutations, "one mutation, none when nothing matches")
		})
	}
}

// TestPurgeBefore: the retention purge (pipeline.Expire) removes the posts
// created before the limit, undated ones included; an empty purge removes
// nothing.
func TestPurgeBefore(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := ctxT(t)
	now := time.Now()
	require.NoError(t, s.InsertPosts(ctx, []model.Post{
		{URI: "new", Created: now.Add(-time.Hour)},
		{URI: "old", Created: now.Add(-100 * 24 * time.Hour)},
		{URI: "undated"},
	}))
	n, err := s.PurgePosts(ctx, store.Purge{})
	require.NoError(t, err)
	require.Zero(t, n, "an empty purge keeps everything")
	n, err = s.PurgePosts(ctx, store.Purge{Before: now.Add(-90 * 24 * time.Hour)})
	require.NoError(t, err)
	require.Equal(t, 2, n)
	got, err := s.PostURIs(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"new"}, got)

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = s.PurgePosts(cctx, store.Purge{Before: now})
	require.Error(t, err)
}
