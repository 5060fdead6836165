package crawler

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/consent"
	"github.com/fedilens/fedilens/internal/fedisim"
	"github.com/fedilens/fedilens/internal/model"
)

// TestLemmySourceMatchesTruth: Lemmy's posts and comments, across two
// epochs (withdrawals, bans, deletions, new posts and comments). Without
// an opt-in word nobody on Lemmy consents and nothing is sent there.
func TestLemmySourceMatchesTruth(t *testing.T) {
	for _, tc := range []struct {
		word      string
		instances int
	}{{"", 300}, {"#searchable", 600}} {
		word := tc.word
		t.Run("optin="+word, func(t *testing.T) {
			n := checkPostsAgainstTruth(t, fedisim.Options{Seed: 23, Instances: tc.instances, NoHostile: true, OptInWord: word}, 2, "lemmy")
			if word == "" {
				require.Zero(t, n)
			} else {
				require.Greater(t, n, 50)
			}
		})
	}
}

func lemmyPersonFor(name, host string) lemmyPerson {
	return lemmyPerson{ID: 7, Name: name, ActorID: "https://" + host + "/u/" + name, Local: true}
}

// TestLemmyMarkdown: bodies and comments are rendered as lemmy-ui renders
// them (internal/markdown has the renderer's own tests), then sanitised:
// what people read there is the stored text, its links the stored links,
// and raw HTML is text, never markup.
func TestLemmyMarkdown(t *testing.T) {
	hc := &hostCrawl{host: "lm.example", scheme: "https"}
	for _, tc := range []struct {
		name, md, text string
		links          []string
	}{
		{"bare URLs", "See https://news.example/a, and www.example.org.", "See https://news.example/a, and www.example.org.",
			[]string{"http://www.example.org", "https://news.example/a"}},
		{"blocks", "# Title\n\n> quoted *text*\n\n- one\n- [two](https://two.example/)", "Title\n\nquoted text\n\none\n\ntwo",
			[]string{"https://two.example/"}},
		{"raw HTML is text", "<b>bold</b> <script>alert(1)</script>", "<b>bold</b> <script>alert(1)</script>", []string{}},
		{"URL in raw HTML", `<a href="https://evil.example/" style="position:fixed">styled</a>`,
			`<a href="https://evil.example/" style="position:fixed">styled</a>`, []string{"https://evil.example/"}},
		{"javascript link", "[click me](javascript:alert(document.cookie))", "[click me](javascript:alert(document.cookie))", []string{}},
		{"image", "![tracker](https://t.example/p.gif) caption", "caption", []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := lemmyCommentView{Creator: lemmyPersonFor("bob", "lm.example")}
			v.Comment.ID, v.Comment.CreatorID, v.Comment.Content, v.Comment.Path = 12, 7, tc.md, "0.12"
			v.Comment.Published, v.Comment.APID, v.Comment.Local = lemmyTime{time.Now()}, "https://lm.example/comment/12", true
			p, ok := hc.lemmyComment(v, nil)
			require.True(t, ok)
			require.Equal(t, tc.text, p.Text)
			require.Equal(t, tc.links, p.Links)
			// Markup, as opposed to the same words shown as text.
			for _, bad := range []string{"<script", "<img", "<b>", `href="javascript`, `style="`} {
				require.NotContains(t, p.HTML, bad)
			}
		})
	}
}

