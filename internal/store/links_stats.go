package store

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// The link statistics (internal/stats: degrees, most-peered, most-blocked,
// block reasons, the Threads view, the federation graph) read two things
// this file adds.
//
// Migration 40: the daily rollup carries each host's peer_count and
// block_count of the day, so that the out-degree and "is the host's
// block list public that day" come from the day rows (one row per host)
// with every filter of DayRows, instead of from the links. Days rolled up
// before the columns existed are marked for a redo (a "dirty" row in
// rollups), which the next Rollup carries out with its usual
// delete-and-insert.
//
// Migration 41: peer_events_by_peer, the same events ordered by the
// listed host first, kept by a materialized view on every insert into
// peer_events. "Who lists threads.net", "who lists this instance" (the
// graph's ego view) and the Threads view over time are then one key
// range instead of a scan of every peer event. It costs a second copy of
// the peer events, about 2 bytes per listed link (see the notes' bytes
// per link). The backfill copies the events written before the view
// existed; run again after an interruption, it adds rows identical to
// existing ones, which collapse (ReplacingMergeTree on the whole key) and
// which every reader tolerates (they aggregate per host and peer).
var _ = register(
	migration{
		version: 40,
		name:    "daily: peer_count and block_count",
		statements: []string{
			`ALTER TABLE daily ADD COLUMN IF NOT EXISTS peer_count Nullable(Int64)`,
			`ALTER TABLE daily ADD COLUMN IF NOT EXISTS block_count Nullable(Int64)`,
		},
		run: func(ctx context.Context, s *Store) error { return s.redoRolledUpDays(ctx) },
	},
	migration{
		version: 41,
		name:    "create peer_events_by_peer",
		statements: []string{`
CREATE TABLE IF NOT EXISTS peer_events_by_peer (
    peer_id UInt64,
    host_id UInt64,
    at      DateTime('UTC'),
    present UInt8
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(at)
ORDER BY (peer_id, host_id, at)`,
		},
		run: func(ctx context.Context, s *Store) error {
			err := s.conn.Exec(ctx, `INSERT INTO peer_events_by_peer (peer_id, host_id, at, present)
SELECT peer_id, host_id, at, present FROM peer_events`)
			if err != nil {
				return fmt.Errorf("copy peer events by peer: %w", err)
			}
			return nil
		},
	},
)

// OptedOutHostsSQL selects the hosts on the opt-out list now, for
// statistics that must leave them out wherever they appear (as a listed
// peer or a blocked domain too, not only as a crawled instance). It has
// no placeholder and no '%'.
const OptedOutHostsSQL = liveOptOutsSQL

// redoRolledUpDays marks every day a rollup finished as dirty, so that
// the next Rollup writes its rows again with the columns added since.
func (s *Store) redoRolledUpDays(ctx context.Context) error {
	var days []time.Time
	err := s.eachRow(ctx, `SELECT DISTINCT day FROM rollups WHERE kind = 'done' ORDER BY day`, func(r driver.Rows) error {
		var d time.Time
		if err := r.Scan(&d); err != nil {
			return err
		}
		days = append(days, dayStart(d))
		return nil
	})
	if err != nil {
		return fmt.Errorf("list rolled-up days: %w", err)
	}
	if len(days) == 0 {
		return nil
	}
	now := toDB(time.Now())
	err = s.insert(ctx, insertRollupSQL, len(days), func(b driver.Batch, i int) error {
		return b.Append(days[i], rollupDirty, uint64(0), uint64(0), s.nextVersion(), now)
	})
	if err != nil {
		return fmt.Errorf("mark %d rolled-up days for a redo: %w", len(days), err)
	}
	s.logger.Info("rolled-up days will be rolled up again with their link counts", "days", len(days))
	return nil
}
