package fedisim

import (
	"net/http"
	"strconv"
	"time"
)

// routePeerTubeAPI serves PeerTube's config and video list.
func (s *Sim) routePeerTubeAPI(w http.ResponseWriter, r *http.Request, in *instance) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	switch r.URL.Path {
	case "/api/v1/config":
		s.servePeerTubeConfig(w, in)
	case "/api/v1/videos":
		q := r.URL.Query()
		start, _ := strconv.Atoi(q.Get("start"))
		count, err := strconv.Atoi(q.Get("count"))
		if err != nil {
			count = 15
		}
		if start < 0 || count < 0 || count > 100 {
			writeJSON(w, http.StatusBadRequest, []byte(`{"type":"https://docs.joinpeertube.org/api-rest-reference.html#section/Errors/invalid_parameter","detail":"Incorrect request parameters: count","status":400}`), "application/problem+json; charset=utf-8")
			return true
		}
		s.servePeerTubeVideos(w, in, start, count)
	default:
		return false
	}
	return true
}

func (s *Sim) servePeerTubeConfig(w http.ResponseWriter, in *instance) {
	writeJSON(w, http.StatusOK, encodeJSON(obj{
		{"client", obj{{"videos", obj{{"miniature", obj{{"preferAuthorDisplayName", false}}}}}}},
		{"instance", obj{{"name", in.title}, {"shortDescription", in.desc}, {"isNSFW", false},
			{"defaultNSFWPolicy", "do_not_list"}, {"defaultClientRoute", "/videos/trending"},
			{"customizations", obj{{"javascript", ""}, {"css", ""}}}}},
		{"search", obj{{"remoteUri", obj{{"users", true}, {"anonymous", false}}}}},
		{"serverVersion", in.version}, {"serverCommit", nil},
		{"signup", obj{{"allowed", in.openReg}, {"allowedForCurrentIP", in.openReg}, {"requiresEmailVerification", true},
			{"requiresApproval", false}, {"minimumAge", 16}}},
		{"transcoding", obj{{"hls", obj{{"enabled", true}}}, {"enabledResolutions", arr{480, 720, 1080}}}},
		{"federation", obj{{"enabled", true}}},
		{"followings", obj{{"instance", obj{{"autoFollowIndex", obj{{"indexUrl", "https://instances.joinpeertube.org/api/v1/instances/hosts"}}}}}}},
	}, styleCompact), "application/json; charset=utf-8")
}

var videoTitles = []string{"Getting started with Blender", "Birdsong at dawn", "Live coding a tiny web server",
	"Repairing a bicycle wheel", "Sourdough in ten minutes", "Community meeting recording", "Timelapse: clouds over the bay"}

// servePeerTubeVideos lists the instance's videos (deterministic, not part
// of the truth: PeerTube content is not simulated as posts).
func (s *Sim) servePeerTubeVideos(w http.ResponseWriter, in *instance, start, count int) {
	total := int(min(in.posts, 30))
	data := arr{}
	for i := start; i < total && i < start+count; i++ {
		r := newRNG(s.world.seed, saltContent, uint64(in.idx), uint64(i), 13)
		id := uuid(r)
		created := s.opts.Now.Add(-time.Duration(1+r.intn(400*24)) * time.Hour).UTC()
		acct := usernames[r.intn(len(usernames))]
		data = append(data, obj{
			{"id", 1000 + i}, {"uuid", id}, {"shortUUID", base36(r, 22)},
			{"url", "https://" + in.host + "/videos/watch/" + id}, {"name", videoTitles[r.intn(len(videoTitles))]},
			{"category", obj{{"id", 15}, {"label", "Science & Technology"}}}, {"licence", obj{{"id", 1}, {"label", "Attribution"}}},
			{"language", obj{{"id", "en"}, {"label", "English"}}}, {"privacy", obj{{"id", 1}, {"label", "Public"}}},
			{"nsfw", false}, {"description", "A video from " + in.title + "."}, {"isLocal", true},
			{"duration", 30 + r.intn(3000)}, {"views", r.intn(50000)}, {"likes", r.intn(500)}, {"dislikes", r.intn(10)},
			{"thumbnailPath", "/lazy-static/thumbnails/" + id + ".jpg"}, {"previewPath", "/lazy-static/previews/" + id + ".jpg"},
			{"embedPath", "/videos/embed/" + id}, {"createdAt", created.Format(timeMillis)}, {"updatedAt", created.Format(timeMillis)},
			{"publishedAt", created.Format(timeMillis)}, {"originallyPublishedAt", nil}, {"isLive", false},
			{"account", obj{{"id", 10 + r.intn(50)}, {"displayName", acct}, {"name", acct}, {"url", "https://" + in.host + "/accounts/" + acct}, {"host", in.host}, {"avatars", arr{}}}},
			{"channel", obj{{"id", 20 + r.intn(50)}, {"name", acct + "_channel"}, {"displayName", "Main " + acct + " channel"}, {"url", "https://" + in.host + "/video-channels/" + acct + "_channel"}, {"host", in.host}, {"avatars", arr{}}}},
		})
	}
	writeJSON(w, http.StatusOK, encodeJSON(obj{{"total", total}, {"data", data}}, styleCompact), "application/json; charset=utf-8")
}
