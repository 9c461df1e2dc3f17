package rendezvous

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/pion/stun/v4"
)

// NATType is how a NAT (or its absence) treats a computer's UDP traffic,
// as DetectNAT saw it.
type NATType string

// The NAT types DetectNAT reports.
const (
	// NATOpen: no NAT; the address the server saw is this computer's own.
	// (A firewall may still let in only replies: see
	// NATReport.OtherPortPasses.)
	NATOpen NATType = "open"
	// NATCone: one public mapping whatever the destination, and datagrams
	// from a port the computer never wrote to get in (full cone or, as one
	// server IP cannot tell them apart, address-restricted cone).
	NATCone NATType = "cone"
	// NATPortRestricted: one public mapping whatever the destination, but
	// only replies from the very address and port written to get in.
	NATPortRestricted NATType = "port-restricted"
	// NATSymmetric: a new public mapping for each destination; a peer
	// cannot predict it, so hole punching fails against anything but an
	// open or cone peer.
	NATSymmetric NATType = "symmetric"
	// NATBlocked: the server never answered over UDP.
	NATBlocked NATType = "blocked"
	// NATUnknown: there is a NAT, but the server has no second port (or
	// it did not answer), so its kind cannot be told.
	NATUnknown NATType = "unknown"
)

// NATReport is what DetectNAT learnt.
type NATReport struct {
	Type   NATType
	Server netip.AddrPort // the server's primary address, as given
	// Other is the server's second port (the server's IP, the port
	// OTHER-ADDRESS named); invalid when the server has none.
	Other netip.AddrPort
	// Mapped is this computer's address as the server saw it through
	// Server (the server-reflexive address); invalid when Type is
	// NATBlocked.
	Mapped netip.AddrPort
	// MappedOther is the same seen through Other; invalid when not
	// measured.
	MappedOther netip.AddrPort
	// Local says Mapped is one of this computer's own addresses: no NAT.
	Local bool
	// FilteringTested says OtherPortPasses was measured: an answer was
	// asked for from Other to a request sent to Server only.
	FilteringTested bool
	// OtherPortPasses says that answer arrived: datagrams from a port this
	// computer never wrote to get in.
	OtherPortPasses bool
	// RTT is the round trip of the first answer through Server.
	RTT time.Duration
}

// Waits of DetectNAT and CheckRelay: a negative result (an answer that
// does not arrive) costs the longer of the minimum and that many round
// trips.
const (
	natMinWait   = time.Second
	natWaitRTTs  = 5
	firstResend  = 100 * time.Millisecond
	maxResendGap = 800 * time.Millisecond
)

