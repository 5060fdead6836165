package crawler

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/fedilens/fedilens/internal/consent"
	"github.com/fedilens/fedilens/internal/markdown"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/sanitize"
)

// PeerTube's REST API, as the posts crawl uses it.
const (
	peerTubePageSize = 100 // the API's maximum count
	// Page caps: 10,000 videos of the instance list and 5,000 of one
	// account per visit; beyond them the next visit continues.
	maxPeerTubeListPages    = 100
	maxPeerTubeAccountPages = 50
	// peerTubeNoVideos is the cursor of an author without videos in reach.
	peerTubeNoVideos = "-"
	// peerTubeCursorTime is the fixed-width time of cursors, so that they
	// compare as strings.
	peerTubeCursorTime = "2006-01-02T15:04:05.000000000Z"
)

// peerTubeSource reads PeerTube videos. The instance's list of local
// public videos (/api/v1/videos?isLocal=true, newest first, NSFW ones
// included) names the authors, read down to the host-wide cursor (the
// newest publishedAt|uuid seen) or the retention limit; the authors with
// stored videos are rechecked too. Every author's Account is read for
// consent: PeerTube has no indexable flag, so only the operator's opt-in
// word in the description counts. A consenting author's full list
// (/api/v1/accounts/{name}/videos) is read when revalidation is due, and
// stored videos it no longer lists are gone.
//
// Lists cut descriptions to 250 characters and carry no tags: every video
// not stored yet costs one request for its VideoDetails (full description
// and tags), so that a video is findable by its whole text and its
// hashtags; stored videos cost nothing more.
type peerTubeSource struct{}

var _ = registerPostSource(peerTubeSource{}, "peertube")

func (peerTubeSource) name() string { return model.SourcePeerTube }

// flagless: PeerTube accounts have no indexable flag.
func (peerTubeSource) flagless(string) bool { return true }

// peerTubeVideo is the part of a PeerTube Video (or VideoDetails) the
// crawler reads.
type peerTubeVideo struct {
	UUID     string `json:"uuid"`
	URL      string `json:"url"`
	Name     string `json:"name"`
	Language struct {
		ID any `json:"id"`
	} `json:"language"`
	Privacy struct {
		ID flexInt `json:"id"`
	} `json:"privacy"`
	NSFW                 bool      `json:"nsfw"`
	TruncatedDescription *string   `json:"truncatedDescription"`
	Description          *string   `json:"description"`
	IsLocal              bool      `json:"isLocal"`
	Likes                flexInt   `json:"likes"`
	Comments             flexInt   `json:"comments"`
	PublishedAt          time.Time `json:"publishedAt"`
	Account              struct {
		Name        string `json:"name"`
		DisplayName string `json:"displayName"`
		Host        string `json:"host"`
	} `json:"account"`
	Tags []any `json:"tags"`
}

// peerTubeList is a page of videos.
type peerTubeList struct {
	Total flexInt         `json:"total"`
	Data  []peerTubeVideo `json:"data"`
}

// peerTubeAccount is the part of a PeerTube Account the crawler reads.
type peerTubeAccount struct {
	Name        string  `json:"name"`
	Host        string  `json:"host"`
	URL         string  `json:"url"`
	DisplayName string  `json:"displayName"`
	Description *string `json:"description"`
}

// author returns the video's author as user@host when the video is a
// local, public video of host, "" otherwise.
func (v peerTubeVideo) author(host string) string {
	if !v.IsLocal || !strings.EqualFold(strings.TrimSpace(v.Account.Host), host) {
		return ""
	}
	return peerTubeAcct(v.Account.Name, host)
}

// peerTubeAcct validates a local account name.
func peerTubeAcct(name, host string) string {
	user := strings.ToLower(strings.TrimSpace(name))
	if user == "" || len(user) > 100 || strings.ContainsAny(user, " /@?#%\\") {
		return ""
	}
	return user + "@" + host
}

