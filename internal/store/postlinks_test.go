package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/chtest"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/store"
)

// jan is 2025-01-d at noon UTC.
func jan(d int) time.Time { return time.Date(2025, 1, d, 12, 0, 0, 0, time.UTC) }

// linkWorld stores the posts and boosts the post link tests read:
//
//	a.test ann  1 Jan  mentions b.test twice, c.test and herself; answers c.test
//	a.test ann  5 Jan  mentions b.test; answers a local post
//	a.test bob 10 Jan  answers b.test; its first version also mentioned d.test
//	a.test ann         boosts b.test (2 and 8 Jan) and a local post (3 Jan)
//	a.test bob         boosts e.test (3 Jan)
//	b.test cy   2 Jan  mentions a.test; cy boosts a.test (4 Jan)
func linkWorld(t *testing.T, s *store.Store) {
	t.Helper()
	ctx := ctxT(t)
	first := model.Post{URI: "https://a.test/3", Host: "a.test", Author: "bob@a.test", Created: jan(10),
		Mentions: []string{"x@d.test"}, InReplyTo: "https://b.test/9", ReplyHost: "b.test"}
	edited := first
	edited.Mentions = nil
	require.NoError(t, s.InsertPosts(ctx, []model.Post{
		{URI: "https://a.test/1", Host: "a.test", Author: "ann@a.test", Created: jan(1),
			Mentions:  []string{"ann@a.test", "x@b.test", "y@b.test", "z@c.test"},
			InReplyTo: "https://c.test/objects/1", ReplyHost: "c.test"},
		{URI: "https://a.test/2", Host: "a.test", Author: "ann@a.test", Created: jan(5),
			Mentions: []string{"x@B.test"}, InReplyTo: "https://a.test/1", ReplyHost: "a.test"},
		first,
		{URI: "https://b.test/1", Host: "b.test", Author: "cy@b.test", Created: jan(2), Mentions: []string{"ann@a.test"}},
	}))
	require.NoError(t, s.InsertPosts(ctx, []model.Post{edited}))
	boost := func(uri, author string, d int, target string) model.Boost {
		_, host, _ := strings.Cut(author, "@")
		return model.Boost{URI: uri, Host: host, Author: author, Created: jan(d), BoostedHost: target, Source: model.SourceActivityPub}
	}
	require.NoError(t, s.InsertBoosts(ctx, []model.Boost{
		boost("https://a.test/b1", "ann@a.test", 2, "b.test"),
		boost("https://a.test/b2", "ann@a.test", 8, "B.TEST"),
		boost("https://a.test/b3", "ann@a.test", 3, "a.test"),
		boost("https://a.test/b4", "bob@a.test", 3, "e.test"),
		boost("https://b.test/b1", "cy@b.test", 4, "a.test"),
	}))
	// A recrawl writes a boost again: it still counts once.
	require.NoError(t, s.InsertBoosts(ctx, []model.Boost{boost("https://a.test/b1", "ann@a.test", 2, "b.test")}))
}

func link(target, kind string, n int64, first, last int) model.PostLink {
	return model.PostLink{Host: "a.test", Target: target, Kind: kind, Count: n, FirstSeen: jan(first), LastSeen: jan(last)}
}

