package rendezvous_test

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pion/stun/v4"

	"github.com/gethelp/gethelp/rendezvous"
)

// startNATServer runs a rendezvous on loopback with a second port.
func startNATServer(t *testing.T) *rendezvous.Server {
	t.Helper()
	alt, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := rendezvous.Listen("127.0.0.1:0", rendezvous.ServerConfig{Alt: alt})
	if err != nil {
		alt.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// fakeNAT is a NAT in user space in front of a client: its public side is
// one loopback socket (endpoint-independent mapping), or one per
// destination (symmetric). Its LocalAddr is a private address, so that
// DetectNAT does not take the public side for the computer's own.
type fakeNAT struct {
	t          *testing.T
	symmetric  bool
	restricted bool // let in only datagrams from where a mapping wrote to

	mu      sync.Mutex
	outs    map[netip.AddrPort]*net.UDPConn // by destination; one key (the zero value) unless symmetric
	wroteTo map[*net.UDPConn]map[netip.AddrPort]bool
	in      chan datagram
	wg      sync.WaitGroup
}

type datagram struct {
	p    []byte
	from netip.AddrPort
}

func newFakeNAT(t *testing.T, symmetric, restricted bool) *fakeNAT {
	n := &fakeNAT{t: t, symmetric: symmetric, restricted: restricted,
		outs: map[netip.AddrPort]*net.UDPConn{}, wroteTo: map[*net.UDPConn]map[netip.AddrPort]bool{}, in: make(chan datagram, 64)}
	t.Cleanup(func() {
		n.mu.Lock()
		for _, c := range n.outs {
			c.Close()
		}
		n.mu.Unlock()
		n.wg.Wait()
	})
	return n
}

func (n *fakeNAT) LocalAddr() netip.AddrPort { return netip.MustParseAddrPort("192.0.2.2:4000") }

func (n *fakeNAT) WriteTo(b []byte, to netip.AddrPort) error {
	key := netip.AddrPort{}
	if n.symmetric {
		key = to
	}
	n.mu.Lock()
	c := n.outs[key]
	if c == nil {
		var err error
		if c, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
			n.mu.Unlock()
			return err
		}
		n.outs[key] = c
		n.wroteTo[c] = map[netip.AddrPort]bool{}
		n.wg.Add(1)
		go n.read(c)
	}
	n.wroteTo[c][to] = true
	n.mu.Unlock()
	_, err := c.WriteToUDPAddrPort(b, to)
	return err
}

func (n *fakeNAT) read(c *net.UDPConn) {
	defer n.wg.Done()
	for {
		buf := make([]byte, 2048)
		k, from, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		n.mu.Lock()
		pass := !n.restricted || n.wroteTo[c][from]
		n.mu.Unlock()
		if pass {
			select {
			case n.in <- datagram{buf[:k], from}:
			default:
			}
		}
	}
}

func (n *fakeNAT) ReadFrom(ctx context.Context, b []byte) (int, netip.AddrPort, error) {
	select {
	case d := <-n.in:
		return copy(b, d.p), d.from, nil
	case <-ctx.Done():
		return 0, netip.AddrPort{}, ctx.Err()
	}
}

// TestDetectNAT runs the detection against the real server on loopback,
// from a plain socket (no NAT) and through NATs of each kind.
func TestDetectNAT(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		symmetric, restricted bool
		plain                 bool
		want                  rendezvous.NATType
	}{
		{name: "no NAT", plain: true, want: rendezvous.NATOpen},
		{name: "cone", want: rendezvous.NATCone},
		{name: "port-restricted", restricted: true, want: rendezvous.NATPortRestricted},
		{name: "symmetric", symmetric: true, restricted: true, want: rendezvous.NATSymmetric},
		{name: "symmetric, unfiltered", symmetric: true, want: rendezvous.NATSymmetric},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startNATServer(t)
			var conn, fresh rendezvous.PacketConn
			if tc.plain {
				conn, fresh = newUDP(t), newUDP(t)
			} else {
				// Two sockets behind NATs that behave alike.
				conn, fresh = newFakeNAT(t, tc.symmetric, tc.restricted), newFakeNAT(t, tc.symmetric, tc.restricted)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			r, err := rendezvous.DetectNAT(ctx, conn, fresh, srv.Addr())
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%+v", r)
			if r.Type != tc.want {
				t.Errorf("type %q, want %q", r.Type, tc.want)
			}
			if r.Other != srv.AltAddr() || r.Server != srv.Addr() {
				t.Errorf("server %s, other %s; want %s and %s", r.Server, r.Other, srv.Addr(), srv.AltAddr())
			}
			if !r.FilteringTested || r.OtherPortPasses == tc.restricted {
				t.Errorf("filtering tested %v, other port passes %v; restricted NAT: %v", r.FilteringTested, r.OtherPortPasses, tc.restricted)
			}
			if (r.Mapped != r.MappedOther) != tc.symmetric {
				t.Errorf("mapped %s and %s through the two ports", r.Mapped, r.MappedOther)
			}
			if r.Local != tc.plain {
				t.Errorf("local %v", r.Local)
			}
			if u, ok := conn.(*udp); ok && r.Mapped != u.addr() {
				t.Errorf("mapped %s, the socket is %s", r.Mapped, u.addr())
			}
		})
	}
}

