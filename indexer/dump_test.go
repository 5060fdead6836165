package indexer

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/model"
)

// TestDump: every stored post comes back with every field the index
// keeps, and indexer.Document of the dumped post is the document that was
// indexed; across pages, from an index on disk reopened.
func TestDump(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 891011121, time.UTC)
	full := []model.Post{
		{URI: "https://a.example/users/ann/statuses/1", URL: "https://a.example/@ann/1", Host: "a.example", Author: "ann@a.example",
			AuthorName: "Ann <3", Created: t0, Language: "en", Text: "Trains across Europe", HTML: "<p>Trains across <b>Europe</b></p>",
			Summary: "travel", Sensitive: true, Tags: []string{"trains", "travel"}, Kind: "note", AltText: "a night train\nthe platform"},
		{URI: "https://b.example/notes/2", URL: "https://b.example/notes/2", Host: "b.example", Author: "bob@b.example",
			AuthorName: "Bob", Created: t0.Add(-time.Hour), Language: "de", Text: "Züge sind toll", HTML: "<p>Züge sind toll</p>",
			Summary: "Bahn", Tags: []string{"bahn"}, Kind: "article", AltText: "ein Zug"},
		{URI: "https://c.example/videos/3", Host: "c.example", Author: "cy@c.example", Created: t0.Add(time.Minute),
			Language: "ja", Text: "電車が好きです", Kind: "video", AltText: "電車"},
		{URI: "https://d.example/p/4", Host: "d.example", Author: "dee@d.example", Created: t0.Add(2 * time.Minute),
			Language: "eo", Text: "Mi amas trajnojn", Sensitive: true},
		{URI: "https://e.example/p/5", Host: "e.example", Author: "eve@e.example", Created: t0.Add(3 * time.Minute),
			Text: "no language at all", Summary: "cw only in standard"},
	}
	// More posts than one page of Dump.
	posts := append([]model.Post(nil), full...)
	for i := range dumpPage + 5 {
		posts = append(posts, model.Post{URI: fmt.Sprintf("https://z.example/s/%05d", i), Host: "z.example", Author: "zed@z.example",
			Created: t0.Add(time.Duration(i) * time.Second), Language: "fr", Text: fmt.Sprintf("message numéro %d", i)})
	}

	dir := filepath.Join(t.TempDir(), "index")
	ix, err := Open(Options{Dir: dir})
	require.NoError(t, err)
	require.NoError(t, ix.Index(context.Background(), posts))
	require.NoError(t, ix.Close())
	ix, err = Open(Options{Dir: dir})
	require.NoError(t, err)
	t.Cleanup(func() { _ = ix.Close() })

	var got []model.Post
	require.NoError(t, ix.Dump(t.Context(), func(p model.Post) error {
		got = append(got, p)
		return nil
	}))
	require.Len(t, got, len(posts))
	require.True(t, sort.SliceIsSorted(got, func(i, j int) bool { return got[i].URI < got[j].URI }), "URI order")
	byURI := map[string]model.Post{}
	for _, p := range got {
		byURI[p.URI] = p
	}
	for _, want := range posts {
		p, ok := byURI[want.URI]
		require.True(t, ok, want.URI)
		require.Equal(t, want, p, want.URI)
		require.Equal(t, Document(want), Document(p), want.URI)
	}

	stop := errors.New("stop")
	n := 0
	err = ix.Dump(t.Context(), func(model.Post) error {
		n++
		return stop
	})
	require.ErrorIs(t, err, stop)
	require.Equal(t, 1, n)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.Error(t, ix.Dump(ctx, func(model.Post) error { return nil }))
}