// listedDescription is the description a list sends (PeerTube 6+ has
// truncatedDescription; before, description itself is cut).
func (v peerTubeVideo) listedDescription() string {
	if v.TruncatedDescription != nil {
		return *v.TruncatedDescription
	}
	if v.Description != nil {
		return *v.Description
	}
	return ""
}

// cursorKey is the video's place in the newest-first order.
func (v peerTubeVideo) cursorKey() string {
	return v.PublishedAt.UTC().Format(peerTubeCursorTime) + "|" + v.UUID
}

// olderThan reports whether the video is at or below cursor c
// (publishedAt|uuid): it was seen by the visit that wrote c. Videos
// published in the same instant as the cursor's are read again (their
// order is not defined), which costs nothing: they are stored.
func (v peerTubeVideo) olderThan(c string) bool {
	ts, id, _ := strings.Cut(c, "|")
	t, err := time.Parse(peerTubeCursorTime, ts)
	if err != nil {
		return false
	}
	return v.PublishedAt.Before(t) || v.PublishedAt.Equal(t) && v.UUID == id
}

func (peerTubeSource) crawl(ctx context.Context, pc *postCrawl) error {
	if err := pc.requirePaths(ctx, "/api/v1/videos", "/api/v1/accounts/"); err != nil {
		return err
	}
	hostCur, _ := pc.cursor(timelineCursor)
	byAuthor := map[string][]peerTubeVideo{}
	newest, complete, err := pc.readPeerTubeList(ctx, hostCur.Cursor, byAuthor)
	if ferr := fatalPostErr(err); ferr != nil {
		return ferr
	}
	// The first complete list of the instance is a full list of every
	// author: no per-author list is needed to revalidate.
	fullList := complete && hostCur.Cursor == ""

	authors := make([]string, 0, len(byAuthor)+len(pc.stored))
	for acct := range byAuthor {
		authors = append(authors, acct)
	}
	for acct := range pc.stored {
		if _, ok := byAuthor[acct]; !ok {
			authors = append(authors, acct)
		}
	}
	sort.Strings(authors)
	for _, acct := range authors {
		if err := pc.peerTubeAuthor(ctx, acct, byAuthor[acct], fullList); err != nil {
			return err
		}
	}
	if complete && newest != "" && newest != hostCur.Cursor {
		// Only now: an author left for the next visit (budget) still has
		// her new videos above the old cursor.
		pc.newCursor(model.PostCursor{Account: timelineCursor, Source: model.SourcePeerTube, Cursor: newest})
	}
	return nil
}

// peerTubeAuthor rechecks one author's consent and reads her videos. It
// returns only the errors that end the crawl.
func (pc *postCrawl) peerTubeAuthor(ctx context.Context, acct string, listed []peerTubeVideo, fullList bool) error {
	host := pc.hc.host
	if pc.isForgotten(acct) {
		pc.skip("forgotten")
		return nil
	}
	user, _, _ := strings.Cut(acct, "@")
	var a peerTubeAccount
	_, err := pc.getJSON(ctx, "/api/v1/accounts/"+url.PathEscape(user), &a)
	switch {
	case err == nil && (peerTubeAcct(a.Name, host) != acct || a.Host != "" && !strings.EqualFold(a.Host, host)):
		pc.skip("lookup_mismatch")
		return nil
	case isGone(err):
		pc.withdraw(acct, "account_gone")
		return nil
	case err != nil:
		if ferr := fatalPostErr(err); ferr != nil {
			return ferr
		}
		pc.skip("account_unreadable")
		return nil
	}
	bio := ""
	if a.Description != nil {
		// A plain-text description: escaped, so that the consent check's
		// HTML reduction reads it as written.
		bio = html.EscapeString(*a.Description)
	}
	if r := consent.CheckAccount(consent.Account{Bio: bio, OptInWord: pc.hc.m.opts.OptInWord}); r != consent.OK {
		pc.skip(string(r))
		pc.withdraw(acct, string(r))
		return nil
	}
	actor := ""
	if u, err := url.Parse(a.URL); err == nil && (u.Scheme == "https" || u.Scheme == "http") && strings.EqualFold(u.Host, host) {
		actor = a.URL
	}
	pc.consents(acct, actor)

	cur, _ := pc.cursor(acct)
	full := pc.revalidationDue(acct)
	complete := true
	if full && !fullList {
		listed, complete, err = pc.readPeerTubeAccount(ctx, user, acct)
		if err != nil {
			if errors.Is(err, errBudget) {
				return err
			}
			if isGone(err) {
				pc.withdraw(acct, "account_gone")
				return nil
			}
			if ferr := fatalPostErr(err); ferr != nil {
				return ferr
			}
			pc.skip("videos_unreadable")
			return nil
		}
	}
	newest := cur.Cursor
	stored := map[string]bool{}
	for _, u := range pc.stored[acct] {
		stored[u] = true
	}
	uris := map[string]bool{}
	for _, v := range listed {
		if k := v.cursorKey(); k > newest {
			newest = k // any time sorts after peerTubeNoVideos
		}
		p, ok, err := pc.peerTubePost(ctx, v, acct, stored)
		if err != nil {
			return err
		}
		if ok {
			uris[p.URI] = true
		}
	}
	if !complete {
		return nil // too many pages for one visit: no deletions, no cursor
	}
	if newest == "" {
		newest = peerTubeNoVideos
	}
	pc.finishListing(acct, model.SourcePeerTube, newest, cur, full, uris)
	return nil
}

