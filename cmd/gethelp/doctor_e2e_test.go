package main_test

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gethelp/gethelp/host/x11/x11test"
	"github.com/gethelp/gethelp/invitations"
)

// doctorFinding is one finding of gethelp doctor --json.
type doctorFinding struct {
	Check, Status, Fact, Meaning string
	Details                      map[string]any
}

// doctorJSON is gethelp doctor --json's report.
type doctorJSON struct {
	Type, Side, Rendezvous string
	RendezvousFrom         string `json:"rendezvous_from"`
	NATType                string `json:"nat_type"`
	Problems, Warnings     int
	Findings               []doctorFinding
}

func (r doctorJSON) find(t *testing.T, check string) doctorFinding {
	t.Helper()
	for _, f := range r.Findings {
		if f.Check == check {
			return f
		}
	}
	t.Fatalf("no %s finding in %+v", check, r.Findings)
	return doctorFinding{}
}

// doctor runs gethelp doctor --json and decodes its report.
func (e *env) doctor(args ...string) (doctorJSON, int) {
	e.t.Helper()
	out, errOut, code := e.run("", append([]string{"doctor", "--json"}, args...)...)
	var r doctorJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Type != "doctor" || strings.Count(out, "\n") != 1 {
		e.t.Fatalf("gethelp doctor %v: not one JSON report (%v): %s\nstderr: %s", args, err, out, errOut)
	}
	return r, code
}

// withoutDisplay drops the display variables the test runner may have.
func (e *env) withoutDisplay() {
	var vars []string
	for _, v := range e.vars {
		if !strings.HasPrefix(v, "DISPLAY=") && !strings.HasPrefix(v, "WAYLAND_DISPLAY=") {
			vars = append(vars, v)
		}
	}
	e.vars = vars
}

// startDoctorBot runs a real gethelp bot whose rendezvous listens on
// loopback, and returns its ready event.
func startDoctorBot(t *testing.T, e *env) map[string]any {
	t.Helper()
	config := e.write("bot.yaml", fmt.Sprintf(`bot:
  database: %s
  key_file: %s
  agent_listen: "127.0.0.1:0"
  admin_listen: "off"
  rendezvous_listen: "127.0.0.1:0"
  email:
    from: "gethelp <gethelp@bot.test>"
    smtp: {addr: "127.0.0.1:9", security: none}
  webchat:
    listen: "127.0.0.1:0"
    state_file: %s
`, e.path("bot.db"), e.path("bot-key.pem"), e.path("webchat.json")))
	_, ready := e.startBot(config)
	if str(ready, "rendezvous_addr") == "" || str(ready, "rendezvous_alt_addr") == "" {
		t.Fatalf("the bot's rendezvous has no second port: %v", ready)
	}
	return ready
}

