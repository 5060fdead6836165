package main

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/bench/internal/benchenv"
	"github.com/fedilens/fedilens/bench/internal/benchmd"
	"github.com/fedilens/fedilens/indexer/indexbench"
)

func TestParseConfig(t *testing.T) {
	c, err := parseConfig(nil, io.Discard)
	require.NoError(t, err)
	require.Equal(t, []int{3_000, 32, 256, 64}, []int{c.instances, c.postScale, c.Workers, c.MaxInFlight})

	c, err = parseConfig([]string{"-quick"}, io.Discard)
	require.NoError(t, err)
	require.Equal(t, []int{300, 4}, []int{c.instances, c.postScale})

	c, err = parseConfig([]string{"-quick", "-post-scale", "2", "-sim-seed", "7"}, io.Discard)
	require.NoError(t, err)
	require.Equal(t, []int{300, 2}, []int{c.instances, c.postScale}, "explicit flags win over -quick")
	require.Equal(t, int64(7), c.SimSeed)

	for _, bad := range [][]string{{"-instances", "2"}, {"-post-scale", "0"}, {"-workers", "0"}, {"-max-in-flight", "0"}, {"extra"}, {"-nope"}} {
		_, err := parseConfig(bad, io.Discard)
		require.Error(t, err, "%v", bad)
	}
}

func TestCrawlArgs(t *testing.T) {
	c, err := parseConfig([]string{"-workers", "8", "-max-in-flight", "4"}, io.Discard)
	require.NoError(t, err)
	require.Equal(t, []string{"crawl", "--once", "--data", "/d", "--clickhouse", "clickhouse://h:9000/db", "--log-level", "warn",
		"--workers", "8", "--max-in-flight", "4", "--host-delay", "0", "--post-retention", "0", "--post-revalidate-after", "0", "--posts=true"},
		crawlArgs(c, "/d", "clickhouse://h:9000/db"))
}

func TestDiff(t *testing.T) {
	want := map[string]bool{"a": true, "b": true, "c": true}
	missing, extra, ex := diff(want, []string{"c", "a", "b", "a"})
	require.Zero(t, missing+extra)
	require.Empty(t, ex)
	missing, extra, ex = diff(want, []string{"a", "x", "y"})
	require.Equal(t, []int{2, 2}, []int{missing, extra})
	require.Equal(t, "first missing [b c], first extra [x y]", ex)
}

func TestRenderSection(t *testing.T) {
	c, err := parseConfig([]string{"-quick", "-out", "BENCHMARKS.md"}, io.Discard)
	require.NoError(t, err)
	res := results{
		Machine: benchenv.Machine{CPUs: 2, CPUModel: "Test CPU", MemTotal: "4.0 GiB", Kernel: "Linux 6", GoVersion: "go1.26", ClickHouse: "18.16.1", Revision: "abc"},
		Command: benchenv.CommandLine("./bench/ingest", []string{"-quick", "-out", "BENCHMARKS.md"}),
		Date:    time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC),
		Config:  c,
		Crawl: crawlResult{Wall: 10 * time.Second, PassSummary: benchenv.PassSummary{Visited: 310, Pass: 8 * time.Second},
			ChildSample: benchenv.ChildSample{HWM: 250e6, RSSAnon: 200e6}, User: 9 * time.Second, System: 2 * time.Second,
			SimCPU: 3 * time.Second, ClickHouseCPU: -1, Requests: 12_345, Conns: 400, Truth: 20_000, SimPosts: 50_000,
			ClickHouse: 20_000, ClickHouseCount: 20_000, Bleve: 20_000},
		Alone: aloneResult{Result: indexbench.Result{Docs: 20_000, Elapsed: 8 * time.Second, DiskBytes: 30 << 20}, BaseRSS: 100e6, PeakRSS: 300e6},
	}
	require.InDelta(t, 0.8, res.Ratio(), 1e-9) // 2,000/s ÷ 2,500/s
	s := renderSection(res)
	require.True(t, strings.HasPrefix(s, "## Ingest\n\n"))
	for _, want := range []string{
		"go run ./bench/ingest -quick -out BENCHMARKS.md",
		"Machine: 2 CPUs (Test CPU), 4.0 GiB memory, Linux 6; go1.26; ClickHouse 18.16.1; fedilens abc.",
		"Instances: 300, PostScale: 4, NoHostile: true}`: 50,000 posts",
		"stores **20,000**",
		"| **end-to-end posts/s** (posts stored ÷ wall time) | 2,000 |",
		"| end-to-end posts/s over the pass time | 2,500 |",
		"| **Bleve alone posts/s** | 2,500 |",
		"| **ratio end-to-end ÷ Bleve alone** (target ≥ 0.80) | 0.80 |",
		"| requests (simulator log) | 12,345 |",
		"| crawler peak RSS | 250 MB |",
		"| crawler CPU time: user | 9.0 s |",
		"| crawler CPU time: system | 2.0 s |",
		"| ClickHouse CPU time during the crawl | unknown |",
		"| Bleve alone index on disk | 30 MiB |",
		"(target ≥ 0.80): **met**",
	} {
		require.Contains(t, s, want)
	}
	res.Alone.Elapsed = 4 * time.Second
	require.Contains(t, renderSection(res), "**0.40×** Bleve alone's posts per second (target ≥ 0.80): **missed**")
	res.Alone = aloneResult{}
	require.Zero(t, res.Ratio())

	// The section replaces only its own in BENCHMARKS.md.
	doc := "# Benchmarks\n\n## Census\n\nc\n\n## Ingest\n\nold\n\n## Search\n\ns\n"
	got := benchmd.ReplaceSection(doc, sectionTitle, "## Ingest\n\nnew\n")
	require.Equal(t, "# Benchmarks\n\n## Census\n\nc\n\n## Ingest\n\nnew\n\n## Search\n\ns\n", got)
}
