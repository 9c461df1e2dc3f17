package main_test

// End-to-end tests of offering help (host serve, viewer keygen, viewer
// offer). Turning offers on takes the administrator's policy, which a
// release build reads only from /etc/gethelp/policy.yaml owned by root; so
// these tests build gethelp with the tag gethelp_testpolicy, which reads it
// from $GETHELP_TEST_ADMIN_POLICY instead (offerhelp_testhook.go).

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gethelp/gethelp/helperkey"
)

var (
	policyBinaryOnce sync.Once
	policyBinary     string
	policyBinaryErr  error
)

// offerBinary builds (once) gethelp with the test policy hook.
func offerBinary(t *testing.T) string {
	t.Helper()
	policyBinaryOnce.Do(func() {
		policyBinary = filepath.Join(filepath.Dir(binary), "gethelp-testpolicy")
		out, err := exec.Command("go", "build", "-race", "-tags", "gethelp_testpolicy", "-o", policyBinary, ".").CombinedOutput()
		if err != nil {
			policyBinaryErr = err
			t.Logf("%s", out)
		}
	})
	if policyBinaryErr != nil {
		t.Fatalf("building gethelp with the test policy hook: %v", policyBinaryErr)
	}
	return policyBinary
}

// offerEnv is one user's world, run with the test build; admin writes the
// administrator's policy.
type offerEnv struct {
	*env
	bin string
}

func newOfferEnv(t *testing.T) *offerEnv {
	e := &offerEnv{env: newEnv(t), bin: offerBinary(t)}
	e.vars = append(e.vars, "GETHELP_TEST_ADMIN_POLICY="+e.path("admin-policy.yaml"))
	return e
}

func (e *offerEnv) admin(policy string) { e.write("admin-policy.yaml", policy) }

// offerPolicy turns offers on for the helpers' key lines.
func offerPolicy(helpers ...string) string {
	var b strings.Builder
	b.WriteString("offer_help:\n  enabled: true\n  helpers:\n")
	for _, h := range helpers {
		b.WriteString("    - \"" + h + "\"\n")
	}
	return b.String()
}

func (e *offerEnv) start(args ...string) *proc {
	e.t.Helper()
	return e.startCmd(e.bin, args...)
}

// run runs the test build to completion: stdout, stderr, exit code.
func (e *offerEnv) run(stdin string, args ...string) (string, string, int) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.bin, args...)
	cmd.Env = e.vars
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("running gethelp %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

// keygen makes the helper's key and returns its public line.
func (e *offerEnv) keygen(name string) string {
	e.t.Helper()
	out, errOut, code := e.run("", "viewer", "keygen", "--name", name)
	if code != 0 {
		e.t.Fatalf("keygen: exit %d: %s", code, errOut)
	}
	line := strings.TrimSpace(out)
	if !strings.HasPrefix(line, "gethelp-helper-ed25519 ") || !strings.HasSuffix(line, " "+name) || strings.Count(line, "\n") > 0 {
		e.t.Fatalf("keygen printed %q", out)
	}
	return line
}

// serve starts host serve on loopback and returns it with its serving event.
func (e *offerEnv) serve(extra ...string) (*proc, map[string]any) {
	e.t.Helper()
	h := e.start(append([]string{"host", "serve", "--json", "--source", "none", "--listen", "127.0.0.1:0", "--name", "Alice"}, extra...)...)
	ev := h.next("serving")
	h.next("waiting")
	return h, ev
}

func servedAt(ev map[string]any) string {
	addrs, _ := ev["addresses"].([]any)
	if len(addrs) == 0 {
		return ""
	}
	s, _ := addrs[0].(string)
	return s
}

// fingerprint returns the fingerprint of a key line.
func fingerprint(t *testing.T, line string) string {
	t.Helper()
	k, err := helperkey.ParseLine(line)
	if err != nil {
		t.Fatal(err)
	}
	return k.Fingerprint()
}

// plain is a gethelp run in the terminal mode (not --json).
type plain struct {
	cmd         *exec.Cmd
	out, errOut syncBuffer
	done        chan struct{}
}

func (e *offerEnv) startPlain(args ...string) *plain {
	e.t.Helper()
	p := &plain{cmd: exec.Command(e.bin, args...), done: make(chan struct{})}
	p.cmd.Env = e.vars
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.errOut
	if err := p.cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	e.t.Cleanup(func() { p.cmd.Process.Kill(); <-p.done })
	return p
}

// exit waits for the run to end and returns its exit code.
func (p *plain) exit(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("gethelp did not exit; stderr:\n%s", p.errOut.String())
	}
	return p.cmd.ProcessState.ExitCode()
}

