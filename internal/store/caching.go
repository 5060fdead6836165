package store

// Migration 9: the cache validators and lifetimes hosts announce, kept
// with each host's state (see model.HostState).
var _ = register(migration{
	version: 9,
	name:    "host_states cache validators",
	statements: []string{
		`ALTER TABLE host_states ADD COLUMN IF NOT EXISTS nodeinfo_etag String`,
		`ALTER TABLE host_states ADD COLUMN IF NOT EXISTS nodeinfo_last_modified String`,
		`ALTER TABLE host_states ADD COLUMN IF NOT EXISTS nodeinfo_fresh_until DateTime('UTC')`,
		`ALTER TABLE host_states ADD COLUMN IF NOT EXISTS peers_fresh_until DateTime('UTC')`,
	},
})
