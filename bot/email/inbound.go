package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"
)

// Defaults of an [Inbound].
const (
	DefaultMaxRecipients = 10
	DefaultReadTimeout   = 5 * time.Minute
	DefaultWriteTimeout  = time.Minute
)

// ErrServerClosed is returned by Inbound.Serve after Shutdown or Close. It
// wraps net.ErrClosed.
var ErrServerClosed = fmt.Errorf("email: inbound server closed: %w", net.ErrClosed)

// Inbound receives replies over SMTP for one domain. Set its fields, then
// call Serve; the fields must not change after that. Its zero value with a
// Domain and a Handler is ready to serve.
type Inbound struct {
	// Domain is the reply domain; only recipients in it are accepted
	// (compared case-insensitively). Required.
	Domain string
	// Base is the local part before '+' (as in base+token@Domain),
	// compared case-insensitively; empty accepts any non-empty base.
	Base string
	// MaxBytes limits a message's size; zero means DefaultMaxBytes.
	MaxBytes int64
	// MaxRecipients limits the recipients of one message; zero means
	// DefaultMaxRecipients.
	MaxRecipients int
	// TLSConfig, when set, makes the server offer STARTTLS. It is not
	// modified.
	TLSConfig *tls.Config
	// Handler is called for each accepted message, once per token, with a
	// context that Close cancels and a Reply of its own to keep. It may be
	// called from several connections at once. When it returns an error the
	// sending server is told to try again later (451), so the same message
	// may come again. Required.
	Handler func(ctx context.Context, r *Reply) error
	// Logger receives one line per rejected message; nil means no logging.
	// Tokens never reach it.
	Logger *slog.Logger
	// ReadTimeout and WriteTimeout bound each read of a command or a
	// message and each write of a reply; zero means DefaultReadTimeout and
	// DefaultWriteTimeout.
	ReadTimeout, WriteTimeout time.Duration

	mu        sync.Mutex
	srv       *smtp.Server                   // guarded by mu; made by the first Serve
	log       *slog.Logger                   // set with srv
	ctx       context.Context                // handlers' context; set with srv
	cancel    context.CancelFunc             // cancels ctx
	closing   bool                           // guarded by mu; set by Shutdown and Close
	listeners map[*trackingListener]struct{} // guarded by mu
	conns     map[*trackedConn]struct{}      // guarded by mu; open connections
	connWG    sync.WaitGroup                 // one per connection in conns, until closed
}

// Serve accepts connections on l and serves them until Shutdown or Close,
// then returns ErrServerClosed. It closes l when it returns. It returns an
// error at once when Domain or Handler is missing, or another error from l.
func (in *Inbound) Serve(l net.Listener) error {
	srv, err := in.start()
	if err != nil {
		l.Close()
		return err
	}
	tl := &trackingListener{Listener: l, in: in}
	in.mu.Lock()
	if in.closing {
		in.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	in.listeners[tl] = struct{}{}
	in.mu.Unlock()

	err = srv.Serve(tl)
	l.Close()

	in.mu.Lock()
	delete(in.listeners, tl)
	closing := in.closing
	in.mu.Unlock()
	if closing {
		return ErrServerClosed
	}
	return fmt.Errorf("email: serving: %w", err)
}

// start checks the configuration and makes the server on the first call.
func (in *Inbound) start() (*smtp.Server, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closing {
		return nil, ErrServerClosed
	}
	if in.srv != nil {
		return in.srv, nil
	}
	if in.Domain == "" || strings.ContainsAny(in.Domain, "@ \t\r\n") {
		return nil, fmt.Errorf("email: inbound server needs a Domain, not %q", in.Domain)
	}
	if in.Handler == nil {
		return nil, errors.New("email: inbound server needs a Handler")
	}
	in.log = in.Logger
	if in.log == nil {
		in.log = slog.New(slog.DiscardHandler)
	}
	in.log = in.log.With("component", "email-inbound")
	in.ctx, in.cancel = context.WithCancel(context.Background())
	in.listeners = make(map[*trackingListener]struct{})
	in.conns = make(map[*trackedConn]struct{})

	srv := smtp.NewServer(backend{in})
	srv.Domain = in.Domain
	// One byte over the limit, so that the smtp.Server lets a message of
	// exactly MaxBytes through and a larger one reaches ParseReply's own
	// check, which logs it. A declared SIZE over this is refused by the
	// smtp.Server at MAIL, before any content, without a log line.
	srv.MaxMessageBytes = in.maxBytes() + 1
	srv.MaxRecipients = in.MaxRecipients
	if srv.MaxRecipients <= 0 {
		srv.MaxRecipients = DefaultMaxRecipients
	}
	srv.TLSConfig = in.TLSConfig
	srv.ReadTimeout = in.ReadTimeout
	if srv.ReadTimeout <= 0 {
		srv.ReadTimeout = DefaultReadTimeout
	}
	srv.WriteTimeout = in.WriteTimeout
	if srv.WriteTimeout <= 0 {
		srv.WriteTimeout = DefaultWriteTimeout
	}
	srv.ErrorLog = slogPrinter{in.log}
	in.srv = srv
	return srv, nil
}

func (in *Inbound) maxBytes() int64 {
	if in.MaxBytes > 0 {
		return in.MaxBytes
	}
	return DefaultMaxBytes
}

func (in *Inbound) isClosing() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.closing
}