func TestOfferHelpAccepted(t *testing.T) {
	alice, bob := newOfferEnv(t), newOfferEnv(t)
	line := bob.keygen("Bob Smith")
	if out, _, code := bob.run("", "viewer", "keygen", "--show"); code != 0 || strings.TrimSpace(out) != line {
		t.Errorf("keygen --show printed %q (exit %d), want %q", out, code, line)
	}
	// The administrator's other rules apply to offered sessions too.
	alice.admin(offerPolicy(line) + "allow_control: false\n")
	h, serving := alice.serve()
	addr := servedAt(serving)
	hostKey := str(serving, "fingerprint")

	v := bob.start("viewer", "offer", "--json", "--name", "Bob", addr)
	if ev := v.next("host_key"); str(ev, "how") != "first_contact" || str(ev, "fingerprint") != hostKey {
		t.Errorf("first contact: %v; the host's key is %s", ev, hostKey)
	}
	offer := h.next("offer")
	if str(offer, "helper") != "Bob Smith" || !strings.HasPrefix(str(offer, "fingerprint"), "SHA256:") {
		t.Errorf("offer event: %v", offer)
	}
	bobKey := str(offer, "fingerprint")
	h.send(map[string]any{"type": "consent", "accept": true})
	if ev := v.next("connected"); str(ev, "host") != "Alice" {
		t.Errorf("viewer connected event: %v", ev)
	}
	if ev := h.next("connected"); str(ev, "helper") != "Bob Smith" {
		t.Errorf("host connected event: %v", ev)
	}

	v.send(map[string]any{"type": "chat", "text": "I saw your printer is jammed"})
	if ev := h.next("chat"); str(ev, "text") != "I saw your printer is jammed" || str(ev, "from") != "Bob Smith" {
		t.Errorf("host got chat %v", ev)
	}
	h.send(map[string]any{"type": "chat", "text": "yes, please fix it"})
	for {
		ev := v.next("chat")
		if ev["self"] == true {
			continue
		}
		if str(ev, "text") != "yes, please fix it" || str(ev, "from") != "Alice" {
			t.Errorf("viewer got chat %v", ev)
		}
		break
	}
	// The same rules as an invited session: here the policy allows no
	// control.
	v.send(map[string]any{"type": "request_control"})
	if ev := h.next("control_denied"); str(ev, "by") != "policy" || str(ev, "helper") != "Bob Smith" {
		t.Errorf("host control_denied: %v", ev)
	}
	if ev := v.next("control_denied"); str(ev, "by") != "policy" {
		t.Errorf("viewer control_denied: %v", ev)
	}

	v.send(map[string]any{"type": "disconnect"})
	h.next("disconnected")
	if code := v.exit(); code != 0 {
		t.Errorf("viewer exit code %d; stderr:\n%s", code, v.stderr)
	}
	// The host waits for the next offer; the known computer is no longer new.
	h.next("waiting")
	v2 := bob.start("viewer", "offer", "--json", addr)
	h.next("offer")
	h.send(map[string]any{"type": "consent", "accept": true})
	v2.next("connected")
	v2.send(map[string]any{"type": "disconnect"})
	h.next("disconnected")
	v2.exit()
	if ev, ok := findEvent(v2, "host_key"); ok {
		t.Errorf("second contact announced the key again: %v", ev)
	}

	h.cmd.Process.Signal(os.Interrupt)
	if code := h.exit(); code != 0 {
		t.Errorf("host exit code %d; stderr:\n%s", code, h.stderr)
	}
	logPath := str(serving, "log")
	out, errOut, code := alice.run("", "log", "verify", logPath)
	if code != 0 || !strings.Contains(out, "chain intact") {
		t.Fatalf("log verify: %d %s %s", code, out, errOut)
	}
	out, _, _ = alice.run("", "log", "show", logPath)
	for _, want := range []string{"offer ", "offer_accepted", "fingerprint=" + bobKey, `helper="Bob Smith"`, "I saw your printer is jammed", "yes, please fix it", "disconnected"} {
		if !strings.Contains(out, want) {
			t.Errorf("log show lacks %q:\n%s", want, out)
		}
	}
	known, err := os.ReadFile(filepath.Join(bob.dir, "config", "gethelp", "known_hosts"))
	if err != nil || !strings.Contains(string(known), addr+" "+hostKey) {
		t.Errorf("known_hosts: %q, %v; want %s %s", known, err, addr, hostKey)
	}
}

// findEvent drains what a process that has exited wrote and finds typ.
func findEvent(p *proc, typ string) (map[string]any, bool) {
	for ev := range p.events {
		if ev["type"] == typ {
			return ev, true
		}
	}
	return nil, false
}

