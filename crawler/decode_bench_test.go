package crawler

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"
	jsonv1 "github.com/go-json-experiment/json/v1"
	"github.com/stretchr/testify/require"
)

const fixtures = "/work/shared/fixtures/captured/"

// timelinePage is a full page (timelinePageSize statuses) of real
// Mastodon output: the captured local timeline, repeated.
func timelinePage(tb testing.TB) []byte {
	tb.Helper()
	raw, err := os.ReadFile(fixtures + "mastodon/api_v1_timelines_public.json")
	require.NoError(tb, err)
	var statuses []json.RawMessage
	require.NoError(tb, json.Unmarshal(raw, &statuses))
	var page []json.RawMessage
	for len(page) < timelinePageSize {
		page = append(page, statuses...)
	}
	out, err := json.Marshal(page[:timelinePageSize])
	require.NoError(tb, err)
	return out
}

func BenchmarkDecodeStatusesPage(b *testing.B) {
	page := timelinePage(b)
	legacyErrors := jsonv2.JoinOptions(remoteJSON, jsonv1.ReportErrorsWithLegacySemantics(true))
	cases := []struct {
		name   string
		decode func([]byte, any) error
	}{
		{"v1", json.Unmarshal},
		{"decodeJSON", decodeJSON},
		{"decodeJSON+legacyErrors", func(d []byte, v any) error { return jsonv2.Unmarshal(d, v, legacyErrors) }},
		{"v2-with-all-v1-options", func(d []byte, v any) error { return jsonv2.Unmarshal(d, v, jsonv1.DefaultOptionsV1()) }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(page)))
			b.ReportAllocs()
			for b.Loop() {
				var statuses []mastodonStatus
				if err := c.decode(page, &statuses); err != nil || len(statuses) != timelinePageSize {
					b.Fatal(err, len(statuses))
				}
			}
		})
	}
}

func BenchmarkDecodeTimelinePage(b *testing.B) {
	page := timelinePage(b)
	b.Run("v1-full", func(b *testing.B) {
		b.SetBytes(int64(len(page)))
		b.ReportAllocs()
		for b.Loop() {
			var statuses []mastodonStatus
			if err := json.Unmarshal(page, &statuses); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decodeJSON-full", func(b *testing.B) {
		b.SetBytes(int64(len(page)))
		b.ReportAllocs()
		for b.Loop() {
			var statuses []mastodonStatus
			if err := decodeJSON(page, &statuses); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decodeJSON-minimal", func(b *testing.B) {
		b.SetBytes(int64(len(page)))
		b.ReportAllocs()
		for b.Loop() {
			var statuses []timelineStatus
			if err := decodeJSON(page, &statuses); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkParseAPDoc decodes a Create activity and walks it as
// readOutboxItem does (object, its strings, tags, type).
func BenchmarkParseAPDoc(b *testing.B) {
	raw, err := os.ReadFile(fixtures + "mastodon/activity_create_note.json")
	require.NoError(b, err)
	raw = bytes.TrimSpace(raw)
	walk := func(b *testing.B, decode func([]byte, any) error) {
		for b.Loop() {
			var d apDoc
			if err := decode(raw, &d); err != nil {
				b.Fatal(err)
			}
			var o apDoc
			if err := decode(d["object"], &o); err != nil {
				b.Fatal(err)
			}
			for _, k := range []string{"id", "type", "content", "published", "attributedTo", "url"} {
				var s string
				_ = decode(o[k], &s)
			}
			var tags []json.RawMessage
			_ = decode(o["tag"], &tags)
		}
	}
	b.Run("v1", func(b *testing.B) { b.ReportAllocs(); walk(b, json.Unmarshal) })
	b.Run("decodeJSON", func(b *testing.B) { b.ReportAllocs(); walk(b, decodeJSON) })
}

// BenchmarkAPItems splits a 20-item outbox page (the captured
// GoToSocial page's items, repeated) as readOutbox does.
func BenchmarkAPItems(b *testing.B) {
	raw, err := os.ReadFile(fixtures + "gotosocial/outbox_page.json")
	require.NoError(b, err)
	var page struct {
		Items []json.RawMessage `json:"orderedItems"`
	}
	require.NoError(b, json.Unmarshal(raw, &page))
	require.NotEmpty(b, page.Items)
	var items []json.RawMessage
	for len(items) < 20 {
		items = append(items, page.Items...)
	}
	list, err := json.Marshal(items[:20])
	require.NoError(b, err)
	b.Run("v1", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if got, _ := apItemsV1(list); len(got) != 20 {
				b.Fatal(len(got))
			}
		}
	})
	b.Run("jsontext", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if got, _ := apItems(list); len(got) != 20 {
				b.Fatal(len(got))
			}
		}
	})
}
