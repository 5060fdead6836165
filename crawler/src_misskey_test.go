package crawler

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/consent"
	"github.com/fedilens/fedilens/internal/fedisim"
	"github.com/fedilens/fedilens/internal/model"
)

var misskeyFamilyNames = []string{"misskey", "sharkey", "firefish", "fedired"}

// TestMisskeySourceMatchesTruth: the Misskey family's notes, across two
// epochs (withdrawals, deleted users and notes, new notes), with and
// without an opt-in word (without one, nothing is requested at all).
func TestMisskeySourceMatchesTruth(t *testing.T) {
	for _, word := range []string{"", "#searchable"} {
		t.Run("optin="+word, func(t *testing.T) {
			// Without a word only the access verdicts matter: a smaller world.
			instances := 400
			if word == "" {
				instances = 200
			}
			n := checkPostsAgainstTruth(t, fedisim.Options{Seed: 21, Instances: instances, NoHostile: true, OptInWord: word}, 2, misskeyFamilyNames...)
			if word == "" {
				require.Zero(t, n)
				return
			}
			t.Logf("%d truth posts compared", n)
			require.Greater(t, n, 50)
		})
	}
}

// TestMisskeySourceIncremental: with revalidation not due, the second
// visit reads each author's notes since the cursor (Misskey answers
// sinceId alone oldest first): with the cursors rewound, it stores every
// public note again; and
// with hostile instances on, the crawl matches the truth's access
// verdicts. Pages of 2 make every list span pages, in both orders.
func TestMisskeySourceIncremental(t *testing.T) {
	old := misskeyNotesPage
	misskeyNotesPage = 2
	t.Cleanup(func() { misskeyNotesPage = old })
	opts := fedisim.Options{Seed: 5, Instances: 200, OptInWord: "#searchable"}
	sim := fedisim.New(opts)
	mem := newMemPosts()
	m := postSimManager(t, sim, mem, opts.OptInWord)
	m.opts.PostRevalidateAfter = 7 * 24 * time.Hour
	family := map[string]bool{}
	for _, s := range misskeyFamilyNames {
		family[s] = true
	}
	for e := 0; e < 2; e++ {
		if e > 0 {
			sim.Advance()
		}
		_, err := m.RunOnce(context.Background())
		require.NoError(t, err)
		truth := sim.Truth()
		hosts := map[string]bool{}
		for _, it := range truth.Census(sim.Seeds()) {
			if family[it.Software] {
				hosts[it.Host] = true
				require.Equal(t, it.PostAccess, mem.access[it.Host].Access, "%s %v", it.Host, it.Behaviours)
			}
		}
		stored := map[string]bool{}
		for _, u := range mem.urisOf(func(h string) bool { return hosts[h] }) {
			stored[u] = true
		}
		want := 0
		for _, p := range truth.Posts(sim.Seeds(), time.Time{}) {
			if hosts[hostOfAcct(p.Author)] {
				require.True(t, stored[p.URI], "epoch %d: %s missing", e, p.URI)
				requireMisskeyPostMatches(t, p, mem.post(p.URI))
				want++
			}
		}
		require.Greater(t, want, 20)
		if e == 0 {
			// A full read sets a cursor per consenting author with notes.
			n := 0
			for _, c := range mem.cursors {
				if hosts[c.Host] && c.Source == model.SourceMisskey && c.Account != "" {
					n++
				}
			}
			require.Positive(t, n)
			// Rewind every cursor to before the first note and forget the
			// authors' posts: the incremental read of epoch 1 (sinceId
			// alone, answered oldest first) must read them all back.
			mem.mu.Lock()
			for k, c := range mem.cursors {
				if hosts[c.Host] && c.Source == model.SourceMisskey {
					c.Cursor = "0"
					mem.cursors[k] = c
					for uri, p := range mem.posts {
						if p.Author == c.Account {
							delete(mem.posts, uri)
						}
					}
				}
			}
			mem.mu.Unlock()
		}
	}
}

func strp(s string) *string { return &s }

