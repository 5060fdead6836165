package stats_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/chtest"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/sanity"
	"github.com/fedilens/fedilens/internal/stats"
	"github.com/fedilens/fedilens/internal/store"
)

// d0 is a Monday; the hand-written census runs from d0 to d0+9.
var d0 = time.Date(2026, 9, 28, 0, 0, 0, 0, time.UTC)

func dayN(n int) time.Time { return d0.AddDate(0, 0, n) }

func p64(v int64) *int64 { return &v }

type sn struct {
	host     string
	day      int
	hour     int
	software string
	version  string
	users    int64
	active   *int64
	open     bool
	langs    []string
	flags    []string
}

func (s sn) snapshot() model.Snapshot {
	return model.Snapshot{Host: s.host, CrawledAt: dayN(s.day).Add(time.Duration(s.hour) * time.Hour), Software: s.software,
		Version: s.version, UsersTotal: p64(s.users), UsersActiveMonth: s.active, OpenRegistrations: s.open,
		Languages: s.langs, Flags: s.flags}
}

// edgeCensus:
//   - a.example (mastodon, en) every day 0..9, two snapshots a day (the
//     later one has users = 100 + day, the earlier 1);
//   - b.example (misskey, ja) on days 0, 1 and 7..9 (a gap of five days);
//   - c.example (mastodon, no languages) on days 0..9, flagged on day 9;
//   - o.example every day, opted out.
func edgeCensus() []model.Snapshot {
	var in []sn
	for d := range 10 {
		in = append(in,
			sn{host: "a.example", day: d, hour: 1, software: "mastodon", version: "4.2.0", users: 1, langs: []string{"en"}},
			sn{host: "a.example", day: d, hour: 20, software: "mastodon", version: "4.3.0", users: int64(100 + d),
				active: p64(10), open: true, langs: []string{"en"}},
			sn{host: "o.example", day: d, hour: 2, software: "mastodon", version: "4.3.0", users: 1000})
		c := sn{host: "c.example", day: d, hour: 3, software: "mastodon", version: "4.2.0", users: 50}
		if d == 9 {
			c.users, c.flags = 5000, []string{string(sanity.ActiveAboveTotal)}
		}
		in = append(in, c)
		if d <= 1 || d >= 7 {
			in = append(in, sn{host: "b.example", day: d, hour: 4, software: "misskey", version: "2024.11.0", users: 7,
				active: p64(3), langs: []string{"ja", "en"}})
		}
	}
	out := make([]model.Snapshot, len(in))
	for i := range in {
		out[i] = in[i].snapshot()
	}
	return out
}

func TestEdgeCases(t *testing.T) {
	ctx := context.Background()
	for _, rolled := range []int{-1, 4, 9} { // days rolled up: none, some (the rest live), all
		t.Run("rolled up through day "+strconv.Itoa(rolled), func(t *testing.T) {
			st := chtest.Store(t)
			require.NoError(t, st.InsertSnapshots(ctx, edgeCensus()))
			require.NoError(t, st.AddOptOut(ctx, model.OptOut{Host: "o.example"}))
			if rolled >= 0 {
				_, err := st.Rollup(ctx, dayN(rolled+1))
				require.NoError(t, err)
			}
			s := stats.New(st, stats.Options{DeadAfter: 3})
			edgeChecks(t, s)
		})
	}
}

