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

// explorerStore holds five listed hosts whose values make every sort
// order them differently, with ties, negative and unknown values, plus a
// host that opted out.
func explorerStore(t *testing.T) *store.Store {
	t.Helper()
	s := chtest.Store(t)
	ctx := ctxT(t)
	snaps := []model.Snapshot{
		// a: two snapshots; the latest read no lists, so the sizes come from the first.
		{Host: "a.example", CrawledAt: day1, Software: "mastodon", Title: "Alpha Social", OpenRegistrations: true,
			UsersTotal: model.Int64(90), PeerCount: model.Int64(5), BlockCount: model.Int64(2), Languages: []string{"en"}},
		{Host: "a.example", CrawledAt: day1.Add(24 * time.Hour), Software: "mastodon", Title: "Alpha Social", OpenRegistrations: true,
			UsersTotal: model.Int64(100), UsersActiveMonth: model.Int64(10), LocalPosts: model.Int64(1000), Languages: []string{"en"}},
		{Host: "b.example", CrawledAt: day1.Add(time.Hour), Software: "misskey", InstanceTitle: "Bravo Place",
			UsersActiveMonth: model.Int64(5), PeerCount: model.Int64(50), Languages: []string{"de", "en"}},
		{Host: "c.example", CrawledAt: day1, Software: "mastodon", UsersTotal: model.Int64(100), LocalPosts: model.Int64(5),
			Flags: []string{"active_above_total"}},
		{Host: "d.example", CrawledAt: day1.Add(2 * time.Hour), Software: "lemmy", Title: "The DELTA", OpenRegistrations: true,
			UsersTotal: model.Int64(-3), UsersActiveMonth: model.Int64(0), LocalPosts: model.Int64(0), PeerCount: model.Int64(0)},
		{Host: "e.example", CrawledAt: day1.Add(72 * time.Hour), Software: "mastodon", Title: "Alpha Gone", UsersTotal: model.Int64(1e6)},
		{Host: "f.example", CrawledAt: day1.Add(-48 * time.Hour), Software: "gotosocial", UsersTotal: model.Int64(7),
			UsersActiveMonth: model.Int64(7), LocalPosts: model.Int64(70), PeerCount: model.Int64(7)},
		{Host: "f.example", CrawledAt: day1.Add(3 * time.Hour), Software: "gotosocial", UsersTotal: model.Int64(7),
			UsersActiveMonth: model.Int64(7), LocalPosts: model.Int64(70), PeerCount: model.Int64(7)},
	}
	require.NoError(t, s.InsertSnapshots(ctx, snaps))
	require.NoError(t, s.AddOptOut(ctx, model.OptOut{Host: "e.example"}))
	return s
}

func listedHosts(page model.InstancePage) []string {
	out := []string{}
	for _, in := range page.Instances {
		out = append(out, in.Host)
	}
	return out
}

// exampleHosts turns "a b" into [a.example b.example].
func exampleHosts(letters string) []string {
	out := []string{}
	for _, l := range strings.Fields(letters) {
		out = append(out, l+".example")
	}
	return out
}

// walkListing lists every page of q with pages of limit instances.
func walkListing(t *testing.T, s *store.Store, q model.InstanceListQuery, limit int) []string {
	t.Helper()
	q.Limit = limit
	var out []string
	for range 20 {
		page, err := s.ListInstances(ctxT(t), q)
		require.NoError(t, err)
		require.LessOrEqual(t, len(page.Instances), limit)
		out = append(out, listedHosts(page)...)
		if page.NextCursor == "" {
			return out
		}
		q.Cursor = page.NextCursor
	}
	t.Fatal("the listing did not end")
	return nil
}

func TestListInstancesSorts(t *testing.T) {
	t.Parallel()
	s := explorerStore(t)
	for _, tc := range []struct {
		sort, order string
		want        string
	}{
		{"", "", "a c f d b"}, // users, descending; a and c tie, by host
		{"users", "desc", "a c f d b"},
		{"users", "asc", "d f a c b"}, // unknown last in either order
		{"active", "", "a f b d c"},
		{"active", "asc", "d b f a c"},
		{"posts", "desc", "a f c d b"},
		{"posts", "asc", "d c f a b"},
		{"peers", "", "b f a d c"}, // a's size is its latest list read
		{"peers", "asc", "d a f b c"},
		{"first_seen", "", "d b a c f"},
		{"first_seen", "asc", "f a c b d"},
		{"host", "", "a b c d f"},
		{"host", "desc", "f d c b a"},
	} {
		t.Run(tc.sort+" "+tc.order, func(t *testing.T) {
			want := exampleHosts(tc.want)
			q := model.InstanceListQuery{Sort: tc.sort, Order: tc.order}
			for _, limit := range []int{1, 2, 5, 100} {
				require.Equal(t, want, walkListing(t, s, q, limit), "pages of %d", limit)
			}
		})
	}
}

