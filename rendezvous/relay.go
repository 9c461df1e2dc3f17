package rendezvous

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/pion/logging"
	"github.com/pion/turn/v5"
)

// DefaultRelayLifetime is how long the relay credentials handed to a host
// stay valid. TURN REST credentials cannot be renewed inside an
// allocation, so this bounds how long a relayed session can last.
const DefaultRelayLifetime = 12 * time.Hour

// RelayConfig makes the rendezvous offer a TURN relay (RFC 8656) to the
// hosts that register with it: each registration answer carries the
// relay's address and short-lived credentials for it (the TURN REST scheme
// that coturn calls use-auth-secret: the user name is
// "expiry:invitation-id", the password HMAC-SHA1(secret, user name)).
// The host allocates a relayed address there, runs its QUIC listener on
// it too and announces it like its other candidates; QUIC's TLS 1.3 runs
// end to end through it, so the relay forwards only ciphertext.
type RelayConfig struct {
	// Secret is the shared secret the credentials are derived from; it
	// must match the TURN server's (coturn: static-auth-secret).
	Secret string
	// External is the "host:port" of a TURN server of its own (coturn)
	// that shares Secret. Empty embeds one: the rendezvous then also
	// answers TURN on its own UDP port.
	External string
	// RelayIP is the address the embedded relay announces its relayed
	// addresses at (the machine's public address). The zero value means
	// the rendezvous socket's address when it is specific, otherwise the
	// machine's first global IPv4 address.
	RelayIP netip.Addr
	// MinPort and MaxPort bound the relayed ports of the embedded relay
	// (for a firewall); zero means any ephemeral port.
	MinPort, MaxPort uint16
	// Lifetime is how long credentials stay valid; zero means
	// DefaultRelayLifetime.
	Lifetime time.Duration
	// ListenPacket opens the embedded relay's relayed sockets; nil means
	// net.ListenPacket. (The NAT lab's tests open them in a network
	// namespace.)
	ListenPacket func(network, address string) (net.PacketConn, error)
}

// relayRealm is the TURN realm of the embedded relay.
const relayRealm = "gethelp"

// Quotas of the embedded relay: a host needs one allocation (two while it
// replaces one); the total bounds what a flood of valid credentials can
// take.
const (
	maxAllocationsPerUser = 2
	maxAllocations        = 10_000
)

// quota counts the embedded relay's allocations per user name.
type quota struct {
	mu     sync.Mutex
	byUser map[string]int
	total  int
}

func (q *quota) allow(username, _ string, _ net.Addr) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.byUser[username] < maxAllocationsPerUser && q.total < maxAllocations
}

func (q *quota) created(_, _ net.Addr, _, username, _ string, _ net.Addr, _ int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.byUser[username]++
	q.total++
}

func (q *quota) deleted(_, _ net.Addr, _, username, _ string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.byUser[username] > 0 {
		q.byUser[username]--
		q.total--
	}
	if q.byUser[username] == 0 {
		delete(q.byUser, username)
	}
}

// turnServer is the embedded relay on the rendezvous socket.
type turnServer struct {
	srv       *turn.Server
	in        *turnConn
	announced netip.Addr
}

