package markdown

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/sanitize"
)

// TestLemmyHTML: markdown-it's default preset, as lemmy-ui renders posts
// and comments. Every expected output is markdown-it's, but for the
// markup of strikethrough (<del> for <s>) and footnotes.
func TestLemmyHTML(t *testing.T) {
	r := New(LemmyOptions())
	for _, tc := range []struct{ name, md, html string }{
		{"paragraphs and soft breaks", "one\ntwo\n\n three ", "<p>one\ntwo</p>\n<p>three</p>\n"},
		{"emphasis and strong", "*em* **strong** ***both*** _em_ __strong__",
			"<p><em>em</em> <strong>strong</strong> <em><strong>both</strong></em> <em>em</em> <strong>strong</strong></p>\n"},
		{"emphasis inside words", "foo*bar*baz snake_case_word", "<p>foo<em>bar</em>baz snake_case_word</p>\n"},
		{"code spans", "`code` `<b>`", "<p><code>code</code> <code>&lt;b&gt;</code></p>\n"},
		{"indented code", "    indented\n    code <b>", "<pre><code>indented\ncode &lt;b&gt;\n</code></pre>\n"},
		{"fenced code", "```go\nfmt.Println(\"<b>\")\n```", "<pre><code class=\"language-go\">fmt.Println(&quot;&lt;b&gt;&quot;)\n</code></pre>\n"},
		{"block quotes", "> quote\n>> nested", "<blockquote>\n<p>quote</p>\n<blockquote>\n<p>nested</p>\n</blockquote>\n</blockquote>\n"},
		{"lists", "- a\n- b\n  - c\n\n1. one\n2. two",
			"<ul>\n<li>a</li>\n<li>b\n<ul>\n<li>c</li>\n</ul>\n</li>\n</ul>\n<ol>\n<li>one</li>\n<li>two</li>\n</ol>\n"},
		{"headings", "# H1\nSetext\n===", "<h1>H1</h1>\n<h1>Setext</h1>\n"},
		{"hashtag is no heading", "#fediverse", "<p>#fediverse</p>\n"},
		{"thematic break", "---", "<hr>\n"},
		{"link", "[text](https://a.example/x?a=1&b=2 \"title\")", "<p><a href=\"https://a.example/x?a=1&amp;b=2\" title=\"title\">text</a></p>\n"},
		{"reference link", "[ref][r]\n\n[r]: https://ref.example/", "<p><a href=\"https://ref.example/\">ref</a></p>\n"},
		{"image", "![alt](https://img.example/p.png)", "<p><img src=\"https://img.example/p.png\" alt=\"alt\"></p>\n"},
		{"hard breaks", "hard  \nbreak\\\nback", "<p>hard<br>break<br>back</p>\n"},
		{"escapes", "a\\*b\\*", "<p>a*b*</p>\n"},
		{"autolinks", "<https://auto.example/a> <me@x.example>",
			"<p><a href=\"https://auto.example/a\">https://auto.example/a</a> <a href=\"mailto:me@x.example\">me@x.example</a></p>\n"},
		{"strikethrough", "~~struck~~", "<p><del>struck</del></p>\n"},
		{"table", "| a | b |\n|---|---|\n| 1 | 2 |",
			"<table>\n<thead>\n<tr>\n<th>a</th>\n<th>b</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n<td>1</td>\n<td>2</td>\n</tr>\n</tbody>\n</table>\n"},
		{"footnote", "Text[^1].\n\n[^1]: Note.",
			"<p>Text<sup class=\"footnote-ref\"><a href=\"#fn:1\" id=\"fnref:1\">[1]</a></sup>.</p>\n<div class=\"footnotes\" role=\"doc-endnotes\">\n<hr>\n<ol>\n<li id=\"fn:1\">\n<p>Note. <a href=\"#fnref:1\" class=\"footnote-backref\">↩︎</a></p>\n</li>\n</ol>\n</div>\n"},
		{"raw HTML is text", "<b>bold</b> <script>alert('x')</script>", "<p>&lt;b&gt;bold&lt;/b&gt; &lt;script&gt;alert('x')&lt;/script&gt;</p>\n"},
		{"HTML block is text", "<div>\n*md*\n</div>", "<p>&lt;div&gt;\n<em>md</em>\n&lt;/div&gt;</p>\n"},
		{"URL in an attribute is a link", `<iframe src="https://evil.example/frame"></iframe>`,
			"<p>&lt;iframe src=&quot;<a href=\"https://evil.example/frame\">https://evil.example/frame</a>&quot;&gt;&lt;/iframe&gt;</p>\n"},
		{"javascript link is text", "[click me](javascript:alert(document.cookie))", "<p>[click me](javascript:alert(document.cookie))</p>\n"},
		{"hidden javascript link is text", "[x](<  JavaScript&#58;alert(1)>)", "<p>[x](  JavaScript&amp;#58;alert(1))</p>\n"},
		{"javascript image is text", "![x](javascript:alert(1))", "<p>![x](javascript:alert(1))</p>\n"},
		{"javascript autolink is text", "<javascript:alert(1)>", "<p>&lt;javascript:alert(1)&gt;</p>\n"},
		{"data link is text, data image is not", "[d](data:text/html;base64,PHNjcmlwdD4=) ![i](data:image/png;base64,iVBO)",
			"<p>[d](data:text/html;base64,PHNjcmlwdD4=) <img src=\"data:image/png;base64,iVBO\" alt=\"i\"></p>\n"},
		{"quote in a destination", "[a](https://a.example/\"onmouseover=x)", "<p><a href=\"https://a.example/%22onmouseover=x\">a</a></p>\n"},
		{"bare URL", "see https://x.example/a/b?c=1#d here", "<p>see <a href=\"https://x.example/a/b?c=1#d\">https://x.example/a/b?c=1#d</a> here</p>\n"},
		{"www host", "Go to www.example.com/path!", "<p>Go to <a href=\"http://www.example.com/path\">www.example.com/path</a>!</p>\n"},
		{"trailing punctuation", "see https://x.example/a. or https://y.example/b, (https://z.example/c)",
			"<p>see <a href=\"https://x.example/a\">https://x.example/a</a>. or <a href=\"https://y.example/b\">https://y.example/b</a>, (<a href=\"https://z.example/c\">https://z.example/c</a>)</p>\n"},
		{"balanced parentheses", "(https://en.wikipedia.org/wiki/Foo_(bar))",
			"<p>(<a href=\"https://en.wikipedia.org/wiki/Foo_(bar)\">https://en.wikipedia.org/wiki/Foo_(bar)</a>)</p>\n"},
		{"quoted URL", `"https://q.example/b"`, "<p>&quot;<a href=\"https://q.example/b\">https://q.example/b</a>&quot;</p>\n"},
		{"URL before emphasis", "https://x.example/a*b*c and *https://y.example/d*",
			"<p><a href=\"https://x.example/a*b*c\">https://x.example/a*b*c</a> and <em><a href=\"https://y.example/d\">https://y.example/d</a></em></p>\n"},
		{"URL in a word is none", "foohttps://x.example", "<p>foohttps://x.example</p>\n"},
		{"international URL", "https://bücher.example/straße", "<p><a href=\"https://xn--bcher-kva.example/stra%C3%9Fe\">https://bücher.example/straße</a></p>\n"},
		{"URL in a link text is no second link", "[see https://x.example](https://y.example)", "<p><a href=\"https://y.example\">see https://x.example</a></p>\n"},
		{"URL in code is none", "`https://x.example`", "<p><code>https://x.example</code></p>\n"},
		// Deliberate: markdown-it also links bare host names with a known
		// top-level domain ("example.com", "README.md").
		{"bare host names stay text", "xwww.example.com and example.com", "<p>xwww.example.com and example.com</p>\n"},
		{"NUL and CRLF", "a\x00b\r\nc", "<p>a\uFFFDb\nc</p>\n"},
		{"empty", " \n\n ", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.html, r.HTML(tc.md))
		})
	}
}

