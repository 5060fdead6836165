package fedisim

import (
	"fmt"
	"hash/fnv"
	"net/http"
	"time"
)

const nodeinfoRelPrefix = "http://nodeinfo.diaspora.software/ns/schema/"

// serveNodeinfoDiscovery answers /.well-known/nodeinfo.
func (s *Sim) serveNodeinfoDiscovery(w http.ResponseWriter, in *instance) {
	switch {
	case in.has(bNodeInfo404):
		notFound(w, in, "/.well-known/nodeinfo")
		return
	case in.has(bRedirectTrap):
		w.Header().Set("Location", "https://"+TrapIP+"/.well-known/nodeinfo")
		writeText(w, http.StatusFound, "", "text/html; charset=utf-8")
		return
	}
	host := in.host
	if in.has(bNodeInfoOffsite) {
		host = s.world.instances[in.offsite].host
	}
	links := nodeinfoLinks(in.kind, in.version)
	var list arr
	for _, l := range links {
		href := "https://" + host + l.path
		rel := nodeinfoRelPrefix + l.version
		switch in.kind {
		case swPleroma, swAkkoma, swWriteFreely:
			list = append(list, obj{{"href", href}, {"rel", rel}})
		default:
			list = append(list, obj{{"rel", rel}, {"href", href}})
		}
	}
	st := styleCompact
	ct := "application/json; charset=utf-8"
	switch in.kind {
	case swWordPress:
		// The ActivityPub plugin also links its application actor, which a
		// crawler must skip as an unknown rel.
		list = append(list, obj{{"rel", "https://www.w3.org/ns/activitystreams#Application"}, {"href", "https://" + host + "/wp-json/activitypub/1.0/application"}})
		st = stylePHP
	case swGoToSocial:
		// Add, not Set: a nodeinfo_noindex GoToSocial sends both headers.
		w.Header().Add("X-Robots-Tag", "nofollow, noarchive, nositelinkssearchbox, max-image-preview:standard")
		ct = "application/json"
	case swMastodon:
		w.Header().Set("Cache-Control", "max-age=259200, public")
	}
	writeJSON(w, http.StatusOK, encodeJSON(obj{{"links", list}}, st), ct)
}

// serveNodeinfoDoc answers a NodeInfo document path.
func (s *Sim) serveNodeinfoDoc(w http.ResponseWriter, r *http.Request, in *instance, path string) {
	if in.has(bNodeInfo404) {
		notFound(w, in, path)
		return
	}
	var version string
	for _, l := range nodeinfoLinks(in.kind, in.version) {
		if l.path == path {
			version = l.version
		}
	}
	body := s.nodeinfoBody(in, version)
	if in.has(bNodeInfoBroken) {
		// A truncated document, as a crashed proxy or a full disk leaves it.
		body = body[:len(body)*2/3]
	}
	if in.has(bNodeInfoNoIndex) {
		w.Header().Set("X-Robots-Tag", "noindex")
	}
	ct := `application/json; profile="http://nodeinfo.diaspora.software/ns/schema/` + version + `#"`
	switch in.kind {
	case swMastodon:
		w.Header().Set("Cache-Control", "max-age=1800, public")
		ct = "application/json; charset=utf-8"
	case swGoToSocial:
		// Add, not Set: a nodeinfo_noindex GoToSocial sends both headers.
		w.Header().Add("X-Robots-Tag", "nofollow, noarchive, nositelinkssearchbox, max-image-preview:standard")
	case swSnac, swLemmy, swMisskey, swSharkey, swFirefish, swFedired:
		ct = "application/json; charset=utf-8"
	case swWriteFreely:
		ct = "application/json; profile=http://nodeinfo.diaspora.software/ns/schema/2.0#"
	}
	if notModified(w, r, in, body) {
		return
	}
	writeJSON(w, http.StatusOK, body, ct)
}

// notModified sends the cache validators real servers send with NodeInfo
// (Rails' weak ETag for Mastodon, Last-Modified for Pleroma and Akkoma) and
// answers a matching conditional request with 304 and no body.
func notModified(w http.ResponseWriter, r *http.Request, in *instance, body []byte) bool {
	switch in.kind {
	case swMastodon:
		etag := fmt.Sprintf(`W/"%016x"`, fnv64(body))
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return true
		}
	case swPleroma, swAkkoma:
		lm := NodeInfoLastModified.UTC().Format(http.TimeFormat)
		w.Header().Set("Last-Modified", lm)
		if ims, err := http.ParseTime(r.Header.Get("If-Modified-Since")); err == nil && !NodeInfoLastModified.After(ims) {
			w.WriteHeader(http.StatusNotModified)
			return true
		}
	}
	return false
}

