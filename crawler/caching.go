package crawler

import (
	"context"

	"github.com/fedilens/fedilens/internal/model"
)

// latestSnapshot is an optional capability of a StateSource: the stored
// latest snapshot of a host, which a 304 answer to a conditional NodeInfo
// request vouches for.
type latestSnapshot interface {
	Instance(ctx context.Context, host string) (model.Instance, []model.Snapshot, error)
}

// previousSnapshot returns the host's stored latest snapshot, or nil when
// it cannot be read (then the request is sent unconditionally).
func (m *Manager) previousSnapshot(ctx context.Context, host string) *model.Snapshot {
	ls, ok := m.states.(latestSnapshot)
	if !ok {
		return nil
	}
	in, _, err := ls.Instance(ctx, host)
	if err != nil {
		m.log.Debug("no stored snapshot for a conditional request", "host", host, "err", err)
		return nil
	}
	snap := in.Snapshot
	return &snap
}
