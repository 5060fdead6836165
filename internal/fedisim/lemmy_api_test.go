package fedisim

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// lemmyListing pages a Lemmy listing with limit 50 and returns the ap_ids.
func lemmyListing(t *testing.T, s *Sim, host, path, key string) (live, blanked []string) {
	t.Helper()
	for page := 1; page < 100; page++ {
		r := get(t, s, fmt.Sprintf("https://%s%s?type_=Local&sort=New&limit=50&page=%d", host, path, page))
		require.Equal(t, http.StatusOK, r.status)
		type item struct {
			Post struct {
				APID string `json:"ap_id"`
			} `json:"post"`
			Comment struct {
				APID    string `json:"ap_id"`
				Content string `json:"content"`
				Deleted bool   `json:"deleted"`
				Removed bool   `json:"removed"`
			} `json:"comment"`
		}
		var body struct {
			Posts    []item `json:"posts"`
			Comments []item `json:"comments"`
		}
		decode(t, r.body, &body)
		items := body.Comments
		if key == "posts" {
			items = body.Posts
		}
		for _, v := range items {
			switch {
			case key == "posts":
				live = append(live, v.Post.APID)
			case v.Comment.Deleted || v.Comment.Removed:
				require.Empty(t, v.Comment.Content, "a deleted comment is blanked")
				blanked = append(blanked, v.Comment.APID)
			default:
				live = append(live, v.Comment.APID)
			}
		}
		if len(items) < 50 {
			return live, blanked
		}
	}
	t.Fatal("listing does not end")
	return nil, nil
}

// TestLemmyEndpointsMatchTruth: the post and comment listings and the
// person endpoint serve exactly the truth's live posts and comments, at
// epoch 0 and after an epoch (deletions, withdrawals, new items).
func TestLemmyEndpointsMatchTruth(t *testing.T) {
	s := New(Options{Seed: 11, Instances: 400, NoHostile: true, OptInWord: "#searchable"})
	var deletedSeen, withdrawn, blankedSeen, consenting, refusing int
	for epoch := 0; epoch < 2; epoch++ {
		if epoch == 1 {
			s.Advance()
		}
		tr := s.Truth()
		n := 0
		for _, it := range tr.Instances {
			if it.Software != "lemmy" || len(it.Behaviours) > 0 {
				continue
			}
			n++
			var wantPosts, wantComments []string
			for _, a := range it.LemmyPersons {
				if a.Consents {
					consenting++
				} else {
					refusing++
				}
				for _, p := range a.Posts {
					require.Equal(t, "public", p.Visibility)
					if p.Kind == "page" {
						wantPosts = append(wantPosts, p.URI)
					} else {
						require.Equal(t, "note", p.Kind)
						require.NotEmpty(t, p.InReplyTo)
						wantComments = append(wantComments, p.URI)
					}
				}
			}
			posts, _ := lemmyListing(t, s, it.Host, "/api/v3/post/list", "posts")
			comments, blanked := lemmyListing(t, s, it.Host, "/api/v3/comment/list", "comments")
			blankedSeen += len(blanked)
			sort.Strings(wantPosts)
			sort.Strings(wantComments)
			sort.Strings(posts)
			sort.Strings(comments)
			require.Equal(t, wantPosts, posts, "%s epoch %d", it.Host, epoch)
			require.Equal(t, wantComments, comments, "%s epoch %d", it.Host, epoch)

			for _, a := range it.LemmyPersons {
				r := get(t, s, "https://"+it.Host+"/api/v3/user?username="+strings.ToUpper(a.Username)+"&limit=50")
				require.Equal(t, http.StatusOK, r.status)
				var d struct {
					PersonView struct {
						Person struct {
							Name    string `json:"name"`
							ActorID string `json:"actor_id"`
							Bio     string `json:"bio"`
						} `json:"person"`
					} `json:"person_view"`
					Posts []struct {
						Post struct {
							APID string `json:"ap_id"`
						} `json:"post"`
					} `json:"posts"`
					Comments []struct {
						Comment struct {
							APID    string `json:"ap_id"`
							Deleted bool   `json:"deleted"`
							Removed bool   `json:"removed"`
						} `json:"comment"`
					} `json:"comments"`
				}
				decode(t, r.body, &d)
				require.Equal(t, a.Username, d.PersonView.Person.Name)
				require.Equal(t, a.URI, d.PersonView.Person.ActorID)
				require.Equal(t, a.Bio, d.PersonView.Person.Bio)
				var got, want []string
				for _, p := range d.Posts {
					got = append(got, p.Post.APID)
				}
				for _, c := range d.Comments {
					if !c.Comment.Deleted && !c.Comment.Removed {
						got = append(got, c.Comment.APID)
					}
				}
				for _, p := range a.Posts {
					want = append(want, p.URI)
				}
				sort.Strings(got)
				sort.Strings(want)
				require.Equal(t, want, got, a.Acct)
			}
			if epoch == 1 {
				old, _ := tr.prev.Instance(it.Host)
				for _, a := range old.LemmyPersons {
					if a.Consents && !consentsIn(it.LemmyPersons, a.Acct) {
						withdrawn++
					}
					if !hasPerson(it.LemmyPersons, a.Acct) {
						deletedSeen++
						r := get(t, s, "https://"+it.Host+"/api/v3/user?username="+a.Username)
						require.Equal(t, http.StatusNotFound, r.status)
						require.JSONEq(t, `{"error":"couldnt_find_person"}`, string(r.body))
					}
				}
			}
			r := get(t, s, "https://"+it.Host+"/api/v3/user?username=nobody")
			require.Equal(t, http.StatusNotFound, r.status)
		}
		require.Greater(t, n, 5)
	}
	require.Positive(t, withdrawn, "an epoch withdraws consent")
	t.Logf("%d persons withdrew, %d of them by deleting their account", withdrawn, deletedSeen)
	require.Positive(t, blankedSeen, "deleted comments are listed blanked")
	require.Positive(t, consenting)
	require.Positive(t, refusing)
}