// TestDetectNATOwnProbeSocket: with no second socket given, DetectNAT
// opens one for the filtering test.
func TestDetectNATOwnProbeSocket(t *testing.T) {
	srv := startNATServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := rendezvous.DetectNAT(ctx, newUDP(t), nil, srv.Addr())
	if err != nil || r.Type != rendezvous.NATOpen || !r.FilteringTested || !r.OtherPortPasses {
		t.Errorf("got %+v, %v; want open, filtering tested, the other port passing", r, err)
	}
}

// TestDetectNATOnePort: a rendezvous without a second port still shows
// whether there is a NAT, but not which kind.
func TestDetectNATOnePort(t *testing.T) {
	srv := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := rendezvous.DetectNAT(ctx, newUDP(t), nil, srv.Addr())
	if err != nil || r.Type != rendezvous.NATOpen || r.Other.IsValid() {
		t.Errorf("no NAT: %+v, %v", r, err)
	}
	r, err = rendezvous.DetectNAT(ctx, newFakeNAT(t, false, true), newFakeNAT(t, false, true), srv.Addr())
	if err != nil || r.Type != rendezvous.NATUnknown || !r.Mapped.IsValid() || r.FilteringTested {
		t.Errorf("behind a NAT: %+v, %v", r, err)
	}
}

