// Command fedilens crawls the fediverse politely and serves what it finds:
// search over opted-in public posts, an observatory of instances, and
// research datasets.
//
// Usage:
//
//	fedilens <command> [flags]
//
// Commands: run, crawl, serve, export, sim, optout, forget, reindex, schema, version. Every command takes
// --help.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Version is set at build time with -ldflags "-X main.Version=...".
var Version = "0.1.0-dev"

const usage = `fedilens: a polite fediverse crawler, search engine and observatory.

Usage:
  fedilens <command> [flags]

Commands:
  run      crawl continuously and serve the API and dashboard (the main job)
  crawl    crawl (use --once for one full pass, then exit)
  serve    serve the API and dashboard over what is stored
  export   write a dated dataset snapshot
  optout   add, remove or list the hosts whose admins opted out
  forget   remove an author's or an instance's posts at once, and keep them out
  reindex  rebuild the search index with the current mapping (--check: is it needed?)
  sim      serve the simulated fediverse alone (demos, tests, benchmarks)
  schema   print the DDL fedilens runs (one server, or --clickhouse-cluster)
  version  print the version

Run 'fedilens <command> --help' for the flags of a command. Every flag can
also be set with an environment variable FEDILENS_<FLAG> (for example
FEDILENS_CLICKHOUSE) or in a YAML file given with --config.
`

type command struct {
	name string
	run  func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = []command{
	{"run", runRun},
	{"crawl", runCrawl},
	{"serve", runServe},
	{"export", runExport},
	{"sim", runSim},
	{"optout", runOptOut},
	{"forget", runForget},
	{"reindex", runReindex},
	{"schema", runSchema},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(Main(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// Main runs the command line args and returns the exit code: 0 on success,
// 2 on a usage error, 1 otherwise.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] == "version" || args[0] == "--version" {
		fmt.Fprintln(stdout, "fedilens", Version)
		return 0
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, new(usageError)):
			fmt.Fprintf(stderr, "fedilens %s: %v\n", c.name, err)
			return 2
		default:
			fmt.Fprintf(stderr, "fedilens %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "fedilens: unknown command %q\n\n%s", args[0], usage)
	return 2
}

// usageError marks errors in the command line or configuration (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usageErr(format string, a ...any) error {
	return usageError{fmt.Sprintf(format, a...)}
}
