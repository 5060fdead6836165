package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/store"
)

// ErrBadScope reports a PurgeScope that names neither an author nor a host.
var ErrBadScope = errors.New("forget needs an author (user@host) or a host")

// ForgetStore is what Forget needs of the store (*store.Store).
type ForgetStore interface {
	AuthorKey(acct string) string
	PurgePosts(ctx context.Context, p store.Purge) (int, error)
	// ForgetAuthor records the author as forgotten (withdrawn, reason
	// store.ReasonForgotten) until UnforgetAuthor.
	ForgetAuthor(ctx context.Context, acct string) error
	// AddOptOut puts a host on the opt-out list.
	AddOptOut(ctx context.Context, o model.OptOut) error
}

// PurgeIndex is what Forget needs of the index (*indexer.Index).
type PurgeIndex interface {
	DeleteAuthors(ctx context.Context, accts []string) (int, error)
	DeleteHosts(ctx context.Context, hosts []string) (int, error)
}

// ForgetResult says how many posts a Forget removed.
type ForgetResult struct {
	Indexed int `json:"indexed"` // from the search index
	Stored  int `json:"stored"`  // from ClickHouse
}

// ReasonForgotten is the opt-out reason recorded for a forgotten host.
const ReasonForgotten = store.ReasonForgotten

// Forget removes one author's or a whole host's posts from the index and
// the store at once, and records the decision first, so that no crawl
// stores them again: a forgotten author stays forgotten (the crawler checks
// ForgottenAuthors, the pipeline drops their posts) until the operator
// lifts it; a forgotten host goes on the opt-out list, so fedilens no
// longer contacts it at all. scope.Author is user@host in lower case.
//
// A process that runs a Pipeline should call Pipeline.Forget instead, which
// also drops the posts still buffered.
func Forget(ctx context.Context, st ForgetStore, ix PurgeIndex, scope model.PurgeScope) (ForgetResult, error) {
	var res ForgetResult
	switch {
	case scope.Author != "":
		acct := scope.Author
		if err := st.ForgetAuthor(ctx, acct); err != nil {
			return res, fmt.Errorf("forget %s: %w", acct, err)
		}
		n, err := ix.DeleteAuthors(ctx, []string{acct})
		res.Indexed = n
		if err != nil {
			return res, fmt.Errorf("forget %s: purge the index: %w", acct, err)
		}
		if res.Stored, err = st.PurgePosts(ctx, store.Purge{AuthorKeys: []string{st.AuthorKey(acct)}}); err != nil {
			return res, fmt.Errorf("forget %s: purge the store: %w", acct, err)
		}
	case scope.Host != "":
		host := scope.Host
		if err := st.AddOptOut(ctx, model.OptOut{Host: host, Reason: ReasonForgotten}); err != nil {
			return res, fmt.Errorf("forget %s: %w", host, err)
		}
		n, err := ix.DeleteHosts(ctx, []string{host})
		res.Indexed = n
		if err != nil {
			return res, fmt.Errorf("forget %s: purge the index: %w", host, err)
		}
		if res.Stored, err = st.PurgePosts(ctx, store.Purge{Hosts: []string{host}}); err != nil {
			return res, fmt.Errorf("forget %s: purge the store: %w", host, err)
		}
	default:
		return res, ErrBadScope
	}
	return res, nil
}

// Forget is Forget (the function) for a process that runs this pipeline:
// between two flushes, it drops the buffered posts of the scope, then
// forgets. A flush that starts afterwards finds the author forgotten.
func (p *Pipeline) Forget(ctx context.Context, st ForgetStore, scope model.PurgeScope) (ForgetResult, error) {
	p.flushMu.Lock()
	defer p.flushMu.Unlock()
	p.dropBuffered(func(post *model.Post) bool {
		if scope.Author != "" {
			return strings.EqualFold(post.Author, scope.Author)
		}
		return scope.Host != "" && strings.EqualFold(post.Host, scope.Host)
	})
	p.dropBufferedBoosts(func(b *model.Boost) bool {
		if scope.Author != "" {
			return strings.EqualFold(b.Author, scope.Author)
		}
		return scope.Host != "" && strings.EqualFold(b.Host, scope.Host)
	})
	return Forget(ctx, st, p.index, scope)
}

// Expire removes the posts created before before (the retention limit)
// from the index, then from the store, between two flushes, dropping the
// buffered ones too. It returns how many stored posts it removed. A zero
// before does nothing (posts are kept forever).
func (p *Pipeline) Expire(ctx context.Context, before time.Time) (int, error) {
	if before.IsZero() {
		return 0, nil
	}
	p.flushMu.Lock()
	defer p.flushMu.Unlock()
	p.dropBuffered(func(post *model.Post) bool { return post.Created.Before(before) })
	p.dropBufferedBoosts(func(b *model.Boost) bool { return b.Created.Before(before) })
	if _, err := p.index.DeleteBefore(ctx, before); err != nil {
		return 0, fmt.Errorf("expire posts: purge the index: %w", err)
	}
	n, err := p.store.PurgePosts(ctx, store.Purge{Before: before})
	if err != nil {
		return n, fmt.Errorf("expire posts: %w", err)
	}
	if n > 0 {
		p.log.Info("expired posts", "before", before.UTC().Format(time.RFC3339), "stored_posts_removed", n)
	}
	return n, nil
}

// dropBuffered removes the buffered posts drop matches.
func (p *Pipeline) dropBuffered(drop func(*model.Post) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	kept := p.posts[:0]
	for i := range p.posts {
		if drop(&p.posts[i]) {
			p.rows = max(p.rows-1, 0)
			continue
		}
		kept = append(kept, p.posts[i])
	}
	clear(p.posts[len(kept):])
	p.posts = kept
}

// dropBufferedBoosts removes the buffered boosts drop matches.
func (p *Pipeline) dropBufferedBoosts(drop func(*model.Boost) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	kept := p.boosts[:0]
	for i := range p.boosts {
		if drop(&p.boosts[i]) {
			p.rows = max(p.rows-1, 0)
			continue
		}
		kept = append(kept, p.boosts[i])
	}
	clear(p.boosts[len(kept):])
	p.boosts = kept
}
