package policy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/fedilens/fedilens/internal/hostname"
	"github.com/fedilens/fedilens/internal/model"
)

// RefreshStore is the part of the ClickHouse store a Refresher uses.
// *store.Store satisfies it.
type RefreshStore interface {
	// OptedOutPostURIs lists the stored posts of opted-out hosts.
	OptedOutPostURIs(ctx context.Context) ([]string, error)
	// DeletePosts removes posts by URI.
	DeletePosts(ctx context.Context, uris []string) error
	// Submissions pages through the submitted hosts in (time, host) order
	// after the given position.
	Submissions(ctx context.Context, after model.Submission, limit int) ([]model.Submission, error)
}

// PostIndex is the part of the search index a purge needs.
// *indexer.Index satisfies it.
type PostIndex interface {
	Delete(ctx context.Context, uris []string) error
}

// RefresherOptions configures a Refresher.
type RefresherOptions struct {
	// Policy is reloaded by every Refresh. Required.
	Policy *Policy
	// Store is read for posts to purge and for submissions. Required.
	Store RefreshStore
	// Index is the search index the process holds, purged together with
	// the store. Nil means the process holds none; the posts are then
	// only removed from the store, and the index is purged by whichever
	// process holds it (its own purge finds them in the store first).
	Index PostIndex
	// Logger receives purge and submission events. Nil discards them.
	Logger *slog.Logger
}

// submissionsPage is how many submissions one read asks for.
const submissionsPage = 1000

// Refresher keeps a running process in step with the operator's controls
// stored in ClickHouse. Its methods are safe for concurrent use; calls are
// serialised, because two purges at once would only repeat each other's
// mutations.
type Refresher struct {
	opts RefresherOptions
	log  *slog.Logger

	mu    sync.Mutex
	after model.Submission // keyset position of the last submission handed out
}

// NewRefresher returns a Refresher. It panics if Policy or Store is nil,
// which is a wiring mistake.
func NewRefresher(opts RefresherOptions) *Refresher {
	if opts.Policy == nil || opts.Store == nil {
		panic("policy: RefresherOptions needs a Policy and a Store")
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Refresher{opts: opts, log: logger}
}

// Refresh reloads the opt-outs, then purges the posts of every opted-out
// host: from the index first, then from the store. Purging is driven by
// what the store still holds, so it is idempotent and self-healing: a
// purge that failed halfway, or posts of an opted-out host that were in
// flight in the pipeline while the opt-out arrived, are found and removed
// by the next call. A failed reload keeps the previous opt-outs and still
// purges with the stored list.
func (r *Refresher) Refresh(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	if err := r.opts.Policy.Reload(ctx); err != nil {
		errs = append(errs, err)
	}
	if _, err := r.purgeLocked(ctx); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Purge removes the posts of opted-out hosts and returns how many there
// were (see Refresh).
func (r *Refresher) Purge(ctx context.Context) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.purgeLocked(ctx)
}

func (r *Refresher) purgeLocked(ctx context.Context) (int, error) {
	uris, err := r.opts.Store.OptedOutPostURIs(ctx)
	if err != nil {
		return 0, fmt.Errorf("purge opted-out posts: %w", err)
	}
	if len(uris) == 0 {
		return 0, nil
	}
	// The index first: if the store delete then fails, the next purge
	// still finds the URIs in the store and retries both.
	if r.opts.Index != nil {
		if err := r.opts.Index.Delete(ctx, uris); err != nil {
			return 0, fmt.Errorf("purge %d opted-out posts from the index: %w", len(uris), err)
		}
	}
	if err := r.opts.Store.DeletePosts(ctx, uris); err != nil {
		return 0, fmt.Errorf("purge %d opted-out posts from the store: %w", len(uris), err)
	}
	r.log.Info("purged posts of opted-out hosts", "posts", len(uris))
	return len(uris), nil
}

// Submitted returns the hosts submitted since the previous call (every
// stored submission on the first call), normalised, each once. Hosts that
// fail normalisation are dropped: the table is written by the API, which
// validates, but a database is not a reason to trust a name. The caller
// still applies the Policy; Submitted does not, so that a host submitted
// while opted out is simply refused by the crawler like any other.
func (r *Refresher) Submitted(ctx context.Context) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	seen := map[string]bool{}
	for {
		page, err := r.opts.Store.Submissions(ctx, r.after, submissionsPage)
		if err != nil {
			return out, fmt.Errorf("read submissions: %w", err)
		}
		for _, s := range page {
			h, err := hostname.Normalize(s.Host)
			if err != nil {
				r.log.Warn("ignoring stored submission with an invalid host name", "err", err)
				continue
			}
			if !seen[h] {
				seen[h] = true
				out = append(out, h)
			}
		}
		if len(page) > 0 {
			r.after = page[len(page)-1]
		}
		if len(page) < submissionsPage {
			return out, nil
		}
	}
}
