package fedisim

import (
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/model"
)

// postsOpts is the small scaled world of the posts tests.
var postsOpts = Options{Seed: 9, Instances: 300, PostScale: 2}

var (
	postsOnce sync.Once
	postsSim  *Sim
)

// sharedPostsSim is one scaled simulation at epoch 0 for read-only tests.
func sharedPostsSim(t *testing.T) *Sim {
	t.Helper()
	postsOnce.Do(func() {
		postsSim = New(postsOpts)
		postsSim.skipDelays = true
	})
	return postsSim
}

// restStatus is the part of a Mastodon Status the tests read.
type restStatus struct {
	ID               string  `json:"id"`
	URI              string  `json:"uri"`
	Visibility       string  `json:"visibility"`
	InReplyToID      *string `json:"in_reply_to_id"`
	MediaAttachments []struct {
		Description *string `json:"description"`
	} `json:"media_attachments"`
	Poll    *struct{ Options []struct{ Title string } } `json:"poll"`
	Account restAccount                                 `json:"account"`
}

type restAccount struct {
	ID        string `json:"id"`
	Username  string `json:"username"`
	Indexable *bool  `json:"indexable"`
	NoIndex   bool   `json:"noindex"`
	Note      string `json:"note"`
	Fields    []struct {
		Name, Value string
	} `json:"fields"`
}

// consents is rule 4 over a REST Account.
func (a restAccount) consents() bool {
	if a.Indexable == nil || !*a.Indexable || a.NoIndex || HasOptOut(a.Note) {
		return false
	}
	for _, f := range a.Fields {
		if HasOptOut(f.Name) || HasOptOut(f.Value) {
			return false
		}
	}
	return true
}

var linkRE = regexp.MustCompile(`<([^>]+)>; rel="(next|prev)"`)

// links parses a Link header.
func links(h string) map[string]string {
	out := map[string]string{}
	for _, m := range linkRE.FindAllStringSubmatch(h, -1) {
		out[m[2]] = m[1]
	}
	return out
}

// statusPages follows next links from u and returns every status.
func statusPages(t *testing.T, s *Sim, u string) []restStatus {
	t.Helper()
	var all []restStatus
	for pages := 0; u != ""; pages++ {
		require.Less(t, pages, 1000, "runaway paging at %s", u)
		r := get(t, s, u)
		require.Equal(t, http.StatusOK, r.status, "%s: %s", u, r.body)
		var page []restStatus
		decode(t, r.body, &page)
		if len(page) == 0 {
			require.Empty(t, r.header.Get("Link"), "an empty page has no Link header")
			break
		}
		all = append(all, page...)
		u = links(r.header.Get("Link"))["next"]
		require.NotEmpty(t, u)
	}
	return all
}

// listed returns the public and unlisted posts of a, newest first.
func listed(a AccountTruth) []PostTruth {
	var out []PostTruth
	for _, p := range a.Posts {
		if p.Visibility == "public" || p.Visibility == "unlisted" {
			out = append(out, p)
		}
	}
	return out
}

func statusURIs(list []restStatus) []string {
	var out []string
	for _, st := range list {
		out = append(out, st.URI)
	}
	return out
}

func postURIs(list []PostTruth) []string {
	out := make([]string, len(list))
	for i, p := range list {
		out[i] = p.URI
	}
	return out
}

// busyMastodonAccount returns a Mastodon account with more than n listed
// posts on an instance with an open API.
func busyMastodonAccount(t *testing.T, tr *Truth, n int) (InstanceTruth, AccountTruth) {
	t.Helper()
	for _, it := range tr.Instances {
		if it.Software != "mastodon" || it.APIAuthRequired || len(it.Behaviours) > 0 {
			continue
		}
		for _, a := range it.Accounts {
			if len(listed(a)) > n {
				return it, a
			}
		}
	}
	require.FailNow(t, "no busy Mastodon account")
	return InstanceTruth{}, AccountTruth{}
}

