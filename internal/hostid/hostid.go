// Package hostid turns host names into the 64-bit ids the link tables
// store (peer_events, block_events, hosts).
//
// The id is ClickHouse's cityHash64 of the name, computed by the same
// CityHash64 (v1.0.2, the variant ClickHouse ships) in Go: a query can
// join on cityHash64(host) and the crawler can write ids without asking
// the database or another process, so any number of writers (or shards)
// agree on every id without coordination. Names are stored once, in the
// hosts table, instead of once per link.
package hostid

import "github.com/go-faster/city"

// Of returns the id of a host name as stored: ClickHouse's
// cityHash64(host). The name is hashed as given; callers pass normalised
// names (internal/hostname), so one host has one id.
func Of(host string) uint64 {
	return city.CH64([]byte(host))
}
