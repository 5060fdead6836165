// Command ingest benchmarks the posts ingest end to end next to Bleve
// alone, and records the figures in BENCHMARKS.md (issue 4: "ingest at
// least 80% of bleve-alone throughput").
//
// In one run it:
//
//  1. builds bin/fedilens (or takes -fedilens), starts a ClickHouse (or
//     takes -clickhouse) and serves a post-heavy simulated fediverse
//     (internal/fedisim, no hostile hosts) inside this process, the way
//     bench/census does (bench/internal/benchenv);
//  2. runs `fedilens crawl --once --host-delay 0 --post-retention 0
//     --post-revalidate-after 0` as a child process on a fresh database:
//     its wall time from start to exit, the pass time it prints, its peak
//     RSS (VmHWM from /proc) and its CPU time;
//  3. checks what it stored against the simulator's ground truth
//     (Truth.Posts): the post URIs in ClickHouse and in the Bleve index,
//     read back with indexer.Index.Dump, must both equal the truth's, or
//     the run fails;
//  4. indexes exactly the dumped posts through Bleve alone
//     (indexbench.BleveAlone: the same mapping and documents) into a fresh
//     directory: posts per second and peak RSS;
//  5. prints an "Ingest" section and, with -out, writes it into that
//     Markdown file, replacing the previous one.
//
// The target is reported, not asserted: timings belong in benchmarks.
//
//	go run ./bench/ingest -out BENCHMARKS.md   # 3,000 instances, post scale 32
//	go run ./bench/ingest -quick               # 300 instances, post scale 4
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strconv"
	"time"

	"github.com/fedilens/fedilens/bench/internal/benchenv"
)

// config is the command line.
type config struct {
	instances  int
	postScale  int
	cpuProfile string
	simProfile string
	prerender  bool
	out        string
	quick      bool
	benchenv.CrawlFlags
}

func main() { benchenv.Main("ingest bench", run) }

func parseConfig(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("ingest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.instances, "instances", 3_000, "simulated instances")
	fs.IntVar(&c.postScale, "post-scale", 32, "fedisim PostScale: multiplies the posts of every account")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "have the crawler write a CPU profile of its run to this file (go tool pprof); the figures then include the profiler's cost")
	fs.StringVar(&c.simProfile, "simprofile", "", "write a CPU profile of the bench process (the simulator serving the crawl) during the crawl to this file")
	fs.BoolVar(&c.prerender, "prerender", true, "have the simulator render its Mastodon API entities before the clock starts (false: render while serving, on the crawler's cores)")
	fs.StringVar(&c.out, "out", "", "Markdown file whose \"Ingest\" section is written or replaced (empty: print only)")
	fs.BoolVar(&c.quick, "quick", false, "small smoke run: 300 instances, post scale 4 (explicit flags win)")
	c.CrawlFlags.Register(fs, "crawler log, both indexes")
	if err := benchenv.ParseFlags(fs, args, &c.quick, map[string]string{"instances": "300", "post-scale": "4"}); err != nil {
		return c, err
	}
	switch {
	case c.instances < 3:
		return c, errors.New("-instances must be at least 3 (the seeds)")
	case c.postScale < 1:
		return c, errors.New("-post-scale must be at least 1")
	}
	return c, c.CrawlFlags.Check()
}

// requestLogSize bounds the simulator's request log: far above the
// requests of the largest world the bench is meant for, and checked after
// the crawl, so a log that filled up fails the run instead of
// undercounting.
const requestLogSize = 20_000_000

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	command := benchenv.CommandLine("./bench/ingest", args)
	env, done, err := benchenv.Setup(ctx, &cfg.CrawlFlags, "fedilens-ingest-bench-", log)
	defer done()
	if err != nil {
		return err
	}
	res := results{Config: cfg, Command: command, Date: time.Now().UTC(), Machine: env.Machine}
	b := &bench{cfg: cfg, bin: env.Bin, work: env.Work, ch: env.CH, log: log}
	posts, err := b.crawl(ctx, &res)
	if err != nil {
		return err
	}
	if err := b.bleveAlone(ctx, posts, &res); err != nil {
		return err
	}

	return benchenv.Publish(stdout, cfg.out, sectionTitle, renderSection(res), log)
}

// bench holds what the phases share.
type bench struct {
	cfg  config
	bin  string
	work string
	ch   *benchenv.ClickHouse
	log  *slog.Logger
}

// crawlArgs are the crawler's flags besides the simulator's: one pass,
// no per-host gap, every post kept however old (the simulated posts are
// dated before the simulator's fixed present) and every author's posts
// listed in full, posts on.
func crawlArgs(cfg config, data, dsn string) []string {
	args := []string{"crawl", "--once", "--data", data, "--clickhouse", dsn, "--log-level", "warn",
		"--workers", strconv.Itoa(cfg.Workers), "--max-in-flight", strconv.Itoa(cfg.MaxInFlight),
		"--host-delay", "0", "--post-retention", "0", "--post-revalidate-after", "0", "--posts=true"}
	if cfg.cpuProfile != "" {
		args = append(args, "--cpuprofile", cfg.cpuProfile)
	}
	return args
}

// diff compares stored URIs with the wanted set: how many are missing and
// extra, and the first few of each (sorted) for the error.
func diff(want map[string]bool, got []string) (missing, extra int, examples string) {
	seen := make(map[string]bool, len(got))
	var miss, ext []string
	for _, u := range got {
		if seen[u] {
			continue
		}
		seen[u] = true
		if !want[u] {
			ext = append(ext, u)
		}
	}
	for u := range want {
		if !seen[u] {
			miss = append(miss, u)
		}
	}
	sort.Strings(miss)
	sort.Strings(ext)
	if len(miss)+len(ext) > 0 {
		examples = fmt.Sprintf("first missing %v, first extra %v", miss[:min(len(miss), 5)], ext[:min(len(ext), 5)])
	}
	return len(miss), len(ext), examples
}
