package fedisim

import (
	"net/http"
	"strings"
	"time"
)

// routeLemmyAPI serves Lemmy's v3 API subset.
func (s *Sim) routeLemmyAPI(w http.ResponseWriter, r *http.Request, in *instance) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	switch r.URL.Path {
	case "/api/v3/site":
		s.serveLemmySite(w, in)
	case "/api/v3/federated_instances":
		s.serveLemmyFederated(w, in)
	default:
		return s.routeLemmyContent(w, r, in)
	}
	return true
}

func (s *Sim) serveLemmySite(w http.ResponseWriter, in *instance) {
	created := s.opts.Now.AddDate(-2, 0, -int(hashString(in.host)%300)).UTC()
	writeJSON(w, http.StatusOK, encodeJSON(obj{
		{"site_view", obj{
			{"site", obj{{"id", 1}, {"name", in.title}, {"sidebar", nil}, {"published", created.Format("2006-01-02T15:04:05.000000Z")},
				{"updated", nil}, {"icon", nil}, {"banner", nil}, {"description", in.desc},
				{"actor_id", "https://" + in.host + "/"}, {"last_refreshed_at", s.opts.Now.UTC().Format("2006-01-02T15:04:05.000000Z")},
				{"inbox_url", "https://" + in.host + "/site_inbox"}, {"public_key", actorPublicKeyPEM},
				{"instance_id", 1}}},
			{"local_site", obj{{"id", 1}, {"site_id", 1}, {"site_setup", true}, {"enable_downvotes", true},
				{"registration_mode", map[bool]string{true: "Open", false: "RequireApplication"}[in.openReg]},
				{"enable_nsfw", false}, {"community_creation_admin_only", false}, {"require_email_verification", false},
				{"private_instance", false}, {"default_theme", "browser"}, {"default_post_listing_type", "Local"},
				{"hide_modlog_mod_names", true}, {"application_email_admins", false}, {"actor_name_max_length", 20},
				{"federation_enabled", true}, {"captcha_enabled", false}, {"captcha_difficulty", "medium"}}},
			{"counts", obj{{"id", 1}, {"site_id", 1}, {"users", in.users}, {"posts", in.posts}, {"comments", in.posts * 7},
				{"communities", 1 + in.users/500}, {"users_active_day", in.month / 10}, {"users_active_week", in.month / 3},
				{"users_active_month", in.month}, {"users_active_half_year", in.halfyear}}},
		}},
		{"admins", arr{}}, {"version", in.version}, {"my_user", nil},
		{"all_languages", lemmyLanguagesJSON()},
		{"discussion_languages", arr{}}, {"taglines", arr{}}, {"custom_emojis", arr{}},
	}, styleCompact), "application/json")
}

func (s *Sim) serveLemmyFederated(w http.ResponseWriter, in *instance) {
	newer := versionAtLeast(in.version, 0, 19)
	linked := arr{}
	for i, ref := range in.peers {
		host := s.world.peerName(ref)
		published := s.opts.Now.Add(-time.Duration(hashString(in.host+host)%(600*24)) * time.Hour).UTC()
		o := obj{{"id", i + 2}, {"domain", host}, {"published", published.Format("2006-01-02T15:04:05.000000Z")}, {"updated", nil}}
		if ref >= 0 {
			t := s.world.instances[ref]
			o = append(o, kv{"software", strings.ToLower(t.prof().name)}, kv{"version", t.version})
		} else {
			o = append(o, kv{"software", nil}, kv{"version", nil})
		}
		if newer {
			o = append(o, kv{"federation_state", obj{{"instance_id", i + 2}, {"last_successful_id", 100 + i}, {"fail_count", 0}}})
		}
		linked = append(linked, o)
	}
	blocked := arr{}
	for i, h := range s.blockedHosts(in, 2) {
		blocked = append(blocked, obj{{"id", 100000 + i}, {"domain", h}, {"published", s.opts.Now.AddDate(0, -3, 0).UTC().Format("2006-01-02T15:04:05.000000Z")}, {"updated", nil}, {"software", nil}, {"version", nil}})
	}
	writeJSON(w, http.StatusOK, encodeJSON(obj{{"federated_instances", obj{
		{"linked", linked}, {"allowed", arr{}}, {"blocked", blocked},
	}}}, styleCompact), "application/json")
}
