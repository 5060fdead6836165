package store_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/chserver"
	"github.com/fedilens/fedilens/internal/chtest"
	"github.com/fedilens/fedilens/internal/hostid"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/sanity"
	"github.com/fedilens/fedilens/internal/stats"
	"github.com/fedilens/fedilens/internal/store"
)

// createTableRE finds a CREATE TABLE statement and its table name.
var createTableRE = regexp.MustCompile(`(?is)^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([A-Za-z_][A-Za-z0-9_]*)`)

// documentedShardKeys are the sharding keys docs/clickhouse-cluster.md
// lists, read from its table. A table another migration adds later gets
// the general rule; this list pins the ones documented.
var documentedShardKeys = func() map[string]string {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "clickhouse-cluster.md"))
	if err != nil {
		panic(err)
	}
	_, section, _ := strings.Cut(string(doc), "| table | sharding key | why |")
	section, _, _ = strings.Cut(section, "\n\n")
	out := map[string]string{}
	quoted := regexp.MustCompile("`([^`]+)`")
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || strings.HasPrefix(strings.TrimSpace(cells[1]), "---") {
			continue
		}
		key := quoted.FindStringSubmatch(cells[2])
		for _, table := range quoted.FindAllStringSubmatch(cells[1], -1) {
			out[table[1]] = key[1]
		}
	}
	return out
}()

// TestClusterPlanShardsEveryTable checks, for both cluster variants, that
// every CREATE TABLE of every registered migration (present and future)
// becomes a shard table and a Distributed table over it, and that no
// statement of the schema creates a table any other way.
func TestClusterPlanShardsEveryTable(t *testing.T) {
	for _, replicated := range []bool{false, true} {
		t.Run(fmt.Sprintf("replicated=%v", replicated), func(t *testing.T) {
			onCluster := ""
			if replicated {
				onCluster = " ON CLUSTER fl_cluster"
			}
			tables := map[string]bool{}
			for _, stmt := range store.SchemaStatements() {
				steps, err := store.ClusterPlan(stmt, "census", "fl_cluster", replicated)
				require.NoError(t, err, stmt)
				m := createTableRE.FindStringSubmatch(stmt)
				if m == nil {
					for _, st := range steps {
						require.NotRegexp(t, `(?i)^\s*CREATE`, st.SQL, "only CREATE TABLE creates anything")
					}
					continue
				}
				table := m[1]
				tables[table] = true
				require.Len(t, steps, 2, "CREATE TABLE %s becomes a shard table and a Distributed table", table)

				local := steps[0].SQL
				require.True(t, strings.HasPrefix(local, "CREATE TABLE IF NOT EXISTS census."+table+"_local"+onCluster+" ("), local)
				engine := regexp.MustCompile(`\nENGINE = (\w+)\(`).FindStringSubmatch(local)
				require.NotNil(t, engine, local)
				require.True(t, strings.HasSuffix(engine[1], "MergeTree"), local)
				require.Equal(t, replicated, strings.HasPrefix(engine[1], "Replicated"), local)
				if replicated {
					require.Contains(t, local, "('/clickhouse/tables/{shard}/census/"+table+"', '{replica}'")
				}

				dist := steps[1].SQL
				require.Regexp(t, `^CREATE TABLE IF NOT EXISTS census\.`+table+regexp.QuoteMeta(onCluster)+` AS census\.`+table+`_local
ENGINE = Distributed\(fl_cluster, census, `+table+`_local, .+\)$`, dist)
				if k, ok := documentedShardKeys[table]; ok {
					require.True(t, strings.HasSuffix(dist, ", "+k+")"), "table %s is sharded by %s as documented: %s", table, k, dist)
				}
			}
			require.GreaterOrEqual(t, len(documentedShardKeys), 18, "the documentation's table of sharding keys is read")
			for table := range documentedShardKeys {
				require.True(t, tables[table], "documented table %s is created by a migration", table)
			}

			// The printed schema creates exactly those tables, in both forms.
			ddl, err := store.Schema(store.Options{Database: "census", Cluster: "fl_cluster", ClusterReplicated: replicated})
			require.NoError(t, err)
			created := regexp.MustCompile(`(?m)^CREATE TABLE IF NOT EXISTS census\.(\w+)`).FindAllStringSubmatch(ddl, -1)
			require.Len(t, created, 2*len(tables))
			for _, c := range created {
				name := strings.TrimSuffix(c[1], "_local")
				require.True(t, tables[name], "the schema creates %s", c[1])
			}
			require.Equal(t, len(tables), strings.Count(ddl, "\nENGINE = Distributed("), "one Distributed table per table")
		})
	}
}

