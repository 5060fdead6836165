package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/chtest"
	"github.com/fedilens/fedilens/internal/model"
)

func TestHostStatesFirstSeen(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := ctxT(t)
	seen := time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)
	st := model.HostState{
		Host: "x.farm.example", Status: model.StatusDead, Reason: "no successful visit", DiscoveredFrom: "a.example",
		LastAttempt: seen.Add(40 * 24 * time.Hour), NextDue: seen.Add(47 * 24 * time.Hour), Failures: 9, FirstSeen: seen,
	}
	require.NoError(t, s.UpsertHostStates(ctx, []model.HostState{st}))
	got, err := s.HostStates(ctx)
	require.NoError(t, err)
	require.Equal(t, []model.HostState{st}, got)

	// A row written before migration 8 (no first_seen, no domain) reads
	// back with a zero FirstSeen and stays out of the domain statistics.
	b, err := s.Conn().PrepareBatch(ctx, `INSERT INTO host_states (host, status, reason, software, last_attempt,
    last_success, next_due, failures, discovered_from, version)`)
	require.NoError(t, err)
	require.NoError(t, b.Append("old.farm.example", "unreachable", "", "", seen, time.Unix(0, 0).UTC(), seen, uint32(1), "seed", uint64(1)))
	require.NoError(t, b.Send())
	got, err = s.HostStates(ctx)
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, "old.farm.example", got[0].Host)
	require.True(t, got[0].FirstSeen.IsZero())
	domains, err := s.DomainStats(ctx, 1, 10)
	require.NoError(t, err)
	require.Equal(t, []model.DomainStats{{Domain: "farm.example", Known: 1, Dead: 1}}, domains)
}

func TestHostStatusCountsAndDomainStats(t *testing.T) {
	t.Parallel()
	s := chtest.Store(t)
	ctx := ctxT(t)

	counts, err := s.HostStatusCounts(ctx)
	require.NoError(t, err)
	require.Empty(t, counts)
	domains, err := s.DomainStats(ctx, 1, 10)
	require.NoError(t, err)
	require.Empty(t, domains)
	require.NotNil(t, domains, "an empty answer is an empty list")

	now := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	var states []model.HostState
	add := func(host string, status model.HostStatus, proven bool) {
		st := model.HostState{Host: host, Status: status, LastAttempt: now, FirstSeen: now}
		if proven {
			st.LastSuccess = now
		}
		states = append(states, st)
	}
	// A farm: many hosts, none proven, most capped.
	for i := range 6 {
		status := model.StatusCapped
		if i < 2 {
			status = model.StatusUnreachable
		}
		add(fmt.Sprintf("s%d.spamfarm.example", i), status, false)
	}
	// A hosting provider: proven hosts, one dead, one that failed lately
	// but answered before.
	add("a.masto-host.example", model.StatusOK, true)
	add("b.masto-host.example", model.StatusOK, true)
	add("c.masto-host.example", model.StatusUnreachable, true)
	add("d.masto-host.example", model.StatusDead, false)
	// Small domains, and ports and case that group with their domain.
	add("mastodon.social", model.StatusOK, true)
	add("files.mastodon.social:8443", model.StatusNoNodeInfo, false)
	add("solo.example.co.uk", model.StatusOK, true)
	add("never.visited.example", "", false)
	require.NoError(t, s.UpsertHostStates(ctx, states))
	// The latest state wins: a capped farm host answers after all.
	require.NoError(t, s.UpsertHostStates(ctx, []model.HostState{{Host: "s5.spamfarm.example", Status: model.StatusNoNodeInfo, LastAttempt: now}}))

	counts, err = s.HostStatusCounts(ctx)
	require.NoError(t, err)
	require.Equal(t, map[model.HostStatus]uint64{
		model.StatusCapped: 3, model.StatusUnreachable: 3, model.StatusOK: 4, model.StatusDead: 1,
		model.StatusNoNodeInfo: 2, "": 1,
	}, counts)

	tests := []struct {
		name            string
		minHosts, limit int
		want            []model.DomainStats
	}{
		{"many hosts", 3, 10, []model.DomainStats{
			{Domain: "spamfarm.example", Known: 6, Capped: 3},
			{Domain: "masto-host.example", Known: 4, Proven: 3, Dead: 1},
		}},
		{"limit", 3, 1, []model.DomainStats{{Domain: "spamfarm.example", Known: 6, Capped: 3}}},
		{"every domain, ties by name", 0, 0, []model.DomainStats{
			{Domain: "spamfarm.example", Known: 6, Capped: 3},
			{Domain: "masto-host.example", Known: 4, Proven: 3, Dead: 1},
			{Domain: "mastodon.social", Known: 2, Proven: 1},
			{Domain: "example.co.uk", Known: 1, Proven: 1},
			{Domain: "visited.example", Known: 1},
		}},
		{"none that large", 7, 10, []model.DomainStats{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.DomainStats(ctx, tc.minHosts, tc.limit)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}
