// Package pipeline buffers what the crawler observes and writes it in
// batches: snapshots, peers, host states and post metadata to ClickHouse,
// post text to the Bleve index, and the purges consent requires.
//
// ClickHouse wants few large inserts (about one per second per table, 1k to
// 100k rows each) and 18.16 has no async inserts, so batching happens here,
// client-side. A flush writes, in this order: posts (to the index, then
// their metadata to ClickHouse) and boosts (ClickHouse only); purges
// (index, then ClickHouse) of the posts found gone at the source and of
// every post of the authors found without consent; the authors' consent
// checks, the post cursors and the posts crawl outcomes; peer lists,
// domain-block lists, snapshots, host states. A visit's parts
// are buffered together (AddVisit), and its snapshot is written after its
// posts and peers: a stored snapshot, which makes its host fresh at
// restart, always comes with the rest of its visit. A crash in between
// leaves at worst a host that is visited again. Cursors are written after
// the posts they lead past, so a crash never skips a post, and a
// withdrawal is recorded only after the purge it caused.
//
// No post (or boost) of an author who withdrew consent in the buffered
// visits, of an author an operator forgot, or found gone, is written by a
// flush: such posts are dropped before the write, and their stored copies
// purged.
package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/store"
)

// Store is the part of the ClickHouse store the pipeline writes to
// (*store.Store).
type Store interface {
	InsertSnapshots(ctx context.Context, snaps []model.Snapshot) error
	InsertPeers(ctx context.Context, peers []model.Peers) error
	// InsertBlocks writes public domain-block lists (as changes).
	InsertBlocks(ctx context.Context, blocks []model.Blocks) error
	UpsertHostStates(ctx context.Context, states []model.HostState) error
	InsertPosts(ctx context.Context, posts []model.Post) error

	// AuthorKey is the pseudonym ClickHouse keeps of an account.
	AuthorKey(acct string) string
	// PurgePosts removes the stored posts p matches and returns how many.
	PurgePosts(ctx context.Context, p store.Purge) (int, error)
	// ForgottenAuthors returns the keys of the authors an operator forgot.
	ForgottenAuthors(ctx context.Context) (map[string]bool, error)
	UpsertAuthors(ctx context.Context, authors []model.AuthorState) error
	UpsertPostCursors(ctx context.Context, cursors []model.PostCursor) error
	InsertPostAccess(ctx context.Context, access []model.HostPostAccess) error
}

// BoostWriter is the part of a Store that writes boosts (model.Boost);
// *store.Store has it. A Store without it never receives boosts: they are
// dropped at the flush, since a boost is only ever a statistic.
type BoostWriter interface {
	InsertBoosts(ctx context.Context, boosts []model.Boost) error
}

// Index is the part of the search index the pipeline writes to
// (*indexer.Index). Every delete is idempotent: deleting what is not
// indexed is no error.
type Index interface {
	Index(ctx context.Context, posts []model.Post) error
	// Delete removes posts by URI.
	Delete(ctx context.Context, uris []string) error
	// DeleteAuthors removes every post of the authors (user@host).
	DeleteAuthors(ctx context.Context, accts []string) (int, error)
	// DeleteHosts removes every post of the instances.
	DeleteHosts(ctx context.Context, hosts []string) (int, error)
	// DeleteBefore removes every post created before t.
	DeleteBefore(ctx context.Context, t time.Time) (int, error)
}

// Options configures a Pipeline.
type Options struct {
	// FlushEvery is the longest time an item waits in the buffer (default 1 s).
	FlushEvery time.Duration
	// MaxRows flushes early when this many items are buffered (default 10,000).
	MaxRows int
	// MaxPending is the most items buffered before AddVisit waits for a
	// flush to take them (default 4 x MaxRows). Without it a crawl that
	// fetches posts faster than the index takes them would buffer without
	// bound, and leave a backlog that the final flush of a crawl must
	// write before the process may exit.
	MaxPending int
	Logger     *slog.Logger
}

