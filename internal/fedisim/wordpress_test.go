package fedisim

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// wpUser is the part of a /wp/v2/users entry the tests read.
type wpUser struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
	Link string `json:"link"`
	Slug string `json:"slug"`
}

// wpUsersOf pages through an instance's user list, per users a page.
func wpUsersOf(t *testing.T, s *Sim, host string, per int) []wpUser {
	t.Helper()
	var all []wpUser
	for page := 1; ; page++ {
		r := get(t, s, "https://"+host+"/wp-json/wp/v2/users?per_page="+strconv.Itoa(per)+"&page="+strconv.Itoa(page))
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		require.Equal(t, "application/json; charset=UTF-8", r.header.Get("Content-Type"))
		var users []wpUser
		decode(t, r.body, &users)
		all = append(all, users...)
		pages, err := strconv.Atoi(r.header.Get("X-WP-TotalPages"))
		require.NoError(t, err)
		if page >= pages {
			total, err := strconv.Atoi(r.header.Get("X-WP-Total"))
			require.NoError(t, err)
			require.Len(t, all, total)
			require.NotContains(t, r.header.Get("Link"), `rel="next"`)
			return all
		}
		require.Contains(t, r.header.Get("Link"), `rel="next"`)
		require.Len(t, users, per)
	}
}

// TestWordPressUsers: the REST user list in WordPress's format names
// exactly the authors rule 5 reads (live users with a published post),
// whose link is the actor, at every epoch.
func TestWordPressUsers(t *testing.T) {
	s := New(Options{Seed: 4, Instances: 250, NoHostile: true, PostScale: 3})
	s.skipDelays = true
	check := func(epoch int) {
		seen := 0
		for _, it := range s.Truth().Instances {
			if it.Software != "wordpress" || len(it.Accounts) < 2 {
				continue
			}
			for _, a := range it.Accounts {
				for _, p := range a.Posts {
					for _, m := range p.Mentions {
						require.True(t, !strings.Contains(m, "@") || strings.HasSuffix(m, "@"+it.Host), "a blog mentions local authors only: %s", m)
					}
					if len(p.Mentions) == 0 {
						require.NotContains(t, p.ContentHTML, "h-card", "no mention left in %s", p.URI)
					}
				}
			}
			want := map[string]bool{}
			apFamily.authors(&it, want)
			if len(want) < 2 {
				continue
			}
			seen++
			one := wpUsersOf(t, s, it.Host, 1)
			all := wpUsersOf(t, s, it.Host, 100)
			require.Equal(t, all, one, "paging changes nothing")
			require.True(t, sort.SliceIsSorted(all, func(i, j int) bool { return all[i].Name < all[j].Name }), "ordered by name")
			got := map[string]bool{}
			for _, u := range all {
				got[u.Slug+"@"+it.Host] = true
				require.Equal(t, "https://"+it.Host+"/author/"+u.Slug+"/", u.Link)
				actor := do(t, s, http.MethodGet, u.Link, "application/activity+json", "")
				require.Equal(t, http.StatusOK, actor.status)
				require.Contains(t, string(actor.body), `"preferredUsername":"`+u.Slug+`"`)
			}
			require.Equal(t, want, got, "epoch %d: %s", epoch, it.Host)
			raw := get(t, s, "https://"+it.Host+"/wp-json/wp/v2/users?per_page=100")
			require.Contains(t, string(raw.body), `"link":"https:\/\/`+it.Host+`\/author\/`, "PHP escapes slashes")
			past := get(t, s, "https://"+it.Host+"/wp-json/wp/v2/users?per_page=100&page=9")
			require.Equal(t, http.StatusBadRequest, past.status)
			require.Contains(t, string(past.body), "rest_user_invalid_page_number")
			bad := get(t, s, "https://"+it.Host+"/wp-json/wp/v2/users?per_page=500")
			require.Equal(t, http.StatusBadRequest, bad.status)
		}
		require.GreaterOrEqual(t, seen, 3, "epoch %d", epoch)
	}
	check(0)
	gone := s.Truth()
	s.Advance()
	check(1)
	// Accounts deleted in epoch 1 answer 404 at their actor, and their
	// WebFinger too.
	deleted := 0
	now := s.Truth()
	for _, it := range gone.Instances {
		if it.Software != "wordpress" {
			continue
		}
		cur, _ := now.Instance(it.Host)
		live := map[string]bool{}
		for _, a := range cur.Accounts {
			live[a.Acct] = true
		}
		for _, a := range it.Accounts {
			if live[a.Acct] {
				continue
			}
			deleted++
			require.Equal(t, http.StatusNotFound, do(t, s, http.MethodGet, a.URI, "application/activity+json", "").status)
			user, _, _ := strings.Cut(a.Acct, "@")
			require.Equal(t, http.StatusNotFound, get(t, s, "https://"+it.Host+"/.well-known/webfinger?resource=acct:"+user+"@"+it.Host).status)
		}
	}
	require.Positive(t, deleted, "epoch 1 deletes some WordPress accounts")
}

// familyPosts keeps the posts of the instances whose software rule 5
// reads with family f (a client that reads one family compares only
// those).
func familyPosts(tr *Truth, posts []PostTruth, f *postFamily) []PostTruth {
	var out []PostTruth
	for _, p := range posts {
		_, host, _ := strings.Cut(p.Author, "@")
		if it, ok := tr.Instance(host); ok && postFamilies[it.Software] == f {
			out = append(out, p)
		}
	}
	return out
}
