package fedisim

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const apAccept = `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`

// TestAccountsOverActivityPub follows WebFinger to the actor and walks the
// outbox pages of one account per program, comparing with the truth.
func TestAccountsOverActivityPub(t *testing.T) {
	s := sharedSim(t)
	done := map[string]bool{}
	for _, it := range s.Truth().Instances {
		if len(it.Behaviours) > 0 || done[it.Software] || len(it.Accounts) == 0 {
			continue
		}
		if it.Software == "peertube" {
			continue // its accounts are not served over ActivityPub (peertube_api.go)
		}
		var acct AccountTruth
		for _, a := range it.Accounts {
			if len(a.Posts) > len(acct.Posts) {
				acct = a
			}
		}
		if len(acct.Posts) == 0 {
			continue
		}
		done[it.Software] = true
		t.Run(it.Software, func(t *testing.T) {
			wf := get(t, s, "https://"+it.Host+"/.well-known/webfinger?resource=acct:"+acct.Acct)
			require.Equal(t, http.StatusOK, wf.status)
			var jrd struct {
				Subject string `json:"subject"`
				Links   []struct {
					Rel, Type, Href string
				} `json:"links"`
			}
			decode(t, wf.body, &jrd)
			require.Equal(t, "acct:"+acct.Acct, jrd.Subject)
			self := ""
			for _, l := range jrd.Links {
				if l.Rel == "self" {
					self = l.Href
				}
			}
			require.Equal(t, acct.URI, self)

			headers := map[string]string{}
			if it.AuthorizedFetch {
				r := do(t, s, http.MethodGet, self, apAccept, "")
				require.Equal(t, http.StatusUnauthorized, r.status, "GoToSocial wants signed fetches")
				headers["Signature"] = `keyId="https://crawler.example/actor#main-key",signature="x"`
			}
			fetch := func(u string) response {
				req := httpRequest(t, u, apAccept, headers)
				return serve(t, s, req)
			}
			r := fetch(self)
			require.Equal(t, http.StatusOK, r.status)
			var actor struct {
				ID        string          `json:"id"`
				Type      string          `json:"type"`
				Outbox    string          `json:"outbox"`
				Summary   string          `json:"summary"`
				Indexable *bool           `json:"indexable"`
				Context   json.RawMessage `json:"@context"`
			}
			decode(t, r.body, &actor)
			require.Equal(t, acct.URI, actor.ID)
			require.Equal(t, acct.Bio, actor.Summary)
			require.Equal(t, acct.Indexable, actor.Indexable)

			// HTML for browsers.
			page := serve(t, s, httpRequest(t, self, "text/html", nil))
			require.Equal(t, http.StatusOK, page.status)
			require.Contains(t, page.header.Get("Content-Type"), "text/html")

			// Walk the outbox.
			r = fetch(actor.Outbox)
			require.Equal(t, http.StatusOK, r.status)
			var coll struct {
				Type         string            `json:"type"`
				First        string            `json:"first"`
				OrderedItems []json.RawMessage `json:"orderedItems"`
			}
			decode(t, r.body, &coll)
			items := coll.OrderedItems
			next := coll.First
			for pages := 0; next != "" && pages < 20; pages++ {
				r = fetch(next)
				require.Equal(t, http.StatusOK, r.status, next)
				var pg struct {
					Next         string            `json:"next"`
					OrderedItems []json.RawMessage `json:"orderedItems"`
				}
				decode(t, r.body, &pg)
				items = append(items, pg.OrderedItems...)
				next = pg.Next
			}
			var uris, announces []string
			for _, raw := range items {
				var act struct {
					ID     string          `json:"id"`
					Type   string          `json:"type"`
					Object json.RawMessage `json:"object"`
					To     []string        `json:"to"`
					Cc     []string        `json:"cc"`
				}
				decode(t, raw, &act)
				if act.Type == "Announce" { // boosts (boosts.go)
					announces = append(announces, act.ID)
					continue
				}
				require.Equal(t, "Create", act.Type)
				var uri string
				if json.Unmarshal(act.Object, &uri) != nil {
					var note struct {
						ID   string `json:"id"`
						Type string `json:"type"`
					}
					decode(t, act.Object, &note)
					require.Equal(t, apTypeOf(acct, note.ID), note.Type)
					uri = note.ID
				}
				uris = append(uris, uri)
			}
			var want []string
			for _, p := range acct.Posts {
				if p.Visibility == "public" || p.Visibility == "unlisted" {
					want = append(want, p.URI)
				}
			}
			require.Equal(t, want, uris)
			var wantBoosts []string // WordPress's outboxes list boosts
			for _, b := range acct.Boosts {
				if it.Software == "wordpress" {
					wantBoosts = append(wantBoosts, b.URI)
				}
			}
			require.Equal(t, wantBoosts, announces)

			// Objects: public and unlisted are served with the right
			// addressing, followers-only and direct are not.
			for _, p := range acct.Posts {
				r := fetch(p.URI)
				if p.Visibility == "private" || p.Visibility == "direct" {
					require.Equal(t, http.StatusNotFound, r.status, p.URI)
					continue
				}
				require.Equal(t, http.StatusOK, r.status, p.URI)
				var note struct {
					ID        string   `json:"id"`
					To        []string `json:"to"`
					Cc        []string `json:"cc"`
					Content   string   `json:"content"`
					Published string   `json:"published"`
				}
				decode(t, r.body, &note)
				require.Equal(t, p.URI, note.ID)
				require.Equal(t, p.ContentHTML, note.Content)
				require.Equal(t, p.Created.Format(timeSeconds), note.Published)
				if p.Visibility == "public" {
					require.Contains(t, note.To, asPublic)
				} else {
					require.NotContains(t, note.To, asPublic)
					require.Contains(t, note.Cc, asPublic)
				}
			}
		})
	}
	for _, sw := range []string{"mastodon", "pleroma", "akkoma", "misskey", "gotosocial", "pixelfed", "friendica", "snac", "writefreely", "wordpress"} {
		require.True(t, done[sw], sw)
	}
}