// Pipeline is a crawler.Sink that batches into a Store and an Index.
type Pipeline struct {
	store Store
	index Index
	opts  Options
	log   *slog.Logger

	mu      sync.Mutex
	snaps   []model.Snapshot
	peers   []model.Peers
	blocks  []model.Blocks
	states  []model.HostState
	posts   []model.Post
	boosts  []model.Boost
	authors []model.AuthorState
	gone    []string
	cursors []model.PostCursor
	access  []model.HostPostAccess
	rows    int
	// taken is closed (and replaced) whenever a flush takes the buffer:
	// AddVisit waits on it while the buffer is full.
	taken   chan struct{}
	flushMu sync.Mutex // one flush (or purge) at a time, in order

	kick   chan struct{}
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New starts a pipeline; Close flushes and stops it.
func New(store Store, index Index, opts Options) *Pipeline {
	if opts.FlushEvery <= 0 {
		opts.FlushEvery = time.Second
	}
	if opts.MaxRows <= 0 {
		opts.MaxRows = 10_000
	}
	if opts.MaxPending <= 0 {
		opts.MaxPending = 4 * opts.MaxRows
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Pipeline{store: store, index: index, opts: opts, log: opts.Logger, kick: make(chan struct{}, 1), cancel: cancel,
		taken: make(chan struct{})}
	p.wg.Add(1)
	go p.loop(ctx)
	return p
}

func (p *Pipeline) loop(ctx context.Context) {
	defer p.wg.Done()
	t := time.NewTicker(p.opts.FlushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-p.kick:
		}
		if err := p.Flush(ctx); err != nil && ctx.Err() == nil {
			p.log.Error("flushing batches failed; will retry", "err", err)
		}
	}
}

// waitRoom waits until the buffer holds fewer than MaxPending items.
func (p *Pipeline) waitRoom(ctx context.Context) error {
	for {
		p.mu.Lock()
		if p.rows < p.opts.MaxPending {
			p.mu.Unlock()
			return nil
		}
		taken := p.taken
		p.mu.Unlock()
		select {
		case p.kick <- struct{}{}:
		default:
		}
		select {
		case <-taken:
		case <-ctx.Done():
			return fmt.Errorf("waiting for the pipeline to take a visit: %w", ctx.Err())
		}
	}
}

func (p *Pipeline) added(n int) {
	p.rows += n
	if p.rows >= p.opts.MaxRows {
		select {
		case p.kick <- struct{}{}:
		default:
		}
	}
}

// AddSnapshot implements crawler.Sink.
func (p *Pipeline) AddSnapshot(_ context.Context, s model.Snapshot) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.snaps = append(p.snaps, s)
	p.added(1)
	return nil
}

// AddPeers implements crawler.Sink.
func (p *Pipeline) AddPeers(_ context.Context, peers model.Peers) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.peers = append(p.peers, peers)
	p.added(len(peers.Peers) + 1)
	return nil
}

// AddVisit implements crawler.Sink: the parts of a visit join the buffers
// under one lock, so a flush takes a visit whole or not at all. While the
// buffer holds MaxPending items or more, AddVisit waits for a flush to
// take them (or for ctx to end): the crawl slows to the pace of the
// writes instead of buffering without bound.
func (p *Pipeline) AddVisit(ctx context.Context, v model.Visit) error {
	if err := p.waitRoom(ctx); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 1 + len(v.Posts)
	p.posts = append(p.posts, v.Posts...)
	if v.Peers != nil {
		p.peers = append(p.peers, *v.Peers)
		n += len(v.Peers.Peers)
	}
	if v.Blocks != nil {
		p.blocks = append(p.blocks, *v.Blocks)
		n += len(v.Blocks.Blocks)
	}
	if v.Snapshot != nil {
		p.snaps = append(p.snaps, *v.Snapshot)
		n++
	}
	p.states = append(p.states, v.State)
	if pv := v.PostVisit; pv != nil {
		p.authors = append(p.authors, pv.Authors...)
		p.gone = append(p.gone, pv.Gone...)
		p.boosts = append(p.boosts, pv.Boosts...)
		n += len(pv.Boosts)
		p.cursors = append(p.cursors, pv.Cursors...)
		host := pv.Host
		if host == "" {
			host = v.State.Host
		}
		crawled := v.State.LastAttempt
		if crawled.IsZero() {
			crawled = time.Now()
		}
		p.access = append(p.access, model.HostPostAccess{Host: host, Crawled: crawled, Source: pv.Source,
			Access: pv.Access, Requests: pv.Requests, Skipped: pv.Skipped})
		n += len(pv.Authors) + len(pv.Gone) + len(pv.Cursors) + 1
	}
	p.added(n)
	return nil
}

// AddHostState implements crawler.Sink.
func (p *Pipeline) AddHostState(_ context.Context, s model.HostState) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.states = append(p.states, s)
	p.added(1)
	return nil
}

