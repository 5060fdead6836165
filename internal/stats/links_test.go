package stats_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/chtest"
	"github.com/fedilens/fedilens/internal/fedisim"
	"github.com/fedilens/fedilens/internal/hostname"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/observtest"
	"github.com/fedilens/fedilens/internal/stats"
	"github.com/fedilens/fedilens/internal/store"
)

// The expected link statistics below are computed in plain Go from the
// simulator's truth of each day (the published peer and block lists of
// the instances stored that day), independently of the SQL.

// linkHistory is a crawled history with the truth of each day.
type linkHistory struct {
	h *observtest.History
}

// listers are the instances of day i that q selects, sorted by host.
func (l *linkHistory) listers(i int, q stats.Query) []fedisim.InstanceTruth {
	var out []fedisim.InstanceTruth
	for _, in := range l.h.Days[i].Census {
		if !q.IncludeFlagged && suspect(in) {
			continue
		}
		if len(q.Software) > 0 && !slices.Contains(q.Software, in.Software) {
			continue
		}
		if q.Language != "" && !slices.Contains(l.h.Langs[in.Host], q.Language) {
			continue
		}
		out = append(out, in)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Host < out[b].Host })
	return out
}

// shown is what a statistic shows of a host on day i under q's flagged
// rule (nil: not in that day's census).
func (l *linkHistory) shown(i int, q stats.Query, host string) *fedisim.InstanceTruth {
	in, ok := l.h.Days[i].Census[host]
	if !ok || (!q.IncludeFlagged && suspect(in)) {
		return nil
	}
	return &in
}

// atIndex is the day index a statistic at a date reads.
func (l *linkHistory) atIndex(q stats.Query) int {
	for i := len(l.h.Days) - 1; i >= 0; i-- {
		if q.To.IsZero() || !l.h.Days[i].Date.After(q.To) {
			return i
		}
	}
	return -1
}

