//go:build linux

package portal_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/host/portal"
	"github.com/gethelp/gethelp/host/portal/portaltest"
	"github.com/gethelp/gethelp/session/screen"
)

func TestMain(m *testing.M) {
	if script := os.Getenv(fakeGstEnv); script != "" {
		os.Exit(fakeGst(script))
	}
	goleak.VerifyTestMain(m)
}

func logger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// timeout bounds each test's waits: a safety net, not a figure under test.
func timeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// open opens a Source on env's portal and closes it when the test ends.
func open(t *testing.T, env *portaltest.Env, opts portal.Options) *portal.Source {
	t.Helper()
	opts.Bus = env.Bus.Address
	if opts.Logger == nil {
		opts.Logger = logger(t)
	}
	src, err := portal.Open(timeout(t), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// solid returns a w×h BGRx frame of one colour, 0xAARRGGBB.
func solid(w, h int, argb uint32) []byte {
	px := binary.LittleEndian.AppendUint32(nil, argb) // B, G, R, A
	return bytes.Repeat(px, w*h)
}

// paint sets the pixels of r in a BGRx frame of width w.
func paint(frame []byte, w int, r screen.Rect, argb uint32) {
	for y := r.Y; y < r.Y+r.H; y++ {
		for x := r.X; x < r.X+r.W; x++ {
			binary.LittleEndian.PutUint32(frame[4*(y*w+x):], argb)
		}
	}
}

// pixels returns img's pixels as BGRx rows without padding, the 4th byte
// forced to 0xff (the stream's X byte means nothing).
func pixels(img *screen.Image) []byte {
	out := make([]byte, 0, 4*img.W*img.H)
	for y := range img.H {
		out = append(out, img.Pix[y*img.Stride:y*img.Stride+4*img.W]...)
	}
	for i := 3; i < len(out); i += 4 {
		out[i] = 0xff
	}
	return out
}

// nextUntil calls Next until the image equals want; it returns the last
// capture and the union of the dirty rects since the call.
func nextUntil(t *testing.T, ctx context.Context, src host.Source, want []byte) (host.Capture, []screen.Rect) {
	t.Helper()
	var all []screen.Rect
	for {
		c, err := src.Next(ctx)
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		for _, d := range c.Dirty {
			if d.Intersect(c.Image.Bounds()) != d {
				t.Fatalf("dirty %v outside the image %v", d, c.Image.Bounds())
			}
		}
		all = append(all, c.Dirty...)
		if bytes.Equal(pixels(c.Image), want) {
			return c, all
		}
	}
}

// TestFrames shares a screen through the fake portal and a real PipeWire:
// the frames have the stream's size and the pixels the screen shows, a
// change is reported in the tiles it touches only, and Refresh gives the
// whole image again.
func TestFrames(t *testing.T) {
	const w, h = 320, 240
	env := portaltest.Start(t, w, h, nil)
	src := open(t, env, portal.Options{})
	ctx := timeout(t)

	if mons := src.Monitors(); len(mons) != 1 || mons[0].Rect != (screen.Rect{W: w, H: h}) || !mons[0].Primary {
		t.Errorf("Monitors = %+v, want one primary %dx%d", mons, w, h)
	}
	c, err := src.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.Image.W != w || c.Image.H != h || !slices.Equal(c.Dirty, []screen.Rect{{W: w, H: h}}) {
		t.Fatalf("first capture %dx%d dirty %v, want %dx%d whole", c.Image.W, c.Image.H, c.Dirty, w, h)
	}

	frame := solid(w, h, 0xff3366cc)
	if err := env.Screen.Show(frame); err != nil {
		t.Fatal(err)
	}
	nextUntil(t, ctx, src, frame)

	box := screen.Rect{X: 100, Y: 70, W: 10, H: 5} // inside the 64×64 tile at 64,64
	paint(frame, w, box, 0xff00ff00)
	if err := env.Screen.Show(frame); err != nil {
		t.Fatal(err)
	}
	_, dirty := nextUntil(t, ctx, src, frame)
	for _, d := range dirty {
		if d.Intersect(screen.Rect{X: 64, Y: 64, W: 64, H: 64}) != d {
			t.Errorf("dirty %v: the change at %v is in the tile at 64,64 only", d, box)
		}
	}

	src.Refresh()
	c, err = src.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Dirty, []screen.Rect{{W: w, H: h}}) || !bytes.Equal(pixels(c.Image), frame) {
		t.Errorf("after Refresh: dirty %v, want the whole image as it is", c.Dirty)
	}
}

// TestIdle checks that a stream of identical frames (the screen sends 30
// a second) makes Next wait and report nothing.
func TestIdle(t *testing.T) {
	const w, h = 160, 120
	env := portaltest.Start(t, w, h, nil)
	src := open(t, env, portal.Options{})
	ctx := timeout(t)
	frame := solid(w, h, 0xff204060)
	if err := env.Screen.Show(frame); err != nil {
		t.Fatal(err)
	}
	nextUntil(t, ctx, src, frame)

	nctx, cancel := context.WithCancel(ctx)
	type result struct {
		c   host.Capture
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := src.Next(nctx)
		done <- result{c, err}
	}()
	// Let the stream bring 15 more frames, all equal to the one shown.
	start := portal.FramesRead(src)
	for portal.FramesRead(src) < start+15 {
		select {
		case r := <-done:
			t.Fatalf("Next returned on an idle screen: dirty %v, err %v", r.c.Dirty, r.err)
		case <-ctx.Done():
			t.Fatal("the stream brought no frames")
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	if r := <-done; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("Next on an idle screen = dirty %v, err %v; want it waiting until cancelled", r.c.Dirty, r.err)
	}
}

// TestDeclined checks the error when the person cancels the desktop's
// dialog, and that the session is closed.
func TestDeclined(t *testing.T) {
	env := portaltest.Start(t, 64, 64, &portaltest.Portal{Cancel: true})
	_, err := portal.Open(timeout(t), portal.Options{Bus: env.Bus.Address, Logger: logger(t)})
	if !errors.Is(err, portal.ErrDeclined) {
		t.Fatalf("Open = %v, want ErrDeclined", err)
	}
	if want := "portal: the person declined screen sharing in the desktop's dialog"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if _, err := env.Portal.WaitCalls(timeout(t), "Session.Close", 1); err != nil {
		t.Error(err)
	}
}

// TestOpenCancelled checks that ending Open's context while the dialog
// is up withdraws the dialog (Request.Close).
func TestOpenCancelled(t *testing.T) {
	env := portaltest.Start(t, 64, 64, &portaltest.Portal{Hold: true})
	ctx, cancel := context.WithCancel(timeout(t))
	go func() {
		env.Portal.WaitCalls(ctx, "Start", 1)
		cancel()
	}()
	_, err := portal.Open(ctx, portal.Options{Bus: env.Bus.Address, Logger: logger(t)})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Open = %v, want context.Canceled", err)
	}
	if _, err := env.Portal.WaitCalls(timeout(t), "Request.Close", 1); err != nil {
		t.Error(err)
	}
}

// TestUnavailable checks Available and Open on a bus without a portal.
func TestUnavailable(t *testing.T) {
	portaltest.Require(t)
	bus := portaltest.StartBus(t)
	if err := portal.Available(timeout(t), bus.Address); !errors.Is(err, portal.ErrUnavailable) {
		t.Errorf("Available = %v, want ErrUnavailable", err)
	}
	if _, err := portal.Open(timeout(t), portal.Options{Bus: bus.Address}); !errors.Is(err, portal.ErrUnavailable) {
		t.Errorf("Open = %v, want ErrUnavailable", err)
	}
	if err := portal.Available(timeout(t), ""); !errors.Is(err, portal.ErrUnavailable) {
		t.Errorf("Available(\"\") = %v, want ErrUnavailable", err)
	}
}

// TestStoppedFromDesktop checks that the desktop's "stop sharing" (the
// session's Closed signal) ends Next with ErrStopped.
func TestStoppedFromDesktop(t *testing.T) {
	env := portaltest.Start(t, 64, 64, nil)
	src := open(t, env, portal.Options{})
	ctx := timeout(t)
	if _, err := src.Next(ctx); err != nil {
		t.Fatal(err)
	}
	env.Portal.CloseSessions()
	for {
		_, err := src.Next(ctx)
		if errors.Is(err, portal.ErrStopped) {
			break
		}
		if err != nil {
			t.Fatalf("Next = %v, want ErrStopped", err)
		}
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Next(ctx); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Next after Close = %v, want net.ErrClosed", err)
	}
}

// TestInput checks that the injector's calls reach the portal with the
// right arguments: absolute motion on the stream's node, evdev buttons,
// discrete wheel steps, keysyms for keys and typed text; and that
// ReleaseAll and Close release what is held. The portal reports a stream
// twice the frames' size, as on a scaled monitor: KDE then takes logical
// coordinates (the image's scaled to that size), GNOME the stream's
// pixels (the image's as they are).
func TestInput(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutter bool
		scale  float64
	}{
		{"KDE", false, 2},
		{"GNOME", true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testInput(t, tc.mutter, tc.scale)
		})
	}
}

