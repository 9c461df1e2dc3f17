package rendezvous_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/turn/v5"

	"github.com/gethelp/gethelp/rendezvous"
)

func startRelayServer(t *testing.T, secret string) *rendezvous.Server {
	t.Helper()
	s, err := rendezvous.Listen("127.0.0.1:0", rendezvous.ServerConfig{Relay: &rendezvous.RelayConfig{Secret: secret}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestRelayOffered: a registered host is offered the embedded relay with
// working credentials; its relayed address reaches the viewer through the
// lookup; a viewer the host permitted gets datagrams through both ways.
// (Refusing peers without a permission needs a second IP: the NAT lab in
// package integration has them.)
func TestRelayOffered(t *testing.T) {
	s := startRelayServer(t, "s3cret")
	if got := s.RelayAddr(); got != s.Addr() {
		t.Fatalf("embedded relay at %s, want the rendezvous's own address %s", got, s.Addr())
	}
	hc, vc := newUDP(t), newUDP(t)
	key := newKey(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	offers := make(chan rendezvous.Relay, 16)
	peers := make(chan rendezvous.Peer, 16)
	relayed := make(chan netip.AddrPort, 1)
	reregister := make(chan struct{}, 1)
	hctx, hcancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		rendezvous.RunHost(hctx, rendezvous.HostConfig{
			Server: s.Addr(), Conn: hc, InvitationID: "7Q2M9KX4TR", Key: key.priv,
			OnRelay: func(r rendezvous.Relay) { offers <- r },
			OnPeer:  func(p rendezvous.Peer) { peers <- p },
			Relayed: func() netip.AddrPort {
				select {
				case a := <-relayed:
					relayed <- a
					return a
				default:
					return netip.AddrPort{}
				}
			},
			Reregister: reregister,
		})
	}()
	defer func() { hcancel(); <-done }()

	var offer rendezvous.Relay
	select {
	case offer = <-offers:
	case <-ctx.Done():
		t.Fatal("no relay offered")
	}
	if offer.Server != s.Addr().String() || offer.Username == "" || offer.Password == "" {
		t.Fatalf("offer %+v", offer)
	}
	a, err := rendezvous.Allocate(ctx, offer, listenUDP4(t))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Addr().Addr() != s.Addr().Addr() || a.Addr().Port() == s.Addr().Port() {
		t.Fatalf("relayed address %s", a.Addr())
	}
	relayed <- a.Addr()
	reregister <- struct{}{}

	// The viewer learns the relayed address from the lookup (after the
	// host registered it again).
	var seeker *rendezvous.Seeker
	for {
		seeker, err = rendezvous.Seek(ctx, rendezvous.SeekConfig{Server: s.Addr(), Conn: vc, InvitationID: "7Q2M9KX4TR", Pin: key.pin})
		if err != nil {
			t.Fatal(err)
		}
		if seeker.HostRelayed() == a.Addr() {
			break
		}
		seeker.Close()
		time.Sleep(20 * time.Millisecond)
	}
	seeker.Close()
	<-peers

	if err := a.Permit(vc.addr()); err != nil {
		t.Fatal(err)
	}
	msg := []byte("ciphertext, as far as the relay knows")
	buf := make([]byte, 1500)
	pc := a.PacketConn()
	for {
		if err := vc.WriteTo(msg, a.Addr()); err != nil {
			t.Fatal(err)
		}
		pc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, from, err := pc.ReadFrom(buf)
		if err == nil && bytes.Equal(buf[:n], msg) {
			if got := from.(*net.UDPAddr).AddrPort(); got != vc.addr() {
				t.Errorf("relayed datagram from %s, want the viewer %s", got, vc.addr())
			}
			break
		}
		if ctx.Err() != nil {
			t.Fatal("nothing relayed from the viewer to the host")
		}
	}
	if _, err := pc.WriteTo([]byte("answer"), net.UDPAddrFromAddrPort(vc.addr())); err != nil {
		t.Fatal(err)
	}
	for {
		rctx, rcancel := context.WithTimeout(ctx, time.Second)
		n, from, err := vc.ReadFrom(rctx, buf)
		rcancel()
		if err != nil {
			t.Fatalf("the viewer got nothing back through the relay: %v", err)
		}
		if from == a.Addr() && string(buf[:n]) == "answer" {
			break
		}
	}
}

// TestRelayRefusesBadCredentials: a wrong password or an expired user
// name gets no allocation, and says so.
func TestRelayRefusesBadCredentials(t *testing.T) {
	s := startRelayServer(t, "s3cret")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, r := range []rendezvous.Relay{
		{Server: s.Addr().String(), Username: "9999999999:7Q2M9KX4TR", Password: "guess"},
		{Server: s.Addr().String(), Username: "1:7Q2M9KX4TR", Password: "guess"},
	} {
		a, err := rendezvous.Allocate(ctx, r, listenUDP4(t))
		if err == nil {
			a.Close()
			t.Fatalf("allocated with %+v", r)
		}
		if !errors.Is(err, rendezvous.ErrRelayRefused) {
			t.Errorf("Allocate(%s): %v, want ErrRelayRefused", r.Username, err)
		}
	}
}

func listenUDP4(t *testing.T) net.PacketConn {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return pc
}

// TestRelayQuota: one invitation's credentials get at most two
// allocations at a time; releasing one makes room again.
func TestRelayQuota(t *testing.T) {
	s := startRelayServer(t, "s3cret")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	user, pass, err := turn.GenerateLongTermTURNRESTCredentials("s3cret", "7Q2M9KX4TR", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	r := rendezvous.Relay{Server: s.Addr().String(), Username: user, Password: pass}
	a1, err := rendezvous.Allocate(ctx, r, listenUDP4(t))
	if err != nil {
		t.Fatal(err)
	}
	defer a1.Close()
	a2, err := rendezvous.Allocate(ctx, r, listenUDP4(t))
	if err != nil {
		t.Fatal(err)
	}
	if a3, err := rendezvous.Allocate(ctx, r, listenUDP4(t)); !errors.Is(err, rendezvous.ErrRelayRefused) {
		if err == nil {
			a3.Close()
		}
		t.Fatalf("third allocation: %v, want ErrRelayRefused", err)
	}
	// Another invitation is not held back.
	u2, p2, _ := turn.GenerateLongTermTURNRESTCredentials("s3cret", "Y4K2M7Q9TR", time.Hour)
	a4, err := rendezvous.Allocate(ctx, rendezvous.Relay{Server: s.Addr().String(), Username: u2, Password: p2}, listenUDP4(t))
	if err != nil {
		t.Fatalf("another invitation's allocation: %v", err)
	}
	defer a4.Close()
	// Released (the client says so with a zero-lifetime refresh): room again.
	a2.Close()
	for {
		a, err := rendezvous.Allocate(ctx, r, listenUDP4(t))
		if err == nil {
			a.Close()
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("no room after a release: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
