package host

import (
	"context"
	"crypto/ed25519"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/gethelp/gethelp/rendezvous"
	"github.com/gethelp/gethelp/session"
)

// stunTimeout bounds the host's STUN query before it registers.
const stunTimeout = 2 * time.Second

// paths finds the host through NAT with the invitation's rendezvous, and
// names the path a helper's connection took.
type paths struct {
	server   string             // the rendezvous host:port; "" for none
	key      ed25519.PrivateKey // the host certificate's key
	sock     *session.Socket    // the listener's socket; not ours to close
	ln       *session.Listener  // serves the relayed address too
	relayUDP net.PacketConn     // the TURN client's socket (IPv4), opened with the listener; nil when none
	rereg    chan struct{}      // registers again at once (buffered, 1)
	id       string
	own      []netip.AddrPort // the host's own candidates
	prefixes []netip.Prefix   // the host's interface prefixes, read when the socket was opened
	logger   *slog.Logger

	mu       sync.Mutex
	viewers  []netip.AddrPort       // guarded by mu: viewers' reflexive addresses the rendezvous announced
	relay    *rendezvous.Allocation // guarded by mu: the relayed address, once allocated
	relaying bool                   // guarded by mu: an allocation was started
	wg       sync.WaitGroup         // the allocation goroutine
}

// relayTimeout bounds the allocation on the relay the rendezvous offers.
const relayTimeout = 5 * time.Second

// run registers with the rendezvous and probes the viewers it announces
// until ctx ends. A rendezvous that cannot be reached is logged, not
// fatal: the invitation's own addresses still work on a LAN.
func (p *paths) run(ctx context.Context) {
	if p.server == "" {
		return
	}
	defer p.closeRelay()
	server, err := rendezvous.Resolve(ctx, p.server)
	if err != nil {
		p.logger.Warn("rendezvous unusable", "rendezvous", p.server, "err", err)
		return
	}
	start := time.Now()
	sctx, cancel := context.WithTimeout(ctx, stunTimeout)
	reflexive, err := p.sock.STUN(sctx, server)
	cancel()
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		p.logger.Warn("STUN", "rendezvous", server, "err", err)
	} else {
		p.logger.Info("STUN", "rendezvous", server, "reflexive", reflexive, "took", time.Since(start))
	}
	reregister := p.rereg
	err = rendezvous.RunHost(ctx, rendezvous.HostConfig{
		Server: server, Conn: p.sock, InvitationID: p.id, Key: p.key, Candidates: p.own,
		OnPeer: func(peer rendezvous.Peer) {
			p.mu.Lock()
			if peer.Reflexive.IsValid() && !slices.Contains(p.viewers, peer.Reflexive) && len(p.viewers) < 64 {
				p.viewers = append(p.viewers, peer.Reflexive)
			}
			relay := p.relay
			p.mu.Unlock()
			if relay != nil {
				// Let the viewer's NAT address (and its own addresses,
				// for a viewer without NAT) send to the relayed address.
				if err := relay.Permit(append([]netip.AddrPort{peer.Reflexive}, peer.Candidates...)...); err != nil {
					p.logger.Warn("relay permission", "err", err)
				}
			}
		},
		OnRelay: func(r rendezvous.Relay) { p.startRelay(ctx, r, reregister) },
		Relayed: func() netip.AddrPort {
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.relay == nil {
				return netip.AddrPort{}
			}
			return p.relay.Addr()
		},
		Reregister: reregister,
		Logger:     p.logger,
	})
	if ctx.Err() == nil {
		p.logger.Warn("rendezvous stopped", "err", err)
	}
}

// startRelay allocates a relayed address on the relay the rendezvous
// offered (once), serves viewers on it, and has the host register again
// so that viewers learn it. A relay that fails is logged: direct paths
// still work.
func (p *paths) startRelay(ctx context.Context, r rendezvous.Relay, reregister chan<- struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.relaying || p.ln == nil || p.relayUDP == nil {
		return
	}
	p.relaying = true
	udp := p.relayUDP
	p.relayUDP = nil // the allocation owns it now, or closes it
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		start := time.Now()
		actx, cancel := context.WithTimeout(ctx, relayTimeout)
		a, err := rendezvous.Allocate(actx, r, udp)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				p.logger.Warn("no relayed address: connections that need the relay will fail", "relay", r.Server, "err", err)
			}
			return
		}
		if err := p.ln.Serve(a.PacketConn()); err != nil {
			_ = a.Close()
			p.logger.Warn("serving on the relay", "err", err)
			return
		}
		p.mu.Lock()
		p.relay = a
		p.mu.Unlock()
		p.logger.Info("relayed address ready", "relay", r.Server, "relayed", a.Addr(), "took", time.Since(start))
		select {
		case reregister <- struct{}{}:
		default:
		}
	}()
}

// closeRelay waits for the allocation goroutine and releases the relayed
// address (the listener has stopped serving it, or will fail on it).
func (p *paths) closeRelay() {
	p.wg.Wait()
	p.mu.Lock()
	a := p.relay
	p.relay = nil
	if p.relayUDP != nil {
		_ = p.relayUDP.Close()
		p.relayUDP = nil
	}
	p.mu.Unlock()
	if a != nil {
		_ = a.Close()
	}
}

// pathTo names the path of a helper's connection: session.PathRelayed,
// PathLAN, PathDirect or PathPunched.
func (p *paths) pathTo(r *session.Request) string {
	if r.Relayed {
		return session.PathRelayed
	}
	ua, ok := r.RemoteAddr.(*net.UDPAddr)
	if !ok {
		return session.PathDirect
	}
	p.mu.Lock()
	viewers := slices.Clone(p.viewers)
	p.mu.Unlock()
	return session.ClassifyPath(ua.AddrPort(), p.prefixes, viewers)
}

// nudge registers with the rendezvous again at once: after a lost
// connection, in case the host's own address changed, so that the viewer
// resuming finds the new one.
func (p *paths) nudge() {
	select {
	case p.rereg <- struct{}{}:
	default:
	}
}
