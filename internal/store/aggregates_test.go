package store_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/chtest"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/sanity"
	"github.com/fedilens/fedilens/internal/store"
)

// aggCtx bounds one aggregate test: they run many queries, on a machine
// that may be busy.
func aggCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// aggDay0 starts the hand-written census of the aggregate tests.
var aggDay0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func aggDay(n int) time.Time { return aggDay0.AddDate(0, 0, n) }

// aggCensus is 13 days (0..12) of hosts that exercise every attribute the
// aggregates key on:
//   - a.example: mastodon, en, every day, two snapshots a day (the later
//     one counts), 4.2.0 until day 5 and 4.3.0 after, open;
//   - b.example: misskey, ja and en, days 0..2 and 8..12;
//   - c.example: mastodon until day 4, akkoma from day 5, no languages,
//     no counts;
//   - d.example: lemmy, languages with a duplicate and an empty one,
//     suspect on days 3 and 4;
//   - e.example: opted out, every day;
//   - f.example: pleroma, born on day 6;
//   - g.example: gotosocial, every other day;
//   - h.example: pleroma, en and fr, reordered from day 7.
func aggCensus() []model.Snapshot {
	var out []model.Snapshot
	add := func(host string, d, hour int, sw, ver string, users int64, open bool, langs []string, flags ...string) {
		sn := model.Snapshot{Host: host, CrawledAt: aggDay(d).Add(time.Duration(hour) * time.Hour), Software: sw,
			Version: ver, OpenRegistrations: open, Languages: langs, Flags: flags}
		if users >= 0 {
			sn.UsersTotal, sn.UsersActiveMonth = n64(users), n64(users/10)
			sn.UsersActiveHalfyear, sn.LocalPosts = n64(users/5), n64(users*7)
		}
		out = append(out, sn)
	}
	for d := range 13 {
		ver := "4.2.0"
		if d > 5 {
			ver = "4.3.0"
		}
		add("a.example", d, 1, "mastodon", "4.1.0", 1, false, []string{"en"})
		add("a.example", d, 20, "mastodon", ver, int64(100+d), true, []string{"en"})
		if d <= 2 || d >= 8 {
			add("b.example", d, 3, "misskey", "2024.11.0", 30, true, []string{"ja", "en"})
		}
		if d <= 4 {
			add("c.example", d, 4, "mastodon", "4.2.0", -1, false, nil)
		} else {
			add("c.example", d, 4, "akkoma", "3.13.0", -1, false, nil)
		}
		if d == 3 || d == 4 {
			add("d.example", d, 5, "lemmy", "0.19.0", 9000, false, []string{"de", "de", ""}, string(sanity.ActiveAboveTotal))
		} else {
			add("d.example", d, 5, "lemmy", "0.19.0", 90, false, []string{"de", "de", ""})
		}
		add("e.example", d, 6, "mastodon", "4.3.0", 5000, true, []string{"en"})
		if d >= 6 {
			add("f.example", d, 7, "pleroma", "2.6.0", 12, true, []string{"fr"})
		}
		if d%2 == 0 {
			add("g.example", d, 8, "gotosocial", "0.17.0", 2, false, []string{"en"})
		}
		langs := []string{"en", "fr"}
		if d >= 7 {
			langs = []string{"fr", "en"}
		}
		add("h.example", d, 9, "pleroma", "2.6.0", 40, false, langs)
	}
	return out
}

// aggStore is a store with aggCensus, e.example opted out, and the days
// before day `through` rolled up.
func aggStore(t *testing.T, through int) *store.Store {
	t.Helper()
	s := chtest.Store(t)
	ctx := aggCtx(t)
	require.NoError(t, s.InsertSnapshots(ctx, aggCensus()))
	require.NoError(t, s.AddOptOut(ctx, model.OptOut{Host: "e.example"}))
	_, err := s.Rollup(ctx, aggDay(through))
	require.NoError(t, err)
	return s
}

