package indexer

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/model"
)

// indexPosts opens an in-memory index holding posts.
func indexPosts(t *testing.T, posts ...model.Post) *Index {
	t.Helper()
	ix, err := Open(Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = ix.Close() })
	require.NoError(t, ix.Index(context.Background(), posts))
	return ix
}

func post(id, lang, text string) model.Post {
	return model.Post{URI: "https://r.example/p/" + id, Host: "r.example", Author: "ann@r.example", Language: lang, Text: text,
		Created: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)}
}

func ids(r model.SearchResult) []string {
	var out []string
	for _, h := range r.Hits {
		out = append(out, strings.TrimPrefix(h.URI, "https://r.example/p/"))
	}
	return out
}

// TestRanking checks the order of obvious cases on a small hand-made corpus.
func TestRanking(t *testing.T) {
	ix := indexPosts(t,
		post("en-stem", "en", "She was running along the river every morning"),
		post("de-stem", "de", "Die Häuser am Fluss sind sehr alt"),
		post("fr-stem", "fr", "Les chats dorment sur le canapé toute la journée"),
		post("phrase", "en", "I love the night train to Vienna"),
		post("scattered", "en", "The train was late, so we spent the night in a hotel"),
		post("twice", "en", "Coffee first, then more coffee in the afternoon"),
		post("once", "en", "Coffee first, then tea in the afternoon please"),
		func() model.Post {
			p := post("cw", "en", "something else entirely here")
			p.Summary = "bicycle"
			return p
		}(),
		func() model.Post {
			p := post("alt", "en", "look at this picture of mine")
			p.AltText = "a red bicycle against a wall"
			return p
		}(),
		post("body", "en", "my bicycle is red and it is fast"),
		func() model.Post {
			p := post("tagged", "en", "weekend ride with friends and the bird")
			p.Tags = []string{"birding"}
			return p
		}(),
		post("untagged", "en", "birding this weekend with friends at the lake"),
	)
	tests := []struct {
		q    string
		want []string // exactly these, in this order
	}{
		{"runs", []string{"en-stem"}}, // English stemming: running, runs -> run
		{"Haus", []string{"de-stem"}}, // German: Häuser -> haus
		{"chat", []string{"fr-stem"}}, // French: chats -> chat
		{"night train", []string{"phrase", "scattered"}},
		{"coffee", []string{"twice", "once"}},
		{"bicycle", []string{"body", "cw", "alt"}}, // body above content warning above alt text
		{"birding", []string{"tagged", "untagged"}},
	}
	for _, tc := range tests {
		t.Run(tc.q, func(t *testing.T) {
			r, err := ix.Search(context.Background(), model.SearchQuery{Q: tc.q})
			require.NoError(t, err)
			require.Equal(t, tc.want, ids(r))
		})
	}
}

func TestSnippetHostileText(t *testing.T) {
	hostile := `<script>alert("x")</script> &lt;b&gt; "quoted" 'single' <img src=x onerror=alert(1)> trains here`
	ix := indexPosts(t, post("h", "en", hostile), post("w", "", "ünïcödé wörds before trains and after"))
	r, err := ix.Search(context.Background(), model.SearchQuery{Q: "trains"})
	require.NoError(t, err)
	require.Len(t, r.Hits, 2)
	for _, h := range r.Hits {
		s := strings.ReplaceAll(strings.ReplaceAll(h.Snippet, "<mark>", ""), "</mark>", "")
		require.NotContains(t, s, "<", h.Snippet)
		require.NotContains(t, s, ">", h.Snippet)
		require.NotContains(t, s, `"`, h.Snippet)
		require.NotContains(t, s, `'`, h.Snippet)
		require.Contains(t, h.Snippet, "<mark>trains</mark>")
	}
	byID := map[string]string{}
	for _, h := range r.Hits {
		byID[strings.TrimPrefix(h.URI, "https://r.example/p/")] = h.Snippet
	}
	require.Equal(t, `&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp;lt;b&amp;gt; &#34;quoted&#34; &#39;single&#39; &lt;img src=x onerror=alert(1)&gt; <mark>trains</mark> here`, byID["h"])
	require.Equal(t, "ünïcödé wörds before <mark>trains</mark> and after", byID["w"])
}