func testInput(t *testing.T, mutter bool, scale float64) {
	const w, h = 160, 120
	env := portaltest.Start(t, w, h, &portaltest.Portal{Size: [2]int32{2 * w, 2 * h}, Mutter: mutter})
	src := open(t, env, portal.Options{Input: true})
	inj := src.Injector()
	if inj == nil {
		t.Fatal("no Injector for a RemoteDesktop session")
	}
	ctx := timeout(t)
	node := env.Portal.Node
	base := len(env.Portal.Calls())
	for _, e := range []host.InputEvent{
		{Kind: host.InputPointer, X: 10, Y: 20},
		{Kind: host.InputButton, X: 30, Y: 40, Button: 1, Down: true},
		{Kind: host.InputButton, X: 30, Y: 40, Button: 1, Down: false},
		{Kind: host.InputButton, X: 500, Y: -3, Button: 3, Down: true}, // outside: clamped
		{Kind: host.InputWheel, DY: 3, DX: -1},
		{Kind: host.InputText, Text: "Hé€\r\n"},
		{Kind: host.InputKey, Key: "Control", Down: true},
		{Kind: host.InputKey, Key: "c", Down: true},
		{Kind: host.InputKey, Key: "C", Down: false},
		{Kind: host.InputKey, Key: "Dead", Down: true},
		{Kind: host.InputKey, Key: "F5", Down: true},
	} {
		if err := inj.Inject(ctx, e); err != nil {
			t.Fatalf("Inject(%+v): %v", e, err)
		}
	}
	if err := inj.Inject(ctx, host.InputEvent{Kind: host.InputKey, Key: "NoSuchKey", Down: true}); !errors.Is(err, portal.ErrUnknownKey) {
		t.Errorf("Inject(NoSuchKey) = %v, want ErrUnknownKey", err)
	}
	if err := inj.ReleaseAll(); err != nil {
		t.Fatal(err)
	}
	type call struct {
		method string
		args   string
	}
	motion := func(x, y float64) call {
		return call{"NotifyPointerMotionAbsolute", fmt.Sprint([]any{node, x * scale, y * scale})}
	}
	key := func(sym int32, state uint32) call { return call{"NotifyKeyboardKeysym", fmt.Sprint([]any{sym, state})} }
	want := []call{
		motion(10, 20),
		motion(30, 40), {"NotifyPointerButton", "[272 1]"},
		motion(30, 40), {"NotifyPointerButton", "[272 0]"},
		motion(w-1, 0), {"NotifyPointerButton", "[273 1]"},
		{"NotifyPointerAxisDiscrete", "[0 3]"}, {"NotifyPointerAxisDiscrete", "[1 -1]"},
		key('H', 1), key('H', 0), key(0xe9, 1), key(0xe9, 0), key(0x20ac, 1), key(0x20ac, 0), key(0xff0d, 1), key(0xff0d, 0),
		key(0xffe3, 1), key('c', 1), key('c', 0), key(0xffc2, 1),
		// ReleaseAll: the keys last pressed first, then the button
		key(0xffc2, 0), key(0xffe3, 0), {"NotifyPointerButton", "[273 0]"},
	}
	calls, err := env.Portal.WaitCalls(ctx, "Notify", len(want))
	if err != nil {
		t.Fatal(err)
	}
	var got []call
	for _, c := range env.Portal.Calls()[base:] {
		if strings.HasPrefix(c.Method, "Notify") {
			got = append(got, call{c.Method, fmt.Sprint(c.Args)})
			if c.Session == "" || len(c.Options) != 0 {
				t.Errorf("%s: session %q options %v", c.Method, c.Session, c.Options)
			}
		}
	}
	if len(calls) != len(want) || !slices.Equal(got, want) {
		t.Errorf("calls:\n got %v\nwant %v", got, want)
	}
	if err := inj.Close(); err != nil {
		t.Fatal(err)
	}
	if err := inj.Inject(ctx, host.InputEvent{Kind: host.InputPointer}); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Inject after Close = %v, want net.ErrClosed", err)
	}
}

