// Package store keeps fedilens's census in ClickHouse: instance snapshots,
// peer lists, the crawler's per-host state and post metadata, and answers
// the aggregate questions the API and the dashboard ask.
//
// The SQL stays within what ClickHouse 18.16 (Debian's package) and current
// releases both accept: the native protocol only, INSERTs with named
// columns through batches, DateTime('UTC') rather than DateTime64, UInt8
// rather than Bool, Nullable(Int64) for the optional counts, and no TTL,
// CODEC, Map or LowCardinality.
//
// Times are stored to the second, in UTC, within DateTime's range
// (1970-01-01 to 2105-12-31); a zero time.Time is stored as the epoch and
// read back as a zero time.Time. Empty arrays are read back as nil slices.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// DefaultDatabase is the database Open uses when none is given.
const DefaultDatabase = "fedilens"

// Options configures a Store.
type Options struct {
	// Addr is "host:port" of the server's native protocol (port 9000 if
	// omitted), or a "clickhouse://user:password@host:port/database?..."
	// DSN, parsed with clickhouse.ParseDSN. Required.
	Addr string
	// Database is created if missing and holds every table. Empty means
	// the DSN's database, or DefaultDatabase.
	Database string
	// Username and Password, when set, override the DSN's credentials.
	// Empty means the server's "default" user.
	Username, Password string
	// Logger receives migration events. Nil discards them.
	Logger *slog.Logger
	// Cluster, when set, is the name of a cluster in the servers'
	// <remote_servers>, and the store keeps every table sharded over it:
	// a shard table T_local on each node and a Distributed table T over
	// them, read and written under the single-server names (cluster.go,
	// docs/clickhouse-cluster.md). Addr must be a node of the cluster.
	// Empty: one server.
	Cluster string
	// ClusterReplicated makes the shard tables ReplicatedMergeTree and
	// runs DDL ON CLUSTER, which needs ZooKeeper or ClickHouse Keeper and
	// the {shard} and {replica} macros on every node. Off, the shards are
	// plain MergeTree tables, without replication or ZooKeeper, and the
	// store runs DDL on each node itself.
	ClusterReplicated bool
}

// Store is a connection pool to one database. It is safe for concurrent use.
type Store struct {
	conn     driver.Conn
	database string
	version  string
	logger   *slog.Logger

	// lastVersion makes the ReplacingMergeTree versions this Store writes
	// strictly increasing, even within one nanosecond or one batch.
	lastVersion atomic.Uint64

	// authorSecret keys AuthorKey; read (or created) at Open.
	authorSecret string

	// knownHosts are the host ids this Store wrote to the hosts table.
	knownHosts hostNames
}

// identRE is what Open accepts as a database name: the name is spliced
// into DDL, so only plain identifiers are allowed.
var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// Open connects to ClickHouse, creates the database if it is missing and
// applies the pending migrations.
func Open(ctx context.Context, opts Options) (*Store, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	chOpts, err := clientOptions(opts)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	database := chOpts.Auth.Database
	if !identRE.MatchString(database) {
		return nil, fmt.Errorf("open store: invalid database name %q: use letters, digits and underscores", database)
	}
	if err := clusterClientOptions(opts, chOpts); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}

	if err := ensureDatabase(ctx, *chOpts, database); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	conn, err := clickhouse.Open(chOpts)
	if err != nil {
		return nil, fmt.Errorf("open store: connect to %s: %w", strings.Join(chOpts.Addr, ","), err)
	}
	s := &Store{conn: conn, database: database, logger: logger}
	if err := conn.QueryRow(ctx, "SELECT version()").Scan(&s.version); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("open store: query server version: %w", err)
	}
	if err := s.openCluster(ctx, opts, *chOpts); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	if err := s.Migrate(ctx); err != nil {
		_ = s.conn.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	if err := s.openPosts(ctx); err != nil {
		_ = s.conn.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	logger.Debug("store opened", "database", database, "server_version", s.version)
	return s, nil
}

// clientOptions turns Options into clickhouse-go options: the native
// protocol only, because 18.16's HTTP interface rejects the settings
// clickhouse-go sends.
func clientOptions(opts Options) (*clickhouse.Options, error) {
	addr := strings.TrimSpace(opts.Addr)
	if addr == "" {
		return nil, errors.New("no ClickHouse address given")
	}
	var chOpts *clickhouse.Options
	if scheme, _, ok := strings.Cut(addr, "://"); ok {
		if scheme != "clickhouse" && scheme != "tcp" {
			return nil, fmt.Errorf("unsupported ClickHouse DSN scheme %q: the store speaks the native protocol (clickhouse://host:9000)", scheme)
		}
		parsed, err := clickhouse.ParseDSN(addr)
		if err != nil {
			return nil, fmt.Errorf("parse ClickHouse DSN: %w", err)
		}
		chOpts = parsed
	} else {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			addr = net.JoinHostPort(strings.Trim(addr, "[]"), "9000")
		}
		chOpts = &clickhouse.Options{Addr: []string{addr}}
	}
	chOpts.Protocol = clickhouse.Native
	if opts.Database != "" {
		chOpts.Auth.Database = opts.Database
	}
	if chOpts.Auth.Database == "" {
		chOpts.Auth.Database = DefaultDatabase
	}
	if opts.Username != "" {
		chOpts.Auth.Username = opts.Username
	}
	if opts.Password != "" {
		chOpts.Auth.Password = opts.Password
	}
	if chOpts.DialTimeout == 0 {
		chOpts.DialTimeout = 10 * time.Second
	}
	return chOpts, nil
}