// peerTubePost keeps one listed video of acct (already stored ones are
// only counted as listed), fetching its details (full description,
// tags). ok reports a video that is (or stays) stored; err only
// the errors that end the crawl.
func (pc *postCrawl) peerTubePost(ctx context.Context, v peerTubeVideo, acct string, stored map[string]bool) (model.Post, bool, error) {
	p, ok := pc.hc.peerTubeToPost(v, v.listedDescription())
	if !ok || p.Author != acct {
		pc.skip("not_local")
		return model.Post{}, false, nil
	}
	if v.Privacy.ID.v == nil || *v.Privacy.ID.v != 1 {
		pc.skip("not_public")
		return model.Post{}, false, nil
	}
	if stored[p.URI] || pc.seen[p.URI] {
		return p, true, nil
	}
	{
		var d peerTubeVideo
		_, err := pc.getJSON(ctx, "/api/v1/videos/"+url.PathEscape(v.UUID), &d)
		switch {
		case err == nil && d.UUID == v.UUID && d.Privacy.ID.v != nil && *d.Privacy.ID.v == 1:
			full := ""
			if d.Description != nil {
				full = *d.Description
			}
			dp, ok := pc.hc.peerTubeToPost(d, full)
			if !ok || dp.URI != p.URI || dp.Author != acct {
				pc.skip("details_mismatch")
				return model.Post{}, false, nil
			}
			p = dp
		case err == nil:
			pc.skip("details_mismatch")
			return model.Post{}, false, nil
		default:
			if ferr := fatalPostErr(err); ferr != nil {
				return model.Post{}, false, ferr
			}
			pc.skip("details_unreadable")
			return model.Post{}, false, nil
		}
	}
	if !pc.cutoff.IsZero() && p.Created.Before(pc.cutoff) {
		return model.Post{}, false, nil
	}
	pc.add(p)
	return p, true, nil
}

// readPeerTubeList pages through the instance's local public videos,
// newest first, down to the host cursor or the retention limit, grouping
// them by author. complete reports a list read to its end (or to the
// cursor or limit); newest is the newest cursor key seen.
func (pc *postCrawl) readPeerTubeList(ctx context.Context, since string, byAuthor map[string][]peerTubeVideo) (newest string, complete bool, err error) {
	host := pc.hc.host
	newest = since
	for page := 0; page < maxPeerTubeListPages; page++ {
		q := url.Values{"isLocal": {"true"}, "nsfw": {"both"}, "sort": {"-publishedAt"},
			"start": {fmt.Sprint(page * peerTubePageSize)}, "count": {fmt.Sprint(peerTubePageSize)}}
		var l peerTubeList
		if _, err := pc.getJSON(ctx, "/api/v1/videos?"+q.Encode(), &l); err != nil {
			return newest, false, err
		}
		stop := false
		for _, v := range l.Data {
			if since != "" && v.olderThan(since) || !pc.cutoff.IsZero() && v.PublishedAt.Before(pc.cutoff) {
				stop = true
				break
			}
			if k := v.cursorKey(); newest == "" || k > newest {
				newest = k
			}
			if acct := v.author(host); acct != "" {
				byAuthor[acct] = append(byAuthor[acct], v)
			} else {
				pc.skip("not_local")
			}
		}
		if stop || len(l.Data) < peerTubePageSize {
			return newest, true, nil
		}
	}
	return newest, false, nil
}

