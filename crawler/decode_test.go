package crawler

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDecodeJSONMatchesV1 feeds hostile documents to decodeJSON and to
// encoding/json: where v1 accepted a document, decodeJSON must accept it
// with the same result; where v1 refused it, decodeJSON must refuse it too
// (a page v1 called malformed must not start being ingested).
func TestDecodeJSONMatchesV1(t *testing.T) {
	type counts struct {
		N int64   `json:"n"`
		U uint8   `json:"u"`
		F float64 `json:"f"`
	}
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	newStatus := func() any { return new(mastodonStatus) }
	newStatuses := func() any { return new([]mastodonStatus) }
	newAny := func() any { return new(any) }
	newAPDoc := func() any { return new(apDoc) }
	newCounts := func() any { return new(counts) }
	newNote := func() any { return new(misskeyNote) }
	newLemmy := func() any { return new(lemmyPostView) }
	newTimeline := func() any { return new([]timelineStatus) }
	tests := []struct {
		name string
		doc  string
		into func() any
	}{
		{"plain status", `{"id":"1","uri":"https://a.example/s/1","content":"<p>hi</p>","created_at":"2024-05-01T10:00:00.123Z","account":{"acct":"bob","indexable":true}}`, newStatus},
		{"invalid utf-8 in a value", "{\"content\":\"a\xffb\xc3\",\"spoiler_text\":\"\xed\xa0\x80\"}", newStatus},
		{"invalid utf-8 in a name", "{\"con\xfftent\":\"x\",\"id\":\"1\"}", newStatus},
		{"invalid utf-8 in a raw member", "{\"type\":\"Note\",\"content\":\"\xff\xfe\"}", newAPDoc},
		{"lone surrogate escapes", `{"content":"a\ud800b\udc00c\ud83d\ude00"}`, newStatus},
		{"escapes", `{"content":"\u00e9\n\t\"\\\/\u0000"}`, newStatus},
		{"duplicate names, last wins", `{"id":"1","id":"2","account":{"acct":"a"},"account":{"username":"b"}}`, newStatus},
		{"duplicate names in a map", `{"id":"a","id":"b","type":["Note"],"type":"Article"}`, newAPDoc},
		{"names in other case", `{"ID":"7","Created_At":"2024-05-01T10:00:00Z","CONTENT":"x","Account":{"ACCT":"Bob","Indexable":false}}`, newStatus},
		{"exact name beats a folded one", `{"Id":"folded","id":"exact","iD":"again"}`, newStatus},
		{"delimiters still count", `{"createdat":"2024-05-01T10:00:00Z","spoiler-text":"cw","spoilerText":"cw2","repliesCount":3}`, newStatus},
		{"misskey camel case", `{"id":"9","createdAt":"2024-05-01T10:00:00Z","created_at":"2020-01-01T00:00:00Z","CreatedAt":"2021-01-01T00:00:00Z","text":null,"reactions":{"👍":2,"x":"3","y":{}}}`, newNote},
		{"unknown members", `{"id":"1","emojis":[{"a":[1,2,{"b":null}]}],"card":{"x":1e5},"filtered":[]}`, newStatus},
		{"null members", `{"id":null,"created_at":null,"language":null,"reblog":null,"poll":null,"tags":null,"account":null,"replies_count":null}`, newStatus},
		{"raw members", `{"reblog":{"id":"2","content":"x"},"poll":  [1, 2] }`, newStatus},
		{"flexible counts", `{"replies_count":"12","reblogs_count":1.5e3,"favourites_count":{"a":1}}`, newStatus},
		{"huge counts", `{"replies_count":1e400,"reblogs_count":123456789012345678901234567890,"favourites_count":"-9223372036854775809"}`, newStatus},
		{"huge number into any", `{"n":123456789012345678901234567890,"m":-0.0,"k":1E-400}`, newAny},
		{"number out of float range into any", `{"n":1e400}`, newAny},
		{"int overflow", `{"n":9223372036854775808}`, newCounts},
		{"uint8 overflow", `{"u":256}`, newCounts},
		{"negative uint", `{"u":-1}`, newCounts},
		{"fraction into int", `{"n":1.5}`, newCounts},
		{"exponent into int", `{"n":1e2}`, newCounts},
		{"float out of range", `{"f":1e400}`, newCounts},
		{"string into int", `{"n":"1"}`, newCounts},
		{"number into string", `{"id":1}`, newStatus},
		{"bool into string", `{"content":true}`, newStatus},
		{"array into struct", `{"account":[]}`, newStatus},
		{"object into slice", `{"tags":{"name":"x"}}`, newStatus},
		{"string into bool", `{"sensitive":"true"}`, newStatus},
		{"object into string list", `{"tags":["a"]}`, newNote},
		{"not an object", `[1,2]`, newStatus},
		{"array of statuses", `[{"id":"1"},{"id":"2","account":{"acct":"x"}}]`, newStatuses},
		{"array with a bad element", `[{"id":"1"},{"id":2}]`, newStatuses},
		{"top-level null", `null`, newStatus},
		{"top-level null into a slice", `null`, newStatuses},
		{"whitespace around", " \t\r\n{\"id\":\"1\"}\n ", newStatus},
		{"trailing garbage", `{"id":"1"} x`, newStatus},
		{"two documents", `{"id":"1"}{"id":"2"}`, newStatus},
		{"truncated", `{"id":"1","content":"ab`, newStatus},
		{"empty", ``, newStatus},
		{"byte order mark", "\xef\xbb\xbf{\"id\":\"1\"}", newStatus},
		{"single quotes", `{'id':'1'}`, newStatus},
		{"trailing comma", `{"id":"1",}`, newStatus},
		{"comment", `{"id":"1" /* x */}`, newStatus},
		{"nan", `{"n":NaN}`, newAny},
		{"leading zero", `{"n":01}`, newAny},
		{"control character in a string", "{\"content\":\"a\x01b\"}", newStatus},
		{"bad escape", `{"content":"\x41"}`, newStatus},
		{"deep nesting", deep(5000), newAny},
		{"too deep nesting", deep(10001), newAny},
		{"deep nesting in an unknown member", `{"x":` + deep(5000) + `,"id":"1"}`, newStatus},
		{"rfc 3339 with offset", `{"created_at":"2024-05-01T10:00:00+02:00"}`, newStatus},
		{"date without time", `{"created_at":"2024-05-01"}`, newStatus},
		{"space instead of T", `{"created_at":"2024-05-01 10:00:00Z"}`, newStatus},
		{"one-digit hour", `{"created_at":"2024-05-01T1:00:00Z"}`, newStatus},
		{"comma before fraction", `{"created_at":"2024-05-01T10:00:00,5Z"}`, newStatus},
		{"offset hour out of range", `{"created_at":"2024-05-01T10:00:00+24:00"}`, newStatus},
		{"empty time", `{"created_at":""}`, newStatus},
		{"numeric time", `{"created_at":1714557600}`, newStatus},
		{"lemmy times", `{"post":{"published":"2024-05-01T10:00:00.123456","updated":5},"creator":{"id":3,"name":"x"}}`, newLemmy},
		{"lemmy id as string", `{"creator":{"id":"3"}}`, newLemmy},
		{"minimal timeline", `[{"id":"1","created_at":"2024-05-01T10:00:00Z","content":"<p>x</p>","account":{"acct":"a","fields":[{"name":"n","value":"v"}]}}]`, newTimeline},
		{"minimal timeline ignores bad unread members", `[{"id":"1","content":5,"tags":"x","media_attachments":{},"account":{"acct":"a"}}]`, newTimeline},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, got := tt.into(), tt.into()
			v1err := json.Unmarshal([]byte(tt.doc), want)
			err := decodeJSON([]byte(tt.doc), got)
			if strings.HasPrefix(tt.name, "minimal timeline ignores") {
				// The minimal type does not read the members v1's
				// full status choked on: see readTimeline.
				require.Error(t, json.Unmarshal([]byte(tt.doc), new([]mastodonStatus)))
				v1err = nil
			}
			if v1err != nil {
				require.Error(t, err, "v1 refused it: %v", v1err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, want, got)
		})
	}
}

