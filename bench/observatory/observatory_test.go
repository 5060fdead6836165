package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/bench/internal/benchenv"
	"github.com/fedilens/fedilens/internal/chtest"
	"github.com/fedilens/fedilens/internal/store"
)

func TestMain(m *testing.M) { os.Exit(chtest.Main(m)) }

func TestParseConfig(t *testing.T) {
	c, err := parseConfig(nil, io.Discard)
	require.NoError(t, err)
	require.Equal(t, []int{50_000, 365, 9, 3, 400, 10}, []int{c.instances, c.days, c.runs, c.beforeRuns, c.peerMedian, c.bigPeers})
	require.True(t, c.links)

	c, err = parseConfig([]string{"-quick", "-days", "20"}, io.Discard)
	require.NoError(t, err)
	require.Equal(t, []int{2_000, 20, 3, 1}, []int{c.instances, c.days, c.runs, c.beforeRuns}, "explicit flags win over -quick")

	for _, bad := range [][]string{{"-instances", "99"}, {"-days", "9"}, {"-runs", "0"}, {"-before-runs", "-1"},
		{"-peer-median", "0"}, {"extra"}, {"-nope"}} {
		_, err := parseConfig(bad, io.Discard)
		require.Error(t, err, "%v", bad)
	}
}

func TestMarkdown(t *testing.T) {
	c, err := parseConfig([]string{"-quick"}, io.Discard)
	require.NoError(t, err)
	r := results{
		Config:  c,
		Machine: benchenv.Machine{CPUs: 2, CPUModel: "Test CPU", MemTotal: "4.0 GiB", Kernel: "Linux 6", GoVersion: "go1.26", ClickHouse: "18.16.1", Revision: "abc"},
		Date:    time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC),
		Command: benchenv.CommandLine("./bench/observatory", []string{"-quick"}),
		Rollups: []rollupResult{{Name: "all", Days: 58, Rows: 100_000, Wall: 11 * time.Second,
			Agg: store.AggregateStats{Days: 58, RunsRebuilt: true, Took: 2 * time.Second}}},
		Snapshots: 104_686,
		Stats: []statTiming{
			{Name: "totals over time, by day", Variant: "all instances", Points: 60, Agg: 12 * time.Millisecond,
				Min: 8 * time.Millisecond, Max: 20 * time.Millisecond, Aggregated: true, OverTime: true, Before: 900 * time.Millisecond},
			{Name: "languages", Variant: "all instances", Points: 15, Agg: 250 * time.Millisecond, Min: 240 * time.Millisecond,
				Max: 300 * time.Millisecond},
		},
		Overview: 150 * time.Millisecond, OverviewBytes: 23_000, OverviewRuns: 3,
		Sizes: []tableSize{{Table: "snapshots", Rows: 1000, Compressed: 22_700}, {Table: "daily", Rows: 1000, Compressed: 29_000},
			{Table: "peer_events", Rows: 100, Compressed: 880}},
	}
	md := r.markdown()
	require.True(t, strings.HasPrefix(md, "## Observatory\n\n"))
	for _, want := range []string{
		"go run ./bench/observatory -quick",
		"**104,686 snapshots**",
		"| all | 58 | 100,000 | 11.0 | 2.0 | 58 days' groups; runs rebuilt |",
		"| totals over time, by day | all instances | 60 | **12** | 8.0 | 20 | aggregates | 900 |",
		"| languages | all instances | 15 | **250** | 240 | 300 | one day's rows | – |",
		"Slowest statistic: languages (all instances), median 250 ms; every statistic under 200 ms: **not met**.",
		"median of 3 runs **150 ms**, slowest – ms; target < 200 ms: met.",
		"**Bytes per snapshot row: 22.7** (snapshots); the daily rollup and the aggregates add 29.0 bytes per snapshot.",
		"**Bytes per link: 8.8**",
	} {
		require.Contains(t, md, want)
	}
}

// TestRunSmall runs the whole bench on a tiny census against the test
// server: the generating SQL, the rollups, every statistic (from the
// aggregates) and the report.
func TestRunSmall(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out bytes.Buffer
	err := run(ctx, []string{"-instances", "150", "-days", "12", "-runs", "1", "-before-runs", "1", "-peer-median", "5",
		"-big-peers", "1", "-clickhouse", chtest.Addr()}, &out, io.Discard)
	require.NoError(t, err)
	md := out.String()
	require.Contains(t, md, "## Observatory")
	require.Contains(t, md, "| the day before today alone (the daily case) | 1 |")
	require.Contains(t, md, "runs extended by 1 days")
	require.Contains(t, md, "| growth: new, dead, returning | all instances |")
	require.NotContains(t, md, "**day rows**", "every statistic over time read the aggregates")
	require.Contains(t, md, "| peer_events |")
	require.Contains(t, md, "**Bytes per link:")
	for _, row := range []string{"| most-blocked domains (20) | all instances |", "| Threads view over time | all instances |",
		"| federation graph, top 100, laid out | all instances |", "| `/` |", "| `/blocks` |", "| `/graph` |"} {
		require.Contains(t, md, row)
	}
}
