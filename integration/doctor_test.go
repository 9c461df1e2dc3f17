//go:build linux

package integration_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gethelp/gethelp/rendezvous"
	"github.com/gethelp/gethelp/session"
)

// The doctor's lab: a rendezvous with a second port on the "internet"
// and one computer per kind of NAT, each behind a router of its own.
// Only documentation ranges; nothing has a route out of the machine.
//
//	pub  bridge "inet", 203.0.113.1/24 and 2001:db8:1::1/64: the rendezvous
//	     on ports 3478 and 3479
//	o    203.0.113.7 and 2001:db8:1::7 on the bridge: no NAT
//	rN   a router: WAN 203.0.113.1N, LAN 192.0.2.1/24 with the rules below
//	cN   the computer behind it: 192.0.2.2
type doctorLab struct {
	*natLab
}

// natKinds are the routers of the doctor's lab: nftables rules and the
// type DetectNAT must report behind them.
var natKinds = []struct {
	name  string
	rules string
	want  rendezvous.NATType
}{
	{
		// Masquerade keeps one public port per local port (an
		// endpoint-independent mapping); the input chain drops what is
		// not a reply.
		name: "port-restricted",
		rules: `
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
}`,
		want: rendezvous.NATPortRestricted,
	},
	{
		// Masquerade alone filters just the same: conntrack matches a
		// reply on the whole 5-tuple, and a datagram from another port
		// is a new flow addressed to the router itself (which has no
		// socket there), never forwarded. Linux has no cone NAT without
		// a forwarding rule.
		name: "masquerade only",
		rules: `
table ip nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan" masquerade
	}
}`,
		want: rendezvous.NATPortRestricted,
	},
	{
		// A cone: masquerade, and every UDP port of the WAN address
		// forwarded to the one computer behind it (a "DMZ host"), so a
		// datagram from anywhere reaches the mapping.
		name: "cone",
		rules: `
table ip nat {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "wan" meta l4proto udp dnat to 192.0.2.2
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan" masquerade
	}
}`,
		want: rendezvous.NATCone,
	},
	{
		// A new random public port for every destination.
		name: "symmetric",
		rules: `
table ip nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan" masquerade random,fully-random
	}
}
table ip filter {
	chain input {
		type filter hook input priority filter; policy accept;
		iifname "wan" meta l4proto udp drop
	}
}`,
		want: rendezvous.NATSymmetric,
	},
	{
		// UDP does not get out at all.
		name: "UDP blocked",
		rules: `
table ip nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan" masquerade
	}
}
table ip filter {
	chain forward {
		type filter hook forward priority filter; policy accept;
		meta l4proto udp drop
	}
}`,
		want: rendezvous.NATBlocked,
	},
}

const doctorRendezvous = "203.0.113.1:3478"

