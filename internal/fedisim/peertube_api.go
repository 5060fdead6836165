package fedisim

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// PeerTube's REST API over the simulated accounts and videos, in PeerTube
// 6/7's formats (key order of /work/shared/fixtures/captured/peertube):
//
//   - GET /api/v1/videos: the instance's public videos, {"total","data"};
//     start, count (default 15, at most 100, else 400), sort (-publishedAt
//     by default, publishedAt, -createdAt, createdAt; others 400), isLocal
//     (every simulated video is local: isLocal=false lists none), nsfw
//     (the instance's defaultNSFWPolicy is do_not_list, so NSFW videos are
//     listed only with nsfw=both or nsfw=true). The description is cut to
//     250 characters ("..." included); PeerTube 6+ also sends it as
//     truncatedDescription.
//   - GET /api/v1/videos/{uuid|shortUUID|id}: VideoDetails, with the full
//     description, tags and support; unlisted videos answer too, private
//     and internal ones 403, deleted and unknown ones 404.
//     GET /api/v1/videos/{id}/description: {"description": full}.
//   - GET /api/v1/accounts/{name} (or name@host): the Account, whose
//     description is the bio (peerTubeDescription); 404 for deleted or
//     unknown accounts. GET /api/v1/accounts/{name}/videos: the account's
//     public videos, with the parameters of /api/v1/videos.
//
// ActivityPub is kept out: the actors (/accounts/<name>) and videos
// (/videos/watch/<uuid>) answer browsers with a page, and ActivityPub
// requests with 404.

// routePeerTubeContent serves the account and video endpoints.
func (s *Sim) routePeerTubeContent(w http.ResponseWriter, r *http.Request, in *instance) bool {
	path := r.URL.Path
	if wantsActivityJSON(r) && (strings.HasPrefix(path, "/accounts/") || strings.HasPrefix(path, "/videos/watch/")) {
		notFound(w, in, path)
		return true
	}
	c := s.world.contentOf(in)
	switch {
	case path == "/api/v1/videos":
		s.servePeerTubeList(w, r, in, c, nil)
		return true
	case strings.HasPrefix(path, "/api/v1/videos/"):
		rest := strings.TrimPrefix(path, "/api/v1/videos/")
		id, sub, _ := strings.Cut(rest, "/")
		if sub != "" && sub != "description" {
			return false
		}
		s.servePeerTubeVideo(w, in, c, id, sub == "description")
		return true
	case strings.HasPrefix(path, "/api/v1/accounts/"):
		rest := strings.TrimPrefix(path, "/api/v1/accounts/")
		name, sub, _ := strings.Cut(rest, "/")
		if sub != "" && sub != "videos" {
			return false
		}
		a := peerTubeAccountNamed(in, c, name)
		if a == nil {
			peerTubeError(w, http.StatusNotFound, "Account "+name+" not found")
			return true
		}
		if sub == "videos" {
			s.servePeerTubeList(w, r, in, c, a)
		} else {
			writeJSON(w, http.StatusOK, encodeJSON(s.peerTubeAccountJSON(in, a), styleCompact), "application/json; charset=utf-8")
		}
		return true
	}
	return false
}

// peerTubeError answers in PeerTube's problem+json style.
func peerTubeError(w http.ResponseWriter, status int, detail string) {
	code := map[int]string{400: "invalid_parameter", 403: "forbidden", 404: "does_not_exist"}[status]
	body := encodeJSON(obj{{"type", "https://docs.joinpeertube.org/api-rest-reference.html#section/Errors/" + code},
		{"detail", detail}, {"status", status}, {"code", code}}, styleCompact)
	writeJSON(w, status, body, "application/problem+json; charset=utf-8")
}

// peerTubeAccountNamed returns the live local account name (or
// name@host), nil when unknown or deleted.
func peerTubeAccountNamed(in *instance, c *content, name string) *account {
	name, _ = url.PathUnescape(name)
	if user, host, ok := strings.Cut(name, "@"); ok {
		if !strings.EqualFold(host, in.host) {
			return nil
		}
		name = user
	}
	for _, a := range c.accounts {
		if a.username == name {
			return a
		}
	}
	return nil
}

