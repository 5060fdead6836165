package fedisim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestCheckPoliteness(t *testing.T) {
	sim := New(Options{Seed: 3, Instances: 200})
	truth := sim.Truth()
	// A host whose robots.txt disallows everything, and a seed that allows
	// NodeInfo.
	var denyAll string
	for _, in := range truth.Instances {
		if in.Has(BehaviourRobotsDenyAll) {
			denyAll = in.Host
			break
		}
	}
	require.NotEmpty(t, denyAll)
	seed := SeedA
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	req := func(host, path string, start, end time.Duration, status int) Request {
		return Request{Host: host, Method: "GET", Path: path, LocalAddr: "127.0.0.1:443", Start: t0.Add(start), End: t0.Add(end), Status: status}
	}
	ms := time.Millisecond
	rules := PolitenessRules{MinGap: 100 * ms, Forbidden: []string{"denied.example"}}
	tests := []struct {
		name string
		reqs []Request
		want []string // rules violated
	}{
		{"polite", []Request{
			req(seed, "/robots.txt", 0, 10*ms, 200),
			req(seed, "/.well-known/nodeinfo", 110*ms, 120*ms, 429),
			req(seed, "/.well-known/nodeinfo", 1200*ms, 1210*ms, 200),
		}, nil},
		{"overlap", []Request{req(seed, "/robots.txt", 0, 50*ms, 200), req(seed, "/.well-known/nodeinfo", 40*ms, 60*ms, 200)}, []string{"overlap"}},
		{"gap", []Request{req(seed, "/robots.txt", 0, 10*ms, 200), req(seed, "/.well-known/nodeinfo", 60*ms, 70*ms, 200)}, []string{"gap"}},
		{"retry after", []Request{req(seed, "/robots.txt", 0, 10*ms, 200), req(seed, "/.well-known/nodeinfo", 200*ms, 210*ms, 429), req(seed, "/.well-known/nodeinfo", 500*ms, 510*ms, 200)}, []string{"retry_after"}},
		{"robots first", []Request{req(seed, "/.well-known/nodeinfo", 0, 10*ms, 200)}, []string{"robots_first"}},
		{"robots", []Request{req(denyAll, "/robots.txt", 0, 10*ms, 200), req(denyAll, "/.well-known/nodeinfo", 200*ms, 210*ms, 200)}, []string{"robots"}},
		{"forbidden", []Request{req("denied.example", "/robots.txt", 0, 10*ms, 0)}, []string{"forbidden"}},
		{"trap", []Request{{Host: TrapHost, Method: "TLS", LocalAddr: TrapIP + ":443", Start: t0, End: t0}}, []string{"trap"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, v := range sim.CheckPoliteness(tc.reqs, rules) {
				got = append(got, v.Rule)
			}
			require.Equal(t, tc.want, got)
		})
	}
}