func edgeChecks(t *testing.T, s *stats.Stats) {
	ctx := context.Background()
	aUsers := func(d int) int64 { return int64(100 + d) }
	bSeen := func(d int) bool { return d <= 1 || d >= 7 }

	// Daily totals: the last snapshot of each day, the opted-out host
	// never, the flagged one not on day 9.
	totals, err := s.Totals(ctx, stats.Query{})
	require.NoError(t, err)
	require.Len(t, totals, 10)
	for d, p := range totals {
		want := stats.TotalsPoint{Period: dayN(d), Day: dayN(d), Instances: 2, Accounts: aUsers(d) + 50, ActiveMonth: 10}
		if d == 9 {
			want.Instances, want.Accounts = 1, aUsers(d)
		}
		if bSeen(d) {
			want.Instances++
			want.Accounts += 7
			want.ActiveMonth += 3
		}
		require.Equal(t, want, p, "day %d", d)
	}
	flagged, err := s.Totals(ctx, stats.Query{IncludeFlagged: true, From: dayN(9)})
	require.NoError(t, err)
	require.Equal(t, []stats.TotalsPoint{{Period: dayN(9), Day: dayN(9), Instances: 3,
		Accounts: aUsers(9) + 5000 + 7, ActiveMonth: 13}}, flagged)

	// A week's value is its last day with data: days 0..6 and 7..9.
	weeks, err := s.Totals(ctx, stats.Query{Interval: stats.Week, Software: []string{"Mastodon"}})
	require.NoError(t, err)
	require.Equal(t, []stats.TotalsPoint{
		{Period: dayN(0), Day: dayN(6), Instances: 2, Accounts: aUsers(6) + 50, ActiveMonth: 10},
		{Period: dayN(7), Day: dayN(9), Instances: 1, Accounts: aUsers(9), ActiveMonth: 10},
	}, weeks)
	months, err := s.Totals(ctx, stats.Query{Interval: stats.Month, Language: "ja"})
	require.NoError(t, err)
	require.Equal(t, []stats.TotalsPoint{
		{Period: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), Day: dayN(1), Instances: 1, Accounts: 7, ActiveMonth: 3},
		{Period: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), Day: dayN(9), Instances: 1, Accounts: 7, ActiveMonth: 3},
	}, months)

	// Shares at the latest day, and at a date.
	sw, err := s.SoftwareShare(ctx, stats.Query{})
	require.NoError(t, err)
	require.Equal(t, stats.Shares{Period: dayN(9), Day: dayN(9), Shares: []stats.Share{
		{Key: "mastodon", Instances: 1, Accounts: aUsers(9), ActiveMonth: 10},
		{Key: "misskey", Instances: 1, Accounts: 7, ActiveMonth: 3},
	}}, sw)
	vs, err := s.VersionShare(ctx, stats.Query{To: dayN(3)}, "mastodon")
	require.NoError(t, err)
	require.Equal(t, dayN(3), vs.Day)
	require.Equal(t, []stats.Share{
		{Key: "4.2.0", Instances: 1, Accounts: 50},
		{Key: "4.3.0", Instances: 1, Accounts: aUsers(3), ActiveMonth: 10},
	}, vs.Shares, "the day's last snapshot decides the version")

	// Growth with DeadAfter 3: b dies after day 1 (five unseen days) and
	// returns on day 7; nothing else dies (the data ends on day 9).
	growth, err := s.Growth(ctx, stats.Query{})
	require.NoError(t, err)
	require.Equal(t, []stats.GrowthPoint{
		{Period: dayN(0), New: 3},
		{Period: dayN(1), Dead: 1},
		{Period: dayN(7), Returning: 1},
	}, growth)
	// Up to day 5 the data ends four days after b's last day: dead.
	growth, err = s.Growth(ctx, stats.Query{To: dayN(5), From: dayN(1)})
	require.NoError(t, err)
	require.Equal(t, []stats.GrowthPoint{{Period: dayN(1), Dead: 1}}, growth, "a new instance before From is not new")
	growth, err = s.Growth(ctx, stats.Query{To: dayN(3)})
	require.NoError(t, err)
	require.Equal(t, []stats.GrowthPoint{{Period: dayN(0), New: 3}}, growth, "two unseen days are not yet dead")

	regs, err := s.Registrations(ctx, stats.Query{From: dayN(8), To: dayN(8)})
	require.NoError(t, err)
	require.Equal(t, []stats.RegistrationsPoint{{Period: dayN(8), Day: dayN(8), Open: 1, Closed: 2}}, regs)
	rbs, err := s.RegistrationsBySoftware(ctx, stats.Query{To: dayN(8)})
	require.NoError(t, err)
	require.Equal(t, stats.RegistrationsAt{Day: dayN(8), Software: []stats.SoftwareRegistrations{
		{Software: "mastodon", Open: 1, Closed: 1}, {Software: "misskey", Closed: 1},
	}}, rbs)

	langs, err := s.Languages(ctx, stats.Query{To: dayN(8)})
	require.NoError(t, err)
	require.Equal(t, []stats.Share{
		{Key: "en", Instances: 2, Accounts: aUsers(8) + 7, ActiveMonth: 13},
		{Key: "", Instances: 1, Accounts: 50},
		{Key: "ja", Instances: 1, Accounts: 7, ActiveMonth: 3},
	}, langs.Shares)

	sizes, err := s.Sizes(ctx, stats.Query{To: dayN(8)})
	require.NoError(t, err)
	require.Equal(t, dayN(8), sizes.Day)
	require.Equal(t, stats.Distribute([]int64{aUsers(8), 50, 7}), sizes.Accounts)
	require.Equal(t, stats.Distribution{Instances: 3, Total: aUsers(8) + 57, Median: 50, P75: aUsers(8), P90: aUsers(8),
		P99: aUsers(8), Top1Sum: aUsers(8), Top10Sum: aUsers(8),
		Top1Share: float64(aUsers(8)) / float64(aUsers(8)+57), Top10Share: float64(aUsers(8)) / float64(aUsers(8)+57)},
		sizes.Accounts)
	require.Equal(t, int64(2), sizes.ActiveMonth.Instances, "unknown counts are left out")

	// Carrying answers forward three days fills b's gap on days 2 and 3
	// (day 4 is too far), with its day-1 figures.
	carried, err := s.Totals(ctx, stats.Query{CarryDays: 3, From: dayN(2), To: dayN(4), Software: []string{"misskey"}})
	require.NoError(t, err)
	require.Equal(t, []stats.TotalsPoint{
		{Period: dayN(2), Day: dayN(2), Instances: 1, Accounts: 7, ActiveMonth: 3},
		{Period: dayN(3), Day: dayN(3), Instances: 1, Accounts: 7, ActiveMonth: 3},
	}, carried)
	carried, err = s.Totals(ctx, stats.Query{CarryDays: 5, From: dayN(8), IncludeFlagged: true})
	require.NoError(t, err)
	require.Equal(t, []stats.TotalsPoint{
		{Period: dayN(8), Day: dayN(8), Instances: 3, Accounts: aUsers(8) + 57, ActiveMonth: 13},
		{Period: dayN(9), Day: dayN(9), Instances: 3, Accounts: aUsers(9) + 5007, ActiveMonth: 13},
	}, carried, "nothing is carried past the last day with data, and a newer answer wins")
	growth, err = s.Growth(ctx, stats.Query{CarryDays: 3})
	require.NoError(t, err)
	require.Equal(t, []stats.GrowthPoint{{Period: dayN(0), New: 3}, {Period: dayN(3), Dead: 1}, {Period: dayN(7), Returning: 1}},
		growth, "carried to day 3, b is unseen for three days")
	growth, err = s.Growth(ctx, stats.Query{CarryDays: 4})
	require.NoError(t, err)
	require.Equal(t, []stats.GrowthPoint{{Period: dayN(0), New: 3}}, growth, "carried to day 4, b's gap is too short to die")

	hist, err := s.History(ctx, "b.example", stats.Query{From: dayN(1), To: dayN(7)})
	require.NoError(t, err)
	require.Len(t, hist, 2)
	require.Equal(t, stats.HostPoint{Day: dayN(7), Software: "misskey", Version: "2024.11.0", Accounts: p64(7), ActiveMonth: p64(3)}, hist[1])
	hist, err = s.History(ctx, "c.example", stats.Query{IncludeFlagged: true, From: dayN(9)})
	require.NoError(t, err)
	require.Equal(t, []stats.HostPoint{{Day: dayN(9), Software: "mastodon", Version: "4.2.0", Accounts: p64(5000), Suspect: true}}, hist)
	_, err = s.History(ctx, "o.example", stats.Query{})
	require.ErrorIs(t, err, model.ErrNotFound, "opted out")
}