// peersOf is the peer set a crawler keeps of in's served list: valid
// names, normalised, without itself or a port, de-duplicated, sorted.
func peersOf(in *fedisim.InstanceTruth) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range observtest.ReadablePeers(in) {
		h, err := hostname.Normalize(r)
		if err != nil || h == in.Host || strings.Contains(h, ":") || seen[h] {
			continue
		}
		seen[h] = true
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// readsPeers says the crawler reads in's peer list: it publishes one
// (snac's is always empty and never asked for).
func readsPeers(in *fedisim.InstanceTruth) bool {
	return in.PeersReadable() && in.Software != "snac"
}

// blocksOf is in's public block list as the crawler reads it, and whether
// it can read one.
func blocksOf(in *fedisim.InstanceTruth) ([]fedisim.BlockTruth, bool) {
	if in.Blocks == nil {
		return nil, false
	}
	switch in.Software {
	case "pleroma", "akkoma":
	case "lemmy":
		if !in.PeersReadable() {
			return nil, false
		}
	default:
		if !in.Allows("/api/v1/instance/domain_blocks") {
			return nil, false
		}
	}
	return in.Blocks, true
}

func weigh(in *fedisim.InstanceTruth) stats.Weighted {
	return stats.Weighted{Instances: 1, Accounts: val(in.UsersTotal), ActiveMonth: val(in.UsersActiveMonth)}
}

func addW(w *stats.Weighted, o stats.Weighted) {
	w.Instances += o.Instances
	w.Accounts += o.Accounts
	w.ActiveMonth += o.ActiveMonth
}

// inDegrees counts, on day i, how many listers list each host.
func (l *linkHistory) inDegrees(i int, q stats.Query) map[string]int64 {
	in := map[string]int64{}
	for _, lister := range l.listers(i, q) {
		for _, p := range peersOf(&lister) {
			in[p]++
		}
	}
	return in
}

// wantDegreeDistribution is the nearest-rank distribution of values with
// the histogram written out bucket by bucket.
func wantDegreeDistribution(values []int64) stats.DegreeDistribution {
	d := stats.DegreeDistribution{Distribution: wantDistribution(values), Histogram: []stats.DegreeBucket{}}
	if len(values) == 0 {
		return d
	}
	bounds := [][2]int64{{0, 0}, {1, 1}, {2, 9}, {10, 99}, {100, 999}, {1000, 9999}, {10000, 99999}}
	first, last := -1, -1
	counts := make([]int64, len(bounds))
	for _, v := range values {
		for b, r := range bounds {
			if v >= r[0] && v <= r[1] {
				counts[b]++
				if first < 0 || b < first {
					first = b
				}
				last = max(last, b)
			}
		}
	}
	for b := first; b <= last; b++ {
		d.Histogram = append(d.Histogram, stats.DegreeBucket{Min: bounds[b][0], Max: bounds[b][1], Hosts: counts[b]})
	}
	return d
}

func (l *linkHistory) wantDegrees(q stats.Query) stats.Degrees {
	i := l.atIndex(q)
	var out, in []int64
	for _, lister := range l.listers(i, q) {
		if readsPeers(&lister) {
			out = append(out, int64(len(peersOf(&lister))))
		}
	}
	for _, n := range l.inDegrees(i, q) {
		in = append(in, n)
	}
	return stats.Degrees{Day: l.h.Days[i].Date, Out: wantDegreeDistribution(out), In: wantDegreeDistribution(in)}
}

func (l *linkHistory) wantMostPeered(q stats.Query, n int) stats.MostPeeredHosts {
	i := l.atIndex(q)
	out := stats.MostPeeredHosts{Day: l.h.Days[i].Date, Hosts: []stats.PeeredHost{}}
	for h, c := range l.inDegrees(i, q) {
		ph := stats.PeeredHost{Host: h, InDegree: c}
		if in := l.shown(i, q, h); in != nil {
			ph.Known, ph.Software, ph.Accounts, ph.ActiveMonth = true, in.Software, in.UsersTotal, in.UsersActiveMonth
			if readsPeers(in) {
				k := int64(len(peersOf(in)))
				ph.OutDegree = &k
			}
		}
		out.Hosts = append(out.Hosts, ph)
	}
	sort.Slice(out.Hosts, func(a, b int) bool {
		if out.Hosts[a].InDegree != out.Hosts[b].InDegree {
			return out.Hosts[a].InDegree > out.Hosts[b].InDegree
		}
		return out.Hosts[a].Host < out.Hosts[b].Host
	})
	if len(out.Hosts) > n {
		out.Hosts = out.Hosts[:n]
	}
	return out
}

func (l *linkHistory) wantMostBlocked(q stats.Query, n int) stats.MostBlockedDomains {
	i := l.atIndex(q)
	by := map[string]*stats.BlockedDomain{}
	for _, lister := range l.listers(i, q) {
		list, ok := blocksOf(&lister)
		if !ok {
			continue
		}
		for _, b := range list {
			d := by[b.Domain]
			if d == nil {
				d = &stats.BlockedDomain{Domain: b.Domain}
				by[b.Domain] = d
			}
			w := weigh(&lister)
			switch b.Severity {
			case "suspend":
				addW(&d.Suspend, w)
			case "silence":
				addW(&d.Silence, w)
			case "limit":
				addW(&d.Limit, w)
			default:
				continue
			}
			addW(&d.Blockers, w)
		}
	}
	out := stats.MostBlockedDomains{Day: l.h.Days[i].Date, Domains: []stats.BlockedDomain{}}
	for _, d := range by {
		out.Domains = append(out.Domains, *d)
	}
	sort.Slice(out.Domains, func(a, b int) bool {
		if out.Domains[a].Blockers.Instances != out.Domains[b].Blockers.Instances {
			return out.Domains[a].Blockers.Instances > out.Domains[b].Blockers.Instances
		}
		return out.Domains[a].Domain < out.Domains[b].Domain
	})
	if len(out.Domains) > n {
		out.Domains = out.Domains[:n]
	}
	return out
}

func (l *linkHistory) wantBlockReasons(q stats.Query, n int) stats.BlockReasons {
	i := l.atIndex(q)
	type group struct {
		forms map[string]int64
		hosts map[string]bool
		n     int64
	}
	by := map[string]*group{}
	for _, lister := range l.listers(i, q) {
		list, ok := blocksOf(&lister)
		if !ok {
			continue
		}
		for _, b := range list {
			form := strings.TrimSpace(b.Comment)
			key := strings.ToLower(form)
			if key == "" {
				continue
			}
			g := by[key]
			if g == nil {
				g = &group{forms: map[string]int64{}, hosts: map[string]bool{}}
				by[key] = g
			}
			g.forms[form]++
			g.hosts[lister.Host] = true
			g.n++
		}
	}
	keys := make([]string, 0, len(by))
	for k := range by {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool {
		if by[keys[a]].n != by[keys[b]].n {
			return by[keys[a]].n > by[keys[b]].n
		}
		return keys[a] < keys[b]
	})
	out := stats.BlockReasons{Day: l.h.Days[i].Date, Reasons: []stats.BlockReason{}}
	for _, k := range keys {
		if len(out.Reasons) == n {
			break
		}
		g := by[k]
		best := ""
		for f, c := range g.forms {
			if best == "" || c > g.forms[best] || (c == g.forms[best] && f > best) {
				best = f
			}
		}
		out.Reasons = append(out.Reasons, stats.BlockReason{Reason: best, Blocks: g.n, Instances: int64(len(g.hosts))})
	}
	return out
}

// watchCategory is the Threads view's category of in for domain on its
// day, by the rules of the view written out.
func watchCategory(in *fedisim.InstanceTruth, domain string) string {
	list, known := blocksOf(in)
	sev := ""
	for _, b := range list {
		if b.Domain == domain {
			sev = b.Severity
		}
	}
	switch {
	case known && sev == "suspend":
		return "suspend"
	case known && (sev == "silence" || sev == "limit"):
		return "limit"
	case slices.Contains(peersOf(in), domain):
		return "federate"
	case known:
		return "neither"
	}
	return "unknown"
}

func addCategory(w *stats.WatchSplit, cat string, v stats.Weighted) {
	switch cat {
	case "suspend":
		addW(&w.Suspend, v)
	case "limit":
		addW(&w.Limit, v)
	case "federate":
		addW(&w.Federate, v)
	case "neither":
		addW(&w.Neither, v)
	default:
		addW(&w.Unknown, v)
	}
}

func (l *linkHistory) wantWatchDay(i int, q stats.Query, domain string) stats.WatchSplit {
	var w stats.WatchSplit
	for _, in := range l.listers(i, q) {
		addCategory(&w, watchCategory(&in, domain), weigh(&in))
	}
	return w
}

func (l *linkHistory) wantThreadsOverTime(q stats.Query, domains []string) []stats.WatchSeries {
	var out []stats.WatchSeries
	for _, dom := range domains {
		ser := stats.WatchSeries{Domain: dom, Points: []stats.WatchPoint{}}
		for _, i := range l.lastDays(q) {
			d := l.h.Days[i].Date
			ser.Points = append(ser.Points, stats.WatchPoint{Period: period(q.Interval, d), Day: d, WatchSplit: l.wantWatchDay(i, q, dom)})
		}
		out = append(out, ser)
	}
	return out
}

// lastDays maps each period of q's range to its last day index with data.
func (l *linkHistory) lastDays(q stats.Query) []int {
	var out []int
	for i, d := range l.h.Days {
		if (!q.From.IsZero() && d.Date.Before(q.From)) || (!q.To.IsZero() && d.Date.After(q.To)) || len(l.listers(i, q)) == 0 {
			continue
		}
		if n := len(out); n > 0 && period(q.Interval, l.h.Days[out[n-1]].Date).Equal(period(q.Interval, d.Date)) {
			out[n-1] = i
			continue
		}
		out = append(out, i)
	}
	return out
}

func (l *linkHistory) wantThreadsBySoftware(q stats.Query, domains []string) []stats.WatchAt {
	i := l.atIndex(q)
	var out []stats.WatchAt
	for _, dom := range domains {
		wa := stats.WatchAt{Domain: dom, Day: l.h.Days[i].Date, BySoftware: []stats.WatchSoftware{}}
		by := map[string]*stats.WatchSoftware{}
		for _, in := range l.listers(i, q) {
			cat, w := watchCategory(&in, dom), weigh(&in)
			addCategory(&wa.All, cat, w)
			if by[in.Software] == nil {
				by[in.Software] = &stats.WatchSoftware{Software: in.Software}
			}
			addCategory(&by[in.Software].WatchSplit, cat, w)
		}
		for _, ws := range by {
			wa.BySoftware = append(wa.BySoftware, *ws)
		}
		sort.Slice(wa.BySoftware, func(a, b int) bool {
			x, y := wa.BySoftware[a].Total().Instances, wa.BySoftware[b].Total().Instances
			if x != y {
				return x > y
			}
			return wa.BySoftware[a].Software < wa.BySoftware[b].Software
		})
		out = append(out, wa)
	}
	return out
}

// TestLinkStatisticsMatchTruth crawls a simulated history with hostile
// instances (whose suspect figures the default queries leave out), one
// pass a day, and compares every link statistic with the truth on three
// dates and under software, language and flagged filters.
func TestLinkStatisticsMatchTruth(t *testing.T) {
	ctx := context.Background()
	began := time.Now()
	opts := fedisim.Options{Seed: 13, Instances: 60, HistoryDays: 10}
	l := &linkHistory{h: observtest.Crawl(t, chtest.Store(t), opts, observtest.Options{})}
	t.Logf("crawled %d days in %s", len(l.h.Days), time.Since(began).Round(time.Millisecond))
	s := stats.New(l.h.Store, stats.Options{})
	// Without the store's in-degree summaries every figure is computed
	// from the links: the same answers.
	exact := stats.New(exactOnly{l.h.Store}, stats.Options{})
	days := l.h.Days
	last := len(days) - 1
	for _, flagged := range []bool{false, true} {
		latest, err := l.h.Store.LatestInDegreeDay(ctx, flagged)
		require.NoError(t, err)
		require.Equal(t, days[last].Date, latest, "every day rolled up is summarised")
	}

	// The history must exercise what is measured.
	var links, blocks, threads, flagged int
	for _, in := range days[last].Census {
		links += len(peersOf(&in))
		list, _ := blocksOf(&in)
		blocks += len(list)
		if suspect(in) {
			flagged++
		}
		if watchCategory(&in, fedisim.ThreadsDomain) == "suspend" || watchCategory(&in, fedisim.ThreadsDomain) == "limit" {
			threads++
		}
	}
	require.Positive(t, links)
	require.Positive(t, blocks)
	require.Positive(t, threads, "some instances should restrict threads.net")
	require.Positive(t, flagged, "some instances should have suspect figures")
	// A watched host that is peered (federate) and blocked (some lists
	// restrict simulated instances): the most peered one on the last day.
	top := l.wantMostPeered(stats.Query{}, 1).Hosts[0].Host
	domains := []string{fedisim.ThreadsDomain, fedisim.BridgyDomain, top}

	queries := map[string]stats.Query{
		"latest":                              {},
		"flagged included":                    {IncludeFlagged: true},
		"day 5, weeks":                        {From: days[2].Date, To: days[5].Date, Interval: stats.Week},
		"mastodon":                            {Software: []string{"mastodon"}},
		"mastodon on day 7, flagged included": {To: days[7].Date, Software: []string{"mastodon"}, IncludeFlagged: true},
		"misskey and lemmy, months":           {Software: []string{"misskey", "lemmy"}, Interval: stats.Month},
		"english":                             {Language: "en"},
	}
	for name, q := range queries {
		t.Run(name, func(t *testing.T) {
			if q.Interval == "" {
				q.Interval = stats.Day
			}
			for _, st := range []*stats.Stats{s, exact} {
				deg, err := st.Degrees(ctx, q)
				require.NoError(t, err)
				require.Equal(t, l.wantDegrees(q), deg, "degrees")
				mp, err := st.MostPeered(ctx, q, 3)
				require.NoError(t, err)
				require.Equal(t, l.wantMostPeered(q, 3), mp, "most peered, top 3")
				mb, err := st.MostBlocked(ctx, q, 3)
				require.NoError(t, err)
				require.Equal(t, l.wantMostBlocked(q, 3), mb, "most blocked, top 3")
				br, err := st.BlockReasons(ctx, q, 3)
				require.NoError(t, err)
				require.Equal(t, l.wantBlockReasons(q, 3), br, "block reasons, top 3")
			}

			for _, n := range []int{stats.MaxTop} {
				mp, err := s.MostPeered(ctx, q, n)
				require.NoError(t, err)
				require.Equal(t, l.wantMostPeered(q, n), mp, "most peered, top %d", n)

				mb, err := s.MostBlocked(ctx, q, n)
				require.NoError(t, err)
				require.Equal(t, l.wantMostBlocked(q, n), mb, "most blocked, top %d", n)

				br, err := s.BlockReasons(ctx, q, n)
				require.NoError(t, err)
				require.Equal(t, l.wantBlockReasons(q, n), br, "block reasons, top %d", n)
			}

			for _, st := range []*stats.Stats{s, exact} {
				over, err := st.ThreadsOverTime(ctx, q, domains)
				require.NoError(t, err)
				require.Equal(t, l.wantThreadsOverTime(q, domains), over, "threads over time")
			}

			bySw, err := s.ThreadsBySoftware(ctx, q, domains)
			require.NoError(t, err)
			require.Equal(t, l.wantThreadsBySoftware(q, domains), bySw, "threads by software")
		})
	}

	t.Run("the threads view covers every category", func(t *testing.T) {
		view, err := s.Threads(ctx, stats.Query{IncludeFlagged: true}, domains)
		require.NoError(t, err)
		require.Equal(t, domains, view.Domains)
		var sum stats.WatchSplit
		for _, ser := range view.OverTime {
			for _, p := range ser.Points {
				addW(&sum.Suspend, p.Suspend)
				addW(&sum.Limit, p.Limit)
				addW(&sum.Federate, p.Federate)
				addW(&sum.Neither, p.Neither)
				addW(&sum.Unknown, p.Unknown)
			}
		}
		for name, w := range map[string]stats.Weighted{"suspend": sum.Suspend, "limit": sum.Limit,
			"federate": sum.Federate, "neither": sum.Neither, "unknown": sum.Unknown} {
			require.Positive(t, w.Instances, "no instance in %s", name)
		}
		// Every instance of a day is in exactly one category.
		for _, ser := range view.OverTime {
			for _, p := range ser.Points {
				i := slices.IndexFunc(days, func(d observtest.Day) bool { return d.Date.Equal(p.Day) })
				require.Equal(t, int64(len(l.listers(i, stats.Query{IncludeFlagged: true}))), p.Total().Instances)
			}
		}
		def, err := s.Threads(ctx, stats.Query{}, nil)
		require.NoError(t, err)
		require.Equal(t, stats.DefaultWatchedDomains, def.Domains)
	})

	t.Run("link graphs", func(t *testing.T) {
		q := stats.Query{To: days[last-3].Date}
		g, err := s.TopLinks(ctx, q, 12)
		require.NoError(t, err)
		want := l.wantMostPeered(q, 12)
		require.Len(t, g.Nodes, len(want.Hosts))
		members := map[string]bool{}
		for k, h := range want.Hosts {
			require.Equal(t, stats.LinkNode{Host: h.Host, Software: h.Software, Accounts: h.Accounts, InDegree: h.InDegree,
				OutDegree: h.OutDegree}, g.Nodes[k])
			members[h.Host] = true
		}
		require.Equal(t, l.wantEdges(l.atIndex(q), q, members, ""), g.Edges)
		require.NotEmpty(t, g.Edges)
	})
}

// wantEdges are the links among members listed on day i by the listers
// of q (or by ego), sorted.
func (l *linkHistory) wantEdges(i int, q stats.Query, members map[string]bool, ego string) []stats.LinkEdge {
	out := []stats.LinkEdge{}
	from := l.listers(i, q)
	if ego != "" && !slices.ContainsFunc(from, func(in fedisim.InstanceTruth) bool { return in.Host == ego }) {
		if in, ok := l.h.Days[i].Census[ego]; ok {
			from = append(from, in)
		}
	}
	for _, in := range from {
		if !members[in.Host] {
			continue
		}
		for _, p := range peersOf(&in) {
			if members[p] {
				out = append(out, stats.LinkEdge{Source: in.Host, Target: p})
			}
		}
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].Source != out[b].Source {
			return out[a].Source < out[b].Source
		}
		return out[a].Target < out[b].Target
	})
	return out
}

