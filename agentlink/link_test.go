package agentlink_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gethelp/gethelp/agentlink"
	"github.com/quic-go/quic-go"
)

func TestDialAccept(t *testing.T) {
	b := startBot(t)
	cfg := b.clientConfig(t, "ann-laptop")
	ctx := testCtx(t)
	a, err := agentlink.Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close("done")
	s, err := b.srv.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close("done")

	if got, want := s.AgentKey(), agentlink.AgentKey(cfg.Certificate); got != want {
		t.Errorf("bot sees agent key %s, want %s", got, want)
	}
	if a.AgentKey() != s.AgentKey() {
		t.Errorf("the two sides disagree on the agent key: %s, %s", a.AgentKey(), s.AgentKey())
	}
	h := s.Hello()
	if h.Type != agentlink.TypeHello || h.Name != "ann-laptop" || h.Version != agentlink.Version || h.Time.IsZero() {
		t.Errorf("hello = %+v", h)
	}

	if err := s.Send(agentlink.Message{Type: agentlink.TypeWelcome}); err != nil {
		t.Fatal(err)
	}
	if m := receive(t, a); m.Type != agentlink.TypeWelcome || m.Time.IsZero() {
		t.Errorf("agent got %+v", m)
	}
	inv := agentlink.Message{Type: agentlink.TypeInvitation, Ticket: "T-1", File: []byte("file"), Password: "K7PM-W3XQ-R9TD", InvitationID: "7Q2M9KX4TR"}
	if err := a.Send(inv); err != nil {
		t.Fatal(err)
	}
	got := receive(t, s)
	if got.Ticket != "T-1" || string(got.File) != "file" || got.Password != inv.Password {
		t.Errorf("bot got %+v", got)
	}
}

func TestPinMismatch(t *testing.T) {
	b := startBot(t)
	cfg := b.clientConfig(t, "wrong pin")
	cfg.BotPin = agentlink.Pin(newCert(t)) // some other key
	_, err := agentlink.Dial(testCtx(t), cfg)
	if !errors.Is(err, agentlink.ErrPinMismatch) {
		t.Fatalf("got %v, want ErrPinMismatch", err)
	}
	// The bot saw nothing from it: the next connection it accepts is the
	// good one.
	a, s := b.pair(t, "right pin")
	_ = a
	if s.Hello().Name != "right pin" {
		t.Fatalf("the bot accepted %q first", s.Hello().Name)
	}
}

func TestDialRefusesWithoutPin(t *testing.T) {
	b := startBot(t)
	cfg := b.clientConfig(t, "x")
	cfg.BotPin = [32]byte{}
	if _, err := agentlink.Dial(testCtx(t), cfg); !errors.Is(err, agentlink.ErrNoPin) {
		t.Fatalf("got %v, want ErrNoPin", err)
	}
}

// rawDial connects to the bot with a TLS configuration of the test's
// choosing, bypassing Dial.
func rawDial(t *testing.T, b *bot, certs []tls.Certificate) (*quic.Conn, error) {
	t.Helper()
	conf := &tls.Config{
		NextProtos:         []string{agentlink.ALPN},
		MinVersion:         tls.VersionTLS13,
		InsecureSkipVerify: true,
		Certificates:       certs,
	}
	return quic.DialAddr(testCtx(t), b.srv.Addr().String(), conf, &quic.Config{HandshakeIdleTimeout: 5 * time.Second})
}

func selfSigned(t *testing.T, pub, signer any, signerKey any, parent *x509.Certificate) tls.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: signer}
}

