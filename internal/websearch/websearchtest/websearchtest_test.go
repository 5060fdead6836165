package websearchtest

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestActive checks the checker itself: it must see every way HTML runs
// script, and nothing in harmless HTML.
func TestActive(t *testing.T) {
	for _, bad := range []string{
		ScriptTag, ImgOnerror, JSLink, AttrBreak, StyleInject,
		`<p onclick="x()">a</p>`, `<a href=" JaVaScRiPt:alert(1)">a</a>`, `<iframe src="https://a.example/"></iframe>`,
		`<a href="data:text/html,x">a</a>`, `<meta http-equiv="refresh" content="0;url=javascript:alert(1)">`,
		`<p style="background:url(x)">a</p>`,
	} {
		require.NotEmpty(t, Active(t, bad), bad)
	}
	for _, good := range []string{
		"", "plain text", `<p>a <mark>b</mark> <a href="https://a.example/" rel="nofollow">c</a></p>`,
		"&lt;script&gt;alert(1)&lt;/script&gt;", `<p>on the javascript: scheme</p>`,
	} {
		require.Empty(t, Active(t, good), good)
	}
}