// ensureDatabase creates the database through a connection that does not
// select it: the native handshake fails on a database that does not exist.
// It only issues CREATE when the database is missing, so a user without
// CREATE rights can still use an existing one.
func ensureDatabase(ctx context.Context, chOpts clickhouse.Options, database string) error {
	chOpts.Auth.Database = ""
	chOpts.MaxOpenConns, chOpts.MaxIdleConns = 1, 1
	conn, err := clickhouse.Open(&chOpts)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", strings.Join(chOpts.Addr, ","), err)
	}
	defer conn.Close()
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM system.databases WHERE name = ?", database).Scan(&n); err != nil {
		return fmt.Errorf("look up database %s: %w", database, err)
	}
	if n > 0 {
		return nil
	}
	if err := conn.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+quoteIdent(database)); err != nil {
		return fmt.Errorf("create database %s: %w", database, err)
	}
	return nil
}

// quoteIdent quotes an identifier that identRE has already accepted.
func quoteIdent(name string) string { return "`" + name + "`" }

// Close releases the connections.
func (s *Store) Close() error {
	if err := s.conn.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// Ping checks that the server answers, for health checks.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.conn.Ping(ctx); err != nil {
		return fmt.Errorf("ping clickhouse: %w", err)
	}
	return nil
}

// ServerVersion is the server's version() as reported at Open
// ("18.16.1", "24.8.1.2684").
func (s *Store) ServerVersion() string { return s.version }

// Database is the name of the store's database.
func (s *Store) Database() string { return s.database }

// nextVersion returns a ReplacingMergeTree version greater than any this
// Store returned before: wall-clock nanoseconds, bumped when the clock has
// not moved on, so the latest write of a key wins.
func (s *Store) nextVersion() uint64 {
	for {
		prev := s.lastVersion.Load()
		v := uint64(time.Now().UnixNano())
		if v <= prev {
			v = prev + 1
		}
		if s.lastVersion.CompareAndSwap(prev, v) {
			return v
		}
	}
}

// DateTime's range. Times outside it cannot be stored, and remote servers
// do send dates in the year 1 or 9999.
var (
	minTime = time.Unix(0, 0).UTC()
	maxTime = time.Date(2105, 12, 31, 23, 59, 59, 0, time.UTC)
)

// toDB converts a time for a DateTime('UTC') column: UTC, whole seconds,
// clamped to DateTime's range, zero as the epoch.
func toDB(t time.Time) time.Time {
	switch {
	case t.IsZero() || t.Before(minTime):
		return minTime
	case t.After(maxTime):
		return maxTime
	}
	return t.UTC().Truncate(time.Second)
}

// fromDB is toDB's inverse: the epoch (and 18.16's zero DateTime that
// max() of nothing returns) becomes the zero time.Time.
func fromDB(t time.Time) time.Time {
	if t.Unix() <= 0 {
		return time.Time{}
	}
	return t.UTC()
}

// nilIfEmpty reads empty arrays back as nil, so a nil slice round-trips.
func nilIfEmpty(v []string) []string {
	if len(v) == 0 {
		return nil
	}
	return v
}

// insert sends one batch with named columns (18.16 builds an empty batch
// for INSERT without a column list). The batch is always sent or aborted,
// as it holds a pooled connection.
func (s *Store) insert(ctx context.Context, query string, n int, row func(b driver.Batch, i int) error) (err error) {
	if n == 0 {
		return nil
	}
	batch, err := s.conn.PrepareBatch(ctx, query)
	if err != nil {
		return fmt.Errorf("prepare batch: %w", err)
	}
	defer func() {
		if err != nil {
			_ = batch.Abort()
		}
	}()
	for i := range n {
		if err := row(batch, i); err != nil {
			return fmt.Errorf("append row %d: %w", i, err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("send batch: %w", err)
	}
	return nil
}