func TestWebfingerErrors(t *testing.T) {
	s := sharedSim(t)
	cases := []struct {
		name, query string
		status      int
	}{
		{"missing resource", "", http.StatusBadRequest},
		{"unknown user", "?resource=acct:nobody@" + SeedA, http.StatusNotFound},
		{"other host", "?resource=acct:alice@elsewhere.example", http.StatusNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.status, get(t, s, "https://"+SeedA+"/.well-known/webfinger"+tc.query).status)
		})
	}
	hm := get(t, s, "https://"+SeedA+"/.well-known/host-meta")
	require.Equal(t, http.StatusOK, hm.status)
	require.Contains(t, string(hm.body), `template="https://`+SeedA+`/.well-known/webfinger?resource={uri}"`)
}

func TestHostileContentExists(t *testing.T) {
	s := sharedSim(t)
	var script, onerror, jsLink, cw, noLang, tags, visibilities = 0, 0, 0, 0, 0, 0, map[string]int{}
	for _, it := range s.Truth().Instances {
		for _, a := range it.Accounts {
			for _, p := range a.Posts {
				visibilities[p.Visibility]++
				if strings.Contains(p.ContentHTML, "<script>") {
					script++
				}
				if strings.Contains(p.ContentHTML, "onerror=") {
					onerror++
				}
				if strings.Contains(p.ContentHTML, "javascript:") {
					jsLink++
				}
				if p.Summary != "" {
					cw++
					require.True(t, p.Sensitive)
				}
				if p.Language == "" {
					noLang++
				}
				tags += len(p.Tags)
				for _, tag := range p.Tags {
					require.Equal(t, strings.ToLower(tag), tag)
				}
				require.True(t, strings.HasPrefix(p.URI, "https://"+it.Host+"/"), p.URI)
			}
		}
	}
	for _, n := range []int{script, onerror, jsLink, cw, noLang, tags} {
		require.Positive(t, n)
	}
	for _, v := range []string{"public", "unlisted", "private", "direct"} {
		require.Positive(t, visibilities[v], v)
	}
}