func TestEmptyStoreAndBadQueries(t *testing.T) {
	ctx := context.Background()
	var src stats.Source = chtest.Store(t)
	s := stats.New(src, stats.Options{})
	totals, err := s.Totals(ctx, stats.Query{Interval: stats.Month})
	require.NoError(t, err)
	require.Empty(t, totals)
	sw, err := s.SoftwareShare(ctx, stats.Query{})
	require.NoError(t, err)
	require.Empty(t, sw.Shares)
	growth, err := s.Growth(ctx, stats.Query{})
	require.NoError(t, err)
	require.Empty(t, growth)
	sizes, err := s.Sizes(ctx, stats.Query{})
	require.NoError(t, err)
	require.Zero(t, sizes.Accounts.Instances)
	_, err = s.History(ctx, "nobody.example", stats.Query{})
	require.ErrorIs(t, err, model.ErrNotFound)

	_, err = s.Totals(ctx, stats.Query{Interval: "year"})
	require.ErrorIs(t, err, stats.ErrBadQuery)
	_, err = s.Growth(ctx, stats.Query{From: dayN(3), To: dayN(2)})
	require.ErrorIs(t, err, stats.ErrBadQuery)
	_, err = s.Totals(ctx, stats.Query{CarryDays: store.MaxCarryDays + 1})
	require.ErrorIs(t, err, stats.ErrBadQuery)
	// A hostile software name is a value, not SQL.
	_, err = s.Totals(ctx, stats.Query{Software: []string{`x') OR 1=1 --`, `\'`}, Language: `'`})
	require.NoError(t, err)
}

var _ stats.Source = (*store.Store)(nil)
