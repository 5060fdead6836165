package crawler

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/consent"
	"github.com/fedilens/fedilens/internal/fedisim"
	"github.com/fedilens/fedilens/internal/httpclient"
	"github.com/fedilens/fedilens/internal/model"
)

// TestActivityPubSourceMatchesTruth: WordPress's posts, read through its
// user list, the actors and the paged outboxes, across two epochs (consent
// withdrawn, accounts and posts deleted, posts published), with and
// without an opt-in word (WordPress has an indexable flag: the word
// changes nothing there, but is passed through).
func TestActivityPubSourceMatchesTruth(t *testing.T) {
	// PostScale 3: more posts per author (outboxes of several pages) and
	// more consenting authors, so that epoch 1 withdraws and deletes some.
	opts := fedisim.Options{Seed: 4, Instances: 250, NoHostile: true, PostScale: 3}
	sim := fedisim.New(opts)
	truth := sim.Truth()
	wp := map[string]bool{}
	for _, it := range truth.Census(sim.Seeds()) {
		if it.Software == "wordpress" {
			wp[it.Host] = true
		}
	}
	withPosts := map[string]bool{}
	for _, p := range truth.Posts(sim.Seeds(), time.Time{}) {
		if h := hostOfAcct(p.Author); wp[h] {
			withPosts[h] = true
		}
	}
	require.GreaterOrEqual(t, len(withPosts), 10, "the world must have WordPress instances with posts")
	for _, word := range []string{"", "#searchable"} {
		t.Run("optin="+word, func(t *testing.T) {
			o := opts
			o.OptInWord = word
			n := checkPostsAgainstTruth(t, o, 2, "wordpress")
			require.Greater(t, n, 150)
		})
	}
}