// startRelay starts the embedded TURN server on pc (whose datagrams the
// rendezvous hands it through the returned server's in).
func startRelay(pc net.PacketConn, cfg RelayConfig, logger *slog.Logger) (*turnServer, error) {
	if cfg.Secret == "" {
		return nil, errors.New("rendezvous: the relay needs a secret")
	}
	local, _ := pc.LocalAddr().(*net.UDPAddr)
	relayIP := cfg.RelayIP
	bindIP := "0.0.0.0"
	if local != nil {
		if ip, ok := netip.AddrFromSlice(local.IP); ok && !ip.Unmap().IsUnspecified() {
			bindIP = ip.Unmap().String()
			if !relayIP.IsValid() {
				relayIP = ip.Unmap()
			}
		}
	}
	if !relayIP.IsValid() {
		relayIP = firstGlobalIPv4()
	}
	if !relayIP.IsValid() {
		return nil, errors.New("rendezvous: no address to announce the relay at; set the relay IP")
	}
	if (cfg.MinPort == 0) != (cfg.MaxPort == 0) || cfg.MinPort > cfg.MaxPort {
		return nil, fmt.Errorf("rendezvous: relay ports %d-%d: give both, lowest first", cfg.MinPort, cfg.MaxPort)
	}
	gen := &relayPorts{relayIP: relayIP, bindIP: bindIP, min: cfg.MinPort, max: cfg.MaxPort, listen: cfg.ListenPacket}
	if gen.listen == nil {
		gen.listen = net.ListenPacket
	}
	in := newTurnConn(pc)
	lf := logging.NewDefaultLoggerFactory()
	lf.DefaultLogLevel = logging.LogLevelDisabled
	q := &quota{byUser: make(map[string]int)}
	srv, err := turn.NewServer(turn.ServerConfig{
		Realm:         relayRealm,
		AuthHandler:   turn.LongTermTURNRESTAuthHandler(cfg.Secret, lf.NewLogger("turn")),
		QuotaHandler:  q.allow,
		EventHandler:  turn.EventHandler{OnAllocationCreated: q.created, OnAllocationDeleted: q.deleted},
		LoggerFactory: lf,
		PacketConnConfigs: []turn.PacketConnConfig{{
			PacketConn:            in,
			RelayAddressGenerator: gen,
			PermissionHandler:     peerAllowed(relayIP),
		}},
	})
	if err != nil {
		_ = in.Close()
		return nil, fmt.Errorf("rendezvous: starting the relay: %w", err)
	}
	logger.Info("relay ready", "announced_ip", relayIP, "bind", bindIP)
	return &turnServer{srv: srv, in: in, announced: relayIP}, nil
}

func (t *turnServer) close() {
	_ = t.srv.Close()
	_ = t.in.Close()
}

// peerAllowed refuses relaying to addresses no helper or host can have:
// loopback (unless the relay itself is on loopback, as in tests),
// unspecified, multicast, link-local. Without it, anyone holding
// credentials could reach services that listen only on the relay's own
// machine.
func peerAllowed(relayIP netip.Addr) turn.PermissionHandler {
	return func(_ net.Addr, peer net.IP) bool {
		ip, ok := netip.AddrFromSlice(peer)
		if !ok {
			return false
		}
		ip = ip.Unmap()
		switch {
		case ip.IsLoopback():
			return relayIP.IsLoopback()
		case ip.IsUnspecified(), ip.IsMulticast(), ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
			return false
		}
		return true
	}
}

// relayPorts opens the relayed sockets of the embedded relay: UDP only,
// on bindIP, announced at relayIP, in [min, max] when max is set.
type relayPorts struct {
	relayIP  netip.Addr
	bindIP   string
	min, max uint16
	listen   func(network, address string) (net.PacketConn, error)
}

var errNoTCPRelay = errors.New("rendezvous: the relay relays UDP only")

func (g *relayPorts) Validate() error { return nil }

func (g *relayPorts) AllocatePacketConn(conf turn.AllocateListenerConfig) (net.PacketConn, net.Addr, error) {
	network := "udp4"
	if g.relayIP.Is6() {
		network = "udp6"
	}
	try := func(port int) (net.PacketConn, net.Addr, error) {
		pc, err := g.listen(network, net.JoinHostPort(g.bindIP, strconv.Itoa(port)))
		if err != nil {
			return nil, nil, err
		}
		ua, ok := pc.LocalAddr().(*net.UDPAddr)
		if !ok {
			_ = pc.Close()
			return nil, nil, fmt.Errorf("rendezvous: relayed socket of a %T", pc.LocalAddr())
		}
		return pc, &net.UDPAddr{IP: net.IP(g.relayIP.AsSlice()), Port: ua.Port}, nil
	}
	if conf.RequestedPort != 0 || g.max == 0 {
		return try(conf.RequestedPort)
	}
	span := int(g.max-g.min) + 1
	first := rand.IntN(span)
	var err error
	for i := 0; i < span && i < 64; i++ {
		var pc net.PacketConn
		var addr net.Addr
		if pc, addr, err = try(int(g.min) + (first+i)%span); err == nil {
			return pc, addr, nil
		}
	}
	return nil, nil, fmt.Errorf("rendezvous: no free relay port in %d-%d: %w", g.min, g.max, err)
}

