package indexer

import (
	"fmt"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	"github.com/blevesearch/bleve/v2/registry"
	"github.com/blevesearch/bleve/v2/search/query"
)

// Phrases are searched through word pairs.
//
// Bleve answers a phrase by intersecting its words' posting lists and
// reading the positions of every post in the intersection: for two common
// words ("in the", "ich bin") that is tens of thousands of posts, 100 ms
// and more at a million posts (BENCHMARKS.md). Each post's text is also
// indexed as the pairs of its adjacent words (fieldPhrase: "night train"
// from "the night train", after the language's analyser, so stemmed and
// without stop words), a term much rarer than either word. A phrase of
// two words is then one term lookup, and a longer phrase the posts holding
// all of its pairs, checked by the ordinary phrase query: as Elasticsearch
// does with index_phrases. Phrases whose words are not adjacent once
// analysed (a stop word in the middle), and CJK text, which its analyser
// already indexes as character pairs, are searched as before.
const fieldPhrase = "phrase"

// pairBoost is the weight of a pair's own score in a phrase's: small, so
// that a phrase ranks by its words, as the plain phrase query ranks.
const pairBoost = 0.01

// pairSeparator joins the two words of a pair: no analyser makes a token
// with a space in it.
const pairSeparator = " "

// phraseAnalyzerName is the registered analyser of a family's pair field.
func phraseAnalyzerName(family string) string {
	if family == "" {
		family = "standard"
	}
	return "fedilens_pairs_" + family
}

// hasPairField reports whether a family's posts are indexed as word pairs:
// all but CJK, whose analyser already indexes character pairs.
func hasPairField(family string) bool { return family != cjk.AnalyzerName }

// pairFamilies are the families with a pair field.
var pairFamilies = func() []string {
	var out []string
	for _, f := range familyNames {
		if hasPairField(f) {
			out = append(out, f)
		}
	}
	return out
}()

func init() {
	for _, fam := range pairFamilies {
		registerPairAnalyzer(phraseAnalyzerName(fam), analyzerOf(fam))
	}
}

// registerPairAnalyzer registers name as base's analysis followed by
// pairing adjacent tokens.
func registerPairAnalyzer(name, base string) {
	registry.RegisterAnalyzer(name, func(_ map[string]any, cache *registry.Cache) (analysis.Analyzer, error) {
		a, err := cache.AnalyzerNamed(base)
		if err != nil {
			return nil, fmt.Errorf("building %s: %w", name, err)
		}
		return pairAnalyzer{base: a}, nil
	})
}

// pairAnalyzer makes the pairs of adjacent tokens of its base analyser's
// output, each at its first token's position.
type pairAnalyzer struct{ base analysis.Analyzer }

func (a pairAnalyzer) Analyze(input []byte) analysis.TokenStream {
	return pairs(a.base.Analyze(input))
}

func pairs(ts analysis.TokenStream) analysis.TokenStream {
	if len(ts) < 2 {
		return nil
	}
	out := make(analysis.TokenStream, 0, len(ts)-1)
	for i := 1; i < len(ts); i++ {
		a, b := ts[i-1], ts[i]
		if b.Position != a.Position+1 {
			continue // a removed stop word between them: no pair
		}
		term := make([]byte, 0, len(a.Term)+len(pairSeparator)+len(b.Term))
		term = append(append(append(term, a.Term...), pairSeparator...), b.Term...)
		out = append(out, &analysis.Token{Term: term, Position: a.Position, Start: a.Start, End: b.End, Type: analysis.Shingle})
	}
	return out
}

// phraseQuery is the query of the posts whose text (in family fam) holds
// ph. Fast, it is a term query when one word is left once analysed,
// through the pair field where the index has one and ph's words are
// adjacent, otherwise the plain phrase query, which is what it always is
// when not fast (its matches have positions, for snippets).
func (ix *Index) phraseQuery(ph, fam string, boost float64, fast bool) query.Query {
	plain := bleve.NewMatchPhraseQuery(ph)
	plain.SetField(fieldOf(fieldText, fam))
	plain.SetBoost(boost)
	if !fast {
		return plain
	}
	a := ix.idx.Mapping().AnalyzerNamed(analyzerOf(fam))
	if a == nil {
		return plain
	}
	ts := a.Analyze([]byte(ph))
	if len(ts) == 1 {
		// One word left (the others stop words): the phrase is the word,
		// without reading its positions.
		t := bleve.NewTermQuery(string(ts[0].Term))
		t.SetField(fieldOf(fieldText, fam))
		t.SetBoost(boost)
		return t
	}
	if !ix.hasPairs || !hasPairField(fam) || len(ts) < 2 {
		return plain
	}
	for i := 1; i < len(ts); i++ {
		if ts[i].Position != ts[i-1].Position+1 {
			return plain
		}
	}
	// The pairs select the posts; they barely score (pairBoost), so that
	// posts rank as with the plain phrase query, by their words' scores.
	var qs []query.Query
	for _, p := range pairs(ts) {
		t := bleve.NewTermQuery(string(p.Term))
		t.SetField(fieldOf(fieldPhrase, fam))
		t.SetBoost(pairBoost)
		qs = append(qs, t)
	}
	if len(ts) == 2 {
		// Two words: the pair is the phrase; the words score.
		for _, tok := range ts {
			w := bleve.NewTermQuery(string(tok.Term))
			w.SetField(fieldOf(fieldText, fam))
			w.SetBoost(boost)
			qs = append(qs, w)
		}
		return bleve.NewConjunctionQuery(qs...)
	}
	// Longer: the posts with every pair, checked for the words' order.
	return bleve.NewConjunctionQuery(append(qs, plain)...)
}
