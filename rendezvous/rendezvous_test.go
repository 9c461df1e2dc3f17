package rendezvous_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pion/stun/v4"
	"go.uber.org/goleak"

	"github.com/gethelp/gethelp/rendezvous"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// udp adapts a loopback UDP socket to rendezvous.PacketConn and records
// who sent it what.
type udp struct {
	c    *net.UDPConn
	mu   sync.Mutex
	from map[netip.AddrPort]int
}

func newUDP(t *testing.T) *udp {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &udp{c: c, from: map[netip.AddrPort]int{}}
}

func (u *udp) addr() netip.AddrPort { return u.c.LocalAddr().(*net.UDPAddr).AddrPort() }

func (u *udp) WriteTo(b []byte, a netip.AddrPort) error {
	_, err := u.c.WriteToUDPAddrPort(b, a)
	return err
}

func (u *udp) ReadFrom(ctx context.Context, b []byte) (int, netip.AddrPort, error) {
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(time.Hour)
	}
	u.c.SetReadDeadline(dl)
	stop := context.AfterFunc(ctx, func() { u.c.SetReadDeadline(time.Now()) })
	defer stop()
	n, from, err := u.c.ReadFromUDPAddrPort(b)
	if err != nil {
		if ctx.Err() != nil {
			return 0, from, ctx.Err()
		}
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return 0, from, context.DeadlineExceeded
		}
		return 0, from, err
	}
	u.mu.Lock()
	u.from[from]++
	u.mu.Unlock()
	return n, from, nil
}

func (u *udp) count(a netip.AddrPort) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.from[a]
}

func startServer(t *testing.T) *rendezvous.Server {
	t.Helper()
	s, err := rendezvous.Listen("127.0.0.1:0", rendezvous.ServerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestBinding(t *testing.T) {
	s := startServer(t)
	c := newUDP(t)
	req := stun.MustBuild(stun.TransactionID, stun.BindingRequest)
	if err := c.WriteTo(req.Raw, s.Addr()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, _, err := c.ReadFrom(ctx, buf)
	if err != nil {
		t.Fatal(err)
	}
	res := &stun.Message{Raw: buf[:n]}
	if err := res.Decode(); err != nil {
		t.Fatal(err)
	}
	var xor stun.XORMappedAddress
	if err := xor.GetFrom(res); err != nil {
		t.Fatal(err)
	}
	if got := xor.String(); got != c.addr().String() {
		t.Errorf("mapped address %s, want %s", got, c.addr())
	}
}

type hostKey struct {
	priv ed25519.PrivateKey
	pin  [32]byte
}

func newKey(t *testing.T) hostKey {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return hostKey{priv, sha256.Sum256(spki)}
}

// runHost registers a host and returns the channel of its peers.
func runHost(t *testing.T, s *rendezvous.Server, conn *udp, id string, key hostKey, cands []netip.AddrPort) (<-chan rendezvous.Peer, <-chan netip.AddrPort) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	peers := make(chan rendezvous.Peer, 16)
	regs := make(chan netip.AddrPort, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		rendezvous.RunHost(ctx, rendezvous.HostConfig{
			Server: s.Addr(), Conn: conn, InvitationID: id, Key: key.priv, Candidates: cands,
			OnPeer:       func(p rendezvous.Peer) { peers <- p },
			OnRegistered: func(a netip.AddrPort) { regs <- a },
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
	return peers, regs
}

func TestSwapAndProbe(t *testing.T) {
	s := startServer(t)
	hc, vc := newUDP(t), newUDP(t)
	key := newKey(t)
	hostLAN := netip.MustParseAddrPort("192.0.2.5:4000")
	viewLAN := netip.MustParseAddrPort("198.51.100.7:5000")
	peers, regs := runHost(t, s, hc, "7Q2M9KX4TR", key, []netip.AddrPort{hostLAN})
	if got := <-regs; got != hc.addr() {
		t.Errorf("host reflexive %s, want %s", got, hc.addr())
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	seeker, err := rendezvous.Seek(ctx, rendezvous.SeekConfig{
		Server: s.Addr(), Conn: vc, InvitationID: "7Q2M9KX4TR", Pin: key.pin, Candidates: []netip.AddrPort{viewLAN},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer seeker.Close()
	if got := seeker.HostReflexive(); got != hc.addr() {
		t.Errorf("host reflexive as told to the viewer %s, want %s", got, hc.addr())
	}
	if got := seeker.Host(); len(got) != 1 || got[0] != hostLAN {
		t.Errorf("host candidates %v", got)
	}
	if got := seeker.Reflexive(); got != vc.addr() {
		t.Errorf("viewer reflexive %s, want %s", got, vc.addr())
	}
	select {
	case p := <-peers:
		if p.Reflexive != vc.addr() || len(p.Candidates) != 1 || p.Candidates[0] != viewLAN {
			t.Errorf("peer %+v", p)
		}
	case <-ctx.Done():
		t.Fatal("the host heard of no viewer")
	}
	// Both sides probe each other's reflexive address.
	for hc.count(vc.addr()) == 0 || vc.count(hc.addr()) == 0 {
		if ctx.Err() != nil {
			t.Fatalf("probes: host got %d, viewer got %d", hc.count(vc.addr()), vc.count(hc.addr()))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestLookupNeedsThePin(t *testing.T) {
	s := startServer(t)
	hc, vc := newUDP(t), newUDP(t)
	key := newKey(t)
	_, regs := runHost(t, s, hc, "7Q2M9KX4TR", key, nil)
	<-regs
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	wrong := key.pin
	wrong[0] ^= 1
	_, err := rendezvous.Seek(ctx, rendezvous.SeekConfig{Server: s.Addr(), Conn: vc, InvitationID: "7Q2M9KX4TR", Pin: wrong})
	if !errors.Is(err, rendezvous.ErrNotFound) {
		t.Errorf("Seek with a wrong pin: %v, want ErrNotFound", err)
	}
}

func TestIDBelongsToTheFirstKey(t *testing.T) {
	s := startServer(t)
	first, second := newUDP(t), newUDP(t)
	key := newKey(t)
	_, regs := runHost(t, s, first, "7Q2M9KX4TR", key, nil)
	<-regs
	// An impostor with another key cannot take the id over.
	_, regs2 := runHost(t, s, second, "7Q2M9KX4TR", newKey(t), nil)
	select {
	case <-regs2:
		t.Fatal("a second key registered the same id")
	case <-time.After(400 * time.Millisecond):
	}
	// The viewer is still sent to the first host.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	seeker, err := rendezvous.Seek(ctx, rendezvous.SeekConfig{Server: s.Addr(), Conn: newUDP(t), InvitationID: "7Q2M9KX4TR", Pin: key.pin})
	if err != nil {
		t.Fatal(err)
	}
	defer seeker.Close()
	if got := seeker.HostReflexive(); got != first.addr() {
		t.Errorf("host reflexive %s, want the first host's %s", got, first.addr())
	}
}
