package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/fedilens/fedilens/internal/model"
)

// MaxKnownInstances bounds the names one KnownInstances call looks up: a
// page's worth of hosts, not a census.
const MaxKnownInstances = 1000

// KnownInstances reports which of hosts are known instances: hosts with a
// snapshot, whose instance page the dashboard serves, opted-out hosts
// excepted. Pages that show host names read from remote data (the hosts
// posts link to, which may be anything) link only these. Names must be
// normalised (lower case); the map holds the known ones. It is one read
// of instances_latest through its host key, however many names (a lookup
// per name through the snapshots costs tens of milliseconds each). More
// than MaxKnownInstances names wrap model.ErrBadQuery.
func (s *Store) KnownInstances(ctx context.Context, hosts []string) (map[string]bool, error) {
	known := map[string]bool{}
	seen := make(map[string]bool, len(hosts))
	quoted := make([]string, 0, len(hosts))
	for _, h := range hosts {
		if h != "" && !seen[h] {
			seen[h] = true
			quoted = append(quoted, quoteString(h))
		}
	}
	if len(quoted) == 0 {
		return known, nil
	}
	if len(quoted) > MaxKnownInstances {
		return nil, fmt.Errorf("look up known instances: %w: more than %d names", model.ErrBadQuery, MaxKnownInstances)
	}
	err := s.eachRow(ctx, `
SELECT DISTINCT host FROM instances_latest
WHERE host IN (`+strings.Join(quoted, ", ")+`) AND host NOT IN (`+liveOptOutsSQL+`)`, func(r driver.Rows) error {
		var h string
		if err := r.Scan(&h); err != nil {
			return err
		}
		known[h] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("look up known instances: %w", err)
	}
	return known, nil
}
