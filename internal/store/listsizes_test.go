package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/chtest"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/store"
)

func TestListSizeHistory(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := ctxT(t)
	at := func(d, h int) time.Time { return day(d).Add(time.Duration(h) * time.Hour) }
	snap := func(host string, t time.Time, peers, blocks *int64) model.Snapshot {
		return model.Snapshot{Host: host, CrawledAt: t, Software: "mastodon", UsersTotal: model.Int64(5), PeerCount: peers, BlockCount: blocks}
	}
	require.NoError(t, s.InsertSnapshots(ctx, []model.Snapshot{
		// Day 0: two visits; the later one read the peers again, and the
		// blocks only the first time: each day keeps the last read.
		snap("a.test", at(0, 1), model.Int64(10), model.Int64(2)),
		snap("a.test", at(0, 9), model.Int64(12), nil),
		// Day 1: no list read (fresh from day 0): left out.
		snap("a.test", at(1, 3), nil, nil),
		// Day 2: an empty list is 0, not unknown.
		snap("a.test", at(2, 3), model.Int64(0), nil),
		snap("a.test", at(3, 3), model.Int64(15), model.Int64(3)),
		snap("b.test", at(0, 3), model.Int64(99), model.Int64(99)),
	}))
	d := func(n int) time.Time { return day(n) }
	for _, tc := range []struct {
		name     string
		host     string
		from, to time.Time
		want     []store.ListSizes
	}{
		{name: "whole history", host: "a.test", want: []store.ListSizes{
			{Day: d(0), Peers: model.Int64(12), Blocks: model.Int64(2)},
			{Day: d(2), Peers: model.Int64(0)},
			{Day: d(3), Peers: model.Int64(15), Blocks: model.Int64(3)},
		}},
		{name: "range, both days included", host: "a.test", from: d(2), to: at(3, 0), want: []store.ListSizes{
			{Day: d(2), Peers: model.Int64(0)},
			{Day: d(3), Peers: model.Int64(15), Blocks: model.Int64(3)},
		}},
		{name: "open end", host: "a.test", from: d(3), want: []store.ListSizes{
			{Day: d(3), Peers: model.Int64(15), Blocks: model.Int64(3)},
		}},
		{name: "unknown host", host: "nowhere.test"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ListSizeHistory(ctx, tc.host, tc.from, tc.to)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}
