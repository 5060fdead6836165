package indexer

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/model"
)

func TestPairs(t *testing.T) {
	tok := func(term string, pos int) *analysis.Token {
		return &analysis.Token{Term: []byte(term), Position: pos}
	}
	for _, tc := range []struct {
		name string
		in   analysis.TokenStream
		want []string
	}{
		{"none", nil, nil},
		{"one word", analysis.TokenStream{tok("a", 1)}, nil},
		{"adjacent", analysis.TokenStream{tok("night", 1), tok("train", 2), tok("vienna", 3)}, []string{"night train@1", "train vienna@2"}},
		{"stop word removed between", analysis.TokenStream{tok("night", 1), tok("train", 3), tok("vienna", 4)}, []string{"train vienna@3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, p := range pairs(tc.in) {
				got = append(got, fmt.Sprintf("%s@%d", p.Term, p.Position))
			}
			require.Equal(t, tc.want, got)
		})
	}
}

// TestPhrasesThroughPairs checks that phrases searched through the word
// pairs match exactly the posts the plain phrase query matches, in
// several languages, with stemming, stop words, repeated words and
// exclusions, and that the plain form is still used where pairs cannot
// answer (a stop word inside the phrase).
func TestPhrasesThroughPairs(t *testing.T) {
	ctx := context.Background()
	ix, err := Open(Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = ix.Close() })
	require.True(t, ix.hasPairs)

	vocab := map[string][]string{
		"en": {"the", "night", "train", "trains", "to", "vienna", "runs", "running", "late", "of", "and", "coffee"},
		"de": {"der", "nachtzug", "nach", "wien", "fährt", "züge", "spät", "und", "kaffee", "die"},
		"fr": {"le", "train", "de", "nuit", "pour", "vienne", "est", "en", "retard", "café"},
		"":   {"juna", "yö", "wien", "ja", "kahvi", "myöhässä"},
	}
	r := rand.New(rand.NewPCG(3, 3))
	var posts []model.Post
	for i := range 600 {
		lang := []string{"en", "de", "fr", ""}[i%4]
		v := vocab[lang]
		var text string
		for j := range 4 + r.IntN(8) {
			if j > 0 {
				text += " "
			}
			text += v[r.IntN(len(v))]
		}
		posts = append(posts, model.Post{URI: fmt.Sprintf("https://p.example/%d", i), Host: "p.example", Author: "a@p.example",
			Language: lang, Text: text, Created: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute)})
	}
	require.NoError(t, ix.Index(ctx, posts))

	queries := []string{
		`"night train"`, `"night trains"`, `"train night"`, `"night train to vienna"`, `"night the train"`,
		`"runs late"`, `"running late coffee"`, `"train train"`, `"nachtzug nach wien"`, `"züge spät"`,
		`"train de nuit"`, `"nuit pour vienne"`, `"juna yö"`, `"kahvi ja juna"`, `"the"`, `"vienna"`,
		`night train`, `coffee -"night train"`, `"fährt spät" "der nachtzug"`,
	}
	pair, viaPair := ix.phraseQuery("night train", "en", 1, true).(*query.ConjunctionQuery)
	require.True(t, viaPair, "two adjacent words are one pair")
	require.Equal(t, fieldOf(fieldPhrase, "en"), pair.Conjuncts[0].(*query.TermQuery).Field())
	require.Len(t, pair.Conjuncts, 3, "the pair, and the words to score")
	_, viaPlain := ix.phraseQuery("night the train", "en", 1, true).(*query.MatchPhraseQuery)
	require.True(t, viaPlain, "a stop word inside: the plain phrase")
	word, viaWord := ix.phraseQuery("the train", "en", 1, true).(*query.TermQuery)
	require.True(t, viaWord, "one word left: the word")
	require.Equal(t, fieldOf(fieldText, "en"), word.Field())
	_, slow := ix.phraseQuery("night train", "en", 1, false).(*query.MatchPhraseQuery)
	require.True(t, slow, "for locations, the plain phrase")
	for _, q := range queries {
		all := func(pairs bool) (uint64, []string) {
			ix.plainPhrases = !pairs
			var got []string
			var total uint64
			cursor := ""
			for {
				res, err := ix.Search(ctx, model.SearchQuery{Q: q, Limit: MaxLimit, Cursor: cursor, Sort: model.SortNewest})
				require.NoError(t, err, q)
				total = res.Total
				for _, h := range res.Hits {
					got = append(got, h.URI)
				}
				if cursor = res.NextCursor; cursor == "" {
					break
				}
			}
			slices.Sort(got)
			return total, got
		}
		plainTotal, plain := all(false)
		pairTotal, paired := all(true)
		require.Equal(t, plainTotal, pairTotal, q)
		require.Equal(t, plain, paired, q)
		if q == `"night train"` {
			require.NotEmpty(t, plain, "the corpus has the phrase")
			res, err := ix.Search(ctx, model.SearchQuery{Q: q})
			require.NoError(t, err)
			for _, h := range res.Hits {
				require.Contains(t, h.Snippet, "<mark>night</mark> <mark>train", "a phrase found through its pair is highlighted")
			}
		}
	}
}