func TestAccountStatusesPaging(t *testing.T) {
	s := sharedPostsSim(t)
	it, a := busyMastodonAccount(t, s.Truth(), 12)
	want := listed(a)
	base := "https://" + it.Host + "/api/v1/accounts/" + a.ID + "/statuses"

	for _, tc := range []struct {
		name, query string
		pageSize    int
	}{
		{"default limit", "", 20},
		{"limit 5", "?limit=5", 5},
		{"limit capped at 40", "?limit=500", 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := get(t, s, base+tc.query)
			require.Equal(t, http.StatusOK, r.status)
			var first []restStatus
			decode(t, r.body, &first)
			require.Len(t, first, min(tc.pageSize, len(want)))
			l := links(r.header.Get("Link"))
			require.Contains(t, l["next"], "max_id="+first[len(first)-1].ID)
			require.Contains(t, l["prev"], "min_id="+first[0].ID)
			require.Equal(t, postURIs(want), statusURIs(statusPages(t, s, base+tc.query)))
		})
	}

	mid := want[len(want)/2]
	var newer []restStatus
	decode(t, get(t, s, base+"?limit=40&since_id="+mid.ID).body, &newer)
	require.Equal(t, postURIs(want[:min(40, len(want)/2)]), statusURIs(newer), "since_id: the newest posts after the cursor")
	var adjacent []restStatus
	decode(t, get(t, s, base+"?limit=2&min_id="+mid.ID).body, &adjacent)
	require.Equal(t, postURIs(want[len(want)/2-2:len(want)/2]), statusURIs(adjacent), "min_id: the posts right after the cursor")
	var older []restStatus
	decode(t, get(t, s, base+"?limit=40&max_id="+mid.ID).body, &older)
	require.Equal(t, postURIs(want[len(want)/2+1:min(len(want), len(want)/2+41)]), statusURIs(older))

	var pinned []restStatus
	decode(t, get(t, s, base+"?pinned=true").body, &pinned)
	require.Empty(t, pinned)
	for _, st := range statusPages(t, s, base+"?exclude_replies=true&limit=40") {
		require.Nil(t, st.InReplyToID)
		require.Contains(t, []string{"public", "unlisted"}, st.Visibility)
	}

	r := get(t, s, "https://"+it.Host+"/api/v1/accounts/"+a.ID)
	require.Equal(t, http.StatusOK, r.status)
	var acct restAccount
	decode(t, r.body, &acct)
	require.Equal(t, a.Username, acct.Username)
	for _, path := range []string{"/api/v1/accounts/999/statuses", "/api/v1/accounts/999", "/api/v1/statuses/999"} {
		r := get(t, s, "https://"+it.Host+path)
		require.Equal(t, http.StatusNotFound, r.status, path)
		require.JSONEq(t, `{"error":"Record not found"}`, string(r.body))
	}
	for _, p := range a.Posts {
		r := get(t, s, "https://"+it.Host+"/api/v1/statuses/"+p.ID)
		if p.Visibility == "public" || p.Visibility == "unlisted" {
			require.Equal(t, http.StatusOK, r.status)
			var st restStatus
			decode(t, r.body, &st)
			require.Equal(t, p.URI, st.URI)
		} else {
			require.Equal(t, http.StatusNotFound, r.status, "%s posts are never shown to anonymous callers", p.Visibility)
		}
	}
}

func TestStatusExtras(t *testing.T) {
	s := sharedPostsSim(t)
	var alt, reply, poll, article int
	for _, it := range s.Truth().Instances {
		for _, a := range it.Accounts {
			for _, p := range a.Posts {
				switch {
				case p.Kind == "article":
					article++
				case p.AltText != "" && alt < 5 && it.Software == "mastodon" && !it.APIAuthRequired && p.Visibility == "public":
					alt++
					var st restStatus
					decode(t, get(t, s, "https://"+it.Host+"/api/v1/statuses/"+p.ID).body, &st)
					var descs []string
					for _, m := range st.MediaAttachments {
						if m.Description != nil {
							descs = append(descs, *m.Description)
						}
					}
					require.Equal(t, p.AltText, strings.Join(descs, "\n"))
				case p.InReplyTo != "":
					reply++
				case p.Kind == "question":
					poll++
				}
			}
		}
	}
	require.Positive(t, alt)
	require.Positive(t, reply)
	require.Positive(t, poll)
	require.Positive(t, article)
}

