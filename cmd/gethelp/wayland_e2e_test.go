//go:build linux

package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gethelp/gethelp/host/wlroots/wltest"
)

// gethelp host invite on a Wayland compositor (headless sway): the helper
// sees the screen, and with consent types into a terminal there; the
// person is told what Wayland cannot guarantee.
func TestHostOnWayland(t *testing.T) {
	if testing.Short() {
		t.Skip("starts sway")
	}
	s := wltest.Start(t, 640, 480, "")
	s.Start("foot", "sh", "-c", "cat > typed.txt")
	s.WaitWindows(1)
	e := newEnv(t)
	e.vars = append(e.vars, "WAYLAND_DISPLAY="+s.Display, "XDG_RUNTIME_DIR="+s.RuntimeDir, "DISPLAY=")

	h, inv := e.hostInvite("--source", "wayland", "--bandwidth", "full")
	v := e.viewer(str(inv, "file"), str(inv, "password"))
	v.next("connected")
	for {
		f := v.next("frame")
		if f["w"] == float64(640) && f["h"] == float64(480) {
			break
		}
	}
	if !strings.Contains(h.stderr.String(), "cannot hide password prompts") {
		t.Errorf("the person was not told what Wayland cannot do: %s", h.stderr)
	}
	v.send(map[string]any{"type": "request_control"})
	h.next("control_requested")
	h.send(map[string]any{"type": "grant", "capabilities": []string{"control"}})
	v.next("control_granted")
	v.send(map[string]any{"type": "type_text", "text": "Hello from the helper\n"})
	path := filepath.Join(s.Dir, "typed.txt")
	deadline := time.Now().Add(15 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if strings.Contains(string(b), "Hello from the helper\n") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the typing never reached the terminal: %q", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
