package store_test

import (
	"encoding/base64"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/chtest"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/store"
)

var day1 = time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)

func TestSnapshotRoundTrip(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := ctxT(t)
	cet := time.FixedZone("CET", 3600)
	in := []model.Snapshot{
		{
			Host: "a.example", CrawledAt: day1.Add(12*time.Hour + 123*time.Millisecond).In(cet),
			Software: "mastodon", Version: "4.3.0+glitch", NodeInfoVersion: "2.1",
			Title: "Ünïcode 'quoted' \"double\" \\ back\x00slash", OpenRegistrations: true,
			Protocols:  []string{"activitypub", "ostatus"},
			UsersTotal: model.Int64(0), UsersActiveMonth: nil, UsersActiveHalfyear: model.Int64(-3),
			LocalPosts: model.Int64(math.MaxInt64),
		},
		{
			Host: "a.example", CrawledAt: day1.Add(36 * time.Hour), Software: "mastodon", Private: true,
		},
	}
	require.NoError(t, s.InsertSnapshots(ctx, in))

	want := make([]model.Snapshot, len(in))
	copy(want, in)
	// Stored to the second, read back in UTC.
	want[0].CrawledAt = day1.Add(12 * time.Hour)
	want[1].CrawledAt = day1.Add(36 * time.Hour)

	inst, history, err := s.Instance(ctx, "a.example")
	require.NoError(t, err)
	require.Equal(t, want, history)
	require.Equal(t, time.UTC, history[0].CrawledAt.Location())
	require.Nil(t, history[1].Protocols, "nil arrays round-trip as nil")
	require.Nil(t, history[1].UsersTotal, "unknown counts stay unknown")
	require.NotNil(t, history[0].UsersTotal, "0 stays 0")

	require.Equal(t, model.Instance{Snapshot: want[1], FirstSeen: want[0].CrawledAt, Snapshots: 2}, inst)
}

func TestLatestPerHost(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := ctxT(t)
	t1, t2, t3 := day1, day1.Add(time.Hour), day1.Add(2*time.Hour)
	snap := func(at time.Time, sw string, users *int64) model.Snapshot {
		return model.Snapshot{Host: "x.example", CrawledAt: at, Software: sw, UsersTotal: users, Title: sw + at.Format(time.Kitchen)}
	}
	// Out of order, in separate inserts, one written twice (a retried batch).
	require.NoError(t, s.InsertSnapshots(ctx, []model.Snapshot{snap(t2, "pleroma", model.Int64(20))}))
	require.NoError(t, s.InsertSnapshots(ctx, []model.Snapshot{snap(t3, "akkoma", nil)}))
	require.NoError(t, s.InsertSnapshots(ctx, []model.Snapshot{snap(t1, "pleroma", model.Int64(10))}))
	require.NoError(t, s.InsertSnapshots(ctx, []model.Snapshot{snap(t1, "pleroma", model.Int64(10))}))
	require.NoError(t, s.InsertSnapshots(ctx, []model.Snapshot{{Host: "other.example", CrawledAt: t3.Add(time.Hour), Software: "lemmy"}}))

	inst, history, err := s.Instance(ctx, "x.example")
	require.NoError(t, err)
	require.Equal(t, t3, inst.CrawledAt)
	require.Equal(t, "akkoma", inst.Software)
	require.Equal(t, "akkoma"+t3.Format(time.Kitchen), inst.Title)
	require.Nil(t, inst.UsersTotal, "the latest snapshot's unknown count wins over older known ones")
	require.Equal(t, t1, inst.FirstSeen)
	require.Equal(t, uint64(3), inst.Snapshots, "duplicates count once")
	require.Len(t, history, 3)
	for i, at := range []time.Time{t1, t2, t3} {
		require.Equal(t, at, history[i].CrawledAt)
	}

	page, err := s.Instances(ctx, model.InstanceQuery{Software: "pleroma"})
	require.NoError(t, err)
	require.Empty(t, page.Instances, "filters apply to the latest snapshot only")

	latest, err := s.LatestCounts(ctx)
	require.NoError(t, err)
	times := map[string]time.Time{}
	for _, sn := range latest {
		times[sn.Host] = sn.CrawledAt
	}
	require.Equal(t, map[string]time.Time{"x.example": t3, "other.example": t3.Add(time.Hour)}, times)
	page, err = s.Instances(ctx, model.InstanceQuery{Software: "akkoma"})
	require.NoError(t, err)
	require.Len(t, page.Instances, 1)
	require.Equal(t, inst, page.Instances[0])
}