func TestLinksIn(t *testing.T) {
	for _, tc := range []struct {
		html string
		want []string
	}{
		{`<p>plain</p>`, nil},
		{`<p><a href="https://b.example/x" rel="nofollow">b</a> and <a href="https://a.example/">a</a> <a href="https://b.example/x">again</a></p>`, []string{"https://a.example/", "https://b.example/x"}},
		{`<span class="h-card"><a href="https://h.example/@u" class="u-url mention">@u</a></span> <a href="https://h.example/tags/x" class="mention hashtag" rel="tag">#x</a>`, nil},
		{`<a href="javascript:alert(1)">x</a><a href="mailto:a@b.example">m</a><a href="https://e.example/?a=1&amp;b=2">e</a>`, []string{"https://e.example/?a=1&b=2"}},
		{`<p><a href="https://evil.example/" style="position:fixed;top:0">styled</a></p>`, []string{"https://evil.example/"}},
	} {
		require.Equal(t, tc.want, linksIn(tc.html), tc.html)
	}
}

func TestAPIAccessModes(t *testing.T) {
	s := sharedPostsSim(t)
	tr := s.Truth()
	closed := instanceWith(t, tr, func(it InstanceTruth) bool { return it.APIAuthRequired && len(it.Behaviours) == 0 })
	require.False(t, closed.PublicTimeline)
	require.Equal(t, model.PostAccessSignatureRequired, closed.PostAccess)
	for _, path := range []string{"/api/v1/directory?local=true", "/api/v1/timelines/public?local=true", "/api/v1/accounts/lookup?acct=x",
		"/api/v1/accounts/" + closed.Accounts[0].ID + "/statuses", "/api/v1/statuses/1"} {
		r := get(t, s, "https://"+closed.Host+path)
		require.Equal(t, http.StatusUnauthorized, r.status, path)
		require.JSONEq(t, `{"error":"This API requires an authenticated user"}`, string(r.body))
	}
	for _, path := range []string{"/api/v1/instance", "/api/v1/instance/peers", "/api/v2/instance"} {
		require.Equal(t, http.StatusOK, get(t, s, "https://"+closed.Host+path).status, path)
	}

	secure := instanceWith(t, tr, func(it InstanceTruth) bool {
		return it.Software == "mastodon" && it.AuthorizedFetch && len(it.Behaviours) == 0 && len(it.Accounts) > 0
	})
	a := secure.Accounts[0]
	r := serve(t, s, httpRequest(t, a.URI, "application/activity+json", nil))
	require.Equal(t, http.StatusUnauthorized, r.status)
	r = serve(t, s, httpRequest(t, a.URI, "application/activity+json", map[string]string{"Signature": `keyId="k",signature="x"`}))
	require.Equal(t, http.StatusOK, r.status)
	var actor struct {
		Indexable    *bool `json:"indexable"`
		Discoverable *bool `json:"discoverable"`
	}
	decode(t, r.body, &actor)
	require.NotNil(t, actor.Discoverable)
	require.Equal(t, a.Indexable != nil, actor.Indexable != nil)
	require.Equal(t, http.StatusOK, serve(t, s, httpRequest(t, a.URI, "text/html", nil)).status, "pages stay public")

	var counts = map[string]int{}
	for _, it := range tr.Census(s.Seeds()) {
		counts[it.PostAccess]++
	}
	for _, want := range []string{model.PostAccessOK, model.PostAccessSignatureRequired, model.PostAccessDisallowed, model.PostAccessPrivate, model.PostAccessUnsupported} {
		require.Positive(t, counts[want], "%s: %v", want, counts)
	}
}

func TestDirectoryPaging(t *testing.T) {
	s := sharedPostsSim(t)
	it := instanceWith(t, s.Truth(), func(it InstanceTruth) bool {
		return it.Software == "mastodon" && !it.APIAuthRequired && len(it.Behaviours) == 0 && len(it.Accounts) >= 5
	})
	var want []string
	for _, a := range it.Accounts {
		if a.Discoverable {
			want = append(want, a.Username)
		}
	}
	sort.Strings(want)
	for _, order := range []string{"active", "new"} {
		var got []string
		for offset := 0; ; offset += 2 {
			var page []restAccount
			decode(t, get(t, s, "https://"+it.Host+"/api/v1/directory?local=true&limit=2&order="+order+"&offset="+strconv.Itoa(offset)).body, &page)
			for _, a := range page {
				got = append(got, a.Username)
			}
			if len(page) < 2 {
				break
			}
		}
		sort.Strings(got)
		require.Equal(t, want, got, order)
	}
}

