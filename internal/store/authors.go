package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/fedilens/fedilens/internal/model"
)

// Migration 11: the authors' consent as last checked, and the authors an
// operator forgot.
//
// authors keeps one row per author (by key, never the handle) and check:
// the latest check wins. A withdrawal stays on record after the author's
// posts are purged, for the dashboard's counts and so that the purge can
// be explained.
//
// forgotten_authors is separate from authors on purpose: a crawl writes
// authors rows all the time, and must never lift a forget by doing so. Like
// optouts, an entry is never deleted: lifting it writes a newer row with
// forgotten = 0.
var _ = register(migration{
	version: 11,
	name:    "create authors and forgotten_authors",
	statements: []string{`
CREATE TABLE IF NOT EXISTS authors (
    author_key String,
    host       String,
    consent    UInt8,
    reason     String,
    checked    DateTime('UTC'),
    version    UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (host, author_key)`, `
CREATE TABLE IF NOT EXISTS forgotten_authors (
    author_key String,
    host       String,
    forgotten  UInt8,
    at         DateTime('UTC'),
    version    UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY author_key`},
})

// The INSERT statements of the authors' tables.
const (
	insertAuthorsSQL   = `INSERT INTO authors (author_key, host, consent, reason, checked, version)`
	insertForgottenSQL = `INSERT INTO forgotten_authors (author_key, host, forgotten, at, version)`
)

// ReasonForgotten is the authors' reason recorded by ForgetAuthor.
const ReasonForgotten = "forgotten"

// UpsertAuthors records consent checks. Each row gets a new version, so
// the latest check of an author wins, also within one call. Authors are
// stored by AuthorKey only.
func (s *Store) UpsertAuthors(ctx context.Context, authors []model.AuthorState) error {
	err := s.insert(ctx, insertAuthorsSQL, len(authors), func(b driver.Batch, i int) error {
		a := &authors[i]
		checked := a.Checked
		if checked.IsZero() {
			checked = time.Now()
		}
		reason := a.Reason
		if a.Consent {
			reason = ""
		}
		return b.Append(s.AuthorKey(a.Author), a.Host, a.Consent, reason, toDB(checked), s.nextVersion())
	})
	if err != nil {
		return fmt.Errorf("upsert %d authors: %w", len(authors), err)
	}
	return nil
}

// AuthorTotals counts the authors by their latest consent check.
type AuthorTotals struct {
	// Consenting is the number of authors whose latest check found consent.
	Consenting uint64
	// Declined counts the others by reason (consent.Reason values, and
	// ReasonForgotten).
	Declined map[string]uint64
}

// AuthorTotals counts the authors checked so far by their latest verdict,
// for the dashboard.
func (s *Store) AuthorTotals(ctx context.Context) (AuthorTotals, error) {
	rows, err := s.conn.Query(ctx, `
SELECT c, r, count() FROM (
    SELECT argMax(consent, version) AS c, argMax(reason, version) AS r
    FROM authors GROUP BY host, author_key
) GROUP BY c, r`)
	if err != nil {
		return AuthorTotals{}, fmt.Errorf("count authors: %w", err)
	}
	defer rows.Close()
	out := AuthorTotals{Declined: map[string]uint64{}}
	for rows.Next() {
		var (
			consent uint8
			reason  string
			n       uint64
		)
		if err := rows.Scan(&consent, &reason, &n); err != nil {
			return AuthorTotals{}, fmt.Errorf("count authors: %w", err)
		}
		if consent != 0 {
			out.Consenting += n
		} else {
			out.Declined[reason] += n
		}
	}
	if err := rows.Err(); err != nil {
		return AuthorTotals{}, fmt.Errorf("count authors: %w", err)
	}
	return out, nil
}

// acctHost is the host of user@host ("" when acct has none).
func acctHost(acct string) string {
	if i := strings.LastIndexByte(acct, '@'); i >= 0 {
		return acct[i+1:]
	}
	return ""
}

// ForgetAuthor records that the operator forgot acct (user@host, lower
// case): ForgottenAuthors lists it until UnforgetAuthor, and the authors
// table records the withdrawal with ReasonForgotten. It does not purge
// the posts; see PurgePosts.
func (s *Store) ForgetAuthor(ctx context.Context, acct string) error {
	if strings.TrimSpace(acct) == "" {
		return fmt.Errorf("forget author: %w: empty account", model.ErrBadQuery)
	}
	key, host, now := s.AuthorKey(acct), acctHost(acct), time.Now()
	err := s.insert(ctx, insertForgottenSQL, 1, func(b driver.Batch, _ int) error {
		return b.Append(key, host, uint8(1), toDB(now), s.nextVersion())
	})
	if err != nil {
		return fmt.Errorf("forget author %s: %w", key, err)
	}
	err = s.UpsertAuthors(ctx, []model.AuthorState{{Author: acct, Host: host, Reason: ReasonForgotten, Checked: now}})
	if err != nil {
		return fmt.Errorf("forget author %s: %w", key, err)
	}
	return nil
}

// liveForgottenSQL selects the keys whose latest forgotten_authors row is
// a forget (grouped rather than FINAL, as liveOptOutsSQL explains).
const liveForgottenSQL = `SELECT author_key FROM forgotten_authors GROUP BY author_key HAVING argMax(forgotten, version) = 1`

// UnforgetAuthor lifts the forget of acct, so that a later crawl stores
// the author's posts again if they consent. It wraps model.ErrNotFound
// when acct is not forgotten.
func (s *Store) UnforgetAuthor(ctx context.Context, acct string) error {
	key := s.AuthorKey(acct)
	var n uint64
	if err := s.conn.QueryRow(ctx, `SELECT count() FROM (`+liveForgottenSQL+`) WHERE author_key = ?`, key).Scan(&n); err != nil {
		return fmt.Errorf("unforget author %s: %w", key, err)
	}
	if n == 0 {
		return fmt.Errorf("unforget author %s: %w", key, model.ErrNotFound)
	}
	err := s.insert(ctx, insertForgottenSQL, 1, func(b driver.Batch, _ int) error {
		return b.Append(key, acctHost(acct), uint8(0), toDB(time.Now()), s.nextVersion())
	})
	if err != nil {
		return fmt.Errorf("unforget author %s: %w", key, err)
	}
	return nil
}

// ForgottenAuthors returns the keys (AuthorKey) of the authors an operator
// forgot: the crawler must not store their posts, whatever their consent
// says, and the pipeline drops any that reach it.
func (s *Store) ForgottenAuthors(ctx context.Context) (map[string]bool, error) {
	rows, err := s.conn.Query(ctx, liveForgottenSQL)
	if err != nil {
		return nil, fmt.Errorf("read forgotten authors: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("read forgotten authors: %w", err)
		}
		out[k] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read forgotten authors: %w", err)
	}
	return out, nil
}
