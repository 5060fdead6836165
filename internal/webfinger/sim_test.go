package webfinger

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/fedisim"
)

// simFetcher serves requests from the simulator's handler in process.
type simFetcher struct{ h http.Handler }

func (f *simFetcher) Fetch(ctx context.Context, u, accept string, maxBody int64) (int, http.Header, []byte, error) {
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	req.Header.Set("Accept", accept)
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	body, err := io.ReadAll(io.LimitReader(rec.Result().Body, maxBody))
	if err != nil {
		return 0, nil, nil, err
	}
	return rec.Code, rec.Header(), body, nil
}

// TestLookupSimulator resolves one account of every program in the
// simulator that has accounts and compares with the ground truth, and
// reads every program's host-meta.
func TestLookupSimulator(t *testing.T) {
	sim := fedisim.New(fedisim.Options{Seed: 3, Instances: 300, NoHostile: true})
	seen := map[string]bool{}
	for _, it := range sim.Truth().Instances {
		if len(it.Accounts) == 0 || seen[it.Software] {
			continue
		}
		seen[it.Software] = true
		a := it.Accounts[len(it.Accounts)-1]
		t.Run(it.Software, func(t *testing.T) {
			r := New(&simFetcher{h: sim.Handler()}, Options{})
			for _, form := range []string{a.Acct, "@" + a.Acct, "acct:" + strings.ToUpper(a.Username) + "@" + it.Host} {
				got, err := r.Lookup(context.Background(), form)
				require.NoError(t, err, form)
				require.Equal(t, "acct:"+a.Acct, got.Subject)
				require.Equal(t, a.URI, got.Actor)
				require.Equal(t, it.Host, got.Host)
				require.NotEmpty(t, got.ProfileURL)
			}
			_, err := r.Lookup(context.Background(), "nobody-here@"+it.Host)
			require.ErrorIs(t, err, ErrNotFound)
			tmpl, err := r.hostMeta(context.Background(), it.Host)
			require.NoError(t, err)
			require.Equal(t, "https://"+it.Host+"/.well-known/webfinger?resource={uri}", tmpl)
		})
	}
	for _, sw := range []string{"mastodon", "misskey", "akkoma", "pleroma", "gotosocial", "wordpress", "writefreely", "snac", "friendica", "pixelfed"} {
		require.True(t, seen[sw], "the simulator has no %s instance with accounts", sw)
	}
}
