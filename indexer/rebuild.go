package indexer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"golang.org/x/sync/errgroup"

	"github.com/fedilens/fedilens/internal/model"
)

// Rebuilding an index with the current mapping.
//
// Bleve saves the mapping with the index, so an index keeps the mapping
// it was created with for good: one created before the word-pair fields,
// the sort key, the day number or stored alt text never gains them, and
// its searches stay on the slower paths. Rebuild reads every post back
// (Dump) and writes it through the normal writer into a new index;
// Reindex does that next to the live index and swaps the two directories,
// so that a crash at any point leaves the old index or the complete new
// one in place, never none and never a half-built one.

// Errors of rebuilding.
var (
	// ErrNoIndex means there is no index in the directory.
	ErrNoIndex = errors.New("no search index")
	// ErrRebuildMismatch means a rebuilt index does not hold exactly the
	// posts of the old one; the old one is left as it was.
	ErrRebuildMismatch = errors.New("rebuilt index does not hold the same posts")
)

// Features says which parts of the current mapping (NewMapping) an index
// has. An index keeps the mapping it was created with: what it lacks it
// lacks until it is rebuilt.
type Features struct {
	// Current is set when the index's mapping is exactly NewMapping's.
	Current bool
	// WordPairs: phrases are found through the word-pair fields
	// (phrase.go) instead of the slower plain phrase query.
	WordPairs bool
	// SortKey: newest-first searches sort on the short sort key
	// (sortkey.go). An index created before it keeps its stored mapping,
	// which drops the field from new documents too: it is sorted by the
	// creation time's doc values, as before, until rebuilt.
	SortKey bool
	// DayNumber: date filters on whole days read the day number (day.go).
	DayNumber bool
	// StoredAltText: media descriptions are stored, so Dump (and a
	// rebuild) can give them back. Without it they are searchable but
	// cannot be carried over into a rebuilt index.
	StoredAltText bool
	// StoredHTML: the posts' sanitised HTML is kept for display; without
	// it the index has none to carry over.
	StoredHTML bool
}

// Features returns what the index's mapping has of the current one.
func (ix *Index) Features() Features { return mappingFeatures(ix.idx.Mapping()) }

func mappingFeatures(m mapping.IndexMapping) Features {
	f := Features{
		WordPairs:     hasField(m, fieldOf(fieldPhrase, "en")),
		SortKey:       hasField(m, fieldSortKey),
		DayNumber:     hasField(m, fieldDay),
		StoredAltText: fieldStored(m, fieldOf(fieldAlt, "")),
		StoredHTML:    fieldStored(m, fieldHTML),
	}
	have, errHave := json.Marshal(m)
	want, errWant := json.Marshal(NewMapping())
	f.Current = errHave == nil && errWant == nil && string(have) == string(want)
	return f
}

// fieldStored reports whether the mapping stores a post field.
func fieldStored(m mapping.IndexMapping, field string) bool {
	p := postField(m, field)
	return p != nil && len(p.Fields) > 0 && p.Fields[0].Store
}

// Missing lists, for people, what the index lacks of the current mapping
// and what that costs; empty when it has everything. A mapping that
// differs in another way (made by another version of fedilens) is one
// entry of its own.
func (f Features) Missing() []string {
	var out []string
	if !f.WordPairs {
		out = append(out, "word-pair phrase fields (phrase searches use the slower plain phrase query)")
	}
	if !f.SortKey {
		out = append(out, "sort key (newest-first and paged searches use the slower former sort)")
	}
	if !f.DayNumber {
		out = append(out, "day number (date filters read the creation time, several times slower)")
	}
	if !f.StoredAltText {
		out = append(out, "stored alt text (media descriptions cannot be carried over into a rebuilt index)")
	}
	if !f.StoredHTML {
		out = append(out, "stored post HTML (search hits show no formatted post)")
	}
	if len(out) == 0 && !f.Current {
		out = append(out, "the current mapping (the index was made by another version of fedilens)")
	}
	return out
}

// Unrecoverable lists what a rebuild cannot carry over from the index
// because it never stored it: the posts come back without it until they
// are crawled again.
func (f Features) Unrecoverable() []string {
	var out []string
	if !f.StoredAltText {
		out = append(out, "alt text")
	}
	if !f.StoredHTML {
		out = append(out, "post HTML")
	}
	return out
}

// Exists reports whether dir holds a Bleve index (Open creates one where
// there is none).
func Exists(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "index_meta.json"))
	return err == nil
}

// Inspection is what Inspect found out about an index.
type Inspection struct {
	Features Features
	Posts    uint64
	Bytes    int64 // size on disk
}

