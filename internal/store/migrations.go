package store

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// migration is one versioned schema change.
//
// ClickHouse has no transactional DDL: a migration interrupted halfway is
// run again from its first statement, so every statement must be safe to
// repeat (CREATE ... IF NOT EXISTS, ADD COLUMN IF NOT EXISTS). Never edit
// or renumber a migration that has shipped; append a new one.
type migration struct {
	version    uint32
	name       string
	statements []string
	// run is an optional Go step, run after the statements: for data
	// conversions SQL alone cannot express. Like the statements it is run
	// again after an interruption, so it must be idempotent.
	run func(ctx context.Context, s *Store) error
}

// migrations is the whole schema, oldest first.
//
// Time-series tables are partitioned by month and ordered by (host,
// crawled_at), so a host's history is one range read. They are
// ReplacingMergeTree without a version column, so a snapshot written twice
// (a retried batch) collapses to one row when parts merge; the queries
// never depend on that having happened.
//
// host_states and posts are keyed by host and by uri alone, without a
// partition key: ReplacingMergeTree only replaces rows within a partition,
// and a partition by month of a changing column would keep old versions
// forever.
var migrations = []migration{
	{
		version: 1,
		name:    "create snapshots",
		statements: []string{`
CREATE TABLE IF NOT EXISTS snapshots (
    host                  String,
    crawled_at            DateTime('UTC'),
    software              String,
    version               String,
    nodeinfo_version      String,
    title                 String,
    open_registrations    UInt8,
    private               UInt8,
    protocols             Array(String),
    users_total           Nullable(Int64),
    users_active_month    Nullable(Int64),
    users_active_halfyear Nullable(Int64),
    local_posts           Nullable(Int64)
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(crawled_at)
ORDER BY (host, crawled_at)`},
	},
	{
		version: 2,
		name:    "create peers",
		statements: []string{`
CREATE TABLE IF NOT EXISTS peers (
    host       String,
    crawled_at DateTime('UTC'),
    peers      Array(String)
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(crawled_at)
ORDER BY (host, crawled_at)`},
	},
	{
		version: 3,
		name:    "create host_states",
		statements: []string{`
CREATE TABLE IF NOT EXISTS host_states (
    host            String,
    status          String,
    reason          String,
    software        String,
    last_attempt    DateTime('UTC'),
    last_success    DateTime('UTC'),
    next_due        DateTime('UTC'),
    failures        UInt32,
    discovered_from String,
    version         UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY host`},
	},
	{
		version: 4,
		name:    "create posts",
		statements: []string{`
CREATE TABLE IF NOT EXISTS posts (
    uri         String,
    host        String,
    author      String,
    created     DateTime('UTC'),
    language    String,
    tags        Array(String),
    sensitive   UInt8,
    has_summary UInt8,
    replies     Int64,
    reblogs     Int64,
    favourites  Int64,
    version     UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY uri`},
	},
}

// register adds migrations kept in their own files (one feature's schema
// next to its code). It is called from package-level var declarations;
// ordered returns the complete list sorted by version.
func register(ms ...migration) bool {
	migrations = append(migrations, ms...)
	return true
}

// ordered returns every migration, oldest first, and panics on a duplicate
// version: that is a programming error caught by any test that opens a store.
func ordered() []migration {
	out := append([]migration(nil), migrations...)
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			panic(fmt.Sprintf("store: duplicate migration version %d (%q, %q)", out[i].version, out[i-1].name, out[i].name))
		}
	}
	return out
}

// createMigrationsTable is the bookkeeping table. It is created outside the
// versioned list because the list is read from it.
const createMigrationsTable = `
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    UInt32,
    name       String,
    applied_at DateTime('UTC')
) ENGINE = ReplacingMergeTree()
ORDER BY version`

// Migrate applies the migrations that schema_migrations does not list yet,
// in order, and records each one. Running it again is a no-op; Open runs
// it. Two processes migrating at once are harmless because every statement
// is idempotent.
func (s *Store) Migrate(ctx context.Context) error {
	if err := s.conn.Exec(ctx, createMigrationsTable); err != nil {
		return fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	applied, err := s.appliedMigrations(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	all := ordered()
	latest := all[len(all)-1].version
	for v := range applied {
		if v > latest {
			s.logger.Warn("database schema is newer than this fedilens", "database", s.database, "schema_version", v, "known_version", latest)
		}
	}
	for _, m := range all {
		if applied[m.version] {
			continue
		}
		began := time.Now()
		for i, stmt := range m.statements {
			if err := s.execMigrationStatement(ctx, stmt); err != nil {
				return fmt.Errorf("migrate: apply %d %q (statement %d): %w", m.version, m.name, i+1, err)
			}
		}
		if m.run != nil {
			if err := m.run(ctx, s); err != nil {
				return fmt.Errorf("migrate: apply %d %q: %w", m.version, m.name, err)
			}
		}
		err := s.insert(ctx, "INSERT INTO schema_migrations (version, name, applied_at)", 1, func(b driver.Batch, _ int) error {
			return b.Append(m.version, m.name, toDB(time.Now()))
		})
		if err != nil {
			return fmt.Errorf("migrate: record %d %q: %w", m.version, m.name, err)
		}
		s.logger.Info("applied migration", "database", s.database, "version", m.version, "name", m.name, "took", time.Since(began).Round(time.Millisecond))
	}
	return nil
}

// appliedMigrations lists the versions recorded in schema_migrations.
func (s *Store) appliedMigrations(ctx context.Context) (map[uint32]bool, error) {
	rows, err := s.conn.Query(ctx, "SELECT DISTINCT version FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	defer rows.Close()
	applied := map[uint32]bool{}
	for rows.Next() {
		var v uint32
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("read schema_migrations: %w", err)
		}
		applied[v] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	return applied, nil
}
