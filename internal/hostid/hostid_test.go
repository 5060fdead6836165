package hostid_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/chtest"
	"github.com/fedilens/fedilens/internal/hostid"
)

func TestMain(m *testing.M) { os.Exit(chtest.Main(m)) }

// TestOfEqualsClickHouse asks the real server for cityHash64 of each name:
// Go and SQL must agree bit for bit, or a join on ids silently loses rows.
func TestOfEqualsClickHouse(t *testing.T) {
	hosts := []string{
		"", "a", "mastodon.social", "threads.net", "bsky.brid.gy",
		"xn--mnchen-3ya.de", "xn--80ak6aa92e.com", "host.example:8443",
		"a-very-long-host-name-that-crosses-the-sixty-four-byte-block-boundary.example.org",
		"0123456789abcdef0123456789abcdef", "*.obfuscated.example", "UPPER.Example",
	}
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{chtest.Addr()}, MaxOpenConns: 1})
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, h := range hosts {
		var want uint64
		require.NoError(t, conn.QueryRow(ctx, "SELECT cityHash64(?)", h).Scan(&want), h)
		require.Equal(t, want, hostid.Of(h), "host %q", h)
	}
	require.NotEqual(t, hostid.Of("a.example"), hostid.Of("b.example"))
}
