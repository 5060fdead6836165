package crawler

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/sanity"
)

// latestCounter is an optional capability of a StateSource: the counts of
// every host's latest stored snapshot (the ClickHouse store has it). With
// it, the first snapshot a restarted crawler takes of a host is judged
// against the one stored before the restart; without it, against nothing.
type latestCounter interface {
	LatestCounts(ctx context.Context) ([]model.Snapshot, error)
}

// hostTotals remembers the user total of each host's latest snapshot, the
// only figure sanity.Check compares across snapshots. One int64 per host
// (hosts whose total was never known have no entry) keeps a census of
// tens of thousands of hosts at a few megabytes.
type hostTotals struct {
	mu sync.Mutex
	m  map[string]int64
}

// loadTotals reads the latest stored counts once, in one query, when the
// host states are loaded. It returns the time of each host's latest
// snapshot too, which resume needs (see Manager.load): one scan of the
// snapshots at start serves both.
func (m *Manager) loadTotals(ctx context.Context) (map[string]time.Time, error) {
	lc, ok := m.states.(latestCounter)
	if !ok {
		return nil, nil
	}
	latest, err := lc.LatestCounts(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading latest counts: %w", err)
	}
	times := make(map[string]time.Time, len(latest))
	t := &m.totals
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = make(map[string]int64, len(latest))
	}
	for _, sn := range latest {
		times[sn.Host] = sn.CrawledAt
		if _, seen := t.m[sn.Host]; !seen && sn.UsersTotal != nil {
			t.m[sn.Host] = *sn.UsersTotal
		}
	}
	return times, nil
}

// judge sets snap.Flags, the sanity verdict on its figures against the
// host's previous snapshot, and remembers snap's total for the next one.
// It is called once per snapshot, right before the snapshot is stored.
func (m *Manager) judge(snap *model.Snapshot) {
	t := &m.totals
	t.mu.Lock()
	var prev *model.Snapshot
	if total, ok := t.m[snap.Host]; ok {
		prev = &model.Snapshot{Host: snap.Host, UsersTotal: &total}
	}
	if t.m == nil {
		t.m = map[string]int64{}
	}
	if snap.UsersTotal != nil {
		t.m[snap.Host] = *snap.UsersTotal
	} else {
		delete(t.m, snap.Host)
	}
	t.mu.Unlock()

	flags := sanity.Check(*snap, prev)
	snap.Flags = sanity.Strings(flags)
	if sanity.Suspect(flags) {
		m.log.Debug("suspect instance figures", "host", snap.Host, "flags", snap.Flags)
	}
}
