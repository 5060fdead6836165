package httpclient

import (
	"crypto/tls"
	"net"
	"strings"
	"sync"
	"sync/atomic"
)

// connTracker remembers the open connections of each host, so a caller
// that is done with a host can close them at once (Client.CloseHost)
// instead of leaving them idle in the pool until the idle timeout: a crawl
// visits each host once per pass, and thousands of idle connections to
// hosts already done cost memory and file descriptors for nothing.
type connTracker struct {
	mu     sync.Mutex
	byHost map[string]map[*trackedConn]struct{}
}

type trackedConn struct {
	net.Conn
	t    *connTracker
	host string
	once sync.Once
	// busy counts the requests using the connection (0 or 1 for HTTP/1.1).
	busy atomic.Int32
}

// asTracked returns the tracked connection under c (a TLS connection's
// too), or nil.
func asTracked(c net.Conn) *trackedConn {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	t, _ := c.(*trackedConn)
	return t
}

// Close closes the connection and forgets it.
func (c *trackedConn) Close() error {
	c.once.Do(func() { c.t.remove(c) })
	return c.Conn.Close()
}

func newConnTracker() *connTracker {
	return &connTracker{byHost: map[string]map[*trackedConn]struct{}{}}
}

// hostKey is the lower-case host name without port: all connections to
// one name are closed together.
func hostKey(hostport string) string {
	h := hostport
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		h = host
	}
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

func (t *connTracker) track(hostport string, c net.Conn) net.Conn {
	tc := &trackedConn{Conn: c, t: t, host: hostKey(hostport)}
	t.mu.Lock()
	set := t.byHost[tc.host]
	if set == nil {
		set = map[*trackedConn]struct{}{}
		t.byHost[tc.host] = set
	}
	set[tc] = struct{}{}
	t.mu.Unlock()
	return tc
}

func (t *connTracker) remove(c *trackedConn) {
	t.mu.Lock()
	if set := t.byHost[c.host]; set != nil {
		delete(set, c)
		if len(set) == 0 {
			delete(t.byHost, c.host)
		}
	}
	t.mu.Unlock()
}

// closeHost closes the idle connections to host and returns how many.
func (t *connTracker) closeHost(host string) int {
	k := hostKey(host)
	var idle []*trackedConn
	t.mu.Lock()
	for c := range t.byHost[k] {
		if c.busy.Load() == 0 {
			idle = append(idle, c)
		}
	}
	t.mu.Unlock()
	for _, c := range idle {
		_ = c.Close()
	}
	return len(idle)
}

// open returns the number of tracked open connections.
func (t *connTracker) open() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, set := range t.byHost {
		n += len(set)
	}
	return n
}
