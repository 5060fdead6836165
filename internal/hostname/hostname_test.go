package hostname

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNormalize(t *testing.T) {
	t.Parallel()
	long63 := strings.Repeat("a", 63)
	tests := []struct {
		name string
		in   string
		want string
		// errs are the sentinels the error must wrap; nil means success.
		errs []error
	}{
		{name: "already canonical", in: "example.com", want: "example.com"},
		{name: "upper case", in: "Example.COM", want: "example.com"},
		{name: "trailing dot", in: "example.com.", want: "example.com"},
		{name: "default port dropped", in: "example.com:443", want: "example.com"},
		{name: "other port kept", in: "ExAmple.com:8443", want: "example.com:8443"},
		{name: "port leading zeros", in: "example.com:0443", want: "example.com"},
		{name: "port 80 kept", in: "example.com:80", want: "example.com:80"},
		{name: "trailing dot and port", in: "example.com.:8443", want: "example.com:8443"},
		{name: "unicode", in: "bücher.example", want: "xn--bcher-kva.example"},
		{name: "unicode upper case", in: "BÜCHER.example", want: "xn--bcher-kva.example"},
		{name: "punycode kept", in: "xn--bcher-kva.example", want: "xn--bcher-kva.example"},
		{name: "ideographic full stop", in: "example。com", want: "example.com"},
		{name: "surrounding space trimmed", in: "  example.com\n", want: "example.com"},
		{name: "double hyphen inside label", in: "r3---sn-x.example", want: "r3---sn-x.example"},
		{name: "digits in labels", in: "123.example", want: "123.example"},
		{name: "longest label", in: long63 + ".example", want: long63 + ".example"},

		{name: "empty", in: "", errs: []error{ErrInvalid}},
		{name: "blank", in: "   ", errs: []error{ErrInvalid}},
		{name: "inner space", in: "bad host", errs: []error{ErrInvalid}},
		{name: "hyphen edges", in: "-x-.example", errs: []error{ErrInvalid}},
		{name: "leading hyphen", in: "-x.example", errs: []error{ErrInvalid}},
		{name: "trailing hyphen", in: "x-.example", errs: []error{ErrInvalid}},
		{name: "empty label", in: "a..b", errs: []error{ErrInvalid}},
		{name: "leading dot", in: ".example.com", errs: []error{ErrInvalid}},
		{name: "two trailing dots", in: "example.com..", errs: []error{ErrInvalid}},
		{name: "underscore", in: "my_host.example", errs: []error{ErrInvalid}},
		{name: "wildcard", in: "*.example", errs: []error{ErrInvalid}},
		{name: "path", in: "example.com/path", errs: []error{ErrInvalid}},
		{name: "query", in: "example.com?x", errs: []error{ErrInvalid}},
		{name: "scheme", in: "https://example.com", errs: []error{ErrInvalid}},
		{name: "userinfo", in: "user@example.com", errs: []error{ErrInvalid}},
		{name: "port too large", in: "x.example:99999", errs: []error{ErrInvalid}},
		{name: "port zero", in: "x.example:0", errs: []error{ErrInvalid}},
		{name: "port empty", in: "x.example:", errs: []error{ErrInvalid}},
		{name: "port not a number", in: "x.example:https", errs: []error{ErrInvalid}},
		{name: "port negative", in: "x.example:-1", errs: []error{ErrInvalid}},
		{name: "label too long", in: long63 + "a.example", errs: []error{ErrInvalid}},
		{name: "name too long", in: strings.Repeat(long63+".", 4) + "example", errs: []error{ErrInvalid}},
		{name: "huge input", in: strings.Repeat("a", 100000), errs: []error{ErrInvalid}},
		{name: "control character", in: "exa\x00mple.com", errs: []error{ErrInvalid}},
		{name: "invalid utf8", in: "exa\xffmple.com", errs: []error{ErrInvalid}},
		{name: "bad punycode", in: "xn--a-.example", errs: []error{ErrInvalid}},
		{name: "unclosed bracket", in: "[::1", errs: []error{ErrInvalid}},
		{name: "bracketed name", in: "[example.com]", errs: []error{ErrInvalid}},
		{name: "junk after bracket", in: "[::1]x", errs: []error{ErrInvalid}},

		{name: "ipv4", in: "127.0.0.1", want: "127.0.0.1", errs: []error{ErrInvalid, ErrIPLiteral}},
		{name: "ipv4 with port", in: "127.0.0.1:8080", want: "127.0.0.1:8080", errs: []error{ErrInvalid, ErrIPLiteral}},
		{name: "ipv6 bracketed", in: "[::1]", want: "[::1]", errs: []error{ErrInvalid, ErrIPLiteral}},
		{name: "ipv6 bracketed port", in: "[::1]:8443", want: "[::1]:8443", errs: []error{ErrInvalid, ErrIPLiteral}},
		{name: "ipv6 bare", in: "fe80::1", want: "[fe80::1]", errs: []error{ErrInvalid, ErrIPLiteral}},
		{name: "ipv4 short form", in: "127.1", want: "127.1", errs: []error{ErrInvalid, ErrIPLiteral}},
		{name: "ipv4 hex form", in: "0x7f.1", want: "0x7f.1", errs: []error{ErrInvalid, ErrIPLiteral}},
		{name: "ipv4 fullwidth digits", in: "１２７.０.０.１", want: "127.0.0.1", errs: []error{ErrInvalid, ErrIPLiteral}},
		{name: "localhost", in: "localhost", want: "localhost", errs: []error{ErrInvalid, ErrSingleLabel}},
		{name: "localhost port", in: "LocalHost:3000", want: "localhost:3000", errs: []error{ErrInvalid, ErrSingleLabel}},
		{name: "single label trailing dot", in: "intranet.", want: "intranet", errs: []error{ErrInvalid, ErrSingleLabel}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Normalize(tc.in)
			if tc.errs == nil {
				require.NoError(t, err)
				require.Equal(t, tc.want, got)
				return
			}
			require.Error(t, err)
			for _, e := range tc.errs {
				require.ErrorIs(t, err, e)
			}
			if !containsErr(tc.errs, ErrIPLiteral) {
				require.NotErrorIs(t, err, ErrIPLiteral)
			}
			if !containsErr(tc.errs, ErrSingleLabel) {
				require.NotErrorIs(t, err, ErrSingleLabel)
			}
			require.Equal(t, tc.want, got)
		})
	}
}

func TestFromURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string
		errs []error
	}{
		{name: "https with path", in: "https://Example.com/path", want: "example.com"},
		{name: "https default port", in: "https://example.com:443/x", want: "example.com"},
		{name: "https other port", in: "https://example.com:8443/x", want: "example.com:8443"},
		{name: "http default port", in: "http://example.com:80/", want: "example.com"},
		{name: "http other port", in: "http://example.com:8080/", want: "example.com:8080"},
		{name: "http port 443 kept", in: "http://example.com:443/", want: "example.com:443"},
		{name: "upper case scheme", in: "HTTPS://EXAMPLE.com", want: "example.com"},
		{name: "unicode host", in: "https://bücher.example/", want: "xn--bcher-kva.example"},
		{name: "query and fragment", in: "https://example.com/?a=b#c", want: "example.com"},
		{name: "empty port", in: "https://example.com:/", want: "example.com"},

		{name: "no scheme", in: "example.com/path", errs: []error{ErrInvalid}},
		{name: "other scheme", in: "ftp://example.com/", errs: []error{ErrInvalid}},
		{name: "javascript", in: "javascript:alert(1)", errs: []error{ErrInvalid}},
		{name: "userinfo", in: "https://user:pw@example.com/", errs: []error{ErrInvalid}},
		{name: "no host", in: "https:///path", errs: []error{ErrInvalid}},
		{name: "opaque", in: "https:example.com", errs: []error{ErrInvalid}},
		{name: "unparsable", in: "https://exa mple.com/", errs: []error{ErrInvalid}},
		{name: "bad port", in: "https://example.com:99999/", errs: []error{ErrInvalid}},
		{name: "ip literal", in: "http://127.0.0.1:8080/", want: "127.0.0.1:8080", errs: []error{ErrInvalid, ErrIPLiteral}},
		{name: "ipv6 literal", in: "https://[::1]/", want: "[::1]", errs: []error{ErrInvalid, ErrIPLiteral}},
		{name: "single label", in: "http://localhost:3000/", want: "localhost:3000", errs: []error{ErrInvalid, ErrSingleLabel}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := FromURL(tc.in)
			for _, e := range tc.errs {
				require.ErrorIs(t, err, e)
			}
			if tc.errs == nil {
				require.NoError(t, err)
			}
			require.Equal(t, tc.want, got)
		})
	}
}

// TestNormalizeIdempotent checks that normalising a normalised name is a
// no-op: the crawler normalises at every boundary, and two spellings of one
// instance must never survive.
func TestNormalizeIdempotent(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"Example.COM.", "bücher.example:8443", "example.com:443", "r3---sn-x.example"} {
		t.Run(in, func(t *testing.T) {
			t.Parallel()
			once, err := Normalize(in)
			require.NoError(t, err)
			twice, err := Normalize(once)
			require.NoError(t, err)
			require.Equal(t, once, twice)
		})
	}
}

func containsErr(errs []error, target error) bool {
	for _, e := range errs {
		if e == target {
			return true
		}
	}
	return false
}

// FuzzNormalize checks that Normalize never panics, that what it accepts
// is stable (normalising again changes nothing) and plain ASCII.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"Example.COM.", "bücher.example:8443", "[::1]:443", "127.1", "a..b", "x.example:99999", "-x-.example", "example。com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Normalize(s)
		if err != nil {
			return
		}
		again, err := Normalize(got)
		if err != nil || again != got {
			t.Fatalf("Normalize(%q) = %q, but Normalize(%q) = %q, %v", s, got, got, again, err)
		}
		for i := 0; i < len(got); i++ {
			if got[i] >= 0x80 || got[i] <= ' ' {
				t.Fatalf("Normalize(%q) = %q: not plain ASCII", s, got)
			}
		}
	})
}
