package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/fedilens/fedilens/internal/model"
)

// Migration 10: post details for statistics, and the pseudonymous author.
//
// ClickHouse holds post metadata for statistics, which need to tell
// authors apart but never who they are: a post stores author_key (see
// AuthorKey) and an empty author. Mentions are other people's handles, so
// only their hosts are kept. The installation table holds the secret the
// keys are derived from; rows written before this migration are rewritten
// in place when a store opens (pseudonymiseAuthors), because the secret is
// only known at run time.
var _ = register(migration{
	version: 10,
	name:    "posts author_key and details, installation secret",
	statements: []string{
		`ALTER TABLE posts ADD COLUMN IF NOT EXISTS author_key String`,
		`ALTER TABLE posts ADD COLUMN IF NOT EXISTS kind String`,
		`ALTER TABLE posts ADD COLUMN IF NOT EXISTS source String`,
		`ALTER TABLE posts ADD COLUMN IF NOT EXISTS mention_hosts Array(String)`,
		`ALTER TABLE posts ADD COLUMN IF NOT EXISTS has_alt_text UInt8`,
		`ALTER TABLE posts ADD COLUMN IF NOT EXISTS in_reply_to UInt8`,
		`ALTER TABLE posts ADD COLUMN IF NOT EXISTS links UInt16`,
		`ALTER TABLE posts ADD COLUMN IF NOT EXISTS fetched DateTime('UTC')`,
		`
CREATE TABLE IF NOT EXISTS installation (
    name    String,
    value   String,
    created DateTime('UTC'),
    version UInt64
) ENGINE = MergeTree()
ORDER BY (name, version)`,
	},
})

// authorSecretName is the installation row of the author key secret.
const authorSecretName = "author_key_secret"

// authorKeyLen is the length of an author key in hex digits (128 bits).
const authorKeyLen = 32

// loadAuthorSecret reads the installation's author key secret, creating it
// when there is none. The first writer wins: every process reads the row
// with the lowest version, so two processes that open the same database
// agree on it. (Two processes creating the very first secret in the same
// instant could each read their own before seeing the other's; a fresh
// database is opened by one process first in every fedilens command.)
func (s *Store) loadAuthorSecret(ctx context.Context) error {
	read := func() (string, error) {
		var (
			n     uint64
			value string
		)
		err := s.conn.QueryRow(ctx, `SELECT count(), argMin(value, version) FROM installation WHERE name = ?`,
			authorSecretName).Scan(&n, &value)
		if err != nil {
			return "", fmt.Errorf("read author key secret: %w", err)
		}
		if n == 0 {
			return "", nil
		}
		return value, nil
	}
	secret, err := read()
	if err != nil {
		return err
	}
	if secret == "" {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return fmt.Errorf("create author key secret: %w", err)
		}
		fresh := hex.EncodeToString(b)
		err := s.insert(ctx, "INSERT INTO installation (name, value, created, version)", 1, func(bt driver.Batch, _ int) error {
			return bt.Append(authorSecretName, fresh, toDB(time.Now()), s.nextVersion())
		})
		if err != nil {
			return fmt.Errorf("create author key secret: %w", err)
		}
		if secret, err = read(); err != nil {
			return err
		}
		if secret == "" {
			return fmt.Errorf("create author key secret: the row written is not read back")
		}
	}
	s.authorSecret = secret
	return nil
}

// AuthorKey is the pseudonym of an account (user@host, as in model.Post's
// Author) in this installation: the first 32 hex digits of
// SHA-256(secret + "\n" + acct). It is stable across processes and restarts
// on the same database, tells authors apart for statistics and lets the
// crawler find an author's stored posts and cursors, yet cannot be turned
// back into the handle without the secret, which never leaves ClickHouse
// and this process. An empty acct has the empty key.
func (s *Store) AuthorKey(acct string) string {
	if acct == "" {
		return ""
	}
	h := sha256.New()
	h.Write([]byte(s.authorSecret))
	h.Write([]byte{'\n'})
	h.Write([]byte(acct))
	return hex.EncodeToString(h.Sum(nil))[:authorKeyLen]
}

// authorKeySQL computes AuthorKey in ClickHouse for the column author,
// with the secret as the one parameter.
const authorKeySQL = `lower(substring(hex(SHA256(concat(?, '\n', author))), 1, 32))`

