package fedisim

import (
	"html"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCensusIsNonTrivial(t *testing.T) {
	s := sharedSim(t)
	tr := s.Truth()
	census := tr.Census(s.Seeds())
	discovered := tr.Discovered(s.Seeds())

	inCensus := map[string]bool{}
	for _, it := range census {
		inCensus[it.Host] = true
		require.True(t, it.Stored(), it.Host)
	}
	require.True(t, sort.SliceIsSorted(census, func(i, j int) bool { return census[i].Host < census[j].Host }))
	for _, seed := range s.Seeds() {
		require.True(t, inCensus[seed], seed)
	}
	require.Greater(t, len(census), len(tr.Instances)/2)
	require.Less(t, len(census), len(tr.Instances))

	var isolated, hostileOut, unreached int
	for _, it := range tr.Instances {
		switch {
		case it.Isolated:
			require.False(t, inCensus[it.Host], "isolated %s was found", it.Host)
			isolated++
		case !it.Stored():
			require.False(t, inCensus[it.Host], it.Host)
			hostileOut++
		case !inCensus[it.Host]:
			unreached++
		}
	}
	require.Positive(t, isolated, "some instances must be unreachable")
	require.Positive(t, hostileOut, "some hostile instances must be excluded")
	t.Logf("instances %d, census %d, discovered %d, isolated %d, excluded %d, unreached %d",
		len(tr.Instances), len(census), len(discovered), isolated, hostileOut, unreached)

	// Discovery: valid names only, dead hosts and the trap included.
	found := map[string]bool{}
	for _, h := range discovered {
		require.True(t, ValidHostName(h), h)
		found[h] = true
	}
	require.True(t, found[TrapHost])
	require.False(t, found[TrapIP])
	require.False(t, found["localhost"])
	var dead int
	for _, h := range tr.DeadHosts {
		if found[h] {
			dead++
		}
		_, exists := tr.Instance(h)
		require.False(t, exists, h)
	}
	require.Positive(t, dead)

	// Every census member other than a seed is named in the readable peer
	// list of another census member (the fixpoint is sound).
	named := map[string]bool{}
	for _, it := range census {
		if it.PeersReadable() {
			for _, p := range it.Peers {
				named[p] = true
			}
		}
	}
	for _, it := range census {
		if !strings.HasSuffix(it.Host, ".sim.example") {
			require.True(t, named[it.Host], it.Host)
		}
	}

	// Without hostile behaviours the census grows.
	nice := New(Options{Seed: testOpts.Seed, Instances: testOpts.Instances, NoHostile: true})
	require.Greater(t, len(nice.Truth().Census(nice.Seeds())), len(census))
	// Unknown seeds are ignored; junk seeds too.
	require.Empty(t, tr.Census([]string{"nobody.example", "bad host"}))
}

func TestPeersMatchTruth(t *testing.T) {
	s := sharedSim(t)
	checked := map[string]bool{}
	var sawJunk bool
	for _, it := range s.Truth().Instances {
		if it.PeersPath == "" || it.Peers == nil || len(it.Behaviours) > 0 || checked[it.Software] {
			continue
		}
		checked[it.Software] = true
		var got []string
		switch it.Software {
		case "misskey", "sharkey", "firefish", "fedired":
			for offset := 0; ; offset += 100 {
				r := do(t, s, http.MethodPost, "https://"+it.Host+it.PeersPath, "", `{"limit":100,"offset":`+strconv.Itoa(offset)+`}`)
				require.Equal(t, http.StatusOK, r.status, it.Host)
				var page []struct {
					Host string `json:"host"`
				}
				decode(t, r.body, &page)
				for _, p := range page {
					got = append(got, p.Host)
				}
				if len(page) < 100 {
					break
				}
			}
		case "lemmy":
			var doc struct {
				Federated struct {
					Linked []struct {
						Domain string `json:"domain"`
					} `json:"linked"`
					Blocked []struct {
						Domain string `json:"domain"`
					} `json:"blocked"`
				} `json:"federated_instances"`
			}
			decode(t, get(t, s, "https://"+it.Host+it.PeersPath).body, &doc)
			for _, l := range doc.Federated.Linked {
				got = append(got, l.Domain)
			}
			linked := map[string]bool{}
			for _, h := range got {
				linked[h] = true
			}
			for _, b := range doc.Federated.Blocked {
				require.True(t, linked[b.Domain], "blocked %s is not linked", b.Domain)
			}
		default:
			decode(t, get(t, s, "https://"+it.Host+it.PeersPath).body, &got)
		}
		if got == nil {
			got = []string{}
		}
		require.Equal(t, it.Peers, got, it.Host)
		for _, p := range got {
			if !ValidHostName(p) {
				sawJunk = true
			}
		}
	}
	for _, sw := range []string{"mastodon", "pleroma", "akkoma", "misskey", "lemmy", "gotosocial", "snac"} {
		require.True(t, checked[sw], sw)
	}
	require.True(t, sawJunk, "peer lists carry junk")
}

func TestMisskeyAPIValidation(t *testing.T) {
	s := sharedSim(t)
	u := "https://" + SeedB + "/api/federation/instances"
	cases := []struct {
		name, method, body string
		status             int
	}{
		{"default limit", http.MethodPost, `{}`, http.StatusOK},
		{"empty body", http.MethodPost, ``, http.StatusOK},
		{"limit too large", http.MethodPost, `{"limit":101}`, http.StatusBadRequest},
		{"limit zero", http.MethodPost, `{"limit":0}`, http.StatusBadRequest},
		{"negative offset", http.MethodPost, `{"limit":10,"offset":-1}`, http.StatusBadRequest},
		{"wrong type", http.MethodPost, `{"limit":"10"}`, http.StatusBadRequest},
		{"not json", http.MethodPost, `limit=10`, http.StatusBadRequest},
		{"huge body", http.MethodPost, `{"x":"` + strings.Repeat("a", maxAPIBody) + `"}`, http.StatusRequestEntityTooLarge},
		{"GET", http.MethodGet, ``, http.StatusMethodNotAllowed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, s, tc.method, u, "", tc.body)
			require.Equal(t, tc.status, r.status, "%s", r.body)
		})
	}
	var page []map[string]any
	decode(t, do(t, s, http.MethodPost, u, "", `{}`).body, &page)
	require.Len(t, page, 30)
	decode(t, do(t, s, http.MethodPost, u, "", `{"limit":5,"offset":1000000}`).body, &page)
	require.Empty(t, page)

	var meta struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	decode(t, do(t, s, http.MethodPost, "https://"+SeedB+"/api/meta", "", `{"detail":true}`).body, &meta)
	it, _ := s.Truth().Instance(SeedB)
	require.Equal(t, it.InstanceTitle, meta.Name)
	require.Equal(t, it.Version, meta.Version)

	var notes []struct {
		ID         string `json:"id"`
		Visibility string `json:"visibility"`
	}
	decode(t, do(t, s, http.MethodPost, "https://"+SeedB+"/api/notes/local-timeline", "", `{"limit":100}`).body, &notes)
	public := 0
	for _, a := range it.Accounts {
		for _, p := range a.Posts {
			if p.Visibility == "public" {
				public++
			}
		}
	}
	require.Len(t, notes, public)
	for _, n := range notes {
		require.Equal(t, "public", n.Visibility)
	}
}

