// Command census benchmarks the crawler's census against the simulated
// fediverse, next to the machine's own limit, and records the figures in
// BENCHMARKS.md.
//
// In one run it:
//
//  1. builds bin/fedilens (or takes -fedilens), starts one ClickHouse for
//     every crawl (or takes -clickhouse) and a simulated fediverse
//     (internal/fedisim) inside this process;
//  2. runs `fedilens crawl --once --host-delay 0` as a child process on a
//     fresh database, -runs times: wall time, hosts visited per second,
//     requests per second from the simulator's request log, and the child's
//     own peak RSS (VmHWM from /proc: the rusage ru_maxrss of a child Go
//     starts includes the parent's, here the simulator's; see
//     benchenv.SampleChild);
//  3. after each crawl, replays exactly the requests the simulator logged
//     (Misskey POSTs as POSTs, with their bodies) through a plain net/http
//     loop with the same concurrency as the crawler's --max-in-flight, each
//     host's requests in order on a kept-alive connection, HTTP/1.1 like
//     the crawler, the same CA and the same resolve-to-loopback dialling:
//     the requests per second this machine can do at all;
//  4. crawls a second simulator (-delay-census-instances) with the default
//     1 s per-host delay: wall time, and the stored census compared with
//     the simulator's ground truth;
//  5. prints a "Census" section of medians and ratios and, with -out,
//     writes it into that Markdown file, replacing the previous one.
//
// The targets (from the issue): crawler req/s at least half of the plain
// loop's, and under 500 MB peak RSS for a 40,000-instance census. They are
// reported, not asserted: timings belong in benchmarks, not tests.
package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"time"

	"github.com/fedilens/fedilens/bench/internal/benchenv"
)

// config is the command line.
type config struct {
	instances      int
	runs           int
	delayInstances int
	out            string
	quick          bool
	profileDir     string
	plainHTTP2     bool
	benchenv.CrawlFlags
}

func main() { benchenv.Main("census bench", run) }

func parseConfig(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("census", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.instances, "instances", 40_000, "simulated instances of the zero-delay throughput runs (their peak RSS is the memory figure)")
	fs.IntVar(&c.runs, "runs", 3, "zero-delay runs (crawler, then the plain loop); medians are reported (0: none)")
	fs.IntVar(&c.delayInstances, "delay-census-instances", 20_000, "simulated instances of the census with the default 1 s per-host delay (0: skip)")
	fs.StringVar(&c.out, "out", "", "Markdown file whose \"Census\" section is written or replaced (empty: print only)")
	fs.BoolVar(&c.quick, "quick", false, "small smoke run: 1,000 instances, 1 run, a 200-instance delay census (explicit flags win)")
	c.CrawlFlags.Register(fs, "crawler logs")
	fs.Lookup("max-in-flight").Usage = "crawler --max-in-flight, and the plain loop's concurrency"
	fs.StringVar(&c.profileDir, "profile", "", "after the measured runs and after the delay census, crawl once more with --cpuprofile and --memprofile into this directory (not counted)")
	fs.BoolVar(&c.plainHTTP2, "plain-http2", false, "let the plain loop use HTTP/2 (the crawler's client speaks HTTP/1.1 only)")
	quick := map[string]string{"instances": "1000", "runs": "1", "delay-census-instances": "200"}
	if err := benchenv.ParseFlags(fs, args, &c.quick, quick); err != nil {
		return c, err
	}
	switch {
	case c.instances < 3:
		return c, errors.New("-instances must be at least 3 (the seeds)")
	case c.runs < 0:
		return c, errors.New("-runs must not be negative")
	case c.runs == 0 && c.delayInstances == 0:
		return c, errors.New("nothing to do: -runs and -delay-census-instances are both 0")
	case c.delayInstances < 0:
		return c, errors.New("-delay-census-instances must not be negative")
	}
	return c, c.CrawlFlags.Check()
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	command := benchenv.CommandLine("./bench/census", args)
	env, done, err := benchenv.Setup(ctx, &cfg.CrawlFlags, "fedilens-census-bench-", log)
	defer done()
	if err != nil {
		return err
	}
	machine := machine{Machine: env.Machine, CrawlerNofile: env.CrawlerNofile, SimNofile: env.SimNofile}
	b := &bench{cfg: cfg, bin: env.Bin, work: env.Work, ch: env.CH, log: log}
	res := results{Machine: machine, Command: command, Date: time.Now().UTC(), Config: cfg}

	if cfg.runs > 0 {
		log.Info("throughput runs", "instances", cfg.instances, "runs", cfg.runs)
		if res.Runs, err = b.throughput(ctx); err != nil {
			return err
		}
	}
	// A failed delay census (it runs last and longest) does not throw
	// away the throughput runs: the section says what failed, and the
	// command still exits with the error.
	var delayErr error
	if cfg.delayInstances > 0 {
		log.Info("census with the default delay", "instances", cfg.delayInstances)
		d, err := b.delayCensus(ctx)
		if err != nil {
			delayErr = err
			res.DelayFailed = benchenv.Truncate(err.Error(), 500)
		} else {
			res.Delay = &d
		}
	}

	if err := benchenv.Publish(stdout, cfg.out, sectionTitle, renderSection(res), log); err != nil {
		return errors.Join(delayErr, err)
	}
	return delayErr
}

// bench holds what every measurement shares.
type bench struct {
	cfg  config
	bin  string
	work string
	ch   *benchenv.ClickHouse
	log  *slog.Logger
	seq  int
}

// results is everything the report shows.
type results struct {
	Machine machine
	Command string
	Date    time.Time
	Config  config
	Runs    []runResult
	Delay   *delayResult
	// DelayFailed is why the delay census failed ("" if it did not).
	DelayFailed string
}
