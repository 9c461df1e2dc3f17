package email

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Security modes of a [SenderConfig].
const (
	SecurityStartTLS = "starttls" // plain TCP upgraded with STARTTLS, which is required (port 587)
	SecurityTLS      = "tls"      // TLS from the first byte (port 465)
	SecurityNone     = "none"     // clear text, to a loopback address only (tests)
)

// Defaults of a [SenderConfig].
const (
	DefaultRetries    = 5
	DefaultBackoff    = 2 * time.Second
	DefaultMaxBackoff = time.Minute
	DefaultTimeout    = 5 * time.Minute
)

var (
	// ErrStartTLSUnsupported is returned by Send when Security is
	// "starttls" and the server does not offer STARTTLS. Nothing, not even
	// the credentials, has been sent. It is not retried.
	ErrStartTLSUnsupported = errors.New("email: server does not offer STARTTLS")
	// ErrAuthUnsupported is returned by Send when a Username is set and the
	// server does not offer AUTH PLAIN. It is not retried.
	ErrAuthUnsupported = errors.New("email: server does not offer AUTH PLAIN")
)

// SenderConfig configures a [Sender]. Only Addr is required.
type SenderConfig struct {
	// Addr is the submission server's host:port.
	Addr string
	// Security is SecurityStartTLS (default when empty), SecurityTLS or
	// SecurityNone.
	Security string
	// Username and Password are sent with AUTH PLAIN, over TLS, when
	// Username is not empty.
	Username, Password string
	// TLSConfig is used for the TLS connection, never modified; nil means
	// the system roots. An empty ServerName is taken from Addr.
	TLSConfig *tls.Config
	// HeloName is the name this client gives in EHLO; empty means
	// "localhost". Set it to the bot's host name where the server checks.
	HeloName string
	// Retries is how many times a temporary failure (a 4xx reply, a network
	// error, a timeout) is retried: 0 means DefaultRetries, a negative
	// number none.
	Retries int
	// Backoff is the wait before the first retry, doubling for each next
	// one up to MaxBackoff; zero values mean DefaultBackoff and
	// DefaultMaxBackoff.
	Backoff, MaxBackoff time.Duration
	// Timeout bounds one attempt, from dialling to the reply after DATA;
	// zero means DefaultTimeout.
	Timeout time.Duration
	// Sleep waits d or until ctx is done, returning ctx's error then; nil
	// means a real timer. Tests inject one that records and returns.
	Sleep func(ctx context.Context, d time.Duration) error
	// Logger receives one line per retry; nil means no logging.
	Logger *slog.Logger
}

// String describes the configuration without its password.
func (c SenderConfig) String() string {
	return fmt.Sprintf("email.SenderConfig{Addr:%q Security:%q Username:%q Password:%s}",
		c.Addr, c.Security, c.Username, redactedMark(c.Password))
}

// GoString is String, so that %#v does not print the password either.
func (c SenderConfig) GoString() string { return c.String() }

// LogValue describes the configuration for slog without its password.
func (c SenderConfig) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("addr", c.Addr),
		slog.String("security", c.Security),
		slog.String("username", c.Username),
		slog.String("password", redactedMark(c.Password)),
	)
}

func redactedMark(p string) string {
	if p == "" {
		return `""`
	}
	return "REDACTED"
}

// A Sender submits messages to one SMTP server. It holds no connection
// between calls and is safe for concurrent use.
type Sender struct {
	cfg       SenderConfig // defaults filled in
	host      string
	tlsConfig *tls.Config // never nil when cfg.Security != SecurityNone; never modified
	log       *slog.Logger
	password  string   // cfg.Password, which is cleared
	secrets   []string // what redact removes from server texts
}

// String names the Sender's server; it never shows the password.
func (s *Sender) String() string { return "email.Sender(" + s.cfg.Addr + ")" }

// LogValue describes the Sender for slog without its password.
func (s *Sender) LogValue() slog.Value {
	cfg := s.cfg
	cfg.Password = s.password // LogValue shows only whether there is one
	return cfg.LogValue()
}

