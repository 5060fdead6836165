package crawler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fedilens/fedilens/internal/consent"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/sanitize"
	"github.com/go-json-experiment/json/jsontext"
)

// ActivityPub, as the posts crawl reads it: actors and their paged
// outboxes, for the software whose posts are reachable only this way.
const (
	// apAccept is the Accept header ActivityPub servers answer with
	// ActivityStreams (the form the spec requires, which every server
	// recognises).
	apAccept    = `application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"`
	asPublicIRI = "https://www.w3.org/ns/activitystreams#Public"
	// Caps on hostile or huge outboxes: pages per author and visit, items
	// read per page (a longer page makes the listing incomplete: nothing
	// is reported gone and the cursor stays), entries read per list-valued
	// property (addressing, tags, attachments).
	maxOutboxPages   = 50
	maxOutboxItems   = 200
	maxAPListEntries = 100
	// WordPress's REST user list: 100 a page (its maximum), at most 50
	// pages (5,000 authors) a visit.
	wpUsersPath     = "/wp-json/wp/v2/users"
	wpUsersPageSize = 100
	maxWPUserPages  = 50
)

// activityPubSource reads posts through ActivityPub: for each author, the
// actor (consent: indexable, the bio and the profile fields) and the
// outbox (OrderedCollection, its pages, Create activities embedding or
// referencing Notes, Articles, Pages, Questions and Videos). The authors
// come from the program's own listing: WordPress's REST user list. Other
// programs that publish actors and outboxes but no public author listing
// (WriteFreely, snac) are not registered: their authors cannot be found
// without a directory.
type activityPubSource struct{}

var _ = registerPostSource(activityPubSource{}, "wordpress")

func (activityPubSource) name() string { return model.SourceActivityPub }

// apDoc is a JSON-LD document in compact form, read member by member, so
// that one member of an unexpected type (hostile or merely odd) spoils
// only itself, not the whole document.
type apDoc map[string]json.RawMessage

// parseAPDoc decodes a JSON object; anything else is nil.
func parseAPDoc(raw json.RawMessage) apDoc {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil
	}
	var d apDoc
	if decodeJSON(raw, &d) != nil {
		return nil
	}
	return d
}

// str returns a string member ("" if absent or not a string).
func (d apDoc) str(k string) string {
	var s string
	if decodeJSON(d[k], &s) != nil {
		return ""
	}
	return s
}

// boolPtr returns a boolean member, nil unless it is true or false.
func (d apDoc) boolPtr(k string) *bool {
	var b bool
	if raw := bytes.TrimSpace(d[k]); len(raw) == 0 || decodeJSON(raw, &b) != nil {
		return nil
	}
	return &b
}

// list returns a member as a list: an array's entries (at most
// maxAPListEntries), a single value as one entry, nothing for null.
func (d apDoc) list(k string) []json.RawMessage {
	return apList(d[k])
}

func apList(raw json.RawMessage) []json.RawMessage {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if raw[0] != '[' {
		return []json.RawMessage{raw}
	}
	var all []json.RawMessage
	if decodeJSON(raw, &all) != nil {
		return nil
	}
	if len(all) > maxAPListEntries {
		all = all[:maxAPListEntries]
	}
	return all
}

// apID returns the id of a reference: a string, or an object's "id".
func apID(raw json.RawMessage) string {
	var s string
	if decodeJSON(raw, &s) == nil {
		return s
	}
	if o := parseAPDoc(raw); o != nil {
		return o.str("id")
	}
	return ""
}

// ids returns the ids a member refers to (string, object or array of them).
func (d apDoc) ids(k string) []string {
	var out []string
	for _, e := range d.list(k) {
		if id := apID(e); id != "" {
			out = append(out, id)
		}
	}
	return out
}

// typ returns the document's type (the first, when it is an array).
func (d apDoc) typ() string {
	for _, e := range d.list("type") {
		var s string
		if decodeJSON(e, &s) == nil {
			return strings.TrimPrefix(s, "as:")
		}
	}
	return ""
}

