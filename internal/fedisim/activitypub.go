package fedisim

import (
	"html"
	"net/http"
	"strconv"
	"strings"
)

const (
	asPublic     = "https://www.w3.org/ns/activitystreams#Public"
	asContext    = "https://www.w3.org/ns/activitystreams"
	outboxPageSz = 20
)

// actorPublicKeyPEM is the one RSA public key every simulated actor
// publishes. The simulation never signs anything, so one key suffices; it
// is a real key so that parsers accept it.
const actorPublicKeyPEM = `-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA5FOH/OlEUpSVvQ1jL+PB
QenTamS4ObAGirILTYicv65jRbplbQ7SI5Y23EKk/T/S/cTBcxmyB57UjfMdrHLA
okQVq+LzBBg4+7gzHiaf8XWsNxEts8fpdWFGGkNIViSFn5M9hj0lyz+eZO2yWJsu
Py9Hn6s2YN2+L5a6JwxynWS8VZGCEXF/JBU7rVG47Tsc9bSK2qHKc1V2NpOB/WvX
b1hWX8PvoanWaA2r4Bdyhw+JnpNfkFzb2VeUWaMsFEeapBmBqhyri0Hz3UaWfVcz
ir5qkGQIAv8KdwwL+94/8gn3XWOSAoOB5fGlthG3+Vr5+FEToR75+pwJUqOw5O6a
9QIDAQAB
-----END PUBLIC KEY-----
`

// wantsActivityJSON reports whether the Accept header asks for
// ActivityStreams (activity+json or ld+json with any profile).
func wantsActivityJSON(r *http.Request) bool {
	a := strings.ToLower(r.Header.Get("Accept"))
	return strings.Contains(a, "application/activity+json") || strings.Contains(a, "application/ld+json")
}

// apContentType is the Content-Type of ActivityPub answers per program.
func apContentType(in *instance) string {
	switch in.kind {
	case swSnac:
		return `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`
	case swGoToSocial:
		return "application/activity+json"
	}
	return "application/activity+json; charset=utf-8"
}

func (s *Sim) serveWebfinger(w http.ResponseWriter, r *http.Request, in *instance) {
	res := r.URL.Query().Get("resource")
	if res == "" {
		writeJSON(w, http.StatusBadRequest, []byte(`{"error":"resource parameter missing"}`), "")
		return
	}
	var match *account
	c := s.world.contentOf(in)
	lower := strings.ToLower(res)
	for _, a := range c.accounts {
		if lower == "acct:"+a.username+"@"+in.host || lower == a.username+"@"+in.host || res == a.actorURI || res == a.profileURL {
			match = a
			break
		}
	}
	if match == nil {
		if strings.HasPrefix(lower, "acct:") && !strings.HasSuffix(lower, "@"+in.host) && in.kind == swGoToSocial {
			writeJSON(w, http.StatusBadRequest, []byte(`{"error":"Bad Request: requested host does not belong to this instance"}`), "application/json")
			return
		}
		writeJSON(w, http.StatusNotFound, []byte(`{"error":"Record not found"}`), "")
		return
	}
	subject := "acct:" + match.username + "@" + in.host
	self := obj{{"rel", "self"}, {"type", "application/activity+json"}, {"href", match.actorURI}}
	profile := obj{{"rel", "http://webfinger.net/rel/profile-page"}, {"type", "text/html"}, {"href", match.profileURL}}
	doc := obj{{"subject", subject}}
	st, ct := styleCompact, "application/jrd+json; charset=utf-8"
	switch in.kind {
	case swWordPress:
		doc = append(doc, kv{"aliases", []string{subject, match.profileURL}},
			kv{"links", arr{obj{{"rel", "http://webfinger.net/rel/profile-page"}, {"href", match.profileURL}, {"type", "text/html"}},
				obj{{"rel", "self"}, {"type", "application/activity+json"}, {"href", match.actorURI}}}})
		st, ct = stylePHP, "application/jrd+json; charset=UTF-8"
	case swGoToSocial:
		doc = append(doc, kv{"aliases", []string{match.actorURI, match.profileURL}}, kv{"links", arr{profile, self}})
		ct = "application/jrd+json"
	default:
		links := arr{profile, self}
		if in.kind == swMastodon || in.kind == swPleroma || in.kind == swAkkoma {
			links = append(links, obj{{"rel", "http://ostatus.org/schema/1.0/subscribe"}, {"template", "https://" + in.host + "/authorize_interaction?uri={uri}"}})
		}
		doc = append(doc, kv{"aliases", []string{match.profileURL, match.actorURI}}, kv{"links", links})
	}
	writeJSON(w, http.StatusOK, encodeJSON(doc, st), ct)
}

