// Package model holds the plain data types that cross package boundaries:
// what the crawler observes, what the store keeps and what the API and the
// dashboard show. It has no behaviour beyond small helpers, so every other
// package can import it without pulling in a database, an index or a network.
package model

import "time"

// Snapshot is one observation of one instance's NodeInfo (and, where the
// software has one, its own instance document) by one crawl.
//
// Counts are pointers because NodeInfo makes all but users.total optional
// and many servers omit them: "unknown" must stay distinguishable from 0.
type Snapshot struct {
	// Host is the normalised host name (see internal/hostname), with a port
	// only where it is not the scheme's default.
	Host string
	// CrawledAt is when the NodeInfo document was fetched, in UTC.
	CrawledAt time.Time
	// Software is NodeInfo software.name, lower-cased and trimmed.
	Software string
	// Version is NodeInfo software.version as published.
	Version string
	// NodeInfoVersion is the schema version that was followed ("2.1", "2.0", "1.1", ...).
	NodeInfoVersion string
	// Title is the instance's name (metadata.nodeName, or the instance document's title).
	Title string
	// OpenRegistrations as published (leniently parsed: "FALSE" is false).
	OpenRegistrations bool
	// Private is NodeInfo metadata.private (Pleroma/Akkoma locked-down instances).
	Private bool
	// Protocols as published, lower-cased.
	Protocols []string

	UsersTotal          *int64
	UsersActiveMonth    *int64
	UsersActiveHalfyear *int64
	LocalPosts          *int64

	// PeerCount and BlockCount are the sizes of the peer list and of the
	// public domain-block list read in the same visit; nil when none was
	// read (not published, refused, or not fetched again yet). They give
	// degree over time without reading the link tables.
	PeerCount  *int64
	BlockCount *int64

	// Flags is the sanity verdict on the counts above (internal/sanity
	// flag names, in report order; nil when nothing is wrong). The counts
	// are kept as served; the flags decide whether they enter the clean
	// census totals, so a later, better verdict never needs a re-crawl.
	Flags []string

	// The fields below come from the software's own instance document
	// (Mastodon /api/v2|v1/instance, Misskey /api/meta, Lemmy /api/v3/site,
	// PeerTube /api/v1/config), read after NodeInfo. They are empty where
	// the software has none, robots.txt disallows it or the admin switched
	// it off: NodeInfo says how big an instance is, these say what it is
	// and who runs it, which is what people choosing a server look for.

	// InstanceTitle is the name in the instance document, plain text.
	InstanceTitle string
	// Description is the instance's self-description, plain text (line
	// breaks kept), capped.
	Description string
	// Languages are lower-case primary language tags ("en", "de"), capped.
	Languages []string
	// Rules are the server rules as plain text, in published order, capped.
	Rules []string
	// ContactEmail is the admin contact address the instance publishes.
	ContactEmail string
	// ContactAccount is the admin contact account as user@host.
	ContactAccount string
	// RegistrationMode is one of the Registration* constants, "" if unknown.
	RegistrationMode string
}

// Registration modes of Snapshot.RegistrationMode. NodeInfo's
// openRegistrations cannot tell "open" from "open, but an admin approves
// every sign-up"; instance documents can.
const (
	RegistrationOpen     = "open"
	RegistrationApproval = "approval"
	RegistrationClosed   = "closed"
)

// HostStatus is the outcome of the latest attempt to crawl a host.
type HostStatus string

// The host statuses. They are stored as strings, so the set can grow.
const (
	// StatusOK: NodeInfo fetched and stored.
	StatusOK HostStatus = "ok"
	// StatusUnreachable: DNS, connection, TLS or timeout errors, or 5xx answers.
	StatusUnreachable HostStatus = "unreachable"
	// StatusRobotsDisallowed: robots.txt refuses the paths fedilens needs.
	StatusRobotsDisallowed HostStatus = "robots_disallowed"
	// StatusNoNodeInfo: the host answered but has no (usable) NodeInfo.
	StatusNoNodeInfo HostStatus = "no_nodeinfo"
	// StatusMalformed: the host answered with documents that cannot be parsed.
	StatusMalformed HostStatus = "malformed"
	// StatusRefused: fedilens refused the host itself (denylist, opt-out,
	// forbidden address, invalid name).
	StatusRefused HostStatus = "refused"
	// StatusNoIndex: NodeInfo was served with X-Robots-Tag: noindex.
	StatusNoIndex HostStatus = "noindex"
	// StatusCapped: the host was not visited in the latest pass because its
	// registrable domain already had the maximum of unproven hosts (never
	// stored) pending or failing: a spam farm of generated subdomains must
	// not drown the crawl. The host stays known and is retried later.
	StatusCapped HostStatus = "capped"
	// StatusDead: the host has not answered successfully for longer than
	// the crawler's dead-after period (since its last success, or since it
	// was first seen); Reason keeps the last error. Dead hosts are retried
	// on a slow schedule and never deleted: servers come back.
	StatusDead HostStatus = "dead"
)

