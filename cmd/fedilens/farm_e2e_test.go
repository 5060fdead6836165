package main

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/api"
	"github.com/fedilens/fedilens/crawler"
	"github.com/fedilens/fedilens/internal/fedisim"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/store"
)

// The ClickHouse store serves the host statistics of the API.
var (
	_ api.HostStatsStore  = (*store.Store)(nil)
	_ api.PostAccessStore = (*store.Store)(nil)
)

// checkFarmAndProvider checks, after one crawl pass with the default
// --max-unproven-per-domain, the simulator's spam farm and hosting
// provider: the request log shows at most the cap of farm hosts contacted
// (a refused TLS handshake counts as contact), every other farm host is
// known with status capped, and every instance of the hosting domain in the
// census is stored. The domain and status statistics report both.
//
// No in-flight slack is needed: a farm host takes a slot of its domain when
// it is queued and gives it back only by answering as an instance, which
// no farm host does, so no more than the cap are ever queued in one pass.
func checkFarmAndProvider(t *testing.T, env *simEnv, reqs []fedisim.Request, st *store.Store, stored map[string]model.Instance) {
	t.Helper()
	ctx := context.Background()
	truth := env.sim.Truth()
	const maxUnproven = crawler.DefaultMaxUnprovenPerDomain
	require.Greater(t, len(truth.FarmHosts), 10*maxUnproven, "the farm should dwarf the cap")

	contacted := map[string]bool{}
	for _, r := range reqs {
		if strings.HasSuffix(r.Host, "."+truth.FarmDomain) {
			contacted[r.Host] = true
		}
	}
	require.NotEmpty(t, contacted, "the crawl met the farm")
	require.LessOrEqual(t, len(contacted), maxUnproven, "farm hosts contacted")

	farm := map[string]bool{}
	for _, h := range truth.FarmHosts {
		farm[h] = true
	}
	states, err := st.HostStates(ctx)
	require.NoError(t, err)
	capped := 0
	for _, s := range states {
		if !farm[s.Host] {
			continue
		}
		delete(farm, s.Host)
		require.NotEqual(t, model.StatusOK, s.Status, s.Host)
		if s.Status == model.StatusCapped {
			capped++
			require.False(t, contacted[s.Host], "%s is capped but was contacted", s.Host)
			require.Contains(t, s.Reason, truth.FarmDomain)
		} else {
			require.True(t, contacted[s.Host], "%s has status %s without contact", s.Host, s.Status)
		}
	}
	require.Empty(t, farm, "every farm host stays known")
	require.Equal(t, len(truth.FarmHosts)-len(contacted), capped)

	// The hosting provider is not capped: all of its census instances
	// are stored.
	var hosting int
	for _, in := range truth.Census(env.seeds) {
		if strings.HasSuffix(in.Host, "."+fedisim.HostingDomain) {
			hosting++
			require.Contains(t, stored, in.Host, "hosting instance not stored")
		}
	}
	require.Positive(t, hosting)

	domains, err := st.DomainStats(ctx, maxUnproven, 10)
	require.NoError(t, err)
	require.NotEmpty(t, domains)
	require.Equal(t, model.DomainStats{Domain: truth.FarmDomain, Known: uint64(len(truth.FarmHosts)), Capped: uint64(capped)}, domains[0])
	all, err := st.DomainStats(ctx, 1, store.MaxDomainLimit)
	require.NoError(t, err)
	var provider *model.DomainStats
	for i := range all {
		if all[i].Domain == fedisim.HostingDomain {
			provider = &all[i]
		}
	}
	require.NotNil(t, provider)
	require.Equal(t, uint64(hosting), provider.Proven)
	require.Zero(t, provider.Capped)

	counts, err := st.HostStatusCounts(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(capped), counts[model.StatusCapped])
	t.Logf("spam farm: %d of %d hosts contacted, %d capped; hosting provider: %d census instances stored; hosts by status: %v",
		len(contacted), len(truth.FarmHosts), capped, hosting, counts)
}
