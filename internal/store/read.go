package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/fedilens/fedilens/internal/model"
)

// latestSQL has one row per host: its first and last crawl, the number of
// distinct crawls, and the latest snapshot packed into a tuple.
//
// The tuple is not a style choice: argMax skips rows whose first argument
// is NULL (the -Null combinator applies to Nullable arguments), so
// argMax(users_total, crawled_at) would return an older count instead of
// the latest "unknown". A tuple is never NULL, and its Nullable elements
// survive. latest_flags needs no tuple: an Array is never NULL. %s is an
// optional WHERE clause on the raw snapshots.
// Opted-out hosts are left out here, in the one place every census read
// goes through (see liveOptOutsSQL).
const latestSQL = `
SELECT
    host,
    min(crawled_at)       AS first_seen,
    max(crawled_at)       AS last_crawl,
    uniqExact(crawled_at) AS n_snapshots,
    argMax(tuple(software, version, nodeinfo_version, title, open_registrations, private, protocols,
                 users_total, users_active_month, users_active_halfyear, local_posts), crawled_at) AS latest,
    argMax(flags, crawled_at) AS latest_flags
FROM snapshots
%s
GROUP BY host
HAVING host NOT IN (` + liveOptOutsSQL + `)`

// instanceColumns reads latestSQL's rows in the order scanInstance expects.
// users_key orders unknown user counts after every known one, including 0.
const instanceColumns = `
    host,
    last_crawl,
    tupleElement(latest, 1)  AS software,
    tupleElement(latest, 2)  AS sw_version,
    tupleElement(latest, 3)  AS ni_version,
    tupleElement(latest, 4)  AS title,
    tupleElement(latest, 5)  AS open_registrations,
    tupleElement(latest, 6)  AS private,
    tupleElement(latest, 7)  AS protocols,
    tupleElement(latest, 8)  AS users_total,
    tupleElement(latest, 9)  AS users_active_month,
    tupleElement(latest, 10) AS users_active_halfyear,
    tupleElement(latest, 11) AS local_posts,
    first_seen,
    n_snapshots,
    ifNull(tupleElement(latest, 8), -1) AS users_key,
    latest_flags`

type scanner interface {
	Scan(dest ...any) error
}

// scanInstance reads one row of instanceColumns.
func scanInstance(r scanner) (model.Instance, int64, error) {
	var (
		in      model.Instance
		usersK  int64
		crawled time.Time
		first   time.Time
	)
	sn := &in.Snapshot
	err := r.Scan(&sn.Host, &crawled, &sn.Software, &sn.Version, &sn.NodeInfoVersion, &sn.Title,
		&sn.OpenRegistrations, &sn.Private, &sn.Protocols,
		&sn.UsersTotal, &sn.UsersActiveMonth, &sn.UsersActiveHalfyear, &sn.LocalPosts,
		&first, &in.Snapshots, &usersK, &sn.Flags)
	if err != nil {
		return model.Instance{}, 0, err
	}
	sn.CrawledAt = fromDB(crawled)
	sn.Protocols = nilIfEmpty(sn.Protocols)
	sn.Flags = nilIfEmpty(sn.Flags)
	in.FirstSeen = fromDB(first)
	return in, usersK, nil
}

// Listing limits.
const (
	// DefaultLimit is the page size when InstanceQuery.Limit is 0.
	DefaultLimit = 100
	// MaxLimit caps InstanceQuery.Limit.
	MaxLimit = 1000
)

