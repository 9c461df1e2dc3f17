//go:build linux

package integration_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pion/stun/v4"
	"golang.org/x/sys/unix"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/host/synthetic"
	"github.com/gethelp/gethelp/invitations"
	"github.com/gethelp/gethelp/rendezvous"
	"github.com/gethelp/gethelp/session"
	"github.com/gethelp/gethelp/session/screen"
	"github.com/gethelp/gethelp/viewer"
)

// The NAT lab: network namespaces, veth pairs, bridges and nftables NAT
// made by the test and removed afterwards. Only documentation ranges:
//
//	pub  203.0.113.0/24 (bridge "internet"): rendezvous 203.0.113.1:3478
//	rh   the host's router:   WAN 203.0.113.10, LAN 192.0.2.1/24 (bridge)
//	h    the host:            192.0.2.2
//	l    a helper on the host's LAN: 192.0.2.3
//	rv   the viewer's router: WAN 203.0.113.20, LAN 198.51.100.1/24
//	v    the viewer:          198.51.100.2
//
// Both routers masquerade (one local port keeps one public port whatever
// the destination: an endpoint-independent mapping) and drop unsolicited
// UDP in their input chain, so only replies to what went out come in
// (port-restricted filtering): hole punching must open both. With
// symmetric set, the host's router maps every destination to a new random
// port (`masquerade random,fully-random`), so the viewer cannot reach the
// mapping the rendezvous saw and punching fails: only a relay gets
// through. pub also has 203.0.113.5 for an external relay (coturn).
// Nothing has a route out of the machine.
type natLab struct {
	t      testing.TB
	prefix string
}

// labConfig varies the lab's topology.
type labConfig struct {
	symmetric bool // the host's router is a symmetric NAT
	ipv6      bool // everyone also has a global IPv6 address, routed without NAT
}

const rendezvousAddr = "203.0.113.1:3478"

var labSeq atomic.Int32

