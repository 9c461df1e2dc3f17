package x11_test

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
	"github.com/jezek/xgb/xtest"

	"github.com/gethelp/gethelp/host/x11"
)

// watch starts a KeyWatcher on display, closed when the test ends, with
// its log in the test's output.
func watch(t *testing.T, display string) *x11.KeyWatcher {
	t.Helper()
	logs := &logBuffer{}
	w, err := x11.WatchKeys(display, x11.WatchOptions{
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		w.Close()
		if t.Failed() {
			t.Logf("watcher log:\n%s", logs)
		}
	})
	return w
}

// expectEscape fails the test unless the watcher reports an Escape
// within d.
func expectEscape(t *testing.T, w *x11.KeyWatcher, d time.Duration, what string) {
	t.Helper()
	select {
	case _, ok := <-w.Escapes():
		if !ok {
			t.Fatalf("%s: Escapes closed", what)
		}
	case <-time.After(d):
		t.Fatalf("%s: no Escape reported within %v", what, d)
	}
}

// expectNone fails the test if the watcher reports an Escape within d.
func expectNone(t *testing.T, w *x11.KeyWatcher, d time.Duration, what string) {
	t.Helper()
	select {
	case _, ok := <-w.Escapes():
		if ok {
			t.Fatalf("%s: Escape reported", what)
		}
		t.Fatalf("%s: Escapes closed", what)
	case <-time.After(d):
	}
}

// client is a test's own connection to the nested display: an
// application with a focused window, and an XTEST injector.
type client struct {
	t      *testing.T
	c      *xgb.Conn
	win    xproto.Window
	escape xproto.Keycode
}

