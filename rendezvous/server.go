package rendezvous

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pion/stun/v4"
)

// Defaults of ServerConfig.
const (
	DefaultTTL              = 2 * time.Minute
	DefaultMaxRegistrations = 100_000
	DefaultPeerInterval     = 100 * time.Millisecond
)

// ServerConfig configures a Server; the zero value is ready to use.
type ServerConfig struct {
	// TTL is how long a registration lives after its last refresh; zero
	// means DefaultTTL.
	TTL time.Duration
	// MaxRegistrations bounds the invitations held at once; zero means
	// DefaultMaxRegistrations. Beyond it new ids get error 508.
	MaxRegistrations int
	// PeerInterval is the least time between two Peer indications to one
	// host; zero means DefaultPeerInterval.
	PeerInterval time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
	// Relay, when set, offers a TURN relay to registered hosts (embedded
	// on the rendezvous's own port, or an external one).
	Relay *RelayConfig
	// Alt, when set, is a second UDP socket on the same IP (the bot uses
	// the next port), which the server then owns. It serves only STUN
	// Binding, so that clients can tell their NAT's type (DetectNAT): a
	// Binding request that asks to change port is answered from the other
	// socket, and every Binding answer names the other socket in
	// OTHER-ADDRESS. Nil means one port: such requests get error 420.
	Alt net.PacketConn
}

// Server answers STUN Binding requests and runs the rendezvous on one UDP
// socket.
type Server struct {
	pc     net.PacketConn
	cfg    ServerConfig
	logger *slog.Logger

	mu   sync.Mutex
	regs map[string]*registration // guarded by mu

	done    chan struct{} // closed when serve has returned
	altDone chan struct{} // closed when serveAlt has returned; nil without cfg.Alt

	turn   *turnServer // the embedded relay, or nil
	turnIP netip.Addr  // the address it announces
}

type registration struct {
	key      ed25519.PublicKey
	pin      [32]byte
	counter  uint64
	host     []netip.AddrPort
	relayed  netip.AddrPort // the host's relayed address, when it has one
	from     netip.AddrPort // where the last registration came from: the reflexive address
	seen     time.Time
	lastPeer map[netip.AddrPort]time.Time // per viewer: when the host was last told of it
}

// maxPeersTracked bounds registration.lastPeer.
const maxPeersTracked = 32

// NewServer starts serving on pc (which the server then owns) and returns
// at once. Close stops it. It fails only when the embedded relay cannot
// start (pc is then closed).
func NewServer(pc net.PacketConn, cfg ServerConfig) (*Server, error) {
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.MaxRegistrations <= 0 {
		cfg.MaxRegistrations = DefaultMaxRegistrations
	}
	if cfg.PeerInterval <= 0 {
		cfg.PeerInterval = DefaultPeerInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{pc: pc, cfg: cfg, logger: logger.With("component", "rendezvous"), regs: make(map[string]*registration), done: make(chan struct{})}
	if cfg.Relay != nil && cfg.Relay.External == "" {
		t, err := startRelay(pc, *cfg.Relay, s.logger)
		if err != nil {
			_ = pc.Close()
			if cfg.Alt != nil {
				_ = cfg.Alt.Close()
			}
			return nil, err
		}
		s.turn, s.turnIP = t, t.announced
	}
	go s.serve()
	if cfg.Alt != nil {
		s.altDone = make(chan struct{})
		go s.serveAlt()
	}
	return s, nil
}

// Listen opens a UDP socket on addr (such as ":3478") and serves on it.
func Listen(addr string, cfg ServerConfig) (*Server, error) {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, err
	}
	return NewServer(pc, cfg)
}

// Addr is the address the server's socket is bound to.
func (s *Server) Addr() netip.AddrPort {
	if ua, ok := s.pc.LocalAddr().(*net.UDPAddr); ok {
		return unmap(ua.AddrPort())
	}
	return netip.AddrPort{}
}

// Close stops the server and waits for it.
func (s *Server) Close() error {
	err := s.pc.Close()
	<-s.done
	if s.cfg.Alt != nil {
		_ = s.cfg.Alt.Close()
		<-s.altDone
	}
	if s.turn != nil {
		s.turn.close()
	}
	return err
}

// RelayAddr is the address of the embedded relay (the rendezvous's own
// port at the IP it announces), or the zero value when it has none.
func (s *Server) RelayAddr() netip.AddrPort {
	if s.turn == nil {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(s.turnIP, s.Addr().Port())
}

func (s *Server) serve() {
	defer close(s.done)
	buf := make([]byte, 2048)
	for {
		n, from, err := s.pc.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.logger.Warn("reading", "err", err)
			continue
		}
		if s.turn != nil && isTURN(buf[:n]) {
			s.turn.in.push(buf[:n], from)
			continue
		}
		ua, ok := from.(*net.UDPAddr)
		if !ok || n > maxDatagram {
			continue
		}
		s.handle(buf[:n], unmap(ua.AddrPort()))
	}
}

func (s *Server) send(p []byte, to netip.AddrPort) {
	if _, err := s.pc.WriteTo(p, net.UDPAddrFromAddrPort(to)); err != nil {
		s.logger.Debug("sending", "to", to, "err", err)
	}
}

func (s *Server) answer(t stun.MessageType, req *stun.Message, b *body, from netip.AddrPort, code stun.ErrorCode) {
	p, _, err := encode(t, req.TransactionID, b, nil, from, code)
	if err != nil {
		s.logger.Warn("encoding an answer", "err", err)
		return
	}
	s.send(p, from)
}

