package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/fedilens/fedilens/api"
	"github.com/fedilens/fedilens/indexer"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/pipeline"
	"github.com/fedilens/fedilens/internal/store"
)

const forgetUsage = `Usage:
  fedilens forget acct:user@host          remove an author's posts, and keep them out
  fedilens forget HOST                    remove an instance's posts, and opt it out
  fedilens forget --undo acct:user@host   let the author's posts in again (if they consent)
  fedilens forget --undo HOST             lift the instance's opt-out

forget removes the posts from the search index and from ClickHouse at once.
A forgotten author stays forgotten, whatever their profile says later, until
'forget --undo'. A forgotten instance goes on the opt-out list (see 'fedilens
optout'): fedilens no longer contacts it.

The command opens the search index under --data: while 'fedilens run' or
'serve' holds it, use their admin API instead:
  curl -H "Authorization: Bearer $FEDILENS_ADMIN_TOKEN" \
       -d '{"target":"acct:user@host"}' http://127.0.0.1:8080/api/v1/admin/forget
Every command also takes the common flags (--data, --clickhouse, --config, ...).
`

// runForget forgets an author or a host from the command line.
func runForget(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" || a == "help" {
			fmt.Fprint(stdout, forgetUsage)
			return flag.ErrHelp
		}
	}
	flagArgs, positional, err := splitForgetArgs(args)
	if err != nil {
		flagArgs = args // let parseFlags report it
	}
	fs, c, undo := forgetFlags()
	if err := parseFlags(fs, c, flagArgs); err != nil {
		return err
	}
	if len(positional) != 1 {
		fmt.Fprint(stderr, forgetUsage)
		return usageErr("forget takes exactly one acct:user@host or HOST")
	}
	scope, err := api.ParseForgetTarget(positional[0])
	if err != nil {
		return usageErr("%v", err)
	}
	target := scope.Host
	if scope.Author != "" {
		target = "acct:" + scope.Author
	}

	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	if err := c.ensureData(); err != nil {
		return err
	}
	var ix *indexer.Index
	if !*undo {
		// The index first: when a running fedilens holds it, say so before
		// anything is recorded or a managed ClickHouse is started.
		if ix, err = c.openIndex(log, nil); err != nil {
			if errors.Is(err, indexer.ErrLocked) {
				return fmt.Errorf("a running fedilens (run or serve) holds the search index under %s; "+
					"forget through its admin API instead (POST /api/v1/admin/forget, see 'fedilens forget --help'): %w", c.data, err)
			}
			return err
		}
		defer func() { _ = ix.Close() }()
	}
	st, closeStore, err := c.openStore(ctx, log)
	if err != nil {
		return err
	}
	defer closeStore(context.Background())

	if *undo {
		return unforget(ctx, st, scope, target, stdout)
	}
	res, err := pipeline.Forget(ctx, st, ix, scope)
	if err != nil {
		return err
	}
	what := "their posts are not stored again"
	if scope.Author == "" {
		what = "the instance is on the opt-out list"
	}
	fmt.Fprintf(stdout, "forgot %s: %d posts removed from the search index, %d from ClickHouse; %s (undo: fedilens forget --undo %s)\n",
		target, res.Indexed, res.Stored, what, target)
	return nil
}

// unforget lifts a forget.
func unforget(ctx context.Context, st *store.Store, scope model.PurgeScope, target string, stdout io.Writer) error {
	var err error
	if scope.Author != "" {
		err = st.UnforgetAuthor(ctx, scope.Author)
	} else {
		err = st.RemoveOptOut(ctx, scope.Host)
	}
	if errors.Is(err, model.ErrNotFound) {
		return fmt.Errorf("%s is not forgotten", target)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "no longer forgotten: %s (its posts come back with the next crawl, if consent allows)\n", target)
	return nil
}

// forgetFlags is the flag set of forget.
func forgetFlags() (*flag.FlagSet, *common, *bool) {
	fs := flag.NewFlagSet("forget", flag.ContinueOnError)
	c := &common{}
	c.register(fs)
	undo := fs.Bool("undo", false, "lift an earlier forget instead")
	return fs, c, undo
}

// splitForgetArgs separates flags from the target, which may come before
// or after them.
func splitForgetArgs(args []string) (flags, positional []string, err error) {
	fs, _, _ := forgetFlags()
	return splitFlagArgs(fs, args)
}

// forgetter is the admin API's api.Forgetter in a process that holds the
// index: through the pipeline when one runs (so its buffered posts are
// dropped too), else directly.
type forgetter struct {
	st   *store.Store
	ix   *indexer.Index
	pipe atomic.Pointer[pipeline.Pipeline]
}

// Forget implements api.Forgetter.
func (f *forgetter) Forget(ctx context.Context, scope model.PurgeScope) (indexed, stored int, err error) {
	var res pipeline.ForgetResult
	if p := f.pipe.Load(); p != nil {
		res, err = p.Forget(ctx, f.st, scope)
	} else {
		res, err = pipeline.Forget(ctx, f.st, f.ix, scope)
	}
	return res.Indexed, res.Stored, err
}

// forgetAPI is the admin API's Forgetter; nil (no endpoint) in a process
// without the index.
func (ctl *controls) forgetAPI() api.Forgetter {
	if ctl == nil || ctl.forget == nil {
		return nil
	}
	return ctl.forget
}

// usePipeline routes the admin API's forgets through the crawl pipeline.
func (ctl *controls) usePipeline(p *pipeline.Pipeline) {
	if ctl != nil && ctl.forget != nil {
		ctl.forget.pipe.Store(p)
	}
}
