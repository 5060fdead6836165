package crawler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/fedilens/fedilens/internal/consent"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/sanitize"
)

// The Misskey API (POST with a JSON body), as the posts crawl uses it.
const (
	misskeyUsersShow     = "/api/users/show"
	misskeyUsersNotes    = "/api/users/notes"
	misskeyUsers         = "/api/users"
	misskeyLocalTimeline = "/api/notes/local-timeline"
	// Page caps: 10,000 explorable users, 10,000 timeline notes, 5,000
	// notes per author and visit; beyond them the next visit continues.
	maxMisskeyUserPages     = 100
	maxMisskeyTimelinePages = 100
	maxMisskeyNotePages     = 50
	// maxMisskeyID bounds the ids kept as cursors and put in URIs.
	maxMisskeyID = 64
)

// misskeyNotesPage is the page size of the users and notes lists: the
// largest Misskey's schema accepts. A variable so that tests can page
// through small worlds.
var misskeyNotesPage = 100

// errNoSuchUser is Misskey's 400 {"error":{"code":"NO_SUCH_USER"}}: the
// user does not exist (any more). It counts as gone, like a 404.
var errNoSuchUser = errors.New("misskey: no such user")

// misskeySource reads the Misskey API: the explorable local users
// (/api/users) and the authors of the local timeline name the authors,
// each is checked through /api/users/show (description, fields, noindex),
// and each consenting author's notes are read from /api/users/notes since
// the last cursor. Misskey and its forks have no indexable flag: their
// users consent only through the operator's opt-in word.
type misskeySource struct{}

var _ = registerPostSource(misskeySource{}, "misskey", "sharkey", "firefish", "calckey", "foundkey",
	"iceshrimp", "catodon", "cherrypick", "fedired")

func (misskeySource) name() string { return model.SourceMisskey }

// flagless: no program of the family has an indexable flag.
func (misskeySource) flagless(string) bool { return true }

