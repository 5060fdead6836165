package indexer

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/model"
)

func testPosts() []model.Post {
	t0 := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
	return []model.Post{
		{URI: "https://a.example/users/ann/statuses/1", Host: "a.example", Author: "ann@a.example", Created: t0, Language: "en",
			Text: "Trains are the best way to travel across Europe", Tags: []string{"trains", "travel"}},
		{URI: "https://a.example/users/ann/statuses/2", Host: "a.example", Author: "ann@a.example", Created: t0.Add(24 * time.Hour), Language: "en",
			Text: "Night trains from Vienna to Paris", Tags: []string{"nighttrain"}},
		{URI: "https://b.example/users/bob/statuses/1", Host: "b.example", Author: "bob@b.example", Created: t0.Add(48 * time.Hour), Language: "de",
			Text: "Züge sind toll", Summary: "trains content", Tags: []string{"trains"}},
		{URI: "https://b.example/users/bob/statuses/2", Host: "b.example", Author: "bob@b.example", Created: t0.Add(72 * time.Hour), Language: "en",
			Text: "<img src=x onerror=alert(1)> about travel"},
	}
}

func openMem(t *testing.T) *Index {
	t.Helper()
	ix, err := Open(Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = ix.Close() })
	require.NoError(t, ix.Index(context.Background(), testPosts()))
	return ix
}

func uris(r model.SearchResult) []string {
	var out []string
	for _, h := range r.Hits {
		out = append(out, h.URI)
	}
	return out
}

func TestSearch(t *testing.T) {
	ix := openMem(t)
	a1, a2 := "https://a.example/users/ann/statuses/1", "https://a.example/users/ann/statuses/2"
	b1, b2 := "https://b.example/users/bob/statuses/1", "https://b.example/users/bob/statuses/2"
	tests := []struct {
		q    string
		want []string // as a set
	}{
		{"trains", []string{a1, a2, b1}}, // b1 through its content warning
		{"Trains Europe", []string{a1}},
		{`"night trains"`, []string{a2}},
		{`"trains night"`, nil},
		{"trains -vienna", []string{a1, b1}},
		{`trains -"night trains"`, []string{a1, b1}},
		{"#trains", []string{a1, b1}},
		{"#TRAINS instance:a.example", []string{a1}},
		{"from:bob@b.example", []string{b1, b2}},
		{"from:@bob@b.example travel", []string{b2}},
		{"lang:de", []string{b1}},
		{"since:2026-10-03", []string{b1, b2}},
		{"until:2026-10-01", []string{a1}},
		{"since:2026-10-02 until:2026-10-03 trains", []string{a2, b1}},
		{"tr*ins", nil}, // no wildcards: treated as words
		{"foo:bar", nil},
	}
	for _, tc := range tests {
		t.Run(tc.q, func(t *testing.T) {
			r, err := ix.Search(context.Background(), model.SearchQuery{Q: tc.q})
			require.NoError(t, err)
			require.ElementsMatch(t, tc.want, uris(r))
			require.Equal(t, uint64(len(tc.want)), r.Total)
		})
	}
}

func TestSearchBadQueries(t *testing.T) {
	ix := openMem(t)
	for _, q := range []string{"", "   ", "*ains", "#*x", `"open phrase`, "since:yesterday", strings.Repeat("a ", 40), strings.Repeat("x", 2000), "bad\xffutf8"} {
		t.Run(q, func(t *testing.T) {
			_, err := ix.Search(context.Background(), model.SearchQuery{Q: q})
			require.ErrorIs(t, err, model.ErrBadQuery)
		})
	}
	_, err := ix.Search(context.Background(), model.SearchQuery{Q: "trains", Cursor: "!!"})
	require.ErrorIs(t, err, model.ErrBadQuery)
}

