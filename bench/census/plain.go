package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fedilens/fedilens/bench/internal/benchenv"
	"github.com/fedilens/fedilens/internal/fedisim"
)

// plainIdleTimeout closes the plain loop's idle connections.
const plainIdleTimeout = 2 * time.Second

// Misskey's peer list is the one POST the crawler sends: pages of
// misskeyPage hosts, {"limit":100,"offset":N}, until a short page.
const (
	misskeyPeersPath = "/api/federation/instances"
	misskeyPage      = 100
)

// replayReq is one request of the plain loop.
type replayReq struct {
	Method string
	URL    string
	Body   []byte // nil for GET
}

// replayList turns the simulator's request log into the requests the
// plain loop sends, in the order the crawler sent them. The log has no
// bodies: a Misskey peer page's offset is rebuilt as 100 times the pages
// of that host answered 2xx before it (a 429 is retried with the same
// offset, as the crawler does). A refused TLS handshake (a "down" host) is
// replayed as a GET of /robots.txt, which is refused the same way.
func replayList(log []fedisim.Request) []replayReq {
	sorted := append([]fedisim.Request(nil), log...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Start.Before(sorted[j].Start) })
	pages := map[string]int{}
	out := make([]replayReq, 0, len(sorted))
	for _, r := range sorted {
		if r.Host == "" {
			continue // the crawler never connects without a host name
		}
		method, path := r.Method, r.Path
		if method == "TLS" {
			method, path = http.MethodGet, "/robots.txt"
		}
		host := r.Host
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		u := "https://" + host + path
		if r.RawQuery != "" {
			u += "?" + r.RawQuery
		}
		rr := replayReq{Method: method, URL: u}
		if method == http.MethodPost {
			rr.Body = []byte("{}")
			if path == misskeyPeersPath {
				rr.Body = fmt.Appendf(nil, `{"limit":%d,"offset":%d}`, misskeyPage, pages[r.Host]*misskeyPage)
				if r.Status >= 200 && r.Status < 300 {
					pages[r.Host]++
				}
			}
		}
		out = append(out, rr)
	}
	return out
}

// plainResult is one run of the plain loop.
type plainResult struct {
	Wall     time.Duration // the loop, first request to last body read
	Sent     int
	Errors   int           // transport errors (refused handshakes, dropped connections, as for the crawler)
	Dials    int           // TCP connections opened
	Conns    int           // connections the simulator accepted
	CPU      time.Duration // this process's CPU time: the simulator's and the loop's
	Requests int           // entries in the simulator's log
	Span     time.Duration
	Statuses map[string]int
	Shape    logShape
	Load     float64 // 1-minute load average before the loop
}

// byHost groups reqs into one sequence per host, in the order of each
// host's first request, keeping each host's requests in order: the plain
// loop, like the crawler, sends a host's requests one after the other on
// one kept-alive connection, but with no gap, no waiting, no parsing and
// every host known from the start.
func byHost(reqs []replayReq) [][]replayReq {
	idx := map[string]int{}
	var out [][]replayReq
	for _, r := range reqs {
		h := hostOf(r.URL)
		i, ok := idx[h]
		if !ok {
			i = len(out)
			idx[h] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], r)
	}
	return out
}

// hostOf is the host part of an https:// URL that replayList built.
func hostOf(u string) string {
	rest := strings.TrimPrefix(u, "https://")
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return rest[:i]
	}
	return rest
}

// plainLoop sends reqs to the simulator with a plain net/http client:
// concurrency goroutines, each taking the next host and sending its
// requests in order; keep-alive; HTTP/1.1 like the crawler's client
// (HTTP/2 with http2); the simulator's CA; every host dialled at the
// simulator's address; redirects not followed (the crawler's followed hops
// are in the log as requests of their own); bodies read fully.
func plainLoop(ctx context.Context, env *simEnv, reqs []replayReq, concurrency int, http2 bool) (plainResult, error) {
	env.sim.ResetState()
	env.sim.ResetRequests()
	hosts := byHost(reqs)
	gcNow()

	var dials atomic.Int64
	var d net.Dialer
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			dials.Add(1)
			return d.DialContext(ctx, network, env.srv.Addr)
		},
		TLSClientConfig:   &tls.Config{RootCAs: env.sim.CertPool(), MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2: http2,
		MaxIdleConns:      100,
		// HTTP/2 connections are not bounded by MaxIdleConns: a short idle
		// timeout keeps the open files (twice over: client and simulator
		// share this process) far below the limit, while a host's
		// requests, sent back to back, still share one connection.
		IdleConnTimeout:       plainIdleTimeout,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 10 * time.Second,
		DisableCompression:    true,
	}
	if !http2 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport:     tr,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}

	load := benchenv.LoadAverage()
	cpu0, err := benchenv.SelfCPU()
	if err != nil {
		return plainResult{}, err
	}
	conns0 := env.srv.Accepted()
	var next, errs atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Pointer[error]
	start := time.Now()
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(hosts) || ctx.Err() != nil {
					return
				}
				for _, r := range hosts[i] {
					if err := send(ctx, client, r); err != nil {
						errs.Add(1)
						if errors.Is(err, errBuildRequest) {
							firstErr.CompareAndSwap(nil, &err)
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	res := plainResult{Wall: time.Since(start), Sent: len(reqs), Errors: int(errs.Load()), Dials: int(dials.Load()), Load: load,
		Conns: int(env.srv.Accepted() - conns0)}
	if cpu1, err := benchenv.SelfCPU(); err == nil {
		res.CPU = cpu1 - cpu0
	}
	if p := firstErr.Load(); p != nil {
		return res, *p
	}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("plain loop: %w", err)
	}
	log := env.sim.Requests()
	res.Requests, res.Span, res.Statuses, res.Shape = len(log), logSpan(log), statusHistogram(log), shapeOf(log)
	return res, nil
}

// errBuildRequest marks a request the loop could not even build: a bug in
// the replay list, not a measured failure.
var errBuildRequest = errors.New("building request")

// send does one request and reads the whole body.
func send(ctx context.Context, client *http.Client, r replayReq) error {
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, body)
	if err != nil {
		return fmt.Errorf("%w %s %s: %w", errBuildRequest, r.Method, r.URL, err)
	}
	req.Header.Set("User-Agent", "fedilens-bench-plain")
	if r.Body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return fmt.Errorf("reading body of %s: %w", r.URL, err)
	}
	return nil
}
