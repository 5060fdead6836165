package crawler

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/fedisim"
	"github.com/fedilens/fedilens/internal/fedisim/simtest"
	"github.com/fedilens/fedilens/internal/httpclient"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/sanitize"
	"github.com/fedilens/fedilens/internal/webfinger"
)

// docFields are the instance document fields of a snapshot.
type docFields struct {
	Title, InstanceTitle, Description string
	Languages, Rules                  []string
	ContactEmail, ContactAccount      string
	RegistrationMode                  string
}

func fieldsOf(s model.Snapshot) docFields {
	return docFields{s.Title, s.InstanceTitle, s.Description, s.Languages, s.Rules, s.ContactEmail, s.ContactAccount, s.RegistrationMode}
}

func TestParseInstanceDocs(t *testing.T) {
	tests := []struct {
		name  string
		parse func([]byte) (instanceInfo, error)
		body  string
		title string // NodeInfo's name, before the document
		want  docFields
		err   bool
	}{
		{
			name:  "mastodon v2 (mastodon.social shape)",
			parse: parseMastodonV2,
			body: `{"domain":"social.example","title":"Mastodon","version":"4.7.0-alpha.2","description":"The original server of Mastodon, operated by Mastodon GmbH for the common good.\r\n\r\n","usage":{"users":{"active_month":269307}},"languages":["en"],"registrations":{"enabled":true,"approval_required":false,"reason_required":false,"message":null,"min_age":16,"url":null},"contact":{"email":"staff@social.example","account":{"id":"13179","username":"Mastodon","acct":"Mastodon","display_name":"Mastodon"}},` +
				`"rules":[{"id":"1","text":"Sexually explicit or violent media must be marked as sensitive","hint":"This includes content that is particularly provocative","translations":{"de":{"text":"Sexuell explizite Darstellungen","hint":"x"}}},{"id":"2","text":"No racism, sexism, homophobia, transphobia, ableism, xenophobia, or casteism.","hint":""}]}`,
			title: "Mastodon",
			want: docFields{Title: "Mastodon", InstanceTitle: "Mastodon", Description: "The original server of Mastodon, operated by Mastodon GmbH for the common good.",
				Languages:    []string{"en"},
				Rules:        []string{"Sexually explicit or violent media must be marked as sensitive", "No racism, sexism, homophobia, transphobia, ableism, xenophobia, or casteism."},
				ContactEmail: "staff@social.example", ContactAccount: "mastodon@social.example", RegistrationMode: "open"},
		},
		{
			name:  "mastodon v2 dev instance: empty strings, null account, approval",
			parse: parseMastodonV2,
			body:  `{"domain":"localhost:3000","title":"Mastodon","description":"","languages":["en"],"registrations":{"enabled":true,"approval_required":true},"contact":{"email":"","account":null},"rules":[]}`,
			want:  docFields{Title: "Mastodon", InstanceTitle: "Mastodon", Languages: []string{"en"}, RegistrationMode: "approval"},
		},
		{
			name:  "mastodon v1 (4.x shape): summary in short_description",
			parse: parseMastodonV1,
			body:  `{"uri":"social.example","title":"Mastodon","short_description":"The original server.\r\n\r\n","description":"","email":"staff@social.example","version":"4.7.0","languages":["en"],"registrations":true,"approval_required":false,"invites_enabled":true,"contact_account":{"id":"13179","username":"Mastodon","acct":"Mastodon"},"rules":[{"id":"1","text":"Be nice."}]}`,
			want: docFields{Title: "Mastodon", InstanceTitle: "Mastodon", Description: "The original server.", Languages: []string{"en"}, Rules: []string{"Be nice."},
				ContactEmail: "staff@social.example", ContactAccount: "mastodon@social.example", RegistrationMode: "open"},
		},
		{
			name:  "mastodon 3 v1: HTML description when the summary is empty",
			parse: parseMastodonV1,
			body:  `{"title":"Old","short_description":"<p></p>","description":"<p>We are <b>old</b>.</p><script>alert(1)</script><p>Second &amp; last</p>","email":"mailto:Admin@Old.Example","languages":["de-DE","DE","x-klingon","und","zh_Hant"],"registrations":false}`,
			title: "Old NodeInfo",
			want: docFields{Title: "Old NodeInfo", InstanceTitle: "Old", Description: "We are old.\n\nSecond & last", Languages: []string{"de", "zh"},
				ContactEmail: "Admin@Old.Example", RegistrationMode: "closed"},
		},
		{
			name:  "gotosocial v1: approval required, no rules, default title",
			parse: parseMastodonV1,
			body:  `{"uri":"gts.example","account_domain":"gts.example","title":"gts.example","description":"","short_description":"","email":"","version":"0.17.4","languages":[],"registrations":true,"approval_required":true,"rules":[]}`,
			want:  docFields{Title: "gts.example", InstanceTitle: "gts.example", RegistrationMode: "approval"},
		},
		{
			name:  "pleroma v1 with a remote contact account",
			parse: parseMastodonV1,
			body:  `{"uri":"p.example","title":"P","short_description":"Short","description":"Short","email":"admin@p.example","languages":["en"],"registrations":true,"approval_required":false,"contact_account":{"acct":"Boss@Other.Example"},"pleroma":{"metadata":{"private":true}}}`,
			want: docFields{Title: "P", InstanceTitle: "P", Description: "Short", Languages: []string{"en"}, ContactEmail: "admin@p.example",
				ContactAccount: "boss@other.example", RegistrationMode: "open"},
		},
		{
			name:  "hostile v1: wrong types, junk account and email, HTML title",
			parse: parseMastodonV1,
			body:  `{"title":{"x":1},"short_description":42,"email":"not an email","languages":"en","rules":["<b>Rule</b> one","",{"text":7},{"text":"  "}],"registrations":"TRUE","approval_required":"false","contact_account":{"acct":"a b/c"}}`,
			title: `<script>alert("x")</script>`,
			want:  docFields{Description: "42", Rules: []string{"Rule one", "7"}, RegistrationMode: "open"},
		},
		{
			name:  "misskey meta (captured shape)",
			parse: parseMisskeyMeta,
			body:  `{"maintainerName":"efertone","maintainerEmail":"admin@slippy.example","version":"12.49.0","name":"Slippy","uri":"https://slippy.example","description":"<p> 👉 Explicit content allowed, but only with CW.</p>\n<p>\nAvailable addressed:<br>\n 👉 Clear web: https://slippy.example/<br />\n</p>","langs":[],"disableRegistration":false}`,
			want: docFields{Title: "Slippy", InstanceTitle: "Slippy", Description: "👉 Explicit content allowed, but only with CW.\n\nAvailable addressed:\n\n👉 Clear web: https://slippy.example/",
				ContactEmail: "admin@slippy.example", RegistrationMode: "open"},
		},
		{
			name:  "misskey meta: null name, rules, langs, registration closed",
			parse: parseMisskeyMeta,
			body:  `{"maintainerEmail":null,"name":null,"description":null,"langs":["ja","en-US"],"serverRules":["No spam","<i>Be kind</i>"],"disableRegistration":true}`,
			want:  docFields{Languages: []string{"ja", "en"}, Rules: []string{"No spam", "Be kind"}, RegistrationMode: "closed"},
		},
		{
			name:  "sharkey: approval; newer misskey: features.registration only",
			parse: parseMisskeyMeta,
			body:  `{"name":"Shark","disableRegistration":false,"approvalRequiredForSignup":true}`,
			want:  docFields{Title: "Shark", InstanceTitle: "Shark", RegistrationMode: "approval"},
		},
		{
			name:  "misskey features.registration",
			parse: parseMisskeyMeta,
			body:  `{"name":"M","features":{"registration":false}}`,
			want:  docFields{Title: "M", InstanceTitle: "M", RegistrationMode: "closed"},
		},
		{
			name:  "lemmy 0.19 site",
			parse: parseLemmySite,
			body:  `{"site_view":{"site":{"id":1,"name":"Lemmy World","sidebar":"Long **markdown**","description":"A lemmy instance","actor_id":"https://lemmy.example/"},"local_site":{"registration_mode":"RequireApplication"}},"admins":[{"person":{"name":"remote","local":false}},{"person":{"name":"Ruud","local":true}}],"all_languages":[{"id":0,"code":"und","name":"Undetermined"},{"id":37,"code":"en","name":"English"},{"id":38,"code":"eo"}],"discussion_languages":[0,37,99]}`,
			want: docFields{Title: "Lemmy World", InstanceTitle: "Lemmy World", Description: "A lemmy instance", Languages: []string{"en"},
				ContactAccount: "ruud@lemmy.example", RegistrationMode: "approval"},
		},
		{
			name:  "lemmy: sidebar when no description, closed",
			parse: parseLemmySite,
			body:  `{"site_view":{"site":{"name":"L","sidebar":"Rules:\n1. be nice","description":null},"local_site":{"registration_mode":"Closed"}},"admins":[]}`,
			want:  docFields{Title: "L", InstanceTitle: "L", Description: "Rules:\n1. be nice", RegistrationMode: "closed"},
		},
		{
			name:  "lemmy 0.16: open_registration on the site",
			parse: parseLemmySite,
			body:  `{"site_view":{"site":{"name":"Old L","open_registration":true}}}`,
			want:  docFields{Title: "Old L", InstanceTitle: "Old L", RegistrationMode: "open"},
		},
		{
			name:  "lemmy without site_view",
			parse: parseLemmySite,
			body:  `{"error":"not_found"}`,
			err:   true,
		},
		{
			name:  "peertube config",
			parse: parsePeerTubeConfig,
			body:  `{"instance":{"name":"Tube","shortDescription":"Videos & more","isNSFW":false},"signup":{"allowed":true,"allowedForCurrentIP":true,"requiresApproval":true,"minimumAge":16},"serverVersion":"7.1.0"}`,
			want:  docFields{Title: "Tube", InstanceTitle: "Tube", Description: "Videos & more", RegistrationMode: "approval"},
		},
		{name: "not an object", parse: parseMastodonV2, body: `["x"]`, err: true},
		{name: "not json", parse: parseMisskeyMeta, body: `<html>`, err: true},
		{name: "truncated", parse: parsePeerTubeConfig, body: `{"instance":{"name":"T"`, err: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info, err := tc.parse([]byte(tc.body))
			if tc.err {
				require.ErrorIs(t, err, errMalformed)
				return
			}
			require.NoError(t, err)
			snap := model.Snapshot{Title: sanitize.PlainLine(tc.title, 200)}
			host := "social.example"
			if strings.Contains(tc.body, "lemmy.example") {
				host = "lemmy.example"
			}
			info.apply(&snap, host)
			require.Equal(t, tc.want, fieldsOf(snap))
		})
	}
}