// ruleFiveClient crawls the handler the way rule 5 describes, without
// the truth's post data: robots.txt, the directory, the public timeline
// and the account statuses. known carries the authors (host → account
// ids) of earlier crawls, as a crawler remembers them.
func ruleFiveClient(t *testing.T, s *Sim, known map[string]map[string]bool) map[string]bool {
	t.Helper()
	stored := map[string]bool{}
	for _, it := range s.Truth().Census(s.Seeds()) {
		if it.Private || postFamilies[it.Software] != mastoFamily {
			continue
		}
		rb := get(t, s, "https://"+it.Host+"/robots.txt")
		allows := func(p string) bool { return RobotsAllows(rb.status, string(rb.body), AgentToken, p) }
		if !allows(DirectoryPath) || !allows(AccountsPathPrefix) {
			continue
		}
		host := "https://" + it.Host
		authors := known[it.Host]
		if authors == nil {
			authors = map[string]bool{}
			known[it.Host] = authors
		}
		dir := get(t, s, host+"/api/v1/directory?local=true&limit=80")
		if dir.status == http.StatusUnauthorized {
			continue
		}
		for offset := 0; dir.status == http.StatusOK; {
			var page []restAccount
			decode(t, dir.body, &page)
			for _, a := range page {
				authors[a.ID] = true
			}
			if len(page) < 80 {
				break
			}
			offset += len(page)
			dir = get(t, s, host+"/api/v1/directory?local=true&limit=80&offset="+strconv.Itoa(offset))
		}
		if it.PublicTimeline && allows(TimelinePathPrefix) {
			for _, st := range statusPages(t, s, host+"/api/v1/timelines/public?local=true&limit=40") {
				require.Equal(t, "public", st.Visibility)
				authors[st.Account.ID] = true
			}
		}
		for id := range authors {
			r := get(t, s, host+"/api/v1/accounts/"+id)
			if r.status == http.StatusNotFound {
				continue
			}
			require.Equal(t, http.StatusOK, r.status)
			var a restAccount
			decode(t, r.body, &a)
			if !a.consents() {
				continue
			}
			for _, st := range statusPages(t, s, host+"/api/v1/accounts/"+id+"/statuses?limit=40") {
				if st.Visibility == "public" {
					stored[st.URI] = true
				}
			}
		}
	}
	return stored
}

func truthURIs(posts []PostTruth) map[string]bool {
	out := map[string]bool{}
	for _, p := range posts {
		out[p.URI] = true
	}
	return out
}