// NodeInfoLastModified is the Last-Modified of the NodeInfo documents of
// the programs that send one (their figures do not change while the
// simulation runs).
var NodeInfoLastModified = time.Date(2026, 10, 31, 12, 0, 0, 0, time.UTC)

func fnv64(b []byte) uint64 {
	h := fnv.New64a()
	_, _ = h.Write(b)
	return h.Sum64()
}

// usersObj renders usage.users in the program's key order.
func usersObj(in *instance, order ...string) obj {
	u := servedUsage(in)
	var o obj
	for _, k := range order {
		switch k {
		case "total":
			o = append(o, kv{"total", *u.total})
		case "activeMonth":
			if u.month != nil {
				o = append(o, kv{"activeMonth", *u.month})
			}
		case "activeHalfyear":
			if u.halfyear != nil {
				o = append(o, kv{"activeHalfyear", *u.halfyear})
			}
		}
	}
	return o
}

// usageObj renders usage with localPosts (when served) and extra members.
func usageObj(in *instance, users obj, extra ...kv) obj {
	o := obj{{"users", users}}
	if !in.noPosts {
		o = append(o, kv{"localPosts", in.posts})
	}
	return append(o, extra...)
}

// nodeinfoBody builds the NodeInfo document of schema version for in.
func (s *Sim) nodeinfoBody(in *instance, version string) []byte {
	p := in.prof()
	sw := obj{{"name", p.name}, {"version", in.version}}
	var nodeName any = in.title
	switch in.kind {
	case swMastodon:
		var meta any = obj{}
		switch {
		case in.version == "4.0.0rc2":
			meta = arr{}
		case in.nodeName:
			meta = obj{{"nodeName", in.title}, {"nodeDescription", in.desc}}
		}
		return encodeJSON(obj{
			{"version", version}, {"software", sw}, {"protocols", []string{"activitypub"}},
			{"services", obj{{"outbound", arr{}}, {"inbound", arr{}}}},
			{"usage", usageObj(in, usersObj(in, "total", "activeMonth", "activeHalfyear"))},
			{"openRegistrations", in.openReg}, {"metadata", meta},
		}, styleCompact)

	case swPleroma, swAkkoma:
		if version == "2.1" {
			repo := "https://git.pleroma.social/pleroma/pleroma"
			if in.kind == swAkkoma {
				repo = "https://akkoma.dev/AkkomaGang/akkoma"
			}
			sw = append(sw, kv{"repository", repo})
		}
		features := []string{"pleroma_api", "mastodon_api", "mastodon_api_streaming", "polls", "pleroma_explicit_addressing", "shareable_emoji_packs", "multifetch", "pleroma_emoji_reactions"}
		if in.kind == swAkkoma {
			features = append(features, "akkoma_api", "custom_emoji_reactions", "profile_directory")
		}
		var openReg any = in.openReg
		if in.kind == swAkkoma && in.version == "3.0.0" {
			openReg = "FALSE"
		}
		doc := obj{
			{"version", version}, {"software", sw}, {"protocols", []string{"activitypub"}},
			{"services", obj{{"inbound", arr{}}, {"outbound", arr{}}}},
			{"usage", usageObj(in, usersObj(in, "total"))},
			{"openRegistrations", openReg},
			{"metadata", obj{
				{"nodeName", in.title}, {"nodeDescription", in.desc}, {"private", in.has(bPrivate)},
				{"features", features},
				{"federation", obj{{"enabled", true}, {"exclusions", false}, {"mrf_policies", []string{"SimplePolicy", "HashtagPolicy"}},
					{"mrf_simple", obj{{"reject", s.blockedHosts(in, 3)}, {"media_nsfw", arr{}}, {"federated_timeline_removal", arr{}}}},
					{"quarantined_instances", arr{}}}},
				{"accountActivationRequired", true}, {"invitesEnabled", false}, {"mailerEnabled", true},
				{"postFormats", []string{"text/plain", "text/html", "text/markdown", "text/bbcode"}},
				{"staffAccounts", []string{"https://" + in.host + "/users/admin"}},
				{"uploadLimits", obj{{"avatar", 2000000}, {"background", 4000000}, {"banner", 4000000}, {"general", 16000000}}},
			}},
		}
		return encodeJSON(sortedKeys(doc), styleCompact)

	case swMisskey, swSharkey, swFirefish, swFedired:
		homepage, repo := "https://misskey-hub.net/", "https://github.com/misskey-dev/misskey"
		switch in.kind {
		case swSharkey:
			homepage, repo = "https://joinsharkey.org", "https://activitypub.software/TransFem-org/Sharkey"
		case swFirefish:
			homepage, repo = "https://firefish.dev/firefish/firefish", "https://firefish.dev/firefish/firefish"
		case swFedired:
			homepage, repo = "https://fedired.com", "https://github.com/fedired-dev/fedired"
		}
		sw = append(sw, kv{"homepage", homepage}, kv{"repository", repo})
		if !in.nodeName {
			nodeName = nil
		}
		doc := obj{
			{"version", version}, {"software", sw}, {"protocols", []string{"activitypub"}},
			{"services", obj{{"inbound", arr{}}, {"outbound", []string{"atom1.0", "rss2.0"}}}},
			{"openRegistrations", in.openReg},
			{"usage", usageObj(in, usersObj(in, "total", "activeHalfyear", "activeMonth"), kv{"localComments", 0})},
			{"metadata", obj{
				{"nodeName", nodeName}, {"nodeDescription", in.desc},
				{"maintainer", obj{{"name", "admin"}, {"email", "admin@" + in.host}}},
				{"langs", arr{}}, {"tosUrl", nil}, {"repositoryUrl", repo}, {"feedbackUrl", repo + "/issues"},
				{"disableRegistration", !in.openReg}, {"disableLocalTimeline", false}, {"disableGlobalTimeline", false},
				{"emailRequiredForSignup", true}, {"enableHcaptcha", false}, {"enableRecaptcha", false},
				{"maxNoteTextLength", 3000}, {"enableEmail", true}, {"enableServiceWorker", true},
				{"proxyAccountName", "proxy"}, {"themeColor", "#86b300"},
			}},
		}
		if in.kind == swFirefish {
			return encodeJSON(sortedKeys(doc), styleCompact)
		}
		return encodeJSON(doc, styleCompact)

	case swGoToSocial:
		if version == "2.1" {
			sw = append(sw, kv{"repository", "https://codeberg.org/superseriousbusiness/gotosocial"}, kv{"homepage", "https://docs.gotosocial.org"})
		}
		return encodeJSON(obj{
			{"version", version}, {"software", sw}, {"protocols", []string{"activitypub"}},
			{"services", obj{{"inbound", arr{}}, {"outbound", arr{}}}},
			{"openRegistrations", in.openReg},
			{"usage", usageObj(in, usersObj(in, "total"))},
			{"metadata", obj{}},
		}, styleCompact)

	case swLemmy:
		doc := obj{{"version", version}}
		if version == "2.1" {
			sw = append(sw, kv{"repository", "https://github.com/LemmyNet/lemmy"}, kv{"homepage", "https://join-lemmy.org/"})
		}
		doc = append(doc, kv{"software", sw}, kv{"protocols", []string{"activitypub"}},
			kv{"usage", usageObj(in, usersObj(in, "total", "activeHalfyear", "activeMonth"), kv{"localComments", in.posts * 7})},
			kv{"openRegistrations", in.openReg})
		if version == "2.1" {
			doc = append(doc, kv{"services", obj{{"inbound", arr{}}, {"outbound", arr{}}}})
		}
		return encodeJSON(doc, styleCompact)

	case swPeerTube:
		return encodeJSON(obj{
			{"version", version}, {"software", sw}, {"protocols", []string{"activitypub"}},
			{"services", obj{{"inbound", arr{}}, {"outbound", []string{"atom1.0", "rss2.0"}}}},
			{"openRegistrations", in.openReg},
			{"usage", usageObj(in, usersObj(in, "total", "activeMonth", "activeHalfyear"), kv{"localComments", in.posts / 3})},
			{"metadata", obj{
				{"taxonomy", obj{{"postsName", "Videos"}}},
				{"nodeName", in.title}, {"nodeDescription", in.desc},
				{"nodeConfig", obj{{"search", obj{{"remoteUri", obj{{"users", true}, {"anonymous", false}}}}},
					{"plugin", obj{{"registered", arr{}}}}, {"theme", obj{{"registered", arr{}}, {"default", "default"}}},
					{"email", obj{{"enabled", false}}}, {"contactForm", obj{{"enabled", true}}},
					{"transcoding", obj{{"hls", obj{{"enabled", true}}}, {"enabledResolutions", arr{480, 720, 1080}}}},
					{"tracker", obj{{"enabled", true}}}}},
			}},
		}, styleCompact)

	case swPixelfed:
		return encodeJSON(obj{
			{"metadata", obj{{"nodeName", in.title},
				{"software", obj{{"homepage", "https://pixelfed.org"}, {"repo", "https://github.com/pixelfed/pixelfed"}}},
				{"config", obj{{"features", obj{{"timelines", obj{{"local", true}, {"network", true}}}, {"mobile_apis", true}, {"stories", true}, {"video", true}}}}}}},
			{"protocols", []string{"activitypub"}},
			{"services", obj{{"inbound", arr{}}, {"outbound", arr{}}}},
			{"software", sw},
			{"usage", usageObj(in, usersObj(in, "total", "activeHalfyear", "activeMonth"), kv{"localComments", 0})},
			{"version", version},
			{"openRegistrations", in.openReg},
		}, stylePHP)

	case swWriteFreely:
		doc := obj{
			{"metadata", obj{{"nodeName", in.title}, {"nodeDescription", in.desc},
				{"software", obj{{"homepage", "https://writefreely.org"}, {"github", "https://github.com/writefreely/writefreely"}, {"follow", "https://writing.exchange/@writefreely"}}},
				{"maxBlogs", 1}, {"publicReader", true}, {"invites", false}}},
			{"openRegistrations", in.openReg},
			{"protocols", []string{"activitypub"}},
			{"services", obj{{"inbound", arr{}}, {"outbound", []string{"rss2.0"}}}},
			{"software", sw},
			{"usage", usageObj(in, usersObj(in, "total"))},
			{"version", version},
		}
		return encodeJSON(sortedKeys(doc), styleCompact)

	case swSnac:
		name := ""
		if in.nodeName {
			name = in.title
		}
		if version == "2.1" {
			sw = append(sw, kv{"repository", "https://comam.es/what-is-snac"}, kv{"homepage", "https://comam.es/snac-doc"})
		}
		doc := obj{
			{"version", version}, {"software", sw}, {"protocols", []string{"activitypub"}},
			{"services", obj{{"outbound", arr{}}, {"inbound", arr{}}}},
			{"usage", usageObj(in, usersObj(in, "total", "activeMonth", "activeHalfyear"))},
			{"openRegistrations", in.openReg},
			{"metadata", obj{{"nodeDescription", ""}, {"nodeName", name}, {"baseURL", "https://" + in.host}}},
		}
		st := styleCompact
		if version == "2.1" {
			st.indent = "    "
		}
		return encodeJSON(doc, st)

	case swFriendica:
		protocols := []string{"dfrn", "activitypub", "diaspora", "ostatus"}
		services := obj{{"inbound", []string{"atom1.0", "rss2.0"}}, {"outbound", []string{"atom1.0"}}}
		if version == "1.0" {
			// 1.0 only knows a fixed protocol enum and nests protocols.
			return encodeJSON(obj{
				{"version", version}, {"software", obj{{"name", "friendica"}, {"version", in.version}}},
				{"protocols", obj{{"inbound", []string{"friendica", "diaspora"}}, {"outbound", []string{"friendica", "diaspora"}}}},
				{"services", services},
				{"usage", usageObj(in, usersObj(in, "total", "activeHalfyear", "activeMonth"))},
				{"openRegistrations", in.openReg}, {"metadata", obj{{"nodeName", in.title}}},
			}, stylePHP)
		}
		return encodeJSON(obj{
			{"version", version}, {"software", sw}, {"protocols", protocols}, {"services", services},
			{"usage", usageObj(in, usersObj(in, "total", "activeHalfyear", "activeMonth"), kv{"localComments", in.posts * 2})},
			{"openRegistrations", in.openReg},
			{"metadata", obj{{"nodeName", in.title}, {"explicitContent", false}}},
		}, stylePHP)

	case swWordPress:
		return encodeJSON(obj{
			{"version", version}, {"software", sw},
			{"usage", usageObj(in, usersObj(in, "total", "activeMonth", "activeHalfyear"))},
			{"openRegistrations", in.openReg}, {"protocols", []string{"activitypub"}},
			{"services", obj{{"inbound", arr{}}, {"outbound", arr{}}}},
			{"metadata", obj{{"nodeName", in.title}, {"nodeDescription", in.desc}, {"nodeIcon", "https://" + in.host + "/wp-content/uploads/icon.png"}}},
		}, stylePHP)
	}
	return []byte(`{}`)
}

// blockedHosts returns up to n dead hosts from the instance's peer list,
// the kind of names that end up on block lists.
func (s *Sim) blockedHosts(in *instance, n int) []string { return s.world.deadBlocked(in, n) }

// isMisskeyFamily reports whether in speaks the Misskey API.
func isMisskeyFamily(in *instance) bool { return in.prof().misskeyAPI }
