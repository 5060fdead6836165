package store_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/chtest"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/store"
)

func TestMain(m *testing.M) { os.Exit(chtest.Main(m)) }

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestMigrateIdempotent(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := ctxT(t)
	require.NotEmpty(t, s.ServerVersion())
	require.NoError(t, s.Ping(ctx))

	// Open already migrated; twice more must change nothing.
	require.NoError(t, s.Migrate(ctx))
	require.NoError(t, s.Migrate(ctx))

	var rows, versions uint64
	require.NoError(t, s.Conn().QueryRow(ctx, "SELECT count(), uniqExact(version) FROM schema_migrations").Scan(&rows, &versions))
	require.Equal(t, uint64(len(store.MigrationVersions())), rows, "each migration recorded once")
	require.Equal(t, rows, versions)

	var tables []string
	r, err := s.Conn().Query(ctx, "SELECT name FROM system.tables WHERE database = ? ORDER BY name", s.Database())
	require.NoError(t, err)
	for r.Next() {
		var name string
		require.NoError(t, r.Scan(&name))
		tables = append(tables, name)
	}
	require.NoError(t, r.Err())
	r.Close()
	require.Equal(t, []string{"agg_log", "authors", "block_events", "blocked_top", "daily", "daily_agg", "daily_agg_versions",
		"forgotten_authors", "host_runs", "host_states", "hosts", "in_degree_hist", "in_degree_top", "installation",
		"instances_latest", "link_summaries", "optouts", "peer_events", "peer_events_by_peer", "peers", "post_access",
		"post_boosts", "post_cursors", "posts", "reasons_top", "rollups",
		"schema_migrations", "snapshots", "submissions", "watch_daily"}, tables)

	// A second Open on the same database, through a DSN, finds it migrated.
	s2, err := store.Open(ctx, store.Options{Addr: "clickhouse://" + chtest.Addr() + "/" + s.Database()})
	require.NoError(t, err)
	require.Equal(t, s.Database(), s2.Database())
	require.NoError(t, s2.Close())
	require.NoError(t, s.Conn().QueryRow(ctx, "SELECT count() FROM schema_migrations").Scan(&rows))
	require.Equal(t, uint64(len(store.MigrationVersions())), rows)
}

func TestMigrationVersionsOrdered(t *testing.T) {
	v := store.MigrationVersions()
	require.NotEmpty(t, v)
	require.Equal(t, uint32(1), v[0])
	// Versions are handed out in ranges per feature branch, so the list
	// may have gaps; it must be strictly increasing.
	for i := 1; i < len(v); i++ {
		require.Greater(t, v[i], v[i-1], "migration versions must be strictly increasing")
	}
}

func TestClientOptions(t *testing.T) {
	tests := []struct {
		name     string
		opts     store.Options
		wantAddr string
		wantDB   string
		wantUser string
		wantErr  bool
	}{
		{name: "host and port", opts: store.Options{Addr: "127.0.0.1:9001"}, wantAddr: "127.0.0.1:9001", wantDB: "fedilens"},
		{name: "host without port", opts: store.Options{Addr: "db.internal"}, wantAddr: "db.internal:9000", wantDB: "fedilens"},
		{name: "explicit database", opts: store.Options{Addr: "h:9000", Database: "census"}, wantAddr: "h:9000", wantDB: "census"},
		{
			name:     "dsn",
			opts:     store.Options{Addr: "clickhouse://bob:pw@h:9440/stats?dial_timeout=5s"},
			wantAddr: "h:9440", wantDB: "stats", wantUser: "bob",
		},
		{
			name:     "options override dsn",
			opts:     store.Options{Addr: "clickhouse://bob:pw@h:9440/stats", Database: "other", Username: "alice"},
			wantAddr: "h:9440", wantDB: "other", wantUser: "alice",
		},
		{name: "http is refused", opts: store.Options{Addr: "http://h:8123"}, wantErr: true},
		{name: "empty", opts: store.Options{}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := store.ClientOptions(tc.opts)
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, []string{tc.wantAddr}, got.Addr)
			require.Equal(t, tc.wantDB, got.Auth.Database)
			require.Equal(t, tc.wantUser, got.Auth.Username)
		})
	}
}

func TestOpenRejectsBadDatabaseName(t *testing.T) {
	_, err := store.Open(ctxT(t), store.Options{Addr: chtest.Addr(), Database: "x`; DROP DATABASE system; --"})
	require.ErrorContains(t, err, "invalid database name")
}

func TestEmptyWritesAreNoops(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := ctxT(t)
	require.NoError(t, s.InsertSnapshots(ctx, nil))
	require.NoError(t, s.InsertPeers(ctx, nil))
	require.NoError(t, s.UpsertHostStates(ctx, nil))
	require.NoError(t, s.InsertPosts(ctx, nil))
	require.NoError(t, s.DeletePosts(ctx, nil))

	sum, err := s.Summary(ctx)
	require.NoError(t, err)
	require.Equal(t, model.Summary{}, sum, "an empty census has a zero summary (and a zero LastCrawl)")
	share, err := s.SoftwareShare(ctx)
	require.NoError(t, err)
	require.Empty(t, share)
	days, err := s.InstancesOverTime(ctx)
	require.NoError(t, err)
	require.Empty(t, days)
	states, err := s.HostStates(ctx)
	require.NoError(t, err)
	require.Empty(t, states)
	page, err := s.Instances(ctx, model.InstanceQuery{})
	require.NoError(t, err)
	require.Empty(t, page.Instances)
	require.Empty(t, page.NextCursor)
}