func newDoctorLab(t *testing.T) *doctorLab {
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
	l := &doctorLab{&natLab{t: t, prefix: fmt.Sprintf("gd%04x%x", os.Getpid()&0xffff, labSeq.Add(1)&0xf)}}
	names := []string{"pub", "o"}
	for i := range natKinds {
		names = append(names, fmt.Sprintf("r%d", i), fmt.Sprintf("c%d", i))
	}
	for _, ns := range names {
		l.run("ip", "netns", "add", l.ns(ns))
		t.Cleanup(func() { exec.Command("ip", "netns", "del", l.ns(ns)).Run() })
		l.ip(ns, "link", "set", "lo", "up")
	}
	l.ip("pub", "link", "add", "inet", "type", "bridge")
	l.ip("pub", "addr", "add", "203.0.113.1/24", "dev", "inet")
	l.ip("pub", "addr", "add", "2001:db8:1::1/64", "dev", "inet", "nodad")
	l.ip("pub", "link", "set", "inet", "up")
	l.veth("o", "eth0", "pub", "to-o")
	l.ip("pub", "link", "set", "to-o", "master", "inet", "up")
	l.ip("o", "addr", "add", "203.0.113.7/24", "dev", "eth0")
	l.ip("o", "addr", "add", "2001:db8:1::7/64", "dev", "eth0", "nodad")
	l.ip("o", "link", "set", "eth0", "up")
	for i, k := range natKinds {
		r, c := fmt.Sprintf("r%d", i), fmt.Sprintf("c%d", i)
		l.veth(r, "wan", "pub", "to-"+r)
		l.ip("pub", "link", "set", "to-"+r, "master", "inet", "up")
		l.ip(r, "addr", "add", fmt.Sprintf("203.0.113.%d/24", 10+i), "dev", "wan")
		l.ip(r, "link", "set", "wan", "up")
		l.veth(c, "eth0", r, "lan")
		l.ip(r, "addr", "add", "192.0.2.1/24", "dev", "lan")
		l.ip(r, "link", "set", "lan", "up")
		l.ip(c, "addr", "add", "192.0.2.2/24", "dev", "eth0")
		l.ip(c, "link", "set", "eth0", "up")
		l.ip(c, "route", "add", "default", "via", "192.0.2.1")
		l.run("ip", "netns", "exec", l.ns(r), "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
		l.nft(r, k.rules)
	}
	t.Logf("doctor's lab up in %v", time.Since(start).Round(time.Millisecond))
	return l
}

// startRendezvous runs a rendezvous in pub on port and port+1 (its second
// port), with the embedded relay on port when relay is set.
func (l *doctorLab) startRendezvous(port int, relay bool) *rendezvous.Server {
	l.t.Helper()
	var srv *rendezvous.Server
	var err error
	cfg := rendezvous.ServerConfig{}
	if relay {
		cfg.Relay = &rendezvous.RelayConfig{Secret: "doctor-lab-secret", RelayIP: netip.MustParseAddr("203.0.113.1"),
			ListenPacket: func(network, addr string) (pc net.PacketConn, err error) {
				l.in("pub", func() { pc, err = net.ListenPacket(network, addr) })
				return pc, err
			}}
	}
	l.in("pub", func() {
		if cfg.Alt, err = net.ListenPacket("udp", fmt.Sprintf(":%d", port+1)); err != nil {
			return
		}
		if srv, err = rendezvous.Listen(fmt.Sprintf(":%d", port), cfg); err != nil {
			cfg.Alt.Close()
		}
	})
	if err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(func() { srv.Close() })
	return srv
}

// TestDoctorLabNATTypes runs DetectNAT from each computer of the lab, over
// the socket type host and viewer use (session.Socket), and checks the
// type it reports.
func TestDoctorLabNATTypes(t *testing.T) {
	lab := newDoctorLab(t)
	lab.startRendezvous(3478, false)
	server := netip.MustParseAddrPort(doctorRendezvous)
	cases := []struct {
		name, ns string
		want     rendezvous.NATType
	}{{"no NAT", "o", rendezvous.NATOpen}}
	for i, k := range natKinds {
		cases = append(cases, struct {
			name, ns string
			want     rendezvous.NATType
		}{k.name, fmt.Sprintf("c%d", i), k.want})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // each computer in its own namespaces
			var (
				r    rendezvous.NATReport
				err  error
				took time.Duration
			)
			lab.in(tc.ns, func() {
				var socks [2]*session.Socket
				for i := range socks {
					if socks[i], err = session.ListenSocket(":0"); err != nil {
						return // (t.Fatal must not run on this goroutine)
					}
					defer socks[i].Close()
				}
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				defer cancel()
				start := time.Now()
				r, err = rendezvous.DetectNAT(ctx, socks[0], socks[1], server)
				took = time.Since(start)
			})
			t.Logf("%s: %+v (%v) in %v", tc.name, r, err, took.Round(time.Millisecond))
			if r.Type != tc.want {
				t.Errorf("type %q, want %q", r.Type, tc.want)
			}
			if tc.want == rendezvous.NATBlocked {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.ns == "o" && r.Mapped.Addr().String() != "203.0.113.7" {
				t.Errorf("mapped %s, want the computer's own 203.0.113.7", r.Mapped)
			}
			if tc.ns != "o" && !(r.Mapped.Addr().Is4() && r.Mapped.Addr().As4()[3] >= 10) {
				t.Errorf("mapped %s, want the router's WAN address", r.Mapped)
			}
		})
	}
}

// buildGethelp builds the gethelp command for the test.
func buildGethelp(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "gethelp")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/gethelp/gethelp/cmd/gethelp").CombinedOutput(); err != nil {
		t.Fatalf("building gethelp: %v\n%s", err, out)
	}
	return bin
}

