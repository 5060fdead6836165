// Package chserver runs a private ClickHouse server for fedilens's managed
// mode: one process, bound to 127.0.0.1 on free ports, with its config,
// data and logs under a single data folder. It exists so that a user can run
// fedilens without setting up a database, and so that tests (see chtest) get
// a real ClickHouse instead of a fake.
//
// The server runs in its own process group, so a Ctrl-C on the terminal
// reaches fedilens but not ClickHouse: fedilens flushes its last batches
// and only then stops the server. On Linux the server also receives SIGTERM
// if fedilens dies without stopping it, and a server orphaned any other way
// is found through its pid file and stopped by the next Start on the same
// folder.
package chserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// ErrNotInstalled reports that no ClickHouse server binary was found. Its
// message tells the user how to get one, because that is the only fix.
var ErrNotInstalled = errors.New("clickhouse server is not installed: install it with " +
	"\"apt-get install clickhouse-server\" (Debian, Ubuntu) or the official packages from " +
	"https://clickhouse.com/docs/en/install, or use an existing ClickHouse server instead of managed mode")

// errPortInUse marks a start that failed because another process took one
// of the ports between our probe and the server's bind; Start retries it.
var errPortInUse = errors.New("port already in use")

// Defaults for Options and Stop.
const (
	// DefaultStartTimeout bounds the wait for the first successful query.
	// 18.16 answers within a second on an empty folder; a large folder with
	// many parts to load can take much longer.
	DefaultStartTimeout = 60 * time.Second
	// stopGrace is how long Stop waits after SIGTERM before SIGKILL when
	// the context has no earlier deadline. ClickHouse finishes running
	// inserts and flushes on SIGTERM, which takes a couple of seconds.
	stopGrace = 30 * time.Second
)

// Options configures a managed server.
type Options struct {
	// DataDir holds everything of the server (config, data, tmp, logs) in
	// its "clickhouse" subfolder, so that a restart on the same DataDir
	// keeps the data. Required.
	DataDir string
	// Binary is the server program. "" looks for "clickhouse-server" on
	// PATH and in the usual system folders (/usr/sbin is often not on a
	// user's PATH), then for the single "clickhouse" binary of current
	// releases, which is run as `clickhouse server`. A Binary whose base
	// name is "clickhouse" is also run that way.
	Binary string
	// StartTimeout bounds the wait until the server answers `SELECT 1`.
	// Zero means DefaultStartTimeout.
	StartTimeout time.Duration
	// Logger receives start and stop events. Nil discards them.
	Logger *slog.Logger
}

// Server is a running managed ClickHouse server. Its methods are safe for
// concurrent use.
type Server struct {
	addr   string
	pid    int
	layout layout
	logger *slog.Logger

	done    chan struct{} // closed when the process has exited
	waitErr error         // the process's exit status; read after done

	stopOnce sync.Once
	stopErr  error

	// attached is non-nil for a server another live process owns (see
	// attach.go); closing it ends the watch, and Stop leaves the server up.
	attached chan struct{}
}

// binary is a resolved server program and the arguments that select the
// server mode.
type binary struct {
	path string
	args []string
}

// fallbackDirs are searched after PATH, because Debian installs the server
// in /usr/sbin, which is not on an unprivileged user's PATH. A variable so
// that tests can simulate a machine without ClickHouse.
var fallbackDirs = []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"}

// findBinary resolves Options.Binary.
func findBinary(name string) (binary, error) {
	mk := func(p string) binary {
		if filepath.Base(p) == "clickhouse" {
			return binary{path: p, args: []string{"server"}}
		}
		return binary{path: p}
	}
	if name != "" {
		p, err := exec.LookPath(name)
		if err != nil {
			return binary{}, fmt.Errorf("find clickhouse binary %q: %w (%w)", name, ErrNotInstalled, err)
		}
		return mk(p), nil
	}
	for _, candidate := range []string{"clickhouse-server", "clickhouse"} {
		if p, err := exec.LookPath(candidate); err == nil {
			return mk(p), nil
		}
		for _, dir := range fallbackDirs {
			p := filepath.Join(dir, candidate)
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
				return mk(p), nil
			}
		}
	}
	return binary{}, fmt.Errorf("find clickhouse binary: %w", ErrNotInstalled)
}

