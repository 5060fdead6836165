package crawler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fedilens/fedilens/internal/consent"
	"github.com/fedilens/fedilens/internal/markdown"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/sanitize"
)

// Lemmy's v3 API, as the posts crawl uses it.
const (
	lemmyPageSize = 50 // Lemmy's maximum limit
	// Page caps: 5,000 posts and comments per listing and visit, 2,500 of
	// each per author; beyond them the next visit continues.
	maxLemmyListPages = 100
	maxLemmyUserPages = 50
	// lemmyHostCursor is the Account of the host-wide cursor; its Cursor
	// is "<newest post id>:<newest comment id>" seen in the listings.
	lemmyHostCursor = ""
)

// lemmySource reads Lemmy: the local post and comment listings (sort
// New) name the authors and carry what is new since the host cursor; an
// author's posts and comments are listed in full through /api/v3/user
// when her revalidation is due, which also tells which stored ones were
// deleted. Lemmy has no indexable flag: only the operator's opt-in word in
// a person's bio makes her consent.
type lemmySource struct{}

var _ = registerPostSource(lemmySource{}, "lemmy")

func (lemmySource) name() string { return model.SourceLemmy }

func (lemmySource) flagless(string) bool { return true }

// lemmyTime is a Lemmy timestamp: RFC 3339 (0.19) or without a zone, UTC
// (0.18).
type lemmyTime struct{ time.Time }

func (t *lemmyTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := decodeJSON(b, &s); err != nil {
		return nil // null or junk: zero
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if v, err := time.Parse(layout, s); err == nil {
			t.Time = v.UTC()
			return nil
		}
	}
	return nil
}

// lemmyPerson is the part of a Lemmy Person the crawler reads.
type lemmyPerson struct {
	ID          int64   `json:"id"`
	Name        string  `json:"name"`
	DisplayName *string `json:"display_name"`
	Banned      bool    `json:"banned"`
	ActorID     string  `json:"actor_id"`
	Bio         *string `json:"bio"`
	Local       bool    `json:"local"`
	Deleted     bool    `json:"deleted"`
}

// local returns the person's user@host when she is a local person of
// host (her actor is https://host/u/name), "" otherwise.
func (p lemmyPerson) local(host string) string {
	name := strings.ToLower(strings.TrimSpace(p.Name))
	if !p.Local || name == "" || len(name) > 100 || !lemmyNameRE.MatchString(name) {
		return ""
	}
	u, err := url.Parse(p.ActorID)
	if err != nil || u.Scheme != "https" && u.Scheme != "http" || !strings.EqualFold(u.Host, host) ||
		!strings.EqualFold(u.Path, "/u/"+name) {
		return ""
	}
	return name + "@" + host
}

var lemmyNameRE = regexp.MustCompile(`^[a-z0-9_]+$`)

// consent applies the consent rules: no flag, so the opt-in word decides;
// the Markdown bio is read as text.
func (p lemmyPerson) consent(optIn string) consent.Reason {
	bio := ""
	if p.Bio != nil {
		bio = html.EscapeString(*p.Bio)
	}
	return consent.CheckAccount(consent.Account{Bio: bio, OptInWord: optIn})
}

// lemmyPostData is the part of a Lemmy Post the crawler reads.
type lemmyPostData struct {
	ID            int64     `json:"id"`
	Name          string    `json:"name"`
	URL           *string   `json:"url"`
	Body          *string   `json:"body"`
	CreatorID     int64     `json:"creator_id"`
	Removed       bool      `json:"removed"`
	Deleted       bool      `json:"deleted"`
	NSFW          bool      `json:"nsfw"`
	Published     lemmyTime `json:"published"`
	APID          string    `json:"ap_id"`
	Local         bool      `json:"local"`
	LanguageID    int64     `json:"language_id"`
	FeaturedLocal bool      `json:"featured_local"`
}

// lemmyPostView is a PostView.
type lemmyPostView struct {
	Post    lemmyPostData `json:"post"`
	Creator lemmyPerson   `json:"creator"`
	Counts  struct {
		Comments flexInt `json:"comments"`
		Upvotes  flexInt `json:"upvotes"`
	} `json:"counts"`
}

