package host

import (
	"net"
	"net/netip"
	"slices"
)

// maxCandidates matches the invitation format's limit.
const maxCandidates = 16

// Candidates returns the addresses a viewer can try to reach a socket bound
// to bound, given the machine's interface addresses.
func Candidates(bound netip.AddrPort, ifaddrs []netip.Addr) []netip.AddrPort {
	ip := bound.Addr().Unmap()
	if !ip.IsUnspecified() {
		return []netip.AddrPort{netip.AddrPortFrom(ip, bound.Port())}
	}
	v4only := ip.Is4()
	var out []netip.AddrPort
	for _, a := range ifaddrs {
		a = a.Unmap()
		if a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsMulticast() || a.IsUnspecified() || (v4only && a.Is6()) {
			continue
		}
		out = append(out, netip.AddrPortFrom(a.WithZone(""), bound.Port()))
	}
	slices.SortStableFunc(out, func(x, y netip.AddrPort) int {
		// IPv6 first, otherwise keep the interface order.
		switch {
		case x.Addr().Is6() && !y.Addr().Is6():
			return -1
		case !x.Addr().Is6() && y.Addr().Is6():
			return 1
		}
		return 0
	})
	out = slices.Compact(out)
	if len(out) == 0 {
		out = append(out, netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), bound.Port()))
		if !v4only {
			out = append(out, netip.AddrPortFrom(netip.IPv6Loopback(), bound.Port()))
		}
	}
	if len(out) > maxCandidates {
		out = out[:maxCandidates]
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
