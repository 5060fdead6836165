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
//     starts includes the parent's, here the simulator's; see sampleChild);
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
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/fedilens/fedilens/bench/internal/benchmd"
)

// config is the command line.
type config struct {
	instances      int
	runs           int
	delayInstances int
	out            string
	quick          bool
	fedilens       string
	clickhouse     string
	simSeed        int64
	workers        int
	maxInFlight    int
	workDir        string
	keep           bool
	crawlerNofile  uint64
	profileDir     string
	plainHTTP2     bool
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "census bench:", err)
		os.Exit(1)
	}
}

func parseConfig(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("census", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.instances, "instances", 40_000, "simulated instances of the zero-delay throughput runs (their peak RSS is the memory figure)")
	fs.IntVar(&c.runs, "runs", 3, "zero-delay runs (crawler, then the plain loop); medians are reported (0: none)")
	fs.IntVar(&c.delayInstances, "delay-census-instances", 20_000, "simulated instances of the census with the default 1 s per-host delay (0: skip)")
	fs.StringVar(&c.out, "out", "", "Markdown file whose \"Census\" section is written or replaced (empty: print only)")
	fs.BoolVar(&c.quick, "quick", false, "small smoke run: 1,000 instances, 1 run, a 200-instance delay census (explicit flags win)")
	fs.StringVar(&c.fedilens, "fedilens", "", "fedilens binary to benchmark (empty: go build -o bin/fedilens ./cmd/fedilens)")
	fs.StringVar(&c.clickhouse, "clickhouse", "", "ClickHouse host:port to use (empty: start a managed server once, under the work directory)")
	fs.Int64Var(&c.simSeed, "sim-seed", 1, "seed of the simulated fediverse")
	fs.IntVar(&c.workers, "workers", 256, "crawler --workers")
	fs.IntVar(&c.maxInFlight, "max-in-flight", 64, "crawler --max-in-flight, and the plain loop's concurrency")
	fs.StringVar(&c.workDir, "work", "", "work directory for data, logs and ClickHouse (empty: a temporary one, removed at the end)")
	fs.BoolVar(&c.keep, "keep", false, "keep the work directory (crawler logs) at the end")
	fs.StringVar(&c.profileDir, "profile", "", "after the measured runs and after the delay census, crawl once more with --cpuprofile and --memprofile into this directory (not counted)")
	fs.BoolVar(&c.plainHTTP2, "plain-http2", false, "let the plain loop use HTTP/2 (the crawler's client speaks HTTP/1.1 only)")
	fs.Uint64Var(&c.crawlerNofile, "crawler-nofile", 0, "open-file limit of the crawler process (0: this shell's hard limit, what fedilens gets when started from it)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if c.quick {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["instances"] {
			c.instances = 1_000
		}
		if !set["runs"] {
			c.runs = 1
		}
		if !set["delay-census-instances"] {
			c.delayInstances = 200
		}
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
	case c.workers < 1 || c.maxInFlight < 1:
		return c, errors.New("-workers and -max-in-flight must be positive")
	}
	return c, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	command := commandLine(args)
	if cfg.crawlerNofile == 0 {
		if cfg.crawlerNofile, err = openFileLimit(); err != nil {
			return err
		}
	}
	simNofile, err := raiseOpenFileLimit()
	if err != nil {
		return err
	}
	log.Info("open-file limits", "crawler", cfg.crawlerNofile, "bench_and_simulator", simNofile)

	work := cfg.workDir
	if work == "" {
		if work, err = os.MkdirTemp("", "fedilens-census-bench-"); err != nil {
			return fmt.Errorf("creating work directory: %w", err)
		}
		if !cfg.keep {
			defer os.RemoveAll(work)
		}
	} else if err := os.MkdirAll(work, 0o750); err != nil {
		return fmt.Errorf("creating work directory: %w", err)
	}
	if cfg.keep {
		log.Info("work directory kept", "dir", work)
	}

	bin := cfg.fedilens
	if bin == "" {
		bin = filepath.Join("bin", "fedilens")
		log.Info("building", "out", bin)
		if err := buildFedilens(ctx, bin); err != nil {
			return err
		}
	}
	if bin, err = filepath.Abs(bin); err != nil {
		return fmt.Errorf("locating fedilens binary: %w", err)
	}

	ch, err := startClickHouse(ctx, cfg.clickhouse, filepath.Join(work, "clickhouse"), log)
	if err != nil {
		return err
	}
	defer ch.stop()

	machine := describeMachine(ctx, bin, ch.version)
	machine.CrawlerNofile, machine.SimNofile = cfg.crawlerNofile, simNofile
	b := &bench{cfg: cfg, bin: bin, work: work, ch: ch, log: log}
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
			res.DelayFailed = truncate(err.Error(), 500)
		} else {
			res.Delay = &d
		}
	}

	section := renderSection(res)
	fmt.Fprint(stdout, section)
	if cfg.out != "" {
		if err := benchmd.UpdateFile(cfg.out, sectionTitle, section); err != nil {
			return errors.Join(delayErr, err)
		}
		log.Info("section written", "file", cfg.out)
	}
	return delayErr
}

// commandLine is the command that reproduces this run, for the report.
func commandLine(args []string) string {
	parts := []string{"go", "run", "./bench/census"}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t'\"$*?") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

// buildFedilens builds the binary under test from this tree.
func buildFedilens(ctx context.Context, out string) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o750); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(out), err)
	}
	cmd := execCommand(ctx, "go", "build", "-o", out, "./cmd/fedilens")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building fedilens: %w\n%s", err, b)
	}
	return nil
}

// bench holds what every measurement shares.
type bench struct {
	cfg  config
	bin  string
	work string
	ch   *clickHouse
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
