package stats_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/fedisim"
	"github.com/fedilens/fedilens/internal/stats"
)

// The expected values below are computed in plain Go from the simulator's
// truth of every day, independently of the SQL.

// rowsOn are the instances a statistic covers on day i under q.
func (c *crawled) rowsOn(i int, q stats.Query) []fedisim.InstanceTruth {
	var out []fedisim.InstanceTruth
	for _, in := range c.days[i].census {
		if !q.IncludeFlagged && suspect(in) {
			continue
		}
		if len(q.Software) > 0 && !slices.Contains(q.Software, in.Software) {
			continue
		}
		if q.Language != "" && !slices.Contains(c.langs[in.Host], q.Language) {
			continue
		}
		out = append(out, in)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Host < out[b].Host })
	return out
}

// dayIndexes are the days within q's range, oldest first.
func (c *crawled) dayIndexes(q stats.Query) []int {
	var out []int
	for i, d := range c.days {
		if (!q.From.IsZero() && d.date.Before(q.From)) || (!q.To.IsZero() && d.date.After(q.To)) {
			continue
		}
		out = append(out, i)
	}
	return out
}

func period(iv stats.Interval, d time.Time) time.Time {
	switch iv {
	case stats.Week:
		for d.Weekday() != time.Monday {
			d = d.AddDate(0, 0, -1)
		}
	case stats.Month:
		d = time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return d
}

// lastDays maps each period to its last day index with data under q.
func (c *crawled) lastDays(q stats.Query) []int {
	iv := q.Interval
	if iv == "" {
		iv = stats.Day
	}
	var out []int
	for _, i := range c.dayIndexes(q) {
		if len(c.rowsOn(i, q)) == 0 {
			continue
		}
		if n := len(out); n > 0 && period(iv, c.days[out[n-1]].date).Equal(period(iv, c.days[i].date)) {
			out[n-1] = i
			continue
		}
		out = append(out, i)
	}
	return out
}

func val(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func (c *crawled) wantTotals(q stats.Query) []stats.TotalsPoint {
	out := []stats.TotalsPoint{}
	for _, i := range c.lastDays(q) {
		p := stats.TotalsPoint{Period: period(q.Interval, c.days[i].date), Day: c.days[i].date}
		for _, in := range c.rowsOn(i, q) {
			p.Instances++
			p.Accounts += val(in.UsersTotal)
			p.ActiveMonth += val(in.UsersActiveMonth)
			p.ActiveHalfyear += val(in.UsersActiveHalfyear)
			p.LocalPosts += val(in.LocalPosts)
		}
		out = append(out, p)
	}
	return out
}

func wantShares(rows []fedisim.InstanceTruth, key func(fedisim.InstanceTruth) []string) []stats.Share {
	by := map[string]*stats.Share{}
	for _, in := range rows {
		for _, k := range key(in) {
			sh := by[k]
			if sh == nil {
				sh = &stats.Share{Key: k}
				by[k] = sh
			}
			sh.Instances++
			sh.Accounts += val(in.UsersTotal)
			sh.ActiveMonth += val(in.UsersActiveMonth)
		}
	}
	out := []stats.Share{}
	for _, sh := range by {
		out = append(out, *sh)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Instances != out[j].Instances {
			return out[i].Instances > out[j].Instances
		}
		return out[i].Key < out[j].Key
	})
	return out
}

func bySoftware(in fedisim.InstanceTruth) []string { return []string{in.Software} }
func byVersion(in fedisim.InstanceTruth) []string  { return []string{in.Version} }

func (c *crawled) byLanguage(in fedisim.InstanceTruth) []string {
	if len(c.langs[in.Host]) == 0 {
		return []string{""}
	}
	return c.langs[in.Host]
}

// atIndex is the day index a statistic at a date reads.
func (c *crawled) atIndex(q stats.Query) int {
	for i := len(c.days) - 1; i >= 0; i-- {
		if q.To.IsZero() || !c.days[i].date.After(q.To) {
			return i
		}
	}
	return -1
}

func (c *crawled) wantGrowth(q stats.Query, deadAfter int) []stats.GrowthPoint {
	seen := map[string][]int{}
	for i := range c.days {
		if !q.To.IsZero() && c.days[i].date.After(q.To) {
			break
		}
		for _, in := range c.rowsOn(i, q) {
			seen[in.Host] = append(seen[in.Host], i)
		}
	}
	end := c.atIndex(q)
	by := map[time.Time]*stats.GrowthPoint{}
	add := func(i int, f func(p *stats.GrowthPoint)) {
		d := c.days[i].date
		if !q.From.IsZero() && d.Before(q.From) {
			return
		}
		per := period(q.Interval, d)
		if by[per] == nil {
			by[per] = &stats.GrowthPoint{Period: per}
		}
		f(by[per])
	}
	for _, days := range seen {
		add(days[0], func(p *stats.GrowthPoint) { p.New++ })
		for k, d := range days {
			next := end + 1 + deadAfter // unseen through the end of the data
			if k+1 < len(days) {
				next = days[k+1]
			}
			if next-d > deadAfter && (k+1 < len(days) || end-d >= deadAfter) {
				add(d, func(p *stats.GrowthPoint) { p.Dead++ })
			}
			if k > 0 && d-days[k-1] > deadAfter {
				add(d, func(p *stats.GrowthPoint) { p.Returning++ })
			}
		}
	}
	out := []stats.GrowthPoint{}
	for _, p := range by {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Period.Before(out[j].Period) })
	return out
}

