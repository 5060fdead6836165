package markdown

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestFindLinks: markdown-it's core linkify rule on a text, for http(s)
// URLs and "www." hosts (the expectations checked against linkify-it 5).
// The inline rule (linkifyParser) also takes a URL after a letter of
// another script or '_' ("見てhttps://x.org"); TestInlineLinkify.
func TestFindLinks(t *testing.T) {
	for _, tc := range []struct {
		text  string
		links []string
	}{
		{"see https://x.org/a. and more", []string{"https://x.org/a"}},
		{`say "https://q.org/b" twice`, []string{"https://q.org/b"}},
		{"x:https://c.org, (https://d.org/e)", []string{"https://c.org", "https://d.org/e"}},
		{"(https://x.org/a_(b)_c)", []string{"https://x.org/a_(b)_c"}},
		{"見てhttps://x.org 「https://y.org」", []string{"https://y.org"}},
		{"https://de.wikipedia.org/wiki/Straße_(Begriffsklärung) ok", []string{"https://de.wikipedia.org/wiki/Straße_(Begriffsklärung)"}},
		{"x-https://x.org a.https://y.org", []string{"https://x.org", "https://y.org"}},
		{"a+https://x.org foohttps://x.org 1https://x.org _https://x.org", nil},
		{"https://foo.bar- x https://foo_bar.com https://-a.org https://a-.org", nil},
		{"https://x.org:99999/ no port", nil},
		{"https://x.org:8080/a https://x.org:/a", []string{"https://x.org:8080/a", "https://x.org"}},
		{"https://user:pw@x.org/", []string{"https://user:pw@x.org/"}},
		{"https://x.org/a??b https://x.org/a!!! https://x.org/a!!!b", []string{"https://x.org/a", "https://x.org/a", "https://x.org/a!!!b"}},
		{"https://x.org/a...b https://x.org/a.. b", []string{"https://x.org/a...b", "https://x.org/a"}},
		{`https://x.org/"q" https://x.org/a"b https://x.org/a's`, []string{`https://x.org/"q"`, "https://x.org/a", "https://x.org/a's"}},
		{"https://x.org/{a} https://x.org/[a https://x.org/a- https://x.org/<b>", []string{"https://x.org/{a}", "https://x.org/", "https://x.org/a-", "https://x.org/"}},
		{"https://localhost:3000/x https://a https://1.2.3.4/x", []string{"https://localhost:3000/x", "https://a", "https://1.2.3.4/x"}},
		{"HTTPS://X.ORG/A http:/x.org", []string{"HTTPS://X.ORG/A"}},
		{"www.example.com. =www.example.com www.foo.de/x?y=1.", []string{"www.example.com", "www.example.com", "www.foo.de/x?y=1"}},
		{"www.x.co.uk/a_b WWW.EXAMPLE.ORG", []string{"www.x.co.uk/a_b", "WWW.EXAMPLE.ORG"}},
		{"www.foo.xyz www.example.community xwww.example.com @www.example.com -www.example.com", nil},
		{"https://www.example.com/www.inner.com", []string{"https://www.example.com/www.inner.com"}},
		{"ftp://files.example/x me@x.example example.com", nil},
	} {
		t.Run(tc.text, func(t *testing.T) {
			var got []string
			for _, m := range findLinks(tc.text) {
				got = append(got, tc.text[m.start:m.end])
				require.Equal(t, m.fuzzy, tc.text[m.start] == 'w' || tc.text[m.start] == 'W')
			}
			require.Equal(t, tc.links, got)
		})
	}
}

func TestLinkAllowed(t *testing.T) {
	for dest, ok := range map[string]bool{
		"https://x.example/": true, "/relative": true, "mailto:a@b.example": true, "ftp://x": true, "#frag": true,
		"javascript:alert(1)": false, "JavaScript:alert(1)": false, " javascript:x": false, "java\tscript:x": false,
		"javascript&#58;x": false, "javascript&colon;x": false, "java\\script:x": true, "vbscript:x": false,
		"file:///etc/passwd": false, "data:text/html,x": false, "data:image/png;base64,x": true, "data:image/svg+xml;x": false,
	} {
		require.Equal(t, ok, linkAllowed([]byte(dest)), dest)
	}
}

func TestNormalizeLinkAndText(t *testing.T) {
	require.Equal(t, "https://xn--bcher-kva.example:8080/straße", normalizeLink("https://bücher.example:8080/straße"))
	require.Equal(t, "https://u@xn--bcher-kva.example/", normalizeLink("https://u@bücher.example/"))
	require.Equal(t, "mailto:bücher@x", normalizeLink("mailto:bücher@x"))
	require.Equal(t, "https://bücher.example/✓%2F%25", linkText("https://xn--bcher-kva.example/%E2%9C%93%2f%25"))
	require.Equal(t, "a\uFFFDb\uFFFD\uFFFDc", percentDecode("a%FFb%C0%80c"), "broken and overlong sequences")
	require.Equal(t, "%", percentDecode("%"))
}

// TestInlineLinkify: markdown-it's inline rule, which takes a URL whose
// scheme does not continue a word of letters, digits, '+', '-' or '.'
// (the core rule then takes those after '-' or '.'), before emphasis,
// code spans or links could split it, and leaves trailing stars to
// emphasis. Checked against markdown-it 14.
func TestInlineLinkify(t *testing.T) {
	r := New(LemmyOptions())
	for md, want := range map[string]string{
		"見てhttps://x.org":             `<p>見て<a href="https://x.org">https://x.org</a></p>` + "\n",
		"foo_https://x.org":           `<p>foo_<a href="https://x.org">https://x.org</a></p>` + "\n",
		"see https://x.org/a*":        `<p>see <a href="https://x.org/a">https://x.org/a</a>*</p>` + "\n",
		"x-https://x.org/a*":          `<p>x-<a href="https://x.org/a*">https://x.org/a*</a></p>` + "\n",
		"https://x.org/a`b` ok":       "<p><a href=\"https://x.org/a%60b%60\">https://x.org/a`b`</a> ok</p>\n",
		"https://x.org/__init__ ok":   `<p><a href="https://x.org/__init__">https://x.org/__init__</a> ok</p>` + "\n",
		"**https://x.org/a**":         `<p><strong><a href="https://x.org/a">https://x.org/a</a></strong></p>` + "\n",
		"[https://x.org]":             `<p>[<a href="https://x.org">https://x.org</a>]</p>` + "\n",
		"https://ex.org/%E2%9C%93 ok": `<p><a href="https://ex.org/%E2%9C%93">https://ex.org/✓</a> ok</p>` + "\n",
	} {
		require.Equal(t, want, r.HTML(md), md)
	}
}