// totalItems returns a collection member's totalItems (replies, likes,
// shares), 0 when absent or not a count.
func (d apDoc) totalItems(k string) int64 {
	c := parseAPDoc(d[k])
	if c == nil {
		return 0
	}
	var f flexInt
	if err := f.UnmarshalJSON(c["totalItems"]); err != nil || f.v == nil || *f.v < 0 {
		return 0
	}
	return *f.v
}

// isPublicAddress reports the public collection in its three spellings.
func isPublicAddress(id string) bool {
	return id == asPublicIRI || id == "as:Public" || id == "Public"
}

// addressedPublic reports whether one of ids is the public collection.
func addressedPublic(ids []string) bool {
	for _, id := range ids {
		if isPublicAddress(id) {
			return true
		}
	}
	return false
}

// onHost parses an absolute http(s) URL and reports whether it is on host.
func onHost(raw, host string) (*url.URL, bool) {
	if raw == "" || len(raw) > 2000 {
		return nil, false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" && u.Scheme != "http" || u.User != nil || !strings.EqualFold(u.Host, host) {
		return nil, false
	}
	return u, true
}

// apPostKinds are the object types read as posts.
var apPostKinds = map[string]string{
	"Note": "note", "Article": "article", "Page": "page", "Question": "question", "Video": "video",
}

// Skip reasons of the ActivityPub source (besides consent.Reason values).
const (
	apSkipType      = "unsupported_type"
	apSkipActivity  = "unsupported_activity"
	apSkipAnnounce  = "announce"
	apSkipNotLocal  = "not_local"
	apSkipNotAuthor = "not_author"
	apSkipInvalid   = "invalid"
	apGone          = "gone"
)

// apActorRef is what the post mapping needs of the author.
type apActorRef struct {
	ID   string // actor id
	Acct string // user@host
	Name string // display name, sanitised
}

// apToPost converts an ActivityPub object of the author to a post. The
// activity's addressing is used when the object has none. It returns the
// post, or the reason it is not one: apGone for a Tombstone, a skip reason
// otherwise. Objects must live on the author's host, be attributed to the
// author and be addressed to the public in "to" (only "cc" is unlisted).
func (hc *hostCrawl) apToPost(o apDoc, activity apDoc, actor apActorRef) (model.Post, string) {
	typ := o.typ()
	if typ == "Tombstone" {
		return model.Post{}, apGone
	}
	kind, ok := apPostKinds[typ]
	if !ok {
		return model.Post{}, apSkipType
	}
	id := o.str("id")
	if _, ok := onHost(id, hc.host); !ok {
		return model.Post{}, apSkipNotLocal
	}
	attributed := false
	for _, a := range o.ids("attributedTo") {
		if a == actor.ID {
			attributed = true
		}
	}
	if !attributed {
		return model.Post{}, apSkipNotAuthor
	}
	to := o.ids("to")
	if _, has := o["to"]; !has && activity != nil {
		to = activity.ids("to")
	}
	if !addressedPublic(to) {
		return model.Post{}, string(consent.NotPublic)
	}
	created, err := time.Parse(time.RFC3339, strings.TrimSpace(o.str("published")))
	if err != nil {
		return model.Post{}, apSkipInvalid
	}
	content, lang := o.str("content"), ""
	if cm := o["contentMap"]; len(cm) > 0 {
		if k, v, ok := firstMember(cm); ok {
			lang = k
			if content == "" {
				content = v
			}
		}
	}
	title := ""
	if kind == "article" || kind == "page" || kind == "video" {
		title = sanitize.PlainLine(o.str("name"), 500)
	}
	text, links := sanitize.TextLinks(content)
	p := model.Post{
		URI:        id,
		Host:       hc.host,
		Author:     actor.Acct,
		AuthorName: actor.Name,
		Created:    created.UTC(),
		Text:       text,
		Summary:    sanitize.PlainLine(o.str("summary"), 500),
		Kind:       kind,
		Source:     model.SourceActivityPub,
		Links:      links,
		Replies:    o.totalItems("replies"),
		Reblogs:    o.totalItems("shares"),
		Favourites: o.totalItems("likes"),
	}
	if title != "" {
		p.Text = strings.TrimSpace(title + "\n\n" + p.Text)
		p.HTML = sanitize.HTML("<p><strong>" + html.EscapeString(title) + "</strong></p>" + content)
	} else {
		p.HTML = sanitize.HTML(content)
	}
	if s := o.boolPtr("sensitive"); s != nil {
		p.Sensitive = *s
	}
	if primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(lang)), "-"); len(primary) >= 2 && len(primary) <= 3 && isLetters(primary) {
		p.Language = primary
	}
	p.URL = apDisplayURL(o["url"], hc.host)
	if r := apID(o["inReplyTo"]); r != "" {
		if u, err := url.Parse(r); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && len(r) <= 2000 {
			p.InReplyTo = r
			p.ReplyHost = linkHostOf(r)
		}
	}
	p.Tags, p.Mentions = apTags(o.list("tag"))
	var alts []string
	for _, e := range o.list("attachment") {
		a := parseAPDoc(e)
		if a == nil {
			continue
		}
		// Plain text, kept as the Mastodon API's description is: readers
		// escape it.
		if d := strings.TrimSpace(a.str("name")); d != "" {
			alts = append(alts, d)
		}
	}
	p.AltText = strings.Join(alts, "\n")
	return p, ""
}

