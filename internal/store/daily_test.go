package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/chtest"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/store"
)

var rollDay = time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC)

func n64(v int64) *int64 { return &v }

func snap(host string, at time.Time, users int64) model.Snapshot {
	return model.Snapshot{Host: host, CrawledAt: at, Software: "mastodon", Version: "4.3.0", UsersTotal: n64(users),
		Languages: []string{"en"}}
}

// dailyRows reads daily as (day, host) -> users_total.
func dailyRows(t *testing.T, s *store.Store) map[string]int64 {
	t.Helper()
	rows, err := s.Conn().Query(context.Background(), `SELECT day, host, users_total FROM daily FINAL`)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var (
			d    time.Time
			host string
			u    *int64
		)
		require.NoError(t, rows.Scan(&d, &host, &u))
		require.NotNil(t, u)
		out[d.Format(time.DateOnly)+" "+host] = *u
	}
	require.NoError(t, rows.Err())
	return out
}

func rollupDays(st store.RollupStats) []string {
	var out []string
	for _, d := range st.Days {
		out = append(out, d.Format(time.DateOnly))
	}
	return out
}

func TestInstancesLatestIsWrittenWithSnapshots(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := ctxT(t)
	require.NoError(t, s.InsertSnapshots(ctx, []model.Snapshot{
		snap("a.example", rollDay.Add(time.Hour), 10),
		snap("a.example", rollDay.Add(2*time.Hour), 11),
		snap("b.example", rollDay.Add(time.Hour), 20),
	}))
	require.NoError(t, s.InsertSnapshots(ctx, []model.Snapshot{snap("a.example", rollDay.Add(-time.Hour), 9)}))
	rows, err := s.Conn().Query(ctx, `SELECT host, users_total, languages FROM instances_latest FINAL ORDER BY host`)
	require.NoError(t, err)
	defer rows.Close()
	got := map[string]int64{}
	for rows.Next() {
		var (
			host  string
			u     *int64
			langs []string
		)
		require.NoError(t, rows.Scan(&host, &u, &langs))
		require.Equal(t, []string{"en"}, langs)
		got[host] = *u
	}
	require.NoError(t, rows.Err())
	require.Equal(t, map[string]int64{"a.example": 11, "b.example": 20}, got, "the newest crawl of each host wins, not the last written")
}

func TestRollup(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := ctxT(t)
	d0, d1, d2 := rollDay, rollDay.AddDate(0, 0, 1), rollDay.AddDate(0, 0, 2)
	require.NoError(t, s.InsertSnapshots(ctx, []model.Snapshot{
		snap("a.example", d0.Add(1*time.Hour), 1),
		snap("a.example", d0.Add(5*time.Hour), 2), // the day's last snapshot
		snap("b.example", d0.Add(23*time.Hour), 3),
		snap("a.example", d1.Add(time.Hour), 4),
		snap("a.example", d2.Add(time.Hour), 5), // today: not closed
	}))

	// Nothing is closed before the first day.
	st, err := s.Rollup(ctx, d0.Add(12*time.Hour))
	require.NoError(t, err)
	require.Empty(t, st.Days)

	st, err = s.Rollup(ctx, d2.Add(3*time.Hour))
	require.NoError(t, err)
	require.Equal(t, []string{"2026-10-05", "2026-10-06"}, rollupDays(st))
	require.Equal(t, uint64(3), st.Rows)
	want := map[string]int64{"2026-10-05 a.example": 2, "2026-10-05 b.example": 3, "2026-10-06 a.example": 4}
	require.Equal(t, want, dailyRows(t, s))

	// Idempotent: nothing is due again.
	st, err = s.Rollup(ctx, d2.Add(4*time.Hour))
	require.NoError(t, err)
	require.Empty(t, st.Days)
	require.Equal(t, want, dailyRows(t, s))

	// A late snapshot for a rolled-up day redoes that day only; an
	// earlier one of the same day changes nothing but is redone all the
	// same.
	require.NoError(t, s.InsertSnapshots(ctx, []model.Snapshot{
		snap("a.example", d0.Add(6*time.Hour), 7),
		snap("c.example", d0.Add(7*time.Hour), 8),
	}))
	st, err = s.Rollup(ctx, d2.Add(5*time.Hour))
	require.NoError(t, err)
	require.Equal(t, []string{"2026-10-05"}, rollupDays(st))
	want["2026-10-05 a.example"] = 7
	want["2026-10-05 c.example"] = 8
	require.Equal(t, want, dailyRows(t, s))
	var n uint64
	require.NoError(t, s.Conn().QueryRow(ctx, `SELECT count() FROM daily`).Scan(&n))
	require.Equal(t, uint64(4), n, "the redo replaced the day's rows instead of adding to them")

	// A snapshot for an old day that had none (below the last day done)
	// is rolled up too.
	old := rollDay.AddDate(0, 0, -3)
	require.NoError(t, s.InsertSnapshots(ctx, []model.Snapshot{snap("d.example", old, 9)}))
	st, err = s.Rollup(ctx, d2.Add(5*time.Hour))
	require.NoError(t, err)
	require.Equal(t, []string{"2026-10-02"}, rollupDays(st))
	require.Equal(t, int64(9), dailyRows(t, s)["2026-10-02 d.example"])
}

