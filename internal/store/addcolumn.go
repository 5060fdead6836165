package store

import (
	"context"
	"fmt"
	"regexp"
)

// addColumnRE matches a migration statement that adds one column if it is
// missing: ALTER TABLE t ADD COLUMN IF NOT EXISTS c Type ...
var addColumnRE = regexp.MustCompile(`(?is)^\s*ALTER\s+TABLE\s+([A-Za-z_][A-Za-z0-9_]*)\s+ADD\s+COLUMN\s+IF\s+NOT\s+EXISTS\s+([A-Za-z_][A-Za-z0-9_]*)\s+(.+?)\s*$`)

// execMigration runs one migration statement. ClickHouse 18.16 has no
// ADD COLUMN IF NOT EXISTS (a syntax error there), yet it is the only way
// to write an idempotent column addition as one statement on current
// releases; so such a statement (one column each) is carried out the same
// way on every server: look the column up in system.columns and add it
// without the clause when it is missing. Another process adding it at the
// same moment is no error, the column is simply there.
func (s *Store) execMigration(ctx context.Context, stmt string) error {
	m := addColumnRE.FindStringSubmatch(stmt)
	if m == nil {
		return s.conn.Exec(ctx, stmt)
	}
	table, column, spec := m[1], m[2], m[3]
	exists, err := s.columnExists(ctx, table, column)
	if err != nil || exists {
		return err
	}
	err = s.conn.Exec(ctx, "ALTER TABLE "+quoteIdent(table)+" ADD COLUMN "+quoteIdent(column)+" "+spec)
	if err != nil {
		if again, cerr := s.columnExists(ctx, table, column); cerr == nil && again {
			return nil
		}
		return err
	}
	return nil
}

// columnExists reports whether table in the store's database has column.
func (s *Store) columnExists(ctx context.Context, table, column string) (bool, error) {
	var n uint64
	err := s.conn.QueryRow(ctx, "SELECT count() FROM system.columns WHERE database = ? AND table = ? AND name = ?",
		s.database, table, column).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("look up column %s.%s: %w", table, column, err)
	}
	return n > 0, nil
}
