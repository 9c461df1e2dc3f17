package email_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/gethelp/gethelp/bot/email"
)

// replies collects what an Inbound hands to its Handler.
type replies struct {
	mu  sync.Mutex
	got []*email.Reply
	err error // returned by the handler
}

func (r *replies) handle(_ context.Context, rep *email.Reply) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.got = append(r.got, rep)
	return nil
}

func (r *replies) Got() []*email.Reply {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*email.Reply(nil), r.got...)
}

// startInbound serves in on 127.0.0.1:0 until the test ends and returns its
// address.
func startInbound(t *testing.T, in *email.Inbound) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- in.Serve(l) }()
	t.Cleanup(func() {
		in.Close()
		if err := <-done; !errors.Is(err, email.ErrServerClosed) {
			t.Errorf("Serve = %v, want ErrServerClosed", err)
		}
	})
	return l.Addr().String()
}

func clearSender(t *testing.T, addr string) *email.Sender {
	t.Helper()
	s, err := email.NewSender(email.SenderConfig{Addr: addr, Security: email.SecurityNone, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// helperReply is a Gmail-style reply with quoted history.
func helperReply(t *testing.T, to string) []byte {
	t.Helper()
	m := &email.Outgoing{
		From:       mail.Address{Name: "Zoë Helper", Address: "zoe@example.test"},
		To:         mail.Address{Name: "gethelp", Address: to},
		Subject:    "Re: Jörg asks for help",
		InReplyTo:  "invitation-42@gethelp.example",
		References: []string{"invitation-42@gethelp.example"},
		Text: "Thanks, restarting now.\n\n" +
			"On Tue, Mar 3, 2026 at 11:02 AM gethelp <" + to + "> wrote:\n\n" +
			"> Jörg asks for your help.\n> Open the attached invitation.\n",
		HTML: "<p>Thanks, restarting now.</p><blockquote>Jörg asks for your help.</blockquote>",
	}
	b, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestInboundDeliversReply(t *testing.T) {
	var got replies
	addr := startInbound(t, &email.Inbound{Domain: "example.test", Base: "bot", Handler: got.handle})
	s := clearSender(t, addr)
	to := "bot+abc12345@example.test"
	if err := s.Send(context.Background(), "zoe@example.test", []string{to}, helperReply(t, to)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	reps := got.Got()
	if len(reps) != 1 {
		t.Fatalf("handler called %d times, want once", len(reps))
	}
	r := reps[0]
	if r.Token != "abc12345" || r.Text != "Thanks, restarting now." || r.From.Address != "zoe@example.test" ||
		r.From.Name != "Zoë Helper" || r.InReplyTo != "invitation-42@gethelp.example" || r.Automatic {
		t.Errorf("reply = %+v", r)
	}
}

func TestInboundTokens(t *testing.T) {
	var got replies
	addr := startInbound(t, &email.Inbound{Domain: "Example.TEST", Base: "bot", Handler: got.handle})
	s := clearSender(t, addr)
	// Two tickets in one message, one of them twice and in capitals.
	to := []string{"bot+abc12345@example.test", "BOT+TOKEN0987654321@EXAMPLE.test", "bot+abc12345@example.test"}
	if err := s.Send(context.Background(), "zoe@example.test", to, helperReply(t, to[0])); err != nil {
		t.Fatalf("Send: %v", err)
	}
	var tokens []string
	for _, r := range got.Got() {
		tokens = append(tokens, r.Token)
	}
	if fmt.Sprint(tokens) != "[abc12345 token0987654321]" {
		t.Errorf("tokens = %q", tokens)
	}
}

func TestInboundRefusesUnknownRecipients(t *testing.T) {
	var got replies
	addr := startInbound(t, &email.Inbound{Domain: "example.test", Base: "bot", Handler: got.handle})
	s := clearSender(t, addr)
	for _, to := range []string{
		"bot+abc12345@other.test",                          // other domain
		"bot@example.test",                                 // no token
		"bot+abc1234@example.test",                         // token too short
		"bot+" + strings.Repeat("a", 65) + "@example.test", // token too long
		"bot+abc_12345@example.test",                       // not [a-z0-9]
		"other+abc12345@example.test",                      // wrong base
		"+abc12345@example.test",                           // no base
		"bot+abc12345+x@example.test",                      // extra part
		"postmaster@example.test",                          // just an address
	} {
		t.Run(to, func(t *testing.T) {
			err := s.Send(context.Background(), "zoe@example.test", []string{to}, helperReply(t, "bot+abc12345@example.test"))
			var pe *email.PermanentError
			if !errors.As(err, &pe) || pe.Code != 550 || !strings.HasPrefix(pe.Command, "RCPT") {
				t.Errorf("Send = %v, want 550 at RCPT", err)
			}
		})
	}
	if n := len(got.Got()); n != 0 {
		t.Errorf("handler called %d times", n)
	}
}

// logBuffer is a slog handler target that keeps lines.
type logBuffer struct{ syncBuffer }

func (b *logBuffer) Lines() []string {
	s := strings.TrimSpace(b.String())
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func TestInboundRefusesOversized(t *testing.T) {
	var got replies
	var logs logBuffer
	in := &email.Inbound{Domain: "example.test", MaxBytes: 4096, Handler: got.handle, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	addr := startInbound(t, in)
	to := "bot+abc12345@example.test"
	msg := helperReply(t, to)
	msg = append(msg, []byte(strings.Repeat("padding line\r\n", 500))...)

	// Through the Sender, which declares SIZE: refused at MAIL.
	err := clearSender(t, addr).Send(context.Background(), "zoe@example.test", []string{to}, msg)
	var pe *email.PermanentError
	if !errors.As(err, &pe) || pe.Code != 552 {
		t.Errorf("Send = %v, want 552", err)
	}

	// Through a client that does not declare the size: refused after DATA.
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.SendMail("zoe@example.test", []string{to}, strings.NewReader(string(msg)))
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 552 {
		t.Errorf("SendMail = %v, want 552", err)
	}
	// The connection still works.
	if err := c.SendMail("zoe@example.test", []string{to}, strings.NewReader(string(helperReply(t, to)))); err != nil {
		t.Errorf("next message on the same connection: %v", err)
	}
	c.Quit()

	if n := len(got.Got()); n != 1 {
		t.Errorf("handler called %d times, want once", n)
	}
	// The declared SIZE was refused before any content; the message that
	// was received and refused has its log line.
	if lines := logs.Lines(); len(lines) != 1 || !strings.Contains(lines[0], "too large") {
		t.Errorf("log lines = %q, want one about the size", lines)
	}
}

func TestInboundRefusesMalformedAndGoesOn(t *testing.T) {
	var got replies
	var logs logBuffer
	in := &email.Inbound{Domain: "example.test", Handler: got.handle, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	addr := startInbound(t, in)
	s := clearSender(t, addr)
	to := "bot+abc12345@example.test"
	broken, err := os.ReadFile(filepath.Join("testdata", "replies", "broken.eml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]byte{broken, []byte("Subject: no sender\r\n\r\nhi\r\n")} {
		err := s.Send(context.Background(), "zoe@example.test", []string{to}, bad)
		var pe *email.PermanentError
		if !errors.As(err, &pe) || pe.Code != 554 || !strings.Contains(pe.Message, "could not be read") {
			t.Errorf("Send(malformed) = %v, want 554", err)
		}
	}
	if err := s.Send(context.Background(), "zoe@example.test", []string{to}, helperReply(t, to)); err != nil {
		t.Fatalf("Send after malformed: %v", err)
	}
	if reps := got.Got(); len(reps) != 1 || reps[0].Text != "Thanks, restarting now." {
		t.Errorf("replies = %+v", reps)
	}
	lines := logs.Lines()
	if len(lines) != 2 {
		t.Errorf("log lines = %q, want one per refused message", lines)
	}
	for _, l := range lines {
		if strings.Contains(l, "abc12345") {
			t.Errorf("log shows the token: %s", l)
		}
	}
}

func TestInboundHandlerErrorDefers(t *testing.T) {
	got := replies{err: errors.New("store is down")}
	addr := startInbound(t, &email.Inbound{Domain: "example.test", Handler: got.handle})
	to := "bot+abc12345@example.test"
	err := clearSender(t, addr).Send(context.Background(), "zoe@example.test", []string{to}, helperReply(t, to))
	var pe *email.PermanentError
	if err == nil || errors.As(err, &pe) || !strings.Contains(err.Error(), "451") {
		t.Errorf("Send = %v, want a temporary 451", err)
	}
}

func TestInboundMarksBounces(t *testing.T) {
	var got replies
	addr := startInbound(t, &email.Inbound{Domain: "example.test", Handler: got.handle})
	to := "bot+abc12345@example.test"
	if err := clearSender(t, addr).Send(context.Background(), "", []string{to}, helperReply(t, to)); err != nil {
		t.Fatal(err)
	}
	if reps := got.Got(); len(reps) != 1 || !reps[0].Automatic {
		t.Errorf("replies = %+v, want one Automatic", reps)
	}
}

func TestInboundStartTLS(t *testing.T) {
	cert, clientTLS := selfSigned(t)
	var got replies
	addr := startInbound(t, &email.Inbound{
		Domain: "example.test", Handler: got.handle,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}},
	})
	s, err := email.NewSender(email.SenderConfig{Addr: addr, TLSConfig: clientTLS, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	to := "bot+abc12345@example.test"
	if err := s.Send(context.Background(), "zoe@example.test", []string{to}, helperReply(t, to)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if n := len(got.Got()); n != 1 {
		t.Errorf("handler called %d times", n)
	}
}

func TestInboundShutdownClosesIdleConnections(t *testing.T) {
	var got replies
	in := &email.Inbound{Domain: "example.test", Handler: got.handle}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- in.Serve(l) }()

	// An idle client: greeted, said EHLO, then nothing.
	c, err := smtp.Dial(l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("idle.test"); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := in.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-done; !errors.Is(err, email.ErrServerClosed) || !errors.Is(err, net.ErrClosed) {
		t.Errorf("Serve = %v, want ErrServerClosed", err)
	}
	if err := c.Noop(); err == nil {
		t.Error("idle connection still open after Shutdown")
	}
	if err := in.Serve(l); !errors.Is(err, email.ErrServerClosed) {
		t.Errorf("Serve after Shutdown = %v", err)
	}
	in.Close()
}

func TestInboundCloseCancelsHandlers(t *testing.T) {
	entered := make(chan struct{})
	in := &email.Inbound{Domain: "example.test", Handler: func(ctx context.Context, _ *email.Reply) error {
		close(entered)
		<-ctx.Done()
		return ctx.Err()
	}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- in.Serve(l) }()
	sent := make(chan error, 1)
	to := "bot+abc12345@example.test"
	s, msg := clearSender(t, l.Addr().String()), helperReply(t, to)
	go func() {
		sent <- s.Send(context.Background(), "zoe@example.test", []string{to}, msg)
	}()
	<-entered
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-sent; err == nil {
		t.Error("Send succeeded although the handler was cancelled")
	}
	if err := <-done; !errors.Is(err, email.ErrServerClosed) {
		t.Errorf("Serve = %v", err)
	}
}

func TestInboundNeedsConfiguration(t *testing.T) {
	for _, in := range []*email.Inbound{
		{Handler: func(context.Context, *email.Reply) error { return nil }},
		{Domain: "example.test"},
	} {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		if err := in.Serve(l); err == nil || errors.Is(err, email.ErrServerClosed) {
			t.Errorf("Serve = %v, want a configuration error", err)
		}
	}
}