// readPeerTubeAccount reads one account's public videos in full, newest
// first, down to the retention limit.
func (pc *postCrawl) readPeerTubeAccount(ctx context.Context, user, acct string) ([]peerTubeVideo, bool, error) {
	var out []peerTubeVideo
	for page := 0; page < maxPeerTubeAccountPages; page++ {
		q := url.Values{"nsfw": {"both"}, "sort": {"-publishedAt"},
			"start": {fmt.Sprint(page * peerTubePageSize)}, "count": {fmt.Sprint(peerTubePageSize)}}
		var l peerTubeList
		if _, err := pc.getJSON(ctx, "/api/v1/accounts/"+url.PathEscape(user)+"/videos?"+q.Encode(), &l); err != nil {
			return out, false, err
		}
		for _, v := range l.Data {
			if !pc.cutoff.IsZero() && v.PublishedAt.Before(pc.cutoff) {
				return out, true, nil
			}
			out = append(out, v)
		}
		if len(l.Data) < peerTubePageSize {
			return out, true, nil
		}
	}
	return out, false, nil
}

// peerTubeMarkdown renders video descriptions as PeerTube does (its
// client's text rules: markdown-it, html off, linkify and breaks on); its
// output goes through sanitize.
var peerTubeMarkdown = markdown.New(markdown.PeerTubeOptions())

// peerTubeToPost converts a video of this host with the given description
// (the listed one or the full one). Videos whose URL or author is not on
// this host are refused.
func (hc *hostCrawl) peerTubeToPost(v peerTubeVideo, description string) (model.Post, bool) {
	u, err := url.Parse(v.URL)
	if err != nil || u.Scheme != "https" && u.Scheme != "http" || !strings.EqualFold(u.Host, hc.host) || v.UUID == "" {
		return model.Post{}, false
	}
	author := v.author(hc.host)
	if author == "" || v.PublishedAt.IsZero() {
		return model.Post{}, false
	}
	name := sanitize.PlainLine(v.Name, 500)
	body := sanitize.HTML("<p>" + html.EscapeString(name) + "</p>" + peerTubeMarkdown.HTML(description))
	text, links := sanitize.TextLinks(body)
	p := model.Post{
		URI:        v.URL,
		URL:        v.URL,
		Host:       hc.host,
		Author:     author,
		AuthorName: sanitize.PlainLine(v.Account.DisplayName, 200),
		Created:    v.PublishedAt.UTC(),
		Text:       text,
		HTML:       body,
		Sensitive:  v.NSFW,
		Kind:       "video",
		Source:     model.SourcePeerTube,
		Links:      links,
	}
	if id, ok := v.Language.ID.(string); ok {
		lang := strings.ToLower(strings.TrimSpace(id))
		if primary, _, _ := strings.Cut(lang, "-"); len(primary) >= 2 && len(primary) <= 3 {
			p.Language = primary
		}
	}
	seen := map[string]bool{}
	for _, t := range v.Tags {
		s, ok := t.(string)
		name := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(s), "#"))
		if ok && name != "" && len(name) <= 100 && !seen[name] && len(p.Tags) < 50 {
			seen[name] = true
			p.Tags = append(p.Tags, name)
		}
	}
	sort.Strings(p.Tags)
	if n := v.Likes.v; n != nil && *n >= 0 {
		p.Favourites = *n
	}
	if n := v.Comments.v; n != nil && *n >= 0 {
		p.Replies = *n
	}
	return p, true
}