// TestPeerTubeHTML: PeerTube's text rules for video descriptions: lines
// are lines, only paragraphs, lists, emphasis and links are Markdown.
func TestPeerTubeHTML(t *testing.T) {
	r := New(PeerTubeOptions())
	for _, tc := range []struct{ name, md, html string }{
		{"breaks", "Chapters:\r\n00:00 Intro\r\n02:15 Setup\r\n\r\nBye", "<p>Chapters:<br>00:00 Intro<br>02:15 Setup</p>\n<p>Bye</p>\n"},
		{"emphasis", "The **slides** and the _notes_", "<p>The <strong>slides</strong> and the <em>notes</em></p>\n"},
		{"lists", "- a\n- b\n\n1. one", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n<ol>\n<li>one</li>\n</ol>\n"},
		{"link", "Music: [Free Music Archive](https://music.example.net/track/42) (CC BY 4.0).",
			"<p>Music: <a href=\"https://music.example.net/track/42\">Free Music Archive</a> (CC BY 4.0).</p>\n"},
		{"bare URL", "wiki: https://wiki.example.org/talks/2026", "<p>wiki: <a href=\"https://wiki.example.org/talks/2026\">https://wiki.example.org/talks/2026</a></p>\n"},
		{"no headings, quotes or code", "# not a heading\n> no quote\n`no code`\n    indented\n---",
			"<p># not a heading<br>&gt; no quote<br>`no code`<br>indented<br>---</p>\n"},
		{"no tables or strikethrough", "a|b\n-|-\n~~x~~", "<p>a|b<br>-|-<br>~~x~~</p>\n"},
		{"no reference links", "[ref][r]\n\n[r]: https://ref.example/", "<p>[ref][r]</p>\n<p>[r]: <a href=\"https://ref.example/\">https://ref.example/</a></p>\n"},
		{"an image is ! and a link", "![img](https://x.example/p.png)", "<p>!<a href=\"https://x.example/p.png\">img</a></p>\n"},
		{"an image in a link", "[![img](https://i.example/p.png)](https://l.example)",
			"<p>[!<a href=\"https://i.example/p.png\">img</a>](<a href=\"https://l.example\">https://l.example</a>)</p>\n"},
		{"raw HTML is text", `<a href="javascript:alert(1)" onclick="alert(2)">watch</a> <script>x</script>`,
			"<p>&lt;a href=&quot;javascript:alert(1)&quot; onclick=&quot;alert(2)&quot;&gt;watch&lt;/a&gt; &lt;script&gt;x&lt;/script&gt;</p>\n"},
		{"javascript link is text", "[click me](javascript:alert(document.cookie))", "<p>[click me](javascript:alert(document.cookie))</p>\n"},
		// Deliberate: PeerTube has no backslash escapes here ("a\*b").
		{"escapes", "a\\*b", "<p>a*b</p>\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.html, r.HTML(tc.md))
		})
	}
}

