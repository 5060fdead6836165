package store_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/chtest"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/store"
)

// postRow is a posts row as stored.
type postRow struct {
	URI, Host, AuthorKey, Language string
	Created                        time.Time
	Tags                           []string
	Sensitive, HasSummary          bool
	Replies, Reblogs, Favs         int64
}

func readPosts(t *testing.T, s *store.Store) []postRow {
	t.Helper()
	rows, err := s.Conn().Query(ctxT(t), `
SELECT uri, host, author_key, language, created, tags, sensitive, has_summary, replies, reblogs, favourites
FROM posts FINAL ORDER BY uri`)
	require.NoError(t, err)
	defer rows.Close()
	var out []postRow
	for rows.Next() {
		var r postRow
		require.NoError(t, rows.Scan(&r.URI, &r.Host, &r.AuthorKey, &r.Language, &r.Created, &r.Tags,
			&r.Sensitive, &r.HasSummary, &r.Replies, &r.Reblogs, &r.Favs))
		r.Created = r.Created.UTC()
		out = append(out, r)
	}
	require.NoError(t, rows.Err())
	return out
}

func TestInsertPostsIdempotent(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := ctxT(t)
	created := time.Date(2025, 1, 2, 3, 4, 5, 999, time.UTC)
	post := model.Post{
		URI: "https://a.test/notes/1", URL: "https://a.test/@ann/1", Host: "a.test", Author: "ann@a.test",
		AuthorName: "Ann", Created: created, Language: "de", Text: "secret text", HTML: "<p>secret text</p>",
		Summary: "cw", Sensitive: true, Tags: []string{"fedi", "lens"}, Replies: 1, Reblogs: 2, Favourites: 3,
	}
	other := model.Post{URI: "https://b.test/2", Host: "b.test", Author: "bob@b.test", Created: created}
	require.NoError(t, s.InsertPosts(ctx, []model.Post{post, other}))

	// Re-ingest with new counts, twice in one batch and once more later.
	edited := post
	edited.Favourites, edited.Summary, edited.Tags = 30, "", nil
	stale := post
	stale.Favourites = 5
	require.NoError(t, s.InsertPosts(ctx, []model.Post{stale, edited}))
	require.NoError(t, s.InsertPosts(ctx, []model.Post{other}))

	n, err := s.PostCount(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(2), n)
	require.Equal(t, []postRow{
		{URI: "https://a.test/notes/1", Host: "a.test", AuthorKey: s.AuthorKey("ann@a.test"), Language: "de",
			Created: created.Truncate(time.Second), Sensitive: true, Replies: 1, Reblogs: 2, Favs: 30, Tags: []string{}},
		{URI: "https://b.test/2", Host: "b.test", AuthorKey: s.AuthorKey("bob@b.test"), Created: created.Truncate(time.Second), Tags: []string{}},
	}, readPosts(t, s), "the later element and the later insert win")

	// No text or HTML reaches ClickHouse.
	var cols []string
	rows, err := s.Conn().Query(ctx, "SELECT name FROM system.columns WHERE database = ? AND table = 'posts'", s.Database())
	require.NoError(t, err)
	for rows.Next() {
		var c string
		require.NoError(t, rows.Scan(&c))
		cols = append(cols, c)
	}
	rows.Close()
	require.NotContains(t, cols, "text")
	require.NotContains(t, cols, "html")
	require.NotContains(t, cols, "summary")

	// No handle reaches ClickHouse either: author stays empty.
	var raw uint64
	require.NoError(t, s.Conn().QueryRow(ctx, "SELECT count() FROM posts WHERE author != ''").Scan(&raw))
	require.Zero(t, raw)
}

func TestPostTimesAreClamped(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := ctxT(t)
	require.NoError(t, s.InsertPosts(ctx, []model.Post{
		{URI: "a", Created: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)},
		{URI: "b", Created: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)},
		{URI: "c"},
	}))
	got := readPosts(t, s)
	require.Len(t, got, 3)
	require.Equal(t, time.Unix(0, 0).UTC(), got[0].Created)
	require.Equal(t, 2105, got[1].Created.Year())
	require.Equal(t, time.Unix(0, 0).UTC(), got[2].Created)
}