// TestClusterPlanGolden pins the text of the cluster DDL that the
// documentation shows, for the replicated variant and the one without
// ZooKeeper, and the plans of the statements the store runs at run time.
func TestClusterPlanGolden(t *testing.T) {
	snapshots := store.MigrationStatements(1)[0]
	tests := []struct {
		name       string
		stmt       string
		replicated bool
		want       []store.ClusterStep
	}{
		{
			name: "create, replicated", stmt: snapshots, replicated: true,
			want: []store.ClusterStep{
				{Kind: "ddl", SQL: `CREATE TABLE IF NOT EXISTS fedilens.snapshots_local ON CLUSTER census (
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
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/fedilens/snapshots', '{replica}')
PARTITION BY toYYYYMM(crawled_at)
ORDER BY (host, crawled_at)`},
				{Kind: "ddl", SQL: `CREATE TABLE IF NOT EXISTS fedilens.snapshots ON CLUSTER census AS fedilens.snapshots_local
ENGINE = Distributed(census, fedilens, snapshots_local, cityHash64(host))`},
			},
		},
		{
			name: "create with a version column, replicated", replicated: true,
			stmt: "CREATE TABLE IF NOT EXISTS t (host String, version UInt64) ENGINE = ReplacingMergeTree(version) ORDER BY host",
			want: []store.ClusterStep{
				{Kind: "ddl", SQL: "CREATE TABLE IF NOT EXISTS fedilens.t_local ON CLUSTER census (host String, version UInt64)\n" +
					"ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/fedilens/t', '{replica}', version) ORDER BY host"},
				{Kind: "ddl", SQL: "CREATE TABLE IF NOT EXISTS fedilens.t ON CLUSTER census AS fedilens.t_local\n" +
					"ENGINE = Distributed(census, fedilens, t_local, cityHash64(host))"},
			},
		},
		{
			name: "create without replication",
			stmt: "CREATE TABLE IF NOT EXISTS ev (host_id UInt64, at DateTime) ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMM(at) ORDER BY (host_id, at)",
			want: []store.ClusterStep{
				{Kind: "ddl", SQL: "CREATE TABLE IF NOT EXISTS fedilens.ev_local (host_id UInt64, at DateTime)\n" +
					"ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMM(at) ORDER BY (host_id, at)"},
				{Kind: "ddl", SQL: "CREATE TABLE IF NOT EXISTS fedilens.ev AS fedilens.ev_local\n" +
					"ENGINE = Distributed(census, fedilens, ev_local, host_id)"},
			},
		},
		{
			name: "a future table without host: its sorting key's first element",
			stmt: "CREATE TABLE IF NOT EXISTS tags (tag String, day Date) ENGINE = SummingMergeTree() ORDER BY (tag, day)",
			want: []store.ClusterStep{
				{Kind: "ddl", SQL: "CREATE TABLE IF NOT EXISTS fedilens.tags_local (tag String, day Date)\nENGINE = SummingMergeTree() ORDER BY (tag, day)"},
				{Kind: "ddl", SQL: "CREATE TABLE IF NOT EXISTS fedilens.tags AS fedilens.tags_local\nENGINE = Distributed(census, fedilens, tags_local, cityHash64(tag))"},
			},
		},
		{
			name: "a table without a sorting key",
			stmt: "CREATE TABLE IF NOT EXISTS log (line String) ENGINE = MergeTree() ORDER BY tuple() SETTINGS index_granularity = 8192",
			want: []store.ClusterStep{
				{Kind: "ddl", SQL: "CREATE TABLE IF NOT EXISTS fedilens.log_local (line String)\nENGINE = MergeTree() ORDER BY tuple() SETTINGS index_granularity = 8192"},
				{Kind: "ddl", SQL: "CREATE TABLE IF NOT EXISTS fedilens.log AS fedilens.log_local\nENGINE = Distributed(census, fedilens, log_local, rand())"},
			},
		},
		{
			name: "add column, replicated", replicated: true,
			stmt: "ALTER TABLE snapshots ADD COLUMN IF NOT EXISTS flags Array(String)",
			want: []store.ClusterStep{
				{Kind: "add-column", SQL: "ALTER TABLE fedilens.snapshots_local ON CLUSTER census ADD COLUMN IF NOT EXISTS flags Array(String)",
					Add: "ALTER TABLE fedilens.snapshots_local ON CLUSTER census ADD COLUMN flags Array(String)"},
				{Kind: "add-column", SQL: "ALTER TABLE fedilens.snapshots ON CLUSTER census ADD COLUMN IF NOT EXISTS flags Array(String)",
					Add: "ALTER TABLE fedilens.snapshots ON CLUSTER census ADD COLUMN flags Array(String)"},
			},
		},
		{
			name: "add column as execMigration writes it",
			stmt: "ALTER TABLE `posts` ADD COLUMN `links` UInt16",
			want: []store.ClusterStep{
				{Kind: "add-column", SQL: "ALTER TABLE fedilens.posts_local ADD COLUMN `links` UInt16", Add: "ALTER TABLE fedilens.posts_local ADD COLUMN links UInt16"},
				{Kind: "add-column", SQL: "ALTER TABLE fedilens.posts ADD COLUMN `links` UInt16", Add: "ALTER TABLE fedilens.posts ADD COLUMN links UInt16"},
			},
		},
		{
			name: "two column changes", stmt: "ALTER TABLE t DROP COLUMN a, MODIFY COLUMN b String",
			want: []store.ClusterStep{
				{Kind: "ddl", SQL: "ALTER TABLE fedilens.t_local DROP COLUMN a, MODIFY COLUMN b String"},
				{Kind: "ddl", SQL: "ALTER TABLE fedilens.t DROP COLUMN a, MODIFY COLUMN b String"},
			},
		},
		{
			name: "delete mutation, replicated", replicated: true, stmt: "ALTER TABLE daily DELETE WHERE day = ?",
			want: []store.ClusterStep{{Kind: "mutation", SQL: "ALTER TABLE fedilens.daily_local ON CLUSTER census DELETE WHERE day = ?"}},
		},
		{
			name: "update mutation", stmt: `ALTER TABLE posts UPDATE author_key = lower(hex(SHA256(concat(?, '\n', author)))), author = '' WHERE author != ''`,
			want: []store.ClusterStep{{Kind: "mutation",
				SQL: `ALTER TABLE fedilens.posts_local UPDATE author_key = lower(hex(SHA256(concat(?, '\n', author)))), author = '' WHERE author != ''`}},
		},
		{
			name: "truncate", stmt: "TRUNCATE TABLE post_cursors",
			want: []store.ClusterStep{{Kind: "ddl", SQL: "TRUNCATE TABLE fedilens.post_cursors_local"}},
		},
		{
			name: "drop, replicated", replicated: true, stmt: "DROP TABLE IF EXISTS old",
			want: []store.ClusterStep{
				{Kind: "ddl", SQL: "DROP TABLE IF EXISTS fedilens.old ON CLUSTER census"},
				{Kind: "ddl", SQL: "DROP TABLE IF EXISTS fedilens.old_local ON CLUSTER census"},
			},
		},
		{
			name: "optimize", stmt: "OPTIMIZE TABLE daily PARTITION 202610 FINAL",
			want: []store.ClusterStep{{Kind: "ddl", SQL: "OPTIMIZE TABLE fedilens.daily_local PARTITION 202610 FINAL"}},
		},
		{
			name: "data", stmt: "\nINSERT INTO x (a) SELECT a FROM y WHERE a IN (SELECT a FROM z)",
			want: []store.ClusterStep{{Kind: "data", SQL: "INSERT INTO x (a) SELECT a FROM y WHERE a GLOBAL IN (SELECT a FROM z)"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := store.ClusterPlan(tc.stmt, "fedilens", "census", tc.replicated)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestClusterPlanRefuses(t *testing.T) {
	for _, stmt := range []string{
		"CREATE VIEW v AS SELECT 1",
		"CREATE MATERIALIZED VIEW mv TO t AS SELECT host FROM snapshots",
		"CREATE TABLE t (a UInt8) ENGINE = Memory",
		"CREATE TABLE t (a UInt8) ENGINE = ReplicatedMergeTree('/p', 'r') ORDER BY a",
		"CREATE TABLE t AS other",
		"CREATE TABLE db.t (a UInt8) ENGINE = MergeTree() ORDER BY a",
		"CREATE TABLE t ON CLUSTER c (a UInt8) ENGINE = MergeTree() ORDER BY a",
		"ALTER TABLE t ADD COLUMN a UInt8, DELETE WHERE 1",
		"RENAME TABLE a TO b",
		"DROP DATABASE fedilens",
		"ALTER TABLE t DELETE WHERE a = 'unterminated",
	} {
		_, err := store.ClusterPlan(stmt, "fedilens", "census", true)
		require.ErrorIs(t, err, store.ErrClusterUnsupported, stmt)
	}
}

func TestGlobalIn(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SELECT 1 FROM t WHERE a IN (SELECT a FROM u)", "SELECT 1 FROM t WHERE a GLOBAL IN (SELECT a FROM u)"},
		{"SELECT 1 FROM t WHERE a NOT IN (\n  SELECT a FROM u)", "SELECT 1 FROM t WHERE a GLOBAL NOT IN (\n  SELECT a FROM u)"},
		{"SELECT 1 FROM t HAVING a not in(select a from u)", "SELECT 1 FROM t HAVING a GLOBAL not in(select a from u)"},
		{"SELECT 1 FROM t WHERE a GLOBAL IN (SELECT a FROM u)", "SELECT 1 FROM t WHERE a GLOBAL IN (SELECT a FROM u)"},
		{"SELECT 1 FROM t WHERE a GLOBAL NOT IN (SELECT a FROM u)", "SELECT 1 FROM t WHERE a GLOBAL NOT IN (SELECT a FROM u)"},
		{"SELECT 1 FROM t WHERE a IN ('x', 'y') AND b IN ?", "SELECT 1 FROM t WHERE a IN ('x', 'y') AND b IN ?"},
		{"SELECT 'a IN (SELECT 1)' FROM t", "SELECT 'a IN (SELECT 1)' FROM t"},
		{"SELECT `in` FROM t -- x IN (SELECT 1)\nWHERE 1", "SELECT `in` FROM t -- x IN (SELECT 1)\nWHERE 1"},
		{"SELECT 1 FROM t WHERE a IN (SELECT b FROM u WHERE c IN (SELECT c FROM v))",
			"SELECT 1 FROM t WHERE a GLOBAL IN (SELECT b FROM u WHERE c GLOBAL IN (SELECT c FROM v))"},
		{"SELECT 'unterminated IN (SELECT", "SELECT 'unterminated IN (SELECT"},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, store.GlobalIn(tc.in), tc.in)
	}
}

func TestShardLocalGroupBy(t *testing.T) {
	const no = " SETTINGS distributed_group_by_no_merge = 1"
	tests := []struct{ in, want string }{
		{ // the census read: both levels group by their shard column
			"SELECT host, argMax(tuple(users_total), crawled_at) AS latest FROM snapshots\nGROUP BY host\n" +
				"HAVING host GLOBAL NOT IN (SELECT host FROM optouts GROUP BY host HAVING argMax(removed, version) = 0)",
			"SELECT host, argMax(tuple(users_total), crawled_at) AS latest FROM snapshots\nGROUP BY host\n" +
				"HAVING host GLOBAL NOT IN (SELECT host FROM optouts GROUP BY host HAVING argMax(removed, version) = 0" + no + ")" + no,
		},
		{
			"SELECT x FROM (\n    SELECT toDate(crawled_at) AS day, host, argMax(tuple(a), crawled_at) AS t\n    FROM snapshots FINAL\n    WHERE 1\n    GROUP BY day, host\n)",
			"SELECT x FROM (\n    SELECT toDate(crawled_at) AS day, host, argMax(tuple(a), crawled_at) AS t\n    FROM snapshots FINAL\n    WHERE 1\n    GROUP BY day, host" + no + "\n)",
		},
		{"SELECT host_id, peer_id FROM peer_events WHERE host_id IN ? GROUP BY host_id, peer_id HAVING argMax(present, at) = 1",
			"SELECT host_id, peer_id FROM peer_events WHERE host_id IN ? GROUP BY host_id, peer_id HAVING argMax(present, at) = 1" + no},
		{"SELECT id, any(host) FROM hosts WHERE id IN ? GROUP BY id", "SELECT id, any(host) FROM hosts WHERE id IN ? GROUP BY id" + no},
		{"SELECT count() FROM (SELECT 1 FROM post_cursors GROUP BY host, account_key, source)",
			"SELECT count() FROM (SELECT 1 FROM post_cursors GROUP BY host, account_key, source" + no + ")"},
		{"SELECT uri FROM posts GROUP BY uri", "SELECT uri FROM posts GROUP BY uri" + no},
		{"SELECT uri FROM posts GROUP BY uri -- why\n;", "SELECT uri FROM posts GROUP BY uri" + no + " -- why\n;"},
		{"SELECT host FROM snapshots GROUP BY host UNION ALL SELECT host FROM daily GROUP BY day",
			"SELECT host FROM snapshots GROUP BY host" + no + " UNION ALL SELECT host FROM daily GROUP BY day"},
		// Left alone: not grouped by the shard column, or per-shard
		// ORDER BY, LIMIT, DISTINCT, TOTALS, an alias, a join, a
		// qualified or unknown table, a table sharded by rand-like keys.
		{"SELECT toDate(crawled_at) AS day, uniqExact(host) FROM snapshots GROUP BY day", ""},
		{"SELECT peer_id FROM peer_events GROUP BY peer_id", ""},
		{"SELECT host, count() FROM snapshots GROUP BY host ORDER BY host", ""},
		{"SELECT host, count() FROM snapshots GROUP BY host LIMIT 10", ""},
		{"SELECT DISTINCT host FROM snapshots GROUP BY host", ""},
		{"SELECT host, count() FROM snapshots GROUP BY host WITH TOTALS", ""},
		{"SELECT domain AS host, count() FROM block_events GROUP BY host", ""},
		{"SELECT host, count() FROM snapshots AS s JOIN hosts AS h ON 1 GROUP BY host", ""},
		{"SELECT host FROM fedilens.snapshots GROUP BY host", ""},
		{"SELECT host FROM system.columns GROUP BY host", ""},
		{"SELECT host FROM (SELECT host FROM snapshots) GROUP BY host", ""},
		{"SELECT host, count() FROM snapshots GROUP BY host SETTINGS max_threads = 1", ""},
		{"SELECT host, count() FROM snapshots GROUP BY 'host'", ""},
	}
	for _, tc := range tests {
		want := tc.want
		if want == "" {
			want = tc.in
		}
		require.Equal(t, want, store.ShardLocalGroupBy(tc.in), tc.in)
	}
	cols := store.ShardColumns()
	require.Equal(t, "host", cols["snapshots"])
	require.Equal(t, "host_id", cols["peer_events"])
	require.Equal(t, "id", cols["hosts"])
	require.Equal(t, "uri", cols["posts"])
}

func TestSchemaSingleServer(t *testing.T) {
	ddl, err := store.Schema(store.Options{Addr: "clickhouse://h:9000/census"})
	require.NoError(t, err)
	require.Contains(t, ddl, "CREATE DATABASE IF NOT EXISTS census;\nUSE census;\n")
	require.NotContains(t, ddl, "Distributed")
	require.NotContains(t, ddl, "ON CLUSTER")
	require.Contains(t, ddl, strings.TrimSpace(store.MigrationStatements(1)[0])+";\n"+
		"INSERT INTO schema_migrations (version, name, applied_at) VALUES (1, 'create snapshots', now());\n")
	// Every migration statement is in it, in order.
	at := 0
	for _, stmt := range store.SchemaStatements() {
		i := strings.Index(ddl[at:], strings.TrimSpace(stmt)+";\n")
		require.GreaterOrEqual(t, i, 0, "in order: %s", stmt)
		at += i
	}
	// A migration with a Go step is left for fedilens to record.
	require.Contains(t, ddl, "-- Migration 15: convert peers into peer_events.\n-- This migration also runs a data step")
	require.NotContains(t, ddl, "VALUES (15,")

	_, err = store.Schema(store.Options{ClusterReplicated: true})
	require.Error(t, err)
	_, err = store.Schema(store.Options{Cluster: "bad name"})
	require.Error(t, err)
}

// testCluster is a ClickHouse cluster of separate servers on loopback,
// one shard each, without ZooKeeper: cluster mode's non-replicated
// variant runs on it for real, and the replicated variant's DDL is shown
// to be accepted by the server up to the point where it needs ZooKeeper.
type testCluster struct {
	name  string
	addrs []string
}

// startTestCluster starts n managed servers and then gives each the
// cluster (one shard per server) and the {shard} and {replica} macros in
// config.d, which ClickHouse reloads while running (the ports are only
// known once the servers run). The Debian package's own
// test_cluster_two_shards_localhost is no use here: its two shards are
// one server, so every row would be read twice.
func startTestCluster(t *testing.T, n int) testCluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := testCluster{name: "fedilens_test_" + fmt.Sprint(n) + "shards", addrs: make([]string, n)}
	dirs := make([]string, n)
	servers := make([]*chserver.Server, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		dirs[i] = t.TempDir()
		wg.Add(1)
		go func() {
			defer wg.Done()
			servers[i], errs[i] = chserver.Start(ctx, chserver.Options{DataDir: dirs[i]})
		}()
	}
	wg.Wait()
	for i := range n {
		if servers[i] != nil {
			srv := servers[i]
			t.Cleanup(func() {
				stopCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				if err := srv.Stop(stopCtx); err != nil {
					t.Errorf("stop cluster node: %v", err)
				}
			})
		}
	}
	for i := range n {
		require.NoError(t, errs[i], "start cluster node %d", i+1)
		c.addrs[i] = servers[i].Addr()
	}

	var shards strings.Builder
	for _, a := range c.addrs {
		host, port, err := net.SplitHostPort(a)
		require.NoError(t, err)
		fmt.Fprintf(&shards, "<shard><replica><host>%s</host><port>%s</port></replica></shard>", host, port)
	}
	for i, dir := range dirs {
		root := filepath.Join(dir, "clickhouse")
		main, err := os.ReadFile(filepath.Join(root, "config.xml"))
		require.NoError(t, err)
		elem := "yandex"
		if strings.Contains(string(main), "<clickhouse>") {
			elem = "clickhouse"
		}
		// fedilens_test_twice is the first server as two shards, the
		// mistake Open must refuse.
		cfg := fmt.Sprintf(`<?xml version="1.0"?>
<%[1]s>
  <remote_servers>
    <%[2]s>%[3]s</%[2]s>
    <fedilens_test_twice>%[5]s%[5]s</fedilens_test_twice>
  </remote_servers>
  <macros><shard>%02[4]d</shard><replica>node%[4]d</replica></macros>
</%[1]s>
`, elem, c.name, shards.String(), i+1, strings.SplitAfter(shards.String(), "</shard>")[0])
		require.NoError(t, os.MkdirAll(filepath.Join(root, "config.d"), 0o750))
		require.NoError(t, os.WriteFile(filepath.Join(root, "config.d", "fedilens-test-cluster.xml"), []byte(cfg), 0o640))
	}
	for _, a := range c.addrs {
		conn := rawConn(t, a)
		require.Eventually(t, func() bool {
			var shards, macros uint64
			if err := conn.QueryRow(ctx, "SELECT count() FROM system.clusters WHERE cluster = ?", c.name).Scan(&shards); err != nil {
				return false
			}
			if err := conn.QueryRow(ctx, "SELECT count() FROM system.macros WHERE macro IN ('shard', 'replica')").Scan(&macros); err != nil {
				return false
			}
			return shards == uint64(n) && macros == 2
		}, 60*time.Second, 100*time.Millisecond, "node %s loads the cluster configuration", a)
	}
	return c
}

// column reads a query of one column.
func column[T any](t *testing.T, conn driver.Conn, query string) []T {
	t.Helper()
	rows, err := conn.Query(context.Background(), query)
	require.NoError(t, err)
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		require.NoError(t, rows.Scan(&v))
		out = append(out, v)
	}
	require.NoError(t, rows.Err())
	return out
}

// rawConn is a plain connection to one server, closed with the test.
func rawConn(t *testing.T, addr string) driver.Conn {
	t.Helper()
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{addr}, MaxOpenConns: 2})
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// TestCluster runs cluster mode on a real two-shard cluster of two
// servers (no ZooKeeper here): the store without replication against a
// single-server store fed the same data, and the replicated variant's DDL
// as far as a server without ZooKeeper takes it.
func TestCluster(t *testing.T) {
	t.Parallel()
	c := startTestCluster(t, 2)

	t.Run("matches a single server", func(t *testing.T) { testClusterMatchesSingleServer(t, c) })
	t.Run("replicated DDL is accepted up to ZooKeeper", func(t *testing.T) { testReplicatedDDLParses(t, c) })
	t.Run("refuses a misconfigured cluster", func(t *testing.T) {
		ctx := ctxT(t)
		t.Cleanup(func() { require.NoError(t, chtest.DropDatabase(c.addrs[0], "fl_nocluster")) })
		_, err := store.Open(ctx, store.Options{Addr: c.addrs[0], Database: "fl_nocluster", Cluster: "no_such_cluster"})
		require.ErrorContains(t, err, "no cluster of that name")
		_, err = store.Open(ctx, store.Options{Addr: c.addrs[0], Database: "fl_nocluster", Cluster: "bad/name"})
		require.ErrorContains(t, err, "invalid cluster name")
		_, err = store.Open(ctx, store.Options{Addr: c.addrs[0], Database: "fl_nocluster", Cluster: "fedilens_test_twice"})
		require.ErrorContains(t, err, "more than once")
		_, err = store.Open(ctx, store.Options{Addr: c.addrs[0], Database: "fl_nocluster", ClusterReplicated: true})
		require.ErrorContains(t, err, "needs a Cluster")

		// A single server's database is not silently read as a cluster's.
		single, err := store.Open(ctx, store.Options{Addr: c.addrs[0], Database: "fl_nocluster"})
		require.NoError(t, err)
		require.NoError(t, single.Close())
		_, err = store.Open(ctx, store.Options{Addr: c.addrs[0], Database: "fl_nocluster", Cluster: c.name})
		require.ErrorContains(t, err, "holds single-server tables")
	})
}

