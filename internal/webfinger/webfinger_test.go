package webfinger

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseAccount(t *testing.T) {
	tests := []struct {
		in   string
		want Account
		err  bool
	}{
		{in: "alice@social.example", want: Account{"alice", "social.example"}},
		{in: "@alice@social.example", want: Account{"alice", "social.example"}},
		{in: "acct:alice@social.example", want: Account{"alice", "social.example"}},
		{in: "ACCT:Alice@Social.Example.", want: Account{"Alice", "social.example"}},
		{in: "  bob@xn--bcher-kva.example ", want: Account{"bob", "xn--bcher-kva.example"}},
		{in: "bob@bücher.example", want: Account{"bob", "xn--bcher-kva.example"}},
		{in: "carol@social.example:8443", want: Account{"carol", "social.example:8443"}},
		{in: "alice", err: true},
		{in: "@social.example", err: true},
		{in: "alice@", err: true},
		{in: "a b@social.example", err: true},
		{in: "a/b@social.example", err: true},
		{in: "alice@bob@social.example", err: true},
		{in: "alice@bad host", err: true},
		{in: "alice@127.0.0.1", err: true},
		{in: "alice@localhost", err: true},
		{in: "al\x00ice@social.example", err: true},
		{in: strings.Repeat("a", 300) + "@social.example", err: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseAccount(tc.in)
			if tc.err {
				require.ErrorIs(t, err, ErrInvalidAccount)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
			require.Equal(t, "acct:"+tc.want.User+"@"+tc.want.Host, got.URI())
		})
	}
}

