package fedisim

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const (
	// defaultPageLimit and maxPageLimit are Mastodon's timeline page sizes.
	defaultPageLimit = 20
	maxPageLimit     = 40
	timeMillis       = "2006-01-02T15:04:05.000Z"
	timeSeconds      = "2006-01-02T15:04:05Z"
)

// routeMastodonAPI serves the Mastodon client API family (Mastodon,
// Pleroma, Akkoma, GoToSocial, Pixelfed, Friendica, and snac's subset).
func (s *Sim) routeMastodonAPI(w http.ResponseWriter, r *http.Request, in *instance) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	path := r.URL.Path
	if apiAuthRefused(w, in, path) {
		return true
	}
	switch path {
	case "/api/v1/instance":
		s.serveInstanceV1(w, in)
	case "/api/v2/instance":
		if !(in.kind == swMastodon && versionAtLeast(in.version, 4, 0) || in.kind == swGoToSocial) {
			return false
		}
		s.serveInstanceV2(w, in)
	case "/api/v1/instance/peers":
		s.servePeers(w, in)
	case "/api/v1/instance/activity":
		if in.kind != swMastodon {
			return false
		}
		s.serveActivity(w, in)
	case "/api/v1/instance/domain_blocks":
		if in.kind != swMastodon {
			return false
		}
		s.serveDomainBlocks(w, in)
	case "/api/v1/directory":
		if in.kind != swMastodon && in.kind != swPleroma && in.kind != swAkkoma {
			return false
		}
		s.serveDirectory(w, r, in)
	case "/api/v1/timelines/public":
		if in.kind == swSnac {
			return false
		}
		s.servePublicTimeline(w, r, in)
	case "/api/v1/accounts/lookup":
		if in.kind == swSnac || in.kind == swGoToSocial {
			return false
		}
		s.serveAccountLookup(w, r, in)
	default:
		return s.routeMastodonAccounts(w, r, in, path)
	}
	return true
}

// mastoJSON writes a Mastodon-API JSON answer in the program's style.
func mastoJSON(w http.ResponseWriter, in *instance, status int, v any) {
	st, ct := mastoStyle(in)
	if in.kind == swGoToSocial {
		w.Header().Set("X-Robots-Tag", "noindex, nofollow")
	}
	writeJSON(w, status, encodeJSON(v, st), ct)
}

// mastoStyle is the JSON style and content type of the instance's
// Mastodon API.
func mastoStyle(in *instance) (jsonStyle, string) {
	st, ct := styleCompact, "application/json; charset=utf-8"
	switch in.kind {
	case swGoToSocial:
		ct = "application/json"
	case swPixelfed, swFriendica:
		st = stylePHP
	case swSnac:
		st.indent = "    "
		ct = "application/json"
	}
	return st, ct
}

