package model

import "time"

// Domain-block severities as stored, the same for every program: the
// store compares lists across Mastodon, Pleroma/Akkoma and Lemmy.
const (
	// SeveritySuspend: no federation at all (Mastodon suspend, Pleroma
	// reject, Lemmy blocked).
	SeveritySuspend = "suspend"
	// SeveritySilence: hidden from public timelines and follows need
	// approval (Mastodon silence).
	SeveritySilence = "silence"
	// SeverityLimit: a narrower restriction (media removal, NSFW marking,
	// federated timeline removal, followers-only, quarantine).
	SeverityLimit = "limit"
	// SeverityNoop: listed without a restriction (Mastodon noop, e.g.
	// only reports rejected).
	SeverityNoop = "noop"
)

// Where a domain-block list was read.
const (
	BlockSourceMastodon  = "mastodon_api" // GET /api/v1/instance/domain_blocks
	BlockSourceMRFSimple = "mrf_simple"   // Pleroma/Akkoma NodeInfo metadata.federation
	BlockSourceLemmy     = "lemmy"        // GET /api/v3/federated_instances "blocked"
)

// DomainBlock is one entry of an instance's public domain-block list.
type DomainBlock struct {
	// Domain as served: a host name, a wildcard ("*.example.com"), or a
	// name obfuscated with '*' (Mastodon's "exa**le.com"), which only its
	// Digest identifies.
	Domain string
	// Digest is the SHA-256 of the real domain in hex where the server
	// gives it (Mastodon), else "".
	Digest string
	// Severity is one of the Severity constants.
	Severity string
	// Reason is the public comment, plain text ("" for none).
	Reason string
	// Source is one of the BlockSource constants.
	Source string
}

// Blocks is an instance's public domain-block list as read by one crawl.
type Blocks struct {
	Host      string
	CrawledAt time.Time
	// Blocks is sorted by Domain, one entry per domain.
	Blocks []DomainBlock
	// Capped says the served list was longer than the crawler keeps; the
	// entries past the cap are not in Blocks.
	Capped bool
}

// PeerLink is one peer of an instance with when it was first and last
// seen in the instance's published list.
type PeerLink struct {
	Peer      string
	FirstSeen time.Time
	// LastSeen is the last crawl that read the list while it held the
	// peer, or when it was found gone.
	LastSeen time.Time
	// Present says the peer is in the list at the time asked about.
	Present bool
}

// HostCount is a host with a count (most-peered, most-blocked rankings).
type HostCount struct {
	Host  string
	Count int64
}

// BlockedDomain is a domain with the number of instances that block it,
// split by severity.
type BlockedDomain struct {
	Domain   string
	Blockers int64
	// BySeverity counts the blockers per severity.
	BySeverity map[string]int64
}

// ReasonCount is a public block reason with how many blocks give it.
type ReasonCount struct {
	Reason string
	Count  int64
}

// Blocker is an instance that blocks a domain.
type Blocker struct {
	Host     string
	Severity string
	Reason   string
	// Since is when the block was first seen with this severity.
	Since time.Time
}
