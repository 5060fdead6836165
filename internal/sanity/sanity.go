// Package sanity judges the usage figures an instance publishes in its
// NodeInfo before they are added up into the census.
//
// NodeInfo counts are self-reported and unchecked: servers publish
// impossible combinations (more active users than users), numbers that are
// plainly made up or overflowed (a billion users, negative counts), totals
// that jump by orders of magnitude between two crawls (spam-signup waves,
// stats plugins, reinstalls) and deliberately hidden or randomised stats
// (GoToSocial's instance-stats-mode zero and baffle). fedilens stores every
// figure as it was served and, next to it, the verdict of Check: a list of
// flags, each either suspect (the instance's figures are left out of the
// clean census totals) or info (kept, but shown so readers can judge).
//
// Check is a pure function of the current snapshot and the host's previous
// one, so the verdict of any stored snapshot can be recomputed and tested
// without a network or a database.
package sanity

import "github.com/fedilens/fedilens/internal/model"

// Flag names one finding about a snapshot's figures. Flags are stored as
// their string values (ClickHouse Array(String)), so the names are part of
// the data format: never rename one, add a new one instead.
type Flag string

// Severity says what a flag does to the census totals.
type Severity string

// The severities.
const (
	// SeveritySuspect: the figures contradict themselves, their history or
	// physical plausibility. At least one of them is wrong and fedilens
	// cannot tell which, so the instance is left out of the clean totals.
	SeveritySuspect Severity = "suspect"
	// SeverityInfo marks figures that are unusual but possible; they stay in
	// the totals and the flag is shown next to them.
	SeverityInfo Severity = "info"
	// SeverityUnknown is the severity of a flag this version does not know
	// (written by a newer fedilens): it is shown, but excludes nothing.
	SeverityUnknown Severity = "unknown"
)

// The flags, in the order Check reports them (suspect ones first).
const (
	// NegativeCount: a count is below zero. No counter can be negative;
	// seen with broken stats code and integer overflows.
	NegativeCount Flag = "negative_count"
	// AbsurdCount: more users than AbsurdUsers or more posts than
	// AbsurdPosts. The largest real instances have a few million accounts
	// and a few hundred million posts; beyond the limits the number is a
	// placeholder, an overflow or a joke, and one such instance would
	// outweigh the whole census.
	AbsurdCount Flag = "absurd_count"
	// ActiveAboveTotal: users active in the last month or half-year exceed
	// the total. Active users are a subset of all users, so one of the
	// figures is wrong (stale caches, counting remote users, random stats).
	ActiveAboveTotal Flag = "active_above_total"
	// MonthAboveHalfyear: more users active in the last month than in the
	// last six months, which contain that month.
	MonthAboveHalfyear Flag = "month_above_halfyear"
	// ZeroUsersWithPosts: no users but local posts. Local posts have local
	// authors (deleting an account deletes its posts), so the user count is
	// hidden or broken and the instance's figures do not describe it.
	ZeroUsersWithPosts Flag = "zero_users_with_posts"
	// TotalJump: the user total changed by a factor of JumpFactor or more
	// since the previous snapshot (both totals at least JumpFloor), or went
	// from below JumpFromBelow to above JumpToAbove. Real instances do not
	// grow or shrink tenfold between two crawls; spam-signup waves, stats
	// plugins, database resets and domain re-use do, and the census should
	// not follow them until the history settles.
	TotalJump Flag = "total_jump"

	// SingleUser: a total of 0 or 1 users. Single-user instances are a
	// large and real share of the fediverse (and GoToSocial's zeroed stats
	// look the same); counted, but worth telling apart from communities.
	SingleUser Flag = "single_user"
	// NoUserCount: NodeInfo publishes no users.total. The instance counts
	// as an instance but adds no users, which readers should know when they
	// compare totals.
	NoUserCount Flag = "no_user_count"
	// NoActiveUsers: at least NoActiveFloor users but nobody active in six
	// months. Abandoned instances and accounts left behind by spam-signup
	// waves look like this; the total is probably real but says little.
	NoActiveUsers Flag = "no_active_users"
)

// Thresholds of the checks. They are generous on purpose: a flag must
// mean "look at this", not "this instance is big".
const (
	// AbsurdUsers is the largest believable user count (any of the three).
	AbsurdUsers = 100_000_000
	// AbsurdPosts is the largest believable local post count.
	AbsurdPosts = 10_000_000_000
	// JumpFactor is the change of the user total between two snapshots
	// that is flagged when both totals are at least JumpFloor.
	JumpFactor = 10
	// JumpFloor keeps small instances out of the factor rule: going from
	// 3 to 40 users is a community forming, not a suspect figure.
	JumpFloor = 100
	// JumpFromBelow and JumpToAbove define the jump from (almost) nothing
	// to a large instance between two snapshots.
	JumpFromBelow = 10
	JumpToAbove   = 10_000
	// NoActiveFloor is the smallest total for which NoActiveUsers applies.
	NoActiveFloor = 100
)

// flagInfo describes one flag.
type flagInfo struct {
	severity Severity
	meaning  string
}

