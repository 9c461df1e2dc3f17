package email_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// memBackend is an in-memory SMTP backend for tests. Its zero value accepts
// every message without authentication.
type memBackend struct {
	User, Pass string          // when User is set, AUTH PLAIN is offered and required
	FailData   int             // the first FailData messages get 451 after DATA
	RejectRcpt map[string]bool // recipients refused with 550

	mu        sync.Mutex
	authTries []string // user names tried
	dataCalls int
	mails     []memMail
}

type memMail struct {
	From string
	To   []string
	Data []byte
	User string // authenticated user, if any
	TLS  bool
}

func (b *memBackend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &memSession{b: b, tls: isTLS}, nil
}

func (b *memBackend) Mails() []memMail {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]memMail(nil), b.mails...)
}

func (b *memBackend) AuthTries() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.authTries...)
}

type memSession struct {
	b    *memBackend
	tls  bool
	user string
	from string
	to   []string
}

var _ smtp.AuthSession = (*memSession)(nil)

func (s *memSession) AuthMechanisms() []string {
	if s.b.User == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *memSession) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, user, pass string) error {
		s.b.mu.Lock()
		s.b.authTries = append(s.b.authTries, user)
		s.b.mu.Unlock()
		if user != s.b.User || pass != s.b.Pass {
			return smtp.ErrAuthFailed
		}
		s.user = user
		return nil
	}), nil
}

func (s *memSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.b.User != "" && s.user == "" {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	}
	s.from = from
	return nil
}

func (s *memSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.b.RejectRcpt[to] {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user here"}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *memSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	s.b.dataCalls++
	if s.b.dataCalls <= s.b.FailData {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
	}
	s.b.mails = append(s.b.mails, memMail{From: s.from, To: s.to, Data: data, User: s.user, TLS: s.tls})
	return nil
}

func (s *memSession) Reset()        { s.from, s.to = "", nil }
func (s *memSession) Logout() error { return nil }

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// countingListener counts accepted connections.
type countingListener struct {
	net.Listener
	n atomic.Int32
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// testServer is a go-smtp server on 127.0.0.1 over a memBackend.
type testServer struct {
	Addr  string
	Wire  *syncBuffer // everything said in both directions
	conns *countingListener
}

func (s *testServer) Conns() int { return int(s.conns.n.Load()) }

// Server security modes for startServer.
const (
	serveClear    = "clear"    // no TLS at all
	serveStartTLS = "starttls" // STARTTLS offered
	serveTLS      = "tls"      // implicit TLS
)

// startServer serves be on 127.0.0.1:0 until the test ends; cert is used
// unless mode is serveClear.
func startServer(t *testing.T, be smtp.Backend, mode string, cert tls.Certificate) *testServer {
	t.Helper()
	srv := smtp.NewServer(be)
	srv.Domain = "mx.test"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.AllowInsecureAuth = mode == serveClear // so that AUTH is offered in clear and must be refused by the client
	srv.ErrorLog = discardLogger{}
	ts := &testServer{Wire: &syncBuffer{}}
	srv.Debug = ts.Wire
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	if mode == serveStartTLS {
		srv.TLSConfig = tlsCfg
	}
	var l net.Listener
	var err error
	if mode == serveTLS {
		l, err = tls.Listen("tcp", "127.0.0.1:0", tlsCfg)
	} else {
		l, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	ts.conns = &countingListener{Listener: l}
	ts.Addr = l.Addr().String()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ts.conns) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; err != nil && !errors.Is(err, net.ErrClosed) {
			t.Errorf("smtp server: %v", err)
		}
	})
	return ts
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}
func (discardLogger) Println(...any)        {}

// selfSigned returns a certificate for 127.0.0.1 and a client config that
// trusts only it.
func selfSigned(t *testing.T) (tls.Certificate, *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "gethelp test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, &tls.Config{RootCAs: pool}
}
