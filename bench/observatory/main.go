// Command observatory benchmarks the observatory's statistics at the
// scale of the real fediverse and records the figures in BENCHMARKS.md
// (issue 5: "bench/ reports the overview page's server time and each
// statistic's query time with 50,000 instances and 365 days of daily
// snapshots in ClickHouse; target under 200 ms for each").
//
// In one run it:
//
//  1. starts a ClickHouse (or takes -clickhouse) and opens a fresh
//     database through internal/store, which creates the schema;
//  2. generates -instances instances over -days days of snapshots
//     straight into ClickHouse with INSERT ... SELECT from numbers()
//     (generate.go: a software mix, versions that upgrade, births, deaths
//     and returns, hosts that miss days, languages, registrations, a few
//     suspect figures), the last day being today, and instances_latest;
//  3. generates peer and domain-block events at scale (a log-normal peer
//     count per instance, a few instances with 100,000 peers, blocks of
//     threads.net and bsky.brid.gy for the Threads view), unless
//     -links=false;
//  4. runs the real Store.Rollup over every day but the last two (which
//     also summarises the links of the latest days), then over the day
//     before today alone (the daily case), then after a late snapshot for
//     an old day and for the last day rolled up (the redo cases), timing
//     each, with the aggregates' share;
//  5. times every statistic of internal/stats (median of -runs runs),
//     with the default query and with a software and language filter,
//     from the per-day aggregates and, for comparison, from the day rows
//     (the path every statistic took before the aggregates), one
//     instance's history, and the federation statistics and graphs;
//  6. times the dashboard's pages, the overview first (dashboard.New over
//     the store, GET through httptest), and reports the bytes per
//     snapshot row, per daily row, per aggregate row and per link from
//     system.parts;
//  7. prints an "Observatory" section and, with -out, writes it into that
//     Markdown file, replacing the previous one.
//
// The target is reported, not asserted: timings belong in benchmarks.
//
//	go run ./bench/observatory -out BENCHMARKS.md   # 50,000 instances, 365 days
//	go run ./bench/observatory -quick               # 2,000 instances, 60 days
package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/fedilens/fedilens/bench/internal/benchenv"
)

// config is the command line.
type config struct {
	instances  int
	days       int
	runs       int
	beforeRuns int
	seed       uint64
	links      bool
	peerMedian int
	bigPeers   int
	clickhouse string
	work       string
	keep       bool
	out        string
	quick      bool
}

func main() { benchenv.Main("observatory bench", run) }

func parseConfig(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("observatory", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.instances, "instances", 50_000, "instances generated")
	fs.IntVar(&c.days, "days", 365, "days of daily snapshots, the last one today")
	fs.IntVar(&c.runs, "runs", 9, "runs of each statistic; the median is reported")
	fs.IntVar(&c.beforeRuns, "before-runs", 3, "runs of each statistic over the day rows (the path without aggregates); 0 skips them")
	fs.Uint64Var(&c.seed, "seed", 1, "seed of the generated census")
	fs.BoolVar(&c.links, "links", true, "generate peer and block events and report the bytes per link")
	fs.IntVar(&c.peerMedian, "peer-median", 400, "median peer count of an instance that publishes its peers (log-normal, sigma 1.3)")
	fs.IntVar(&c.bigPeers, "big-peers", 10, "instances with 100,000 peers")
	fs.StringVar(&c.clickhouse, "clickhouse", "", "ClickHouse host:port to use (empty: start a managed server under the work directory)")
	fs.StringVar(&c.work, "work", "", "work directory for ClickHouse (empty: a temporary one, removed at the end)")
	fs.BoolVar(&c.keep, "keep", false, "keep the work directory and the bench database at the end")
	fs.StringVar(&c.out, "out", "", "Markdown file whose \"Observatory\" section is written or replaced (empty: print only)")
	fs.BoolVar(&c.quick, "quick", false, "small smoke run: 2,000 instances, 60 days, 3 runs (explicit flags win)")
	if err := benchenv.ParseFlags(fs, args, &c.quick, map[string]string{
		"instances": "2000", "days": "60", "runs": "3", "before-runs": "1", "peer-median": "100", "big-peers": "2",
	}); err != nil {
		return c, err
	}
	switch {
	case c.instances < 100:
		return c, errors.New("-instances must be at least 100")
	case c.days < 10:
		return c, errors.New("-days must be at least 10")
	case c.runs < 1 || c.beforeRuns < 0:
		return c, errors.New("-runs must be positive and -before-runs not negative")
	case c.peerMedian < 1 || c.bigPeers < 0:
		return c, errors.New("-peer-median must be positive and -big-peers not negative")
	}
	return c, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	work, removeWork, err := benchenv.WorkDir(cfg.work, "fedilens-observatory-bench-", cfg.keep, log)
	defer removeWork()
	if err != nil {
		return err
	}
	ch, err := benchenv.StartClickHouse(ctx, cfg.clickhouse, filepath.Join(work, "clickhouse"), log)
	if err != nil {
		return err
	}
	defer ch.Stop()
	self, err := os.Executable()
	if err != nil {
		self = ""
	}
	res := results{Config: cfg, Command: benchenv.CommandLine("./bench/observatory", args), Date: time.Now().UTC(),
		Machine: benchenv.DescribeMachine(ctx, self, ch.Version)}

	db := "observatory_bench_" + time.Now().UTC().Format("20060102150405")
	st, err := ch.OpenStore(ctx, db)
	if err != nil {
		return err
	}
	defer func() {
		_ = st.Close()
		if !cfg.keep {
			if err := ch.Drop(context.WithoutCancel(ctx), db); err != nil {
				log.Warn("dropping the bench database", "err", err)
			}
		} else {
			log.Info("bench database kept", "addr", ch.Addr, "database", db)
		}
	}()
	b := &bench{cfg: cfg, st: st, addr: ch.Addr, db: db, log: log, today: time.Now().UTC().Truncate(24 * time.Hour)}
	defer func() {
		if b.conn != nil {
			_ = b.conn.Close()
		}
	}()
	if err := b.generate(ctx, &res); err != nil {
		return err
	}
	// The links before the rollups: Rollup summarises them (in-degrees,
	// block lists, the watched platforms) as `fedilens run` does.
	if cfg.links {
		if err := b.generateLinks(ctx, &res); err != nil {
			return err
		}
	}
	if err := b.rollups(ctx, &res); err != nil {
		return err
	}
	if err := b.statistics(ctx, &res); err != nil {
		return err
	}
	if err := b.pages(ctx, &res, res.HistoryHost); err != nil {
		return err
	}
	if err := b.sizes(ctx, &res); err != nil {
		return err
	}
	return benchenv.Publish(stdout, cfg.out, sectionTitle, res.markdown(), log)
}