func TestConsentWords(t *testing.T) {
	cases := []struct {
		text string
		want bool
	}{
		{"#nobot", true},
		{"I am a person. #NoBots", true},
		{"<p>hello <a href=\"x\" class=\"mention hashtag\" rel=\"tag\">#<span>noindex</span></a></p>", true},
		{"#nosearch please", true},
		{"noindex", true},
		{"please nosearch.", true},
		{"#nobotany fan", false},
		{"noindexing enthusiast", false},
		{"#nobots_allowed", false},
		{"nobot", false},
		{"<p>Hello</p><p>#nobot</p>", true},
		{"<p>Hi <script>var noindex</script></p>", false},
		{"Tom &amp; Jerry #NoIndex", true},
		{"botany", false},
		{"", false},
	}
	for _, tc := range cases {
		t.Run(tc.text, func(t *testing.T) {
			require.Equal(t, tc.want, HasOptOut(tc.text))
		})
	}
}

// TestConsentIsUnambiguous checks that every generated bio gives the same
// answer with a naive text extraction (every tag dropped) as with the
// indexer-style one (blocks become line breaks), so crawlers with either
// agree with the truth; and that the consent mix is realistic.
func TestConsentIsUnambiguous(t *testing.T) {
	s := sharedSim(t)
	var yes, no, optOut, decoy int
	for _, it := range s.Truth().Instances {
		for _, a := range it.Accounts {
			naive := html.UnescapeString(tagRE.ReplaceAllString(a.Bio, ""))
			require.Equal(t, HasOptOut(a.Bio), optOutRE.MatchString(naive), a.Bio)
			if HasOptOut(a.Bio) {
				optOut++
			}
			if strings.Contains(strings.ToLower(a.Bio), "nobotany") {
				decoy++
			}
			if a.Consents {
				yes++
				require.NotNil(t, a.Indexable)
				require.True(t, *a.Indexable)
				require.False(t, a.NoIndex)
			} else {
				no++
			}
		}
	}
	require.Positive(t, yes)
	require.Positive(t, no)
	require.Positive(t, optOut)
	require.Positive(t, decoy)
}