// AddPosts implements crawler.Sink.
func (p *Pipeline) AddPosts(_ context.Context, posts []model.Post) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.posts = append(p.posts, posts...)
	p.added(len(posts))
	return nil
}

// Flush writes everything buffered. On error the unwritten batches are put
// back in front of the buffer, so nothing is lost and order is kept; a
// purge that failed is repeated by the next flush (purges are idempotent).
func (p *Pipeline) Flush(ctx context.Context) error {
	p.flushMu.Lock()
	defer p.flushMu.Unlock()
	p.mu.Lock()
	snaps, peers, states, posts := p.snaps, p.peers, p.states, p.posts
	blocks := p.blocks
	p.blocks = nil
	boosts := p.boosts
	p.boosts = nil
	authors, gone, cursors, access := p.authors, p.gone, p.cursors, p.access
	p.snaps, p.peers, p.states, p.posts, p.rows = nil, nil, nil, nil, 0
	p.authors, p.gone, p.cursors, p.access = nil, nil, nil, nil
	close(p.taken)
	p.taken = make(chan struct{})
	p.mu.Unlock()

	withdrawn := withdrawnAuthors(authors)
	// Stop at the first failure: a later table must never get ahead of an
	// earlier one (see the package doc).
	err := func() error {
		if len(posts) > 0 {
			kept, err := p.admissible(ctx, posts, withdrawn, gone)
			if err != nil {
				return err
			}
			if len(kept) > 0 {
				if err := p.index.Index(ctx, kept); err != nil {
					return fmt.Errorf("indexing %d posts: %w", len(kept), err)
				}
				if err := p.store.InsertPosts(ctx, kept); err != nil {
					return fmt.Errorf("writing %d posts: %w", len(kept), err)
				}
			}
			posts = nil
		}
		if len(boosts) > 0 {
			if err := p.writeBoosts(ctx, boosts, withdrawn, gone); err != nil {
				return err
			}
			boosts = nil
		}
		if len(gone) > 0 || len(withdrawn) > 0 {
			if err := p.purge(ctx, gone, withdrawn); err != nil {
				return err
			}
			gone = nil
		}
		if len(authors) > 0 {
			if err := p.store.UpsertAuthors(ctx, authors); err != nil {
				return fmt.Errorf("writing %d author checks: %w", len(authors), err)
			}
			authors = nil
		}
		if len(cursors) > 0 {
			if err := p.store.UpsertPostCursors(ctx, cursors); err != nil {
				return fmt.Errorf("writing %d post cursors: %w", len(cursors), err)
			}
			cursors = nil
		}
		if len(access) > 0 {
			if err := p.store.InsertPostAccess(ctx, access); err != nil {
				return fmt.Errorf("writing %d post access rows: %w", len(access), err)
			}
			access = nil
		}
		if len(peers) > 0 {
			if err := p.store.InsertPeers(ctx, peers); err != nil {
				return fmt.Errorf("writing %d peer lists: %w", len(peers), err)
			}
			peers = nil
		}
		if len(blocks) > 0 {
			if err := p.store.InsertBlocks(ctx, blocks); err != nil {
				return fmt.Errorf("writing %d block lists: %w", len(blocks), err)
			}
			blocks = nil
		}
		if len(snaps) > 0 {
			if err := p.store.InsertSnapshots(ctx, snaps); err != nil {
				return fmt.Errorf("writing %d snapshots: %w", len(snaps), err)
			}
			snaps = nil
		}
		if len(states) > 0 {
			if err := p.store.UpsertHostStates(ctx, states); err != nil {
				return fmt.Errorf("writing %d host states: %w", len(states), err)
			}
			states = nil
		}
		return nil
	}()
	left := len(snaps) + len(peers) + len(states) + len(posts) + len(authors) + len(gone) + len(cursors) + len(access)
	left += len(blocks) + len(boosts)
	if left > 0 {
		p.mu.Lock()
		p.snaps = append(snaps, p.snaps...)
		p.peers = append(peers, p.peers...)
		p.blocks = append(blocks, p.blocks...)
		p.boosts = append(boosts, p.boosts...)
		p.states = append(states, p.states...)
		p.posts = append(posts, p.posts...)
		p.authors = append(authors, p.authors...)
		p.gone = append(gone, p.gone...)
		p.cursors = append(cursors, p.cursors...)
		p.access = append(access, p.access...)
		p.rows += left
		p.mu.Unlock()
	}
	return err
}

