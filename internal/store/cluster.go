package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Cluster mode (Options.Cluster): the store keeps its tables on a
// ClickHouse cluster, for users who outgrow one machine. Every table T of
// the single-server schema becomes two, on every node of the cluster:
//
//   - T_local, the shard's rows, with T's columns, sorting key and
//     partitioning, as ReplicatedX (Options.ClusterReplicated: ZooKeeper
//     or Keeper keeps each shard's replicas in step) or as plain X (no
//     replication, no ZooKeeper needed);
//   - T, a Distributed table over the T_local of every shard, sharded by a
//     key chosen per table (shardingKey).
//
// The store reads and inserts through the Distributed tables under the
// same names, so its SQL is unchanged: clusterConn wraps the connection,
// rewrites the DDL (migrations, and the few mutations and TRUNCATEs the
// store runs), turns IN (SELECT ...) into GLOBAL IN (globalIn), and makes
// inserts through a Distributed table synchronous, so a row written can
// be read at once, as on one server. docs/clickhouse-cluster.md is the
// operator's side of it.

// insertSyncSetting makes an INSERT into a Distributed table return only
// once every shard has its rows (by default they are queued on the node
// and sent in the background, and a read right after the write misses
// them). ClickHouse 18.16 and current releases both know it.
const insertSyncSetting = "insert_distributed_sync"

// localReplicaSetting, set to 0, makes a Distributed table reach the
// shard on the connected node through the native protocol, like every
// other shard, rather than reading it in-process. ClickHouse 18.16 fails
// SELECT ... FINAL over a Distributed table in-process when the query
// does not select the version column ("Cannot find column version in
// source stream"), which HostStates and the post statistics do; the cost
// is one loopback connection per query.
const localReplicaSetting = "prefer_localhost_replica"

// clusterClientOptions validates the cluster options and adds the
// connection settings of cluster mode. It does nothing without a cluster.
func clusterClientOptions(opts Options, chOpts *clickhouse.Options) error {
	if opts.Cluster == "" {
		if opts.ClusterReplicated {
			return errors.New("ClusterReplicated needs a Cluster")
		}
		return nil
	}
	if !clusterNameRE.MatchString(opts.Cluster) {
		return fmt.Errorf("invalid cluster name %q: use letters, digits, '_', '.' and '-'", opts.Cluster)
	}
	settings := maps.Clone(chOpts.Settings)
	if settings == nil {
		settings = clickhouse.Settings{}
	}
	settings[insertSyncSetting] = 1
	settings[localReplicaSetting] = 0
	chOpts.Settings = settings
	return nil
}

// clusterNode is one server of the cluster, as system.clusters lists it.
type clusterNode struct {
	addr           string
	shard, replica uint32
	local          bool // the server the store is connected to
	conn           driver.Conn
}

func (n *clusterNode) String() string {
	return fmt.Sprintf("%s (shard %d, replica %d)", n.addr, n.shard, n.replica)
}

// clusterConn is the store's connection in cluster mode. Reads and inserts
// go to the embedded connection (the node named by Options.Addr) and
// through its Distributed tables; DDL is planned by clusterDDL and run on
// every node.
type clusterConn struct {
	driver.Conn
	ddl   clusterDDL
	nodes []*clusterNode
	// shardCols maps each table of the schema to the column its rows are
	// sharded by, "" if none (shardLocalGroupBy).
	shardCols map[string]string
	logger    *slog.Logger
}