func TestSnippetWindow(t *testing.T) {
	long := strings.Repeat("filler words go here ", 30) + "needle " + strings.Repeat("more text after ", 30)
	s := snippet(long, nil, 50)
	require.Equal(t, long[:50]+"…", s)
	ix := indexPosts(t, post("n", "", long))
	r, err := ix.Search(context.Background(), model.SearchQuery{Q: "needle"})
	require.NoError(t, err)
	require.Len(t, r.Hits, 1)
	sn := r.Hits[0].Snippet
	require.True(t, strings.HasPrefix(sn, "…") && strings.HasSuffix(sn, "…"), sn)
	require.Contains(t, sn, "<mark>needle</mark>")
	require.LessOrEqual(t, len([]rune(sn)), snippetRunes+2+len("<mark></mark>"))
}

func TestSearchFiltersSortFacets(t *testing.T) {
	t0 := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)
	var posts []model.Post
	for i := range 30 {
		p := model.Post{
			URI: fmt.Sprintf("https://h%d.example/p/%02d", i%3, i), Host: fmt.Sprintf("H%d.example", i%3),
			Author: fmt.Sprintf("u%d@h%d.example", i%2, i%3), Language: []string{"en", "de", "fr"}[i%3],
			Text: "shared words", Created: t0.AddDate(0, i%4, i), Tags: []string{"all", fmt.Sprintf("t%d", i%5)},
			Kind: "Note", Sensitive: i == 7, Summary: map[bool]string{true: "cw"}[i == 7],
		}
		posts = append(posts, p)
	}
	ix := indexPosts(t, posts...)
	ctx := context.Background()

	r, err := ix.Search(ctx, model.SearchQuery{Q: "shared", Hosts: []string{"H1.example"}, Langs: []string{"DE"}, Facets: true, Limit: 100})
	require.NoError(t, err)
	require.Equal(t, uint64(10), r.Total)
	for _, h := range r.Hits {
		require.Equal(t, "h1.example", h.Host)
		require.Equal(t, "de", h.Language)
		require.Equal(t, "note", h.Kind)
	}
	require.Equal(t, []model.FacetCount{{Value: "h1.example", Count: 10}}, r.Facets.Instance)
	require.Equal(t, []model.FacetCount{{Value: "de", Count: 10}}, r.Facets.Language)
	require.Equal(t, model.FacetCount{Value: "all", Count: 10}, r.Facets.Hashtag[0])
	require.Len(t, r.Facets.Hashtag, 6)
	newest := ""
	for _, h := range r.Hits {
		newest = max(newest, h.Created.Format("2006-01"))
	}
	require.Equal(t, newest, r.Facets.Month[0].Value) // newest month first
	sum := 0
	for i, m := range r.Facets.Month {
		sum += m.Count
		if i > 0 {
			require.Less(t, m.Value, r.Facets.Month[i-1].Value)
		}
	}
	require.Equal(t, 10, sum)

	// Parameters AND query filters; repeated instance: is any of them.
	r, err = ix.Search(ctx, model.SearchQuery{Q: "instance:h0.example instance:h2.example", Langs: []string{"fr"}, Limit: 100})
	require.NoError(t, err)
	require.Equal(t, uint64(10), r.Total)
	r, err = ix.Search(ctx, model.SearchQuery{Q: "lang:en", Langs: []string{"fr"}})
	require.NoError(t, err)
	require.Zero(t, r.Total)

	// Exclusions of filters, tags as parameters, dates as parameters.
	r, err = ix.Search(ctx, model.SearchQuery{Q: "shared -instance:h0.example -#t1 -from:u0@h1.example", Tags: []string{"#ALL"}, Limit: 100,
		Since: t0.AddDate(0, 1, 0)})
	require.NoError(t, err)
	for _, h := range r.Hits {
		require.NotEqual(t, "h0.example", h.Host)
		require.NotContains(t, h.Tags, "t1")
		require.NotEqual(t, "u0@h1.example", h.Author)
		require.False(t, h.Created.Before(t0.AddDate(0, 1, 0)))
	}
	require.NotZero(t, r.Total)

	// Newest first, and filter-only queries sort newest first by default.
	for _, sort := range []string{model.SortNewest, ""} {
		r, err = ix.Search(ctx, model.SearchQuery{Q: "#all", Sort: sort, Limit: 100})
		require.NoError(t, err)
		require.Len(t, r.Hits, 30)
		for i := 1; i < len(r.Hits); i++ {
			require.False(t, r.Hits[i].Created.After(r.Hits[i-1].Created))
		}
	}
	r, err = ix.Search(ctx, model.SearchQuery{Q: "cw"})
	require.NoError(t, err)
	require.Len(t, r.Hits, 1)
	require.True(t, r.Hits[0].Sensitive)
	require.Equal(t, "cw", r.Hits[0].Summary)

	_, err = ix.Search(ctx, model.SearchQuery{Q: "shared", Sort: "oldest"})
	require.ErrorIs(t, err, model.ErrBadQuery)
	_, err = ix.Search(ctx, model.SearchQuery{Q: "shared", Hosts: make([]string, MaxFilterValues+1)})
	require.ErrorIs(t, err, model.ErrBadQuery)
}

