package websearch

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/model"
)

func TestParse(t *testing.T) {
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		require.NoError(t, err)
		return d
	}
	many := func(name, v string, n int) string {
		return strings.Repeat("&"+name+"="+v, n)
	}
	for _, tc := range []struct {
		name  string
		query string
		want  model.SearchQuery
		err   string
	}{
		{name: "empty", query: "", want: model.SearchQuery{Limit: 20}},
		{name: "q trimmed", query: "q=%20ducks%20", want: model.SearchQuery{Q: "ducks", Limit: 20}},
		{name: "relevance is the default", query: "q=a&sort=relevance", want: model.SearchQuery{Q: "a", Limit: 20}},
		{name: "newest", query: "q=a&sort=newest", want: model.SearchQuery{Q: "a", Sort: model.SortNewest, Limit: 20}},
		{name: "unknown sort", query: "q=a&sort=oldest", err: "sort must be relevance or newest"},
		{
			name:  "filters normalised and de-duplicated",
			query: "instance=Social.Example.&instance=social.example&lang=DE&tag=%23Ducks&tag=ducks&from=acct:Ann@Social.Example&from=@bo@quiet.example",
			want: model.SearchQuery{
				Hosts: []string{"social.example"}, Langs: []string{"de"}, Tags: []string{"ducks"},
				Authors: []string{"ann@social.example", "bo@quiet.example"}, Limit: 20,
			},
		},
		{name: "loopback host of a simulation", query: "instance=127.0.0.1:8443", want: model.SearchQuery{Hosts: []string{"127.0.0.1:8443"}, Limit: 20}},
		{name: "unicode hashtag", query: "tag=Café_2", want: model.SearchQuery{Tags: []string{"café_2"}, Limit: 20}},
		{name: "since and until", query: "since=2026-01-01&until=2026-01-31",
			want: model.SearchQuery{Since: day("2026-01-01"), Until: day("2026-02-01"), Limit: 20}},
		{name: "same day", query: "since=2026-01-31&until=2026-01-31",
			want: model.SearchQuery{Since: day("2026-01-31"), Until: day("2026-02-01"), Limit: 20}},
		{name: "until before since", query: "since=2026-02-01&until=2026-01-31", err: "until is before since"},
		{name: "bad date", query: "since=31.01.2026", err: "since wants a date like 2026-01-31"},
		{name: "two since", query: "since=2026-01-01&since=2026-01-02", err: "since may be given once"},
		{name: "facets", query: "q=a&facets=1", want: model.SearchQuery{Q: "a", Facets: true, Limit: 20}},
		{name: "facets off", query: "q=a&facets=0", want: model.SearchQuery{Q: "a", Limit: 20}},
		{name: "facets bad", query: "q=a&facets=yes", err: "facets must be 1 or 0"},
		{name: "limit", query: "q=a&limit=7", want: model.SearchQuery{Q: "a", Limit: 7}},
		{name: "limit capped", query: "q=a&limit=1000", want: model.SearchQuery{Q: "a", Limit: 100}},
		{name: "limit zero", query: "q=a&limit=0", err: "limit must be a positive integer"},
		{name: "limit text", query: "q=a&limit=ten", err: "limit must be a positive integer"},
		{name: "cursor", query: "q=a&cursor=abc", want: model.SearchQuery{Q: "a", Cursor: "abc", Limit: 20}},
		{name: "cursor too long", query: "q=a&cursor=" + strings.Repeat("c", MaxCursorLen+1), err: "cursor is longer than 1024 bytes"},
		{name: "q too long", query: "q=" + strings.Repeat("q", MaxQueryLen+1), err: "q is longer than 1024 bytes"},
		{name: "q not utf-8", query: "q=%ff", err: "q is not valid UTF-8"},
		{name: "ten instances", query: "q=a" + many("instance", "a.example", 10), want: model.SearchQuery{Q: "a", Hosts: []string{"a.example"}, Limit: 20}},
		{name: "eleven instances", query: "q=a" + many("instance", "a.example", 11), err: "instance may be given at most 10 times"},
		{name: "eleven tags", query: "q=a" + many("tag", "x", 11), err: "tag may be given at most 10 times"},
		{name: "bad host", query: "instance=%3Cscript%3E", err: "instance: not a host name"},
		{name: "host with a path", query: "instance=a.example/x", err: "instance: not a host name"},
		{name: "bad lang", query: "lang=english", err: "lang: wants a language code like en"},
		{name: "bad tag", query: "tag=%22%3E%3Csvg", err: "tag: wants a hashtag like #fediverse"},
		{name: "bad author", query: "from=ann", err: "from: wants an account like user@host"},
		{name: "author with a bad host", query: "from=ann@%3Cb%3E", err: "from: wants an account like user@host"},
		{name: "huge value", query: "tag=" + strings.Repeat("x", 400), err: "tag is not valid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := url.ParseQuery(tc.query)
			require.NoError(t, err)
			got, err := Parse(v)
			if tc.err != "" {
				require.EqualError(t, err, tc.err)
				require.True(t, errors.Is(err, model.ErrBadQuery))
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)

			// Values runs the same search again.
			again, err := Parse(Values(got))
			require.NoError(t, err)
			got.Limit, got.Cursor = DefaultLimit, ""
			require.Equal(t, got, again)
		})
	}
}