// exactOnly is a store without link summaries: every in-degree is
// counted from the links, every Threads split from the day rows.
type exactOnly struct{ *store.Store }

func (exactOnly) LatestInDegreeDay(context.Context, bool) (time.Time, error) { return time.Time{}, nil }

func (exactOnly) InDegreeSummary(context.Context, time.Time, bool, int) (store.InDegreeSummary, bool, error) {
	return store.InDegreeSummary{}, false, nil
}

func (exactOnly) BlockSummary(context.Context, time.Time, bool, int) ([]store.BlockedCounts, []store.ReasonCounts, bool, error) {
	return nil, nil, false, nil
}

func (exactOnly) WatchSummaries(context.Context, string, store.DayFilter) ([]store.WatchCount, time.Time, bool, error) {
	return nil, time.Time{}, false, nil
}

func TestLinkStatisticsBounds(t *testing.T) {
	ctx := context.Background()
	s := stats.New(chtest.Store(t), stats.Options{})
	for _, n := range []int{0, -1, stats.MaxTop + 1} {
		_, err := s.MostPeered(ctx, stats.Query{}, n)
		require.ErrorIs(t, err, stats.ErrBadQuery, "most peered %d", n)
		_, err = s.MostBlocked(ctx, stats.Query{}, n)
		require.ErrorIs(t, err, stats.ErrBadQuery, "most blocked %d", n)
		_, err = s.BlockReasons(ctx, stats.Query{}, n)
		require.ErrorIs(t, err, stats.ErrBadQuery, "block reasons %d", n)
	}
	_, err := s.TopLinks(ctx, stats.Query{}, stats.MaxGraphNodes+1)
	require.ErrorIs(t, err, stats.ErrBadQuery)
	_, err = s.Threads(ctx, stats.Query{}, []string{"not a domain"})
	require.ErrorIs(t, err, stats.ErrBadQuery)
	many := make([]string, stats.MaxWatchedDomains+1)
	for i := range many {
		many[i] = fmt.Sprintf("d%d.example", i)
	}
	_, err = s.Threads(ctx, stats.Query{}, many)
	require.ErrorIs(t, err, stats.ErrBadQuery)
	_, err = s.Degrees(ctx, stats.Query{Interval: "year"})
	require.ErrorIs(t, err, stats.ErrBadQuery)

	// An empty store answers with empty, JSON-ready values.
	deg, err := s.Degrees(ctx, stats.Query{})
	require.NoError(t, err)
	require.Equal(t, []stats.DegreeBucket{}, deg.In.Histogram)
	mp, err := s.MostPeered(ctx, stats.Query{}, 10)
	require.NoError(t, err)
	require.Equal(t, []stats.PeeredHost{}, mp.Hosts)
	view, err := s.Threads(ctx, stats.Query{}, nil)
	require.NoError(t, err)
	require.Len(t, view.OverTime, 2)
	require.Equal(t, []stats.WatchPoint{}, view.OverTime[0].Points)
}

