package x11test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Nested is an Xephyr server shown as a window on an Xvfb server: a test
// display with a physical keyboard. Keys typed on the outer display into
// the Xephyr window reach the nested display through Xephyr's own
// keyboard device ("Xephyr virtual keyboard"), as a person's keyboard
// would, while XTEST on the nested display goes through its XTEST device.
type Nested struct {
	Outer  string // the Xvfb display (":N")
	Inner  string // the Xephyr display
	window string // Xephyr's window on Outer
	t      testing.TB
	stop   func()
}

// StartNested starts Xvfb and, on it, Xephyr with a w×h screen, focuses
// the Xephyr window and returns both displays. They stop when the test
// ends. A machine without Xvfb, Xephyr or xdotool fails the test: `make
// test` installs them.
func StartNested(t testing.TB, w, h int) *Nested {
	t.Helper()
	for _, tool := range []string{"Xephyr", "xdotool"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed: run `make test`, which installs it (Debian packages xserver-xephyr and xdotool)", tool)
		}
	}
	outer, _ := StartXvfb(t, w+200, h+200, 24)
	inner, stop := startXephyr(t, outer, w, h)
	d := &Nested{Outer: outer, Inner: inner, t: t, stop: stop}
	// Xephyr's window appears a moment after its socket.
	ids := d.xdotool(outer, "search", "--sync", "--class", "Xephyr")
	d.window = strings.Fields(ids)[0]
	d.xdotool(outer, "windowfocus", "--sync", d.window)
	return d
}

// Type presses and releases each key (xdotool key names: "Escape", "a",
// "shift+Tab") on the outer display, into the Xephyr window: physical
// keys for the nested display.
func (d *Nested) Type(keys ...string) {
	d.t.Helper()
	d.xdotool(d.Outer, append([]string{"key"}, keys...)...)
}

// KeyDown presses key on the outer display, into the Xephyr window, and
// holds it until KeyUp.
func (d *Nested) KeyDown(key string) {
	d.t.Helper()
	d.xdotool(d.Outer, "keydown", key)
}

// KeyUp releases key on the outer display.
func (d *Nested) KeyUp(key string) {
	d.t.Helper()
	d.xdotool(d.Outer, "keyup", key)
}

// Stop stops Xephyr at once (it is stopped when the test ends anyway).
func (d *Nested) Stop() { d.stop() }

// Xdotool runs xdotool with args on display and returns its output.
func Xdotool(t testing.TB, display string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "xdotool", args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("DISPLAY=%s xdotool %s: %v: %s", display, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (d *Nested) xdotool(display string, args ...string) string {
	d.t.Helper()
	return Xdotool(d.t, display, args...)
}

// startXephyr starts Xephyr as a window on the display outer, with a w×h
// screen, on the first free display number from 90 up (as StartXvfb).
func startXephyr(t testing.TB, outer string, w, h int) (display string, stop func()) {
	t.Helper()
	return StartServer(t, "Xephyr", []string{"DISPLAY=" + outer}, func(display string) []string {
		return []string{display, "-screen", fmt.Sprintf("%dx%d", w, h), "-nolisten", "tcp", "-noreset"}
	})
}
