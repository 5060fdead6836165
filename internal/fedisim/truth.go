package fedisim

import (
	"sort"
	"strings"
	"time"
)

// Truth is the exact ground truth of a simulation: what every instance
// serves, so tests can compare what a crawler stored against it. It is
// built once per Sim and shared; callers must not modify it.
type Truth struct {
	// Instances holds every simulated instance, sorted by host.
	Instances []InstanceTruth
	// DeadHosts are the valid host names published in peer lists that no
	// instance answers for (the connection is closed), TrapHost included;
	// sorted.
	DeadHosts []string
	// Now is the simulated present all dates derive from.
	Now time.Time
	// FarmDomain is the spam farm's registrable domain (see farm.go), and
	// FarmHosts every subdomain of it that the FarmPublishers publish in
	// their peer lists (sorted). No farm host is an instance, so none is
	// ever in the census; FarmJunkHosts are the ones that answer with a
	// spam page, the others close the connection.
	FarmDomain     string
	FarmHosts      []string
	FarmJunkHosts  []string
	FarmPublishers []string
	// Epoch is the epoch this truth describes (see Sim.Advance).
	Epoch int
	// Day is the history day this truth describes and Date its date
	// (Sim.TruthAt; 0 and the zero time without a history).
	Day  int
	Date time.Time

	index map[string]int
	// prev is the truth of the previous epoch (nil at 0), base the truth
	// of epoch 0: discovery (rule 1) uses epoch 0's timelines, and Posts
	// the authors a crawler learnt at every epoch.
	prev, base *Truth
	// seeds are the Sim's seeds, for RelevanceCases; relevance the
	// planted cases before filtering (relevance.go).
	seeds     []string
	relevance []RelevanceCase
}

// InstanceTruth is one instance as served.
type InstanceTruth struct {
	Host string
	// Software is NodeInfo software.name lower-cased, as the crawler must
	// store it ("fedired" for a server that sends "Fedired").
	Software string
	Version  string
	// NodeInfoVersion is the highest schema version the discovery document
	// offers, and NodeInfoPath the path of that document ("" when the
	// instance has no NodeInfo).
	NodeInfoVersion string
	NodeInfoPath    string
	// Title is NodeInfo metadata.nodeName as served, "" where the program
	// does not set it (Mastodon 3.x, GoToSocial, Lemmy, unset Misskey names).
	Title string
	// InstanceTitle is the name in the program's own instance document
	// (/api/v1/instance title, /api/meta name, /api/v3/site name, PeerTube
	// config), which crawlers may use when Title is empty.
	InstanceTitle     string
	OpenRegistrations bool
	// Private is NodeInfo metadata.private (Pleroma, Akkoma).
	Private bool
	// The NodeInfo usage counts exactly as served; nil where absent.
	UsersTotal, UsersActiveMonth, UsersActiveHalfyear, LocalPosts *int64
	// Behaviours lists the hostile and broken behaviours (Behaviour*
	// constants) in a fixed order; empty for a well-behaved instance.
	Behaviours []string
	// ExpectedFlags are the sanity flags a correct crawler gives the
	// served counts (Flag* constants, in internal/sanity's report order),
	// and SuspectFigures says whether they are deliberately wrong, so that
	// clean census totals leave them out (see flags.go).
	ExpectedFlags  []string
	SuspectFigures bool
	// Peers is the raw published peer list in served order, junk included;
	// nil when the instance publishes none (no endpoint, or disabled).
	Peers []string
	// PeersPath is where the peer list is published ("" if the program has
	// none). Misskey's is a POST endpoint.
	PeersPath string
	// RobotsStatus and Robots are the /robots.txt answer (status and body).
	RobotsStatus int
	Robots       string
	// PublicTimeline is true when an anonymous GET of
	// /api/v1/timelines/public?local=true returns the local public posts
	// (Mastodon only; timeline_preview or timelines_access may close it).
	PublicTimeline bool
	// Isolated instances are never named in the peer list of a
	// non-isolated instance, so no crawl from the seeds can find them.
	Isolated bool
	// Accounts are the instance's live local accounts at the truth's
	// epoch (none for Lemmy, whose content is not simulated
	// as posts); deleted accounts are absent.
	Accounts []AccountTruth
	// APIAuthRequired: Mastodon's DISALLOW_UNAUTHENTICATED_API_ACCESS;
	// /api/v1/accounts*, /api/v1/statuses*, /api/v1/directory and
	// /api/v1/timelines* answer 401 {"error":"This API requires an
	// authenticated user"} (the instance documents and peers stay open).
	APIAuthRequired bool
	// AuthorizedFetch: ActivityPub actors, outboxes and objects answer 401
	// to requests without a Signature header (GoToSocial always, Mastodon
	// in secure mode).
	AuthorizedFetch bool
	// LemmyPersons are a Lemmy instance's live persons at the truth's
	// epoch, with their live posts (Kind "page") and comments (Kind
	// "note") as Posts and their Markdown bio as Bio. They are served by
	// Lemmy's API only (not over WebFinger and ActivityPub), which is why
	// they are not in Accounts.
	LemmyPersons []AccountTruth
	// PostAccess is the model.PostAccess* verdict a crawler following
	// rule 5 reaches for a stored instance: "private" (metadata.private),
	// "unsupported" (not of the Mastodon API family), "disallowed"
	// (robots.txt disallows /api/v1/directory or /api/v1/accounts/),
	// "signature_required" (APIAuthRequired), else "ok"; checked in that
	// order.
	PostAccess string
	// Dead is set in a day's truth (Sim.TruthAt) for an instance not
	// born yet or dead on that day: its connections are closed, so it is
	// never stored. Always false without a history.
	Dead bool
	// Blocks is a Mastodon instance's public domain-block list on the
	// truth's day, in served order; nil where none is published. For
	// Pleroma and Akkoma it is NodeInfo's mrf_simple reject list, for
	// Lemmy federated_instances' blocked list (severity "suspend", no
	// reason).
	Blocks []BlockTruth
}