// TestThreadsSummariesAndLiveDays checks the Threads view over days rolled
// up (from the watch summaries) and days after them (from the day rows),
// against the same view computed from the day rows alone, and that a
// summary outdated by an opt-out is not used.
func TestThreadsSummariesAndLiveDays(t *testing.T) {
	ctx := context.Background()
	st := chtest.Store(t)
	day0 := time.Date(2026, 7, 6, 0, 0, 0, 0, time.UTC)
	n := func(v int64) *int64 { return &v }
	var snaps []model.Snapshot
	var blocks []model.Blocks
	var peers []model.Peers
	for d := range 4 {
		at := day0.AddDate(0, 0, d).Add(3 * time.Hour)
		for h, sw := range []string{"mastodon", "mastodon", "misskey", "pleroma", "mastodon"} {
			host := fmt.Sprintf("i%d.example", h)
			sn := model.Snapshot{Host: host, CrawledAt: at, Software: sw, UsersTotal: n(int64(10 * (h + 1))),
				UsersActiveMonth: n(int64(h)), Languages: []string{"en", []string{"de", "en"}[h%2]}}
			switch {
			case h == 0 || (h == 1 && d >= 2): // i1 suspends threads.net from day 2 on
				sev := model.SeveritySilence
				if h == 1 {
					sev = model.SeveritySuspend
				}
				sn.BlockCount = n(1)
				blocks = append(blocks, model.Blocks{Host: host, CrawledAt: at, Blocks: []model.DomainBlock{
					{Domain: "threads.net", Severity: sev, Reason: "Meta", Source: model.BlockSourceMastodon}}})
			case h == 3:
				sn.BlockCount = n(0)
				blocks = append(blocks, model.Blocks{Host: host, CrawledAt: at})
			}
			if h == 2 || h == 3 {
				sn.PeerCount = n(1)
				peers = append(peers, model.Peers{Host: host, CrawledAt: at, Peers: []string{"threads.net"}})
			}
			snaps = append(snaps, sn)
		}
	}
	require.NoError(t, st.InsertPeers(ctx, peers))
	require.NoError(t, st.InsertBlocks(ctx, blocks))
	require.NoError(t, st.InsertSnapshots(ctx, snaps))
	_, err := st.Rollup(ctx, day0.AddDate(0, 0, 2)) // days 0 and 1; 2 and 3 stay live
	require.NoError(t, err)

	s := stats.New(st, stats.Options{})
	exact := stats.New(exactOnly{st}, stats.Options{})
	for _, q := range []stats.Query{{}, {Software: []string{"mastodon"}}, {Language: "de"}, {From: day0.AddDate(0, 0, 1), Interval: stats.Week}} {
		want, err := exact.ThreadsOverTime(ctx, q, nil)
		require.NoError(t, err)
		got, err := s.ThreadsOverTime(ctx, q, nil)
		require.NoError(t, err)
		require.Equal(t, want, got, "%+v", q)
	}
	all, err := s.ThreadsOverTime(ctx, stats.Query{}, []string{"threads.net"})
	require.NoError(t, err)
	require.Len(t, all[0].Points, 4)
	for d, p := range all[0].Points {
		suspend := int64(0)
		if d >= 2 {
			suspend = 1
		}
		require.Equal(t, stats.WatchSplit{
			Suspend:  stats.Weighted{Instances: suspend, Accounts: 20 * suspend, ActiveMonth: suspend},
			Limit:    stats.Weighted{Instances: 1, Accounts: 10},
			Federate: stats.Weighted{Instances: 2, Accounts: 70, ActiveMonth: 5},
			Unknown:  stats.Weighted{Instances: 2 - suspend, Accounts: 70 - 20*suspend, ActiveMonth: 5 - suspend},
		}, p.WatchSplit, "day %d", d)
	}

	// An opt-out outdates the summaries: the answer comes from the day
	// rows, without the host, until Rollup writes them again.
	require.NoError(t, st.AddOptOut(ctx, model.OptOut{Host: "i0.example"}))
	_, _, ok, err := st.WatchSummaries(ctx, "threads.net", store.DayFilter{})
	require.NoError(t, err)
	require.False(t, ok)
	got, err := s.ThreadsOverTime(ctx, stats.Query{}, nil)
	require.NoError(t, err)
	require.Zero(t, got[0].Points[0].Limit.Instances)
	want, err := exact.ThreadsOverTime(ctx, stats.Query{}, nil)
	require.NoError(t, err)
	require.Equal(t, want, got)
	_, err = st.Rollup(ctx, day0.AddDate(0, 0, 2))
	require.NoError(t, err)
	_, _, ok, err = st.WatchSummaries(ctx, "threads.net", store.DayFilter{})
	require.NoError(t, err)
	require.True(t, ok)
	got, err = s.ThreadsOverTime(ctx, stats.Query{}, nil)
	require.NoError(t, err)
	require.Equal(t, want, got)
}
