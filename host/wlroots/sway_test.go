package wlroots_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/host/wlroots"
	"github.com/gethelp/gethelp/host/wlroots/wltest"
	"github.com/gethelp/gethelp/session/screen"
)

func watchWindows(t *testing.T, s *wltest.Sway) *wlroots.SwayWindows {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	w, err := wlroots.WatchSwayWindows(ctx, s.IPCSocket(), logger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func windowsNow(t *testing.T, w *wlroots.SwayWindows) []host.Window {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	list, err := w.Windows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// awaitList waits, through Changed, until the list satisfies ok.
func awaitList(t *testing.T, w *wlroots.SwayWindows, what string, ok func([]host.Window) bool) []host.Window {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		list := windowsNow(t, w)
		if ok(list) {
			return list
		}
		select {
		case <-w.Changed():
		case <-deadline:
			t.Fatalf("%s: the list is still %+v after 10 s", what, list)
		}
	}
}

func has(class string, r screen.Rect) func([]host.Window) bool {
	return func(l []host.Window) bool {
		return slices.Contains(l, host.Window{Class: class, Rect: r})
	}
}

func only(want ...host.Window) func([]host.Window) bool {
	return func(l []host.Window) bool {
		return len(l) == len(want) && !slices.ContainsFunc(want, func(w host.Window) bool { return !slices.Contains(l, w) })
	}
}

// The window list of sway: app ids and places, tiled and floating, only
// on the visible workspace; a window mapped before the call is listed
// even before its event arrives; a window that left a place stays listed
// there a moment (a ghost), then goes.
func TestSwayWindows(t *testing.T) {
	s := wltest.Start(t, 640, 480, `for_window [app_id="floater"] floating enable, move position 50 60`)
	w := watchWindows(t, s)
	if l := windowsNow(t, w); len(l) != 0 {
		t.Fatalf("windows on an empty desktop: %+v", l)
	}

	pin := s.Start("foot", "--app-id=pinentry", "cat")
	full := screen.Rect{W: 640, H: 480}
	awaitList(t, w, "pinentry mapped", only(host.Window{Class: "pinentry", Rect: full}))

	// Mapped before the call: in the list, whether or not its event came.
	s.Start("foot", "--app-id=keepassxc", "cat")
	s.WaitWindows(2) // through swaymsg, not our subscription
	left, right := screen.Rect{W: 320, H: 480}, screen.Rect{X: 320, W: 320, H: 480}
	if l := windowsNow(t, w); !has("keepassxc", right)(l) {
		t.Fatalf("a window mapped before the call is not listed: %+v", l)
	}
	awaitList(t, w, "two tiled", only(host.Window{Class: "pinentry", Rect: left}, host.Window{Class: "keepassxc", Rect: right}))

	// Floating at 50,60 in the size foot chose (a resize in the rule
	// races foot's own first size on a loaded machine).
	s.Start("foot", "--app-id=floater", "cat")
	var floater screen.Rect
	awaitList(t, w, "floating", func(l []host.Window) bool {
		for _, w := range l {
			if w.Class == "floater" && w.Rect.X == 50 && w.Rect.Y == 60 && !w.Rect.Empty() {
				floater = w.Rect
				return true
			}
		}
		return false
	})

	// Closed: a ghost first (the frames may still show it), then gone.
	pin.Process.Kill()
	awaitList(t, w, "pinentry closed", only(
		host.Window{Class: "keepassxc", Rect: full},
		host.Window{Class: "floater", Rect: floater}))

	// Another workspace: nothing of the first is visible.
	s.Msg("workspace", "2")
	awaitList(t, w, "workspace 2", only())
	s.Msg("workspace", "1")
	awaitList(t, w, "workspace 1 again", has("keepassxc", full))

	// Fail closed: no list once the connection is gone.
	w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := w.Windows(ctx); err == nil {
		t.Error("Windows after Close did not fail")
	}
}

// Two outputs side by side: rects are the shared image's.
func TestSwayWindowsTwoOutputs(t *testing.T) {
	s := wltest.StartLayout(t, []wltest.Output{{X: -400, Y: 100, W: 400, H: 300}, {X: 0, Y: 0, W: 640, H: 480}}, "")
	w := watchWindows(t, s)
	s.Msg("focus", "output", "HEADLESS-1")
	s.Start("foot", "--app-id=left", "cat")
	awaitList(t, w, "on the left output", has("left", screen.Rect{X: 0, Y: 100, W: 400, H: 300}))
	s.Msg("focus", "output", "HEADLESS-2")
	s.Start("foot", "--app-id=right", "cat")
	awaitList(t, w, "on the right output", has("right", screen.Rect{X: 400, Y: 0, W: 640, H: 480}))
}

func watchKeys(t *testing.T, s *wltest.Sway) *wlroots.SwayKeys {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	k, err := wlroots.WatchSwayKeys(ctx, s.IPCSocket(), logger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	return k
}

// noEscape checks that no Escape was reported up to now.
func noEscape(t *testing.T, k *wlroots.SwayKeys, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := wlroots.SyncKeys(ctx, k); err != nil {
		t.Fatal(err)
	}
	select {
	case <-k.Escapes():
		t.Errorf("%s was taken for the person's Escape", what)
	default:
	}
}

// bound reports whether sway has our ESC binding.
func bound(t *testing.T, s *wltest.Sway) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := s.Command(ctx, "swaymsg", "unbindcode --locked --inhibited 9").CombinedOutput()
	if err == nil {
		return true
	}
	if !strings.Contains(string(out), "Could not find binding") {
		t.Fatalf("swaymsg unbindcode: %v: %s", err, out)
	}
	return false
}

// The person's Escape (a second virtual keyboard, pressing KEY_ESC as a
// physical one does) is reported while the watcher is active and then
// does not reach the application; the helper's Escape, typed by the
// Injector, reaches the application and is never reported; inactive, no
// binding is left.
func TestSwayKeys(t *testing.T) {
	s := wltest.Start(t, 640, 480, "")
	k := watchKeys(t, s)
	helper := openInjector(t, s)
	person := openInjector(t, s)
	s.Start("foot", "sh", "-c", "stty -echo; cat -v > typed.txt")
	s.WaitWindows(1)
	typed := filepath.Join(s.Dir, "typed.txt")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	personEsc := func() {
		t.Helper()
		if err := wlroots.PressEvdev(ctx, person, 1); err != nil {
			t.Fatal(err)
		}
	}
	line := func(text string) {
		t.Helper()
		inject(t, helper, host.InputEvent{Kind: host.InputText, Text: text + "\n"})
	}
	esc := []host.InputEvent{{Kind: host.InputKey, Key: "Escape", Down: true}, {Kind: host.InputKey, Key: "Escape"}}
	want := ""
	expect := func(l string) {
		t.Helper()
		want += l + "\n"
		waitFile(t, typed, want)
	}

	personEsc()
	line("a")
	expect("^[a") // inactive: the person's Escape is the application's
	noEscape(t, k, "Escape with the watcher off")

	if err := k.SetActive(true); err != nil {
		t.Fatal(err)
	}
	inject(t, helper, esc...)
	noEscape(t, k, "the helper's Escape")
	line("b")
	expect("^[b") // the helper's Escape reached the application

	personEsc()
	select {
	case <-k.Escapes():
	case <-ctx.Done():
		t.Fatal("the person's Escape was not reported")
	}
	line("c")
	expect("c") // the binding consumed it

	if err := k.SetActive(false); err != nil {
		t.Fatal(err)
	}
	if bound(t, s) {
		t.Error("the binding is still there after SetActive(false)")
	}
	personEsc()
	line("d")
	expect("^[d")
	noEscape(t, k, "Escape with the watcher off again")

	// A binding left behind (a gethelp that died) is removed at start.
	if err := k.SetActive(true); err != nil {
		t.Fatal(err)
	}
	k2 := watchKeys(t, s)
	if bound(t, s) {
		t.Error("WatchSwayKeys left an old binding in place")
	}
	k2.Close()
	if err := k.Close(); err == nil {
		t.Log("closing the first watcher removed nothing (already gone)")
	}
	if _, ok := <-k.Escapes(); ok {
		t.Error("Escapes is not closed after Close")
	}
}

// BenchmarkSwayWindows: one Windows call (a GET_TREE round trip and its
// parsing) with ten windows.
func BenchmarkSwayWindows(b *testing.B) {
	s := wltest.Start(b, 1280, 720, "")
	ctx := context.Background()
	w, err := wlroots.WatchSwayWindows(ctx, s.IPCSocket(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	for range 10 {
		s.Start("foot", "cat")
	}
	s.WaitWindows(10)
	for b.Loop() {
		if _, err := w.Windows(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
