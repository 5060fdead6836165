package crawler

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/fedilens/fedilens/internal/consent"
	"github.com/fedilens/fedilens/internal/model"
)

// PostState gives what earlier visits stored about a host's posts: the
// cursors where incremental reads continue, the stored posts of each
// author (to recheck their consent and to notice deletions), and the
// authors an admin removed with `fedilens forget`, whose posts are never
// stored again. Cursors and forgotten authors are keyed by the author's
// pseudonym (AuthorKey): the store never holds raw handles for them.
type PostState interface {
	// AuthorKey returns the pseudonym of user@host ("" for "").
	AuthorKey(acct string) string
	// PostCursors returns the host's cursors, with AccountKey set.
	PostCursors(ctx context.Context, host string) ([]model.PostCursor, error)
	// StoredPosts returns the URIs of the host's stored posts by author
	// (user@host).
	StoredPosts(ctx context.Context, host string) (map[string][]string, error)
	// ForgottenAuthors returns the keys of the authors an admin removed.
	ForgottenAuthors(ctx context.Context) (map[string]bool, error)
	// PostCursorHosts returns the hosts that have any cursor. It is read
	// once a pass, so a host without cursors (every host, the first
	// time) costs no query of its own.
	PostCursorHosts(ctx context.Context) (map[string]bool, error)
}

// BoostState is implemented by a PostState that also knows the boosts
// stored of a host (the store keeps them by author pseudonym only). With
// it, a complete listing that no longer shows a boost (undone) purges it,
// and the boosts of authors a visit could not recheck go. Without it,
// boosts are only purged with their author (withdrawal, forget, opt-out)
// or by retention.
type BoostState interface {
	// StoredBoosts returns the URIs of the host's stored boosts by author
	// key (AuthorKey).
	StoredBoosts(ctx context.Context, host string) (map[string][]string, error)
}

// Defaults of the post options.
const (
	// DefaultMaxPostRequests bounds the requests of one visit's posts crawl.
	DefaultMaxPostRequests = 2000
)

// errBudget ends a posts crawl that used its request budget; what was read
// is kept, and the cursors are not advanced past what was not read.
var errBudget = errors.New("post request budget used up")

// postSource reads the posts of one family of server software. A source
// reads only what is new since the cursors, rechecks the consent of every
// author it sees (and of every author with stored posts), and, when due,
// lists an author's posts in full to notice deletions.
type postSource interface {
	name() string
	crawl(ctx context.Context, pc *postCrawl) error
}

// flaglessSource is implemented by sources that read software without an
// indexable flag (Misskey, Lemmy, PeerTube, ...): its authors consent
// only through the operator's opt-in word, so without one (the default)
// the crawler sends such hosts no request at all.
type flaglessSource interface {
	// flagless reports whether the software (NodeInfo name, lower case)
	// has no indexable flag.
	flagless(software string) bool
}

// isFlagless reports whether src reads software without an indexable flag.
func isFlagless(src postSource, software string) bool {
	f, ok := src.(flaglessSource)
	return ok && f.flagless(software)
}

// postSources maps NodeInfo software names to their source. Software not
// listed has no post source (yet): its posts are not read.
var postSources = map[string]postSource{}

func registerPostSource(src postSource, software ...string) bool {
	for _, s := range software {
		postSources[s] = src
	}
	return true
}

// postCrawl is the state of one visit's posts crawl.
type postCrawl struct {
	hc        *hostCrawl
	pv        *model.PostVisit
	cursors   map[string]model.PostCursor // by AccountKey ("" = host-wide)
	stored    map[string][]string         // author → stored URIs
	forgotten map[string]bool             // author keys
	key       func(acct string) string
	// cutoff is the retention limit: older posts are neither read nor kept.
	cutoff time.Time
	now    time.Time
	budget int
	posts  []model.Post
	seen   map[string]bool // post URIs already collected
	// storedBoosts are the host's stored boosts by author key (nil
	// without a BoostState); boosts the ones read in this visit.
	storedBoosts map[string][]string
	boosts       []model.Boost
}

