package fedisim

import (
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// mkNote is the part of a served Misskey note the tests read.
type mkNote struct {
	ID         string   `json:"id"`
	UserID     string   `json:"userId"`
	Text       string   `json:"text"`
	Visibility string   `json:"visibility"`
	ReplyID    *string  `json:"replyId"`
	Tags       []string `json:"tags"`
	URI        *string  `json:"uri"`
	Files      []struct {
		Comment *string `json:"comment"`
	} `json:"files"`
	Reply *struct {
		ID string `json:"id"`
	} `json:"reply"`
}

func mkIDs(notes []mkNote) []string {
	out := make([]string, len(notes))
	for i, n := range notes {
		out[i] = n.ID
	}
	return out
}

// misskeySim is a small world with an opt-in word and its Misskey-family
// instances that are stored and have accounts.
func misskeySim(t *testing.T) (*Sim, []InstanceTruth) {
	t.Helper()
	s := New(Options{Seed: 7, Instances: 300, NoHostile: true, OptInWord: "#searchable"})
	s.skipDelays = true
	var out []InstanceTruth
	for _, it := range s.Truth().Instances {
		if postFamilies[it.Software] == misskeyFamily && len(it.Accounts) > 0 {
			out = append(out, it)
		}
	}
	require.NotEmpty(t, out)
	return s, out
}

func TestMisskeyUsersNotes(t *testing.T) {
	s, family := misskeySim(t)
	checked, replies := 0, 0
	for _, it := range family {
		for _, a := range it.Accounts {
			var want []string
			for _, p := range a.Posts {
				if p.Visibility == "public" || p.Visibility == "unlisted" {
					want = append(want, p.ID)
				}
			}
			sort.Sort(sort.Reverse(sort.StringSlice(want)))
			url := "https://" + it.Host + MisskeyUsersNotesPath
			r := postJSON(t, s, url, `{"userId":"`+a.ID+`","limit":100,"withReplies":true}`)
			require.Equal(t, http.StatusOK, r.status, "%s", r.body)
			var notes []mkNote
			decode(t, r.body, &notes)
			if len(want) == 0 {
				require.Empty(t, notes)
				continue
			}
			require.Equal(t, want, mkIDs(notes), "%s %s", it.Host, a.Acct)
			for _, n := range notes {
				require.Equal(t, a.ID, n.UserID)
				require.Contains(t, []string{"public", "home"}, n.Visibility)
				require.Nil(t, n.URI, "local notes have no uri")
				if n.ReplyID != nil {
					replies++
				}
			}
			// Without withReplies, replies to other users' notes are left out.
			own := map[string]bool{}
			for _, p := range a.Posts {
				own[p.URI] = true
			}
			var noReplies []string
			for _, p := range a.Posts {
				if (p.Visibility == "public" || p.Visibility == "unlisted") && (p.InReplyTo == "" || own[p.InReplyTo]) {
					noReplies = append(noReplies, p.ID)
				}
			}
			sort.Sort(sort.Reverse(sort.StringSlice(noReplies)))
			var plain []mkNote
			decode(t, postJSON(t, s, url, `{"userId":"`+a.ID+`","limit":100}`).body, &plain)
			require.Equal(t, len(noReplies), len(plain))
			if len(noReplies) > 0 {
				require.Equal(t, noReplies, mkIDs(plain))
			}
			// untilId paging, one by one, newest first.
			var paged []string
			for until := ""; ; {
				body := `{"userId":"` + a.ID + `","limit":1,"withReplies":true`
				if until != "" {
					body += `,"untilId":"` + until + `"`
				}
				var page []mkNote
				decode(t, postJSON(t, s, url, body+"}").body, &page)
				if len(page) == 0 {
					break
				}
				paged = append(paged, page[0].ID)
				until = page[0].ID
			}
			require.Equal(t, want, paged)
			// sinceId alone: the oldest notes after it, oldest first.
			if len(want) >= 3 {
				oldest := want[len(want)-1]
				var page []mkNote
				decode(t, postJSON(t, s, url, `{"userId":"`+a.ID+`","limit":2,"withReplies":true,"sinceId":"`+oldest+`"}`).body, &page)
				require.Equal(t, []string{want[len(want)-2], want[len(want)-3]}, mkIDs(page))
				// sinceId and untilId: newest first between them.
				decode(t, postJSON(t, s, url, `{"userId":"`+a.ID+`","limit":100,"withReplies":true,"sinceId":"`+oldest+`","untilId":"`+want[0]+`"}`).body, &page)
				require.Equal(t, want[1:len(want)-1], mkIDs(page))
			}
			checked++
		}
	}
	require.Greater(t, checked, 20)
	require.Positive(t, replies)
}

func TestMisskeyTimelineAndUsers(t *testing.T) {
	s, family := misskeySim(t)
	for _, it := range family[:min(len(family), 8)] {
		var public, explorable []string
		for _, a := range it.Accounts {
			if a.Discoverable {
				explorable = append(explorable, a.ID)
			}
			for _, p := range a.Posts {
				if p.Visibility == "public" {
					public = append(public, p.ID)
				}
			}
		}
		sort.Sort(sort.Reverse(sort.StringSlice(public)))
		var notes []mkNote
		decode(t, postJSON(t, s, "https://"+it.Host+MisskeyLocalTimelinePath, `{"limit":100,"withReplies":true}`).body, &notes)
		if len(public) == 0 {
			require.Empty(t, notes, it.Host)
		} else {
			require.Equal(t, public, mkIDs(notes), it.Host)
		}

		var users []struct {
			ID          string  `json:"id"`
			Host        *string `json:"host"`
			Description string  `json:"description"`
			NoIndex     *bool   `json:"noindex"`
			Indexable   *bool   `json:"indexable"`
		}
		decode(t, postJSON(t, s, "https://"+it.Host+MisskeyUsersPath, `{"origin":"local","sort":"+createdAt","state":"all","limit":100,"offset":0}`).body, &users)
		var got []string
		for _, u := range users {
			got = append(got, u.ID)
			require.Nil(t, u.Host)
			require.NotNil(t, u.NoIndex)
			require.Nil(t, u.Indexable, "Misskey has no indexable flag")
			require.NotContains(t, u.Description, "<")
		}
		require.ElementsMatch(t, explorable, got, it.Host)
	}
}

func TestMisskeyUsersShowAndErrors(t *testing.T) {
	s, family := misskeySim(t)
	it := family[0]
	a := it.Accounts[0]
	base := "https://" + it.Host
	type user struct {
		ID          string `json:"id"`
		Username    string `json:"username"`
		Description string `json:"description"`
		NoIndex     bool   `json:"noindex"`
		Fields      []struct{ Name, Value string }
	}
	var byID, byName user
	decode(t, postJSON(t, s, base+MisskeyUsersShowPath, `{"userId":"`+a.ID+`"}`).body, &byID)
	decode(t, postJSON(t, s, base+MisskeyUsersShowPath, `{"username":"`+strings.ToUpper(a.Username)+`","host":null}`).body, &byName)
	require.Equal(t, byID, byName)
	require.Equal(t, a.Username, byID.Username)
	require.Equal(t, htmlText(a.Bio), byID.Description)
	require.Equal(t, a.NoIndex, byID.NoIndex)
	require.Len(t, byID.Fields, len(a.Fields))

	noIndex := 0
	for _, f := range family {
		for _, acc := range f.Accounts {
			if acc.NoIndex {
				noIndex++
				require.False(t, acc.Consents, "noindex never consents")
			}
		}
	}
	require.Positive(t, noIndex)

	for _, tc := range []struct {
		name, path, body string
		status           int
		code             string
	}{
		{"unknown id", MisskeyUsersShowPath, `{"userId":"zzzzzzzzzz"}`, 400, "NO_SUCH_USER"},
		{"unknown name", MisskeyUsersShowPath, `{"username":"nobody","host":null}`, 400, "NO_SUCH_USER"},
		{"remote host", MisskeyUsersShowPath, `{"username":"` + a.Username + `","host":"elsewhere.example"}`, 400, "NO_SUCH_USER"},
		{"no user", MisskeyUsersShowPath, `{}`, 400, "INVALID_PARAM"},
		{"notes of unknown", MisskeyUsersNotesPath, `{"userId":"zzzzzzzzzz"}`, 400, "NO_SUCH_USER"},
		{"notes limit", MisskeyUsersNotesPath, `{"userId":"` + a.ID + `","limit":101}`, 400, "INVALID_PARAM"},
		{"notes bad since", MisskeyUsersNotesPath, `{"userId":"` + a.ID + `","sinceId":5}`, 400, "INVALID_PARAM"},
		{"timeline limit", MisskeyLocalTimelinePath, `{"limit":0}`, 400, "INVALID_PARAM"},
		{"users sort", MisskeyUsersPath, `{"sort":"random"}`, 400, "INVALID_PARAM"},
		{"bad json", MisskeyUsersPath, `{`, 400, "INVALID_PARAM"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := postJSON(t, s, base+tc.path, tc.body)
			require.Equal(t, tc.status, r.status, "%s", r.body)
			var e struct{ Error struct{ Code string } }
			decode(t, r.body, &e)
			require.Equal(t, tc.code, e.Error.Code)
		})
	}
	r := do(t, s, http.MethodGet, base+MisskeyUsersNotesPath, "", "")
	require.Equal(t, http.StatusMethodNotAllowed, r.status)
}

