package store

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/fedilens/fedilens/internal/model"
)

// Migration 70: the links a host's stored posts make to other hosts.
//
// Mentions are already kept as their hosts (posts.mention_hosts). A reply
// keeps the host of the post it answers (reply_host; rows written before
// keep ”, which reads as "no reply link"). Boosts get their own table:
// they are not the author's posts (no text, never indexed), only the
// host-level fact that a consenting author of host boosted a post of
// boosted_host at created, keyed by the boost activity's URI and carrying
// the author's pseudonym, so that the purges of posts (a withdrawal, a
// forget, an opt-out, retention, an undone boost found gone) remove them
// with the same Purge.
//
// post_boosts is ordered by (host, uri): the readers ask for one host's
// boosts, and a boost written twice (a recrawl) collapses to its latest
// version. There is no partition key for the reason posts has none.
var _ = register(migration{
	version: 70,
	name:    "posts reply_host, create post_boosts",
	statements: []string{
		`ALTER TABLE posts ADD COLUMN IF NOT EXISTS reply_host String`,
		`
CREATE TABLE IF NOT EXISTS post_boosts (
    uri          String,
    host         String,
    author_key   String,
    created      DateTime('UTC'),
    boosted_host String,
    source       String,
    fetched      DateTime('UTC'),
    version      UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (host, uri)`,
	},
})

// insertBoostsSQL is the INSERT of post_boosts, with its named columns.
const insertBoostsSQL = `INSERT INTO post_boosts (uri, host, author_key, created, boosted_host, source, fetched, version)`

// linkHost is a host as the link columns keep it: trimmed and lower case
// (the crawler normalises; this only guards against other writers).
func linkHost(h string) string { return strings.ToLower(strings.TrimSpace(h)) }

// InsertBoosts writes boosts in one INSERT: the author as AuthorKey,
// nothing of the boosted post but its host. Boosts are keyed by (host,
// URI): writing one again replaces its row (after FINAL or a merge), and
// the later element wins within one call.
func (s *Store) InsertBoosts(ctx context.Context, boosts []model.Boost) error {
	fetched := toDB(time.Now())
	err := s.insert(ctx, insertBoostsSQL, len(boosts), func(b driver.Batch, i int) error {
		x := &boosts[i]
		return b.Append(x.URI, linkHost(x.Host), s.AuthorKey(x.Author), toDB(x.Created), linkHost(x.BoostedHost),
			x.Source, fetched, s.nextVersion())
	})
	if err != nil {
		return fmt.Errorf("insert %d boosts: %w", len(boosts), err)
	}
	return nil
}

// StoredBoosts returns the URIs of host's stored boosts by author key
// (AuthorKey): the crawler compares them with what an author's complete
// listing still shows, and drops those of authors it can no longer
// recheck. ClickHouse keeps no handles, hence the keys.
func (s *Store) StoredBoosts(ctx context.Context, host string) (map[string][]string, error) {
	out := map[string][]string{}
	err := s.eachRow(ctx, `
SELECT author_key, uri FROM post_boosts
WHERE host = ?
GROUP BY author_key, uri
ORDER BY author_key, uri`, func(r driver.Rows) error {
		var key, uri string
		if err := r.Scan(&key, &uri); err != nil {
			return err
		}
		out[key] = append(out[key], uri)
		return nil
	}, host)
	if err != nil {
		return nil, fmt.Errorf("read stored boosts of %q: %w", host, err)
	}
	return out, nil
}

// BoostMeta is a boost as ClickHouse keeps it.
type BoostMeta struct {
	URI         string
	Host        string
	AuthorKey   string
	Created     time.Time
	BoostedHost string
	Source      string
	Fetched     time.Time
}

// BoostMetas returns the latest row of every stored boost of host (""
// for every host), by URI.
func (s *Store) BoostMetas(ctx context.Context, host string) ([]BoostMeta, error) {
	var out []BoostMeta
	err := s.eachRow(ctx, `
SELECT uri, host, author_key, created, boosted_host, source, fetched
FROM post_boosts FINAL
WHERE ? = '' OR host = ?
ORDER BY uri`, func(r driver.Rows) error {
		var (
			m                BoostMeta
			created, fetched time.Time
		)
		if err := r.Scan(&m.URI, &m.Host, &m.AuthorKey, &created, &m.BoostedHost, &m.Source, &fetched); err != nil {
			return err
		}
		m.Created, m.Fetched = fromDB(created), fromDB(fetched)
		out = append(out, m)
		return nil
	}, host, host)
	if err != nil {
		return nil, fmt.Errorf("read boost metadata: %w", err)
	}
	return out, nil
}

// postLinkRowsSQL turns the posts that pass where (PREWHERE or WHERE on
// the raw columns host and created) into one row per link: each post's
// latest version (FINAL: a post recrawled after an edit counts with its
// current mentions only) is joined with its mention hosts (kind mention)
// and its reply host (kind reply). It yields the post's host src, its
// creation time c, target and kind; links to the post's own host and
// unknown reply hosts (”) are left to the caller's WHERE. A post's host
// and creation time never change between its versions, so conditions on
// them may run before FINAL collapses the versions.
func postLinkRowsSQL(where string) string {
	return `
SELECT host AS src, created AS c, target, kind FROM posts FINAL
ARRAY JOIN arrayConcat(mention_hosts, [reply_host]) AS target,
           arrayConcat(arrayMap(x -> 'mention', mention_hosts), ['reply']) AS kind
` + where
}