func TestInstanceNotFound(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	_, _, err := s.Instance(ctxT(t), "nowhere.example")
	require.ErrorIs(t, err, model.ErrNotFound)
}

// census is the fixture of the listing tests. f.test ran pleroma with many
// users before it switched to mastodon; only its latest snapshot counts.
func census(t *testing.T) *store.Store {
	t.Helper()
	s := chtest.Store(t)
	day2 := day1.Add(24 * time.Hour)
	mk := func(host, sw string, at time.Time, users, month *int64) model.Snapshot {
		return model.Snapshot{Host: host, Software: sw, CrawledAt: at, UsersTotal: users, UsersActiveMonth: month}
	}
	i := model.Int64
	require.NoError(t, s.InsertSnapshots(ctxT(t), []model.Snapshot{
		mk("f.test", "pleroma", day1, i(1000), i(900)),
		mk("a.test", "mastodon", day1.Add(time.Hour), i(90), nil),
		mk("a.test", "mastodon", day2.Add(time.Hour), i(100), i(10)),
		mk("a.test", "mastodon", day2.Add(2*time.Hour), i(100), i(10)),
		mk("b.test", "mastodon", day2, i(50), i(5)),
		mk("c.test", "pleroma", day2, i(100), nil),
		mk("d.test", "mastodon", day2, nil, nil),
		mk("e.test", "lemmy", day2, i(0), i(0)),
		mk("f.test", "mastodon", day2.Add(3*time.Hour), i(50), i(7)),
		mk("g.test", "pleroma", day2, nil, i(3)),
	}))
	return s
}

func hostsOf(p model.InstancePage) []string {
	out := make([]string, 0, len(p.Instances))
	for _, in := range p.Instances {
		out = append(out, in.Host)
	}
	return out
}

func TestInstancesPagination(t *testing.T) {
	t.Parallel()
	s := census(t)
	ctx := ctxT(t)
	byUsers := []string{"a.test", "c.test", "b.test", "f.test", "e.test", "d.test", "g.test"}
	byHost := []string{"a.test", "b.test", "c.test", "d.test", "e.test", "f.test", "g.test"}
	tests := []struct {
		name     string
		sort     string
		software string
		want     []string
	}{
		{name: "users, ties by host, unknown last", sort: "users", want: byUsers},
		{name: "default sort is users", sort: "", want: byUsers},
		{name: "host", sort: "host", want: byHost},
		{name: "software filter, normalised", sort: "users", software: " MASTODON ", want: []string{"a.test", "b.test", "f.test", "d.test"}},
		{name: "software filter by host", sort: "host", software: "pleroma", want: []string{"c.test", "g.test"}},
		{name: "unknown software", sort: "host", software: "gotosocial", want: []string{}},
	}
	for _, tc := range tests {
		for _, limit := range []int{1, 2, 3, 7, 0} {
			t.Run(tc.name+"/limit="+strconv.Itoa(limit), func(t *testing.T) {
				got := []string{}
				cursor := ""
				for pages := 0; ; pages++ {
					require.Less(t, pages, 20, "pagination does not end")
					page, err := s.Instances(ctx, model.InstanceQuery{Sort: tc.sort, Software: tc.software, Limit: limit, Cursor: cursor})
					require.NoError(t, err)
					if limit > 0 {
						require.LessOrEqual(t, len(page.Instances), limit)
					}
					got = append(got, hostsOf(page)...)
					if page.NextCursor == "" {
						break
					}
					require.Len(t, page.Instances, max(limit, 1), "only full pages have a next page")
					cursor = page.NextCursor
				}
				require.Equal(t, tc.want, got)
			})
		}
	}

	page, err := s.Instances(ctx, model.InstanceQuery{Limit: 5000})
	require.NoError(t, err)
	require.Equal(t, byUsers, hostsOf(page), "a limit above the cap is capped, not refused")

	page, err = s.Instances(ctx, model.InstanceQuery{Limit: 1, Sort: "host", Software: "lemmy"})
	require.NoError(t, err)
	require.Equal(t, []string{"e.test"}, hostsOf(page))
	require.Empty(t, page.NextCursor, "an exactly full last page has no next page")

	f := page.Instances[0]
	require.Equal(t, model.Int64(0), f.UsersTotal)
}

