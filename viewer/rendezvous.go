package viewer

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/gethelp/gethelp/rendezvous"
	"github.com/gethelp/gethelp/session"
)

// seekTimeout bounds the wait for the rendezvous before dialing; the host
// registers within moments of making the invitation, so this is mostly
// the time lost when the rendezvous is down.
const seekTimeout = 2 * time.Second

// maxAddresses bounds the candidates the viewer races.
const maxAddresses = 24

// connect dials the host of cfg.Invitation and names the path that won
// (session.PathLAN, PathDirect or PathPunched). With a rendezvous in the
// invitation it dials from a socket of its own, asks the rendezvous for
// the host's candidates (its reflexive address among them), announces its
// own so that the host probes back, probes the host from that socket, and
// races the invitation's addresses and the rendezvous's together. A
// rendezvous that does not answer is logged and skipped. The rendezvous is
// not trusted: every address still has to pass the pinned TLS handshake
// and the password proof.
func connect(ctx context.Context, dc session.DialConfig, rdv string, logger *slog.Logger) (*session.Conn, string, error) {
	prefixes := session.InterfacePrefixes()
	var reflexive []netip.AddrPort
	if rdv != "" {
		sock, seeker := seek(ctx, dc, rdv, prefixes, logger)
		if seeker != nil {
			defer seeker.Close()
			hr := seeker.HostReflexive()
			if hr.IsValid() && !slices.Contains(seeker.Host(), hr) {
				reflexive = append(reflexive, hr)
			}
			dc.Addresses = union(dc.Addresses, seeker.Host(), reflexive)
		}
		dc.Socket = sock // nil when no socket could be opened
	}
	start := time.Now()
	conn, err := session.Dial(ctx, dc)
	if err != nil {
		return nil, "", err
	}
	path := session.PathDirect
	if ua, ok := conn.RemoteAddr().(*net.UDPAddr); ok {
		path = session.ClassifyPath(ua.AddrPort(), prefixes, reflexive)
	}
	logger.Info("connected", "path", path, "addr", conn.RemoteAddr().String(), "dial", time.Since(start))
	return conn, path, nil
}

// seek opens the viewer's socket and asks the rendezvous for the host. It
// returns a nil socket when none could be opened and a nil seeker when the
// rendezvous did not help.
func seek(ctx context.Context, dc session.DialConfig, rdv string, prefixes []netip.Prefix, logger *slog.Logger) (*session.Socket, *rendezvous.Seeker) {
	start := time.Now()
	server, err := rendezvous.Resolve(ctx, rdv)
	if err != nil {
		logger.Warn("rendezvous unusable", "rendezvous", rdv, "err", err)
		return nil, nil
	}
	sock, err := session.ListenSocket(":0")
	if err != nil {
		logger.Warn("opening the socket for the rendezvous", "err", err)
		return nil, nil
	}
	ifaddrs := make([]netip.Addr, len(prefixes))
	for i, p := range prefixes {
		ifaddrs[i] = p.Addr()
	}
	sctx, cancel := context.WithTimeout(ctx, seekTimeout)
	defer cancel()
	seeker, err := rendezvous.Seek(sctx, rendezvous.SeekConfig{
		Server: server, Conn: sock, InvitationID: dc.InvitationID, Pin: dc.Pin,
		Candidates: session.LocalCandidates(sock.LocalAddr(), ifaddrs), Logger: logger,
	})
	if err != nil {
		logger.Warn("the rendezvous did not help", "rendezvous", server, "err", err)
		return sock, nil
	}
	logger.Info("rendezvous answered", "host", seeker.Host(), "host_reflexive", seeker.HostReflexive(),
		"our_reflexive", seeker.Reflexive(), "took", time.Since(start))
	return sock, seeker
}

// union keeps the first occurrence of each address, at most maxAddresses.
func union(lists ...[]netip.AddrPort) []netip.AddrPort {
	var out []netip.AddrPort
	for _, l := range lists {
		for _, a := range l {
			a = netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
			if a.IsValid() && !slices.Contains(out, a) && len(out) < maxAddresses {
				out = append(out, a)
			}
		}
	}
	return out
}
