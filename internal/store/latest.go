package store

import (
	"github.com/fedilens/fedilens/internal/model"
)

// Migration 20 keeps the latest snapshot of every host in instances_latest,
// so that "the census now" reads at most one row per host (about 100,000)
// instead of grouping the whole time series. It has the snapshots' columns
// and is written by InsertSnapshots in the same call as snapshots, from
// the same column list (snapshotColumns); ReplacingMergeTree(crawled_at)
// keeps the newest crawl of each host once parts merge, and readers take
// FINAL or argMax over it (cheap at one row per host). The backfill copies
// each host's latest snapshot: repeating it only adds rows that collapse.
//
// A migration that adds a column to snapshots must add it to
// instances_latest too, and to snapshotColumns and snapshotRow.
var _ = register(migration{
	version: 20,
	name:    "create instances_latest",
	statements: []string{`
CREATE TABLE IF NOT EXISTS instances_latest (
    host                  String,
    crawled_at            DateTime('UTC'),
    software              String,
    version               String,
    nodeinfo_version      String,
    title                 String,
    open_registrations    UInt8,
    private               UInt8,
    protocols             Array(String),
    users_total           Nullable(Int64),
    users_active_month    Nullable(Int64),
    users_active_halfyear Nullable(Int64),
    local_posts           Nullable(Int64),
    flags                 Array(String),
    instance_title        String,
    description           String,
    languages             Array(String),
    rules                 Array(String),
    contact_email         String,
    contact_account       String,
    registration_mode     String
) ENGINE = ReplacingMergeTree(crawled_at)
ORDER BY host`,
		`INSERT INTO instances_latest (` + snapshotColumnsV20 + `)
SELECT ` + snapshotColumnsV20 + ` FROM snapshots
ORDER BY host, crawled_at DESC
LIMIT 1 BY host`,
	},
})

// snapshotColumnsV20 are the columns instances_latest was created with
// (migration 20's backfill): frozen, since a shipped migration never
// changes.
const snapshotColumnsV20 = `host, crawled_at, software, version, nodeinfo_version, title,
    open_registrations, private, protocols, users_total, users_active_month, users_active_halfyear, local_posts,
    flags, ` + instanceInfoColumns

// The link counts of snapshots (links.go, migration 13) in instances_latest.
var _ = register(migration{
	version: 23,
	name:    "instances_latest: peer_count and block_count",
	statements: []string{
		`ALTER TABLE instances_latest ADD COLUMN IF NOT EXISTS peer_count Nullable(Int64)`,
		`ALTER TABLE instances_latest ADD COLUMN IF NOT EXISTS block_count Nullable(Int64)`,
	},
})

// snapshotColumns are the columns InsertSnapshots writes, to snapshots and
// to instances_latest alike, in the order of snapshotRow's values.
const snapshotColumns = snapshotColumnsV20 + `, peer_count, block_count`

// insertLatestSQL writes instances_latest.
const insertLatestSQL = `INSERT INTO instances_latest (` + snapshotColumns + `)`

// snapshotRow is one snapshot's values for snapshotColumns.
func snapshotRow(sn *model.Snapshot) []any {
	return []any{sn.Host, toDB(sn.CrawledAt), sn.Software, sn.Version, sn.NodeInfoVersion, sn.Title,
		sn.OpenRegistrations, sn.Private, nonNil(sn.Protocols),
		sn.UsersTotal, sn.UsersActiveMonth, sn.UsersActiveHalfyear, sn.LocalPosts,
		nonNil(sn.Flags),
		sn.InstanceTitle, sn.Description, nonNil(sn.Languages), nonNil(sn.Rules), sn.ContactEmail, sn.ContactAccount, sn.RegistrationMode,
		sn.PeerCount, sn.BlockCount}
}