// clusterData is a small census over three days: snapshots (some with
// unknown counts, one suspect), peer and block lists that change, host
// states written twice, posts and post cursors, and one opt-out.
type clusterData struct {
	days  [4]time.Time // the last one is "now": not closed
	hosts []string
}

func newClusterData() clusterData {
	d := clusterData{}
	for i := range d.days {
		d.days[i] = time.Date(2026, 3, 2+i, 0, 0, 0, 0, time.UTC)
	}
	for i := range 16 {
		d.hosts = append(d.hosts, fmt.Sprintf("h%02d.example", i))
	}
	return d
}

func (d clusterData) snapshots(day int) []model.Snapshot {
	softwares := []string{"mastodon", "misskey", "lemmy"}
	var out []model.Snapshot
	for i, h := range d.hosts {
		if (i+day)%5 == 0 { // not every host every day
			continue
		}
		sn := model.Snapshot{
			Host: h, CrawledAt: d.days[day].Add(time.Duration(1+i%7) * time.Hour),
			Software: softwares[i%3], Version: fmt.Sprintf("4.%d.0", day), Title: "Instance " + h,
			OpenRegistrations: i%2 == 0, Protocols: []string{"activitypub"}, Languages: []string{[]string{"en", "de"}[i%2]},
			UsersTotal: n64(int64(100*i + day)), UsersActiveMonth: n64(int64(10 * i)), LocalPosts: n64(int64(1000 * i)),
		}
		if i%6 == 1 {
			sn.UsersTotal = nil // unknown: argMax must keep the latest NULL
		}
		if i == 7 {
			sn.Flags = []string{sanity.SuspectFlags()[0]}
		}
		out = append(out, sn)
	}
	return out
}