// TestTimelinePostsMatchServed crawls the thin post path the way rule 5
// describes, from the served documents alone, and compares with the truth.
func TestTimelinePostsMatchServed(t *testing.T) {
	s := sharedSim(t)
	tr := s.Truth()
	want := tr.TimelinePosts(s.Seeds())
	require.NotEmpty(t, want)

	type account struct {
		Acct      string `json:"acct"`
		Indexable *bool  `json:"indexable"`
		NoIndex   bool   `json:"noindex"`
		Note      string `json:"note"`
		Fields    []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"fields"`
	}
	var got []string
	for _, it := range tr.Census(s.Seeds()) {
		if it.Software != "mastodon" || !it.Allows("/api/v1/timelines/public") {
			continue
		}
		r := get(t, s, "https://"+it.Host+"/api/v1/timelines/public?local=true&limit=40")
		if r.status != http.StatusOK {
			require.False(t, it.PublicTimeline, it.Host)
			continue
		}
		var statuses []struct {
			URI        string  `json:"uri"`
			Visibility string  `json:"visibility"`
			Account    account `json:"account"`
		}
		decode(t, r.body, &statuses)
		if !it.PublicTimeline {
			require.Empty(t, statuses, it.Host)
		}
		for _, st := range statuses {
			require.Equal(t, "public", st.Visibility)
			a := st.Account
			ok := a.Indexable != nil && *a.Indexable && !a.NoIndex && !HasOptOut(a.Note)
			for _, f := range a.Fields {
				ok = ok && !HasOptOut(f.Name) && !HasOptOut(f.Value)
			}
			if ok {
				got = append(got, st.URI)
			}
		}
	}
	var wantURIs []string
	for _, p := range want {
		wantURIs = append(wantURIs, p.URI)
		require.Equal(t, "public", p.Visibility)
		require.False(t, p.Created.After(tr.Now))
	}
	require.Equal(t, wantURIs, got)
}

func TestTimelinePagination(t *testing.T) {
	s := sharedSim(t)
	it, _ := s.Truth().Instance(SeedA)
	var public []PostTruth
	for _, a := range it.Accounts {
		for _, p := range a.Posts {
			if p.Visibility == "public" {
				public = append(public, p)
			}
		}
	}
	sort.Slice(public, func(i, j int) bool { return idGreater(public[i].ID, public[j].ID) })
	require.Greater(t, len(public), 2)

	var ids []string
	next := "https://" + SeedA + "/api/v1/timelines/public?local=true&limit=2"
	for next != "" {
		r := get(t, s, next)
		require.Equal(t, http.StatusOK, r.status)
		var page []struct {
			ID string `json:"id"`
		}
		decode(t, r.body, &page)
		require.LessOrEqual(t, len(page), 2)
		for _, p := range page {
			ids = append(ids, p.ID)
		}
		next = ""
		if link := r.header.Get("Link"); link != "" && len(page) > 0 {
			next = strings.TrimPrefix(strings.SplitN(link, ">", 2)[0], "<")
			require.Contains(t, next, "max_id="+page[len(page)-1].ID)
		}
	}
	var want []string
	for _, p := range public {
		want = append(want, p.ID)
	}
	require.Equal(t, want, ids)

	// limit is capped at 40, min_id pages backwards.
	var all []map[string]any
	decode(t, get(t, s, "https://"+SeedA+"/api/v1/timelines/public?local=true&limit=500").body, &all)
	require.LessOrEqual(t, len(all), 40)
	decode(t, get(t, s, "https://"+SeedA+"/api/v1/timelines/public?local=true&min_id="+want[1]).body, &all)
	require.Len(t, all, 1)
}