// HostState is the crawler's memory of one host: what happened last time
// and when it is due again. It is what lets a restarted crawler continue
// where it stopped instead of refetching everything.
type HostState struct {
	Host        string
	Status      HostStatus
	Reason      string // human-readable detail for Status
	Software    string // last known software, empty if never known
	LastAttempt time.Time
	LastSuccess time.Time // zero if never
	NextDue     time.Time
	Failures    uint32 // consecutive failures
	// DiscoveredFrom is the host whose peer list first named this host
	// ("seed" for seeds, "api" for manual submissions).
	DiscoveredFrom string
	// Cache validators and lifetimes the host announced, so the next visit
	// sends a conditional request for the NodeInfo document and does not
	// fetch a peer list again before the host said it may change.
	NodeInfoETag         string
	NodeInfoLastModified string
	NodeInfoFreshUntil   time.Time
	PeersFreshUntil      time.Time
	// FirstSeen is when the crawler first learned of the host; with
	// LastSuccess it tells how long a host has not answered (StatusDead).
	// Zero for states stored before it was recorded.
	FirstSeen time.Time
}

// Peers is a host's published peer list as seen at one crawl.
type Peers struct {
	Host      string
	CrawledAt time.Time
	Peers     []string // normalised, de-duplicated, sorted
}

// Visit is everything one visit of a host produced, handed to storage as
// one unit so that a crash can never store part of a visit (a snapshot
// without the posts fetched after it) and then skip the host as fresh.
type Visit struct {
	State    HostState
	Snapshot *Snapshot // nil when the visit failed
	Peers    *Peers    // nil when no peer list was read
	Blocks   *Blocks   // nil when no public domain-block list was read
	Posts    []Post
	// PostVisit is what the visit learned of the host's posts and authors
	// besides the posts themselves (consent rechecks, deletions, cursors,
	// skip counts); nil when posts were not crawled in this visit.
	PostVisit *PostVisit
}

// Post is one public post of a consenting author, after sanitising.
type Post struct {
	// URI is the ActivityPub id of the post: the key for updates and deletes.
	URI string
	// URL is the human-facing link, when the server gives one.
	URL string
	// Host is the instance the post (and its author) lives on.
	Host string
	// Author is the author's handle as user@host. It is personal data: only
	// stored for consenting authors, and pseudonymised in datasets.
	Author string
	// AuthorName is the display name, plain text.
	AuthorName string
	Created    time.Time
	Language   string // BCP 47 primary tag, lower case; "" if unknown
	// Text is the post's content reduced to plain text (for indexing).
	Text string
	// HTML is the sanitised content (for display).
	HTML string
	// Summary is the content warning, plain text.
	Summary    string
	Sensitive  bool
	Tags       []string // lower-case hashtags without '#'
	Replies    int64
	Reblogs    int64
	Favourites int64
	// Kind is the object type, lower case: note, article, page, question,
	// video, comment ("" reads as note).
	Kind string
	// Source is the PostSource that produced the post (SourceMastodon, ...).
	Source string
	// AltText is the media descriptions, plain text, one per line.
	AltText string
	// Mentions are the mentioned accounts as user@host, lower case, sorted.
	Mentions []string
	// Links are the http(s) links in the content other than mentions and
	// hashtags, sorted, at most 20.
	Links []string
	// InReplyTo is the URI of the post this one answers, "" if none.
	InReplyTo string
	// ReplyHost is the instance of the post InReplyTo answers, lower
	// case, where the source tells it without another request (the
	// parent's URI, the embedded parent's author, a mention of the
	// account answered); "" when the post answers nothing or the host is
	// not known. InReplyTo alone cannot say it: the Mastodon API names
	// the parent by a local id, even when the parent is remote.
	ReplyHost string
}

// Instance is the latest known state of one instance, as the API shows it.
type Instance struct {
	Snapshot
	FirstSeen time.Time
	// Snapshots is the number of snapshots kept for the host.
	Snapshots uint64
}

// Summary holds the headline numbers of the census.
type Summary struct {
	Instances           uint64
	UsersTotal          int64
	UsersActiveMonth    int64
	UsersActiveHalfyear int64
	LocalPosts          int64
	Softwares           uint64
	IndexedPosts        uint64
	LastCrawl           time.Time // zero if nothing was crawled yet
	// Flagged is the number of instances whose latest snapshot has a
	// suspect sanity flag. Unless StatsOptions.IncludeFlagged was asked
	// for, they are not in the figures above; either way readers learn how
	// much was left out.
	Flagged uint64
}

