package email_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gethelp/gethelp/bot/email"
)

const (
	testUser     = "bot@gethelp.test"
	testPassword = "correct horse battery staple"
)

// sleepRecorder is an injectable Sleep that records and returns at once.
type sleepRecorder struct {
	mu     sync.Mutex
	sleeps []time.Duration
}

func (r *sleepRecorder) Sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sleeps = append(r.sleeps, d)
	return ctx.Err()
}

func (r *sleepRecorder) Sleeps() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.sleeps...)
}

func testMessage(t *testing.T) []byte {
	t.Helper()
	m := &email.Outgoing{
		From:    mail.Address{Name: "gethelp", Address: "bot@gethelp.test"},
		To:      mail.Address{Name: "Helper", Address: "helper@example.test"},
		Subject: "Invitation",
		// A line starting with a dot checks dot-stuffing both ways.
		Text: "Hello,\n.hidden line\nbye\n",
		Date: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
	b, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newSender(t *testing.T, cfg email.SenderConfig) (*email.Sender, *sleepRecorder) {
	t.Helper()
	rec := &sleepRecorder{}
	if cfg.Sleep == nil {
		cfg.Sleep = rec.Sleep
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	s, err := email.NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, rec
}

func TestSendStartTLSWithAuth(t *testing.T) {
	cert, clientTLS := selfSigned(t)
	be := &memBackend{User: testUser, Pass: testPassword}
	srv := startServer(t, be, serveStartTLS, cert)
	s, rec := newSender(t, email.SenderConfig{
		Addr: srv.Addr, Username: testUser, Password: testPassword, TLSConfig: clientTLS, HeloName: "bot.gethelp.test",
	})
	msg := testMessage(t)
	if err := s.Send(context.Background(), "bot@gethelp.test", []string{"helper@example.test"}, msg); err != nil {
		t.Fatalf("Send: %v", err)
	}
	mails := be.Mails()
	if len(mails) != 1 {
		t.Fatalf("server got %d messages, want 1", len(mails))
	}
	got := mails[0]
	if !bytes.Equal(got.Data, msg) {
		t.Errorf("message changed in transit:\ngot:\n%s\nwant:\n%s", got.Data, msg)
	}
	if got.From != "bot@gethelp.test" || len(got.To) != 1 || got.To[0] != "helper@example.test" {
		t.Errorf("envelope = %q → %q", got.From, got.To)
	}
	if got.User != testUser || !got.TLS {
		t.Errorf("user %q, TLS %v; want %q over TLS", got.User, got.TLS, testUser)
	}
	if tries := be.AuthTries(); len(tries) != 1 {
		t.Errorf("AUTH tried %d times, want 1", len(tries))
	}
	if n := len(rec.Sleeps()); n != 0 {
		t.Errorf("slept %d times", n)
	}
	if !strings.Contains(srv.Wire.String(), "EHLO bot.gethelp.test") {
		t.Errorf("HELO name not used:\n%s", srv.Wire)
	}
}

func TestSendWrongPassword(t *testing.T) {
	cert, clientTLS := selfSigned(t)
	be := &memBackend{User: testUser, Pass: testPassword}
	srv := startServer(t, be, serveStartTLS, cert)
	const wrong = "hunter2-wrong"
	s, rec := newSender(t, email.SenderConfig{Addr: srv.Addr, Username: testUser, Password: wrong, TLSConfig: clientTLS})
	err := s.Send(context.Background(), "bot@gethelp.test", []string{"helper@example.test"}, testMessage(t))
	var pe *email.PermanentError
	if !errors.As(err, &pe) {
		t.Fatalf("Send = %v, want a *PermanentError", err)
	}
	if pe.Code != 535 || pe.Command != "AUTH" {
		t.Errorf("PermanentError = %+v, want 535 at AUTH", pe)
	}
	if strings.Contains(err.Error(), wrong) {
		t.Errorf("error shows the password: %v", err)
	}
	if srv.Conns() != 1 || len(rec.Sleeps()) != 0 {
		t.Errorf("%d connections, %d sleeps; want 1 and 0 (no retry)", srv.Conns(), len(rec.Sleeps()))
	}
	if len(be.Mails()) != 0 {
		t.Error("message delivered")
	}
}

func TestSendRetriesTemporaryFailures(t *testing.T) {
	cert, clientTLS := selfSigned(t)
	be := &memBackend{User: testUser, Pass: testPassword, FailData: 2}
	srv := startServer(t, be, serveStartTLS, cert)
	s, rec := newSender(t, email.SenderConfig{Addr: srv.Addr, Username: testUser, Password: testPassword, TLSConfig: clientTLS})
	if err := s.Send(context.Background(), "bot@gethelp.test", []string{"helper@example.test"}, testMessage(t)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if n := len(be.Mails()); n != 1 {
		t.Errorf("delivered %d times, want once", n)
	}
	want := []time.Duration{email.DefaultBackoff, 2 * email.DefaultBackoff}
	if got := rec.Sleeps(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("backoffs = %v, want %v", got, want)
	}
	if srv.Conns() != 3 {
		t.Errorf("%d connections, want 3", srv.Conns())
	}
}

func TestSendGivesUp(t *testing.T) {
	be := &memBackend{FailData: 100}
	srv := startServer(t, be, serveClear, tls.Certificate{})
	s, rec := newSender(t, email.SenderConfig{
		Addr: srv.Addr, Security: email.SecurityNone, Retries: 5, Backoff: time.Second, MaxBackoff: 3 * time.Second,
	})
	err := s.Send(context.Background(), "bot@gethelp.test", []string{"helper@example.test"}, testMessage(t))
	if err == nil {
		t.Fatal("Send succeeded")
	}
	var pe *email.PermanentError
	if errors.As(err, &pe) {
		t.Errorf("Send = %v, a permanent error", err)
	}
	if !strings.Contains(err.Error(), "451") || !strings.Contains(err.Error(), "gave up after 6 attempts") {
		t.Errorf("error = %q, want the 451 and the attempt count", err)
	}
	want := []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 3 * time.Second, 3 * time.Second}
	if got := rec.Sleeps(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("backoffs = %v, want %v", got, want)
	}
}

func TestSendRecipientRefused(t *testing.T) {
	cert, clientTLS := selfSigned(t)
	be := &memBackend{RejectRcpt: map[string]bool{"nobody@example.test": true}}
	srv := startServer(t, be, serveStartTLS, cert)
	s, rec := newSender(t, email.SenderConfig{Addr: srv.Addr, TLSConfig: clientTLS})
	err := s.Send(context.Background(), "bot@gethelp.test", []string{"nobody@example.test"}, testMessage(t))
	var pe *email.PermanentError
	if !errors.As(err, &pe) {
		t.Fatalf("Send = %v, want a *PermanentError", err)
	}
	if pe.Code != 550 || pe.EnhancedCode != [3]int{5, 1, 1} || pe.Command != "RCPT TO:<nobody@example.test>" || pe.Message != "No such user here" {
		t.Errorf("PermanentError = %+v", pe)
	}
	if srv.Conns() != 1 || len(rec.Sleeps()) != 0 {
		t.Errorf("%d connections, %d sleeps; want 1 and 0 (no retry)", srv.Conns(), len(rec.Sleeps()))
	}
}

func TestSendRefusesServerWithoutStartTLS(t *testing.T) {
	be := &memBackend{User: testUser, Pass: testPassword}
	srv := startServer(t, be, serveClear, tls.Certificate{})
	s, rec := newSender(t, email.SenderConfig{Addr: srv.Addr, Username: testUser, Password: testPassword})
	err := s.Send(context.Background(), "bot@gethelp.test", []string{"helper@example.test"}, testMessage(t))
	if !errors.Is(err, email.ErrStartTLSUnsupported) {
		t.Fatalf("Send = %v, want ErrStartTLSUnsupported", err)
	}
	if tries := be.AuthTries(); len(tries) != 0 {
		t.Errorf("credentials sent: AUTH tried %d times", len(tries))
	}
	wire := srv.Wire.String()
	for _, bad := range []string{"\nAUTH", "\nMAIL FROM", testPassword} {
		if strings.Contains(wire, bad) {
			t.Errorf("client said %q in clear:\n%s", bad, wire)
		}
	}
	if len(be.Mails()) != 0 || srv.Conns() != 1 || len(rec.Sleeps()) != 0 {
		t.Errorf("mails %d, connections %d, sleeps %d; want 0, 1, 0", len(be.Mails()), srv.Conns(), len(rec.Sleeps()))
	}
}

func TestSendImplicitTLS(t *testing.T) {
	cert, clientTLS := selfSigned(t)
	be := &memBackend{User: testUser, Pass: testPassword}
	srv := startServer(t, be, serveTLS, cert)
	s, _ := newSender(t, email.SenderConfig{
		Addr: srv.Addr, Security: email.SecurityTLS, Username: testUser, Password: testPassword, TLSConfig: clientTLS,
	})
	msg := testMessage(t)
	if err := s.Send(context.Background(), "bot@gethelp.test", []string{"helper@example.test"}, msg); err != nil {
		t.Fatalf("Send: %v", err)
	}
	mails := be.Mails()
	if len(mails) != 1 || !bytes.Equal(mails[0].Data, msg) || !mails[0].TLS || mails[0].User != testUser {
		t.Fatalf("server got %+v", mails)
	}
}

func TestSendUntrustedCertificate(t *testing.T) {
	cert, _ := selfSigned(t)
	_, otherRoots := selfSigned(t)
	srv := startServer(t, &memBackend{}, serveStartTLS, cert)
	s, rec := newSender(t, email.SenderConfig{Addr: srv.Addr, TLSConfig: otherRoots})
	err := s.Send(context.Background(), "bot@gethelp.test", []string{"helper@example.test"}, testMessage(t))
	if err == nil {
		t.Fatal("Send trusted an unknown certificate")
	}
	if srv.Conns() != 1 || len(rec.Sleeps()) != 0 {
		t.Errorf("%d connections, %d sleeps; want 1 and 0 (no retry): %v", srv.Conns(), len(rec.Sleeps()), err)
	}
}

func TestSendRetriesNetworkErrors(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens: connection refused
	s, rec := newSender(t, email.SenderConfig{Addr: addr, Security: email.SecurityNone, Retries: 2, Backoff: time.Second})
	err = s.Send(context.Background(), "bot@gethelp.test", []string{"helper@example.test"}, testMessage(t))
	if err == nil {
		t.Fatal("Send succeeded")
	}
	if got := rec.Sleeps(); len(got) != 2 {
		t.Errorf("slept %v, want two retries", got)
	}
}

func TestSendStopsWhenContextEnds(t *testing.T) {
	srv := startServer(t, &memBackend{FailData: 100}, serveClear, tls.Certificate{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, _ := newSender(t, email.SenderConfig{
		Addr: srv.Addr, Security: email.SecurityNone,
		Sleep: func(ctx context.Context, d time.Duration) error { cancel(); return ctx.Err() },
	})
	err := s.Send(ctx, "bot@gethelp.test", []string{"helper@example.test"}, testMessage(t))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Send = %v, want context.Canceled", err)
	}
	if srv.Conns() != 1 {
		t.Errorf("%d connections, want 1", srv.Conns())
	}
}

func TestSendDefaultSleepHonoursContext(t *testing.T) {
	srv := startServer(t, &memBackend{FailData: 100}, serveClear, tls.Certificate{})
	s, err := email.NewSender(email.SenderConfig{Addr: srv.Addr, Security: email.SecurityNone, Backoff: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = s.Send(ctx, "bot@gethelp.test", []string{"helper@example.test"}, testMessage(t))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Send took %v", d)
	}
}

func TestNewSenderRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  email.SenderConfig
		want string
	}{
		{"clear text to a remote host", email.SenderConfig{Addr: "smtp.example.com:25", Security: "none"}, "loopback"},
		{"clear text to a remote address", email.SenderConfig{Addr: "192.0.2.1:25", Security: "none"}, "loopback"},
		{"unknown security", email.SenderConfig{Addr: "smtp.example.com:587", Security: "ssl"}, "unknown security"},
		{"no port", email.SenderConfig{Addr: "smtp.example.com"}, "host:port"},
		{"password without user", email.SenderConfig{Addr: "smtp.example.com:587", Password: "x"}, "no user name"},
		{"bad HELO", email.SenderConfig{Addr: "smtp.example.com:587", HeloName: "a b"}, "HELO"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := email.NewSender(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewSender = %v, want an error about %q", err, tc.want)
			}
		})
	}
	for _, addr := range []string{"127.0.0.1:25", "[::1]:25", "localhost:2525"} {
		if _, err := email.NewSender(email.SenderConfig{Addr: addr, Security: "none"}); err != nil {
			t.Errorf("NewSender(none, %s): %v", addr, err)
		}
	}
}

func TestSenderHidesPassword(t *testing.T) {
	cfg := email.SenderConfig{Addr: "smtp.example.com:587", Username: testUser, Password: testPassword}
	s, err := email.NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logged, nil))
	log.Info("config", "cfg", cfg, "sender", s)
	out := fmt.Sprintf("%v %+v %#v %s %v %+v", cfg, cfg, cfg, cfg, s, s) + logged.String()
	if strings.Contains(out, testPassword) {
		t.Errorf("password shown:\n%s", out)
	}
	if !strings.Contains(logged.String(), testUser) {
		t.Errorf("log lacks the user name:\n%s", logged.String())
	}
}