func TestOfferHelpDeclined(t *testing.T) {
	alice, bob := newOfferEnv(t), newOfferEnv(t)
	alice.admin(offerPolicy(bob.keygen("Bob")))
	h, serving := alice.serve()

	// The helper's terminal: one line says why, and the exit code is 1.
	v := bob.startPlain("viewer", "offer", "--no-browser", servedAt(serving))
	offer := h.next("offer")
	h.send(map[string]any{"type": "consent", "accept": false})
	if ev := h.next("offer_declined"); str(ev, "by") != "deny" || str(ev, "fingerprint") != str(offer, "fingerprint") {
		t.Errorf("offer_declined: %v", ev)
	}
	if code := v.exit(t); code != 1 {
		t.Errorf("viewer exit code %d, want 1", code)
	}
	msg := strings.TrimSpace(v.errOut.String())
	if !strings.HasPrefix(msg, "gethelp: declined: ") || !strings.Contains(msg, "Alice declined") || strings.Contains(msg, "\n") {
		t.Errorf("viewer's refusal:\n%s", msg)
	}
	if out := v.out.String(); !strings.Contains(out, "First contact with "+servedAt(serving)) || !strings.Contains(out, str(serving, "fingerprint")) {
		t.Errorf("viewer's terminal does not show the computer's key:\n%s", out)
	}
	h.cmd.Process.Signal(os.Interrupt)
	h.exit()
	out, _, _ := alice.run("", "log", "show", str(serving, "log"))
	if !strings.Contains(out, "offer_declined") || !strings.Contains(out, "by=deny") || strings.Contains(out, "offer_accepted") {
		t.Errorf("log show:\n%s", out)
	}
}

// A key that is not on the list is refused in the TLS handshake: the
// person is never asked.
func TestOfferHelpUnknownKeyRefusedBeforeAnyPrompt(t *testing.T) {
	alice, bob, mallory := newOfferEnv(t), newOfferEnv(t), newOfferEnv(t)
	alice.admin(offerPolicy(bob.keygen("Bob")))
	mallorysKey := fingerprint(t, mallory.keygen("Bob")) // the name is Bob's, the key is not
	h, serving := alice.serve()
	addr := servedAt(serving)

	v := mallory.start("viewer", "offer", "--json", addr)
	if ev := v.next("error"); str(ev, "code") != "not_allowed" || !strings.HasPrefix(str(ev, "message"), "not allowed: ") {
		t.Errorf("viewer error: %v", ev)
	}
	if code := v.exit(); code != 1 {
		t.Errorf("viewer exit code %d", code)
	}
	if msg := strings.TrimSpace(v.stderr.String()); !strings.HasPrefix(msg, "gethelp: not allowed: ") || strings.Contains(msg, "\n") {
		t.Errorf("viewer's refusal:\n%s", msg)
	}

	// The host's events, in order: the refusal, and no prompt before Bob's.
	ev := nextOf(t, h, "offer_refused", "offer")
	if str(ev, "type") != "offer_refused" || str(ev, "by") != "not_allowed" || str(ev, "fingerprint") != mallorysKey {
		t.Fatalf("first offer event: %v; mallory's key is %s", ev, mallorysKey)
	}
	vb := bob.start("viewer", "offer", "--json", addr)
	if ev := nextOf(t, h, "offer_refused", "offer"); str(ev, "type") != "offer" || str(ev, "fingerprint") == mallorysKey {
		t.Fatalf("after mallory, the host showed %v", ev)
	}
	h.send(map[string]any{"type": "consent", "accept": false})
	vb.exit()
	h.cmd.Process.Signal(os.Interrupt)
	h.exit()
	out, _, _ := alice.run("", "log", "show", str(serving, "log"))
	if !strings.Contains(out, "offer_refused") || !strings.Contains(out, "reason=not_allowed") || !strings.Contains(out, mallorysKey) {
		t.Errorf("the log does not record the refused key:\n%s", out)
	}
}

// nextOf returns the next event whose type is one of types.
func nextOf(t *testing.T, p *proc, types ...string) map[string]any {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev, ok := <-p.events:
			if !ok {
				t.Fatalf("process ended before any of %v; stderr:\n%s", types, p.stderr)
			}
			for _, typ := range types {
				if ev["type"] == typ {
					return ev
				}
			}
		case <-timeout:
			t.Fatalf("none of %v within 20s; stderr:\n%s", types, p.stderr)
		}
	}
}

