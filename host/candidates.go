package host

import (
	"net"
	"net/netip"

	"github.com/gethelp/gethelp/session"
)

// maxCandidates matches the invitation format's limit.
const maxCandidates = session.MaxCandidates

// Candidates returns the addresses a viewer can try to reach a socket bound
// to bound, given the machine's interface addresses: those of
// session.LocalCandidates, or the loopback addresses when there is none.
func Candidates(bound netip.AddrPort, ifaddrs []netip.Addr) []netip.AddrPort {
	out := session.LocalCandidates(bound, ifaddrs)
	if len(out) == 0 {
		out = append(out, netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), bound.Port()))
		if !bound.Addr().Unmap().Is4() {
			out = append(out, netip.AddrPortFrom(netip.IPv6Loopback(), bound.Port()))
		}
	}
	return out
}

// InterfaceAddrs returns the machine's interface addresses.
func InterfaceAddrs() []netip.Addr {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []netip.Addr
	for _, a := range addrs {
		if pfx, err := netip.ParsePrefix(a.String()); err == nil {
			out = append(out, pfx.Addr())
		}
	}
	return out
}
