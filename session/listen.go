package session

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/quic-go/quic-go"
)

const (
	// A lost path must be noticed within seconds, so that the viewer can
	// resume the session (over another path) well within 5 s: a PING
	// every second while nothing else is sent (a few dozen bytes), and 3 s
	// without a packet is a lost connection.
	keepAlivePeriod = time.Second
	maxIdleTimeout  = 3 * time.Second
	helloTimeout    = 10 * time.Second
)

// ListenConfig configures Listen.
type ListenConfig struct {
	// Addr is the UDP address to listen on, e.g. ":0" or "127.0.0.1:0".
	Addr string
	// Certificate is the host certificate whose key the invitation pins.
	Certificate tls.Certificate
	// VerifyClient, when set, makes the listener one that takes offers of
	// help and nothing else: it requires a client certificate in the TLS
	// handshake (DialConfig.ClientCertificate) and calls VerifyClient with
	// its key (DER SubjectPublicKeyInfo) and the client's address. An
	// error refuses the client inside the handshake, before it can send a
	// byte, and its Dial fails with ErrNotAllowed. VerifyClient runs before
	// the client has proved that it holds the key (which the handshake
	// then checks), so it must not act on a success: Request.ClientKey is
	// the proven key.
	VerifyClient func(spki []byte, remote net.Addr) error
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
}

// Listener accepts viewers on one UDP socket.
type Listener struct {
	sock    *Socket
	ql      *quic.Listener
	logger  *slog.Logger
	tlsConf *tls.Config

	relayMu sync.Mutex
	relays  []*quic.Transport // guarded by relayMu: transports over relayed sockets (Serve)

	offers bool // it takes offers of help (ListenConfig.VerifyClient), not invitations

	reqs   chan *Request
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // every goroutine the listener starts
}

// Listen opens the UDP socket and starts accepting QUIC connections. The
// socket is shared through a quic.Transport so that STUN and hole-punching
// traffic use the same port (see Listener.Socket).
func Listen(cfg ListenConfig) (*Listener, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ua, err := net.ResolveUDPAddr("udp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("session: listen address %q: %w", cfg.Addr, err)
	}
	udp, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, fmt.Errorf("session: listening on %s: %w", cfg.Addr, err)
	}
	sock := newSocket(udp)
	tlsConf := &tls.Config{
		Certificates: []tls.Certificate{cfg.Certificate},
		NextProtos:   []string{ALPN},
		MinVersion:   tls.VersionTLS13,
	}
	if cfg.VerifyClient != nil {
		offerTLS(tlsConf, cfg.VerifyClient)
	}
	ql, err := sock.tr.Listen(tlsConf, quicConfig())
	if err != nil {
		sock.Close()
		return nil, fmt.Errorf("session: starting QUIC: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &Listener{sock: sock, ql: ql, logger: logger, tlsConf: tlsConf, reqs: make(chan *Request), ctx: ctx, cancel: cancel}
	l.offers = cfg.VerifyClient != nil
	l.wg.Add(1)
	go l.acceptLoop(ql, false)
	return l, nil
}

// Serve also accepts viewers on pc, a relayed socket (a TURN allocation:
// the relay forwards datagrams between pc and the viewers; QUIC and its
// TLS run end to end over it, so the relay sees only ciphertext). Their
// requests have Relayed set. The listener takes pc over and closes it
// with itself.
func (l *Listener) Serve(pc net.PacketConn) error {
	tr := &quic.Transport{Conn: pc}
	ql, err := tr.Listen(l.tlsConf, quicConfig())
	if err != nil {
		_ = pc.Close()
		return fmt.Errorf("session: starting QUIC on the relay: %w", err)
	}
	l.relayMu.Lock()
	defer l.relayMu.Unlock()
	if l.ctx.Err() != nil {
		_ = ql.Close()
		_ = tr.Close()
		_ = pc.Close()
		return fmt.Errorf("session: listener closed: %w", net.ErrClosed)
	}
	l.relays = append(l.relays, tr)
	l.wg.Add(1)
	go l.acceptLoop(ql, true)
	return nil
}

func quicConfig() *quic.Config {
	return &quic.Config{
		KeepAlivePeriod:       keepAlivePeriod,
		MaxIdleTimeout:        maxIdleTimeout,
		MaxIncomingStreams:    16,
		MaxIncomingUniStreams: 16,
	}
}

// Addr is the address the socket is bound to (its IP may be unspecified).
func (l *Listener) Addr() netip.AddrPort {
	return l.sock.LocalAddr()
}

// Socket is the listener's UDP socket, for STUN, the rendezvous protocol
// and punching probes from the port viewers connect to. It belongs to the
// listener: do not close it.
func (l *Listener) Socket() *Socket { return l.sock }

// Accept returns the next viewer that has completed TLS and sent its hello.
// It returns an error wrapping net.ErrClosed once the listener is closed.
func (l *Listener) Accept(ctx context.Context) (*Request, error) {
	select {
	case r := <-l.reqs:
		return r, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-l.ctx.Done():
		return nil, fmt.Errorf("session: listener closed: %w", net.ErrClosed)
	}
}

// Close stops accepting, closes the socket and waits for the listener's
// goroutines. Sessions accepted from it share its socket, so close them
// first (Conn.Close) if the peer should hear a goodbye.
func (l *Listener) Close() error {
	l.relayMu.Lock()
	l.cancel()
	relays := l.relays
	l.relayMu.Unlock()
	err := l.ql.Close()
	for _, tr := range relays {
		// Closing the transport closes its listener and connections; the
		// transport did not open the relayed socket, so close that too.
		_ = tr.Close()
		_ = tr.Conn.Close()
	}
	l.wg.Wait()
	l.sock.Close()
	return err
}

func (l *Listener) acceptLoop(ql *quic.Listener, relayed bool) {
	defer l.wg.Done()
	for {
		qc, err := ql.Accept(l.ctx)
		if err != nil {
			return
		}
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			l.handshake(qc, relayed)
		}()
	}
}