// TestAPToPost: the ActivityPub object → post mapping, with the odd and
// hostile cases servers send.
func TestAPToPost(t *testing.T) {
	t.Parallel()
	hc := &hostCrawl{host: "blog.example", scheme: "https"}
	actor := apActorRef{ID: "https://blog.example/author/alice/", Acct: "alice@blog.example", Name: "Alice"}
	const base = `"id": "https://blog.example/?p=101", "attributedTo": "https://blog.example/author/alice/",
	  "published": "2026-11-01T10:00:00Z"`
	create := func(to string) apDoc {
		return parseAPDoc(json.RawMessage(`{"type": "Create", "to": ` + to + `}`))
	}
	full := model.Post{
		URI: "https://blog.example/?p=101", Host: "blog.example", Author: "alice@blog.example", AuthorName: "Alice",
		Created: time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC), Source: model.SourceActivityPub,
	}
	for _, tc := range []struct {
		name   string
		object string
		act    apDoc
		reason string
		check  func(t *testing.T, p model.Post)
	}{
		{name: "public note", object: `{"type": "Note", ` + base + `, "to": ["https://www.w3.org/ns/activitystreams#Public"],
		  "content": "<p>Hi <a href=\"https://x.example/\">x</a><script>alert(1)</script><a href=\"javascript:alert(2)\">j</a></p>",
		  "summary": "<b>cw</b>", "sensitive": true, "url": "https://blog.example/2026/11/01/post-101/",
		  "inReplyTo": "https://other.example/notes/9",
		  "tag": [{"type": "Hashtag", "name": "#Cats", "href": "https://blog.example/tags/cats"}, {"type": "Hashtag", "name": "cats"},
		    {"type": "Mention", "name": "@bob@other.example", "href": "https://other.example/users/bob"},
		    {"type": "Mention", "name": "@carol", "href": "https://blog.example/author/carol/"},
		    {"type": "Mention", "name": "@", "href": "javascript:alert(1)"}],
		  "attachment": [{"type": "Document", "name": "a cat"}, {"type": "Image", "name": null}, {"type": "Document", "name": " on a mat "}],
		  "replies": {"type": "Collection", "totalItems": 3}, "likes": {"totalItems": "4"}, "shares": {"totalItems": -1}}`,
			check: func(t *testing.T, p model.Post) {
				want := full
				want.Kind, want.Text, want.HTML = "note", "Hi xj", p.HTML
				want.Summary, want.Sensitive = "cw", true
				want.URL, want.InReplyTo = "https://blog.example/2026/11/01/post-101/", "https://other.example/notes/9"
				want.ReplyHost = "other.example"
				want.Tags, want.Mentions = []string{"cats"}, []string{"bob@other.example", "carol@blog.example"}
				want.AltText, want.Links = "a cat\non a mat", []string{"https://x.example/"}
				want.Replies, want.Favourites = 3, 4
				require.Equal(t, want, p)
				require.NotContains(t, p.HTML, "script")
				require.NotContains(t, p.HTML, "javascript:")
			}},
		{name: "as:Public counts", object: `{"type": "Note", ` + base + `, "to": "as:Public", "content": "x"}`},
		{name: "bare Public counts", object: `{"type": "Note", ` + base + `, "to": ["Public"], "content": "x"}`},
		{name: "public only in cc is unlisted", object: `{"type": "Note", ` + base + `, "to": ["https://blog.example/author/alice/followers"],
		  "cc": ["https://www.w3.org/ns/activitystreams#Public"], "content": "x"}`, reason: "not_public"},
		{name: "no addressing at all", object: `{"type": "Note", ` + base + `, "content": "x"}`, reason: "not_public"},
		{name: "the activity's to when the object has none", object: `{"type": "Note", ` + base + `, "content": "x"}`,
			act: create(`["https://www.w3.org/ns/activitystreams#Public"]`)},
		{name: "the object's to wins over the activity's", object: `{"type": "Note", ` + base + `, "to": [], "content": "x"}`,
			act: create(`["https://www.w3.org/ns/activitystreams#Public"]`), reason: "not_public"},
		{name: "Link url array: first text/html href on the host", object: `{"type": "Video", ` + base + `, "to": "as:Public",
		  "name": "My <i>talk</i>", "content": "<p>about it</p>",
		  "url": [{"type": "Link", "mediaType": "video/mp4", "href": "https://blog.example/v.mp4"},
		    {"type": "Link", "mediaType": "text/html", "href": "https://evil.example/phish"},
		    {"type": "Link", "mediaType": "text/html", "href": "https://blog.example/videos/1"}]}`,
			check: func(t *testing.T, p model.Post) {
				require.Equal(t, "https://blog.example/videos/1", p.URL)
				require.Equal(t, "video", p.Kind)
				require.Equal(t, "My talk\n\nabout it", p.Text, "the title is prepended")
				require.Contains(t, p.HTML, "<p><strong>My talk</strong></p><p>about it</p>")
			}},
		{name: "url on another host is dropped", object: `{"type": "Article", ` + base + `, "to": "as:Public", "content": "x",
		  "url": {"type": "Link", "href": "https://evil.example/"}}`,
			check: func(t *testing.T, p model.Post) { require.Empty(t, p.URL) }},
		{name: "contentMap: language and content", object: `{"type": "Note", ` + base + `, "to": "as:Public",
		  "contentMap": {"de-AT": "<p>Hallo</p>", "en": "<p>Hello</p>"}}`,
			check: func(t *testing.T, p model.Post) {
				require.Equal(t, "de", p.Language)
				require.Equal(t, "Hallo", p.Text)
			}},
		{name: "content wins, contentMap gives the language", object: `{"type": "Note", ` + base + `, "to": "as:Public",
		  "content": "<p>Hi</p>", "contentMap": {"en": "<p>Hello</p>"}}`,
			check: func(t *testing.T, p model.Post) { require.Equal(t, "en", p.Language); require.Equal(t, "Hi", p.Text) }},
		{name: "hostile language key is dropped", object: `{"type": "Note", ` + base + `, "to": "as:Public", "contentMap": {"<x>": "y"}}`,
			check: func(t *testing.T, p model.Post) { require.Empty(t, p.Language) }},
		{name: "Tombstone", object: `{"type": "Tombstone", "id": "https://blog.example/?p=101"}`, reason: apGone},
		{name: "wrong attributedTo", object: `{"type": "Note", "id": "https://blog.example/?p=101", "attributedTo": "https://blog.example/author/bob/",
		  "published": "2026-11-01T10:00:00Z", "to": "as:Public", "content": "x"}`, reason: apSkipNotAuthor},
		{name: "attributedTo as an object array", object: `{"type": "Note", "id": "https://blog.example/?p=101",
		  "attributedTo": [{"type": "Person", "id": "https://blog.example/author/alice/"}], "published": "2026-11-01T10:00:00Z", "to": "as:Public"}`},
		{name: "object on another host", object: `{"type": "Note", "id": "https://evil.example/?p=101", "attributedTo": "https://blog.example/author/alice/",
		  "published": "2026-11-01T10:00:00Z", "to": "as:Public"}`, reason: apSkipNotLocal},
		{name: "object id not http", object: `{"type": "Note", "id": "javascript:alert(1)", "attributedTo": "https://blog.example/author/alice/",
		  "published": "2026-11-01T10:00:00Z", "to": "as:Public"}`, reason: apSkipNotLocal},
		{name: "unsupported type", object: `{"type": "Event", ` + base + `, "to": "as:Public"}`, reason: apSkipType},
		{name: "bad published", object: `{"type": "Note", "id": "https://blog.example/?p=101", "attributedTo": "https://blog.example/author/alice/",
		  "published": "yesterday", "to": "as:Public"}`, reason: apSkipInvalid},
		{name: "odd member types spoil only themselves", object: `{"type": ["Question"], ` + base + `, "to": "as:Public",
		  "content": 42, "sensitive": "yes", "tag": {"type": "Hashtag", "name": "#Solo"}, "attachment": "nope", "inReplyTo": {"id": "https://o.example/1"}}`,
			check: func(t *testing.T, p model.Post) {
				require.Equal(t, "question", p.Kind)
				require.Empty(t, p.Text)
				require.False(t, p.Sensitive)
				require.Equal(t, []string{"solo"}, p.Tags)
				require.Equal(t, "https://o.example/1", p.InReplyTo)
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := parseAPDoc(json.RawMessage(tc.object))
			require.NotNil(t, o)
			p, reason := hc.apToPost(o, tc.act, actor)
			require.Equal(t, tc.reason, reason)
			if reason == "" {
				require.Equal(t, "https://blog.example/?p=101", p.URI)
				require.Equal(t, "alice@blog.example", p.Author)
				if tc.check != nil {
					tc.check(t, p)
				}
			}
		})
	}
}