// TestMatchesMarkdownIt renders testdata/corpus.json (every construct
// above, markdown-it's linkify corner cases, the simulator's hostile
// Markdown and real PeerTube descriptions) and compares the text and the
// links that sanitize reads from it (what fedilens stores) with
// markdown-it's rendering of the same Markdown (testdata/markdown-it.json,
// written by testdata/markdown-it.js). The only difference allowed is
// deliberate: bare host names without "www." (markdown-it's fuzzy links,
// "MOMENT.at", "README.md") are not links here.
func TestMatchesMarkdownIt(t *testing.T) {
	b, err := os.ReadFile("testdata/markdown-it.json")
	require.NoError(t, err)
	var ref struct {
		Generator string
		Cases     []struct{ Src, Lemmy, PeerTube string }
	}
	require.NoError(t, json.Unmarshal(b, &ref))
	require.Greater(t, len(ref.Cases), 100)
	lemmy, peertube := New(LemmyOptions()), New(PeerTubeOptions())
	fuzzy := 0
	for _, c := range ref.Cases {
		for _, f := range []struct {
			name string
			r    *Renderer
			want string
		}{{"lemmy", lemmy, c.Lemmy}, {"peertube", peertube, c.PeerTube}} {
			// markdown-it writes a newline after <br>, which
			// sanitize.Text reads as a second line break.
			wantText, wantLinks := sanitize.TextLinks(strings.ReplaceAll(f.want, "<br>\n", "<br>"))
			kept := []string{}
			for _, l := range wantLinks {
				if host, ok := strings.CutPrefix(l, "http://"); ok && !strings.Contains(c.Src, l) &&
					!strings.HasPrefix(strings.ToLower(host), "www.") {
					fuzzy++
					continue
				}
				kept = append(kept, l)
			}
			gotText, gotLinks := sanitize.TextLinks(f.r.HTML(c.Src))
			require.Equal(t, wantText, gotText, "%s: %q", f.name, c.Src)
			require.Equal(t, kept, gotLinks, "%s: %q", f.name, c.Src)
		}
	}
	t.Logf("%d cases as %s renders them; %d fuzzy host links left out", len(ref.Cases), ref.Generator, fuzzy)
}

