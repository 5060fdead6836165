package fedisim

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestExpectedFlagsMatchServedCounts: the flags the generator meant to
// earn agree with the counts the truth (and so NodeInfo) serves, and the
// census has instances of each kind.
func TestExpectedFlagsMatchServedCounts(t *testing.T) {
	s := sharedSim(t)
	tr := s.Truth()
	val := func(p *int64) int64 {
		if p == nil {
			return -1
		}
		return *p
	}
	seen := map[string]int{}
	for _, it := range tr.Census(s.Seeds()) {
		total, month, half := val(it.UsersTotal), val(it.UsersActiveMonth), val(it.UsersActiveHalfyear)
		require.GreaterOrEqual(t, total, int64(1), it.Host)
		above := month > total || half > total
		require.Equal(t, above, it.Has(BehaviourStatsInconsistent), "%s: %d/%d/%d", it.Host, total, month, half)
		require.Equal(t, above, it.SuspectFigures, it.Host)
		require.LessOrEqual(t, month, half, "%s: month above halfyear", it.Host)
		var want []string
		if above {
			want = append(want, FlagActiveAboveTotal)
		}
		if total <= 1 {
			want = append(want, FlagSingleUser)
		}
		require.Equal(t, want, it.ExpectedFlags, it.Host)
		for _, f := range it.ExpectedFlags {
			seen[f]++
		}
	}
	require.Positive(t, seen[FlagActiveAboveTotal], "the census has stats_inconsistent instances")
	require.Positive(t, seen[FlagSingleUser], "the census has single-user instances")
}

func TestCensusTotals(t *testing.T) {
	i := func(v int64) *int64 { return &v }
	census := []InstanceTruth{
		{Host: "a.example", Software: "mastodon", UsersTotal: i(100), UsersActiveMonth: i(10), UsersActiveHalfyear: i(20), LocalPosts: i(1000)},
		{Host: "b.example", Software: "mastodon", UsersTotal: i(1), LocalPosts: i(7), ExpectedFlags: []string{FlagSingleUser}},
		{Host: "c.example", Software: "pleroma", UsersTotal: i(10), UsersActiveMonth: i(3), UsersActiveHalfyear: i(12),
			ExpectedFlags: []string{FlagActiveAboveTotal}, SuspectFigures: true},
		{Host: "d.example", Software: "wordpress", UsersTotal: i(2)},
	}
	require.Equal(t, CensusTotals{Instances: 3, Flagged: 1, UsersTotal: 103, UsersActiveMonth: 10, UsersActiveHalfyear: 20,
		LocalPosts: 1007, Softwares: 2}, CleanTotals(census))
	require.Equal(t, CensusTotals{Instances: 4, Flagged: 1, UsersTotal: 113, UsersActiveMonth: 13, UsersActiveHalfyear: 32,
		LocalPosts: 1007, Softwares: 3}, AllTotals(census))
	require.Equal(t, CensusTotals{}, CleanTotals(nil))
}