// TestMisskeyTextIsMFM: note texts are plain MFM: remote mentions carry
// their host, typed markup is served verbatim, file comments are the alt
// texts, and a reply embeds its parent.
func TestMisskeyTextIsMFM(t *testing.T) {
	s, family := misskeySim(t)
	var remote, typed, alt, embedded bool
	for _, it := range family {
		for _, a := range it.Accounts {
			byID := map[string]PostTruth{}
			for _, p := range a.Posts {
				byID[p.ID] = p
			}
			var notes []mkNote
			decode(t, postJSON(t, s, "https://"+it.Host+MisskeyUsersNotesPath, `{"userId":"`+a.ID+`","limit":100,"withReplies":true}`).body, &notes)
			for _, n := range notes {
				p := byID[n.ID]
				for _, m := range p.Mentions {
					require.Contains(t, n.Text, "@"+m)
					remote = remote || strings.Contains(m, "@")
				}
				for _, h := range hostileHTML {
					if strings.HasSuffix(p.ContentHTML, h) {
						require.True(t, strings.HasSuffix(n.Text, h), "%q", n.Text)
						typed = true
					}
				}
				require.NotContains(t, strings.TrimSuffix(n.Text, suffixOf(p.ContentHTML)), "<")
				var alts []string
				for _, f := range n.Files {
					if f.Comment != nil {
						alts = append(alts, *f.Comment)
					}
				}
				require.Equal(t, p.AltText, strings.Join(alts, "\n"))
				alt = alt || p.AltText != ""
				if n.ReplyID != nil && n.Reply != nil {
					require.Equal(t, *n.ReplyID, n.Reply.ID)
					require.Equal(t, "https://"+it.Host+"/notes/"+*n.ReplyID, p.InReplyTo)
					embedded = true
				}
				var tags []string
				for _, tag := range p.Tags {
					tags = append(tags, tag)
					require.Contains(t, strings.ToLower(n.Text), "#"+tag)
				}
				require.Equal(t, tags, n.Tags)
			}
		}
	}
	require.True(t, remote && typed && alt && embedded, "remote %v typed %v alt %v embedded %v", remote, typed, alt, embedded)
}

