//go:build linux

package main_test

import (
	"image/png"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gethelp/gethelp/host/wlroots/wltest"
)

// gethelp host invite on sway with $SWAYSOCK: a masked window is black
// in the helper's picture while the others are not, a password prompt
// (foot with the app id pinentry) blanks the helper's view until it
// closes, and the person is told so before sharing.
func TestPrivacyOnSway(t *testing.T) {
	if testing.Short() {
		t.Skip("starts sway")
	}
	s := wltest.Start(t, 640, 480, "")
	s.Start("foot", "--app-id=notes", "--override=colors.background=204020", "cat")
	s.WaitWindows(1)
	s.Start("foot", "--app-id=keepassxc", "--override=colors.background=ff00ff", "cat") // magenta: nothing else on screen is
	s.WaitWindows(2)
	e := newEnv(t)
	e.vars = append(e.vars, "WAYLAND_DISPLAY="+s.Display, "XDG_RUNTIME_DIR="+s.RuntimeDir, "SWAYSOCK="+s.IPCSocket(), "DISPLAY=")
	e.write("config/gethelp/config.yaml", "masked_windows: [\"keepassxc\"]\n")

	h, inv := e.hostInvite("--source", "wayland", "--bandwidth", "full")
	v := e.viewer(str(inv, "file"), str(inv, "password"))
	v.next("connected")
	v.next("frame")
	if msg := h.stderr.String(); !strings.Contains(msg, "blanks your helper's view while a password prompt") || strings.Contains(msg, "cannot hide") {
		t.Errorf("the person was not told what sway guarantees: %s", msg)
	}
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
	if r, g, bl, _ := img.At(480, 240).RGBA(); r|g|bl != 0 {
		t.Errorf("the masked window's place is not black: %v %v %v", r>>8, g>>8, bl>>8)
	}
	if r, g, bl, _ := img.At(160, 240).RGBA(); r|g|bl == 0 {
		t.Error("the window that is not masked is black too")
	}

	start := time.Now()
	prompt := s.Start("foot", "--app-id=pinentry", "cat")
	for {
		ev := v.next("sharing")
		if str(ev, "privacy") == "secure_prompt" {
			break
		}
	}
	t.Logf("from starting the prompt to the helper's blank view: %v", time.Since(start))
	if ev := h.next("privacy"); str(ev, "privacy") != "secure_prompt" || str(ev, "text") != "pinentry" {
		t.Errorf("host privacy event: %v", ev)
	}
	prompt.Process.Kill()
	for {
		ev := v.next("sharing")
		if str(ev, "privacy") == "" {
			break
		}
	}
	v.send(map[string]any{"type": "disconnect"})
	h.next("disconnected")
}
