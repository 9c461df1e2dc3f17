package session_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v4"

	"github.com/gethelp/gethelp/session"
)

// stunServer answers Binding requests on loopback, the first drop of them
// unanswered (a lost datagram).
func stunServer(t *testing.T, drop int) netip.AddrPort {
	t.Helper()
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			req := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
			if req.Decode() != nil || req.Type != stun.BindingRequest {
				continue
			}
			if drop > 0 {
				drop--
				continue
			}
			res := stun.MustBuild(stun.BindingSuccess, stun.NewTransactionIDSetter(req.TransactionID),
				&stun.XORMappedAddress{IP: from.Addr().AsSlice(), Port: int(from.Port())}, stun.Fingerprint)
			pc.WriteToUDPAddrPort(res.Raw, from)
		}
	}()
	t.Cleanup(func() { pc.Close(); <-done })
	return pc.LocalAddr().(*net.UDPAddr).AddrPort()
}

func TestListenerSTUN(t *testing.T) {
	cert, _, err := session.NewHostCertificate(time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	l, err := session.Listen(session.ListenConfig{Addr: "127.0.0.1:0", Certificate: cert})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	got, err := l.Socket().STUN(ctx, stunServer(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	if got != l.Addr() {
		t.Errorf("reflexive %s, want the listener's own %s (no NAT on loopback)", got, l.Addr())
	}
}

func TestSTUNNoAnswer(t *testing.T) {
	s, err := session.ListenSocket("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = s.STUN(ctx, stunServer(t, 1000))
	if !errors.Is(err, session.ErrNoSTUNAnswer) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("STUN without an answer: %v", err)
	}
}

// TestDialFromSocket dials from a socket of the caller's (the one that
// punched), and the session owns it: it is closed when the session ends.
func TestDialFromSocket(t *testing.T) {
	c := ctx(t)
	h := startHost(t, "127.0.0.1:0")
	hostSide := h.serveOne(t, c)
	sock, err := session.ListenSocket("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := h.dialConfig(testPassword)
	cfg.Socket = sock
	viewer, err := session.Dial(c, cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	hc := <-hostSide
	if hc == nil {
		t.Fatal("host did not accept")
	}
	if got := hc.RemoteAddr().(*net.UDPAddr).AddrPort(); got != sock.LocalAddr() {
		t.Errorf("host sees the viewer at %s, want the socket's %s", got, sock.LocalAddr())
	}
	viewer.Close("done")
	hc.Close("done")
	if err := sock.WriteTo([]byte{0}, h.ln.Addr()); !errors.Is(err, net.ErrClosed) {
		t.Errorf("socket still open after the session ended: %v", err)
	}
}

func TestDialFromSocketClosesItOnFailure(t *testing.T) {
	sock, err := session.ListenSocket("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, err = session.Dial(ctx(t), session.DialConfig{Socket: sock})
	if !errors.Is(err, session.ErrUnreachable) {
		t.Fatalf("Dial with no address: %v", err)
	}
	if err := sock.WriteTo([]byte{0}, netip.MustParseAddrPort("127.0.0.1:9")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("socket still open after Dial failed: %v", err)
	}
}

func TestClassifyPath(t *testing.T) {
	ap := netip.MustParseAddrPort
	local := []netip.Prefix{netip.MustParsePrefix("192.0.2.2/24"), netip.MustParsePrefix("2001:db8:1::5/64"), netip.MustParsePrefix("127.0.0.1/8")}
	reflexive := []netip.AddrPort{ap("203.0.113.20:40000")}
	tests := []struct {
		name, peer, want string
	}{
		{"same IPv4 link", "192.0.2.9:4000", session.PathLAN},
		{"same IPv6 link", "[2001:db8:1::9]:4000", session.PathLAN},
		{"IPv4-mapped on the link", "[::ffff:192.0.2.9]:4000", session.PathLAN},
		{"through the NAT mapping", "203.0.113.20:40000", session.PathPunched},
		{"same public IP, another port", "203.0.113.20:40001", session.PathDirect},
		{"routed global address", "[2001:db8:2::9]:4000", session.PathDirect},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := session.ClassifyPath(ap(tt.peer), local, reflexive); got != tt.want {
				t.Errorf("ClassifyPath(%s) = %q, want %q", tt.peer, got, tt.want)
			}
		})
	}
}
