package crawler

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/model"
)

func TestPickNodeInfo(t *testing.T) {
	tests := []struct {
		name, body, href, version, err string
	}{
		{"highest wins", `{"links":[{"rel":"http://nodeinfo.diaspora.software/ns/schema/2.0","href":"https://x.example/nodeinfo/2.0"},{"rel":"http://nodeinfo.diaspora.software/ns/schema/2.1","href":"https://x.example/nodeinfo/2.1"}]}`, "https://x.example/nodeinfo/2.1", "2.1", ""},
		{"href before rel, .json", `{"links":[{"href":"https://x.example/nodeinfo/2.0.json","rel":"http://nodeinfo.diaspora.software/ns/schema/2.0"}]}`, "https://x.example/nodeinfo/2.0.json", "2.0", ""},
		{"links as object (old Hubzilla)", `{"links":{"rel":"http://nodeinfo.diaspora.software/ns/schema/1.0","href":"https://x.example/nodeinfo/1.0"}}`, "https://x.example/nodeinfo/1.0", "1.0", ""},
		{"https rel and trailing slash", `{"links":[{"rel":"https://nodeinfo.diaspora.software/ns/schema/2.0/","href":"/nodeinfo/2.0"}]}`, "/nodeinfo/2.0", "2.0", ""},
		{"unknown rels only", `{"links":[{"rel":"https://www.w3.org/ns/activitystreams#Application","href":"https://x.example/actor"}]}`, "", "", "no known schema"},
		{"empty href skipped", `{"links":[{"rel":"http://nodeinfo.diaspora.software/ns/schema/2.1","href":""},{"rel":"http://nodeinfo.diaspora.software/ns/schema/2.0","href":"/n"}]}`, "/n", "2.0", ""},
		{"not json", `<html>`, "", "", "not JSON"},
		{"no links", `{}`, "", "", "no links"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			href, v, err := pickNodeInfo([]byte(tc.body))
			if tc.err != "" {
				require.ErrorIs(t, err, errMalformed)
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.href, href)
			require.Equal(t, tc.version, v)
		})
	}
}