func TestMisskeyPost(t *testing.T) {
	hc := &hostCrawl{host: "mk.example", scheme: "https"}
	base := func() misskeyNote {
		return misskeyNote{
			ID: "9x1abcdef0", CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), UserID: "u1",
			User:       misskeyUser{ID: "u1", Username: "Alice", Name: strp("Alice <b>A</b>")},
			Text:       strp("hello"),
			Visibility: "public",
		}
	}
	cases := []struct {
		name  string
		edit  func(n *misskeyNote)
		ok    bool
		check func(t *testing.T, p model.Post)
	}{
		{"plain", func(*misskeyNote) {}, true, func(t *testing.T, p model.Post) {
			require.Equal(t, "https://mk.example/notes/9x1abcdef0", p.URI)
			require.Equal(t, p.URI, p.URL)
			require.Equal(t, "alice@mk.example", p.Author)
			require.Equal(t, "hello", p.Text)
			require.Equal(t, "<p>hello</p>", p.HTML)
			require.Equal(t, model.SourceMisskey, p.Source)
			require.Equal(t, "note", p.Kind)
			require.Empty(t, p.Language)
			require.Equal(t, "Alice A", p.AuthorName)
		}},
		{"script in text is escaped", func(n *misskeyNote) {
			n.Text = strp(`look <script>alert('xss')</script> & <img src=x onerror=alert(1)>`)
		}, true, func(t *testing.T, p model.Post) {
			require.NotContains(t, p.HTML, "<script")
			require.NotContains(t, p.HTML, "<img")
			require.Contains(t, p.HTML, "&lt;script&gt;")
			require.Equal(t, `look <script>alert('xss')</script> & <img src=x onerror=alert(1)>`, p.Text)
		}},
		{"javascript link is not linked", func(n *misskeyNote) {
			n.Text = strp(`[click](javascript:alert(1)) "><a href="javascript:alert(2)">x</a>`)
		}, true, func(t *testing.T, p model.Post) {
			require.NotContains(t, p.HTML, `href="javascript`)
			require.Empty(t, p.Links)
		}},
		{"mentions, tags, links, line breaks", func(n *misskeyNote) {
			n.Text = strp("@bob hi @Carol@Other.example\nsee https://news.example/a?b=1&c=2. #Fediverse\nmail x@y.example")
			n.Tags = []string{"fediverse", "Fediverse", "#Books"}
		}, true, func(t *testing.T, p model.Post) {
			require.Equal(t, []string{"bob@mk.example", "carol@other.example"}, p.Mentions)
			require.Equal(t, []string{"books", "fediverse"}, p.Tags)
			require.Equal(t, []string{"https://news.example/a?b=1&c=2"}, p.Links)
			require.Contains(t, p.HTML, `<a href="https://news.example/a?b=1&amp;c=2"`)
			require.Contains(t, p.HTML, `<br`)
			require.Contains(t, p.HTML, `<a href="https://mk.example/tags/Fediverse"`)
			require.Contains(t, p.HTML, `<a href="https://other.example/@Carol"`)
			require.Equal(t, "@bob hi @Carol@Other.example\nsee https://news.example/a?b=1&c=2. #Fediverse\nmail x@y.example", p.Text)
		}},
		{"cw, files, poll, counts, reply", func(n *misskeyNote) {
			n.CW = strp("spoilers <i>!</i>")
			n.Files = append(n.Files, struct {
				Comment     *string `json:"comment"`
				IsSensitive bool    `json:"isSensitive"`
			}{strp(" A heron. "), false}, struct {
				Comment     *string `json:"comment"`
				IsSensitive bool    `json:"isSensitive"`
			}{nil, false})
			n.Poll = json.RawMessage(`{"choices":[]}`)
			n.ReplyID = strp("9x0parent0")
			n.Replies.v, n.Renotes.v = i64p(2), i64p(3)
			n.Reactions = map[string]flexInt{"👍": {i64p(4)}, "❤": {i64p(1)}, "bad": {i64p(-9)}}
		}, true, func(t *testing.T, p model.Post) {
			require.Equal(t, "spoilers !", p.Summary)
			require.True(t, p.Sensitive)
			require.Equal(t, "A heron.", p.AltText)
			require.Equal(t, "question", p.Kind)
			require.Equal(t, "https://mk.example/notes/9x0parent0", p.InReplyTo)
			require.Equal(t, int64(2), p.Replies)
			require.Equal(t, int64(3), p.Reblogs)
			require.Equal(t, int64(5), p.Favourites)
		}},
		{"reply to a remote note names its uri", func(n *misskeyNote) {
			n.ReplyID = strp("9x0parent0")
			n.Reply = json.RawMessage(`{"id":"9x0parent0","uri":"https://remote.example/notes/1"}`)
		}, true, func(t *testing.T, p model.Post) {
			require.Equal(t, "https://remote.example/notes/1", p.InReplyTo)
		}},
		{"sensitive file", func(n *misskeyNote) {
			n.Files = append(n.Files, struct {
				Comment     *string `json:"comment"`
				IsSensitive bool    `json:"isSensitive"`
			}{nil, true})
		}, true, func(t *testing.T, p model.Post) { require.True(t, p.Sensitive) }},
		{"uri on the host", func(n *misskeyNote) { n.URI = strp("https://mk.example/notes/other") }, true,
			func(t *testing.T, p model.Post) { require.Equal(t, "https://mk.example/notes/other", p.URI) }},
		{"uri elsewhere", func(n *misskeyNote) { n.URI = strp("https://evil.example/notes/1") }, false, nil},
		{"url elsewhere ignored", func(n *misskeyNote) { n.URL = strp("https://evil.example/x") }, true,
			func(t *testing.T, p model.Post) { require.Equal(t, p.URI, p.URL) }},
		{"bad id", func(n *misskeyNote) { n.ID = "../x" }, false, nil},
		{"no date", func(n *misskeyNote) { n.CreatedAt = time.Time{} }, false, nil},
		{"no text", func(n *misskeyNote) { n.Text = nil }, true, func(t *testing.T, p model.Post) {
			require.Empty(t, p.Text)
			require.Empty(t, p.HTML)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := base()
			tc.edit(&n)
			p, ok := hc.misskeyPost(n, "alice@mk.example")
			require.Equal(t, tc.ok, ok)
			if ok {
				tc.check(t, p)
			}
		})
	}
}

