package session

import (
	"net"
	"net/netip"
	"slices"
)

// MaxCandidates matches the invitation format's limit on addresses.
const MaxCandidates = 16

// LocalCandidates returns the addresses at which a peer can try to reach a
// socket bound to bound, given the machine's interface addresses: the bound
// address itself when it is specific, otherwise every interface address
// (IPv6 first, no loopback, link-local or multicast; no IPv6 for an IPv4
// socket), at most MaxCandidates. It returns nil when there is none.
func LocalCandidates(bound netip.AddrPort, ifaddrs []netip.Addr) []netip.AddrPort {
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
	if len(out) > MaxCandidates {
		out = out[:MaxCandidates]
	}
	return out
}

// InterfacePrefixes returns the machine's interface addresses with their
// prefixes (in the calling thread's network namespace, on Linux).
func InterfacePrefixes() []netip.Prefix {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []netip.Prefix
	for _, a := range addrs {
		if pfx, err := netip.ParsePrefix(a.String()); err == nil {
			out = append(out, netip.PrefixFrom(pfx.Addr().Unmap().WithZone(""), pfx.Bits()))
		}
	}
	return out
}

// Path kinds: how a session's connection reached the peer.
const (
	PathLAN     = "lan"     // the peer's address is on one of our own links
	PathDirect  = "direct"  // routed to one of the peer's own addresses, no NAT mapping needed
	PathPunched = "punched" // through a NAT mapping found by the rendezvous (server-reflexive)
	PathRelayed = "relayed" // through a TURN relay, end to end encrypted
)

// ClassifyPath names the path to peer: PathPunched when peer is one of
// reflexive (the peer's server-reflexive addresses, learned from the
// rendezvous), PathLAN when it lies inside one of local (our interface
// prefixes), PathDirect otherwise.
func ClassifyPath(peer netip.AddrPort, local []netip.Prefix, reflexive []netip.AddrPort) string {
	peer = netip.AddrPortFrom(peer.Addr().Unmap().WithZone(""), peer.Port())
	if slices.Contains(reflexive, peer) {
		return PathPunched
	}
	for _, p := range local {
		if p.Bits() < p.Addr().BitLen() && p.Contains(peer.Addr()) {
			return PathLAN
		}
	}
	return PathDirect
}