func (s *Sim) serveInstanceV1(w http.ResponseWriter, in *instance) {
	u := servedUsage(in)
	posts := in.posts
	if u.posts == nil {
		posts = 0
	}
	stats := obj{{"user_count", in.users}, {"status_count", posts}, {"domain_count", len(in.peers)}}
	switch in.kind {
	case swGoToSocial:
		mastoJSON(w, in, http.StatusOK, obj{
			{"uri", in.host}, {"account_domain", in.host}, {"title", in.title}, {"description", in.desc},
			{"short_description", ""}, {"email", ""}, {"version", in.version}, {"languages", arr{}},
			{"registrations", in.openReg}, {"approval_required", true}, {"invites_enabled", false},
			{"configuration", obj{{"statuses", obj{{"max_characters", 5000}, {"max_media_attachments", 6}, {"characters_reserved_per_url", 25}}},
				{"accounts", obj{{"allow_custom_css", false}, {"max_featured_tags", 10}, {"max_profile_fields", 6}}}}},
			{"urls", obj{{"streaming_api", "wss://" + in.host}}},
			{"stats", obj{{"domain_count", len(in.peers)}, {"status_count", posts}, {"user_count", in.users}}},
			{"thumbnail", "https://" + in.host + "/assets/logo.webp"}, {"max_toot_chars", 5000}, {"rules", arr{}},
		})
		return
	case swSnac:
		mastoJSON(w, in, http.StatusOK, obj{
			{"uri", in.host}, {"domain", in.host}, {"title", instanceDocTitle(in)}, {"version", "4.0.0 (not true; really snac/" + in.version + ")"},
			{"source_url", "https://comam.es/what-is-snac"}, {"description", in.host}, {"short_description", in.host},
			{"thumbnail", "https://" + in.host + "/susie.png"}, {"email", "admin@" + in.host}, {"rules", arr{}},
			{"languages", []string{"en"}}, {"urls", obj{{"streaming_api", "wss://" + in.host}}},
			{"stats", obj{{"user_count", 0}, {"status_count", 0}, {"domain_count", 0}}},
			{"registrations", false}, {"approval_required", false}, {"invites_enabled", false},
		})
		return
	}
	version := in.version
	switch in.kind {
	case swPleroma:
		version = "2.7.2 (compatible; Pleroma " + in.version + ")"
	case swAkkoma:
		version = "2.7.2 (compatible; Akkoma " + in.version + ")"
	case swPixelfed:
		version = "3.5.3 (compatible; Pixelfed " + in.version + ")"
	case swFriendica:
		version = "2.8.0 (compatible; Friendica " + in.version + ")"
	}
	doc := obj{
		{"uri", in.host}, {"title", in.title}, {"short_description", in.desc}, {"description", in.desc},
		{"email", "admin@" + in.host}, {"version", version},
		{"urls", obj{{"streaming_api", "wss://" + in.host}}},
		{"stats", stats},
		{"thumbnail", "https://" + in.host + "/packs/media/images/preview.png"},
		{"languages", []string{"en"}}, {"registrations", in.openReg}, {"approval_required", false}, {"invites_enabled", true},
		{"configuration", obj{
			{"accounts", obj{{"max_featured_tags", 10}}},
			{"statuses", obj{{"max_characters", 500}, {"max_media_attachments", 4}, {"characters_reserved_per_url", 23}}},
			{"polls", obj{{"max_options", 4}, {"max_characters_per_option", 50}, {"min_expiration", 300}, {"max_expiration", 2629746}}},
		}},
		{"contact_account", nil},
		{"rules", arr{obj{{"id", "1"}, {"text", "Be excellent to each other."}}}},
	}
	if c := s.world.contentOf(in); len(c.accounts) > 0 {
		doc[len(doc)-2] = kv{"contact_account", s.accountJSON(in, c.accounts[0])}
	}
	if in.kind == swPleroma || in.kind == swAkkoma {
		doc = append(doc, kv{"pleroma", obj{{"metadata", obj{
			{"account_activation_required", true}, {"features", []string{"pleroma_api", "mastodon_api"}},
			{"federation", obj{{"enabled", true}, {"exclusions", false}}},
			{"private", in.has(bPrivate)},
		}}, {"stats", obj{{"mau", in.users}}}, {"vapid_public_key", "BPxx" + strconv.FormatUint(hashString(in.host), 36)}}})
	}
	mastoJSON(w, in, http.StatusOK, doc)
}

func (s *Sim) serveInstanceV2(w http.ResponseWriter, in *instance) {
	access := func(m uint8) string {
		return [...]string{"public", "authenticated", "disabled"}[m]
	}
	config := obj{
		{"urls", obj{{"streaming", "wss://" + in.host}, {"status", nil}, {"about", "https://" + in.host + "/about"},
			{"privacy_policy", "https://" + in.host + "/privacy-policy"}, {"terms_of_service", nil}}},
		{"accounts", obj{{"max_featured_tags", 10}, {"max_pinned_statuses", 5}, {"max_profile_fields", 4}}},
		{"statuses", obj{{"max_characters", 500}, {"max_media_attachments", 4}, {"characters_reserved_per_url", 23}}},
		{"polls", obj{{"max_options", 4}, {"max_characters_per_option", 50}, {"min_expiration", 300}, {"max_expiration", 2629746}}},
		{"translation", obj{{"enabled", false}}},
	}
	if in.kind == swMastodon && versionAtLeast(in.version, 4, 5) {
		config = append(config, kv{"timelines_access", obj{
			{"live_feeds", obj{{"local", access(in.tlLocal)}, {"remote", access(in.tlRemote)}}},
			{"hashtag_feeds", obj{{"local", "public"}, {"remote", "public"}}},
			{"trending_link_feeds", obj{{"local", "public"}, {"remote", "public"}}},
		}})
	}
	config = append(config, kv{"limited_federation", false})
	var contact any = nil
	if c := s.world.contentOf(in); len(c.accounts) > 0 && in.kind == swMastodon {
		contact = s.accountJSON(in, c.accounts[0])
	}
	doc := obj{
		{"domain", in.host}, {"title", in.title}, {"version", in.version},
		{"source_url", "https://github.com/mastodon/mastodon"}, {"description", in.desc},
		{"usage", obj{{"users", obj{{"active_month", in.month}}}}},
		{"thumbnail", obj{{"url", "https://" + in.host + "/packs/media/images/preview.png"}}},
		{"languages", []string{"en"}},
		{"configuration", config},
		{"registrations", obj{{"enabled", in.openReg}, {"approval_required", false}, {"message", nil}, {"url", nil}}},
		{"contact", obj{{"email", "admin@" + in.host}, {"account", contact}}},
		{"rules", arr{obj{{"id", "1"}, {"text", "Be excellent to each other."}, {"hint", ""}}}},
	}
	if in.kind == swGoToSocial {
		doc[3] = kv{"source_url", "https://codeberg.org/superseriousbusiness/gotosocial"}
		doc = append(obj{{"account_domain", in.host}}, doc...)
	}
	mastoJSON(w, in, http.StatusOK, doc)
}