func TestPostLinks(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := ctxT(t)
	linkWorld(t, s)

	tests := []struct {
		name string
		host string
		at   time.Time
		want []model.PostLink
	}{
		{"now", "a.test", time.Time{}, []model.PostLink{
			link("b.test", model.PostLinkBoost, 2, 2, 8),
			link("b.test", model.PostLinkMention, 2, 1, 5),
			link("b.test", model.PostLinkReply, 1, 10, 10),
			link("c.test", model.PostLinkMention, 1, 1, 1),
			link("c.test", model.PostLinkReply, 1, 1, 1),
			link("e.test", model.PostLinkBoost, 1, 3, 3),
		}},
		{"as of 5 Jan", "a.test", jan(5), []model.PostLink{
			link("b.test", model.PostLinkBoost, 1, 2, 2),
			link("b.test", model.PostLinkMention, 2, 1, 5),
			link("c.test", model.PostLinkMention, 1, 1, 1),
			link("c.test", model.PostLinkReply, 1, 1, 1),
			link("e.test", model.PostLinkBoost, 1, 3, 3),
		}},
		{"before everything", "a.test", jan(1).Add(-time.Second), nil},
		{"the other host", "b.test", time.Time{}, []model.PostLink{
			{Host: "b.test", Target: "a.test", Kind: model.PostLinkBoost, Count: 1, FirstSeen: jan(4), LastSeen: jan(4)},
			{Host: "b.test", Target: "a.test", Kind: model.PostLinkMention, Count: 1, FirstSeen: jan(2), LastSeen: jan(2)},
		}},
		{"unknown host", "z.test", time.Time{}, nil},
		{"no host", "", time.Time{}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.PostLinks(ctx, tc.host, tc.at)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}

	top, err := s.TopPostLinks(ctx, time.Time{}, time.Time{}, 2)
	require.NoError(t, err)
	require.Equal(t, []model.PostLink{
		link("b.test", model.PostLinkBoost, 2, 2, 8),
		link("b.test", model.PostLinkMention, 2, 1, 5),
	}, top)
	top, err = s.TopPostLinks(ctx, time.Time{}, time.Time{}, 100)
	require.NoError(t, err)
	require.Len(t, top, 8, "6 links of a.test, 2 of b.test")
	top, err = s.TopPostLinks(ctx, jan(2), jan(4), 10)
	require.NoError(t, err)
	require.Equal(t, []model.PostLink{
		{Host: "a.test", Target: "b.test", Kind: model.PostLinkBoost, Count: 1, FirstSeen: jan(2), LastSeen: jan(2)},
		{Host: "a.test", Target: "e.test", Kind: model.PostLinkBoost, Count: 1, FirstSeen: jan(3), LastSeen: jan(3)},
		{Host: "b.test", Target: "a.test", Kind: model.PostLinkBoost, Count: 1, FirstSeen: jan(4), LastSeen: jan(4)},
		{Host: "b.test", Target: "a.test", Kind: model.PostLinkMention, Count: 1, FirstSeen: jan(2), LastSeen: jan(2)},
	}, top, "the range bounds the posts counted, both ends included")
	top, err = s.TopPostLinks(ctx, time.Time{}, time.Time{}, 0)
	require.NoError(t, err)
	require.Empty(t, top)

	// An opted-out host is left out as a target and has no links itself.
	require.NoError(t, s.AddOptOut(ctx, model.OptOut{Host: "c.test"}))
	require.NoError(t, s.AddOptOut(ctx, model.OptOut{Host: "b.test"}))
	got, err := s.PostLinks(ctx, "a.test", time.Time{})
	require.NoError(t, err)
	require.Equal(t, []model.PostLink{link("e.test", model.PostLinkBoost, 1, 3, 3)}, got)
	got, err = s.PostLinks(ctx, "b.test", time.Time{})
	require.NoError(t, err)
	require.Empty(t, got)
	top, err = s.TopPostLinks(ctx, time.Time{}, time.Time{}, 10)
	require.NoError(t, err)
	require.Equal(t, []model.PostLink{link("e.test", model.PostLinkBoost, 1, 3, 3)}, top)

	// The opt-out purge finds the opted-out hosts' boosts with their posts.
	uris, err := s.OptedOutPostURIs(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"https://b.test/1", "https://b.test/b1"}, uris)
}

