package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/chtest"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/sanity"
	"github.com/fedilens/fedilens/internal/store"
)

// flaggedCensus is the fixture of the flag tests:
//
//	ok.test      mastodon  100 users, 10 active           clean
//	solo.test    mastodon    1 user                       info only (single_user)
//	liar.test    pleroma    50 users, 80 active           suspect (active_above_total)
//	healed.test  pleroma   was absurd, now 20 users       clean: only the latest snapshot counts
//	fell.test    lemmy     was clean, now total_jump      suspect
//	future.test  lemmy      30 users, a flag from a newer version: counted
func flaggedCensus(t *testing.T) *store.Store {
	t.Helper()
	s := chtest.Store(t)
	day2 := day1.Add(24 * time.Hour)
	mk := func(host, sw string, at time.Time, users, month int64, flags ...string) model.Snapshot {
		return model.Snapshot{Host: host, Software: sw, CrawledAt: at, UsersTotal: model.Int64(users),
			UsersActiveMonth: model.Int64(month), LocalPosts: model.Int64(users * 10), Flags: flags}
	}
	require.NoError(t, s.InsertSnapshots(ctxT(t), []model.Snapshot{
		mk("ok.test", "mastodon", day2, 100, 10),
		mk("solo.test", "mastodon", day2, 1, 1, string(sanity.SingleUser)),
		mk("liar.test", "pleroma", day2, 50, 80, string(sanity.ActiveAboveTotal)),
		mk("healed.test", "pleroma", day1, 1<<40, 5, string(sanity.AbsurdCount)),
		mk("healed.test", "pleroma", day2, 20, 5),
		mk("fell.test", "lemmy", day1, 5000, 50),
		mk("fell.test", "lemmy", day2, 300, 30, string(sanity.TotalJump)),
		mk("future.test", "lemmy", day2, 30, 3, "from_the_future"),
	}))
	return s
}

func TestFlagsRoundTrip(t *testing.T) {
	t.Parallel()
	s := flaggedCensus(t)
	ctx := ctxT(t)

	in, history, err := s.Instance(ctx, "fell.test")
	require.NoError(t, err)
	require.Equal(t, []string{"total_jump"}, in.Flags, "the latest snapshot's flags")
	require.Len(t, history, 2)
	require.Nil(t, history[0].Flags, "no flags read back as nil")
	require.Equal(t, []string{"total_jump"}, history[1].Flags)

	in, _, err = s.Instance(ctx, "healed.test")
	require.NoError(t, err)
	require.Nil(t, in.Flags, "an older snapshot's flags do not stick")

	latest, err := s.LatestCounts(ctx)
	require.NoError(t, err)
	day2 := day1.Add(24 * time.Hour)
	i := model.Int64
	require.Equal(t, []model.Snapshot{
		{Host: "fell.test", CrawledAt: day2, UsersTotal: i(300), UsersActiveMonth: i(30), LocalPosts: i(3000), Flags: []string{"total_jump"}},
		{Host: "future.test", CrawledAt: day2, UsersTotal: i(30), UsersActiveMonth: i(3), LocalPosts: i(300), Flags: []string{"from_the_future"}},
		{Host: "healed.test", CrawledAt: day2, UsersTotal: i(20), UsersActiveMonth: i(5), LocalPosts: i(200)},
		{Host: "liar.test", CrawledAt: day2, UsersTotal: i(50), UsersActiveMonth: i(80), LocalPosts: i(500), Flags: []string{"active_above_total"}},
		{Host: "ok.test", CrawledAt: day2, UsersTotal: i(100), UsersActiveMonth: i(10), LocalPosts: i(1000)},
		{Host: "solo.test", CrawledAt: day2, UsersTotal: i(1), UsersActiveMonth: i(1), LocalPosts: i(10), Flags: []string{"single_user"}},
	}, latest)

	// The latest snapshot's unknown counts stay unknown.
	require.NoError(t, s.InsertSnapshots(ctx, []model.Snapshot{{Host: "ok.test", CrawledAt: day2.Add(time.Hour), Software: "mastodon", Flags: []string{"no_user_count"}}}))
	latest, err = s.LatestCounts(ctx)
	require.NoError(t, err)
	require.Equal(t, model.Snapshot{Host: "ok.test", CrawledAt: day2.Add(time.Hour), Flags: []string{"no_user_count"}}, latest[4])

	empty := chtest.Store(t)
	latest, err = empty.LatestCounts(ctx)
	require.NoError(t, err)
	require.Empty(t, latest)
}