// TestDoctorWithBot: gethelp doctor against a real bot's rendezvous on
// loopback, as a helper: no NAT, the rendezvous answers, and the relay
// finding agrees with what the bot says it runs. Then the readable report.
func TestDoctorWithBot(t *testing.T) {
	e := newEnv(t)
	ready := startDoctorBot(t, e)
	rv := str(ready, "rendezvous_addr")

	r, code := e.doctor("--helper", "--rendezvous", rv)
	if code != 0 || r.Problems != 0 || r.Side != "helper" || r.Rendezvous != rv || r.RendezvousFrom != "--rendezvous" {
		t.Fatalf("exit %d, report %+v", code, r)
	}
	if r.NATType != "open" {
		t.Errorf("NAT type %q on loopback, want open", r.NATType)
	}
	if f := r.find(t, "rendezvous"); f.Status != "ok" || f.Details["addr"] != rv || f.Details["rtt_ms"] == nil {
		t.Errorf("rendezvous finding %+v", f)
	}
	if f := r.find(t, "nat"); f.Status != "ok" || f.Details["type"] != "open" || f.Details["unsolicited_gets_in"] != true {
		t.Errorf("nat finding %+v", f)
	}
	if f := r.find(t, "display"); f.Status != "skipped" {
		t.Errorf("display finding %+v on the helper's side", f)
	}
	relay := r.find(t, "relay")
	switch {
	case relay.Details["addr"] != rv:
		t.Errorf("relay checked at %v, want the rendezvous's address %s", relay.Details["addr"], rv)
	case str(ready, "relay_addr") == rv && (relay.Status != "ok" || relay.Details["realm"] == ""):
		t.Errorf("the bot relays at %s, but the doctor says %+v", rv, relay)
	case str(ready, "relay_addr") == "" && relay.Status != "warning":
		t.Errorf("the bot runs no relay, but the doctor says %+v", relay)
	}
	for _, f := range r.Findings {
		if f.Status != "skipped" && (f.Fact == "" || f.Meaning == "") {
			t.Errorf("finding without a fact or a meaning: %+v", f)
		}
	}

	// --relay adds a relay finding; one that is not HOST:PORT is a warning.
	for _, tc := range []struct{ relay, want string }{{rv, str(ready, "relay_addr")}, {"not-an-address", ""}} {
		r, _ = e.doctor("--helper", "--rendezvous", rv, "--relay", tc.relay)
		var relays []doctorFinding
		for _, f := range r.Findings {
			if f.Check == "relay" {
				relays = append(relays, f)
			}
		}
		if len(relays) != 2 || relays[1].Details["addr"] != tc.relay || (relays[1].Status == "ok") != (tc.want == tc.relay) {
			t.Errorf("--relay %s: relay findings %+v", tc.relay, relays)
		}
	}

	out, _, code := e.run("", "doctor", "--helper", "--rendezvous", rv)
	t.Logf("the readable report:\n%s", out)
	for _, want := range []string{
		"gethelp doctor: this computer, to help others; rendezvous " + rv + " (from --rendezvous)",
		"  ok       rendezvous  " + rv + " answers over UDP (round trip ",
		"  ok       nat         open: no NAT",
		"                       Direct connections work",
		"no problems",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if code != 0 {
		t.Errorf("exit %d", code)
	}
}

// TestDoctorHostSide: as the person to be helped, the screen matters: an
// X display that opens is fine; no display at all is a problem (exit 1).
func TestDoctorHostSide(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an X server")
	}
	e := newEnv(t)
	e.withoutDisplay()
	r, code := e.doctor()
	if f := r.find(t, "display"); code != 1 || f.Status != "problem" || !strings.Contains(f.Meaning, "cannot share its screen") {
		t.Errorf("without a display: exit %d, %+v", code, f)
	}
	if f := r.find(t, "rendezvous"); f.Status != "skipped" || !strings.Contains(f.Fact, "--rendezvous") {
		t.Errorf("no rendezvous anywhere: %+v", f)
	}

	display, _ := x11test.StartXvfb(t, 640, 400, 24)
	e.vars = append(e.vars, "DISPLAY="+display)
	r, code = e.doctor()
	if f := r.find(t, "display"); code != 0 || f.Status != "ok" || !strings.Contains(f.Fact, "640x400") {
		t.Errorf("on Xvfb: exit %d, %+v", code, f)
	}
}