// lemmyCommentView is a CommentView.
type lemmyCommentView struct {
	Comment struct {
		ID         int64     `json:"id"`
		CreatorID  int64     `json:"creator_id"`
		PostID     int64     `json:"post_id"`
		Content    string    `json:"content"`
		Removed    bool      `json:"removed"`
		Deleted    bool      `json:"deleted"`
		Published  lemmyTime `json:"published"`
		APID       string    `json:"ap_id"`
		Local      bool      `json:"local"`
		Path       string    `json:"path"`
		LanguageID int64     `json:"language_id"`
	} `json:"comment"`
	Creator lemmyPerson   `json:"creator"`
	Post    lemmyPostData `json:"post"`
	Counts  struct {
		Upvotes    flexInt `json:"upvotes"`
		ChildCount flexInt `json:"child_count"`
	} `json:"counts"`
}

// lemmyCrawl is one visit's state of the Lemmy source.
type lemmyCrawl struct {
	pc    *postCrawl
	langs map[int64]string // language_id → code
	found map[string]lemmyPerson
	items map[string][]model.Post // author → posts and comments from the listings
}

func (lemmySource) crawl(ctx context.Context, pc *postCrawl) error {
	if err := pc.requirePaths(ctx, "/api/v3/post/list", "/api/v3/comment/list", "/api/v3/user"); err != nil {
		return err
	}
	lc := &lemmyCrawl{pc: pc, langs: map[int64]string{}, found: map[string]lemmyPerson{}, items: map[string][]model.Post{}}
	if err := fatalPostErr(lc.readLanguages(ctx)); err != nil {
		return err
	}
	cur, _ := pc.cursor(lemmyHostCursor)
	sincePost, sinceComment := parseLemmyCursor(cur.Cursor)
	newestPost, postsDone, err := lc.readPostList(ctx, sincePost)
	if err := fatalPostErr(err); err != nil {
		return err
	}
	newestComment, commentsDone, err := lc.readCommentList(ctx, sinceComment)
	if err := fatalPostErr(err); err != nil {
		return err
	}
	if !postsDone {
		newestPost = sincePost
	}
	if !commentsDone {
		newestComment = sinceComment
	}
	if c := fmt.Sprintf("%d:%d", newestPost, newestComment); c != cur.Cursor && (newestPost > 0 || newestComment > 0) {
		pc.newCursor(model.PostCursor{Account: lemmyHostCursor, Source: model.SourceLemmy, Cursor: c})
	}

	// Authors with stored posts are rechecked even when the listings no
	// longer name them: consent may be withdrawn or the person deleted.
	for _, acct := range unlisted(pc, lc.found) {
		user, _, _ := strings.Cut(acct, "@")
		var d lemmyUserDetails
		err := lc.getUser(ctx, user, 1, 1, &d)
		switch {
		case err == nil && d.PersonView.Person.local(pc.hc.host) == acct:
			lc.found[acct] = d.PersonView.Person
		case err == nil:
			pc.skip("lookup_mismatch")
		case errors.Is(err, errLemmyNoPerson):
			pc.withdraw(acct, "account_gone")
		default:
			if ferr := fatalPostErr(err); ferr != nil {
				return ferr
			}
		}
	}

	for _, acct := range slices.Sorted(maps.Keys(lc.found)) {
		p := lc.found[acct]
		switch {
		case pc.isForgotten(acct):
			pc.skip("forgotten")
			continue
		case p.Deleted:
			pc.skip("account_gone")
			pc.withdraw(acct, "account_gone")
			continue
		case p.Banned:
			pc.skip("banned")
			pc.withdraw(acct, "banned")
			continue
		}
		if r := p.consent(pc.hc.m.opts.OptInWord); r != consent.OK {
			pc.skip(string(r))
			pc.withdraw(acct, string(r))
			continue
		}
		pc.consents(acct, p.ActorID)
		for _, post := range lc.items[acct] {
			pc.add(post)
		}
		if !pc.revalidationDue(acct) {
			continue
		}
		if err := lc.readUser(ctx, acct); err != nil {
			if ferr := pc.authorFailed(acct, err, errors.Is(err, errLemmyNoPerson), "user_unreadable"); ferr != nil {
				return ferr
			}
		}
	}
	return nil
}