// Shutdown stops accepting connections, closes the idle ones (and each busy
// one when its message is done) and waits for all of them to end and their
// handlers to return. If ctx is done first it returns ctx's error; Close
// then ends what remains.
func (in *Inbound) Shutdown(ctx context.Context) error {
	in.mu.Lock()
	in.closing = true
	ls := mapKeys(in.listeners)
	conns := mapKeys(in.conns)
	in.mu.Unlock()
	for _, l := range ls {
		l.Close()
	}
	for _, c := range conns {
		if !c.busy.Load() {
			c.Conn.Close()
		}
	}
	done := make(chan struct{})
	go func() {
		in.connWG.Wait()
		close(done)
	}()
	select {
	case <-done:
		in.finish()
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops the server at once: listeners and connections are closed,
// handlers' context cancelled. It returns when every connection has ended,
// which needs handlers to return when their context is cancelled.
func (in *Inbound) Close() error {
	in.mu.Lock()
	in.closing = true
	ls := mapKeys(in.listeners)
	conns := mapKeys(in.conns)
	cancel := in.cancel
	in.mu.Unlock()
	for _, l := range ls {
		l.Close()
	}
	if cancel != nil {
		cancel()
	}
	for _, c := range conns {
		c.Conn.Close()
	}
	in.connWG.Wait()
	in.finish()
	return nil
}

// finish releases the smtp.Server and the handlers' context once every
// connection has ended.
func (in *Inbound) finish() {
	in.mu.Lock()
	srv, cancel := in.srv, in.cancel
	in.mu.Unlock()
	if srv != nil {
		srv.Close() // its listeners are closed and it has no connections left
	}
	if cancel != nil {
		cancel()
	}
}

func mapKeys[K comparable, V any](m map[K]V) []K {
	ks := make([]K, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// trackingListener registers every connection it accepts with its Inbound.
type trackingListener struct {
	net.Listener
	in *Inbound
}

func (l *trackingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.in.mu.Lock()
		if l.in.closing {
			l.in.mu.Unlock()
			c.Close()
			continue // the listener is closed too; the next Accept fails
		}
		tc := &trackedConn{Conn: c, in: l.in}
		l.in.conns[tc] = struct{}{}
		l.in.connWG.Add(1)
		l.in.mu.Unlock()
		return tc, nil
	}
}

// trackedConn is a connection the Inbound can close and wait for.
type trackedConn struct {
	net.Conn
	in   *Inbound
	once sync.Once
	busy atomic.Bool // between MAIL and the end of the transaction
}

// Close closes the connection and, the first time, marks it ended. The
// smtp.Server calls it when it is done with the connection.
func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.in.mu.Lock()
		delete(c.in.conns, c)
		c.in.mu.Unlock()
		c.in.connWG.Done()
	})
	return err
}

// slogPrinter gives the smtp.Server's internal errors to slog.
type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Printf(format string, v ...any) {
	p.log.Warn("smtp server: " + strings.TrimSpace(fmt.Sprintf(format, v...)))
}

func (p slogPrinter) Println(v ...any) {
	p.log.Warn("smtp server: " + strings.TrimSpace(fmt.Sprintln(v...)))
}

// backend makes a session per SMTP connection (after EHLO).
type backend struct{ in *Inbound }

var _ smtp.Backend = backend{}

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	nc := c.Conn()
	if t, ok := nc.(*tls.Conn); ok {
		nc = t.NetConn()
	}
	tc, _ := nc.(*trackedConn)
	remote := ""
	if a := c.Conn().RemoteAddr(); a != nil {
		remote = a.String()
	}
	return &session{in: b.in, conn: tc, log: b.in.log.With("remote", remote)}, nil
}

