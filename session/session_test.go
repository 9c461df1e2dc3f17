package session_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/gethelp/gethelp/session"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	testID       = "7Q2M9KX4TR"
	testPassword = "K7PMW3XQR9TD"
)

type host struct {
	ln  *session.Listener
	pin [32]byte
}

func startHost(t *testing.T, addr string) *host {
	t.Helper()
	cert, pin, err := session.NewHostCertificate(time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := session.Listen(session.ListenConfig{Addr: addr, Certificate: cert})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return &host{ln: ln, pin: pin}
}

func (h *host) dialConfig(password string) session.DialConfig {
	return session.DialConfig{
		Addresses:      []netip.AddrPort{h.ln.Addr()},
		Pin:            h.pin,
		InvitationID:   testID,
		Password:       password,
		Name:           "Bob",
		AttemptTimeout: 2 * time.Second,
	}
}

// serveOne answers the next request: accept when the password matches,
// else reject.
func (h *host) serveOne(t *testing.T, ctx context.Context) <-chan *session.Conn {
	out := make(chan *session.Conn, 1)
	go func() {
		defer close(out)
		r, err := h.ln.Accept(ctx)
		if err != nil {
			return
		}
		if r.InvitationID != testID || !r.CheckPassword(testPassword) {
			r.Reject(session.RejectBadPassword, "wrong password", 4)
			return
		}
		c, err := r.Accept("Alice")
		if err != nil {
			t.Error(err)
			return
		}
		out <- c
	}()
	return out
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestChatBothWaysAndGoodbye(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0"} {
		t.Run(addr, func(t *testing.T) {
			c := ctx(t)
			h := startHost(t, addr)
			hostSide := h.serveOne(t, c)
			viewer, err := session.Dial(c, h.dialConfig(testPassword))
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			hc := <-hostSide
			if hc == nil {
				t.Fatal("host did not accept")
			}
			if viewer.PeerName() != "Alice" || hc.PeerName() != "Bob" {
				t.Errorf("names: viewer sees %q, host sees %q", viewer.PeerName(), hc.PeerName())
			}
			if err := viewer.Send(session.Message{Type: session.TypeChat, Text: "hello from the helper"}); err != nil {
				t.Fatal(err)
			}
			m, err := hc.Receive(c)
			if err != nil || m.Type != session.TypeChat || m.Text != "hello from the helper" {
				t.Fatalf("host received %+v, %v", m, err)
			}
			// Messages sent just before a goodbye are not lost.
			for _, text := range []string{"one", "two", "three"} {
				if err := hc.Send(session.Message{Type: session.TypeChat, Text: text}); err != nil {
					t.Fatal(err)
				}
			}
			go hc.Close("person pressed Disconnect")
			for _, want := range []string{"one", "two", "three"} {
				m, err := viewer.Receive(c)
				if err != nil || m.Text != want {
					t.Fatalf("viewer received %+v, %v; want %q", m, err, want)
				}
			}
			_, err = viewer.Receive(c)
			var ce *session.ClosedError
			if !errors.As(err, &ce) || !ce.ByPeer || ce.Reason != "person pressed Disconnect" {
				t.Fatalf("viewer end: %v", err)
			}
			if !errors.Is(err, net.ErrClosed) {
				t.Errorf("ClosedError does not unwrap to net.ErrClosed")
			}
			viewer.Close("")
			<-hc.Done()
		})
	}
}

func TestWrongPasswordIsRejected(t *testing.T) {
	c := ctx(t)
	h := startHost(t, "127.0.0.1:0")
	h.serveOne(t, c)
	_, err := session.Dial(c, h.dialConfig("WRONGPASSWORD"))
	var re *session.RejectError
	if !errors.Is(err, session.ErrBadPassword) || !errors.As(err, &re) || re.AttemptsLeft != 4 {
		t.Fatalf("Dial with wrong password: %v", err)
	}
}

func TestPinMismatchSendsNothing(t *testing.T) {
	c := ctx(t)
	h := startHost(t, "127.0.0.1:0")
	got := make(chan *session.Request, 1)
	go func() {
		r, err := h.ln.Accept(c)
		if err == nil {
			got <- r
		}
	}()
	cfg := h.dialConfig(testPassword)
	cfg.Pin[0] ^= 0xff
	_, err := session.Dial(c, cfg)
	if !errors.Is(err, session.ErrPinMismatch) {
		t.Fatalf("Dial with wrong pin: %v", err)
	}
	select {
	case r := <-got:
		t.Fatalf("host received a hello from a viewer that should have refused it: %+v", r)
	case <-time.After(300 * time.Millisecond):
	}
}

func TestUnreachable(t *testing.T) {
	c := ctx(t)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0") // a port that never answers
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	_, err = session.Dial(c, session.DialConfig{
		Addresses:      []netip.AddrPort{pc.LocalAddr().(*net.UDPAddr).AddrPort()},
		InvitationID:   testID,
		Password:       testPassword,
		AttemptTimeout: 500 * time.Millisecond,
	})
	if !errors.Is(err, session.ErrUnreachable) {
		t.Fatalf("Dial to a silent port: %v", err)
	}
}

func TestFirstAddressToAnswerWins(t *testing.T) {
	c := ctx(t)
	h := startHost(t, "127.0.0.1:0")
	hostSide := h.serveOne(t, c)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	cfg := h.dialConfig(testPassword)
	// A silent port first, then the host: the silent one must not hold it up.
	cfg.Addresses = []netip.AddrPort{pc.LocalAddr().(*net.UDPAddr).AddrPort(), h.ln.Addr()}
	cfg.AttemptTimeout = 3 * time.Second
	v, err := session.Dial(c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	hc := <-hostSide
	v.Close("done")
	<-hc.Done()
}
