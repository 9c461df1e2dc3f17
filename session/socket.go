package session

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pion/stun/v4"
	"github.com/quic-go/quic-go"
)

// Socket is one UDP socket shared by QUIC and by the small datagrams that
// find a way through NAT: STUN, the rendezvous protocol and punching probes.
// Sharing matters: a NAT maps one local port, so the probes must leave from
// the port QUIC uses. The first byte of every QUIC packet has the fixed bit
// (0x40) set, while STUN messages start with two zero bits, so quic-go hands
// STUN-framed datagrams to ReadFrom and QUIC packets to QUIC.
//
// WriteTo is safe for concurrent use. ReadFrom returns each datagram to one
// caller only, so one reader at a time should own it (STUN, then the
// rendezvous client).
type Socket struct {
	udp       *net.UDPConn
	tr        *quic.Transport
	closeOnce sync.Once
	closeErr  error
}

// ListenSocket opens a UDP socket on addr (":0" is every interface, an
// ephemeral port) for QUIC and its companions.
func ListenSocket(addr string) (*Socket, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("session: listen address %q: %w", addr, err)
	}
	udp, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, fmt.Errorf("session: listening on %s: %w", addr, err)
	}
	return newSocket(udp), nil
}

func newSocket(udp *net.UDPConn) *Socket {
	s := &Socket{udp: udp, tr: &quic.Transport{Conn: udp}}
	// quic-go drops non-QUIC datagrams until the first ReadNonQUICPacket
	// call; make that call now so that an answer arriving before anyone
	// reads is queued, not lost.
	done, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, _ = s.tr.ReadNonQUICPacket(done, nil)
	return s
}

// LocalAddr is the address the socket is bound to (its IP may be
// unspecified).
func (s *Socket) LocalAddr() netip.AddrPort {
	return s.udp.LocalAddr().(*net.UDPAddr).AddrPort()
}

// WriteTo sends one non-QUIC datagram (a STUN message, a probe) to addr
// from the socket's port.
func (s *Socket) WriteTo(b []byte, addr netip.AddrPort) error {
	_, err := s.tr.WriteTo(b, net.UDPAddrFromAddrPort(addr))
	if err != nil {
		return fmt.Errorf("session: sending to %s: %w", addr, err)
	}
	return nil
}

// ReadFrom waits for the next datagram that is not QUIC and returns its
// length and sender (an IPv4 sender is never IPv4-mapped). It returns ctx's
// error when ctx ends first, and an error wrapping net.ErrClosed once the
// socket is closed.
func (s *Socket) ReadFrom(ctx context.Context, b []byte) (int, netip.AddrPort, error) {
	n, from, err := s.tr.ReadNonQUICPacket(ctx, b)
	if err != nil {
		if ctx.Err() != nil {
			return 0, netip.AddrPort{}, ctx.Err()
		}
		return 0, netip.AddrPort{}, fmt.Errorf("session: socket closed: %w", errors.Join(net.ErrClosed, err))
	}
	ua, ok := from.(*net.UDPAddr)
	if !ok {
		return 0, netip.AddrPort{}, fmt.Errorf("session: datagram from a %T", from)
	}
	ap := ua.AddrPort()
	return n, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
}

// ErrNoSTUNAnswer is wrapped by STUN when the server did not answer in time.
var ErrNoSTUNAnswer = errors.New("session: no STUN answer")

// STUN sends a STUN Binding request (RFC 8489) to server from the socket,
// retransmitting after 250 ms, 500 ms, 1 s, …, and returns the
// server-reflexive address: this socket's address as the server saw it,
// which is the NAT's public mapping when there is one. Datagrams that are
// not the answer are read and dropped while it waits, so nothing else may
// read the socket meanwhile.
//
// Errors: one wrapping ErrNoSTUNAnswer (and ctx's error) when ctx ends
// first, or one wrapping net.ErrClosed.
func (s *Socket) STUN(ctx context.Context, server netip.AddrPort) (netip.AddrPort, error) {
	req, err := stun.Build(stun.TransactionID, stun.BindingRequest, stun.Fingerprint)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("session: building STUN request: %w", err)
	}
	server = netip.AddrPortFrom(server.Addr().Unmap(), server.Port())
	buf := make([]byte, 1500)
	wait := 250 * time.Millisecond
	for {
		if err := s.WriteTo(req.Raw, server); err != nil {
			return netip.AddrPort{}, err
		}
		deadline := time.Now().Add(wait)
		wait *= 2
		for {
			rctx, cancel := context.WithDeadline(ctx, deadline)
			n, from, err := s.ReadFrom(rctx, buf)
			cancel()
			if ctx.Err() != nil {
				return netip.AddrPort{}, fmt.Errorf("%w from %s: %w", ErrNoSTUNAnswer, server, ctx.Err())
			}
			if errors.Is(err, context.DeadlineExceeded) {
				break // retransmit
			}
			if err != nil {
				return netip.AddrPort{}, err
			}
			if from != server {
				continue
			}
			res := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
			if res.Decode() != nil || res.TransactionID != req.TransactionID || res.Type != stun.BindingSuccess {
				continue
			}
			var xor stun.XORMappedAddress
			if err := xor.GetFrom(res); err != nil {
				continue
			}
			ip, ok := netip.AddrFromSlice(xor.IP)
			if !ok {
				continue
			}
			return netip.AddrPortFrom(ip.Unmap(), uint16(xor.Port)), nil
		}
	}
}

// Close closes the socket and every QUIC connection on it. It may be called
// more than once.
func (s *Socket) Close() error {
	s.closeOnce.Do(func() {
		s.closeErr = s.tr.Close()
		// The transport did not create the UDP socket, so it leaves it open.
		if err := s.udp.Close(); s.closeErr == nil {
			s.closeErr = err
		}
	})
	return s.closeErr
}