func (g *relayPorts) AllocateListener(turn.AllocateListenerConfig) (net.Listener, net.Addr, error) {
	return nil, nil, errNoTCPRelay
}

func (g *relayPorts) AllocateConn(turn.AllocateConnConfig) (net.Conn, error) {
	return nil, errNoTCPRelay
}

func firstGlobalIPv4() netip.Addr {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return netip.Addr{}
	}
	for _, a := range addrs {
		p, err := netip.ParsePrefix(a.String())
		if err == nil && p.Addr().Is4() && p.Addr().IsGlobalUnicast() {
			return p.Addr()
		}
	}
	return netip.Addr{}
}

// relayOffer is what a registration answer tells the host about the
// relay: where it is and its credentials.
func (s *Server) relayOffer(id string) (addr, user, pass string) {
	rc := s.cfg.Relay
	if rc == nil {
		return "", "", ""
	}
	addr = rc.External
	if addr == "" {
		addr = s.RelayAddr().String()
	}
	lifetime := rc.Lifetime
	if lifetime <= 0 {
		lifetime = DefaultRelayLifetime
	}
	user, pass, err := turn.GenerateLongTermTURNRESTCredentials(rc.Secret, id, lifetime)
	if err != nil {
		s.logger.Warn("relay credentials", "err", err)
		return "", "", ""
	}
	return addr, user, pass
}

// isTURN reports whether a datagram on the rendezvous socket belongs to
// the relay: ChannelData (first two bits 01) or a STUN message of a TURN
// method (Allocate, Refresh, Send, Data, CreatePermission, ChannelBind).
func isTURN(p []byte) bool {
	if len(p) < 4 {
		return false
	}
	if p[0]&0xC0 == 0x40 {
		return true
	}
	if p[0]&0xC0 != 0 || len(p) < 20 {
		return false
	}
	t := uint16(p[0])<<8 | uint16(p[1])
	// The method's bits, without the class bits (0x0110).
	m := t&0x000F | (t&0x00E0)>>1 | (t&0x3E00)>>2
	switch m {
	case 0x003, 0x004, 0x006, 0x007, 0x008, 0x009:
		return true
	}
	return false
}

// turnConn is the rendezvous socket as the embedded TURN server sees it:
// reads come from the rendezvous's own reader (only the datagrams that
// belong to TURN), writes go straight to the socket.
type turnConn struct {
	pc        net.PacketConn
	in        chan datagram
	closed    chan struct{}
	closeOnce sync.Once
}

type datagram struct {
	b    []byte
	from net.Addr
}

func newTurnConn(pc net.PacketConn) *turnConn {
	return &turnConn{pc: pc, in: make(chan datagram, 256), closed: make(chan struct{})}
}

// push queues a datagram for the TURN server; it drops it when the server
// falls behind, as a full socket buffer would.
func (c *turnConn) push(p []byte, from net.Addr) {
	select {
	case c.in <- datagram{b: append([]byte(nil), p...), from: from}:
	default:
	}
}

func (c *turnConn) ReadFrom(b []byte) (int, net.Addr, error) {
	select {
	case d := <-c.in:
		return copy(b, d.b), d.from, nil
	case <-c.closed:
		return 0, nil, net.ErrClosed
	}
}

func (c *turnConn) WriteTo(b []byte, addr net.Addr) (int, error) { return c.pc.WriteTo(b, addr) }
func (c *turnConn) LocalAddr() net.Addr                          { return c.pc.LocalAddr() }
func (c *turnConn) SetDeadline(time.Time) error                  { return nil }
func (c *turnConn) SetReadDeadline(time.Time) error              { return nil }
func (c *turnConn) SetWriteDeadline(time.Time) error             { return nil }

func (c *turnConn) Close() error {
	c.closeOnce.Do(func() { close(c.closed) })
	return nil
}