func TestInstanceDocCaps(t *testing.T) {
	var rules, langs []string
	for i := range 200 {
		rules = append(rules, strings.Repeat("r", 2000)+string(rune('a'+i%26)))
		langs = append(langs, string([]rune{rune('a' + i/26%26), rune('a' + i%26)}))
	}
	info := instanceInfo{title: strings.Repeat("T", 500), description: strings.Repeat("ü", 20000), rules: rules, languages: langs,
		email: strings.Repeat("a", 250) + "@x.example", account: strings.Repeat("u", 300)}
	var snap model.Snapshot
	info.apply(&snap, "x.example")
	require.Len(t, []rune(snap.InstanceTitle), MaxInstanceTitleRunes)
	require.Equal(t, snap.InstanceTitle, snap.Title)
	require.Len(t, []rune(snap.Description), MaxDescriptionRunes)
	require.Len(t, snap.Rules, MaxRules)
	require.Len(t, []rune(snap.Rules[0]), MaxRuleRunes)
	require.Len(t, snap.Languages, MaxLanguages)
	require.Empty(t, snap.ContactEmail)
	require.Empty(t, snap.ContactAccount)
}

func TestHasInstanceV2(t *testing.T) {
	for _, tc := range []struct {
		sw, v string
		want  bool
	}{
		{"mastodon", "4.0.0rc2", true}, {"mastodon", "4.5.2+glitch", true}, {"mastodon", "3.5.19", false},
		{"mastodon", "10.0.0", true}, {"mastodon", "", false}, {"hometown", "4.2.10+hometown-1.1.1", true},
		{"gotosocial", "0.17.4", true}, {"pleroma", "2.7.0", false}, {"akkoma", "3.15.2", false}, {"snac", "2.94", false},
	} {
		require.Equal(t, tc.want, hasInstanceV2(tc.sw, tc.v), "%s %s", tc.sw, tc.v)
	}
}

