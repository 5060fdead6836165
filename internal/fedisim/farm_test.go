package fedisim

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFarmSize(t *testing.T) {
	for _, tc := range []struct{ instances, want int }{
		{3, MinFarmHosts}, {500, MinFarmHosts}, {2_000, 3_000}, {20_000, 30_000}, {40_000, 60_000},
	} {
		require.Equal(t, tc.want, farmSize(tc.instances), tc.instances)
	}
}

func TestFarmTruth(t *testing.T) {
	s := sharedSim(t)
	tr := s.Truth()
	require.Equal(t, FarmDomain, tr.FarmDomain)
	require.Len(t, tr.FarmHosts, farmSize(testOpts.Instances))
	require.Len(t, tr.FarmJunkHosts, farmSize(testOpts.Instances)/FarmJunkEvery)
	require.Len(t, tr.FarmPublishers, farmPublishers)

	farm := map[string]bool{}
	for _, h := range tr.FarmHosts {
		require.True(t, ValidHostName(h), h)
		require.True(t, strings.HasSuffix(h, "."+FarmDomain), h)
		_, isInstance := tr.Instance(h)
		require.False(t, isInstance, h)
		require.False(t, farm[h], "duplicate %s", h)
		farm[h] = true
	}
	for _, h := range tr.FarmJunkHosts {
		require.True(t, farm[h], h)
	}

	// The farm is met by every crawl from the seeds, and never stored.
	discovered := map[string]bool{}
	for _, h := range tr.Discovered(s.Seeds()) {
		discovered[h] = true
	}
	for _, h := range tr.FarmHosts {
		require.True(t, discovered[h], h)
	}
	census := map[string]bool{}
	for _, it := range tr.Census(s.Seeds()) {
		require.False(t, farm[it.Host], it.Host)
		census[it.Host] = true
	}

	// The publishers are ordinary, well-behaved Mastodon instances that
	// SeedA names, and their published lists carry the whole farm.
	seedA, ok := tr.Instance(SeedA)
	require.True(t, ok)
	for _, p := range tr.FarmPublishers {
		it, ok := tr.Instance(p)
		require.True(t, ok, p)
		require.NotContains(t, s.Seeds(), p)
		require.Equal(t, "mastodon", it.Software, p)
		require.Empty(t, it.Behaviours, p)
		require.True(t, it.PeersReadable(), p)
		require.True(t, census[p], p)
		require.Contains(t, seedA.Peers, p)
		listed := 0
		for _, peer := range it.Peers {
			if farm[peer] {
				listed++
			}
		}
		require.Equal(t, len(tr.FarmHosts), listed, p)

		var served []string
		require.NoError(t, json.Unmarshal(get(t, s, "https://"+p+"/api/v1/instance/peers").body, &served))
		require.Equal(t, it.Peers, served, p)
	}
	for _, it := range tr.Instances {
		if !strings.HasSuffix(it.Host, "."+FarmDomain) && !farmContains(tr.FarmPublishers, it.Host) {
			for _, peer := range it.Peers {
				require.False(t, farm[peer], "%s publishes farm host %s", it.Host, peer)
			}
		}
	}
}

func farmContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestFarmHostsAnswer(t *testing.T) {
	s := sharedSim(t)
	tr := s.Truth()
	junk := map[string]bool{}
	for _, h := range tr.FarmJunkHosts {
		junk[h] = true
	}
	var silent string
	for _, h := range tr.FarmHosts {
		if !junk[h] {
			silent = h
			break
		}
	}
	require.NotEmpty(t, silent)
	for _, path := range []string{"/robots.txt", "/.well-known/nodeinfo", "/nodeinfo/2.0"} {
		require.Equal(t, 0, do(t, s, http.MethodGet, "https://"+silent+path, "", "").status, "an unknown farm host closes the connection")
		r := do(t, s, http.MethodGet, "https://"+tr.FarmJunkHosts[0]+path, "application/json", "")
		require.Equal(t, http.StatusOK, r.status, path)
		require.Contains(t, r.header.Get("Content-Type"), "text/html", path)
		require.False(t, json.Valid(r.body), "junk is no NodeInfo")
	}
}

func TestFarmIsDeterministic(t *testing.T) {
	a, b := sharedSim(t).Truth(), New(testOpts).Truth()
	require.Equal(t, a.FarmHosts, b.FarmHosts)
	require.Equal(t, a.FarmJunkHosts, b.FarmJunkHosts)
	require.Equal(t, a.FarmPublishers, b.FarmPublishers)
	// Without hostile behaviours the farm and its publishers are the same.
	nice := New(Options{Seed: testOpts.Seed, Instances: testOpts.Instances, NoHostile: true}).Truth()
	require.Equal(t, a.FarmHosts, nice.FarmHosts)
	require.Equal(t, a.FarmPublishers, nice.FarmPublishers)
	other := New(Options{Seed: testOpts.Seed + 1, Instances: testOpts.Instances}).Truth()
	require.NotEqual(t, a.FarmHosts, other.FarmHosts)
}