// TestDetectNATBlocked: a server that never answers.
func TestDetectNATBlocked(t *testing.T) {
	silent := newUDP(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	r, err := rendezvous.DetectNAT(ctx, newUDP(t), nil, silent.addr())
	if !errors.Is(err, rendezvous.ErrNoAnswer) || !errors.Is(err, context.DeadlineExceeded) || r.Type != rendezvous.NATBlocked {
		t.Errorf("got %+v, %v; want NATBlocked and ErrNoAnswer", r, err)
	}
}

// TestChangeRequest checks the server's answers to CHANGE-REQUEST as a
// plain STUN client sees them: from which port, and the errors RFC 5780
// asks for what one IP (or one port) cannot do.
func TestChangeRequest(t *testing.T) {
	two := startNATServer(t)
	one := startServer(t)
	for _, tc := range []struct {
		name     string
		srv      *rendezvous.Server
		value    []byte // nil: no CHANGE-REQUEST
		wantCode int    // 0: success
		wantAlt  bool   // answered from the second port
	}{
		{name: "plain", srv: two},
		{name: "no change", srv: two, value: []byte{0, 0, 0, 0}},
		{name: "change port", srv: two, value: []byte{0, 0, 0, 2}, wantAlt: true},
		{name: "change IP", srv: two, value: []byte{0, 0, 0, 4}, wantCode: 420},
		{name: "change both", srv: two, value: []byte{0, 0, 0, 6}, wantCode: 420},
		{name: "malformed", srv: two, value: []byte{0, 2}, wantCode: 400},
		{name: "one port, change port", srv: one, value: []byte{0, 0, 0, 2}, wantCode: 420},
		{name: "one port, plain", srv: one},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newUDP(t)
			setters := []stun.Setter{stun.BindingRequest, stun.TransactionID}
			if tc.value != nil {
				setters = append(setters, stun.RawAttribute{Type: stun.AttrChangeRequest, Value: tc.value})
			}
			req := stun.MustBuild(setters...)
			if err := c.WriteTo(req.Raw, tc.srv.Addr()); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			buf := make([]byte, 1500)
			n, from, err := c.ReadFrom(ctx, buf)
			if err != nil {
				t.Fatal(err)
			}
			m := &stun.Message{Raw: buf[:n]}
			if err := m.Decode(); err != nil || m.TransactionID != req.TransactionID {
				t.Fatalf("answer %v, %v", m, err)
			}
			if err := stun.Fingerprint.Check(m); err != nil {
				t.Errorf("fingerprint: %v", err)
			}
			wantFrom := tc.srv.Addr()
			if tc.wantAlt {
				wantFrom = tc.srv.AltAddr()
			}
			if from != wantFrom {
				t.Errorf("answered from %s, want %s", from, wantFrom)
			}
			if tc.wantCode != 0 {
				var ec stun.ErrorCodeAttribute
				if m.Type != stun.BindingError || ec.GetFrom(m) != nil || int(ec.Code) != tc.wantCode {
					t.Fatalf("answer %s with %v, want error %d", m.Type, ec, tc.wantCode)
				}
				var unknown stun.UnknownAttributes
				if tc.wantCode == 420 && (unknown.GetFrom(m) != nil || len(unknown) != 1 || unknown[0] != stun.AttrChangeRequest) {
					t.Errorf("420 without UNKNOWN-ATTRIBUTES CHANGE-REQUEST: %v", unknown)
				}
				return
			}
			var xor stun.XORMappedAddress
			if m.Type != stun.BindingSuccess || xor.GetFrom(m) != nil || xor.Port != int(c.addr().Port()) {
				t.Fatalf("answer %s, mapped %v; want success naming %s", m.Type, xor, c.addr())
			}
			var other stun.OtherAddress
			err = other.GetFrom(m)
			if tc.srv.AltAddr().IsValid() {
				if err != nil || other.Port != int(tc.srv.AltAddr().Port()) || !other.IP.Equal(net.IPv4(127, 0, 0, 1)) {
					t.Errorf("OTHER-ADDRESS %v (%v), want %s", other, err, tc.srv.AltAddr())
				}
			} else if err == nil {
				t.Errorf("OTHER-ADDRESS %v from a server with one port", other)
			}
		})
	}
}

