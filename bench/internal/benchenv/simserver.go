package benchenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fedilens/fedilens/internal/fedisim"
)

// SimServer serves a simulation over HTTPS like fedisim's Sim.Start (the
// same handler, TLS configuration and timeouts), on a listener that counts
// the connections it accepts: each is a TLS handshake the simulator
// served, the largest cost of a census on loopback.
type SimServer struct {
	// Addr is the loopback host:port the simulator listens on.
	Addr     string
	hs       *http.Server
	accepted atomic.Int64
	wg       sync.WaitGroup
}

// ServeSim starts serving sim on a free loopback port.
func ServeSim(ctx context.Context, sim *fedisim.Sim) (*SimServer, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening for the simulator: %w", err)
	}
	s := &SimServer{Addr: ln.Addr().String()}
	s.hs = &http.Server{
		Handler:           sim.Handler(),
		TLSConfig:         sim.TLSConfig(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       60 * time.Second,
		// TLS handshake errors of hostile hosts are expected.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = s.hs.ServeTLS(&countingListener{Listener: ln, n: &s.accepted}, "", "")
	}()
	return s, nil
}

// Accepted is how many connections the server has accepted so far.
func (s *SimServer) Accepted() int64 { return s.accepted.Load() }

// Close stops the server and closes its connections.
func (s *SimServer) Close() error {
	err := s.hs.Close()
	s.wg.Wait()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("closing the simulator: %w", err)
	}
	return nil
}

// countingListener counts accepted connections.
type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}