func (s *Sim) servePeers(w http.ResponseWriter, in *instance) {
	if in.has(bPeersDisabled) {
		notFound(w, in, "/api/v1/instance/peers")
		return
	}
	if in.kind == swSnac {
		writeJSON(w, http.StatusOK, []byte("[\n]"), "application/json")
		return
	}
	hosts := make([]string, len(in.peers))
	for i, ref := range in.peers {
		hosts[i] = s.world.peerName(ref)
	}
	if in.kind == swMastodon {
		w.Header().Set("Cache-Control", "max-age=86400, public")
	}
	mastoJSON(w, in, http.StatusOK, hosts)
}

func (s *Sim) serveActivity(w http.ResponseWriter, in *instance) {
	r := newRNG(s.world.seed, saltContent, uint64(in.idx), 7)
	week := s.opts.Now.Truncate(24*time.Hour).AddDate(0, 0, -int(s.opts.Now.Weekday()))
	var out arr
	for i := 0; i < 12; i++ {
		wk := week.AddDate(0, 0, -7*i)
		out = append(out, obj{
			{"week", strconv.FormatInt(wk.Unix(), 10)},
			{"statuses", strconv.FormatInt(in.posts/200+int64(r.intn(int(in.users%1000)+5)), 10)},
			{"logins", strconv.FormatInt(in.month/2+int64(r.intn(int(in.month%100)+2)), 10)},
			{"registrations", strconv.Itoa(r.intn(int(in.users/1000) + 2))},
		})
	}
	mastoJSON(w, in, http.StatusOK, out)
}