// TestSecondPortServesBindingOnly: the second port answers Binding (with
// OTHER-ADDRESS naming the first port) and nothing of the rendezvous.
func TestSecondPortServesBindingOnly(t *testing.T) {
	srv := startNATServer(t)
	c := newUDP(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Not a Binding request: a Lookup-shaped request gets nothing.
	bogus := stun.MustBuild(stun.NewType(0x3E2, stun.ClassRequest), stun.TransactionID, stun.Fingerprint)
	c.WriteTo(bogus.Raw, srv.AltAddr())
	req := stun.MustBuild(stun.BindingRequest, stun.TransactionID, stun.Fingerprint)
	c.WriteTo(req.Raw, srv.AltAddr())
	buf := make([]byte, 1500)
	n, from, err := c.ReadFrom(ctx, buf)
	if err != nil {
		t.Fatal(err)
	}
	m := &stun.Message{Raw: buf[:n]}
	if err := m.Decode(); err != nil || m.TransactionID != req.TransactionID || from != srv.AltAddr() {
		t.Fatalf("first answer %v from %s (%v): want the Binding answer from the second port", m, from, err)
	}
	var other stun.OtherAddress
	if err := other.GetFrom(m); err != nil || other.Port != int(srv.Addr().Port()) {
		t.Errorf("OTHER-ADDRESS %v, %v; want the first port %d", other, err, srv.Addr().Port())
	}
}

// TestCheckRelay: a TURN server that asks for credentials, an open one,
// one that refuses, and a rendezvous that is not a relay at all.
func TestCheckRelay(t *testing.T) {
	for _, tc := range []struct {
		name    string
		answer  func(req *stun.Message) []stun.Setter // nil: never answers
		wantErr error
		open    bool
	}{
		{name: "wants credentials", answer: func(req *stun.Message) []stun.Setter {
			return []stun.Setter{stun.NewType(stun.MethodAllocate, stun.ClassErrorResponse), stun.CodeUnauthorized,
				stun.NewRealm("gethelp"), stun.NewNonce("abc")}
		}},
		{name: "open relay", open: true, answer: func(req *stun.Message) []stun.Setter {
			return []stun.Setter{stun.NewType(stun.MethodAllocate, stun.ClassSuccessResponse),
				&stun.XORMappedAddress{IP: net.IPv4(127, 0, 0, 1), Port: 9}}
		}},
		{name: "401 without a nonce", wantErr: rendezvous.ErrNotRelay, answer: func(req *stun.Message) []stun.Setter {
			return []stun.Setter{stun.NewType(stun.MethodAllocate, stun.ClassErrorResponse), stun.CodeUnauthorized, stun.NewRealm("x")}
		}},
		{name: "bad request", wantErr: rendezvous.ErrNotRelay, answer: func(req *stun.Message) []stun.Setter {
			return []stun.Setter{stun.NewType(stun.MethodAllocate, stun.ClassErrorResponse), stun.CodeBadRequest}
		}},
		{name: "silent", wantErr: rendezvous.ErrNoAnswer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			relay := newUDP(t)
			refreshed := make(chan uint32, 1)
			done := make(chan struct{})
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			go func() {
				defer close(done)
				buf := make([]byte, 1500)
				for {
					n, from, err := relay.ReadFrom(ctx, buf)
					if err != nil {
						return
					}
					m := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
					if m.Decode() != nil {
						continue
					}
					if m.Type.Method == stun.MethodRefresh {
						v, _ := m.Get(stun.AttrLifetime)
						if len(v) == 4 {
							refreshed <- binary.BigEndian.Uint32(v)
						}
						continue
					}
					transport, _ := m.Get(stun.AttrRequestedTransport)
					if m.Type != stun.NewType(stun.MethodAllocate, stun.ClassRequest) || len(transport) != 4 || transport[0] != 17 || tc.answer == nil {
						continue
					}
					a := stun.MustBuild(append([]stun.Setter{stun.NewTransactionIDSetter(m.TransactionID)}, append(tc.answer(m), stun.Fingerprint)...)...)
					relay.WriteTo(a.Raw, from)
				}
			}()
			cctx, ccancel := context.WithTimeout(ctx, 500*time.Millisecond)
			defer ccancel()
			r, err := rendezvous.CheckRelay(cctx, newUDP(t), relay.addr())
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Errorf("got %+v, %v; want %v", r, err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			} else if r.Open != tc.open || (!tc.open && r.Realm != "gethelp") || r.Addr != relay.addr() {
				t.Errorf("report %+v", r)
			}
			if tc.open {
				select {
				case lt := <-refreshed:
					if lt != 0 {
						t.Errorf("released with lifetime %d", lt)
					}
				case <-ctx.Done():
					t.Error("the open relay's allocation was not released")
				}
			}
			cancel()
			<-done
		})
	}
}

// TestCheckRelayNotTURN: a rendezvous without a relay does not answer
// Allocate.
func TestCheckRelayNotTURN(t *testing.T) {
	srv := startNATServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := rendezvous.CheckRelay(ctx, newUDP(t), srv.Addr()); !errors.Is(err, rendezvous.ErrNoAnswer) {
		t.Errorf("got %v, want ErrNoAnswer", err)
	}
}

// TestDoctorChecksEmbeddedRelay: a rendezvous with the embedded relay (real
// pion/turn on the same port) and a second port answers both checks.
func TestDoctorChecksEmbeddedRelay(t *testing.T) {
	alt, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := rendezvous.Listen("127.0.0.1:0", rendezvous.ServerConfig{Alt: alt, Relay: &rendezvous.RelayConfig{Secret: "s3cret"}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := rendezvous.CheckRelay(ctx, newUDP(t), srv.Addr())
	if err != nil || r.Realm != "gethelp" || r.Open {
		t.Errorf("relay: %+v, %v; want a 401 with realm gethelp", r, err)
	}
	n, err := rendezvous.DetectNAT(ctx, newUDP(t), newUDP(t), srv.Addr())
	if err != nil || n.Type != rendezvous.NATOpen || n.Other != srv.AltAddr() {
		t.Errorf("NAT: %+v, %v", n, err)
	}
}
