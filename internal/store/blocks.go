package store

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/fedilens/fedilens/internal/hostid"
	"github.com/fedilens/fedilens/internal/model"
)

// Domain blocks are stored like peers (see links.go): block_events holds
// an event whenever a host's public list gains a domain (present=1),
// loses one (present=0, with the last severity and reason), or changes a
// domain's severity, reason, digest or source (present=1 with the new
// values). The list of a host at t is, per domain, the latest event at or
// before t when it has present=1. Domains are kept as served (Mastodon
// obfuscates some with '*'), so they are strings, not host ids.

const insertBlockEventsSQL = `INSERT INTO block_events (host_id, domain, digest, severity, reason, source, at, present)`

// blockEvent is one row of block_events.
type blockEvent struct {
	host    uint64
	block   model.DomainBlock
	at      time.Time
	present uint8
}

// currentBlocks returns the current list of each host in ids, by domain.
func (s *Store) currentBlocks(ctx context.Context, ids []uint64) (map[uint64]map[string]model.DomainBlock, error) {
	out := make(map[uint64]map[string]model.DomainBlock, len(ids))
	err := s.queryByIDs(ctx, `
SELECT host_id, domain, tupleElement(last, 2), tupleElement(last, 3), tupleElement(last, 4), tupleElement(last, 5)
FROM (
    SELECT host_id, domain, argMax(tuple(present, digest, severity, reason, source), at) AS last
    FROM block_events
    WHERE host_id IN ?
    GROUP BY host_id, domain
)
WHERE tupleElement(last, 1) = 1`, ids, func(r driver.Rows) error {
		var (
			h uint64
			b model.DomainBlock
		)
		if err := r.Scan(&h, &b.Domain, &b.Digest, &b.Severity, &b.Reason, &b.Source); err != nil {
			return err
		}
		if out[h] == nil {
			out[h] = map[string]model.DomainBlock{}
		}
		out[h][b.Domain] = b
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read current blocks: %w", err)
	}
	return out, nil
}

// diffBlocks appends the changes from cur to list (crawled at at) and
// returns the new list by domain. The first entry of a domain wins.
func diffBlocks(events []blockEvent, host uint64, cur map[string]model.DomainBlock, list []model.DomainBlock, at time.Time) ([]blockEvent, map[string]model.DomainBlock) {
	next := make(map[string]model.DomainBlock, len(list))
	for _, b := range list {
		if _, dup := next[b.Domain]; dup {
			continue
		}
		next[b.Domain] = b
		if old, had := cur[b.Domain]; !had || old != b {
			events = append(events, blockEvent{host: host, block: b, at: at, present: 1})
		}
	}
	var gone []string
	for d := range cur {
		if _, keep := next[d]; !keep {
			gone = append(gone, d)
		}
	}
	slices.Sort(gone)
	for _, d := range gone {
		events = append(events, blockEvent{host: host, block: cur[d], at: at, present: 0})
	}
	return events, next
}

// InsertBlocks stores domain-block lists as changes against each host's
// current list (read in one query for all the lists' hosts; several lists
// of one host are applied in crawl order), like InsertPeers: a list
// crawled before the host's newest event is skipped, and a retried batch
// writes nothing new.
func (s *Store) InsertBlocks(ctx context.Context, lists []model.Blocks) error {
	if len(lists) == 0 {
		return nil
	}
	order, ids, names := byHostThenCrawl(len(lists), func(i int) (string, time.Time) { return lists[i].Host, lists[i].CrawledAt })
	cur, err := s.currentBlocks(ctx, ids)
	if err != nil {
		return fmt.Errorf("insert %d block lists: %w", len(lists), err)
	}
	newest, err := s.latestEvents(ctx, "block_events", ids)
	if err != nil {
		return fmt.Errorf("insert %d block lists: %w", len(lists), err)
	}
	var events []blockEvent
	for _, k := range order {
		l := &lists[k]
		h := hostid.Of(l.Host)
		if toDB(l.CrawledAt).Before(newest[h]) {
			continue
		}
		events, cur[h] = diffBlocks(events, h, cur[h], l.Blocks, toDB(l.CrawledAt))
	}
	if err := s.writeHosts(ctx, names); err != nil {
		return fmt.Errorf("insert %d block lists: %w", len(lists), err)
	}
	for chunk := range slices.Chunk(events, eventBatch) {
		err := s.insert(ctx, insertBlockEventsSQL, len(chunk), func(b driver.Batch, i int) error {
			e := &chunk[i]
			return b.Append(e.host, e.block.Domain, e.block.Digest, e.block.Severity, e.block.Reason, e.block.Source, e.at, e.present)
		})
		if err != nil {
			return fmt.Errorf("insert %d block lists: %d events: %w", len(lists), len(chunk), err)
		}
	}
	return nil
}

// BlockLink is one entry of a host's domain-block list with its history.
type BlockLink struct {
	model.DomainBlock
	// FirstSeen is the first crawl that listed the domain.
	FirstSeen time.Time
	// Since is when the entry got its current severity (the latest
	// appearance or severity change).
	Since time.Time
}

// foldBlocks reduces one (host, domain) event sequence, oldest first, to
// the entry at its end, or false when the domain is not listed then.
func foldBlocks(evs []blockEvent) (BlockLink, bool) {
	var (
		l      BlockLink
		listed bool
	)
	for _, e := range evs {
		if e.present == 0 {
			listed = false
			continue
		}
		if l.FirstSeen.IsZero() {
			l.FirstSeen = e.at
		}
		if !listed || l.Severity != e.block.Severity {
			l.Since = e.at
		}
		l.DomainBlock, listed = e.block, true
	}
	return l, listed
}

// blockEvents reads the events matching where (an SQL condition with its
// args) at or before t, ordered by host, domain and time.
func (s *Store) blockEvents(ctx context.Context, where string, t time.Time, args ...any) ([]blockEvent, error) {
	var out []blockEvent
	err := s.eachRow(ctx, `
SELECT host_id, domain, digest, severity, reason, source, at, present
FROM block_events
WHERE `+where+` AND at <= ?
ORDER BY host_id, domain, at, present`, func(r driver.Rows) error {
		var e blockEvent
		b := &e.block
		if err := r.Scan(&e.host, &b.Domain, &b.Digest, &b.Severity, &b.Reason, &b.Source, &e.at, &e.present); err != nil {
			return err
		}
		e.at = fromDB(e.at)
		out = append(out, e)
		return nil
	}, append(args, asOf(t))...)
	return out, err
}

// foldAll folds events ordered by (host, domain, at) into the listed
// entries, calling keep for each with its host id.
func foldAll(evs []blockEvent, keep func(host uint64, l BlockLink)) {
	for i := 0; i < len(evs); {
		j := i + 1
		for j < len(evs) && evs[j].host == evs[i].host && evs[j].block.Domain == evs[i].block.Domain {
			j++
		}
		if l, ok := foldBlocks(evs[i:j]); ok {
			keep(evs[i].host, l)
		}
		i = j
	}
}

// Blocks returns host's public domain-block list at t (zero t: now),
// sorted by domain. It wraps model.ErrNotFound when no list of host was
// ever read; a list read empty is nil without error.
func (s *Store) Blocks(ctx context.Context, host string, t time.Time) ([]BlockLink, error) {
	evs, err := s.blockEvents(ctx, "host_id = ?", t, hostid.Of(host))
	if err != nil {
		return nil, fmt.Errorf("get blocks of %q: %w", host, err)
	}
	var out []BlockLink
	foldAll(evs, func(_ uint64, l BlockLink) { out = append(out, l) })
	if len(evs) == 0 {
		var n uint64
		err := s.conn.QueryRow(ctx, `SELECT count() FROM snapshots WHERE host = ? AND block_count IS NOT NULL AND crawled_at <= ?`,
			host, asOf(t)).Scan(&n)
		if err != nil {
			return nil, fmt.Errorf("get blocks of %q: %w", host, err)
		}
		if n == 0 {
			return nil, fmt.Errorf("get blocks of %q: %w", host, model.ErrNotFound)
		}
	}
	return out, nil
}

// BlocksOf returns the hosts whose public list blocks domain at t (zero
// t: now), sorted by host, each with the severity, reason and since when
// (who blocks threads.net, and how).
func (s *Store) BlocksOf(ctx context.Context, domain string, t time.Time) ([]model.Blocker, error) {
	evs, err := s.blockEvents(ctx, "domain = ?", t, domain)
	if err != nil {
		return nil, fmt.Errorf("get blockers of %q: %w", domain, err)
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].host < evs[j].host })
	type hit struct {
		id uint64
		l  BlockLink
	}
	var hits []hit
	foldAll(evs, func(h uint64, l BlockLink) { hits = append(hits, hit{h, l}) })
	ids := make([]uint64, len(hits))
	for i, h := range hits {
		ids[i] = h.id
	}
	names, err := s.hostNamesOf(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("get blockers of %q: %w", domain, err)
	}
	out := make([]model.Blocker, 0, len(hits))
	for _, h := range hits {
		out = append(out, model.Blocker{Host: names[h.id], Severity: h.l.Severity, Reason: h.l.Reason, Since: h.l.Since})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Host < out[j].Host })
	return out, nil
}