func newNATLab(t testing.TB, cfgs ...labConfig) *natLab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the NAT lab needs root (network namespaces and nftables); run as root, as CI does")
	}
	for _, tool := range []string{"ip", "nft", "sysctl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the NAT lab needs %s (Debian packages iproute2, nftables, procps)", tool)
		}
	}
	start := time.Now()
	l := &natLab{t: t, prefix: fmt.Sprintf("gh%04x%x", os.Getpid()&0xffff, labSeq.Add(1)&0xf)}
	var cfg labConfig
	if len(cfgs) > 0 {
		cfg = cfgs[0]
	}
	for _, ns := range []string{"pub", "rh", "h", "l", "rv", "v"} {
		l.run("ip", "netns", "add", l.ns(ns))
		t.Cleanup(func() { exec.Command("ip", "netns", "del", l.ns(ns)).Run() })
		l.ip(ns, "link", "set", "lo", "up")
		if cfg.ipv6 {
			// Without this the first forwarded packets wait ~2 s for
			// duplicate address detection.
			l.run("ip", "netns", "exec", l.ns(ns), "sysctl", "-q", "-w",
				"net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")
		}
	}
	l.ip("pub", "link", "add", "inet", "type", "bridge")
	l.ip("pub", "addr", "add", "203.0.113.1/24", "dev", "inet")
	l.ip("pub", "addr", "add", "203.0.113.5/24", "dev", "inet")
	l.ip("pub", "link", "set", "inet", "up")
	l.ip("rh", "link", "add", "lan", "type", "bridge")
	l.ip("rh", "addr", "add", "192.0.2.1/24", "dev", "lan")
	l.ip("rh", "link", "set", "lan", "up")
	// WAN links into the internet bridge.
	for _, r := range []struct{ ns, addr string }{{"rh", "203.0.113.10/24"}, {"rv", "203.0.113.20/24"}} {
		l.veth(r.ns, "wan", "pub", "to-"+r.ns)
		l.ip("pub", "link", "set", "to-"+r.ns, "master", "inet", "up")
		l.ip(r.ns, "addr", "add", r.addr, "dev", "wan")
		l.ip(r.ns, "link", "set", "wan", "up")
	}
	// The host's LAN: the host and a helper beside it.
	for _, m := range []struct{ ns, addr string }{{"h", "192.0.2.2/24"}, {"l", "192.0.2.3/24"}} {
		l.veth(m.ns, "eth0", "rh", "to-"+m.ns)
		l.ip("rh", "link", "set", "to-"+m.ns, "master", "lan", "up")
		l.ip(m.ns, "addr", "add", m.addr, "dev", "eth0")
		l.ip(m.ns, "link", "set", "eth0", "up")
		l.ip(m.ns, "route", "add", "default", "via", "192.0.2.1")
	}
	// The viewer's LAN.
	l.veth("v", "eth0", "rv", "lan")
	l.ip("rv", "addr", "add", "198.51.100.1/24", "dev", "lan")
	l.ip("rv", "link", "set", "lan", "up")
	l.ip("v", "addr", "add", "198.51.100.2/24", "dev", "eth0")
	l.ip("v", "link", "set", "eth0", "up")
	l.ip("v", "route", "add", "default", "via", "198.51.100.1")
	if cfg.ipv6 {
		for _, a := range []struct{ ns, dev, addr string }{
			{"pub", "inet", "2001:db8:ff::1/64"},
			{"rh", "wan", "2001:db8:ff::10/64"}, {"rh", "lan", "2001:db8:1::1/64"},
			{"h", "eth0", "2001:db8:1::2/64"}, {"l", "eth0", "2001:db8:1::3/64"},
			{"rv", "wan", "2001:db8:ff::20/64"}, {"rv", "lan", "2001:db8:2::1/64"},
			{"v", "eth0", "2001:db8:2::2/64"},
		} {
			l.ip(a.ns, "-6", "addr", "add", a.addr, "dev", a.dev, "nodad")
		}
		for _, ns := range []string{"h", "l"} {
			l.ip(ns, "-6", "route", "add", "default", "via", "2001:db8:1::1")
		}
		l.ip("v", "-6", "route", "add", "default", "via", "2001:db8:2::1")
		l.ip("rh", "-6", "route", "add", "2001:db8:2::/64", "via", "2001:db8:ff::20")
		l.ip("rv", "-6", "route", "add", "2001:db8:1::/64", "via", "2001:db8:ff::10")
		for _, r := range []string{"rh", "rv"} {
			l.run("ip", "netns", "exec", l.ns(r), "sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1")
		}
	}
	for _, r := range []string{"rh", "rv"} {
		l.run("ip", "netns", "exec", l.ns(r), "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
		masquerade := "masquerade"
		if r == "rh" && cfg.symmetric {
			masquerade = "masquerade random,fully-random"
		}
		l.nft(r, `
table ip nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan" `+masquerade+`
	}
}
table ip filter {
	chain input {
		type filter hook input priority filter; policy accept;
		iifname "wan" meta l4proto udp drop
	}
}`)
	}
	t.Logf("NAT lab up in %v", time.Since(start).Round(time.Millisecond))
	return l
}

func (l *natLab) ns(name string) string { return l.prefix + "-" + name }

func (l *natLab) run(name string, args ...string) {
	l.t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		l.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

func (l *natLab) ip(ns string, args ...string) {
	l.t.Helper()
	l.run("ip", append([]string{"-n", l.ns(ns)}, args...)...)
}

// veth joins namespace a (interface an) and b (interface bn).
func (l *natLab) veth(a, an, b, bn string) {
	l.t.Helper()
	l.run("ip", "link", "add", l.prefix+"x", "netns", l.ns(a), "type", "veth", "peer", "name", l.prefix+"y", "netns", l.ns(b))
	l.ip(a, "link", "set", l.prefix+"x", "name", an)
	l.ip(b, "link", "set", l.prefix+"y", "name", bn)
}

func (l *natLab) nft(ns, rules string) {
	l.t.Helper()
	cmd := exec.Command("ip", "netns", "exec", l.ns(ns), "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		l.t.Fatalf("nft in %s: %v\n%s", ns, err, out)
	}
}

// in runs fn on an OS thread that has entered namespace ns, so that the
// sockets fn opens (and the interfaces it lists) are that namespace's;
// the sockets can then be used from any goroutine. The thread is thrown
// away if it cannot be put back.
func (l *natLab) in(ns string, fn func()) {
	l.t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- err
			return
		}
		defer unix.Close(orig)
		target, err := unix.Open("/run/netns/"+l.ns(ns), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- err
			return
		}
		defer unix.Close(target)
		if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		fn()
		if unix.Setns(orig, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		errc <- nil
	}()
	if err := <-errc; err != nil {
		l.t.Fatalf("entering %s: %v", ns, err)
	}
}

