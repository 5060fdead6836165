package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/chtest"
	"github.com/fedilens/fedilens/internal/model"
)

func TestOptOutRoundTrip(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := ctxT(t)

	got, err := s.OptOuts(ctx)
	require.NoError(t, err)
	require.Empty(t, got)

	at := day1.Add(90*time.Minute + 400*time.Millisecond)
	require.NoError(t, s.AddOptOut(ctx, model.OptOut{Host: "b.example", Reason: "mail from the admin, 'quoted' \\ \x00", AddedAt: at}))
	require.NoError(t, s.AddOptOut(ctx, model.OptOut{Host: "a.example", Reason: "first", AddedAt: at}))
	// Re-adding replaces the reason and the time.
	require.NoError(t, s.AddOptOut(ctx, model.OptOut{Host: "a.example", Reason: "second", AddedAt: at.Add(time.Hour)}))
	got, err = s.OptOuts(ctx)
	require.NoError(t, err)
	require.Equal(t, []model.OptOut{
		{Host: "a.example", Reason: "second", AddedAt: day1.Add(150 * time.Minute)},
		{Host: "b.example", Reason: "mail from the admin, 'quoted' \\ \x00", AddedAt: day1.Add(90 * time.Minute)},
	}, got)

	require.NoError(t, s.RemoveOptOut(ctx, "a.example"))
	err = s.RemoveOptOut(ctx, "a.example")
	require.True(t, errors.Is(err, model.ErrNotFound), "removing twice: %v", err)
	require.True(t, errors.Is(s.RemoveOptOut(ctx, "never.example"), model.ErrNotFound))
	got, err = s.OptOuts(ctx)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, "b.example", got[0].Host)

	// Added again after a removal: in force again, also after parts merge.
	require.NoError(t, s.AddOptOut(ctx, model.OptOut{Host: "a.example", Reason: "third"}))
	require.NoError(t, s.Conn().Exec(ctx, "OPTIMIZE TABLE optouts FINAL"))
	got, err = s.OptOuts(ctx)
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, "third", got[0].Reason)
	require.WithinDuration(t, time.Now(), got[0].AddedAt, time.Minute, "a zero AddedAt means now")

	require.ErrorIs(t, s.AddOptOut(ctx, model.OptOut{Host: " "}), model.ErrBadQuery)
}

// TestOptOutsHiddenFromCensus: every census read leaves opted-out hosts
// out, and a lifted opt-out brings them back.
func TestOptOutsHiddenFromCensus(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := ctxT(t)
	require.NoError(t, s.InsertSnapshots(ctx, []model.Snapshot{
		{Host: "keep.example", CrawledAt: day1, Software: "mastodon", UsersTotal: model.Int64(10)},
		{Host: "gone.example", CrawledAt: day1, Software: "misskey", UsersTotal: model.Int64(1000)},
		{Host: "gone.example", CrawledAt: day1.Add(time.Hour), Software: "misskey", UsersTotal: model.Int64(1001)},
	}))
	require.NoError(t, s.AddOptOut(ctx, model.OptOut{Host: "gone.example", Reason: "asked by mail"}))

	check := func(wantHosts []string, wantUsers int64) {
		t.Helper()
		page, err := s.Instances(ctx, model.InstanceQuery{Sort: "host"})
		require.NoError(t, err)
		var hosts []string
		for _, in := range page.Instances {
			hosts = append(hosts, in.Host)
		}
		require.Equal(t, wantHosts, hosts)
		sum, err := s.Summary(ctx)
		require.NoError(t, err)
		require.Equal(t, uint64(len(wantHosts)), sum.Instances)
		require.Equal(t, wantUsers, sum.UsersTotal)
		shares, err := s.SoftwareShare(ctx)
		require.NoError(t, err)
		require.Len(t, shares, len(wantHosts))
		days, err := s.InstancesOverTime(ctx)
		require.NoError(t, err)
		require.Equal(t, []model.DayCount{{Day: day1.Truncate(24 * time.Hour), Count: uint64(len(wantHosts))}}, days)
	}
	check([]string{"keep.example"}, 10)
	_, _, err := s.Instance(ctx, "gone.example")
	require.ErrorIs(t, err, model.ErrNotFound)
	_, _, err = s.Instance(ctx, "keep.example")
	require.NoError(t, err)

	require.NoError(t, s.RemoveOptOut(ctx, "gone.example"))
	check([]string{"gone.example", "keep.example"}, 1011)
	in, history, err := s.Instance(ctx, "gone.example")
	require.NoError(t, err)
	require.Equal(t, int64(1001), *in.UsersTotal)
	require.Len(t, history, 2)
}