func TestClientCertificateRequired(t *testing.T) {
	edPub, edKey, _ := ed25519.GenerateKey(rand.Reader)
	caPub, caKey, _ := ed25519.GenerateKey(rand.Reader)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cases := []struct {
		name  string
		certs func(t *testing.T) []tls.Certificate
	}{
		{"none", func(t *testing.T) []tls.Certificate { return nil }},
		{"ecdsa", func(t *testing.T) []tls.Certificate {
			return []tls.Certificate{selfSigned(t, &ecKey.PublicKey, ecKey, ecKey, nil)}
		}},
		{"ed25519 signed by another key", func(t *testing.T) []tls.Certificate {
			ca := selfSigned(t, caPub, caKey, caKey, nil)
			caCert, _ := x509.ParseCertificate(ca.Certificate[0])
			leaf := selfSigned(t, edPub, edKey, caKey, caCert)
			return []tls.Certificate{leaf}
		}},
		{"a chain of two", func(t *testing.T) []tls.Certificate {
			leaf := selfSigned(t, edPub, edKey, edKey, nil)
			ca := selfSigned(t, caPub, caKey, caKey, nil)
			leaf.Certificate = append(leaf.Certificate, ca.Certificate[0])
			return []tls.Certificate{leaf}
		}},
	}
	b := startBot(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			qc, err := rawDial(t, b, tc.certs(t))
			if err == nil {
				// TLS 1.3: the client may finish before the server has
				// judged its certificate; the refusal follows at once.
				if st, err := qc.OpenStream(); err == nil {
					st.Write(frame(`{"type":"hello","version":1}`))
				}
				<-qc.Context().Done()
				err = context.Cause(qc.Context())
			}
			var te *quic.TransportError
			if !errors.As(err, &te) || !te.Remote {
				t.Fatalf("got %v, want a handshake refusal from the bot", err)
			}
		})
	}
	// None of them reached Accept.
	_, s := b.pair(t, "good")
	if s.Hello().Name != "good" {
		t.Fatalf("the bot accepted %q", s.Hello().Name)
	}
}

// rawAgent connects with a valid agent certificate but speaks bytes of
// the test's choosing.
func rawAgent(t *testing.T, b *bot) (*quic.Conn, *quic.Stream) {
	t.Helper()
	qc, err := rawDial(t, b, []tls.Certificate{newCert(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { qc.CloseWithError(0, "") })
	st, err := qc.OpenStreamSync(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	return qc, st
}

// TestServerSilentUntilHello: whatever a client sends instead of a hello,
// the bot answers nothing but closing with a protocol error.
func TestServerSilentUntilHello(t *testing.T) {
	cases := []struct {
		name  string
		input []byte
	}{
		{"chat first", frame(`{"type":"chat","text":"hi"}`)},
		{"hello without version", frame(`{"type":"hello","name":"x"}`)},
		{"garbage", []byte("GET / HTTP/1.1\r\n\r\n")},
		{"too large", binary.BigEndian.AppendUint32(nil, 1<<30)},
	}
	b := startBot(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			qc, st := rawAgent(t, b)
			if _, err := st.Write(tc.input); err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(st)
			if len(got) != 0 {
				t.Fatalf("the bot sent %q before a hello", got)
			}
			var appErr *quic.ApplicationError
			if !errors.As(err, &appErr) || !appErr.Remote || appErr.ErrorCode != 1 {
				t.Fatalf("got %v, want the bot's protocol error", err)
			}
			if strings.Contains(appErr.ErrorMessage, "\n") || appErr.ErrorMessage == "" {
				t.Errorf("reason %q is not one line", appErr.ErrorMessage)
			}
			<-qc.Context().Done()
		})
	}
}

func TestHelloTimeout(t *testing.T) {
	agentlink.SetTimeouts(t, 15*time.Second, 300*time.Millisecond, time.Second)
	b := startBot(t)
	qc, st := rawAgent(t, b)
	st.Write(frame(`{"type":"hello","version":1}`)[:10]) // and nothing more
	<-qc.Context().Done()
	var appErr *quic.ApplicationError
	if err := context.Cause(qc.Context()); !errors.As(err, &appErr) || !strings.Contains(appErr.ErrorMessage, "no hello in time") {
		t.Fatalf("got %v", err)
	}
}

// TestMalformedClosesConnection: after the hello, bad input closes the
// link with a one-line error on both sides.
func TestMalformedClosesConnection(t *testing.T) {
	cases := []struct {
		name  string
		input []byte
		want  string
	}{
		{"not json", frame(`{"type":`), "malformed"},
		{"no type", frame(`{"text":"x"}`), "no type"},
		{"too large", binary.BigEndian.AppendUint32(nil, agentlink.MaxMessageSize+1), "too large"},
		{"zero length", []byte{0, 0, 0, 0}, "zero length"},
	}
	b := startBot(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			qc, st := rawAgent(t, b)
			st.Write(frame(`{"type":"hello","version":1,"name":"evil"}`))
			s, err := b.srv.Accept(testCtx(t))
			if err != nil {
				t.Fatal(err)
			}
			st.Write(tc.input)
			_, err = s.Receive(testCtx(t))
			var ce *agentlink.ClosedError
			if !errors.As(err, &ce) || !errors.Is(err, net.ErrClosed) || !strings.Contains(ce.Reason, "protocol error") || !strings.Contains(ce.Reason, tc.want) {
				t.Fatalf("bot side: got %v", err)
			}
			<-qc.Context().Done()
			var appErr *quic.ApplicationError
			if err := context.Cause(qc.Context()); !errors.As(err, &appErr) || appErr.ErrorCode != 1 || !strings.Contains(appErr.ErrorMessage, tc.want) {
				t.Fatalf("agent side: got %v", err)
			}
			<-s.Done()
		})
	}
}

