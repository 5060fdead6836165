package chserver

import (
	"context"
	"encoding/xml"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/stretchr/testify/require"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func connect(t *testing.T, addr string) driver.Conn {
	t.Helper()
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{addr}, DialTimeout: 2 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func mustStart(t *testing.T, dir string) *Server {
	t.Helper()
	s, err := Start(testCtx(t), Options{DataDir: dir})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	return s
}

func writeRows(t *testing.T, addr string) {
	t.Helper()
	ctx := testCtx(t)
	conn := connect(t, addr)
	require.NoError(t, conn.Exec(ctx, "CREATE TABLE IF NOT EXISTS default.kept (n UInt32) ENGINE = MergeTree ORDER BY n"))
	// Not Exec("INSERT ... VALUES"): on 18.16 the server then waits for data
	// blocks that clickhouse-go never sends.
	batch, err := conn.PrepareBatch(ctx, "INSERT INTO default.kept (n)")
	require.NoError(t, err)
	for _, n := range []uint32{1, 2, 3} {
		require.NoError(t, batch.Append(n))
	}
	require.NoError(t, batch.Send())
}

func readRows(t *testing.T, addr string) uint64 {
	t.Helper()
	var sum uint64
	require.NoError(t, connect(t, addr).QueryRow(testCtx(t), "SELECT sum(n) FROM default.kept").Scan(&sum))
	return sum
}

func TestStartQueryStop(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := mustStart(t, dir)

	host, _, err := net.SplitHostPort(s.Addr())
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1", host)

	var one uint8
	require.NoError(t, connect(t, s.Addr()).QueryRow(testCtx(t), "SELECT 1").Scan(&one))
	require.Equal(t, uint8(1), one)

	// The server must not be reachable from other addresses: only loopback.
	cfg, err := os.ReadFile(filepath.Join(dir, "clickhouse", "config.xml"))
	require.NoError(t, err)
	require.Contains(t, string(cfg), "<listen_host>127.0.0.1</listen_host>")
	require.FileExists(t, filepath.Join(dir, "clickhouse", "server.pid"))

	require.NoError(t, s.Stop(testCtx(t)))
	require.NoError(t, s.Stop(testCtx(t)), "Stop is idempotent")
	select {
	case <-s.Done():
	default:
		t.Fatal("Done not closed after Stop")
	}
	require.NoFileExists(t, filepath.Join(dir, "clickhouse", "server.pid"))
	_, err = net.DialTimeout("tcp", s.Addr(), time.Second)
	require.Error(t, err, "port still open after Stop")
}

func TestRestartKeepsData(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := mustStart(t, dir)
	writeRows(t, s.Addr())
	require.NoError(t, s.Stop(testCtx(t)))

	s2 := mustStart(t, dir)
	require.Equal(t, uint64(6), readRows(t, s2.Addr()))
	require.NoError(t, s2.Stop(testCtx(t)))
}

func TestStartAfterKill9(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := mustStart(t, dir)
	writeRows(t, s.Addr())

	// kill -9 leaves the pid file and ClickHouse's status file behind.
	require.NoError(t, syscall.Kill(s.pid, syscall.SIGKILL))
	<-s.Done()
	require.FileExists(t, filepath.Join(dir, "clickhouse", "server.pid"))
	require.FileExists(t, filepath.Join(dir, "clickhouse", "data", "status"))

	s2 := mustStart(t, dir)
	require.Equal(t, uint64(6), readRows(t, s2.Addr()))
	require.NoError(t, s2.Stop(testCtx(t)))
	require.Error(t, s.Stop(testCtx(t)), "Stop of a server that died reports it")
}

func TestStartStopsOrphan(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// The first server's owner dies without stopping it, as a killed
	// fedilens would: its pid file then names an owner that is gone.
	orphan := mustStart(t, dir)
	writeRows(t, orphan.Addr())
	dead := exec.Command("true")
	require.NoError(t, dead.Run())
	l := newLayout(mustAbs(t, dir))
	rec, err := readPidFile(l)
	require.NoError(t, err)
	require.Equal(t, os.Getpid(), rec.owner)
	require.NoError(t, os.WriteFile(l.pidFile, []byte(fmt.Sprintf("%d\n%s\n%d\n", rec.server, rec.config, dead.Process.Pid)), 0o640))

	s := mustStart(t, dir)
	select {
	case <-orphan.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("orphaned server still running")
	}
	require.Equal(t, uint64(6), readRows(t, s.Addr()))
	require.NoError(t, s.Stop(testCtx(t)))
}

// TestStartSharesServerOfLiveOwner: a second Start on a folder whose
// server's owner runs (fedilens export beside fedilens run) shares that
// server, and its Stop leaves the server to its owner.
func TestStartSharesServerOfLiveOwner(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	owner := mustStart(t, dir)
	writeRows(t, owner.Addr())

	shared := mustStart(t, dir)
	require.Equal(t, owner.Addr(), shared.Addr())
	require.NoError(t, shared.Stop(testCtx(t)))
	require.NoError(t, shared.Stop(testCtx(t)), "idempotent")
	select {
	case <-owner.Done():
		t.Fatal("stopping the shared handle stopped the owner's server")
	case <-time.After(200 * time.Millisecond):
	}
	require.Equal(t, uint64(6), readRows(t, owner.Addr()))
	require.NoError(t, owner.Stop(testCtx(t)))
}

func TestStartPidFileOfOtherProcess(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "clickhouse"), 0o750))
	// A reused pid (here: our own) must not be signalled.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "clickhouse", "server.pid"),
		[]byte(strings.Join([]string{strconv.Itoa(os.Getpid()), "/elsewhere/config.xml", ""}, "\n")), 0o640))
	s := mustStart(t, dir)
	require.NoError(t, s.Stop(testCtx(t)))
}

