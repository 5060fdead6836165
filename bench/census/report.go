package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fedilens/fedilens/bench/internal/benchenv"
	"github.com/fedilens/fedilens/bench/internal/benchmd"
)

// sectionTitle is the heading of the section the bench owns in
// BENCHMARKS.md; other sections are left alone.
const sectionTitle = "## Census"

// Targets from the issue.
const (
	targetRatio       = 0.5
	targetRSSBytes    = 500e6
	targetRSSHostsMin = 40_000
)

// machine describes where the figures were measured.
type machine struct {
	benchenv.Machine
	// Open-file limits of the crawler process and of the bench process
	// (simulator and plain loop).
	CrawlerNofile, SimNofile uint64
}

// median of vs (the mean of the middle two for an even count); 0 for none.
func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := append([]float64(nil), vs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// row is one line of the runs table: a value per run, and its median.
type row struct {
	name   string
	format func(float64) string
	value  func(r runResult) float64
}

func fixed(decimals int) func(float64) string {
	return func(v float64) string { return strconv.FormatFloat(v, 'f', decimals, 64) }
}

var runRows = []row{
	{"crawler process wall time (s)", fixed(1), func(r runResult) float64 { return r.Crawl.Wall.Seconds() }},
	{"crawl pass (s)", fixed(1), func(r runResult) float64 { return r.Crawl.Pass.Seconds() }},
	{"hosts visited", benchmd.Thousands, func(r runResult) float64 { return float64(r.Crawl.Visited) }},
	{"**hosts visited/s** (pass)", benchmd.Thousands, func(r runResult) float64 { return rate(int(r.Crawl.Visited), r.Crawl.Pass) }},
	{"distinct hosts requested", benchmd.Thousands, func(r runResult) float64 { return float64(r.Crawl.Hosts) }},
	{"hosts requested/s (pass)", benchmd.Thousands, func(r runResult) float64 { return rate(r.Crawl.Hosts, r.Crawl.Pass) }},
	{"requests (simulator log)", benchmd.Thousands, func(r runResult) float64 { return float64(r.Crawl.Requests) }},
	{"**crawler req/s**", benchmd.Thousands, func(r runResult) float64 { return rate(r.Crawl.Requests, r.Crawl.Span) }},
	{"**plain net/http loop req/s**", benchmd.Thousands, func(r runResult) float64 { return rate(r.Plain.Requests, r.Plain.Span) }},
	{"**ratio crawler ÷ plain** (target ≥ 0.5)", fixed(2), func(r runResult) float64 { return r.Ratio }},
	{"crawler: median req/s over whole seconds", benchmd.Thousands, func(r runResult) float64 { return r.Crawl.Shape.MedianPerSecond }},
	{"plain loop: median req/s over whole seconds", benchmd.Thousands, func(r runResult) float64 { return r.Plain.Shape.MedianPerSecond }},
	{"crawler: time to start the last 5% of requests (s)", fixed(1), func(r runResult) float64 { return r.Crawl.Shape.Tail.Seconds() }},
	{"**crawler peak RSS (MB)**", benchmd.Thousands, func(r runResult) float64 { return mb(r.Crawl.MaxRSS) }},
	{"crawler RSS at its peak: anonymous (MB)", benchmd.Thousands, func(r runResult) float64 { return mb(r.Crawl.RSSAnon) }},
	{"crawler threads at its RSS peak", benchmd.Thousands, func(r runResult) float64 { return float64(r.Crawl.Threads) }},
	{"crawler peak open files", benchmd.Thousands, func(r runResult) float64 { return float64(r.Crawl.PeakFDs) }},
	{"simulator (bench process) peak open files", benchmd.Thousands, func(r runResult) float64 { return float64(r.Crawl.SimPeakFDs) }},
	{"crawler CPU time (s)", fixed(1), func(r runResult) float64 { return r.Crawl.CPU.Seconds() }},
	{"crawler CPU per request (ms)", fixed(2), func(r runResult) float64 {
		if r.Crawl.Requests == 0 {
			return 0
		}
		return float64(r.Crawl.CPU.Microseconds()) / 1000 / float64(r.Crawl.Requests)
	}},
	{"simulator CPU during the crawl (s)", fixed(1), func(r runResult) float64 { return r.Crawl.SimCPU.Seconds() }},
	{"ClickHouse CPU during the crawl (s)", fixed(1), func(r runResult) float64 { return r.Crawl.ClickHouseCPU.Seconds() }},
	{"simulator + plain loop CPU during the plain loop (s)", fixed(1), func(r runResult) float64 { return r.Plain.CPU.Seconds() }},
	{"plain loop: requests logged", benchmd.Thousands, func(r runResult) float64 { return float64(r.Plain.Requests) }},
	{"connections (TLS handshakes) the simulator served the crawler", benchmd.Thousands, func(r runResult) float64 { return float64(r.Crawl.Conns) }},
	{"connections (TLS handshakes) the simulator served the plain loop", benchmd.Thousands, func(r runResult) float64 { return float64(r.Plain.Conns) }},
	{"plain loop: transport errors", benchmd.Thousands, func(r runResult) float64 { return float64(r.Plain.Errors) }},
	{"answers differing, crawler vs plain", benchmd.Thousands, func(r runResult) float64 { return float64(r.StatusDiff) }},
	{"load average before the crawl", fixed(1), func(r runResult) float64 { return r.Crawl.Load }},
	{"load average before the plain loop", fixed(1), func(r runResult) float64 { return r.Plain.Load }},
	{"instances stored", benchmd.Thousands, func(r runResult) float64 { return float64(r.Crawl.Stored) }},
	{"census missing + extra vs truth", benchmd.Thousands, func(r runResult) float64 { return float64(r.Crawl.Missing + r.Crawl.Extra) }},
}

// renderSection writes the Markdown section of the results.
func renderSection(res results) string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	m := res.Machine
	w("%s\n\n", sectionTitle)
	w("Written by `bench/census` (`make bench-census`) on %s. Reproduce with:\n\n", res.Date.Format("2006-01-02 15:04 MST"))
	w("```sh\n%s\n```\n\n", res.Command)
	w("Machine: %d CPUs (%s), %s memory, %s; %s; ClickHouse %s; fedilens %s.\n",
		m.CPUs, m.CPUModel, m.MemTotal, m.Kernel, m.GoVersion, m.ClickHouse, m.Revision)
	w("Open-file limit: %s for the crawler, %s for the simulator and the plain loop.\n\n",
		benchmd.Thousands(float64(m.CrawlerNofile)), benchmd.Thousands(float64(m.SimNofile)))

	runs := res.Runs
	if len(runs) > 0 {
		w("### Throughput: %s simulated instances, per-host delay 0, %d run(s)\n\n", benchmd.Thousands(float64(res.Config.instances)), len(runs))
		w("`fedilens crawl --once --host-delay 0 --workers %d --max-in-flight %d --post-retention 0` against the simulator (posts included), then a plain\n", res.Config.Workers, res.Config.MaxInFlight)
		w("net/http loop (%d goroutines) replaying the requests the simulator logged for that crawl.\n\n", res.Config.MaxInFlight)
		w("| |")
		for i := range runs {
			w(" run %d |", i+1)
		}
		w(" median |\n|---|")
		for range runs {
			w("---:|")
		}
		w("---:|\n")
		for _, rw := range runRows {
			vals := make([]float64, len(runs))
			w("| %s |", rw.name)
			for i, r := range runs {
				vals[i] = rw.value(r)
				w(" %s |", rw.format(vals[i]))
			}
			w(" %s |\n", rw.format(median(vals)))
		}
		w("\n")
		ratio := median(valuesOf(runs, func(r runResult) float64 { return r.Ratio }))
		rss := median(valuesOf(runs, func(r runResult) float64 { return float64(r.Crawl.MaxRSS) }))
		w("- Requests per second: the crawler did **%.2f×** the plain loop's rate (median of per-run ratios; target ≥ %.1f): **%s**.\n",
			ratio, targetRatio, verdict(ratio >= targetRatio))
		if res.Config.instances >= targetRSSHostsMin {
			w("- Memory: the crawler's peak RSS for a %s-instance census was **%.0f MB** (median; target < %.0f MB): **%s**.\n",
				benchmd.Thousands(float64(res.Config.instances)), rss/1e6, targetRSSBytes/1e6, verdict(rss < targetRSSBytes))
		} else {
			w("- Memory: %.0f MB peak RSS (median) for %s instances; the %s-instance target needs `-instances %d` or more.\n",
				rss/1e6, benchmd.Thousands(float64(res.Config.instances)), benchmd.Thousands(targetRSSHostsMin), targetRSSHostsMin)
		}
		w("\n")
	}

	if d := res.Delay; d != nil {
		c := d.Crawl
		w("### Census: %s simulated instances, default 1 s per-host delay\n\n", benchmd.Thousands(float64(d.Instances)))
		w("`fedilens crawl --once --workers %d --max-in-flight %d --post-retention 0` (no --host-delay: the default 1 s; posts included), one run.\n\n",
			res.Config.Workers, res.Config.MaxInFlight)
		w("| | |\n|---|---:|\n")
		for _, kv := range [][2]string{
			{"crawler process wall time", c.Wall.Round(100 * time.Millisecond).String()},
			{"crawl pass", c.Pass.Round(100 * time.Millisecond).String()},
			{"hosts visited", benchmd.Thousands(float64(c.Visited))},
			{"hosts visited/s (pass)", fixed(1)(rate(int(c.Visited), c.Pass))},
			{"distinct hosts requested", benchmd.Thousands(float64(c.Hosts))},
			{"requests (simulator log)", benchmd.Thousands(float64(c.Requests))},
			{"req/s", fixed(1)(rate(c.Requests, c.Span))},
			{"time to start the last 5% of requests", c.Shape.Tail.Round(100 * time.Millisecond).String()},
			{"smallest gap between two requests to one host", gapText(c.MinGap)},
			{"crawler peak RSS", fmt.Sprintf("%.0f MB", mb(c.MaxRSS))},
			{"crawler RSS at its peak: anonymous", fmt.Sprintf("%.0f MB", mb(c.RSSAnon))},
			{"crawler RSS peak reached after", c.PeakAt.Round(time.Second).String()},
			{"crawler peak open files", benchmd.Thousands(float64(c.PeakFDs))},
			{"connections (TLS handshakes) served", benchmd.Thousands(float64(c.Conns))},
			{"crawler CPU time", c.CPU.Round(100 * time.Millisecond).String()},
			{"simulator CPU time during the crawl", c.SimCPU.Round(100 * time.Millisecond).String()},
			{"ClickHouse CPU time during the crawl", c.ClickHouseCPU.Round(100 * time.Millisecond).String()},
			{"load average before the crawl", fixed(1)(c.Load)},
			{"instances stored", benchmd.Thousands(float64(c.Stored))},
			{"ground truth, len(Truth.Census)", benchmd.Thousands(float64(c.Want))},
			{"missing + extra vs truth", benchmd.Thousands(float64(c.Missing + c.Extra))},
		} {
			w("| %s | %s |\n", kv[0], kv[1])
		}
		w("\n- The stored census %s the simulator's ground truth.\n\n",
			map[bool]string{true: "**equals**", false: "**differs from**"}[c.Missing+c.Extra == 0 && c.Stored == c.Want])
	}

	if res.DelayFailed != "" {
		w("### Census: %s simulated instances, default 1 s per-host delay\n\n", benchmd.Thousands(float64(res.Config.delayInstances)))
		w("**Failed:** `%s`\n\n", strings.ReplaceAll(strings.Join(strings.Fields(res.DelayFailed), " "), "`", "'"))
	}

	w("How it is measured: the simulator (`internal/fedisim`) runs in the bench process; the crawler is a child\n")
	w("process writing to a fresh database on one shared ClickHouse; its peak RSS is its own VmHWM, read from /proc\n")
	w("every 100 ms (not rusage's maxrss, which for a child Go starts with vfork includes the parent's, here the\n")
	w("simulator's, high-water mark).\n")
	w("Requests per second, for the crawler and the plain loop alike, are the simulator's logged requests divided by\n")
	w("the time from the first request's arrival to the last response's end. The plain loop replays every logged\n")
	w("request (Misskey peer pages as POSTs with their bodies; refused handshakes as GETs): %d goroutines each take\n", res.Config.MaxInFlight)
	w("the next host and send its requests in order on a kept-alive connection (%s), with the simulator's CA and\n",
		map[bool]string{true: "HTTP/2", false: "HTTP/1.1, as the crawler's client"}[res.Config.plainHTTP2])
	w("every host dialled at the simulator's address, reading bodies fully, with no gap, no Retry-After wait and no\n")
	w("parsing. Certificates are issued before the first run. Medians are over the runs of this one invocation.\n")
	return b.String()
}

func valuesOf(runs []runResult, f func(runResult) float64) []float64 {
	out := make([]float64, len(runs))
	for i, r := range runs {
		out[i] = f(r)
	}
	return out
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "missed"
}

func gapText(d time.Duration) string {
	if d < 0 {
		return "n/a"
	}
	return d.Round(time.Millisecond).String()
}