// boostLinkRowsSQL is postLinkRowsSQL for post_boosts: one row per
// boost (its latest version), kind boost.
func boostLinkRowsSQL(where string) string {
	return `
SELECT host AS src, created AS c, boosted_host AS target, 'boost' AS kind FROM post_boosts FINAL
` + where
}

// linkFilterSQL keeps the links to another, known host that is not
// opted out (an opted-out instance is left out of everything fedilens
// shows), created within [?, ?].
const linkFilterSQL = `
WHERE target != '' AND target != src AND c >= ? AND c <= ?
  AND target NOT IN (` + liveOptOutsSQL + `)`

// PostLinks returns the hosts that host's stored posts link to, by kind:
// the hosts of the accounts they mention (model.PostLinkMention), of the
// posts they answer (model.PostLinkReply) and of the posts its authors
// boosted (model.PostLinkBoost), each with the number of posts (boosts)
// and the creation times of the first and the last, counting what was
// created at or before t (zero: now). Links to host itself and to
// opted-out hosts are left out; an opted-out host has none. They are
// computed from what is stored when asked, so deletions, withdrawals,
// forgets and expiry show at once. Sorted by target, then kind.
//
// posts is ordered by uri, not by host, but a host's posts are almost all
// under https://host/ and so lie together in that order: the host
// condition runs as PREWHERE, which reads the host column alone and the
// other columns only of the granules holding the host's posts (a host
// with 100,000 of a million posts takes about 0.2 s). post_boosts is
// ordered by host.
func (s *Store) PostLinks(ctx context.Context, host string, t time.Time) ([]model.PostLink, error) {
	var out []model.PostLink
	if host == "" {
		return nil, nil
	}
	var optedOut uint64
	if err := s.conn.QueryRow(ctx, `SELECT count() FROM (`+liveOptOutsSQL+`) WHERE host = ?`, host).Scan(&optedOut); err != nil {
		return nil, fmt.Errorf("get post links of %q: %w", host, err)
	}
	if optedOut > 0 {
		return nil, nil
	}
	until := asOf(t)
	for _, rows := range []string{postLinkRowsSQL("PREWHERE host = ?"), boostLinkRowsSQL("WHERE host = ?")} {
		err := s.eachRow(ctx, `
SELECT target, kind, count(), min(c), max(c) FROM (`+rows+`)`+linkFilterSQL+`
GROUP BY target, kind`, func(r driver.Rows) error {
			l := model.PostLink{Host: host}
			var (
				n           uint64
				first, last time.Time
			)
			if err := r.Scan(&l.Target, &l.Kind, &n, &first, &last); err != nil {
				return err
			}
			l.Count, l.FirstSeen, l.LastSeen = int64(n), fromDB(first), fromDB(last)
			out = append(out, l)
			return nil
		}, host, minTime, until)
		if err != nil {
			return nil, fmt.Errorf("get post links of %q: %w", host, err)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Target != out[j].Target {
			return out[i].Target < out[j].Target
		}
		return out[i].Kind < out[j].Kind
	})
	return out, nil
}

// TopPostLinks returns the n (host, target, kind) links made by the most
// stored posts (or boosts) created between from and to (both included;
// zero from: since the start, zero to: until now), most first, ties by
// host, target and kind; each with its count and the first and last
// creation times within the range. Which of several links tied at the
// n-th place make the cut is arbitrary (by a hash) but stable. Links of
// and to opted-out hosts and links of a host to itself are left out. It
// reads every post of the range: a statistic, not a per-request lookup
// (about 2 s for a million posts holding 1.8 million distinct links on 2
// busy cores).
func (s *Store) TopPostLinks(ctx context.Context, from, to time.Time, n int) ([]model.PostLink, error) {
	if n <= 0 {
		return nil, nil
	}
	lo, hi := toDB(from), asOf(to)
	var out []model.PostLink
	rawRange := "WHERE created >= ? AND created <= ?"
	for _, rows := range []string{postLinkRowsSQL(rawRange), boostLinkRowsSQL(rawRange)} {
		// Grouped by one 64-bit hash of the (host, target, kind) triple:
		// a range may hold millions of pairs, and a UInt64 key aggregates
		// about twice as fast as three strings.
		err := s.eachRow(ctx, `
SELECT any(src), any(target), any(kind), count() AS n, min(c), max(c) FROM (`+rows+`)`+linkFilterSQL+`
  AND src NOT IN (`+liveOptOutsSQL+`)
GROUP BY cityHash64(src, target, kind) AS k
ORDER BY n DESC, k
LIMIT ?`, func(r driver.Rows) error {
			var (
				l           model.PostLink
				c           uint64
				first, last time.Time
			)
			if err := r.Scan(&l.Host, &l.Target, &l.Kind, &c, &first, &last); err != nil {
				return err
			}
			l.Count, l.FirstSeen, l.LastSeen = int64(c), fromDB(first), fromDB(last)
			out = append(out, l)
			return nil
		}, lo, hi, lo, hi, n)
		if err != nil {
			return nil, fmt.Errorf("rank post links: %w", err)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		switch {
		case a.Count != b.Count:
			return a.Count > b.Count
		case a.Host != b.Host:
			return a.Host < b.Host
		case a.Target != b.Target:
			return a.Target < b.Target
		}
		return a.Kind < b.Kind
	})
	if len(out) > n {
		out = out[:n]
	}
	return out, nil
}