// TestDoctorRendezvousSources: the rendezvous comes from the flag, else the
// invitation, else the settings; an unreadable invitation is a finding.
func TestDoctorRendezvousSources(t *testing.T) {
	e := newEnv(t)
	srv := freePort(t, "udp") // nothing answers there: only where it came from matters
	inv := &invitations.Invitation{ID: invitations.NewID(), HostName: "Alice", Created: time.Now().UTC().Truncate(time.Second),
		Expires: time.Now().UTC().Truncate(time.Second).Add(-time.Minute), Pin: sha256.Sum256([]byte("key")),
		Addresses: []netip.AddrPort{netip.MustParseAddrPort("192.0.2.2:4000")}, Rendezvous: srv}
	inv.Created = inv.Expires.Add(-time.Hour) // expired: it still names its rendezvous
	data, err := inv.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	invFile := e.write("inv.gethelp", string(data))
	e.write("config/gethelp/config.yaml", "rendezvous: 192.0.2.9:3478\n")

	r, _ := e.doctor("--helper", "--timeout", "300ms", "--invitation", invFile)
	if r.Rendezvous != srv || r.RendezvousFrom != "invitation "+invFile {
		t.Errorf("from the invitation: %q from %q", r.Rendezvous, r.RendezvousFrom)
	}
	r, _ = e.doctor("--helper", "--timeout", "300ms")
	if r.Rendezvous != "192.0.2.9:3478" || !strings.HasPrefix(r.RendezvousFrom, "settings ") {
		t.Errorf("from the settings: %q from %q", r.Rendezvous, r.RendezvousFrom)
	}
	r, code := e.doctor("--helper", "--invitation", e.path("missing.gethelp"))
	if f := r.find(t, "rendezvous"); code != 0 || f.Status != "skipped" || !strings.Contains(f.Fact, "reading the invitation") {
		t.Errorf("a missing invitation: exit %d, %+v", code, f)
	}
}

// TestDoctorFindings: what goes wrong is a finding with exit status 1,
// never a crash: UDP that gets no answer, a broken policy file, broken
// settings. Bad flags are usage errors (2).
func TestDoctorFindings(t *testing.T) {
	e := newEnv(t)
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	r, code := e.doctor("--helper", "--timeout", "500ms", "--rendezvous", silent.LocalAddr().String())
	if f := r.find(t, "rendezvous"); code != 1 || f.Status != "problem" || !strings.Contains(f.Meaning, "UDP is blocked") || r.NATType != "blocked" {
		t.Errorf("a silent rendezvous: exit %d, nat %q, %+v", code, r.NATType, f)
	}

	e.write("policy.yaml", "allow_remote_assistance: maybe\n")
	r, code = e.doctor()
	if f := r.find(t, "policy"); code != 1 || f.Status != "problem" || !strings.Contains(f.Fact, "policy.yaml") {
		t.Errorf("a broken policy: exit %d, %+v", code, f)
	}
	e.write("policy.yaml", "allow_remote_assistance: false\nmax_invitation_ttl: 2h\n")
	r, _ = e.doctor("--helper")
	if f := r.find(t, "policy"); f.Status != "ok" || !strings.Contains(f.Fact, "remote assistance turned off") || !strings.Contains(f.Meaning, "helping others is not affected") {
		t.Errorf("remote assistance off, as a helper: %+v", f)
	}
	e.write("policy.yaml", "max_invitation_ttl: 2h\nallow_control: false\n")
	r, _ = e.doctor("--helper")
	if f := r.find(t, "policy"); f.Status != "ok" || !strings.Contains(f.Fact, "at most 2h0m0s") || !strings.Contains(f.Fact, "only watch") {
		t.Errorf("a restrictive policy: %+v", f)
	}

	e.write("config/gethelp/config.yaml", "no_such_setting: 1\n")
	r, code = e.doctor("--helper")
	if f := r.find(t, "settings"); code != 1 || f.Status != "problem" || !strings.Contains(f.Fact, "no_such_setting") {
		t.Errorf("broken settings: exit %d, %+v", code, f)
	}
	if _, stderr, code := e.run("", "invitations", "list"); code != 1 || !strings.Contains(stderr, "no_such_setting") {
		t.Errorf("other commands still stop at broken settings: exit %d, %s", code, stderr)
	}

	for _, args := range [][]string{{"--timeout", "0s"}, {"extra"}, {"--timeout", "soon"}} {
		if _, _, code := e.run("", append([]string{"doctor"}, args...)...); code != 2 {
			t.Errorf("gethelp doctor %v: exit %d, want 2", args, code)
		}
	}
}
