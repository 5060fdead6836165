package store

import (
	"context"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/fedilens/fedilens/internal/model"
)

// Migration 5 adds the instance document's fields to snapshots (see
// model.Snapshot). They are plain columns with empty defaults, so rows
// written before it read as "no instance document".
var _ = register(migration{
	version: 5,
	name:    "snapshots: instance document fields",
	statements: []string{
		`ALTER TABLE snapshots ADD COLUMN IF NOT EXISTS instance_title String`,
		`ALTER TABLE snapshots ADD COLUMN IF NOT EXISTS description String`,
		`ALTER TABLE snapshots ADD COLUMN IF NOT EXISTS languages Array(String)`,
		`ALTER TABLE snapshots ADD COLUMN IF NOT EXISTS rules Array(String)`,
		`ALTER TABLE snapshots ADD COLUMN IF NOT EXISTS contact_email String`,
		`ALTER TABLE snapshots ADD COLUMN IF NOT EXISTS contact_account String`,
		`ALTER TABLE snapshots ADD COLUMN IF NOT EXISTS registration_mode String`,
	},
})

// instanceInfoColumns are the instance document columns, in the order of
// instanceInfoDest (and of the values InsertSnapshots appends); they follow
// the other columns in insertSnapshotsSQL and the history query.
const instanceInfoColumns = `instance_title, description, languages, rules, contact_email, contact_account, registration_mode`

// instanceInfoDest returns scan destinations for instanceInfoColumns.
func instanceInfoDest(sn *model.Snapshot) []any {
	return []any{&sn.InstanceTitle, &sn.Description, &sn.Languages, &sn.Rules,
		&sn.ContactEmail, &sn.ContactAccount, &sn.RegistrationMode}
}

// fixInstanceInfo turns the empty arrays read back into nil, as the rest
// of a snapshot's slices.
func fixInstanceInfo(sn *model.Snapshot) {
	sn.Languages = nilIfEmpty(sn.Languages)
	sn.Rules = nilIfEmpty(sn.Rules)
}

// latestInstanceInfoSQL reads the instance document fields of the latest
// snapshot of each listed host. The census query (latestSQL) leaves them
// out: descriptions and rules are kilobytes per host, which the summary
// and the software share never need, so they are read for the hosts of
// one page only, through the (host, crawled_at) primary key.
const latestInstanceInfoSQL = `
SELECT
    host,
    tupleElement(info, 1),
    tupleElement(info, 2),
    tupleElement(info, 3),
    tupleElement(info, 4),
    tupleElement(info, 5),
    tupleElement(info, 6),
    tupleElement(info, 7)
FROM (
    SELECT host, argMax(tuple(` + instanceInfoColumns + `), crawled_at) AS info
    FROM snapshots
    WHERE host IN ?
    GROUP BY host
)`

// attachInstanceInfo fills the instance document fields of instances from
// each one's latest snapshot, in one query.
func (s *Store) attachInstanceInfo(ctx context.Context, instances []model.Instance) error {
	if len(instances) == 0 {
		return nil
	}
	hosts := make([]any, len(instances))
	at := make(map[string]int, len(instances))
	for i := range instances {
		hosts[i] = instances[i].Host
		at[instances[i].Host] = i
	}
	rows, err := s.conn.Query(ctx, latestInstanceInfoSQL, clickhouse.GroupSet{Value: hosts})
	if err != nil {
		return fmt.Errorf("read instance documents: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			host string
			sn   model.Snapshot
		)
		if err := rows.Scan(append([]any{&host}, instanceInfoDest(&sn)...)...); err != nil {
			return fmt.Errorf("read instance documents: %w", err)
		}
		i, ok := at[host]
		if !ok {
			continue
		}
		fixInstanceInfo(&sn)
		dst := &instances[i].Snapshot
		dst.InstanceTitle, dst.Description, dst.Languages, dst.Rules = sn.InstanceTitle, sn.Description, sn.Languages, sn.Rules
		dst.ContactEmail, dst.ContactAccount, dst.RegistrationMode = sn.ContactEmail, sn.ContactAccount, sn.RegistrationMode
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read instance documents: %w", err)
	}
	return nil
}
