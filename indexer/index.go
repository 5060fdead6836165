// Package indexer keeps the full-text index of opted-in public posts in
// Bleve, on disk under the data directory.
//
// The mapping is static and tuned (see LIBRARIES.md: the default dynamic
// mapping is 2.6x slower and 3.8x larger): a post's text, content warning
// and media descriptions are analysed once, in the fields of the post's
// language (see NewMapping), identifiers are keywords, and nothing is
// indexed that search does not use.
//
// All writes go through one writer goroutine, because a Bleve batch is not
// safe for concurrent use: Index and the Delete methods enqueue their
// documents and return once the batch holding them has been applied, so a
// caller that got nil knows its change is durable. The writer coalesces
// concurrent calls into batches of up to Options.BatchSize documents, and
// only ever uses safe batches (unsafe_batch loses documents on Close).
// Documents are keyed by the post URI, so re-indexing a post replaces it
// and deleting by URI removes it.
package indexer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/prometheus/client_golang/prometheus"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/fedilens/fedilens/internal/model"
)

// lockTimeout is how long Open waits for another process to release the index.
const lockTimeout = 2 * time.Second

// Errors of the index.
var (
	// ErrLocked means another process has the index open.
	ErrLocked = errors.New("index is locked by another process")
	// ErrClosed is returned by writes after Close.
	ErrClosed = errors.New("index is closed")
)

// Options configures an Index.
type Options struct {
	// Dir is where the index lives. "" keeps it in memory (tests).
	Dir string
	// BatchSize is the most documents per Bleve batch (default 1000:
	// larger batches were no faster and used 2.3x the memory).
	BatchSize int
	Logger    *slog.Logger
	// Registerer receives the indexer's metrics; nil registers none.
	Registerer prometheus.Registerer
	// CompactAfterIdle is how long the index must go without writes
	// before it is compacted (Compact), when it holds at least
	// CompactSegments segments: 0 means DefaultCompactAfterIdle, a
	// negative value never compacts on its own.
	CompactAfterIdle time.Duration
	// CompactSegments is the fewest segments worth compacting (0 means
	// DefaultCompactSegments).
	CompactSegments int
	// LockTimeout is how long Open waits for another process to release
	// the index before it fails with ErrLocked (0 means 2 s): a command
	// that must not run beside a running fedilens asks with a short one.
	LockTimeout time.Duration
}

// Defaults of the compaction options.
const (
	DefaultCompactAfterIdle = 2 * time.Minute
	DefaultCompactSegments  = 6
)

// Index is the post index.
type Index struct {
	idx     bleve.Index
	opts    Options
	log     *slog.Logger
	metrics *metrics

	// legacySort is set for an index created before the sort key (see
	// Features.SortKey): it is sorted by creation time and _id.
	legacySort bool
	// hasDay is set for an index with the day field (see dateQuery).
	hasDay bool
	// bleveFacets has Bleve count facets, for an index that is not
	// scorch's (and in tests, to compare); facets has the columns that
	// count them otherwise (facets.go).
	bleveFacets bool
	// hasPairs is set for an index with the word-pair fields (phrase.go).
	hasPairs bool
	// plainPhrases searches phrases without the word pairs (in tests, to
	// compare).
	plainPhrases bool
	facets       facetCache

	// families holds the set of analyser families (map[string]bool,
	// never mutated once stored) that have posts in the index: queries
	// only search those families' fields.
	families atomic.Pointer[map[string]bool]

	// closeMu guards closed and the send side of ops.
	closeMu sync.RWMutex
	closed  bool
	ops     chan *writeOp
	done    chan struct{} // closed when the writer goroutine ends

	// lastWrite is when the writer last applied a batch (UnixNano);
	// stopMaint ends the compaction goroutine, maintDone says it ended.
	lastWrite atomic.Int64
	stopMaint context.CancelFunc
	maintDone chan struct{}
}

type metrics struct {
	indexed     prometheus.Counter
	deleted     prometheus.Counter
	batchMS     prometheus.Histogram
	compactions prometheus.Counter
}

// writeOp is one call's worth of writes, applied by the writer goroutine.
type writeOp struct {
	index  []model.Post
	delete []string
	result chan error // buffered: the writer never blocks on it
}