func suffixOf(content string) string {
	for _, h := range hostileHTML {
		if strings.HasSuffix(content, h) {
			return h
		}
	}
	return ""
}

// TestMisskeyEpochChanges: deleted notes vanish from the lists, deleted
// users answer NO_SUCH_USER.
func TestMisskeyEpochChanges(t *testing.T) {
	s, family := misskeySim(t)
	before := map[string]AccountTruth{}
	hostOf := map[string]string{}
	for _, it := range family {
		for _, a := range it.Accounts {
			before[a.Acct] = a
			hostOf[a.Acct] = it.Host
		}
	}
	s.Advance()
	after := map[string]AccountTruth{}
	for _, it := range s.Truth().Instances {
		for _, a := range it.Accounts {
			after[a.Acct] = a
		}
	}
	goneUsers, goneNotes := 0, 0
	for acct, a := range before {
		base := "https://" + hostOf[acct]
		now, ok := after[acct]
		if !ok {
			r := postJSON(t, s, base+MisskeyUsersShowPath, `{"userId":"`+a.ID+`"}`)
			require.Equal(t, http.StatusBadRequest, r.status)
			require.Contains(t, string(r.body), "NO_SUCH_USER")
			goneUsers++
			continue
		}
		live := map[string]bool{}
		for _, p := range now.Posts {
			live[p.ID] = true
		}
		var notes []mkNote
		decode(t, postJSON(t, s, base+MisskeyUsersNotesPath, `{"userId":"`+a.ID+`","limit":100,"withReplies":true}`).body, &notes)
		served := map[string]bool{}
		for _, n := range notes {
			require.True(t, live[n.ID], "%s serves a deleted note %s", acct, n.ID)
			served[n.ID] = true
		}
		for _, p := range a.Posts {
			if !live[p.ID] && p.Visibility != "private" && p.Visibility != "direct" {
				require.False(t, served[p.ID])
				goneNotes++
			}
		}
	}
	require.Positive(t, goneUsers)
	require.Positive(t, goneNotes)
}