// TestExclusionOnly: a query of only exclusions covers the recent posts.
func TestExclusionOnly(t *testing.T) {
	now := time.Now().UTC()
	old := post("old", "en", "apples")
	old.Created = now.Add(-30 * 24 * time.Hour)
	recent := post("recent", "en", "apples")
	recent.Created = now.Add(-time.Hour)
	pears := post("pears", "en", "pears")
	pears.Created = now.Add(-2 * time.Hour)
	ix := indexPosts(t, old, recent, pears)
	r, err := ix.Search(context.Background(), model.SearchQuery{Q: "-pears"})
	require.NoError(t, err)
	require.Equal(t, []string{"recent"}, ids(r))
	r, err = ix.Search(context.Background(), model.SearchQuery{Q: "-pears since:2000-01-01"})
	require.NoError(t, err)
	require.Equal(t, []string{"recent", "old"}, ids(r))
}

// TestCursorStableUnderInserts pages through results while posts are added
// between pages: every post that existed before the first page is seen
// exactly once, for both sort orders.
func TestCursorStableUnderInserts(t *testing.T) {
	for _, sort := range []string{model.SortRelevance, model.SortNewest} {
		t.Run(sort, func(t *testing.T) {
			ix, err := Open(Options{})
			require.NoError(t, err)
			defer ix.Close()
			ctx := context.Background()
			t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
			var posts []model.Post
			for i := range 60 {
				posts = append(posts, model.Post{URI: fmt.Sprintf("https://c.example/p/%02d", i), Host: "c.example",
					Text: "common word" + strings.Repeat(" common", i%4) + strings.Repeat(" other", i%7), Created: t0.Add(time.Duration(i%9) * time.Hour)})
			}
			require.NoError(t, ix.Index(ctx, posts))
			seen := map[string]int{}
			cursor := ""
			for page := 0; ; page++ {
				require.Less(t, page, 20)
				r, err := ix.Search(ctx, model.SearchQuery{Q: "common", Sort: sort, Limit: 7, Cursor: cursor})
				require.NoError(t, err)
				for _, h := range r.Hits {
					seen[h.URI]++
				}
				// Posts arrive between pages: newer, and with and without
				// the word, changing every score.
				extra := []model.Post{
					{URI: fmt.Sprintf("https://c.example/new/%d", page), Text: "common common common new", Created: t0.Add(48 * time.Hour)},
					{URI: fmt.Sprintf("https://c.example/other/%d", page), Text: "unrelated", Created: t0},
				}
				require.NoError(t, ix.Index(ctx, extra))
				if r.NextCursor == "" {
					break
				}
				cursor = r.NextCursor
			}
			for _, p := range posts {
				require.Equal(t, 1, seen[p.URI], p.URI)
			}
			_, err = ix.Search(ctx, model.SearchQuery{Q: "common", Sort: map[string]string{model.SortNewest: model.SortRelevance, model.SortRelevance: model.SortNewest}[sort], Cursor: cursor})
			if cursor != "" {
				require.ErrorIs(t, err, model.ErrBadQuery)
			}
		})
	}
}

