package sanity_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/sanity"
)

// counts builds a snapshot from total, month, halfyear, posts; -1 << 62
// (unk) leaves a count unknown.
func counts(total, month, half, posts int64) model.Snapshot {
	p := func(v int64) *int64 {
		if v == unk {
			return nil
		}
		return model.Int64(v)
	}
	return model.Snapshot{Host: "x.example", UsersTotal: p(total), UsersActiveMonth: p(month), UsersActiveHalfyear: p(half), LocalPosts: p(posts)}
}

const unk = -1 << 62

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		cur  model.Snapshot
		prev *model.Snapshot
		want []sanity.Flag
	}{
		{"ordinary instance", counts(1200, 150, 400, 90_000), nil, nil},
		{"ordinary, nothing but a total", counts(42, unk, unk, unk), nil, nil},
		{"active equal to total is possible", counts(200, 200, 200, 5000), nil, nil},
		{"month equal to halfyear is possible", counts(200, 50, 50, 5000), nil, nil},
		{"no users count", counts(unk, 3, 5, 100), nil, []sanity.Flag{sanity.NoUserCount}},
		{"nothing published", model.Snapshot{Host: "x.example"}, nil, []sanity.Flag{sanity.NoUserCount}},

		{"single user", counts(1, 1, 1, 300), nil, []sanity.Flag{sanity.SingleUser}},
		{"zeroed stats", counts(0, 0, 0, 0), nil, []sanity.Flag{sanity.SingleUser}},
		{"zero users, posts unknown", counts(0, unk, unk, unk), nil, []sanity.Flag{sanity.SingleUser}},
		{"zero users with posts", counts(0, 0, 0, 12), nil, []sanity.Flag{sanity.ZeroUsersWithPosts, sanity.SingleUser}},
		{"two users are not single", counts(2, 0, 1, 10), nil, nil},

		{"halfyear above total", counts(100, 20, 111, 5000), nil, []sanity.Flag{sanity.ActiveAboveTotal}},
		{"month above total and halfyear", counts(100, 150, 90, 5000), nil, []sanity.Flag{sanity.ActiveAboveTotal, sanity.MonthAboveHalfyear}},
		{"month above halfyear only", counts(100, 60, 50, 5000), nil, []sanity.Flag{sanity.MonthAboveHalfyear}},
		{"active above total, halfyear unknown", counts(10, 11, unk, unk), nil, []sanity.Flag{sanity.ActiveAboveTotal}},
		{"active known, total unknown: nothing to compare", counts(unk, 500, 400, unk), nil, []sanity.Flag{sanity.MonthAboveHalfyear, sanity.NoUserCount}},

		{"negative total", counts(-5, 0, 0, 0), nil, []sanity.Flag{sanity.NegativeCount}},
		{"negative posts", counts(10, 1, 2, -1), nil, []sanity.Flag{sanity.NegativeCount}},
		{"negative active", counts(10, -1, 2, 3), nil, []sanity.Flag{sanity.NegativeCount}},

		{"users at the absurd limit are believed", counts(sanity.AbsurdUsers, 1, 2, 3), nil, nil},
		{"absurd users", counts(sanity.AbsurdUsers+1, 1, 2, 3), nil, []sanity.Flag{sanity.AbsurdCount}},
		{"absurd active users", counts(500, sanity.AbsurdUsers+1, 2, 3), nil,
			[]sanity.Flag{sanity.AbsurdCount, sanity.ActiveAboveTotal, sanity.MonthAboveHalfyear}},
		{"posts at the absurd limit are believed", counts(5000, 1, 2, sanity.AbsurdPosts), nil, nil},
		{"absurd posts", counts(5000, 1, 2, sanity.AbsurdPosts+1), nil, []sanity.Flag{sanity.AbsurdCount}},
		{"max int64 everywhere", counts(1<<63-1, 1<<63-1, 1<<63-1, 1<<63-1), nil, []sanity.Flag{sanity.AbsurdCount}},

		{"no active users among many", counts(500, 0, 0, 20_000), nil, []sanity.Flag{sanity.NoActiveUsers}},
		{"no active users, month unknown", counts(500, unk, 0, 20_000), nil, []sanity.Flag{sanity.NoActiveUsers}},
		{"halfyear unknown is not inactive", counts(500, 0, unk, 20_000), nil, nil},
		{"few users, nobody active", counts(99, 0, 0, 20), nil, nil},

		{"steady growth", counts(1500, 10, 20, 100), snap(1000), nil},
		{"tenfold growth", counts(1000, 10, 20, 100), snap(100), []sanity.Flag{sanity.TotalJump}},
		{"just under tenfold", counts(999, 10, 20, 100), snap(100), nil},
		{"tenfold drop", counts(100, 10, 20, 100), snap(1000), []sanity.Flag{sanity.TotalJump}},
		{"small instances grow fast legitimately", counts(99, 10, 20, 100), snap(5), nil},
		{"from nothing to a big instance", counts(10_001, 10, 20, 100), snap(9), []sanity.Flag{sanity.TotalJump}},
		{"from nothing to exactly the limit", counts(10_000, 10, 20, 100), snap(9), nil},
		{"from ten to a big instance uses the factor rule", counts(10_001, 10, 20, 100), snap(10), nil},
		{"big instance reset to one: the new figure is believable", counts(1, 1, 1, 5), snap(50_000), []sanity.Flag{sanity.SingleUser}},
		{"previous total unknown", counts(50_000, 10, 20, 100), &model.Snapshot{}, nil},
		{"current total unknown", counts(unk, 10, 20, 100), snap(50_000), []sanity.Flag{sanity.NoUserCount}},
		{"previous total negative", counts(50_000, 10, 20, 100), snap(-3), nil},
		{"huge previous total does not overflow", counts(200, 10, 20, 100), snap(1<<63 - 1), []sanity.Flag{sanity.TotalJump}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, sanity.Check(tc.cur, tc.prev))
		})
	}
}