func TestSearchSnippetEscaped(t *testing.T) {
	ix := openMem(t)
	r, err := ix.Search(context.Background(), model.SearchQuery{Q: "travel"})
	require.NoError(t, err)
	require.NotEmpty(t, r.Hits)
	for _, h := range r.Hits {
		require.NotContains(t, h.Snippet, "<img")
		require.Contains(t, h.Snippet, "<mark>")
	}
	// A filter-only query has no highlight: the snippet is the escaped text.
	r, err = ix.Search(context.Background(), model.SearchQuery{Q: "from:bob@b.example until:2026-10-04"})
	require.NoError(t, err)
	for _, h := range r.Hits {
		require.NotContains(t, h.Snippet, "<img")
		require.Equal(t, "b.example", h.Host)
		require.Equal(t, "bob@b.example", h.Author)
		require.False(t, h.Created.IsZero())
	}
}

func TestPaginationAndIdempotentUpdate(t *testing.T) {
	ix, err := Open(Options{BatchSize: 7})
	require.NoError(t, err)
	defer ix.Close()
	var posts []model.Post
	for i := range 45 {
		posts = append(posts, model.Post{URI: fmt.Sprintf("https://c.example/p/%d", i), Host: "c.example", Text: "common word", Created: time.Unix(int64(i), 0)})
	}
	ctx := context.Background()
	require.NoError(t, ix.Index(ctx, posts))
	require.NoError(t, ix.Index(ctx, posts)) // re-index: replaces, no duplicates
	n, err := ix.Count()
	require.NoError(t, err)
	require.Equal(t, uint64(45), n)

	seen := map[string]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 10)
		r, err := ix.Search(ctx, model.SearchQuery{Q: "common", Limit: 20, Cursor: cursor})
		require.NoError(t, err)
		for _, h := range r.Hits {
			require.False(t, seen[h.URI], "duplicate across pages: %s", h.URI)
			seen[h.URI] = true
		}
		if r.NextCursor == "" {
			break
		}
		cursor = r.NextCursor
	}
	require.Len(t, seen, 45)

	require.NoError(t, ix.Delete(ctx, []string{"https://c.example/p/0", "https://c.example/p/1", "https://nowhere.example/x"}))
	n, err = ix.Count()
	require.NoError(t, err)
	require.Equal(t, uint64(43), n)

	require.Error(t, ix.Index(ctx, []model.Post{{Text: "no uri"}}))
}

func TestOnDiskReopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "index")
	ix, err := Open(Options{Dir: dir})
	require.NoError(t, err)
	require.NoError(t, ix.Index(context.Background(), testPosts()))
	require.NoError(t, ix.Close())

	ix, err = Open(Options{Dir: dir})
	require.NoError(t, err)
	defer ix.Close()
	n, err := ix.Count()
	require.NoError(t, err)
	require.Equal(t, uint64(4), n)
	r, err := ix.Search(context.Background(), model.SearchQuery{Q: "vienna"})
	require.NoError(t, err)
	require.Equal(t, []string{"https://a.example/users/ann/statuses/2"}, uris(r))
}

func TestAllURIs(t *testing.T) {
	ix, err := Open(Options{})
	require.NoError(t, err)
	defer ix.Close()
	var posts []model.Post
	var want []string
	for i := range 10001 { // crosses a page boundary
		u := fmt.Sprintf("https://d.example/p/%06d", i)
		posts = append(posts, model.Post{URI: u, Text: "x"})
		want = append(want, u)
	}
	require.NoError(t, ix.Index(context.Background(), posts))
	got, err := ix.AllURIs(context.Background())
	require.NoError(t, err)
	require.Equal(t, want, got)
}

func TestOpenLockedFailsFast(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "index")
	ix, err := Open(Options{Dir: dir})
	require.NoError(t, err)
	defer ix.Close()
	start := time.Now()
	_, err = Open(Options{Dir: dir})
	require.ErrorIs(t, err, ErrLocked)
	require.Less(t, time.Since(start), 10*time.Second)
}