// request counts one request against the budget.
func (pc *postCrawl) request() error {
	if pc.pv.Requests >= pc.budget {
		return errBudget
	}
	pc.pv.Requests++
	return nil
}

// skip counts a post or account not stored.
func (pc *postCrawl) skip(reason string) { pc.pv.Skipped[reason]++ }

// add keeps a post, once.
func (pc *postCrawl) add(p model.Post) {
	if pc.seen[p.URI] {
		return
	}
	pc.seen[p.URI] = true
	pc.posts = append(pc.posts, p)
}

// addBoost keeps a boost, once.
func (pc *postCrawl) addBoost(b model.Boost) {
	if pc.seen["boost "+b.URI] {
		return
	}
	pc.seen["boost "+b.URI] = true
	pc.boosts = append(pc.boosts, b)
}

// cursor returns the stored cursor of an account ("" = host-wide).
func (pc *postCrawl) cursor(acct string) (model.PostCursor, bool) {
	c, ok := pc.cursors[pc.key(acct)]
	return c, ok
}

// newCursor records where the next read of acct starts.
func (pc *postCrawl) newCursor(c model.PostCursor) {
	c.Host, c.AccountKey, c.Updated = pc.hc.host, pc.key(c.Account), pc.now
	pc.pv.Cursors = append(pc.pv.Cursors, c)
}

// isForgotten reports an author an admin removed.
func (pc *postCrawl) isForgotten(acct string) bool { return pc.forgotten[pc.key(acct)] }

// listingStart is where a listing of an author's posts starts: the stored
// cursor, whether the listing is a full one (revalidation due), and the
// cursor to read from ("" for a full listing).
func (pc *postCrawl) listingStart(acct string) (cur model.PostCursor, full bool, since string) {
	cur, _ = pc.cursor(acct)
	if full = pc.revalidationDue(acct); !full {
		since = cur.Cursor
	}
	return cur, full, since
}

// revalidationDue reports whether the account's stored posts should be
// listed in full this visit.
func (pc *postCrawl) revalidationDue(account string) bool {
	c, ok := pc.cursor(account)
	if !ok || c.Cursor == "" {
		return true
	}
	after := pc.hc.m.opts.PostRevalidateAfter
	return after <= 0 || !c.Revalidated.Add(after).After(pc.now)
}

// withdraw records that an author does not (or no longer) consent. Only
// authors with something stored (posts or a cursor) are recorded: the
// others are merely skipped, and purging nothing would cost a mutation.
func (pc *postCrawl) withdraw(acct, reason string) {
	_, hasCursor := pc.cursor(acct)
	if len(pc.stored[acct]) == 0 && len(pc.storedBoosts[pc.key(acct)]) == 0 && !hasCursor {
		return
	}
	pc.pv.Authors = append(pc.pv.Authors, model.AuthorState{
		Author: acct, Host: pc.hc.host, Consent: false, Reason: reason, Checked: pc.now,
	})
}

// consents records a consenting author.
func (pc *postCrawl) consents(acct, actor string) {
	pc.pv.Authors = append(pc.pv.Authors, model.AuthorState{
		Author: acct, Host: pc.hc.host, Actor: actor, Consent: true, Checked: pc.now,
	})
}

// gone records stored posts (and boosts) of acct that a complete listing
// no longer has.
func (pc *postCrawl) gone(acct string, listed map[string]bool) {
	for _, uri := range pc.stored[acct] {
		if !listed[uri] {
			pc.pv.Gone = append(pc.pv.Gone, uri)
		}
	}
	for _, uri := range pc.storedBoosts[pc.key(acct)] {
		if !listed[uri] {
			pc.pv.Gone = append(pc.pv.Gone, uri)
		}
	}
}

