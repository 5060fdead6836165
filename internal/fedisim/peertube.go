package fedisim

import "net/http"

// routePeerTubeAPI serves PeerTube's config, accounts and videos.
func (s *Sim) routePeerTubeAPI(w http.ResponseWriter, r *http.Request, in *instance) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	switch r.URL.Path {
	case "/api/v1/config":
		s.servePeerTubeConfig(w, in)
	default:
		return s.routePeerTubeContent(w, r, in) // accounts and videos (peertube_api.go)
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
