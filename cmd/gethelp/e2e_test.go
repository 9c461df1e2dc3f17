package main_test

// End-to-end tests: they build the real gethelp binary and run host and
// viewer as separate processes talking QUIC on loopback, driven through
// their --json machine interface.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gethelp-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "gethelp")
	out, err := exec.Command("go", "build", "-race", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building gethelp: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// env is one user's world: its own state directory and policy.
type env struct {
	t     *testing.T
	dir   string
	state string
	vars  []string
}

func newEnv(t *testing.T) *env {
	dir := t.TempDir()
	e := &env{t: t, dir: dir, state: filepath.Join(dir, "state")}
	e.vars = append(os.Environ(),
		"XDG_STATE_HOME="+e.state,
		"XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
		"GETHELP_POLICY="+filepath.Join(dir, "policy.yaml"),
	)
	return e
}

func (e *env) path(name string) string { return filepath.Join(e.dir, name) }

func (e *env) write(name, content string) string {
	p := e.path(name)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// run runs gethelp to completion and returns stdout, stderr and the exit code.
func (e *env) run(stdin string, args ...string) (string, string, int) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
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

// proc is a running gethelp in --json mode.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	events chan map[string]any
	stderr *syncBuffer
	done   chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (e *env) start(args ...string) *proc {
	e.t.Helper()
	return e.startCmd(binary, args...)
}

// startCmd starts a program (gethelp, or a wrapper that runs it) whose
// stdout carries gethelp's JSON events.
func (e *env) startCmd(name string, args ...string) *proc {
	e.t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = e.vars
	stdin, err := cmd.StdinPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	p := &proc{t: e.t, cmd: cmd, stdin: stdin, events: make(chan map[string]any, 100), stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() {
		defer close(p.events)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var ev map[string]any
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				p.t.Errorf("stdout line is not JSON: %q", sc.Text())
				continue
			}
			p.events <- ev
		}
	}()
	go func() { cmd.Wait(); close(p.done) }()
	e.t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
	})
	return p
}

// next returns the next event of the wanted type, failing on timeout.
// Events of other types are skipped.
func (p *proc) next(typ string) map[string]any {
	p.t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev, ok := <-p.events:
			if !ok {
				p.t.Fatalf("process ended before a %q event; stderr:\n%s", typ, p.stderr)
			}
			if ev["type"] == typ {
				return ev
			}
		case <-timeout:
			p.t.Fatalf("no %q event within 20s; stderr:\n%s", typ, p.stderr)
		}
	}
}

func (p *proc) send(cmd map[string]any) {
	p.t.Helper()
	b, _ := json.Marshal(cmd)
	if _, err := p.stdin.Write(append(b, '\n')); err != nil {
		p.t.Fatalf("writing command: %v", err)
	}
}

// exit waits for the process and returns its exit code.
func (p *proc) exit() int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		p.t.Fatalf("process did not exit; stderr:\n%s", p.stderr)
	}
	return p.cmd.ProcessState.ExitCode()
}

// hostInvite starts a host on loopback and returns it with its invitation event.
func (e *env) hostInvite(extra ...string) (*proc, map[string]any) {
	e.t.Helper()
	args := append([]string{"host", "invite", "--json", "--listen", "127.0.0.1:0", "--out", e.path("inv.gethelp"), "--name", "Alice"}, extra...)
	h := e.start(args...)
	inv := h.next("invitation")
	h.next("waiting")
	return h, inv
}

func (e *env) passwordFile(password string) string {
	return e.write("pw-"+strings.ReplaceAll(password, "/", "_"), password+"\n")
}

func (e *env) viewer(file, password string, extra ...string) *proc {
	args := append([]string{"viewer", "open", "--json", "--name", "Bob", "--password-file", e.passwordFile(password)}, extra...)
	return e.start(append(args, file)...)
}

func str(ev map[string]any, key string) string {
	s, _ := ev[key].(string)
	return s
}

