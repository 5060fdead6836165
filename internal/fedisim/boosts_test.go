package fedisim

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// boostSim is a world whose WordPress and Misskey-family accounts can
// consent (an opt-in word) and whose replies partly cross instances.
func boostSim(t *testing.T, remoteReplies bool) *Sim {
	t.Helper()
	s := New(Options{Seed: 7, Instances: 300, NoHostile: true, OptInWord: "#searchable", RemoteReplies: remoteReplies})
	s.skipDelays = true
	return s
}

// servedAnnounces walks an actor's outbox and returns its Announces.
func servedAnnounces(t *testing.T, s *Sim, outbox string) []map[string]json.RawMessage {
	t.Helper()
	fetch := func(u string) response {
		return serve(t, s, httpRequest(t, u, "application/activity+json", nil))
	}
	var coll struct {
		First string `json:"first"`
	}
	r := fetch(outbox)
	require.Equal(t, http.StatusOK, r.status, outbox)
	decode(t, r.body, &coll)
	var out []map[string]json.RawMessage
	for next, pages := coll.First, 0; next != "" && pages < 50; pages++ {
		r := fetch(next)
		require.Equal(t, http.StatusOK, r.status, next)
		var pg struct {
			Next         string                       `json:"next"`
			OrderedItems []map[string]json.RawMessage `json:"orderedItems"`
		}
		decode(t, r.body, &pg)
		for _, it := range pg.OrderedItems {
			if string(it["type"]) == `"Announce"` {
				out = append(out, it)
			}
		}
		next = pg.Next
	}
	return out
}

func str(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var s string
	decode(t, raw, &s)
	return s
}

func TestBoostsServedAsTheTruthSays(t *testing.T) {
	s := boostSim(t, false)
	wp, mk, public, local := 0, 0, 0, 0
	for _, it := range s.Truth().Instances {
		fam := postFamilies[it.Software]
		if fam != apFamily && fam != misskeyFamily {
			for _, a := range it.Accounts {
				require.Empty(t, a.Boosts, "%s: only WordPress and the Misskey family boost", a.Acct)
			}
			continue
		}
		for _, a := range it.Accounts {
			for i, b := range a.Boosts {
				require.Equal(t, a.Acct, b.Author)
				if i > 0 {
					require.False(t, b.Created.After(a.Boosts[i-1].Created), "newest first")
				}
				require.True(t, strings.HasPrefix(b.URI, "https://"+it.Host+"/"), b.URI)
				require.True(t, strings.HasPrefix(b.Object, "https://"+b.BoostedHost+"/"), b.Object)
				if b.Public {
					public++
				}
				if b.BoostedHost == it.Host {
					local++
				}
			}
			switch fam {
			case apFamily:
				got := servedAnnounces(t, s, "https://"+it.Host+"/wp-json/activitypub/1.0/actors/"+a.ID+"/outbox")
				require.Len(t, got, len(a.Boosts), a.Acct)
				for i, b := range a.Boosts {
					act := got[i]
					require.Equal(t, b.URI, str(t, act["id"]))
					require.Equal(t, a.URI, str(t, act["actor"]))
					require.Equal(t, b.Object, str(t, act["object"]))
					require.Equal(t, b.Created.Format(timeSeconds), str(t, act["published"]))
					var to []string
					decode(t, act["to"], &to)
					require.Equal(t, b.Public, len(to) == 1 && to[0] == asPublic, b.URI)
					wp++
				}
			case misskeyFamily:
				r := postJSON(t, s, "https://"+it.Host+MisskeyUsersNotesPath, `{"userId":"`+a.ID+`","limit":100,"withReplies":true,"withRenotes":true}`)
				require.Equal(t, http.StatusOK, r.status)
				var notes []struct {
					ID         string  `json:"id"`
					Text       *string `json:"text"`
					Visibility string  `json:"visibility"`
					RenoteID   *string `json:"renoteId"`
					Renote     *struct {
						ID   string `json:"id"`
						URI  string `json:"uri"`
						User struct {
							Host *string `json:"host"`
						} `json:"user"`
					} `json:"renote"`
				}
				decode(t, r.body, &notes)
				byURI := map[string]int{}
				for i, n := range notes {
					if n.RenoteID != nil {
						require.Nil(t, n.Text, "a plain renote")
						require.NotNil(t, n.Renote)
						require.Equal(t, *n.RenoteID, n.Renote.ID)
						byURI["https://"+it.Host+"/notes/"+n.ID] = i
					}
				}
				require.Len(t, byURI, len(a.Boosts), a.Acct)
				for _, b := range a.Boosts {
					i, ok := byURI[b.URI]
					require.True(t, ok, b.URI)
					n := notes[i]
					require.Equal(t, map[bool]string{true: "public", false: "home"}[b.Public], n.Visibility)
					if b.BoostedHost == it.Host {
						require.Nil(t, n.Renote.User.Host)
						require.Empty(t, n.Renote.URI)
					} else {
						require.Equal(t, b.BoostedHost, *n.Renote.User.Host)
						require.Equal(t, b.Object, n.Renote.URI)
					}
					mk++
				}
				// Without withRenotes the notes come alone, as before.
				var plain []struct {
					RenoteID *string `json:"renoteId"`
				}
				decode(t, postJSON(t, s, "https://"+it.Host+MisskeyUsersNotesPath, `{"userId":"`+a.ID+`","limit":100,"withReplies":true}`).body, &plain)
				for _, n := range plain {
					require.Nil(t, n.RenoteID)
				}
			}
		}
	}
	require.Greater(t, wp, 10)
	require.Greater(t, mk, 10)
	require.Greater(t, public, (wp+mk)/2)
	require.Less(t, public, wp+mk, "some boosts are not public")
	require.Positive(t, local, "some boosts are of the booster's own instance")
}