func TestPostLinksFollowPurges(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := ctxT(t)
	linkWorld(t, s)

	boostURIs := func() []string {
		t.Helper()
		metas, err := s.BoostMetas(ctx, "")
		require.NoError(t, err)
		var out []string
		for _, m := range metas {
			out = append(out, m.URI)
		}
		return out
	}
	stored, err := s.StoredBoosts(ctx, "a.test")
	require.NoError(t, err)
	require.Equal(t, map[string][]string{
		s.AuthorKey("ann@a.test"): {"https://a.test/b1", "https://a.test/b2", "https://a.test/b3"},
		s.AuthorKey("bob@a.test"): {"https://a.test/b4"},
	}, stored)
	metas, err := s.BoostMetas(ctx, "b.test")
	require.NoError(t, err)
	require.Len(t, metas, 1)
	require.Equal(t, store.BoostMeta{URI: "https://b.test/b1", Host: "b.test", AuthorKey: s.AuthorKey("cy@b.test"),
		Created: jan(4), BoostedHost: "a.test", Source: model.SourceActivityPub, Fetched: metas[0].Fetched}, metas[0])
	require.WithinDuration(t, time.Now(), metas[0].Fetched, time.Minute)

	// An undone boost (found gone, by URI) and the posts and boosts of a
	// withdrawn author go; the number returned counts posts only.
	n, err := s.PurgePosts(ctx, store.Purge{URIs: []string{"https://a.test/b2"}, AuthorKeys: []string{s.AuthorKey("bob@a.test")}})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, []string{"https://a.test/b1", "https://a.test/b3", "https://b.test/b1"}, boostURIs())
	got, err := s.PostLinks(ctx, "a.test", time.Time{})
	require.NoError(t, err)
	require.Equal(t, []model.PostLink{
		link("b.test", model.PostLinkBoost, 1, 2, 2),
		link("b.test", model.PostLinkMention, 2, 1, 5),
		link("c.test", model.PostLinkMention, 1, 1, 1),
		link("c.test", model.PostLinkReply, 1, 1, 1),
	}, got)

	// Retention: everything created before 3 Jan.
	n, err = s.PurgePosts(ctx, store.Purge{Before: jan(3)})
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Equal(t, []string{"https://a.test/b3", "https://b.test/b1"}, boostURIs())
	got, err = s.PostLinks(ctx, "a.test", time.Time{})
	require.NoError(t, err)
	require.Equal(t, []model.PostLink{link("b.test", model.PostLinkMention, 1, 5, 5)}, got)

	// A forgotten host: its posts and boosts go.
	_, err = s.PurgePosts(ctx, store.Purge{Hosts: []string{"b.test"}})
	require.NoError(t, err)
	require.Equal(t, []string{"https://a.test/b3"}, boostURIs())

	// A purge that matches no boost issues no mutation.
	_, err = s.PurgePosts(ctx, store.Purge{URIs: []string{"https://nowhere.test/1"}})
	require.NoError(t, err)
	var mutations uint64
	require.NoError(t, s.Conn().QueryRow(ctx, `SELECT count() FROM system.mutations WHERE database = ? AND table = 'post_boosts'`,
		s.Database()).Scan(&mutations))
	require.Equal(t, uint64(3), mutations, "one mutation per purge that matched boosts")
}

// TestReplyHostStored: the host of the post answered round-trips, lower
// case; posts without one keep "".
func TestReplyHostStored(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := ctxT(t)
	require.NoError(t, s.InsertPosts(ctx, []model.Post{
		{URI: "https://a.test/1", Host: "a.test", Author: "ann@a.test", Created: jan(1), InReplyTo: "https://B.test/x", ReplyHost: "B.Test"},
		{URI: "https://a.test/2", Host: "a.test", Author: "ann@a.test", Created: jan(2)},
	}))
	metas, err := s.PostMetas(ctx, "a.test")
	require.NoError(t, err)
	require.Len(t, metas, 2)
	require.Equal(t, "b.test", metas[0].ReplyHost)
	require.True(t, metas[0].Reply)
	require.Empty(t, metas[1].ReplyHost)
	require.False(t, metas[1].Reply)
}