func TestRollupRecoversFromACrash(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	for _, tc := range []struct {
		name string
		// rows are the daily rows the crashed rollup left behind.
		rows int
	}{
		{name: "crash after the insert", rows: 2},
		{name: "crash during the insert", rows: 1},
		{name: "crash before the insert", rows: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := chtest.Store(t)
			require.NoError(t, s.InsertSnapshots(ctx, []model.Snapshot{
				snap("a.example", rollDay.Add(time.Hour), 1),
				snap("b.example", rollDay.Add(time.Hour), 2),
			}))
			// What a rollup that died before its bookkeeping leaves: a
			// start in the log and some of the day's rows.
			require.NoError(t, s.Conn().Exec(ctx, `INSERT INTO rollups (day, kind, started, rows, version, at)
SELECT toDate('2026-10-05'), 'start', 1, 0, 1, now()`))
			if tc.rows > 0 {
				require.NoError(t, s.Conn().Exec(ctx, `INSERT INTO daily (day, host, crawled_at, software, version,
    open_registrations, registration_mode, users_total, users_active_month, users_active_halfyear, local_posts, flags, languages)
SELECT toDate(crawled_at), host, crawled_at, software, version, open_registrations, registration_mode,
       users_total, users_active_month, users_active_halfyear, local_posts, flags, languages
FROM snapshots ORDER BY host LIMIT ?`, tc.rows))
			}
			st, err := s.Rollup(ctx, rollDay.AddDate(0, 0, 1))
			require.NoError(t, err)
			require.Equal(t, []string{"2026-10-05"}, rollupDays(st))
			require.Equal(t, map[string]int64{"2026-10-05 a.example": 1, "2026-10-05 b.example": 2}, dailyRows(t, s))
			var n uint64
			require.NoError(t, s.Conn().QueryRow(ctx, `SELECT count() FROM daily`).Scan(&n))
			require.Equal(t, uint64(2), n)
		})
	}
}

func TestInstancesLatestBackfill(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := ctxT(t)
	require.NoError(t, s.InsertSnapshots(ctx, []model.Snapshot{
		snap("a.example", rollDay.Add(time.Hour), 10),
		snap("a.example", rollDay.Add(2*time.Hour), 11),
		snap("b.example", rollDay.Add(time.Hour), 20),
	}))
	// A database migrated before version 20: snapshots without their
	// latest rows. Running the migration (twice: it is repeatable) fills
	// instances_latest with each host's newest snapshot.
	require.NoError(t, s.Conn().Exec(ctx, `TRUNCATE TABLE instances_latest`))
	for range 2 {
		for _, stmt := range store.MigrationStatements(20) {
			require.NoError(t, s.ExecMigration(ctx, stmt))
		}
	}
	var hosts, rows uint64
	var aUsers int64
	require.NoError(t, s.Conn().QueryRow(ctx, `SELECT uniqExact(host), count(), argMaxIf(assumeNotNull(users_total), crawled_at, host = 'a.example')
FROM instances_latest`).Scan(&hosts, &rows, &aUsers))
	require.Equal(t, uint64(2), hosts)
	require.Equal(t, int64(11), aUsers)
	require.LessOrEqual(t, rows, uint64(4), "one row per host and run, before merges")
}

func TestDayRowsLeaveOptOutsOut(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	for _, others := range []int{0, 1500} { // a literal set, and a subquery past maxInlineOptOuts
		s := chtest.Store(t)
		require.NoError(t, s.InsertSnapshots(ctx, []model.Snapshot{
			snap("a.example", rollDay.Add(time.Hour), 1),
			snap("o.example", rollDay.Add(time.Hour), 2),
			snap("a.example", rollDay.AddDate(0, 0, 1).Add(time.Hour), 3),
			snap("o.example", rollDay.AddDate(0, 0, 1).Add(time.Hour), 4),
		}))
		_, err := s.Rollup(ctx, rollDay.AddDate(0, 0, 1)) // day 1 stays live
		require.NoError(t, err)
		require.NoError(t, s.AddOptOut(ctx, model.OptOut{Host: "o.example"}))
		if others > 0 {
			require.NoError(t, s.Conn().Exec(ctx, `INSERT INTO optouts (host, reason, added_at, removed, version)
SELECT concat('x', toString(number), '.example'), '', now(), 0, number + 1 FROM system.numbers LIMIT ?`, others))
		}
		rows, err := s.DayRows(ctx, store.DayFilter{}, "day", "host", "users_total")
		require.NoError(t, err)
		require.Equal(t, rollDay.AddDate(0, 0, 1), rows.Last)
		r, err := s.Conn().Query(ctx, rows.SQL+" ORDER BY day")
		require.NoError(t, err)
		var got []int64
		for r.Next() {
			var (
				d    time.Time
				host string
				u    *int64
			)
			require.NoError(t, r.Scan(&d, &host, &u))
			require.Equal(t, "a.example", host)
			got = append(got, *u)
		}
		require.NoError(t, r.Err())
		r.Close()
		require.Equal(t, []int64{1, 3}, got, "%d other opt-outs", others)
	}
}
