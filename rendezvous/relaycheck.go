package rendezvous

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/pion/stun/v4"
)

// RelayReport is what CheckRelay learnt of a TURN server.
type RelayReport struct {
	Addr  netip.AddrPort
	Realm string // the realm it asks credentials for; "" when it asked none
	// Open says it allocated a relay without asking for credentials (an
	// open relay; the allocation was released at once).
	Open bool
	RTT  time.Duration
}

// ErrNotRelay is wrapped by CheckRelay when the server answered, but not
// as a TURN server does.
var ErrNotRelay = errors.New("rendezvous: the server does not answer as a TURN relay")

// TURN (RFC 8656) pieces CheckRelay uses.
var (
	typeAllocate        = stun.NewType(stun.MethodAllocate, stun.ClassRequest)
	typeAllocateSuccess = stun.NewType(stun.MethodAllocate, stun.ClassSuccessResponse)
	typeAllocateError   = stun.NewType(stun.MethodAllocate, stun.ClassErrorResponse)
	typeRefresh         = stun.NewType(stun.MethodRefresh, stun.ClassRequest)
)

// protoUDP is REQUESTED-TRANSPORT's value for UDP (IANA protocol 17).
const protoUDP = 17

// CheckRelay asks the TURN server at addr, from conn, for an allocation
// without credentials (an Allocate request with REQUESTED-TRANSPORT UDP).
// A TURN server that wants credentials answers error 401 with a REALM and
// a NONCE: that proves a relay answers there without needing any. An
// allocation granted at once (an open relay) counts too, and is released
// straight away. It retransmits as DetectNAT does until ctx ends; conn has
// no other reader meanwhile.
//
// Errors: one wrapping ErrNoAnswer (and ctx's error) when nothing
// answered, one wrapping ErrNotRelay when the answer was something else,
// or the socket's.
func CheckRelay(ctx context.Context, conn PacketConn, addr netip.AddrPort) (RelayReport, error) {
	addr = unmap(addr)
	r := RelayReport{Addr: addr}
	build := func(tid [stun.TransactionIDSize]byte) ([]byte, error) {
		var transport [4]byte
		transport[0] = protoUDP
		m, err := stun.Build(typeAllocate, stun.NewTransactionIDSetter(tid),
			stun.RawAttribute{Type: stun.AttrRequestedTransport, Value: transport[:]}, stun.Fingerprint)
		if err != nil {
			return nil, err
		}
		return m.Raw, nil
	}
	a, from, rtt, err := exchange(ctx, conn, make([]byte, 2048), addr, build, 0)
	switch {
	case errors.Is(err, errTimedOut):
		return r, fmt.Errorf("%w at %s: %w", ErrNoAnswer, addr, ctx.Err())
	case err != nil:
		return r, err
	case from != addr:
		return r, fmt.Errorf("%w: the answer came from %s", ErrNotRelay, from)
	}
	r.RTT = rtt
	switch {
	case a.typ == typeAllocateError && a.code == int(stun.CodeUnauthorized) && a.realm != "" && a.nonce:
		r.Realm = a.realm
		return r, nil
	case a.typ == typeAllocateSuccess:
		r.Open = true
		release(conn, addr)
		return r, nil
	case a.typ == typeAllocateError:
		return r, fmt.Errorf("%w: error %d to an Allocate request", ErrNotRelay, a.code)
	}
	return r, fmt.Errorf("%w: %s to an Allocate request", ErrNotRelay, a.typ)
}

// release asks a relay to drop the allocation it just granted (a Refresh
// with LIFETIME 0), once and without waiting: it expires anyway.
func release(conn PacketConn, addr netip.AddrPort) {
	var lifetime [4]byte
	binary.BigEndian.PutUint32(lifetime[:], 0)
	m, err := stun.Build(typeRefresh, stun.TransactionID,
		stun.RawAttribute{Type: stun.AttrLifetime, Value: lifetime[:]}, stun.Fingerprint)
	if err == nil {
		_ = conn.WriteTo(m.Raw, addr)
	}
}
