package store

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/fedilens/fedilens/internal/model"
)

// The INSERT statements, each with its named column list.
const (
	insertSnapshotsSQL  = `INSERT INTO snapshots (` + snapshotColumns + `)`
	insertHostStatesSQL = `INSERT INTO host_states (host, status, reason, software, last_attempt, last_success,
    next_due, failures, discovered_from, version, first_seen, domain,
    nodeinfo_etag, nodeinfo_last_modified, nodeinfo_fresh_until, peers_fresh_until)`
	insertPostsSQL = `INSERT INTO posts (uri, host, author, author_key, created, language, tags, sensitive, has_summary,
    replies, reblogs, favourites, version, kind, source, mention_hosts, has_alt_text, in_reply_to, links, fetched, reply_host)`
)

// InsertSnapshots writes snapshots in one INSERT, then the same rows to
// instances_latest (latest.go), then marks the days already rolled up that
// they belong to for a redo (daily.go). Writing the same (host,
// crawled_at) twice is harmless: reads take one row per crawl.
func (s *Store) InsertSnapshots(ctx context.Context, snaps []model.Snapshot) error {
	err := s.insert(ctx, insertSnapshotsSQL, len(snaps), func(b driver.Batch, i int) error {
		return b.Append(snapshotRow(&snaps[i])...)
	})
	if err != nil {
		return fmt.Errorf("insert %d snapshots: %w", len(snaps), err)
	}
	err = s.insert(ctx, insertLatestSQL, len(snaps), func(b driver.Batch, i int) error {
		return b.Append(snapshotRow(&snaps[i])...)
	})
	if err != nil {
		return fmt.Errorf("insert %d snapshots into instances_latest: %w", len(snaps), err)
	}
	if err := s.markLateDays(ctx, snaps); err != nil {
		return fmt.Errorf("insert %d snapshots: %w", len(snaps), err)
	}
	if err := s.rememberSnapshotHosts(ctx, snaps); err != nil {
		return fmt.Errorf("insert %d snapshots: %w", len(snaps), err)
	}
	return nil
}

// UpsertHostStates writes host states in one INSERT. Each row gets a new
// ReplacingMergeTree version, so the latest upsert of a host wins, also
// within one call (the later element of states).
func (s *Store) UpsertHostStates(ctx context.Context, states []model.HostState) error {
	err := s.insert(ctx, insertHostStatesSQL, len(states), func(b driver.Batch, i int) error {
		h := &states[i]
		return b.Append(h.Host, string(h.Status), h.Reason, h.Software, toDB(h.LastAttempt), toDB(h.LastSuccess),
			toDB(h.NextDue), h.Failures, h.DiscoveredFrom, s.nextVersion(), toDB(h.FirstSeen), hostDomain(h.Host),
			h.NodeInfoETag, h.NodeInfoLastModified, toDB(h.NodeInfoFreshUntil), toDB(h.PeersFreshUntil))
	})
	if err != nil {
		return fmt.Errorf("upsert %d host states: %w", len(states), err)
	}
	return nil
}

// InsertPosts writes post metadata (never Text, HTML, Summary, AltText,
// links, the author's handle or display name: the author as AuthorKey,
// mentions as their hosts) in one INSERT. Posts are keyed by URI:
// ingesting a URI again replaces its row (after FINAL or a merge), and the
// later element wins within one call.
func (s *Store) InsertPosts(ctx context.Context, posts []model.Post) error {
	fetched := time.Now()
	err := s.insert(ctx, insertPostsSQL, len(posts), func(b driver.Batch, i int) error {
		return s.insertPostRow(b, &posts[i], fetched)
	})
	if err != nil {
		return fmt.Errorf("insert %d posts: %w", len(posts), err)
	}
	return nil
}

// Deleting posts.
const (
	// deleteChunkBytes bounds the URIs of one mutation, well below the
	// server's max_query_size (256 KiB by default).
	deleteChunkBytes = 128 << 10
	// mutationWait bounds the wait for a delete when ctx has no deadline.
	mutationWait = 2 * time.Minute
)

// DeletePosts removes posts by URI with ALTER TABLE ... DELETE mutations
// (one per 128 KiB of URIs) and waits until ClickHouse reports them done
// (see PurgePosts, which it calls). Mutations rewrite data parts, so
// callers should collect deletions and call this rarely with many URIs
// rather than often with one. Unknown URIs are fine.
func (s *Store) DeletePosts(ctx context.Context, uris []string) error {
	if _, err := s.PurgePosts(ctx, Purge{URIs: uris}); err != nil {
		return fmt.Errorf("delete posts: %w", err)
	}
	return nil
}

// waitMutations polls until no mutation of table is pending.
func (s *Store) waitMutations(ctx context.Context, table string) error {
	ctx, cancel := context.WithTimeout(ctx, mutationWait)
	defer cancel()
	delay := 10 * time.Millisecond
	for {
		var pending uint64
		err := s.conn.QueryRow(ctx,
			"SELECT count() FROM system.mutations WHERE database = ? AND table = ? AND is_done = 0",
			s.database, table).Scan(&pending)
		if err != nil {
			return fmt.Errorf("wait for %s mutations: %w", table, err)
		}
		if pending == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s mutations (%d pending; they continue in the background): %w", table, pending, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(2*delay, 500*time.Millisecond)
	}
}

// nonNil turns nil into an empty slice for Array columns.
func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}
