//go:build linux

package main_test

import (
	"image/png"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/gethelp/gethelp/host/x11/x11test"
)

// startXterm starts an xterm with a WM_CLASS class on display and waits
// for its window; the returned function closes it.
func startXterm(t *testing.T, display, class, bg, geometry string) func() {
	t.Helper()
	cmd := exec.Command("xterm", "-class", class, "-bg", bg, "-geometry", geometry)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting xterm: %v", err)
	}
	stop := func() { cmd.Process.Kill(); cmd.Wait() }
	t.Cleanup(stop)
	x11test.Xdotool(t, display, "search", "--sync", "--onlyvisible", "--class", class)
	return stop
}

// On a real X server: a masked window's pixels never reach the helper,
// and a password prompt blanks the helper's view until it closes.
func TestPrivacyOnX11(t *testing.T) {
	if testing.Short() {
		t.Skip("starts X servers")
	}
	display, _ := x11test.StartXvfb(t, 640, 400, 24)
	e := newEnv(t)
	e.vars = append(e.vars, "DISPLAY="+display)
	e.write("config/gethelp/config.yaml", "masked_windows: [\"keepassxc\"]\n")
	startXterm(t, display, "KeePassXC", "#ff00ff", "30x10+20+20") // magenta: nothing else on screen is

	h, inv := e.hostInvite("--source", "x11", "--bandwidth", "full")
	v := e.viewer(str(inv, "file"), str(inv, "password"))
	v.next("connected")
	v.next("frame")
	shot := e.path("shot.png")
	v.send(map[string]any{"type": "snapshot", "path": shot})
	v.next("snapshot")
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r>>8 > 200 && g>>8 < 60 && bl>>8 > 200 {
				t.Fatalf("the helper's picture shows the masked window at %d,%d", x, y)
			}
		}
	}
	if r, g, bl, _ := img.At(60, 60).RGBA(); r|g|bl != 0 {
		t.Errorf("the masked window's place is not black: %v %v %v", r>>8, g>>8, bl>>8)
	}

	closePrompt := startXterm(t, display, "Pinentry", "white", "40x5+200+150")
	for {
		ev := v.next("sharing")
		if str(ev, "privacy") == "secure_prompt" {
			break
		}
	}
	if ev := h.next("privacy"); str(ev, "privacy") != "secure_prompt" || str(ev, "text") != "Pinentry" {
		t.Errorf("host privacy event: %v", ev)
	}
	closePrompt()
	for {
		ev := v.next("sharing")
		if str(ev, "privacy") == "" {
			break
		}
	}
	// The screen is as it was before the prompt: nothing new to send.
	v.send(map[string]any{"type": "disconnect"})
	h.next("disconnected")
	out, _, _ := e.run("", "log", "show", str(inv, "log"))
	if !strings.Contains(out, "secure_prompt") {
		t.Errorf("the log does not record the prompt:\n%s", out)
	}
}
