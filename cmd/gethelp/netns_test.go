package main_test

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// netns creates a pair of network namespaces joined by a veth link, each
// side with the given addresses, and removes them when the test ends. It
// needs root (CI runs as root); elsewhere the test is skipped.
func netns(t *testing.T, hostAddrs, viewerAddrs []string) (hostNS, viewerNS string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root")
	}
	id := fmt.Sprintf("%d", os.Getpid()%100000)
	hostNS, viewerNS = "gh-host-"+id, "gh-view-"+id
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	ip("netns", "add", hostNS)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", hostNS).Run() })
	ip("netns", "add", viewerNS)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", viewerNS).Run() })
	ip("link", "add", "gh-h"+id, "netns", hostNS, "type", "veth", "peer", "name", "gh-v"+id, "netns", viewerNS)
	for _, side := range []struct {
		ns, dev string
		addrs   []string
	}{{hostNS, "gh-h" + id, hostAddrs}, {viewerNS, "gh-v" + id, viewerAddrs}} {
		ip("-n", side.ns, "link", "set", "lo", "up")
		for _, a := range side.addrs {
			ip("-n", side.ns, "addr", "add", a, "dev", side.dev, "nodad")
		}
		ip("-n", side.ns, "link", "set", side.dev, "up")
	}
	return hostNS, viewerNS
}

// inNS runs the rest of a command line inside network namespace ns.
func inNS(ns string, args ...string) []string {
	return append([]string{"netns", "exec", ns, binary}, args...)
}

// TestDirectIPv6BetweenHosts puts host and viewer on two machines (network
// namespaces) that share only a global IPv6 link: the host listens on all
// interfaces, lists its addresses in the invitation, and the viewer reaches
// it over IPv6 with no NAT in the way.
func TestDirectIPv6BetweenHosts(t *testing.T) {
	hostNS, viewerNS := netns(t, []string{"2001:db8:47::1/64"}, []string{"2001:db8:47::2/64"})
	e := newEnv(t)
	h := e.startCmd("ip", inNS(hostNS, "host", "invite", "--json", "--out", e.path("inv.gethelp"), "--name", "Alice")...)
	inv := h.next("invitation")
	h.next("waiting")
	addrs, _ := inv["addresses"].([]any)
	if len(addrs) != 1 || !strings.HasPrefix(addrs[0].(string), "[2001:db8:47::1]:") {
		t.Fatalf("invitation addresses %v, want only the host's global IPv6 address", addrs)
	}
	v := e.startCmd("ip", inNS(viewerNS, "viewer", "open", "--json", "--name", "Bob",
		"--password-file", e.passwordFile(str(inv, "password")), str(inv, "file"))...)
	if ev := v.next("connected"); !strings.HasPrefix(str(ev, "addr"), "[2001:db8:47::1]:") {
		t.Errorf("viewer connected over %q, want the IPv6 address", str(ev, "addr"))
	}
	if ev := h.next("connected"); !strings.HasPrefix(str(ev, "addr"), "[2001:db8:47::2]:") {
		t.Errorf("host saw the helper at %q", str(ev, "addr"))
	}
	v.send(map[string]any{"type": "chat", "text": "hello over IPv6"})
	if ev := h.next("chat"); str(ev, "text") != "hello over IPv6" {
		t.Errorf("chat: %v", ev)
	}
	v.send(map[string]any{"type": "disconnect"})
	h.next("disconnected")
}