// aggFilters are the filter combinations the comparisons run: with and
// without each kind of filter (software, language, range, flagged), and
// the odd values (mixed case, an empty entry, a language nobody lists, a
// range after the data, a range ending mid-way).
func aggFilters() map[string]store.DayFilter {
	out := map[string]store.DayFilter{
		"Mastodon, mixed case":   {Software: []string{" Mastodon"}},
		"language in upper case": {Language: "DE"},
		"unknown language":       {Language: "xx"},
		"from day 4":             {From: aggDay(4)},
		"to day 6":               {To: aggDay(6)},
		"after the data":         {From: aggDay(20)},
	}
	for mask := range 16 {
		var f store.DayFilter
		var name []string
		if mask&1 != 0 {
			f.Software = []string{"pleroma", "akkoma", ""}
			name = append(name, "software")
		}
		if mask&2 != 0 {
			f.Language = "en"
			name = append(name, "language")
		}
		if mask&4 != 0 {
			f.From, f.To = aggDay(5), aggDay(11)
			name = append(name, "range")
		}
		if mask&8 != 0 {
			f.IncludeFlagged = true
			name = append(name, "flagged")
		}
		out["with "+strings.Join(name, ", ")] = f
	}
	return out
}

// fewFilters are a handful of aggFilters, for the tests that check when
// the aggregates are read rather than what they give.
func fewFilters() map[string]store.DayFilter {
	out := map[string]store.DayFilter{}
	for name, f := range aggFilters() {
		switch name {
		case "with ", "with software, language", "with range, flagged", "after the data":
			out[name] = f
		}
	}
	return out
}

// groupSums sums DayGroups rows per day and keys: "day key..." -> the
// instances and the measures.
func groupSums(t *testing.T, s *store.Store, q store.GroupQuery) (map[string][]int64, bool) {
	t.Helper()
	ctx := aggCtx(t)
	rows, err := s.DayGroups(ctx, q)
	require.NoError(t, err)
	keys := append([]string{"day"}, q.By...)
	sums := []string{"sum(instances)"}
	for _, m := range q.Measures {
		sums = append(sums, "sum("+m+")")
	}
	sel := make([]string, len(keys))
	for i, k := range keys {
		sel[i] = "toString(" + k + ")"
	}
	r, err := s.ReadQuery(ctx, "SELECT arrayStringConcat(["+strings.Join(sel, ", ")+"], ' '), ["+strings.Join(sums, ", ")+
		"] FROM ("+rows.SQL+") GROUP BY "+strings.Join(keys, ", "))
	require.NoError(t, err)
	defer r.Close()
	out := map[string][]int64{}
	for r.Next() {
		var (
			k string
			v []int64
		)
		require.NoError(t, r.Scan(&k, &v))
		out[k] = v
	}
	require.NoError(t, r.Err())
	return out, rows.Aggregated
}

// runDays expands HostRuns into "host day" -> how many spans hold it,
// checking that no two spans of a host overlap.
func runDays(t *testing.T, s *store.Store, f store.DayFilter, src store.AggSource) (map[string]int, bool) {
	t.Helper()
	ctx := aggCtx(t)
	rows, err := s.HostRuns(ctx, f, src)
	require.NoError(t, err)
	r, err := s.ReadQuery(ctx, "SELECT host, run_first, run_last FROM ("+rows.SQL+") ORDER BY host, run_first")
	require.NoError(t, err)
	defer r.Close()
	out := map[string]int{}
	lastEnd := map[string]int64{}
	for r.Next() {
		var (
			host        string
			first, last int64
		)
		require.NoError(t, r.Scan(&host, &first, &last))
		require.LessOrEqual(t, first, last)
		require.Greater(t, first, lastEnd[host], "spans of %s overlap", host)
		lastEnd[host] = last
		for d := first; d <= last; d++ {
			out[fmt.Sprintf("%s %s", host, time.Unix(d*86400, 0).UTC().Format(time.DateOnly))]++
		}
	}
	require.NoError(t, r.Err())
	return out, rows.Aggregated
}

// requireAggregatesMatch compares the aggregate answers with DayRows' for
// every filter, and requires the aggregates to have been read (days and
// runs as wanted).
func requireAggregatesMatch(t *testing.T, s *store.Store, filters map[string]store.DayFilter, wantDays, wantRuns bool) {
	t.Helper()
	groupings := []struct {
		by       []string
		measures []string
	}{
		{nil, store.DayGroupMeasures},
		{[]string{"software"}, []string{"users_total", "users_active_month"}},
		{[]string{"version", "software"}, store.DayGroupMeasures},
		{[]string{"open_registrations"}, nil},
	}
	for name, f := range filters {
		for _, g := range groupings {
			q := store.GroupQuery{Filter: f, By: g.by, Measures: g.measures}
			got, aggregated := groupSums(t, s, q)
			q.Source = store.AggDayRows
			want, viaDayRows := groupSums(t, s, q)
			require.False(t, viaDayRows)
			// A range after the last day rolled up has nothing to check.
			afterRolledUp := f.From.Equal(aggDay(20))
			require.Equal(t, wantDays || afterRolledUp, aggregated, "%s by %v: read from the aggregates", name, g.by)
			require.Equal(t, want, got, "%s by %v", name, g.by)
		}
		got, aggregated := runDays(t, s, f, store.AggAuto)
		want, _ := runDays(t, s, f, store.AggDayRows)
		require.Equal(t, wantRuns, aggregated, "%s: runs read from host_runs", name)
		require.Equal(t, want, got, "%s: runs", name)
	}
}

