package crawler

import "time"

// timelineStatus is the part of a Mastodon Status that readTimeline reads:
// the local timeline only names authors (their statuses are read, in full,
// per consenting author), so the content, media, mentions, tags and counts
// of up to 4,000 statuses per host are skipped instead of decoded. Members
// it does not read cannot make a page malformed.
type timelineStatus struct {
	ID        string          `json:"id"`
	CreatedAt time.Time       `json:"created_at"`
	Account   mastodonAccount `json:"account"`
}