func (s *Server) handle(p []byte, from netip.AddrPort) {
	d, err := decode(p)
	if err != nil {
		// A plain STUN client may omit FINGERPRINT; answer Binding anyway.
		m := &stun.Message{Raw: append([]byte(nil), p...)}
		if m.Decode() == nil && m.Type == stun.BindingRequest {
			s.binding(m, from)
		}
		return
	}
	switch d.msg.Type {
	case stun.BindingRequest:
		s.binding(d.msg, from)
	case typeRegister:
		s.register(d, from)
	case typeLookup:
		s.lookup(d, from)
	}
}

func (s *Server) binding(req *stun.Message, from netip.AddrPort) {
	s.answerBinding(s.pc, s.cfg.Alt, req, from) // natserver.go
}

func (s *Server) register(d *decoded, from netip.AddrPort) {
	b := d.body
	fail := func(code stun.ErrorCode, why string) {
		s.logger.Info("registration refused", "from", from, "id", b.ID, "why", why)
		s.answer(typeRegisterError, d.msg, nil, from, code)
	}
	if d.rawBody == nil || b.ID == "" || len(b.ID) > 64 || d.sig == nil {
		fail(codeBadRequest, "incomplete")
		return
	}
	pub, err := x509.ParsePKIXPublicKey(b.SPKI)
	key, ok := pub.(ed25519.PublicKey)
	if err != nil || !ok {
		fail(codeBadRequest, "not an Ed25519 key")
		return
	}
	if !ed25519.Verify(key, append([]byte(signContext), d.rawBody...), d.sig) {
		fail(codeForbidden, "bad signature")
		return
	}
	now := s.cfg.Now()
	s.mu.Lock()
	r := s.regs[b.ID]
	if r != nil && now.Sub(r.seen) > s.cfg.TTL {
		r = nil
	}
	switch {
	case r != nil && !r.key.Equal(key):
		s.mu.Unlock()
		fail(codeForbidden, "the id belongs to another key")
		return
	case r != nil && b.Counter <= r.counter:
		s.mu.Unlock()
		fail(codeForbidden, "stale counter (a replay?)")
		return
	case r == nil && len(s.regs) >= s.cfg.MaxRegistrations:
		s.expireLocked(now)
		if len(s.regs) >= s.cfg.MaxRegistrations {
			s.mu.Unlock()
			fail(codeFull, "full")
			return
		}
	}
	if r == nil {
		r = &registration{key: key, pin: sha256.Sum256(b.SPKI)}
		s.regs[b.ID] = r
		s.logger.Info("host registered", "id", b.ID, "from", from)
	}
	r.counter, r.host, r.from, r.seen = b.Counter, parseCandidates(b.Candidates), from, now
	r.relayed = netip.AddrPort{}
	if rs := parseCandidates([]string{b.Relayed}); len(rs) == 1 {
		r.relayed = rs[0]
	}
	s.mu.Unlock()
	answer := &body{ID: b.ID, Reflexive: from.String()}
	answer.Relay, answer.RelayUser, answer.RelayPass = s.relayOffer(b.ID)
	s.answer(typeRegisterSuccess, d.msg, answer, from, 0)
}

// expireLocked drops registrations past their TTL; s.mu must be held.
func (s *Server) expireLocked(now time.Time) {
	for id, r := range s.regs {
		if now.Sub(r.seen) > s.cfg.TTL {
			delete(s.regs, id)
		}
	}
}

func (s *Server) lookup(d *decoded, from netip.AddrPort) {
	b := d.body
	now := s.cfg.Now()
	s.mu.Lock()
	r := s.regs[b.ID]
	if r == nil || now.Sub(r.seen) > s.cfg.TTL || len(b.Pin) != 32 || subtle.ConstantTimeCompare(b.Pin, r.pin[:]) != 1 {
		s.mu.Unlock()
		s.answer(typeLookupError, d.msg, nil, from, codeNotFound)
		return
	}
	host, hostFrom, relayed := r.host, r.from, r.relayed
	// At most one Peer indication per PeerInterval for each viewer, so
	// that a Lookup flood cannot make the server flood the host, and one
	// viewer's lookups cannot hold back another's.
	notify := now.Sub(r.lastPeer[from]) >= s.cfg.PeerInterval
	if notify {
		if r.lastPeer == nil || len(r.lastPeer) >= maxPeersTracked {
			r.lastPeer = make(map[netip.AddrPort]time.Time)
		}
		r.lastPeer[from] = now
	}
	s.mu.Unlock()
	answer := &body{ID: b.ID, Candidates: formatCandidates(host), Reflexive: hostFrom.String()}
	if relayed.IsValid() {
		answer.Relayed = relayed.String()
	}
	s.answer(typeLookupSuccess, d.msg, answer, from, 0)
	if !notify {
		return
	}
	p, _, err := encode(typePeer, stun.NewTransactionID(), &body{
		ID: b.ID, Candidates: formatCandidates(parseCandidates(b.Candidates)), Reflexive: from.String(),
	}, nil, netip.AddrPort{}, 0)
	if err != nil {
		s.logger.Warn("encoding a peer indication", "err", err)
		return
	}
	s.send(p, hostFrom)
	s.logger.Info("viewer looked up", "id", b.ID, "viewer", from, "host", hostFrom)
}