// docSink keeps the visits of a crawl.
type docSink struct {
	mu     sync.Mutex
	visits map[string]model.Visit
}

func (s *docSink) AddVisit(_ context.Context, v model.Visit) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.visits[v.State.Host] = v
	return nil
}

func (s *docSink) AddHostState(context.Context, model.HostState) error { return nil }

// docSimManager returns a Manager crawling a running simulator.
func docSimManager(t *testing.T, sim *fedisim.Sim, sink Sink) *Manager {
	t.Helper()
	var seeds []Seed
	for _, s := range sim.Seeds() {
		seeds = append(seeds, Seed{Scheme: "https", Host: s})
	}
	m, err := New(Options{Client: simtest.Serve(t, sim), Seeds: seeds, HostDelay: -1, ProgressEvery: -1}, sink, nil, nil, nil)
	require.NoError(t, err)
	return m
}

// wantDocFields is what the crawler must store for a census instance: the
// served document, sanitised, when rule 6 (fedisim.InstanceDoc) lets it be
// read, and nothing otherwise; NodeInfo's name, else the document's.
func wantDocFields(it fedisim.InstanceTruth, doc fedisim.InstanceDoc) docFields {
	want := docFields{Title: sanitize.PlainLine(it.Title, 200)}
	if doc.Path == "" {
		return want
	}
	want.InstanceTitle = sanitize.PlainLine(it.InstanceTitle, MaxInstanceTitleRunes)
	want.Description = sanitize.Text(doc.Description)
	want.Languages = doc.Languages
	for _, r := range doc.Rules {
		want.Rules = append(want.Rules, sanitize.PlainLine(r, MaxRuleRunes))
	}
	want.ContactEmail, want.ContactAccount, want.RegistrationMode = doc.ContactEmail, doc.ContactAccount, doc.RegistrationMode
	if want.Title == "" {
		want.Title = want.InstanceTitle
	}
	return want
}