func TestOptedOutPostURIs(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := ctxT(t)
	require.NoError(t, s.InsertPosts(ctx, []model.Post{
		{URI: "https://gone.example/2", Host: "gone.example", Author: "a@gone.example", Created: day1},
		{URI: "https://gone.example/1", Host: "gone.example", Author: "a@gone.example", Created: day1},
		{URI: "https://keep.example/1", Host: "keep.example", Author: "b@keep.example", Created: day1},
	}))
	uris, err := s.OptedOutPostURIs(ctx)
	require.NoError(t, err)
	require.Empty(t, uris)

	require.NoError(t, s.AddOptOut(ctx, model.OptOut{Host: "gone.example"}))
	uris, err = s.OptedOutPostURIs(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"https://gone.example/1", "https://gone.example/2"}, uris)

	require.NoError(t, s.DeletePosts(ctx, uris))
	uris, err = s.OptedOutPostURIs(ctx)
	require.NoError(t, err)
	require.Empty(t, uris, "a purge is done once")
	n, err := s.PostCount(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(1), n)
}

func TestSubmissionsKeyset(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := ctxT(t)
	t0 := day1.Add(5 * time.Second)
	for _, sub := range []model.Submission{
		{Host: "c.example", SubmittedAt: t0, ClientHash: "h1"},
		{Host: "a.example", SubmittedAt: t0, ClientHash: "h2"},
		{Host: "b.example", SubmittedAt: t0.Add(-time.Second), ClientHash: "h3"},
		{Host: "d.example", SubmittedAt: t0.Add(time.Second), ClientHash: "h4"},
		// b again, later: it moves to the end with its latest time.
		{Host: "b.example", SubmittedAt: t0.Add(2 * time.Second), ClientHash: "h5"},
	} {
		require.NoError(t, s.AddSubmission(ctx, sub))
	}

	var all []model.Submission
	var after model.Submission
	for range 10 {
		page, err := s.Submissions(ctx, after, 2)
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		require.LessOrEqual(t, len(page), 2)
		all = append(all, page...)
		after = page[len(page)-1]
	}
	require.Equal(t, []model.Submission{
		{Host: "a.example", SubmittedAt: t0, ClientHash: "h2"},
		{Host: "c.example", SubmittedAt: t0, ClientHash: "h1"},
		{Host: "d.example", SubmittedAt: t0.Add(time.Second), ClientHash: "h4"},
		{Host: "b.example", SubmittedAt: t0.Add(2 * time.Second), ClientHash: "h5"},
	}, all)

	// Nothing new after the last one; a new submission shows up.
	page, err := s.Submissions(ctx, after, 0)
	require.NoError(t, err)
	require.Empty(t, page)
	require.NoError(t, s.AddSubmission(ctx, model.Submission{Host: "e.example", ClientHash: "h6"}))
	page, err = s.Submissions(ctx, after, 0)
	require.NoError(t, err)
	require.Len(t, page, 1)
	require.Equal(t, "e.example", page[0].Host)
	require.WithinDuration(t, time.Now(), page[0].SubmittedAt, time.Minute)

	require.ErrorIs(t, s.AddSubmission(ctx, model.Submission{}), model.ErrBadQuery)
}
