package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// Purge says which stored posts PurgePosts removes: every post that
// matches any of its parts.
type Purge struct {
	// URIs are posts gone at the source, or posts to drop one by one.
	URIs []string
	// AuthorKeys are authors (AuthorKey) who withdrew consent or were
	// forgotten: all their posts.
	AuthorKeys []string
	// Hosts are instances whose posts all go (opt-out, forget).
	Hosts []string
	// Before, when not zero, removes the posts created before it
	// (retention). Posts without a known creation time are stored as
	// created at the epoch, so they expire at the first retention purge.
	Before time.Time
}

// Empty reports whether p matches no post at all.
func (p Purge) Empty() bool {
	return len(p.URIs) == 0 && len(p.AuthorKeys) == 0 && len(p.Hosts) == 0 && p.Before.IsZero()
}

// purgeClause is one condition of a purge mutation and its parameter.
type purgeClause struct {
	sql  string
	arg  any
	size int
}

// purgeClauses turns p into conditions of at most deleteChunkBytes of
// values each, duplicates and empty values dropped.
func purgeClauses(p Purge) []purgeClause {
	var out []purgeClause
	add := func(column string, values []string) {
		seen := make(map[string]bool, len(values))
		var (
			chunk []any
			size  int
		)
		flush := func() {
			if len(chunk) > 0 {
				out = append(out, purgeClause{sql: column + " IN ?", arg: clickhouse.GroupSet{Value: chunk}, size: size})
			}
			chunk, size = nil, 0
		}
		for _, v := range values {
			if v == "" || seen[v] {
				continue
			}
			seen[v] = true
			chunk = append(chunk, v)
			size += len(v) + 4
			if size >= deleteChunkBytes {
				flush()
			}
		}
		flush()
	}
	add("uri", p.URIs)
	add("author_key", p.AuthorKeys)
	add("host", p.Hosts)
	if !p.Before.IsZero() {
		out = append(out, purgeClause{sql: "created < toDateTime(?)", arg: toDB(p.Before).Unix(), size: 32})
	}
	return out
}

// PurgePosts removes every stored post that p matches, with as few
// ALTER TABLE ... DELETE mutations as the size of p allows (its parts are
// joined with OR, at most 128 KiB of values a mutation), and waits until
// ClickHouse has applied them: 18.16 has no mutations_sync, so it polls
// system.mutations. The boosts it matches (post_boosts: by URI, author,
// host or creation time alike) go with them, uncounted. A mutation that would match nothing is not issued at
// all, so purging authors who never had a post stored costs one count
// query. It returns the number of posts removed. Hostile values are fine:
// they are bound as parameters, never spliced.
func (s *Store) PurgePosts(ctx context.Context, p Purge) (int, error) {
	total, err := s.purgeTable(ctx, "posts", p)
	if err != nil {
		return total, fmt.Errorf("purge posts: %w", err)
	}
	// The boosts the same purge matches (postlinks.go): they follow their
	// author's consent like posts, but are not counted as posts.
	if _, err := s.purgeTable(ctx, "post_boosts", p); err != nil {
		return total, fmt.Errorf("purge posts: purge boosts: %w", err)
	}
	return total, nil
}

// purgeTable removes the rows of table (posts or post_boosts: both have
// the columns purgeClauses names) that p matches, in mutations of at most
// deleteChunkBytes of values, each counted first so that one matching
// nothing is not issued, and returns the number of distinct URIs removed.
func (s *Store) purgeTable(ctx context.Context, table string, p Purge) (int, error) {
	clauses := purgeClauses(p)
	total := 0
	for len(clauses) > 0 {
		var (
			where []string
			args  []any
			size  int
		)
		for len(clauses) > 0 && (len(where) == 0 || size+clauses[0].size < deleteChunkBytes) {
			c := clauses[0]
			clauses = clauses[1:]
			where, args, size = append(where, "("+c.sql+")"), append(args, c.arg), size+c.size
		}
		cond := strings.Join(where, " OR ")
		var n uint64
		if err := s.conn.QueryRow(ctx, "SELECT uniqExact(uri) FROM "+table+" WHERE "+cond, args...).Scan(&n); err != nil {
			return total, fmt.Errorf("count matches in %s: %w", table, err)
		}
		if n == 0 {
			continue
		}
		if err := s.conn.Exec(ctx, "ALTER TABLE "+table+" DELETE WHERE "+cond, args...); err != nil {
			return total, fmt.Errorf("delete from %s: %w", table, err)
		}
		// Wait before the next mutation, so that its count does not see
		// the rows this one removes.
		if err := s.waitMutations(ctx, table); err != nil {
			return total, fmt.Errorf("delete from %s: %w", table, err)
		}
		total += int(n)
	}
	return total, nil
}
