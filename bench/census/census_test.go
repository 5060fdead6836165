package main

import (
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/fedisim"
)

func TestReplayList(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	log := []fedisim.Request{
		// Logged in completion order; replayed in arrival order.
		{Host: "m.example", Method: "POST", Path: misskeyPeersPath, Start: at(30), Status: 200},
		{Host: "m.example", Method: "POST", Path: misskeyPeersPath, Start: at(20), Status: 429},
		{Host: "m.example", Method: "GET", Path: "/robots.txt", Start: at(0), Status: 200},
		{Host: "m.example", Method: "POST", Path: misskeyPeersPath, Start: at(40), Status: 200},
		{Host: "n.example", Method: "POST", Path: misskeyPeersPath, Start: at(45), Status: 200},
		{Host: "m.example", Method: "POST", Path: "/api/meta", Start: at(50), Status: 200},
		{Host: "down.example", Method: "TLS", Start: at(5)},
		{Host: "x.example", Method: "GET", Path: "/api/v1/timelines/public", RawQuery: "local=true&limit=40", Start: at(10), Status: 200},
		{Host: "::1", Method: "GET", Path: "/", Start: at(60), Status: 0},
		{Host: "", Method: "GET", Path: "/", Start: at(70)},
	}
	got := replayList(log)
	want := []replayReq{
		{Method: "GET", URL: "https://m.example/robots.txt"},
		{Method: "GET", URL: "https://down.example/robots.txt"},
		{Method: "GET", URL: "https://x.example/api/v1/timelines/public?local=true&limit=40"},
		{Method: "POST", URL: "https://m.example/api/federation/instances", Body: []byte(`{"limit":100,"offset":0}`)},
		{Method: "POST", URL: "https://m.example/api/federation/instances", Body: []byte(`{"limit":100,"offset":0}`)},
		{Method: "POST", URL: "https://m.example/api/federation/instances", Body: []byte(`{"limit":100,"offset":100}`)},
		{Method: "POST", URL: "https://n.example/api/federation/instances", Body: []byte(`{"limit":100,"offset":0}`)},
		{Method: "POST", URL: "https://m.example/api/meta", Body: []byte(`{}`)},
		{Method: "GET", URL: "https://[::1]/"},
	}
	require.Equal(t, want, got)
}

func TestParsePassLine(t *testing.T) {
	var r crawlResult
	require.NoError(t, parsePassLine("crawl pass done: 1200 hosts visited, 900 ok, 300 failed, 1300 known, in 12.5s\n", &r))
	require.Equal(t, crawlResult{Visited: 1200, OK: 900, Failed: 300, Known: 1300, Pass: 12500 * time.Millisecond}, r)
	require.Error(t, parsePassLine("something else", &r))
}

func TestStats(t *testing.T) {
	require.InDelta(t, 2.0, median([]float64{3, 1, 2}), 1e-9)
	require.InDelta(t, 2.5, median([]float64{4, 1, 2, 3}), 1e-9)
	require.Zero(t, median(nil))
	require.Equal(t, 2, histogramDistance(map[string]int{"200": 10, "404": 2}, map[string]int{"200": 8, "404": 2, "429": 2}))

	t0 := time.Unix(0, 0)
	log := []fedisim.Request{
		{Host: "a", Start: t0, End: t0.Add(time.Second)},
		{Host: "a", Start: t0.Add(3 * time.Second), End: t0.Add(4 * time.Second)},
		{Host: "a", Method: "TLS", Start: t0.Add(1500 * time.Millisecond), End: t0.Add(1500 * time.Millisecond)},
		{Host: "b", Start: t0.Add(time.Second), End: t0.Add(5 * time.Second)},
	}
	require.Equal(t, 2*time.Second, minHostGap(log))
	require.Equal(t, 5*time.Second, logSpan(log))
	require.Equal(t, time.Duration(-1), minHostGap(log[3:]))
}

func TestShapeOf(t *testing.T) {
	t0 := time.Unix(100, 0)
	var log []fedisim.Request
	// 40 requests of 500 ms, two at a time, a pair starting every 500 ms
	// (20 s of requests), then 2 more after a pause.
	for i := range 40 {
		s := t0.Add(time.Duration(i/2) * 500 * time.Millisecond)
		log = append(log, fedisim.Request{Host: "h", Start: s, End: s.Add(500 * time.Millisecond)})
	}
	late := t0.Add(15 * time.Second)
	log = append(log, fedisim.Request{Host: "h", Start: late, End: late.Add(time.Second)},
		fedisim.Request{Host: "h", Start: late, End: late.Add(time.Second)})
	sh := shapeOf(log)
	require.InDelta(t, 4.0, sh.MedianPerSecond, 1e-9)
	require.Equal(t, 15*time.Second-9500*time.Millisecond, sh.Tail) // the 40th start (of 42) was at 9.5 s
	require.Equal(t, logShape{}, shapeOf(nil))
}

func TestParseConfig(t *testing.T) {
	c, err := parseConfig([]string{"-quick"}, io.Discard)
	require.NoError(t, err)
	require.Equal(t, []int{1_000, 1, 200}, []int{c.instances, c.runs, c.delayInstances})

	c, err = parseConfig([]string{"-quick", "-runs", "2", "-delay-census-instances", "0"}, io.Discard)
	require.NoError(t, err)
	require.Equal(t, []int{1_000, 2, 0}, []int{c.instances, c.runs, c.delayInstances}, "explicit flags win over -quick")

	c, err = parseConfig(nil, io.Discard)
	require.NoError(t, err)
	require.Equal(t, []int{40_000, 3, 20_000, 64}, []int{c.instances, c.runs, c.delayInstances, c.MaxInFlight})

	for _, bad := range [][]string{{"-runs", "-1"}, {"-runs", "0", "-delay-census-instances", "0"}, {"-instances", "2"}, {"-max-in-flight", "0"}, {"extra"}} {
		_, err := parseConfig(bad, io.Discard)
		require.Error(t, err, "%v", bad)
	}
}

func TestByHost(t *testing.T) {
	reqs := []replayReq{
		{Method: "GET", URL: "https://a.example/robots.txt"},
		{Method: "GET", URL: "https://b.example/robots.txt"},
		{Method: "GET", URL: "https://a.example/.well-known/nodeinfo"},
		{Method: "GET", URL: "https://[::1]/"},
		{Method: "GET", URL: "https://b.example/api/v1/instance/peers?x=1"},
	}
	require.Equal(t, [][]replayReq{
		{reqs[0], reqs[2]},
		{reqs[1], reqs[4]},
		{reqs[3]},
	}, byHost(reqs))
}
