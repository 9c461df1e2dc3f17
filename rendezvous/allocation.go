package rendezvous

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/pion/logging"
	"github.com/pion/turn/v5"
)

// ErrRelayRefused is wrapped by Allocate when the relay answered but gave
// no relayed address (wrong or expired credentials, quota, policy).
var ErrRelayRefused = errors.New("rendezvous: the relay refused the allocation")

// Allocation is a relayed address on a TURN relay: datagrams that peers
// with a permission send to Addr arrive on PacketConn, and what is written
// there leaves the relay from Addr. The TURN client has a UDP socket of its
// own (TURN's ChannelData looks like QUIC to quic.Transport, so it cannot
// share the host's QUIC socket). The allocation and its permissions are
// refreshed in the background until Close.
type Allocation struct {
	client *turn.Client
	udp    net.PacketConn
	conn   net.PacketConn
	addr   netip.AddrPort
}

// Allocate asks the relay r for a relayed address, speaking from udp (a
// socket of the TURN client's own, of the relay's address family, which
// the Allocation then owns; it is closed when Allocate fails). Errors:
// ErrRelayRefused (wrapped) when the relay answered with an error,
// ErrNoAnswer (wrapped) when it did not answer before ctx ended.
func Allocate(ctx context.Context, r Relay, udp net.PacketConn) (*Allocation, error) {
	server, err := Resolve(ctx, r.Server)
	if err != nil {
		_ = udp.Close()
		return nil, err
	}
	lf := logging.NewDefaultLoggerFactory()
	lf.DefaultLogLevel = logging.LogLevelDisabled
	c, err := turn.NewClient(&turn.ClientConfig{
		TURNServerAddr: server.String(),
		STUNServerAddr: server.String(),
		Username:       r.Username,
		Password:       r.Password,
		Conn:           udp,
		LoggerFactory:  lf,
	})
	if err != nil {
		_ = udp.Close()
		return nil, fmt.Errorf("rendezvous: relay client: %w", err)
	}
	if err := c.Listen(); err != nil {
		c.Close()
		_ = udp.Close()
		return nil, fmt.Errorf("rendezvous: relay client: %w", err)
	}
	conn, err := c.AllocateWithContext(ctx)
	if err != nil {
		c.Close()
		_ = udp.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w from the relay %s: %w", ErrNoAnswer, server, ctx.Err())
		}
		return nil, fmt.Errorf("%w (%s): %w", ErrRelayRefused, server, err)
	}
	ua, ok := conn.LocalAddr().(*net.UDPAddr)
	if !ok {
		_ = conn.Close()
		c.Close()
		_ = udp.Close()
		return nil, fmt.Errorf("%w: relayed address of a %T", ErrRelayRefused, conn.LocalAddr())
	}
	return &Allocation{client: c, udp: udp, conn: conn, addr: unmap(ua.AddrPort())}, nil
}

// Addr is the relayed address peers send to.
func (a *Allocation) Addr() netip.AddrPort { return a.addr }

// PacketConn is the relayed socket. Closing it releases the allocation.
// Its socket buffer sizes are those of the TURN client's UDP socket, which
// carries everything relayed (quic-go sizes them, and warns when it
// cannot).
func (a *Allocation) PacketConn() net.PacketConn { return relayedConn{a.conn, a.udp} }

type relayedConn struct {
	net.PacketConn
	udp net.PacketConn
}

func (c relayedConn) SetReadBuffer(n int) error {
	if b, ok := c.udp.(interface{ SetReadBuffer(int) error }); ok {
		return b.SetReadBuffer(n)
	}
	return nil
}

func (c relayedConn) SetWriteBuffer(n int) error {
	if b, ok := c.udp.(interface{ SetWriteBuffer(int) error }); ok {
		return b.SetWriteBuffer(n)
	}
	return nil
}

// Permit lets the peers' IP addresses send through the relay (TURN
// permissions are per IP address, whatever the port, so a peer behind a
// NAT that maps each destination to another port still gets through).
func (a *Allocation) Permit(peers ...netip.AddrPort) error {
	var addrs []net.Addr
	for _, p := range peers {
		if p.IsValid() && p.Addr().Is4() == a.addr.Addr().Is4() {
			addrs = append(addrs, net.UDPAddrFromAddrPort(unmap(p)))
		}
	}
	if len(addrs) == 0 {
		return nil
	}
	if err := a.client.CreatePermission(addrs...); err != nil {
		return fmt.Errorf("rendezvous: relay permission: %w", err)
	}
	return nil
}

// Close releases the allocation and the client's socket. It may be called
// more than once.
func (a *Allocation) Close() error {
	_ = a.conn.Close() // may already be closed by its user
	a.client.Close()
	if err := a.udp.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}