// AccountTruth is one local account.
type AccountTruth struct {
	// ID is the server's own account id (/api/v1/accounts/:id).
	ID       string
	Username string
	// Acct is user@host.
	Acct string
	// URI is the ActivityPub actor id.
	URI         string
	DisplayName string
	// Indexable is the actor's indexable flag; nil where the program or
	// version has none (absent counts as false).
	Indexable    *bool
	Discoverable bool
	// NoIndex is Mastodon's REST noindex flag.
	NoIndex bool
	Bot     bool
	// Bio is the profile note as HTML, the way Mastodon-compatible APIs
	// and ActivityPub summaries serve it.
	Bio    string
	Fields []FieldTruth
	// Consents applies rule 4 of the package doc.
	Consents bool
	// Posts are all the account's posts, every visibility, newest first.
	Posts []PostTruth
	// Boosts are the account's live boosts, every visibility, newest
	// first (WordPress and the Misskey family only; boosts.go).
	Boosts []BoostTruth
}

// FieldTruth is one profile field; Value is HTML.
type FieldTruth struct{ Name, Value string }

// PostTruth is one post.
type PostTruth struct {
	// ID is the server's own id (Mastodon's status id).
	ID  string
	URI string
	URL string
	// Author is the author's user@host.
	Author string
	// Visibility is public, unlisted, private or direct (PeerTube: public,
	// unlisted, private or internal).
	Visibility string
	// Language is the BCP 47 tag, "" when the server sends none.
	Language    string
	ContentHTML string
	// Summary is the content warning ("" for none).
	Summary string
	// Created is in UTC with whole seconds, identical in every format the
	// post is served in.
	Created time.Time
	// Tags are lower-case hashtags without '#'.
	Tags      []string
	Sensitive bool
	// Mentions are the accts (user@host) the post mentions.
	Mentions []string
	// Kind is the object type, lower case: note, article (WriteFreely),
	// question (a post with a poll), video (PeerTube).
	Kind string
	// AltText is the media descriptions joined by "\n" ("" for none).
	AltText string
	// InReplyTo is the URI of the post this one answers ("" for none).
	InReplyTo string
	// The counts as served.
	Replies, Reblogs, Favourites int
	// Links are the http(s) hrefs in the content that are not mentions or
	// hashtags, sorted, without duplicates, at most 20.
	Links []string
}

