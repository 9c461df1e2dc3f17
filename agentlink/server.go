package agentlink

import (
	"context"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"

	"github.com/quic-go/quic-go"
)

// ServerConfig configures Listen.
type ServerConfig struct {
	// Addr is the UDP address to listen on, e.g. ":4433" or "127.0.0.1:0".
	Addr string
	// Certificate is the bot's long-lived certificate (LoadOrCreateKey);
	// agents pin its key. It must be set.
	Certificate tls.Certificate
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
}

// ErrServerClosed is wrapped by Accept's error once the server is closed.
// It unwraps to net.ErrClosed.
var ErrServerClosed = fmt.Errorf("agentlink: server closed: %w", net.ErrClosed)

// Server accepts agents on one UDP socket: the bot's side of the link.
type Server struct {
	udp    *net.UDPConn
	tr     *quic.Transport
	ql     *quic.Listener
	logger *slog.Logger

	conns  chan *Conn
	ctx    context.Context // ends with Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // acceptLoop and handshakes

	mu   sync.Mutex
	live map[*Conn]struct{} // guarded by mu: accepted and not yet ended
}

// Listen opens the UDP socket and starts accepting agents. Only agents
// that present a single self-signed Ed25519 client certificate complete
// the TLS handshake; Accept returns a connection once its hello has
// arrived. The server never sends anything on a connection before that.
// Errors: a bad address, a socket that cannot be opened, or a missing
// certificate.
func Listen(cfg ServerConfig) (*Server, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("component", "agentlink")
	if len(cfg.Certificate.Certificate) == 0 || cfg.Certificate.PrivateKey == nil {
		return nil, errors.New("agentlink: the server needs its certificate and key")
	}
	ua, err := net.ResolveUDPAddr("udp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("agentlink: listen address %q: %w", cfg.Addr, err)
	}
	udp, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, fmt.Errorf("agentlink: listening on %s: %w", cfg.Addr, err)
	}
	// The stateless reset key comes from the bot's own long-lived key, so a
	// bot restarted on the same address (after a crash, kill -9 included)
	// answers an agent's packets for the dead connection with a stateless
	// reset: the agent learns at its next packet (a keep-alive at most) that
	// the connection is gone and reconnects, instead of writing into it
	// until the idle timeout.
	resetKey, err := statelessResetKey(cfg.Certificate)
	if err != nil {
		udp.Close()
		return nil, err
	}
	tr := &quic.Transport{Conn: udp, StatelessResetKey: resetKey}
	tlsConf := &tls.Config{
		Certificates:     []tls.Certificate{cfg.Certificate},
		NextProtos:       []string{ALPN},
		MinVersion:       tls.VersionTLS13,
		ClientAuth:       tls.RequireAnyClientCert,
		VerifyConnection: verifyAgent,
	}
	ql, err := tr.Listen(tlsConf, quicConfig(true))
	if err != nil {
		tr.Close()
		udp.Close()
		return nil, fmt.Errorf("agentlink: starting QUIC: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		udp: udp, tr: tr, ql: ql, logger: logger,
		conns: make(chan *Conn), ctx: ctx, cancel: cancel,
		live: make(map[*Conn]struct{}),
	}
	s.wg.Add(1)
	go s.acceptLoop()
	return s, nil
}

// statelessResetKey derives the transport's stateless reset key from the
// certificate's private key (HKDF-SHA256, a label of its own), so it stays
// the same across restarts and reveals nothing of the key.
func statelessResetKey(cert tls.Certificate) (*quic.StatelessResetKey, error) {
	priv, ok := cert.PrivateKey.(ed25519.PrivateKey)
	if !ok {
		return nil, errors.New("agentlink: the server's key is not Ed25519")
	}
	k, err := hkdf.Key(sha256.New, priv.Seed(), nil, "gethelp agentlink stateless reset v1", 32)
	if err != nil {
		return nil, fmt.Errorf("agentlink: %w", err)
	}
	var key quic.StatelessResetKey
	copy(key[:], k)
	return &key, nil
}

