package crawler

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/fedilens/fedilens/internal/consent"
	"github.com/fedilens/fedilens/internal/model"
)

// The Mastodon client API, as the posts crawl uses it.
const (
	directoryPageSize = 80
	statusesPageSize  = 40
	timelinePageSize  = 40
	// Page caps: a directory of 8,000 accounts, 4,000 timeline posts,
	// 2,000 posts per account and visit. Beyond them the next visit
	// continues (cursors) or the retention limit stops earlier.
	maxDirectoryPages = 100
	maxTimelinePages  = 100
	maxStatusPages    = 50
	maxPostsBody      = 8 << 20
	// timelineCursor is the Account of the host-wide local-timeline cursor.
	timelineCursor = ""
)

// mastodonSource reads the Mastodon client API: the local profile
// directory and the local public timeline name the authors; each
// consenting author's statuses are read since the last cursor. It serves
// Mastodon and the programs that implement its API.
type mastodonSource struct{}

var _ = registerPostSource(mastodonSource{},
	"mastodon", "hometown", "glitch-soc", "glitchsoc", "pleroma", "akkoma", "gotosocial", "pixelfed", "friendica")

func (mastodonSource) name() string { return model.SourceMastodon }

// mastodonAccount is the part of a Mastodon Account entity the crawler reads.
type mastodonAccount struct {
	ID          string `json:"id"`
	Username    string `json:"username"`
	Acct        string `json:"acct"`
	DisplayName string `json:"display_name"`
	Note        string `json:"note"`
	URL         string `json:"url"`
	URI         string `json:"uri"`
	Indexable   *bool  `json:"indexable"`
	NoIndex     bool   `json:"noindex"`
	Fields      []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"fields"`
}

// local returns the account's user@host when it is a local account of
// host, "" otherwise.
func (a mastodonAccount) local(host string) string {
	user := a.Acct
	if user == "" {
		user = a.Username
	}
	if name, domain, found := strings.Cut(user, "@"); found {
		if !strings.EqualFold(domain, host) {
			return ""
		}
		user = name
	}
	user = strings.ToLower(strings.TrimSpace(user))
	if user == "" || len(user) > 100 || strings.ContainsAny(user, " /@?#%") {
		return ""
	}
	return user + "@" + host
}

// consent applies the consent rules to the account, with the operator's
// opt-in word (if any) for accounts whose server sends no indexable flag.
func (a mastodonAccount) consent(optIn string) consent.Reason {
	acct := consent.Account{Indexable: a.Indexable, NoIndex: a.NoIndex, Bio: a.Note, OptInWord: optIn}
	for _, f := range a.Fields {
		acct.Fields = append(acct.Fields, consent.Field{Name: f.Name, Value: f.Value})
	}
	return consent.CheckAccount(acct)
}

// getJSON fetches a Mastodon API path and decodes the JSON answer into v.
// 401 means the API is closed to anonymous callers.
func (pc *postCrawl) getJSON(ctx context.Context, path string, v any) (*fetchResponse, error) {
	if err := pc.request(); err != nil {
		return nil, err
	}
	resp, err := pc.hc.get(ctx, fetchRequest{URL: pc.hc.url(path), Accept: "application/json", MaxBody: maxPostsBody})
	if err != nil {
		return nil, err
	}
	if resp.Status == 401 {
		return resp, &errSignatureRequired{path: path}
	}
	if err := okStatus(resp); err != nil {
		return resp, fmt.Errorf("%s: %w", path, err)
	}
	if err := decodeJSON(resp.Body, v); err != nil {
		return resp, fmt.Errorf("%w: %s: %v", errMalformed, path, err)
	}
	return resp, nil
}

func (mastodonSource) crawl(ctx context.Context, pc *postCrawl) error {
	host := pc.hc.host
	// The directory and the accounts' statuses are what this source
	// needs; the local timeline is optional.
	if err := pc.requirePaths(ctx, "/api/v1/directory", "/api/v1/accounts/"); err != nil {
		return err
	}
	found := map[string]mastodonAccount{} // acct → entity
	note := func(a mastodonAccount) {
		if acct := a.local(host); acct != "" {
			if _, ok := found[acct]; !ok {
				found[acct] = a
			}
		}
	}

	// The profile directory: the local accounts that chose to be listed.
	// A directory switched off (404) or closed by robots.txt is not an
	// error: the timeline and the stored authors still name authors.
	dirErr := pc.readDirectory(ctx, note)
	if err := fatalPostErr(dirErr); err != nil {
		return err
	}
	// The local public timeline, where the instance shows it: everything
	// the first visit, then what is newer than the cursor.
	// A timeline for logged-in users only (401: Mastodon's
	// timelines_access "authenticated") is no refusal of the rest.
	tlErr := pc.readTimeline(ctx, note)
	var sig *errSignatureRequired
	if errors.As(tlErr, &sig) {
		tlErr = nil
	}
	if err := fatalPostErr(tlErr); err != nil {
		return err
	}

	// Authors with stored posts are rechecked even when neither listing
	// names them any more (they left the directory, or the timeline
	// moved on): consent may have been withdrawn or the account deleted.
	for _, acct := range unlisted(pc, found) {
		user, _, _ := strings.Cut(acct, "@")
		var a mastodonAccount
		_, err := pc.getJSON(ctx, "/api/v1/accounts/lookup?acct="+url.QueryEscape(user), &a)
		switch {
		case err == nil && a.local(host) == acct:
			found[acct] = a
		case err == nil:
			// The server answered with another account: not trusted.
			pc.skip("lookup_mismatch")
		case isGone(err):
			pc.withdraw(acct, "account_gone")
		default:
			if ferr := fatalPostErr(err); ferr != nil {
				return ferr
			}
		}
	}

	for _, acct := range slices.Sorted(maps.Keys(found)) {
		a := found[acct]
		if !pc.admit(acct, a.consent(pc.hc.m.opts.OptInWord)) {
			continue
		}
		if a.ID == "" || strings.ContainsAny(a.ID, "/?#") {
			pc.skip("invalid_account")
			continue
		}
		pc.consents(acct, a.URI)
		if err := pc.readStatuses(ctx, acct, a); err != nil {
			if ferr := pc.authorFailed(acct, err, isGone(err), "statuses_unreadable"); ferr != nil {
				return ferr
			}
		}
	}
	return nil
}

// fatalPostErr returns the errors that end the whole posts crawl: the
// budget, a closed API, the host refused by policy, a cancelled context.
// Other errors (one endpoint switched off, a malformed page) end only the
// listing they happened in.
func fatalPostErr(err error) error {
	var sig *errSignatureRequired
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errBudget), errors.As(err, &sig), errors.Is(err, ErrHostRefused),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	var ru *errRobotsUnavailable
	if errors.As(err, &ru) {
		return err
	}
	return nil
}

// isGone reports a 404 or 410: the account or post does not exist (any more).
func isGone(err error) bool {
	var re *refusedError
	return errors.As(err, &re) && (re.status == 404 || re.status == 410)
}

// readDirectory pages through the local profile directory.
func (pc *postCrawl) readDirectory(ctx context.Context, note func(mastodonAccount)) error {
	for page := 0; page < maxDirectoryPages; page++ {
		var accounts []mastodonAccount
		path := fmt.Sprintf("/api/v1/directory?local=true&order=new&limit=%d&offset=%d", directoryPageSize, page*directoryPageSize)
		if _, err := pc.getJSON(ctx, path, &accounts); err != nil {
			return err
		}
		for _, a := range accounts {
			note(a)
		}
		if len(accounts) < directoryPageSize {
			return nil
		}
	}
	return nil
}

// readTimeline pages through the local public timeline, newest first, down
// to the timeline cursor (what the last visit saw) or the retention limit,
// noting every local author. The statuses themselves are read per author.
func (pc *postCrawl) readTimeline(ctx context.Context, note func(mastodonAccount)) error {
	tl, _ := pc.cursor(timelineCursor)
	since := tl.Cursor
	newest := since
	maxID := ""
	complete := false
	for page := 0; page < maxTimelinePages; page++ {
		q := url.Values{"local": {"true"}, "limit": {fmt.Sprint(timelinePageSize)}}
		if since != "" {
			q.Set("since_id", since)
		}
		if maxID != "" {
			q.Set("max_id", maxID)
		}
		var statuses []timelineStatus
		if _, err := pc.getJSON(ctx, "/api/v1/timelines/public?"+q.Encode(), &statuses); err != nil {
			if newest != since && !errors.Is(err, errBudget) {
				break // keep what was read; the cursor moves only on a complete read
			}
			return err
		}
		old := false
		for _, s := range statuses {
			if s.ID == "" {
				continue
			}
			if newest == "" || idNewer(s.ID, newest) {
				newest = s.ID
			}
			if !pc.cutoff.IsZero() && s.CreatedAt.Before(pc.cutoff) {
				old = true
				continue
			}
			note(s.Account)
		}
		if len(statuses) < timelinePageSize || old {
			complete = true
			break
		}
		maxID = statuses[len(statuses)-1].ID
	}
	if complete && newest != "" && newest != since {
		pc.newCursor(model.PostCursor{Account: timelineCursor, Source: model.SourceMastodon, Cursor: newest})
	}
	return nil
}

// readStatuses reads one consenting author's statuses: those newer than
// the cursor, or all of them (down to the retention limit) when the
// author's stored posts are due for revalidation; a complete full listing
// also tells which stored posts were deleted.
func (pc *postCrawl) readStatuses(ctx context.Context, acct string, a mastodonAccount) error {
	cur, full, since := pc.listingStart(acct)
	newest := cur.Cursor
	listed := map[string]bool{}
	maxID := ""
	complete := false
	for page := 0; page < maxStatusPages; page++ {
		// Reblogs are left out: each is a whole status of someone else,
		// and fedilens reads boosts only where a listing names them
		// without that cost (src_links.go).
		q := url.Values{"limit": {fmt.Sprint(statusesPageSize)}, "exclude_reblogs": {"true"}}
		if since != "" {
			q.Set("since_id", since)
		}
		if maxID != "" {
			q.Set("max_id", maxID)
		}
		var statuses []mastodonStatus
		if _, err := pc.getJSON(ctx, "/api/v1/accounts/"+url.PathEscape(a.ID)+"/statuses?"+q.Encode(), &statuses); err != nil {
			return err
		}
		old := false
		for _, s := range statuses {
			if s.ID != "" && (newest == "" || idNewer(s.ID, newest)) {
				newest = s.ID
			}
			if !pc.cutoff.IsZero() && s.CreatedAt.Before(pc.cutoff) {
				old = true
				continue
			}
			if !isNull(s.Reblog) {
				continue
			}
			if r := consent.CheckVisibility(s.Visibility); r != consent.OK {
				pc.skip(string(r))
				continue
			}
			p, ok := pc.hc.toPost(s)
			if !ok || p.Author != acct {
				pc.skip("not_local")
				continue
			}
			listed[p.URI] = true
			pc.add(p)
		}
		if len(statuses) < statusesPageSize || old {
			complete = true
			break
		}
		maxID = statuses[len(statuses)-1].ID
	}
	if !complete {
		// Too many pages for one visit: keep what was read, but do not
		// move the cursor past posts never seen.
		return nil
	}
	pc.finishListing(acct, model.SourceMastodon, newest, cur, full, listed)
	return nil
}

// postKind is the kind of a Mastodon status: a poll is a Question.
func (s mastodonStatus) kind() string {
	if !isNull(s.Poll) {
		return "question"
	}
	return "note"
}

// altText joins the media descriptions.
func (s mastodonStatus) altText() string {
	var parts []string
	for _, m := range s.Media {
		if m.Description != nil {
			if d := strings.TrimSpace(*m.Description); d != "" {
				parts = append(parts, d)
			}
		}
	}
	return strings.Join(parts, "\n")
}

// mentionAccts returns the mentioned accounts as user@host (local mentions
// get the host), lower case, sorted, de-duplicated.
func (s mastodonStatus) mentionAccts(host string) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range s.Mentions {
		acct := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(m.Acct), "@"))
		if acct == "" || strings.ContainsAny(acct, " /") {
			continue
		}
		if !strings.Contains(acct, "@") {
			acct += "@" + host
		}
		if !seen[acct] && len(out) < 50 {
			seen[acct] = true
			out = append(out, acct)
		}
	}
	sort.Strings(out)
	return out
}