// currentBlocksSQL is every listed (host_id, domain) entry at ? with its
// severity and reason.
const currentBlocksSQL = `
SELECT host_id, domain, tupleElement(last, 2) AS severity, tupleElement(last, 3) AS reason
FROM (
    SELECT host_id, domain, argMax(tuple(present, severity, reason), at) AS last
    FROM block_events
    WHERE at <= ?
    GROUP BY host_id, domain
)
WHERE tupleElement(last, 1) = 1`

// MostBlocked returns the n domains blocked by the most instances at t
// (zero t: now), most first (ties by domain), with the count per
// severity.
func (s *Store) MostBlocked(ctx context.Context, t time.Time, n int) ([]model.BlockedDomain, error) {
	if n <= 0 {
		return nil, nil
	}
	var out []model.BlockedDomain
	err := s.eachRow(ctx, `
SELECT domain, count() AS c,
       countIf(severity = 'suspend'), countIf(severity = 'silence'), countIf(severity = 'limit'), countIf(severity = 'noop')
FROM (`+currentBlocksSQL+`)
GROUP BY domain ORDER BY c DESC, domain LIMIT ?`, func(r driver.Rows) error {
		var (
			d                 model.BlockedDomain
			c, su, si, li, no uint64
		)
		if err := r.Scan(&d.Domain, &c, &su, &si, &li, &no); err != nil {
			return err
		}
		d.Blockers = int64(c)
		d.BySeverity = map[string]int64{}
		for sev, k := range map[string]uint64{model.SeveritySuspend: su, model.SeveritySilence: si, model.SeverityLimit: li, model.SeverityNoop: no} {
			if k > 0 {
				d.BySeverity[sev] = int64(k)
			}
		}
		out = append(out, d)
		return nil
	}, asOf(t), n)
	if err != nil {
		return nil, fmt.Errorf("rank blocked domains: %w", err)
	}
	return out, nil
}

// BlockReasons returns the n most given public reasons of the blocks
// listed at t (zero t: now), most first (ties by reason). Blocks without
// a reason are not counted.
func (s *Store) BlockReasons(ctx context.Context, t time.Time, n int) ([]model.ReasonCount, error) {
	if n <= 0 {
		return nil, nil
	}
	var out []model.ReasonCount
	err := s.eachRow(ctx, `
SELECT reason, count() AS c FROM (`+currentBlocksSQL+`)
WHERE reason != ''
GROUP BY reason ORDER BY c DESC, reason LIMIT ?`, func(r driver.Rows) error {
		var (
			rc model.ReasonCount
			c  uint64
		)
		if err := r.Scan(&rc.Reason, &c); err != nil {
			return err
		}
		rc.Count = int64(c)
		out = append(out, rc)
		return nil
	}, asOf(t), n)
	if err != nil {
		return nil, fmt.Errorf("rank block reasons: %w", err)
	}
	return out, nil
}