func TestInstancesBadQuery(t *testing.T) {
	t.Parallel()
	s := census(t)
	ctx := ctxT(t)
	hostCursor, err := s.Instances(ctx, model.InstanceQuery{Sort: "host", Limit: 1})
	require.NoError(t, err)
	require.NotEmpty(t, hostCursor.NextCursor)
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

	tests := []struct {
		name string
		q    model.InstanceQuery
	}{
		{"unknown sort", model.InstanceQuery{Sort: "name"}},
		{"negative limit", model.InstanceQuery{Limit: -1}},
		{"not base64", model.InstanceQuery{Cursor: "!!!"}},
		{"garbage", model.InstanceQuery{Cursor: b64("hello")}},
		{"users cursor without number", model.InstanceQuery{Cursor: b64("users\x1fmany\x1fa.test")}},
		{"users cursor without host", model.InstanceQuery{Cursor: b64("users\x1f5\x1f")}},
		{"cursor of the other sort", model.InstanceQuery{Sort: "users", Cursor: hostCursor.NextCursor}},
		{"huge cursor", model.InstanceQuery{Sort: "host", Cursor: b64("host\x1f" + strings.Repeat("a", 4000))}},
		{"injection attempt", model.InstanceQuery{Sort: "host", Cursor: b64("host\x1f' OR 1=1 --\x1fx")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Instances(ctx, tc.q)
			require.ErrorIs(t, err, model.ErrBadQuery)
		})
	}

	// A well-formed cursor with hostile content is just a position.
	page, err := s.Instances(ctx, model.InstanceQuery{Sort: "host", Cursor: b64("host\x1f' OR 1=1 --")})
	require.NoError(t, err)
	require.Len(t, page.Instances, 7, "every host sorts after a quote")
}

func TestSummarySharesAndDays(t *testing.T) {
	t.Parallel()
	s := census(t)
	ctx := ctxT(t)
	day2 := day1.Add(24 * time.Hour)
	require.NoError(t, s.InsertPosts(ctx, []model.Post{{URI: "https://a.test/1", Host: "a.test"}, {URI: "https://a.test/2", Host: "a.test"}}))

	sum, err := s.Summary(ctx)
	require.NoError(t, err)
	require.Equal(t, model.Summary{
		Instances:        7,
		UsersTotal:       300,
		UsersActiveMonth: 25,
		Softwares:        3,
		IndexedPosts:     2,
		LastCrawl:        day2.Add(3 * time.Hour),
	}, sum)

	share, err := s.SoftwareShare(ctx)
	require.NoError(t, err)
	require.Equal(t, []model.SoftwareShare{
		{Software: "mastodon", Instances: 4, UsersTotal: 200, ActiveMonth: 22},
		{Software: "pleroma", Instances: 2, UsersTotal: 100, ActiveMonth: 3},
		{Software: "lemmy", Instances: 1, UsersTotal: 0, ActiveMonth: 0},
	}, share)

	days, err := s.InstancesOverTime(ctx)
	require.NoError(t, err)
	require.Equal(t, []model.DayCount{{Day: day1, Count: 2}, {Day: day2, Count: 7}}, days)
}