func TestAggregatesMatchDayRows(t *testing.T) {
	t.Parallel()
	// Days rolled up: none, some, all but today, all; every filter where
	// both parts are read.
	for _, through := range []int{0, 4, 10, 13} {
		t.Run(fmt.Sprintf("rolled up before day %d", through), func(t *testing.T) {
			t.Parallel()
			s := aggStore(t, through)
			filters := fewFilters()
			if through == 4 || through == 10 {
				filters = aggFilters()
			}
			requireAggregatesMatch(t, s, filters, true, true)

			// A sample the comparison would miss if both sides were empty.
			sums, _ := groupSums(t, s, store.GroupQuery{By: []string{"software"}, Measures: []string{"users_total"}})
			require.Equal(t, []int64{2, 100 + 3 + 0}, sums[aggDay(3).Format(time.DateOnly)+" mastodon"],
				"a's last snapshot and c's unknown count; d suspect, e opted out")
			days, _ := runDays(t, s, store.DayFilter{}, store.AggAuto)
			require.NotContains(t, days, "e.example "+aggDay(0).Format(time.DateOnly))
			require.Contains(t, days, "g.example "+aggDay(12).Format(time.DateOnly))
			require.NotContains(t, days, "g.example "+aggDay(11).Format(time.DateOnly))
		})
	}
}

func TestAggregatesCarryDaysReadDayRows(t *testing.T) {
	t.Parallel()
	s := aggStore(t, 10)
	f := store.DayFilter{CarryDays: 3}
	_, aggregated := groupSums(t, s, store.GroupQuery{Filter: f})
	require.False(t, aggregated)
	_, aggregated = runDays(t, s, f, store.AggAuto)
	require.False(t, aggregated)
	_, err := s.DayGroups(aggCtx(t), store.GroupQuery{Filter: store.DayFilter{Host: "a.example"}})
	require.ErrorIs(t, err, model.ErrBadQuery)
	_, err = s.DayGroups(aggCtx(t), store.GroupQuery{By: []string{"version", "open_registrations"}})
	require.Error(t, err)
	_, err = s.DayGroups(aggCtx(t), store.GroupQuery{Measures: []string{"flags"}})
	require.Error(t, err)
}

// clearAggregates empties the aggregate tables and their log, as a store
// rolled up by a fedilens without them.
func clearAggregates(t *testing.T, s *store.Store) {
	t.Helper()
	ctx := aggCtx(t)
	for _, table := range []string{"daily_agg", "daily_agg_versions", "host_runs", "agg_log"} {
		require.NoError(t, s.Conn().Exec(ctx, "TRUNCATE TABLE "+table))
	}
}

// hostRuns reads host_runs as "host first last open software suspect
// languages" lines, sorted, with open runs' last day left out.
func hostRuns(t *testing.T, s *store.Store) []string {
	t.Helper()
	ctx := aggCtx(t)
	r, err := s.Conn().Query(ctx, `
SELECT host, first_day, tupleElement(t, 1), tupleElement(t, 2), software, suspect, languages
FROM (
    SELECT host, first_day, argMax(tuple(last_day, open), version) AS t, any(software) AS software,
           any(suspect) AS suspect, any(languages) AS languages
    FROM host_runs
    GROUP BY host, first_day
)`)
	require.NoError(t, err)
	defer r.Close()
	var out []string
	for r.Next() {
		var (
			host, sw    string
			first, last time.Time
			open, susp  uint8
			langs       []string
		)
		require.NoError(t, r.Scan(&host, &first, &last, &open, &sw, &susp, &langs))
		end := last.Format(time.DateOnly)
		if open == 1 {
			end = "open"
		}
		out = append(out, fmt.Sprintf("%s %s %s %s %d %v", host, first.Format(time.DateOnly), end, sw, susp, langs))
	}
	require.NoError(t, r.Err())
	sort.Strings(out)
	return out
}

