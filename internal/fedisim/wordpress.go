package fedisim

import (
	"crypto/md5"
	"encoding/hex"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// WordPress's REST API, as far as a crawler reads it: the public user list
// (GET /wp-json/wp/v2/users), which names the authors whose ActivityPub
// actors (the ActivityPub plugin serves them at the author page,
// /author/<slug>/, to ActivityStreams Accept headers) and outboxes hold
// their posts.
const (
	wpUsersPath       = "/wp-json/wp/v2/users"
	wpUsersDefaultPer = 10
	wpUsersMaxPer     = 100
)

// wpListed reports whether WordPress's user list shows the account: by
// default it shows only the users with published posts, which the
// ActivityPub plugin publishes as public or unlisted ("quiet public").
func wpListed(a *account) bool {
	for _, pst := range a.posts {
		if !pst.gone && (pst.visibility == "public" || pst.visibility == "unlisted") {
			return true
		}
	}
	return false
}

// routeWordPressAPI serves the WordPress REST API and reports whether it
// did.
func (s *Sim) routeWordPressAPI(w http.ResponseWriter, r *http.Request, in *instance) bool {
	path := strings.TrimSuffix(r.URL.Path, "/")
	if path != wpUsersPath || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return false
	}
	s.serveWPUsers(w, r, in)
	return true
}

// wpError writes a WordPress REST error ({"code","message","data":{"status"}}).
func wpError(w http.ResponseWriter, status int, code, message string) {
	body := encodeJSON(obj{{"code", code}, {"message", message}, {"data", obj{{"status", status}}}}, stylePHP)
	writeJSON(w, status, body, "application/json; charset=UTF-8")
}

// serveWPUsers answers /wp-json/wp/v2/users?per_page=N&page=N in
// WordPress's format: users ordered by name, X-WP-Total and
// X-WP-TotalPages headers, a Link header to the neighbouring pages, 400
// rest_invalid_param for a bad per_page and rest_user_invalid_page_number
// beyond the last page.
func (s *Sim) serveWPUsers(w http.ResponseWriter, r *http.Request, in *instance) {
	c := s.world.contentOf(in)
	q := r.URL.Query()
	per, page := wpUsersDefaultPer, 1
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > wpUsersMaxPer {
			wpError(w, http.StatusBadRequest, "rest_invalid_param", "Invalid parameter(s): per_page")
			return
		}
		per = n
	}
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			wpError(w, http.StatusBadRequest, "rest_invalid_param", "Invalid parameter(s): page")
			return
		}
		page = n
	}
	var users []*account
	for _, a := range c.accounts {
		if !a.gone && wpListed(a) {
			users = append(users, a)
		}
	}
	sort.SliceStable(users, func(i, j int) bool {
		if users[i].displayName != users[j].displayName {
			return users[i].displayName < users[j].displayName
		}
		return users[i].id < users[j].id
	})
	total := len(users)
	pages := (total + per - 1) / per
	if page > pages && total > 0 {
		wpError(w, http.StatusBadRequest, "rest_user_invalid_page_number",
			"The page number requested is larger than the number of pages available.")
		return
	}
	lo := min((page-1)*per, total)
	hi := min(lo+per, total)
	base := "https://" + in.host + wpUsersPath
	items := arr{}
	for _, a := range users[lo:hi] {
		items = append(items, wpUserJSON(in, a, base))
	}
	h := w.Header()
	h.Set("X-WP-Total", strconv.Itoa(total))
	h.Set("X-WP-TotalPages", strconv.Itoa(pages))
	var links []string
	if page > 1 {
		links = append(links, "<"+base+"?per_page="+strconv.Itoa(per)+"&page="+strconv.Itoa(page-1)+">; rel=\"prev\"")
	}
	if page < pages {
		links = append(links, "<"+base+"?per_page="+strconv.Itoa(per)+"&page="+strconv.Itoa(page+1)+">; rel=\"next\"")
	}
	if len(links) > 0 {
		h.Set("Link", strings.Join(links, ", "))
	}
	h.Set("Allow", "GET")
	writeJSON(w, http.StatusOK, encodeJSON(items, stylePHP), "application/json; charset=UTF-8")
}

// wpUserJSON is one user of /wp/v2/users in the "view" context: id, name,
// url, description (the plain biography), link (the author page, which is
// also the ActivityPub actor), slug, avatar_urls, meta and _links.
func wpUserJSON(in *instance, a *account, base string) obj {
	sum := md5.Sum([]byte(a.username + "@" + in.host))
	grav := "https://secure.gravatar.com/avatar/" + hex.EncodeToString(sum[:]) + "?s="
	return obj{
		{"id", wpUserID(a)}, {"name", a.displayName}, {"url", ""}, {"description", plainBio(a)},
		{"link", a.profileURL}, {"slug", a.username},
		{"avatar_urls", obj{{"24", grav + "24&d=mm&r=g"}, {"48", grav + "48&d=mm&r=g"}, {"96", grav + "96&d=mm&r=g"}}},
		{"meta", arr{}},
		{"_links", obj{
			{"self", arr{obj{{"href", base + "/" + a.id}, {"targetHints", obj{{"allow", arr{"GET"}}}}}}},
			{"collection", arr{obj{{"href", base}}}},
		}},
	}
}

// wpUserID is the numeric user id (WordPress's ids are integers).
func wpUserID(a *account) int {
	n, _ := strconv.Atoi(a.id)
	return n
}

// wpLocalMentions drops the mentions of remote accounts from a WordPress
// instance's posts (the mention and its h-card in the content): the posts
// of a blog's authors name their fellow authors at most. Rule 1 discovers
// hosts through the mentions of stored posts, so this keeps the census of
// a world the same whether or not WordPress posts are read; it draws no
// random numbers, so nothing else shifts.
func wpLocalMentions(in *instance, c *content) {
	for _, pst := range c.posts {
		kept := pst.mentions[:0:0]
		for _, m := range pst.mentions {
			if strings.Contains(m.acct, "@") && !strings.HasSuffix(m.acct, "@"+in.host) {
				pst.contentHTML = strings.Replace(pst.contentHTML, `<span class="h-card" translate="no"><a href="`+m.url+
					`" class="u-url mention">@<span>`+m.username+`</span></a></span> `, "", 1)
				continue
			}
			kept = append(kept, m)
		}
		pst.mentions = kept
	}
}

// wpInteractions are the collections the WordPress ActivityPub plugin
// adds to a post's object, with their counts: replies (the comments),
// likes and shares (boosts), as the truth's Replies, Favourites and
// Reblogs.
func wpInteractions(pst *post) obj {
	coll := func(name string, n int) kv {
		return kv{name, obj{{"id", pst.uri + "&" + name}, {"type", "Collection"}, {"totalItems", n}}}
	}
	return obj{coll("replies", pst.replies), coll("likes", pst.favourites), coll("shares", pst.reblogs)}
}
