package viewer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
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
// (session.PathLAN, PathDirect, PathPunched or PathRelayed). It dials the
// invitation's addresses at once. With a rendezvous in the invitation it
// dials from a socket of its own and, meanwhile, asks the rendezvous for
// the host's candidates (its reflexive and relayed addresses among them),
// announces its own so that the host probes back, and probes the host from
// that socket; what the rendezvous tells joins the race as it comes. A
// rendezvous that does not answer is logged and costs nothing on a LAN.
// The rendezvous is not trusted: every address still has to pass the
// pinned TLS handshake and the password proof.
func connect(ctx context.Context, dc session.DialConfig, rdv string, logger *slog.Logger) (*session.Conn, string, error) {
	prefixes := session.InterfacePrefixes()
	var (
		found    learned
		seekDone chan struct{}
	)
	sctx, stopSeek := context.WithCancel(ctx)
	defer stopSeek()
	if rdv != "" {
		server, sock, err := openSeek(ctx, rdv, logger)
		if err != nil {
			found.err = err
		} else {
			later := newLater()
			dc.Socket, dc.Later = sock, later.ch
			seekDone = make(chan struct{})
			go func() {
				defer close(seekDone)
				defer later.close()
				found.seek(sctx, dc, server, sock, prefixes, logger, later)
				if found.seeker != nil {
					later.send(session.Candidates{Addresses: union(found.host, found.reflexive), Relays: found.relays})
					// A probe from the host arriving now opens a path a
					// first attempt may have found closed: try again there.
					select {
					case <-time.After(probeRetryFor):
					case <-sctx.Done():
					}
				}
			}()
		}
	}
	start := time.Now()
	conn, err := session.Dial(ctx, dc)
	if seekDone != nil {
		stopSeek() // the rendezvous is no longer needed
		<-seekDone
		if found.seeker != nil {
			found.seeker.Close()
		}
	}
	if err != nil {
		if errors.Is(err, session.ErrUnreachable) {
			return nil, "", fmt.Errorf("%w %s", err, failedStep(rdv, found.err, found.reflexive, found.relays))
		}
		return nil, "", err
	}
	path := session.PathDirect
	if ua, ok := conn.RemoteAddr().(*net.UDPAddr); ok {
		remote := netip.AddrPortFrom(ua.AddrPort().Addr().Unmap(), ua.AddrPort().Port())
		path = session.ClassifyPath(remote, prefixes, found.reflexive)
		if slices.Contains(found.relays, remote) {
			path = session.PathRelayed
		}
	}
	logger.Info("connected", "path", path, "addr", conn.RemoteAddr().String(), "dial", time.Since(start))
	return conn, path, nil
}

// learned is what the rendezvous told about the host.
type learned struct {
	seeker    *rendezvous.Seeker // nil when the rendezvous did not help
	err       error              // why not
	host      []netip.AddrPort   // the host's own addresses
	reflexive []netip.AddrPort   // its NAT mapping, when not one of those
	relays    []netip.AddrPort   // its relayed address
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

// openSeek resolves the rendezvous and opens the socket the viewer dials
// and seeks from.
func openSeek(ctx context.Context, rdv string, logger *slog.Logger) (netip.AddrPort, *session.Socket, error) {
	server, err := rendezvous.Resolve(ctx, rdv)
	if err != nil {
		logger.Warn("rendezvous unusable", "rendezvous", rdv, "err", err)
		return netip.AddrPort{}, nil, err
	}
	sock, err := session.ListenSocket(":0")
	if err != nil {
		logger.Warn("opening the socket for the rendezvous", "err", err)
		return netip.AddrPort{}, nil, err
	}
	return server, sock, nil
}

// seek asks the rendezvous for the host (for up to seekTimeout) and keeps
// what it says.
func (l *learned) seek(ctx context.Context, dc session.DialConfig, server netip.AddrPort, sock *session.Socket, prefixes []netip.Prefix, logger *slog.Logger, later *laterCandidates) {
	start := time.Now()
	ifaddrs := make([]netip.Addr, len(prefixes))
	for i, p := range prefixes {
		ifaddrs[i] = p.Addr()
	}
	sctx, cancel := context.WithTimeout(ctx, seekTimeout)
	defer cancel()
	seeker, err := rendezvous.Seek(sctx, rendezvous.SeekConfig{
		Server: server, Conn: sock, InvitationID: dc.InvitationID, Pin: dc.Pin,
		Candidates: session.LocalCandidates(sock.LocalAddr(), ifaddrs), Logger: logger,
		OnProbe: func(from netip.AddrPort) {
			later.send(session.Candidates{Again: []netip.AddrPort{from}})
		},
	})
	if err != nil {
		if ctx.Err() == nil {
			logger.Warn("the rendezvous did not help", "rendezvous", server, "err", err)
		}
		l.err = err
		return
	}
	l.seeker, l.host = seeker, seeker.Host()
	if hr := seeker.HostReflexive(); hr.IsValid() && !slices.Contains(l.host, hr) {
		l.reflexive = []netip.AddrPort{hr}
	}
	if r := seeker.HostRelayed(); r.IsValid() {
		l.relays = []netip.AddrPort{r}
	}
	logger.Info("rendezvous answered", "host", l.host, "host_reflexive", seeker.HostReflexive(),
		"our_reflexive", seeker.Reflexive(), "host_relayed", seeker.HostRelayed(), "took", time.Since(start))
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

// probeRetryFor is how long after the rendezvous's answer a probe from the
// host still brings another attempt at its address.
const probeRetryFor = time.Second

// laterCandidates feeds session.DialConfig.Later from the rendezvous's
// answer and the host's probes, which may come after Dial has returned.
type laterCandidates struct {
	mu     sync.Mutex
	ch     chan session.Candidates
	closed bool
}

func newLater() *laterCandidates { return &laterCandidates{ch: make(chan session.Candidates, 8)} }

// send queues c unless the channel is closed or full (Dial then has what
// it needs or has returned).
func (l *laterCandidates) send(c session.Candidates) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	select {
	case l.ch <- c:
	default:
	}
}

func (l *laterCandidates) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.closed = true
		close(l.ch)
	}
}