func TestEmpty(t *testing.T) {
	require.True(t, Empty(model.SearchQuery{Limit: 20, Facets: true, Sort: model.SortNewest}))
	require.False(t, Empty(model.SearchQuery{Q: "a"}))
	require.False(t, Empty(model.SearchQuery{Langs: []string{"de"}}))
	require.False(t, Empty(model.SearchQuery{Until: time.Now()}))
}

func TestSnippet(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"plain &amp; simple", "plain &amp; simple", true},
		{"about <mark>ducks</mark> and <mark>geese</mark>", "about <mark>ducks</mark> and <mark>geese</mark>", true},
		{"", "", true},
		{"<mark>ducks</mark><img src=x onerror=alert(1)>", "&lt;mark&gt;ducks&lt;/mark&gt;&lt;img src=x onerror=alert(1)&gt;", false},
		{`<mark onmouseover="alert(1)">x</mark>`, "&lt;mark onmouseover=&#34;alert(1)&#34;&gt;x&lt;/mark&gt;", false},
		{"<mark><mark>x</mark></mark>", "&lt;mark&gt;&lt;mark&gt;x&lt;/mark&gt;&lt;/mark&gt;", false},
		{"<mark>unclosed", "&lt;mark&gt;unclosed", false},
		{"</mark>", "&lt;/mark&gt;", false},
		{"a > b", "a &gt; b", false},
		{"<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;", false},
		{`"><svg onload=alert(1)>`, "&#34;&gt;&lt;svg onload=alert(1)&gt;", false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := Snippet(tc.in)
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.ok, ok)
		})
	}
}

func TestHTTPURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://social.example/@ann/1":                  "https://social.example/@ann/1",
		"http://social.example/notes/1?x=1#y":            "http://social.example/notes/1?x=1#y",
		"HTTPS://social.example/":                        "https://social.example/",
		"javascript:alert(1)":                            "",
		"JavaScript://social.example/%0aalert(1)":        "",
		"data:text/html,<script>alert(1)</script>":       "",
		"//social.example/x":                             "",
		"/relative":                                      "",
		"https://user:pw@social.example/":                "",
		`https://social.example/"><svg onload=alert(1)>`: "",
		"https:opaque":                                   "",
		"ftp://a.example":                                "",
		"":                                               "",
	} {
		t.Run(in, func(t *testing.T) {
			require.Equal(t, want, HTTPURL(in))
		})
	}
}
