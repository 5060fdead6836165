package chtest_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/chtest"
)

func TestMain(m *testing.M) { os.Exit(chtest.Main(m)) }

func databaseExists(t *testing.T, name string) bool {
	t.Helper()
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{chtest.Addr()}})
	require.NoError(t, err)
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var n uint64
	require.NoError(t, conn.QueryRow(ctx, "SELECT count() FROM system.databases WHERE name = ?", name).Scan(&n))
	return n > 0
}

func TestStoreIsFreshAndDropped(t *testing.T) {
	var names []string
	t.Run("open", func(t *testing.T) {
		for range 2 {
			s := chtest.Store(t)
			names = append(names, s.Database())
			require.True(t, databaseExists(t, s.Database()))
			n, err := s.PostCount(context.Background())
			require.NoError(t, err)
			require.Zero(t, n)
		}
		require.NotEqual(t, names[0], names[1], "every call gets its own database")
	})
	for _, name := range names {
		require.False(t, databaseExists(t, name), "database %s dropped after its test", name)
	}
}
