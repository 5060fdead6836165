package crawler

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/consent"
	"github.com/fedilens/fedilens/internal/model"
)

func TestIDNewer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"110000000000000001", "110000000000000000", true},
		{"99", "100", false},   // numeric, not lexical
		{"0100", "99", true},   // leading zeros do not count
		{"AbC9", "AbC8", true}, // flake ids compare as strings
		{"a", "a", false},
	} {
		require.Equal(t, tc.want, idNewer(tc.a, tc.b), "%s > %s", tc.a, tc.b)
	}
}

func TestAccessOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, model.PostAccessOK},
		{errBudget, model.PostAccessOK},
		{&errSignatureRequired{"/api/v1/directory"}, model.PostAccessSignatureRequired},
		{fmt.Errorf("x: %w", errRobots), model.PostAccessDisallowed},
		{fmt.Errorf("%w: h", ErrHostRefused), model.PostAccessOptedOut},
		{fmt.Errorf("%w: status 404", errRefused), model.PostAccessRefused},
		{&statusError{500}, model.PostAccessFailed},
	} {
		require.Equal(t, tc.want, accessOf(tc.err), "%v", tc.err)
	}
	require.True(t, isGone(fmt.Errorf("p: %w", &refusedError{status: 410})))
	require.True(t, isGone(&refusedError{status: 404}))
	require.False(t, isGone(&refusedError{status: 403}))
	require.False(t, isGone(fmt.Errorf("%w: status 404", errMalformed)), "only a refusal's status counts, not its text")
}

// TestToPostFields: every field the index and the store use is taken from
// a status, and hostile values are neutralised or dropped.
func TestToPostFields(t *testing.T) {
	t.Parallel()
	hc := &hostCrawl{host: "m.example", scheme: "https"}
	raw := `{
	  "id": "1001", "uri": "https://m.example/users/Alice/statuses/1001", "url": "https://evil.example/phish",
	  "created_at": "2026-10-30T12:00:00.000Z", "visibility": "public", "language": "de-AT",
	  "content": "<p>Hallo <a href=\"https://m.example/tags/Katzen\" class=\"mention hashtag\" rel=\"tag\">#<span>Katzen</span></a> <span class=\"h-card\"><a href=\"https://o.example/@bob\" class=\"u-url mention\">@bob</a></span> <a href=\"https://blog.example/x\">blog</a><script>alert(1)</script><a href=\"javascript:alert(2)\">j</a></p>",
	  "spoiler_text": "<b>cw</b>", "sensitive": true, "in_reply_to_id": "999", "reblog": null,
	  "poll": {"id": "5", "options": []},
	  "replies_count": 2, "reblogs_count": "3", "favourites_count": null,
	  "tags": [{"name": "Katzen"}, {"name": "katzen"}],
	  "mentions": [{"acct": "bob@o.example"}, {"acct": "carol"}],
	  "media_attachments": [{"description": "a cat"}, {"description": null}, {"description": " on a mat "}],
	  "account": {"id": "7", "username": "Alice", "acct": "Alice", "display_name": "<img src=x onerror=alert(1)>Alice",
	    "indexable": true, "note": "", "fields": []}
	}`
	var s mastodonStatus
	require.NoError(t, json.Unmarshal([]byte(raw), &s))
	p, ok := hc.toPost(s)
	require.True(t, ok)
	require.Equal(t, model.Post{
		URI: "https://m.example/users/Alice/statuses/1001", Host: "m.example", Author: "alice@m.example",
		AuthorName: "Alice", Created: time.Date(2026, 10, 30, 12, 0, 0, 0, time.UTC), Language: "de",
		Text: "Hallo #Katzen @bob blogj",
		HTML: p.HTML, Summary: "cw", Sensitive: true, Tags: []string{"katzen"},
		Replies: 2, Reblogs: 3, Kind: "question", Source: model.SourceMastodon,
		AltText: "a cat\non a mat", Mentions: []string{"bob@o.example", "carol@m.example"},
		Links: []string{"https://blog.example/x"}, InReplyTo: "https://m.example/api/v1/statuses/999",
	}, p, "the url on another host is dropped")
	require.NotContains(t, p.HTML, "script")
	require.NotContains(t, p.HTML, "javascript:")
	require.Equal(t, "note", mastodonStatus{Poll: json.RawMessage("null")}.kind())

	s.URI = "https://other.example/users/alice/statuses/1"
	_, ok = hc.toPost(s)
	require.False(t, ok, "a post whose URI is on another host is refused")
	s.URI = "https://m.example/users/alice/statuses/1"
	s.Account.Acct = "alice@other.example"
	_, ok = hc.toPost(s)
	require.False(t, ok, "a remote author is refused")
}

// TestMastodonAccountOptInWord: the operator's opt-in word reaches the
// consent rules for accounts whose server sends no indexable flag.
func TestMastodonAccountOptInWord(t *testing.T) {
	t.Parallel()
	no := false
	a := mastodonAccount{Note: "<p>find me #FediLens</p>"}
	require.Equal(t, consent.NotIndexable, a.consent(""))
	require.Equal(t, consent.OK, a.consent("#fedilens"))
	a.Indexable = &no
	require.Equal(t, consent.NotIndexable, a.consent("#fedilens"), "an explicit no wins")
}