// misskeyUser is the part of Misskey's UserLite and UserDetailed the
// crawler reads. Description and Fields are plain text (MFM), not HTML.
type misskeyUser struct {
	ID          string  `json:"id"`
	Username    string  `json:"username"`
	Host        *string `json:"host"`
	Name        *string `json:"name"`
	Description *string `json:"description"`
	URI         *string `json:"uri"`
	NoIndex     bool    `json:"noindex"`
	Fields      []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"fields"`
	// detailed: the object came from an endpoint that packs UserDetailed
	// (users/show, users); UserLite (a note's user) has no description.
	detailed bool
}

// local returns the user's user@host when it is a local user of host
// (host null or the instance itself), "" otherwise.
func (u misskeyUser) local(host string) string {
	if u.Host != nil && *u.Host != "" && !strings.EqualFold(*u.Host, host) {
		return ""
	}
	name := strings.ToLower(strings.TrimSpace(u.Username))
	if name == "" || len(name) > 100 || strings.ContainsAny(name, " /@?#%") {
		return ""
	}
	return name + "@" + host
}

// consent applies the consent rules: no indexable flag (nil), Misskey's
// noindex ("hide from search engines"), the description and the fields,
// which are plain text and escaped so that the HTML-reducing check reads
// them as typed.
func (u misskeyUser) consent(optIn string) consent.Reason {
	acct := consent.Account{NoIndex: u.NoIndex, OptInWord: optIn}
	if u.Description != nil {
		acct.Bio = html.EscapeString(*u.Description)
	}
	for _, f := range u.Fields {
		acct.Fields = append(acct.Fields, consent.Field{Name: html.EscapeString(f.Name), Value: html.EscapeString(f.Value)})
	}
	return consent.CheckAccount(acct)
}

// actor is the user's ActivityPub actor URI: Misskey's is /users/<id>.
func (u misskeyUser) actor(hc *hostCrawl) string {
	if validMisskeyID(u.ID) {
		return hc.url("/users/" + u.ID)
	}
	return ""
}

// misskeyNote is the part of Misskey's Note the crawler reads.
type misskeyNote struct {
	ID         string             `json:"id"`
	CreatedAt  time.Time          `json:"createdAt"`
	UserID     string             `json:"userId"`
	User       misskeyUser        `json:"user"`
	Text       *string            `json:"text"`
	CW         *string            `json:"cw"`
	Visibility string             `json:"visibility"`
	LocalOnly  bool               `json:"localOnly"`
	RenoteID   *string            `json:"renoteId"`
	Renote     json.RawMessage    `json:"renote"`
	ReplyID    *string            `json:"replyId"`
	Reply      json.RawMessage    `json:"reply"`
	Tags       []string           `json:"tags"`
	Poll       json.RawMessage    `json:"poll"`
	Reactions  map[string]flexInt `json:"reactions"`
	Renotes    flexInt            `json:"renoteCount"`
	Replies    flexInt            `json:"repliesCount"`
	Files      []struct {
		Comment     *string `json:"comment"`
		IsSensitive bool    `json:"isSensitive"`
	} `json:"files"`
	URI *string `json:"uri"`
	URL *string `json:"url"`
}

// validMisskeyID accepts the ids Misskey generates (aid, aidx, meid,
// ulid, objectid): letters and digits, bounded.
func validMisskeyID(id string) bool {
	if id == "" || len(id) > maxMisskeyID {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// misskeyErrorBody is Misskey's error envelope.
type misskeyErrorBody struct {
	Error struct {
		Code string `json:"code"`
	} `json:"error"`
}

// postJSON POSTs a JSON body to a Misskey API path and decodes the answer
// into v. 401 means the API is closed to anonymous callers; 400 with
// NO_SUCH_USER is errNoSuchUser.
func (pc *postCrawl) postJSON(ctx context.Context, path string, body, v any) error {
	if err := pc.request(); err != nil {
		return err
	}
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encoding the %s body: %w", path, err)
	}
	resp, err := pc.hc.get(ctx, fetchRequest{Method: "POST", URL: pc.hc.url(path), Accept: "application/json", Body: b, MaxBody: maxPostsBody})
	if err != nil {
		return err
	}
	if resp.Status == 401 {
		return &errSignatureRequired{path: path}
	}
	if resp.Status == 400 {
		var e misskeyErrorBody
		if decodeJSON(resp.Body, &e) == nil && e.Error.Code == "NO_SUCH_USER" {
			return fmt.Errorf("%s: %w", path, errNoSuchUser)
		}
	}
	if err := okStatus(resp); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := decodeJSON(resp.Body, v); err != nil {
		return fmt.Errorf("%w: %s: %v", errMalformed, path, err)
	}
	return nil
}

// misskeyGone reports a user or note that does not exist (any more).
func misskeyGone(err error) bool { return isGone(err) || errors.Is(err, errNoSuchUser) }

func (misskeySource) crawl(ctx context.Context, pc *postCrawl) error {
	host := pc.hc.host
	// users/show and users/notes are what this source needs; the two
	// listings are optional (a fork without /api/users, a closed local
	// timeline, robots.txt).
	if err := pc.requirePaths(ctx, misskeyUsersShow, misskeyUsersNotes); err != nil {
		return err
	}
	found := map[string]misskeyUser{} // acct → user
	note := func(u misskeyUser, detailed bool) {
		acct := u.local(host)
		if acct == "" {
			return
		}
		if old, ok := found[acct]; !ok || detailed && !old.detailed {
			u.detailed = detailed
			found[acct] = u
		}
	}
	if err := fatalPostErr(pc.readMisskeyUsers(ctx, note)); err != nil {
		return err
	}
	tlErr := pc.readMisskeyTimeline(ctx, note)
	var sig *errSignatureRequired
	if errors.As(tlErr, &sig) {
		tlErr = nil // a timeline for signed-in users only
	}
	if err := fatalPostErr(tlErr); err != nil {
		return err
	}

	// Timeline authors come as UserLite: their profile is read. Authors
	// with stored posts that no listing names any more are rechecked by
	// username: consent may be withdrawn or the account deleted.
	type lookup struct {
		acct string
		body map[string]any
	}
	var lookups []lookup
	for acct, u := range found {
		switch {
		case u.detailed:
		case validMisskeyID(u.ID):
			lookups = append(lookups, lookup{acct, map[string]any{"userId": u.ID}})
		default:
			delete(found, acct)
			pc.skip("invalid_account")
		}
	}
	for acct := range pc.stored {
		if _, ok := found[acct]; !ok {
			user, _, _ := strings.Cut(acct, "@")
			lookups = append(lookups, lookup{acct, map[string]any{"username": user, "host": nil}})
		}
	}
	sort.Slice(lookups, func(i, j int) bool { return lookups[i].acct < lookups[j].acct })
	for _, l := range lookups {
		var u misskeyUser
		err := pc.postJSON(ctx, misskeyUsersShow, l.body, &u)
		switch {
		case err == nil && u.local(host) == l.acct:
			u.detailed = true
			found[l.acct] = u
		case err == nil:
			// The server answered with another user: not trusted.
			delete(found, l.acct)
			pc.skip("lookup_mismatch")
		case misskeyGone(err):
			delete(found, l.acct)
			pc.withdraw(l.acct, "account_gone")
		default:
			delete(found, l.acct)
			if ferr := fatalPostErr(err); ferr != nil {
				return ferr
			}
			pc.skip("profile_unreadable")
		}
	}

	for _, acct := range slices.Sorted(maps.Keys(found)) {
		u := found[acct]
		if !pc.admit(acct, u.consent(pc.hc.m.opts.OptInWord)) {
			continue
		}
		if !validMisskeyID(u.ID) {
			pc.skip("invalid_account")
			continue
		}
		pc.consents(acct, u.actor(pc.hc))
		if err := pc.readMisskeyNotes(ctx, acct, u); err != nil {
			if ferr := pc.authorFailed(acct, err, misskeyGone(err), "notes_unreadable"); ferr != nil {
				return ferr
			}
		}
	}
	return nil
}

// readMisskeyUsers pages through the explorable local users, newest
// first. They come as UserDetailed: no profile request is needed.
func (pc *postCrawl) readMisskeyUsers(ctx context.Context, note func(misskeyUser, bool)) error {
	for page := 0; page < maxMisskeyUserPages; page++ {
		var users []misskeyUser
		body := map[string]any{"origin": "local", "sort": "+createdAt", "state": "all",
			"limit": misskeyNotesPage, "offset": page * misskeyNotesPage}
		if err := pc.postJSON(ctx, misskeyUsers, body, &users); err != nil {
			return err
		}
		for _, u := range users {
			note(u, true)
		}
		if len(users) < misskeyNotesPage {
			return nil
		}
	}
	return nil
}

// readMisskeyTimeline reads the local timeline since the host-wide cursor
// (everything the first time, down to the retention limit), noting every
// local author. The notes themselves are read per author.
func (pc *postCrawl) readMisskeyTimeline(ctx context.Context, note func(misskeyUser, bool)) error {
	tl, _ := pc.cursor(timelineCursor)
	newest := tl.Cursor
	complete, err := pc.readMisskeyNoteList(ctx, misskeyLocalTimeline, map[string]any{"withReplies": true}, tl.Cursor, maxMisskeyTimelinePages,
		func(n misskeyNote) bool {
			if validMisskeyID(n.ID) && (newest == "" || idNewer(n.ID, newest)) {
				newest = n.ID
			}
			if !pc.cutoff.IsZero() && n.CreatedAt.Before(pc.cutoff) {
				return true
			}
			note(n.User, false)
			return false
		})
	if err != nil {
		if newest == tl.Cursor || fatalPostErr(err) != nil {
			return err
		}
		// A partial read keeps the authors it found; the cursor moves
		// only on a complete one.
		return nil
	}
	if complete && newest != "" && newest != tl.Cursor {
		pc.newCursor(model.PostCursor{Account: timelineCursor, Source: model.SourceMisskey, Cursor: newest})
	}
	return nil
}

// readMisskeyNoteList pages a Misskey note list (local timeline, a user's
// notes) from the newest note down to since ("" = everything), calling
// visit for each note; visit returns true for a note older than the
// retention limit. Misskey answers a request with only sinceId with the
// OLDEST notes after it, oldest first, and one with untilId (or both)
// newest first; the order of each full page decides how the next one is
// asked for, so both behaviours (and forks that differ) are read
// completely. complete is false when the page cap or a server that stops
// making progress ended the read early.
func (pc *postCrawl) readMisskeyNoteList(ctx context.Context, path string, base map[string]any, since string, maxPages int,
	visit func(misskeyNote) bool) (complete bool, err error) {
	after, until := since, ""
	for page := 0; page < maxPages; page++ {
		body := map[string]any{"limit": misskeyNotesPage}
		for k, v := range base {
			body[k] = v
		}
		if after != "" {
			body["sinceId"] = after
		}
		if until != "" {
			body["untilId"] = until
		}
		var notes []misskeyNote
		if err := pc.postJSON(ctx, path, body, &notes); err != nil {
			return false, err
		}
		old := false
		lo, hi := "", ""
		var ids []string
		for _, n := range notes {
			if visit(n) {
				old = true
			}
			if validMisskeyID(n.ID) {
				ids = append(ids, n.ID)
				if lo == "" || idNewer(lo, n.ID) {
					lo = n.ID
				}
				if hi == "" || idNewer(n.ID, hi) {
					hi = n.ID
				}
			}
		}
		if len(notes) < misskeyNotesPage {
			return true, nil
		}
		if lo == "" {
			return false, nil
		}
		ascending := after != "" && until == "" && len(ids) >= 2 && idNewer(ids[len(ids)-1], ids[0])
		if ascending {
			// The oldest notes after the cursor came first: go on after
			// the newest of them.
			if !idNewer(hi, after) {
				return false, nil
			}
			after = hi
			continue
		}
		if old {
			return true, nil // newest first: the rest is older still
		}
		if until != "" && !idNewer(until, lo) {
			return false, nil
		}
		until = lo
	}
	return false, nil
}

// readMisskeyNotes reads one consenting author's notes: those newer than
// the cursor, or all of them (down to the retention limit) when the
// author's stored posts are due for revalidation; a complete full listing
// also tells which stored posts were deleted.
func (pc *postCrawl) readMisskeyNotes(ctx context.Context, acct string, u misskeyUser) error {
	cur, full, since := pc.listingStart(acct)
	newest := cur.Cursor
	listed := map[string]bool{}
	// Renotes are listed too: a plain one is a boost (src_links.go).
	base := map[string]any{"userId": u.ID, "withReplies": true, "withRenotes": true}
	complete, err := pc.readMisskeyNoteList(ctx, misskeyUsersNotes, base, since, maxMisskeyNotePages, func(n misskeyNote) bool {
		if validMisskeyID(n.ID) && (newest == "" || idNewer(n.ID, newest)) {
			newest = n.ID
		}
		if !pc.cutoff.IsZero() && n.CreatedAt.Before(pc.cutoff) {
			return true
		}
		if n.UserID != u.ID {
			pc.skip("not_local")
			return false
		}
		// Local-only public notes are public on the web (the note page,
		// users/notes for anonymous callers): they are kept.
		if r := consent.CheckVisibility(n.Visibility); r != consent.OK {
			pc.skip(string(r))
			return false
		}
		if n.isPlainRenote() {
			// A boost of someone else's note: only its host is kept.
			b, ok := pc.hc.misskeyBoost(n, acct)
			if !ok {
				pc.skip("renote_unreadable")
				return false
			}
			listed[b.URI] = true
			pc.addBoost(b)
			return false
		}
		n.User = u
		p, ok := pc.hc.misskeyPost(n, acct)
		if !ok {
			pc.skip("invalid")
			return false
		}
		listed[p.URI] = true
		pc.add(p)
		return false
	})
	if err != nil {
		return err
	}
	if !complete {
		// Too many pages for one visit: keep what was read, but do not
		// move the cursor past notes never seen.
		return nil
	}
	pc.finishListing(acct, model.SourceMisskey, newest, cur, full, listed)
	return nil
}

// misskeyPost converts a local note of author. Notes whose uri is not on
// this host are refused: a server may only speak for its own users.
func (hc *hostCrawl) misskeyPost(n misskeyNote, author string) (model.Post, bool) {
	if !validMisskeyID(n.ID) || n.CreatedAt.IsZero() {
		return model.Post{}, false
	}
	uri := hc.url("/notes/" + n.ID)
	if n.URI != nil && *n.URI != "" {
		if !hc.onHost(*n.URI) {
			return model.Post{}, false
		}
		uri = *n.URI
	}
	text := ""
	if n.Text != nil {
		text = *n.Text
	}
	raw := mfmHTML(text, hc.url(""))
	body, plain, links := sanitize.Content(raw)
	p := model.Post{
		URI:      uri,
		URL:      uri,
		Host:     hc.host,
		Author:   author,
		Created:  n.CreatedAt.UTC(),
		Text:     plain,
		HTML:     body,
		Links:    links,
		Kind:     "note",
		Source:   model.SourceMisskey,
		Mentions: mfmMentions(text, hc.host),
	}
	if n.User.Name != nil && strings.TrimSpace(*n.User.Name) != "" {
		p.AuthorName = sanitize.PlainLine(*n.User.Name, 200)
	} else {
		p.AuthorName = sanitize.PlainLine(n.User.Username, 200)
	}
	if n.URL != nil && hc.onHost(*n.URL) {
		p.URL = *n.URL
	}
	if n.CW != nil {
		p.Summary = sanitize.PlainLine(*n.CW, 500)
		p.Sensitive = p.Summary != ""
	}
	var alts []string
	for _, f := range n.Files {
		p.Sensitive = p.Sensitive || f.IsSensitive
		if f.Comment != nil {
			if c := strings.TrimSpace(*f.Comment); c != "" {
				alts = append(alts, c)
			}
		}
	}
	p.AltText = strings.Join(alts, "\n")
	if !isNull(n.Poll) {
		p.Kind = "question"
	}
	if n.ReplyID != nil && validMisskeyID(*n.ReplyID) {
		p.InReplyTo = hc.url("/notes/" + *n.ReplyID)
		var reply struct {
			ID  string  `json:"id"`
			URI *string `json:"uri"`
		}
		// The embedded reply names the parent's own URI when it is remote.
		if !isNull(n.Reply) && decodeJSON(n.Reply, &reply) == nil && reply.ID == *n.ReplyID && reply.URI != nil && validHTTPURL(*reply.URI) {
			p.InReplyTo = *reply.URI
		}
		p.ReplyHost = hc.misskeyReplyHost(n.Reply, *n.ReplyID)
	}
	seen := map[string]bool{}
	for _, t := range n.Tags {
		name := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(t), "#"))
		if name != "" && len(name) <= 100 && !strings.ContainsAny(name, " \t\n#") && !seen[name] && len(p.Tags) < 50 {
			seen[name] = true
			p.Tags = append(p.Tags, name)
		}
	}
	sort.Strings(p.Tags)
	if v := n.Replies.v; v != nil && *v > 0 {
		p.Replies = *v
	}
	if v := n.Renotes.v; v != nil && *v > 0 {
		p.Reblogs = *v
	}
	for _, c := range n.Reactions {
		if c.v != nil && *c.v > 0 && *c.v < 1<<40 {
			p.Favourites += *c.v
		}
	}
	return p, true
}

// onHost reports whether u is an absolute http(s) URL on the crawled host.
func (hc *hostCrawl) onHost(u string) bool {
	pu, err := url.Parse(u)
	return err == nil && (pu.Scheme == "https" || pu.Scheme == "http") && strings.EqualFold(pu.Host, hc.host)
}

// validHTTPURL reports an absolute http(s) URL with a host.
func validHTTPURL(u string) bool {
	pu, err := url.Parse(u)
	return err == nil && (pu.Scheme == "https" || pu.Scheme == "http") && pu.Host != "" && pu.User == nil
}

// mfmTokenRE finds what MFM turns into links: URLs, @mentions
// (@user or @user@host) and #hashtags, each at a word start.
var mfmTokenRE = regexp.MustCompile(`https?://[^\s<>"'()\[\]{}` + "`" + `]+|(?:^|[^\p{L}\p{N}_@/.:])(@[A-Za-z0-9_]+(?:@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)?|#[\p{L}\p{N}_]+)`)

// mfmHTML renders MFM text (plain text the author typed) as HTML: every
// character escaped, line breaks as <br>, URLs, mentions and hashtags as
// links the way Misskey's own renderer marks them (class mention /
// hashtag). Markup the author typed stays text. base is the instance's
// origin, for local mentions and tags.
func mfmHTML(text, base string) string {
	if strings.TrimSpace(text) == "" {
		return ""
	}
	host := strings.TrimPrefix(strings.TrimPrefix(base, "https://"), "http://")
	var b strings.Builder
	b.WriteString("<p>")
	last := 0
	for _, m := range mfmTokenRE.FindAllStringSubmatchIndex(text, -1) {
		start, end := m[0], m[1]
		if m[2] >= 0 { // a mention or tag after its boundary character
			start, end = m[2], m[3]
		}
		tok := text[start:end]
		if strings.HasPrefix(tok, "http") {
			tok = strings.TrimRight(tok, ".,;:!?")
			end = start + len(tok)
		}
		b.WriteString(escapeMFM(text[last:start]))
		switch {
		case strings.HasPrefix(tok, "@"):
			user, h, remote := strings.Cut(tok[1:], "@")
			href := base + "/@" + user
			if remote && !strings.EqualFold(h, host) {
				href = "https://" + strings.ToLower(h) + "/@" + user
			}
			b.WriteString(`<a href="` + html.EscapeString(href) + `" class="u-url mention">` + html.EscapeString(tok) + `</a>`)
		case strings.HasPrefix(tok, "#"):
			b.WriteString(`<a href="` + html.EscapeString(base+"/tags/"+url.PathEscape(tok[1:])) + `" class="mention hashtag" rel="tag">` + html.EscapeString(tok) + `</a>`)
		default:
			b.WriteString(`<a href="` + html.EscapeString(tok) + `">` + html.EscapeString(tok) + `</a>`)
		}
		last = end
	}
	b.WriteString(escapeMFM(text[last:]))
	b.WriteString("</p>")
	return b.String()
}

// escapeMFM escapes text and turns line breaks into <br> (a blank line
// into a paragraph break).
func escapeMFM(s string) string {
	s = html.EscapeString(strings.ReplaceAll(s, "\r\n", "\n"))
	s = strings.ReplaceAll(s, "\n\n", "</p><p>")
	return strings.ReplaceAll(s, "\n", "<br>")
}

// mfmMentionRE finds @user and @user@host at a word start.
var mfmMentionRE = regexp.MustCompile(`(?:^|[^\p{L}\p{N}_@/.:])@([A-Za-z0-9_]+)(?:@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+))?`)

// mfmMentions returns the accounts a note's text mentions as user@host
// (a mention without host is local), lower case, sorted, de-duplicated,
// at most 50. Misskey's note carries only the mentioned users' ids, whose
// names would cost a request each; the text names them.
func mfmMentions(text, host string) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range mfmMentionRE.FindAllStringSubmatch(text, -1) {
		h := m[2]
		if h == "" {
			h = host
		}
		acct := strings.ToLower(m[1] + "@" + h)
		if len(acct) <= 300 && !seen[acct] && len(out) < 50 {
			seen[acct] = true
			out = append(out, acct)
		}
	}
	sort.Strings(out)
	return out
}