// NewSender checks cfg, fills in its defaults and returns a Sender. It
// returns an error when Addr is not host:port, Security is unknown, Security
// is "none" and Addr is not a loopback address, a Password is set without a
// Username, or HeloName is not a single word.
func NewSender(cfg SenderConfig) (*Sender, error) {
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil || host == "" || port == "" {
		return nil, fmt.Errorf("email: sender address %q is not host:port", cfg.Addr)
	}
	cfg.Security = strings.ToLower(cfg.Security)
	switch cfg.Security {
	case "":
		cfg.Security = SecurityStartTLS
	case SecurityStartTLS, SecurityTLS:
	case SecurityNone:
		if !isLoopback(host) {
			return nil, fmt.Errorf("email: security %q sends mail and passwords in clear text and is allowed "+
				"only to a loopback address, not %q; use %q or %q", SecurityNone, host, SecurityStartTLS, SecurityTLS)
		}
	default:
		return nil, fmt.Errorf("email: unknown security %q (want %q, %q or %q)",
			cfg.Security, SecurityStartTLS, SecurityTLS, SecurityNone)
	}
	if cfg.Username == "" && cfg.Password != "" {
		return nil, errors.New("email: sender has a password but no user name")
	}
	if cfg.HeloName == "" {
		cfg.HeloName = "localhost"
	}
	if strings.ContainsFunc(cfg.HeloName, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
		return nil, fmt.Errorf("email: bad HELO name %q", cfg.HeloName)
	}
	switch {
	case cfg.Retries == 0:
		cfg.Retries = DefaultRetries
	case cfg.Retries < 0:
		cfg.Retries = 0
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	s := &Sender{host: host, log: cfg.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("component", "email-sender", "server", cfg.Addr)
	if cfg.Security != SecurityNone {
		if cfg.TLSConfig != nil {
			s.tlsConfig = cfg.TLSConfig.Clone()
		} else {
			s.tlsConfig = &tls.Config{}
		}
		if s.tlsConfig.ServerName == "" {
			s.tlsConfig.ServerName = host
		}
		if s.tlsConfig.MinVersion == 0 {
			s.tlsConfig.MinVersion = tls.VersionTLS12
		}
	}
	s.cfg = cfg
	if p := cfg.Password; p != "" {
		s.secrets = []string{
			base64.StdEncoding.EncodeToString([]byte("\x00" + cfg.Username + "\x00" + p)),
			base64.StdEncoding.EncodeToString([]byte(p)),
			p,
		}
	}
	s.password, s.cfg.Password = cfg.Password, ""
	return s, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// A PermanentError is a 5xx reply: the server refused and asking again will
// not help. Send returns it at once, without retrying.
type PermanentError struct {
	// Command is what the server refused: "greeting", "EHLO", "STARTTLS",
	// "AUTH", "MAIL FROM", "RCPT TO:<address>" or "DATA".
	Command string
	// Code is the reply code, such as 550.
	Code int
	// EnhancedCode is the RFC 3463 status, such as {5, 1, 1}; zero when the
	// server gave none.
	EnhancedCode [3]int
	// Message is the server's text, with any password removed.
	Message string
}

func (e *PermanentError) Error() string {
	return "email: server refused " + e.Command + ": " + replyText(e.Code, e.EnhancedCode, e.Message)
}

// A replyError is a 4xx (or otherwise unexpected, non-5xx) reply.
type replyError struct {
	command  string
	code     int
	enhanced [3]int
	message  string
}

func (e *replyError) Error() string {
	return "email: server answered " + e.command + " with " + replyText(e.code, e.enhanced, e.message)
}

// Temporary reports that the failure may pass.
func (e *replyError) Temporary() bool { return true }

func replyText(code int, enh [3]int, msg string) string {
	s := strconv.Itoa(code)
	if enh != [3]int{} {
		s += fmt.Sprintf(" %d.%d.%d", enh[0], enh[1], enh[2])
	}
	if msg != "" {
		s += " " + msg
	}
	return s
}

// redact removes the password, in clear and base64, from a server's text.
func (s *Sender) redact(msg string) string {
	for _, p := range s.secrets {
		msg = strings.ReplaceAll(msg, p, "[REDACTED]")
	}
	return oneLine(msg)
}

// reply turns an SMTP failure of command into a *PermanentError (5xx) or a
// *replyError, and wraps any other error with the command.
func (s *Sender) reply(command string, err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return s.replyCode(command, se.Code, [3]int(se.EnhancedCode), se.Message)
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		code, enh, msg := splitEnhanced(te.Code, te.Msg)
		return s.replyCode(command, code, enh, msg)
	}
	return fmt.Errorf("email: %s: %w", command, err)
}

func (s *Sender) replyCode(command string, code int, enh [3]int, msg string) error {
	if enh[0] < 0 { // smtp.NoEnhancedCode
		enh = [3]int{}
	}
	msg = s.redact(msg)
	if code >= 500 && code < 600 {
		return &PermanentError{Command: command, Code: code, EnhancedCode: enh, Message: msg}
	}
	return &replyError{command: command, code: code, enhanced: enh, message: msg}
}

// splitEnhanced separates an RFC 3463 status from the start of a reply text.
func splitEnhanced(code int, msg string) (int, [3]int, string) {
	var enh [3]int
	first, rest, _ := strings.Cut(msg, " ")
	parts := strings.Split(first, ".")
	if len(parts) != 3 {
		return code, enh, msg
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil {
			return code, [3]int{}, msg
		}
		enh[i] = n
	}
	return code, enh, rest
}

// Send submits msg (an RFC 5322 message such as [Outgoing.Bytes] returns)
// from the envelope sender from to the envelope recipients to. It returns
// nil once the server has accepted the message. A 5xx reply returns a
// [*PermanentError] at once. Temporary failures are retried (see
// SenderConfig); when retries run out Send returns the last one, wrapped.
// It also returns ErrStartTLSUnsupported, ErrAuthUnsupported, certificate
// errors, other refusals that retrying cannot cure (a non-ASCII address
// without SMTPUTF8) and ctx's error without retrying. The password appears
// in none of these.
func (s *Sender) Send(ctx context.Context, from string, to []string, msg []byte) error {
	if len(to) == 0 {
		return errors.New("email: no recipients")
	}
	for _, a := range append([]string{from}, to...) {
		if strings.ContainsAny(a, "\r\n<> \t") {
			return fmt.Errorf("email: bad envelope address %q", a)
		}
	}
	for _, a := range to {
		if a == "" {
			return errors.New("email: empty recipient address")
		}
	}
	backoff := s.cfg.Backoff
	for attempt := 0; ; attempt++ {
		err := s.attempt(ctx, from, to, msg)
		if err == nil {
			s.log.Debug("message sent", "recipients", len(to), "bytes", len(msg), "attempts", attempt+1)
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("email: sending via %s: %w", s.cfg.Addr, ctx.Err())
		}
		if !retryable(err) {
			return err
		}
		if attempt >= s.cfg.Retries {
			return fmt.Errorf("%w (gave up after %d attempts)", err, attempt+1)
		}
		s.log.Warn("sending failed; will retry", "attempt", attempt+1, "backoff", backoff, "err", err)
		if serr := s.cfg.Sleep(ctx, backoff); serr != nil {
			return fmt.Errorf("email: sending via %s: %w (last failure: %v)", s.cfg.Addr, serr, err)
		}
		backoff = min(2*backoff, s.cfg.MaxBackoff)
	}
}

// retryable reports whether err may pass on a later attempt: a 4xx reply or
// a network failure, not a 5xx reply, a policy refusal or a TLS certificate
// or protocol problem.
func retryable(err error) bool {
	var pe *PermanentError
	var re *replyError
	var cve *tls.CertificateVerificationError
	var uae x509.UnknownAuthorityError
	var he x509.HostnameError
	var ce x509.CertificateInvalidError
	var rhe tls.RecordHeaderError
	var ae tls.AlertError
	switch {
	case errors.As(err, &re):
		return true
	case errors.As(err, &pe),
		errors.Is(err, ErrStartTLSUnsupported),
		errors.Is(err, ErrAuthUnsupported),
		errors.Is(err, errPipelinedTLS), errors.Is(err, errUTF8Unsupported),
		errors.As(err, &cve), errors.As(err, &uae), errors.As(err, &he), errors.As(err, &ce),
		errors.As(err, &rhe), errors.As(err, &ae):
		return false
	}
	return true
}

var (
	errPipelinedTLS    = errors.New("email: server sent data after its STARTTLS reply; refusing the connection")
	errUTF8Unsupported = errors.New("email: an envelope address is not ASCII and the server does not offer SMTPUTF8")
)

// attempt makes one delivery: connect, secure, authenticate, send.
func (s *Sender) attempt(ctx context.Context, from string, to []string, msg []byte) (err error) {
	actx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	defer func() {
		if err != nil && ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("email: no answer from %s within %v: %w", s.cfg.Addr, s.cfg.Timeout, err)
		}
	}()

	var conn net.Conn
	dialer := &net.Dialer{}
	if s.cfg.Security == SecurityTLS {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: s.tlsConfig}).DialContext(actx, "tcp", s.cfg.Addr)
	} else {
		conn, err = dialer.DialContext(actx, "tcp", s.cfg.Addr)
	}
	if err != nil {
		return fmt.Errorf("email: connecting to %s: %w", s.cfg.Addr, err)
	}
	raw := conn
	defer raw.Close()
	stop := context.AfterFunc(actx, func() { raw.Close() })
	defer stop()

	if s.cfg.Security == SecurityStartTLS {
		conn, err = s.startTLS(actx, conn)
		if err != nil {
			return err
		}
	}

	c := smtp.NewClient(conn)
	c.CommandTimeout = s.cfg.Timeout
	c.SubmissionTimeout = s.cfg.Timeout
	defer c.Close()
	if err := c.Hello(s.cfg.HeloName); err != nil {
		return s.reply("EHLO", err)
	}
	if s.cfg.Username != "" {
		if !c.SupportsAuth(sasl.Plain) {
			return ErrAuthUnsupported
		}
		if err := c.Auth(sasl.NewPlainClient("", s.cfg.Username, s.password)); err != nil {
			return s.reply("AUTH", err)
		}
	}
	opts := &smtp.MailOptions{Size: int64(len(msg))}
	if !isASCII(from) || !allASCII(to) {
		if ok, _ := c.Extension("SMTPUTF8"); !ok {
			return errUTF8Unsupported
		}
		opts.UTF8 = true
	}
	if err := c.Mail(from, opts); err != nil {
		return s.reply("MAIL FROM", err)
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt, nil); err != nil {
			return s.reply("RCPT TO:<"+rcpt+">", err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return s.reply("DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		w.Close()
		return s.reply("DATA", err)
	}
	if err := w.Close(); err != nil {
		return s.reply("DATA", err)
	}
	// Accepted: whatever QUIT does now, the message must not be sent again.
	_ = c.Quit()
	return nil
}

// startTLS reads the greeting, says EHLO, checks that STARTTLS is offered,
// upgrades conn and returns the TLS connection, on which the next read
// replays a greeting so that an smtp.Client can start afresh (RFC 3207: after
// TLS the client forgets what it knew and says EHLO again).
func (s *Sender) startTLS(ctx context.Context, conn net.Conn) (net.Conn, error) {
	br := bufio.NewReader(conn)
	tp := textproto.NewReader(br)
	conn.SetDeadline(time.Now().Add(s.cfg.Timeout))
	defer conn.SetDeadline(time.Time{})

	if _, _, err := tp.ReadResponse(220); err != nil {
		return nil, s.reply("greeting", err)
	}
	if _, err := fmt.Fprintf(conn, "EHLO %s\r\n", s.cfg.HeloName); err != nil {
		return nil, fmt.Errorf("email: EHLO: %w", err)
	}
	_, ext, err := tp.ReadResponse(250)
	if err != nil {
		return nil, s.reply("EHLO", err)
	}
	offered := false
	for _, line := range strings.Split(ext, "\n")[1:] {
		if f := strings.Fields(line); len(f) > 0 && strings.EqualFold(f[0], "STARTTLS") {
			offered = true
		}
	}
	if !offered {
		io.WriteString(conn, "QUIT\r\n") // best effort; the refusal stands either way
		return nil, fmt.Errorf("%w; refusing to send credentials or mail in clear text "+
			"(use security %q for a server with implicit TLS)", ErrStartTLSUnsupported, SecurityTLS)
	}
	if _, err := io.WriteString(conn, "STARTTLS\r\n"); err != nil {
		return nil, fmt.Errorf("email: STARTTLS: %w", err)
	}
	if _, _, err := tp.ReadResponse(220); err != nil {
		return nil, s.reply("STARTTLS", err)
	}
	if br.Buffered() > 0 {
		return nil, errPipelinedTLS
	}
	tc := tls.Client(conn, s.tlsConfig)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, fmt.Errorf("email: TLS handshake with %s: %w", s.cfg.Addr, err)
	}
	return &replayConn{Conn: tc, pending: []byte("220 " + s.host + " ESMTP ready after STARTTLS\r\n")}, nil
}

// replayConn returns pending before reading from Conn.
type replayConn struct {
	net.Conn
	pending []byte
}

func (c *replayConn) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func allASCII(ss []string) bool {
	for _, s := range ss {
		if !isASCII(s) {
			return false
		}
	}
	return true
}
