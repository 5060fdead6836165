package indexbench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/mapping"

	"github.com/fedilens/fedilens/indexer"
	"github.com/fedilens/fedilens/internal/model"
)

// Result is one indexing run.
type Result struct {
	Docs    int
	Elapsed time.Duration
	// DiskBytes is the size of the index directory after Close.
	DiskBytes int64
}

// DocsPerSec is the throughput of the run.
func (r Result) DocsPerSec() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Docs) / r.Elapsed.Seconds()
}

// BleveAlone indexes n posts (post(0) .. post(n-1)) into a new Bleve
// index in dir with indexer.NewMapping and indexer.Document, in batches of
// 1,000 from one goroutine: what Bleve does without fedilens around it.
// The time runs from the first batch to the return of the last one, and
// the index is then closed and measured.
func BleveAlone(ctx context.Context, dir string, n int, post func(i int) model.Post) (Result, error) {
	return IndexWith(ctx, dir, indexer.NewMapping(), n, func(i int) (string, any) {
		p := post(i)
		return p.URI, indexer.Document(p)
	})
}

// IndexWith is BleveAlone with any mapping and document: doc returns
// document i and its ID. It measures alternative mappings.
func IndexWith(ctx context.Context, dir string, m mapping.IndexMapping, n int, doc func(i int) (string, any)) (Result, error) {
	idx, err := bleve.New(dir, m)
	if err != nil {
		return Result{}, fmt.Errorf("creating bleve index %s: %w", dir, err)
	}
	start := time.Now()
	b := idx.NewBatch()
	for i := range n {
		id, d := doc(i)
		if err := b.Index(id, d); err != nil {
			_ = idx.Close()
			return Result{}, fmt.Errorf("indexing document %s: %w", id, err)
		}
		if b.Size() >= 1000 || i == n-1 {
			if err := ctx.Err(); err != nil {
				_ = idx.Close()
				return Result{}, err
			}
			if err := idx.Batch(b); err != nil {
				_ = idx.Close()
				return Result{}, fmt.Errorf("applying batch: %w", err)
			}
			b = idx.NewBatch()
		}
	}
	res := Result{Docs: n, Elapsed: time.Since(start)}
	if err := idx.Close(); err != nil {
		return res, fmt.Errorf("closing bleve index: %w", err)
	}
	res.DiskBytes, err = indexer.DirSize(dir)
	return res, err
}

// ThroughIndexer indexes n posts through ix.Index from feeders goroutines,
// each sending chunks of chunk posts (the pipeline's way), and measures
// until the last call returned.
func ThroughIndexer(ctx context.Context, ix *indexer.Index, n, feeders, chunk int, post func(i int) model.Post) (Result, error) {
	start := time.Now()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for f := range feeders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]model.Post, 0, chunk)
			// Feeder f takes chunks f, f+feeders, ...
			for lo := f * chunk; lo < n; lo += feeders * chunk {
				buf = buf[:0]
				for i := lo; i < min(lo+chunk, n); i++ {
					buf = append(buf, post(i))
				}
				if err := ix.Index(ctx, buf); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return Result{Docs: n, Elapsed: time.Since(start)}, firstErr
}
