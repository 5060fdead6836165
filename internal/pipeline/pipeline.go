// Package pipeline buffers what the crawler observes and writes it in
// batches: snapshots, peers, host states and post metadata to ClickHouse,
// post text to the Bleve index.
//
// ClickHouse wants few large inserts (about one per second per table, 1k to
// 100k rows each) and 18.16 has no async inserts, so batching happens here,
// client-side. A flush writes, in this order: posts (to the index, then
// their metadata to ClickHouse), peer lists, snapshots, host states. A
// visit's parts are buffered together (AddVisit), and its snapshot is
// written after its posts and peers: a stored snapshot, which makes its host
// fresh at restart, always comes with the rest of its visit. A crash in
// between leaves at worst a host that is visited again.
package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/fedilens/fedilens/internal/model"
)

// Store is the part of the ClickHouse store the pipeline writes to.
type Store interface {
	InsertSnapshots(ctx context.Context, snaps []model.Snapshot) error
	InsertPeers(ctx context.Context, peers []model.Peers) error
	UpsertHostStates(ctx context.Context, states []model.HostState) error
	InsertPosts(ctx context.Context, posts []model.Post) error
}

// Index is the part of the search index the pipeline writes to.
type Index interface {
	Index(ctx context.Context, posts []model.Post) error
}

// Options configures a Pipeline.
type Options struct {
	// FlushEvery is the longest time an item waits in the buffer (default 1 s).
	FlushEvery time.Duration
	// MaxRows flushes early when this many items are buffered (default 10,000).
	MaxRows int
	Logger  *slog.Logger
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
	states  []model.HostState
	posts   []model.Post
	rows    int
	flushMu sync.Mutex // one flush at a time, in order

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
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Pipeline{store: store, index: index, opts: opts, log: opts.Logger, kick: make(chan struct{}, 1), cancel: cancel}
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
// under one lock, so a flush takes a visit whole or not at all.
func (p *Pipeline) AddVisit(_ context.Context, v model.Visit) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 1 + len(v.Posts)
	p.posts = append(p.posts, v.Posts...)
	if v.Peers != nil {
		p.peers = append(p.peers, *v.Peers)
		n += len(v.Peers.Peers)
	}
	if v.Snapshot != nil {
		p.snaps = append(p.snaps, *v.Snapshot)
		n++
	}
	p.states = append(p.states, v.State)
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
// back in front of the buffer, so nothing is lost and order is kept.
func (p *Pipeline) Flush(ctx context.Context) error {
	p.flushMu.Lock()
	defer p.flushMu.Unlock()
	p.mu.Lock()
	snaps, peers, states, posts := p.snaps, p.peers, p.states, p.posts
	p.snaps, p.peers, p.states, p.posts, p.rows = nil, nil, nil, nil, 0
	p.mu.Unlock()

	// Stop at the first failure: a later table must never get ahead of an
	// earlier one (see the package doc).
	err := func() error {
		if len(posts) > 0 {
			if err := p.index.Index(ctx, posts); err != nil {
				return fmt.Errorf("indexing %d posts: %w", len(posts), err)
			}
			if err := p.store.InsertPosts(ctx, posts); err != nil {
				return fmt.Errorf("writing %d posts: %w", len(posts), err)
			}
			posts = nil
		}
		if len(peers) > 0 {
			if err := p.store.InsertPeers(ctx, peers); err != nil {
				return fmt.Errorf("writing %d peer lists: %w", len(peers), err)
			}
			peers = nil
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
	if len(snaps)+len(peers)+len(states)+len(posts) > 0 {
		p.mu.Lock()
		p.snaps = append(snaps, p.snaps...)
		p.peers = append(peers, p.peers...)
		p.states = append(states, p.states...)
		p.posts = append(posts, p.posts...)
		p.rows += len(snaps) + len(peers) + len(states) + len(posts)
		p.mu.Unlock()
	}
	return err
}

// Close stops the background flusher and flushes what is left, within
// ctx's deadline.
func (p *Pipeline) Close(ctx context.Context) error {
	p.cancel()
	p.wg.Wait()
	return p.Flush(ctx)
}
