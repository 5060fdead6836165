package sanitize

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHTML(t *testing.T) {
	tests := []struct {
		name, in    string
		mustHave    []string
		mustNotHave []string
	}{
		{"plain paragraph", `<p>Hello <strong>world</strong></p>`, []string{"<p>Hello <strong>world</strong></p>"}, nil},
		{"script removed", `<p>hi</p><script>alert(1)</script>`, []string{"<p>hi</p>"}, []string{"script", "alert"}},
		{"event handler removed", `<p onclick="alert(1)">x</p><img src=x onerror=alert(1)>`, []string{"<p>x</p>"}, []string{"onclick", "onerror", "<img"}},
		{"javascript link removed", `<a href="javascript:alert(1)">click</a>`, []string{"click"}, []string{"javascript"}},
		{"https link kept with rel", `<a href="https://example.com/x">x</a>`, []string{`href="https://example.com/x"`, "nofollow", "noreferrer"}, nil},
		{"style and iframe removed", `<style>p{}</style><iframe src="https://evil.example"></iframe><p style="color:red">t</p>`, []string{"<p>t</p>"}, []string{"iframe", "style"}},
		{"data uri removed", `<a href="data:text/html,<script>alert(1)</script>">d</a>`, nil, []string{"data:", "<script"}},
		{"invalid utf8", "<p>a\xffb</p>", []string{"a\uFFFDb"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := HTML(tc.in)
			for _, s := range tc.mustHave {
				require.Contains(t, got, s)
			}
			for _, s := range tc.mustNotHave {
				require.NotContains(t, strings.ToLower(got), s)
			}
		})
	}
}

func TestText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"paragraphs", `<p>Hello <a href="https://x.example/tags/fedi" class="mention hashtag">#<span>fedi</span></a></p><p>second &amp; last</p>`, "Hello #fedi\n\nsecond & last"},
		{"br", `line one<br>line two<br/>three`, "line one\nline two\nthree"},
		{"script content dropped", `a<script>var x = "<p>";</script>b`, "ab"},
		{"entities", `&lt;img src=x onerror=alert(1)&gt;`, "<img src=x onerror=alert(1)>"},
		{"whitespace folded", "  a \t\t b  ", "a b"},
		{"empty", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { require.Equal(t, tc.want, Text(tc.in)) })
	}
}

func TestPlainLine(t *testing.T) {
	require.Equal(t, "a b", PlainLine("<p>a</p><p>b</p>", 0))
	require.Equal(t, "héll", PlainLine("héllo", 4))
}

func FuzzHTML(f *testing.F) {
	for _, s := range []string{`<p>x</p>`, `<a href="javascript:1">`, `<script>`, "\xff<p"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := HTML(s)
		low := strings.ToLower(out)
		if strings.Contains(low, "<script") || strings.Contains(low, "javascript:") || strings.Contains(low, " on") && strings.Contains(low, "=") && strings.Contains(low, "<") && containsHandler(low) {
			t.Fatalf("unsafe output %q from %q", out, s)
		}
		_ = Text(s)
	})
}

// containsHandler reports an on* attribute inside a tag.
func containsHandler(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '<' {
			continue
		}
		end := strings.IndexByte(s[i:], '>')
		if end < 0 {
			end = len(s) - i
		}
		tag := s[i : i+end]
		for _, f := range strings.Fields(tag)[1:] {
			if strings.HasPrefix(f, "on") {
				return true
			}
		}
	}
	return false
}