// verifyAgent admits exactly one certificate, self-signed with an Ed25519
// key. Who the key belongs to is the application's business (linking);
// the certificate's names and dates mean nothing here.
func verifyAgent(cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) != 1 {
		return fmt.Errorf("agentlink: the agent must present exactly one certificate, got %d", len(cs.PeerCertificates))
	}
	cert := cs.PeerCertificates[0]
	if _, ok := cert.PublicKey.(ed25519.PublicKey); !ok {
		return fmt.Errorf("agentlink: the agent's key is a %T, not Ed25519", cert.PublicKey)
	}
	if cert.SignatureAlgorithm != x509.PureEd25519 {
		return errors.New("agentlink: the agent's certificate is not signed with Ed25519")
	}
	if err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil {
		return fmt.Errorf("agentlink: the agent's certificate is not self-signed: %w", err)
	}
	return nil
}

// Addr is the address the socket is bound to.
func (s *Server) Addr() netip.AddrPort {
	return s.udp.LocalAddr().(*net.UDPAddr).AddrPort()
}

// Accept returns the next agent whose hello has arrived. It returns ctx's
// error when ctx ends first, or an error wrapping ErrServerClosed (and
// net.ErrClosed) once the server is closed.
func (s *Server) Accept(ctx context.Context) (*Conn, error) {
	select {
	case c := <-s.conns:
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-s.ctx.Done():
		return nil, ErrServerClosed
	}
}

// Close stops accepting, says goodbye on every connection the server
// accepted (waiting a couple of seconds at most for each peer), closes the
// socket and waits for the server's goroutines. Calling it again does
// nothing.
func (s *Server) Close() error {
	s.cancel()
	err := s.ql.Close()
	s.wg.Wait()
	s.mu.Lock()
	live := make([]*Conn, 0, len(s.live))
	for c := range s.live {
		live = append(live, c)
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range live {
		wg.Go(func() { c.Close("the bot is shutting down") })
	}
	wg.Wait()
	s.tr.Close()
	if uerr := s.udp.Close(); uerr != nil && !errors.Is(uerr, net.ErrClosed) && err == nil {
		err = uerr
	}
	if errors.Is(err, quic.ErrServerClosed) {
		err = nil
	}
	return err
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		qc, err := s.ql.Accept(s.ctx)
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.handshake(qc)
		}()
	}
}

// handshake waits for the agent's stream and hello, then queues the
// connection for Accept.
func (s *Server) handshake(qc *quic.Conn) {
	log := s.logger.With("remote", qc.RemoteAddr().String())
	ctx, cancel := context.WithTimeout(s.ctx, helloTimeout)
	defer cancel()
	fail := func(err error) {
		text := oneLine(err.Error())
		log.Info("dropping an agent before its hello", "err", text)
		_ = qc.CloseWithError(codeProtocol, text)
	}
	st, err := qc.AcceptStream(ctx)
	if err != nil {
		fail(fmt.Errorf("no stream: %w", err))
		return
	}
	stop := context.AfterFunc(ctx, func() { st.CancelRead(0) })
	m, err := ReadMessage(st)
	if err == nil && (m.Type != TypeHello || m.Version < 1) {
		err = fmt.Errorf("%w: the first message is a %q, not a hello of version 1 or later", ErrMalformed, m.Type)
	}
	if !stop() {
		err = errors.New("no hello in time")
	}
	if err != nil {
		fail(err)
		return
	}
	peer := qc.ConnectionState().TLS.PeerCertificates[0]
	pin := pinOf(peer)
	key := hex.EncodeToString(pin[:])
	log = log.With("agent", key[:16])
	c := newConn(qc, st, key, m, log, func(c *Conn) {
		s.mu.Lock()
		delete(s.live, c)
		s.mu.Unlock()
	})
	s.mu.Lock()
	s.live[c] = struct{}{}
	s.mu.Unlock()
	go c.readLoop()
	log.Debug("agent connected", "name", m.Name, "version", m.Version)
	select {
	case s.conns <- c:
	case <-s.ctx.Done():
		c.Close("the bot is shutting down")
	}
}
