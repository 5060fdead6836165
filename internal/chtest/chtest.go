// Package chtest gives every package that needs ClickHouse in its tests
// the same real server: Main, called from TestMain, starts one managed
// server per test binary, and Store hands each test its own fresh database
// on it. Tests run against the real database, never a fake, so schema and
// SQL mistakes show up in `go test`.
//
// ClickHouse must be installed; a missing server fails the tests instead
// of skipping them, because a skipped store test passes silently. Set
// FEDILENS_TEST_CLICKHOUSE=host:port to use a running server instead.
package chtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/fedilens/fedilens/internal/chserver"
	"github.com/fedilens/fedilens/internal/store"
)

// EnvAddr names the variable that points the tests at an existing server.
const EnvAddr = "FEDILENS_TEST_CLICKHOUSE"

var (
	addr    atomic.Pointer[string]
	counter atomic.Uint64
	// runID keeps the databases of concurrent test binaries on a shared
	// server (FEDILENS_TEST_CLICKHOUSE) apart.
	runID = randomHex(4)
)

// Main starts the package's ClickHouse (or uses FEDILENS_TEST_CLICKHOUSE),
// runs the tests, stops the server, removes its folder and returns the exit
// code. Use it as
//
//	func TestMain(m *testing.M) { os.Exit(chtest.Main(m)) }
func Main(m *testing.M) int {
	if a := strings.TrimSpace(os.Getenv(EnvAddr)); a != "" {
		addr.Store(&a)
		return m.Run()
	}

	dir, err := os.MkdirTemp("", "fedilens-chtest-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "chtest: create data folder: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	srv, err := chserver.Start(ctx, chserver.Options{DataDir: dir})
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "chtest: these tests need a real ClickHouse server and none could be started.\n"+
			"chtest: %v\n"+
			"chtest: install one, or set %s=host:port to use a running server.\n", err, EnvAddr)
		return 1
	}
	a := srv.Addr()
	addr.Store(&a)

	code := m.Run()

	stopCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := srv.Stop(stopCtx); err != nil {
		fmt.Fprintf(os.Stderr, "chtest: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// Addr is the native-protocol address of the test server. It panics if
// Main has not run, which is a mistake in the test setup.
func Addr() string {
	a := addr.Load()
	if a == nil {
		panic("chtest: Addr called without chtest.Main in TestMain")
	}
	return *a
}

// Store opens a store on a new database with a unique name, migrated and
// empty, and drops the database when the test ends.
func Store(t testing.TB) *store.Store {
	t.Helper()
	a := addr.Load()
	if a == nil {
		t.Fatal("chtest: Store called without chtest.Main in TestMain")
	}
	db := fmt.Sprintf("test_%s_%d_%d", runID, os.Getpid(), counter.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := store.Open(ctx, store.Options{Addr: *a, Database: db})
	if err != nil {
		t.Fatalf("chtest: open store: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("chtest: %v", err)
		}
		if err := DropDatabase(*a, db); err != nil {
			t.Errorf("chtest: %v", err)
		}
	})
	return s
}

// DropDatabase drops a database on the server at addr.
func DropDatabase(addr, db string) error {
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{addr}, MaxOpenConns: 1})
	if err != nil {
		return fmt.Errorf("connect to drop %s: %w", db, err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS `"+strings.ReplaceAll(db, "`", "")+"`"); err != nil {
		return fmt.Errorf("drop database %s: %w", db, err)
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