func TestAggregatesFilledAfterUpgrade(t *testing.T) {
	t.Parallel()
	s := aggStore(t, 10)
	ctx := aggCtx(t)
	clearAggregates(t, s)
	requireAggregatesMatch(t, s, fewFilters(), false, false)

	st, err := s.Rollup(ctx, aggDay(10))
	require.NoError(t, err)
	require.Empty(t, st.Days, "no day was due")
	require.Equal(t, store.AggregateStats{Days: 10, RunDays: 10}, zeroTook(st.Aggregates),
		"every rolled-up day aggregated; few enough days for the runs to be added one at a time")
	requireAggregatesMatch(t, s, fewFilters(), true, true)

	st, err = s.Rollup(ctx, aggDay(10))
	require.NoError(t, err)
	require.Equal(t, store.AggregateStats{}, zeroTook(st.Aggregates), "a second call has nothing to do")
}

func zeroTook(a store.AggregateStats) store.AggregateStats {
	a.Took = 0
	return a
}

func TestAggregatesRunsStepByStepEqualRebuild(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := aggCtx(t)
	require.NoError(t, s.InsertSnapshots(ctx, aggCensus()))
	for d := 1; d <= 13; d++ {
		st, err := s.Rollup(ctx, aggDay(d))
		require.NoError(t, err)
		require.Equal(t, store.AggregateStats{Days: 1, RunDays: 1}, zeroTook(st.Aggregates), "day %d", d)
	}
	stepwise := hostRuns(t, s)
	require.Contains(t, stepwise, "c.example 2026-03-01 2026-03-05 mastodon 0 []")
	require.Contains(t, stepwise, "c.example 2026-03-06 open akkoma 0 []")
	require.Contains(t, stepwise, "d.example 2026-03-04 2026-03-05 lemmy 1 [de de ]")
	require.Contains(t, stepwise, "g.example 2026-03-11 2026-03-11 gotosocial 0 [en]")
	require.Contains(t, stepwise, "g.example 2026-03-13 open gotosocial 0 [en]")
	require.Contains(t, stepwise, "h.example 2026-03-08 open pleroma 0 [fr en]")

	// Forget that the runs are current: the next sync rebuilds them.
	require.NoError(t, s.Conn().Exec(ctx, "ALTER TABLE agg_log DELETE WHERE kind = 'runs'"))
	requireMutationsDone(t, s, "agg_log")
	st, err := s.SyncAggregates(ctx)
	require.NoError(t, err)
	require.True(t, st.RunsRebuilt)
	require.Equal(t, stepwise, hostRuns(t, s))
	requireAggregatesMatch(t, s, fewFilters(), true, true)
}

func requireMutationsDone(t *testing.T, s *store.Store, table string) {
	t.Helper()
	require.Eventually(t, func() bool {
		var n uint64
		err := s.Conn().QueryRow(aggCtx(t), "SELECT count() FROM system.mutations WHERE database = ? AND table = ? AND is_done = 0",
			s.Database(), table).Scan(&n)
		return err == nil && n == 0
	}, 30*time.Second, 20*time.Millisecond)
}