// fakeBinary writes a shell script that stands in for clickhouse-server.
func fakeBinary(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "clickhouse-server")
	script := "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'Unknown option specified: version'; exit 1; fi\n" + body + "\n"
	require.NoError(t, os.WriteFile(p, []byte(script), 0o755))
	return p
}

func TestStartFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		binary  string
		timeout time.Duration
		want    []string
	}{
		{
			name:   "exits during start-up",
			binary: fakeBinary(t, "echo 'DB::Exception: something is badly wrong' >&2; exit 3"),
			want:   []string{"exited during start-up", "something is badly wrong", "exit status 3"},
		},
		{
			name:    "never answers",
			binary:  fakeBinary(t, "exec sleep 30"),
			timeout: 300 * time.Millisecond,
			want:    []string{"did not answer within 300ms"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			began := time.Now()
			_, err := Start(testCtx(t), Options{DataDir: t.TempDir(), Binary: tc.binary, StartTimeout: tc.timeout})
			require.Error(t, err)
			for _, w := range tc.want {
				require.Contains(t, err.Error(), w)
			}
			require.Less(t, time.Since(began), 10*time.Second)
		})
	}
}

func TestNotInstalled(t *testing.T) {
	// Not parallel: it changes PATH and fallbackDirs.
	empty := t.TempDir()
	t.Setenv("PATH", empty)
	saved := fallbackDirs
	fallbackDirs = []string{empty}
	t.Cleanup(func() { fallbackDirs = saved })

	for _, bin := range []string{"", "/nonexistent/clickhouse-server", "clickhouse"} {
		t.Run("binary="+bin, func(t *testing.T) {
			_, err := Start(testCtx(t), Options{DataDir: t.TempDir(), Binary: bin})
			require.ErrorIs(t, err, ErrNotInstalled)
			require.Contains(t, err.Error(), "apt-get install clickhouse-server")
		})
	}
}

func TestFindBinary(t *testing.T) {
	dir := t.TempDir()
	single := filepath.Join(dir, "clickhouse")
	require.NoError(t, os.WriteFile(single, []byte("#!/bin/sh\n"), 0o755))
	split := filepath.Join(dir, "clickhouse-server")
	require.NoError(t, os.WriteFile(split, []byte("#!/bin/sh\n"), 0o755))

	tests := []struct {
		name string
		in   string
		want binary
	}{
		{"single binary runs the server subcommand", single, binary{path: single, args: []string{"server"}}},
		{"server binary runs as is", split, binary{path: split}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := findBinary(tc.in)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestVersionAndRoot(t *testing.T) {
	tests := []struct {
		out  string
		root string
	}{
		{"Unknown option specified: version", "yandex"},
		{"ClickHouse server version 18.16.1.", "yandex"},
		{"ClickHouse server version 21.8.15.7 (official build).", "yandex"},
		{"ClickHouse server version 21.11.2.2 (official build).", "clickhouse"},
		{"ClickHouse server version 24.8.1.2684 (official build).", "clickhouse"},
		{"", "yandex"},
	}
	for _, tc := range tests {
		t.Run(tc.out, func(t *testing.T) {
			require.Equal(t, tc.root, rootElement(parseVersion(tc.out)))
		})
	}
}

func TestWriteConfigEscapesPaths(t *testing.T) {
	l := newLayout(filepath.Join(t.TempDir(), `a&b<c>"d`))
	require.NoError(t, l.mkdirs())
	require.NoError(t, writeConfig(l, "clickhouse", 9001, 9002))

	raw, err := os.ReadFile(l.configFile)
	require.NoError(t, err)
	var cfg serverConfig
	require.NoError(t, xml.Unmarshal(raw, &cfg))
	require.Equal(t, "clickhouse", cfg.XMLName.Local)
	require.Equal(t, l.dataDir, cfg.Path)
	require.Equal(t, 9001, cfg.TCPPort)
	require.Equal(t, "127.0.0.1", cfg.ListenHost)

	raw, err = os.ReadFile(l.usersFile)
	require.NoError(t, err)
	var users usersConfig
	require.NoError(t, xml.Unmarshal(raw, &users))
	require.Equal(t, []string{"127.0.0.1", "::1"}, users.Users.Default.Networks.IP)
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	require.NoError(t, err)
	return a
}