// TestInstanceDocsFromSimulator crawls a simulated fediverse and compares
// every stored instance's document fields with what the simulator serves
// and its robots.txt allows. Hostile behaviours are off to keep it fast
// (rate limits cost seconds); the end-to-end test in cmd/fedilens compares
// the same with them on.
func TestInstanceDocsFromSimulator(t *testing.T) {
	sim := fedisim.New(fedisim.Options{Seed: 11, Instances: 150, NoHostile: true})
	sink := &docSink{visits: map[string]model.Visit{}}
	m := docSimManager(t, sim, sink)
	_, err := m.RunOnce(context.Background())
	require.NoError(t, err)

	census := sim.Truth().Census(sim.Seeds())
	require.Greater(t, len(census), 60)
	paths := map[string]int{}
	var fallbacks int
	for _, it := range census {
		v, ok := sink.visits[it.Host]
		require.True(t, ok, it.Host)
		require.NotNil(t, v.Snapshot, it.Host)
		require.Equal(t, model.StatusOK, v.State.Status, "%s: %s", it.Host, v.State.Reason)
		doc, ok := sim.InstanceDoc(it.Host)
		require.True(t, ok)
		if doc.Path != "" {
			require.Equal(t, it.InstanceTitle, doc.Title, it.Host)
		}
		require.Equal(t, wantDocFields(it, doc), fieldsOf(*v.Snapshot), "%s (%s %s, document %q)", it.Host, it.Software, it.Version, doc.Path)
		paths[doc.Path]++
		if it.Title == "" && doc.Path != "" && it.InstanceTitle != "" {
			fallbacks++
		}
	}
	for _, p := range []string{"/api/v2/instance", "/api/v1/instance", "/api/meta", "/api/v3/site", "/api/v1/config", ""} {
		require.Positive(t, paths[p], "no census instance reads %q: %v", p, paths)
	}
	require.Positive(t, fallbacks, "no instance's title came from its instance document")

	// Politeness: no document was fetched that robots.txt disallows, and
	// only the documents of rule 6 were fetched.
	for _, r := range sim.Requests() {
		if r.Path == "/api/v2/instance" || r.Path == "/api/v1/instance" || r.Path == "/api/meta" || r.Path == "/api/v3/site" || r.Path == "/api/v1/config" {
			it, ok := sim.Truth().Instance(r.Host)
			require.True(t, ok)
			require.True(t, it.Allows(r.Path), "%s %s fetched against robots.txt", r.Host, r.Path)
			doc, _ := sim.InstanceDoc(r.Host)
			require.Equal(t, doc.Path, r.Path, "%s: unexpected document request", r.Host)
		}
	}
}