// TestDoctorLabReports runs the real gethelp doctor --json on each computer
// of the lab (under ip netns exec) and checks its report: the NAT type, the
// rendezvous over IPv4 and, where there is IPv6, over IPv6 (by name, from
// the namespace's own /etc/hosts), the relay, and the exit status. The
// rendezvous at 3478 embeds a relay, the one at 3490 has none: behind a
// symmetric NAT, that is a problem unless --relay names one that answers.
func TestDoctorLabReports(t *testing.T) {
	lab := newDoctorLab(t)
	lab.startRendezvous(3478, true)
	lab.startRendezvous(3490, false)
	bin := buildGethelp(t)
	// ip netns exec mounts /etc/netns/NAME/hosts over /etc/hosts.
	etc := filepath.Join("/etc/netns", lab.ns("o"))
	if err := os.MkdirAll(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(etc) })
	if err := os.WriteFile(filepath.Join(etc, "hosts"), []byte("203.0.113.1 rendezvous.test\n2001:db8:1::1 rendezvous.test\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "XDG_CONFIG_HOME=" + home, "XDG_STATE_HOME=" + home}

	type labCase struct {
		name, ns  string
		args      []string
		want      rendezvous.NATType
		wantRelay []string // the relay findings' statuses
		wantExit  int
	}
	cases := []labCase{{name: "no NAT", ns: "o", args: []string{"--rendezvous", "rendezvous.test:3478"},
		want: rendezvous.NATOpen, wantRelay: []string{"ok"}}}
	symmetric := ""
	for i, k := range natKinds {
		c := labCase{name: k.name, ns: fmt.Sprintf("c%d", i), args: []string{"--rendezvous", doctorRendezvous}, want: k.want, wantRelay: []string{"ok"}}
		switch k.want {
		case rendezvous.NATBlocked:
			c.wantExit, c.wantRelay = 1, []string{"warning"}
		case rendezvous.NATSymmetric:
			symmetric = c.ns
		}
		cases = append(cases, c)
	}
	cases = append(cases,
		labCase{name: "symmetric, no relay", ns: symmetric, args: []string{"--rendezvous", "203.0.113.1:3490"},
			want: rendezvous.NATSymmetric, wantRelay: []string{"problem"}, wantExit: 1},
		labCase{name: "symmetric, --relay", ns: symmetric, args: []string{"--rendezvous", "203.0.113.1:3490", "--relay", doctorRendezvous},
			want: rendezvous.NATSymmetric, wantRelay: []string{"warning", "ok"}})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"netns", "exec", lab.ns(tc.ns), bin, "doctor", "--json", "--helper", "--timeout", "3s"}, tc.args...)
			cmd := exec.Command("ip", args...)
			cmd.Env = env
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			var rep struct {
				NATType  string `json:"nat_type"`
				TookMS   int64  `json:"took_ms"`
				Findings []struct {
					Check, Status, Fact string
				}
			}
			if err := json.Unmarshal(out, &rep); err != nil {
				t.Fatalf("not a JSON report (%v): %s\n%s", err, out, stderr.String())
			}
			status := map[string]string{}
			var relays []string
			for _, f := range rep.Findings {
				status[f.Check] = f.Status
				if f.Check == "relay" {
					relays = append(relays, f.Status)
				}
				t.Logf("%-8s %-10s %s", f.Status, f.Check, f.Fact)
			}
			t.Logf("%s: nat %s, exit %d, doctor took %d ms", tc.name, rep.NATType, code, rep.TookMS)
			if rep.NATType != string(tc.want) || code != tc.wantExit {
				t.Errorf("nat %q, exit %d; want %q, exit %d", rep.NATType, code, tc.want, tc.wantExit)
			}
			if strings.Join(relays, ",") != strings.Join(tc.wantRelay, ",") {
				t.Errorf("relay findings %v, want %v", relays, tc.wantRelay)
			}
			wantRendezvous := "ok"
			if tc.want == rendezvous.NATBlocked {
				wantRendezvous = "problem"
			}
			if status["rendezvous"] != wantRendezvous {
				t.Errorf("rendezvous finding %q, want %q", status["rendezvous"], wantRendezvous)
			}
			if tc.ns == "o" && status["ipv6"] != "ok" {
				t.Errorf("ipv6 finding %q where the rendezvous answers over IPv6", status["ipv6"])
			}
		})
	}
}
