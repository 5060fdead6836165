package sanitize

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLinks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"plain link", `<p>see <a href="https://example.org/a">this</a></p>`, []string{"https://example.org/a"}},
		{"mention and hashtag dropped",
			`<p><span class="h-card"><a href="https://x.example/@bob" class="u-url mention">@bob</a></span> ` +
				`<a href="https://x.example/tags/cats" class="mention hashtag" rel="tag">#cats</a> ` +
				`<a href="https://blog.example/post" rel="nofollow noopener">post</a></p>`,
			[]string{"https://blog.example/post"}},
		{"rel tag dropped", `<a href="https://x.example/tags/a" rel="tag">#a</a>`, []string{}},
		{"hostile schemes dropped",
			`<a href="javascript:alert(1)">x</a><a href="data:text/html,hi">y</a><a href="//evil.example/">z</a><a href="https://u:p@h.example/">w</a>`,
			[]string{}},
		{"duplicates and order", `<a href="https://b.example/">b</a><a href="https://a.example/">a</a><a href="https://b.example/">b</a>`,
			[]string{"https://a.example/", "https://b.example/"}},
		{"not html", `just text https://bare.example/`, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, Links(tc.in))
		})
	}
	many := ""
	for i := 0; i < 30; i++ {
		many += `<a href="https://h.example/` + string(rune('a'+i%26)) + string(rune('a'+i/26)) + `">x</a>`
	}
	require.Len(t, Links(many), MaxLinks)
}