// flags lists every known flag in report order, with what it does and a
// one-line meaning for people (the dashboard shows it).
var flags = []struct {
	flag Flag
	flagInfo
}{
	{NegativeCount, flagInfo{SeveritySuspect, "A published count is negative, which no counter can be."}},
	{AbsurdCount, flagInfo{SeveritySuspect, "A published count is beyond anything real (over 100 million users or 10 billion posts)."}},
	{ActiveAboveTotal, flagInfo{SeveritySuspect, "More active users than users in total: at least one figure is wrong."}},
	{MonthAboveHalfyear, flagInfo{SeveritySuspect, "More users active in the last month than in the last six months, which include it."}},
	{ZeroUsersWithPosts, flagInfo{SeveritySuspect, "No users but local posts: the user count is hidden or broken."}},
	{TotalJump, flagInfo{SeveritySuspect, "The user total changed tenfold or more since the previous crawl, or grew from a handful to over 10,000."}},
	{SingleUser, flagInfo{SeverityInfo, "A single-user instance (at most one account)."}},
	{NoUserCount, flagInfo{SeverityInfo, "The instance does not publish its number of users."}},
	{NoActiveUsers, flagInfo{SeverityInfo, "At least 100 users but nobody active in six months."}},
}

var byName = func() map[Flag]flagInfo {
	m := make(map[Flag]flagInfo, len(flags))
	for _, f := range flags {
		m[f.flag] = f.flagInfo
	}
	return m
}()

// All returns every known flag in report order.
func All() []Flag {
	out := make([]Flag, len(flags))
	for i, f := range flags {
		out[i] = f.flag
	}
	return out
}

// SuspectFlags returns the names of the suspect flags, for queries that
// exclude flagged instances where the data lives (the store's SQL).
func SuspectFlags() []string {
	var out []string
	for _, f := range flags {
		if f.severity == SeveritySuspect {
			out = append(out, string(f.flag))
		}
	}
	return out
}

// Severity returns the flag's severity, Unknown for a name this version
// does not know.
func (f Flag) Severity() Severity {
	if fi, ok := byName[f]; ok {
		return fi.severity
	}
	return SeverityUnknown
}

// Meaning explains the flag in one sentence for people; an unknown flag
// gets a generic sentence rather than nothing.
func (f Flag) Meaning() string {
	if fi, ok := byName[f]; ok {
		return fi.meaning
	}
	return "A finding this version of fedilens does not know."
}

// IsSuspect reports whether f excludes an instance from the clean totals.
func (f Flag) IsSuspect() bool { return f.Severity() == SeveritySuspect }

// Suspect reports whether any of flags is suspect: whether the snapshot
// they belong to is left out of the clean census figures. It takes Flag
// values or their stored string form (model.Snapshot.Flags).
func Suspect[S ~string](flags []S) bool {
	for _, f := range flags {
		if Flag(f).IsSuspect() {
			return true
		}
	}
	return false
}

// Strings returns the stored form of flags (nil for none), as
// model.Snapshot.Flags holds it.
func Strings(flags []Flag) []string {
	if len(flags) == 0 {
		return nil
	}
	out := make([]string, len(flags))
	for i, f := range flags {
		out[i] = string(f)
	}
	return out
}

// Check returns the flags of cur's figures in report order (the order of
// All), or nil when there is nothing to report. prev is the host's
// previous snapshot, or nil when there is none; only its user total is
// used. Unknown (nil) counts are never compared: NodeInfo makes most of
// them optional, and a missing figure is not a wrong one.
func Check(cur model.Snapshot, prev *model.Snapshot) []Flag {
	total, month, half, posts := cur.UsersTotal, cur.UsersActiveMonth, cur.UsersActiveHalfyear, cur.LocalPosts
	found := map[Flag]bool{}

	for _, c := range []*int64{total, month, half, posts} {
		if c != nil && *c < 0 {
			found[NegativeCount] = true
		}
	}
	for _, c := range []*int64{total, month, half} {
		if c != nil && *c > AbsurdUsers {
			found[AbsurdCount] = true
		}
	}
	if posts != nil && *posts > AbsurdPosts {
		found[AbsurdCount] = true
	}
	// The comparisons use valid counts only: a negative one is already
	// reported, and comparing it would only add noise.
	valid := func(c *int64) bool { return c != nil && *c >= 0 }
	if valid(total) && ((valid(month) && *month > *total) || (valid(half) && *half > *total)) {
		found[ActiveAboveTotal] = true
	}
	if valid(month) && valid(half) && *month > *half {
		found[MonthAboveHalfyear] = true
	}
	if valid(total) && *total == 0 && valid(posts) && *posts > 0 {
		found[ZeroUsersWithPosts] = true
	}
	if prev != nil && valid(prev.UsersTotal) && valid(total) && jumped(*prev.UsersTotal, *total) {
		found[TotalJump] = true
	}

	switch {
	case total == nil:
		found[NoUserCount] = true
	case *total >= 0 && *total <= 1:
		found[SingleUser] = true
	case *total >= NoActiveFloor && half != nil && *half == 0 && (month == nil || *month == 0):
		found[NoActiveUsers] = true
	}

	if len(found) == 0 {
		return nil
	}
	out := make([]Flag, 0, len(found))
	for _, f := range flags {
		if found[f.flag] {
			out = append(out, f.flag)
		}
	}
	return out
}

// jumped applies TotalJump's rule to two valid (non-negative) user totals.
func jumped(prev, cur int64) bool {
	if prev < JumpFromBelow && cur > JumpToAbove {
		return true
	}
	if prev < JumpFloor || cur < JumpFloor {
		return false
	}
	lo, hi := min(prev, cur), max(prev, cur)
	// hi/lo >= JumpFactor without overflow: lo <= hi/JumpFactor, exactly
	// when hi >= JumpFactor*lo for integers.
	return lo <= hi/JumpFactor
}
