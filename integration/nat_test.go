//go:build linux

package integration_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/rendezvous"
	"github.com/gethelp/gethelp/session"
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
// (port-restricted filtering): hole punching must open both. Nothing has a
// route out of the machine.
type natLab struct {
	t      *testing.T
	prefix string
}

const rendezvousAddr = "203.0.113.1:3478"

var labSeq atomic.Int32

func newNATLab(t *testing.T) *natLab {
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
	for _, ns := range []string{"pub", "rh", "h", "l", "rv", "v"} {
		l.run("ip", "netns", "add", l.ns(ns))
		t.Cleanup(func() { exec.Command("ip", "netns", "del", l.ns(ns)).Run() })
		l.ip(ns, "link", "set", "lo", "up")
	}
	l.ip("pub", "link", "add", "inet", "type", "bridge")
	l.ip("pub", "addr", "add", "203.0.113.1/24", "dev", "inet")
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
	for _, r := range []string{"rh", "rv"} {
		l.run("ip", "netns", "exec", l.ns(r), "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
		l.nft(r, `
table ip nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan" masquerade
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

// natSession starts the rendezvous, a host in h and a viewer in viewerNS,
// and checks that they connect over the expected path and can chat.
func natSession(t *testing.T, viewerNS, wantPath, wantViewerAddr, wantHostAddr string) {
	lab := newNATLab(t)
	var pc net.PacketConn
	lab.in("pub", func() {
		var err error
		if pc, err = net.ListenPacket("udp", rendezvousAddr); err != nil {
			t.Fatal(err)
		}
	})
	srv := rendezvous.NewServer(pc, rendezvous.ServerConfig{})
	defer srv.Close()

	hostEvents := make(chan host.Event, 64)
	var h *host.Host
	lab.in("h", func() {
		var err error
		h, err = host.New(host.Config{
			TTL: time.Hour, HostName: "Alice", Rendezvous: rendezvousAddr,
			OnEvent: func(e host.Event) { hostEvents <- e },
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	defer h.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	hostDone := make(chan error, 1)
	go func() { hostDone <- h.Run(ctx) }()
	defer func() { cancel(); <-hostDone }()
	waitHost(t, hostEvents, host.EventWaiting)

	inv := h.Invitation()
	if inv.Rendezvous != rendezvousAddr {
		t.Fatalf("invitation rendezvous %q", inv.Rendezvous)
	}
	viewerEvents := make(chan viewer.Event, 64)
	var v *viewer.Viewer
	start := time.Now()
	lab.in(viewerNS, func() {
		var err error
		v, err = viewer.Open(ctx, viewer.Config{
			Invitation: inv, Password: h.Password(), Name: "Bob",
			OnEvent: func(e viewer.Event) { viewerEvents <- e },
		})
		if err != nil {
			t.Fatalf("viewer: %v", err)
		}
	})
	took := time.Since(start)
	viewerDone := make(chan error, 1)
	go func() { viewerDone <- v.Run(ctx) }()
	defer func() { v.Disconnect(""); <-viewerDone }()

	ve := waitViewer(t, viewerEvents, viewer.EventConnected)
	he := waitHost(t, hostEvents, host.EventConnected)
	t.Logf("connected over %s in %v (viewer at %s, host at %s)", ve.Path, took.Round(time.Millisecond), he.Addr, ve.Addr)
	if ve.Path != wantPath || he.Path != wantPath {
		t.Errorf("path: viewer says %q, host says %q; want %q", ve.Path, he.Path, wantPath)
	}
	if !strings.HasPrefix(ve.Addr, wantHostAddr) {
		t.Errorf("viewer reached the host at %s, want %s*", ve.Addr, wantHostAddr)
	}
	if !strings.HasPrefix(he.Addr, wantViewerAddr) {
		t.Errorf("host saw the viewer at %s, want %s*", he.Addr, wantViewerAddr)
	}
	if err := v.Chat("hello through the NAT"); err != nil {
		t.Fatal(err)
	}
	if e := waitHost(t, hostEvents, host.EventChat); e.Text != "hello through the NAT" {
		t.Errorf("host got chat %q", e.Text)
	}
	if err := h.Chat("hello back"); err != nil {
		t.Fatal(err)
	}
	for e := waitViewer(t, viewerEvents, viewer.EventChat); e.Self; e = waitViewer(t, viewerEvents, viewer.EventChat) {
	}
}

// TestNATBothPortRestricted: host and viewer each behind a NAT that lets in
// only replies; the rendezvous swaps their candidates, both punch, and the
// viewer connects to the host's public mapping.
func TestNATBothPortRestricted(t *testing.T) {
	natSession(t, "v", session.PathPunched, "203.0.113.20:", "203.0.113.10:")
}

// TestNATSameLAN: a helper on the host's own LAN reaches it directly, even
// though the invitation names a rendezvous.
func TestNATSameLAN(t *testing.T) {
	natSession(t, "l", session.PathLAN, "192.0.2.3:", "192.0.2.2:")
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