// parseLemmyCursor reads "<post id>:<comment id>" (0, 0 when unset or junk).
func parseLemmyCursor(c string) (post, comment int64) {
	a, b, ok := strings.Cut(c, ":")
	if !ok {
		return 0, 0
	}
	post, _ = strconv.ParseInt(a, 10, 64)
	comment, _ = strconv.ParseInt(b, 10, 64)
	return max(post, 0), max(comment, 0)
}

// readLanguages reads the site's language table (language_id → code).
// Without it posts are stored without a language.
func (lc *lemmyCrawl) readLanguages(ctx context.Context) error {
	var site struct {
		AllLanguages []struct {
			ID   int64  `json:"id"`
			Code string `json:"code"`
		} `json:"all_languages"`
	}
	if _, err := lc.pc.getJSON(ctx, "/api/v3/site", &site); err != nil {
		return err
	}
	for _, l := range site.AllLanguages {
		code := strings.ToLower(strings.TrimSpace(l.Code))
		if l.ID > 0 && len(code) >= 2 && len(code) <= 3 && code != "und" && isLowerASCII(code) {
			lc.langs[l.ID] = code
		}
	}
	return nil
}

func isLowerASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

// note records a listed item's creator and, if it converts, the item.
func (lc *lemmyCrawl) note(creator lemmyPerson, p model.Post, ok bool) {
	acct := creator.local(lc.pc.hc.host)
	if acct == "" {
		return
	}
	if _, seen := lc.found[acct]; !seen {
		lc.found[acct] = creator
	}
	if ok && p.Author == acct {
		lc.items[acct] = append(lc.items[acct], p)
	}
}

// readPostList pages the local posts, newest first, down to the cursor
// or the retention limit. It returns the newest id seen and whether the
// read reached its end.
func (lc *lemmyCrawl) readPostList(ctx context.Context, since int64) (int64, bool, error) {
	newest := since
	for page := 1; page <= maxLemmyListPages; page++ {
		var resp struct {
			Posts []lemmyPostView `json:"posts"`
		}
		path := fmt.Sprintf("/api/v3/post/list?type_=Local&sort=New&limit=%d&page=%d", lemmyPageSize, page)
		if _, err := lc.pc.getJSON(ctx, path, &resp); err != nil {
			return newest, false, err
		}
		old := false
		for _, v := range resp.Posts {
			if !v.Post.FeaturedLocal {
				// A pinned post sits on top whatever its age: it must not
				// stop the read.
				if v.Post.ID <= since || !lc.pc.cutoff.IsZero() && v.Post.Published.Before(lc.pc.cutoff) {
					old = true
					continue
				}
			}
			newest = max(newest, v.Post.ID)
			p, ok := lc.pc.hc.lemmyPost(v, lc.langs)
			lc.note(v.Creator, p, ok)
		}
		if len(resp.Posts) < lemmyPageSize || old {
			return newest, true, nil
		}
	}
	return newest, false, nil
}

// readCommentList pages the local comments like readPostList.
func (lc *lemmyCrawl) readCommentList(ctx context.Context, since int64) (int64, bool, error) {
	newest := since
	for page := 1; page <= maxLemmyListPages; page++ {
		var resp struct {
			Comments []lemmyCommentView `json:"comments"`
		}
		path := fmt.Sprintf("/api/v3/comment/list?type_=Local&sort=New&limit=%d&page=%d", lemmyPageSize, page)
		if _, err := lc.pc.getJSON(ctx, path, &resp); err != nil {
			return newest, false, err
		}
		old := false
		for _, v := range resp.Comments {
			if v.Comment.ID <= since || !lc.pc.cutoff.IsZero() && v.Comment.Published.Before(lc.pc.cutoff) {
				old = true
				continue
			}
			newest = max(newest, v.Comment.ID)
			p, ok := lc.pc.hc.lemmyComment(v, lc.langs)
			lc.note(v.Creator, p, ok)
		}
		if len(resp.Comments) < lemmyPageSize || old {
			return newest, true, nil
		}
	}
	return newest, false, nil
}

