package fedisim

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func hostsOf(its []InstanceTruth) map[string]bool {
	out := map[string]bool{}
	for _, it := range its {
		out[it.Host] = true
	}
	return out
}

// TestCensusDiscoveryRules: mentions in stored posts are a discovery
// source of their own, and excluding a host removes what only it leads to.
func TestCensusDiscoveryRules(t *testing.T) {
	sim := New(Options{Seed: 7, Instances: 500})
	truth := sim.Truth()
	seeds := sim.Seeds()
	all := hostsOf(truth.Census(seeds))

	// The census without rule 1's mention part.
	byPeers := map[string]bool{}
	queue := append([]string(nil), seeds...)
	seen := map[string]bool{}
	for _, s := range seeds {
		seen[s] = true
	}
	for len(queue) > 0 {
		h := queue[0]
		queue = queue[1:]
		it, ok := truth.Instance(h)
		if !ok || !it.Stored() {
			continue
		}
		byPeers[h] = true
		if it.PeersReadable() {
			for _, p := range it.Peers {
				if ValidHostName(p) && !seen[p] {
					seen[p] = true
					queue = append(queue, p)
				}
			}
		}
	}
	var onlyByMention int
	for h := range all {
		if !byPeers[h] {
			onlyByMention++
		}
	}
	require.Positive(t, onlyByMention, "some instances are found only through mentions in stored posts")

	// Excluding a seed: it and whatever only it leads to disappear.
	without := hostsOf(truth.CensusExcluding(seeds, func(h string) bool { return h == SeedC }))
	require.False(t, without[SeedC])
	require.Less(t, len(without), len(all))
	for h := range without {
		require.True(t, all[h], "excluding a host cannot add %s", h)
	}
	require.Equal(t, all, hostsOf(truth.CensusExcluding(seeds, nil)))
}