// openCluster switches s to cluster mode when opts names a cluster: it
// reads the cluster's nodes from the connected server's system.clusters,
// connects to each with the store's credentials, makes sure each has the
// database, and wraps s.conn. Open calls it before migrating.
//
// Without a cluster it only makes sure the database is not laid out for
// one: a store that forgot the cluster option would write through the
// Distributed tables but fail at the first mutation.
func (s *Store) openCluster(ctx context.Context, opts Options, chOpts clickhouse.Options) error {
	if opts.Cluster == "" {
		var distributed uint64
		err := s.conn.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = ? AND name = 'schema_migrations' AND engine = 'Distributed'",
			s.database).Scan(&distributed)
		if err != nil {
			return fmt.Errorf("check the database layout: %w", err)
		}
		if distributed > 0 {
			return fmt.Errorf("database %s is laid out for a cluster (its tables are Distributed): open it with the cluster's name", s.database)
		}
		return nil
	}
	c := &clusterConn{
		Conn:      s.conn,
		ddl:       clusterDDL{cluster: opts.Cluster, database: s.database, replicated: opts.ClusterReplicated},
		shardCols: shardColumns(schemaStatements()),
		logger:    s.logger,
	}
	if err := c.discover(ctx, chOpts); err != nil {
		c.closeNodes()
		return fmt.Errorf("cluster %s: %w", opts.Cluster, err)
	}
	if err := c.createDatabase(ctx); err != nil {
		c.closeNodes()
		return fmt.Errorf("cluster %s: %w", opts.Cluster, err)
	}
	if err := c.checkLayout(ctx); err != nil {
		c.closeNodes()
		return fmt.Errorf("cluster %s: %w", opts.Cluster, err)
	}
	s.conn = c
	addrs := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		addrs[i] = n.String()
	}
	s.logger.Info("store in cluster mode", "cluster", opts.Cluster, "replicated", opts.ClusterReplicated, "nodes", strings.Join(addrs, ", "))
	return nil
}

// discover reads the nodes of the cluster and connects to each. The node
// the store is connected to is reached at Options.Addr, whatever name the
// cluster's configuration gives it; the others at their configured
// host_name and port.
func (c *clusterConn) discover(ctx context.Context, chOpts clickhouse.Options) error {
	rows, err := c.Conn.Query(ctx, `
SELECT host_name, port, is_local, shard_num, replica_num
FROM system.clusters
WHERE cluster = ?
ORDER BY shard_num, replica_num`, c.ddl.cluster)
	if err != nil {
		return fmt.Errorf("read system.clusters: %w", err)
	}
	defer rows.Close()
	var locals []string
	for rows.Next() {
		var (
			host           string
			port           uint16
			isLocal        uint8
			shard, replica uint32
		)
		if err := rows.Scan(&host, &port, &isLocal, &shard, &replica); err != nil {
			return fmt.Errorf("read system.clusters: %w", err)
		}
		n := &clusterNode{addr: net.JoinHostPort(host, strconv.Itoa(int(port))), shard: shard, replica: replica, local: isLocal == 1}
		if n.local {
			n.addr = chOpts.Addr[0]
			locals = append(locals, n.String())
		}
		c.nodes = append(c.nodes, n)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read system.clusters: %w", err)
	}
	switch {
	case len(c.nodes) == 0:
		return fmt.Errorf("the server at %s has no cluster of that name in its <remote_servers>", strings.Join(chOpts.Addr, ","))
	case len(locals) == 0:
		return fmt.Errorf("the server at %s is not a node of the cluster: connect to one of its nodes", strings.Join(chOpts.Addr, ","))
	case len(locals) > 1:
		// test_cluster_two_shards_localhost and the like: one server as
		// several shards would read every row once per shard.
		return fmt.Errorf("the cluster lists the server at %s more than once (%s): every shard and replica must be a different server",
			strings.Join(chOpts.Addr, ","), strings.Join(locals, "; "))
	}
	seen := map[string]bool{}
	for _, n := range c.nodes {
		if seen[n.addr] {
			return fmt.Errorf("the cluster lists %s more than once: every shard and replica must be a different server", n.addr)
		}
		seen[n.addr] = true
		o := chOpts
		o.Addr = []string{n.addr}
		o.Auth.Database = "" // it may not exist on that node yet
		o.MaxOpenConns, o.MaxIdleConns = 2, 1
		conn, err := clickhouse.Open(&o)
		if err != nil {
			return fmt.Errorf("connect to node %s: %w", n, err)
		}
		n.conn = conn
		if err := conn.Ping(ctx); err != nil {
			return fmt.Errorf("connect to node %s: %w", n, err)
		}
	}
	return nil
}