// servePeerTubeList serves /api/v1/videos (a == nil) or an account's
// videos: public only, filtered and paged as the Endpoints comment says.
func (s *Sim) servePeerTubeList(w http.ResponseWriter, r *http.Request, in *instance, c *content, a *account) {
	q := r.URL.Query()
	start, err := strconv.Atoi(q.Get("start"))
	if q.Get("start") == "" {
		start, err = 0, nil
	}
	count, cerr := strconv.Atoi(q.Get("count"))
	if q.Get("count") == "" {
		count, cerr = 15, nil
	}
	if err != nil || cerr != nil || start < 0 || count < 0 || count > 100 {
		peerTubeError(w, http.StatusBadRequest, "Incorrect request parameters: count")
		return
	}
	ascending := false
	switch q.Get("sort") {
	case "", "-publishedAt", "-createdAt":
	case "publishedAt", "createdAt":
		ascending = true
	default:
		peerTubeError(w, http.StatusBadRequest, "Incorrect request parameters: sort")
		return
	}
	nsfw := q.Get("nsfw")
	posts := c.posts
	if a != nil {
		posts = a.posts
	}
	var listed []*post
	if q.Get("isLocal") != "false" {
		for _, pst := range posts {
			v := pst.sensitive
			if pst.visibility != "public" || nsfw == "true" && !v || nsfw != "true" && nsfw != "both" && v {
				continue
			}
			listed = append(listed, pst)
		}
	}
	if ascending {
		for i, j := 0, len(listed)-1; i < j; i, j = i+1, j-1 {
			listed[i], listed[j] = listed[j], listed[i]
		}
	}
	data := arr{}
	for i := start; i < len(listed) && i < start+count; i++ {
		data = append(data, s.peerTubeVideoJSON(in, listed[i], false))
	}
	writeJSON(w, http.StatusOK, encodeJSON(obj{{"total", len(listed)}, {"data", data}}, styleCompact), "application/json; charset=utf-8")
}

// servePeerTubeVideo serves VideoDetails or the full description.
func (s *Sim) servePeerTubeVideo(w http.ResponseWriter, in *instance, c *content, id string, descOnly bool) {
	var found *post
	for _, pst := range c.posts {
		if pst.id == id || strconv.Itoa(100+pst.seq) == id {
			found = pst
			break
		}
	}
	if found == nil && len(id) >= 20 && len(id) <= 24 {
		for _, pst := range c.posts {
			if shortUUID(pst.id) == id {
				found = pst
				break
			}
		}
	}
	switch {
	case found == nil:
		peerTubeError(w, http.StatusNotFound, "Video not found")
		return
	case found.visibility == "private" || found.visibility == "internal":
		peerTubeError(w, http.StatusForbidden, "Cannot fetch information of private/internal/blocked video")
		return
	}
	if descOnly {
		v := s.world.videoOf(in, found)
		writeJSON(w, http.StatusOK, encodeJSON(obj{{"description", nullable(v.description)}}, styleCompact), "application/json; charset=utf-8")
		return
	}
	writeJSON(w, http.StatusOK, encodeJSON(s.peerTubeVideoJSON(in, found, true), styleCompact), "application/json; charset=utf-8")
}

