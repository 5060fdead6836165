package store

import (
	"context"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Test-only access to internals for the external test package, which
// cannot be the store package itself because chtest imports store.

// Conn exposes the connection for assertions on raw rows.
func (s *Store) Conn() driver.Conn { return s.conn }

// MigrationVersions lists the versions of the migration list, in order.
func MigrationVersions() []uint32 {
	all := ordered()
	out := make([]uint32, len(all))
	for i, m := range all {
		out[i] = m.version
	}
	return out
}

// ClientOptions exposes the option parsing.
var ClientOptions = clientOptions

// MigrationStatements returns the statements of one migration version.
func MigrationStatements(version uint32) []string {
	for _, m := range ordered() {
		if m.version == version {
			return m.statements
		}
	}
	return nil
}

// ExecMigration runs one migration statement the way Migrate does.
func (s *Store) ExecMigration(ctx context.Context, stmt string) error {
	return s.execMigration(ctx, stmt)
}
