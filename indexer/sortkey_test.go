package indexer

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/model"
)

func TestSortKey(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name         string
		older, newer time.Time
	}{
		{"a millisecond apart", t0, t0.Add(time.Millisecond)},
		{"years apart", t0.AddDate(-20, 0, 0), t0},
		{"before 1970 sorts as 1970", time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC), time.Unix(0, int64(time.Millisecond))},
		{"zero time first", time.Time{}, t0},
		{"year 9999", t0, time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)},
		{"other time zone", t0.In(time.FixedZone("x", 3600)), t0.Add(time.Second)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := sortKey(tc.older), sortKey(tc.newer)
			require.Less(t, a, b)
			require.True(t, validSortKey(a), a)
			require.True(t, validSortKey(b), b)
		})
	}
	require.Equal(t, sortKey(maxSortKeyTime), sortKey(time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC)))
	require.Equal(t, sortKey(time.Unix(0, 0)), sortKey(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)))
	x := sortKey(t0)
	require.Equal(t, x, sortKey(t0.In(time.FixedZone("y", -7200))))
	require.Equal(t, x, sortKey(t0.Add(999*time.Microsecond)))
	for _, bad := range []string{"", x[1:], x + "A", x[:5] + "!" + x[6:], x[:4] + "é" + x[6:], x[:5] + "\x00" + x[6:]} {
		require.False(t, validSortKey(bad), bad)
	}
}

// TestNewestTies: posts created in the same second page newest first in a
// stable total order, every post exactly once, and a tampered cursor is a
// bad query.
func TestNewestTies(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var posts []model.Post
	for i := range 50 {
		posts = append(posts, model.Post{URI: fmt.Sprintf("https://t.example/p/%d", i), Host: "t.example",
			Text: "tied words", Created: t0.Add(time.Duration(i%3) * time.Second)})
	}
	ix := indexPosts(t, posts...)
	ctx := context.Background()
	var got []model.SearchHit
	next := ""
	for page := 0; ; page++ {
		require.Less(t, page, 20)
		r, err := ix.Search(ctx, model.SearchQuery{Q: "tied", Sort: model.SortNewest, Limit: 6, Cursor: next})
		require.NoError(t, err)
		require.Equal(t, uint64(50), r.Total)
		got = append(got, r.Hits...)
		if r.NextCursor == "" {
			break
		}
		next = r.NextCursor
	}
	require.Len(t, got, 50)
	seen := map[string]bool{}
	for i, h := range got {
		require.False(t, seen[h.URI], h.URI)
		seen[h.URI] = true
		if i > 0 {
			require.False(t, h.Created.After(got[i-1].Created))
		}
	}

	for _, c := range []cursor{
		{Sort: model.SortNewest, Keys: []string{"not a key", "https://t.example/p/1"}},
		{Sort: model.SortNewest, Keys: []string{t0.Format(time.RFC3339Nano), "https://t.example/p/1"}},
		{Sort: model.SortNewest, Keys: []string{sortKey(t0)}},
		{Sort: model.SortRelevance, Keys: []string{"NaNx", "https://t.example/p/1"}},
		{Sort: model.SortRelevance, Keys: []string{"1.5"}},
	} {
		_, err := ix.Search(ctx, model.SearchQuery{Q: "tied", Sort: c.Sort, Cursor: encodeCursor(c)})
		require.ErrorIs(t, err, model.ErrBadQuery, c)
	}
}

// TestHTMLStoredNotIndexed: a hit carries the post's sanitised HTML, and
// words that only appear in the HTML (attributes, link targets) do not
// match.
func TestHTMLStoredNotIndexed(t *testing.T) {
	p := post("h", "en", "plain words about ferries")
	p.HTML = `<p>plain words about <a href="https://example.org/zeppelin">ferries</a></p>`
	ix := indexPosts(t, p, post("n", "en", "ferries without markup"))
	ctx := context.Background()
	r, err := ix.Search(ctx, model.SearchQuery{Q: "ferries", Limit: 10})
	require.NoError(t, err)
	html := map[string]string{}
	for _, h := range r.Hits {
		html[h.URI] = h.HTML
	}
	require.Equal(t, map[string]string{p.URI: p.HTML, "https://r.example/p/n": ""}, html)
	r, err = ix.Search(ctx, model.SearchQuery{Q: "zeppelin"})
	require.NoError(t, err)
	require.Zero(t, r.Total)
}

// legacyMapping is NewMapping as it was before the sort key: the creation
// time carried the doc values for sorting.
func legacyMapping(t *testing.T) mapping.IndexMapping {
	m, ok := NewMapping().(*mapping.IndexMappingImpl)
	require.True(t, ok)
	dm := m.TypeMapping[docType]
	delete(dm.Properties, fieldSortKey)
	delete(dm.Properties, fieldHTML)
	dm.Properties[fieldCreated].Fields[0].DocValues = true
	return m
}

// TestLegacyIndexSorts: an index created before the sort key keeps its
// mapping, and both sorts and their cursors still work on it.
func TestLegacyIndexSorts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "index")
	old, err := bleve.New(dir, legacyMapping(t))
	require.NoError(t, err)
	require.NoError(t, old.Close())

	ix, err := Open(Options{Dir: dir})
	require.NoError(t, err)
	defer ix.Close()
	require.True(t, ix.legacySort)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var posts []model.Post
	for i := range 25 {
		posts = append(posts, model.Post{URI: fmt.Sprintf("https://l.example/p/%02d", i), Host: "l.example",
			Text: "legacy words" + map[bool]string{true: " legacy"}[i%2 == 0], Created: t0.Add(time.Duration(i%4) * time.Hour)})
	}
	require.NoError(t, ix.Index(ctx, posts))
	for _, sort := range []string{model.SortNewest, model.SortRelevance} {
		t.Run(sort, func(t *testing.T) {
			seen := map[string]bool{}
			var prev *model.SearchHit
			cursor := ""
			for page := 0; ; page++ {
				require.Less(t, page, 20)
				r, err := ix.Search(ctx, model.SearchQuery{Q: "legacy", Sort: sort, Limit: 4, Cursor: cursor})
				require.NoError(t, err)
				for i, h := range r.Hits {
					require.False(t, seen[h.URI], h.URI)
					seen[h.URI] = true
					if prev != nil && sort == model.SortNewest {
						require.False(t, h.Created.After(prev.Created))
					}
					prev = &r.Hits[i]
				}
				if r.NextCursor == "" {
					break
				}
				cursor = r.NextCursor
			}
			require.Len(t, seen, 25)
		})
	}

	// A fresh index has the sort key.
	fresh, err := Open(Options{Dir: filepath.Join(t.TempDir(), "fresh")})
	require.NoError(t, err)
	require.False(t, fresh.legacySort)
	require.NoError(t, fresh.Close())
}