// Instance returns the truth for host.
func (t *Truth) Instance(host string) (InstanceTruth, bool) {
	i, ok := t.index[host]
	if !ok {
		return InstanceTruth{}, false
	}
	return t.Instances[i], true
}

// Has reports whether the instance has behaviour b.
func (it *InstanceTruth) Has(b string) bool {
	for _, x := range it.Behaviours {
		if x == b {
			return true
		}
	}
	return false
}

// Allows evaluates the instance's robots.txt for AgentToken and path.
func (it *InstanceTruth) Allows(path string) bool {
	return RobotsAllows(it.RobotsStatus, it.Robots, AgentToken, path)
}

// Stored applies rule 2 of the package doc: whether a crawler that reaches
// the instance stores its NodeInfo.
func (it *InstanceTruth) Stored() bool {
	if it.Dead {
		return false
	}
	for _, b := range []string{BehaviourDown, BehaviourHTTP503, BehaviourNodeInfoBroken,
		BehaviourNodeInfo404, BehaviourNodeInfoOffsite, BehaviourNodeInfoNoIndex, BehaviourRedirectTrap} {
		if it.Has(b) {
			return false
		}
	}
	if it.RobotsStatus >= 500 || it.NodeInfoPath == "" {
		return false
	}
	return it.Allows("/.well-known/nodeinfo") && it.Allows(it.NodeInfoPath)
}

// PeersReadable applies rule 3: whether the crawler reads the peer list of
// a stored instance.
func (it *InstanceTruth) PeersReadable() bool {
	return it.PeersPath != "" && !it.Has(BehaviourPeersDisabled) && it.Allows(it.PeersPath)
}

