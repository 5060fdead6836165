package hostname

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRegistrable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"unlisted tld: last two labels", "a.b.spamfarm.example", "spamfarm.example"},
		{"unlisted tld: two labels", "spamfarm.example", "spamfarm.example"},
		{"test tld", "mastodon.oak-ridge.test", "oak-ridge.test"},
		{"hosting provider subdomain", "cats.masto-host.example", "masto-host.example"},
		{"icann suffix", "mastodon.social", "mastodon.social"},
		{"icann suffix subdomain", "files.mastodon.social", "mastodon.social"},
		{"two-label icann suffix", "social.example.co.uk", "example.co.uk"},
		{"two-label icann suffix exact", "example.co.uk", "example.co.uk"},
		{"private suffix keeps users apart", "alice.github.io", "alice.github.io"},
		{"private suffix deeper", "x.alice.github.io", "alice.github.io"},
		{"wildcard rule", "a.b.c.kawasaki.jp", "b.c.kawasaki.jp"},
		{"exception rule", "x.city.kawasaki.jp", "city.kawasaki.jp"},
		{"punycode", "mastodon.xn--bcher-kva.example", "xn--bcher-kva.example"},
		{"port stripped", "x.spamfarm.example:8443", "spamfarm.example"},
		{"default port stripped", "social.example.co.uk:443", "example.co.uk"},
		{"case and trailing dot forgiven", "X.SpamFarm.Example.", "spamfarm.example"},
		{"public suffix itself", "co.uk", "co.uk"},
		{"tld itself", "example", "example"},
		{"single label", "localhost", "localhost"},
		{"single label with port", "localhost:3000", "localhost"},
		{"ipv4", "127.0.0.1", "127.0.0.1"},
		{"ipv4 with port", "127.0.0.1:8080", "127.0.0.1"},
		{"ipv6 bracketed with port", "[2001:db8::1]:8443", "2001:db8::1"},
		{"ipv6 bracketed", "[::1]", "::1"},
		{"ipv6 bare", "fe80::1", "fe80::1"},
		{"empty", "", ""},
		{"blank", "  ", ""},
		{"only a port", ":443", ""},
		{"malformed stands alone", "a..b.example", "a..b.example"},
		{"huge input", string(make([]byte, 5000)), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, Registrable(tc.in))
		})
	}
}

// TestRegistrableGroupsNormalised checks the contract the crawler relies
// on: every spelling Normalize accepts for one name lands in one group.
func TestRegistrableGroupsNormalised(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"Cats.Masto-Host.Example.", "cats.masto-host.example:443", "cats.masto-host.example"} {
		n, err := Normalize(in)
		require.NoError(t, err, in)
		require.Equal(t, "masto-host.example", Registrable(n), in)
	}
}