func (s *Sim) serveHostMeta(w http.ResponseWriter, in *instance) {
	body := `<?xml version="1.0" encoding="UTF-8"?>
<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">
  <Link rel="lrdd" type="application/xrd+xml" template="https://` + in.host + `/.well-known/webfinger?resource={uri}"/>
</XRD>
`
	writeText(w, http.StatusOK, body, "application/xrd+xml; charset=utf-8")
}

// routeContent serves actors, outboxes, objects and HTML pages.
func (s *Sim) routeContent(w http.ResponseWriter, r *http.Request, in *instance) bool {
	c := s.world.contentOf(in)
	key := r.URL.Path
	if in.kind == swWordPress && key == "/" && r.URL.Query().Get("p") != "" {
		key = "/?p=" + r.URL.Query().Get("p")
	}
	t, ok := c.paths[key]
	if !ok {
		return false
	}
	ap := wantsActivityJSON(r)
	if t.kind != targetPage && ap && in.kind == swGoToSocial && r.Header.Get("Signature") == "" {
		// GoToSocial requires signed ActivityPub GETs (the signature itself
		// is not verified by the simulation).
		w.Header().Set("X-Robots-Tag", "noindex, nofollow")
		writeJSON(w, http.StatusUnauthorized, []byte(`{"error":"Unauthorized: http request wasn't signed or http signature was invalid: (verifier)"}`), "application/json")
		return true
	}
	if t.kind != targetPage && ap && in.authFetch && r.Header.Get("Signature") == "" {
		// Mastodon in secure mode (AUTHORIZED_FETCH).
		writeJSON(w, http.StatusUnauthorized, []byte(`{"error":"Request not signed"}`), "application/json; charset=utf-8")
		return true
	}
	if s.serveGone(w, r, in, t) {
		return true
	}
	if t.kind == targetPage || !ap {
		s.servePage(w, in, t)
		return true
	}
	switch t.kind {
	case targetActor:
		writeJSON(w, http.StatusOK, encodeJSON(s.actorJSON(in, t.account), s.apStyle(in)), apContentType(in))
	case targetOutbox:
		s.serveOutbox(w, r, in, t.account)
	case targetObject:
		if v := t.post.visibility; v == "private" || v == "direct" {
			notFound(w, in, r.URL.Path)
			return true
		}
		o := s.noteJSON(in, t.post)
		o = append(obj{{"@context", s.apContext(in)}}, o...)
		writeJSON(w, http.StatusOK, encodeJSON(o, s.apStyle(in)), apContentType(in))
	}
	return true
}

func (s *Sim) apStyle(in *instance) jsonStyle {
	switch in.kind {
	case swSnac:
		return jsonStyle{indent: "    "}
	case swWordPress:
		return stylePHP
	case swMastodon:
		return styleRails
	}
	return styleCompact
}

// servePage answers browsers with a small HTML page for profiles and posts.
func (s *Sim) servePage(w http.ResponseWriter, in *instance, t target) {
	var title, body, alt string
	if t.post != nil {
		if v := t.post.visibility; v == "private" || v == "direct" {
			notFound(w, in, t.post.urlPath)
			return
		}
		title, body, alt = t.post.author.displayName, t.post.contentHTML, t.post.uri
	} else {
		title, body, alt = t.account.displayName, t.account.noteHTML, t.account.actorURI
	}
	page := "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + html.EscapeString(title) + " - " + html.EscapeString(in.title) +
		"</title><link rel=\"alternate\" type=\"application/activity+json\" href=\"" + html.EscapeString(alt) + "\"></head><body>" +
		body + "</body></html>\n"
	writeText(w, http.StatusOK, page, "text/html; charset=utf-8")
}