// createDatabase creates the store's database on every node.
func (c *clusterConn) createDatabase(ctx context.Context) error {
	if c.ddl.replicated {
		if err := c.Conn.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+quoteName(c.ddl.database)+c.ddl.onCluster()); err != nil {
			return fmt.Errorf("create database %s on cluster: %w", c.ddl.database, onClusterHint(err))
		}
		return nil
	}
	for _, n := range c.nodes {
		var exists uint64
		if err := n.conn.QueryRow(ctx, "SELECT count() FROM system.databases WHERE name = ?", c.ddl.database).Scan(&exists); err != nil {
			return fmt.Errorf("look up database %s on node %s: %w", c.ddl.database, n, err)
		}
		if exists > 0 {
			continue
		}
		if err := n.conn.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+quoteName(c.ddl.database)); err != nil {
			return fmt.Errorf("create database %s on node %s: %w", c.ddl.database, n, err)
		}
	}
	return nil
}

// checkLayout refuses a database that holds a table of the schema under
// its own name as anything but a Distributed table: a database created by
// a single-server fedilens, whose CREATE TABLE IF NOT EXISTS would then
// leave the plain tables in place and read them instead of the shards.
// Such data moves over by hand (docs/clickhouse-cluster.md, "Moving a
// single server's data").
func (c *clusterConn) checkLayout(ctx context.Context) error {
	for _, n := range c.nodes {
		rows, err := n.conn.Query(ctx, "SELECT name, engine FROM system.tables WHERE database = ?", c.ddl.database)
		if err != nil {
			return fmt.Errorf("list tables on node %s: %w", n, err)
		}
		var bad []string
		for rows.Next() {
			var name, engine string
			if err := rows.Scan(&name, &engine); err != nil {
				rows.Close()
				return fmt.Errorf("list tables on node %s: %w", n, err)
			}
			if _, ours := c.shardCols[name]; (ours || name == "schema_migrations") && engine != "Distributed" {
				bad = append(bad, name+" ("+engine+")")
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("list tables on node %s: %w", n, err)
		}
		if len(bad) > 0 {
			return fmt.Errorf("database %s on node %s holds single-server tables (%s): use a new database for the cluster, "+
				"and move the data over as docs/clickhouse-cluster.md explains", c.ddl.database, n, strings.Join(bad, ", "))
		}
	}
	return nil
}

// onClusterHint adds to an error of an ON CLUSTER statement the most
// common reason for it.
func onClusterHint(err error) error {
	msg := err.Error()
	if strings.Contains(msg, "DDL background thread") || strings.Contains(strings.ToLower(msg), "zookeeper") {
		return fmt.Errorf("%w (ON CLUSTER needs ZooKeeper or ClickHouse Keeper and <distributed_ddl> in every server's configuration; "+
			"without them leave ClusterReplicated off: see docs/clickhouse-cluster.md)", err)
	}
	return err
}

// Close closes the node connections and the main one.
func (c *clusterConn) Close() error {
	c.closeNodes()
	return c.Conn.Close()
}

func (c *clusterConn) closeNodes() {
	for _, n := range c.nodes {
		if n.conn != nil {
			_ = n.conn.Close()
		}
	}
}

// Exec runs DDL on the whole cluster (see clusterDDL.plan) and anything
// else through the connected node.
func (c *clusterConn) Exec(ctx context.Context, query string, args ...any) error {
	steps, err := c.ddl.plan(query)
	if err != nil {
		return err
	}
	for _, st := range steps {
		if err := c.run(ctx, st, args); err != nil {
			return err
		}
	}
	return nil
}

// Query, QueryRow and Select read through the Distributed tables (see
// read).
func (c *clusterConn) Query(ctx context.Context, query string, args ...any) (driver.Rows, error) {
	return c.Conn.Query(ctx, c.read(query), args...)
}

func (c *clusterConn) QueryRow(ctx context.Context, query string, args ...any) driver.Row {
	return c.Conn.QueryRow(ctx, c.read(query), args...)
}

func (c *clusterConn) Select(ctx context.Context, dest any, query string, args ...any) error {
	return c.Conn.Select(ctx, dest, c.read(query), args...)
}

// read rewrites a query for the Distributed tables: IN subqueries become
// GLOBAL (globalIn), and grouping by the shard column is done on the
// shards (shardLocalGroupBy).
func (c *clusterConn) read(query string) string {
	return shardLocalGroupBy(globalIn(query), c.shardCols)
}

// run carries out one step.
func (c *clusterConn) run(ctx context.Context, st clusterStep, args []any) error {
	switch st.kind {
	case stepData:
		return c.Conn.Exec(ctx, shardLocalGroupBy(st.sql, c.shardCols), args...)
	case stepAddColumn:
		return c.addColumn(ctx, st)
	}
	if err := c.everywhere(ctx, st.sql, args, c.nodes); err != nil {
		return err
	}
	if st.kind == stepMutation {
		return c.waitMutations(ctx, st.table)
	}
	return nil
}

// everywhere runs a DDL statement on the nodes: ON CLUSTER, once, through
// the connected node (replicated mode, where ClickHouse's distributed DDL
// reaches every node), or on each node in turn.
func (c *clusterConn) everywhere(ctx context.Context, sql string, args []any, nodes []*clusterNode) error {
	if c.ddl.replicated {
		if err := c.Conn.Exec(ctx, sql, args...); err != nil {
			return fmt.Errorf("run on cluster %s: %s: %w", c.ddl.cluster, abbreviate(sql), onClusterHint(err))
		}
		return nil
	}
	for _, n := range nodes {
		if err := n.conn.Exec(ctx, sql, args...); err != nil {
			return fmt.Errorf("run on node %s: %s: %w", n, abbreviate(sql), err)
		}
	}
	return nil
}

// addColumn adds st.column to st.table on the nodes that lack it, the way
// execMigration does on one server. Another process adding it at the same
// moment is no error: the column is then there.
func (c *clusterConn) addColumn(ctx context.Context, st clusterStep) error {
	missing, err := c.lackColumn(ctx, st.table, st.column)
	if err != nil || len(missing) == 0 {
		return err
	}
	err = c.everywhere(ctx, st.add, nil, missing)
	if err == nil {
		return nil
	}
	if still, cerr := c.lackColumn(ctx, st.table, st.column); cerr == nil && len(still) == 0 {
		return nil
	}
	return err
}

// lackColumn returns the nodes whose table has no column of that name.
func (c *clusterConn) lackColumn(ctx context.Context, table, column string) ([]*clusterNode, error) {
	var out []*clusterNode
	for _, n := range c.nodes {
		var have uint64
		err := n.conn.QueryRow(ctx, "SELECT count() FROM system.columns WHERE database = ? AND table = ? AND name = ?",
			c.ddl.database, table, column).Scan(&have)
		if err != nil {
			return nil, fmt.Errorf("look up column %s.%s on node %s: %w", table, column, n, err)
		}
		if have == 0 {
			out = append(out, n)
		}
	}
	return out, nil
}

// waitMutations polls every node until no mutation of table is pending:
// the store's callers (PurgePosts, Rollup) rely on a mutation being done
// when it returns, and ClickHouse 18.16 has no mutations_sync. Their own
// wait, on the Distributed table's name, then finds nothing pending.
func (c *clusterConn) waitMutations(ctx context.Context, table string) error {
	ctx, cancel := context.WithTimeout(ctx, mutationWait)
	defer cancel()
	for _, n := range c.nodes {
		delay := 10 * time.Millisecond
		for {
			var pending uint64
			err := n.conn.QueryRow(ctx, "SELECT count() FROM system.mutations WHERE database = ? AND table = ? AND is_done = 0",
				c.ddl.database, table).Scan(&pending)
			if err != nil {
				return fmt.Errorf("wait for %s mutations on node %s: %w", table, n, err)
			}
			if pending == 0 {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("wait for %s mutations on node %s (%d pending; they continue in the background): %w", table, n, pending, ctx.Err())
			case <-time.After(delay):
			}
			delay = min(2*delay, 500*time.Millisecond)
		}
	}
	return nil
}

// schemaStatements is every statement Migrate may run, in order: the
// bookkeeping table, then each migration's statements.
func schemaStatements() []string {
	out := []string{createMigrationsTable}
	for _, m := range ordered() {
		out = append(out, m.statements...)
	}
	return out
}

// execMigrationStatement runs one migration statement: on one server as
// execMigration does, in cluster mode through the cluster's plan, which
// checks ADD COLUMN on every node (a check on the connected node alone
// would skip a column an interrupted run added there but not elsewhere).
func (s *Store) execMigrationStatement(ctx context.Context, stmt string) error {
	if c, ok := s.conn.(*clusterConn); ok {
		return c.Exec(ctx, stmt)
	}
	return s.execMigration(ctx, stmt)
}
