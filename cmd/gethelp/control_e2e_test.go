//go:build linux

package main_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gethelp/gethelp/host/x11/x11test"
)

// xterm starts an xterm on display whose shell writes what is typed into
// it to the file out, and waits for its window.
func xterm(t *testing.T, display, out string) {
	t.Helper()
	cmd := exec.Command("xterm", "-u8", "-geometry", "60x8+0+0", "-e", "sh", "-c", "stty -echo; cat > "+out)
	cmd.Env = append(os.Environ(), "DISPLAY="+display, "LC_ALL=C.UTF-8")
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting xterm: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	x11test.Xdotool(t, display, "search", "--sync", "--class", "XTerm")
}

// waitFile waits until the file at path contains want.
func waitFile(t *testing.T, path, want string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if strings.Contains(string(b), want) {
			return string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q never appeared in %s; it holds %q", want, path, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitCount waits until the file at path holds n lines containing s.
func waitCount(t *testing.T, path, s string, n int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if strings.Count(string(b), s) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never had %d lines with %s:\n%s", path, n, s, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The whole of control on a real X server: nothing typed without consent
// reaches it; once allowed, the helper's typing lands in an xterm; the
// helper's own ESC does not end control; the person's ESC, typed on a real
// keyboard device (Xephyr's, nested in Xvfb), does, at once.
func TestControlOnX11(t *testing.T) {
	if testing.Short() {
		t.Skip("starts X servers")
	}
	d := x11test.StartNested(t, 640, 400)
	e := newEnv(t)
	e.vars = append(e.vars, "DISPLAY="+d.Inner)
	typed := e.path("typed.txt")
	xterm(t, d.Inner, typed)

	h, inv := e.hostInvite("--source", "x11")
	logPath := str(inv, "log")
	v := e.viewer(str(inv, "file"), str(inv, "password"))
	v.next("connected")
	h.next("connected")

	// Without consent: dropped on the host, logged, never typed.
	v.send(map[string]any{"type": "pointer", "x": 100, "y": 50, "buttons": 1})
	v.send(map[string]any{"type": "type_text", "text": "NOT ALLOWED\n"})
	waitCount(t, logPath, `"input_dropped"`, 1)

	v.send(map[string]any{"type": "request_control"})
	if ev := h.next("control_requested"); str(ev, "helper") != "Bob" {
		t.Errorf("control_requested: %v", ev)
	}
	h.send(map[string]any{"type": "grant", "capabilities": []string{"control"}})
	if ev := v.next("control_granted"); !strings.Contains(strings.Join(toStrings(ev["capabilities"]), ","), "control") {
		t.Errorf("control_granted: %v", ev)
	}
	h.next("control_granted")

	v.send(map[string]any{"type": "pointer", "x": 100, "y": 50, "buttons": 1})
	v.send(map[string]any{"type": "pointer", "x": 100, "y": 50, "buttons": 0})
	v.send(map[string]any{"type": "type_text", "text": "Hello, World! ü\n"})
	got := waitFile(t, typed, "Hello, World! ü\n")
	if strings.Contains(got, "NOT ALLOWED") {
		t.Fatalf("input sent before consent reached the X server: %q", got)
	}

	// The helper's ESC goes through XTEST: it reaches the xterm but does
	// not end control.
	v.send(map[string]any{"type": "key", "key": "Escape"})
	v.send(map[string]any{"type": "type_text", "text": "still in control\n"})
	waitFile(t, typed, "still in control\n")

	// The person presses ESC on their keyboard.
	d.Type("Escape")
	if ev := h.next("control_revoked"); str(ev, "by") != "esc" {
		t.Errorf("host control_revoked: %v", ev)
	}
	if ev := v.next("control_revoked"); str(ev, "by") != "esc" {
		t.Errorf("viewer control_revoked: %v", ev)
	}
	v.send(map[string]any{"type": "type_text", "text": "after ESC\n"})
	waitCount(t, logPath, `"input_dropped"`, 2)
	v.send(map[string]any{"type": "disconnect"})
	h.next("disconnected")
	h.exit()
	if b, _ := os.ReadFile(typed); strings.Contains(string(b), "after ESC") {
		t.Fatalf("input sent after the person's ESC reached the X server: %q", b)
	}

	out, _, code := e.run("", "log", "show", logPath)
	if code != 0 {
		t.Fatalf("log show failed: %s", out)
	}
	for _, want := range []string{"control_requested", "control_granted", "control_revoked", "esc"} {
		if !strings.Contains(out, want) {
			t.Errorf("log show lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Hello, World") {
		t.Error("the session log holds what the helper typed")
	}
}

func toStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}
