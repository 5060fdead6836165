// Package simtest serves a simulated fediverse (internal/fedisim) to the
// tests of other packages, with the hardened HTTP client that reaches it:
// every host name resolves to the simulator's listener on loopback, and
// its certificates are trusted.
package simtest

import (
	"context"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/fedisim"
	"github.com/fedilens/fedilens/internal/httpclient"
)

// Serve starts sim on a free loopback port until the test ends and
// returns a client of it.
func Serve(t testing.TB, sim *fedisim.Sim) *http.Client {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	srv, err := sim.Start(ctx, "127.0.0.1:0", "")
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	client, err := httpclient.New(httpclient.Options{
		AllowNets: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		Resolve:   map[string]string{"*": srv.HTTPSAddr},
		RootCAs:   sim.CertPool(),
		// The simulator is on loopback, but a CI machine running every
		// package's tests at once (and their ClickHouse servers) can
		// stall a handshake past the defaults meant for the internet;
		// no simulated behaviour relies on a timeout.
		DialTimeout:           20 * time.Second,
		TLSHandshakeTimeout:   30 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		Timeout:               60 * time.Second,
	})
	require.NoError(t, err)
	return client.HTTPClient()
}
