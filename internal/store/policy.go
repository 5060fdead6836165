package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/fedilens/fedilens/internal/model"
)

// Migration 6: the operator's controls. Both tables are keyed by host
// alone and replaced by version, so they stay as small as the number of
// distinct hosts ever opted out or submitted.
//
// An opt-out is never deleted: removing it writes a newer row with
// removed = 1, so the history of an admin's requests survives merges of
// unrelated parts and a removal is an ordinary insert (no mutation).
var _ = register(migration{
	version: 6,
	name:    "create optouts and submissions",
	statements: []string{`
CREATE TABLE IF NOT EXISTS optouts (
    host     String,
    reason   String,
    added_at DateTime('UTC'),
    removed  UInt8,
    version  UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY host`, `
CREATE TABLE IF NOT EXISTS submissions (
    host         String,
    submitted_at DateTime('UTC'),
    client_hash  String,
    version      UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY host`},
})

// liveOptOutsSQL selects the hosts whose latest opt-out row is not a
// removal. It groups instead of using FINAL because older servers may
// move the removed = 0 condition into PREWHERE, before FINAL collapses
// the rows, and would then resurrect a removed opt-out. It is spliced into
// the census reads (latestSQL), so it must not contain a '%'.
const liveOptOutsSQL = `SELECT host FROM optouts GROUP BY host HAVING argMax(removed, version) = 0`

// The INSERT statements of the operator's controls.
const (
	insertOptOutSQL     = `INSERT INTO optouts (host, reason, added_at, removed, version)`
	insertSubmissionSQL = `INSERT INTO submissions (host, submitted_at, client_hash, version)`
)

// MaxSubmissionsPage caps one read of Submissions.
const MaxSubmissionsPage = 10_000

// AddOptOut records (or re-records, with a new reason) an opt-out. Host
// must already be normalised; a zero AddedAt means now.
func (s *Store) AddOptOut(ctx context.Context, o model.OptOut) error {
	if strings.TrimSpace(o.Host) == "" {
		return fmt.Errorf("add opt-out: %w: empty host", model.ErrBadQuery)
	}
	at := o.AddedAt
	if at.IsZero() {
		at = time.Now()
	}
	err := s.insert(ctx, insertOptOutSQL, 1, func(b driver.Batch, _ int) error {
		return b.Append(o.Host, o.Reason, toDB(at), uint8(0), s.nextVersion())
	})
	if err != nil {
		return fmt.Errorf("add opt-out of %s: %w", o.Host, err)
	}
	return nil
}

// RemoveOptOut lifts the opt-out of host. It wraps model.ErrNotFound when
// host is not on the list, so a typo is reported instead of ignored.
func (s *Store) RemoveOptOut(ctx context.Context, host string) error {
	var n uint64
	if err := s.conn.QueryRow(ctx, `SELECT count() FROM (`+liveOptOutsSQL+`) WHERE host = ?`, host).Scan(&n); err != nil {
		return fmt.Errorf("remove opt-out of %s: %w", host, err)
	}
	if n == 0 {
		return fmt.Errorf("remove opt-out of %s: %w", host, model.ErrNotFound)
	}
	err := s.insert(ctx, insertOptOutSQL, 1, func(b driver.Batch, _ int) error {
		return b.Append(host, "", toDB(time.Now()), uint8(1), s.nextVersion())
	})
	if err != nil {
		return fmt.Errorf("remove opt-out of %s: %w", host, err)
	}
	return nil
}

// OptOuts returns the opt-outs in force, by host.
func (s *Store) OptOuts(ctx context.Context) ([]model.OptOut, error) {
	rows, err := s.conn.Query(ctx, `
SELECT host, argMax(reason, version), argMax(added_at, version)
FROM optouts
GROUP BY host
HAVING argMax(removed, version) = 0
ORDER BY host`)
	if err != nil {
		return nil, fmt.Errorf("read opt-outs: %w", err)
	}
	defer rows.Close()
	var out []model.OptOut
	for rows.Next() {
		var (
			o  model.OptOut
			at time.Time
		)
		if err := rows.Scan(&o.Host, &o.Reason, &at); err != nil {
			return nil, fmt.Errorf("read opt-outs: %w", err)
		}
		o.AddedAt = fromDB(at)
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read opt-outs: %w", err)
	}
	return out, nil
}

// OptedOutPostURIs returns the URIs of the stored posts of opted-out
// hosts, sorted: what a purge must remove from the index and the store.
// The host list stays on the server, however long it is. The URIs of
// their stored boosts (post_boosts) are in the list too: DeletePosts
// removes those with the posts, and the index has none of them.
func (s *Store) OptedOutPostURIs(ctx context.Context) ([]string, error) {
	rows, err := s.conn.Query(ctx, `SELECT uri FROM (
    SELECT uri FROM posts WHERE host IN (`+liveOptOutsSQL+`)
    UNION ALL
    SELECT uri FROM post_boosts WHERE host IN (`+liveOptOutsSQL+`)
) GROUP BY uri ORDER BY uri`)
	if err != nil {
		return nil, fmt.Errorf("list posts of opted-out hosts: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, fmt.Errorf("list posts of opted-out hosts: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list posts of opted-out hosts: %w", err)
	}
	return out, nil
}

// AddSubmission records a host submitted through the API. Submitting a
// host again replaces its row: the table keeps the latest submission of
// each host. A zero SubmittedAt means now.
func (s *Store) AddSubmission(ctx context.Context, sub model.Submission) error {
	if strings.TrimSpace(sub.Host) == "" {
		return fmt.Errorf("add submission: %w: empty host", model.ErrBadQuery)
	}
	at := sub.SubmittedAt
	if at.IsZero() {
		at = time.Now()
	}
	err := s.insert(ctx, insertSubmissionSQL, 1, func(b driver.Batch, _ int) error {
		return b.Append(sub.Host, toDB(at), sub.ClientHash, s.nextVersion())
	})
	if err != nil {
		return fmt.Errorf("add submission of %s: %w", sub.Host, err)
	}
	return nil
}

// Submissions returns the submitted hosts after the keyset position
// (after.SubmittedAt, after.Host), in that order, at most limit of them
// (0 or more than MaxSubmissionsPage means MaxSubmissionsPage). Each host
// appears once, with its latest submission time; pass the last element
// back as after to read the next page. The zero after reads from the start.
func (s *Store) Submissions(ctx context.Context, after model.Submission, limit int) ([]model.Submission, error) {
	if limit <= 0 || limit > MaxSubmissionsPage {
		limit = MaxSubmissionsPage
	}
	at := toDB(after.SubmittedAt)
	rows, err := s.conn.Query(ctx, fmt.Sprintf(`
SELECT host, max(submitted_at) AS sub_at, argMax(client_hash, version)
FROM submissions
WHERE submitted_at >= ?
GROUP BY host
HAVING sub_at > ? OR (sub_at = ? AND host > ?)
ORDER BY sub_at, host
LIMIT %d`, limit), at, at, at, after.Host)
	if err != nil {
		return nil, fmt.Errorf("read submissions: %w", err)
	}
	defer rows.Close()
	var out []model.Submission
	for rows.Next() {
		var (
			sub model.Submission
			t   time.Time
		)
		if err := rows.Scan(&sub.Host, &t, &sub.ClientHash); err != nil {
			return nil, fmt.Errorf("read submissions: %w", err)
		}
		sub.SubmittedAt = fromDB(t)
		out = append(out, sub)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read submissions: %w", err)
	}
	return out, nil
}