// Inspect opens the existing index opts.Dir, reads its features, post
// count and size, and closes it. It fails with ErrNoIndex when there is
// none and with ErrLocked when another process holds it.
func Inspect(opts Options) (Inspection, error) {
	if _, err := finishInterruptedReindex(opts.Dir, opts.Logger); err != nil {
		return Inspection{}, err
	}
	if !Exists(opts.Dir) {
		return Inspection{}, fmt.Errorf("inspecting %s: %w", opts.Dir, ErrNoIndex)
	}
	opts.CompactAfterIdle = -1
	ix, err := Open(opts)
	if err != nil {
		return Inspection{}, err
	}
	in := Inspection{Features: ix.Features()}
	in.Posts, err = ix.Count()
	if cerr := ix.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("closing index: %w", cerr)
	}
	if err != nil {
		return Inspection{}, fmt.Errorf("inspecting %s: %w", opts.Dir, err)
	}
	if in.Bytes, err = DirSize(opts.Dir); err != nil {
		return Inspection{}, fmt.Errorf("inspecting %s: %w", opts.Dir, err)
	}
	return in, nil
}

// RebuildOptions configures Rebuild.
type RebuildOptions struct {
	// Logger receives the progress; nil discards it.
	Logger *slog.Logger
	// ProgressEvery is how many posts pass between two progress lines
	// (0 means 50,000).
	ProgressEvery int
	// BatchSize is the most posts per write (0 means dst's BatchSize).
	BatchSize int
	// Compact merges dst into one segment once written (see Compact):
	// a fresh index holds a segment per batch.
	Compact bool

	// afterWrite runs between writing and verifying (tests: a rebuild
	// that lost a post).
	afterWrite func(dst *Index) error
}

// RebuildStats is what Rebuild did.
type RebuildStats struct {
	Posts int
	Took  time.Duration
}

// DefaultProgressEvery is the default of RebuildOptions.ProgressEvery.
const DefaultProgressEvery = 50_000