// Instances lists the latest snapshot of each host, filtered by software,
// sorted by users (descending, unknown counts last, ties by host) or by
// host, one page at a time.
//
// Pagination is keyset pagination for both sorts: the cursor holds the last
// row's sort key (users and host, or host), so pages stay stable while new
// snapshots arrive, except that an instance whose user count changes
// between two pages may move past the cursor or appear twice. A cursor is
// only valid with the Sort it was made for. Limit 0 means DefaultLimit,
// larger than MaxLimit means MaxLimit; a negative Limit, an unknown Sort or
// a malformed cursor wrap model.ErrBadQuery.
func (s *Store) Instances(ctx context.Context, q model.InstanceQuery) (model.InstancePage, error) {
	sort := q.Sort
	if sort == "" {
		sort = sortUsers
	}
	if sort != sortUsers && sort != sortHost {
		return model.InstancePage{}, fmt.Errorf("%w: sort must be %q or %q", model.ErrBadQuery, sortUsers, sortHost)
	}
	limit := q.Limit
	switch {
	case limit < 0:
		return model.InstancePage{}, fmt.Errorf("%w: limit must not be negative", model.ErrBadQuery)
	case limit == 0:
		limit = DefaultLimit
	case limit > MaxLimit:
		limit = MaxLimit
	}
	var after cursor
	if q.Cursor != "" {
		c, err := decodeCursor(q.Cursor, sort)
		if err != nil {
			return model.InstancePage{}, err
		}
		after = c
	}

	var (
		where []string
		args  []any
	)
	if sw := strings.ToLower(strings.TrimSpace(q.Software)); sw != "" {
		where = append(where, "software = ?")
		args = append(args, sw)
	}
	flagged, err := flaggedWhere(q.Flagged)
	if err != nil {
		return model.InstancePage{}, err
	}
	if flagged != "" {
		where = append(where, flagged)
	}
	var order string
	switch sort {
	case sortUsers:
		if q.Cursor != "" {
			where = append(where, "(users_key < ? OR (users_key = ? AND host > ?))")
			args = append(args, after.users, after.users, after.host)
		}
		order = "users_key DESC, host ASC"
	case sortHost:
		if q.Cursor != "" {
			where = append(where, "host > ?")
			args = append(args, after.host)
		}
		order = "host ASC"
	}
	query := "SELECT" + instanceColumns + "\nFROM (" + fmt.Sprintf(latestSQL, "") + ")"
	if len(where) > 0 {
		query += "\nWHERE " + strings.Join(where, " AND ")
	}
	query += fmt.Sprintf("\nORDER BY %s\nLIMIT %d", order, limit+1)

	rows, err := s.conn.Query(ctx, query, args...)
	if err != nil {
		return model.InstancePage{}, fmt.Errorf("list instances: %w", err)
	}
	defer rows.Close()
	page := model.InstancePage{Instances: make([]model.Instance, 0, min(limit, 64))}
	var lastUsers int64
	more := false
	for rows.Next() {
		if len(page.Instances) == limit {
			more = true
			break
		}
		in, usersK, err := scanInstance(rows)
		if err != nil {
			return model.InstancePage{}, fmt.Errorf("list instances: %w", err)
		}
		page.Instances = append(page.Instances, in)
		lastUsers = usersK
	}
	if err := rows.Err(); err != nil {
		return model.InstancePage{}, fmt.Errorf("list instances: %w", err)
	}
	if more {
		last := page.Instances[len(page.Instances)-1]
		page.NextCursor = encodeCursor(cursor{sort: sort, users: lastUsers, host: last.Host})
	}
	if err := s.attachInstanceInfo(ctx, page.Instances); err != nil {
		return model.InstancePage{}, fmt.Errorf("list instances: %w", err)
	}
	return page, nil
}

// Instance returns the latest state of host and its history, oldest
// first, one snapshot per crawl. It wraps model.ErrNotFound when the host
// has no snapshot.
func (s *Store) Instance(ctx context.Context, host string) (model.Instance, []model.Snapshot, error) {
	query := "SELECT" + instanceColumns + "\nFROM (" + fmt.Sprintf(latestSQL, "WHERE host = ?") + ")"
	rows, err := s.conn.Query(ctx, query, host)
	if err != nil {
		return model.Instance{}, nil, fmt.Errorf("get instance %q: %w", host, err)
	}
	var (
		in    model.Instance
		found bool
	)
	for rows.Next() {
		if in, _, err = scanInstance(rows); err != nil {
			rows.Close()
			return model.Instance{}, nil, fmt.Errorf("get instance %q: %w", host, err)
		}
		found = true
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return model.Instance{}, nil, fmt.Errorf("get instance %q: %w", host, err)
	}
	if !found {
		return model.Instance{}, nil, fmt.Errorf("get instance %q: %w", host, model.ErrNotFound)
	}
	one := []model.Instance{in}
	if err := s.attachInstanceInfo(ctx, one); err != nil {
		return model.Instance{}, nil, fmt.Errorf("get instance %q: %w", host, err)
	}
	in = one[0]

	history, err := s.history(ctx, host)
	if err != nil {
		return model.Instance{}, nil, fmt.Errorf("get instance %q: %w", host, err)
	}
	return in, history, nil
}