// Start starts a server on opts.DataDir and returns once it answers
// `SELECT 1` on its native port. A server left running on the same folder
// by a process that died is stopped first; a stale pid file or status lock
// left by a killed server is harmless. If the server exits during start-up,
// the error includes the tail of its error log.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.DataDir == "" {
		return nil, errors.New("start clickhouse: DataDir is required")
	}
	dataDir, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("start clickhouse: resolve data folder: %w", err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	timeout := opts.StartTimeout
	if timeout <= 0 {
		timeout = DefaultStartTimeout
	}
	bin, err := findBinary(opts.Binary)
	if err != nil {
		return nil, err
	}
	l := newLayout(dataDir)
	if err := l.mkdirs(); err != nil {
		return nil, fmt.Errorf("start clickhouse: %w", err)
	}
	major, minor, known, raw := detectVersion(ctx, bin)
	root := rootElement(major, minor, known)
	logger.Debug("clickhouse binary", "path", bin.path, "version", raw, "config_root", root)

	if s, err := attach(ctx, l, timeout, logger); err != nil || s != nil {
		return s, err
	}
	if err := stopOrphan(ctx, l, logger); err != nil {
		return nil, fmt.Errorf("start clickhouse: %w", err)
	}

	const attempts = 3
	for attempt := 1; ; attempt++ {
		s, err := startOnce(ctx, bin, l, root, timeout, logger)
		if err == nil {
			return s, nil
		}
		if !errors.Is(err, errPortInUse) || attempt == attempts {
			return nil, err
		}
		logger.Info("clickhouse port taken during start, retrying", "attempt", attempt)
	}
}

func startOnce(ctx context.Context, bin binary, l layout, root string, timeout time.Duration, logger *slog.Logger) (*Server, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, fmt.Errorf("start clickhouse: %w", err)
	}
	if err := writeConfig(l, root, ports[0], ports[1]); err != nil {
		return nil, fmt.Errorf("start clickhouse: %w", err)
	}
	// Only the part of the error log written by this run explains a failure.
	var errLogStart int64
	if fi, err := os.Stat(l.errorLog); err == nil {
		errLogStart = fi.Size()
	}
	console, err := os.Create(l.consoleLog)
	if err != nil {
		return nil, fmt.Errorf("start clickhouse: create console log: %w", err)
	}

	args := append(append([]string(nil), bin.args...), "--config-file="+l.configFile)
	// Not CommandContext: ctx bounds the start, not the server's life.
	cmd := exec.Command(bin.path, args...)
	cmd.Dir = l.root
	cmd.Env = serverEnv()
	cmd.Stdout = console
	cmd.Stderr = console
	cmd.SysProcAttr = sysProcAttr()

	s := &Server{
		addr:   net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0])),
		layout: l,
		logger: logger,
		done:   make(chan struct{}),
	}
	began := time.Now()
	started := make(chan error, 1)
	go func() {
		// On Linux the child's parent-death signal fires when the thread
		// that forked it exits, not the process. Locking this goroutine to
		// its thread until the child is reaped keeps that thread alive for
		// exactly as long as the server runs.
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		s.waitErr = cmd.Wait()
		close(s.done)
	}()
	err = <-started
	// The child holds its own copy of the descriptor.
	_ = console.Close()
	if err != nil {
		return nil, fmt.Errorf("start clickhouse %s: %w", bin.path, err)
	}
	s.pid = cmd.Process.Pid
	if err := writePidFile(l, s.pid); err != nil {
		_ = s.kill()
		return nil, fmt.Errorf("start clickhouse: %w", err)
	}

	if err := s.waitReady(ctx, timeout); err != nil {
		select {
		case <-s.done:
			tail := logTail(l, errLogStart)
			_ = os.Remove(l.pidFile)
			if strings.Contains(tail, "Address already in use") {
				return nil, fmt.Errorf("start clickhouse: %w:\n%s", errPortInUse, tail)
			}
			return nil, fmt.Errorf("start clickhouse: server exited during start-up (%v); log tail:\n%s", s.waitErr, tail)
		default:
		}
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		_ = s.Stop(stopCtx)
		cancel()
		return nil, fmt.Errorf("start clickhouse: %w; log tail:\n%s", err, logTail(l, errLogStart))
	}
	logger.Info("clickhouse started", "addr", s.addr, "pid", s.pid, "data_dir", l.root, "took", time.Since(began).Round(time.Millisecond))
	return s, nil
}

// waitReady polls `SELECT 1` until it answers, the process exits, the
// timeout passes or ctx ends.
func (s *Server) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := clickhouse.Open(&clickhouse.Options{
		Addr:         []string{s.addr},
		DialTimeout:  time.Second,
		MaxOpenConns: 1,
		MaxIdleConns: 1,
	})
	if err != nil {
		return fmt.Errorf("open probe connection: %w", err)
	}
	defer conn.Close()

	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		qctx, qcancel := context.WithTimeout(ctx, 2*time.Second)
		var one uint8
		lastErr = conn.QueryRow(qctx, "SELECT 1").Scan(&one)
		qcancel()
		if lastErr == nil && one == 1 {
			return nil
		}
		select {
		case <-s.done:
			return errors.New("server exited")
		case <-ctx.Done():
			return fmt.Errorf("server did not answer within %s: %w (last error: %v)", timeout, ctx.Err(), lastErr)
		case <-tick.C:
		}
	}
}

// Addr is the server's native-protocol address, "127.0.0.1:PORT".
func (s *Server) Addr() string { return s.addr }

// Done is closed when the server process has exited, whether through Stop
// or not, so that managed mode can notice a crashed database.
func (s *Server) Done() <-chan struct{} { return s.done }