// Rebuild writes every post of src into dst, which must be empty, as
// Dump reads them back (see there for what an index keeps), through
// dst's writer in batches, reading the next batch while one is written.
// It then compacts dst when asked, and verifies that dst holds exactly
// src's URIs: ErrRebuildMismatch otherwise. src must not change
// meanwhile (hold it open, so no other process writes to it).
func Rebuild(ctx context.Context, src, dst *Index, opts RebuildOptions) (RebuildStats, error) {
	t0 := time.Now()
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	every := opts.ProgressEvery
	if every <= 0 {
		every = DefaultProgressEvery
	}
	size := opts.BatchSize
	if size <= 0 {
		size = dst.opts.BatchSize
	}
	if n, err := dst.Count(); err != nil {
		return RebuildStats{}, fmt.Errorf("rebuilding index: counting the new index: %w", err)
	} else if n > 0 {
		return RebuildStats{}, fmt.Errorf("rebuilding index: the new index already holds %d posts", n)
	}
	total, err := src.Count()
	if err != nil {
		return RebuildStats{}, fmt.Errorf("rebuilding index: counting the old index: %w", err)
	}

	var stats RebuildStats
	g, gctx := errgroup.WithContext(ctx)
	batches := make(chan []model.Post, 1)
	g.Go(func() error {
		next := every
		for b := range batches {
			if err := dst.Index(gctx, b); err != nil {
				return fmt.Errorf("rebuilding index: writing posts: %w", err)
			}
			stats.Posts += len(b)
			if stats.Posts >= next {
				next += every
				el := time.Since(t0)
				log.Info("rebuilding search index", "posts", stats.Posts, "of", total,
					"per_second", int(float64(stats.Posts)/max(el.Seconds(), 1e-3)), "elapsed", el.Round(time.Second))
			}
		}
		return nil
	})
	g.Go(func() error {
		defer close(batches)
		send := func(b []model.Post) error {
			select {
			case batches <- b:
				return nil
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		cur := make([]model.Post, 0, size)
		err := src.Dump(gctx, func(p model.Post) error {
			if cur = append(cur, p); len(cur) < size {
				return nil
			}
			b := cur
			cur = make([]model.Post, 0, size)
			return send(b)
		})
		if err == nil && len(cur) > 0 {
			err = send(cur)
		}
		if err != nil {
			return fmt.Errorf("rebuilding index: reading posts: %w", err)
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return stats, err
	}
	if opts.afterWrite != nil {
		if err := opts.afterWrite(dst); err != nil {
			return stats, err
		}
	}
	if opts.Compact {
		c0 := time.Now()
		if err := dst.compactFully(ctx); err != nil {
			return stats, fmt.Errorf("rebuilding index: %w", err)
		}
		log.Info("rebuilt search index compacted", "segments", dst.Segments(), "took", time.Since(c0).Round(time.Millisecond))
	}
	if err := verifySameURIs(ctx, src, dst); err != nil {
		return stats, err
	}
	stats.Took = time.Since(t0)
	return stats, nil
}

// compactFully compacts the index into one segment, on disk. Compact
// merges the segments on disk only, and a snapshot is recorded on disk
// some time after it is made: so it waits until the index has settled
// (every segment and the latest snapshot persisted) before compacting,
// compacts again (a few times at most) while more than one segment is
// left, and waits until the compacted snapshot is recorded, so that
// closing the index keeps it.
func (ix *Index) compactFully(ctx context.Context) error {
	for attempt := 0; ; attempt++ {
		if err := ix.settle(ctx); err != nil {
			return err
		}
		if err := ix.Compact(ctx); err != nil {
			return err
		}
		if ix.Segments() <= 1 || attempt == 3 {
			return ix.settle(ctx)
		}
	}
}

// settleTimeout bounds settle: an index that does not settle is still
// complete (writes are persisted before Index returns), only perhaps
// not compacted on disk.
const settleTimeout = 2 * time.Minute

// settle waits until scorch's persister and merger have caught up with
// the index's current snapshot.
func (ix *Index) settle(ctx context.Context) error {
	adv, err := ix.idx.Advanced()
	if err != nil {
		return fmt.Errorf("waiting for the index to be persisted: %w", err)
	}
	s, ok := adv.(*scorch.Scorch)
	if !ok {
		return nil
	}
	deadline := time.Now().Add(settleTimeout)
	for {
		if active, _ := s.StatsMap()["index_bgthreads_active"].(bool); !active {
			return nil
		}
		if time.Now().After(deadline) {
			ix.log.Warn("the index did not settle: it may not be compacted on disk", "waited", settleTimeout)
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the index to be persisted: %w", ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// verifySameURIs checks that dst holds exactly src's URIs.
func verifySameURIs(ctx context.Context, src, dst *Index) error {
	want, err := src.AllURIs(ctx)
	if err != nil {
		return fmt.Errorf("verifying rebuilt index: %w", err)
	}
	got, err := dst.AllURIs(ctx)
	if err != nil {
		return fmt.Errorf("verifying rebuilt index: %w", err)
	}
	if slices.Equal(want, got) {
		return nil
	}
	missing, extra := sortedDiff(want, got)
	return fmt.Errorf("%w: %d posts in the old index, %d in the new one; %d missing (first: %s), %d extra (first: %s)",
		ErrRebuildMismatch, len(want), len(got), len(missing), firstOr(missing), len(extra), firstOr(extra))
}

// sortedDiff returns what of the sorted a is not in the sorted b, and the
// other way round.
func sortedDiff(a, b []string) (onlyA, onlyB []string) {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || i < len(a) && a[i] < b[j]:
			onlyA = append(onlyA, a[i])
			i++
		case i == len(a) || b[j] < a[i]:
			onlyB = append(onlyB, b[j])
			j++
		default:
			i++
			j++
		}
	}
	return onlyA, onlyB
}

func firstOr(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return fmt.Sprintf("%q", s[0])
}

// Names of the directories next to an index DIR that Reindex uses:
// DIR.reindex-STAMP while the new index is built, DIR.old-STAMP for the
// old index once swapped out.
const (
	reindexInfix = ".reindex-"
	oldInfix     = ".old-"
	stampLayout  = "20060102T150405Z"
)

// ReindexOptions configures Reindex.
type ReindexOptions struct {
	// Logger receives progress and the summary; nil discards them.
	Logger *slog.Logger
	// LockTimeout is how long to wait for a running fedilens to release
	// the index before failing with ErrLocked (0: Open's default).
	LockTimeout time.Duration
	// ProgressEvery: see RebuildOptions.
	ProgressEvery int
	// BatchSize is the new index's BatchSize (0: Open's default).
	BatchSize int
	// Now gives the time of the directory names (nil: time.Now).
	Now func() time.Time

	afterWrite func(dst *Index) error // see RebuildOptions
}

// ReindexResult is what Reindex did.
type ReindexResult struct {
	// Before is what the old index had of the current mapping.
	Before Features
	Posts  int
	// OldDir is where the old index is kept (DIR.old-STAMP): the user
	// rolls back by moving it back, or deletes it.
	OldDir string
	// OldBytes and NewBytes are the sizes on disk before and after.
	OldBytes, NewBytes int64
	Took               time.Duration
	// Removed are the incomplete DIR.reindex-* directories of earlier,
	// interrupted runs that were deleted.
	Removed []string
	// Finished is set when an earlier run was interrupted between its
	// two renames: its complete new index (this directory) was moved
	// into place before rebuilding.
	Finished string
}

// Reindex rebuilds the index in dir with the current mapping. It opens
// dir (failing with ErrLocked while a running fedilens holds it, with
// ErrNoIndex when there is none), deletes what interrupted earlier runs
// left, rebuilds into a new directory DIR.reindex-STAMP next to it
// (Rebuild, compacted and verified), makes it durable, closes both and
// swaps them with two renames: DIR to DIR.old-STAMP (kept), then
// DIR.reindex-STAMP to DIR. On any failure before the swap the new
// directory is removed and dir is left as it was.
//
// A crash leaves one of three states. Before the first rename: a
// DIR.reindex-STAMP beside DIR, perhaps incomplete, which the next
// Reindex deletes. Between the renames: no DIR, and the complete
// DIR.reindex-STAMP beside DIR.old-STAMP, which the next Open (any
// command) or Reindex moves into place (ReindexResult.Finished). After
// the second: the swap is done. No post of the old index is written,
// changed or deleted.
func Reindex(ctx context.Context, dir string, opts ReindexOptions) (ReindexResult, error) {
	t0 := time.Now()
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	dir = filepath.Clean(dir)
	var (
		res ReindexResult
		err error
	)
	if res.Finished, err = finishInterruptedReindex(dir, log); err != nil {
		return res, err
	}
	if !Exists(dir) {
		return res, fmt.Errorf("reindexing %s: %w", dir, ErrNoIndex)
	}

	src, err := Open(Options{Dir: dir, LockTimeout: opts.LockTimeout, CompactAfterIdle: -1})
	if err != nil {
		return res, err
	}
	srcOpen := true
	defer func() {
		if srcOpen {
			_ = src.Close()
		}
	}()
	res.Before = src.Features()
	// Holding dir, no other reindex runs: what is left beside it is
	// from interrupted runs.
	if res.Removed, err = removeLeftovers(dir); err != nil {
		return res, err
	}
	if res.OldBytes, err = DirSize(dir); err != nil {
		return res, fmt.Errorf("reindexing %s: %w", dir, err)
	}
	stamp, err := freeStamp(dir, now().UTC())
	if err != nil {
		return res, err
	}
	tmp := dir + reindexInfix + stamp

	dst, err := Open(Options{Dir: tmp, BatchSize: opts.BatchSize, CompactAfterIdle: -1, Logger: log})
	if err != nil {
		return res, fmt.Errorf("reindexing %s: creating the new index: %w", dir, err)
	}
	stats, err := Rebuild(ctx, src, dst, RebuildOptions{Logger: log, ProgressEvery: opts.ProgressEvery, Compact: true, afterWrite: opts.afterWrite})
	if cerr := dst.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("closing the new index: %w", cerr)
	}
	if err == nil {
		err = syncTree(tmp)
	}
	if err != nil {
		if rmErr := os.RemoveAll(tmp); rmErr != nil {
			log.Warn("removing the unfinished new index", "dir", tmp, "err", rmErr)
		}
		return res, fmt.Errorf("reindexing %s (the old index is untouched): %w", dir, err)
	}
	res.Posts = stats.Posts

	// The old index is closed before it is moved: its background
	// goroutines address files by the path.
	srcOpen = false
	if err := src.Close(); err != nil {
		_ = os.RemoveAll(tmp)
		return res, fmt.Errorf("reindexing %s: closing the old index: %w", dir, err)
	}
	old := dir + oldInfix + stamp
	if err := os.Rename(dir, old); err != nil {
		_ = os.RemoveAll(tmp)
		return res, fmt.Errorf("reindexing %s: moving the old index aside: %w", dir, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if back := os.Rename(old, dir); back != nil {
			return res, fmt.Errorf("reindexing %s: moving the new index into place: %w (and moving the old one back: %v; it is in %s, the new one in %s)", dir, err, back, old, tmp)
		}
		_ = os.RemoveAll(tmp)
		return res, fmt.Errorf("reindexing %s: moving the new index into place (the old one is back): %w", dir, err)
	}
	if err := syncDir(filepath.Dir(dir)); err != nil {
		return res, fmt.Errorf("reindexing %s: %w", dir, err)
	}
	res.OldDir = old
	if res.NewBytes, err = DirSize(dir); err != nil {
		return res, fmt.Errorf("reindexing %s: %w", dir, err)
	}
	res.Took = time.Since(t0)
	log.Info("search index rebuilt", "posts", res.Posts, "old_bytes", res.OldBytes, "new_bytes", res.NewBytes,
		"took", res.Took.Round(time.Millisecond), "old_index", old)
	return res, nil
}

// siblings returns the stamps of the directories next to dir named
// dir+infix+STAMP.
func siblings(dir, infix string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Dir(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", filepath.Dir(dir), err)
	}
	prefix := filepath.Base(dir) + infix
	var out []string
	for _, e := range entries {
		if stamp, ok := strings.CutPrefix(e.Name(), prefix); ok && stamp != "" && e.IsDir() {
			out = append(out, stamp)
		}
	}
	sort.Strings(out)
	return out, nil
}

// finishInterruptedReindex completes a swap interrupted between its
// renames: dir is missing, DIR.old-STAMP and DIR.reindex-STAMP exist, and
// the latter is complete (the old index is moved aside only once the new
// one is). It returns the directory moved into place, "" when there was
// none to move (dir exists, or nothing was interrupted). Open calls it,
// so that no command creates an empty index in the place of a rebuilt
// one.
func finishInterruptedReindex(dir string, log *slog.Logger) (string, error) {
	if dir == "" || Exists(dir) {
		return "", nil
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dir = filepath.Clean(dir)
	if _, err := os.Lstat(dir); err == nil {
		return "", nil // a directory without an index: not a swap
	}
	stamps, err := siblings(dir, reindexInfix)
	if err != nil {
		return "", fmt.Errorf("reindexing %s: %w", dir, err)
	}
	for i := len(stamps) - 1; i >= 0; i-- {
		s := stamps[i]
		done := dir + reindexInfix + s
		if _, err := os.Stat(dir + oldInfix + s); err != nil || !Exists(done) {
			continue
		}
		if err := os.Rename(done, dir); err != nil {
			return "", fmt.Errorf("reindexing %s: finishing an interrupted swap: %w", dir, err)
		}
		if err := syncDir(filepath.Dir(dir)); err != nil {
			return "", fmt.Errorf("reindexing %s: %w", dir, err)
		}
		log.Warn("a reindex was interrupted between its two renames: its complete new index is now in place", "from", done, "dir", dir)
		return done, nil
	}
	return "", nil
}

// removeLeftovers deletes the DIR.reindex-* directories beside dir (which
// exists): each is an unfinished rebuild.
func removeLeftovers(dir string) ([]string, error) {
	stamps, err := siblings(dir, reindexInfix)
	if err != nil {
		return nil, fmt.Errorf("reindexing %s: %w", dir, err)
	}
	var removed []string
	for _, s := range stamps {
		p := dir + reindexInfix + s
		if err := os.RemoveAll(p); err != nil {
			return removed, fmt.Errorf("reindexing %s: removing the unfinished %s: %w", dir, p, err)
		}
		removed = append(removed, p)
	}
	return removed, nil
}

// freeStamp returns a stamp of t for which neither DIR.reindex-STAMP nor
// DIR.old-STAMP exists (a suffix -2, -3, ... for runs in one second).
func freeStamp(dir string, t time.Time) (string, error) {
	base := t.Format(stampLayout)
	for i := 1; i <= 1000; i++ {
		s := base
		if i > 1 {
			s = fmt.Sprintf("%s-%d", base, i)
		}
		_, e1 := os.Lstat(dir + reindexInfix + s)
		_, e2 := os.Lstat(dir + oldInfix + s)
		if errors.Is(e1, fs.ErrNotExist) && errors.Is(e2, fs.ErrNotExist) {
			return s, nil
		}
	}
	return "", fmt.Errorf("reindexing %s: no free name for the new index", dir)
}

// DirSize is the size of the regular files under dir: an index on disk
// (reindex's sizes, the benchmarks').
func DirSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			n += fi.Size()
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("measuring %s: %w", dir, err)
	}
	return n, nil
}

// syncTree flushes every file and directory under dir to disk, so that
// the index is complete on disk before it is swapped in.
func syncTree(dir string) error {
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return syncDir(p)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		serr := f.Sync()
		if cerr := f.Close(); serr == nil {
			serr = cerr
		}
		return serr
	})
	if err != nil {
		return fmt.Errorf("flushing %s to disk: %w", dir, err)
	}
	return nil
}

// syncDir flushes a directory's entries (renames) to disk.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("flushing directory %s: %w", dir, err)
	}
	serr := f.Sync()
	if cerr := f.Close(); serr == nil {
		serr = cerr
	}
	if serr != nil {
		return fmt.Errorf("flushing directory %s: %w", dir, serr)
	}
	return nil
}
