package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/fedilens/fedilens/bench/internal/benchenv"
	"github.com/fedilens/fedilens/bench/internal/benchmd"
)

// sectionTitle is the heading of the section this bench owns in
// BENCHMARKS.md; other sections are left alone.
const sectionTitle = "## Observatory"

// target is the bound on every statistic and on the overview
// page's server time.
const target = 200 * time.Millisecond

// results is everything one run measured.
type results struct {
	Config  config
	Machine benchenv.Machine
	Date    time.Time
	Command string

	Generate                                           time.Duration
	Snapshots, Hosts, SuspectSnapshots, TodaySnapshots uint64

	Rollups     []rollupResult
	HistoryHost string
	Stats       []statTiming
	// LoadBefore and LoadAfter are the 1-minute load averages around the
	// statistics: the machine is shared.
	LoadBefore, LoadAfter float64

	Overview, OverviewMax time.Duration
	OverviewBytes         int
	OverviewRuns          int
	// Pages are every dashboard page timed, the overview first.
	Pages []pageTiming

	Links time.Duration
	Sizes []tableSize
}

// worst is the slowest statistic as served (median).
func (r results) worst() (statTiming, bool) {
	var w statTiming
	for _, s := range r.Stats {
		if s.Agg > w.Agg {
			w = s
		}
	}
	return w, len(r.Stats) > 0
}

func ms(d time.Duration) string {
	switch {
	case d == 0:
		return "–"
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond))
	}
	return benchmd.Thousands(float64(d) / float64(time.Millisecond))
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.1f", d.Seconds()) }

func (r results) size(table string) (tableSize, bool) {
	for _, t := range r.Sizes {
		if t.Table == table {
			return t, true
		}
	}
	return tableSize{}, false
}

func perRow(bytes, rows uint64) string {
	if rows == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f", float64(bytes)/float64(rows))
}