// DetectNAT finds out what NAT stands between conn and the rendezvous at
// server, in the spirit of RFC 5780 with one server IP and two ports:
//
//  1. a Binding request to server, from conn, gives the mapped address,
//     and OTHER-ADDRESS names the server's second port;
//  2. a Binding request to the second port, from conn, gives the mapped
//     address seen there: another mapping means a symmetric NAT;
//  3. at the same time, from fresh, a Binding request to server with
//     CHANGE-REQUEST "change port" is answered from the second port:
//     whether that answer arrives tells the filtering.
//
// The filtering test needs a socket that never wrote to the second port
// (else a port-restricted NAT has a hole for it) and whose unsolicited
// answer cannot disturb the mapping test (a Linux router that does not
// drop such a datagram keeps a conntrack entry for it, and would then give
// conn's next flow to the second port another public port): fresh is a
// second socket behind the same NAT, or nil for DetectNAT to open one (UDP
// on every interface, an ephemeral port) and close it.
//
// A mapped address equal to this computer's own (its interfaces; and
// conn's port when conn has a LocalAddr() netip.AddrPort method, as
// session.Socket does) means no NAT. Each request is retransmitted with
// fresh transaction ids; steps 2 and 3 wait at most the longer of a second
// and five round trips of step 1, step 1 as long as ctx allows. DetectNAT
// is the only reader of conn and fresh meanwhile; other datagrams are
// dropped.
//
// The report holds what was learnt even on error. Errors: one wrapping
// ErrNoAnswer (and ctx's error) when the server never answered (Type is
// then NATBlocked), or a socket's. When ctx ends after the first answer,
// the report says NATUnknown (or NATOpen) and the error is nil.
func DetectNAT(ctx context.Context, conn, fresh PacketConn, server netip.AddrPort) (NATReport, error) {
	server = unmap(server)
	r := NATReport{Type: NATBlocked, Server: server}
	buf := make([]byte, 2048)

	a, from, rtt, err := bindingExchange(ctx, conn, buf, server, false, 0)
	if err != nil {
		if errors.Is(err, errTimedOut) {
			return r, fmt.Errorf("%w at %s: %w", ErrNoAnswer, server, ctx.Err())
		}
		return r, err
	}
	if from != server || a.typ != stun.BindingSuccess || !a.mapped.IsValid() {
		return r, fmt.Errorf("rendezvous: %s answered a Binding request with %s (code %d)", server, a.typ, a.code)
	}
	r.Type, r.Mapped, r.RTT = NATUnknown, a.mapped, rtt
	r.Local = isOwnAddress(conn, a.mapped)
	if r.Local {
		r.Type = NATOpen
	}
	if a.other.IsValid() && a.other.Port() != server.Port() {
		// One server IP: take the port only (OTHER-ADDRESS may be the
		// unspecified address of a server bound to every interface).
		r.Other = netip.AddrPortFrom(server.Addr(), a.other.Port())
	}
	if !r.Other.IsValid() {
		return r, nil
	}
	wait := max(natMinWait, natWaitRTTs*rtt)

	// 3. Filtering, from fresh: an answer from the other port, which
	// fresh never wrote to.
	type filtering struct {
		tested, passes bool
		err            error
	}
	filtered := make(chan filtering, 1)
	go func() {
		var f filtering
		defer func() { filtered <- f }()
		probe := fresh
		if probe == nil {
			u, err := listenUDP()
			if err != nil {
				return // untested
			}
			defer u.close()
			probe = u
		}
		a, from, _, err := bindingExchange(ctx, probe, make([]byte, 2048), server, true, wait)
		switch {
		case errors.Is(err, errTimedOut):
			f.tested = ctx.Err() == nil
		case err != nil:
			f.err = err
		case from == r.Other && a.typ == stun.BindingSuccess:
			f.tested, f.passes = true, true
		}
		// (An error answer, such as 420 from a server that cannot change
		// port, leaves the filtering untested.)
	}()

	// 2. Mapping, from conn: the address seen through the other port.
	a, from, _, err = bindingExchange(ctx, conn, buf, r.Other, false, wait)
	f := <-filtered
	r.FilteringTested, r.OtherPortPasses = f.tested, f.passes
	switch {
	case errors.Is(err, errTimedOut):
	case err != nil:
		return r, err
	case from == r.Other && a.typ == stun.BindingSuccess && a.mapped.IsValid():
		r.MappedOther = a.mapped
	}
	if f.err != nil {
		return r, f.err
	}
	r.Type = classify(r)
	return r, nil
}

// classify names the NAT type of a report whose measurements are done.
func classify(r NATReport) NATType {
	switch {
	case !r.Mapped.IsValid():
		return NATBlocked
	case r.Local:
		return NATOpen
	case !r.MappedOther.IsValid():
		return NATUnknown
	case r.MappedOther != r.Mapped:
		return NATSymmetric // whatever the filtering
	case !r.FilteringTested:
		return NATUnknown
	case r.OtherPortPasses:
		return NATCone
	}
	return NATPortRestricted
}

// errTimedOut is returned by bindingExchange when its wait (or ctx) ends
// without an answer.
var errTimedOut = errors.New("rendezvous: no answer in time")

// bindingExchange sends Binding requests (asking to change port when
// change is set) to dst until one is answered from dst's IP, and returns
// the answer, its source and the round trip of that request. wait bounds
// it (zero: only ctx). Each transmission has its own transaction id, so
// the round trip is exact even after a loss.
func bindingExchange(ctx context.Context, conn PacketConn, buf []byte, dst netip.AddrPort, change bool, wait time.Duration) (answer, netip.AddrPort, time.Duration, error) {
	build := func(tid [stun.TransactionIDSize]byte) ([]byte, error) {
		setters := []stun.Setter{stun.BindingRequest, stun.NewTransactionIDSetter(tid)}
		if change {
			var v [4]byte
			binary.BigEndian.PutUint32(v[:], changePortFlag)
			setters = append(setters, stun.RawAttribute{Type: stun.AttrChangeRequest, Value: v[:]})
		}
		m, err := stun.Build(append(setters, stun.Fingerprint)...)
		if err != nil {
			return nil, err
		}
		return m.Raw, nil
	}
	return exchange(ctx, conn, buf, dst, build, wait)
}