func TestConnectChatAndDisconnect(t *testing.T) {
	e := newEnv(t)
	h, inv := e.hostInvite()
	file, password := str(inv, "file"), str(inv, "password")
	if len(strings.ReplaceAll(password, "-", "")) < 12 {
		t.Errorf("generated password %q is shorter than 12 characters", password)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte(password)) || bytes.Contains(data, []byte(strings.ReplaceAll(password, "-", ""))) {
		t.Fatal("the invitation file contains the password")
	}

	v := e.viewer(file, password)
	if ev := v.next("connected"); str(ev, "host") != "Alice" {
		t.Errorf("viewer connected event: %v", ev)
	}
	if ev := h.next("connected"); str(ev, "helper") != "Bob" {
		t.Errorf("host connected event: %v", ev)
	}

	v.send(map[string]any{"type": "chat", "text": "Hi, I am here to help ✓"})
	if ev := h.next("chat"); str(ev, "text") != "Hi, I am here to help ✓" || str(ev, "from") != "Bob" {
		t.Errorf("host got chat %v", ev)
	}
	h.send(map[string]any{"type": "chat", "text": "my printer is broken"})
	// Skip the viewer's echo of its own message.
	for {
		ev := v.next("chat")
		if ev["self"] == true {
			continue
		}
		if str(ev, "text") != "my printer is broken" || str(ev, "from") != "Alice" {
			t.Errorf("viewer got chat %v", ev)
		}
		break
	}
	// A malformed command is reported and does not end anything.
	v.stdin.Write([]byte("{not json\n"))
	if ev := v.next("error"); !strings.Contains(str(ev, "message"), "JSON") {
		t.Errorf("error event for a bad command: %v", ev)
	}
	v.send(map[string]any{"type": "disconnect"})
	if ev := h.next("disconnected"); str(ev, "reason") != "the helper disconnected" {
		t.Errorf("host disconnected event: %v", ev)
	}
	v.next("disconnected")
	if code := v.exit(); code != 0 {
		t.Errorf("viewer exit code %d; stderr:\n%s", code, v.stderr)
	}
	if code := h.exit(); code != 0 {
		t.Errorf("host exit code %d; stderr:\n%s", code, h.stderr)
	}

	// The host's log has the whole conversation and verifies.
	logPath := str(inv, "log")
	out, errOut, code := e.run("", "log", "verify", logPath)
	if code != 0 || !strings.Contains(out, "chain intact") {
		t.Fatalf("log verify: %d %s %s", code, out, errOut)
	}
	out, _, _ = e.run("", "log", "show", logPath)
	for _, want := range []string{"connected", "Hi, I am here to help ✓", "my printer is broken", "disconnected"} {
		if !strings.Contains(out, want) {
			t.Errorf("log show lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, password) {
		t.Error("the session log contains the password")
	}
	out, _, _ = e.run("", "invitations", "list")
	if !strings.Contains(out, "used") {
		t.Errorf("invitations list after the session:\n%s", out)
	}
}

// viewerFails opens the invitation and expects an error event with code.
func (e *env) viewerFails(file, password, code string) map[string]any {
	e.t.Helper()
	v := e.viewer(file, password)
	ev := v.next("error")
	if str(ev, "code") != code {
		e.t.Fatalf("viewer error code %q, want %q: %v", str(ev, "code"), code, ev)
	}
	if c := v.exit(); c == 0 {
		e.t.Fatalf("viewer exited 0 after error %v", ev)
	}
	if strings.Contains(v.stderr.String(), "goroutine ") {
		e.t.Fatalf("viewer panicked:\n%s", v.stderr)
	}
	if msg := strings.TrimSpace(v.stderr.String()); strings.Count(msg, "\n") > 0 {
		e.t.Errorf("error is not one line:\n%s", msg)
	}
	return ev
}

func TestWrongPasswordsLockTheInvitation(t *testing.T) {
	e := newEnv(t)
	h, inv := e.hostInvite()
	file, password := str(inv, "file"), str(inv, "password")
	for i := 1; i <= 4; i++ {
		ev := e.viewerFails(file, "WRONG-PASS-WORD", "bad_password")
		if !strings.Contains(str(ev, "message"), "password") {
			t.Errorf("message does not name the password: %q", str(ev, "message"))
		}
		if want := fmt.Sprintf("%d more", 5-i); !strings.Contains(str(ev, "message"), want) {
			t.Errorf("attempt %d: message %q lacks %q", i, str(ev, "message"), want)
		}
		if ev := h.next("auth_failed"); ev["attempts_left"] != float64(5-i) {
			t.Errorf("host auth_failed event %v", ev)
		}
	}
	e.viewerFails(file, "WRONG-PASS-WORD", "locked")
	h.next("locked")
	// Dead for good: even the right password is refused now.
	ev := e.viewerFails(file, password, "locked")
	if !strings.Contains(str(ev, "message"), "locked") {
		t.Errorf("message %q does not say locked", str(ev, "message"))
	}
	out, _, _ := e.run("", "invitations", "list")
	if !strings.Contains(out, "locked") {
		t.Errorf("list does not show the invitation locked:\n%s", out)
	}
}

func TestExpiredInvitation(t *testing.T) {
	e := newEnv(t)
	h, inv := e.hostInvite("--ttl", "2s")
	h.next("expired")
	if code := h.exit(); code == 0 {
		t.Errorf("host exited 0 after its invitation expired")
	}
	ev := e.viewerFails(str(inv, "file"), str(inv, "password"), "expired")
	if !strings.Contains(str(ev, "message"), "expired") {
		t.Errorf("message %q does not name expiry", str(ev, "message"))
	}
	out, _, _ := e.run("", "invitations", "list")
	if !strings.Contains(out, "expired") {
		t.Errorf("list:\n%s", out)
	}
}

func TestTamperedPinIsRefusedBeforeAnythingIsSent(t *testing.T) {
	e := newEnv(t)
	h, inv := e.hostInvite()
	data, err := os.ReadFile(str(inv, "file"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "pin-sha256: ") {
			l = "pin-sha256: AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
		}
		lines = append(lines, l)
	}
	tampered := e.write("tampered.gethelp", strings.Join(lines, "\n"))
	ev := e.viewerFails(tampered, str(inv, "password"), "pin_mismatch")
	if !strings.Contains(str(ev, "message"), "key does not match") {
		t.Errorf("message: %q", str(ev, "message"))
	}
	// The host never saw a password proof: the right viewer still gets in
	// with no failure counted.
	v := e.viewer(str(inv, "file"), str(inv, "password"))
	v.next("connected")
	h.next("connected")
	logText, err := os.ReadFile(str(inv, "log"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(logText), "auth_failed") {
		t.Errorf("the host counted a failure for the impostor check:\n%s", logText)
	}
}

func TestSecondHelperIsBusy(t *testing.T) {
	e := newEnv(t)
	h, inv := e.hostInvite()
	v := e.viewer(str(inv, "file"), str(inv, "password"))
	v.next("connected")
	h.next("connected")
	ev := e.viewerFails(str(inv, "file"), str(inv, "password"), "busy")
	if !strings.Contains(str(ev, "message"), "busy") {
		t.Errorf("message: %q", str(ev, "message"))
	}
	h.next("busy")
	// The first session is undisturbed.
	v.send(map[string]any{"type": "chat", "text": "still here"})
	if ev := h.next("chat"); str(ev, "text") != "still here" {
		t.Errorf("chat after busy: %v", ev)
	}
}

func TestResendIssuesNewPasswordAndExpiry(t *testing.T) {
	e := newEnv(t)
	h, inv := e.hostInvite()
	id, file, oldPassword := str(inv, "id"), str(inv, "file"), str(inv, "password")
	v := e.viewer(file, oldPassword)
	v.next("connected")
	v.send(map[string]any{"type": "disconnect"})
	h.next("disconnected")
	h.exit()

	r := e.start("invitations", "resend", "--json", "--listen", "127.0.0.1:0", id)
	inv2 := r.next("invitation")
	r.next("waiting")
	if str(inv2, "id") != id || str(inv2, "file") != file {
		t.Errorf("resend changed id or file: %v", inv2)
	}
	if str(inv2, "password") == oldPassword {
		t.Error("resend kept the old password")
	}
	if str(inv2, "expires") == str(inv, "expires") {
		t.Error("resend kept the old expiry")
	}
	e.viewerFails(file, oldPassword, "bad_password")
	v2 := e.viewer(file, str(inv2, "password"))
	v2.next("connected")
	r.next("connected")
}

func TestCancelStopsTheWaitingHost(t *testing.T) {
	e := newEnv(t)
	h, inv := e.hostInvite()
	out, errOut, code := e.run("", "invitations", "cancel", str(inv, "id"))
	if code != 0 {
		t.Fatalf("cancel: %d %s %s", code, out, errOut)
	}
	h.next("cancelled")
	h.exit()
	out, _, _ = e.run("", "invitations", "list")
	if !strings.Contains(out, "cancelled") {
		t.Errorf("list:\n%s", out)
	}
	_, errOut, code = e.run("", "invitations", "cancel", str(inv, "id"))
	if code == 0 || !strings.Contains(errOut, "already cancelled") {
		t.Errorf("second cancel: %d %s", code, errOut)
	}
}

func TestInterruptingTheHostEndsTheSession(t *testing.T) {
	e := newEnv(t)
	h, inv := e.hostInvite()
	v := e.viewer(str(inv, "file"), str(inv, "password"))
	v.next("connected")
	h.next("connected")
	h.cmd.Process.Signal(syscall.SIGINT)
	if ev := v.next("disconnected"); str(ev, "reason") != "the person stopped gethelp" {
		t.Errorf("viewer disconnected event: %v", ev)
	}
	if code := h.exit(); code != 0 {
		t.Errorf("host exit code %d after Ctrl-C; stderr:\n%s", code, h.stderr)
	}
	// The listener is gone with the host.
	e.viewerFails(str(inv, "file"), str(inv, "password"), "unreachable")
}

func TestSessionLogEditIsDetected(t *testing.T) {
	e := newEnv(t)
	h, inv := e.hostInvite()
	v := e.viewer(str(inv, "file"), str(inv, "password"))
	v.next("connected")
	v.send(map[string]any{"type": "chat", "text": "please open the settings"})
	h.next("chat")
	v.send(map[string]any{"type": "disconnect"})
	h.next("disconnected")
	h.exit()

	logPath := str(inv, "log")
	data, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	edited := bytes.Replace(data, []byte("please open the settings"), []byte("please send me your bank"), 1)
	if bytes.Equal(edited, data) {
		t.Fatal("chat line not found in the log")
	}
	if err := os.WriteFile(logPath, edited, 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := e.run("", "log", "verify", logPath)
	if code != 1 || !strings.Contains(errOut, "line") {
		t.Fatalf("verify of an edited log: exit %d, %q", code, errOut)
	}
}

func TestPolicy(t *testing.T) {
	t.Run("remote assistance off", func(t *testing.T) {
		e := newEnv(t)
		e.write("policy.yaml", "allow_remote_assistance: false\n")
		_, errOut, code := e.run("", "host", "invite", "--listen", "127.0.0.1:0", "--out", e.path("x.gethelp"))
		if code != 1 || !strings.Contains(errOut, "policy") || !strings.Contains(errOut, "turned off") {
			t.Fatalf("exit %d, %q", code, errOut)
		}
		if _, err := os.Stat(e.path("x.gethelp")); err == nil {
			t.Error("an invitation was written despite the policy")
		}
	})
	t.Run("ttl above the maximum is refused", func(t *testing.T) {
		e := newEnv(t)
		e.write("policy.yaml", "max_invitation_ttl: 1h\n")
		_, errOut, code := e.run("", "host", "invite", "--ttl", "2h", "--listen", "127.0.0.1:0", "--out", e.path("x.gethelp"))
		if code != 1 || !strings.Contains(errOut, "policy") || !strings.Contains(errOut, "1h") {
			t.Fatalf("exit %d, %q", code, errOut)
		}
	})
	t.Run("default ttl shortened to the maximum", func(t *testing.T) {
		e := newEnv(t)
		e.write("policy.yaml", "max_invitation_ttl: 1h\n")
		e.write("config/gethelp/config.yaml", "invitation_ttl: 8h\n")
		h, inv := e.hostInvite()
		exp, err := time.Parse(time.RFC3339, str(inv, "expires"))
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Until(exp); d > time.Hour || d < 50*time.Minute {
			t.Errorf("invitation lasts %v, want the policy's 1h", d)
		}
		h.cmd.Process.Signal(syscall.SIGINT)
		h.next("cancelled")
	})
	t.Run("bad policy file", func(t *testing.T) {
		e := newEnv(t)
		e.write("policy.yaml", "allow_remote_assistance: maybe\n")
		_, errOut, code := e.run("", "host", "invite", "--listen", "127.0.0.1:0")
		if code != 1 || !strings.Contains(errOut, "policy") {
			t.Fatalf("exit %d, %q", code, errOut)
		}
	})
}

func TestBadInvitationFiles(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"garbage", "\x00\x01 not an invitation", "invitation"},
		{"future version", "gethelp-invitation: 2\n", "version"},
		{"missing pin", "gethelp-invitation: 1\nid: 7Q2M9KX4TR\nhost-name: A\ncreated: 2026-01-01T00:00:00Z\nexpires: 2030-01-01T00:00:00Z\naddress: 127.0.0.1:9\n", "pin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			file := e.write("bad.gethelp", tt.content)
			_, errOut, code := e.run("", "viewer", "open", "--password-stdin", file)
			if code != 1 || !strings.Contains(errOut, tt.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
		})
	}
	t.Run("no password without a terminal", func(t *testing.T) {
		e := newEnv(t)
		h, inv := e.hostInvite()
		_ = h
		_, errOut, code := e.run("", "viewer", "open", str(inv, "file"))
		if code != 1 || !strings.Contains(errOut, "password") {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
	})
}
