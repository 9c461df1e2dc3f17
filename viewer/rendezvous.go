package viewer

import (
	"context"
	"errors"
	"fmt"
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
// (session.PathLAN, PathDirect, PathPunched or PathRelayed). With a rendezvous in the
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
	var seekErr error
	if rdv != "" {
		sock, seeker, err := seek(ctx, dc, rdv, prefixes, logger)
		seekErr = err
		if seeker != nil {
			defer seeker.Close()
			hr := seeker.HostReflexive()
			if hr.IsValid() && !slices.Contains(seeker.Host(), hr) {
				reflexive = append(reflexive, hr)
			}
			dc.Addresses = union(dc.Addresses, seeker.Host(), reflexive)
			if r := seeker.HostRelayed(); r.IsValid() {
				dc.Relays = []netip.AddrPort{r}
			}
		}
		dc.Socket = sock // nil when no socket could be opened
	}
	start := time.Now()
	conn, err := session.Dial(ctx, dc)
	if err != nil {
		if errors.Is(err, session.ErrUnreachable) {
			return nil, "", fmt.Errorf("%w %s", err, failedStep(rdv, seekErr, reflexive, dc.Relays))
		}
		return nil, "", err
	}
	path := session.PathDirect
	if ua, ok := conn.RemoteAddr().(*net.UDPAddr); ok {
		path = session.ClassifyPath(ua.AddrPort(), prefixes, reflexive)
		if slices.Contains(dc.Relays, netip.AddrPortFrom(ua.AddrPort().Addr().Unmap(), ua.AddrPort().Port())) {
			path = session.PathRelayed
		}
	}
	logger.Info("connected", "path", path, "addr", conn.RemoteAddr().String(), "dial", time.Since(start))
	return conn, path, nil
}

// failedStep names, for a connection that failed, the step of getting
// through NAT that failed, and what to do about it.
func failedStep(rdv string, seekErr error, reflexive, relays []netip.AddrPort) string {
	const doctor = "Run `gethelp doctor` on both computers to see why."
	switch {
	case rdv == "":
		return "The invitation names no rendezvous, so only direct addresses were tried (they work on one network, not through NAT). " + doctor
	case errors.Is(seekErr, rendezvous.ErrNotFound):
		return "Step failed: the rendezvous " + rdv + " does not know this invitation (the person's gethelp is not running, or could not reach the rendezvous). " + doctor
	case seekErr != nil:
		return "Step failed: the rendezvous " + rdv + " is unreachable from here (UDP blocked?). " + doctor
	case len(relays) > 0:
		return "Step failed: punching through NAT timed out, and the relay carried nothing either (relay refused or blocked). " + doctor
	case len(reflexive) > 0:
		return "Step failed: punching through NAT timed out, and the host has no relayed address (the rendezvous offers no relay, or the relay refused the host). " + doctor
	}
	return "Step failed: no path to the host's addresses. " + doctor
}

// seek opens the viewer's socket and asks the rendezvous for the host. It
// returns a nil socket when none could be opened and a nil seeker (and
// why) when the rendezvous did not help.
func seek(ctx context.Context, dc session.DialConfig, rdv string, prefixes []netip.Prefix, logger *slog.Logger) (*session.Socket, *rendezvous.Seeker, error) {
	start := time.Now()
	server, err := rendezvous.Resolve(ctx, rdv)
	if err != nil {
		logger.Warn("rendezvous unusable", "rendezvous", rdv, "err", err)
		return nil, nil, err
	}
	sock, err := session.ListenSocket(":0")
	if err != nil {
		logger.Warn("opening the socket for the rendezvous", "err", err)
		return nil, nil, err
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
		return sock, nil, err
	}
	logger.Info("rendezvous answered", "host", seeker.Host(), "host_reflexive", seeker.HostReflexive(),
		"our_reflexive", seeker.Reflexive(), "host_relayed", seeker.HostRelayed(), "took", time.Since(start))
	return sock, seeker, nil
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