func TestBoostsAcrossEpochs(t *testing.T) {
	s := boostSim(t, false)
	seeds := s.Seeds()
	before := map[string]AccountTruth{}
	for _, it := range s.Truth().Instances {
		for _, a := range it.Accounts {
			before[a.Acct] = a
		}
	}
	first := s.Truth().Boosts(seeds, time.Time{})
	require.NotEmpty(t, first)
	for _, b := range first {
		require.True(t, b.Public)
		require.True(t, before[b.Author].Consents, b.Author)
	}
	again := New(Options{Seed: 7, Instances: 300, NoHostile: true, OptInWord: "#searchable"}).Truth().Boosts(seeds, time.Time{})
	require.Equal(t, first, again, "the boosts are a pure function of the options")

	s.Advance()
	undone, added, goneAccounts := 0, 0, 0
	after := map[string]AccountTruth{}
	for _, it := range s.Truth().Instances {
		for _, a := range it.Accounts {
			after[a.Acct] = a
		}
	}
	for acct, old := range before {
		now, ok := after[acct]
		if !ok {
			goneAccounts += min(1, len(old.Boosts))
			continue
		}
		was := map[string]bool{}
		for _, b := range old.Boosts {
			was[b.URI] = true
		}
		is := map[string]bool{}
		for _, b := range now.Boosts {
			is[b.URI] = true
			if !was[b.URI] {
				added++
				require.True(t, b.Created.After(s.Truth().Now), "new boosts are dated after Now: %s", b.URI)
				require.True(t, b.Public)
			}
		}
		for u := range was {
			if !is[u] {
				undone++
			}
		}
	}
	require.Positive(t, undone)
	require.Positive(t, added)
	require.Positive(t, goneAccounts)
	second := s.Truth().Boosts(seeds, time.Time{})
	require.NotEqual(t, first, second)
	cut := s.Truth().Now.Add(-30 * 24 * time.Hour)
	for _, b := range s.Truth().Boosts(seeds, cut) {
		require.False(t, b.Created.Before(cut))
	}
}

