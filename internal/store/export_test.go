package store

import "github.com/ClickHouse/clickhouse-go/v2/lib/driver"

// Test-only access to internals for the external test package, which
// cannot be the store package itself because chtest imports store.

// Conn exposes the connection for assertions on raw rows.
func (s *Store) Conn() driver.Conn { return s.conn }

// MigrationVersions lists the versions of the migration list, in order.
func MigrationVersions() []uint32 {
	out := make([]uint32, len(migrations))
	for i, m := range migrations {
		out[i] = m.version
	}
	return out
}

// ClientOptions exposes the option parsing.
var ClientOptions = clientOptions