// pseudonymiseAuthors rewrites the posts rows that still hold a raw author
// (written before migration 10, or by an older fedilens) in place: one
// ALTER TABLE ... UPDATE mutation sets author_key and clears author. It
// does nothing when no such row exists, so it is cheap on every Open, and
// it loses no row: the mutation rewrites the columns of the rows it
// matches, nothing else.
func (s *Store) pseudonymiseAuthors(ctx context.Context) error {
	var n uint64
	if err := s.conn.QueryRow(ctx, `SELECT count() FROM posts WHERE author != ''`).Scan(&n); err != nil {
		return fmt.Errorf("pseudonymise post authors: %w", err)
	}
	if n == 0 {
		return nil
	}
	err := s.conn.Exec(ctx, `ALTER TABLE posts UPDATE author_key = `+authorKeySQL+`, author = '' WHERE author != ''`, s.authorSecret)
	if err != nil {
		return fmt.Errorf("pseudonymise post authors: %w", err)
	}
	if err := s.waitMutations(ctx, "posts"); err != nil {
		return fmt.Errorf("pseudonymise post authors: %w", err)
	}
	s.logger.Info("pseudonymised stored post authors", "database", s.database, "rows", n)
	return nil
}

// openPosts is the posts part of Open: the author key secret, then the
// rewrite of rows that still carry raw handles.
func (s *Store) openPosts(ctx context.Context) error {
	if err := s.loadAuthorSecret(ctx); err != nil {
		return err
	}
	return s.pseudonymiseAuthors(ctx)
}

// mentionHosts reduces mentions (user@host) to their distinct hosts,
// sorted: who was mentioned is personal data, which instances were is not.
func mentionHosts(mentions []string) []string {
	out := make([]string, 0, len(mentions))
	for _, m := range mentions {
		i := strings.LastIndexByte(m, '@')
		if i < 0 || i == len(m)-1 {
			continue
		}
		out = append(out, strings.ToLower(m[i+1:]))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// linkCount is len(links) clamped to the UInt16 column.
func linkCount(links []string) uint16 {
	return uint16(min(len(links), 0xffff))
}

// postKind is Kind with the documented default.
func postKind(k string) string {
	if k == "" {
		return "note"
	}
	return k
}

// PostMeta is a post's metadata as ClickHouse keeps it: no text, no
// handles. For statistics and for comparing the store with the truth.
// ReplyHost is the host of the post answered ("" when the post answers
// none, the host is unknown, or the row predates migration 70).
type PostMeta struct {
	URI          string
	Host         string
	AuthorKey    string
	Created      time.Time
	Language     string
	Tags         []string
	Kind         string
	Source       string
	MentionHosts []string
	Sensitive    bool
	HasSummary   bool
	HasAltText   bool
	Reply        bool
	Links        uint16
	Replies      int64
	Reblogs      int64
	Favourites   int64
	Fetched      time.Time
	ReplyHost    string
}

// PostMetas returns the latest row of every stored post of host ("" for
// every host), by URI.
func (s *Store) PostMetas(ctx context.Context, host string) ([]PostMeta, error) {
	rows, err := s.conn.Query(ctx, `
SELECT uri, host, author_key, created, language, tags, kind, source, mention_hosts, sensitive, has_summary,
       has_alt_text, in_reply_to, links, replies, reblogs, favourites, fetched, reply_host
FROM posts FINAL
WHERE ? = '' OR host = ?
ORDER BY uri`, host, host)
	if err != nil {
		return nil, fmt.Errorf("read post metadata: %w", err)
	}
	defer rows.Close()
	var out []PostMeta
	for rows.Next() {
		var (
			m                              PostMeta
			sensitive, summary, alt, reply uint8
			created, fetched               time.Time
		)
		if err := rows.Scan(&m.URI, &m.Host, &m.AuthorKey, &created, &m.Language, &m.Tags, &m.Kind, &m.Source,
			&m.MentionHosts, &sensitive, &summary, &alt, &reply, &m.Links, &m.Replies, &m.Reblogs, &m.Favourites,
			&fetched, &m.ReplyHost); err != nil {
			return nil, fmt.Errorf("read post metadata: %w", err)
		}
		m.Created, m.Fetched = fromDB(created), fromDB(fetched)
		m.Tags, m.MentionHosts = nilIfEmpty(m.Tags), nilIfEmpty(m.MentionHosts)
		m.Sensitive, m.HasSummary, m.HasAltText, m.Reply = sensitive != 0, summary != 0, alt != 0, reply != 0
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read post metadata: %w", err)
	}
	return out, nil
}

// insertPostRow appends one post to an insertPostsSQL batch.
func (s *Store) insertPostRow(b driver.Batch, p *model.Post, fetched time.Time) error {
	return b.Append(p.URI, p.Host, "", s.AuthorKey(p.Author), toDB(p.Created), p.Language, nonNil(p.Tags), p.Sensitive,
		p.Summary != "", p.Replies, p.Reblogs, p.Favourites, s.nextVersion(),
		postKind(p.Kind), p.Source, mentionHosts(p.Mentions), p.AltText != "", p.InReplyTo != "",
		linkCount(p.Links), toDB(fetched), linkHost(p.ReplyHost))
}