// dropUncheckedBoosts reports as gone the stored boosts of the authors
// this visit neither checked nor had posts of: authors known only by
// their pseudonym, whom no listing names any more and whom the crawler
// therefore cannot recheck. A boost is kept only while its author's
// consent is rechecked, like a post. Call it only after a visit that
// went through every author (no error, no budget cut).
func (pc *postCrawl) dropUncheckedBoosts() {
	if len(pc.storedBoosts) == 0 {
		return
	}
	known := make(map[string]bool, len(pc.pv.Authors)+len(pc.stored))
	for _, a := range pc.pv.Authors {
		known[pc.key(a.Author)] = true
	}
	for acct := range pc.stored {
		known[pc.key(acct)] = true
	}
	keys := make([]string, 0, len(pc.storedBoosts))
	for k := range pc.storedBoosts {
		if !known[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		pc.pv.Gone = append(pc.pv.Gone, pc.storedBoosts[k]...)
	}
}

// crawlPosts reads the host's posts through the source of its software
// and records everything in hc.out (posts, and the PostVisit with consent
// rechecks, deletions, cursors and skip counts). It returns the hosts of
// the accounts mentioned in the posts kept, for discovery.
func (hc *hostCrawl) crawlPosts(ctx context.Context, snap *model.Snapshot) ([]string, error) {
	m := hc.m
	pv := &model.PostVisit{Host: hc.host, Skipped: map[string]int{}}
	hc.out.PostVisit = pv
	now := m.now()
	pc := &postCrawl{hc: hc, pv: pv, now: now, budget: m.opts.MaxPostRequests, seen: map[string]bool{}, cursors: map[string]model.PostCursor{}}
	if m.opts.PostRetention > 0 {
		pc.cutoff = now.Add(-m.opts.PostRetention)
	}
	pc.key = func(acct string) string { return acct }
	src := postSources[strings.ToLower(snap.Software)]
	if src == nil && !snap.Private {
		pv.Access = model.PostAccessUnsupported
		return nil, nil
	}
	if err := pc.load(ctx); err != nil {
		pv.Access = model.PostAccessFailed
		return nil, err
	}
	if snap.Private {
		// NodeInfo metadata.private: nothing of the instance may be
		// stored, and what was stored before goes.
		pv.Access = model.PostAccessPrivate
		pc.withdrawAll(string(model.PostAccessPrivate))
		pc.dropUncheckedBoosts()
		return nil, nil
	}
	pv.Source = src.name()
	if isFlagless(src, strings.ToLower(snap.Software)) && m.opts.OptInWord == "" {
		// Nobody there can have said yes: read nothing, and purge what an
		// earlier configuration with an opt-in word stored.
		pv.Access = model.PostAccessNoOptIn
		pc.withdrawAll(string(consent.NotIndexable))
		pc.dropUncheckedBoosts()
		m.metrics.postAccess.WithLabelValues(pv.Access).Inc()
		return nil, nil
	}
	err := src.crawl(ctx, pc)
	if len(pv.Cursors) > 0 {
		m.noteCursors(hc.host)
	}
	pv.Access = accessOf(err)
	if pv.Access == model.PostAccessDisallowed {
		pc.withdrawAll("robots")
	}
	if err == nil || pv.Access == model.PostAccessDisallowed {
		pc.dropUncheckedBoosts()
	}
	for r, n := range pv.Skipped {
		m.metrics.skipped.WithLabelValues(r).Add(float64(n))
	}
	m.metrics.postAccess.WithLabelValues(pv.Access).Inc()
	sort.Slice(pc.posts, func(i, j int) bool { return pc.posts[i].URI < pc.posts[j].URI })
	hc.out.Posts = pc.posts
	sort.Slice(pc.boosts, func(i, j int) bool { return pc.boosts[i].URI < pc.boosts[j].URI })
	pv.Boosts = pc.boosts
	var raw []string
	for _, p := range pc.posts {
		for _, acct := range p.Mentions {
			if _, h, ok := strings.Cut(acct, "@"); ok {
				raw = append(raw, h)
			}
		}
	}
	if errors.Is(err, errBudget) {
		err = nil // partial but fine: the next visit continues
	}
	return normaliseHosts(raw, hc.host), err
}

// load reads what earlier visits stored about the host's posts.
func (pc *postCrawl) load(ctx context.Context) error {
	m, host := pc.hc.m, pc.hc.host
	ps := m.opts.PostState
	if ps == nil {
		return nil
	}
	pc.key = ps.AuthorKey
	if m.hasCursors(host) {
		cs, err := ps.PostCursors(ctx, host)
		if err != nil {
			return fmt.Errorf("reading post cursors: %w", err)
		}
		for _, c := range cs {
			pc.cursors[c.AccountKey] = c
		}
	}
	var err error
	if pc.stored, err = ps.StoredPosts(ctx, host); err != nil {
		return fmt.Errorf("reading stored posts: %w", err)
	}
	if pc.forgotten, err = m.forgottenAuthors(ctx, ps); err != nil {
		return fmt.Errorf("reading forgotten authors: %w", err)
	}
	// Read for hosts with cursors only (a query per host visit is what
	// PostCursorHosts saves): a completed listing leaves a cursor, so the
	// few boosts of a host whose listings were all cut short wait for its
	// first completed one to be compared.
	if bs, ok := ps.(BoostState); ok && m.hasCursors(host) {
		if pc.storedBoosts, err = bs.StoredBoosts(ctx, host); err != nil {
			return fmt.Errorf("reading stored boosts: %w", err)
		}
	}
	return nil
}

// withdrawAll withdraws every author with stored posts on the host: the
// instance itself refused (private, robots.txt).
func (pc *postCrawl) withdrawAll(reason string) {
	accts := make([]string, 0, len(pc.stored))
	for a := range pc.stored {
		accts = append(accts, a)
	}
	sort.Strings(accts)
	for _, a := range accts {
		pc.withdraw(a, reason)
	}
}

// accessOf classifies how a posts crawl ended.
func accessOf(err error) string {
	var sig *errSignatureRequired
	switch {
	case err == nil, errors.Is(err, errBudget):
		return model.PostAccessOK
	case errors.As(err, &sig):
		return model.PostAccessSignatureRequired
	case errors.Is(err, errRobots):
		return model.PostAccessDisallowed
	case errors.Is(err, ErrHostRefused):
		return model.PostAccessOptedOut
	case errors.Is(err, errRefused):
		return model.PostAccessRefused
	default:
		return model.PostAccessFailed
	}
}

// errSignatureRequired: the server answers 401 to unsigned requests
// (authorized fetch, or an API closed to anonymous callers). fedilens does
// not sign yet: it records that and skips the host politely.
type errSignatureRequired struct{ path string }

func (e *errSignatureRequired) Error() string {
	return "signature or authentication required: " + e.path
}

// idNewer compares two server ids: numeric ids (Mastodon's snowflakes) by
// value, others (Pleroma's flake ids, Misskey's aid) as strings, which
// sort by time for ids of equal length.
func idNewer(a, b string) bool {
	if isDigits(a) && isDigits(b) {
		a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
		if len(a) != len(b) {
			return len(a) > len(b)
		}
	}
	return a > b
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

// forgottenAuthors returns the forgotten authors' keys, read at most once
// a minute (an admin's `fedilens forget` also purges what is stored; the
// pipeline drops forgotten authors' posts that are already on their way).
func (m *Manager) forgottenAuthors(ctx context.Context, ps PostState) (map[string]bool, error) {
	m.postStateMu.Lock()
	defer m.postStateMu.Unlock()
	if m.forgot != nil && time.Since(m.forgotAt) < time.Minute {
		return m.forgot, nil
	}
	f, err := ps.ForgottenAuthors(ctx)
	if err != nil {
		return nil, err
	}
	m.forgot, m.forgotAt = f, time.Now()
	return f, nil
}

// loadCursorHosts reads, at pass start, which hosts have post cursors: a
// ClickHouse query per host visit cost more CPU than the rest of the visit.
func (m *Manager) loadCursorHosts(ctx context.Context) error {
	ps := m.opts.PostState
	if !m.opts.Posts || ps == nil {
		return nil
	}
	hosts, err := ps.PostCursorHosts(ctx)
	if err != nil {
		return fmt.Errorf("reading the hosts with post cursors: %w", err)
	}
	m.postStateMu.Lock()
	m.cursorHosts = hosts
	m.postStateMu.Unlock()
	return nil
}

// hasCursors reports whether host had cursors at pass start, or got some
// during the pass.
func (m *Manager) hasCursors(host string) bool {
	m.postStateMu.Lock()
	defer m.postStateMu.Unlock()
	return m.cursorHosts == nil || m.cursorHosts[host]
}

// noteCursors records that host now has cursors.
func (m *Manager) noteCursors(host string) {
	m.postStateMu.Lock()
	defer m.postStateMu.Unlock()
	if m.cursorHosts != nil {
		m.cursorHosts[host] = true
	}
}

// requirePaths returns errRobots when the host's robots.txt disallows any
// of the paths a source depends on, before the source sends anything: a
// source that can read only half of what it needs (say, the authors but
// not their posts) reads nothing, and the instance counts as disallowed.
func (pc *postCrawl) requirePaths(ctx context.Context, paths ...string) error {
	hc := pc.hc
	if err := hc.g.lock(ctx); err != nil {
		return err
	}
	defer hc.g.unlock()
	grp, status, reason, err := hc.robotsLocked(ctx)
	if err != nil {
		return fmt.Errorf("robots.txt: %w", err)
	}
	if status != model.StatusOK {
		return &errRobotsUnavailable{reason}
	}
	for _, p := range paths {
		if !grp.Allowed(p) {
			return fmt.Errorf("%w: %s", errRobots, p)
		}
	}
	return nil
}

// admit is the gate every source applies to an author before reading her
// posts: an author an admin forgot is skipped, and one whose consent check
// r failed is skipped and withdrawn (what is stored of her goes). It
// reports whether her posts may be read.
func (pc *postCrawl) admit(acct string, r consent.Reason) bool {
	if pc.isForgotten(acct) {
		pc.skip("forgotten")
		return false
	}
	if r != consent.OK {
		pc.skip(string(r))
		pc.withdraw(acct, string(r))
		return false
	}
	return true
}

// unlisted returns, sorted, the authors with stored posts that found (the
// authors this visit's listings named) does not hold: they are rechecked
// one by one, since they may have withdrawn consent or left.
func unlisted[T any](pc *postCrawl, found map[string]T) []string {
	var out []string
	for acct := range pc.stored {
		if _, ok := found[acct]; !ok {
			out = append(out, acct)
		}
	}
	sort.Strings(out)
	return out
}

// authorFailed handles the error of reading one consenting author's posts:
// the errors that end the whole crawl (the budget among them) are
// returned; an account found gone is withdrawn; anything else is counted
// under reason and the crawl goes on with the next author.
func (pc *postCrawl) authorFailed(acct string, err error, gone bool, reason string) error {
	if errors.Is(err, errBudget) {
		return err
	}
	if gone {
		pc.withdraw(acct, "account_gone")
		return nil
	}
	if ferr := fatalPostErr(err); ferr != nil {
		return ferr
	}
	pc.skip(reason)
	return nil
}

// finishListing records how a complete read of acct's posts ended. After a
// full listing (revalidation) the stored posts it did not hold are gone,
// and the revalidation time moves on; the cursor is written when it moved
// or the listing was full. prev is the cursor the read started from.
func (pc *postCrawl) finishListing(acct, source, cursor string, prev model.PostCursor, full bool, listed map[string]bool) {
	c := model.PostCursor{Account: acct, Source: source, Cursor: cursor, Revalidated: prev.Revalidated}
	if full {
		pc.gone(acct, listed)
		c.Revalidated = pc.now
	}
	if c.Cursor != prev.Cursor || full {
		pc.newCursor(c)
	}
}