func TestInstanceDocuments(t *testing.T) {
	s := sharedSim(t)
	tr := s.Truth()
	seedA, _ := tr.Instance(SeedA)
	var v1 struct {
		URI   string `json:"uri"`
		Title string `json:"title"`
		Stats struct {
			UserCount int64 `json:"user_count"`
		} `json:"stats"`
	}
	decode(t, get(t, s, "https://"+SeedA+"/api/v1/instance").body, &v1)
	require.Equal(t, SeedA, v1.URI)
	require.Equal(t, seedA.InstanceTitle, v1.Title)
	require.Equal(t, *seedA.UsersTotal, v1.Stats.UserCount)

	var v2 struct {
		Domain        string `json:"domain"`
		Configuration struct {
			TimelinesAccess struct {
				LiveFeeds struct{ Local string } `json:"live_feeds"`
			} `json:"timelines_access"`
		} `json:"configuration"`
	}
	decode(t, get(t, s, "https://"+SeedA+"/api/v2/instance").body, &v2)
	require.Equal(t, SeedA, v2.Domain)
	require.Equal(t, "public", v2.Configuration.TimelinesAccess.LiveFeeds.Local)

	var activity []map[string]string
	decode(t, get(t, s, "https://"+SeedA+"/api/v1/instance/activity").body, &activity)
	require.Len(t, activity, 12)

	var dir []struct {
		Discoverable *bool `json:"discoverable"`
	}
	decode(t, get(t, s, "https://"+SeedA+"/api/v1/directory?limit=80").body, &dir)
	for _, a := range dir {
		require.True(t, *a.Discoverable)
	}

	lemmy := instanceWith(t, tr, func(it InstanceTruth) bool { return it.Software == "lemmy" && len(it.Behaviours) == 0 })
	var site struct {
		SiteView struct {
			Site struct{ Name string } `json:"site"`
		} `json:"site_view"`
		Version string `json:"version"`
	}
	decode(t, get(t, s, "https://"+lemmy.Host+"/api/v3/site").body, &site)
	require.Equal(t, lemmy.InstanceTitle, site.SiteView.Site.Name)
	require.Equal(t, lemmy.Version, site.Version)

	pt := instanceWith(t, tr, func(it InstanceTruth) bool { return it.Software == "peertube" && len(it.Behaviours) == 0 })
	var cfg struct {
		Instance      struct{ Name string } `json:"instance"`
		ServerVersion string                `json:"serverVersion"`
	}
	decode(t, get(t, s, "https://"+pt.Host+"/api/v1/config").body, &cfg)
	require.Equal(t, pt.InstanceTitle, cfg.Instance.Name)
	var videos struct {
		Total int               `json:"total"`
		Data  []json.RawMessage `json:"data"`
	}
	decode(t, get(t, s, "https://"+pt.Host+"/api/v1/videos?start=0&count=5").body, &videos)
	require.LessOrEqual(t, len(videos.Data), 5)
	require.Equal(t, http.StatusBadRequest, get(t, s, "https://"+pt.Host+"/api/v1/videos?count=1000").status)

	// Endpoints a program does not have are 404.
	require.Equal(t, http.StatusNotFound, get(t, s, "https://"+pt.Host+"/api/v1/instance/peers").status)
	require.Equal(t, http.StatusNotFound, get(t, s, "https://"+lemmy.Host+"/api/v1/timelines/public").status)
	require.Equal(t, http.StatusNotFound, get(t, s, "https://"+SeedB+"/api/v1/instance").status)
}

// TestInstanceTitles compares InstanceTitle with every program's own
// instance document.
func TestInstanceTitles(t *testing.T) {
	s := sharedSim(t)
	checked := 0
	for _, it := range s.Truth().Instances {
		if it.Has(BehaviourDown) || it.Has(BehaviourHTTP503) {
			continue
		}
		var got *string
		switch it.Software {
		case "mastodon", "pleroma", "akkoma", "gotosocial", "pixelfed", "friendica", "snac":
			var doc struct{ Title *string }
			decode(t, get(t, s, "https://"+it.Host+"/api/v1/instance").body, &doc)
			got = doc.Title
		case "misskey", "sharkey", "firefish", "fedired":
			var doc struct{ Name *string }
			decode(t, postJSON(t, s, "https://"+it.Host+"/api/meta", "{}").body, &doc)
			got = doc.Name
		case "lemmy":
			var doc struct {
				SiteView struct{ Site struct{ Name *string } } `json:"site_view"`
			}
			decode(t, get(t, s, "https://"+it.Host+"/api/v3/site").body, &doc)
			got = doc.SiteView.Site.Name
		case "peertube":
			var doc struct{ Instance struct{ Name *string } }
			decode(t, get(t, s, "https://"+it.Host+"/api/v1/config").body, &doc)
			got = doc.Instance.Name
		default:
			continue
		}
		title := ""
		if got != nil {
			title = *got
		}
		require.Equal(t, it.InstanceTitle, title, it.Host)
		checked++
	}
	require.Greater(t, checked, 300)
}

// apTypeOf is the ActivityStreams type the truth's Kind of a post implies.
func apTypeOf(acct AccountTruth, uri string) string {
	for _, p := range acct.Posts {
		if p.URI == uri {
			return map[string]string{"note": "Note", "article": "Article", "question": "Question"}[p.Kind]
		}
	}
	return "unknown post " + uri
}
