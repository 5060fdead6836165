package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/fedilens/fedilens/bench/internal/benchenv"
	"github.com/fedilens/fedilens/bench/internal/benchmd"
)

// sectionTitle is the heading of the section the bench owns in
// BENCHMARKS.md; other sections are left alone.
const sectionTitle = "## Ingest"

// targetRatio is the target: end-to-end ingest at least this
// share of Bleve alone's posts per second.
const targetRatio = 0.80

// results is everything the report shows.
type results struct {
	Machine benchenv.Machine
	Command string
	Date    time.Time
	Config  config
	Crawl   crawlResult
	Alone   aloneResult
}

// Ratio is end-to-end posts per second (over the crawler's wall time)
// divided by Bleve alone's; 0 when either is unknown.
func (r results) Ratio() float64 {
	alone := r.Alone.DocsPerSec()
	if alone <= 0 {
		return 0
	}
	return rate(r.Crawl.Bleve, r.Crawl.Wall) / alone
}

// renderSection writes the Markdown section of the results.
func renderSection(res results) string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	n := func(v int) string { return benchmd.Thousands(float64(v)) }
	secs := func(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }
	m, c, a, cfg := res.Machine, res.Crawl, res.Alone, res.Config
	w("%s\n\n", sectionTitle)
	w("Written by `bench/ingest` (`make bench-ingest`) on %s. Reproduce with:\n\n", res.Date.Format("2006-01-02 15:04 MST"))
	w("```sh\n%s\n```\n\n", res.Command)
	w("Machine: %d CPUs (%s), %s memory, %s; %s; ClickHouse %s; fedilens %s.\n\n",
		m.CPUs, m.CPUModel, m.MemTotal, m.Kernel, m.GoVersion, m.ClickHouse, m.Revision)

	w("World: `fedisim.Options{Seed: %d, Instances: %s, PostScale: %d, NoHostile: true}`: %s posts in all, of which the ground truth "+
		"(`Truth.Posts`) says a correct crawl stores **%s** (public, of consenting authors, on instances whose posts are readable).\n\n",
		cfg.SimSeed, n(cfg.instances), cfg.postScale, n(c.SimPosts), n(c.Truth))
	w("End to end: `fedilens crawl --once --host-delay 0 --post-retention 0 --post-revalidate-after 0 --workers %d --max-in-flight %d` "+
		"(posts on) as a child process on a fresh database: fetch, consent, sanitise, Bleve and ClickHouse. "+
		"Bleve alone: `indexbench.BleveAlone` (the same mapping and `indexer.Document`s, batches of 1,000, one goroutine) "+
		"on exactly the posts the crawl stored, read back with `indexer.Index.Dump`, into a fresh directory.\n\n",
		cfg.Workers, cfg.MaxInFlight)

	w("| | |\n|---|---:|\n")
	for _, kv := range [][2]string{
		{"posts stored: Bleve (`Dump`)", n(c.Bleve)},
		{"posts stored: ClickHouse (distinct URIs)", n(c.ClickHouse)},
		{"ground truth (`len(Truth.Posts)`)", n(c.Truth)},
		{"crawler process wall time, start to exit", secs(c.Wall)},
		{"crawl pass (as the crawler printed it)", secs(c.Pass)},
		{"hosts visited", benchmd.Thousands(float64(c.Visited))},
		{"requests (simulator log)", n(c.Requests)},
		{"connections (TLS handshakes) served", n(c.Conns)},
		{"**end-to-end posts/s** (posts stored ÷ wall time)", benchmd.Thousands(rate(c.Bleve, c.Wall))},
		{"end-to-end posts/s over the pass time", benchmd.Thousands(rate(c.Bleve, c.Pass))},
		{"**Bleve alone posts/s**", benchmd.Thousands(a.DocsPerSec())},
		{"Bleve alone time", secs(a.Elapsed)},
		{"Bleve alone index on disk", fmt.Sprintf("%.0f MiB", float64(a.DiskBytes)/(1<<20))},
		{"**ratio end-to-end ÷ Bleve alone** (target ≥ 0.80)", fmt.Sprintf("%.2f", res.Ratio())},
		{"crawler peak RSS", fmt.Sprintf("%.0f MB", mb(c.HWM))},
		{"crawler RSS at its peak: anonymous", fmt.Sprintf("%.0f MB", mb(c.RSSAnon))},
		{"Bleve alone: bench process peak RSS", fmt.Sprintf("%.0f MB", mb(a.PeakRSS))},
		{"Bleve alone: bench process resident before (the dumped posts)", fmt.Sprintf("%.0f MB", mb(a.BaseRSS))},
		{"crawler CPU time: user", secs(c.User)},
		{"crawler CPU time: system", secs(c.System)},
		{"simulator CPU time during the crawl", secs(c.SimCPU)},
		{"simulator prerendering before the clock (wall)", prerenderText(c.Prerender)},
		{"ClickHouse CPU time during the crawl", cpuText(c.ClickHouseCPU)},
		{"Bleve alone CPU time", cpuText(a.CPU)},
		{"CPU time per 1,000 posts: end to end (crawler, simulator, ClickHouse)", perThousand(c.User+c.System+c.SimCPU+max(0, c.ClickHouseCPU), c.Bleve)},
		{"CPU time per 1,000 posts: Bleve alone", perThousand(a.CPU, c.Bleve)},
		{"load average before the crawl", fmt.Sprintf("%.1f", c.Load)},
	} {
		w("| %s | %s |\n", kv[0], kv[1])
	}
	ratio := res.Ratio()
	w("\n- Ingest end to end ran at **%.2f×** Bleve alone's posts per second (target ≥ %.2f): **%s**.\n",
		ratio, targetRatio, map[bool]string{true: "met", false: "missed"}[ratio >= targetRatio])
	w("- The stored posts equal the ground truth in Bleve and in ClickHouse (checked URI by URI; the run fails otherwise).\n\n")

	w("How it is measured: the simulator (`internal/fedisim`) runs in the bench process with every certificate issued\n")
	w("beforehand; the crawler is a child writing to a fresh database on the bench's ClickHouse; its wall time runs from\n")
	w("the start of the process to its exit (the end-to-end figure: it includes start-up, the pass, the crawl of every\n")
	w("host's NodeInfo and peers, which Bleve alone does not do, and the final flush); its peak RSS is its VmHWM read from\n")
	w("/proc every 100 ms. Bleve alone runs in the bench process after the simulator is released, its peak the\n")
	w("process's VmHWM after a reset (it includes the dumped posts, held in memory, and the resident set before).\n")
	w("Both runs are bound by CPU on this machine: the end-to-end run shares its cores with the simulator, which plays\n")
	w("every remote server, so its posts per second follow the CPU time per 1,000 posts of all three processes.\n")
	w("The simulator stands for remote servers, whose CPU is not the crawler's; with -prerender (the default) it renders\n")
	w("every Mastodon API Status and Account before the clock starts, as a remote server has its pages before anyone\n")
	w("asks, and serves those bytes (the same bytes it renders cold: internal/fedisim TestPrerenderServesTheSameBytes).\n")
	w("Its remaining CPU time during the crawl (HTTP, TLS, the other programs' APIs) still counts against the crawl.\n")
	w("`-prerender=false` measures with a cold simulator.\n")
	return b.String()
}

// perThousand is CPU time d per 1,000 of n posts.
func perThousand(d time.Duration, n int) string {
	if d < 0 || n == 0 {
		return "unknown"
	}
	return fmt.Sprintf("%.2f s", d.Seconds()*1000/float64(n))
}

func cpuText(d time.Duration) string {
	if d < 0 {
		return "unknown"
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

func prerenderText(d time.Duration) string {
	if d == 0 {
		return "off (-prerender=false)"
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}