func TestDeletesByAuthorHostDate(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	var posts []model.Post
	for i := range 40 {
		posts = append(posts, model.Post{URI: fmt.Sprintf("https://h%d.example/p/%02d", i%4, i), Host: fmt.Sprintf("h%d.example", i%4),
			Author: fmt.Sprintf("U%d@h%d.example", i%2, i%4), Text: "x", Created: t0.Add(time.Duration(i) * time.Hour)})
	}
	ix := indexPosts(t, posts...)
	ctx := context.Background()
	count := func() uint64 {
		n, err := ix.Count()
		require.NoError(t, err)
		return n
	}
	got, err := ix.PostsByAuthor(ctx, "H1.example")
	require.NoError(t, err)
	require.Len(t, got["u1@h1.example"], 10)

	n, err := ix.DeleteAuthors(ctx, []string{"acct:u0@h0.example", "@U1@H1.example", "nobody@x.example"})
	require.NoError(t, err)
	require.Equal(t, 20, n)
	require.Equal(t, uint64(20), count())

	n, err = ix.DeleteHosts(ctx, []string{"h2.example."})
	require.NoError(t, err)
	require.Equal(t, 10, n)
	got, err = ix.PostsByAuthor(ctx, "h2.example")
	require.NoError(t, err)
	require.Empty(t, got)

	// h3 remains: posts 3, 7, ..., 39, created at t0 + i hours.
	n, err = ix.DeleteBefore(ctx, t0.Add(19*time.Hour))
	require.NoError(t, err)
	require.Equal(t, 4, n) // 3, 7, 11, 15
	all, err := ix.AllURIs(ctx)
	require.NoError(t, err)
	require.Len(t, all, 6)
	for _, u := range all {
		require.True(t, strings.HasPrefix(u, "https://h3.example/"), u)
	}
}

// TestConcurrentWriters: many goroutines index and delete at once; every
// call returns once its change is visible, and nothing is lost.
func TestConcurrentWriters(t *testing.T) {
	ix, err := Open(Options{BatchSize: 50})
	require.NoError(t, err)
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 20 {
				var ps []model.Post
				for k := range 13 {
					ps = append(ps, model.Post{URI: fmt.Sprintf("https://w.example/%d/%d/%d", w, j, k), Text: "x", Language: []string{"en", "ja", "sv", "xx"}[w%4]})
				}
				if err := ix.Index(ctx, ps); err != nil {
					t.Error(err)
					return
				}
				// Visible as soon as Index returned.
				if d, err := ix.idx.Document(ps[12].URI); err != nil || d == nil {
					t.Error("indexed post not visible after Index returned", err)
				}
				if err := ix.Delete(ctx, []string{ps[0].URI}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	n, err := ix.Count()
	require.NoError(t, err)
	require.Equal(t, uint64(8*20*12), n)
	require.NoError(t, ix.Close())
	require.ErrorIs(t, ix.Index(ctx, []model.Post{{URI: "u", Text: "x"}}), ErrClosed)
	require.NoError(t, ix.Close())
}
