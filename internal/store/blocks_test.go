package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/chtest"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/store"
)

func blk(domain, sev, reason string) model.DomainBlock {
	return model.DomainBlock{Domain: domain, Severity: sev, Reason: reason, Source: model.BlockSourceMastodon}
}

func TestBlocks(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := ctxT(t)
	_, err := s.Blocks(ctx, "a.test", time.Time{})
	require.ErrorIs(t, err, model.ErrNotFound)

	lists := []model.Blocks{
		{Host: "a.test", CrawledAt: day(1), Blocks: []model.DomainBlock{
			blk("threads.net", "silence", "Meta"), blk("spam.test", "suspend", "spam")}},
		{Host: "b.test", CrawledAt: day(1), Blocks: []model.DomainBlock{
			blk("threads.net", "suspend", "Meta"), {Domain: "ba**.test", Digest: "abc", Severity: "suspend", Source: model.BlockSourceMastodon}}},
		{Host: "c.test", CrawledAt: day(1), Blocks: []model.DomainBlock{
			{Domain: "spam.test", Severity: "suspend", Source: model.BlockSourceMRFSimple},
			{Domain: "threads.net", Severity: "limit", Source: model.BlockSourceMRFSimple}}},
		{Host: "e.test", CrawledAt: day(1)},
		// a.test: the reason changes, then the severity, spam.test goes.
		{Host: "a.test", CrawledAt: day(2), Blocks: []model.DomainBlock{
			blk("threads.net", "silence", "Surveillance"), blk("spam.test", "suspend", "spam")}},
		{Host: "a.test", CrawledAt: day(3), Blocks: []model.DomainBlock{blk("threads.net", "suspend", "Surveillance")}},
	}
	require.NoError(t, s.InsertBlocks(ctx, lists))
	var n uint64
	require.NoError(t, s.Conn().QueryRow(ctx, "SELECT count() FROM block_events").Scan(&n))
	require.Equal(t, uint64(9), n, "a.test 2+1+2, b.test 2, c.test 2")
	require.NoError(t, s.InsertBlocks(ctx, lists), "a retried batch")
	require.NoError(t, s.InsertBlocks(ctx, []model.Blocks{{Host: "a.test", CrawledAt: day(4), Blocks: []model.DomainBlock{blk("threads.net", "suspend", "Surveillance")}}}))
	require.NoError(t, s.Conn().QueryRow(ctx, "SELECT count() FROM block_events").Scan(&n))
	require.Equal(t, uint64(9), n, "only changes are written")

	got, err := s.Blocks(ctx, "a.test", day(2))
	require.NoError(t, err)
	require.Equal(t, []store.BlockLink{
		{DomainBlock: blk("spam.test", "suspend", "spam"), FirstSeen: day(1), Since: day(1)},
		{DomainBlock: blk("threads.net", "silence", "Surveillance"), FirstSeen: day(1), Since: day(1)},
	}, got)
	got, err = s.Blocks(ctx, "a.test", time.Time{})
	require.NoError(t, err)
	require.Equal(t, []store.BlockLink{
		{DomainBlock: blk("threads.net", "suspend", "Surveillance"), FirstSeen: day(1), Since: day(3)},
	}, got)
	_, err = s.Blocks(ctx, "a.test", day(0))
	require.ErrorIs(t, err, model.ErrNotFound)

	zero := int64(0)
	require.NoError(t, s.InsertSnapshots(ctx, []model.Snapshot{{Host: "e.test", CrawledAt: day(1), BlockCount: &zero}}))
	got, err = s.Blocks(ctx, "e.test", time.Time{})
	require.NoError(t, err, "a list read empty is a list")
	require.Empty(t, got)

	who, err := s.BlocksOf(ctx, "threads.net", time.Time{})
	require.NoError(t, err)
	require.Equal(t, []model.Blocker{
		{Host: "a.test", Severity: "suspend", Reason: "Surveillance", Since: day(3)},
		{Host: "b.test", Severity: "suspend", Reason: "Meta", Since: day(1)},
		{Host: "c.test", Severity: "limit", Since: day(1)},
	}, who)
	who, err = s.BlocksOf(ctx, "threads.net", day(2))
	require.NoError(t, err)
	require.Equal(t, "silence", who[0].Severity)

	top, err := s.MostBlocked(ctx, time.Time{}, 2)
	require.NoError(t, err)
	require.Equal(t, []model.BlockedDomain{
		{Domain: "threads.net", Blockers: 3, BySeverity: map[string]int64{"suspend": 2, "limit": 1}},
		{Domain: "ba**.test", Blockers: 1, BySeverity: map[string]int64{"suspend": 1}},
	}, top)
	top, err = s.MostBlocked(ctx, day(2), 5)
	require.NoError(t, err)
	require.Equal(t, []model.BlockedDomain{
		{Domain: "threads.net", Blockers: 3, BySeverity: map[string]int64{"suspend": 1, "silence": 1, "limit": 1}},
		{Domain: "spam.test", Blockers: 2, BySeverity: map[string]int64{"suspend": 2}},
		{Domain: "ba**.test", Blockers: 1, BySeverity: map[string]int64{"suspend": 1}},
	}, top)

	reasons, err := s.BlockReasons(ctx, day(1), 10)
	require.NoError(t, err)
	require.Equal(t, []model.ReasonCount{{Reason: "Meta", Count: 2}, {Reason: "spam", Count: 1}}, reasons)
	reasons, err = s.BlockReasons(ctx, time.Time{}, 1)
	require.NoError(t, err)
	require.Equal(t, []model.ReasonCount{{Reason: "Meta", Count: 1}}, reasons, "ties by reason, cut at n")
}
