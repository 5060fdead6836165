package dashboard

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/stats"
)

func TestChange(t *testing.T) {
	for _, tc := range []struct {
		before, now int64
		text, trend string
	}{
		{100, 110, "+10 (+10.0\u00a0%)", "up"},
		{1000, 900, "−100 (−10.0\u00a0%)", "down"},
		{7, 7, "±0 (±0.0\u00a0%)", "flat"},
		{0, 1234, "+1,234", "up"}, // no percentage of nothing
		{3, 0, "−3 (−100.0\u00a0%)", "down"},
	} {
		t.Run(fmt.Sprintf("%d to %d", tc.before, tc.now), func(t *testing.T) {
			text, trend := change(tc.before, tc.now)
			require.Equal(t, tc.text, text)
			require.Equal(t, tc.trend, trend)
		})
	}
}

func TestHeadlines(t *testing.T) {
	start := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	var daily []stats.TotalsPoint
	for i := range 45 {
		d := start.AddDate(0, 0, i)
		daily = append(daily, stats.TotalsPoint{Period: d, Day: d, Instances: int64(100 + i)})
	}
	for _, tc := range []struct {
		name        string
		pts         []stats.TotalsPoint
		q           stats.Query
		asOf, since string
		change      string
	}{
		{name: "no start: 30 days back", pts: daily, asOf: "2026-10-15", since: "2026-09-15", change: "+30 (+26.3\u00a0%)"},
		{name: "a start: since the range's first point", pts: daily, q: stats.Query{From: start}, asOf: "2026-10-15",
			since: "2026-09-01", change: "+44 (+44.0\u00a0%)"},
		{name: "shorter history: since its first day", pts: daily[30:], asOf: "2026-10-15", since: "2026-10-01",
			change: "+14 (+10.8\u00a0%)"},
		{name: "one day: nothing to compare", pts: daily[:1], asOf: "2026-09-01"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hl, asOf, since := headlines(tc.pts, tc.q)
			require.Len(t, hl, 5)
			require.Equal(t, tc.asOf, asOf)
			require.Equal(t, tc.since, since)
			require.Equal(t, "stat-instances", hl[0].ID)
			require.Equal(t, tc.change, hl[0].Change)
		})
	}
	hl, asOf, since := headlines(nil, stats.Query{})
	require.Empty(t, hl)
	require.Empty(t, asOf+since)
}

func TestShareRowsBy(t *testing.T) {
	var shares []stats.Share
	for i := range 20 {
		shares = append(shares, stats.Share{Key: fmt.Sprintf("s%02d", i), Instances: int64(i + 1), ActiveMonth: int64(100 - i)})
	}
	rows, others := shareRowsBy(shares, byInstances, 15)
	require.Equal(t, 5, others)
	require.Len(t, rows, 16)
	require.Equal(t, "s19", rows[0].Key, "largest first")
	require.Equal(t, stats.Share{Instances: 1 + 2 + 3 + 4 + 5, ActiveMonth: 100 + 99 + 98 + 97 + 96}, rows[15], "the rest summed")

	rows, _ = shareRowsBy(shares, byActive, 15)
	require.Equal(t, "s00", rows[0].Key, "ranked by the measure")

	rows, others = shareRowsBy(shares[:3], byInstances, 15)
	require.Zero(t, others)
	require.Len(t, rows, 3)
	require.Equal(t, "1 other", othersLabel(1))
}