// nullable is nil for "", s otherwise.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// peerTubeVideoJSON is a Video (list item) or, with details, VideoDetails.
func (s *Sim) peerTubeVideoJSON(in *instance, pst *post, details bool) obj {
	v := s.world.videoOf(in, pst)
	h := "https://" + in.host
	a := pst.author
	lang := obj{{"id", nil}, {"label", "Unknown"}}
	if v.lang != "" {
		lang = obj{{"id", v.lang}, {"label", ptLanguageLabels[v.lang]}}
	}
	cat := obj{{"id", nil}, {"label", "Unknown"}}
	if v.category >= 0 {
		cat = obj{{"id", ptCategories[v.category].id}, {"label", ptCategories[v.category].label}}
	}
	lic := obj{{"id", nil}, {"label", "Unknown"}}
	if v.licence > 0 {
		lic = obj{{"id", v.licence}, {"label", ptLicences[v.licence]}}
	}
	privID := 1
	for i, p := range ptPrivacy {
		if p == pst.visibility {
			privID = i + 1
		}
	}
	v6, v7 := versionAtLeast(in.version, 6), versionAtLeast(in.version, 7)
	desc := truncatedDescription(v.description)
	if details {
		desc = v.description
	}
	published := pst.created.UTC()
	o := obj{{"id", v.numID}, {"uuid", v.uuid}, {"shortUUID", v.shortUUID}, {"url", pst.url}, {"name", v.name},
		{"category", cat}, {"licence", lic}, {"language", lang},
		{"privacy", obj{{"id", privID}, {"label", ptPrivacyLabels[pst.visibility]}}}, {"nsfw", v.nsfw}}
	if versionAtLeast(in.version, 7, 2) {
		o = append(o, kv{"nsfwFlags", 0}, kv{"nsfwSummary", nil})
	}
	if v6 {
		o = append(o, kv{"truncatedDescription", nullable(truncatedDescription(v.description))})
	}
	o = append(o, kv{"description", nullable(desc)}, kv{"isLocal", true}, kv{"duration", v.duration})
	if v6 {
		o = append(o, kv{"aspectRatio", 1.7778})
	}
	o = append(o, kv{"views", v.views}, kv{"viewers", v.viewers}, kv{"likes", v.likes}, kv{"dislikes", v.dislikes},
		kv{"thumbnailPath", "/lazy-static/thumbnails/" + v.uuid + ".jpg"}, kv{"previewPath", "/lazy-static/previews/" + v.uuid + ".jpg"},
		kv{"embedPath", "/videos/embed/" + v.shortUUID},
		kv{"createdAt", published.Add(-7 * 60e9).Format(timeMillis)}, kv{"updatedAt", published.Add(3 * 60e9).Format(timeMillis)},
		kv{"publishedAt", published.Format(timeMillis)}, kv{"originallyPublishedAt", nil}, kv{"isLive", false},
		kv{"account", obj{{"id", mustAtoi(a.id)}, {"displayName", a.displayName}, {"name", a.username},
			{"url", a.actorURI}, {"host", in.host}, {"avatars", arr{}}}},
		kv{"channel", obj{{"id", 100 + mustAtoi(a.id)}, {"name", a.username + "_channel"}, {"displayName", "Main " + a.username + " channel"},
			{"url", h + "/video-channels/" + a.username + "_channel"}, {"host", in.host}, {"avatars", arr{}}}})
	if v7 {
		o = append(o, kv{"comments", v.comments})
	}
	if !details {
		return o
	}
	tags := arr{}
	for _, t := range v.tags {
		tags = append(tags, t)
	}
	o = append(o, kv{"descriptionPath", "/api/v1/videos/" + v.uuid + "/description"}, kv{"support", nullable(v.support)},
		kv{"tags", tags}, kv{"commentsEnabled", true}, kv{"downloadEnabled", true}, kv{"waitTranscoding", true},
		kv{"state", obj{{"id", 1}, {"label", "Published"}}},
		kv{"trackerUrls", arr{"wss://" + in.host + "/tracker/socket"}}, kv{"files", arr{}}, kv{"streamingPlaylists", arr{}})
	return o
}

// peerTubeAccountJSON is an Account.
func (s *Sim) peerTubeAccountJSON(in *instance, a *account) obj {
	return obj{{"url", a.actorURI}, {"name", a.username}, {"avatars", arr{}}, {"host", in.host},
		{"followingCount", a.following}, {"followersCount", a.followers},
		{"createdAt", a.created.UTC().Format(timeMillis)}, {"updatedAt", a.created.UTC().Format(timeMillis)},
		{"displayName", a.displayName}, {"description", nullable(peerTubeDescription(a))},
		{"id", mustAtoi(a.id)}, {"userId", mustAtoi(a.id)}}
}

// mustAtoi converts the simulation's own numeric ids.
func mustAtoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