// lemmyUserDetails is GetPersonDetailsResponse.
type lemmyUserDetails struct {
	PersonView struct {
		Person lemmyPerson `json:"person"`
	} `json:"person_view"`
	Posts    []lemmyPostView    `json:"posts"`
	Comments []lemmyCommentView `json:"comments"`
}

// errLemmyNoPerson: /api/v3/user does not know the person (404, or 400
// with Lemmy's "couldnt_find_person").
var errLemmyNoPerson = errors.New("lemmy person not found")

// getUser reads one page of a person's details.
func (lc *lemmyCrawl) getUser(ctx context.Context, user string, limit, page int, d *lemmyUserDetails) error {
	q := url.Values{"username": {user}, "sort": {"New"}, "limit": {strconv.Itoa(limit)}, "page": {strconv.Itoa(page)}}
	resp, err := lc.pc.getJSON(ctx, "/api/v3/user?"+q.Encode(), d)
	switch {
	case err == nil:
		return nil
	case isGone(err):
		return fmt.Errorf("%w: %s", errLemmyNoPerson, user)
	case resp != nil && resp.Status == 400 && bytes.Contains(resp.Body, []byte("couldnt_find")):
		return fmt.Errorf("%w: %s", errLemmyNoPerson, user)
	}
	return err
}

// readUser lists a consenting author's posts and comments in full (down
// to the retention limit) and records the stored ones no longer listed.
func (lc *lemmyCrawl) readUser(ctx context.Context, acct string) error {
	pc := lc.pc
	user, _, _ := strings.Cut(acct, "@")
	listed := map[string]bool{}
	var newestPost, newestComment int64
	for page := 1; ; page++ {
		if page > maxLemmyUserPages {
			return nil // too much for one visit: no deletions inferred
		}
		var d lemmyUserDetails
		if err := lc.getUser(ctx, user, lemmyPageSize, page, &d); err != nil {
			return err
		}
		if d.PersonView.Person.local(pc.hc.host) != acct {
			pc.skip("lookup_mismatch")
			return nil
		}
		for _, v := range d.Posts {
			if !pc.cutoff.IsZero() && v.Post.Published.Before(pc.cutoff) {
				continue
			}
			newestPost = max(newestPost, v.Post.ID)
			if p, ok := pc.hc.lemmyPost(v, lc.langs); ok && p.Author == acct {
				listed[p.URI] = true
				pc.add(p)
			}
		}
		for _, v := range d.Comments {
			if !pc.cutoff.IsZero() && v.Comment.Published.Before(pc.cutoff) {
				continue
			}
			newestComment = max(newestComment, v.Comment.ID)
			if p, ok := pc.hc.lemmyComment(v, lc.langs); ok && p.Author == acct {
				listed[p.URI] = true
				pc.add(p)
			}
		}
		if len(d.Posts) < lemmyPageSize && len(d.Comments) < lemmyPageSize {
			break
		}
	}
	pc.finishListing(acct, model.SourceLemmy, fmt.Sprintf("%d:%d", newestPost, newestComment), model.PostCursor{}, true, listed)
	return nil
}

// lemmyItemURI checks a local ap_id: http(s) on this host.
func (hc *hostCrawl) lemmyItemURI(apID string, local bool) bool {
	u, err := url.Parse(apID)
	return err == nil && local && (u.Scheme == "https" || u.Scheme == "http") && strings.EqualFold(u.Host, hc.host) && u.User == nil
}

