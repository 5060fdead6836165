package store

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/fedilens/fedilens/internal/hostid"
	"github.com/fedilens/fedilens/internal/model"
)

// Federation links are stored as changes, not lists: a peer list of
// 100,000 hosts read every day for years would otherwise repeat the same
// strings billions of times. Hosts are ids (internal/hostid, equal to
// ClickHouse's cityHash64), their names are kept once in hosts, and a
// crawl that read a list writes only what changed since the host's
// current set (present=1 for a link that appeared, 0 for one that left).
// The set of a host at time t is the peers whose latest event at or
// before t has present=1, so history views need no extra tables.
// Snapshots carry the list sizes (peer_count, block_count; NULL when no
// list was read) for degree over time without reading the links.
//
// The old peers table (one Array(String) per crawl) is kept, never
// written again; migration 15 converts its rows into peer_events.
var _ = register(
	migration{
		version: 13,
		name:    "create hosts and peer_events, add snapshots peer_count and block_count",
		statements: []string{`
CREATE TABLE IF NOT EXISTS hosts (
    id   UInt64,
    host String
) ENGINE = ReplacingMergeTree()
ORDER BY id`, `
CREATE TABLE IF NOT EXISTS peer_events (
    host_id UInt64,
    peer_id UInt64,
    at      DateTime('UTC'),
    present UInt8
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(at)
ORDER BY (host_id, peer_id, at)`,
			`ALTER TABLE snapshots ADD COLUMN IF NOT EXISTS peer_count Nullable(Int64)`,
			`ALTER TABLE snapshots ADD COLUMN IF NOT EXISTS block_count Nullable(Int64)`,
		},
	},
	migration{
		version: 14,
		name:    "create block_events",
		statements: []string{`
CREATE TABLE IF NOT EXISTS block_events (
    host_id  UInt64,
    domain   String,
    digest   String,
    severity String,
    reason   String,
    source   String,
    at       DateTime('UTC'),
    present  UInt8
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(at)
ORDER BY (host_id, domain, at)`},
	},
	migration{
		version: 15,
		name:    "convert peers into peer_events",
		run:     func(ctx context.Context, s *Store) error { return s.convertPeers(ctx) },
	},
)

const (
	insertHostsSQL            = `INSERT INTO hosts (id, host)`
	insertPeerEventsSQL       = `INSERT INTO peer_events (host_id, peer_id, at, present)`
	insertPeerEventsByPeerSQL = `INSERT INTO peer_events_by_peer (peer_id, host_id, at, present)`
	// idChunk bounds the ids of one IN list, well below max_query_size.
	idChunk = 2_000
	// eventBatch is how many events one INSERT carries at most.
	eventBatch = 100_000
	// maxKnownHosts bounds hostNames' memory (16 MiB-ish of ids); past it
	// the set starts over, which only costs duplicate hosts rows, which
	// collapse.
	maxKnownHosts = 1 << 20
)

// hostNames remembers which host ids this process already wrote to the
// hosts table, so a name is sent once per process, not once per link.
type hostNames struct {
	mu   sync.Mutex
	seen map[uint64]struct{}
}

// unseen returns the names of names whose ids are not remembered, once each.
func (h *hostNames) unseen(names []string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	picked := map[uint64]bool{}
	for _, n := range names {
		id := hostid.Of(n)
		if _, ok := h.seen[id]; ok || picked[id] {
			continue
		}
		picked[id] = true
		out = append(out, n)
	}
	return out
}

func (h *hostNames) remember(names []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.seen == nil || len(h.seen)+len(names) > maxKnownHosts {
		h.seen = make(map[uint64]struct{}, len(names))
	}
	for _, n := range names {
		h.seen[hostid.Of(n)] = struct{}{}
	}
}

// writeHosts stores the names of hosts not written by this process yet.
func (s *Store) writeHosts(ctx context.Context, names []string) error {
	todo := s.knownHosts.unseen(names)
	err := s.insert(ctx, insertHostsSQL, len(todo), func(b driver.Batch, i int) error {
		return b.Append(hostid.Of(todo[i]), todo[i])
	})
	if err != nil {
		return fmt.Errorf("write %d host names: %w", len(todo), err)
	}
	s.knownHosts.remember(todo)
	return nil
}

// rememberSnapshotHosts writes the names of snapshot hosts to hosts, so
// that every host with an id in a link table can be named.
func (s *Store) rememberSnapshotHosts(ctx context.Context, snaps []model.Snapshot) error {
	names := make([]string, len(snaps))
	for i := range snaps {
		names[i] = snaps[i].Host
	}
	return s.writeHosts(ctx, names)
}