func TestCleanFigures(t *testing.T) {
	t.Parallel()
	s := flaggedCensus(t)
	ctx := ctxT(t)
	last := day1.Add(24 * time.Hour)

	clean := model.Summary{Instances: 4, UsersTotal: 151, UsersActiveMonth: 19, LocalPosts: 1510, Softwares: 3, LastCrawl: last, Flagged: 2}
	all := model.Summary{Instances: 6, UsersTotal: 501, UsersActiveMonth: 129, LocalPosts: 5010, Softwares: 3, LastCrawl: last, Flagged: 2}
	sum, err := s.Summary(ctx)
	require.NoError(t, err)
	require.Equal(t, clean, sum, "the default summary is clean")
	sum, err = s.SummaryWith(ctx, model.StatsOptions{})
	require.NoError(t, err)
	require.Equal(t, clean, sum)
	sum, err = s.SummaryWith(ctx, model.StatsOptions{IncludeFlagged: true})
	require.NoError(t, err)
	require.Equal(t, all, sum)

	cleanShare := []model.SoftwareShare{
		{Software: "mastodon", Instances: 2, UsersTotal: 101, ActiveMonth: 11},
		{Software: "lemmy", Instances: 1, UsersTotal: 30, ActiveMonth: 3},
		{Software: "pleroma", Instances: 1, UsersTotal: 20, ActiveMonth: 5},
	}
	share, err := s.SoftwareShare(ctx)
	require.NoError(t, err)
	require.Equal(t, cleanShare, share)
	share, err = s.SoftwareShareWith(ctx, model.StatsOptions{})
	require.NoError(t, err)
	require.Equal(t, cleanShare, share)
	share, err = s.SoftwareShareWith(ctx, model.StatsOptions{IncludeFlagged: true})
	require.NoError(t, err)
	require.Equal(t, []model.SoftwareShare{
		{Software: "lemmy", Instances: 2, UsersTotal: 330, ActiveMonth: 33},
		{Software: "mastodon", Instances: 2, UsersTotal: 101, ActiveMonth: 11},
		{Software: "pleroma", Instances: 2, UsersTotal: 70, ActiveMonth: 85},
	}, share)

	days, err := s.InstancesOverTime(ctx)
	require.NoError(t, err)
	require.Equal(t, []model.DayCount{{Day: day1, Count: 1}, {Day: last, Count: 4}}, days, "suspect snapshots do not count")
	days, err = s.InstancesOverTimeWith(ctx, model.StatsOptions{IncludeFlagged: true})
	require.NoError(t, err)
	require.Equal(t, []model.DayCount{{Day: day1, Count: 2}, {Day: last, Count: 6}}, days)

	// An empty census: nothing flagged, nothing counted.
	sum, err = chtest.Store(t).Summary(ctx)
	require.NoError(t, err)
	require.Equal(t, model.Summary{}, sum)
}

func TestInstancesFlaggedFilter(t *testing.T) {
	t.Parallel()
	s := flaggedCensus(t)
	ctx := ctxT(t)
	everyone := []string{"fell.test", "future.test", "healed.test", "liar.test", "ok.test", "solo.test"}
	tests := []struct {
		flagged  string
		software string
		want     []string
	}{
		{"", "", everyone},
		{model.FlaggedInclude, "", everyone},
		{model.FlaggedOnly, "", []string{"fell.test", "liar.test"}},
		{model.FlaggedExclude, "", []string{"future.test", "healed.test", "ok.test", "solo.test"}},
		{model.FlaggedOnly, "pleroma", []string{"liar.test"}},
		{model.FlaggedExclude, "lemmy", []string{"future.test"}},
	}
	for _, tc := range tests {
		t.Run(tc.flagged+"/"+tc.software, func(t *testing.T) {
			// One host a page: the filter and the cursor work together.
			var got []string
			q := model.InstanceQuery{Sort: "host", Limit: 1, Flagged: tc.flagged, Software: tc.software}
			for range 10 {
				page, err := s.Instances(ctx, q)
				require.NoError(t, err)
				got = append(got, hostsOf(page)...)
				if page.NextCursor == "" {
					break
				}
				q.Cursor = page.NextCursor
			}
			require.Equal(t, tc.want, got)
		})
	}

	page, err := s.Instances(ctx, model.InstanceQuery{Flagged: model.FlaggedOnly})
	require.NoError(t, err)
	require.Equal(t, []string{"fell.test", "liar.test"}, hostsOf(page), "by users")
	require.Equal(t, []string{"total_jump"}, page.Instances[0].Flags)

	for _, bad := range []string{"yes", "ONLY", "only' OR 1=1 --"} {
		_, err := s.Instances(ctx, model.InstanceQuery{Flagged: bad})
		require.ErrorIs(t, err, model.ErrBadQuery, bad)
	}
}

// TestFlagsMigration replays migration 7 on a table from before it: old
// rows read back without flags, and the migration is safe to repeat.
func TestFlagsMigration(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := ctxT(t)
	stmts := store.MigrationStatements(7)
	require.NotEmpty(t, stmts)

	require.NoError(t, s.Conn().Exec(ctx, "ALTER TABLE snapshots DROP COLUMN flags"))
	b, err := s.Conn().PrepareBatch(ctx, "INSERT INTO snapshots (host, crawled_at, software, users_total)")
	require.NoError(t, err)
	require.NoError(t, b.Append("old.test", day1, "mastodon", model.Int64(7)))
	require.NoError(t, b.Send())

	for range 2 {
		for _, stmt := range stmts {
			require.NoError(t, s.ExecMigration(ctx, stmt))
		}
	}
	in, history, err := s.Instance(ctx, "old.test")
	require.NoError(t, err)
	require.Nil(t, in.Flags)
	require.Len(t, history, 1)
	require.Nil(t, history[0].Flags)
	sum, err := s.Summary(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(1), sum.Instances, "snapshots from before the verdict count as clean")
}