// TestRemoteReplies: with Options.RemoteReplies, replies answer posts of
// other instances, named as each program names a parent; nothing else of
// the world changes.
func TestRemoteReplies(t *testing.T) {
	plain, s := boostSim(t, false), boostSim(t, true)
	a, b := plain.Truth(), s.Truth()
	require.Equal(t, len(a.Instances), len(b.Instances))
	bySoftware := map[string]int{}
	for i, it := range b.Instances {
		old := a.Instances[i]
		require.Equal(t, len(old.Accounts), len(it.Accounts))
		for j, acct := range it.Accounts {
			require.Equal(t, len(old.Accounts[j].Posts), len(acct.Posts))
			require.Equal(t, old.Accounts[j].Boosts, acct.Boosts)
			for k, p := range acct.Posts {
				q := old.Accounts[j].Posts[k]
				require.Equal(t, q.URI, p.URI)
				require.Equal(t, q.Mentions, p.Mentions, "mentions (and so discovery) are unchanged")
				if p.InReplyTo == q.InReplyTo {
					continue
				}
				require.True(t, p.Visibility != "", p.URI)
				host := strings.TrimPrefix(p.InReplyTo, "https://")
				host = host[:strings.IndexByte(host, '/')]
				require.NotEqual(t, it.Host, host, p.URI)
				bySoftware[it.Software]++
				checkRemoteReply(t, s, it, acct, p, host)
			}
		}
	}
	require.Positive(t, bySoftware["mastodon"])
	require.Positive(t, bySoftware["wordpress"])
	require.Positive(t, bySoftware["misskey"]+bySoftware["sharkey"]+bySoftware["firefish"]+bySoftware["fedired"])
}

// checkRemoteReply checks how the post's program serves a remote parent.
func checkRemoteReply(t *testing.T, s *Sim, it InstanceTruth, acct AccountTruth, p PostTruth, host string) {
	t.Helper()
	switch fam := postFamilies[it.Software]; {
	case fam == mastoFamily && (p.Visibility == "public" || p.Visibility == "unlisted"):
		r := get(t, s, "https://"+it.Host+"/api/v1/statuses/"+p.ID)
		if r.status != http.StatusOK {
			return // GoToSocial, APIAuthRequired
		}
		var st struct {
			ReplyAcct *string `json:"in_reply_to_account_id"`
			Mentions  []struct {
				ID, Acct string
			} `json:"mentions"`
		}
		decode(t, r.body, &st)
		require.NotNil(t, st.ReplyAcct)
		found := false
		for _, m := range st.Mentions {
			found = found || m.ID == *st.ReplyAcct && strings.HasSuffix(m.Acct, "@"+host)
		}
		require.True(t, found, "%s: the account answered is mentioned", p.URI)
	case fam == apFamily && p.Visibility == "public":
		r := serve(t, s, httpRequest(t, p.URI, "application/activity+json", nil))
		require.Equal(t, http.StatusOK, r.status)
		var note struct {
			InReplyTo string `json:"inReplyTo"`
		}
		decode(t, r.body, &note)
		require.Equal(t, p.InReplyTo, note.InReplyTo)
	case fam == misskeyFamily && p.Visibility == "public":
		var notes []struct {
			ID    string `json:"id"`
			Reply *struct {
				URI  string `json:"uri"`
				User struct {
					Host string `json:"host"`
				} `json:"user"`
			} `json:"reply"`
		}
		decode(t, postJSON(t, s, "https://"+it.Host+MisskeyUsersNotesPath, `{"userId":"`+acct.ID+`","limit":100,"withReplies":true}`).body, &notes)
		for _, n := range notes {
			if n.ID == p.ID {
				require.NotNil(t, n.Reply)
				require.Equal(t, p.InReplyTo, n.Reply.URI)
				require.Equal(t, host, n.Reply.User.Host)
				return
			}
		}
		require.Fail(t, "note not listed", p.URI)
	}
}
