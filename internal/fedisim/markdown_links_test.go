package fedisim

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMarkdownItLinks pins the links of every piece of Markdown the
// simulator writes for Lemmy and PeerTube to those markdown-it 14 (html
// off, linkify on) renders: the truth's links are what people see linked.
func TestMarkdownItLinks(t *testing.T) {
	want := map[string][]string{
		"<script>alert('xss')</script>":                                                         nil,
		"[click me](javascript:alert(document.cookie))":                                         nil,
		"<img src=x onerror=alert(1)>":                                                          nil,
		"![tracker](javascript:alert(1))":                                                       nil,
		`<a href="https://evil.example/" style="position:fixed">styled</a>`:                     {"https://evil.example/"},
		"<iframe src=\"https://evil.example/frame\"></iframe>":                                  {"https://evil.example/frame"},
		`<img src="x" onerror="alert(1)">`:                                                      nil,
		`<a href="javascript:alert(1)" onclick="alert(2)">watch the full version</a>`:           nil,
		"![img](https://i.example/p.png) and [x](https://a.example/) https://a.example/ again.": {"https://a.example/", "https://a.example/"},
		"foohttps://word.example x-https://dash.example":                                        {"https://dash.example"},
	}
	for _, s := range append(append([]string{}, lemmyHostile...), ptHostileMarkdown...) {
		require.Contains(t, want, s, "a hostile template without its expected links")
	}
	for _, s := range ptShortDescriptions {
		want[s] = nil
	}
	ptWant := map[int][]string{
		1: {"https://wiki.example.org/talks/2026"},
		3: {"https://music.example.net/track/42"},
		5: {"https://git.example.com/demo/project"},
	}
	for i, s := range ptParagraphs {
		want[s] = ptWant[i]
	}
	for _, l := range lemmyLinks {
		want["Just finished reading a great book. See [this]("+l+")."] = []string{l}
		want["Coffee first. See [this]("+l+").\n\n<iframe src=\"https://evil.example/frame\"></iframe>"] = []string{l, "https://evil.example/frame"}
	}
	for s, links := range want {
		require.Equal(t, links, markdownItLinks(s), "%q", s)
	}
}

// TestPeerTubeTruthLinks: a video's links are its description's, not its
// title's, each once.
func TestPeerTubeTruthLinks(t *testing.T) {
	p := PostTruth{ContentHTML: "<p>https://title.example/ &lt;b&gt;</p><p>Watch https://a.example/ and https://a.example/ &lt;a href=&quot;https://b.example/&quot;&gt;</p>"}
	peerTubePostTruth(&instance{kind: swPeerTube}, &p)
	require.Equal(t, []string{"https://a.example/", "https://b.example/"}, p.Links)
}