// TestDecodeJSONUnmarshalers checks that the crawler's UnmarshalJSON
// methods are called as v1 calls them, also for null.
func TestDecodeJSONUnmarshalers(t *testing.T) {
	var doc struct {
		A flexInt     `json:"a"`
		B flexBool    `json:"b"`
		C flexString  `json:"c"`
		D flexStrings `json:"d"`
		E flexStrings `json:"e"`
		F lemmyTime   `json:"f"`
		G flexBool    `json:"g"`
		H *flexInt    `json:"h"`
		I *flexInt    `json:"i"`
	}
	require.NoError(t, decodeJSON([]byte(`{"a":" 42 ","b":"YES","c":3.5,"d":{"inbound":["x"],"outbound":["x","y"]},"e":"one","f":"2024-05-01T10:00:00.5","g":null,"h":null,"i":7}`), &doc))
	require.Equal(t, int64(42), *doc.A.v)
	require.True(t, bool(doc.B))
	require.Equal(t, flexString("3.5"), doc.C)
	require.Equal(t, flexStrings{"x", "y"}, doc.D)
	require.Equal(t, flexStrings{"one"}, doc.E)
	require.Equal(t, 2024, doc.F.Year())
	require.False(t, bool(doc.G))
	require.Nil(t, doc.H)
	require.Equal(t, int64(7), *doc.I.v)
}