func TestCloseDeliversAndSaysWhy(t *testing.T) {
	a, s := startBot(t).pair(t, "x")
	for i := range 3 {
		if err := s.Send(agentlink.Message{Type: agentlink.TypeChat, Text: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	closed := make(chan struct{})
	go func() { defer close(closed); s.Close("the bot restarts") }()
	for i := range 3 {
		if m := receive(t, a); m.Text != fmt.Sprint(i) {
			t.Fatalf("message %d: got %+v", i, m)
		}
	}
	_, err := a.Receive(testCtx(t))
	var ce *agentlink.ClosedError
	if !errors.As(err, &ce) || !ce.ByPeer || ce.Reason != "the bot restarts" || !errors.Is(err, net.ErrClosed) {
		t.Fatalf("got %v, want closed by the peer because the bot restarts", err)
	}
	<-closed
	<-a.Done()
	if err := a.Send(agentlink.Message{Type: agentlink.TypeChat}); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Send after the end: got %v", err)
	}
	if err := s.Send(agentlink.Message{Type: agentlink.TypeChat}); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Send after Close: got %v", err)
	}
	if _, err := s.Receive(testCtx(t)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Receive after Close: got %v", err)
	}
	var own *agentlink.ClosedError
	if !errors.As(s.Err(), &own) || own.ByPeer || own.Reason != "the bot restarts" {
		t.Errorf("closing side's Err = %v", s.Err())
	}
}

func TestSendRefusesBadMessages(t *testing.T) {
	a, s := startBot(t).pair(t, "x")
	if err := a.Send(agentlink.Message{}); !errors.Is(err, agentlink.ErrMalformed) {
		t.Errorf("no type: %v", err)
	}
	if err := a.Send(agentlink.Message{Type: agentlink.TypeBye}); !errors.Is(err, agentlink.ErrMalformed) {
		t.Errorf("bye: %v", err)
	}
	if err := a.Send(agentlink.Message{Type: agentlink.TypeChat, Text: strings.Repeat("x", agentlink.MaxMessageSize)}); !errors.Is(err, agentlink.ErrTooLarge) {
		t.Errorf("too large: %v", err)
	}
	// The connection is unharmed.
	if err := a.Send(agentlink.Message{Type: agentlink.TypeChat, Text: "still here"}); err != nil {
		t.Fatal(err)
	}
	if m := receive(t, s); m.Text != "still here" {
		t.Fatalf("got %+v", m)
	}
}

func TestConcurrentSend(t *testing.T) {
	a, s := startBot(t).pair(t, "x")
	const senders, each = 8, 50
	var wg sync.WaitGroup
	for i := range senders {
		wg.Go(func() {
			for j := range each {
				text := fmt.Sprintf("%d/%d %s", i, j, strings.Repeat("y", 1000*j))
				if err := a.Send(agentlink.Message{Type: agentlink.TypeChat, Ticket: fmt.Sprint(i), Text: text}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	next := make([]int, senders)
	for range senders * each {
		m := receive(t, s)
		var i, j int
		if _, err := fmt.Sscanf(m.Text, "%d/%d", &i, &j); err != nil || fmt.Sprint(i) != m.Ticket {
			t.Fatalf("garbled message %.40q", m.Text)
		}
		if j != next[i] {
			t.Fatalf("sender %d: got message %d, want %d", i, j, next[i])
		}
		if len(m.Text) != len(fmt.Sprintf("%d/%d ", i, j))+1000*j {
			t.Fatalf("message %d/%d has %d bytes", i, j, len(m.Text))
		}
		next[i]++
	}
	wg.Wait()
}

func TestReceiveHonoursContext(t *testing.T) {
	a, _ := startBot(t).pair(t, "x")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := a.Receive(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
}

// blackhole relays UDP between a client and a server until cut, then
// drops everything, as a dead network does.
type blackhole struct {
	front *net.UDPConn
	back  *net.UDPConn
	mu    sync.Mutex
	cut   bool
	wg    sync.WaitGroup
}

func newBlackhole(t *testing.T, server *net.UDPAddr) *blackhole {
	front, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	back, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	h := &blackhole{front: front, back: back}
	var client *net.UDPAddr
	var cmu sync.Mutex
	relay := func(from, to *net.UDPConn, dest func() *net.UDPAddr, learn bool) {
		defer h.wg.Done()
		buf := make([]byte, 65536)
		for {
			n, addr, err := from.ReadFromUDP(buf)
			if err != nil {
				return
			}
			if learn {
				cmu.Lock()
				client = addr
				cmu.Unlock()
			}
			h.mu.Lock()
			cut := h.cut
			h.mu.Unlock()
			if d := dest(); !cut && d != nil {
				to.WriteToUDP(buf[:n], d)
			}
		}
	}
	h.wg.Add(2)
	go relay(front, back, func() *net.UDPAddr { return server }, true)
	go relay(back, front, func() *net.UDPAddr { cmu.Lock(); defer cmu.Unlock(); return client }, false)
	t.Cleanup(func() { front.Close(); back.Close(); h.wg.Wait() })
	return h
}

func (h *blackhole) cutOff() {
	h.mu.Lock()
	h.cut = true
	h.mu.Unlock()
}

// TestDeadPeerNoticed: when the network stops carrying anything, both
// sides notice within the idle timeout (shortened here).
func TestDeadPeerNoticed(t *testing.T) {
	agentlink.SetTimeouts(t, 900*time.Millisecond, 5*time.Second, 200*time.Millisecond)
	b := startBot(t)
	hole := newBlackhole(t, net.UDPAddrFromAddrPort(b.srv.Addr()))
	cfg := b.clientConfig(t, "x")
	cfg.Addr = hole.front.LocalAddr().String()
	ctx := testCtx(t)
	a, err := agentlink.Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close("")
	s, err := b.srv.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close("")
	// Alive across several idle timeouts thanks to keep-alives.
	idleFor := time.NewTimer(1500 * time.Millisecond)
	select {
	case <-a.Done():
		t.Fatalf("link died while idle: %v", a.Err())
	case <-idleFor.C:
	}
	if err := s.Send(agentlink.Message{Type: agentlink.TypeWelcome}); err != nil {
		t.Fatal(err)
	}
	receive(t, a)

	start := time.Now()
	hole.cutOff()
	for _, c := range []*agentlink.Conn{a, s} {
		select {
		case <-c.Done():
		case <-ctx.Done():
			t.Fatal("a dead peer was never noticed")
		}
		if !errors.Is(c.Err(), net.ErrClosed) || !strings.Contains(c.Err().Error(), "no answer") {
			t.Errorf("got %v", c.Err())
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v to notice", d)
	}
}

func TestServerCloseEndsConnections(t *testing.T) {
	b := startBot(t)
	a, _ := b.pair(t, "x")
	done := make(chan error, 1)
	go func() { _, err := b.srv.Accept(context.Background()); done <- err }()
	if err := b.srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, net.ErrClosed) || !errors.Is(err, agentlink.ErrServerClosed) {
		t.Fatalf("Accept after Close: %v", err)
	}
	_, err := a.Receive(testCtx(t))
	var ce *agentlink.ClosedError
	if !errors.As(err, &ce) || !ce.ByPeer || !strings.Contains(ce.Reason, "shutting down") {
		t.Fatalf("agent got %v", err)
	}
}

func TestLogRedacts(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	m := agentlink.Message{
		Type: agentlink.TypeInvitation, Ticket: "T-1", File: []byte("0123456789"),
		Password: "K7PM-W3XQ-R9TD", InvitationID: "7Q2M9KX4TR",
	}
	log.Info("sent", "msg", m)
	log.Info("code", "msg", agentlink.Message{Type: agentlink.TypeLinkCode, Code: "ZX9Q-PL4M"})
	log.Info("chat", "msg", agentlink.Message{Type: agentlink.TypeChat, Text: "my PIN is 4711"})
	out := buf.String()
	for _, secret := range []string{"K7PM", "W3XQ", "0123456789", "MDEyMzQ1Njc4OQ", "ZX9Q", "4711"} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{`"password":"[redacted]"`, `"file_bytes":10`, `"ticket":"T-1"`, `"invitation_id":"7Q2M9KX4TR"`, `"text_bytes":14`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}
