package fedisim

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// apiAuthPaths are the client API paths that Mastodon's
// DISALLOW_UNAUTHENTICATED_API_ACCESS closes to anonymous callers (the
// instance documents and the peer list stay open).
var apiAuthPaths = []string{"/api/v1/accounts", "/api/v1/statuses", "/api/v1/directory", "/api/v1/timelines"}

// apiAuthRefused answers 401 when the instance requires an authenticated
// user for path, and reports whether it did.
func apiAuthRefused(w http.ResponseWriter, in *instance, path string) bool {
	if !in.apiAuth {
		return false
	}
	for _, p := range apiAuthPaths {
		if path == p || strings.HasPrefix(path, p+"/") {
			mastoJSON(w, in, http.StatusUnauthorized, obj{{"error", "This API requires an authenticated user"}})
			return true
		}
	}
	return false
}

// routeMastodonAccounts serves /api/v1/accounts/:id,
// /api/v1/accounts/:id/statuses and /api/v1/statuses/:id, and reports
// whether path was one of them. GoToSocial answers them only to
// authenticated callers; snac does not have them.
func (s *Sim) routeMastodonAccounts(w http.ResponseWriter, r *http.Request, in *instance, path string) bool {
	var id, sub string
	switch {
	case strings.HasPrefix(path, "/api/v1/accounts/"):
		id, sub, _ = strings.Cut(strings.TrimPrefix(path, "/api/v1/accounts/"), "/")
		if sub != "" && sub != "statuses" {
			return false
		}
	case strings.HasPrefix(path, "/api/v1/statuses/"):
		id, sub = strings.TrimPrefix(path, "/api/v1/statuses/"), "status"
		if strings.Contains(id, "/") {
			return false
		}
	default:
		return false
	}
	if id == "" || in.kind == swSnac {
		return false
	}
	if in.kind == swGoToSocial {
		mastoJSON(w, in, http.StatusUnauthorized, obj{{"error", "Unauthorized: token not supplied"}})
		return true
	}
	c := s.world.contentOf(in)
	if sub == "status" {
		for _, pst := range c.posts {
			if pst.id == id && (pst.visibility == "public" || pst.visibility == "unlisted") {
				mastoJSON(w, in, http.StatusOK, s.statusRaw(in, pst))
				return true
			}
		}
		mastoJSON(w, in, http.StatusNotFound, obj{{"error", "Record not found"}})
		return true
	}
	var a *account
	for _, x := range c.accounts {
		if x.id == id {
			a = x
			break
		}
	}
	switch {
	case a == nil:
		mastoJSON(w, in, http.StatusNotFound, obj{{"error", "Record not found"}})
	case sub == "":
		mastoJSON(w, in, http.StatusOK, s.accountRaw(in, a))
	default:
		s.serveAccountStatuses(w, r, in, a)
	}
	return true
}

// serveAccountStatuses serves an account's statuses the way Mastodon does
// for anonymous callers: public and unlisted posts, newest first, limit
// (default 20, at most 40), max_id, since_id and min_id, exclude_replies,
// exclude_reblogs (the simulation has no reblogs), only_media, tagged,
// pinned=true (always empty: nothing is pinned), and a Link header like
// the public timeline's.
func (s *Sim) serveAccountStatuses(w http.ResponseWriter, r *http.Request, in *instance, a *account) {
	q := r.URL.Query()
	if truthy(q.Get("pinned")) {
		mastoJSON(w, in, http.StatusOK, arr{})
		return
	}
	noReplies, onlyMedia, tagged := truthy(q.Get("exclude_replies")), truthy(q.Get("only_media")), strings.ToLower(q.Get("tagged"))
	var list []*post
	for _, pst := range a.posts {
		if pst.visibility != "public" && pst.visibility != "unlisted" ||
			noReplies && (pst.inReplyTo != nil || pst.remoteParent != nil) || onlyMedia && len(pst.media) == 0 {
			continue
		}
		if tagged != "" && !containsString(pst.tags, tagged) {
			continue
		}
		list = append(list, pst)
	}
	page := pagePosts(list, parsePage(q, defaultPageLimit, maxPageLimit))
	out := make(arr, 0, len(page))
	for _, pst := range page {
		out = append(out, s.statusRaw(in, pst))
	}
	if len(page) > 0 {
		base := "https://" + in.host + "/api/v1/accounts/" + a.id + "/statuses?"
		keep := url.Values{}
		for _, k := range []string{"limit", "exclude_replies", "exclude_reblogs", "only_media", "tagged"} {
			if v := q.Get(k); v != "" {
				keep.Set(k, v)
			}
		}
		next, prev := cloneValues(keep), cloneValues(keep)
		next.Set("max_id", page[len(page)-1].id)
		prev.Set("min_id", page[0].id)
		w.Header().Set("Link", "<"+base+next.Encode()+`>; rel="next", <`+base+prev.Encode()+`>; rel="prev"`)
	}
	mastoJSON(w, in, http.StatusOK, out)
}

func truthy(v string) bool { return v == "true" || v == "1" }

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// directoryAccounts returns the accounts /api/v1/directory lists: the live
// discoverable local accounts, ordered like Mastodon's order=active (most
// recent post first, accounts without posts last) or order=new (newest
// account first); ties keep the generation order.
func directoryAccounts(c *content, order string) []*account {
	var list []*account
	for _, a := range c.accounts {
		if a.discoverable {
			list = append(list, a)
		}
	}
	if order == "new" {
		sort.SliceStable(list, func(i, j int) bool { return list[i].created.After(list[j].created) })
		return list
	}
	last := func(a *account) int64 {
		if len(a.posts) == 0 {
			return -1
		}
		return a.posts[0].created.Unix()
	}
	sort.SliceStable(list, func(i, j int) bool { return last(list[i]) > last(list[j]) })
	return list
}

// mediaJSON renders media attachments as Mastodon's MediaAttachment.
func mediaJSON(pst *post) arr {
	out := arr{}
	for _, m := range pst.media {
		var desc any = nil
		if m.description != "" {
			desc = m.description
		}
		out = append(out, obj{{"id", m.id}, {"type", m.kind}, {"url", m.url},
			{"preview_url", strings.TrimSuffix(m.url, ".png") + "_small.png"}, {"remote_url", nil},
			{"preview_remote_url", nil}, {"text_url", nil},
			{"meta", obj{{"original", obj{{"width", 1200}, {"height", 800}, {"size", "1200x800"}, {"aspect", 1.5}}}}},
			{"description", desc}, {"blurhash", "UFBWY:8_0Jxv%M-;M{WB00of~qxuRjofofRj"}})
	}
	return out
}

// pollJSON renders a poll as Mastodon's Poll entity (anonymous view: no
// voted/own_votes).
func pollJSON(pst *post, now time.Time) any {
	p := pst.poll
	if p == nil {
		return nil
	}
	opts := arr{}
	total := 0
	for i, o := range p.options {
		opts = append(opts, obj{{"title", o}, {"votes_count", p.votes[i]}})
		total += p.votes[i]
	}
	return obj{{"id", strconv.FormatUint(hashString(pst.uri)>>20, 10)}, {"expires_at", p.expires.UTC().Format(timeMillis)},
		{"expired", !p.expires.After(now)}, {"multiple", p.multiple},
		{"votes_count", total}, {"voters_count", total}, {"options", opts}, {"emojis", arr{}}}
}
