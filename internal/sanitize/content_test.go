package sanitize

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"
)

// contentInputs are the inputs of this package's other tests, hostile
// corners, and every HTML-looking string of the captured fixtures.
func contentInputs(tb testing.TB) []string {
	tb.Helper()
	in := []string{
		// TestHTML
		`<p>Hello <strong>world</strong></p>`,
		`<p>hi</p><script>alert(1)</script>`,
		`<p onclick="alert(1)">x</p><img src=x onerror=alert(1)>`,
		`<a href="javascript:alert(1)">click</a>`,
		`<a href="https://example.com/x">x</a>`,
		`<style>p{}</style><iframe src="https://evil.example"></iframe><p style="color:red">t</p>`,
		`<a href="data:text/html,<script>alert(1)</script>">d</a>`,
		"<p>a\xffb</p>",
		// TestText
		`<p>Hello <a href="https://x.example/tags/fedi" class="mention hashtag">#<span>fedi</span></a></p><p>second &amp; last</p>`,
		`line one<br>line two<br/>three`,
		`a<script>var x = "<p>";</script>b`,
		`&lt;img src=x onerror=alert(1)&gt;`,
		"  a \t\t b  ",
		"",
		// TestLinks
		`<p>see <a href="https://example.org/a">this</a></p>`,
		`<p><span class="h-card"><a href="https://x.example/@bob" class="u-url mention">@bob</a></span> ` +
			`<a href="https://x.example/tags/cats" class="mention hashtag" rel="tag">#cats</a> ` +
			`<a href="https://blog.example/post" rel="nofollow noopener">post</a></p>`,
		`<a href="https://x.example/tags/a" rel="tag">#a</a>`,
		`<a href="javascript:alert(1)">x</a><a href="data:text/html,hi">y</a><a href="//evil.example/">z</a><a href="https://u:p@h.example/">w</a>`,
		`<a href="https://b.example/">b</a><a href="https://a.example/">a</a><a href="https://b.example/">b</a>`,
		`just text https://bare.example/`,
		// Corners of the text folding and the tokenizer.
		"\n\n  \r\n<p>\u00a0a\u2028</p>\n\n\n<div>b\f\vc</div>\r\r<h1> t </h1><tr>\u0085",
		"<script/>x<style>y</style>z<script>a</script>b</script>c",
		"<p>unclosed <a href=https://u.example/ class=x>link<p><a href=' https://v.example/a b '>",
		"<pre>  keep\n\n\n\n  lines  </pre><li>x</li><blockquote>q</blockquote>",
		"<a href=\"https://\xffbad.example/\">x</a><a href=\"HTTPS://Case.Example/%7e\">y</a>",
		"<!-- c --><!DOCTYPE html><![CDATA[x]]><textarea><p>t</textarea>",
	}
	var many strings.Builder
	for i := 0; i < 30; i++ {
		many.WriteString(`<a href="https://h.example/` + string(rune('a'+i%26)) + string(rune('a'+i/26)) + `">x</a>`)
	}
	in = append(in, many.String())

	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			if strings.Contains(x, "<") || strings.Contains(x, "&") {
				in = append(in, x)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	files, err := filepath.Glob("/work/shared/fixtures/captured/*/*.json")
	require.NoError(tb, err)
	require.NotEmpty(tb, files)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(tb, err)
		var v any
		require.NoError(tb, json.Unmarshal(raw, &v), f)
		walk(v)
	}
	return in
}

func TestContentMatchesSeparateCalls(t *testing.T) {
	t.Parallel()
	inputs := contentInputs(t)
	require.Greater(t, len(inputs), 60, "the fixtures hold HTML")
	for _, s := range inputs {
		h, text, links := Content(s)
		require.Equal(t, HTML(s), h, s)
		require.Equal(t, textReference(s), text, s)
		require.Equal(t, linksReference(s), links, s)
		text, links = TextLinks(h)
		require.Equal(t, textReference(h), text, h)
		require.Equal(t, linksReference(h), links, h)
	}
}

// TestContentReadsTheRemoteHTML shows why Text and Links cannot read the
// sanitised HTML: the allow-list drops what marks a mention and what ends
// a line.
func TestContentReadsTheRemoteHTML(t *testing.T) {
	t.Parallel()
	s := `<div>a</div><div>b <a href="https://x.example/@bob" class="u-url mention">@bob</a></div>`
	h, text, links := Content(s)
	require.Equal(t, "a\n\nb @bob", text)
	require.Empty(t, links)
	require.NotEqual(t, text, Text(h))
	require.NotEqual(t, links, Links(h))
}

func FuzzContent(f *testing.F) {
	for _, s := range contentInputs(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, text, links := Content(s)
		if h != HTML(s) || text != textReference(s) || strings.Join(links, " ") != strings.Join(linksReference(s), " ") {
			t.Fatalf("Content(%q) differs from HTML, Text, Links", s)
		}
	})
}