// isLetters reports an ASCII-letters-only string.
func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 'a' || c > 'z' {
			return false
		}
	}
	return s != ""
}

// firstMember returns the first member of a JSON object in document order
// whose value is a string (contentMap: language → content).
func firstMember(raw json.RawMessage) (key, value string, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return "", "", false
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return "", "", false
		}
		k, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return "", "", false
		}
		var s string
		if decodeJSON(v, &s) == nil {
			return k, s, true
		}
	}
	return "", "", false
}

// apDisplayURL picks the display link of an object: url as a string, a
// Link object, or an array of them (the first text/html one, else the
// first); it must stay on the instance.
func apDisplayURL(raw json.RawMessage, host string) string {
	var first string
	for _, e := range apList(raw) {
		href, media := "", ""
		if err := decodeJSON(e, &href); err != nil {
			l := parseAPDoc(e)
			if l == nil {
				continue
			}
			href, media = l.str("href"), strings.ToLower(l.str("mediaType"))
		}
		if _, ok := onHost(href, host); !ok {
			continue
		}
		if strings.HasPrefix(media, "text/html") {
			return href
		}
		if first == "" && media == "" {
			first = href
		}
	}
	return first
}

// apTags reads the tag list: Hashtag names (lower case, without '#') and
// Mention accounts (user@host: the name's domain, else the href's host),
// each de-duplicated, sorted, at most 50.
func apTags(entries []json.RawMessage) (tags, mentions []string) {
	seenT, seenM := map[string]bool{}, map[string]bool{}
	for _, e := range entries {
		t := parseAPDoc(e)
		if t == nil {
			continue
		}
		switch t.typ() {
		case "Hashtag":
			name := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(t.str("name")), "#"))
			if name != "" && len(name) <= 100 && !strings.ContainsAny(name, " #/") && !seenT[name] && len(tags) < 50 {
				seenT[name] = true
				tags = append(tags, name)
			}
		case "Mention":
			name := strings.TrimPrefix(strings.TrimSpace(t.str("name")), "@")
			user, domain, _ := strings.Cut(name, "@")
			if domain == "" {
				u, err := url.Parse(t.str("href"))
				if err != nil || u.Scheme != "https" && u.Scheme != "http" {
					continue
				}
				domain = u.Hostname()
			}
			acct := strings.ToLower(user + "@" + domain)
			if user == "" || domain == "" || len(acct) > 300 || strings.ContainsAny(acct, " /?#:") || strings.Count(acct, "@") != 1 {
				continue
			}
			if !seenM[acct] && len(mentions) < 50 {
				seenM[acct] = true
				mentions = append(mentions, acct)
			}
		}
	}
	sort.Strings(tags)
	sort.Strings(mentions)
	return tags, mentions
}