// TestHostileInput: deep nesting and long lines cost milliseconds, not
// seconds (goldmark alone takes seconds on some of them, minutes on
// nested lists), and the output stays bounded and valid.
func TestHostileInput(t *testing.T) {
	const mb = 1 << 20
	nestedLists := func() string {
		var b strings.Builder
		for i := 0; b.Len() < mb; i++ {
			b.WriteString(strings.Repeat("  ", i%400) + "- x\n")
		}
		return b.String()
	}()
	inputs := map[string]string{
		"block quotes":     strings.Repeat(">", mb),
		"quoted quotes":    strings.Repeat("> ", mb/2),
		"brackets":         strings.Repeat("[", mb),
		"stars":            strings.Repeat("*", mb),
		"emphasis":         strings.Repeat("*a ", mb/6) + strings.Repeat("a* ", mb/6),
		"nested lists":     nestedLists,
		"open links":       strings.Repeat("[a](", mb/4),
		"open destination": strings.Repeat("[a](<", mb/5),
		"nested links":     strings.Repeat("[", mb/8) + strings.Repeat("](x)", mb/8),
		"references":       strings.Repeat("[a]: b\n", mb/7),
		"footnotes":        strings.Repeat("[^a]: ", mb/6),
		"URLs":             strings.Repeat("https://a.example/", mb/18),
		"schemes":          strings.Repeat("https:", mb/6),
		"www":              strings.Repeat("www.a", mb/5),
		"1 MB line":        strings.Repeat("Lorem *ipsum* [dolor](https://x.example/) sit `amet` <b>, ", mb/57),
	}
	// The text rules have no block quotes, references or footnotes.
	textRules := []string{"brackets", "stars", "emphasis", "nested lists", "open links", "URLs", "1 MB line"}
	for _, o := range []Options{LemmyOptions(), PeerTubeOptions()} {
		r := New(o)
		for name, in := range inputs {
			if o.Text && !slices.Contains(textRules, name) {
				continue
			}
			start := time.Now()
			out := r.HTML(in)
			took := time.Since(start)
			// Each takes at most a few tens of milliseconds (measured on
			// 2 busy cores); the race detector's tenfold is allowed for.
			budget := 250 * time.Millisecond
			if raceEnabled {
				budget *= 10
			}
			require.Less(t, took, budget, "%s (text rules %v)", name, o.Text)
			require.True(t, utf8.ValidString(out), name)
			require.Less(t, len(out), 12*MaxInput, name)
			require.NotContains(t, out, "<script", name)
		}
	}
}

// TestInputCap: input is cut at MaxInput bytes, never inside a character.
func TestInputCap(t *testing.T) {
	r := New(LemmyOptions())
	in := strings.Repeat("a", MaxInput-1) + "é" + "TAIL"
	out := r.HTML(in)
	require.True(t, utf8.ValidString(out))
	require.NotContains(t, out, "TAIL")
	require.NotContains(t, out, "é", "é straddles the cut")
	require.Contains(t, out, strings.Repeat("a", MaxInput-1))
	require.Equal(t, "<p>\uFFFDa</p>\n", r.HTML("\xffa"), "invalid UTF-8")
}

// TestConcurrentUse: one Renderer serves many goroutines (run with -race).
func TestConcurrentUse(t *testing.T) {
	r := New(LemmyOptions())
	const md = "# Title\n\nSee https://x.example/a and [b](https://b.example). Note[^1].\n\n[^1]: www.note.example"
	want := r.HTML(md)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if got := r.HTML(md); got != want {
					t.Errorf("got %q", got)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// FuzzHTML: any input renders without panic to valid UTF-8 whose links,
// once sanitised, are http(s) only.
func FuzzHTML(f *testing.F) {
	b, err := os.ReadFile("testdata/corpus.json")
	require.NoError(f, err)
	var corpus []string
	require.NoError(f, json.Unmarshal(b, &corpus))
	for _, s := range corpus {
		f.Add(s)
	}
	lemmy, peertube := New(LemmyOptions()), New(PeerTubeOptions())
	f.Fuzz(func(t *testing.T, md string) {
		for _, r := range []*Renderer{lemmy, peertube} {
			out := r.HTML(md)
			if !utf8.ValidString(out) {
				t.Fatalf("invalid UTF-8 for %q", md)
			}
			for _, l := range sanitize.Links(out) {
				if !strings.HasPrefix(l, "http://") && !strings.HasPrefix(l, "https://") {
					t.Fatalf("link %q for %q", l, md)
				}
			}
			if strings.Contains(strings.ToLower(out), "href=\"javascript:") {
				t.Fatalf("javascript link for %q: %s", md, out)
			}
		}
	})
}