// TestPostsMatchClientAndEpochs checks Posts against a client following
// rule 5 at epoch 0 and 1, and what changes between them.
func TestPostsMatchClientAndEpochs(t *testing.T) {
	s := New(postsOpts)
	s.skipDelays = true
	known := map[string]map[string]bool{}
	t0 := s.Truth()
	posts0 := t0.Posts(s.Seeds(), time.Time{})
	require.Greater(t, len(posts0), 200)
	require.Equal(t, truthURIs(familyPosts(t0, posts0, mastoFamily)), ruleFiveClient(t, s, known), "epoch 0")

	// The newest listed id of every account, to test since_id below.
	newest := map[string]string{}
	for _, it := range t0.Instances {
		for _, a := range it.Accounts {
			if l := listed(a); len(l) > 0 {
				newest[a.Acct] = l[0].ID
			}
		}
	}

	require.Equal(t, 1, s.Advance())
	require.Equal(t, 1, s.Epoch())
	t1 := s.Truth()
	require.Equal(t, 1, t1.Epoch)
	require.Same(t, t1, s.Truth(), "the truth is cached per epoch")
	posts1 := t1.Posts(s.Seeds(), time.Time{})
	require.Equal(t, truthURIs(familyPosts(t1, posts1, mastoFamily)), ruleFiveClient(t, s, known), "epoch 1")
	require.Equal(t, t0.Census(s.Seeds()), censusAt(t1.Census(s.Seeds()), t0), "discovery does not change between epochs")

	// Withdrawals of every kind, and the discoverable trap.
	kinds := map[string]int{}
	for _, it0 := range t0.Instances {
		it1, _ := t1.Instance(it0.Host)
		now := map[string]AccountTruth{}
		for _, a := range it1.Accounts {
			now[a.Acct] = a
		}
		for _, a0 := range it0.Accounts {
			a1, alive := now[a0.Acct]
			switch {
			case !a0.Consents:
			case !alive:
				kinds["deleted"]++
				checkGoneAccount(t, s, it0, a0)
			case a1.Indexable != nil && !*a1.Indexable:
				kinds["indexable"]++
			case !a1.Consents && len(a1.Fields) > len(a0.Fields):
				kinds["field"]++
			case !a1.Consents && a1.Bio != a0.Bio:
				kinds["bio"]++
			case a1.Consents && a0.Discoverable && !a1.Discoverable:
				kinds["trap"]++
			}
		}
	}
	for _, k := range []string{"deleted", "indexable", "field", "bio", "trap"} {
		require.Positive(t, kinds[k], "%s: %v", k, kinds)
	}
	var trapKept int
	in1 := truthURIs(posts1)
	for _, p := range posts0 {
		it1, _ := t1.Instance(hostOf(p.Author))
		for _, a := range it1.Accounts {
			if a.Acct == p.Author && a.Consents && !a.Discoverable && in1[p.URI] {
				trapKept++
			}
		}
	}
	require.Positive(t, trapKept, "authors who left the directory but consent keep their posts")

	// Deleted posts: 410 on Mastodon, a Tombstone on Pleroma/Akkoma, 404
	// elsewhere; gone from the listings. New posts: since_id finds them.
	answers := map[string]int{}
	var fresh int
	for _, it0 := range t0.Instances {
		it1, _ := t1.Instance(it0.Host)
		live := map[string]bool{}
		for _, a := range it1.Accounts {
			for _, p := range a.Posts {
				live[p.URI] = true
			}
		}
		for _, a := range it0.Accounts {
			for _, p := range a.Posts {
				if live[p.URI] || p.Visibility != "public" || it0.AuthorizedFetch || len(it0.Behaviours) > 0 {
					continue
				}
				r := serve(t, s, httpRequest(t, p.URI, "application/activity+json", nil))
				answers[it0.Software+" "+strconv.Itoa(r.status)]++
				if r.status == http.StatusOK {
					var tomb struct{ Type string }
					decode(t, r.body, &tomb)
					require.Equal(t, "Tombstone", tomb.Type)
				}
				if it0.Software == "mastodon" && !it0.APIAuthRequired {
					require.Equal(t, http.StatusNotFound, get(t, s, "https://"+it0.Host+"/api/v1/statuses/"+p.ID).status)
				}
			}
		}
		if it1.Software != "mastodon" || it1.APIAuthRequired || len(it1.Behaviours) > 0 {
			continue
		}
		for _, a := range it1.Accounts {
			since, ok := newest[a.Acct]
			if !ok {
				continue
			}
			var want []string
			for _, p := range listed(a) {
				if idGreater(p.ID, since) {
					want = append(want, p.URI)
				}
			}
			var page []restStatus
			decode(t, get(t, s, "https://"+it1.Host+"/api/v1/accounts/"+a.ID+"/statuses?limit=40&since_id="+since).body, &page)
			got := statusURIs(page)
			require.Equal(t, want, got, a.Acct)
			fresh += len(got)
		}
	}
	require.Positive(t, fresh, "some accounts published after epoch 0")
	require.Positive(t, answers["mastodon 410"], "%v", answers)
	require.Positive(t, answers["akkoma 200"]+answers["pleroma 200"], "%v", answers)
	require.Positive(t, answers["misskey 404"]+answers["sharkey 404"]+answers["friendica 404"]+answers["wordpress 404"], "%v", answers)

	// Retention: notBefore drops exactly the older posts.
	cut := t1.Now.Add(-30 * 24 * time.Hour)
	var recent int
	for _, p := range posts1 {
		if !p.Created.Before(cut) {
			recent++
		}
	}
	require.Len(t, t1.Posts(s.Seeds(), cut), recent)
	require.Less(t, recent, len(posts1))
}

