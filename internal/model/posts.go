package model

import "time"

// The post sources: where a post was read. A host is read through at most
// one source per pass (the best its software offers).
const (
	SourceMastodon    = "mastodon"    // Mastodon API: directory, account statuses, local timeline
	SourceActivityPub = "activitypub" // actors and paged outboxes
	SourceMisskey     = "misskey"     // Misskey API: users, users/notes
	SourceLemmy       = "lemmy"       // Lemmy API: post/list, comment/list
	SourcePeerTube    = "peertube"    // PeerTube API: videos
)

// Post access verdicts: what a host's posts crawl came to (PostVisit.Access).
const (
	PostAccessOK                = "ok"
	PostAccessSignatureRequired = "signature_required" // authorized fetch: 401 to unsigned requests
	PostAccessDisallowed        = "disallowed"         // robots.txt disallows the paths a source uses
	PostAccessPrivate           = "private"            // NodeInfo metadata.private
	PostAccessOptedOut          = "opted_out"          // denylist or opt-out list
	PostAccessUnsupported       = "unsupported"        // no source for the software
	PostAccessNoOptIn           = "no_opt_in"          // the software has no indexable flag, and no opt-in word is configured
	PostAccessRefused           = "refused"            // the endpoint is switched off (404, 401 on a public API, 403)
	PostAccessFailed            = "failed"             // network or server errors
)

// AuthorState is the consent verdict of one author at one check. A
// withdrawn consent (Consents false) purges every stored post of the
// author from the index and the store in the same flush.
type AuthorState struct {
	Author  string // user@host, lower case
	Host    string
	Actor   string // ActivityPub actor URI, when known
	Consent bool
	// Reason is the consent.Reason when Consent is false.
	Reason  string
	Checked time.Time
}

// PostCursor is where the next incremental read of one account (or of the
// whole host, Account "") from one source starts: since_id, the newest
// outbox item seen, a page link, or a published time, as the source
// encodes it. Cursors are opaque outside the source that wrote them.
type PostCursor struct {
	Host    string
	Account string // user@host, or "" for host-wide cursors (timelines)
	Source  string
	Cursor  string
	// Revalidated is when the account's stored posts were last listed in
	// full and compared with what is stored (the slow revalidation).
	Revalidated time.Time
	Updated     time.Time
	// AccountKey is the pseudonym of Account (store.Store.AuthorKey): the
	// store keeps no raw handles, so cursors read back carry only the key.
	// On writes it wins over Account when set.
	AccountKey string
}

// PostVisit is what one visit learned about a host's posts, besides the
// posts themselves.
type PostVisit struct {
	Host   string
	Source string // "" when no source applies
	Access string // PostAccess*
	// Authors are the authors whose consent was checked in this visit,
	// consenting or not. Posts are only stored for consenting ones; every
	// stored post of an author listed with Consent false is purged.
	Authors []AuthorState
	// Gone are URIs of stored posts found deleted at the source (404, 410,
	// Tombstone, Delete activity): purged from the index and the store.
	// Boosts found undone, and stored boosts whose author this visit could
	// not recheck, are listed here too (by their activity URI).
	Gone []string
	// Boosts are the public boosts of the consenting authors read in this
	// visit, where the source lists them without extra requests.
	Boosts []Boost
	// Cursors replace the stored cursors of the same (host, account, source).
	Cursors []PostCursor
	// Skipped counts the posts and accounts not stored, by reason
	// (consent.Reason values, plus "not_local", "invalid", ...).
	Skipped map[string]int
	// Requests is the number of requests the posts crawl made.
	Requests int
}

// PurgeScope says what a Forget removes: one author, or a whole host.
type PurgeScope struct {
	Author string // user@host; "" with Host set means the whole host
	Host   string
}

// HostPostAccess is what one visit's posts crawl of a host came to; the
// instance API shows the latest.
type HostPostAccess struct {
	Host     string
	Crawled  time.Time
	Source   string // Source*, "" when none applied
	Access   string // PostAccess*
	Requests int
	// Skipped counts the posts and accounts not stored, by reason.
	Skipped map[string]int
}

// Kinds of the links a host's stored posts make to other hosts
// (PostLink.Kind).
const (
	// PostLinkMention: a post mentions an account of the target host.
	PostLinkMention = "mention"
	// PostLinkReply: a post answers a post of the target host.
	PostLinkReply = "reply"
	// PostLinkBoost: an author boosted a post of the target host.
	PostLinkBoost = "boost"
)

// Boost is one public boost (a reblog, an ActivityPub Announce, a Misskey
// renote) by a consenting author, reduced to host-level facts: who
// boosted is kept only as the author's pseudonym in ClickHouse, and the
// boosted post's content is never read or kept. Boosts follow their
// author's consent like posts: a withdrawal, a forget, an opt-out of the
// instance or the retention limit purges them.
type Boost struct {
	// URI is the boost activity's own id (the Announce's id, the renote
	// note's URI), on the booster's host: the key of undo and purge.
	URI string
	// Host is the booster's instance.
	Host string
	// Author is the booster as user@host, lower case. It is personal data:
	// the store keeps only its pseudonym.
	Author string
	// Created is when the boost was published.
	Created time.Time
	// BoostedHost is the instance of the boosted post, lower case.
	BoostedHost string
	// Source is the PostSource that read the boost (SourceActivityPub, ...).
	Source string
}

// PostLink is a link from one host to another made by the stored posts
// of the first: its posts mention accounts of the target, answer its
// posts, or its authors boost them. Links are computed from what is
// stored when they are asked for, so deleted, withdrawn, forgotten and
// expired posts and boosts no longer count.
type PostLink struct {
	// Host is the host whose posts (or boosts) make the link.
	Host string
	// Target is the other host.
	Target string
	// Kind is PostLinkMention, PostLinkReply or PostLinkBoost.
	Kind string
	// Count is the number of stored posts (for a boost: boosts) that make
	// the link.
	Count int64
	// FirstSeen and LastSeen are the creation times of the oldest and the
	// newest of them.
	FirstSeen, LastSeen time.Time
}
