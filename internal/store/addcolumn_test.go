package store_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/chtest"
)

// TestAddColumnIfNotExists: the one idempotent column addition works on
// every server, also when two migrations run it at once.
func TestAddColumnIfNotExists(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := ctxT(t)
	require.NoError(t, s.ExecMigration(ctx, "CREATE TABLE IF NOT EXISTS t_add (k String) ENGINE = MergeTree() ORDER BY k"))

	stmts := []string{
		"ALTER TABLE t_add ADD COLUMN IF NOT EXISTS a Array(String)",
		"  alter table t_add add column if not exists b UInt8 DEFAULT 7\n",
		"ALTER TABLE t_add\n    ADD COLUMN IF NOT EXISTS c Nullable(Int64) AFTER k",
	}
	for range 2 {
		for _, stmt := range stmts {
			require.NoError(t, s.ExecMigration(ctx, stmt), stmt)
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.ExecMigration(ctx, "ALTER TABLE t_add ADD COLUMN IF NOT EXISTS d String")
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}

	var cols []string
	rows, err := s.Conn().Query(ctx, "SELECT name FROM system.columns WHERE database = ? AND table = 't_add'", s.Database())
	require.NoError(t, err)
	for rows.Next() {
		var c string
		require.NoError(t, rows.Scan(&c))
		cols = append(cols, c)
	}
	require.NoError(t, rows.Err())
	rows.Close()
	require.ElementsMatch(t, []string{"k", "c", "a", "b", "d"}, cols)

	// Anything else goes to the server as written, errors included.
	require.Error(t, s.ExecMigration(ctx, "ALTER TABLE t_add ADD COLUMN a String"), "a plain ADD of an existing column")
	require.Error(t, s.ExecMigration(ctx, "ALTER TABLE no_such_table ADD COLUMN IF NOT EXISTS x String"))
}