// TestAPActorConsent: indexable is the consent (absent is no), discoverable
// is not, the bio and the PropertyValue fields carry opt-out words, and
// the operator's opt-in word applies only where there is no flag.
func TestAPActorConsent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		actor, word string
		want        consent.Reason
	}{
		{`{"indexable": true, "summary": "<p>hi</p>"}`, "", consent.OK},
		{`{"discoverable": true}`, "", consent.NotIndexable},
		{`{"indexable": "true"}`, "", consent.NotIndexable},
		{`{"toot:indexable": true}`, "", consent.OK},
		{`{"indexable": true, "summary": "<p>no bots #NoBot</p>"}`, "", consent.OptOutWord},
		{`{"indexable": true, "attachment": [{"type": "PropertyValue", "name": "Search", "value": "nosearch"}]}`, "", consent.OptOutWord},
		{`{"indexable": true, "attachment": {"type": "PropertyValue", "name": "Interests", "value": "#nobotany"}}`, "", consent.OK},
		{`{"summary": "<p>find me #fedilens</p>"}`, "#fedilens", consent.OK},
		{`{"indexable": false, "summary": "<p>find me #fedilens</p>"}`, "#fedilens", consent.NotIndexable},
	} {
		require.Equal(t, tc.want, apActorConsent(parseAPDoc(json.RawMessage(tc.actor)), tc.word), tc.actor)
	}
}