// apContext is the @context of actors and objects per program.
func (s *Sim) apContext(in *instance) any {
	switch in.kind {
	case swMastodon, swPixelfed:
		return arr{asContext, "https://w3id.org/security/v1", obj{
			{"manuallyApprovesFollowers", "as:manuallyApprovesFollowers"}, {"toot", "http://joinmastodon.org/ns#"},
			{"schema", "http://schema.org#"}, {"PropertyValue", "schema:PropertyValue"}, {"value", "schema:value"},
			{"discoverable", "toot:discoverable"}, {"indexable", "toot:indexable"}, {"Hashtag", "as:Hashtag"},
			{"sensitive", "as:sensitive"}}}
	case swMisskey, swSharkey, swFirefish, swFedired:
		return arr{asContext, "https://w3id.org/security/v1", obj{
			{"Key", "sec:Key"}, {"manuallyApprovesFollowers", "as:manuallyApprovesFollowers"}, {"sensitive", "as:sensitive"},
			{"Hashtag", "as:Hashtag"}, {"toot", "http://joinmastodon.org/ns#"}, {"discoverable", "toot:discoverable"},
			{"schema", "http://schema.org#"}, {"PropertyValue", "schema:PropertyValue"}, {"value", "schema:value"},
			{"misskey", "https://misskey-hub.net/ns#"}, {"_misskey_content", "misskey:_misskey_content"}, {"isCat", "misskey:isCat"}}}
	case swGoToSocial:
		return arr{"https://gotosocial.org/ns", "https://w3id.org/security/v1", asContext, obj{
			{"discoverable", "toot:discoverable"}, {"indexable", "toot:indexable"}, {"manuallyApprovesFollowers", "as:manuallyApprovesFollowers"},
			{"toot", "http://joinmastodon.org/ns#"}}}
	case swSnac, swWriteFreely:
		return arr{asContext, "https://w3id.org/security/v1"}
	case swWordPress:
		return arr{asContext, "https://w3id.org/security/v1", "https://purl.archive.org/socialweb/webfinger",
			obj{{"schema", "http://schema.org#"}, {"toot", "http://joinmastodon.org/ns#"}, {"indexable", "toot:indexable"}, {"discoverable", "toot:discoverable"}}}
	}
	return arr{asContext, "https://w3id.org/security/v1", obj{{"@language", "und"}}}
}

func (s *Sim) actorJSON(in *instance, a *account) obj {
	base := strings.TrimSuffix(a.actorURI, "/")
	typ := "Person"
	if a.bot {
		typ = "Service"
	}
	o := obj{
		{"@context", s.apContext(in)},
		{"id", a.actorURI}, {"type", typ},
		{"following", base + "/following"}, {"followers", base + "/followers"},
		{"inbox", base + "/inbox"}, {"outbox", "https://" + in.host + a.outboxPath},
		{"preferredUsername", a.username}, {"name", a.displayName}, {"summary", a.noteHTML},
		{"url", a.profileURL}, {"manuallyApprovesFollowers", a.locked},
	}
	switch in.kind {
	case swMastodon, swGoToSocial, swMisskey, swSharkey, swFirefish, swFedired, swPixelfed, swWordPress, swPleroma, swAkkoma:
		o = append(o, kv{"discoverable", a.discoverable})
	}
	if a.indexable != nil {
		o = append(o, kv{"indexable", *a.indexable})
	}
	o = append(o, kv{"published", a.created.UTC().Format(timeSeconds)},
		kv{"publicKey", obj{{"id", a.actorURI + "#main-key"}, {"owner", a.actorURI}, {"publicKeyPem", actorPublicKeyPEM}}})
	var tags arr
	for _, tag := range hashtagsIn(a.noteHTML) {
		tags = append(tags, obj{{"type", "Hashtag"}, {"href", "https://" + in.host + "/tags/" + strings.ToLower(tag)}, {"name", "#" + tag}})
	}
	if tags == nil {
		tags = arr{}
	}
	o = append(o, kv{"tag", tags})
	att := arr{}
	for _, f := range a.fields {
		att = append(att, obj{{"type", "PropertyValue"}, {"name", f.name}, {"value", f.value}})
	}
	o = append(o, kv{"attachment", att})
	switch in.kind {
	case swMisskey, swSharkey, swFirefish, swFedired:
		o = append(o, kv{"_misskey_summary", plainBio(a)}, kv{"isCat", false},
			kv{"sharedInbox", "https://" + in.host + "/inbox"}, kv{"endpoints", obj{{"sharedInbox", "https://" + in.host + "/inbox"}}})
	case swMastodon, swPleroma, swAkkoma:
		o = append(o, kv{"endpoints", obj{{"sharedInbox", "https://" + in.host + "/inbox"}}})
	case swSnac:
		o = append(o, kv{"webfinger", a.username + "@" + in.host})
	}
	return o
}