func TestParseDocument(t *testing.T) {
	tests := []struct {
		name, ct, body string
		want           Result
		err            error
	}{
		{
			name: "mastodon",
			ct:   "application/jrd+json; charset=utf-8",
			body: `{"subject":"acct:0x0@cortex.example","aliases":["https://cortex.example/@0x0","https://cortex.example/users/0x0"],"links":[{"rel":"http://webfinger.net/rel/profile-page","type":"text/html","href":"https://cortex.example/@0x0"},{"rel":"self","type":"application/activity+json","href":"https://cortex.example/users/0x0"},{"rel":"http://ostatus.org/schema/1.0/subscribe","template":"https://cortex.example/authorize_interaction?uri={uri}"}]}`,
			want: Result{Subject: "acct:0x0@cortex.example", Actor: "https://cortex.example/users/0x0", ProfileURL: "https://cortex.example/@0x0",
				Aliases: []string{"https://cortex.example/@0x0", "https://cortex.example/users/0x0"}},
		},
		{
			name: "lemmy: application/json, template null, type null, properties",
			ct:   "application/json",
			body: `{"subject":"acct:pfefferle@lemmy.example","links":[{"rel":"http://webfinger.net/rel/profile-page","type":"text/html","href":"https://lemmy.example/u/pfefferle","template":null},{"rel":"self","type":"application/activity+json","href":"https://lemmy.example/u/pfefferle","template":null,"properties":{"https://www.w3.org/ns/activitystreams#type":"Person"}},{"rel":"http://ostatus.org/schema/1.0/subscribe","type":null,"href":null,"template":"https://lemmy.example/activitypub/externalInteraction?uri={uri}"}]}`,
			want: Result{Subject: "acct:pfefferle@lemmy.example", Actor: "https://lemmy.example/u/pfefferle", ProfileURL: "https://lemmy.example/u/pfefferle"},
		},
		{
			name: "wordpress: escaped slashes, mailto alias, several profile pages",
			ct:   "application/jrd+json; charset=UTF-8",
			body: `{"subject":"acct:pfefferle@notiz.example","aliases":["acct:pfefferle@notiz.example","https:\/\/notiz.example\/author\/matthias-pfefferle\/","mailto:pfefferle@notiz.example"],"links":[{"rel":"http:\/\/webfinger.net\/rel\/profile-page","href":"https:\/\/notiz.example\/author\/matthias-pfefferle\/","type":"text\/html"},{"rel":"http:\/\/webfinger.net\/rel\/avatar","href":"https:\/\/secure.gravatar.example\/avatar\/75512"},{"rel":"http:\/\/webfinger.net\/rel\/profile-page","href":"https:\/\/pfefferle.example\/","type":"text\/html"},{"rel":"payment","href":"https:\/\/liberapay.example\/pfefferle\/"},{"rel":"self","type":"application\/activity+json","href":"https:\/\/notiz.example\/author\/matthias-pfefferle\/"}]}`,
			want: Result{Subject: "acct:pfefferle@notiz.example", Actor: "https://notiz.example/author/matthias-pfefferle/", ProfileURL: "https://notiz.example/author/matthias-pfefferle/",
				Aliases: []string{"acct:pfefferle@notiz.example", "https://notiz.example/author/matthias-pfefferle/", "mailto:pfefferle@notiz.example"}},
		},
		{
			name: "ld+json with the activitystreams profile, no content type",
			body: `{"subject":"acct:a@x.example","links":[{"rel":"self","type":"application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"","href":"https://x.example/a"}]}`,
			want: Result{Subject: "acct:a@x.example", Actor: "https://x.example/a"},
		},
		{
			name: "self links of other types are not the actor; the first usable one wins",
			ct:   "application/jrd+json",
			body: `{"subject":"acct:a@x.example","links":[{"rel":"self","type":"text/html","href":"https://x.example/@a"},{"rel":"self","type":"application/ld+json","href":"https://x.example/ld"},{"rel":"self","type":"application/activity+json","href":"javascript:alert(1)"},{"rel":"self","type":"application/activity+json; charset=utf-8","href":"https://x.example/users/a"},{"rel":"self","type":"application/activity+json","href":"https://x.example/second"}]}`,
			want: Result{Subject: "acct:a@x.example", Actor: "https://x.example/users/a"},
		},
		{
			name: "links as one object, aliases as one string, BOM",
			ct:   "application/json; charset=utf-8",
			body: "\ufeff" + `{"subject":"acct:a@x.example","aliases":"https://x.example/a","links":{"rel":"self","type":"application/activity+json","href":"https://x.example/a"}}`,
			want: Result{Subject: "acct:a@x.example", Actor: "https://x.example/a", Aliases: []string{"https://x.example/a"}},
		},
		{
			name: "no subject: filled in by the caller",
			ct:   "application/jrd+json",
			body: `{"links":[{"rel":"self","type":"application/activity+json","href":"https://x.example/a"}]}`,
			want: Result{Actor: "https://x.example/a"},
		},
		{
			name: "no actor (a diaspora account)",
			ct:   "application/jrd+json",
			body: `{"subject":"acct:d@pod.example","links":[{"rel":"http://microformats.org/profile/hcard","type":"text/html","href":"https://pod.example/hcard/users/1"}]}`,
			want: Result{Subject: "acct:d@pod.example"},
		},
		{
			name: "XRD account document (GNU social)",
			ct:   "application/xrd+xml; charset=utf-8",
			body: `<?xml version="1.0" encoding="UTF-8"?><XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0"><Subject>acct:w@gs.example</Subject><Alias>https://gs.example/user/1</Alias><Link rel="http://webfinger.net/rel/profile-page" type="text/html" href="https://gs.example/w"/><Link rel="self" type="application/activity+json" href="https://gs.example/user/1"/></XRD>`,
			want: Result{Subject: "acct:w@gs.example", Actor: "https://gs.example/user/1", ProfileURL: "https://gs.example/w", Aliases: []string{"https://gs.example/user/1"}},
		},
		{name: "html page", ct: "text/html; charset=utf-8", body: `<!DOCTYPE html><html></html>`, err: ErrMalformed},
		{name: "not json", ct: "application/json", body: `{"subject":`, err: ErrMalformed},
		{name: "json array", ct: "application/json", body: `[]`, err: ErrMalformed},
		{name: "subject of the wrong kind", ct: "application/json", body: `{"subject":"acct:a b@x.example"}`, err: ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseDocument(tc.ct, []byte(tc.body))
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestParseDocumentCapsAliases(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"subject":"acct:a@x.example","aliases":[`)
	for i := range 100 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"https://x.example/` + strings.Repeat("a", i) + `"`)
	}
	b.WriteString(`,"https://x.example/` + strings.Repeat("b", 5000) + `"]}`)
	got, err := ParseDocument("application/jrd+json", []byte(b.String()))
	require.NoError(t, err)
	require.Len(t, got.Aliases, maxAliases)
}

func TestParseHostMeta(t *testing.T) {
	tests := []struct {
		name, ct, body, want string
	}{
		{
			name: "mastodon (older, with type)",
			ct:   "application/xrd+xml; charset=utf-8",
			body: `<?xml version="1.0"?>
<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">
  <Link rel="lrdd" type="application/xrd+xml" template="https://mastodon.example/.well-known/webfinger?resource={uri}"/>
</XRD>`,
			want: "https://mastodon.example/.well-known/webfinger?resource={uri}",
		},
		{
			name: "gnu social: hm:Host, Title child, http",
			ct:   "application/xrd+xml",
			body: `<?xml version="1.0" encoding="UTF-8"?>
<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0"><hm:Host xmlns:hm="http://host-meta.net/xrd/1.0">gs.example</hm:Host><Link rel="lrdd" template="http://gs.example/main/xrd?uri={uri}"><Title>Resource Descriptor</Title></Link></XRD>`,
			want: "http://gs.example/main/xrd?uri={uri}",
		},
		{
			name: "json lrdd preferred, no namespace, text/plain",
			ct:   "text/plain",
			body: `<XRD><Link rel="lrdd" type="application/xrd+xml" template="https://a.example/xrd?uri={uri}"/><Link rel="lrdd" type="application/jrd+json" template="https://a.example/jrd?uri={uri}"/></XRD>`,
			want: "https://a.example/jrd?uri={uri}",
		},
		{
			name: "delegated to another host, bad templates skipped",
			ct:   "application/xml",
			body: `<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0"><Link rel="lrdd" template="javascript:x({uri})"/><Link rel="lrdd" template="https://wf.example/no-placeholder"/><Link rel="lrdd" template="https://wf.example/{uri}/{other}"/><Link rel="lrdd" template="https://wf.example/.well-known/webfinger?resource={uri}"/></XRD>`,
			want: "https://wf.example/.well-known/webfinger?resource={uri}",
		},
		{
			name: "host-meta.json",
			ct:   "application/json",
			body: `{"links":[{"rel":"lrdd","type":"application/jrd+json","template":"https://j.example/.well-known/webfinger?resource={uri}"}]}`,
			want: "https://j.example/.well-known/webfinger?resource={uri}",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseHostMeta(tc.ct, []byte(tc.body))
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestParseHostMetaRejects(t *testing.T) {
	tests := []struct{ name, body string }{
		{"no lrdd", `<XRD><Link rel="copyright" template="https://a.example/{uri}"/></XRD>`},
		{"html", `<!DOCTYPE html><html><body>hi</body></html>`},
		{"not xml", `hello`},
		{"external entity", `<?xml version="1.0"?><!DOCTYPE XRD [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><XRD><Link rel="lrdd" template="https://a.example/?uri={uri}&amp;x=&xxe;"/></XRD>`},
		{"billion laughs", `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><XRD><Link rel="lrdd" template="https://a.example/{uri}&lol2;"/></XRD>`},
		{"other charset", `<?xml version="1.0" encoding="UTF-7"?><XRD><Link rel="lrdd" template="https://a.example/{uri}"/></XRD>`},
		{"truncated", `<XRD><Link rel="lrdd" template="https://a.example/{uri}"/>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseHostMeta("application/xrd+xml", []byte(tc.body))
			require.ErrorIs(t, err, ErrMalformed)
		})
	}
}

// answer is one canned response of the fake fetcher.
type answer struct {
	status int
	ct     string
	body   string
	err    error
}

// fakeFetcher answers from a table keyed by URL (404 for anything else)
// and records the requests.
type fakeFetcher struct {
	mu       sync.Mutex
	answers  map[string]answer
	requests []string
}

func (f *fakeFetcher) Fetch(_ context.Context, u, accept string, maxBody int64) (int, http.Header, []byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, u)
	if accept == "" || maxBody <= 0 {
		return 0, nil, nil, errors.New("fetcher called without accept or cap")
	}
	a, ok := f.answers[u]
	if !ok {
		return http.StatusNotFound, http.Header{"Content-Type": {"text/html"}}, []byte("<h1>404</h1>"), nil
	}
	if a.err != nil {
		return 0, nil, nil, a.err
	}
	return a.status, http.Header{"Content-Type": {a.ct}}, []byte(a.body), nil
}

func jrdFor(subject, actor string) answer {
	return answer{status: 200, ct: "application/jrd+json; charset=utf-8",
		body: `{"subject":"` + subject + `","links":[{"rel":"self","type":"application/activity+json","href":"` + actor + `"}]}`}
}

func wf(host, acct string) string {
	return "https://" + host + "/.well-known/webfinger?resource=acct%3A" + strings.ReplaceAll(acct, "@", "%40")
}

func hostMeta(host, template string) answer {
	return answer{status: 200, ct: "application/xrd+xml",
		body: `<?xml version="1.0"?><XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0"><Link rel="lrdd" template="` + template + `"/></XRD>`}
}

var errRefusedByRobots = errors.New("disallowed by robots.txt")

func TestLookup(t *testing.T) {
	tests := []struct {
		name     string
		acct     string
		answers  map[string]answer
		want     Result
		err      error
		requests []string
	}{
		{
			name:     "direct",
			acct:     "@alice@a.example",
			answers:  map[string]answer{wf("a.example", "alice@a.example"): jrdFor("acct:alice@a.example", "https://a.example/users/alice")},
			want:     Result{Subject: "acct:alice@a.example", Actor: "https://a.example/users/alice", Host: "a.example"},
			requests: []string{wf("a.example", "alice@a.example")},
		},
		{
			name:     "host is normalised before asking",
			acct:     "acct:alice@A.Example.",
			answers:  map[string]answer{wf("a.example", "alice@a.example"): jrdFor("acct:alice@a.example", "https://a.example/users/alice")},
			want:     Result{Subject: "acct:alice@a.example", Actor: "https://a.example/users/alice", Host: "a.example"},
			requests: []string{wf("a.example", "alice@a.example")},
		},
		{
			name: "subject on another domain is confirmed there",
			acct: "alice@social.b.example",
			answers: map[string]answer{
				wf("social.b.example", "alice@social.b.example"): jrdFor("acct:alice@b.example", "https://social.b.example/users/alice"),
				wf("b.example", "alice@b.example"):               jrdFor("acct:alice@b.example", "https://social.b.example/users/alice"),
			},
			want:     Result{Subject: "acct:alice@b.example", Actor: "https://social.b.example/users/alice", Host: "b.example"},
			requests: []string{wf("social.b.example", "alice@social.b.example"), wf("b.example", "alice@b.example")},
		},
		{
			name: "canonical domain names another actor",
			acct: "alice@c.example",
			answers: map[string]answer{
				wf("c.example", "alice@c.example"):           jrdFor("acct:alice@victim.example", "https://c.example/users/alice"),
				wf("victim.example", "alice@victim.example"): jrdFor("acct:alice@victim.example", "https://victim.example/users/alice"),
			},
			err: ErrMismatch,
		},
		{
			name: "canonical domain does not know the account",
			acct: "alice@c.example",
			answers: map[string]answer{
				wf("c.example", "alice@c.example"): jrdFor("acct:alice@victim.example", "https://c.example/users/alice"),
			},
			err: ErrMismatch,
		},
		{
			name: "at most one hop",
			acct: "alice@d.example",
			answers: map[string]answer{
				wf("d.example", "alice@d.example"): jrdFor("acct:alice@e.example", "https://d.example/users/alice"),
				wf("e.example", "alice@e.example"): jrdFor("acct:alice@f.example", "https://d.example/users/alice"),
				wf("f.example", "alice@f.example"): jrdFor("acct:alice@f.example", "https://d.example/users/alice"),
			},
			err:      ErrMismatch,
			requests: []string{wf("d.example", "alice@d.example"), wf("e.example", "alice@e.example")},
		},
		{
			name: "webfinger 404, host-meta delegates to another host",
			acct: "bob@g.example",
			answers: map[string]answer{
				"https://g.example/.well-known/host-meta":                 hostMeta("g.example", "https://wf.g.example/wf?resource={uri}"),
				"https://wf.g.example/wf?resource=acct%3Abob%40g.example": jrdFor("acct:bob@g.example", "https://wf.g.example/users/bob"),
			},
			want: Result{Subject: "acct:bob@g.example", Actor: "https://wf.g.example/users/bob", Host: "g.example"},
			requests: []string{wf("g.example", "bob@g.example"), "https://g.example/.well-known/host-meta",
				"https://wf.g.example/wf?resource=acct%3Abob%40g.example"},
		},
		{
			name: "webfinger redirects: host-meta decides",
			acct: "bob@h.example",
			answers: map[string]answer{
				wf("h.example", "bob@h.example"):          {status: 301, ct: "text/html", body: "moved"},
				"https://h.example/.well-known/host-meta": hostMeta("h.example", "https://social.h.example/.well-known/webfinger?resource={uri}"),
				wf("social.h.example", "bob@h.example"):   jrdFor("acct:bob@h.example", "https://social.h.example/users/bob"),
			},
			want: Result{Subject: "acct:bob@h.example", Actor: "https://social.h.example/users/bob", Host: "h.example"},
		},
		{
			name:     "webfinger and host-meta 404",
			acct:     "nobody@i.example",
			err:      ErrNotFound,
			requests: []string{wf("i.example", "nobody@i.example"), "https://i.example/.well-known/host-meta"},
		},
		{
			name: "host-meta points back where we asked",
			acct: "nobody@j.example",
			answers: map[string]answer{
				"https://j.example/.well-known/host-meta": hostMeta("j.example", "https://j.example/.well-known/webfinger?resource={uri}"),
			},
			err:      ErrNotFound,
			requests: []string{wf("j.example", "nobody@j.example"), "https://j.example/.well-known/host-meta"},
		},
		{
			name:    "400 (GoToSocial: not our host) is not found",
			acct:    "x@k.example",
			answers: map[string]answer{wf("k.example", "x@k.example"): {status: 400, ct: "application/json", body: `{"error":"Bad Request"}`}},
			err:     ErrNotFound,
		},
		{
			name:     "server error: no fallback",
			acct:     "x@l.example",
			answers:  map[string]answer{wf("l.example", "x@l.example"): {status: 503, ct: "text/html", body: "down"}},
			requests: []string{wf("l.example", "x@l.example")},
		},
		{
			name:     "fetcher refusal passes through",
			acct:     "x@m.example",
			answers:  map[string]answer{wf("m.example", "x@m.example"): {err: errRefusedByRobots}},
			err:      errRefusedByRobots,
			requests: []string{wf("m.example", "x@m.example")},
		},
		{
			name:    "html instead of a document",
			acct:    "x@n.example",
			answers: map[string]answer{wf("n.example", "x@n.example"): {status: 200, ct: "text/html", body: "<html></html>"}},
			err:     ErrMalformed,
		},
		{
			name:     "invalid account: nothing is fetched",
			acct:     "x@127.0.0.1",
			err:      ErrInvalidAccount,
			requests: []string{},
		},
		{
			name:    "missing subject means the resource asked for",
			acct:    "o@o.example",
			answers: map[string]answer{wf("o.example", "o@o.example"): {status: 200, ct: "application/json", body: `{"links":[{"rel":"self","type":"application/activity+json","href":"https://o.example/o"}]}`}},
			want:    Result{Subject: "acct:o@o.example", Actor: "https://o.example/o", Host: "o.example"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeFetcher{answers: tc.answers}
			got, err := New(f, Options{}).Lookup(context.Background(), tc.acct)
			if tc.requests != nil {
				require.Equal(t, tc.requests, append([]string{}, f.requests...))
			}
			switch {
			case tc.err != nil:
				require.ErrorIs(t, err, tc.err)
				return
			case tc.name == "server error: no fallback":
				var se *StatusError
				require.ErrorAs(t, err, &se)
				require.Equal(t, 503, se.Status)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}
