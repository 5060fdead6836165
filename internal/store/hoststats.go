package store

import (
	"context"
	"fmt"

	"github.com/fedilens/fedilens/internal/hostname"
	"github.com/fedilens/fedilens/internal/model"
)

// Migration 8 gives host states the two facts the crawler's farm cap and
// dead-host rule report on: when a host was first seen (a host that never
// answered is dead some time after that), and its registrable domain, so
// hosts can be grouped by registrant in ClickHouse instead of in Go.
//
// Rows written before the migration read back with a zero first_seen (the
// crawler then counts from the first pass that sees them again) and an
// empty domain; they leave DomainStats until the crawler writes the host's
// state again, which it does at every visit and every cap, so at most a
// week (the longest backoff) after the upgrade.
var _ = register(migration{
	version: 8,
	name:    "add host_states.first_seen and domain",
	statements: []string{
		`ALTER TABLE host_states ADD COLUMN IF NOT EXISTS first_seen DateTime('UTC')`,
		`ALTER TABLE host_states ADD COLUMN IF NOT EXISTS domain String`,
	},
})

// Bounds of DomainStats.
const (
	// DefaultDomainLimit is the number of domains DomainStats returns when
	// the limit is not positive.
	DefaultDomainLimit = 100
	// MaxDomainLimit caps the number of domains one call returns.
	MaxDomainLimit = 1000
)

// hostDomain is the value of host_states.domain for a host.
func hostDomain(host string) string { return hostname.Registrable(host) }

// HostStatusCounts returns how many hosts the crawler knows with each
// status of their latest state (ok, unreachable, dead, capped, ...),
// including hosts never visited yet (status ""). It is one GROUP BY over
// the host states, cheap at any size.
func (s *Store) HostStatusCounts(ctx context.Context) (map[model.HostStatus]uint64, error) {
	rows, err := s.conn.Query(ctx, `
SELECT status, count()
FROM host_states FINAL
GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("count hosts by status: %w", err)
	}
	defer rows.Close()
	out := map[model.HostStatus]uint64{}
	for rows.Next() {
		var (
			status string
			n      uint64
		)
		if err := rows.Scan(&status, &n); err != nil {
			return nil, fmt.Errorf("count hosts by status: %w", err)
		}
		out[model.HostStatus(status)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count hosts by status: %w", err)
	}
	return out, nil
}

// DomainStats returns the registrable domains with at least minHosts known
// hosts (minHosts below 1 counts as 1), most hosts first (ties by name),
// at most limit of them (DefaultDomainLimit when limit < 1, capped at
// MaxDomainLimit), each with its known, proven (ever stored), capped and
// dead hosts. Spam farms show up as many known hosts with none proven.
func (s *Store) DomainStats(ctx context.Context, minHosts, limit int) ([]model.DomainStats, error) {
	minHosts = max(minHosts, 1)
	if limit < 1 {
		limit = DefaultDomainLimit
	}
	limit = min(limit, MaxDomainLimit)
	rows, err := s.conn.Query(ctx, `
SELECT
    domain,
    count() AS known,
    countIf(toUInt32(last_success) > 0) AS proven,
    countIf(status = ?) AS capped,
    countIf(status = ?) AS dead
FROM host_states FINAL
WHERE domain != ''
GROUP BY domain
HAVING known >= ?
ORDER BY known DESC, domain
LIMIT ?`, string(model.StatusCapped), string(model.StatusDead), uint64(minHosts), limit)
	if err != nil {
		return nil, fmt.Errorf("group hosts by domain: %w", err)
	}
	defer rows.Close()
	out := []model.DomainStats{}
	for rows.Next() {
		var d model.DomainStats
		if err := rows.Scan(&d.Domain, &d.Known, &d.Proven, &d.Capped, &d.Dead); err != nil {
			return nil, fmt.Errorf("group hosts by domain: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("group hosts by domain: %w", err)
	}
	return out, nil
}