// censusAt maps a census onto the instance truths of another epoch, so
// the hosts and their flags compare without the epoch's content.
func censusAt(census []InstanceTruth, other *Truth) []InstanceTruth {
	out := make([]InstanceTruth, len(census))
	for i, it := range census {
		out[i], _ = other.Instance(it.Host)
	}
	return out
}

func hostOf(acct string) string {
	_, h, _ := strings.Cut(acct, "@")
	return h
}

// checkGoneAccount checks what a deleted account answers.
func checkGoneAccount(t *testing.T, s *Sim, it InstanceTruth, a AccountTruth) {
	t.Helper()
	wf := get(t, s, "https://"+it.Host+"/.well-known/webfinger?resource="+url.QueryEscape("acct:"+a.Acct))
	require.Equal(t, http.StatusNotFound, wf.status)
	if len(it.Behaviours) > 0 || it.AuthorizedFetch {
		return
	}
	r := serve(t, s, httpRequest(t, a.URI, "application/activity+json", nil))
	if it.Software == "mastodon" {
		require.Equal(t, http.StatusGone, r.status)
		if !it.APIAuthRequired {
			require.Equal(t, http.StatusNotFound, get(t, s, "https://"+it.Host+"/api/v1/accounts/lookup?acct="+a.Username).status)
			require.Equal(t, http.StatusNotFound, get(t, s, "https://"+it.Host+"/api/v1/accounts/"+a.ID+"/statuses").status)
		}
	} else {
		require.Equal(t, http.StatusNotFound, r.status)
	}
}

func TestPostsDeterministic(t *testing.T) {
	opts := Options{Seed: 5, Instances: 120, PostScale: 2}
	a, b := New(opts), New(opts)
	a.skipDelays, b.skipDelays = true, true
	it, acct := busyMastodonAccount(t, a.Truth(), 5)
	u := "https://" + it.Host + "/api/v1/accounts/" + acct.ID + "/statuses?limit=40"
	for epoch := 0; epoch <= 2; epoch++ {
		require.Equal(t, a.Truth().Posts(a.Seeds(), time.Time{}), b.Truth().Posts(b.Seeds(), time.Time{}), "epoch %d", epoch)
		require.Equal(t, get(t, a, u).body, get(t, b, u).body, "epoch %d", epoch)
		a.Advance()
		b.Advance()
	}
}

func TestPostScale(t *testing.T) {
	count := func(tr *Truth) (posts, accounts, consenting int) {
		for _, it := range tr.Instances {
			for _, a := range it.Accounts {
				accounts++
				posts += len(a.Posts)
				if a.Consents {
					consenting++
				}
			}
		}
		return
	}
	p1, _, _ := count(New(Options{Seed: 9, Instances: 300}).Truth())
	p4, a4, c4 := count(New(Options{Seed: 9, Instances: 300, PostScale: 4}).Truth())
	require.Greater(t, p4, 3*p1)
	share := float64(c4) / float64(a4)
	require.InDelta(t, 0.4, share, 0.1, "consenting share of all accounts in a scaled world")
}

func TestRelevanceCases(t *testing.T) {
	s := New(Options{Seed: 9, Instances: 300, PlantRelevance: true})
	tr := s.Truth()
	cases := tr.RelevanceCases()
	require.Len(t, cases, len(relevanceSpecs))
	stored := truthURIs(tr.Posts(s.Seeds(), time.Time{}))
	byURI := map[string]PostTruth{}
	for _, it := range tr.Instances {
		for _, a := range it.Accounts {
			for _, p := range a.Posts {
				byURI[p.URI] = p
			}
		}
	}
	for _, rc := range cases {
		grades := map[int]int{}
		for uri, g := range rc.Relevant {
			require.True(t, stored[uri], "%s: relevant posts are stored", rc.Query)
			grades[g]++
			require.Equal(t, rc.Lang, byURI[uri].Language)
		}
		require.Positive(t, grades[3], rc.Query)
		require.Positive(t, grades[1], rc.Query)
	}
	require.Nil(t, New(Options{Seed: 9, Instances: 300}).Truth().RelevanceCases())
	s.Advance()
	require.Len(t, s.Truth().RelevanceCases(), len(relevanceSpecs), "planted posts survive epochs")
}