func consentsIn(ps []AccountTruth, acct string) bool {
	for _, p := range ps {
		if p.Acct == acct {
			return p.Consents
		}
	}
	return false
}

func hasPerson(ps []AccountTruth, acct string) bool {
	for _, p := range ps {
		if p.Acct == acct {
			return true
		}
	}
	return false
}

// TestLemmyPagination: limits, page cursors, 0.18 times, and the site's
// language table.
func TestLemmyPagination(t *testing.T) {
	s := New(Options{Seed: 11, Instances: 400, NoHostile: true})
	tr := s.Truth()
	var it InstanceTruth
	for _, x := range tr.Instances {
		n := 0
		for _, a := range x.LemmyPersons {
			for _, p := range a.Posts {
				if p.Kind == "page" {
					n++
				}
			}
		}
		if x.Software == "lemmy" && len(x.Behaviours) == 0 && strings.HasPrefix(x.Version, "0.19") && n >= 6 {
			it = x
			break
		}
	}
	require.NotEmpty(t, it.Host)
	type page struct {
		Posts []struct {
			Post struct {
				APID      string `json:"ap_id"`
				Published string `json:"published"`
			} `json:"post"`
		} `json:"posts"`
		NextPage *string `json:"next_page"`
	}
	var all page
	decode(t, get(t, s, "https://"+it.Host+"/api/v3/post/list?type_=Local&sort=New&limit=50").body, &all)
	var first page
	decode(t, get(t, s, "https://"+it.Host+"/api/v3/post/list?type_=Local&sort=New&limit=3").body, &first)
	require.Len(t, first.Posts, 3)
	require.NotNil(t, first.NextPage)
	require.True(t, strings.HasSuffix(first.Posts[0].Post.Published, "Z"))
	var second page
	decode(t, get(t, s, "https://"+it.Host+"/api/v3/post/list?type_=Local&sort=New&limit=3&page_cursor="+*first.NextPage).body, &second)
	var byPage page
	decode(t, get(t, s, "https://"+it.Host+"/api/v3/post/list?type_=Local&sort=New&limit=3&page=2").body, &byPage)
	require.Equal(t, byPage.Posts, second.Posts)
	require.Equal(t, all.Posts[3:6], second.Posts)
	require.Equal(t, http.StatusBadRequest, get(t, s, "https://"+it.Host+"/api/v3/post/list?page_cursor=junk").status)
	require.Equal(t, http.StatusBadRequest, get(t, s, "https://"+it.Host+"/api/v3/post/list?limit=-1").status)
	var capped page
	decode(t, get(t, s, "https://"+it.Host+"/api/v3/post/list?limit=500").body, &capped)
	require.LessOrEqual(t, len(capped.Posts), 50)

	old := instanceWith(t, tr, func(x InstanceTruth) bool {
		return x.Software == "lemmy" && len(x.Behaviours) == 0 && x.Version == "0.18.5" && len(x.LemmyPersons) > 0
	})
	r := get(t, s, "https://"+old.Host+"/api/v3/user?username="+old.LemmyPersons[0].Username)
	require.Equal(t, http.StatusOK, r.status)
	require.Regexp(t, `"published":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}"`, string(r.body), "0.18 writes times without a zone")
	require.NotContains(t, string(get(t, s, "https://"+old.Host+"/api/v3/post/list").body), "next_page")

	site := get(t, s, "https://"+it.Host+"/api/v3/site")
	require.Contains(t, string(site.body), `{"id":37,"code":"en","name":"English"}`)

	// The default world: Lemmy persons exist but nobody consents.
	for _, x := range tr.Instances {
		for _, a := range x.LemmyPersons {
			require.False(t, a.Consents, a.Acct)
		}
	}
}

// TestLemmyContentDeterministic: the same options give the same content.
func TestLemmyContentDeterministic(t *testing.T) {
	a := New(Options{Seed: 4, Instances: 200, OptInWord: "#searchable"})
	b := New(Options{Seed: 4, Instances: 200, OptInWord: "#searchable"})
	a.Advance()
	b.Advance()
	ta, tb := a.Truth(), b.Truth()
	n := 0
	for i := range ta.Instances {
		require.Equal(t, ta.Instances[i].LemmyPersons, tb.Instances[i].LemmyPersons)
		n += len(ta.Instances[i].LemmyPersons)
	}
	require.Positive(t, n)
}