// TestDecodeJSONErrorsStayMalformed checks that getJSON's callers still
// see a decoding failure as errMalformed with the path.
func TestDecodeJSONErrorsStayMalformed(t *testing.T) {
	_, _, err := pickNodeInfo([]byte(`{"links":`))
	require.ErrorIs(t, err, errMalformed)
	require.Contains(t, err.Error(), "nodeinfo discovery is not JSON")
	_, err = parseNodeInfo([]byte(`[]`), "a.example", "2.1")
	require.ErrorIs(t, err, errMalformed)
}

// TestDecodeJSONPartialKeepsV1Semantics checks the one lenient caller:
// a NodeInfo usage whose users member has the wrong shape still gives
// its localPosts, as with v1.
func TestDecodeJSONPartialKeepsV1Semantics(t *testing.T) {
	type usage struct {
		Users struct {
			Total flexInt `json:"total"`
		} `json:"users"`
		LocalPosts flexInt `json:"localPosts"`
	}
	for _, doc := range []string{`{"users":5,"localPosts":10}`, `{"users":[1],"localPosts":"10"}`, `{"users":{"total":3},"users":"x","localPosts":10}`} {
		var want, got usage
		v1err := json.Unmarshal([]byte(doc), &want)
		require.Error(t, v1err, doc)
		require.Error(t, decodeJSONPartial([]byte(doc), &got), doc)
		require.Equal(t, want, got, doc)
		require.Equal(t, int64(10), *got.LocalPosts.v, doc)
	}
	snap, err := parseNodeInfo([]byte(`{"software":{"name":"x"},"usage":{"users":5,"localPosts":10}}`), "a.example", "2.1")
	require.NoError(t, err)
	require.Equal(t, int64(10), *snap.LocalPosts)
}

// apItemsV1 is apItems as it was, over encoding/json's Decoder.
func apItemsV1(raw json.RawMessage) (items []json.RawMessage, cut bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '[' {
		return apList(raw), false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return nil, true
	}
	for dec.More() {
		if len(items) == maxOutboxItems {
			return items, true
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return items, true
		}
		items = append(items, v)
	}
	return items, false
}

func TestAPItemsMatchesV1(t *testing.T) {
	many := "[" + strings.TrimSuffix(strings.Repeat(`{"type":"Create"},`, maxOutboxItems+5), ",") + "]"
	exact := "[" + strings.TrimSuffix(strings.Repeat(`"https://a.example/1", `, maxOutboxItems), ", ") + "]"
	for _, raw := range []string{
		`[]`, ` [ ] `, `[{"a":1}, "x" ,null, [1,[2]], 3.5e2, true]`,
		"[{\"content\":\"\xff\",\"id\":\"1\",\"id\":\"2\"}, {\"x\": {\"y\": [\"\\ud800\"]}}]",
		"[\n\t{\"type\" : \"Note\"}\n]", many, exact, `{"type":"Create"}`, `"https://a.example/1"`, `null`, ``,
	} {
		// apItems reads members of decoded documents: check the input is
		// such a member, then compare.
		var probe any
		if raw != "" {
			require.NoError(t, decodeJSON([]byte(raw), &probe), raw)
		}
		wantItems, wantCut := apItemsV1(json.RawMessage(raw))
		items, cut := apItems(json.RawMessage(raw))
		require.Equal(t, wantCut, cut, raw)
		require.Equal(t, wantItems, items, raw)
	}
}