func i64p(v int64) *int64 { return &v }

func TestMisskeyUserConsent(t *testing.T) {
	desc := func(s string) misskeyUser {
		return misskeyUser{ID: "u1", Username: "a", Description: strp(s)}
	}
	cases := []struct {
		name string
		u    misskeyUser
		word string
		ok   bool
	}{
		{"no word configured", desc("hello #searchable"), "", false},
		{"word in description", desc("hello #searchable"), "#searchable", true},
		{"word missing", desc("hello"), "#searchable", false},
		{"noindex", misskeyUser{Description: strp("#searchable"), NoIndex: true}, "#searchable", false},
		{"opt-out word", desc("#searchable #nobot"), "#searchable", false},
		{"decoy", desc("#searchable #nobotany"), "#searchable", true},
		{"markup typed in the bio is text", desc("<b>#searchable</b>"), "#searchable", true},
		{"word in a field", misskeyUser{Fields: []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		}{{"Search", "#searchable"}}}, "#searchable", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.ok, tc.u.consent(tc.word) == consent.OK, "%s", tc.u.consent(tc.word))
		})
	}
	host := "mk.example"
	require.Equal(t, "alice@mk.example", misskeyUser{Username: "Alice"}.local(host))
	require.Equal(t, "alice@mk.example", misskeyUser{Username: "alice", Host: strp("MK.example")}.local(host))
	require.Empty(t, misskeyUser{Username: "alice", Host: strp("other.example")}.local(host))
	require.Empty(t, misskeyUser{Username: "a/b"}.local(host))
}

func TestMfmMentions(t *testing.T) {
	require.Equal(t, []string{"a@h.example", "b@x.example"}, mfmMentions("@a @B@X.example @a https://h.example/@c mail d@e.example", "h.example"))
	require.Empty(t, mfmMentions("no one here, user@example.org", "h.example"))
	require.True(t, strings.HasPrefix(mfmHTML("a\n\nb", "https://h.example"), "<p>a</p><p>b</p>"))
}

// post returns the stored post with the URI.
func (m *memPosts) post(uri string) model.Post {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.posts[uri]
}

// requireMisskeyPostMatches compares a stored note with its truth, field
// by field where the truth knows the value.
func requireMisskeyPostMatches(t *testing.T, w fedisim.PostTruth, p model.Post) {
	t.Helper()
	require.Equal(t, w.Author, p.Author, w.URI)
	require.Equal(t, w.URL, p.URL, w.URI)
	require.True(t, w.Created.Equal(p.Created), "%s: created %s, want %s", w.URI, p.Created, w.Created)
	require.Equal(t, w.Language, p.Language, w.URI)
	require.Equal(t, w.Summary, p.Summary, w.URI)
	require.Equal(t, w.Sensitive, p.Sensitive, w.URI)
	require.Equal(t, w.AltText, p.AltText, w.URI)
	require.Equal(t, w.InReplyTo, p.InReplyTo, w.URI)
	require.Equal(t, w.Kind, p.Kind, w.URI)
	require.Equal(t, len(w.Links), len(p.Links), w.URI)
	if len(w.Links) > 0 {
		require.Equal(t, w.Links, p.Links, w.URI)
	}
	require.Equal(t, int64(w.Replies), p.Replies, w.URI)
	require.Equal(t, int64(w.Reblogs), p.Reblogs, w.URI)
	require.Equal(t, int64(w.Favourites), p.Favourites, w.URI)
	tags := append([]string(nil), w.Tags...)
	sort.Strings(tags)
	if len(tags) == 0 {
		tags = nil
	}
	require.Equal(t, tags, p.Tags, w.URI)
	for _, m := range w.Mentions {
		if !strings.Contains(m, "@") {
			m += "@" + hostOfAcct(w.Author)
		}
		require.Contains(t, p.Mentions, m, w.URI)
	}
	require.NotContains(t, p.HTML, "<script", w.URI)
	require.NotContains(t, p.HTML, "<iframe", w.URI)
	require.NotContains(t, p.HTML, `href="javascript`, w.URI)
}