// handshake reads the viewer's hello and queues the request.
func (l *Listener) handshake(qc *quic.Conn, relayed bool) {
	log := l.logger.With("remote", qc.RemoteAddr().String())
	ctx, cancel := context.WithTimeout(l.ctx, helloTimeout)
	defer cancel()
	fail := func(code quic.ApplicationErrorCode, err error) {
		log.Info("dropping connection before hello", "err", err)
		_ = qc.CloseWithError(code, err.Error())
	}
	st, err := qc.AcceptStream(ctx)
	if err != nil {
		// Usually a viewer that raced several addresses and chose another.
		fail(codeBye, fmt.Errorf("no control stream: %w", err))
		return
	}
	stop := context.AfterFunc(ctx, func() { st.CancelRead(0) })
	defer stop()
	ch, err := readPreface(st)
	if err != nil {
		fail(codeProtocol, err)
		return
	}
	if ch != ChannelControl {
		fail(codeProtocol, fmt.Errorf("%w: first stream is channel %d, not control", ErrBadPreface, ch))
		return
	}
	f, err := ReadFrame(st, MaxControlFrame)
	if err != nil {
		fail(codeProtocol, err)
		return
	}
	m, err := decodeMessage(f.Payload)
	if err == nil && !l.validHello(m) {
		err = fmt.Errorf("%w: first message is not a valid version %d hello", ErrBadFrame, Version)
	}
	if err != nil {
		fail(codeProtocol, err)
		return
	}
	if !stop() {
		fail(codeBye, errors.New("hello timed out"))
		return
	}
	r := &Request{
		InvitationID: m.Invitation,
		ViewerName:   m.Name,
		RemoteAddr:   qc.RemoteAddr(),
		Relayed:      relayed,
		qc:           qc,
		ctrl:         st,
		proof:        m.Proof,
		resume:       m.Resume,
		l:            l,
	}
	select {
	case l.reqs <- r:
	case <-l.ctx.Done():
		_ = qc.CloseWithError(codeBye, "host stopped")
	}
}

// Request is a viewer that has sent its hello and waits for the host's
// answer. The host must call exactly one of Accept or Reject.
type Request struct {
	InvitationID string   // as the viewer sent it
	ViewerName   string   // the viewer's claim; not verified
	RemoteAddr   net.Addr // the viewer's UDP address
	Relayed      bool     // it came through the relay (Listener.Serve)

	qc     *quic.Conn
	ctrl   *quic.Stream
	proof  []byte
	resume []byte // the hello's resume secret, if any
	l      *Listener
}

// CheckPassword reports whether the viewer's proof matches password
// (canonical form) on this very connection. It compares in constant time.
func (r *Request) CheckPassword(password string) bool {
	want, err := passwordProof(r.qc.ConnectionState().TLS, r.InvitationID, password)
	if err != nil {
		return false
	}
	return hmac.Equal(want, r.proof)
}

// Reject refuses the viewer with code and a human-readable reason, then
// closes its connection once the viewer has read the answer (or after a
// short grace). It does not block.
func (r *Request) Reject(code RejectCode, reason string, attemptsLeft int) {
	err := writeMessage(new(sync.Mutex), r.ctrl, Message{
		Type: TypeReject, Code: code, Text: reason, AttemptsLeft: attemptsLeft, Time: time.Now().UTC(),
	})
	_ = r.ctrl.Close()
	if err != nil {
		_ = r.qc.CloseWithError(codeRejected, string(code))
		return
	}
	r.l.wg.Add(1)
	go func() {
		defer r.l.wg.Done()
		select {
		case <-r.qc.Context().Done():
		case <-time.After(byeGrace):
		case <-r.l.ctx.Done():
		}
		_ = r.qc.CloseWithError(codeRejected, string(code))
	}()
}

// Accept welcomes the viewer, announcing hostName, and returns the session.
func (r *Request) Accept(hostName string) (*Conn, error) {
	var token []byte
	if !r.Offer() {
		token = make([]byte, 32)
		rand.Read(token)
	}
	err := writeMessage(new(sync.Mutex), r.ctrl, Message{Type: TypeWelcome, Name: hostName, Resume: token, Time: time.Now().UTC()})
	if err != nil {
		_ = r.qc.CloseWithError(codeBye, "host failed to answer")
		return nil, err
	}
	c := newConn(r.qc, r.ctrl, r.ViewerName, r.l.logger.With("remote", r.RemoteAddr.String()), nil)
	c.resume = token
	return c, nil
}

// Resumes reports whether the viewer asks to resume the session whose
// ResumeToken is token (compared in constant time). The password proof
// must still be checked.
func (r *Request) Resumes(token []byte) bool {
	return len(token) > 0 && len(r.resume) == len(token) && subtle.ConstantTimeCompare(r.resume, token) == 1
}

// Resuming reports whether the viewer says it resumes a session.
func (r *Request) Resuming() bool { return len(r.resume) > 0 }