// Open opens the index in opts.Dir, creating it when it does not exist,
// and starts its writer goroutine; Close stops it.
func Open(opts Options) (*Index, error) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 1000
	}
	if opts.CompactAfterIdle == 0 {
		opts.CompactAfterIdle = DefaultCompactAfterIdle
	}
	if opts.CompactSegments <= 0 {
		opts.CompactSegments = DefaultCompactSegments
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var (
		idx bleve.Index
		err error
	)
	// A reindex interrupted between its two renames left no index in
	// Dir but its complete new one beside it: that one, not a new empty
	// index, is Dir's (rebuild.go).
	if _, err := finishInterruptedReindex(opts.Dir, log); err != nil {
		return nil, err
	}
	switch {
	case opts.Dir == "":
		idx, err = bleve.NewMemOnly(NewMapping())
	default:
		// Another process holding the index must give an error, not a
		// wait forever on the lock file.
		timeout := lockTimeout
		if opts.LockTimeout > 0 {
			timeout = opts.LockTimeout
		}
		cfg := map[string]any{"bolt_timeout": timeout.String()}
		if Exists(opts.Dir) {
			idx, err = bleve.OpenUsing(opts.Dir, cfg)
		} else {
			if mkErr := os.MkdirAll(filepath.Dir(opts.Dir), 0o750); mkErr != nil {
				return nil, fmt.Errorf("creating index directory: %w", mkErr)
			}
			idx, err = bleve.NewUsing(opts.Dir, NewMapping(), bleve.Config.DefaultIndexType, bleve.Config.DefaultKVStore, cfg)
		}
	}
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("opening bleve index %s: %w (is another fedilens using the same --data directory?)", opts.Dir, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("opening bleve index %s: %w", opts.Dir, err)
	}
	ix := &Index{idx: idx, opts: opts, log: log, metrics: newMetrics(opts.Registerer),
		ops: make(chan *writeOp, 64), done: make(chan struct{})}
	fams := map[string]bool{}
	fields, err := idx.Fields()
	if err != nil {
		_ = idx.Close()
		return nil, fmt.Errorf("listing index fields: %w", err)
	}
	for _, f := range fields {
		if fam, ok := familyOfField(f); ok {
			fams[fam] = true
		}
	}
	ix.families.Store(&fams)
	f := mappingFeatures(idx.Mapping())
	ix.hasDay, ix.hasPairs, ix.legacySort = f.DayNumber, f.WordPairs, !f.SortKey
	if !f.WordPairs || !f.SortKey {
		log.Warn("search index predates parts of the current mapping: those searches take slower paths until it is rebuilt (fedilens reindex)",
			"dir", opts.Dir, "missing", f.Missing())
	}
	if adv, err := idx.Advanced(); err != nil {
		ix.bleveFacets = true
	} else if _, ok := adv.(*scorch.Scorch); !ok {
		ix.bleveFacets = true
	}
	ix.lastWrite.Store(time.Now().UnixNano())
	go ix.writer()
	mctx, stop := context.WithCancel(context.Background())
	ix.stopMaint, ix.maintDone = stop, make(chan struct{})
	go ix.maintain(mctx)
	return ix, nil
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		indexed:     prometheus.NewCounter(prometheus.CounterOpts{Name: "fedilens_index_documents_indexed_total", Help: "Posts written to the search index."}),
		deleted:     prometheus.NewCounter(prometheus.CounterOpts{Name: "fedilens_index_documents_deleted_total", Help: "Posts deleted from the search index."}),
		batchMS:     prometheus.NewHistogram(prometheus.HistogramOpts{Name: "fedilens_index_batch_seconds", Help: "Time to apply one index batch.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 8)}),
		compactions: prometheus.NewCounter(prometheus.CounterOpts{Name: "fedilens_index_compactions_total", Help: "Compactions of the search index after it went idle."}),
	}
	if reg != nil {
		reg.MustRegister(m.indexed, m.deleted, m.batchMS, m.compactions)
	}
	return m
}

// Close applies the writes already queued, stops the writer and closes
// the index. Writes after Close fail with ErrClosed.
func (ix *Index) Close() error {
	ix.closeMu.Lock()
	if ix.closed {
		ix.closeMu.Unlock()
		return nil
	}
	ix.closed = true
	close(ix.ops)
	ix.closeMu.Unlock()
	<-ix.done
	// A compaction in progress ends when the index closes, not when its
	// context does.
	ix.stopMaint()
	err := ix.idx.Close()
	<-ix.maintDone
	return err
}

// Count returns the number of posts in the index.
func (ix *Index) Count() (uint64, error) { return ix.idx.DocCount() }

// Index adds or replaces posts, keyed by URI, and returns once they are
// applied. Posts without a URI are an error, and then nothing of the call
// is applied. When ctx ends first, Index returns its error and the posts
// may still be applied.
func (ix *Index) Index(ctx context.Context, posts []model.Post) error {
	for _, p := range posts {
		if p.URI == "" {
			return errors.New("indexing post: empty URI")
		}
	}
	if len(posts) == 0 {
		return nil
	}
	return ix.submit(ctx, &writeOp{index: posts})
}

// Delete removes posts by URI and returns once that is applied; unknown
// URIs are ignored.
func (ix *Index) Delete(ctx context.Context, uris []string) error {
	if len(uris) == 0 {
		return nil
	}
	return ix.submit(ctx, &writeOp{delete: uris})
}

// submit hands op to the writer and waits for its result.
func (ix *Index) submit(ctx context.Context, op *writeOp) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	op.result = make(chan error, 1)
	ix.closeMu.RLock()
	if ix.closed {
		ix.closeMu.RUnlock()
		return ErrClosed
	}
	select {
	case ix.ops <- op:
	case <-ctx.Done():
		ix.closeMu.RUnlock()
		return ctx.Err()
	}
	ix.closeMu.RUnlock()
	select {
	case err := <-op.result:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// writer is the one goroutine that writes to the index. It takes a write,
// adds whatever else is already queued up to a batch's worth, applies the
// group in batches in arrival order (so a delete after an index of the
// same URI wins), then reports to every caller of the group.
func (ix *Index) writer() {
	defer close(ix.done)
	for op := range ix.ops {
		group := []*writeOp{op}
		n := len(op.index) + len(op.delete)
	drain:
		for n < ix.opts.BatchSize {
			select {
			case more, ok := <-ix.ops:
				if !ok {
					break drain
				}
				group = append(group, more)
				n += len(more.index) + len(more.delete)
			default:
				break drain
			}
		}
		ix.apply(group)
		ix.lastWrite.Store(time.Now().UnixNano())
	}
}

// apply writes a group of operations in batches of at most BatchSize
// documents and sends each operation the first error of a batch it was in.
func (ix *Index) apply(group []*writeOp) {
	errs := make([]error, len(group))
	var (
		b       = ix.idx.NewBatch()
		members []int // ops with documents in b
		indexed int
		deleted int
		newFams map[string]bool
	)
	flush := func() {
		if b.Size() == 0 {
			return
		}
		t0 := time.Now()
		err := ix.idx.Batch(b)
		ix.metrics.batchMS.Observe(time.Since(t0).Seconds())
		if err != nil {
			err = fmt.Errorf("applying index batch: %w", err)
			ix.log.Error("index batch failed", "docs", b.Size(), "err", err)
			for _, i := range members {
				if errs[i] == nil {
					errs[i] = err
				}
			}
		} else {
			ix.metrics.indexed.Add(float64(indexed))
			ix.metrics.deleted.Add(float64(deleted))
		}
		b = ix.idx.NewBatch() // not Reset: the in-memory index may still read the old one
		members, indexed, deleted = members[:0], 0, 0
	}
	known := *ix.families.Load()
	for i, op := range group {
		for _, p := range op.index {
			fam := familyOf(p.Language)
			if !known[fam] && !newFams[fam] {
				if newFams == nil {
					newFams = map[string]bool{}
				}
				newFams[fam] = true
			}
			if err := b.Index(p.URI, toDoc(p)); err != nil && errs[i] == nil {
				errs[i] = fmt.Errorf("indexing post %s: %w", p.URI, err)
			}
			indexed++
			if len(members) == 0 || members[len(members)-1] != i {
				members = append(members, i)
			}
			if b.Size() >= ix.opts.BatchSize {
				flush()
			}
		}
		for _, u := range op.delete {
			b.Delete(u)
			deleted++
			if len(members) == 0 || members[len(members)-1] != i {
				members = append(members, i)
			}
			if b.Size() >= ix.opts.BatchSize {
				flush()
			}
		}
	}
	flush()
	if newFams != nil {
		// Publish the new families only once their documents are in: a
		// query may search a field with no documents, never miss one.
		merged := make(map[string]bool, len(known)+len(newFams))
		for f := range known {
			merged[f] = true
		}
		for f := range newFams {
			merged[f] = true
		}
		ix.families.Store(&merged)
	}
	for i, op := range group {
		op.result <- errs[i]
	}
}

// AllURIs returns the URI of every post in the index, sorted. It reads the
// index in pages, for verification, purges and reindexing.
func (ix *Index) AllURIs(ctx context.Context) ([]string, error) {
	return ix.idsMatching(ctx, bleve.NewMatchAllQuery())
}

// DeleteAuthors removes every post of the given authors (user@host, case
// insensitive) and returns how many it removed. Posts of the authors that
// are indexed while it runs may survive: stop ingesting an author first.
func (ix *Index) DeleteAuthors(ctx context.Context, accts []string) (int, error) {
	qs := make([]query.Query, 0, len(accts))
	for _, a := range accts {
		a = strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(a, "acct:"), "@"))
		if a != "" {
			qs = append(qs, termQuery(fieldAuthor, a))
		}
	}
	return ix.deleteMatching(ctx, qs)
}