// hashtagsIn extracts the display names of Mastodon-style hashtag links.
func hashtagsIn(htmlText string) []string {
	var out []string
	const marker = `rel="tag">#<span>`
	for rest := htmlText; ; {
		i := strings.Index(rest, marker)
		if i < 0 {
			return out
		}
		rest = rest[i+len(marker):]
		j := strings.Index(rest, "</span>")
		if j < 0 {
			return out
		}
		out = append(out, rest[:j])
		rest = rest[j:]
	}
}

// addressing returns to and cc of a post per visibility.
func addressing(pst *post) (to, cc []string) {
	followers := strings.TrimSuffix(pst.author.actorURI, "/") + "/followers"
	var mentioned []string
	for _, m := range pst.mentions {
		mentioned = append(mentioned, m.uri)
	}
	switch pst.visibility {
	case "public":
		return []string{asPublic}, append([]string{followers}, mentioned...)
	case "unlisted":
		return []string{followers}, append([]string{asPublic}, mentioned...)
	case "private":
		return append([]string{followers}, mentioned...), []string{}
	}
	return mentioned, []string{}
}

// noteJSON renders a post as an ActivityStreams Note (without @context).
func (s *Sim) noteJSON(in *instance, pst *post) obj {
	to, cc := addressing(pst)
	var summary any = nil
	if pst.summary != "" {
		summary = pst.summary
	}
	tags := arr{}
	for _, m := range pst.mentions {
		tags = append(tags, obj{{"type", "Mention"}, {"href", m.uri}, {"name", "@" + m.acct}})
	}
	for _, t := range pst.tags {
		tags = append(tags, obj{{"type", "Hashtag"}, {"href", "https://" + in.host + "/tags/" + t}, {"name", "#" + t}})
	}
	var inReplyTo any
	if pst.inReplyTo != nil {
		inReplyTo = pst.inReplyTo.uri
	} else if pst.remoteParent != nil {
		inReplyTo = pst.remoteParent.uri
	}
	o := obj{
		{"id", pst.uri}, {"type", apType(pst)}, {"summary", summary}, {"inReplyTo", inReplyTo},
		{"published", pst.created.UTC().Format(timeSeconds)}, {"url", pst.url},
		{"attributedTo", pst.author.actorURI}, {"to", to}, {"cc", cc},
		{"sensitive", pst.sensitive}, {"content", pst.contentHTML},
	}
	if pst.lang != "" {
		o = append(o, kv{"contentMap", obj{{pst.lang, pst.contentHTML}}})
	}
	o = append(o, kv{"attachment", attachmentsJSON(pst)}, kv{"tag", tags})
	if in.kind == swWordPress {
		o = append(o, wpInteractions(pst)...) // replies, likes, shares (wordpress.go)
	}
	if pst.poll != nil {
		o = append(o, questionJSON(pst)...)
	}
	if in.kind == swMisskey || in.kind == swSharkey || in.kind == swFirefish || in.kind == swFedired {
		o = append(o, kv{"_misskey_content", htmlText(pst.contentHTML)}, kv{"source", obj{{"content", htmlText(pst.contentHTML)}, {"mediaType", "text/x.misskeymarkdown"}}})
	}
	return o
}

// createJSON wraps a post in its Create activity. GoToSocial references the
// object by id instead of embedding it.
func (s *Sim) createJSON(in *instance, pst *post) obj {
	to, cc := addressing(pst)
	id := pst.uri + "/activity"
	switch in.kind {
	case swGoToSocial:
		return obj{{"actor", pst.author.actorURI}, {"cc", cc}, {"id", pst.uri + "/activity#Create"},
			{"object", pst.uri}, {"published", pst.created.UTC().Format(timeSeconds)}, {"to", to}, {"type", "Create"}}
	case swSnac:
		id = pst.uri + "/Create"
	case swPleroma, swAkkoma:
		id = "https://" + in.host + "/activities/" + uuid(newRNG(hashString(pst.uri)))
	case swWriteFreely, swWordPress, swFriendica:
		id = pst.uri + "#create"
	}
	return obj{{"id", id}, {"type", "Create"}, {"actor", pst.author.actorURI},
		{"published", pst.created.UTC().Format(timeSeconds)}, {"to", to}, {"cc", cc}, {"object", s.noteJSON(in, pst)}}
}