// Stop asks the server to shut down (SIGTERM to its process group), waits
// until ctx ends or 30 s pass, and then kills it. It is idempotent: later
// calls wait for the first one and return its result. Callers should run it
// on a context detached from the one a Ctrl-C cancels.
func (s *Server) Stop(ctx context.Context) error {
	if s.attached != nil {
		s.stopOnce.Do(func() { close(s.attached) })
		return nil
	}
	s.stopOnce.Do(func() { s.stopErr = s.stop(ctx) })
	return s.stopErr
}

func (s *Server) stop(ctx context.Context) error {
	defer os.Remove(s.layout.pidFile)
	select {
	case <-s.done:
		if s.waitErr != nil {
			return fmt.Errorf("stop clickhouse: server had already exited: %w", s.waitErr)
		}
		return nil
	default:
	}
	began := time.Now()
	if err := signalGroup(s.pid, syscall.SIGTERM); err != nil {
		s.logger.Warn("signal clickhouse", "pid", s.pid, "err", err)
	}
	grace := time.NewTimer(stopGrace)
	defer grace.Stop()
	select {
	case <-s.done:
		// ClickHouse's exit status after SIGTERM carries no information.
		s.logger.Info("clickhouse stopped", "pid", s.pid, "took", time.Since(began).Round(time.Millisecond))
		return nil
	case <-ctx.Done():
	case <-grace.C:
	}
	s.logger.Warn("clickhouse did not stop in time, killing it", "pid", s.pid)
	if err := s.kill(); err != nil {
		return fmt.Errorf("stop clickhouse: %w", err)
	}
	return fmt.Errorf("stop clickhouse: server did not stop within %s of SIGTERM and was killed", time.Since(began).Round(time.Millisecond))
}

// kill sends SIGKILL to the process group and waits for the exit.
func (s *Server) kill() error {
	_ = signalGroup(s.pid, syscall.SIGKILL)
	select {
	case <-s.done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("process %d survived SIGKILL", s.pid)
	}
}

// freePorts reserves n distinct loopback ports by listening on port 0, and
// releases them for the server. Another process may take one in between;
// Start detects that and retries.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	listeners := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// serverEnv is the server's environment. The watchdog of current releases
// (a parent process that restarts the server) would stand between us and
// the server's pid; it is off by default outside daemon mode, and this
// makes sure of it.
func serverEnv() []string {
	return append(os.Environ(), "CLICKHOUSE_WATCHDOG_ENABLE=0")
}

// writePidFile records the server's pid, its config path and the owning
// process, so a later Start can share a server whose owner runs and
// recognise (and stop) one a killed owner left.
func writePidFile(l layout, pid int) error {
	content := strconv.Itoa(pid) + "\n" + l.configFile + "\n" + strconv.Itoa(os.Getpid()) + "\n"
	if err := os.WriteFile(l.pidFile, []byte(content), 0o640); err != nil {
		return fmt.Errorf("write pid file: %w", err)
	}
	return nil
}

// stopOrphan stops a server that a previous owner of this folder started
// and never stopped (the owner was killed). The pid file alone is not
// trusted: the pid must still run a ClickHouse with this folder's config,
// or it is just a stale file from a killed server (or a reused pid).
func stopOrphan(ctx context.Context, l layout, logger *slog.Logger) error {
	raw, err := os.ReadFile(l.pidFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read pid file: %w", err)
	}
	first, _, _ := strings.Cut(string(raw), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 1 || !processAlive(pid) || !strings.Contains(processCmdline(pid), l.configFile) {
		logger.Info("removing stale clickhouse pid file", "path", l.pidFile)
		if err := os.Remove(l.pidFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove stale pid file: %w", err)
		}
		return nil
	}
	logger.Warn("stopping orphaned clickhouse server", "pid", pid, "data_dir", l.root)
	_ = syscall.Kill(pid, syscall.SIGTERM)
	if waitGone(ctx, pid, stopGrace) {
		return os.Remove(l.pidFile)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	if waitGone(context.WithoutCancel(ctx), pid, 10*time.Second) {
		return os.Remove(l.pidFile)
	}
	return fmt.Errorf("orphaned clickhouse server (pid %d) on %s does not stop", pid, l.root)
}

// waitGone polls until pid has exited, ctx ends or limit passes.
func waitGone(ctx context.Context, pid int, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for processAlive(pid) {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}

// logTail returns the end of what this run wrote to the error log and the
// console, for start-up errors.
func logTail(l layout, errLogStart int64) string {
	var b strings.Builder
	if t := readTail(l.errorLog, errLogStart, 4096); t != "" {
		b.WriteString(t)
	}
	if t := readTail(l.consoleLog, 0, 2048); t != "" {
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		b.WriteString(t)
	}
	if b.Len() == 0 {
		return "(no log output; see " + l.logDir + ")"
	}
	return b.String()
}

// readTail reads at most limit bytes from the end of path, not before from.
func readTail(path string, from, limit int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return ""
	}
	start := max(from, fi.Size()-limit)
	if start > fi.Size() { // the log was rotated or truncated meanwhile
		start = max(0, fi.Size()-limit)
	}
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return ""
	}
	data, err := io.ReadAll(io.LimitReader(f, limit))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}