// Discovered returns every valid host name a crawler starting at seeds
// learns about (rule 1), existing or not, sorted.
func (t *Truth) Discovered(seeds []string) []string {
	found, _ := t.crawl(seeds, nil)
	out := make([]string, 0, len(found))
	for h := range found {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// Census is the exact expected census for a crawler that starts at seeds
// and follows the rules of the package doc: the stored instances, sorted by
// host.
func (t *Truth) Census(seeds []string) []InstanceTruth {
	return t.CensusExcluding(seeds, nil)
}

// CensusExcluding is Census for a crawler that never contacts the hosts
// excluded reports (denylisted or opted out): they are not stored, and
// nothing is discovered through them.
func (t *Truth) CensusExcluding(seeds []string, excluded func(host string) bool) []InstanceTruth {
	_, stored := t.crawl(seeds, excluded)
	sort.Ints(stored)
	out := make([]InstanceTruth, len(stored))
	for i, idx := range stored {
		out[i] = t.Instances[idx]
	}
	return out
}

// crawl runs the fixpoint of rules 1 to 3.
func (t *Truth) crawl(seeds []string, excluded func(string) bool) (map[string]bool, []int) {
	found := map[string]bool{}
	var queue []string
	push := func(h string) {
		if ValidHostName(h) && !found[h] {
			found[h] = true
			queue = append(queue, h)
		}
	}
	for _, s := range seeds {
		push(strings.ToLower(strings.TrimSpace(s)))
	}
	var stored []int
	for len(queue) > 0 {
		h := queue[0]
		queue = queue[1:]
		if excluded != nil && excluded(h) {
			continue
		}
		idx, ok := t.index[h]
		if !ok {
			continue
		}
		it := &t.Instances[idx]
		if !it.Stored() {
			continue
		}
		stored = append(stored, idx)
		if it.PeersReadable() {
			for _, p := range it.Peers {
				push(p)
			}
		}
		// Rule 1: hosts mentioned in the posts the crawler stores (rule
		// 5), as at epoch 0 (later epochs add no remote mentions, and a
		// crawler keeps what it discovered).
		base := t
		if t.base != nil {
			base = t.base
		}
		for _, p := range base.instancePosts(&base.Instances[idx], time.Time{}) {
			for _, m := range p.Mentions {
				if _, host, ok := strings.Cut(m, "@"); ok {
					push(strings.ToLower(host))
				}
			}
		}
	}
	return found, stored
}

// TimelineLimit is the page size of the thin post path (rule 5).
const TimelineLimit = 40

// TimelinePosts is the exact expected set of posts for the thin post path
// (rule 5): for every stored Mastodon instance whose robots.txt allows
// /api/v1/timelines/public and whose local timeline is public, the first
// page (limit 40, newest first) of the local public timeline, keeping the
// posts whose author consents. Posts are grouped by host in host order,
// newest first within a host.
func (t *Truth) TimelinePosts(seeds []string) []PostTruth {
	var out []PostTruth
	for _, it := range t.Census(seeds) {
		out = append(out, timelinePage(&it)...)
	}
	return out
}

// timelinePage is rule 5 for one stored instance: the consenting posts of
// the first page of its local public timeline (none where the crawler
// does not read one).
func timelinePage(it *InstanceTruth) []PostTruth {
	if it.Software != "mastodon" || !it.PublicTimeline || it.Private || !it.Allows("/api/v1/timelines/public") {
		return nil
	}
	consent := map[string]bool{}
	var public []PostTruth
	for _, a := range it.Accounts {
		consent[a.Acct] = a.Consents
		for _, p := range a.Posts {
			if p.Visibility == "public" {
				public = append(public, p)
			}
		}
	}
	sort.SliceStable(public, func(i, j int) bool { return idGreater(public[i].ID, public[j].ID) })
	if len(public) > TimelineLimit {
		public = public[:TimelineLimit]
	}
	var out []PostTruth
	for _, p := range public {
		if consent[p.Author] {
			out = append(out, p)
		}
	}
	return out
}

// idGreater compares decimal ids numerically.
func idGreater(a, b string) bool {
	if len(a) != len(b) {
		return len(a) > len(b)
	}
	return a > b
}

// buildTruth materialises the truth of every instance at epoch; prev is
// the truth of epoch-1 (nil for 0).
func (s *Sim) buildTruth(epoch int, prev *Truth) *Truth {
	w := s.world
	t := &Truth{Now: w.now, Epoch: epoch, prev: prev, seeds: s.Seeds(), index: make(map[string]int, len(w.instances))}
	if prev != nil {
		t.base = prev
		if prev.base != nil {
			t.base = prev.base
		}
	}
	t.Instances = make([]InstanceTruth, 0, len(w.instances))
	for _, in := range w.instances {
		t.Instances = append(t.Instances, s.instanceTruth(in, epoch))
	}
	sort.Slice(t.Instances, func(i, j int) bool { return t.Instances[i].Host < t.Instances[j].Host })
	for i := range t.Instances {
		t.index[t.Instances[i].Host] = i
	}
	t.DeadHosts = append(t.DeadHosts, w.extra[:w.deadCount]...)
	t.DeadHosts = append(t.DeadHosts, TrapHost)
	sort.Strings(t.DeadHosts)
	w.farmTruth(t)
	t.relevance = w.relevanceCases()
	return t
}

func i64(v int64) *int64 { return &v }

func (s *Sim) instanceTruth(in *instance, epoch int) InstanceTruth {
	w := s.world
	p := in.prof()
	it := InstanceTruth{
		Host:          in.host,
		Software:      strings.ToLower(p.name),
		Version:       in.version,
		InstanceTitle: instanceDocTitle(in),
		Isolated:      in.isolated,
		Behaviours:    in.beh.names(),
		PeersPath:     p.peersPath,
	}
	setExpectedFlags(&it, in)
	if !in.has(bNodeInfo404) {
		best := highestNodeinfo(nodeinfoLinks(in.kind, in.version))
		it.NodeInfoVersion, it.NodeInfoPath = best.version, best.path
	}
	if in.nodeName {
		it.Title = in.title
	}
	it.OpenRegistrations = in.openReg
	it.Private = in.has(bPrivate)
	u := servedUsage(in)
	it.UsersTotal, it.UsersActiveMonth, it.UsersActiveHalfyear, it.LocalPosts = u.total, u.month, u.halfyear, u.posts
	if p.peersPath != "" && !in.has(bPeersDisabled) {
		it.Peers = make([]string, 0, len(in.peers))
		if in.kind != swSnac { // snac publishes an empty list
			for _, ref := range in.peers {
				it.Peers = append(it.Peers, w.peerName(ref))
			}
		}
	}
	it.RobotsStatus, it.Robots = robotsFor(in)
	it.Blocks = blocksTruth(s, in, 0)
	it.PublicTimeline = in.kind == swMastodon && in.tlLocal == tlPublic
	it.APIAuthRequired = in.apiAuth
	it.AuthorizedFetch = in.authFetch || in.kind == swGoToSocial
	it.PostAccess = expectedPostAccess(&it, w.optInWord != "")
	it.LemmyPersons = w.lemmyPersonsTruth(in, epoch)
	// Generate afresh instead of going through the handler's cache: the
	// result is identical, the handler may be filling the cache right now,
	// and a truth of 20,000 instances should not pin every instance's path
	// index in memory.
	c := w.contentState(in, epoch)
	if len(c.accounts) > 0 {
		it.Accounts = make([]AccountTruth, 0, len(c.accounts))
	}
	for _, a := range c.accounts {
		at := AccountTruth{
			ID:           a.id,
			Username:     a.username,
			Acct:         a.username + "@" + in.host,
			URI:          a.actorURI,
			DisplayName:  a.displayName,
			Discoverable: a.discoverable,
			NoIndex:      a.noindex,
			Bot:          a.bot,
			Bio:          a.noteHTML,
			Consents:     w.consents(a),
		}
		at.Boosts = boostTruths(at.Acct, a.boosts)
		if a.indexable != nil {
			at.Indexable = boolPtr(*a.indexable)
		}
		for _, f := range a.fields {
			at.Fields = append(at.Fields, FieldTruth{f.name, f.value})
		}
		if len(a.posts) > 0 {
			at.Posts = make([]PostTruth, 0, len(a.posts))
		}
		for _, pst := range a.posts {
			at.Posts = append(at.Posts, PostTruth{
				ID: pst.id, URI: pst.uri, URL: pst.url, Author: at.Acct,
				Visibility: pst.visibility, Language: pst.lang, ContentHTML: pst.contentHTML,
				Summary: pst.summary, Created: pst.created.UTC(), Tags: append([]string(nil), pst.tags...),
				Sensitive: pst.sensitive, Mentions: mentionAccts(pst.mentions),
				Kind: pst.kind, AltText: altText(pst), InReplyTo: replyURI(pst),
				Replies: pst.replies, Reblogs: pst.reblogs, Favourites: pst.favourites,
				Links: linksIn(pst.contentHTML),
			})
			misskeyPostTruth(in, pst, &at.Posts[len(at.Posts)-1])
			peerTubePostTruth(in, &at.Posts[len(at.Posts)-1])
		}
		it.Accounts = append(it.Accounts, at)
	}
	return it
}

// usage is the NodeInfo usage block as served; nil pointers are omitted.
type usage struct {
	total, month, halfyear, posts *int64
}

// servedUsage returns the counts an instance's NodeInfo carries.
func servedUsage(in *instance) usage {
	u := usage{total: i64(in.users)}
	if in.prof().activeCounts {
		u.month, u.halfyear = i64(in.month), i64(in.halfyear)
		if in.has(bStatsInconsistent) {
			u.halfyear = i64(in.users + in.users/10 + 1)
		}
	}
	if !in.noPosts {
		u.posts = i64(in.posts)
	}
	return u
}

func mentionAccts(ms []mention) []string {
	if len(ms) == 0 {
		return nil
	}
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.acct
	}
	return out
}