func (d clusterData) peers(day int) []model.Peers {
	var out []model.Peers
	for i, h := range d.hosts {
		var peers []string
		for j := 1; j <= 5; j++ {
			peers = append(peers, d.hosts[(i+j*(day+1))%len(d.hosts)])
		}
		peers = append(peers, fmt.Sprintf("only-listed-%d.example", i%4))
		sort.Strings(peers)
		out = append(out, model.Peers{Host: h, CrawledAt: d.days[day].Add(time.Hour), Peers: dedupe(peers)})
	}
	return out
}

func (d clusterData) blocks(day int) []model.Blocks {
	var out []model.Blocks
	for i, h := range d.hosts {
		if i%3 != 0 {
			continue
		}
		bl := []model.DomainBlock{{Domain: "spam.example", Severity: "suspend", Reason: "spam", Source: model.BlockSourceMastodon}}
		if day > 0 {
			bl = append(bl, model.DomainBlock{Domain: fmt.Sprintf("bad%d.example", i), Severity: "silence", Reason: "day " + fmt.Sprint(day),
				Source: model.BlockSourceMastodon})
		}
		out = append(out, model.Blocks{Host: h, CrawledAt: d.days[day].Add(2 * time.Hour), Blocks: bl})
	}
	return out
}

func (d clusterData) states(status model.HostStatus) []model.HostState {
	var out []model.HostState
	for i, h := range d.hosts {
		out = append(out, model.HostState{Host: h, Status: status, Software: "mastodon", Failures: uint32(i),
			LastAttempt: d.days[1], NextDue: d.days[3].Add(time.Duration(i) * time.Minute), FirstSeen: d.days[0]})
	}
	return out
}