// newClient connects to display, creates and focuses a window that
// selects key presses, and finds Escape's keycode.
func newClient(t *testing.T, display string) *client {
	t.Helper()
	c, err := xgb.NewConnDisplay(display)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if err := xtest.Init(c); err != nil { // XTEST has no events or errors: no shared tables written
		t.Fatal(err)
	}
	setup := xproto.Setup(c)
	root := setup.DefaultScreen(c).Root
	win, err := xproto.NewWindowId(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := xproto.CreateWindowChecked(c, 0, win, root, 0, 0, 400, 300, 0, xproto.WindowClassInputOutput, 0,
		xproto.CwEventMask, []uint32{xproto.EventMaskKeyPress}).Check(); err != nil {
		t.Fatal(err)
	}
	xproto.MapWindow(c, win)
	if err := xproto.SetInputFocusChecked(c, xproto.InputFocusPointerRoot, win, xproto.TimeCurrentTime).Check(); err != nil {
		t.Fatal(err)
	}
	cl := &client{t: t, c: c, win: win}
	cl.escape = cl.keycode(keysymEscape)
	return cl
}

const keysymEscape = 0xff1b

// keycode returns the first keycode with the keysym sym.
func (cl *client) keycode(sym xproto.Keysym) xproto.Keycode {
	cl.t.Helper()
	setup := xproto.Setup(cl.c)
	km, err := xproto.GetKeyboardMapping(cl.c, setup.MinKeycode, byte(setup.MaxKeycode-setup.MinKeycode+1)).Reply()
	if err != nil {
		cl.t.Fatal(err)
	}
	for i, s := range km.Keysyms {
		if s == sym {
			return setup.MinKeycode + xproto.Keycode(i/int(km.KeysymsPerKeycode))
		}
	}
	cl.t.Fatalf("no keycode for keysym %#x", sym)
	return 0
}

// remap gives keycode the keysym sym alone.
func (cl *client) remap(keycode xproto.Keycode, sym xproto.Keysym) {
	cl.t.Helper()
	if err := xproto.ChangeKeyboardMappingChecked(cl.c, 1, keycode, 1, []xproto.Keysym{sym}).Check(); err != nil {
		cl.t.Fatal(err)
	}
}

// inject presses and releases Escape through XTEST, as the session's
// Injector does, and waits until the server has done it.
func (cl *client) inject() {
	cl.t.Helper()
	root := xproto.Setup(cl.c).DefaultScreen(cl.c).Root
	for _, typ := range []byte{xproto.KeyPress, xproto.KeyRelease} {
		if err := xtest.FakeInputChecked(cl.c, typ, byte(cl.escape), 0, root, 0, 0, 0).Check(); err != nil {
			cl.t.Fatal(err)
		}
	}
}

// keyPresses returns the keycodes of the KeyPress events the window got
// within d.
func (cl *client) keyPresses(d time.Duration) []xproto.Keycode {
	var codes []xproto.Keycode
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		ev, _ := cl.c.PollForEvent()
		if ev == nil {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if kp, ok := ev.(xproto.KeyPressEvent); ok {
			codes = append(codes, kp.Detail)
		}
	}
	return codes
}

func TestWatchKeysPhysicalEscape(t *testing.T) {
	d := x11.StartNested(t, 800, 600)
	w := watch(t, d.Inner)
	app := newClient(t, d.Inner)
	app.keyPresses(200 * time.Millisecond) // whatever came before

	d.Type("Escape")
	expectEscape(t, w, 10*time.Second, "physical Escape")
	expectNone(t, w, 500*time.Millisecond, "after one physical Escape")

	// Watching takes nothing from the applications.
	got := app.keyPresses(time.Second)
	if fmt.Sprint(got) != fmt.Sprint([]xproto.Keycode{app.escape}) {
		t.Errorf("the focused window got key presses %v, want [%d] (Escape)", got, app.escape)
	}

	// Each press counts.
	for i := range 3 {
		d.Type("Escape")
		expectEscape(t, w, 10*time.Second, fmt.Sprintf("physical Escape %d", i+2))
	}
}

// An inactive watcher reads no keys: ESC then is not reported; active
// again, it is.
func TestWatchKeysInactive(t *testing.T) {
	d := x11.StartNested(t, 800, 600)
	w := watch(t, d.Inner)
	if err := w.SetActive(false); err != nil {
		t.Fatal(err)
	}
	d.Type("Escape")
	expectNone(t, w, 500*time.Millisecond, "Escape while inactive")
	if err := w.SetActive(true); err != nil {
		t.Fatal(err)
	}
	d.Type("Escape")
	expectEscape(t, w, 10*time.Second, "physical Escape once active again")
}

func TestWatchKeysIgnoresXTESTEscape(t *testing.T) {
	d := x11.StartNested(t, 800, 600)
	w := watch(t, d.Inner)
	app := newClient(t, d.Inner)

	app.inject()                             // XTEST from this process, as the Injector does
	x11.Xdotool(t, d.Inner, "key", "Escape") // XTEST from another client
	x11.Xdotool(t, d.Inner, "keydown", "Escape")
	time.Sleep(1200 * time.Millisecond) // the server's autorepeat
	x11.Xdotool(t, d.Inner, "keyup", "Escape")
	// The presses did happen: the focused window got them.
	got := app.keyPresses(time.Second)
	if len(got) < 3 {
		t.Fatalf("the focused window got key presses %v, want at least 3 of Escape (%d)", got, app.escape)
	}
	for _, k := range got {
		if k != app.escape {
			t.Fatalf("the focused window got key presses %v, want only Escape (%d)", got, app.escape)
		}
	}
	expectNone(t, w, 200*time.Millisecond, "Escape injected through XTEST")

	d.Type("Escape")
	expectEscape(t, w, 10*time.Second, "physical Escape after injected ones")
	expectNone(t, w, 500*time.Millisecond, "after one physical Escape")
}

func TestWatchKeysIgnoresOtherKeys(t *testing.T) {
	d := x11.StartNested(t, 800, 600)
	w := watch(t, d.Inner)
	d.Type("a", "Return", "shift+Tab", "F1", "ctrl+bracketleft")
	expectNone(t, w, time.Second, "physical keys other than Escape")
	d.Type("shift+Escape") // Escape with a modifier is Escape all the same
	expectEscape(t, w, 10*time.Second, "physical shift+Escape")
}

func TestWatchKeysFollowsTheKeymap(t *testing.T) {
	d := x11.StartNested(t, 800, 600)
	w := watch(t, d.Inner)
	app := newClient(t, d.Inner)
	d.Type("Escape")
	expectEscape(t, w, 10*time.Second, "physical Escape before the remapping")

	// Swap: the key A types Escape, the Escape key types x.
	a := app.keycode('a')
	app.remap(a, keysymEscape)
	app.remap(app.escape, 'x')
	d.Type("Escape")
	expectNone(t, w, time.Second, "the Escape key remapped to x")
	d.Type("a")
	expectEscape(t, w, 10*time.Second, "the A key remapped to Escape")
}

func TestWatchKeysHeldEscapeCountsOnce(t *testing.T) {
	d := x11.StartNested(t, 800, 600)
	w := watch(t, d.Inner)
	// The outer server repeats the held key after 660 ms, every 40 ms;
	// Xephyr forwards each repeat as a release and a press.
	d.KeyDown("Escape")
	expectEscape(t, w, 10*time.Second, "pressing physical Escape")
	expectNone(t, w, 1500*time.Millisecond, "holding physical Escape")
	d.KeyUp("Escape")
	expectNone(t, w, 300*time.Millisecond, "releasing physical Escape")
	d.Type("Escape", "Escape")
	expectEscape(t, w, 10*time.Second, "two quick taps")
}

func TestWatchKeysClose(t *testing.T) {
	d := x11.StartNested(t, 800, 600)
	w, err := x11.WatchKeys(d.Inner, x11.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- w.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Close = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close still blocked after 5s")
	}
	if _, ok := <-w.Escapes(); ok {
		t.Error("Escapes delivered a value after Close; want it closed")
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func TestWatchKeysServerGoesAway(t *testing.T) {
	d := x11.StartNested(t, 800, 600)
	w := watch(t, d.Inner)
	d.Stop()
	select {
	case _, ok := <-w.Escapes():
		if ok {
			t.Error("an Escape when the server went away")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Escapes still open 10s after the server went away")
	}
}

func TestWatchKeysErrors(t *testing.T) {
	tests := []struct {
		name, display, want string
	}{
		{"no display", "", "x11: no display given"},
		{"no server", ":1999", "x11: cannot open display :1999: "},
		{"bad display", "nonsense", "x11: cannot open display nonsense: bad display string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := x11.WatchKeys(tt.display, x11.WatchOptions{})
			if err == nil {
				w.Close()
				t.Fatal("WatchKeys succeeded")
			}
			if !strings.HasPrefix(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("WatchKeys(%q) = %q, want one line starting %q", tt.display, err, tt.want)
			}
			if errors.Is(err, x11.ErrNoXInput2) {
				t.Errorf("WatchKeys(%q) = %q: not ErrNoXInput2", tt.display, err)
			}
		})
	}
}

func ExampleWatchKeys() {
	w, err := x11.WatchKeys(":0", x11.WatchOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Close()
	for range w.Escapes() {
		fmt.Println("the person pressed Escape: take control back")
	}
}
