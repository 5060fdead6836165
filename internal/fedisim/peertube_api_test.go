package fedisim

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

type ptVideo struct {
	UUID        string  `json:"uuid"`
	ShortUUID   string  `json:"shortUUID"`
	URL         string  `json:"url"`
	Description *string `json:"description"`
	NSFW        bool    `json:"nsfw"`
	PublishedAt string  `json:"publishedAt"`
	Privacy     struct {
		ID int `json:"id"`
	} `json:"privacy"`
	Account struct {
		Name string `json:"name"`
		Host string `json:"host"`
	} `json:"account"`
	Tags []string `json:"tags"`
}

type ptList struct {
	Total int       `json:"total"`
	Data  []ptVideo `json:"data"`
}

// peerTubeWithVideos returns a well-behaved PeerTube instance with a
// public video whose description lists cut, and an unlisted or private one.
func peerTubeWithVideos(t *testing.T, s *Sim) InstanceTruth {
	t.Helper()
	return instanceWith(t, s.Truth(), func(it InstanceTruth) bool {
		if it.Software != "peertube" || len(it.Behaviours) > 0 {
			return false
		}
		long, hidden := false, false
		for _, a := range it.Accounts {
			for _, p := range a.Posts {
				long = long || p.Visibility == "public" && utf8.RuneCountInString(p.ContentHTML) > 400
				hidden = hidden || p.Visibility == "private"
			}
		}
		return long && hidden
	})
}

// TestPeerTubeEndpoints checks the video list, VideoDetails, accounts and
// their videos against the truth, and what epoch 1 deletes.
func TestPeerTubeEndpoints(t *testing.T) {
	s := New(Options{Seed: 3, Instances: 400, OptInWord: "#searchable"})
	s.skipDelays = true
	it := peerTubeWithVideos(t, s)
	base := "https://" + it.Host

	var public, nsfwFree []PostTruth
	var private PostTruth
	for _, a := range it.Accounts {
		for _, p := range a.Posts {
			require.Equal(t, "video", p.Kind)
			require.Equal(t, base+"/videos/watch/"+p.ID, p.URI)
			switch p.Visibility {
			case "public":
				public = append(public, p)
				if !p.Sensitive {
					nsfwFree = append(nsfwFree, p)
				}
			case "private":
				private = p
			}
		}
	}
	var l ptList
	decode(t, get(t, s, base+"/api/v1/videos?isLocal=true&sort=-publishedAt&nsfw=both&start=0&count=100").body, &l)
	require.Equal(t, len(public), l.Total)
	require.Len(t, l.Data, len(public))
	want := map[string]PostTruth{}
	for _, p := range public {
		want[p.URI] = p
	}
	truncated := ""
	for i, v := range l.Data {
		p, ok := want[v.URL]
		require.True(t, ok, v.URL)
		require.Equal(t, p.ID, v.UUID)
		require.Equal(t, 1, v.Privacy.ID)
		require.Equal(t, it.Host, v.Account.Host)
		require.Equal(t, p.Author, v.Account.Name+"@"+it.Host)
		if i > 0 {
			require.GreaterOrEqual(t, l.Data[i-1].PublishedAt, v.PublishedAt, "newest first")
		}
		if v.Description != nil {
			require.LessOrEqual(t, utf8.RuneCountInString(*v.Description), peerTubeDescriptionMax)
			if utf8.RuneCountInString(*v.Description) == peerTubeDescriptionMax {
				require.True(t, strings.HasSuffix(*v.Description, "..."))
				truncated = v.UUID
			}
		}
	}
	require.NotEmpty(t, truncated, "a description is cut")

	// The instance's NSFW policy hides NSFW videos unless asked; paging.
	decode(t, get(t, s, base+"/api/v1/videos?isLocal=true&count=100").body, &l)
	require.Equal(t, len(nsfwFree), l.Total)
	decode(t, get(t, s, base+"/api/v1/videos?isLocal=true&nsfw=both&start=1&count=1").body, &l)
	require.Len(t, l.Data, 1)
	decode(t, get(t, s, base+"/api/v1/videos?isLocal=false&nsfw=both").body, &l)
	require.Zero(t, l.Total)
	for _, bad := range []string{"count=101", "start=-1", "count=x", "sort=-views"} {
		require.Equal(t, http.StatusBadRequest, get(t, s, base+"/api/v1/videos?"+bad).status, bad)
	}

	// VideoDetails: the full description and the tags.
	var d ptVideo
	r := get(t, s, base+"/api/v1/videos/"+truncated)
	require.Equal(t, http.StatusOK, r.status)
	decode(t, r.body, &d)
	require.Greater(t, utf8.RuneCountInString(*d.Description), peerTubeDescriptionMax)
	var tags []string
	for _, tg := range d.Tags {
		tags = append(tags, strings.ToLower(tg))
	}
	p := want[base+"/videos/watch/"+truncated]
	require.Equal(t, p.Tags, tags)
	var desc struct{ Description string }
	decode(t, get(t, s, base+"/api/v1/videos/"+truncated+"/description").body, &desc)
	require.Equal(t, *d.Description, desc.Description)
	require.Equal(t, http.StatusOK, get(t, s, base+"/api/v1/videos/"+d.ShortUUID).status)
	require.Equal(t, http.StatusForbidden, get(t, s, base+"/api/v1/videos/"+private.ID).status)
	require.Equal(t, http.StatusNotFound, get(t, s, base+"/api/v1/videos/00000000-0000-4000-8000-000000000000").status)

	// ActivityPub stays out; browsers get a page.
	require.Equal(t, http.StatusNotFound, do(t, s, http.MethodGet, p.URI, apAccept, "").status)
	require.Equal(t, http.StatusOK, do(t, s, http.MethodGet, p.URI, "text/html", "").status)

	// Accounts: the description carries the bio's words; their videos.
	for _, a := range it.Accounts {
		var acc struct {
			Name, Host, URL string
			Description     *string
		}
		decode(t, get(t, s, base+"/api/v1/accounts/"+a.Username).body, &acc)
		require.Equal(t, a.Username, acc.Name)
		require.Equal(t, a.URI, acc.URL)
		require.NotNil(t, acc.Description)
		require.Equal(t, strings.Contains(a.Bio, "#searchable"), strings.Contains(*acc.Description, "#searchable"))
		require.NotContains(t, *acc.Description, "<")
		var al ptList
		decode(t, get(t, s, base+"/api/v1/accounts/"+a.Username+"@"+it.Host+"/videos?nsfw=both&count=100").body, &al)
		n := 0
		for _, p := range a.Posts {
			if p.Visibility == "public" {
				n++
			}
		}
		require.Equal(t, n, al.Total, a.Acct)
	}
	require.Equal(t, http.StatusNotFound, get(t, s, base+"/api/v1/accounts/nobody").status)

	// Epoch 1: deleted videos and accounts answer 404 and leave the lists.
	var before []PostTruth
	for _, a := range it.Accounts {
		before = append(before, a.Posts...)
	}
	s.Advance()
	it1, ok := s.Truth().Instance(it.Host)
	require.True(t, ok)
	live := map[string]bool{}
	accts := map[string]bool{}
	for _, a := range it1.Accounts {
		accts[a.Username] = true
		for _, p := range a.Posts {
			live[p.URI] = true
		}
	}
	decode(t, get(t, s, base+"/api/v1/videos?isLocal=true&nsfw=both&count=100").body, &l)
	for _, v := range l.Data {
		require.True(t, live[v.URL], v.URL)
	}
	for _, p := range before {
		if !live[p.URI] {
			require.Equal(t, http.StatusNotFound, get(t, s, base+"/api/v1/videos/"+p.ID).status)
		}
	}
	for _, a := range it.Accounts {
		if !accts[a.Username] {
			require.Equal(t, http.StatusNotFound, get(t, s, base+"/api/v1/accounts/"+a.Username).status)
		}
	}
}

