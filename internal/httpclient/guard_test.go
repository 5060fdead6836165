package httpclient

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestIsForbidden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ip    string
		allow []string
		// rawAllow is passed to IsForbidden without ParseAllowNet.
		rawAllow  string
		forbidden bool
	}{
		// Public addresses pass.
		{ip: "1.1.1.1"},
		{ip: "8.8.8.8"},
		{ip: "100.63.255.255"},
		{ip: "100.128.0.0"},
		{ip: "172.32.0.1"},
		{ip: "192.0.3.1"},
		{ip: "198.20.0.1"},
		{ip: "223.255.255.255"},
		{ip: "2606:4700:4700::1111"},
		{ip: "2a01:4f8::1"},
		{ip: "::ffff:8.8.8.8"},
		{ip: "64:ff9b::808:808"},
		{ip: "2002:808:808::1"},

		// IPv4 reserved ranges.
		{ip: "0.0.0.0", forbidden: true},
		{ip: "0.1.2.3", forbidden: true},
		{ip: "10.0.0.1", forbidden: true},
		{ip: "100.64.0.1", forbidden: true},
		{ip: "100.127.255.255", forbidden: true},
		{ip: "127.0.0.1", forbidden: true},
		{ip: "127.255.255.254", forbidden: true},
		{ip: "169.254.169.254", forbidden: true},
		{ip: "172.16.0.1", forbidden: true},
		{ip: "172.31.255.255", forbidden: true},
		{ip: "192.0.0.8", forbidden: true},
		{ip: "192.0.2.1", forbidden: true},
		{ip: "192.88.99.1", forbidden: true},
		{ip: "192.168.1.1", forbidden: true},
		{ip: "198.18.0.1", forbidden: true},
		{ip: "198.19.255.255", forbidden: true},
		{ip: "198.51.100.7", forbidden: true},
		{ip: "203.0.113.9", forbidden: true},
		{ip: "224.0.0.1", forbidden: true},
		{ip: "239.255.255.250", forbidden: true},
		{ip: "240.0.0.1", forbidden: true},
		{ip: "255.255.255.255", forbidden: true},

		// IPv6 reserved ranges.
		{ip: "::", forbidden: true},
		{ip: "::1", forbidden: true},
		{ip: "::127.0.0.1", forbidden: true}, // IPv4-compatible, deprecated
		{ip: "100::1", forbidden: true},      // discard-only
		{ip: "fc00::1", forbidden: true},
		{ip: "fd12:3456::1", forbidden: true},
		{ip: "fe80::1", forbidden: true},
		{ip: "fe80::1%eth0", forbidden: true},
		{ip: "fec0::1", forbidden: true},
		{ip: "ff02::1", forbidden: true},
		{ip: "2001::1", forbidden: true}, // Teredo
		{ip: "2001:2::1", forbidden: true},
		{ip: "2001:db8::1", forbidden: true},
		{ip: "3fff::1", forbidden: true},
		{ip: "5f00::1", forbidden: true},
		{ip: "64:ff9b:1::1", forbidden: true},

		// IPv4 embedded in IPv6.
		{ip: "::ffff:127.0.0.1", forbidden: true},
		{ip: "::ffff:10.0.0.1", forbidden: true},
		{ip: "::ffff:169.254.169.254", forbidden: true},
		{ip: "::ffff:0.0.0.0", forbidden: true},
		{ip: "64:ff9b::a00:1", forbidden: true},   // NAT64 of 10.0.0.1
		{ip: "64:ff9b::7f00:1", forbidden: true},  // NAT64 of 127.0.0.1
		{ip: "2002:7f00:1::1", forbidden: true},   // 6to4 of 127.0.0.1
		{ip: "2002:c0a8:101::1", forbidden: true}, // 6to4 of 192.168.1.1

		// Allowed networks.
		{ip: "127.0.0.1", allow: []string{"127.0.0.1/32"}},
		{ip: "127.0.0.2", allow: []string{"127.0.0.1/32"}, forbidden: true},
		{ip: "::ffff:127.0.0.1", allow: []string{"127.0.0.1/32"}},
		{ip: "::1", allow: []string{"127.0.0.0/8"}, forbidden: true},
		{ip: "10.1.2.3", allow: []string{"10.0.0.0/8"}},
		{ip: "10.1.2.3", allow: []string{"192.168.0.0/16", "10.1.0.0/16"}},
		{ip: "10.2.0.1", allow: []string{"10.1.0.0/16"}, forbidden: true},
		{ip: "fd00::5", allow: []string{"fd00::/8"}},
		{ip: "fe80::1%eth0", allow: []string{"fe80::/10"}},
		{ip: "127.0.0.9", rawAllow: "::ffff:127.0.0.0/104"},

		// Invalid.
		{ip: "", forbidden: true},
	}
	for _, tc := range tests {
		t.Run(tc.ip+"/"+strings.Join(tc.allow, ","), func(t *testing.T) {
			t.Parallel()
			var ip netip.Addr
			if tc.ip != "" {
				ip = netip.MustParseAddr(tc.ip)
			}
			var allow []netip.Prefix
			for _, s := range tc.allow {
				p, err := ParseAllowNet(s)
				require.NoError(t, err)
				allow = append(allow, p)
			}
			if tc.rawAllow != "" {
				allow = append(allow, netip.MustParsePrefix(tc.rawAllow))
			}
			require.Equal(t, tc.forbidden, IsForbidden(ip, allow))
		})
	}
}

func TestParseAllowNet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{in: "10.0.0.0/8", want: "10.0.0.0/8"},
		{in: " 10.1.2.3/8 ", want: "10.0.0.0/8"},
		{in: "127.0.0.1", want: "127.0.0.1/32"},
		{in: "::1", want: "::1/128"},
		{in: "fd00::/8", want: "fd00::/8"},
		{in: "::ffff:127.0.0.0/104", want: "127.0.0.0/8"},
		{in: "::ffff:127.0.0.1", want: "127.0.0.1/32"},
		{in: "", wantErr: true},
		{in: "localhost", wantErr: true},
		{in: "10.0.0.0/33", wantErr: true},
		{in: "10.0.0.0/", wantErr: true},
		{in: "fe80::1%eth0", wantErr: true},
		{in: "300.0.0.1", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			p, err := ParseAllowNet(tc.in)
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, p.String())
		})
	}
}
