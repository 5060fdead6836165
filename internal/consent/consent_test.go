package consent

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHasOptOutWord(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"I like trains #nobot", true},
		{"#NoBots please", true},
		{"<p>Posting about <a href=\"https://x.example/tags/noindex\">#<span>noindex</span></a></p>", true},
		{"#nosearch", true},
		{"noindex", true},
		{"NOSEARCH.", true},
		{"tags: #noindex,#foo", true},
		{"I study #nobotany", false},
		{"nosearchable things", false},
		{"noindexing is fun", false},
		{"robots welcome", false},
		{"mail: x#nobot", false},
		{"", false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) { require.Equal(t, tc.want, HasOptOutWord(tc.in)) })
	}
}

func TestCheckAccount(t *testing.T) {
	yes, no := true, false
	tests := []struct {
		name string
		a    Account
		want Reason
	}{
		{"indexable", Account{Indexable: &yes, Bio: "hello"}, OK},
		{"missing indexable", Account{Bio: "hello"}, NotIndexable},
		{"indexable false", Account{Indexable: &no}, NotIndexable},
		{"noindex", Account{Indexable: &yes, NoIndex: true}, NoIndex},
		{"bio word", Account{Indexable: &yes, Bio: "<p>#NoBot</p>"}, OptOutWord},
		{"field name", Account{Indexable: &yes, Fields: []Field{{Name: "#nosearch", Value: "x"}}}, OptOutWord},
		{"field value", Account{Indexable: &yes, Fields: []Field{{Name: "bots", Value: "noindex"}}}, OptOutWord},
		{"decoy", Account{Indexable: &yes, Bio: "#nobotany"}, OK},
		{"opt-in word without a flag", Account{Bio: "<p>Happy to be found: #<span>FediSearch</span></p>", OptInWord: "#fedisearch"}, OK},
		{"opt-in word in a field", Account{Fields: []Field{{Name: "search", Value: "#fedisearch"}}, OptInWord: "#fedisearch"}, OK},
		{"opt-in word is a whole word", Account{Bio: "#fedisearchable", OptInWord: "#fedisearch"}, NotIndexable},
		{"opt-in word absent", Account{Bio: "hello", OptInWord: "#fedisearch"}, NotIndexable},
		{"opt-in word never beats indexable false", Account{Indexable: &no, Bio: "#fedisearch", OptInWord: "#fedisearch"}, NotIndexable},
		{"opt-in word never beats an opt-out word", Account{Bio: "#fedisearch #nobot", OptInWord: "#fedisearch"}, OptOutWord},
		{"opt-in word never beats noindex", Account{NoIndex: true, Bio: "#fedisearch", OptInWord: "#fedisearch"}, NoIndex},
		{"no opt-in word configured", Account{Bio: "#fedisearch"}, NotIndexable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { require.Equal(t, tc.want, CheckAccount(tc.a)) })
	}
}

func TestCheckVisibility(t *testing.T) {
	for v, want := range map[string]Reason{"public": OK, "unlisted": NotPublic, "private": NotPublic, "direct": NotPublic, "": NotPublic} {
		require.Equal(t, want, CheckVisibility(v), v)
	}
}

func TestValidOptInWord(t *testing.T) {
	for w, ok := range map[string]bool{"#fedisearch": true, "searchme": true, "#x": false, "two words": false, "#nobot": false, "noindex": false, "<b>": false, "": false} {
		require.Equal(t, ok, ValidOptInWord(w) == nil, w)
	}
}