// TestLemmyPostMapping: posts and comments become model.Posts with the
// Lemmy semantics, and hostile or foreign items are refused.
func TestLemmyPostMapping(t *testing.T) {
	hc := &hostCrawl{host: "lm.example", scheme: "https"}
	langs := map[int64]string{37: "en"}
	str := func(s string) *string { return &s }
	published := lemmyTime{time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)}
	post := func(mod func(*lemmyPostView)) lemmyPostView {
		v := lemmyPostView{Creator: lemmyPersonFor("alice", "lm.example")}
		v.Post = lemmyPostData{ID: 5, Name: "A <b>title</b>", Body: str("Body [x](https://b.example/)\n\n<script>alert(1)</script>"),
			URL: str("https://news.example/story"), CreatorID: 7, NSFW: true, Published: published,
			APID: "https://lm.example/post/5", Local: true, LanguageID: 37}
		v.Counts.Comments, v.Counts.Upvotes = flexInt{v: lemmyPtr(int64(3))}, flexInt{v: lemmyPtr(int64(9))}
		if mod != nil {
			mod(&v)
		}
		return v
	}
	p, ok := hc.lemmyPost(post(nil), langs)
	require.True(t, ok)
	require.Equal(t, "https://lm.example/post/5", p.URI)
	require.Equal(t, p.URI, p.URL)
	require.Equal(t, "alice@lm.example", p.Author)
	require.Equal(t, "page", p.Kind)
	require.Equal(t, "en", p.Language)
	require.True(t, p.Sensitive)
	require.Equal(t, int64(3), p.Replies)
	require.Equal(t, int64(9), p.Favourites)
	require.Equal(t, []string{"https://b.example/", "https://news.example/story"}, p.Links)
	require.Equal(t, model.SourceLemmy, p.Source)
	require.NotContains(t, p.HTML, "<script")
	require.NotContains(t, p.HTML, "<b>")
	require.Contains(t, p.Text, "A <b>title</b>")
	require.Contains(t, p.Text, "Body x")
	require.Empty(t, p.InReplyTo)
	require.Empty(t, p.Tags)

	for name, mod := range map[string]func(*lemmyPostView){
		"deleted":          func(v *lemmyPostView) { v.Post.Deleted = true },
		"removed":          func(v *lemmyPostView) { v.Post.Removed = true },
		"remote ap_id":     func(v *lemmyPostView) { v.Post.APID = "https://evil.example/post/5" },
		"not local":        func(v *lemmyPostView) { v.Post.Local = false },
		"js ap_id":         func(v *lemmyPostView) { v.Post.APID = "javascript:alert(1)" },
		"remote creator":   func(v *lemmyPostView) { v.Creator.ActorID = "https://evil.example/u/alice" },
		"creator mismatch": func(v *lemmyPostView) { v.Post.CreatorID = 8 },
		"bad name":         func(v *lemmyPostView) { v.Creator.Name = "al/ice"; v.Creator.ActorID = "https://lm.example/u/al/ice" },
		"no date":          func(v *lemmyPostView) { v.Post.Published = lemmyTime{} },
	} {
		_, ok := hc.lemmyPost(post(mod), langs)
		require.False(t, ok, name)
	}
	// A link post without body, in an unknown language, with a script URL.
	p, ok = hc.lemmyPost(post(func(v *lemmyPostView) { v.Post.Body, v.Post.LanguageID, v.Post.URL = nil, 99, str("javascript:x") }), langs)
	require.True(t, ok)
	require.Empty(t, p.Language)
	require.Empty(t, p.Links)

	comment := func(path string) lemmyCommentView {
		var v lemmyCommentView
		v.Creator = lemmyPersonFor("bob", "lm.example")
		v.Comment.ID, v.Comment.CreatorID, v.Comment.PostID = 12, 7, 5
		v.Comment.Content = "<img src=x onerror=alert(1)> nice"
		v.Comment.Published, v.Comment.APID, v.Comment.Local, v.Comment.Path = published, "https://lm.example/comment/12", true, path
		v.Post = post(nil).Post
		v.Counts.ChildCount = flexInt{v: lemmyPtr(int64(2))}
		return v
	}
	c, ok := hc.lemmyComment(comment("0.12"), langs)
	require.True(t, ok)
	require.Equal(t, "note", c.Kind)
	require.Equal(t, "https://lm.example/post/5", c.InReplyTo)
	require.Equal(t, int64(2), c.Replies)
	require.True(t, c.Sensitive, "a comment on an nsfw post")
	require.NotContains(t, c.HTML, "<img")
	c, ok = hc.lemmyComment(comment("0.3.9.12"), langs)
	require.True(t, ok)
	require.Equal(t, "https://lm.example/comment/9", c.InReplyTo)
	c, ok = hc.lemmyComment(comment("0.3.x.12"), langs)
	require.True(t, ok)
	require.Equal(t, "https://lm.example/post/5", c.InReplyTo, "a junk path falls back to the post")
	blank := comment("0.12")
	blank.Comment.Deleted, blank.Comment.Content = true, ""
	_, ok = hc.lemmyComment(blank, langs)
	require.False(t, ok)
}

