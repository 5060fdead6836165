package benchenv

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

	"github.com/fedilens/fedilens/bench/internal/benchmd"
)

// Main runs a bench command's run with the command line, stdout and
// stderr, under a context that SIGINT and SIGTERM cancel, and exits 1
// with "NAME: error" when it fails (not for -help).
func Main(name string, run func(ctx context.Context, args []string, stdout, stderr io.Writer) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}

// WorkDir creates dir, or a new temporary directory named after prefix
// when dir is empty. The returned func, to defer, removes a temporary
// directory unless keep: a directory the user named is never removed.
func WorkDir(dir, prefix string, keep bool, log *slog.Logger) (string, func(), error) {
	done := func() {}
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", prefix); err != nil {
			return "", done, fmt.Errorf("creating work directory: %w", err)
		}
		if !keep {
			done = func() { _ = os.RemoveAll(dir) }
		}
	} else if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", done, fmt.Errorf("creating work directory: %w", err)
	}
	if keep {
		log.Info("work directory kept", "dir", dir)
	}
	return dir, done, nil
}

// Binary is the absolute path of the fedilens binary under test: bin, or
// bin/fedilens built from this tree (BuildFedilens) when bin is empty.
func Binary(ctx context.Context, bin string, log *slog.Logger) (string, error) {
	if bin == "" {
		bin = filepath.Join("bin", "fedilens")
		log.Info("building", "out", bin)
		if err := BuildFedilens(ctx, bin); err != nil {
			return "", err
		}
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		return "", fmt.Errorf("locating fedilens binary: %w", err)
	}
	return abs, nil
}

// CrawlFlags are the flags every bench that crawls the simulator with the
// fedilens binary takes, with the same names and defaults.
type CrawlFlags struct {
	Fedilens      string // binary under test ("": build bin/fedilens)
	ClickHouse    string // host:port ("": a managed server)
	SimSeed       int64
	Workers       int
	MaxInFlight   int
	WorkDir       string
	Keep          bool
	CrawlerNofile uint64 // 0: this process's hard limit
}

// Register defines the flags on fs; keepWhat says what -keep keeps.
func (f *CrawlFlags) Register(fs *flag.FlagSet, keepWhat string) {
	fs.StringVar(&f.Fedilens, "fedilens", "", "fedilens binary to benchmark (empty: go build -o bin/fedilens ./cmd/fedilens)")
	fs.StringVar(&f.ClickHouse, "clickhouse", "", "ClickHouse host:port to use (empty: start a managed server once, under the work directory)")
	fs.Int64Var(&f.SimSeed, "sim-seed", 1, "seed of the simulated fediverse")
	fs.IntVar(&f.Workers, "workers", 256, "crawler --workers")
	fs.IntVar(&f.MaxInFlight, "max-in-flight", 64, "crawler --max-in-flight")
	fs.StringVar(&f.WorkDir, "work", "", "work directory for data, logs and ClickHouse (empty: a temporary one, removed at the end)")
	fs.BoolVar(&f.Keep, "keep", false, "keep the work directory ("+keepWhat+") at the end")
	fs.Uint64Var(&f.CrawlerNofile, "crawler-nofile", 0, "open-file limit of the crawler process (0: this shell's hard limit, what fedilens gets when started from it)")
}

// Check reports flag values no crawl can run with.
func (f *CrawlFlags) Check() error {
	if f.Workers < 1 || f.MaxInFlight < 1 {
		return errors.New("-workers and -max-in-flight must be positive")
	}
	return nil
}

// ParseFlags parses args with fs and refuses positional arguments. When
// *quick is set after parsing, each flag of quickDefaults that was not
// given explicitly takes its value there: a -quick smoke run is small,
// and an explicit flag still wins.
func ParseFlags(fs *flag.FlagSet, args []string, quick *bool, quickDefaults map[string]string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if !*quick {
		return nil
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for name, v := range quickDefaults {
		if !set[name] {
			if err := fs.Set(name, v); err != nil {
				return fmt.Errorf("setting the -quick default of -%s: %w", name, err)
			}
		}
	}
	return nil
}

// Env is what a bench run sets up before it measures.
type Env struct {
	Work string // work directory
	Bin  string // absolute path of the fedilens binary
	CH   *ClickHouse
	// CrawlerNofile is the crawler's open-file limit (the flag, or this
	// process's hard limit), SimNofile this process's, raised as far as
	// the system allows: the simulator in this process plays every server
	// of the world, and its sockets must not be what limits the crawl.
	CrawlerNofile, SimNofile uint64
	Machine                  Machine
}

// Setup prepares a run: open-file limits (a zero f.CrawlerNofile is set
// to this process's hard limit), the work directory (a temporary one
// named after prefix unless -work), the binary, ClickHouse and the
// machine line. The returned func, to defer, stops a managed ClickHouse
// and removes a temporary work directory unless -keep.
func Setup(ctx context.Context, f *CrawlFlags, prefix string, log *slog.Logger) (*Env, func(), error) {
	var err error
	if f.CrawlerNofile == 0 {
		if f.CrawlerNofile, err = OpenFileLimit(); err != nil {
			return nil, func() {}, err
		}
	}
	e := &Env{CrawlerNofile: f.CrawlerNofile}
	if e.SimNofile, err = RaiseOpenFileLimit(); err != nil {
		return nil, func() {}, err
	}
	log.Info("open-file limits", "crawler", e.CrawlerNofile, "bench_and_simulator", e.SimNofile)
	work, removeWork, err := WorkDir(f.WorkDir, prefix, f.Keep, log)
	if err != nil {
		return nil, removeWork, err
	}
	e.Work = work
	if e.Bin, err = Binary(ctx, f.Fedilens, log); err != nil {
		return nil, removeWork, err
	}
	if e.CH, err = StartClickHouse(ctx, f.ClickHouse, filepath.Join(work, "clickhouse"), log); err != nil {
		return nil, removeWork, err
	}
	e.Machine = DescribeMachine(ctx, e.Bin, e.CH.Version)
	return e, func() {
		e.CH.Stop()
		removeWork()
	}, nil
}

// Publish prints a report section to stdout and, when out is not empty,
// writes it into the Markdown file out in place of the section titled
// title (benchmd.UpdateFile).
func Publish(stdout io.Writer, out, title, section string, log *slog.Logger) error {
	fmt.Fprint(stdout, section)
	if out == "" {
		return nil
	}
	if err := benchmd.UpdateFile(out, title, section); err != nil {
		return err
	}
	log.Info("section written", "file", out)
	return nil
}
