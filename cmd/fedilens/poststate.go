package main

import (
	"context"

	"github.com/fedilens/fedilens/crawler"
	"github.com/fedilens/fedilens/indexer"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/store"
)

// postState is what the crawler knows of a host's posts from earlier
// visits: cursors and forgotten authors from ClickHouse (by pseudonym),
// the stored posts by author from the index (ClickHouse has no handles).
type postState struct {
	st *store.Store
	ix *indexer.Index
}

var (
	_ crawler.PostState  = postState{}
	_ crawler.BoostState = postState{}
)

func (p postState) AuthorKey(acct string) string { return p.st.AuthorKey(acct) }

func (p postState) PostCursors(ctx context.Context, host string) ([]model.PostCursor, error) {
	return p.st.PostCursors(ctx, host)
}

func (p postState) StoredPosts(ctx context.Context, host string) (map[string][]string, error) {
	return p.ix.PostsByAuthor(ctx, host)
}

// StoredBoosts reads the host's stored boosts from ClickHouse (the index
// has none), by author pseudonym.
func (p postState) StoredBoosts(ctx context.Context, host string) (map[string][]string, error) {
	return p.st.StoredBoosts(ctx, host)
}

func (p postState) ForgottenAuthors(ctx context.Context) (map[string]bool, error) {
	return p.st.ForgottenAuthors(ctx)
}

func (p postState) PostCursorHosts(ctx context.Context) (map[string]bool, error) {
	return p.st.PostCursorHosts(ctx)
}