func (s *Sim) serveDomainBlocks(w http.ResponseWriter, in *instance) {
	if !in.blocksVisible {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	var out arr
	for _, b := range s.blocksOn(in, in.viewDay) {
		sum := sha256.Sum256([]byte(b.domain))
		out = append(out, obj{{"domain", b.domain}, {"digest", hex.EncodeToString(sum[:])}, {"severity", b.severity}, {"comment", b.comment}})
	}
	if out == nil {
		out = arr{}
	}
	mastoJSON(w, in, http.StatusOK, out)
}

// pageParams are the pagination parameters of Mastodon list endpoints.
type pageParams struct {
	limit               int
	maxID, minID, since string
	offset              int
}

func parsePage(q url.Values, def, max int) pageParams {
	p := pageParams{limit: def, maxID: q.Get("max_id"), minID: q.Get("min_id"), since: q.Get("since_id")}
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && n > 0 {
		p.limit = min(n, max)
	}
	if n, err := strconv.Atoi(q.Get("offset")); err == nil && n > 0 {
		p.offset = n
	}
	return p
}

// idBefore reports whether id sorts before (is older than) cursor: numeric
// ids compare as numbers, others as strings, which matches time order for
// the sortable ids (snowflakes, ULIDs, Misskey aids).
func idBefore(id, cursor string) bool {
	if isDigits(id) && isDigits(cursor) {
		return idGreater(cursor, id)
	}
	return id < cursor
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// pagePosts applies max_id/min_id/since_id and limit to posts (newest
// first). Cursors that name a post cut at its position; others compare ids.
func pagePosts(posts []*post, p pageParams) []*post {
	out := posts
	cut := func(cursor string, older bool) {
		for i, pst := range out {
			if pst.id == cursor {
				if older {
					out = out[i+1:]
				} else {
					out = out[:i]
				}
				return
			}
		}
		var kept []*post
		for _, pst := range out {
			if idBefore(pst.id, cursor) == older {
				kept = append(kept, pst)
			}
		}
		out = kept
	}
	if p.maxID != "" {
		cut(p.maxID, true)
	}
	if p.since != "" {
		cut(p.since, false)
	}
	if p.minID != "" {
		cut(p.minID, false)
		if len(out) > p.limit {
			return out[len(out)-p.limit:]
		}
	}
	if len(out) > p.limit {
		out = out[:p.limit]
	}
	return out
}

func (s *Sim) servePublicTimeline(w http.ResponseWriter, r *http.Request, in *instance) {
	q := r.URL.Query()
	local := q.Get("local") == "true" || q.Get("local") == "1"
	switch {
	case in.kind == swGoToSocial:
		mastoJSON(w, in, http.StatusUnauthorized, obj{{"error", "Unauthorized: token not supplied"}})
		return
	case in.has(bPrivate):
		mastoJSON(w, in, http.StatusUnauthorized, obj{{"error", "authorization required for timeline view"}})
		return
	case in.kind == swMastodon:
		mode := in.tlRemote
		if local {
			mode = in.tlLocal
		}
		switch mode {
		case tlAuthenticated:
			mastoJSON(w, in, http.StatusUnauthorized, obj{{"error", "This method requires an authenticated user"}})
			return
		case tlDisabled:
			mastoJSON(w, in, http.StatusOK, arr{})
			return
		}
	}
	public := s.world.contentOf(in).publicPosts()
	if q.Get("only_media") == "true" {
		public = nil
	}
	page := pagePosts(public, parsePage(q, defaultPageLimit, maxPageLimit))
	out := make(arr, 0, len(page))
	for _, pst := range page {
		out = append(out, s.statusRaw(in, pst))
	}
	if len(page) > 0 {
		base := "https://" + in.host + "/api/v1/timelines/public?"
		keep := url.Values{}
		if local {
			keep.Set("local", "true")
		}
		if l := q.Get("limit"); l != "" {
			keep.Set("limit", l)
		}
		next, prev := cloneValues(keep), cloneValues(keep)
		next.Set("max_id", page[len(page)-1].id)
		prev.Set("min_id", page[0].id)
		w.Header().Set("Link", "<"+base+next.Encode()+`>; rel="next", <`+base+prev.Encode()+`>; rel="prev"`)
	}
	mastoJSON(w, in, http.StatusOK, out)
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func (s *Sim) serveDirectory(w http.ResponseWriter, r *http.Request, in *instance) {
	q := r.URL.Query()
	p := parsePage(q, 40, 80)
	accounts := directoryAccounts(s.world.contentOf(in), q.Get("order"))
	accounts = accounts[min(p.offset, len(accounts)):]
	accounts = accounts[:min(p.limit, len(accounts))]
	list := make(arr, 0, len(accounts))
	for _, a := range accounts {
		list = append(list, s.accountRaw(in, a))
	}
	mastoJSON(w, in, http.StatusOK, list)
}

func (s *Sim) serveAccountLookup(w http.ResponseWriter, r *http.Request, in *instance) {
	acct := strings.ToLower(strings.TrimPrefix(r.URL.Query().Get("acct"), "@"))
	acct = strings.TrimSuffix(acct, "@"+in.host)
	for _, a := range s.world.contentOf(in).accounts {
		if a.username == acct {
			mastoJSON(w, in, http.StatusOK, s.accountRaw(in, a))
			return
		}
	}
	mastoJSON(w, in, http.StatusNotFound, obj{{"error", "Record not found"}})
}

// accountJSON renders a Mastodon REST Account with the fields the program
// and version really have.
func (s *Sim) accountJSON(in *instance, a *account) obj {
	var discoverable any = a.discoverable
	if a.discoverableNull {
		discoverable = nil
	}
	o := obj{
		{"id", a.id}, {"username", a.username}, {"acct", a.username}, {"display_name", a.displayName},
		{"locked", a.locked}, {"bot", a.bot}, {"discoverable", discoverable},
	}
	masto43 := in.kind == swMastodon && versionAtLeast(in.version, 4, 3)
	if masto43 {
		o = append(o, kv{"indexable", *a.indexable})
	}
	o = append(o, kv{"group", false}, kv{"created_at", a.created.UTC().Format(timeMillis)},
		kv{"note", a.noteHTML}, kv{"url", a.profileURL})
	if in.kind == swMastodon && versionAtLeast(in.version, 4, 2) {
		o = append(o, kv{"uri", a.actorURI})
	}
	avatar := "https://" + in.host + "/avatars/original/missing.png"
	o = append(o, kv{"avatar", avatar}, kv{"avatar_static", avatar},
		kv{"header", "https://" + in.host + "/headers/original/missing.png"},
		kv{"header_static", "https://" + in.host + "/headers/original/missing.png"},
		kv{"followers_count", a.followers}, kv{"following_count", a.following},
		kv{"statuses_count", len(a.posts)})
	var last any = nil
	if len(a.posts) > 0 {
		last = a.posts[0].created.UTC().Format("2006-01-02")
	}
	o = append(o, kv{"last_status_at", last})
	if in.kind == swMastodon && versionAtLeast(in.version, 4, 1) {
		o = append(o, kv{"hide_collections", nil})
	}
	if in.kind == swMastodon && versionAtLeast(in.version, 4, 0) {
		o = append(o, kv{"noindex", a.noindex})
	}
	fields := arr{}
	for _, f := range a.fields {
		fields = append(fields, obj{{"name", f.name}, {"value", f.value}, {"verified_at", nil}})
	}
	o = append(o, kv{"emojis", arr{}})
	if in.kind == swMastodon && versionAtLeast(in.version, 4, 1) {
		o = append(o, kv{"roles", arr{}})
	}
	o = append(o, kv{"fields", fields})
	switch in.kind {
	case swPleroma, swAkkoma:
		o = append(o, kv{"pleroma", obj{{"is_admin", a.username == "admin"}, {"is_moderator", false},
			{"hide_followers", false}, {"relationship", obj{}}, {"tags", arr{}}}})
		o = append(o, kv{"source", obj{{"note", plainBio(a)}, {"fields", arr{}}, {"pleroma", obj{{"discoverable", a.discoverable}, {"actor_type", "Person"}}}}})
	}
	return o
}

// statusJSON renders a Mastodon REST Status.
func (s *Sim) statusJSON(in *instance, pst *post) obj {
	mentions := arr{}
	for _, m := range pst.mentions {
		mentions = append(mentions, obj{{"id", strconv.FormatUint(hashString(m.uri)>>12, 10)}, {"username", m.username}, {"url", m.url}, {"acct", m.acct}})
	}
	tags := arr{}
	for _, t := range pst.tags {
		tags = append(tags, obj{{"name", t}, {"url", "https://" + in.host + "/tags/" + t}})
	}
	var lang any = pst.lang
	if pst.lang == "" {
		lang = nil
	}
	var replyID, replyAccount any
	if t := pst.inReplyTo; t != nil {
		replyID, replyAccount = t.id, t.author.id
	} else if rp := pst.remoteParent; rp != nil {
		replyID, replyAccount = rp.id, rp.accountID
	}
	o := obj{
		{"id", pst.id}, {"created_at", pst.created.UTC().Format(timeMillis)},
		{"in_reply_to_id", replyID}, {"in_reply_to_account_id", replyAccount},
		{"sensitive", pst.sensitive}, {"spoiler_text", pst.summary}, {"visibility", pst.visibility},
		{"language", lang}, {"uri", pst.uri}, {"url", pst.url},
		{"replies_count", pst.replies}, {"reblogs_count", pst.reblogs}, {"favourites_count", pst.favourites},
		{"edited_at", nil}, {"content", pst.contentHTML}, {"reblog", nil},
		{"account", s.accountRaw(in, pst.author)},
		{"media_attachments", mediaJSON(pst)}, {"mentions", mentions}, {"tags", tags}, {"emojis", arr{}},
		{"card", nil}, {"poll", pollJSON(pst, s.opts.Now)},
	}
	switch in.kind {
	case swPleroma, swAkkoma:
		o = append(o, kv{"pleroma", obj{{"local", true}, {"conversation_id", hashString(pst.uri) % 100000},
			{"content", obj{{"text/plain", htmlText(pst.contentHTML)}}}, {"spoiler_text", obj{{"text/plain", pst.summary}}},
			{"expires_at", nil}, {"thread_muted", false}, {"emoji_reactions", arr{}}}})
	case swMastodon:
		if versionAtLeast(in.version, 4, 5) {
			o = append(o, kv{"quotes_count", 0}, kv{"quote", nil})
		}
	}
	return o
}