// fakeWP is a scripted WordPress host: its outbox changes with version.
type fakeWP struct {
	mu      sync.Mutex
	version int
	paths   []string // request paths (with query) in order
}

const fakeHost = "example.com" // httptest's certificate names it

func apNote(id, published string, public bool, extra string) string {
	addr := `"to": ["https://www.w3.org/ns/activitystreams#Public"], "cc": []`
	if !public {
		addr = `"to": ["https://example.com/author/alice/followers"], "cc": ["https://www.w3.org/ns/activitystreams#Public"]`
	}
	return `{"id": "https://example.com/?p=` + id + `", "type": "Note", "attributedTo": "https://example.com/author/alice/",
	  "published": "` + published + `", ` + addr + `, "content": "<p>post ` + id + `</p>"` + extra + `}`
}

func apCreate(object string) string {
	return `{"type": "Create", "actor": "https://example.com/author/alice/", "object": ` + object + `}`
}

func (f *fakeWP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	v := f.version
	f.paths = append(f.paths, r.URL.RequestURI())
	f.mu.Unlock()
	js := func(status int, body string) {
		w.Header().Set("Content-Type", "application/activity+json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
	p1 := apCreate(apNote("1", "2026-10-01T10:00:00Z", true, ""))
	p2 := apCreate(`"https://example.com/?p=2"`)
	p3 := apCreate(apNote("3", "2026-10-03T10:00:00Z", true, ""))
	p4 := apCreate(apNote("4", "2026-10-04T10:00:00Z", true, ""))
	others := []string{
		`{"type": "Announce", "published": "2026-10-03T09:00:00Z", "object": "https://other.example/notes/1"}`,
		apCreate(apNote("5", "2026-10-02T12:00:00Z", false, "")),
		apCreate(`{"id": "https://evil.example/?p=6", "type": "Note", "attributedTo": "https://example.com/author/alice/", "published": "2026-10-02T11:00:00Z", "to": "as:Public"}`),
		apCreate(`"https://evil.example/?p=7"`),
	}
	switch {
	case r.URL.Path == "/robots.txt":
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("User-agent: *\nDisallow: /wp-admin/\n"))
	case r.URL.Path == "/wp-json/wp/v2/users":
		w.Header().Set("X-WP-TotalPages", "1")
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		_, _ = w.Write([]byte(`[{"id": 1, "slug": "alice", "link": "https:\/\/example.com\/author\/alice\/"},
		  {"id": 2, "slug": "mallory", "link": "https://evil.example/author/mallory/"}, "junk"]`))
	case r.URL.Path == "/author/alice/":
		if v == 5 {
			js(401, `{"error": "Request not signed"}`)
			return
		}
		js(200, `{"id": "https://example.com/author/alice/", "type": "Person", "preferredUsername": "alice", "name": "Alice",
		  "indexable": true, "discoverable": false, "summary": "<p>hi</p>", "outbox": "https://example.com/outbox/alice"}`)
	case r.URL.Path == "/" && r.URL.Query().Get("p") == "2":
		if v >= 3 {
			js(404, `{"code": "rest_post_invalid_id"}`)
			return
		}
		js(200, `{"@context": "https://www.w3.org/ns/activitystreams", `+apNote("2", "2026-10-02T10:00:00Z", true, "")[1:])
	case r.URL.Path == "/" && r.URL.Query().Get("p") == "8":
		js(410, `{}`)
	case r.URL.Path == "/outbox/alice" && v == 6:
		items := strings.Repeat(`{"type": "Announce", "object": "https://other.example/1"},`, maxOutboxItems)
		js(200, `{"type": "OrderedCollection", "orderedItems": [`+items+apCreate(apNote("9", "2026-10-09T10:00:00Z", true, ""))+`]}`)
	case r.URL.Path == "/outbox/alice" && r.URL.RawQuery == "":
		var items []string
		switch v {
		case 1:
			items = append([]string{p3}, append(others, p2)...)
		default:
			items = append([]string{p4, p3}, append(others, p2)...)
		}
		js(200, `{"type": "OrderedCollection", "totalItems": 9, "first": {"type": "OrderedCollectionPage",
		  "next": "https://example.com/outbox/alice?page=2", "orderedItems": [`+strings.Join(items, ",")+`]}}`)
	case r.URL.Path == "/outbox/alice" && r.URL.RawQuery == "page=2":
		next := ""
		items := []string{p1, apCreate(`"https://example.com/?p=8"`)}
		switch v {
		case 3:
			items = items[1:] // p1 deleted: no longer listed
		case 4:
			next = `"next": "https://example.com/outbox/alice?page=2", ` // a loop
		}
		js(200, `{"type": "OrderedCollectionPage", `+next+`"orderedItems": [`+strings.Join(items, ",")+`]}`)
	default:
		js(404, `{}`)
	}
}

// TestActivityPubOutboxCrawl: paging (embedded first page, next), Create
// with embedded and referenced objects, Announce, unlisted and wrong-host
// objects skipped, the cursor (a later visit reads only what is new), the
// full revalidation reporting deletions (404 on dereference, no longer
// listed), a page loop (incomplete: nothing reported gone, no cursor), and
// 401 on the actor (signature required).
func TestActivityPubOutboxCrawl(t *testing.T) {
	fake := &fakeWP{version: 1}
	srv := httptest.NewTLSServer(fake)
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	client, err := httpclient.New(httpclient.Options{
		AllowNets: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		Resolve:   map[string]string{"*": strings.TrimPrefix(srv.URL, "https://")},
		RootCAs:   pool,
	})
	require.NoError(t, err)
	mem := newMemPosts()
	m, err := New(Options{Client: client.HTTPClient(), HostDelay: -1, ProgressEvery: -1, Posts: true, PostState: mem,
		MaxPostRequests: 100, PostRevalidateAfter: time.Hour}, mem, nil, nil, nil)
	require.NoError(t, err)
	visit := func(version int) (*model.PostVisit, []model.Post, []string) {
		t.Helper()
		fake.mu.Lock()
		fake.version, fake.paths = version, nil
		fake.mu.Unlock()
		hc, done := m.newHostCrawl(fakeHost, "https")
		defer done()
		_, err := hc.crawlPosts(context.Background(), &model.Snapshot{Host: fakeHost, Software: "wordpress"})
		if hc.out.PostVisit.Access == model.PostAccessOK {
			require.NoError(t, err)
		}
		hc.out.State.Host = fakeHost
		require.NoError(t, mem.AddVisit(context.Background(), hc.out))
		fake.mu.Lock()
		defer fake.mu.Unlock()
		return hc.out.PostVisit, hc.out.Posts, fake.paths
	}
	uris := func(ps []model.Post) []string {
		var out []string
		for _, p := range ps {
			out = append(out, strings.TrimPrefix(p.URI, "https://example.com/?p="))
		}
		return out
	}

	// 1: everything, in full.
	pv, posts, _ := visit(1)
	require.Equal(t, model.PostAccessOK, pv.Access)
	require.Equal(t, []string{"1", "2", "3"}, uris(posts))
	require.Equal(t, map[string]int{"announce": 1, "not_public": 1, "not_local": 2, "invalid_account": 2}, pv.Skipped)
	require.Len(t, pv.Cursors, 1)
	require.Equal(t, "2026-10-03T10:00:00Z https://example.com/?p=3", pv.Cursors[0].Cursor)
	require.Empty(t, pv.Gone, "nothing was stored")
	require.Equal(t, 6, pv.Requests, "users, actor, outbox, object 2, page 2, object 8")

	// 2: a new post; the cursor stops the listing at post 3.
	pv, posts, paths := visit(2)
	require.Equal(t, []string{"4"}, uris(posts))
	require.Equal(t, 3, pv.Requests, "users, actor, outbox: %v", paths)
	require.Equal(t, "2026-10-04T10:00:00Z https://example.com/?p=4", pv.Cursors[0].Cursor)
	require.Empty(t, pv.Gone)

	// 3: revalidation due: post 2 answers 404, post 1 is no longer listed.
	m.opts.PostRevalidateAfter = 0
	pv, posts, _ = visit(3)
	require.Equal(t, []string{"3", "4"}, uris(posts))
	sort.Strings(pv.Gone)
	require.Equal(t, []string{"https://example.com/?p=1", "https://example.com/?p=2"}, pv.Gone)
	require.Equal(t, []string{"https://example.com/?p=3", "https://example.com/?p=4"}, mem.urisOf(func(string) bool { return true }))

	// 4: a page loop: what was read is kept, nothing is reported gone, the
	// cursor does not move.
	pv, _, _ = visit(4)
	require.Empty(t, pv.Gone)
	require.Empty(t, pv.Cursors)

	// 5: authorized fetch.
	pv, posts, _ = visit(5)
	require.Equal(t, model.PostAccessSignatureRequired, pv.Access)
	require.Empty(t, posts)

	// 6: an inline page longer than the item cap: what fits is read, but
	// the listing is not complete, so the stored posts it did not reach
	// are not reported gone.
	pv, posts, _ = visit(6)
	require.Empty(t, posts)
	require.Empty(t, pv.Gone)
	require.Empty(t, pv.Cursors)
	require.Equal(t, maxOutboxItems, pv.Skipped["announce"])
}

// TestActivityPubPostFields: every WordPress post stored from the
// simulator carries the truth's metadata (what the store and the index
// use), read from the ActivityPub object.
func TestActivityPubPostFields(t *testing.T) {
	sim := fedisim.New(fedisim.Options{Seed: 4, Instances: 120, NoHostile: true, PostScale: 3})
	mem := newMemPosts()
	m := postSimManager(t, sim, mem, "")
	_, err := m.RunOnce(context.Background())
	require.NoError(t, err)
	truth := sim.Truth()
	n := 0
	for _, w := range truth.Posts(sim.Seeds(), time.Time{}) {
		it, _ := truth.Instance(hostOfAcct(w.Author))
		if it.Software != "wordpress" {
			continue
		}
		n++
		p, ok := mem.posts[w.URI]
		require.True(t, ok, w.URI)
		require.Equal(t, w.Author, p.Author)
		require.True(t, w.Created.Equal(p.Created), w.URI)
		lang, _, _ := strings.Cut(w.Language, "-")
		require.Equal(t, lang, p.Language, w.URI)
		tags := append([]string(nil), w.Tags...)
		sort.Strings(tags)
		if len(tags) == 0 {
			tags = nil
		}
		require.Equal(t, tags, p.Tags, w.URI)
		require.Equal(t, w.Sensitive, p.Sensitive, w.URI)
		require.Equal(t, w.Summary, p.Summary, w.URI)
		require.Equal(t, w.AltText, p.AltText, w.URI)
		require.Equal(t, w.InReplyTo, p.InReplyTo, w.URI)
		require.Equal(t, w.URL, p.URL, w.URI)
		require.Equal(t, []int64{int64(w.Replies), int64(w.Reblogs), int64(w.Favourites)}, []int64{p.Replies, p.Reblogs, p.Favourites}, w.URI)
		require.Len(t, p.Links, len(w.Links), w.URI)
		kind := w.Kind
		if kind == "" {
			kind = "note"
		}
		require.Equal(t, kind, p.Kind, w.URI)
		require.Equal(t, model.SourceActivityPub, p.Source)
		require.NotContains(t, p.HTML, "<script", w.URI)
		require.NotContains(t, p.HTML, "javascript:", w.URI)
	}
	require.Greater(t, n, 30)
}
