package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/fedilens/fedilens/indexer"
	"github.com/fedilens/fedilens/internal/store"
)

const reindexUsage = `Usage:
  fedilens reindex                         rebuild the search index with the current mapping
  fedilens reindex --check                 only say whether it needs a rebuild (exit 0: no, 1: yes)
  fedilens reindex --reset-post-cursors    rebuild, then have the next crawl re-read every post

An index keeps the mapping it was created with: one made by an older
fedilens lacks the word-pair phrase fields, the sort key, the day number or
stored alt text, and its searches stay on the slower paths. reindex reads
every post back from the index itself (no crawl) into a new index next to
it (DATA/index.reindex-STAMP), checks that it holds exactly the same posts,
and swaps the two: the old index is kept as DATA/index.old-STAMP, to delete
or to move back. A crash leaves the old index or the complete new one in
place; the next reindex tidies up. It needs free disk space for a second
copy of the index, and fedilens (run, crawl, serve) must be stopped.

What an old index never stored (alt text, in the oldest also the posts'
HTML) cannot come back from it. --reset-post-cursors clears the posts
crawl's cursors in ClickHouse, so that the next crawl reads every
consenting author's posts in full and indexes them again.

Flags:
`

// reindexLockTimeout is how long reindex waits for the index's lock: a
// running fedilens holds it for as long as it runs.
const reindexLockTimeout = time.Second

// errNeedsRebuild is the answer of --check for an index that lacks part of
// the current mapping (exit 1).
var errNeedsRebuild = errors.New("the search index needs a rebuild: run 'fedilens reindex'")

// runReindex rebuilds the search index with the current mapping, or with
// --check says whether it needs that.
func runReindex(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("reindex", flag.ContinueOnError)
	c := &common{}
	c.register(fs)
	check := fs.Bool("check", false, "only report whether the index needs a rebuild and what it lacks; exit 0 when it has the current mapping, 1 when not")
	reset := fs.Bool("reset-post-cursors", false,
		"after the rebuild, clear the posts crawl's cursors in ClickHouse: the next crawl reads every consenting author's posts in full and indexes them again (brings back alt text an old index never stored)")
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" {
			fmt.Fprint(stdout, reindexUsage)
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return flag.ErrHelp
		}
	}
	if err := parseFlags(fs, c, args); err != nil {
		return err
	}
	if *check && *reset {
		return usageErr("--check only reports: it does not go with --reset-post-cursors")
	}
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	dir := c.indexDir()
	if *check {
		return reindexCheck(dir, stdout)
	}

	var st *store.Store
	if *reset {
		// Before ClickHouse is started or the rebuild begins: a running
		// fedilens, or a missing ClickHouse, fails at once.
		if _, err := indexer.Inspect(indexer.Options{Dir: dir, LockTimeout: reindexLockTimeout}); err != nil && !errors.Is(err, indexer.ErrNoIndex) {
			return reindexError(dir, err)
		}
		var closeStore func(context.Context)
		if st, closeStore, err = c.openStore(ctx, log); err != nil {
			return err
		}
		defer closeStore(context.Background())
	}

	res, err := indexer.Reindex(ctx, dir, indexer.ReindexOptions{Logger: log.With("component", "reindex"), LockTimeout: reindexLockTimeout})
	if res.Finished != "" {
		fmt.Fprintf(stdout, "finished an interrupted reindex first: its complete new index %s is now %s\n", res.Finished, dir)
	}
	for _, r := range res.Removed {
		fmt.Fprintf(stdout, "removed %s, the unfinished rebuild of an interrupted reindex\n", r)
	}
	if err != nil {
		return reindexError(dir, err)
	}
	fmt.Fprintf(stdout, "rebuilt %s with the current mapping: %d posts in %s; %s on disk before, %s after\n",
		dir, res.Posts, res.Took.Round(time.Millisecond), mib(res.OldBytes), mib(res.NewBytes))
	fmt.Fprintf(stdout, "the old index is kept in %s: delete it once the new one serves you well, or (with fedilens stopped) move it back to %s to roll back\n",
		res.OldDir, dir)

	lost := strings.Join(res.Before.Unrecoverable(), " and ")
	if st == nil {
		if lost != "" {
			fmt.Fprintf(stdout, "the old index did not store %s, so the rebuilt one has none: its posts are no longer found by the words of their image descriptions until they are crawled again. "+
				"For the next crawl to re-read every consenting author's posts in full, run 'fedilens reindex --reset-post-cursors' (it rebuilds again, then clears the post cursors in ClickHouse)\n", lost)
		}
		return nil
	}
	n, err := st.ResetPostCursors(ctx)
	if err != nil {
		return fmt.Errorf("the index is rebuilt, but the post cursors are not reset: %w", err)
	}
	if lost != "" {
		fmt.Fprintf(stdout, "the old index did not store %s, so the rebuilt one has none until its posts are crawled again; ", lost)
	}
	fmt.Fprintf(stdout, "cleared %d post cursors: each instance's next visit reads every consenting author's posts in full and indexes them again\n", n)
	return nil
}

// reindexCheck prints what the index has of the current mapping and
// returns errNeedsRebuild when it lacks something.
func reindexCheck(dir string, stdout io.Writer) error {
	in, err := indexer.Inspect(indexer.Options{Dir: dir, LockTimeout: reindexLockTimeout})
	if err != nil {
		return reindexError(dir, err)
	}
	fmt.Fprintf(stdout, "search index %s: %d posts, %s on disk\n", dir, in.Posts, mib(in.Bytes))
	missing := in.Features.Missing()
	if len(missing) == 0 {
		fmt.Fprintln(stdout, "it has the current mapping: no rebuild needed (reindex would still compact it)")
		return nil
	}
	fmt.Fprintln(stdout, "it lacks:")
	for _, m := range missing {
		fmt.Fprintf(stdout, "  - %s\n", m)
	}
	if lost := in.Features.Unrecoverable(); len(lost) > 0 {
		fmt.Fprintf(stdout, "a rebuild cannot carry over the %s the index never stored: add --reset-post-cursors to have the next crawl re-read the posts\n",
			strings.Join(lost, " and "))
	}
	return errNeedsRebuild
}

// reindexError explains the errors a user can act on.
func reindexError(dir string, err error) error {
	switch {
	case errors.Is(err, indexer.ErrLocked):
		return fmt.Errorf("the index is in use by a running fedilens; stop it first (run, crawl and serve hold it): %w", err)
	case errors.Is(err, indexer.ErrNoIndex):
		return fmt.Errorf("no search index in %s to rebuild (check --data): %w", dir, err)
	}
	return err
}

// mib formats a size on disk.
func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