func snap(total int64) *model.Snapshot {
	return &model.Snapshot{Host: "x.example", UsersTotal: model.Int64(total)}
}

func TestSeverities(t *testing.T) {
	tests := []struct {
		flag     sanity.Flag
		severity sanity.Severity
	}{
		{sanity.NegativeCount, sanity.SeveritySuspect},
		{sanity.AbsurdCount, sanity.SeveritySuspect},
		{sanity.ActiveAboveTotal, sanity.SeveritySuspect},
		{sanity.MonthAboveHalfyear, sanity.SeveritySuspect},
		{sanity.ZeroUsersWithPosts, sanity.SeveritySuspect},
		{sanity.TotalJump, sanity.SeveritySuspect},
		{sanity.SingleUser, sanity.SeverityInfo},
		{sanity.NoUserCount, sanity.SeverityInfo},
		{sanity.NoActiveUsers, sanity.SeverityInfo},
		{"from_the_future", sanity.SeverityUnknown},
	}
	for _, tc := range tests {
		t.Run(string(tc.flag), func(t *testing.T) {
			require.Equal(t, tc.severity, tc.flag.Severity())
			require.Equal(t, tc.severity == sanity.SeveritySuspect, tc.flag.IsSuspect())
			require.NotEmpty(t, tc.flag.Meaning())
		})
	}
	// Every known flag is in the table above.
	require.Len(t, sanity.All(), len(tests)-1)
	require.Equal(t, []string{"negative_count", "absurd_count", "active_above_total", "month_above_halfyear",
		"zero_users_with_posts", "total_jump"}, sanity.SuspectFlags())
}

func TestSuspect(t *testing.T) {
	tests := []struct {
		name  string
		flags []string
		want  bool
	}{
		{"none", nil, false},
		{"info only", []string{"single_user", "no_user_count"}, false},
		{"one suspect among info", []string{"single_user", "total_jump"}, true},
		{"unknown flags exclude nothing", []string{"from_the_future"}, false},
		{"case matters: stored names are exact", []string{"TOTAL_JUMP"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, sanity.Suspect(tc.flags))
		})
	}
	require.True(t, sanity.Suspect([]sanity.Flag{sanity.AbsurdCount}))
	require.Nil(t, sanity.Strings(nil))
	require.Equal(t, []string{"single_user", "total_jump"}, sanity.Strings([]sanity.Flag{sanity.SingleUser, sanity.TotalJump}))
}
