package fedisim

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Lemmy's v3 API for posts and comments (Lemmy 0.19 formats; 0.18 writes
// times without a zone and sends no next_page):
//
//   - GET /api/v3/post/list?type_=Local&sort=New&limit=N&page=P (or
//     page_cursor=C) → {"posts":[PostView...],"next_page":C}: the live
//     local posts, newest first; limit defaults to 10 and is capped at 50;
//   - GET /api/v3/comment/list?type_=Local&sort=New&limit=N&page=P →
//     {"comments":[CommentView...]}: the comments on live posts, newest
//     first, deleted and removed ones included with their content blanked;
//   - GET /api/v3/user?username=NAME&sort=New&limit=N&page=P →
//     {"person_view":{...},"comments":[...],"posts":[...],"moderates":[]}:
//     one person and a page of her posts and comments; 404
//     {"error":"couldnt_find_person"} for unknown and deleted persons.
//
// Null optional fields are omitted, as Lemmy's serialiser does.

// lemmyTime formats a time the way the instance's Lemmy version does.
func lemmyTime(in *instance, t time.Time) string {
	if !versionAtLeast(in.version, 0, 19) {
		return t.UTC().Format("2006-01-02T15:04:05.000000")
	}
	return t.UTC().Format("2006-01-02T15:04:05.000000Z")
}

// routeLemmyContent serves the post, comment and person endpoints.
func (s *Sim) routeLemmyContent(w http.ResponseWriter, r *http.Request, in *instance) bool {
	switch r.URL.Path {
	case "/api/v3/post/list", "/api/v3/comment/list", "/api/v3/user":
	default:
		return false
	}
	q := r.URL.Query()
	limit := 10
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			lemmyError(w, http.StatusBadRequest, "couldnt_parse_query")
			return true
		}
		limit = min(n, 50)
	}
	page := 1
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			lemmyError(w, http.StatusBadRequest, "couldnt_parse_query")
			return true
		}
		page = n
	}
	c := s.world.lemmyContentAt(in, int(s.world.epoch.Load()))
	switch r.URL.Path {
	case "/api/v3/post/list":
		s.serveLemmyPosts(w, in, c, q, limit, page)
	case "/api/v3/comment/list":
		cms := c.listedComments()
		if v := q.Get("post_id"); v != "" {
			var keep []*lemmyComment
			for _, cm := range cms {
				if strconv.Itoa(cm.post.id) == v {
					keep = append(keep, cm)
				}
			}
			cms = keep
		}
		items := arr{}
		for _, cm := range pageOf(cms, limit, page) {
			items = append(items, lemmyCommentView(in, c, cm))
		}
		writeJSON(w, http.StatusOK, encodeJSON(obj{{"comments", items}}, styleCompact), "application/json")
	default:
		s.serveLemmyUser(w, in, c, q.Get("username"), limit, page)
	}
	return true
}

func lemmyError(w http.ResponseWriter, status int, code string) {
	writeJSON(w, status, encodeJSON(obj{{"error", code}}, styleCompact), "application/json")
}

// pageOf returns page (1-based) of items.
func pageOf[T any](items []T, limit, page int) []T {
	start := (page - 1) * limit
	if start >= len(items) || page > 1_000_000 {
		return nil
	}
	return items[start:min(len(items), start+limit)]
}

// lemmyCursor is Lemmy 0.19's opaque page cursor, here "Pa" and the base36
// id of the last post of the previous page.
func lemmyCursor(id int) string { return "Pa" + strconv.FormatInt(int64(id), 36) }

func (s *Sim) serveLemmyPosts(w http.ResponseWriter, in *instance, c *lemmyContent, q url.Values, limit, page int) {
	posts := c.livePosts()
	var pg []*lemmyPost
	if cur := q.Get("page_cursor"); cur != "" {
		id, err := strconv.ParseInt(strings.TrimPrefix(cur, "Pa"), 36, 64)
		if err != nil || !strings.HasPrefix(cur, "Pa") {
			lemmyError(w, http.StatusBadRequest, "couldnt_parse_pagination_token")
			return
		}
		i := 0
		for i < len(posts) && posts[i].id != int(id) {
			i++
		}
		if i < len(posts) {
			pg = posts[i+1 : min(len(posts), i+1+limit)]
		}
	} else {
		pg = pageOf(posts, limit, page)
	}
	items := arr{}
	for _, pst := range pg {
		items = append(items, lemmyPostView(in, c, pst))
	}
	body := obj{{"posts", items}}
	if versionAtLeast(in.version, 0, 19) {
		if len(pg) > 0 {
			body = append(body, kv{"next_page", lemmyCursor(pg[len(pg)-1].id)})
		}
	}
	writeJSON(w, http.StatusOK, encodeJSON(body, styleCompact), "application/json")
}

func (s *Sim) serveLemmyUser(w http.ResponseWriter, in *instance, c *lemmyContent, name string, limit, page int) {
	p := c.person(strings.ToLower(name))
	if p == nil {
		lemmyError(w, http.StatusNotFound, "couldnt_find_person")
		return
	}
	var posts []*lemmyPost
	for _, pst := range c.livePosts() {
		if pst.creator == p {
			posts = append(posts, pst)
		}
	}
	var cms []*lemmyComment
	for _, cm := range c.listedComments() {
		if cm.creator == p {
			cms = append(cms, cm)
		}
	}
	postItems, commentItems := arr{}, arr{}
	for _, pst := range pageOf(posts, limit, page) {
		postItems = append(postItems, lemmyPostView(in, c, pst))
	}
	for _, cm := range pageOf(cms, limit, page) {
		commentItems = append(commentItems, lemmyCommentView(in, c, cm))
	}
	writeJSON(w, http.StatusOK, encodeJSON(obj{
		{"person_view", obj{
			{"person", lemmyPersonJSON(in, p)},
			{"counts", obj{{"person_id", p.id}, {"post_count", len(posts)}, {"comment_count", len(cms)}}},
			{"is_admin", false},
		}},
		{"comments", commentItems}, {"posts", postItems}, {"moderates", arr{}},
	}, styleCompact), "application/json")
}