// TestPeerTubeVideoKeyOrder: the list item's keys follow the recorded
// PeerTube answer's order.
func TestPeerTubeVideoKeyOrder(t *testing.T) {
	raw, err := os.ReadFile("/work/shared/fixtures/captured/peertube/api_v1_videos.json")
	if err != nil {
		raw = nil
	}
	s := sharedSim(t)
	it := instanceWith(t, s.Truth(), func(it InstanceTruth) bool {
		return it.Software == "peertube" && len(it.Behaviours) == 0 && strings.HasPrefix(it.Version, "7.") && len(it.Accounts) > 0
	})
	var served struct{ Data []json.RawMessage }
	decode(t, get(t, s, "https://"+it.Host+"/api/v1/videos?nsfw=both").body, &served)
	require.NotEmpty(t, served.Data)
	got := objectKeys(t, served.Data[0])
	want := []string{"id", "uuid", "shortUUID", "url", "name", "category", "licence", "language", "privacy", "nsfw",
		"truncatedDescription", "description", "isLocal", "duration", "aspectRatio", "views", "viewers", "likes", "dislikes",
		"thumbnailPath", "previewPath", "embedPath", "createdAt", "updatedAt", "publishedAt", "originallyPublishedAt",
		"isLive", "account", "channel", "comments"}
	require.Equal(t, want, got)
	if raw != nil {
		var fixture struct{ Data []json.RawMessage }
		require.NoError(t, json.Unmarshal(raw, &fixture))
		pos := map[string]int{}
		for i, k := range objectKeys(t, fixture.Data[0]) {
			pos[k] = i
		}
		for i := 1; i < len(got); i++ {
			require.Less(t, pos[got[i-1]], pos[got[i]], "%s before %s", got[i-1], got[i])
		}
	}
}

// objectKeys returns a JSON object's keys in document order.
func objectKeys(t *testing.T, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	_, err := dec.Token()
	require.NoError(t, err)
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		require.NoError(t, err)
		keys = append(keys, k.(string))
		var skip json.RawMessage
		require.NoError(t, dec.Decode(&skip))
	}
	return keys
}