// getAP fetches an ActivityPub document of the host. URLs on other hosts
// are refused without a request: a server speaks only for itself. 401
// means authorized fetch (signed requests only).
func (pc *postCrawl) getAP(ctx context.Context, raw string) (apDoc, error) {
	u, ok := onHost(raw, pc.hc.host)
	if !ok {
		return nil, fmt.Errorf("%w: not on %s: %.200q", errMalformed, pc.hc.host, raw)
	}
	return pc.getDoc(ctx, u.RequestURI(), apAccept, true)
}

// getDoc fetches a JSON object of the host (path and query) with accept;
// sig401 maps 401 to errSignatureRequired (ActivityPub), else it is a
// refusal.
func (pc *postCrawl) getDoc(ctx context.Context, path, accept string, sig401 bool) (apDoc, error) {
	resp, err := pc.fetch(ctx, path, accept, sig401)
	if err != nil {
		return nil, err
	}
	d := parseAPDoc(resp.Body)
	if d == nil {
		return nil, fmt.Errorf("%w: %.200s: not a JSON object", errMalformed, path)
	}
	return d, nil
}

// fetch sends one budgeted GET of the host.
func (pc *postCrawl) fetch(ctx context.Context, path, accept string, sig401 bool) (*fetchResponse, error) {
	if err := pc.request(); err != nil {
		return nil, err
	}
	resp, err := pc.hc.get(ctx, fetchRequest{URL: pc.hc.url(path), Accept: accept, MaxBody: maxPostsBody})
	if err != nil {
		return nil, err
	}
	if resp.Status == 401 && sig401 {
		return resp, &errSignatureRequired{path: path}
	}
	if err := okStatus(resp); err != nil {
		return resp, fmt.Errorf("%.200s: %w", path, err)
	}
	return resp, nil
}

// apAuthor is an author found by a listing (or known from stored posts)
// and the actor URL to read.
type apAuthor struct {
	acct, actorURL string
}

func (activityPubSource) crawl(ctx context.Context, pc *postCrawl) error {
	// The user list, the actors (author pages) and the plugin's outboxes.
	if err := pc.requirePaths(ctx, wpUsersPath, "/author/", "/wp-json/activitypub/1.0/"); err != nil {
		return err
	}
	found := map[string]string{} // acct → actor URL
	listErr := pc.readWPUsers(ctx, func(acct, actor string) {
		if _, ok := found[acct]; !ok {
			found[acct] = actor
		}
	})
	if err := fatalPostErr(listErr); err != nil {
		return err
	}
	// Authors with stored posts that the listing no longer names (they
	// deleted their posts, or their account): their actor through
	// WebFinger, so consent and deletions are rechecked.
	for _, acct := range unlisted(pc, found) {
		actor, err := pc.webfingerActor(ctx, acct)
		switch {
		case err == nil:
			found[acct] = actor
		case isGone(err):
			pc.withdraw(acct, "account_gone")
		default:
			if ferr := fatalPostErr(err); ferr != nil {
				return ferr
			}
			pc.skip("lookup_failed")
		}
	}
	accts := make([]string, 0, len(found))
	for acct := range found {
		accts = append(accts, acct)
	}
	sort.Strings(accts)
	for _, acct := range accts {
		if pc.isForgotten(acct) {
			pc.skip("forgotten")
			continue
		}
		if err := pc.readAPAuthor(ctx, apAuthor{acct: acct, actorURL: found[acct]}); err != nil {
			if ferr := fatalPostErr(err); ferr != nil {
				return ferr
			}
			pc.skip("author_unreadable")
		}
	}
	if listErr != nil && errors.Is(listErr, errRefused) && len(found) == 0 {
		// The user list is closed and nothing was known: nothing to read.
		return listErr
	}
	return nil
}