// TestInputNotAllowed checks a session where the person allowed the
// keyboard only.
func TestInputNotAllowed(t *testing.T) {
	env := portaltest.Start(t, 64, 64, &portaltest.Portal{Devices: 1})
	src := open(t, env, portal.Options{Input: true})
	ctx := timeout(t)
	inj := src.Injector()
	if err := inj.Inject(ctx, host.InputEvent{Kind: host.InputPointer, X: 1, Y: 1}); !errors.Is(err, portal.ErrNotAllowed) {
		t.Errorf("pointer = %v, want ErrNotAllowed", err)
	}
	if err := inj.Inject(ctx, host.InputEvent{Kind: host.InputText, Text: "a"}); err != nil {
		t.Errorf("typing: %v", err)
	}
}

// TestNoRemoteDesktop checks that a portal without RemoteDesktop (as
// xdg-desktop-portal-wlr) still shares the screen, without control.
func TestNoRemoteDesktop(t *testing.T) {
	env := portaltest.Start(t, 64, 64, &portaltest.Portal{NoRemoteDesktop: true})
	src := open(t, env, portal.Options{Input: true})
	if src.Injector() != nil {
		t.Error("an Injector without RemoteDesktop")
	}
	if _, err := src.Next(timeout(t)); err != nil {
		t.Fatal(err)
	}
}