func TestDeletePosts(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := ctxT(t)
	hostile := `https://evil.test/'); DROP TABLE posts; --\` + "\x00"
	var posts []model.Post
	for i := range 5 {
		posts = append(posts, model.Post{URI: "https://a.test/" + strconv.Itoa(i), Host: "a.test"})
	}
	posts = append(posts, model.Post{URI: hostile, Host: "evil.test"})
	require.NoError(t, s.InsertPosts(ctx, posts))

	require.NoError(t, s.DeletePosts(ctx, []string{"https://a.test/1", "https://a.test/3", "https://a.test/1", hostile, "https://unknown.test/x"}))
	var uris []string
	for _, r := range readPosts(t, s) {
		uris = append(uris, r.URI)
	}
	require.Equal(t, []string{"https://a.test/0", "https://a.test/2", "https://a.test/4"}, uris, "deleted as soon as DeletePosts returns")
	n, err := s.PostCount(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(3), n)
	got, err := s.PostURIs(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"https://a.test/0", "https://a.test/2", "https://a.test/4"}, got)

	// Enough URIs for several mutations.
	many := make([]string, 0, 3000)
	for i := range 3000 {
		many = append(many, "https://a.test/"+strconv.Itoa(i)+"/"+strings.Repeat("x", 60))
	}
	many = append(many, "https://a.test/0")
	require.NoError(t, s.DeletePosts(ctx, many))
	n, err = s.PostCount(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(2), n)

	require.NoError(t, s.DeletePosts(ctx, []string{}))
}

func TestPeers(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := ctxT(t)
	_, err := s.Peers(ctx, "a.test")
	require.ErrorIs(t, err, model.ErrNotFound)

	require.NoError(t, s.InsertPeers(ctx, []model.Peers{
		{Host: "a.test", CrawledAt: day1.Add(time.Hour), Peers: []string{"new.test", "x.test"}},
		{Host: "a.test", CrawledAt: day1, Peers: []string{"old.test"}},
		{Host: "b.test", CrawledAt: day1, Peers: nil},
	}))
	zero := int64(0)
	require.NoError(t, s.InsertSnapshots(ctx, []model.Snapshot{{Host: "b.test", CrawledAt: day1, PeerCount: &zero}}))
	got, err := s.Peers(ctx, "a.test")
	require.NoError(t, err)
	require.Equal(t, []string{"new.test", "x.test"}, got)

	got, err = s.Peers(ctx, "b.test")
	require.NoError(t, err, "an empty list is a list")
	require.Nil(t, got)

	_, err = s.Peers(ctx, "c.test")
	require.ErrorIs(t, err, model.ErrNotFound)
}

func TestHostStates(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := ctxT(t)
	first := model.HostState{
		Host: "a.test", Status: model.StatusOK, Software: "mastodon",
		LastAttempt: day1, LastSuccess: day1, NextDue: day1.Add(6 * time.Hour), DiscoveredFrom: "seed",
		NodeInfoETag: `W/"abc"`, NodeInfoLastModified: "Sun, 01 Nov 2026 00:00:00 GMT",
		NodeInfoFreshUntil: day1.Add(30 * time.Minute), PeersFreshUntil: day1.Add(24 * time.Hour),
	}
	never := model.HostState{
		Host: "b.test", Status: model.StatusUnreachable, Reason: "dial tcp: i/o timeout 'quoted'",
		LastAttempt: day1.Add(time.Minute), NextDue: day1.Add(time.Hour), Failures: 3, DiscoveredFrom: "a.test",
	}
	require.NoError(t, s.UpsertHostStates(ctx, []model.HostState{first, never}))

	second := first
	second.Status, second.Reason, second.Failures = model.StatusRobotsDisallowed, "robots.txt", 1
	second.LastAttempt = day1.Add(2 * time.Hour)
	// Two upserts of one host in one call: the later one wins.
	stale := first
	stale.Reason = "stale"
	require.NoError(t, s.UpsertHostStates(ctx, []model.HostState{stale, second}))

	got, err := s.HostStates(ctx)
	require.NoError(t, err)
	require.Equal(t, []model.HostState{second, never}, got)
	require.True(t, got[1].LastSuccess.IsZero(), "a zero time round-trips as zero")
}