// serveOutbox serves an actor's outbox: the collection, or a page of it.
// Only public and unlisted posts are shown to unauthenticated readers.
func (s *Sim) serveOutbox(w http.ResponseWriter, r *http.Request, in *instance, a *account) {
	var visible []*post
	for _, pst := range a.posts {
		if pst.visibility == "public" || pst.visibility == "unlisted" {
			visible = append(visible, pst)
		}
	}
	// WordPress lists the author's boosts among the posts (boosts.go).
	var boosts []*boost
	if in.kind == swWordPress {
		boosts = a.boosts
	}
	outbox := "https://" + in.host + a.outboxPath
	q := r.URL.Query()
	st := s.apStyle(in)
	ct := apContentType(in)

	if in.kind == swSnac {
		// snac serves everything inline, unpaged.
		items := arr{}
		for _, pst := range visible {
			items = append(items, s.createJSON(in, pst))
		}
		writeJSON(w, http.StatusOK, encodeJSON(obj{{"@context", asContext}, {"type", "OrderedCollection"}, {"id", outbox},
			{"attributedTo", a.actorURI}, {"totalItems", len(visible)}, {"orderedItems", items}}, st), ct)
		return
	}

	// Paging style per program: a cursor on ids or a page number.
	numbered := in.kind == swWriteFreely || in.kind == swWordPress || in.kind == swFriendica
	first := outbox + "?page=true"
	switch {
	case numbered:
		first = outbox + "?page=1"
	case in.kind == swGoToSocial:
		first = outbox + "?limit=40"
	}
	isPage := q.Get("page") != "" || q.Get("limit") != "" || q.Get("max_id") != ""
	if !isPage {
		coll := obj{{"@context", asContext}, {"id", outbox}, {"type", "OrderedCollection"},
			{"totalItems", len(visible) + len(boosts)}, {"first", first}}
		if in.kind == swMastodon {
			coll = append(coll, kv{"last", outbox + "?min_id=0&page=true"})
		}
		writeJSON(w, http.StatusOK, encodeJSON(coll, st), ct)
		return
	}
	var page []*post
	var next string
	var items arr
	size := outboxPageSz
	if in.kind == swGoToSocial {
		size = 40
	}
	if numbered {
		n, err := strconv.Atoi(q.Get("page"))
		if err != nil || n < 1 {
			n = 1
		}
		lo := (n - 1) * size
		entries := outboxEntries(visible, boosts)
		if lo < len(entries) {
			items = s.outboxItems(in, entries[lo:min(lo+size, len(entries))])
		}
		if lo+size < len(entries) {
			next = outbox + "?page=" + strconv.Itoa(n+1)
		}
	} else {
		cursor := q.Get("max_id")
		if isMisskeyFamily(in) && q.Get("until_id") != "" {
			cursor = q.Get("until_id")
		}
		page = pagePosts(visible, pageParams{limit: size, maxID: cursor, minID: q.Get("min_id")})
		if len(page) == size {
			last := page[len(page)-1].id
			switch {
			case in.kind == swGoToSocial:
				next = outbox + "?limit=40&max_id=" + last
			case isMisskeyFamily(in):
				next = outbox + "?page=true&until_id=" + last
			default:
				next = outbox + "?max_id=" + last + "&page=true"
			}
		}
	}
	if items == nil {
		items = arr{}
	}
	for _, pst := range page {
		items = append(items, s.createJSON(in, pst))
	}
	o := obj{{"@context", asContext}, {"id", outbox + "?" + r.URL.RawQuery}, {"type", "OrderedCollectionPage"}}
	if next != "" {
		o = append(o, kv{"next", next})
	}
	o = append(o, kv{"partOf", outbox}, kv{"totalItems", len(visible) + len(boosts)}, kv{"orderedItems", items})
	writeJSON(w, http.StatusOK, encodeJSON(o, st), ct)
}