// TestRestoreToken checks that the restore token the portal gives is kept
// (mode 0600) and handed back next time, for a ScreenCast session through
// SelectSources and for a RemoteDesktop one through SelectDevices.
func TestRestoreToken(t *testing.T) {
	env := portaltest.Start(t, 64, 64, nil)
	file := filepath.Join(t.TempDir(), "state", "portal-tokens.json")
	for i, tc := range []struct {
		input      bool
		selectCall string
		restore    string // the token the client must give
	}{
		{false, "SelectSources", ""},
		{false, "SelectSources", "token-1"},
		{true, "SelectDevices", ""},
		{true, "SelectDevices", "token-3"},
		{false, "SelectSources", "token-2"},
	} {
		base := len(env.Portal.Calls())
		src := open(t, env, portal.Options{Input: tc.input, TokenFile: file})
		src.Close()
		var sel []portaltest.Call
		for _, c := range env.Portal.Calls()[base:] {
			if c.Method == "SelectSources" || c.Method == "SelectDevices" {
				sel = append(sel, c)
			}
		}
		for _, c := range sel {
			mode, hasMode := c.Options["persist_mode"]
			token, _ := c.Options["restore_token"].Value().(string)
			if c.Method != tc.selectCall {
				if hasMode || token != "" {
					t.Errorf("open %d: %s has persist_mode %v restore_token %q; want them in %s only", i, c.Method, mode, token, tc.selectCall)
				}
				continue
			}
			if m, _ := mode.Value().(uint32); m != 2 {
				t.Errorf("open %d: %s persist_mode = %v, want 2", i, c.Method, mode)
			}
			if token != tc.restore {
				t.Errorf("open %d: %s restore_token = %q, want %q", i, c.Method, token, tc.restore)
			}
		}
		fi, err := os.Stat(file)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("token file mode %v, want 0600", fi.Mode().Perm())
		}
	}
}