// readWPUsers pages through WordPress's REST user list (the users with
// published posts), noting each one's acct (slug@host) and actor (the
// author page, which the ActivityPub plugin serves as the actor).
func (pc *postCrawl) readWPUsers(ctx context.Context, note func(acct, actor string)) error {
	host := pc.hc.host
	for page := 1; page <= maxWPUserPages; page++ {
		path := fmt.Sprintf("%s?per_page=%d&page=%d", wpUsersPath, wpUsersPageSize, page)
		resp, err := pc.fetch(ctx, path, "application/json", false)
		if err != nil {
			return err
		}
		var users []json.RawMessage
		if err := decodeJSON(resp.Body, &users); err != nil {
			return fmt.Errorf("%w: %s: %v", errMalformed, path, err)
		}
		for _, raw := range users {
			u := parseAPDoc(raw)
			if u == nil {
				pc.skip("invalid_account")
				continue
			}
			acct := localAcct(u.str("slug"), host)
			link, ok := onHost(u.str("link"), host)
			if acct == "" || !ok {
				pc.skip("invalid_account")
				continue
			}
			note(acct, link.String())
		}
		// X-WP-TotalPages ends the listing where it is sent; a short page
		// ends it anyway.
		total, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("X-WP-TotalPages")))
		if len(users) < wpUsersPageSize || err == nil && page >= total {
			return nil
		}
	}
	return nil
}

// localAcct returns user@host for a plain local user name, "" when the
// name is empty, too long or not a plain name.
func localAcct(user, host string) string {
	user = strings.ToLower(strings.TrimSpace(user))
	if user == "" || len(user) > 100 || strings.ContainsAny(user, " /@?#%:") {
		return ""
	}
	return user + "@" + host
}

// webfingerActor resolves a local acct to its ActivityPub actor URL with
// WebFinger (the rel=self link); 404 means the account is gone.
func (pc *postCrawl) webfingerActor(ctx context.Context, acct string) (string, error) {
	path := "/.well-known/webfinger?resource=" + url.QueryEscape("acct:"+acct)
	d, err := pc.getDoc(ctx, path, "application/jrd+json, application/json", false)
	if err != nil {
		return "", err
	}
	for _, e := range d.list("links") {
		l := parseAPDoc(e)
		if l == nil || l.str("rel") != "self" {
			continue
		}
		if t := l.str("type"); !strings.Contains(t, "activity+json") && !strings.Contains(t, "ld+json") {
			continue
		}
		if u, ok := onHost(l.str("href"), pc.hc.host); ok {
			return u.String(), nil
		}
	}
	return "", fmt.Errorf("%w: webfinger of %s names no local actor", errMalformed, acct)
}

// readAPAuthor reads one author: the actor (its consent), then, for a
// consenting one, the outbox.
func (pc *postCrawl) readAPAuthor(ctx context.Context, au apAuthor) error {
	d, err := pc.getAP(ctx, au.actorURL)
	if err != nil {
		if isGone(err) {
			pc.withdraw(au.acct, "account_gone")
			return nil
		}
		return err
	}
	id := d.str("id")
	if _, ok := onHost(id, pc.hc.host); !ok || localAcct(d.str("preferredUsername"), pc.hc.host) != au.acct {
		// Another account, or one on another host: not trusted.
		pc.skip("actor_mismatch")
		return nil
	}
	if r := apActorConsent(d, pc.hc.m.opts.OptInWord); r != consent.OK {
		pc.skip(string(r))
		pc.withdraw(au.acct, string(r))
		return nil
	}
	pc.consents(au.acct, id)
	actor := apActorRef{ID: id, Acct: au.acct, Name: sanitize.PlainLine(d.str("name"), 200)}
	return pc.readOutbox(ctx, actor, apID(d["outbox"]))
}

// apActorConsent applies the consent rules to an actor: indexable
// (toot:indexable; absent counts as false, discoverable is no consent),
// the bio (summary) and the PropertyValue attachments (profile fields).
// ActivityPub has no noindex.
func apActorConsent(d apDoc, optIn string) consent.Reason {
	a := consent.Account{Bio: d.str("summary"), OptInWord: optIn}
	for _, k := range []string{"indexable", "toot:indexable", "http://joinmastodon.org/ns#indexable"} {
		if b := d.boolPtr(k); b != nil {
			a.Indexable = b
			break
		}
	}
	for _, e := range d.list("attachment") {
		f := parseAPDoc(e)
		if f != nil && f.typ() == "PropertyValue" {
			a.Fields = append(a.Fields, consent.Field{Name: f.str("name"), Value: f.str("value")})
		}
	}
	return consent.CheckAccount(a)
}

