package main

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fedilens/fedilens/api"
	"github.com/fedilens/fedilens/crawler"
	"github.com/fedilens/fedilens/indexer"
	"github.com/fedilens/fedilens/internal/gctune"
	"github.com/fedilens/fedilens/internal/pipeline"
	"github.com/fedilens/fedilens/internal/store"
)

// storage is what crawl, run and serve work on: the ClickHouse store, the
// search index and the operator's controls. close releases them in the
// reverse order of opening.
type storage struct {
	st      *store.Store
	ix      *indexer.Index
	closers []func()
}

func (s *storage) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

// openStorage checks the operator settings first (a bad --admin-token or
// --deny is a usage error before anything starts), then opens the store
// (managed ClickHouse included), the index and the controls.
func (c *common) openStorage(ctx context.Context, log *slog.Logger, reg prometheus.Registerer) (*storage, error) {
	if err := api.CheckAdminToken(c.adminToken); err != nil {
		return nil, usageErr("--admin-token: %v", err)
	}
	if _, err := c.denylist(); err != nil {
		return nil, err
	}
	if err := c.ensureData(); err != nil {
		return nil, err
	}
	s := &storage{}
	st, stopStore, err := c.openStore(ctx, log)
	if err != nil {
		return nil, err
	}
	s.st = st
	s.closers = append(s.closers, func() { stopStore(context.Background()) })
	if s.ix, err = c.openIndex(log, reg); err != nil {
		s.close()
		return nil, err
	}
	ix := s.ix
	s.closers = append(s.closers, func() { _ = ix.Close() })
	if _, err := c.openControls(ctx, st, ix, log); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// crawlJob is everything crawl and run build before crawling: the
// simulator when asked for, the hardened client, the storage, the batching
// pipeline and the crawler. close flushes the pipeline first (on a context
// detached from cancellation, bounded), then releases the rest.
type crawlJob struct {
	*storage
	reg *prometheus.Registry
	m   *crawler.Manager
}

func setupCrawl(ctx context.Context, c *common, f *crawlFlags, log *slog.Logger, stderr io.Writer) (*crawlJob, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	ca, stopSim, err := simSetup(ctx, c, f, log)
	if err != nil {
		return nil, err
	}
	f.progress = terminal(stderr)
	seeds, err := crawlSeeds(c, f)
	if err != nil {
		stopSim()
		return nil, err
	}
	client, err := c.httpClient(log, ca)
	if err != nil {
		stopSim()
		return nil, err
	}
	reg := newRegistry()
	s, err := c.openStorage(ctx, log, reg)
	if err != nil {
		stopSim()
		return nil, err
	}
	s.closers = append([]func(){stopSim}, s.closers...) // the simulator stops last
	stopGC := gctune.Start(ctx, gctune.Options{Logger: log})
	s.closers = append(s.closers, stopGC)
	pipe := pipeline.New(s.st, s.ix, pipeline.Options{FlushEvery: crawlFlushEvery, Logger: log.With("component", "pipeline")})
	c.ctl.usePipeline(pipe)
	s.closers = append(s.closers, func() {
		// The pipeline buffers at most MaxPending items, which a healthy
		// store and index write in seconds; the bound only stops a dead
		// ClickHouse from holding the exit forever.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finalFlushTimeout)
		defer cancel()
		if err := pipe.Close(fctx); err != nil {
			log.Error("final flush failed: what it held is not stored, and its hosts are visited again next time", "err", err)
		}
	})
	if f.posts && f.postRetention > 0 {
		stopExpiry := expirePosts(ctx, pipe, f.postRetention, log)
		s.closers = append(s.closers, stopExpiry)
	}
	s.closers = append(s.closers, startRollups(ctx, s.st, log))
	f.postState = postState{st: s.st, ix: s.ix}
	m, err := newCrawler(c, f, seeds, client, pipe, s.st, log, reg)
	if err != nil {
		s.close()
		return nil, err
	}
	return &crawlJob{storage: s, reg: reg, m: m}, nil
}

// expireEvery is how often posts past the retention limit are purged.
const expireEvery = time.Hour

// expirePosts purges the posts older than the retention limit from the
// index and the store now and then every expireEvery, until the returned
// stop func is called.
func expirePosts(ctx context.Context, pipe *pipeline.Pipeline, retention time.Duration, log *slog.Logger) (stop func()) {
	expire := func() {
		before := time.Now().Add(-retention)
		n, err := pipe.Expire(ctx, before)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("expiring old posts failed", "before", before, "err", err)
		case n > 0:
			log.Info("expired old posts", "before", before.Format(time.RFC3339), "posts", n)
		}
	}
	expire()
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(expireEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				expire()
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// finalFlushTimeout bounds the last flush when a crawl stops.
const finalFlushTimeout = 2 * time.Minute

// crawlFlushEvery is how long the crawl's observations wait in the pipeline
// at most. Each flush adds a segment to the search index, which Bleve then
// merges: 2 s instead of 1 s halves that work, and a crash loses at most
// 2 s of visits, which the restart repeats.
const crawlFlushEvery = 2 * time.Second