func TestParseNodeInfo(t *testing.T) {
	tests := []struct {
		name string
		body string
		want model.Snapshot
		err  string
	}{
		{
			name: "mastodon 2.0",
			body: `{"version":"2.0","software":{"name":"mastodon","version":"4.3.2"},"protocols":["activitypub"],"services":{"outbound":[],"inbound":[]},"usage":{"users":{"total":2000,"activeMonth":300,"activeHalfyear":800},"localPosts":123456},"openRegistrations":true,"metadata":{"nodeName":"Bright Water"}}`,
			want: model.Snapshot{Host: "x.example", NodeInfoVersion: "2.0", Software: "mastodon", Version: "4.3.2", Protocols: []string{"activitypub"}, OpenRegistrations: true, Title: "Bright Water",
				UsersTotal: model.Int64(2000), UsersActiveMonth: model.Int64(300), UsersActiveHalfyear: model.Int64(800), LocalPosts: model.Int64(123456)},
		},
		{
			name: "metadata as array (Mastodon 4.0rc)",
			body: `{"version":"2.0","software":{"name":"mastodon","version":"4.0.0rc2"},"protocols":["activitypub"],"usage":{"users":{"total":1}},"openRegistrations":false,"metadata":[]}`,
			want: model.Snapshot{Host: "x.example", NodeInfoVersion: "2.0", Software: "mastodon", Version: "4.0.0rc2", Protocols: []string{"activitypub"}, UsersTotal: model.Int64(1)},
		},
		{
			name: "openRegistrations as string, capitalised name, private",
			body: `{"software":{"name":"Akkoma","version":"3.0.0"},"openRegistrations":"FALSE","usage":{"users":{"total":"42"}},"metadata":{"private":true}}`,
			want: model.Snapshot{Host: "x.example", NodeInfoVersion: "2.0", Software: "akkoma", Version: "3.0.0", UsersTotal: model.Int64(42), Private: true},
		},
		{
			name: "open registrations as TRUE string and localPosts as object",
			body: `{"software":{"name":"pleroma","version":"2.5"},"openRegistrations":"TRUE","usage":{"users":{"total":5.0},"localPosts":{"weird":1}}}`,
			want: model.Snapshot{Host: "x.example", NodeInfoVersion: "2.0", Software: "pleroma", Version: "2.5", OpenRegistrations: true, UsersTotal: model.Int64(5)},
		},
		{
			name: "lemmy without services and metadata, version as number",
			body: `{"version":"2.0","software":{"name":"lemmy","version":0.19},"protocols":["activitypub"],"usage":{"users":{"total":10,"activeHalfyear":4,"activeMonth":2},"localPosts":7,"localComments":9},"openRegistrations":true}`,
			want: model.Snapshot{Host: "x.example", NodeInfoVersion: "2.0", Software: "lemmy", Version: "0.19", Protocols: []string{"activitypub"}, OpenRegistrations: true,
				UsersTotal: model.Int64(10), UsersActiveMonth: model.Int64(2), UsersActiveHalfyear: model.Int64(4), LocalPosts: model.Int64(7)},
		},
		{
			name: "nodeinfo 1.0 protocols object",
			body: `{"software":{"name":"diaspora","version":"0.7"},"protocols":{"inbound":["diaspora"],"outbound":["diaspora","activitypub"]},"usage":{"users":{}}}`,
			want: model.Snapshot{Host: "x.example", NodeInfoVersion: "2.0", Software: "diaspora", Version: "0.7", Protocols: []string{"diaspora", "activitypub"}},
		},
		{
			name: "html in title is reduced to text",
			body: `{"software":{"name":"mastodon","version":"1"},"metadata":{"nodeName":"<img src=x onerror=alert(1)>Evil"}}`,
			want: model.Snapshot{Host: "x.example", NodeInfoVersion: "2.0", Software: "mastodon", Version: "1", Title: "Evil"},
		},
		{name: "no software name", body: `{"software":{"version":"1"}}`, err: "no software name"},
		{name: "array document", body: `[1,2]`, err: "not a JSON object"},
		{name: "broken json", body: `{"software":`, err: "not a JSON object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseNodeInfo([]byte(tc.body), "x.example", "2.0")
			if tc.err != "" {
				require.ErrorIs(t, err, errMalformed)
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestHasNoIndex(t *testing.T) {
	tests := []struct {
		values []string
		want   bool
	}{
		{nil, false},
		{[]string{"noindex, nofollow"}, true},
		{[]string{"NoIndex"}, true},
		{[]string{"none"}, true},
		{[]string{"nofollow"}, false},
		{[]string{"googlebot: noindex"}, false},
		{[]string{"fedilens: noindex"}, true},
		{[]string{"nofollow", "noindex"}, true},
	}
	for _, tc := range tests {
		h := http.Header{}
		for _, v := range tc.values {
			h.Add("X-Robots-Tag", v)
		}
		require.Equal(t, tc.want, hasNoIndex(h, "fedilens"), "%v", tc.values)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		v    string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"5", 5 * time.Second, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
	}
	for _, tc := range tests {
		h := http.Header{}
		if tc.v != "" {
			h.Set("Retry-After", tc.v)
		}
		d, ok := retryAfter(h, now)
		require.Equal(t, tc.ok, ok, tc.v)
		require.Equal(t, tc.want, d, tc.v)
	}
}

func TestNormaliseHosts(t *testing.T) {
	got := normaliseHosts([]string{"B.example", "b.example.", "a.example", "self.example", "bad host", "127.0.0.2", "localhost", "-x-.example", "", "[::1]", "xn--bcher-kva.example", "bücher.example", "ported.example:8443"}, "self.example")
	require.Equal(t, []string{"a.example", "b.example", "xn--bcher-kva.example"}, got)
}

func TestParseSeed(t *testing.T) {
	tests := []struct {
		in   string
		want Seed
		err  bool
	}{
		{"a.sim.example", Seed{"https", "a.sim.example"}, false},
		{"https://A.Sim.Example/", Seed{"https", "a.sim.example"}, false},
		{"http://a.sim.example", Seed{"http", "a.sim.example"}, false},
		{"http://a.sim.example:80", Seed{"http", "a.sim.example"}, false},
		{"https://a.sim.example:8443", Seed{"https", "a.sim.example:8443"}, false},
		{"ftp://a.example", Seed{}, true},
		{"https://a.example/path", Seed{}, true},
		{"https://user@a.example", Seed{}, true},
		{"https://bad host", Seed{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseSeed(tc.in)
			if tc.err {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestToPostRefusesForeignContent(t *testing.T) {
	hc := &hostCrawl{host: "x.example", scheme: "https"}
	yes := true
	s := mastodonStatus{URI: "https://x.example/users/ann/statuses/1", Visibility: "public", Content: `<p>hi <script>alert(1)</script><a href="javascript:x">l</a></p>`}
	s.Account.Acct = "ann"
	s.Account.Indexable = &yes
	p, ok := hc.toPost(s)
	require.True(t, ok)
	require.Equal(t, "ann@x.example", p.Author)
	require.NotContains(t, p.HTML, "script")
	require.NotContains(t, p.HTML, "javascript")
	require.Equal(t, "hi l", p.Text)

	foreignURI := s
	foreignURI.URI = "https://other.example/users/ann/statuses/1"
	_, ok = hc.toPost(foreignURI)
	require.False(t, ok)

	foreignAcct := s
	foreignAcct.Account.Acct = "ann@other.example"
	_, ok = hc.toPost(foreignAcct)
	require.False(t, ok)
}

func TestExpectJSON(t *testing.T) {
	tests := []struct {
		ct string
		ok bool
	}{
		{"", true},
		{"application/json", true},
		{"application/json; charset=utf-8", true},
		{`application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.1#"`, true},
		{"application/json; profile=http://nodeinfo.diaspora.software/ns/schema/2.0#", true},
		{"application/jrd+json", true},
		{"application/activity+json", true},
		{"Application/JSON", true},
		{"text/plain; charset=utf-8", true},
		{"text/html; charset=utf-8", false},
		{"image/png", false},
		{"application/xml", false},
	}
	for _, tc := range tests {
		h := http.Header{}
		if tc.ct != "" {
			h.Set("Content-Type", tc.ct)
		}
		err := expectJSON(&fetchResponse{Status: 200, Header: h})
		if tc.ok {
			require.NoError(t, err, tc.ct)
		} else {
			require.ErrorIs(t, err, errMalformed, tc.ct)
		}
	}
}

func TestSameSite(t *testing.T) {
	u := func(s string) *url.URL {
		p, err := url.Parse(s)
		require.NoError(t, err)
		return p
	}
	require.NoError(t, sameSite(u("https://example.com/.well-known/nodeinfo"), u("https://example.com/nodeinfo/2.0")))
	require.NoError(t, sameSite(u("https://example.com/x"), u("https://social.example.com/x")))
	require.NoError(t, sameSite(u("http://a.sim.example/x"), u("https://a.sim.example/x")))
	require.ErrorIs(t, sameSite(u("https://example.com/x"), u("https://other.example/x")), errOffsite)
	require.ErrorIs(t, sameSite(u("https://example.com/x"), u("https://127.0.0.2/x")), errOffsite)
}
