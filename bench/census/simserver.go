package main

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

// simServer serves a simulation over HTTPS like fedisim's Sim.Start (the
// same handler, TLS configuration and timeouts), on a listener that counts
// the connections it accepts: each is a TLS handshake the simulator
// served, the largest cost of a census on loopback.
type simServer struct {
	addr     string
	hs       *http.Server
	accepted atomic.Int64
	wg       sync.WaitGroup
}

// serveSim starts serving sim on a free loopback port.
func serveSim(ctx context.Context, sim *fedisim.Sim) (*simServer, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening for the simulator: %w", err)
	}
	s := &simServer{addr: ln.Addr().String()}
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

// close stops the server and closes its connections.
func (s *simServer) close() error {
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