// lemmyPost converts a local, live post: Kind "page", the title and the
// Markdown body rendered to safe HTML, a link post's url among the links.
func (hc *hostCrawl) lemmyPost(v lemmyPostView, langs map[int64]string) (model.Post, bool) {
	author := v.Creator.local(hc.host)
	if author == "" || v.Post.Deleted || v.Post.Removed || v.Creator.ID != v.Post.CreatorID ||
		!hc.lemmyItemURI(v.Post.APID, v.Post.Local) || v.Post.Published.IsZero() {
		return model.Post{}, false
	}
	body := ""
	if v.Post.Body != nil {
		body = *v.Post.Body
	}
	bodyHTML := lemmyMarkdown.HTML(body)
	// The title is escaped text: doc's links are the body's.
	doc := "<p><strong>" + html.EscapeString(strings.TrimSpace(v.Post.Name)) + "</strong></p>" + bodyHTML
	p := hc.lemmyBase(v.Creator, author, doc, v.Post.APID, v.Post.Published.Time, v.Post.LanguageID, langs)
	p.Kind = "page"
	p.Sensitive = v.Post.NSFW
	if v.Post.URL != nil {
		if u, err := url.Parse(strings.TrimSpace(*v.Post.URL)); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.User == nil {
			p.Links = uniqueSorted(append(p.Links, u.String()), sanitize.MaxLinks)
		}
	}
	if n := v.Counts.Comments.v; n != nil {
		p.Replies = *n
	}
	if n := v.Counts.Upvotes.v; n != nil {
		p.Favourites = *n
	}
	return p, true
}

// lemmyComment converts a local, live comment: Kind "note", InReplyTo the
// parent comment (from the path) or the post.
func (hc *hostCrawl) lemmyComment(v lemmyCommentView, langs map[int64]string) (model.Post, bool) {
	c := v.Comment
	author := v.Creator.local(hc.host)
	if author == "" || c.Deleted || c.Removed || v.Creator.ID != c.CreatorID ||
		!hc.lemmyItemURI(c.APID, c.Local) || c.Published.IsZero() {
		return model.Post{}, false
	}
	bodyHTML := lemmyMarkdown.HTML(c.Content)
	p := hc.lemmyBase(v.Creator, author, bodyHTML, c.APID, c.Published.Time, c.LanguageID, langs)
	p.Kind = "note"
	p.Sensitive = v.Post.NSFW
	parts := strings.Split(c.Path, ".")
	if n := len(parts); n >= 3 && isDigits(parts[n-2]) && parts[n-1] == strconv.FormatInt(c.ID, 10) {
		// Lemmy's ap_id of a local comment is /comment/<id>. The parent
		// may be a remote person's comment under that local id: its host
		// is unknown (ReplyHost stays "").
		p.InReplyTo = hc.url("/comment/" + parts[n-2])
	} else if hc.lemmyItemURI(v.Post.APID, true) {
		p.InReplyTo = v.Post.APID
		p.ReplyHost = hc.host // a local post
	}
	if n := v.Counts.ChildCount.v; n != nil {
		p.Replies = *n
	}
	if n := v.Counts.Upvotes.v; n != nil {
		p.Favourites = *n
	}
	return p, true
}

// lemmyBase fills what posts and comments share; Links are doc's, to
// which a link post adds its url.
func (hc *hostCrawl) lemmyBase(creator lemmyPerson, author, doc, apID string, created time.Time, lang int64, langs map[int64]string) model.Post {
	name := creator.Name
	if creator.DisplayName != nil && strings.TrimSpace(*creator.DisplayName) != "" {
		name = *creator.DisplayName
	}
	body, text, links := sanitize.Content(doc)
	return model.Post{
		URI:        apID,
		URL:        apID,
		Host:       hc.host,
		Author:     author,
		AuthorName: sanitize.PlainLine(html.EscapeString(name), 200),
		Created:    created.UTC(),
		Text:       text,
		HTML:       body,
		Links:      links,
		Language:   langs[lang],
		Source:     model.SourceLemmy,
	}
}

// uniqueSorted de-duplicates and sorts, keeping at most n.
func uniqueSorted(in []string, n int) []string {
	if len(in) == 0 {
		return nil
	}
	sort.Strings(in)
	out := in[:0]
	for i, s := range in {
		if i == 0 || s != in[i-1] {
			out = append(out, s)
		}
	}
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// lemmyMarkdown renders bodies and comments as lemmy-ui does (markdown-it
// with html off and linkify on); its output goes through sanitize.
var lemmyMarkdown = markdown.New(markdown.LemmyOptions())
