package host_test

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/gethelp/gethelp/host"
)

func TestCandidates(t *testing.T) {
	ifaddrs := []netip.Addr{
		netip.MustParseAddr("127.0.0.1"),
		netip.MustParseAddr("192.168.1.5"),
		netip.MustParseAddr("::1"),
		netip.MustParseAddr("fe80::1"),
		netip.MustParseAddr("2001:db8::5"),
		netip.MustParseAddr("10.0.0.7"),
	}
	ap := netip.MustParseAddrPort
	tests := []struct {
		name    string
		bound   string
		ifaddrs []netip.Addr
		want    []netip.AddrPort
	}{
		{"dual stack: IPv6 first, no loopback or link-local", "[::]:4000", ifaddrs,
			[]netip.AddrPort{ap("[2001:db8::5]:4000"), ap("192.168.1.5:4000"), ap("10.0.0.7:4000")}},
		{"IPv4 only socket skips IPv6", "0.0.0.0:4000", ifaddrs,
			[]netip.AddrPort{ap("192.168.1.5:4000"), ap("10.0.0.7:4000")}},
		{"specific address is the only candidate", "127.0.0.1:4000", ifaddrs,
			[]netip.AddrPort{ap("127.0.0.1:4000")}},
		{"specific IPv6 address", "[::1]:4000", ifaddrs,
			[]netip.AddrPort{ap("[::1]:4000")}},
		{"nothing but loopback falls back to it", "[::]:4000", []netip.Addr{netip.MustParseAddr("127.0.0.1")},
			[]netip.AddrPort{ap("127.0.0.1:4000"), ap("[::1]:4000")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := host.Candidates(ap(tt.bound), tt.ifaddrs)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Candidates(%s) = %v, want %v", tt.bound, got, tt.want)
			}
		})
	}
}

func TestCandidatesCapped(t *testing.T) {
	var many []netip.Addr
	for i := range 40 {
		many = append(many, netip.AddrFrom4([4]byte{10, 0, 1, byte(i + 1)}))
	}
	if got := host.Candidates(netip.MustParseAddrPort("[::]:1"), many); len(got) != 16 {
		t.Errorf("got %d candidates, want the invitation format's limit of 16", len(got))
	}
}