// TestStatisticsMatchTruth crawls two simulated histories, one a day, and
// compares every statistic with the truth: a longer one of well-behaved
// instances (growth, churn, upgrades), and a shorter one with the hostile
// and broken behaviours, whose inconsistent figures the sanity flags must
// keep out of the clean statistics.
func TestStatisticsMatchTruth(t *testing.T) {
	for _, opts := range []fedisim.Options{
		{Seed: 5, Instances: 60, HistoryDays: 90, NoHostile: true},
		{Seed: 3, Instances: 80, HistoryDays: 12},
	} {
		name := fmt.Sprintf("%d instances, %d days, hostile %v", opts.Instances, opts.HistoryDays, !opts.NoHostile)
		t.Run(name, func(t *testing.T) { statisticsMatchTruth(t, opts) })
	}
}

func statisticsMatchTruth(t *testing.T, opts fedisim.Options) {
	ctx := context.Background()
	began := time.Now()
	c := crawlHistory(t, opts)
	historyDays := opts.HistoryDays
	t.Logf("crawled in %s", time.Since(began).Round(time.Millisecond))
	const deadAfter = 4
	s := stats.New(c.st, stats.Options{DeadAfter: deadAfter})

	// The history must exercise what is measured.
	first, last := c.days[0], c.days[len(c.days)-1]
	require.Greater(t, len(last.census), opts.Instances/3)
	require.NotEqual(t, len(first.census), len(last.census), "the census should grow")
	if !opts.NoHostile {
		var flagged int
		for _, in := range last.census {
			if suspect(in) {
				flagged++
			}
		}
		require.Positive(t, flagged, "some instances should have suspect figures")
	}

	mid := c.days[historyDays/2].date
	queries := map[string]stats.Query{
		"all days":          {},
		"weeks":             {Interval: stats.Week},
		"months":            {Interval: stats.Month},
		"flagged included":  {IncludeFlagged: true},
		"range of weeks":    {From: c.days[3].date, To: c.days[historyDays-5].date, Interval: stats.Week},
		"mastodon":          {Software: []string{"mastodon"}},
		"two programs":      {Software: []string{"misskey", "lemmy"}, Interval: stats.Week},
		"english":           {Language: "en"},
		"up to a mid day":   {To: mid},
		"from a mid day on": {From: mid, Interval: stats.Month, IncludeFlagged: true},
	}
	for name, q := range queries {
		t.Run(name, func(t *testing.T) {
			if q.Interval == "" {
				q.Interval = stats.Day
			}
			totals, err := s.Totals(ctx, q)
			require.NoError(t, err)
			require.Equal(t, c.wantTotals(q), orEmpty(totals), "totals")

			at := c.atIndex(q)
			sw, err := s.SoftwareShare(ctx, q)
			require.NoError(t, err)
			require.Equal(t, c.days[at].date, sw.Day)
			require.Equal(t, wantShares(c.rowsOn(at, q), bySoftware), sw.Shares, "software share")

			over, err := s.SoftwareShareOverTime(ctx, q)
			require.NoError(t, err)
			lastDays := c.lastDays(q)
			require.Len(t, over, len(lastDays))
			for k, i := range lastDays {
				require.Equal(t, c.days[i].date, over[k].Day)
				require.Equal(t, period(q.Interval, c.days[i].date), over[k].Period)
				require.Equal(t, wantShares(c.rowsOn(i, q), bySoftware), over[k].Shares, "software share on %s", over[k].Day)
			}

			mq := q
			mq.Software = []string{"mastodon"}
			vs, err := s.VersionShare(ctx, q, "mastodon")
			require.NoError(t, err)
			require.Equal(t, wantShares(c.rowsOn(at, mq), byVersion), vs.Shares, "version share")
			vo, err := s.VersionShareOverTime(ctx, q, "Mastodon")
			require.NoError(t, err)
			mDays := c.lastDays(mq)
			require.Len(t, vo, len(mDays))
			for k, i := range mDays {
				require.Equal(t, wantShares(c.rowsOn(i, mq), byVersion), vo[k].Shares, "version share on %s", vo[k].Day)
			}

			growth, err := s.Growth(ctx, q)
			require.NoError(t, err)
			require.Equal(t, c.wantGrowth(q, deadAfter), growth, "growth")

			regs, err := s.Registrations(ctx, q)
			require.NoError(t, err)
			wantRegs := []stats.RegistrationsPoint{}
			for _, i := range lastDays {
				p := stats.RegistrationsPoint{Period: period(q.Interval, c.days[i].date), Day: c.days[i].date}
				for _, in := range c.rowsOn(i, q) {
					if in.OpenRegistrations {
						p.Open++
					} else {
						p.Closed++
					}
				}
				wantRegs = append(wantRegs, p)
			}
			require.Equal(t, wantRegs, orEmpty(regs), "registrations")

			rbs, err := s.RegistrationsBySoftware(ctx, q)
			require.NoError(t, err)
			wantRBS := map[string]stats.SoftwareRegistrations{}
			for _, in := range c.rowsOn(at, q) {
				r := wantRBS[in.Software]
				r.Software = in.Software
				if in.OpenRegistrations {
					r.Open++
				} else {
					r.Closed++
				}
				wantRBS[in.Software] = r
			}
			require.Len(t, rbs.Software, len(wantRBS))
			for _, r := range rbs.Software {
				require.Equal(t, wantRBS[r.Software], r)
			}

			langs, err := s.Languages(ctx, q)
			require.NoError(t, err)
			require.Equal(t, wantShares(c.rowsOn(at, q), c.byLanguage), langs.Shares, "languages")

			sizes, err := s.Sizes(ctx, q)
			require.NoError(t, err)
			var users, active []int64
			for _, in := range c.rowsOn(at, q) {
				if in.UsersTotal != nil {
					users = append(users, *in.UsersTotal)
				}
				if in.UsersActiveMonth != nil {
					active = append(active, *in.UsersActiveMonth)
				}
			}
			require.Equal(t, wantDistribution(users), sizes.Accounts, "accounts distribution")
			require.Equal(t, wantDistribution(active), sizes.ActiveMonth, "active users distribution")
		})
	}

	if historyDays < 30 {
		return
	}
	t.Run("history of an instance that died and came back", func(t *testing.T) {
		host := ""
		for h := range last.census {
			var gap bool
			for i := 1; i < len(c.days)-1; i++ {
				_, in := c.days[i].census[h]
				_, before := c.days[i-1].census[h]
				if !in && before {
					gap = true
				}
			}
			if gap && !suspect(last.census[h]) && (host == "" || h < host) {
				host = h
			}
		}
		require.NotEmpty(t, host, "the history should have an instance with a gap")
		q := stats.Query{IncludeFlagged: true}
		got, err := s.History(ctx, host, q)
		require.NoError(t, err)
		var want []stats.HostPoint
		for _, d := range c.days {
			in, ok := d.census[host]
			if !ok {
				continue
			}
			want = append(want, stats.HostPoint{Day: d.date, Software: in.Software, Version: in.Version,
				OpenRegistrations: in.OpenRegistrations, Accounts: in.UsersTotal, ActiveMonth: in.UsersActiveMonth,
				ActiveHalfyear: in.UsersActiveHalfyear, LocalPosts: in.LocalPosts, Suspect: suspect(in)})
		}
		require.Equal(t, want, got)
	})
}

// wantDistribution is the nearest-rank definition written out directly.
func wantDistribution(values []int64) stats.Distribution {
	d := stats.Distribution{Instances: int64(len(values))}
	if len(values) == 0 {
		return d
	}
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	for _, v := range sorted {
		d.Total += v
	}
	n := len(sorted)
	nearest := func(p float64) int64 {
		for k := 1; k <= n; k++ {
			if float64(k) >= p*float64(n)-1e-9 {
				return sorted[k-1]
			}
		}
		return sorted[n-1]
	}
	d.Median, d.P75, d.P90, d.P99 = nearest(0.5), nearest(0.75), nearest(0.9), nearest(0.99)
	topK := func(p float64) int64 {
		k := 1
		for float64(k) < p*float64(n)-1e-9 {
			k++
		}
		var s int64
		for _, v := range sorted[n-k:] {
			s += v
		}
		return s
	}
	d.Top1Sum, d.Top10Sum = topK(0.01), topK(0.10)
	if d.Total > 0 {
		d.Top1Share = float64(d.Top1Sum) / float64(d.Total)
		d.Top10Share = float64(d.Top10Sum) / float64(d.Total)
	}
	return d
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