func TestOfferHelpPolicyOff(t *testing.T) {
	alice, bob := newOfferEnv(t), newOfferEnv(t)
	line := bob.keygen("Bob")

	t.Run("serve refuses without the administrator", func(t *testing.T) {
		for _, tc := range []struct {
			name, admin, user string
			want              []string
		}{
			{"no policy", "", "", []string{"offering help is off", alice.path("admin-policy.yaml")}},
			{"not enabled", "offer_help:\n  helpers: [\"" + line + "\"]\n", "", []string{"offering help is off", alice.path("admin-policy.yaml")}},
			{"turned off by GETHELP_POLICY", offerPolicy(line), "offer_help:\n  enabled: false\n", []string{"turned off", alice.path("policy.yaml")}},
			{"GETHELP_POLICY cannot turn it on", "", offerPolicy(line), []string{"only the administrator's policy", alice.path("policy.yaml")}},
			{"no helpers", "offer_help:\n  enabled: true\n", "", []string{"lists no helpers"}},
			{"bad helper line", offerPolicy("ssh-ed25519 AAAA bob"), "", []string{"helper 1", "not a helper key line"}},
			{"remote assistance off", offerPolicy(line) + "allow_remote_assistance: false\n", "", []string{"remote assistance is turned off"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				os.Remove(alice.path("admin-policy.yaml"))
				os.Remove(alice.path("policy.yaml"))
				if tc.admin != "" {
					alice.admin(tc.admin)
				}
				if tc.user != "" {
					alice.write("policy.yaml", tc.user)
				}
				_, errOut, code := alice.run("", "host", "serve", "--json", "--source", "none", "--listen", "127.0.0.1:0")
				msg := strings.TrimSpace(errOut)
				if code != 1 || strings.Contains(msg, "\n") {
					t.Fatalf("exit %d, want 1 and one line:\n%s", code, msg)
				}
				for _, w := range tc.want {
					if !strings.Contains(msg, w) {
						t.Errorf("%q lacks %q", msg, w)
					}
				}
			})
		}
		os.Remove(alice.path("policy.yaml"))
	})

	t.Run("turned off while serving", func(t *testing.T) {
		alice.admin(offerPolicy(line))
		h, serving := alice.serve()
		alice.admin("offer_help:\n  enabled: false\n")
		v := bob.startPlain("viewer", "offer", "--no-browser", servedAt(serving))
		if code := v.exit(t); code != 1 {
			t.Errorf("viewer exit code %d", code)
		}
		if msg := strings.TrimSpace(v.errOut.String()); !strings.HasPrefix(msg, "gethelp: policy off: ") || strings.Contains(msg, "\n") {
			t.Errorf("viewer's refusal:\n%s", msg)
		}
		if ev := nextOf(t, h, "offer_refused", "offer"); str(ev, "type") != "offer_refused" || str(ev, "by") != "policy" {
			t.Errorf("host event: %v", ev)
		}
		h.cmd.Process.Signal(os.Interrupt)
		h.exit()
	})
}

// The helper refuses a computer whose key changed, or is not the pinned
// one, before sending it anything: the host hears of no offer.
func TestOfferHelpHostKey(t *testing.T) {
	alice, bob := newOfferEnv(t), newOfferEnv(t)
	alice.admin(offerPolicy(bob.keygen("Bob")))
	h, serving := alice.serve()
	addr, hostKey := servedAt(serving), str(serving, "fingerprint")
	const otherKey = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

	v := bob.start("viewer", "offer", "--json", "--pin", otherKey, addr)
	if ev := v.next("error"); !strings.Contains(str(ev, "message"), "not "+otherKey) {
		t.Errorf("pin mismatch: %v", ev)
	}
	v.exit()

	bob.write("config/gethelp/known_hosts", addr+" "+otherKey+"\n")
	v = bob.start("viewer", "offer", "--json", addr)
	if ev := v.next("error"); str(ev, "code") != "host_key_changed" || !strings.Contains(str(ev, "message"), "--pin "+hostKey) {
		t.Errorf("changed key: %v", ev)
	}
	if code := v.exit(); code != 1 {
		t.Errorf("viewer exit code %d", code)
	}

	// Pinning the key the person reads out replaces the old one.
	v = bob.start("viewer", "offer", "--json", "--pin", hostKey, addr)
	if ev := v.next("host_key"); str(ev, "how") != "pinned" {
		t.Errorf("pinned: %v", ev)
	}
	if ev := nextOf(t, h, "offer", "offer_refused"); str(ev, "type") != "offer" {
		t.Fatalf("the host's first event after the refused tries: %v", ev)
	}
	h.send(map[string]any{"type": "consent", "accept": true})
	v.next("connected")
	v.send(map[string]any{"type": "disconnect"})
	v.exit()
	known, _ := os.ReadFile(bob.path("config/gethelp/known_hosts"))
	if !strings.Contains(string(known), addr+" "+hostKey) || strings.Contains(string(known), otherKey) {
		t.Errorf("known_hosts after pinning:\n%s", known)
	}
	h.cmd.Process.Signal(os.Interrupt)
	h.exit()
}
