package indexer

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/model"
)

// TestFacetsEqualBleve checks that the facet columns count exactly what
// Bleve's facet builder counts, on an index of several segments with
// updated and deleted posts, before and after compaction, for queries with
// few and many matches, filters, exclusions, newest first and cursors.
func TestFacetsEqualBleve(t *testing.T) {
	ctx := context.Background()
	ix, err := Open(Options{Dir: t.TempDir(), BatchSize: 50, CompactAfterIdle: -1})
	require.NoError(t, err)
	t.Cleanup(func() { _ = ix.Close() })
	require.False(t, ix.bleveFacets, "an on-disk index counts facets from its columns")

	r := rand.New(rand.NewPCG(7, 7))
	words := []string{"river", "train", "coffee", "book", "garden", "music", "night", "bread"}
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	mk := func(i int) model.Post {
		host := fmt.Sprintf("h%d.example", r.IntN(30))
		p := model.Post{
			URI: fmt.Sprintf("https://%s/p/%d", host, i), Host: host, Author: fmt.Sprintf("u%d@%s", r.IntN(5), host),
			Language: []string{"en", "de", "fr", "es", ""}[r.IntN(5)],
			Text:     words[r.IntN(len(words))] + " " + words[r.IntN(len(words))] + " and more",
			Created:  t0.Add(time.Duration(r.IntN(600*24)) * time.Hour),
		}
		for range r.IntN(4) { // none, one or several tags, some repeated
			p.Tags = append(p.Tags, fmt.Sprintf("tag%d", r.IntN(40)))
		}
		return p
	}
	var uris []string
	for b := range 8 { // eight calls: several segments
		var posts []model.Post
		for i := range 300 {
			posts = append(posts, mk(b*300+i))
		}
		require.NoError(t, ix.Index(ctx, posts))
		for _, p := range posts {
			uris = append(uris, p.URI)
		}
		// Delete some and update (re-index) some of what came before.
		require.NoError(t, ix.Delete(ctx, []string{uris[r.IntN(len(uris))], uris[r.IntN(len(uris))]}))
		upd := mk(r.IntN(len(uris)))
		upd.URI = uris[r.IntN(len(uris))]
		require.NoError(t, ix.Index(ctx, []model.Post{upd}))
	}

	queries := []model.SearchQuery{
		{Q: "river", Facets: true},
		{Q: "and", Facets: true}, // a stop word: no match
		{Q: "more", Facets: true},
		{Q: "train -coffee", Facets: true},
		{Q: `"night bread"`, Facets: true},
		{Q: "book lang:de", Facets: true},
		{Q: "garden", Facets: true, Sort: model.SortNewest},
		{Q: "#tag3", Facets: true},
		{Q: "music since:2025-06-01", Facets: true, Hosts: []string{"h3.example", "h4.example"}},
		{Q: "nothingmatchesthis", Facets: true},
	}
	compare := func(stage string) {
		for _, q := range queries {
			ix.bleveFacets = false
			mine, err := ix.Search(ctx, q)
			require.NoError(t, err, q.Q)
			ix.bleveFacets = true
			theirs, err := ix.Search(ctx, q)
			require.NoError(t, err, q.Q)
			ix.bleveFacets = false
			require.Equal(t, theirs.Total, mine.Total, "%s %q", stage, q.Q)
			require.Equal(t, theirs.Facets, mine.Facets, "%s %q", stage, q.Q)
			require.Equal(t, theirs.Hits, mine.Hits, "%s %q", stage, q.Q)
			if mine.NextCursor != "" {
				q.Cursor = mine.NextCursor
				next, err := ix.Search(ctx, q)
				require.NoError(t, err)
				require.Equal(t, mine.Facets, next.Facets, "%s %q: facets count every match, on every page", stage, q.Q)
			}
		}
	}
	require.Greater(t, ix.Segments(), 1)
	compare("segments")
	r1, err := ix.Search(ctx, model.SearchQuery{Q: "more", Facets: true})
	require.NoError(t, err)
	require.Greater(t, r1.Total, uint64(1000)) // "more" is an English stop word
	require.NotEmpty(t, r1.Facets.Hashtag)

	cached := func() int {
		ix.facets.mu.Lock()
		defer ix.facets.mu.Unlock()
		return len(ix.facets.segs)
	}
	require.Positive(t, cached())
	require.NoError(t, ix.Compact(ctx))
	require.NoError(t, ix.WarmFacets())
	require.Equal(t, ix.Segments(), cached(), "warmed: every segment's columns read, none of the merged-away ones kept")
	compare("compacted")
	require.LessOrEqual(t, cached(), ix.Segments(), "the columns of merged-away segments are dropped")
}