// TestLemmyPersonConsent: the opt-in word in the Markdown bio, never with
// an opt-out word; a person of another host is not local.
func TestLemmyPersonConsent(t *testing.T) {
	str := func(s string) *string { return &s }
	p := lemmyPersonFor("carol", "lm.example")
	require.Equal(t, "carol@lm.example", p.local("lm.example"))
	require.Empty(t, p.local("other.example"))
	require.Equal(t, consent.NotIndexable, p.consent("#searchable"))
	p.Bio = str("Knitter & baker. #searchable")
	require.Equal(t, consent.OK, p.consent("#searchable"))
	require.Equal(t, consent.NotIndexable, p.consent(""))
	p.Bio = str("<b>#searchable</b> #nobot")
	require.Equal(t, consent.OptOutWord, p.consent("#searchable"))
	p.Bio = str("#searchableish")
	require.Equal(t, consent.NotIndexable, p.consent("#searchable"))
}

func TestLemmyTimeAndCursor(t *testing.T) {
	var v struct{ A, B, C lemmyTime }
	require.NoError(t, json.Unmarshal([]byte(`{"A":"2024-01-02T03:04:05.123456Z","B":"2023-06-01T12:00:00.5","C":null}`), &v))
	require.Equal(t, time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC), v.A.Time)
	require.Equal(t, time.Date(2023, 6, 1, 12, 0, 0, 500000000, time.UTC), v.B.Time)
	require.True(t, v.C.IsZero())
	for in, want := range map[string][2]int64{"12:34": {12, 34}, "": {0, 0}, "x:3": {0, 3}, "-5:-1": {0, 0}, "7": {0, 0}} {
		a, b := parseLemmyCursor(in)
		require.Equal(t, want, [2]int64{a, b}, in)
	}
}

func lemmyPtr[T any](v T) *T { return &v }

// TestLemmyIncremental: with revalidation not due, the second visit reads
// only what the host cursor has not seen, yet stores every post and
// comment of the truth and nothing of the authors who withdrew.
func TestLemmyIncremental(t *testing.T) {
	sim := fedisim.New(fedisim.Options{Seed: 9, Instances: 200, NoHostile: true, OptInWord: "#searchable"})
	mem := newMemPosts()
	m := postSimManager(t, sim, mem, "#searchable")
	m.opts.PostRevalidateAfter = 24 * time.Hour
	lemmyHosts := func() map[string]bool {
		hosts := map[string]bool{}
		for _, it := range sim.Truth().Census(sim.Seeds()) {
			if it.Software == "lemmy" && it.PostAccess == model.PostAccessOK {
				hosts[it.Host] = true
			}
		}
		return hosts
	}
	_, err := m.RunOnce(context.Background())
	require.NoError(t, err)
	known := map[string]bool{}
	for _, c := range mem.cursors {
		known[c.Account] = c.Account != lemmyHostCursor
	}
	require.NotEmpty(t, known)
	sim.Advance()
	_, err = m.RunOnce(context.Background())
	require.NoError(t, err)

	hosts := lemmyHosts()
	for h := range hosts {
		for _, c := range mem.access[h].Cursors {
			require.False(t, known[c.Account], "%s: %s is not due, yet was listed in full", h, c.Account)
		}
	}
	stored := map[string]bool{}
	for _, u := range mem.urisOf(func(h string) bool { return hosts[h] }) {
		stored[u] = true
	}
	var want int
	for _, p := range sim.Truth().Posts(sim.Seeds(), time.Time{}) {
		if hosts[hostOfAcct(p.Author)] {
			want++
			require.True(t, stored[p.URI], p.URI)
		}
	}
	require.Positive(t, want)
	consents := map[string]bool{}
	for _, it := range sim.Truth().Instances {
		for _, a := range it.LemmyPersons {
			consents[a.Acct] = a.Consents
		}
	}
	for _, p := range mem.posts {
		if hosts[p.Host] {
			require.True(t, consents[p.Author], "%s of %s, who withdrew, is still stored", p.URI, p.Author)
		}
	}
}