// BenchmarkContent compares Content with the three calls it replaces on
// real post content (the captured Mastodon timeline's statuses).
func BenchmarkContent(b *testing.B) {
	raw, err := os.ReadFile("/work/shared/fixtures/captured/mastodon/api_v1_timelines_public.json")
	require.NoError(b, err)
	var statuses []struct {
		Content string `json:"content"`
	}
	require.NoError(b, json.Unmarshal(raw, &statuses))
	require.NotEmpty(b, statuses)
	b.Run("separate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, s := range statuses {
				_, _, _ = HTML(s.Content), textReference(s.Content), linksReference(s.Content)
			}
		}
	})
	b.Run("Content", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, s := range statuses {
				_, _, _ = Content(s.Content)
			}
		}
	})
}

// plainLineReference is PlainLine without the plainText shortcut.
func plainLineReference(s string, max int) string {
	t := strings.Join(strings.Fields(textReference(s)), " ")
	if max > 0 && utf8.RuneCountInString(t) > max {
		t = string([]rune(t)[:max])
	}
	return t
}

func TestPlainLineShortcut(t *testing.T) {
	t.Parallel()
	inputs := append(contentInputs(t),
		"Ann \u00a0 Smith\u2028", "a\x00b\rc\r\nd", "\xff\xfeName", "  ", "tab\tand\vform\ffeed",
		"emoji :blobcat: 🐱", "x > y", "no&amp;", "<b>bold</b> name", "\u0085NEL\u3000ideo")
	for _, s := range inputs {
		for _, max := range []int{0, 3, 200} {
			require.Equal(t, plainLineReference(s, max), PlainLine(s, max), "%q %d", s, max)
		}
	}
}

func FuzzPlainLine(f *testing.F) {
	for _, s := range []string{"Ann Smith", "a\x00b\rc", "\xffx", "a<b", "&amp;", "\u00a0x\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := PlainLine(s, 0), plainLineReference(s, 0); got != want {
			t.Fatalf("PlainLine(%q) = %q, want %q", s, got, want)
		}
	})
}

func BenchmarkPlainLine(b *testing.B) {
	names := []string{"Ann Smith", "🐱 cat person :blobcat:", "Dr. Jörg Müller-Lüdenscheidt", "someone", "CW: politics, long thread"}
	b.Run("reference", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, s := range names {
				_ = plainLineReference(s, 200)
			}
		}
	})
	b.Run("PlainLine", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, s := range names {
				_ = PlainLine(s, 200)
			}
		}
	})
}

var refSpaces = regexp.MustCompile(`[ \t\r\f\v]+`)
var refNewlines = regexp.MustCompile(`\n{2,}`)

// textReference is Text as first written, with its own tokenizer pass
// and regexps: the reference textLinks must equal.
//
// Text reduces remote HTML to plain text for indexing and plain-text
// display: tags dropped (with line breaks for block elements), entities
// decoded, the contents of script and style dropped, white space folded.
func textReference(s string) string {
	z := html.NewTokenizer(strings.NewReader(validUTF8(s)))
	var b strings.Builder
	skip := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			out := refSpaces.ReplaceAllString(b.String(), " ")
			lines := strings.Split(out, "\n")
			for i := range lines {
				lines[i] = strings.TrimSpace(lines[i])
			}
			return strings.TrimSpace(refNewlines.ReplaceAllString(strings.Join(lines, "\n"), "\n\n"))
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch n := string(name); {
			case n == "script" || n == "style":
				if z.Token().Type == html.StartTagToken {
					skip++
				}
			case blockElements[n]:
				b.WriteByte('\n')
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch n := string(name); {
			case n == "script" || n == "style":
				if skip > 0 {
					skip--
				}
			case blockElements[n]:
				b.WriteByte('\n')
			}
		}
	}
}

// linksReference is Links as first written, with its own tokenizer pass:
// the reference textLinks must equal.
func linksReference(s string) []string {
	z := html.NewTokenizer(strings.NewReader(validUTF8(s)))
	seen := map[string]bool{}
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		name, hasAttr := z.TagName()
		if string(name) != "a" || !hasAttr {
			continue
		}
		var href string
		skip := false
		for {
			k, v, more := z.TagAttr()
			switch string(k) {
			case "href":
				href = strings.TrimSpace(string(v))
			case "class":
				for _, c := range strings.Fields(string(v)) {
					if c == "mention" || c == "hashtag" || c == "u-url" {
						skip = true
					}
				}
			case "rel":
				for _, r := range strings.Fields(string(v)) {
					if r == "tag" {
						skip = true
					}
				}
			}
			if !more {
				break
			}
		}
		if skip || href == "" {
			continue
		}
		u, err := url.Parse(href)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			continue
		}
		seen[u.String()] = true
	}
	out := make([]string, 0, len(seen))
	for l := range seen {
		out = append(out, l)
	}
	sort.Strings(out)
	if len(out) > MaxLinks {
		out = out[:MaxLinks]
	}
	return out
}
