package crawler

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/fedisim"
	"github.com/fedilens/fedilens/internal/model"
)

// TestPeerTubeSourceMatchesTruth: PeerTube's videos across two epochs
// (withdrawals, deleted accounts and videos, new videos). Without an
// opt-in word nobody there can consent: nothing is read (no_opt_in).
func TestPeerTubeSourceMatchesTruth(t *testing.T) {
	for _, tc := range []struct {
		word      string
		instances int
	}{{"", 250}, {"#searchable", 450}} {
		word := tc.word
		t.Run("optin="+word, func(t *testing.T) {
			n := checkPostsAgainstTruth(t, fedisim.Options{Seed: 5, Instances: tc.instances, NoHostile: true, OptInWord: word}, 2, "peertube")
			t.Logf("%d videos stored after epoch 1", n)
			if word == "" {
				require.Zero(t, n)
			} else {
				require.Greater(t, n, 30)
			}
		})
	}
}

// TestPeerTubeToPost maps videos, hostile ones included, to posts.
func TestPeerTubeToPost(t *testing.T) {
	hc := &hostCrawl{host: "tube.example"}
	base := func(mod func(v map[string]any)) peerTubeVideo {
		v := map[string]any{
			"uuid": "0b6c1c56-5a8e-4d0c-9d7e-6f1f7f0f1a2b", "url": "https://tube.example/videos/watch/0b6c1c56-5a8e-4d0c-9d7e-6f1f7f0f1a2b",
			"name": "Birdsong at dawn", "language": map[string]any{"id": "en-GB", "label": "English"},
			"privacy": map[string]any{"id": 1, "label": "Public"}, "nsfw": false, "isLocal": true,
			"likes": 12, "comments": 3, "publishedAt": "2026-11-01T10:00:00.123Z",
			"account": map[string]any{"name": "Alice", "displayName": "<b>Alice</b>", "host": "tube.example"},
			"tags":    []any{"Birding", "#Nature", "birding", 7},
		}
		mod(v)
		b, err := json.Marshal(v)
		require.NoError(t, err)
		var out peerTubeVideo
		require.NoError(t, json.Unmarshal(b, &out))
		return out
	}
	for _, tc := range []struct {
		name  string
		mod   func(v map[string]any)
		desc  string
		ok    bool
		check func(t *testing.T, p model.Post)
	}{
		{name: "plain", mod: func(map[string]any) {}, desc: "Recorded at 5am.\r\n\r\nMore at https://birds.example/dawn and [the map](https://maps.example/x).", ok: true,
			check: func(t *testing.T, p model.Post) {
				require.Equal(t, "https://tube.example/videos/watch/0b6c1c56-5a8e-4d0c-9d7e-6f1f7f0f1a2b", p.URI)
				require.Equal(t, p.URI, p.URL)
				require.Equal(t, "alice@tube.example", p.Author)
				require.Equal(t, "Alice", p.AuthorName)
				require.Equal(t, "Birdsong at dawn\n\nRecorded at 5am.\n\nMore at https://birds.example/dawn and the map.", p.Text)
				require.Equal(t, []string{"https://birds.example/dawn", "https://maps.example/x"}, p.Links)
				require.Equal(t, "en", p.Language)
				require.Equal(t, []string{"birding", "nature"}, p.Tags)
				require.Equal(t, "video", p.Kind)
				require.Equal(t, model.SourcePeerTube, p.Source)
				require.Equal(t, int64(12), p.Favourites)
				require.Equal(t, int64(3), p.Replies)
				require.Equal(t, time.Date(2026, 11, 1, 10, 0, 0, 123e6, time.UTC), p.Created)
				require.False(t, p.Sensitive)
			}},
		{name: "hostile description", mod: func(v map[string]any) {
			v["nsfw"] = true
			v["language"] = map[string]any{"id": nil, "label": "Unknown"}
		},
			desc: "Before you watch: <script>alert('xss')</script> [click me](javascript:alert(document.cookie)) <img src=\"x\" onerror=\"alert(1)\"> <a href=\"javascript:alert(1)\" onclick=\"alert(2)\">full</a>", ok: true,
			check: func(t *testing.T, p model.Post) {
				// PeerTube shows raw HTML as text, and so does the
				// stored post: words, never markup.
				for _, bad := range []string{"<script", `href="javascript`, `onerror="`, `onclick="`, "<img"} {
					require.NotContains(t, p.HTML, bad)
				}
				require.Contains(t, p.HTML, "&lt;script&gt;")
				require.Equal(t, `Birdsong at dawn`+"\n\n"+`Before you watch: <script>alert('xss')</script> [click me](javascript:alert(document.cookie)) <img src="x" onerror="alert(1)"> <a href="javascript:alert(1)" onclick="alert(2)">full</a>`, p.Text)
				require.Empty(t, p.Links)
				require.True(t, p.Sensitive)
				require.Empty(t, p.Language)
			}},
		{name: "lines and bare links", mod: func(map[string]any) {}, desc: "Chapters:\r\n00:00 Intro\r\n02:15 Setup\r\n\r\n# No heading: www.birds.org/map, \"https://q.example/a\"", ok: true,
			check: func(t *testing.T, p model.Post) {
				require.Equal(t, "Birdsong at dawn\n\nChapters:\n00:00 Intro\n02:15 Setup\n\n# No heading: www.birds.org/map, \"https://q.example/a\"", p.Text)
				require.Equal(t, []string{"http://www.birds.org/map", "https://q.example/a"}, p.Links)
			}},
		{name: "hostile title", mod: func(v map[string]any) { v["name"] = `"><img src=x onerror=alert(1)> Vlog` }, ok: true,
			check: func(t *testing.T, p model.Post) {
				require.NotContains(t, p.HTML, "<img")
				require.True(t, strings.HasPrefix(p.Text, `"&gt; Vlog`) || strings.HasPrefix(p.Text, `"> Vlog`), p.Text)
			}},
		{name: "foreign url", mod: func(v map[string]any) { v["url"] = "https://evil.example/videos/watch/x" }},
		{name: "javascript url", mod: func(v map[string]any) { v["url"] = "javascript:alert(1)" }},
		{name: "remote account", mod: func(v map[string]any) {
			v["account"] = map[string]any{"name": "bob", "host": "other.example"}
		}},
		{name: "not local", mod: func(v map[string]any) { v["isLocal"] = false }},
		{name: "bad account name", mod: func(v map[string]any) {
			v["account"] = map[string]any{"name": "../admin", "host": "tube.example"}
		}},
		{name: "no uuid", mod: func(v map[string]any) { v["uuid"] = "" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, ok := hc.peerTubeToPost(base(tc.mod), tc.desc)
			require.Equal(t, tc.ok, ok)
			if tc.check != nil {
				tc.check(t, p)
			}
		})
	}
}

// TestPeerTubeCursor: cursor keys sort by time, and olderThan stops at
// what the cursor's visit saw.
func TestPeerTubeCursor(t *testing.T) {
	at := func(s, id string) peerTubeVideo {
		tm, err := time.Parse(time.RFC3339Nano, s)
		require.NoError(t, err)
		return peerTubeVideo{PublishedAt: tm, UUID: id}
	}
	a, b := at("2026-11-01T10:00:00Z", "a"), at("2026-11-01T10:00:00.5Z", "b")
	require.Less(t, a.cursorKey(), b.cursorKey())
	require.Less(t, peerTubeNoVideos, a.cursorKey())
	c := b.cursorKey()
	require.True(t, a.olderThan(c))
	require.True(t, b.olderThan(c))
	require.False(t, at("2026-11-01T10:00:00.5Z", "c").olderThan(c), "same instant, other video: read again")
	require.False(t, at("2026-11-02T00:00:00Z", "d").olderThan(c))
	require.False(t, a.olderThan("garbage"))
}
