package chserver

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// A managed server records in its pid file the process that owns it (the
// fedilens that started it). A second fedilens command on the same data
// folder while the owner runs (fedilens export or serve beside fedilens
// run) must share that server, not take it for an orphan and stop it; only
// a server whose owner is gone is an orphan.

// pidRecord is the content of the pid file.
type pidRecord struct {
	server int    // the ClickHouse process
	config string // its config file, to recognise it
	owner  int    // the process that started it; 0 in files of older versions
}

func readPidFile(l layout) (pidRecord, error) {
	raw, err := os.ReadFile(l.pidFile)
	if err != nil {
		return pidRecord{}, err
	}
	lines := strings.Split(string(raw), "\n")
	var rec pidRecord
	rec.server, _ = strconv.Atoi(strings.TrimSpace(lines[0]))
	if len(lines) > 1 {
		rec.config = strings.TrimSpace(lines[1])
	}
	if len(lines) > 2 {
		rec.owner, _ = strconv.Atoi(strings.TrimSpace(lines[2]))
	}
	return rec, nil
}

// serverRunning reports whether rec names a live ClickHouse with this
// folder's config (not a reused pid).
func serverRunning(l layout, rec pidRecord) bool {
	return rec.server > 1 && processAlive(rec.server) && strings.Contains(processCmdline(rec.server), l.configFile)
}

// ownedByLiveProcess reports whether the server's owner still runs.
func ownedByLiveProcess(rec pidRecord) bool {
	return rec.owner > 1 && processAlive(rec.owner)
}

// configuredAddr reads the native address from the folder's config.
func configuredAddr(l layout) (string, error) {
	raw, err := os.ReadFile(l.configFile)
	if err != nil {
		return "", err
	}
	var conf struct {
		TCPPort int `xml:"tcp_port"`
	}
	if err := xml.Unmarshal(raw, &conf); err != nil {
		return "", err
	}
	if conf.TCPPort <= 0 || conf.TCPPort > 65535 {
		return "", fmt.Errorf("config has no valid tcp_port")
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(conf.TCPPort)), nil
}

// attach returns a handle on the server another live process owns on this
// folder, or nil when there is none. Stop on the handle leaves the server
// running: it belongs to its owner.
func attach(ctx context.Context, l layout, timeout time.Duration, logger *slog.Logger) (*Server, error) {
	rec, err := readPidFile(l)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read pid file: %w", err)
	}
	if !serverRunning(l, rec) || !ownedByLiveProcess(rec) {
		return nil, nil
	}
	addr, err := configuredAddr(l)
	if err != nil {
		return nil, fmt.Errorf("read the running server's address: %w", err)
	}
	s := &Server{addr: addr, pid: rec.server, layout: l, logger: logger, done: make(chan struct{}), attached: make(chan struct{})}
	go s.watchAttached()
	if err := s.waitReady(ctx, timeout); err != nil {
		close(s.attached)
		return nil, fmt.Errorf("the managed ClickHouse of process %d on this folder does not answer: %w", rec.owner, err)
	}
	logger.Info("sharing the managed clickhouse of a running fedilens", "pid", rec.server, "owner", rec.owner, "addr", addr)
	return s, nil
}

// watchAttached closes s.done when the shared server exits, until Stop.
func (s *Server) watchAttached() {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-s.attached:
			return
		case <-t.C:
			if !processAlive(s.pid) {
				close(s.done)
				return
			}
		}
	}
}