// StatsOptions selects which instances the census statistics cover.
type StatsOptions struct {
	// IncludeFlagged adds the instances whose latest figures are suspect
	// (see internal/sanity). The default, clean figures leave them out so
	// one made-up number cannot distort the census.
	IncludeFlagged bool
}

// SoftwareShare is one software's share of the census.
type SoftwareShare struct {
	Software    string
	Instances   uint64
	UsersTotal  int64
	ActiveMonth int64
}

// Int64 returns a pointer to v, for the optional counts.
func Int64(v int64) *int64 { return &v }

// InstanceQuery selects instances for listing.
type InstanceQuery struct {
	// Software keeps only instances running this software ("" = all).
	Software string
	// Limit is the page size; the store caps it (1..1000, default 100).
	Limit int
	// Sort is "users" (users total, descending, ties by host) or "host"
	// (ascending). Default "users".
	Sort string
	// Cursor is the opaque value of the previous page's NextCursor ("" = first page).
	Cursor string
	// Flagged filters by sanity verdict: FlaggedInclude (or "": every
	// instance, with its flags), FlaggedOnly (instances whose latest
	// snapshot has a suspect flag) or FlaggedExclude (the others).
	Flagged string
}

// The values of InstanceQuery.Flagged.
const (
	FlaggedInclude = "include"
	FlaggedOnly    = "only"
	FlaggedExclude = "exclude"
)

// InstancePage is one page of instances.
type InstancePage struct {
	Instances  []Instance
	NextCursor string // "" when there is no further page
}

// DayCount is a count for one UTC day.
type DayCount struct {
	Day   time.Time
	Count uint64
}

// SearchQuery is a search request as the API and the search page take it.
type SearchQuery struct {
	// Q is the query in fedilens's query syntax (see indexer).
	Q string
	// Limit is the page size, capped at 100.
	Limit int
	// Cursor is the opaque value of the previous page's NextCursor.
	Cursor string
	// Sort is SortRelevance (the default, "") or SortNewest.
	Sort string
	// Filters given as parameters; they combine with those in Q (AND).
	Hosts, Langs, Tags, Authors []string
	Since, Until                time.Time
	// Facets asks for the facet counts (instance, language, hashtag, month).
	Facets bool
}

// Search sort orders.
const (
	SortRelevance = "relevance"
	SortNewest    = "newest"
)

// FacetCount is one value of a facet and its number of matching posts.
type FacetCount struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// Facets are the counts over all matches (not only the page), top values
// first, at most 20 per facet.
type Facets struct {
	Instance []FacetCount `json:"instance"`
	Language []FacetCount `json:"language"`
	Hashtag  []FacetCount `json:"hashtag"`
	Month    []FacetCount `json:"month"` // "2026-11"
}

// SearchHit is one search result. Snippet is sanitised HTML (only <mark>
// elements, everything else escaped) and safe to embed in a page.
type SearchHit struct {
	URI        string    `json:"uri"`
	URL        string    `json:"url,omitempty"`
	Host       string    `json:"host"`
	Author     string    `json:"author"`
	AuthorName string    `json:"author_name,omitempty"`
	Created    time.Time `json:"created"`
	Language   string    `json:"language,omitempty"`
	Summary    string    `json:"summary,omitempty"`
	Snippet    string    `json:"snippet"`
	Tags       []string  `json:"tags,omitempty"`
	Score      float64   `json:"score"`
	Kind       string    `json:"kind,omitempty"`
	Sensitive  bool      `json:"sensitive,omitempty"`
	// HTML is the post's sanitised content (Post.HTML), for the Atom feed
	// and clients that show whole posts; "" when the index does not return
	// it (readers then fall back to Snippet). Readers sanitise it again.
	HTML string `json:"html,omitempty"`
}

// SearchResult is one page of search results.
type SearchResult struct {
	Total      uint64      `json:"total"`
	Hits       []SearchHit `json:"hits"`
	NextCursor string      `json:"next_cursor,omitempty"`
	Facets     *Facets     `json:"facets,omitempty"`
}

// DomainStats is one registrable domain (eTLD+1, see hostname.Registrable)
// and its hosts as the crawler knows them: many known hosts with few proven
// ones is the mark of a spam farm, many proven ones that of a hosting
// provider.
type DomainStats struct {
	Domain string
	// Known is the number of hosts under the domain with a stored state.
	Known uint64
	// Proven is the number of those that answered as an instance at least once.
	Proven uint64
	// Capped is the number held back by the crawler's per-domain cap in the
	// pass that last touched them.
	Capped uint64
	// Dead is the number with StatusDead.
	Dead uint64
}