func (d clusterData) posts() []model.Post {
	var out []model.Post
	for i, h := range d.hosts[:12] {
		for j := range 3 {
			out = append(out, model.Post{URI: fmt.Sprintf("https://%s/statuses/%d", h, j), Host: h,
				Author: fmt.Sprintf("user%d@%s", j, h), Created: d.days[j], Language: []string{"en", "de", "fr"}[j],
				Tags: []string{"t" + fmt.Sprint(i%4)}, Kind: "note", Source: "mastodon"})
		}
	}
	return out
}

func dedupe(v []string) []string {
	out := v[:0]
	for i, s := range v {
		if i == 0 || s != v[i-1] {
			out = append(out, s)
		}
	}
	return out
}

// feed writes the same history into s through the store's normal paths,
// rolling up as it goes, and returns what each Rollup said.
func (d clusterData) feed(t *testing.T, s *store.Store) []store.RollupStats {
	t.Helper()
	ctx := ctxT(t)
	var rolls []store.RollupStats
	roll := func(through time.Time) {
		st, err := s.Rollup(ctx, through)
		require.NoError(t, err)
		rolls = append(rolls, st)
	}
	require.NoError(t, s.AddOptOut(ctx, model.OptOut{Host: d.hosts[5], Reason: "asked", AddedAt: d.days[0]}))
	require.NoError(t, s.UpsertHostStates(ctx, d.states(model.StatusUnreachable)))
	for day := range 3 {
		require.NoError(t, s.InsertSnapshots(ctx, d.snapshots(day)))
		require.NoError(t, s.InsertPeers(ctx, d.peers(day)))
		require.NoError(t, s.InsertBlocks(ctx, d.blocks(day)))
		roll(d.days[day+1].Add(time.Hour))
	}
	require.NoError(t, s.UpsertHostStates(ctx, d.states(model.StatusOK)))
	// A late snapshot of a day rolled up: the day is redone (a DELETE
	// mutation on daily, then the rows again).
	late := model.Snapshot{Host: d.hosts[3], CrawledAt: d.days[0].Add(23 * time.Hour), Software: "mastodon", UsersTotal: n64(999999)}
	require.NoError(t, s.InsertSnapshots(ctx, []model.Snapshot{late}))
	roll(d.days[3].Add(2 * time.Hour))

	require.NoError(t, s.InsertPosts(ctx, d.posts()))
	purged, err := s.PurgePosts(ctx, store.Purge{Hosts: []string{d.hosts[0], d.hosts[1]}, URIs: []string{"https://" + d.hosts[4] + "/statuses/1"}})
	require.NoError(t, err)
	require.Equal(t, 7, purged)
	require.NoError(t, s.UpsertPostCursors(ctx, []model.PostCursor{
		{Host: d.hosts[2], Account: "a@" + d.hosts[2], Source: "mastodon", Cursor: "1"},
		{Host: d.hosts[9], Account: "b@" + d.hosts[9], Source: "mastodon", Cursor: "2"},
	}))
	n, err := s.ResetPostCursors(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	return rolls
}

// clusterView is everything the readers say about the census.
type clusterView struct {
	Rolls         []store.RollupStats
	ByUsers       []model.Instance
	ByHost        []model.Instance
	Instances     map[string]model.Instance
	Histories     map[string][]model.Snapshot
	Missing       []string
	Peers         map[string][]string
	PeerHosts     []string
	InDegree      []model.HostCount
	Degrees       map[string]int64
	Blocks        map[string][]store.BlockLink
	Summary       model.Summary
	Share         []model.SoftwareShare
	OverTime      []model.DayCount
	States        []model.HostState
	PostURIs      []string
	PostCursors   []model.PostCursor
	DayRows       map[string][]string
	DayRowsLast   map[string]time.Time
	OptedOutPosts []string
	// Stats are internal/stats's answers over DayRows.
	Stats map[string]any
}

func readView(t *testing.T, s *store.Store, d clusterData, rolls []store.RollupStats) clusterView {
	t.Helper()
	ctx := ctxT(t)
	for i := range rolls { // timings differ between runs
		rolls[i].Aggregates.Took = 0
	}
	v := clusterView{Rolls: rolls, Instances: map[string]model.Instance{}, Histories: map[string][]model.Snapshot{},
		Peers: map[string][]string{}, Blocks: map[string][]store.BlockLink{}, DayRows: map[string][]string{},
		DayRowsLast: map[string]time.Time{}}

	for _, sortBy := range []string{"users", "host"} {
		cursor := ""
		for {
			page, err := s.Instances(ctx, model.InstanceQuery{Sort: sortBy, Limit: 7, Cursor: cursor})
			require.NoError(t, err)
			if sortBy == "users" {
				v.ByUsers = append(v.ByUsers, page.Instances...)
			} else {
				v.ByHost = append(v.ByHost, page.Instances...)
			}
			if page.NextCursor == "" {
				break
			}
			cursor = page.NextCursor
		}
	}
	var err error
	for _, h := range d.hosts {
		in, hist, err := s.Instance(ctx, h)
		if errors.Is(err, model.ErrNotFound) {
			v.Missing = append(v.Missing, h)
		} else {
			require.NoError(t, err)
			v.Instances[h], v.Histories[h] = in, hist
		}
		peers, err := s.Peers(ctx, h)
		require.NoError(t, err)
		v.Peers[h] = peers
		blocks, err := s.Blocks(ctx, h, time.Time{})
		if !errors.Is(err, model.ErrNotFound) {
			require.NoError(t, err)
			v.Blocks[h] = blocks
		}
		cursors, err := s.PostCursors(ctx, h)
		require.NoError(t, err)
		v.PostCursors = append(v.PostCursors, cursors...)
	}
	v.PeerHosts, err = s.PeerHosts(ctx)
	require.NoError(t, err)
	v.InDegree, err = s.InDegree(ctx, time.Time{}, 10)
	require.NoError(t, err)
	v.Degrees, err = s.Degrees(ctx, d.days[1].Add(12*time.Hour))
	require.NoError(t, err)
	v.Summary, err = s.Summary(ctx)
	require.NoError(t, err)
	v.Share, err = s.SoftwareShare(ctx)
	require.NoError(t, err)
	v.OverTime, err = s.InstancesOverTime(ctx)
	require.NoError(t, err)
	v.States, err = s.HostStates(ctx)
	require.NoError(t, err)
	v.PostURIs, err = s.PostURIs(ctx)
	require.NoError(t, err)
	v.OptedOutPosts, err = s.OptedOutPostURIs(ctx)
	require.NoError(t, err)

	filters := map[string]store.DayFilter{
		"all":      {IncludeFlagged: true},
		"clean":    {},
		"software": {Software: []string{"misskey"}, From: d.days[1]},
		"at":       {At: true, To: d.days[1]},
		"carry":    {CarryDays: 3},
		"host":     {Host: d.hosts[3]},
		"language": {Language: "de", To: d.days[2]},
	}
	for name, f := range filters {
		q, err := s.DayRows(ctx, f, "day", "host", "software", "users_total", "languages", "suspect")
		require.NoError(t, err)
		rows, err := s.ReadQuery(ctx, q.SQL)
		require.NoError(t, err)
		var out []string
		for rows.Next() {
			var (
				day           time.Time
				host, sw      string
				users         *int64
				langs         []string
				suspect       uint8
				usersReadable = "null"
			)
			require.NoError(t, rows.Scan(&day, &host, &sw, &users, &langs, &suspect))
			if users != nil {
				usersReadable = fmt.Sprint(*users)
			}
			out = append(out, fmt.Sprintf("%s %s %s %s %v %d", day.Format(time.DateOnly), host, sw, usersReadable, langs, suspect))
		}
		require.NoError(t, rows.Err())
		rows.Close()
		sort.Strings(out)
		v.DayRows[name], v.DayRowsLast[name] = out, q.Last
	}

	st := stats.New(s, stats.Options{})
	v.Stats = map[string]any{}
	keep := func(name string, res any, err error) {
		require.NoError(t, err, name)
		v.Stats[name] = res
	}
	q := stats.Query{CarryDays: 2}
	res1, err := st.Totals(ctx, q)
	keep("totals", res1, err)
	res2, err := st.SoftwareShareOverTime(ctx, stats.Query{Interval: stats.Week, IncludeFlagged: true})
	keep("software over time", res2, err)
	res3, err := st.VersionShare(ctx, q, "mastodon")
	keep("versions", res3, err)
	res4, err := st.Growth(ctx, q)
	keep("growth", res4, err)
	res5, err := st.Sizes(ctx, q)
	keep("sizes", res5, err)
	res6, err := st.Languages(ctx, q)
	keep("languages", res6, err)
	res7, err := st.Registrations(ctx, q)
	keep("registrations", res7, err)
	res8, err := st.History(ctx, d.hosts[3], stats.Query{})
	keep("history", res8, err)
	return v
}

// testClusterMatchesSingleServer writes the same census into a store on
// the cluster and into one on a single server, through the store's normal
// paths, and requires every reader to give the same answer; then checks
// that the rows really are spread over the shards, each host on one.
func testClusterMatchesSingleServer(t *testing.T, c testCluster) {
	d := newClusterData()
	// Two stores migrated, filled and rolled up, each reader run on both:
	// more than ctxT's budget on a loaded 2-core machine.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	single := chtest.Store(t)
	const db = "fl_cluster_census"
	clustered, err := store.Open(ctx, store.Options{Addr: c.addrs[0], Database: db, Cluster: c.name})
	require.NoError(t, err)
	t.Cleanup(func() {
		require.NoError(t, clustered.Close())
		for _, a := range c.addrs {
			require.NoError(t, chtest.DropDatabase(a, db))
		}
	})

	var want, got clusterView
	t.Run("feed and read", func(t *testing.T) {
		t.Run("single server", func(t *testing.T) {
			t.Parallel()
			want = readView(t, single, d, d.feed(t, single))
		})
		t.Run("cluster", func(t *testing.T) {
			t.Parallel()
			got = readView(t, clustered, d, d.feed(t, clustered))
		})
	})
	if t.Failed() {
		return
	}

	// The data set exercises what it should.
	require.Len(t, want.ByUsers, len(d.hosts)-1, "every host but the opted-out one")
	require.Equal(t, []string{d.hosts[5]}, want.Missing)
	require.Equal(t, []string{"2026-03-02"}, rollupDays(want.Rolls[3]), "the late snapshot's day is redone")
	require.NotEmpty(t, want.DayRows["carry"])
	require.NotEmpty(t, want.DayRows["software"])
	require.Len(t, want.PostURIs, 36-7)
	require.Empty(t, want.PostCursors, "cursors were reset")
	require.NotEmpty(t, want.InDegree)
	require.NotZero(t, want.Summary.Flagged)
	require.Contains(t, want.DayRows["all"], "2026-03-02 h03.example mastodon 999999 [] 0", "the redone day has the late snapshot")
	require.NotEmpty(t, want.Stats["totals"])
	require.NotEmpty(t, want.Stats["history"])

	// PostCursors and Summary.IndexedPosts are the same too; only the
	// author keys differ (each store has its own secret).
	require.Equal(t, want, got)

	// The rows are sharded: both shards hold some, each host's rows of
	// every host-keyed table are on one shard, and its link events sit on
	// the same shard as its snapshots (host_id = cityHash64(host)).
	hostsOn := make([]map[string]bool, len(c.addrs))
	shardOf := map[string]int{}
	total := uint64(0)
	for i, a := range c.addrs {
		conn := rawConn(t, a)
		hostsOn[i] = map[string]bool{}
		hosts := column[string](t, conn, "SELECT DISTINCT host FROM "+db+".snapshots_local")
		require.NotEmpty(t, hosts, "shard %d has snapshots", i+1)
		for _, h := range hosts {
			_, twice := shardOf[h]
			require.False(t, twice, "host %s is on one shard only", h)
			hostsOn[i][h], shardOf[h] = true, i
		}
		var n uint64
		require.NoError(t, conn.QueryRow(ctx, "SELECT count() FROM "+db+".snapshots_local").Scan(&n))
		total += n
	}
	for i, a := range c.addrs {
		conn := rawConn(t, a)
		stateHosts := column[string](t, conn, "SELECT DISTINCT host FROM "+db+".host_states_local")
		for _, h := range stateHosts {
			if j, ok := shardOf[h]; ok {
				require.Equal(t, j, i, "the state of %s is on the shard of its snapshots", h)
			}
		}
		linked := column[uint64](t, conn, "SELECT DISTINCT host_id FROM "+db+".peer_events_local")
		require.NotEmpty(t, linked, "shard %d has peer events", i+1)
		for _, id := range linked {
			for h, j := range shardOf {
				if hostid.Of(h) == id {
					require.Equal(t, j, i, "the peer events of %s are on the shard of its snapshots", h)
				}
			}
		}
	}
	var singleTotal uint64
	require.NoError(t, single.Conn().QueryRow(ctx, "SELECT count() FROM snapshots").Scan(&singleTotal))
	require.Equal(t, singleTotal, total, "the shards hold every snapshot once")

	// Every table of the database is a shard table or a Distributed table
	// over one, on every node: nothing left unsharded.
	for _, a := range c.addrs {
		var names, engines []string
		rows, err := rawConn(t, a).Query(ctx, "SELECT name, engine FROM system.tables WHERE database = ? ORDER BY name", db)
		require.NoError(t, err)
		for rows.Next() {
			var n, e string
			require.NoError(t, rows.Scan(&n, &e))
			names, engines = append(names, n), append(engines, e)
		}
		require.NoError(t, rows.Err())
		rows.Close()
		require.Len(t, names, 2*len(store.ShardColumns()))
		for i, n := range names {
			if base, ok := strings.CutSuffix(n, "_local"); ok {
				require.True(t, strings.HasSuffix(engines[i], "MergeTree"), "%s on %s is %s", n, a, engines[i])
				require.Contains(t, names, base)
			} else {
				require.Equal(t, "Distributed", engines[i], "%s on %s", n, a)
			}
		}
	}

	// The migrations bookkeeping is one set, read alike through any node:
	// a store opened through the other node finds every migration applied
	// (it would fail re-creating nothing, but would log and record them
	// again) and reads the same census.
	var rows, versions uint64
	require.NoError(t, clustered.Conn().QueryRow(ctx, "SELECT count(), uniqExact(version) FROM schema_migrations").Scan(&rows, &versions))
	require.Equal(t, uint64(len(store.MigrationVersions())), rows, "each migration recorded once, cluster-wide")
	require.Equal(t, rows, versions)
	other, err := store.Open(ctx, store.Options{Addr: c.addrs[1], Database: db, Cluster: c.name})
	require.NoError(t, err)
	defer other.Close()
	require.NoError(t, other.Conn().QueryRow(ctx, "SELECT count() FROM schema_migrations").Scan(&rows))
	require.Equal(t, uint64(len(store.MigrationVersions())), rows, "opening through the other node applied nothing again")
	page, err := other.Instances(ctx, model.InstanceQuery{Sort: "users", Limit: 1000})
	require.NoError(t, err)
	require.Equal(t, want.ByUsers, page.Instances)

	// Nor is a cluster's database opened as a single server's.
	_, err = store.Open(ctx, store.Options{Addr: c.addrs[1], Database: db})
	require.ErrorContains(t, err, "laid out for a cluster")
}

// testReplicatedDDLParses sends the replicated variant's statements to a
// server without ZooKeeper. There is no ZooKeeper here, so no replicated
// table can be created and no ON CLUSTER statement run; what the server
// does show is that it accepts every statement's syntax, and, for a shard
// table created without ON CLUSTER, the engine, its arguments and the
// expanded macros, failing only where it needs ZooKeeper. The replicated
// variant itself is not run.
func testReplicatedDDLParses(t *testing.T, c testCluster) {
	ctx := ctxT(t)
	conn := rawConn(t, c.addrs[0])
	const db = "fl_replicated_parse"
	// Not dropped after: 18.16 leaves the folders of the replicated tables
	// it failed to create, which DROP DATABASE refuses; the server and its
	// folder go when the test ends.
	require.NoError(t, conn.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+db))

	var exc *clickhouse.Exception
	creates := 0
	for _, stmt := range store.SchemaStatements() {
		steps, err := store.ClusterPlan(stmt, db, c.name, true)
		require.NoError(t, err)
		for _, st := range steps {
			sql := st.SQL
			if st.Kind == "add-column" {
				sql = st.Add // what the store runs, on 18.16 too
			}
			if st.Kind == "data" {
				continue
			}
			err := conn.Exec(ctx, sql)
			require.Error(t, err, "no ON CLUSTER without ZooKeeper: %s", sql)
			require.ErrorAs(t, err, &exc)
			require.NotEqual(t, int32(62), exc.Code, "the server parses: %s: %v", sql, err)
			require.NotContains(t, err.Error(), "Syntax error", sql)

			if strings.Contains(sql, "_local ON CLUSTER") && strings.HasPrefix(sql, "CREATE TABLE") {
				creates++
				err := conn.Exec(ctx, strings.Replace(sql, " ON CLUSTER "+c.name, "", 1))
				require.ErrorAs(t, err, &exc, sql)
				require.Contains(t, strings.ToLower(err.Error()), "zookeeper", "only ZooKeeper is missing: %s", sql)
			}
		}
	}
	require.Equal(t, len(store.ShardColumns()), creates)
}