// hostNamesOf looks the names of ids up in hosts. Ids without a row are
// missing from the map.
func (s *Store) hostNamesOf(ctx context.Context, ids []uint64) (map[uint64]string, error) {
	out := make(map[uint64]string, len(ids))
	err := s.queryByIDs(ctx, `SELECT id, any(host) FROM hosts WHERE id IN ? GROUP BY id`, ids, func(r driver.Rows) error {
		var (
			id   uint64
			name string
		)
		if err := r.Scan(&id, &name); err != nil {
			return err
		}
		out[id] = name
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read host names: %w", err)
	}
	return out, nil
}

// eachRow runs query and calls scan for every row.
func (s *Store) eachRow(ctx context.Context, query string, scan func(driver.Rows) error, args ...any) error {
	rows, err := s.conn.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// queryByIDs runs query, whose one placeholder is an IN list, for every
// idChunk ids (an IN list that stays well below max_query_size) and calls
// scan for every row.
func (s *Store) queryByIDs(ctx context.Context, query string, ids []uint64, scan func(driver.Rows) error) error {
	for chunk := range slices.Chunk(ids, idChunk) {
		if err := s.eachRow(ctx, query, scan, idSet(chunk)); err != nil {
			return err
		}
	}
	return nil
}

// idSet binds ids as an IN list.
func idSet(ids []uint64) clickhouse.GroupSet {
	v := make([]any, len(ids))
	for i, id := range ids {
		v[i] = id
	}
	return clickhouse.GroupSet{Value: v}
}

// asOf is the upper time bound of an as-of query: t, or (zero t) the end
// of DateTime's range, i.e. now and everything written.
func asOf(t time.Time) time.Time {
	if t.IsZero() {
		return maxTime
	}
	return toDB(t)
}

// peerEvent is one row of peer_events.
type peerEvent struct {
	host, peer uint64
	at         time.Time
	present    uint8
}

func (s *Store) insertPeerEvents(ctx context.Context, events []peerEvent, byPeer bool) error {
	for chunk := range slices.Chunk(events, eventBatch) {
		// The copy ordered by the listed host first (in-degrees read it),
		// then peer_events, which the next crawl's differences are taken
		// against: a crash between the two at worst leaves an event in the
		// copy that the next crawl writes again with a later time, which
		// changes no current state. (Written here rather than by a
		// materialized view, which the cluster mode cannot create.)
		// byPeer is false for the conversion of the old peers table, which
		// runs before the copy exists (migration 41 copies what it wrote).
		if byPeer {
			err := s.insert(ctx, insertPeerEventsByPeerSQL, len(chunk), func(b driver.Batch, i int) error {
				e := &chunk[i]
				return b.Append(e.peer, e.host, e.at, e.present)
			})
			if err != nil {
				return fmt.Errorf("insert %d peer events by peer: %w", len(chunk), err)
			}
		}
		err := s.insert(ctx, insertPeerEventsSQL, len(chunk), func(b driver.Batch, i int) error {
			e := &chunk[i]
			return b.Append(e.host, e.peer, e.at, e.present)
		})
		if err != nil {
			return fmt.Errorf("insert %d peer events: %w", len(chunk), err)
		}
	}
	return nil
}

// currentPeers returns the current peer set of each host in ids, read in
// one query per idChunk hosts.
func (s *Store) currentPeers(ctx context.Context, ids []uint64) (map[uint64]map[uint64]struct{}, error) {
	out := make(map[uint64]map[uint64]struct{}, len(ids))
	err := s.queryByIDs(ctx, `
SELECT host_id, peer_id FROM peer_events
WHERE host_id IN ?
GROUP BY host_id, peer_id
HAVING argMax(present, at) = 1`, ids, func(r driver.Rows) error {
		var h, p uint64
		if err := r.Scan(&h, &p); err != nil {
			return err
		}
		set := out[h]
		if set == nil {
			set = map[uint64]struct{}{}
			out[h] = set
		}
		set[p] = struct{}{}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read current peers: %w", err)
	}
	return out, nil
}

// latestEvents returns the time of the newest event of each host in ids
// in table (peer_events or block_events).
func (s *Store) latestEvents(ctx context.Context, table string, ids []uint64) (map[uint64]time.Time, error) {
	out := make(map[uint64]time.Time, len(ids))
	err := s.queryByIDs(ctx, `SELECT host_id, max(at) FROM `+table+` WHERE host_id IN ? GROUP BY host_id`, ids, func(r driver.Rows) error {
		var (
			h  uint64
			at time.Time
		)
		if err := r.Scan(&h, &at); err != nil {
			return err
		}
		out[h] = at.UTC()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read newest %s: %w", table, err)
	}
	return out, nil
}

// byHostThenCrawl orders n lists (host and crawl time of the i-th given
// by at) by host, then crawl time, and returns that order and the ids and
// names of their distinct hosts: InsertPeers and InsertBlocks read each
// host's current set once and apply its lists in crawl order.
func byHostThenCrawl(n int, at func(i int) (string, time.Time)) (order []int, ids []uint64, names []string) {
	order = make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		ha, ta := at(order[a])
		hb, tb := at(order[b])
		if ha != hb {
			return ha < hb
		}
		return ta.Before(tb)
	})
	for i, k := range order {
		h, _ := at(k)
		if i > 0 {
			if prev, _ := at(order[i-1]); prev == h {
				continue
			}
		}
		ids = append(ids, hostid.Of(h))
		names = append(names, h)
	}
	return order, ids, names
}

// diffPeers appends to events the changes from cur to the list peers
// (crawled at at) and returns the new set and the names of the peers
// that appeared.
func diffPeers(events []peerEvent, host uint64, cur map[uint64]struct{}, peers []string, at time.Time) ([]peerEvent, map[uint64]struct{}, []string) {
	next := make(map[uint64]struct{}, len(peers))
	var added []string
	for _, p := range peers {
		id := hostid.Of(p)
		if _, dup := next[id]; dup {
			continue
		}
		next[id] = struct{}{}
		if _, had := cur[id]; !had {
			events = append(events, peerEvent{host: host, peer: id, at: at, present: 1})
			added = append(added, p)
		}
	}
	var gone []uint64
	for id := range cur {
		if _, keep := next[id]; !keep {
			gone = append(gone, id)
		}
	}
	slices.Sort(gone)
	for _, id := range gone {
		events = append(events, peerEvent{host: host, peer: id, at: at, present: 0})
	}
	return events, next, added
}

// InsertPeers stores peer lists as changes: each list is compared with
// its host's current set (read in one query for all the lists' hosts;
// several lists of one host are applied in crawl order) and only the
// peers that appeared or left are written to peer_events, after the
// names of new peers are in hosts. A list crawled before the host's
// newest stored event is stale (a retried batch, or a crawl overtaken by
// a later one) and skipped: applying it would rewrite history. So
// writing the same lists again writes nothing.
func (s *Store) InsertPeers(ctx context.Context, lists []model.Peers) error {
	if len(lists) == 0 {
		return nil
	}
	order, ids, _ := byHostThenCrawl(len(lists), func(i int) (string, time.Time) { return lists[i].Host, lists[i].CrawledAt })
	cur, err := s.currentPeers(ctx, ids)
	if err != nil {
		return fmt.Errorf("insert %d peer lists: %w", len(lists), err)
	}
	newest, err := s.latestEvents(ctx, "peer_events", ids)
	if err != nil {
		return fmt.Errorf("insert %d peer lists: %w", len(lists), err)
	}
	var (
		events []peerEvent
		names  []string
	)
	for _, k := range order {
		l := &lists[k]
		h := hostid.Of(l.Host)
		if toDB(l.CrawledAt).Before(newest[h]) {
			continue
		}
		var added []string
		events, cur[h], added = diffPeers(events, h, cur[h], l.Peers, toDB(l.CrawledAt))
		names = append(append(names, l.Host), added...)
	}
	if err := s.writeHosts(ctx, names); err != nil {
		return fmt.Errorf("insert %d peer lists: %w", len(lists), err)
	}
	if err := s.insertPeerEvents(ctx, events, true); err != nil {
		return fmt.Errorf("insert %d peer lists: %w", len(lists), err)
	}
	return nil
}

// convertPeers turns the rows of the old peers table into peer_events:
// per host, the first list's peers appear at its crawl, and each later
// list adds and removes what differs from the one before. The events are
// a function of the old rows alone, so running it again writes the same
// rows, which collapse (ReplacingMergeTree on the whole key), and every
// reader, which aggregates per (host, peer), sees the same sets and
// times. Hosts are read a chunk at a time, so memory holds one chunk.
func (s *Store) convertPeers(ctx context.Context) error {
	hosts, err := s.stringColumn(ctx, `SELECT DISTINCT host FROM peers ORDER BY host`)
	if err != nil {
		return fmt.Errorf("convert peers: %w", err)
	}
	var events []peerEvent
	flush := func(force bool) error {
		if len(events) == 0 || (!force && len(events) < eventBatch) {
			return nil
		}
		if err := s.insertPeerEvents(ctx, events, false); err != nil {
			return err
		}
		events = events[:0]
		return nil
	}
	for chunk := range slices.Chunk(hosts, 200) {
		set := make([]any, len(chunk))
		for i, h := range chunk {
			set[i] = h
		}
		var (
			prevHost string
			cur      map[uint64]struct{}
			names    []string
		)
		err := s.eachRow(ctx, `
SELECT host, crawled_at, peers FROM peers FINAL
WHERE host IN ?
ORDER BY host, crawled_at`, func(r driver.Rows) error {
			var (
				host  string
				at    time.Time
				peers []string
			)
			if err := r.Scan(&host, &at, &peers); err != nil {
				return err
			}
			if host != prevHost {
				prevHost, cur = host, nil
				names = append(names, host)
			}
			var added []string
			events, cur, added = diffPeers(events, hostid.Of(host), cur, peers, toDB(at))
			names = append(names, added...)
			return nil
		}, clickhouse.GroupSet{Value: set})
		if err != nil {
			return fmt.Errorf("convert peers: read lists: %w", err)
		}
		if err := s.writeHosts(ctx, names); err != nil {
			return fmt.Errorf("convert peers: %w", err)
		}
		if err := flush(false); err != nil {
			return fmt.Errorf("convert peers: %w", err)
		}
	}
	if err := flush(true); err != nil {
		return fmt.Errorf("convert peers: %w", err)
	}
	return nil
}

// stringColumn runs a query of one String column.
func (s *Store) stringColumn(ctx context.Context, query string, args ...any) ([]string, error) {
	var out []string
	err := s.eachRow(ctx, query, func(r driver.Rows) error {
		var v string
		if err := r.Scan(&v); err != nil {
			return err
		}
		out = append(out, v)
		return nil
	}, args...)
	return out, err
}

// Peers returns host's current peer set, sorted (nil if it is empty). It
// wraps model.ErrNotFound when no peer list of host was ever read.
func (s *Store) Peers(ctx context.Context, host string) ([]string, error) {
	peers, err := s.stringColumn(ctx, `
SELECT DISTINCT host FROM hosts
WHERE id IN (
    SELECT peer_id FROM peer_events WHERE host_id = ?
    GROUP BY peer_id HAVING argMax(present, at) = 1
)
ORDER BY host`, hostid.Of(host))
	if err != nil {
		return nil, fmt.Errorf("get peers of %q: %w", host, err)
	}
	if len(peers) > 0 {
		return peers, nil
	}
	read, err := s.peerListRead(ctx, host)
	if err != nil {
		return nil, fmt.Errorf("get peers of %q: %w", host, err)
	}
	if !read {
		return nil, fmt.Errorf("get peers of %q: %w", host, model.ErrNotFound)
	}
	return nil, nil
}

// peerListRead reports whether any peer list of host was read: an event,
// a snapshot with a peer count, or a row of the old peers table.
func (s *Store) peerListRead(ctx context.Context, host string) (bool, error) {
	var n uint64
	err := s.conn.QueryRow(ctx, `
SELECT (SELECT count() FROM peer_events WHERE host_id = ?)
     + (SELECT count() FROM snapshots WHERE host = ? AND peer_count IS NOT NULL)
     + (SELECT count() FROM peers WHERE host = ?)`, hostid.Of(host), host, host).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("look for peer lists: %w", err)
	}
	return n > 0, nil
}

// lastPeerRead is host's last peer-list crawl at or before t (zero if
// none): a snapshot with a peer count, or a row of the old peers table.
func (s *Store) lastPeerRead(ctx context.Context, host string, t time.Time) (time.Time, error) {
	var a, b time.Time
	err := s.conn.QueryRow(ctx, `
SELECT (SELECT max(crawled_at) FROM snapshots WHERE host = ? AND peer_count IS NOT NULL AND crawled_at <= ?),
       (SELECT max(crawled_at) FROM peers WHERE host = ? AND crawled_at <= ?)`, host, t, host, t).Scan(&a, &b)
	if err != nil {
		return time.Time{}, fmt.Errorf("read last peer crawl: %w", err)
	}
	a, b = fromDB(a), fromDB(b)
	if b.After(a) {
		return b, nil
	}
	return a, nil
}

// PeerLinks returns every peer host ever listed at or before t (zero t:
// now), sorted by name, with first seen (the first crawl that listed it),
// last seen (the host's last peer crawl at or before t while listed, or
// when it was found gone) and whether it is listed at t.
func (s *Store) PeerLinks(ctx context.Context, host string, t time.Time) ([]model.PeerLink, error) {
	until := asOf(t)
	type agg struct {
		first, last time.Time
		present     uint8
	}
	byID := map[uint64]agg{}
	var ids []uint64
	err := s.eachRow(ctx, `
SELECT peer_id, minIf(at, present = 1), max(at), argMax(present, at)
FROM peer_events
WHERE host_id = ? AND at <= ?
GROUP BY peer_id`, func(r driver.Rows) error {
		var (
			id uint64
			a  agg
		)
		if err := r.Scan(&id, &a.first, &a.last, &a.present); err != nil {
			return err
		}
		byID[id] = a
		ids = append(ids, id)
		return nil
	}, hostid.Of(host), until)
	if err != nil {
		return nil, fmt.Errorf("get peer links of %q: %w", host, err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	lastRead, err := s.lastPeerRead(ctx, host, until)
	if err != nil {
		return nil, fmt.Errorf("get peer links of %q: %w", host, err)
	}
	names, err := s.hostNamesOf(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("get peer links of %q: %w", host, err)
	}
	out := make([]model.PeerLink, 0, len(ids))
	for _, id := range ids {
		a := byID[id]
		l := model.PeerLink{Peer: names[id], FirstSeen: fromDB(a.first), LastSeen: fromDB(a.last), Present: a.present == 1}
		if l.Present && lastRead.After(l.LastSeen) {
			l.LastSeen = lastRead
		}
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Peer < out[j].Peer })
	return out, nil
}

// currentLinksSQL is the (host_id, peer_id) pairs listed at ? (as of).
const currentLinksSQL = `
SELECT host_id, peer_id FROM peer_events
WHERE at <= ?
GROUP BY host_id, peer_id
HAVING argMax(present, at) = 1`

// InDegree returns the n hosts listed as a peer by the most hosts at t
// (zero t: now), most first (ties by name), with that number.
func (s *Store) InDegree(ctx context.Context, t time.Time, n int) ([]model.HostCount, error) {
	if n <= 0 {
		return nil, nil
	}
	counts, err := s.idCounts(ctx, `
SELECT peer_id, count() AS c FROM (`+currentLinksSQL+`)
GROUP BY peer_id ORDER BY c DESC, peer_id LIMIT ?`, asOf(t), n)
	if err != nil {
		return nil, fmt.Errorf("rank hosts by in-degree: %w", err)
	}
	return s.namedCounts(ctx, counts)
}

// Degrees returns, for every host with a peer list at t (zero t: now),
// the number of peers it lists (out-degree) by host name. Hosts whose
// list was read empty have no entry.
func (s *Store) Degrees(ctx context.Context, t time.Time) (map[string]int64, error) {
	counts, err := s.idCounts(ctx, `
SELECT host_id, count() FROM (`+currentLinksSQL+`) GROUP BY host_id`, asOf(t))
	if err != nil {
		return nil, fmt.Errorf("read peer degrees: %w", err)
	}
	named, err := s.namedCounts(ctx, counts)
	if err != nil {
		return nil, fmt.Errorf("read peer degrees: %w", err)
	}
	out := make(map[string]int64, len(named))
	for _, c := range named {
		out[c.Host] = c.Count
	}
	return out, nil
}

type idCount struct {
	id uint64
	n  uint64
}

func (s *Store) idCounts(ctx context.Context, query string, args ...any) ([]idCount, error) {
	var out []idCount
	err := s.eachRow(ctx, query, func(r driver.Rows) error {
		var c idCount
		if err := r.Scan(&c.id, &c.n); err != nil {
			return err
		}
		out = append(out, c)
		return nil
	}, args...)
	return out, err
}

// namedCounts names ids and orders by count (descending), then name.
func (s *Store) namedCounts(ctx context.Context, counts []idCount) ([]model.HostCount, error) {
	ids := make([]uint64, len(counts))
	for i, c := range counts {
		ids[i] = c.id
	}
	names, err := s.hostNamesOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]model.HostCount, 0, len(counts))
	for _, c := range counts {
		name, ok := names[c.id]
		if !ok {
			name = fmt.Sprintf("#%016x", c.id)
		}
		out = append(out, model.HostCount{Host: name, Count: int64(c.n)})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Host < out[j].Host
	})
	return out, nil
}
