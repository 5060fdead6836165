package policy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fedilens/fedilens/internal/model"
)

func TestParseDenylistErrors(t *testing.T) {
	tests := []struct {
		entry string
		want  string // substring of the error; "" means valid
	}{
		{"host.example", ""},
		{"Host.Example.", ""},
		{"*.example.com", ""},
		{".example.com", ""},
		{"*.test", ""},
		{"bücher.example", ""},
		{"  spaced.example  ", ""},
		{"x.example:443", ""}, // the default port is not a port
		{"x.example:8443", "without a port"},
		{"127.0.0.1", "IP address"},
		{"[::1]", "IP address"},
		{"a.*.example", "wildcard"},
		{"*example.com", "wildcard"},
		{"**.example.com", "wildcard"},
		{"bad host.example", "invalid host name"},
		{"https://x.example", "scheme"},
		{"x.example/path", "path"},
		{"-x-.example", "hyphen"},
	}
	for _, tc := range tests {
		t.Run(tc.entry, func(t *testing.T) {
			_, err := ParseDenylist([]string{tc.entry})
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrBadEntry)
			require.ErrorContains(t, err, tc.want)
			require.ErrorContains(t, err, fmt.Sprintf("%q", strings.TrimSpace(tc.entry)), "the error names the entry")
		})
	}
	// Every bad entry is reported at once.
	_, err := ParseDenylist([]string{"ok.example", "1.2.3.4", "a b", ""})
	require.ErrorContains(t, err, `"1.2.3.4"`)
	require.ErrorContains(t, err, `"a b"`)
}

func TestPolicyAllowed(t *testing.T) {
	deny, err := ParseDenylist([]string{"exact.example", "*.spam.example", ".Farm.Test.", "bücher.example", "*.tld"})
	require.NoError(t, err)
	require.Equal(t, 5, deny.Len())
	p := New(Options{Deny: deny, OptOuts: &fakeSource{list: []model.OptOut{
		{Host: "optout.example", Reason: "private note"},
		{Host: "Upper.Example", Reason: "stored in another spelling"},
		{Host: "port.example:8443"},
	}}})
	require.NoError(t, p.Reload(context.Background()))

	tests := []struct {
		host   string
		ok     bool
		reason string
	}{
		{"fine.example", true, ""},
		{"exact.example", false, "denied by the operator (exact.example)"},
		{"EXACT.example.", false, "denied by the operator (exact.example)"},
		{"exact.example:8443", false, "denied by the operator (exact.example)"},
		{"sub.exact.example", true, ""}, // an exact entry does not cover subdomains
		{"spam.example", false, "denied by the operator (*.spam.example)"},
		{"a.b.spam.example", false, "denied by the operator (*.spam.example)"},
		{"notspam.example", true, ""}, // a suffix is not a subdomain
		{"spam.example.org", true, ""},
		{"x.farm.test", false, "denied by the operator (.Farm.Test.)"},
		{"xn--bcher-kva.example", false, "denied by the operator (bücher.example)"},
		{"anything.tld", false, "denied by the operator (*.tld)"},
		{"optout.example", false, ReasonOptedOut},
		{"optout.example:9000", false, ReasonOptedOut},
		{"sub.optout.example", true, ""}, // opt-outs are per host
		{"upper.example", false, ReasonOptedOut},
		{"port.example:8443", false, ReasonOptedOut},
		{"port.example", true, ""}, // an opt-out with a port covers that port only
		{"", false, ReasonInvalid},
		{"bad host", false, ReasonInvalid},
		{"127.0.0.1", false, ReasonInvalid},
		{"localhost", true, ""}, // not the policy's business: the crawler never visits single labels
	}
	for _, tc := range tests {
		t.Run(tc.host, func(t *testing.T) {
			ok, reason := p.Allowed(tc.host)
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.reason, reason)
			require.NotContains(t, reason, "note", "the operator's notes are never public")
		})
	}
}

func TestPolicyReload(t *testing.T) {
	ctx := context.Background()
	src := &fakeSource{list: []model.OptOut{{Host: "a.example"}}}
	p := New(Options{OptOuts: src})
	ok, _ := p.Allowed("a.example")
	require.True(t, ok, "nothing is loaded before the first Reload")

	require.NoError(t, p.Reload(ctx))
	ok, _ = p.Allowed("a.example")
	require.False(t, ok)

	// A failed reload keeps what was loaded: fail closed.
	src.set(nil, errors.New("clickhouse down"))
	require.ErrorContains(t, p.Reload(ctx), "clickhouse down")
	ok, _ = p.Allowed("a.example")
	require.False(t, ok)

	// The opt-out is lifted, another one added.
	src.set([]model.OptOut{{Host: "b.example"}}, nil)
	require.NoError(t, p.Reload(ctx))
	ok, _ = p.Allowed("a.example")
	require.True(t, ok)
	ok, _ = p.Allowed("b.example")
	require.False(t, ok)
	require.Equal(t, []model.OptOut{{Host: "b.example"}}, p.OptedOut())

	// No source, no denylist: everything valid is allowed.
	empty := New(Options{})
	require.NoError(t, empty.Reload(ctx))
	ok, _ = empty.Allowed("a.example")
	require.True(t, ok)
	require.Zero(t, empty.Denylist().Len())
}

// TestPolicyConcurrent runs Allowed against Reload under the race detector.
func TestPolicyConcurrent(t *testing.T) {
	src := &fakeSource{list: []model.OptOut{{Host: "a.example"}}}
	p := New(Options{OptOuts: src})
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 200 {
				if i == 0 {
					require.NoError(t, p.Reload(ctx))
					continue
				}
				p.Allowed(fmt.Sprintf("h%d.example", j))
				p.Allowed("a.example")
			}
		}()
	}
	wg.Wait()
	ok, _ := p.Allowed("a.example")
	require.False(t, ok)
}

func TestParseDenyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "deny.txt")
	require.NoError(t, os.WriteFile(path, []byte("# operator's denylist\n\nexact.example\n  *.spam.example   # a farm\r\n.farm.test\n#commented.example\n"), 0o600))
	entries, err := ReadDenyFile(path)
	require.NoError(t, err)
	require.Equal(t, []string{"exact.example", "*.spam.example", ".farm.test"}, entries)

	_, err = ReadDenyFile(filepath.Join(dir, "missing.txt"))
	require.ErrorIs(t, err, os.ErrNotExist)

	_, err = ParseDenyFile(strings.NewReader("ok.example\n" + strings.Repeat("x", maxDenyLineBytes+10) + "\n"))
	require.ErrorContains(t, err, "line 2 is longer")
}

type fakeSource struct {
	mu   sync.Mutex
	list []model.OptOut
	err  error
}

func (f *fakeSource) set(list []model.OptOut, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.list, f.err = list, err
}

func (f *fakeSource) OptOuts(context.Context) ([]model.OptOut, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]model.OptOut(nil), f.list...), f.err
}