// apCursor is the newest outbox item seen: its published time and the
// object id, encoded "RFC3339Nano id".
type apCursor struct {
	published time.Time
	id        string
}

func parseAPCursor(s string) (apCursor, bool) {
	ts, id, _ := strings.Cut(s, " ")
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return apCursor{}, false
	}
	return apCursor{published: t, id: id}, true
}

func (c apCursor) String() string { return c.published.UTC().Format(time.RFC3339Nano) + " " + c.id }

// readOutbox pages through a consenting author's outbox, newest first:
// down to the cursor (what the last visit saw), or in full (to the
// retention limit) when the author's stored posts are due for
// revalidation; a complete full listing also tells which stored posts
// were deleted.
func (pc *postCrawl) readOutbox(ctx context.Context, actor apActorRef, outbox string) error {
	cur, _ := pc.cursor(actor.Acct)
	full := pc.revalidationDue(actor.Acct)
	since, hasSince := parseAPCursor(cur.Cursor)
	if full {
		hasSince = false
	}
	newest, _ := parseAPCursor(cur.Cursor)
	stored := map[string]bool{}
	for _, u := range pc.stored[actor.Acct] {
		stored[u] = true
	}
	listed, reported := map[string]bool{}, map[string]bool{}
	goneNow := func(uri string) {
		if stored[uri] && !listed[uri] && !reported[uri] {
			reported[uri] = true
			pc.pv.Gone = append(pc.pv.Gone, uri)
		}
	}
	old := func(at time.Time, id string) bool {
		return !pc.cutoff.IsZero() && at.Before(pc.cutoff) || hasSince && (at.Before(since.published) || id == since.id)
	}

	coll, err := pc.getAP(ctx, outbox)
	if err != nil {
		return err
	}
	visited := map[string]bool{outbox: true}
	page := coll
	if _, inline := coll["orderedItems"]; !inline {
		if _, inline = coll["items"]; !inline {
			page = nil
			first := coll["first"]
			if p := parseAPDoc(first); p != nil && (p["orderedItems"] != nil || p["items"] != nil) {
				page = p
			} else if next := apID(first); next != "" {
				visited[next] = true
				if page, err = pc.getAP(ctx, next); err != nil {
					return err
				}
			}
		}
	}
	complete, truncated := false, false
	for n := 0; page != nil && n < maxOutboxPages; n++ {
		key := "orderedItems"
		if _, ok := page[key]; !ok {
			key = "items"
		}
		items, cut := apItems(page[key])
		truncated = truncated || cut
		stop := false
		for _, raw := range items {
			at, id, s, b, err := pc.readOutboxItem(ctx, raw, actor, goneNow, old)
			if err != nil {
				return err
			}
			if at.IsZero() {
				continue
			}
			if newest.published.IsZero() || at.After(newest.published) {
				newest = apCursor{published: at, id: id}
			}
			if old(at, id) {
				// Outboxes are newest first: the rest is older still.
				stop = true
				break
			}
			if s != nil {
				listed[s.URI] = true
				pc.add(*s)
			}
			if b != nil {
				listed[b.URI] = true
				pc.addBoost(*b)
			}
		}
		next := apID(page["next"])
		if stop || next == "" {
			complete = true
			break
		}
		if visited[next] {
			break // a loop: not a complete listing
		}
		visited[next] = true
		if page, err = pc.getAP(ctx, next); err != nil {
			return err
		}
	}
	if page == nil {
		complete = true // an empty collection
	}
	if !complete || truncated {
		// Too many pages for one visit: keep what was read, but do not
		// move the cursor past posts never seen.
		return nil
	}
	cursor := ""
	if !newest.published.IsZero() {
		cursor = newest.String()
	}
	// Posts already reported gone (Delete, Tombstone) count as listed:
	// each is reported once.
	for uri := range reported {
		listed[uri] = true
	}
	pc.finishListing(actor.Acct, model.SourceActivityPub, cursor, cur, full, listed)
	return nil
}