func TestAggregatesRedoneWithTheirDay(t *testing.T) {
	t.Parallel()
	s := aggStore(t, 10)
	ctx := aggCtx(t)
	// A late snapshot for day 3: a new host, and b seen in its gap with
	// other languages.
	late := []model.Snapshot{
		{Host: "late.example", CrawledAt: aggDay(3).Add(23 * time.Hour), Software: "mastodon", Version: "4.3.0",
			UsersTotal: n64(77), Languages: []string{"en"}},
		{Host: "b.example", CrawledAt: aggDay(3).Add(22 * time.Hour), Software: "misskey", Version: "2024.11.0",
			UsersTotal: n64(31), Languages: []string{"ja"}},
	}
	require.NoError(t, s.InsertSnapshots(ctx, late))
	// Until the redo, daily and its aggregates still agree.
	requireAggregatesMatch(t, s, fewFilters(), true, true)

	st, err := s.Rollup(ctx, aggDay(10))
	require.NoError(t, err)
	require.Equal(t, []string{aggDay(3).Format(time.DateOnly)}, rollupDays(st))
	require.Equal(t, store.AggregateStats{Days: 1, RunDays: 7, RunDaysUndone: 7}, zeroTook(st.Aggregates),
		"days 3 to 9 of the runs are taken back and added again")
	requireAggregatesMatch(t, s, fewFilters(), true, true)
	stepwise := hostRuns(t, s)
	require.NoError(t, s.Conn().Exec(ctx, "ALTER TABLE agg_log DELETE WHERE kind = 'runs'"))
	requireMutationsDone(t, s, "agg_log")
	rebuilt, err := s.SyncAggregates(ctx)
	require.NoError(t, err)
	require.True(t, rebuilt.RunsRebuilt)
	require.Equal(t, stepwise, hostRuns(t, s), "taken back and added again as if rebuilt")
	sums, _ := groupSums(t, s, store.GroupQuery{Filter: store.DayFilter{Language: "ja"}, Measures: []string{"users_total"}})
	require.Equal(t, []int64{1, 31}, sums[aggDay(3).Format(time.DateOnly)])
	require.Contains(t, hostRuns(t, s), "b.example 2026-03-04 2026-03-04 misskey 0 [ja]")

	// The next day comes one step at a time again.
	st, err = s.Rollup(ctx, aggDay(11))
	require.NoError(t, err)
	require.Equal(t, store.AggregateStats{Days: 1, RunDays: 1}, zeroTook(st.Aggregates))
	requireAggregatesMatch(t, s, fewFilters(), true, true)
}

func TestAggregatesFollowOptOuts(t *testing.T) {
	t.Parallel()
	s := aggStore(t, 10)
	ctx := aggCtx(t)
	require.NoError(t, s.AddOptOut(ctx, model.OptOut{Host: "h.example"}))
	// The day aggregates counted h: they are not read until rebuilt. The
	// runs leave opted-out hosts out when read.
	requireAggregatesMatch(t, s, fewFilters(), false, true)
	days, _ := runDays(t, s, store.DayFilter{}, store.AggAuto)
	require.NotContains(t, days, "h.example "+aggDay(0).Format(time.DateOnly))

	st, err := s.Rollup(ctx, aggDay(10))
	require.NoError(t, err)
	require.Equal(t, 10, st.Aggregates.Days)
	require.False(t, st.Aggregates.RunsRebuilt)
	requireAggregatesMatch(t, s, fewFilters(), true, true)

	require.NoError(t, s.RemoveOptOut(ctx, "e.example"))
	requireAggregatesMatch(t, s, fewFilters(), false, true)
	_, err = s.Rollup(ctx, aggDay(10))
	require.NoError(t, err)
	requireAggregatesMatch(t, s, fewFilters(), true, true)
	sums, _ := groupSums(t, s, store.GroupQuery{Filter: store.DayFilter{Software: []string{"mastodon"}}})
	require.Equal(t, []int64{3}, sums[aggDay(0).Format(time.DateOnly)], "a, c and e again")
}

func TestAggregatesIgnoreAnUnfinishedRollup(t *testing.T) {
	t.Parallel()
	s := aggStore(t, 10)
	ctx := aggCtx(t)
	// A late snapshot marked day 5, and its redo started and never
	// finished (a crash): daily
	// is in flux for that day, so its aggregates are not read, and a sync
	// leaves it alone until the rollup is done again.
	b, err := s.Conn().PrepareBatch(ctx, "INSERT INTO rollups (day, kind, started, rows, version, at)")
	require.NoError(t, err)
	v := uint64(time.Now().UnixNano())
	require.NoError(t, b.Append(aggDay(5), "dirty", uint64(0), uint64(0), v, time.Now().UTC()))
	require.NoError(t, b.Append(aggDay(5), "start", v+1, uint64(0), v+2, time.Now().UTC()))
	require.NoError(t, b.Send())
	requireAggregatesMatch(t, s, fewFilters(), false, false)
	_, aggregated := groupSums(t, s, store.GroupQuery{Filter: store.DayFilter{To: aggDay(4)}})
	require.True(t, aggregated, "days before it are fine")
	st, err := s.SyncAggregates(ctx)
	require.NoError(t, err)
	require.Equal(t, store.AggregateStats{}, zeroTook(st))

	st2, err := s.Rollup(ctx, aggDay(10))
	require.NoError(t, err)
	require.Equal(t, []string{aggDay(5).Format(time.DateOnly)}, rollupDays(st2))
	requireAggregatesMatch(t, s, fewFilters(), true, true)
}