// natCase is one connection through the lab.
type natCase struct {
	lab            labConfig
	viewerNS       string // where the viewer runs: "v" (behind its NAT) or "l" (the host's LAN)
	relay          string // "": no relay; "embedded": the rendezvous's own; "coturn": an external one
	wantPath       string
	wantViewerAddr string // prefix of the viewer's address as the host sees it
	wantHostAddr   string // prefix of the host's address as the viewer sees it
}

// relaySecret is the TURN REST secret the lab's rendezvous and coturn
// share.
const relaySecret = "lab-secret-0123456789"

// relayCapture is a PacketConn that keeps a copy of every datagram it reads
// and writes: what the relay's operator could capture.
type relayCapture struct {
	net.PacketConn
	mu    sync.Mutex
	grams [][]byte
}

func (r *relayCapture) ReadFrom(b []byte) (int, net.Addr, error) {
	n, from, err := r.PacketConn.ReadFrom(b)
	if n > 0 {
		r.keep(b[:n])
	}
	return n, from, err
}

func (r *relayCapture) WriteTo(b []byte, to net.Addr) (int, error) {
	r.keep(b)
	return r.PacketConn.WriteTo(b, to)
}

func (r *relayCapture) keep(b []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.grams = append(r.grams, append([]byte(nil), b...))
}

func (r *relayCapture) datagrams() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.grams)
}

// startCoturn runs coturn in the lab's public namespace at 203.0.113.5
// with the lab's secret, and stops it when the test ends.
func startCoturn(t testing.TB, lab *natLab) {
	t.Helper()
	bin, err := exec.LookPath("turnserver")
	if err != nil {
		t.Skip("the external relay test needs coturn's turnserver (Debian package coturn)")
	}
	cmd := exec.Command("ip", "netns", "exec", lab.ns("pub"), bin, "-n",
		"--listening-ip=203.0.113.5", "--listening-port=3478", "--relay-ip=203.0.113.5",
		"--min-port=40000", "--max-port=40999", "--use-auth-secret", "--static-auth-secret="+relaySecret,
		"--realm=gethelp", "--no-tls", "--no-dtls", "--no-cli", "--fingerprint", "--log-file=stdout", "--simple-log",
		"--pidfile="+filepath.Join(t.TempDir(), "turnserver.pid"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		cmd.Wait()
		if t.Failed() {
			t.Logf("coturn said:\n%s", out.String())
		}
	})
	// Wait until it answers STUN.
	var c *net.UDPConn
	lab.in("pub", func() {
		if c, err = net.ListenUDP("udp4", nil); err != nil {
			t.Fatal(err)
		}
	})
	defer c.Close()
	req := stun.MustBuild(stun.TransactionID, stun.BindingRequest)
	for deadline := time.Now().Add(10 * time.Second); ; {
		c.WriteToUDP(req.Raw, &net.UDPAddr{IP: net.IPv4(203, 0, 113, 5), Port: 3478})
		c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if _, _, err := c.ReadFromUDP(make([]byte, 1500)); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("coturn does not answer:\n%s", out.String())
		}
	}
}