// exchange sends build's request to dst at once and again after 100 ms,
// 200 ms, 400 ms, then every 800 ms, each time with a new transaction id,
// until an answer to one of them arrives from dst's IP or wait (or ctx)
// ends, which gives errTimedOut.
func exchange(ctx context.Context, conn PacketConn, buf []byte, dst netip.AddrPort,
	build func(tid [stun.TransactionIDSize]byte) ([]byte, error), wait time.Duration,
) (answer, netip.AddrPort, time.Duration, error) {
	if wait > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, wait)
		defer cancel()
	}
	sent := make(map[[stun.TransactionIDSize]byte]time.Time)
	gap := firstResend
	var next time.Time
	for {
		if now := time.Now(); !now.Before(next) {
			tid := stun.NewTransactionID()
			p, err := build(tid)
			if err != nil {
				return answer{}, netip.AddrPort{}, 0, err
			}
			if err := conn.WriteTo(p, dst); err != nil {
				return answer{}, netip.AddrPort{}, 0, err
			}
			sent[tid] = now
			next = now.Add(gap)
			gap = min(2*gap, maxResendGap)
		}
		rctx, cancel := context.WithDeadline(ctx, next)
		n, from, err := conn.ReadFrom(rctx, buf)
		cancel()
		if ctx.Err() != nil {
			return answer{}, netip.AddrPort{}, 0, errTimedOut
		}
		if errors.Is(err, context.DeadlineExceeded) {
			continue
		}
		if err != nil {
			return answer{}, netip.AddrPort{}, 0, err
		}
		from = unmap(from)
		if from.Addr() != dst.Addr() {
			continue
		}
		a, err := parseAnswer(buf[:n])
		if err != nil {
			continue
		}
		if at, ok := sent[a.tid]; ok {
			return a, from, time.Since(at), nil
		}
	}
}

// isOwnAddress says whether ap is this computer's own address: one of its
// interfaces' addresses and, when conn tells its port, that port.
func isOwnAddress(conn PacketConn, ap netip.AddrPort) bool {
	if la, ok := conn.(interface{ LocalAddr() netip.AddrPort }); ok {
		local := unmap(la.LocalAddr())
		if local.Port() != 0 && local.Port() != ap.Port() {
			return false
		}
		if a := local.Addr(); a.IsValid() && !a.IsUnspecified() {
			return a == ap.Addr()
		}
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok && ip.Unmap() == ap.Addr() {
				return true
			}
		}
	}
	return false
}

// udpConn is a plain UDP socket as a PacketConn, for DetectNAT's own
// filtering probe.
type udpConn struct{ c *net.UDPConn }

func listenUDP() (*udpConn, error) {
	c, err := net.ListenUDP("udp", nil)
	if err != nil {
		return nil, fmt.Errorf("rendezvous: opening a probe socket: %w", err)
	}
	return &udpConn{c}, nil
}

func (u *udpConn) close() { u.c.Close() }

func (u *udpConn) WriteTo(b []byte, addr netip.AddrPort) error {
	_, err := u.c.WriteToUDPAddrPort(b, addr)
	return err
}

func (u *udpConn) ReadFrom(ctx context.Context, b []byte) (int, netip.AddrPort, error) {
	dl, _ := ctx.Deadline() // the zero time (no deadline) when there is none
	u.c.SetReadDeadline(dl)
	stop := context.AfterFunc(ctx, func() { u.c.SetReadDeadline(time.Now()) })
	defer stop()
	n, from, err := u.c.ReadFromUDPAddrPort(b)
	if err != nil {
		if ctx.Err() != nil {
			return 0, netip.AddrPort{}, ctx.Err()
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return 0, netip.AddrPort{}, context.DeadlineExceeded
		}
		return 0, netip.AddrPort{}, err
	}
	return n, unmap(from), nil
}