// TestResolveAccountSimulator resolves accounts of the simulator through
// the crawler's polite path.
func TestResolveAccountSimulator(t *testing.T) {
	sim := fedisim.New(fedisim.Options{Seed: 5, Instances: 200, NoHostile: true})
	m := docSimManager(t, sim, &docSink{visits: map[string]model.Visit{}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	seen := map[string]bool{}
	for _, it := range sim.Truth().Instances {
		if len(it.Accounts) == 0 || seen[it.Software] {
			continue
		}
		seen[it.Software] = true
		a := it.Accounts[0]
		res, err := m.ResolveAccount(ctx, "@"+a.Acct)
		if !it.Allows("/.well-known/webfinger") {
			require.ErrorIs(t, err, ErrRobotsDisallowed, "%s (%s)", it.Host, it.Software)
			continue
		}
		require.NoError(t, err, "%s (%s)", it.Host, it.Software)
		require.Equal(t, webfinger.Result{Subject: "acct:" + a.Acct, Actor: a.URI, ProfileURL: res.ProfileURL,
			Aliases: res.Aliases, Host: it.Host}, res)
		_, err = m.ResolveAccount(ctx, "nobody-here@"+it.Host)
		require.ErrorIs(t, err, webfinger.ErrNotFound)
	}
	require.True(t, seen["gotosocial"] && seen["mastodon"] && seen["misskey"])
	_, err := m.ResolveAccount(ctx, "x@127.0.0.1")
	require.ErrorIs(t, err, webfinger.ErrInvalidAccount)

	// Every request went through the gate: robots.txt once per host,
	// before anything else.
	first := map[string]string{}
	robots := map[string]int{}
	for _, r := range sim.Requests() {
		if _, ok := first[r.Host]; !ok {
			first[r.Host] = r.Path
		}
		if r.Path == "/robots.txt" {
			robots[r.Host]++
		}
	}
	for h, p := range first {
		require.Equal(t, "/robots.txt", p, h)
		require.Equal(t, 1, robots[h], h)
	}
}

// docServer answers instance document requests per host and records them.
type docServer struct {
	mu   sync.Mutex
	reqs []string
}

func (d *docServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host, _, _ := strings.Cut(r.Host, ":")
	d.mu.Lock()
	d.reqs = append(d.reqs, r.Method+" "+host+r.URL.Path)
	d.mu.Unlock()
	v1 := `{"title":"From v1","registrations":true}`
	v2 := `{"title":"From v2","registrations":{"enabled":false}}`
	switch host + r.URL.Path {
	case "robotsv2.example/robots.txt":
		_, _ = w.Write([]byte("User-agent: *\nDisallow: /api/v2/\n"))
	case "gone.example/api/v1/instance", "robotsv2.example/api/v1/instance", "locked.example/api/v1/instance":
		_, _ = w.Write([]byte(v1))
	case "gone.example/api/v2/instance":
		http.NotFound(w, r)
	case "locked.example/api/v2/instance":
		http.Error(w, `{"error":"This method requires an authenticated user"}`, http.StatusUnauthorized)
	case "noindex.example/api/v2/instance":
		w.Header().Set("X-Robots-Tag", "noindex, nofollow")
		_, _ = w.Write([]byte(v2))
	case "broken.example/api/v2/instance":
		http.Error(w, "oops", http.StatusInternalServerError)
	case "html.example/api/v2/instance":
		_, _ = w.Write([]byte("<!DOCTYPE html><html></html>"))
	case "ok.example/api/v2/instance":
		_, _ = w.Write([]byte(v2))
	case "misskey.example/api/meta":
		body := make([]byte, 10)
		n, _ := r.Body.Read(body)
		if r.Method != http.MethodPost || string(body[:n]) != "{}" || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		_, _ = w.Write([]byte(`{"name":"Key","disableRegistration":false}`))
	case "big.example/api/v3/site":
		_, _ = w.Write([]byte(`{"site_view":{"site":{"name":"` + strings.Repeat("x", maxInstanceDocBody) + `"}}}`))
	default:
		http.NotFound(w, r)
	}
}

// TestInstanceDocRequests: which documents are asked for, and how
// refusals, failures and fallbacks end.
func TestInstanceDocRequests(t *testing.T) {
	tests := []struct {
		host, software string
		want           docFields
		err            bool
		reqs           []string
	}{
		{host: "ok.example", software: "mastodon", want: docFields{Title: "From v2", InstanceTitle: "From v2", RegistrationMode: "closed"},
			reqs: []string{"GET ok.example/robots.txt", "GET ok.example/api/v2/instance"}},
		{host: "gone.example", software: "mastodon", want: docFields{Title: "From v1", InstanceTitle: "From v1", RegistrationMode: "open"},
			reqs: []string{"GET gone.example/robots.txt", "GET gone.example/api/v2/instance", "GET gone.example/api/v1/instance"}},
		{host: "robotsv2.example", software: "mastodon", want: docFields{Title: "From v1", InstanceTitle: "From v1", RegistrationMode: "open"},
			reqs: []string{"GET robotsv2.example/robots.txt", "GET robotsv2.example/api/v1/instance"}},
		{host: "locked.example", software: "mastodon", reqs: []string{"GET locked.example/robots.txt", "GET locked.example/api/v2/instance"}},
		{host: "noindex.example", software: "gotosocial", reqs: []string{"GET noindex.example/robots.txt", "GET noindex.example/api/v2/instance"}},
		{host: "broken.example", software: "mastodon", err: true, reqs: []string{"GET broken.example/robots.txt", "GET broken.example/api/v2/instance"}},
		{host: "html.example", software: "mastodon", err: true},
		{host: "big.example", software: "lemmy", err: true},
		{host: "misskey.example", software: "sharkey", want: docFields{Title: "Key", InstanceTitle: "Key", RegistrationMode: "open"},
			reqs: []string{"GET misskey.example/robots.txt", "POST misskey.example/api/meta"}},
		{host: "pleroma.example", software: "pleroma", reqs: []string{"GET pleroma.example/robots.txt", "GET pleroma.example/api/v1/instance"}},
		{host: "blog.example", software: "writefreely", reqs: []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.host, func(t *testing.T) {
			ds := &docServer{}
			srv := httptest.NewServer(ds)
			t.Cleanup(srv.Close)
			client, err := httpclient.New(httpclient.Options{
				AllowNets: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
				Resolve:   map[string]string{"*": strings.TrimPrefix(srv.URL, "http://")},
			})
			require.NoError(t, err)
			m, err := New(Options{Client: client.HTTPClient(), HostDelay: -1, ProgressEvery: -1}, &docSink{}, nil, nil, nil)
			require.NoError(t, err)
			hc, release := m.newHostCrawl(tc.host, "http")
			defer release()
			snap := model.Snapshot{Host: tc.host, Software: tc.software, Version: "4.5.0"}
			err = hc.readInstanceDoc(context.Background(), &snap)
			if tc.err {
				require.Error(t, err)
			} else {
				require.NoError(t, err)
			}
			require.Equal(t, tc.want, fieldsOf(snap))
			if tc.reqs != nil {
				require.Equal(t, tc.reqs, append([]string{}, ds.reqs...))
			}
		})
	}
}

// docDenyPolicy refuses the hosts it lists.
type docDenyPolicy map[string]bool

func (p docDenyPolicy) Allowed(host string) (bool, string) { return !p[host], "opted out" }

// TestResolveAccountGates: a look-up that crosses to the canonical domain
// reads each host's robots.txt first, and a host the policy refuses gets
// no request at all.
func TestResolveAccountGates(t *testing.T) {
	var (
		mu   sync.Mutex
		reqs []string
	)
	jrd := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/jrd+json; charset=utf-8")
		_, _ = w.Write([]byte(`{"subject":"acct:u@canon.example","links":[{"rel":"self","type":"application/activity+json","href":"https://social.canon.example/users/u"}]}`))
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := strings.Cut(r.Host, ":")
		mu.Lock()
		reqs = append(reqs, host+r.URL.Path)
		mu.Unlock()
		switch {
		case r.URL.Path == "/robots.txt":
			_, _ = w.Write([]byte("User-agent: *\nDisallow: /private/\n"))
		case r.URL.Path == "/.well-known/webfinger" && (host == "social.canon.example" || host == "canon.example" || host == "optout.example"):
			jrd(w)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	client, err := httpclient.New(httpclient.Options{
		AllowNets: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		Resolve:   map[string]string{"*": strings.TrimPrefix(srv.URL, "http://")},
	})
	require.NoError(t, err)
	m, err := New(Options{Client: client.HTTPClient(), HostDelay: -1, ProgressEvery: -1,
		Policy: docDenyPolicy{"optout.example": true}}, &docSink{}, nil, nil, nil)
	require.NoError(t, err)
	// The resolver speaks https; this test server speaks http, so the
	// look-ups go through a resolver with that scheme over the same gates.
	r := webfinger.New(gateFetcher{m}, webfinger.Options{Scheme: "http"})

	res, err := r.Lookup(context.Background(), "u@social.canon.example")
	require.NoError(t, err)
	require.Equal(t, "canon.example", res.Host)
	require.Equal(t, []string{"social.canon.example/robots.txt", "social.canon.example/.well-known/webfinger",
		"canon.example/robots.txt", "canon.example/.well-known/webfinger"}, reqs)

	reqs = nil
	_, err = r.Lookup(context.Background(), "u@optout.example")
	require.ErrorIs(t, err, ErrHostRefused)
	_, err = m.ResolveAccount(context.Background(), "u@optout.example")
	require.ErrorIs(t, err, ErrHostRefused)
	require.Empty(t, reqs, "an opted-out host gets no request")
}