func (r results) markdown() string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	c := r.Config
	w("%s\n\n", sectionTitle)
	w("Written by `bench/observatory` on %s. Reproduce with:\n\n", r.Date.Format("2006-01-02 15:04 MST"))
	w("```sh\n%s\n```\n\n", r.Command)
	m := r.Machine
	w("Machine: %d CPUs (%s), %s memory, %s; %s; ClickHouse %s; fedilens %s. The machine is shared: figures are medians.\n\n",
		m.CPUs, m.CPUModel, m.MemTotal, m.Kernel, m.GoVersion, m.ClickHouse, m.Revision)
	w("Census: %s instances over %d days (the last one today, not rolled up: read live), generated straight into "+
		"ClickHouse with `INSERT ... SELECT` from `numbers()` (seed %d; `bench/observatory/generate.go`: a software mix, "+
		"versions that upgrade, 15%% born during the period, 10%% dying and 40%% of those coming back, 8%% missing a "+
		"tenth of the days, languages, registrations, 0.6%% with suspect figures for 20 days): **%s snapshots** of %s hosts "+
		"(%s of them suspect; %s today), generated in %s s.\n\n",
		benchmd.Thousands(float64(c.instances)), c.days, c.seed, benchmd.Thousands(float64(r.Snapshots)),
		benchmd.Thousands(float64(r.Hosts)), benchmd.Thousands(float64(r.SuspectSnapshots)),
		benchmd.Thousands(float64(r.TodaySnapshots)), seconds(r.Generate))

	w("### Rollup\n\n")
	w("`Store.Rollup` as `fedilens run` calls it: the daily rows, then the per-day aggregates (`SyncAggregates`).\n\n")
	w("| rollup | days | daily rows | wall time (s) | of which aggregates (s) | aggregate work |\n|---|---:|---:|---:|---:|---|\n")
	for _, ro := range r.Rollups {
		work := fmt.Sprintf("%d days' groups", ro.Agg.Days)
		switch {
		case ro.Agg.RunsRebuilt:
			work += "; runs rebuilt"
		case ro.Agg.RunDays > 0:
			work += fmt.Sprintf("; runs extended by %d days", ro.Agg.RunDays)
		}
		w("| %s | %d | %s | %s | %s | %s |\n", ro.Name, ro.Days, benchmd.Thousands(float64(ro.Rows)), seconds(ro.Wall),
			seconds(ro.Agg.Took), work)
	}

	w("\n### Statistics: median of %d runs (target < %d ms)\n\n", c.runs, target.Milliseconds())
	w("Every statistic of `internal/stats` through `stats.New(store)`: a warm-up round, then %d rounds that each run every "+
		"statistic once, so that a burst of load on the shared machine spreads over all of them. Statistics over time read "+
		"the per-day aggregates for the rolled-up days and today's snapshots live; \"day rows\" is the same statistic with "+
		"`stats.Options.DayRowsOnly` (median of %d runs), the path every statistic took before the aggregates and the one "+
		"a query the aggregates cannot answer exactly (CarryDays > 1, a day not aggregated yet) still takes. The history is "+
		"of `%s`. Load average (1 minute, 2 cores) %.1f before the statistics, %.1f after.\n\n", c.runs, c.beforeRuns,
		r.HistoryHost, r.LoadBefore, r.LoadAfter)
	w("| statistic | query | points | **median (ms)** | fastest (ms) | slowest (ms) | read from | day rows (ms) |\n" +
		"|---|---|---:|---:|---:|---:|---|---:|\n")
	for _, s := range r.Stats {
		from := "one day's rows"
		switch {
		case s.From != "":
			from = s.From
		case s.Name == "one instance's history":
			from = "the host's snapshots"
		case s.OverTime && s.Aggregated:
			from = "aggregates"
		case s.OverTime:
			from = "**day rows**"
		}
		w("| %s | %s | %d | **%s** | %s | %s | %s | %s |\n", s.Name, s.Variant, s.Points, ms(s.Agg), ms(s.Min), ms(s.Max), from,
			ms(s.Before))
	}
	if ws, ok := r.worst(); ok {
		verdict := "**met**"
		if ws.Agg >= target {
			verdict = "**not met**"
		}
		w("\nSlowest statistic: %s (%s), median %s ms; every statistic under %d ms: %s.\n", ws.Name, ws.Variant, ms(ws.Agg),
			target.Milliseconds(), verdict)
	}
	w("\nThe queries \"up to yesterday\" stop at the last day rolled up and read no live day: the difference to \"all " +
		"instances\" is the cost of reading today's snapshots (`DayRows`' live part, a scan of the month's partition of " +
		"`snapshots`), which every statistic pays, at a date or over time.\n")

	w("\n### Overview page\n\n")
	verdict := "met"
	if r.Overview >= target {
		verdict = "not met"
	}
	w("`GET /` of `dashboard.New` over the store, through `httptest` (server time, %s KB of HTML): median of %d runs "+
		"**%s ms**, slowest %s ms; target < %d ms: %s. This is the overview page of the tree measured; rerun the bench "+
		"after changing it.\n", benchmd.Thousands(float64(r.OverviewBytes)/1000), r.OverviewRuns, ms(r.Overview),
		ms(r.OverviewMax), target.Milliseconds(), verdict)
	if len(r.Pages) > 1 {
		w("\nEvery page timed the same way (a first request warms up; the graph pages' layout is then served from " +
			"`internal/graph`'s cache, as in `fedilens serve`):\n\n| page | HTML (KB) | runs | **median (ms)** | slowest (ms) |\n|---|---:|---:|---:|---:|\n")
		for _, p := range r.Pages {
			w("| `%s` | %s | %d | **%s** | %s |\n", p.Path, benchmd.Thousands(float64(p.Bytes)/1000), p.Runs, ms(p.Median), ms(p.Max))
		}
	}

	w("\n### Storage\n\n")
	if c.links {
		w("Links generated with the census (in %s s): every instance that publishes its peers (80%%) has a log-normal "+
			"number of them (median %d, sigma 1.3, at most 100,000; %d instances with 100,000), among %s names; "+
			"each link is one `peer_events` row when first seen and, for 8%%, a second when it went away; 25%% of the "+
			"instances publish domain blocks (log-normal, median 30), with a SHA-256-long digest and a reason from a "+
			"short list.\n\n", seconds(r.Links), c.peerMedian, c.bigPeers, benchmd.Thousands(float64(4*c.instances)))
	}
	w("Active parts from `system.parts`.\n\n")
	w("| table | rows | compressed (MB) | bytes per row | uncompressed bytes per row |\n|---|---:|---:|---:|---:|\n")
	for _, t := range r.Sizes {
		w("| %s | %s | %.1f | %s | %s |\n", t.Table, benchmd.Thousands(float64(t.Rows)), float64(t.Compressed)/1e6,
			perRow(t.Compressed, t.Rows), perRow(t.Uncompressed, t.Rows))
	}
	snaps, ok := r.size("snapshots")
	if ok && snaps.Rows > 0 {
		var derived uint64
		for _, name := range []string{"daily", "daily_agg", "daily_agg_versions", "host_runs"} {
			if t, ok := r.size(name); ok {
				derived += t.Compressed
			}
		}
		w("\n- **Bytes per snapshot row: %s** (snapshots); the daily rollup and the aggregates add %s bytes per snapshot.\n",
			perRow(snaps.Compressed, snaps.Rows), perRow(derived, snaps.Rows))
	}
	if pe, ok := r.size("peer_events"); ok && pe.Rows > 0 {
		w("- **Bytes per link: %s** (a `peer_events` row: two host ids, a time, a flag)", perRow(pe.Compressed, pe.Rows))
		if be, ok := r.size("block_events"); ok && be.Rows > 0 {
			w("; %s per domain block (`block_events`: domain, digest, severity, reason)", perRow(be.Compressed, be.Rows))
		}
		w(".\n")
	}
	return b.String()
}