// session is one SMTP connection's state.
type session struct {
	in     *Inbound
	conn   *trackedConn // nil only if the smtp.Server wraps connections
	log    *slog.Logger
	sender string   // envelope sender of the current message
	tokens []string // accepted tokens of the current message, distinct
}

var _ smtp.Session = (*session)(nil)

// SMTP replies of an Inbound.
var (
	errShuttingDown = replyErr(421, 4, 3, 2, "Shutting down, try again later")
	errNoSuchTicket = replyErr(550, 5, 1, 1, "No such ticket address here")
	errTryLater     = replyErr(451, 4, 3, 0, "Could not take the message now, try again later")
)

func replyErr(code, class, subject, detail int, msg string) *smtp.SMTPError {
	return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{class, subject, detail}, Message: msg}
}

func (s *session) Mail(from string, opts *smtp.MailOptions) error {
	if s.in.isClosing() {
		return errShuttingDown
	}
	if opts != nil && opts.Size > s.in.maxBytes() {
		s.log.Info("message refused: too large", "sender", from, "declared_size", opts.Size, "limit", s.in.maxBytes())
		return s.tooLarge()
	}
	if s.conn != nil {
		s.conn.busy.Store(true)
	}
	s.sender = from
	s.tokens = nil
	return nil
}

func (s *session) tooLarge() error {
	return replyErr(552, 5, 3, 4, fmt.Sprintf("Message larger than %d bytes", s.in.maxBytes()))
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	tok, ok := s.in.token(to)
	if !ok {
		s.log.Debug("recipient refused", "sender", s.sender)
		return errNoSuchTicket
	}
	for _, t := range s.tokens {
		if t == tok {
			return nil
		}
	}
	s.tokens = append(s.tokens, tok)
	return nil
}

func (s *session) Data(r io.Reader) error {
	rep, err := ParseReply(r, s.in.maxBytes())
	var se *smtp.SMTPError
	switch {
	case err == nil:
	case errors.Is(err, ErrTooLarge), errors.As(err, &se) && se.Code == 552:
		s.log.Info("message refused: too large", "sender", s.sender, "limit", s.in.maxBytes())
		return s.tooLarge()
	case errors.Is(err, ErrMalformed):
		s.log.Info("message refused: unreadable", "sender", s.sender, "err", err)
		return replyErr(554, 5, 6, 0, "Message could not be read: "+asciiOnly(strings.TrimPrefix(err.Error(), "email: ")))
	default:
		s.log.Info("message refused: reading failed", "sender", s.sender, "err", err)
		if errors.As(err, &se) {
			return se
		}
		return errTryLater
	}
	if s.sender == "" {
		rep.Automatic = true // a bounce
	}
	for _, tok := range s.tokens {
		r := *rep
		r.References = append([]string(nil), rep.References...)
		r.Token = tok
		if err := s.in.Handler(s.in.ctx, &r); err != nil {
			s.log.Warn("message deferred: handler failed", "sender", s.sender, "message_id", rep.MessageID, "err", err)
			return errTryLater
		}
	}
	return nil
}

func (s *session) Reset() {
	s.sender = ""
	s.tokens = nil
	if s.conn != nil {
		s.conn.busy.Store(false)
		if s.in.isClosing() {
			s.conn.Conn.Close() // draining: the reply has been written
		}
	}
}

func (s *session) Logout() error { return nil }

// token returns the ticket token of a recipient address, lower-cased, and
// whether the address is one of ours.
func (in *Inbound) token(rcpt string) (string, bool) {
	at := strings.LastIndexByte(rcpt, '@')
	if at < 0 || !strings.EqualFold(rcpt[at+1:], in.Domain) {
		return "", false
	}
	base, tok, ok := strings.Cut(rcpt[:at], "+")
	if !ok || base == "" || in.Base != "" && !strings.EqualFold(base, in.Base) {
		return "", false
	}
	tok = strings.ToLower(tok)
	if len(tok) < 8 || len(tok) > 64 {
		return "", false
	}
	for i := 0; i < len(tok); i++ {
		if c := tok[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return "", false
		}
	}
	return tok, true
}

// asciiOnly replaces what is not printable ASCII, which an SMTP reply may not
// carry.
func asciiOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r > '~' {
			return '?'
		}
		return r
	}, s)
}