// history reads every snapshot of host, oldest first. LIMIT 1 BY drops
// rows written twice that have not been merged away yet.
func (s *Store) history(ctx context.Context, host string) ([]model.Snapshot, error) {
	rows, err := s.conn.Query(ctx, `
SELECT host, crawled_at, software, version, nodeinfo_version, title, open_registrations, private, protocols,
       users_total, users_active_month, users_active_halfyear, local_posts, flags, `+instanceInfoColumns+`
FROM snapshots
WHERE host = ?
ORDER BY crawled_at
LIMIT 1 BY crawled_at`, host)
	if err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	defer rows.Close()
	var out []model.Snapshot
	for rows.Next() {
		var (
			sn      model.Snapshot
			crawled time.Time
		)
		if err := rows.Scan(append([]any{&sn.Host, &crawled, &sn.Software, &sn.Version, &sn.NodeInfoVersion, &sn.Title,
			&sn.OpenRegistrations, &sn.Private, &sn.Protocols,
			&sn.UsersTotal, &sn.UsersActiveMonth, &sn.UsersActiveHalfyear, &sn.LocalPosts, &sn.Flags},
			instanceInfoDest(&sn)...)...); err != nil {
			return nil, fmt.Errorf("read history: %w", err)
		}
		fixInstanceInfo(&sn)
		sn.CrawledAt = fromDB(crawled)
		sn.Protocols = nilIfEmpty(sn.Protocols)
		sn.Flags = nilIfEmpty(sn.Flags)
		out = append(out, sn)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	return out, nil
}

// Summary returns the clean headline numbers: SummaryWith without the
// instances whose latest figures are suspect.
func (s *Store) Summary(ctx context.Context) (model.Summary, error) {
	return s.SummaryWith(ctx, model.StatsOptions{})
}

// SummaryWith returns the census's headline numbers over the latest
// snapshot of every host, leaving out those with a suspect sanity flag
// unless opts.IncludeFlagged (Flagged counts them either way). Unknown
// counts add nothing; Softwares ignores instances whose software is
// unknown; LastCrawl, over every host, is zero when nothing was crawled.
func (s *Store) SummaryWith(ctx context.Context, opts model.StatsOptions) (model.Summary, error) {
	var (
		sum  model.Summary
		last time.Time
	)
	keep := keepCond(opts)
	err := s.conn.QueryRow(ctx, `
SELECT
    countIf(`+keep+`),
    sumIf(ifNull(tupleElement(latest, 8), 0), `+keep+`),
    sumIf(ifNull(tupleElement(latest, 9), 0), `+keep+`),
    sumIf(ifNull(tupleElement(latest, 10), 0), `+keep+`),
    sumIf(ifNull(tupleElement(latest, 11), 0), `+keep+`),
    uniqExactIf(tupleElement(latest, 1), tupleElement(latest, 1) != '' AND `+keep+`),
    max(last_crawl),
    countIf(`+suspectCond+`)
FROM (`+fmt.Sprintf(latestSQL, "")+`)`).Scan(
		&sum.Instances, &sum.UsersTotal, &sum.UsersActiveMonth, &sum.UsersActiveHalfyear, &sum.LocalPosts,
		&sum.Softwares, &last, &sum.Flagged)
	if err != nil {
		return model.Summary{}, fmt.Errorf("summarise census: %w", err)
	}
	sum.LastCrawl = fromDB(last)
	if sum.IndexedPosts, err = s.PostCount(ctx); err != nil {
		return model.Summary{}, fmt.Errorf("summarise census: %w", err)
	}
	return sum, nil
}

// SoftwareShare is the clean software share: SoftwareShareWith without
// the instances whose latest figures are suspect.
func (s *Store) SoftwareShare(ctx context.Context) ([]model.SoftwareShare, error) {
	return s.SoftwareShareWith(ctx, model.StatsOptions{})
}

// SoftwareShareWith groups the latest snapshot of every host by software,
// by number of instances (descending, ties by name), leaving out those
// with a suspect sanity flag unless opts.IncludeFlagged. Instances whose
// software is unknown form the group "".
func (s *Store) SoftwareShareWith(ctx context.Context, opts model.StatsOptions) ([]model.SoftwareShare, error) {
	rows, err := s.conn.Query(ctx, `
SELECT
    tupleElement(latest, 1) AS sw,
    count() AS instances,
    sum(ifNull(tupleElement(latest, 8), 0)) AS users,
    sum(ifNull(tupleElement(latest, 9), 0)) AS active
FROM (`+fmt.Sprintf(latestSQL, "")+`)
WHERE `+keepCond(opts)+`
GROUP BY sw
ORDER BY instances DESC, sw ASC`)
	if err != nil {
		return nil, fmt.Errorf("compute software share: %w", err)
	}
	defer rows.Close()
	var out []model.SoftwareShare
	for rows.Next() {
		var sh model.SoftwareShare
		if err := rows.Scan(&sh.Software, &sh.Instances, &sh.UsersTotal, &sh.ActiveMonth); err != nil {
			return nil, fmt.Errorf("compute software share: %w", err)
		}
		out = append(out, sh)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("compute software share: %w", err)
	}
	return out, nil
}

// InstancesOverTime is the clean count of instances over time:
// InstancesOverTimeWith without suspect snapshots.
func (s *Store) InstancesOverTime(ctx context.Context) ([]model.DayCount, error) {
	return s.InstancesOverTimeWith(ctx, model.StatsOptions{})
}

// InstancesOverTimeWith counts, for every UTC day with a crawl, the
// distinct hosts that have a snapshot that day, oldest day first. Unless
// opts.IncludeFlagged, a host counts on a day only with a snapshot that
// has no suspect sanity flag (a day whose every snapshot is suspect has a
// count of 0).
func (s *Store) InstancesOverTimeWith(ctx context.Context, opts model.StatsOptions) ([]model.DayCount, error) {
	keep := "1"
	if !opts.IncludeFlagged {
		keep = "NOT hasAny(flags, " + suspectSQL + ")"
	}
	rows, err := s.conn.Query(ctx, `
SELECT toDate(crawled_at) AS day, uniqExactIf(host, `+keep+`) AS hosts
FROM snapshots
WHERE host NOT IN (`+liveOptOutsSQL+`)
GROUP BY day
ORDER BY day`)
	if err != nil {
		return nil, fmt.Errorf("count instances over time: %w", err)
	}
	defer rows.Close()
	var out []model.DayCount
	for rows.Next() {
		var (
			day time.Time
			n   uint64
		)
		if err := rows.Scan(&day, &n); err != nil {
			return nil, fmt.Errorf("count instances over time: %w", err)
		}
		y, m, d := day.Date()
		out = append(out, model.DayCount{Day: time.Date(y, m, d, 0, 0, 0, 0, time.UTC), Count: n})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count instances over time: %w", err)
	}
	return out, nil
}

// PostCount is the number of distinct post URIs stored. It counts URIs
// rather than rows, so it is exact before duplicate rows are merged away.
func (s *Store) PostCount(ctx context.Context) (uint64, error) {
	var n uint64
	if err := s.conn.QueryRow(ctx, "SELECT uniqExact(uri) FROM posts").Scan(&n); err != nil {
		return 0, fmt.Errorf("count posts: %w", err)
	}
	return n, nil
}

// PostURIs returns the URI of every stored post, sorted: for comparing the
// store with the index, purges and reindexing.
func (s *Store) PostURIs(ctx context.Context) ([]string, error) {
	rows, err := s.conn.Query(ctx, "SELECT DISTINCT uri FROM posts ORDER BY uri")
	if err != nil {
		return nil, fmt.Errorf("list posts: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, fmt.Errorf("list posts: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list posts: %w", err)
	}
	return out, nil
}

// HostStates returns the latest state of every host, by host. FINAL
// collapses the upserts that have not been merged yet.
func (s *Store) HostStates(ctx context.Context) ([]model.HostState, error) {
	rows, err := s.conn.Query(ctx, `
SELECT host, status, reason, software, last_attempt, last_success, next_due, failures, discovered_from, first_seen,
       nodeinfo_etag, nodeinfo_last_modified, nodeinfo_fresh_until, peers_fresh_until
FROM host_states FINAL
ORDER BY host`)
	if err != nil {
		return nil, fmt.Errorf("read host states: %w", err)
	}
	defer rows.Close()
	var out []model.HostState
	for rows.Next() {
		var (
			h                         model.HostState
			status                    string
			attempt, success, nextDue time.Time
			firstSeen                 time.Time
			niFresh, peersFresh       time.Time
		)
		if err := rows.Scan(&h.Host, &status, &h.Reason, &h.Software, &attempt, &success, &nextDue,
			&h.Failures, &h.DiscoveredFrom, &firstSeen,
			&h.NodeInfoETag, &h.NodeInfoLastModified, &niFresh, &peersFresh); err != nil {
			return nil, fmt.Errorf("read host states: %w", err)
		}
		h.Status = model.HostStatus(status)
		h.LastAttempt, h.LastSuccess, h.NextDue = fromDB(attempt), fromDB(success), fromDB(nextDue)
		h.FirstSeen = fromDB(firstSeen)
		h.NodeInfoFreshUntil, h.PeersFreshUntil = fromDB(niFresh), fromDB(peersFresh)
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read host states: %w", err)
	}
	return out, nil
}