// natSession starts the rendezvous (with the case's relay), a host in h
// sharing a synthetic screen and a viewer in the case's namespace, checks
// that they connect over the expected path and that chat and screen
// frames pass, and returns the relayCapture of the rendezvous socket (which
// carries the embedded relay's traffic to and from the host).
func natSession(t *testing.T, c natCase) *relayCapture {
	lab := newNATLab(t, c.lab)
	var pc net.PacketConn
	lab.in("pub", func() {
		var err error
		if pc, err = net.ListenPacket("udp", rendezvousAddr); err != nil {
			t.Fatal(err)
		}
	})
	rec := &relayCapture{PacketConn: pc}
	var scfg rendezvous.ServerConfig
	switch c.relay {
	case "embedded":
		scfg.Relay = &rendezvous.RelayConfig{Secret: relaySecret, ListenPacket: func(network, addr string) (pc net.PacketConn, err error) {
			lab.in("pub", func() { pc, err = net.ListenPacket(network, addr) })
			return pc, err
		}}
	case "coturn":
		startCoturn(t, lab)
		scfg.Relay = &rendezvous.RelayConfig{Secret: relaySecret, External: "203.0.113.5:3478"}
	}
	var srv *rendezvous.Server
	lab.in("pub", func() {
		// The embedded relay opens its relayed sockets in pub too.
		var err error
		if srv, err = rendezvous.NewServer(rec, scfg); err != nil {
			t.Fatal(err)
		}
	})
	defer srv.Close()

	hostEvents := make(chan host.Event, 64)
	var h *host.Host
	lab.in("h", func() {
		var err error
		h, err = host.New(host.Config{
			TTL: time.Hour, HostName: "Alice", Rendezvous: rendezvousAddr,
			Source:  synthetic.New(320, 200, 10),
			OnEvent: func(e host.Event) { hostEvents <- e },
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	defer h.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hostDone := make(chan error, 1)
	// The host's relay client opens its socket from Run's goroutines: run
	// it inside h, as the host's own process would be.
	lab.in("h", func() {
		go func() { hostDone <- h.Run(ctx) }()
	})
	defer func() { cancel(); <-hostDone }()
	waitHost(t, hostEvents, host.EventWaiting)

	inv := h.Invitation()
	if inv.Rendezvous != rendezvousAddr {
		t.Fatalf("invitation rendezvous %q", inv.Rendezvous)
	}
	if c.relay != "" {
		if err := waitRegistered(ctx, lab, inv, true); err != nil {
			t.Fatal(err)
		}
	}
	viewerEvents := make(chan viewer.Event, 256)
	var v *viewer.Viewer
	start := time.Now()
	lab.in(c.viewerNS, func() {
		var err error
		v, err = viewer.Open(ctx, viewer.Config{
			Invitation: inv, Password: h.Password(), Name: natHelper,
			OnEvent: func(e viewer.Event) {
				select {
				case viewerEvents <- e:
				default:
				}
			},
		})
		if err != nil {
			t.Fatalf("viewer: %v", err)
		}
	})
	took := time.Since(start)
	updates, stopUpdates := v.SubscribeScreen()
	defer stopUpdates()
	viewerDone := make(chan error, 1)
	go func() { viewerDone <- v.Run(ctx) }()
	defer func() { v.Disconnect(""); <-viewerDone }()

	ve := waitViewer(t, viewerEvents, viewer.EventConnected)
	he := waitHost(t, hostEvents, host.EventConnected)
	t.Logf("connected over %s in %v (viewer at %s, host at %s)", ve.Path, took.Round(time.Millisecond), he.Addr, ve.Addr)
	if ve.Path != c.wantPath || he.Path != c.wantPath {
		t.Errorf("path: viewer says %q, host says %q; want %q", ve.Path, he.Path, c.wantPath)
	}
	if !strings.HasPrefix(ve.Addr, c.wantHostAddr) {
		t.Errorf("viewer reached the host at %s, want %s*", ve.Addr, c.wantHostAddr)
	}
	if !strings.HasPrefix(he.Addr, c.wantViewerAddr) {
		t.Errorf("host saw the viewer at %s, want %s*", he.Addr, c.wantViewerAddr)
	}
	if err := v.Chat(natChat); err != nil {
		t.Fatal(err)
	}
	if e := waitHost(t, hostEvents, host.EventChat); e.Text != natChat {
		t.Errorf("host got chat %q", e.Text)
	}
	if err := h.Chat("hello back"); err != nil {
		t.Fatal(err)
	}
	for e := waitViewer(t, viewerEvents, viewer.EventChat); e.Self; e = waitViewer(t, viewerEvents, viewer.EventChat) {
	}
	for n := 0; n < 3; n++ {
		select {
		case <-updates:
		case <-ctx.Done():
			t.Fatalf("only %d screen updates reached the viewer", n)
		}
	}
	var lit int
	v.Framebuffer(func(img *screen.Image) {
		if img.W != 320 || img.H != 200 {
			t.Errorf("the viewer's screen is %dx%d, want 320x200", img.W, img.H)
		}
		for y := 0; y < img.H; y++ {
			for _, b := range img.Row(y) {
				if b != 0 {
					lit++
				}
			}
		}
	})
	if lit == 0 {
		t.Error("the viewer's screen is all black: no frame passed")
	}
	return rec
}

// natHelper is the helper's name, sent in the hello; the relay must never
// see it.
const natHelper = "Bob from the help desk"

// natChat is the chat line the cases send; the relay must never see it.
const natChat = "hello through the NAT: the quick brown fox"

// TestNATBothPortRestricted: host and viewer each behind a NAT that lets in
// only replies; the rendezvous swaps their candidates, both punch, and the
// viewer connects to the host's public mapping.
func TestNATBothPortRestricted(t *testing.T) {
	natSession(t, natCase{viewerNS: "v", wantPath: session.PathPunched, wantViewerAddr: "203.0.113.20:", wantHostAddr: "203.0.113.10:"})
}

// TestNATSameLAN: a helper on the host's own LAN reaches it directly, even
// though the invitation names a rendezvous.
func TestNATSameLAN(t *testing.T) {
	natSession(t, natCase{viewerNS: "l", wantPath: session.PathLAN, wantViewerAddr: "192.0.2.3:", wantHostAddr: "192.0.2.2:"})
}

// TestNATSymmetricRelayed: the host's NAT gives every destination another
// port, so the mapping the rendezvous saw is useless to the viewer and
// punching fails; the host's relayed address on the rendezvous's embedded
// TURN relay carries the session. What the relay forwarded is QUIC
// ciphertext: the chat line and the hello (helper's name, invitation id)
// never appear in it.
func TestNATSymmetricRelayed(t *testing.T) {
	rec := natSession(t, natCase{
		lab: labConfig{symmetric: true}, viewerNS: "v", relay: "embedded",
		wantPath: session.PathRelayed, wantViewerAddr: "203.0.113.20:", wantHostAddr: "203.0.113.1:",
	})
	checkCiphertext(t, rec.datagrams())
}

// TestNATSymmetricCoturn: as above through an external relay, coturn,
// which the rendezvous hands out credentials for.
func TestNATSymmetricCoturn(t *testing.T) {
	natSession(t, natCase{
		lab: labConfig{symmetric: true}, viewerNS: "v", relay: "coturn",
		wantPath: session.PathRelayed, wantViewerAddr: "203.0.113.20:", wantHostAddr: "203.0.113.5:",
	})
}

// TestNATIPv6Direct: both sides also have global IPv6 addresses (routed,
// no NAT, as Teredo once emulated for Windows Remote Assistance): the
// IPv6 candidates get the Happy Eyeballs head start and the session runs
// directly over IPv6, though punching over IPv4 would also work.
func TestNATIPv6Direct(t *testing.T) {
	natSession(t, natCase{
		lab: labConfig{ipv6: true}, viewerNS: "v", relay: "embedded",
		wantPath: session.PathDirect, wantViewerAddr: "[2001:db8:2::2]:", wantHostAddr: "[2001:db8:1::2]:",
	})
}

// TestNATRelayWaitsForDirect: with a relay on offer, a punchable path still
// wins (the relay only joins the race after the direct paths' head start).
func TestNATRelayWaitsForDirect(t *testing.T) {
	natSession(t, natCase{viewerNS: "v", relay: "embedded", wantPath: session.PathPunched, wantViewerAddr: "203.0.113.20:", wantHostAddr: "203.0.113.10:"})
}

// checkCiphertext looks at everything the relay's socket carried: the
// relayed QUIC packets must be there (the session went through it), and
// nothing said in the session may appear in the clear.
func checkCiphertext(t *testing.T, grams [][]byte) {
	t.Helper()
	var relayed int
	for _, g := range grams {
		if len(g) > 4 && g[0]&0xC0 == 0x40 { // ChannelData
			relayed += len(g) - 4
		} else if len(g) > 20 && g[0]&0xC0 == 0 {
			m := &stun.Message{Raw: g}
			if m.Decode() == nil {
				if d, err := m.Get(stun.AttrData); err == nil {
					relayed += len(d)
				}
			}
		}
		// Long enough not to turn up in 20 KB of ciphertext by chance.
		for _, secret := range []string{natChat, "hello back", "quick brown fox", natHelper} {
			if bytes.Contains(g, []byte(secret)) {
				t.Fatalf("the relay saw %q in the clear", secret)
			}
		}
	}
	t.Logf("the relay carried %d bytes of session data in %d datagrams", relayed, len(grams))
	if relayed < 10_000 {
		t.Fatalf("only %d relayed bytes went through the relay: the session did not use it", relayed)
	}
}

// TestNATLabFilters checks the lab itself: a datagram to the host's public
// mapping is dropped until the host has sent to the viewer's mapping, so
// the punched test above really needs the probes.
func TestNATLabFilters(t *testing.T) {
	lab := newNATLab(t)
	listen := func(ns string) *net.UDPConn {
		var c *net.UDPConn
		lab.in(ns, func() {
			var err error
			if c, err = net.ListenUDP("udp4", nil); err != nil {
				t.Fatal(err)
			}
		})
		t.Cleanup(func() { c.Close() })
		return c
	}
	pub, hc, vc := listen("pub"), listen("h"), listen("v")
	mapping := func(c *net.UDPConn) *net.UDPAddr {
		t.Helper()
		if _, err := c.WriteToUDP([]byte("hi"), &net.UDPAddr{IP: net.IPv4(203, 0, 113, 1), Port: pub.LocalAddr().(*net.UDPAddr).Port}); err != nil {
			t.Fatal(err)
		}
		pub.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, from, err := pub.ReadFromUDP(make([]byte, 64))
		if err != nil {
			t.Fatal(err)
		}
		return from
	}
	hostPub, viewPub := mapping(hc), mapping(vc)
	if !hostPub.IP.Equal(net.IPv4(203, 0, 113, 10)) || !viewPub.IP.Equal(net.IPv4(203, 0, 113, 20)) {
		t.Fatalf("mappings %s and %s are not the routers' WAN addresses", hostPub, viewPub)
	}
	arrives := func(c *net.UDPConn) bool {
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		_, _, err := c.ReadFromUDP(make([]byte, 64))
		return err == nil
	}
	vc.WriteToUDP([]byte("unsolicited"), hostPub)
	if arrives(hc) {
		t.Fatal("the host's NAT let an unsolicited datagram in: the lab does not filter")
	}
	hc.WriteToUDP([]byte("punch"), viewPub) // opens the host's NAT to the viewer (the viewer's NAT has a hole for the host already)
	if !arrives(vc) {
		t.Fatal("the host's probe did not reach the viewer, whose NAT had sent to the host")
	}
	vc.WriteToUDP([]byte("after the punch"), hostPub)
	if !arrives(hc) {
		t.Fatal("the viewer's datagram did not pass the punched hole")
	}
}

// waitRegistered waits until the rendezvous knows the invitation's host
// and, with relayed set, its relayed address.
func waitRegistered(ctx context.Context, lab *natLab, inv *invitations.Invitation, relayed bool) error {
	for {
		var sock *session.Socket
		var err error
		lab.in("pub", func() { sock, err = session.ListenSocket("203.0.113.1:0") })
		if err != nil {
			return err
		}
		sk, err := rendezvous.Seek(ctx, rendezvous.SeekConfig{
			Server: netip.MustParseAddrPort(rendezvousAddr), Conn: sock, InvitationID: inv.ID, Pin: inv.Pin,
		})
		if err != nil {
			sock.Close()
			return fmt.Errorf("the rendezvous does not know the host: %w", err)
		}
		ok := !relayed || sk.HostRelayed().IsValid()
		sk.Close()
		sock.Close()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.New("the host never announced a relayed address")
		case <-time.After(20 * time.Millisecond):
		}
	}
}
