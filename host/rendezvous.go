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
	id       string
	own      []netip.AddrPort // the host's own candidates
	prefixes []netip.Prefix   // the host's interface prefixes, read when the socket was opened
	logger   *slog.Logger

	mu      sync.Mutex
	viewers []netip.AddrPort // guarded by mu: viewers' reflexive addresses the rendezvous announced
}

// run registers with the rendezvous and probes the viewers it announces
// until ctx ends. A rendezvous that cannot be reached is logged, not
// fatal: the invitation's own addresses still work on a LAN.
func (p *paths) run(ctx context.Context) {
	if p.server == "" {
		return
	}
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
	err = rendezvous.RunHost(ctx, rendezvous.HostConfig{
		Server: server, Conn: p.sock, InvitationID: p.id, Key: p.key, Candidates: p.own,
		OnPeer: func(peer rendezvous.Peer) {
			p.mu.Lock()
			defer p.mu.Unlock()
			if peer.Reflexive.IsValid() && !slices.Contains(p.viewers, peer.Reflexive) && len(p.viewers) < 64 {
				p.viewers = append(p.viewers, peer.Reflexive)
			}
		},
		Logger: p.logger,
	})
	if ctx.Err() == nil {
		p.logger.Warn("rendezvous stopped", "err", err)
	}
}

// pathTo names the path to a helper at remote: session.PathLAN,
// session.PathDirect or session.PathPunched.
func (p *paths) pathTo(remote net.Addr) string {
	ua, ok := remote.(*net.UDPAddr)
	if !ok {
		return session.PathDirect
	}
	p.mu.Lock()
	viewers := slices.Clone(p.viewers)
	p.mu.Unlock()
	return session.ClassifyPath(ua.AddrPort(), p.prefixes, viewers)
}