// apItems returns the items of a page, at most maxOutboxItems; cut
// reports that there were more (the listing is then not complete).
func apItems(raw json.RawMessage) (items []json.RawMessage, cut bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '[' {
		return apList(raw), false
	}
	dec := jsontext.NewDecoder(bytes.NewReader(raw), remoteJSON)
	if _, err := dec.ReadToken(); err != nil {
		return nil, true
	}
	for dec.PeekKind() != ']' {
		if len(items) == maxOutboxItems {
			return items, true
		}
		v, err := dec.ReadValue()
		if err != nil {
			return items, true
		}
		items = append(items, json.RawMessage(bytes.Clone(v)))
	}
	return items, false
}

// readOutboxItem reads one outbox item: a Create of a post (embedded, or
// referenced and fetched), an Announce (a boost: not the author's post;
// only its hosts are kept), a Delete (the post is gone) or anything else
// (skipped). It returns the item's published time and object id (zero
// when it has none, for the cursor), and the post or the boost to keep,
// if any; old tells the items the listing stops at, whose referenced
// objects are not fetched. Errors are those that end the listing.
func (pc *postCrawl) readOutboxItem(ctx context.Context, raw json.RawMessage, actor apActorRef, goneNow func(string), old func(time.Time, string) bool) (time.Time, string, *model.Post, *model.Boost, error) {
	act := parseAPDoc(raw)
	if act == nil {
		pc.skip(apSkipActivity)
		return time.Time{}, "", nil, nil, nil
	}
	published := func(d apDoc) time.Time {
		t, err := time.Parse(time.RFC3339, strings.TrimSpace(d.str("published")))
		if err != nil {
			return time.Time{}
		}
		return t.UTC()
	}
	switch act.typ() {
	case "Create":
	case "Announce":
		at := published(act)
		b, reason := pc.hc.apToBoost(act, actor, at)
		if reason != "" {
			pc.skip(reason)
			return at, act.str("id"), nil, nil, nil
		}
		return at, b.URI, nil, &b, nil
	case "Delete":
		if id := apID(act["object"]); id != "" {
			goneNow(id)
		}
		return time.Time{}, "", nil, nil, nil
	default:
		pc.skip(apSkipActivity)
		return published(act), act.str("id"), nil, nil, nil
	}
	obj := parseAPDoc(act["object"])
	objID := apID(act["object"])
	at := published(act)
	if obj != nil {
		if t := published(obj); !t.IsZero() {
			at = t
		}
	} else {
		if objID == "" {
			pc.skip(apSkipInvalid)
			return at, "", nil, nil, nil
		}
		if _, ok := onHost(objID, pc.hc.host); !ok {
			pc.skip(apSkipNotLocal)
			return at, objID, nil, nil, nil
		}
		// Before a request: an item older than the retention limit or the
		// cursor (by the activity's date) ends the listing anyway.
		if !at.IsZero() && old(at, objID) {
			return at, objID, nil, nil, nil
		}
		d, err := pc.getAP(ctx, objID)
		switch {
		case isGone(err):
			goneNow(objID)
			return at, objID, nil, nil, nil
		case err != nil:
			if ferr := fatalPostErr(err); ferr != nil {
				return at, objID, nil, nil, ferr
			}
			pc.skip("object_unreadable")
			return at, objID, nil, nil, nil
		}
		if d.str("id") != objID {
			pc.skip("object_mismatch")
			return at, objID, nil, nil, nil
		}
		obj = d
		if t := published(obj); !t.IsZero() {
			at = t
		}
	}
	p, reason := pc.hc.apToPost(obj, act, actor)
	switch reason {
	case "":
		return at, objID, &p, nil, nil
	case apGone:
		goneNow(objID)
		return time.Time{}, "", nil, nil, nil
	}
	pc.skip(reason)
	return at, objID, nil, nil, nil
}
