package api

import (
	"time"

	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/sanity"
)

// The wire types. model's types carry no JSON tags (they are shared with
// the store and the crawler); the API owns its field names here so that a
// refactoring elsewhere cannot silently change the public format.

// timestamp marshals as RFC 3339 in UTC, or null for the zero time
// ("never"), so clients need not know Go's zero date.
type timestamp time.Time

// MarshalJSON implements json.Marshaler.
func (t timestamp) MarshalJSON() ([]byte, error) {
	tt := time.Time(t)
	if tt.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + tt.UTC().Format(time.RFC3339) + `"`), nil
}

// snapshotJSON is one observation of an instance. Optional counts are
// pointers: null means the instance did not publish the number.
type snapshotJSON struct {
	Host                string    `json:"host"`
	CrawledAt           timestamp `json:"crawled_at"`
	Software            string    `json:"software"`
	Version             string    `json:"version"`
	NodeInfoVersion     string    `json:"nodeinfo_version"`
	Title               string    `json:"title"`
	OpenRegistrations   bool      `json:"open_registrations"`
	Private             bool      `json:"private"`
	Protocols           []string  `json:"protocols"`
	UsersTotal          *int64    `json:"users_total"`
	UsersActiveMonth    *int64    `json:"users_active_month"`
	UsersActiveHalfyear *int64    `json:"users_active_halfyear"`
	LocalPosts          *int64    `json:"local_posts"`
	// Flags is the sanity verdict on the counts (never null), and Suspect
	// whether it leaves them out of the clean statistics.
	Flags   []string `json:"flags"`
	Suspect bool     `json:"suspect"`
	// InstanceDocument is absent when no instance document was read.
	InstanceDocument *instanceDocJSON `json:"instance_document,omitempty"`
}

func newSnapshotJSON(s model.Snapshot) snapshotJSON {
	protocols := s.Protocols
	if protocols == nil {
		protocols = []string{}
	}
	return snapshotJSON{
		Host:                s.Host,
		CrawledAt:           timestamp(s.CrawledAt),
		Software:            s.Software,
		Version:             s.Version,
		NodeInfoVersion:     s.NodeInfoVersion,
		Title:               s.Title,
		OpenRegistrations:   s.OpenRegistrations,
		Private:             s.Private,
		Protocols:           protocols,
		UsersTotal:          s.UsersTotal,
		UsersActiveMonth:    s.UsersActiveMonth,
		UsersActiveHalfyear: s.UsersActiveHalfyear,
		LocalPosts:          s.LocalPosts,
		Flags:               flagsJSON(s.Flags),
		Suspect:             sanity.Suspect(s.Flags),
		InstanceDocument:    newInstanceDocJSON(s),
	}
}

// instanceJSON is the latest state of an instance: its latest snapshot's
// fields plus what the store knows across snapshots.
type instanceJSON struct {
	snapshotJSON
	FirstSeen timestamp `json:"first_seen"`
	Snapshots uint64    `json:"snapshots"`
	// PeerCount and BlockCount are the sizes of the latest peer list and
	// public domain-block list read (null: none was ever read).
	PeerCount  *int64 `json:"peer_count" doc:"Hosts in the latest peer list read; null when none was read."`
	BlockCount *int64 `json:"block_count" doc:"Domains in the latest public domain-block list read; null when none was read."`
}

func newInstanceJSON(in model.Instance) instanceJSON {
	return instanceJSON{
		snapshotJSON: newSnapshotJSON(in.Snapshot),
		FirstSeen:    timestamp(in.FirstSeen),
		Snapshots:    in.Snapshots,
		PeerCount:    in.PeerCount,
		BlockCount:   in.BlockCount,
	}
}

type instancesJSON struct {
	Instances  []instanceJSON `json:"instances"`
	NextCursor string         `json:"next_cursor,omitempty"`
}

type instanceDetailJSON struct {
	Instance instanceJSON   `json:"instance"`
	History  []snapshotJSON `json:"history"`
	Peers    []string       `json:"peers"`
	// Posts is the latest posts crawl of the instance; absent when its
	// posts were never crawled.
	Posts *postAccessJSON `json:"posts,omitempty"`
}

// postAccessJSON is what the latest posts crawl of an instance came to:
// access is ok, signature_required, disallowed, private, opted_out,
// unsupported, no_opt_in, refused or failed; skipped counts what was not stored, by
// reason.
type postAccessJSON struct {
	Crawled  time.Time      `json:"crawled"`
	Source   string         `json:"source,omitempty"`
	Access   string         `json:"access"`
	Requests int            `json:"requests"`
	Skipped  map[string]int `json:"skipped"`
}

func newPostAccessJSON(pa model.HostPostAccess) *postAccessJSON {
	skipped := pa.Skipped
	if skipped == nil {
		skipped = map[string]int{}
	}
	return &postAccessJSON{Crawled: pa.Crawled.UTC(), Source: pa.Source, Access: pa.Access, Requests: pa.Requests, Skipped: skipped}
}

// summaryJSON is the headline numbers of one day (Day, null when there is
// no data), under the filters of the request; IndexedPosts and LastCrawl
// are the whole store's.
type summaryJSON struct {
	Instances           uint64    `json:"instances"`
	UsersTotal          int64     `json:"users_total"`
	UsersActiveMonth    int64     `json:"users_active_month"`
	UsersActiveHalfyear int64     `json:"users_active_halfyear"`
	LocalPosts          int64     `json:"local_posts"`
	Softwares           uint64    `json:"softwares"`
	IndexedPosts        uint64    `json:"indexed_posts"`
	LastCrawl           timestamp `json:"last_crawl"`
	// FlaggedInstances is how many instances have suspect figures;
	// IncludeFlagged says whether the numbers above include them.
	FlaggedInstances uint64  `json:"flagged_instances"`
	IncludeFlagged   bool    `json:"include_flagged"`
	Day              *string `json:"day" doc:"The UTC day (YYYY-MM-DD) the figures are of: to, or the latest day with data; null when there is none."`
}

// dayCountJSON is a count for one UTC day (YYYY-MM-DD).
type dayCountJSON struct {
	Day   string `json:"day"`
	Count uint64 `json:"count"`
}

// instancesDayJSON is the number of instances of one interval: on Day,
// its last day with data.
type instancesDayJSON struct {
	Period string `json:"period" doc:"First day of the interval (YYYY-MM-DD)."`
	Day    string `json:"day" doc:"The interval's last day with data (YYYY-MM-DD), whose instances are counted."`
	Count  uint64 `json:"count"`
}
