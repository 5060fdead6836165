package fedisim

import (
	"bufio"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestBehaviours(t *testing.T) {
	s := New(testOpts) // own Sim: rate-limit state and delays matter here
	tr := s.Truth()
	srv, client := startTLS(t, s, true)

	counts := map[string]int{}
	for _, it := range tr.Instances {
		for _, b := range it.Behaviours {
			counts[b]++
		}
		if strings.HasSuffix(it.Host, ".sim.example") {
			require.Empty(t, it.Behaviours, "seeds are never hostile")
		}
	}

	cases := []struct {
		behaviour string
		check     func(t *testing.T, it InstanceTruth)
	}{
		{BehaviourDown, func(t *testing.T, it InstanceTruth) {
			_, err := client.Get("https://" + it.Host + "/robots.txt")
			require.Error(t, err)
			// Plain HTTP: the connection is closed without an answer.
			conn, err := net.Dial("tcp", srv.HTTPAddr)
			require.NoError(t, err)
			defer conn.Close()
			_, err = conn.Write([]byte("GET /robots.txt HTTP/1.1\r\nHost: " + it.Host + "\r\n\r\n"))
			require.NoError(t, err)
			require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
			_, err = http.ReadResponse(bufio.NewReader(conn), nil)
			require.Error(t, err)
			require.False(t, it.Stored())
		}},
		{BehaviourHTTP503, func(t *testing.T, it InstanceTruth) {
			for _, p := range []string{"/robots.txt", "/.well-known/nodeinfo", "/anything"} {
				require.Equal(t, http.StatusServiceUnavailable, do(t, s, "GET", "https://"+it.Host+p, "", "").status)
			}
			require.False(t, it.Stored())
		}},
		{BehaviourSlow, func(t *testing.T, it InstanceTruth) {
			start := time.Now()
			resp, err := client.Get("https://" + it.Host + "/.well-known/nodeinfo")
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			require.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond)
		}},
		{BehaviourRateLimit, func(t *testing.T, it InstanceTruth) {
			for _, p := range []string{"/.well-known/nodeinfo", it.NodeInfoPath} {
				if p == "" {
					continue
				}
				r := do(t, s, "GET", "https://"+it.Host+p, "", "")
				require.Equal(t, http.StatusTooManyRequests, r.status, p)
				require.Equal(t, "1", r.header.Get("Retry-After"))
				require.NotEqual(t, http.StatusTooManyRequests, do(t, s, "GET", "https://"+it.Host+p, "", "").status, p)
			}
			// robots.txt is never limited.
			require.NotEqual(t, http.StatusTooManyRequests, do(t, s, "GET", "https://"+it.Host+"/robots.txt", "", "").status)
		}},
		{BehaviourRobotsDenyAll, func(t *testing.T, it InstanceTruth) {
			r := do(t, s, "GET", "https://"+it.Host+"/robots.txt", "", "")
			require.Equal(t, http.StatusOK, r.status)
			require.False(t, RobotsAllows(r.status, string(r.body), AgentToken, "/"))
			require.False(t, RobotsAllows(r.status, string(r.body), AgentToken, "/.well-known/nodeinfo"))
			require.False(t, it.Stored())
		}},
		{BehaviourRobotsDenyNodeInfo, func(t *testing.T, it InstanceTruth) {
			r := do(t, s, "GET", "https://"+it.Host+"/robots.txt", "", "")
			require.False(t, RobotsAllows(r.status, string(r.body), AgentToken, "/.well-known/nodeinfo"))
			require.True(t, RobotsAllows(r.status, string(r.body), AgentToken, "/about"))
			require.False(t, it.Stored())
		}},
		{BehaviourRobotsDenyAPI, func(t *testing.T, it InstanceTruth) {
			require.True(t, it.Stored())
			require.False(t, it.Allows("/api/v1/instance/peers"))
			require.False(t, it.PeersReadable())
		}},
		{BehaviourRobots5xx, func(t *testing.T, it InstanceTruth) {
			r := do(t, s, "GET", "https://"+it.Host+"/robots.txt", "", "")
			require.Equal(t, http.StatusInternalServerError, r.status)
			require.False(t, it.Stored())
		}},
		{BehaviourNodeInfoBroken, func(t *testing.T, it InstanceTruth) {
			r := get(t, s, "https://"+it.Host+it.NodeInfoPath)
			require.Equal(t, http.StatusOK, r.status)
			require.False(t, json.Valid(r.body))
			require.False(t, it.Stored())
		}},
		{BehaviourNodeInfo404, func(t *testing.T, it InstanceTruth) {
			require.Equal(t, http.StatusNotFound, get(t, s, "https://"+it.Host+"/.well-known/nodeinfo").status)
			require.False(t, it.Stored())
		}},
		{BehaviourNodeInfoOffsite, func(t *testing.T, it InstanceTruth) {
			_, href, _ := discover(t, s, it.Host)
			require.NotContains(t, href, "://"+it.Host+"/")
			require.False(t, it.Stored())
		}},
		{BehaviourNodeInfoNoIndex, func(t *testing.T, it InstanceTruth) {
			r := get(t, s, "https://"+it.Host+it.NodeInfoPath)
			require.Equal(t, http.StatusOK, r.status)
			require.Equal(t, "noindex", r.header.Get("X-Robots-Tag"))
			require.True(t, json.Valid(r.body))
			require.False(t, it.Stored())
		}},
		{BehaviourPeersDisabled, func(t *testing.T, it InstanceTruth) {
			require.Equal(t, http.StatusNotFound, get(t, s, "https://"+it.Host+it.PeersPath).status)
			require.Nil(t, it.Peers)
			require.False(t, it.PeersReadable())
		}},
		{BehaviourPrivate, func(t *testing.T, it InstanceTruth) {
			require.True(t, it.Private)
			require.Equal(t, http.StatusUnauthorized, get(t, s, "https://"+it.Host+"/api/v1/timelines/public?local=true").status)
		}},
		{BehaviourRedirectTrap, func(t *testing.T, it InstanceTruth) {
			resp, err := client.Get("https://" + it.Host + "/.well-known/nodeinfo")
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			require.Equal(t, http.StatusFound, resp.StatusCode)
			require.True(t, strings.HasPrefix(resp.Header.Get("Location"), "https://"+TrapIP+"/"))
			require.False(t, it.Stored())
		}},
		{BehaviourStatsInconsistent, func(t *testing.T, it InstanceTruth) {
			require.Greater(t, *it.UsersActiveHalfyear, *it.UsersTotal)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.behaviour, func(t *testing.T) {
			require.Positive(t, counts[tc.behaviour], "no instance has %s", tc.behaviour)
			it := instanceWith(t, tr, func(it InstanceTruth) bool {
				// Pick an instance whose only fatal behaviour is this one.
				return it.Has(tc.behaviour) && (len(it.Behaviours) == 1 || tc.behaviour == BehaviourStatsInconsistent)
			})
			tc.check(t, it)
		})
	}

	// Well-behaved instances answer robots.txt and NodeInfo.
	for _, it := range tr.Instances {
		if len(it.Behaviours) > 0 {
			continue
		}
		require.True(t, it.Stored(), it.Host)
		require.NotEqual(t, http.StatusServiceUnavailable, do(t, s, "GET", "https://"+it.Host+"/robots.txt", "", "").status)
	}
}

func TestUnknownHostClosesConnection(t *testing.T) {
	s := sharedSim(t)
	for _, host := range []string{"nobody.example", TrapHost, TrapIP, s.Truth().DeadHosts[0]} {
		require.Equal(t, 0, do(t, s, "GET", "https://"+host+"/.well-known/nodeinfo", "", "").status, host)
	}
}

func TestRobotsAllows(t *testing.T) {
	const mastodonish = "User-agent: *\nDisallow: /media_proxy/\n\nUser-agent: GPTBot\nDisallow: /\n"
	cases := []struct {
		name   string
		status int
		body   string
		path   string
		want   bool
	}{
		{"5xx disallows", 503, "", "/", false},
		{"404 allows", 404, "User-agent: *\nDisallow: /", "/", true},
		{"empty allows", 200, "", "/x", true},
		{"star group", 200, mastodonish, "/media_proxy/a", false},
		{"star group other path", 200, mastodonish, "/nodeinfo/2.0", true},
		{"other agent's group ignored", 200, "User-agent: GPTBot\nDisallow: /\n", "/", true},
		{"own group wins over star", 200, "User-agent: fedilens\nAllow: /\n\nUser-agent: *\nDisallow: /\n", "/nodeinfo/2.0", true},
		{"own group denies", 200, "User-agent: *\nAllow: /\n\nUser-agent: FediLens\nDisallow: /\n", "/x", false},
		{"longest match wins", 200, "User-agent: *\nDisallow: /api/\nAllow: /api/v1/instance\n", "/api/v1/instance/peers", true},
		{"allow wins tie", 200, "User-agent: *\nDisallow: /a\nAllow: /a\n", "/a", true},
		{"empty disallow", 200, "User-Agent: *\nDisallow: \n", "/", true},
		{"comments and case", 200, "# hi\nUSER-AGENT: * # all\nDISALLOW: /private # no\n", "/private/x", false},
		{"grouped agents", 200, "User-agent: a\nUser-agent: fedilens\nDisallow: /x\n", "/x/y", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, RobotsAllows(tc.status, tc.body, AgentToken, tc.path))
		})
	}
}