// TestCorruptTokenFile checks that an unreadable token file only makes
// the desktop ask again.
func TestCorruptTokenFile(t *testing.T) {
	env := portaltest.Start(t, 64, 64, nil)
	file := filepath.Join(t.TempDir(), "portal-tokens.json")
	if err := os.WriteFile(file, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	open(t, env, portal.Options{TokenFile: file})
	data, err := os.ReadFile(file)
	if err != nil || !bytes.Contains(data, []byte(`"screencast": "token-1"`)) {
		t.Errorf("token file after a corrupt one: %q, %v", data, err)
	}
}

// TestNoGStreamer checks the error when gst-launch-1.0 is missing.
func TestNoGStreamer(t *testing.T) {
	env := portaltest.Start(t, 64, 64, nil)
	_, err := portal.Open(timeout(t), portal.Options{Bus: env.Bus.Address, GstLaunch: "/nonexistent/gst-launch-1.0", Logger: logger(t)})
	if !errors.Is(err, portal.ErrNoGStreamer) {
		t.Fatalf("Open = %v, want ErrNoGStreamer", err)
	}
	if _, err := env.Portal.WaitCalls(timeout(t), "Session.Close", 1); err != nil {
		t.Error(err)
	}
}

// TestDance checks the calls Open makes, in order and with their options,
// for a ScreenCast and a RemoteDesktop session, and that Close closes the
// session.
func TestDance(t *testing.T) {
	env := portaltest.Start(t, 64, 64, nil)
	for _, tc := range []struct {
		input bool
		want  []string
	}{
		{false, []string{"CreateSession", "SelectSources", "Start", "OpenPipeWireRemote", "Session.Close"}},
		{true, []string{"RemoteDesktop.CreateSession", "SelectDevices", "SelectSources", "RemoteDesktop.Start", "OpenPipeWireRemote", "Session.Close"}},
	} {
		base := len(env.Portal.Calls())
		src := open(t, env, portal.Options{Input: tc.input})
		if err := src.Close(); err != nil {
			t.Fatal(err)
		}
		if err := src.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		calls := env.Portal.Calls()[base:]
		var got []string
		for _, c := range calls {
			got = append(got, c.Method)
			opt := func(k string) any { return c.Options[k].Value() }
			switch c.Method {
			case "SelectSources":
				if opt("types") != uint32(1) || opt("multiple") != false || opt("cursor_mode") != uint32(2) {
					t.Errorf("SelectSources options %v: want a monitor, not several, the pointer embedded", c.Options)
				}
				if _, ok := c.Options["persist_mode"]; ok {
					t.Errorf("SelectSources asks to persist without a token file")
				}
			case "SelectDevices":
				if opt("types") != uint32(3) {
					t.Errorf("SelectDevices types %v, want keyboard|pointer", opt("types"))
				}
			case "Start", "RemoteDesktop.Start":
				if len(c.Args) != 1 || c.Args[0] != "" {
					t.Errorf("Start parent_window %v, want \"\"", c.Args)
				}
			}
			if c.Method != "CreateSession" && c.Method != "RemoteDesktop.CreateSession" && c.Session == "" {
				t.Errorf("%s without the session", c.Method)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("input %v: calls %v, want %v", tc.input, got, tc.want)
		}
	}
}