// withdrawnAuthors returns the authors whose last check among states
// found no consent, in the order first seen. An author who consented
// again later in the same batch keeps their posts.
func withdrawnAuthors(states []model.AuthorState) []string {
	last := make(map[string]bool, len(states))
	var order []string
	for _, a := range states {
		if a.Author == "" {
			continue
		}
		if _, seen := last[a.Author]; !seen {
			order = append(order, a.Author)
		}
		last[a.Author] = a.Consent
	}
	var out []string
	for _, a := range order {
		if !last[a] {
			out = append(out, a)
		}
	}
	return out
}

// admissible drops the posts that must not be stored although a crawl
// produced them: of an author withdrawn in this batch, of an author an
// operator forgot, or found gone in this batch.
func (p *Pipeline) admissible(ctx context.Context, posts []model.Post, withdrawn, gone []string) ([]model.Post, error) {
	forgotten, err := p.store.ForgottenAuthors(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading forgotten authors: %w", err)
	}
	if len(forgotten)+len(withdrawn)+len(gone) == 0 {
		return posts, nil
	}
	drop := make(map[string]bool, len(withdrawn)+len(gone))
	for _, a := range withdrawn {
		drop["a:"+a] = true
	}
	for _, u := range gone {
		drop["u:"+u] = true
	}
	kept := make([]model.Post, 0, len(posts))
	dropped := 0
	for _, post := range posts {
		if drop["a:"+post.Author] || drop["u:"+post.URI] || (len(forgotten) > 0 && forgotten[p.store.AuthorKey(post.Author)]) {
			dropped++
			continue
		}
		kept = append(kept, post)
	}
	if dropped > 0 {
		p.log.Debug("dropped posts of withdrawn, forgotten or deleted sources", "posts", dropped)
	}
	return kept, nil
}

// writeBoosts writes the buffered boosts after the posts of the same
// flush, under the same rules (admissible): none of an author withdrawn in
// this flush or forgotten, none found gone (an undone boost).
func (p *Pipeline) writeBoosts(ctx context.Context, boosts []model.Boost, withdrawn, gone []string) error {
	bw, ok := p.store.(BoostWriter)
	if !ok {
		return nil
	}
	forgotten, err := p.store.ForgottenAuthors(ctx)
	if err != nil {
		return fmt.Errorf("reading forgotten authors: %w", err)
	}
	drop := make(map[string]bool, len(withdrawn)+len(gone))
	for _, a := range withdrawn {
		drop["a:"+a] = true
	}
	for _, u := range gone {
		drop["u:"+u] = true
	}
	kept := make([]model.Boost, 0, len(boosts))
	for _, b := range boosts {
		if drop["a:"+b.Author] || drop["u:"+b.URI] || (len(forgotten) > 0 && forgotten[p.store.AuthorKey(b.Author)]) {
			continue
		}
		kept = append(kept, b)
	}
	if len(kept) == 0 {
		return nil
	}
	if err := bw.InsertBoosts(ctx, kept); err != nil {
		return fmt.Errorf("writing %d boosts: %w", len(kept), err)
	}
	return nil
}

// purge removes posts gone at the source and every post of the withdrawn
// authors, from the index first, then from ClickHouse: a post is never
// findable in search without its metadata row.
func (p *Pipeline) purge(ctx context.Context, gone, withdrawn []string) error {
	if len(gone) > 0 {
		if err := p.index.Delete(ctx, gone); err != nil {
			return fmt.Errorf("purging %d gone posts from the index: %w", len(gone), err)
		}
	}
	if len(withdrawn) > 0 {
		if _, err := p.index.DeleteAuthors(ctx, withdrawn); err != nil {
			return fmt.Errorf("purging the posts of %d withdrawn authors from the index: %w", len(withdrawn), err)
		}
	}
	keys := make([]string, len(withdrawn))
	for i, a := range withdrawn {
		keys[i] = p.store.AuthorKey(a)
	}
	n, err := p.store.PurgePosts(ctx, store.Purge{URIs: gone, AuthorKeys: keys})
	if err != nil {
		return fmt.Errorf("purging %d gone posts and the posts of %d withdrawn authors: %w", len(gone), len(withdrawn), err)
	}
	if n > 0 {
		p.log.Info("purged posts", "gone", len(gone), "withdrawn_authors", len(withdrawn), "stored_posts_removed", n)
	}
	return nil
}

// Close stops the background flusher and flushes what is left, within
// ctx's deadline.
func (p *Pipeline) Close(ctx context.Context) error {
	p.cancel()
	p.wg.Wait()
	return p.Flush(ctx)
}
