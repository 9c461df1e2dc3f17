package rendezvous

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
)

// Resolve turns the invitation's rendezvous field, host:port with host a
// DNS name or an IP literal, into an address, looking the name up when
// needed (the first address wins).
func Resolve(ctx context.Context, hostport string) (netip.AddrPort, error) {
	h, ps, err := net.SplitHostPort(hostport)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("rendezvous: %w", err)
	}
	port, err := strconv.ParseUint(ps, 10, 16)
	if err != nil || port == 0 {
		return netip.AddrPort{}, fmt.Errorf("rendezvous: bad port %q", ps)
	}
	if ip, err := netip.ParseAddr(h); err == nil {
		return netip.AddrPortFrom(ip.Unmap(), uint16(port)), nil
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", h)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("rendezvous: %w", err)
	}
	if len(ips) == 0 {
		return netip.AddrPort{}, fmt.Errorf("rendezvous: %s has no address", h)
	}
	return netip.AddrPortFrom(ips[0].Unmap(), uint16(port)), nil
}