func TestListInstancesFilters(t *testing.T) {
	t.Parallel()
	s := explorerStore(t)
	for _, tc := range []struct {
		name string
		q    model.InstanceListQuery
		want string
	}{
		{"software", model.InstanceListQuery{Software: []string{"mastodon"}}, "a c"},
		{"two programs, any case", model.InstanceListQuery{Software: []string{" Lemmy", "misskey"}, Sort: "host"}, "b d"},
		{"language", model.InstanceListQuery{Language: "EN", Sort: "host"}, "a b"},
		{"open", model.InstanceListQuery{Registrations: model.RegistrationsOpen}, "a d"},
		{"closed", model.InstanceListQuery{Registrations: model.RegistrationsClosed, Sort: "host"}, "b c f"},
		{"flagged only", model.InstanceListQuery{Flagged: model.FlaggedOnly}, "c"},
		{"flagged excluded", model.InstanceListQuery{Flagged: model.FlaggedExclude, Sort: "host"}, "a b d f"},
		{"NodeInfo title", model.InstanceListQuery{Text: "ALPHA"}, "a"},
		{"instance document title", model.InstanceListQuery{Text: "bravo pl"}, "b"},
		{"title in another case", model.InstanceListQuery{Text: "delta"}, "d"},
		{"host", model.InstanceListQuery{Text: "f.exam"}, "f"},
		{"everything", model.InstanceListQuery{Text: ".example", Sort: "host"}, "a b c d f"},
		{"nothing", model.InstanceListQuery{Text: "%"}, ""},
		{"together", model.InstanceListQuery{Software: []string{"mastodon", "lemmy"}, Registrations: model.RegistrationsOpen,
			Flagged: model.FlaggedExclude, Sort: "host", Order: "desc"}, "d a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := exampleHosts(tc.want)
			q := tc.q
			q.Limit = 100
			page, err := s.ListInstances(ctxT(t), q)
			require.NoError(t, err)
			require.Equal(t, want, listedHosts(page))
			require.Empty(t, page.NextCursor)
			require.Equal(t, want, append([]string{}, walkListing(t, s, tc.q, 1)...), "page by page")
		})
	}
}

func TestListInstancesFields(t *testing.T) {
	t.Parallel()
	s := explorerStore(t)
	page, err := s.ListInstances(ctxT(t), model.InstanceListQuery{Sort: "host", Limit: 10})
	require.NoError(t, err)
	by := map[string]model.Instance{}
	for _, in := range page.Instances {
		by[in.Host] = in
	}
	a := by["a.example"]
	require.Equal(t, day1, a.FirstSeen)
	require.Equal(t, day1.Add(24*time.Hour), a.CrawledAt)
	require.EqualValues(t, 2, a.Snapshots)
	require.Equal(t, model.Int64(100), a.UsersTotal, "the latest snapshot's figures")
	require.Equal(t, model.Int64(5), a.PeerCount, "the latest list read, not the latest snapshot's NULL")
	require.Equal(t, model.Int64(2), a.BlockCount)
	require.Equal(t, []string{"en"}, a.Languages, "the instance document is attached")
	require.Nil(t, by["c.example"].PeerCount, "never read: unknown")
	require.Equal(t, []string{"active_above_total"}, by["c.example"].Flags)
	require.Equal(t, model.Int64(0), by["d.example"].PeerCount, "an empty list is 0, not unknown")
	require.NotContains(t, by, "e.example", "opted out")

	lc, err := s.InstanceLinkCounts(ctxT(t), "a.example")
	require.NoError(t, err)
	require.Equal(t, model.LinkCounts{Peers: model.Int64(5), Blocks: model.Int64(2)}, lc)
	lc, err = s.InstanceLinkCounts(ctxT(t), "c.example")
	require.NoError(t, err)
	require.Equal(t, model.LinkCounts{}, lc)
	for _, host := range []string{"nowhere.example", "e.example"} {
		_, err = s.InstanceLinkCounts(ctxT(t), host)
		require.ErrorIs(t, err, model.ErrNotFound, host)
	}

	last, err := s.LastCrawl(ctxT(t))
	require.NoError(t, err)
	require.Equal(t, day1.Add(24*time.Hour), last, "the opted-out host's later crawl does not count")
	last, err = chtest.Store(t).LastCrawl(ctxT(t))
	require.NoError(t, err)
	require.True(t, last.IsZero())
}

func TestListInstancesBadQueries(t *testing.T) {
	t.Parallel()
	s := explorerStore(t)
	page, err := s.ListInstances(ctxT(t), model.InstanceListQuery{Sort: "users", Limit: 1})
	require.NoError(t, err)
	require.NotEmpty(t, page.NextCursor)
	old, err := s.Instances(ctxT(t), model.InstanceQuery{Sort: "host", Limit: 1})
	require.NoError(t, err)
	require.NotEmpty(t, old.NextCursor)
	for _, tc := range []struct {
		name string
		q    model.InstanceListQuery
		msg  string
	}{
		{"sort", model.InstanceListQuery{Sort: "title"}, "sort must be one of users, active, posts, peers, first_seen, host"},
		{"order", model.InstanceListQuery{Order: "up"}, `order must be "asc" or "desc"`},
		{"registrations", model.InstanceListQuery{Registrations: "maybe"}, `registrations must be "open" or "closed"`},
		{"flagged", model.InstanceListQuery{Flagged: "all"}, "flagged must be"},
		{"limit", model.InstanceListQuery{Limit: -1}, "limit must not be negative"},
		{"text", model.InstanceListQuery{Text: strings.Repeat("a", model.MaxInstanceText+1)}, "longer than 100 bytes"},
		{"garbage cursor", model.InstanceListQuery{Cursor: "!!"}, "invalid cursor"},
		{"cursor of another sort", model.InstanceListQuery{Sort: "active", Cursor: page.NextCursor}, "another sort or order"},
		{"cursor of another order", model.InstanceListQuery{Order: "asc", Cursor: page.NextCursor}, "another sort or order"},
		{"cursor of Instances", model.InstanceListQuery{Sort: "host", Cursor: old.NextCursor}, "invalid cursor"},
		{"huge cursor", model.InstanceListQuery{Cursor: strings.Repeat("A", 600)}, "invalid cursor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.ListInstances(ctxT(t), tc.q)
			require.ErrorIs(t, err, model.ErrBadQuery)
			require.ErrorContains(t, err, tc.msg)
		})
	}
}