// lemmyPersonJSON is a Person (null fields omitted).
func lemmyPersonJSON(in *instance, p *lemmyPerson) obj {
	o := obj{{"id", p.id}, {"name", p.name}}
	if p.displayName != "" {
		o = append(o, kv{"display_name", p.displayName})
	}
	if p.avatar {
		o = append(o, kv{"avatar", "https://" + in.host + "/pictrs/image/" + strconv.Itoa(p.id) + "-avatar.webp"})
	}
	o = append(o, kv{"banned", p.banned}, kv{"published", lemmyTime(in, p.created)},
		kv{"actor_id", "https://" + in.host + "/u/" + p.name})
	if p.bio != "" {
		o = append(o, kv{"bio", p.bio})
	}
	return append(o, kv{"local", true}, kv{"deleted", p.gone}, kv{"bot_account", p.bot}, kv{"instance_id", 1})
}

func lemmyCommunityJSON(in *instance, cm *lemmyCommunity) obj {
	return obj{{"id", cm.id}, {"name", cm.name}, {"title", cm.title}, {"description", cm.desc},
		{"removed", false}, {"published", lemmyTime(in, cm.created)}, {"deleted", false}, {"nsfw", cm.nsfw},
		{"actor_id", "https://" + in.host + "/c/" + cm.name}, {"local", true}, {"hidden", false},
		{"posting_restricted_to_mods", false}, {"instance_id", 1}}
}

func lemmyPostJSON(in *instance, pst *lemmyPost) obj {
	o := obj{{"id", pst.id}, {"name", pst.name}}
	if pst.url != "" {
		o = append(o, kv{"url", pst.url})
	}
	if pst.body != "" {
		o = append(o, kv{"body", pst.body})
	}
	return append(o, kv{"creator_id", pst.creator.id}, kv{"community_id", pst.community.id},
		kv{"removed", false}, kv{"locked", false}, kv{"published", lemmyTime(in, pst.created)},
		kv{"deleted", false}, kv{"nsfw", pst.nsfw}, kv{"ap_id", "https://" + in.host + "/post/" + strconv.Itoa(pst.id)},
		kv{"local", true}, kv{"language_id", pst.lang}, kv{"featured_community", pst.featured}, kv{"featured_local", false})
}

func lemmyPostView(in *instance, c *lemmyContent, pst *lemmyPost) obj {
	newest := pst.created
	for _, cm := range c.comments {
		if cm.post == pst && cm.created.After(newest) {
			newest = cm.created
		}
	}
	return obj{
		{"post", lemmyPostJSON(in, pst)},
		{"creator", lemmyPersonJSON(in, pst.creator)},
		{"community", lemmyCommunityJSON(in, pst.community)},
		{"creator_banned_from_community", false}, {"creator_is_moderator", false}, {"creator_is_admin", false},
		{"counts", obj{{"post_id", pst.id}, {"comments", c.commentCount(pst)}, {"score", pst.up - pst.down},
			{"upvotes", pst.up}, {"downvotes", pst.down}, {"published", lemmyTime(in, pst.created)},
			{"newest_comment_time", lemmyTime(in, newest)}}},
		{"subscribed", "NotSubscribed"}, {"saved", false}, {"read", false}, {"creator_blocked", false},
		{"unread_comments", c.commentCount(pst)},
	}
}

func lemmyCommentView(in *instance, c *lemmyContent, cm *lemmyComment) obj {
	content := cm.content
	if cm.deleted || cm.removed {
		content = "" // Lemmy blanks them for everyone but moderators
	}
	comment := obj{{"id", cm.id}, {"creator_id", cm.creator.id}, {"post_id", cm.post.id}, {"content", content},
		{"removed", cm.removed}, {"published", lemmyTime(in, cm.created)}, {"deleted", cm.deleted},
		{"ap_id", "https://" + in.host + "/comment/" + strconv.Itoa(cm.id)}, {"local", true},
		{"path", cm.path()}, {"distinguished", false}, {"language_id", cm.lang}}
	return obj{
		{"comment", comment},
		{"creator", lemmyPersonJSON(in, cm.creator)},
		{"post", lemmyPostJSON(in, cm.post)},
		{"community", lemmyCommunityJSON(in, cm.post.community)},
		{"counts", obj{{"comment_id", cm.id}, {"score", cm.up - cm.down}, {"upvotes", cm.up},
			{"downvotes", cm.down}, {"published", lemmyTime(in, cm.created)}, {"child_count", c.childCount(cm)}}},
		{"creator_banned_from_community", false}, {"creator_is_moderator", false}, {"creator_is_admin", false},
		{"subscribed", "NotSubscribed"}, {"saved", false}, {"creator_blocked", false},
	}
}

// lemmyLanguagesJSON is /api/v3/site's all_languages.
func lemmyLanguagesJSON() arr {
	out := arr{}
	for _, l := range lemmyLanguages {
		out = append(out, obj{{"id", l.id}, {"code", l.code}, {"name", l.name}})
	}
	return out
}
