package fedisim

import (
	"encoding/json"
	"html"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// The Misskey family's notes and users API (POST, JSON body), as an
// anonymous caller sees it. Paths a crawler following rule 5 reads for the
// family; robots.txt must allow the first two.
const (
	MisskeyUsersShowPath     = "/api/users/show"
	MisskeyUsersNotesPath    = "/api/users/notes"
	MisskeyUsersPath         = "/api/users"
	MisskeyLocalTimelinePath = "/api/notes/local-timeline"
)

// Misskey's error ids for the endpoints below (as the real server sends).
const (
	misskeyInvalidParamID   = "3d81ceae-475f-4600-b2a8-2bc116157532"
	misskeyNoSuchUserShowID = "4362f8dc-731f-4ad8-a694-be5a88922a24"
	misskeyNoSuchUserNoteID = "27e494ba-2ac2-48e8-893b-10d4d8c2387b"
)

// misskeyNoindexShare is the share of Misskey-family accounts with "hide
// from search engines" (noindex) set.
const misskeyNoindexShare = 0.15

// misskeyAccount gives a Misskey-family account what only that family
// has: the noindex flag, drawn from its own stream so that no other draw
// shifts. Misskey accounts have no indexable flag, so in a world without
// an opt-in word they never consent and the flag changes nothing there.
func (w *world) misskeyAccount(in *instance, a *account, i int) {
	if !in.prof().misskeyAPI {
		return
	}
	a.noindex = newRNG(w.seed, saltMisskey, uint64(in.idx), uint64(i)).chance(misskeyNoindexShare)
}

// serveMisskeyNotesAPI serves the notes and users endpoints; params is the
// decoded JSON body. It reports whether path is one of them.
func (s *Sim) serveMisskeyNotesAPI(w http.ResponseWriter, path string, in *instance, params map[string]json.RawMessage) bool {
	invalid := func() {
		misskeyError(w, http.StatusBadRequest, "Invalid param.", "INVALID_PARAM", misskeyInvalidParamID)
	}
	switch path {
	case MisskeyLocalTimelinePath:
		page, ok := misskeyPage(params, true)
		if !ok {
			invalid()
			return true
		}
		c := s.world.contentOf(in)
		var notes []*post
		for _, pst := range c.posts {
			if pst.visibility == "public" && (page.withReplies || !replyToOther(pst)) {
				notes = append(notes, pst)
			}
		}
		s.writeMisskeyNotes(w, in, page.apply(notes))
	case MisskeyUsersNotesPath:
		page, ok := misskeyPage(params, false)
		var userID string
		if !ok || json.Unmarshal(params["userId"], &userID) != nil || userID == "" {
			invalid()
			return true
		}
		a := s.misskeyFind(in, userID, "")
		if a == nil {
			misskeyError(w, http.StatusBadRequest, "No such user.", "NO_SUCH_USER", misskeyNoSuchUserNoteID)
			return true
		}
		var notes []*post
		for _, pst := range a.posts {
			// An anonymous caller sees public and home notes, never
			// followers-only or direct ones.
			if (pst.visibility == "public" || pst.visibility == "unlisted") && (page.withReplies || !replyToOther(pst)) {
				notes = append(notes, pst)
			}
		}
		if page.withRenotes {
			notes = append(notes, renoteNotes(a)...) // boosts.go
		}
		s.writeMisskeyNotes(w, in, page.apply(notes))
	case MisskeyUsersShowPath:
		var userID, username string
		_ = json.Unmarshal(params["userId"], &userID)
		_ = json.Unmarshal(params["username"], &username)
		if raw, ok := params["host"]; ok && strings.TrimSpace(string(raw)) != "null" {
			var host string
			if json.Unmarshal(raw, &host) != nil || !strings.EqualFold(host, in.host) {
				// A remote user: the simulation knows none.
				misskeyError(w, http.StatusBadRequest, "No such user.", "NO_SUCH_USER", misskeyNoSuchUserShowID)
				return true
			}
		}
		if userID == "" && username == "" {
			invalid()
			return true
		}
		a := s.misskeyFind(in, userID, username)
		if a == nil {
			misskeyError(w, http.StatusBadRequest, "No such user.", "NO_SUCH_USER", misskeyNoSuchUserShowID)
			return true
		}
		writeJSON(w, http.StatusOK, encodeJSON(s.misskeyUserDetailed(in, a), styleCompact), "")
	case MisskeyUsersPath:
		limit, offset, err := intParams(params, 10, 100)
		var origin, sortBy, state string
		_ = json.Unmarshal(params["origin"], &origin)
		_ = json.Unmarshal(params["sort"], &sortBy)
		_ = json.Unmarshal(params["state"], &state)
		if err != nil || !oneOf(origin, "", "local", "remote", "combined") || !oneOf(state, "", "all", "alive", "admin", "moderator", "adminOrModerator") ||
			!oneOf(sortBy, "", "+follower", "-follower", "+createdAt", "-createdAt", "+updatedAt", "-updatedAt") {
			invalid()
			return true
		}
		var users []*account
		if origin != "remote" {
			for _, a := range s.world.contentOf(in).accounts {
				if a.discoverable { // isExplorable
					users = append(users, a)
				}
			}
		}
		// "+" sorts descending in Misskey: +createdAt is the newest first.
		asc := strings.HasPrefix(sortBy, "-")
		sort.SliceStable(users, func(i, j int) bool {
			x, y := users[i], users[j]
			if !x.created.Equal(y.created) {
				return x.created.After(y.created) != asc
			}
			return (x.id > y.id) != asc
		})
		out := arr{}
		for i := offset; i < len(users) && i < offset+limit; i++ {
			out = append(out, s.misskeyUserDetailed(in, users[i]))
		}
		writeJSON(w, http.StatusOK, encodeJSON(out, styleCompact), "")
	default:
		return false
	}
	return true
}

func oneOf(v string, allowed ...string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

// replyToOther reports a reply to another account's note: Misskey's
// timelines and users/notes leave those out unless withReplies is true.
func replyToOther(pst *post) bool {
	return pst.inReplyTo != nil && pst.inReplyTo.author != pst.author || pst.remoteParent != nil
}

// misskeyFind returns the live local account with the id, or else with the
// username (case-insensitively); nil when there is none.
func (s *Sim) misskeyFind(in *instance, id, username string) *account {
	for _, a := range s.world.contentOf(in).accounts {
		if id != "" && a.id == id || id == "" && username != "" && strings.EqualFold(a.username, username) {
			return a
		}
	}
	return nil
}

// misskeyNotePage is the paging of Misskey's note lists.
type misskeyNotePage struct {
	limit          int
	sinceID, until string
	withReplies    bool
	// withRenotes lists plain renotes too; only users/notes has any
	// (the local timeline leaves them out). Misskey's default is true;
	// the simulation lists them only when asked, so that callers written
	// before there were renotes see the notes alone.
	withRenotes bool
}

// misskeyPage validates limit (1..100, default 10), sinceId, untilId and
// withReplies the way Misskey's schema does. withReplies defaults to
// replies: false on users/notes (Misskey 2023.10 and later), true on the
// local timeline (as before 2023.10, when the parameter did not exist).
func misskeyPage(p map[string]json.RawMessage, replies bool) (misskeyNotePage, bool) {
	limit, _, err := intParams(p, 10, 100)
	if err != nil {
		return misskeyNotePage{}, false
	}
	pg := misskeyNotePage{limit: limit, withReplies: replies}
	for key, dst := range map[string]*string{"sinceId": &pg.sinceID, "untilId": &pg.until} {
		if raw, ok := p[key]; ok && json.Unmarshal(raw, dst) != nil {
			return misskeyNotePage{}, false
		}
	}
	if raw, ok := p["withReplies"]; ok && json.Unmarshal(raw, &pg.withReplies) != nil {
		return misskeyNotePage{}, false
	}
	if raw, ok := p["withRenotes"]; ok && json.Unmarshal(raw, &pg.withRenotes) != nil {
		return misskeyNotePage{}, false
	}
	return pg, true
}

// apply pages notes the way Misskey's makePaginationQuery does: ordered
// by id; sinceId alone returns the limit OLDEST notes newer than it,
// oldest first (the client reverses them); untilId, or both, the newest
// first.
func (pg misskeyNotePage) apply(notes []*post) []*post {
	sorted := append([]*post(nil), notes...)
	sort.SliceStable(sorted, func(i, j int) bool { return idGreater(sorted[i].id, sorted[j].id) })
	var out []*post
	for _, pst := range sorted {
		if pg.sinceID != "" && !idGreater(pst.id, pg.sinceID) || pg.until != "" && !idGreater(pg.until, pst.id) {
			continue
		}
		out = append(out, pst)
	}
	if pg.sinceID != "" && pg.until == "" {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	if len(out) > pg.limit {
		out = out[:pg.limit]
	}
	return out
}

// writeMisskeyNotes writes packed notes.
func (s *Sim) writeMisskeyNotes(w http.ResponseWriter, in *instance, notes []*post) {
	out := arr{}
	for _, pst := range notes {
		out = append(out, s.misskeyNote(in, pst, true))
	}
	writeJSON(w, http.StatusOK, encodeJSON(out, styleCompact), "")
}

// misskeyNote packs a note the way Misskey's NoteEntityService does (key
// order included): tags and mentions only when there are some, uri and url
// absent for local notes, the replied note embedded as "reply" when the
// caller may see it (detail).
func (s *Sim) misskeyNote(in *instance, pst *post, detail bool) obj {
	if pst.renote != nil {
		return s.misskeyRenoteJSON(in, pst) // boosts.go
	}
	var cw any
	if pst.summary != "" {
		cw = pst.summary
	}
	reactions := obj{}
	if n := pst.favourites - pst.favourites/3; n > 0 {
		reactions = append(reactions, kv{"👍", n})
	}
	if n := pst.favourites / 3; n > 0 {
		reactions = append(reactions, kv{"❤", n})
	}
	fileIDs, files := arr{}, arr{}
	for _, m := range pst.media {
		var comment any
		if m.description != "" {
			comment = m.description
		}
		fileIDs = append(fileIDs, m.id)
		files = append(files, obj{
			{"id", m.id}, {"createdAt", pst.created.UTC().Format(timeMillis)}, {"name", m.id + ".png"},
			{"type", "image/png"}, {"md5", strconv.FormatUint(hashString(m.url), 16)}, {"size", 48213},
			{"isSensitive", pst.sensitive && pst.summary == ""},
			{"blurhash", nil}, {"properties", obj{{"width", 800}, {"height", 600}}},
			{"url", m.url}, {"thumbnailUrl", m.url}, {"comment", comment},
			{"folderId", nil}, {"folder", nil}, {"userId", nil}, {"user", nil},
		})
	}
	var replyID any
	if pst.inReplyTo != nil {
		replyID = pst.inReplyTo.id
	} else if pst.remoteParent != nil {
		replyID = pst.remoteParent.id
	}
	o := obj{
		{"id", pst.id}, {"createdAt", pst.created.UTC().Format(timeMillis)}, {"userId", pst.author.id},
		{"user", s.misskeyUser(in, pst.author)}, {"text", misskeyText(pst)}, {"cw", cw},
		{"visibility", misskeyVisibility(pst.visibility)}, {"localOnly", false}, {"reactionAcceptance", nil},
		{"renoteCount", pst.reblogs}, {"repliesCount", pst.replies}, {"reactionCount", pst.favourites},
		{"reactions", reactions}, {"reactionEmojis", obj{}},
	}
	if len(pst.tags) > 0 {
		o = append(o, kv{"tags", pst.tags})
	}
	o = append(o, kv{"fileIds", fileIDs}, kv{"files", files}, kv{"replyId", replyID}, kv{"renoteId", nil})
	if len(pst.mentions) > 0 {
		ids := arr{}
		for _, m := range pst.mentions {
			ids = append(ids, s.misskeyMentionID(in, m))
		}
		o = append(o, kv{"mentions", ids})
	}
	if pst.poll != nil {
		choices := arr{}
		for i, c := range pst.poll.options {
			choices = append(choices, obj{{"text", c}, {"votes", pst.poll.votes[i]}, {"isVoted", false}})
		}
		o = append(o, kv{"poll", obj{{"multiple", pst.poll.multiple},
			{"expiresAt", pst.poll.expires.UTC().Format(timeMillis)}, {"choices", choices}}})
	}
	if detail && pst.inReplyTo != nil && !pst.inReplyTo.gone &&
		(pst.inReplyTo.visibility == "public" || pst.inReplyTo.visibility == "unlisted") {
		o = append(o, kv{"reply", s.misskeyNote(in, pst.inReplyTo, false)})
	} else if detail && pst.remoteParent != nil {
		o = append(o, kv{"reply", s.misskeyRemoteNote(in, pst.remoteParent)})
	}
	return o
}

// misskeyMentionID is the id of a mentioned user: the local account's,
// or the id the server gave its copy of a remote one.
func (s *Sim) misskeyMentionID(in *instance, m mention) string {
	if !strings.Contains(m.acct, "@") {
		for _, a := range s.world.contentOf(in).accounts {
			if a.username == m.acct {
				return a.id
			}
		}
	}
	id := strconv.FormatUint(hashString(in.host+"\x00"+m.acct), 36)
	for len(id) < 10 {
		id = "0" + id
	}
	return id[:10]
}

var (
	anchorRE  = regexp.MustCompile(`<a href="([^"]*)"[^>]*>(.*?)</a>`)
	hcardRE   = regexp.MustCompile(`<span class="h-card"[^>]*><a [^>]*>@<span>[^<]*</span></a></span>`)
	mfmTrimRE = regexp.MustCompile(`[ \t]+\n`)
)

// misskeyText is a note's text as MFM, the plain text its author typed:
// "@user" for a local mention and "@user@host" for a remote one, "#Tag",
// bare URLs. Markup the author typed (the hostile share) is text to
// Misskey and is served verbatim: a client must escape it.
func misskeyText(pst *post) string {
	body, typed := pst.contentHTML, ""
	for _, h := range hostileHTML {
		if strings.HasSuffix(body, h) {
			body, typed = strings.TrimSuffix(body, h), h
			break
		}
	}
	mi := 0
	body = hcardRE.ReplaceAllStringFunc(body, func(string) string {
		if mi >= len(pst.mentions) {
			return ""
		}
		m := pst.mentions[mi]
		mi++
		return "@" + html.EscapeString(m.acct)
	})
	body = anchorRE.ReplaceAllStringFunc(body, func(a string) string {
		sub := anchorRE.FindStringSubmatch(a)
		if strings.Contains(a, `class="mention hashtag"`) {
			return sub[2]
		}
		return sub[1]
	})
	text := htmlText(body)
	if typed != "" {
		text += "\n\n" + typed
	}
	return mfmTrimRE.ReplaceAllString(text, "\n")
}

// misskeyUserDetailed packs a local account as Misskey's UserDetailed:
// description is the bio as plain text, fields plain name/value pairs,
// noindex the "hide from search engines" setting, no indexable flag.
func (s *Sim) misskeyUserDetailed(in *instance, a *account) obj {
	fields := arr{}
	for _, f := range a.fields {
		fields = append(fields, obj{{"name", htmlText(f.name)}, {"value", htmlText(f.value)}})
	}
	o := s.misskeyUser(in, a)
	return append(o,
		kv{"url", nil}, kv{"uri", nil}, kv{"movedTo", nil}, kv{"alsoKnownAs", nil},
		kv{"createdAt", a.created.UTC().Format(timeMillis)}, kv{"updatedAt", a.created.UTC().Format(timeMillis)},
		kv{"lastFetchedAt", nil}, kv{"bannerUrl", nil}, kv{"bannerBlurhash", nil},
		kv{"isLocked", a.locked}, kv{"isSilenced", false}, kv{"isSuspended", false},
		kv{"description", plainBio(a)}, kv{"location", nil}, kv{"birthday", nil}, kv{"lang", nil},
		kv{"fields", fields}, kv{"verifiedLinks", arr{}},
		kv{"followersCount", a.followers}, kv{"followingCount", a.following}, kv{"notesCount", len(a.posts)},
		kv{"pinnedNoteIds", arr{}}, kv{"pinnedNotes", arr{}}, kv{"pinnedPageId", nil}, kv{"pinnedPage", nil},
		kv{"publicReactions", true}, kv{"followingVisibility", "public"}, kv{"followersVisibility", "public"},
		kv{"roles", arr{}}, kv{"memo", nil}, kv{"noindex", a.noindex},
	)
}