// DeleteHosts removes every post of the given instances and returns how
// many it removed.
func (ix *Index) DeleteHosts(ctx context.Context, hosts []string) (int, error) {
	qs := make([]query.Query, 0, len(hosts))
	for _, h := range hosts {
		if h = strings.TrimSuffix(strings.ToLower(h), "."); h != "" {
			qs = append(qs, termQuery(fieldHost, h))
		}
	}
	return ix.deleteMatching(ctx, qs)
}

// DeleteBefore removes every post created before t (the retention limit)
// and returns how many it removed.
func (ix *Index) DeleteBefore(ctx context.Context, t time.Time) (int, error) {
	inclusive := false
	q := bleve.NewDateRangeInclusiveQuery(time.Time{}, t.UTC(), nil, &inclusive)
	q.SetField(fieldCreated)
	return ix.deleteMatching(ctx, []query.Query{q})
}

// deleteMatching deletes the posts matching any of qs, in batches.
func (ix *Index) deleteMatching(ctx context.Context, qs []query.Query) (int, error) {
	if len(qs) == 0 {
		return 0, nil
	}
	// Bounded disjunctions: a long list is handled in slices.
	const perQuery = 256
	total := 0
	for start := 0; start < len(qs); start += perQuery {
		ids, err := ix.idsMatching(ctx, bleve.NewDisjunctionQuery(qs[start:min(start+perQuery, len(qs))]...))
		if err != nil {
			return total, err
		}
		if err := ix.Delete(ctx, ids); err != nil {
			return total, fmt.Errorf("deleting %d posts: %w", len(ids), err)
		}
		total += len(ids)
	}
	return total, nil
}

// idsMatching returns the IDs of every document matching q, sorted, read
// in pages with SearchAfter so memory stays bounded by one page besides
// the result.
func (ix *Index) idsMatching(ctx context.Context, q query.Query) ([]string, error) {
	var out []string
	const page = 10000
	var after []string
	for {
		req := bleve.NewSearchRequestOptions(q, page, 0, false)
		req.SortBy([]string{"_id"})
		req.Score = "none"
		if after != nil {
			req.SearchAfter = after
		}
		res, err := ix.idx.SearchInContext(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("listing index: %w", err)
		}
		for _, h := range res.Hits {
			out = append(out, h.ID)
		}
		if len(res.Hits) < page {
			return out, nil
		}
		after = []string{res.Hits[len(res.Hits)-1].ID}
	}
}

func termQuery(field, v string) query.Query {
	q := bleve.NewTermQuery(v)
	q.SetField(field)
	return q
}
