//go:build windows

package windows

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/host/internal/tiles"
	"github.com/gethelp/gethelp/session/screen"
)

// These tests need a desktop: a Windows session, or Wine on an X server
// (TestWine runs them so from linux). GETHELP_WINE_SCREEN ("1024x768")
// says what size the screen must be.

var (
	procCreateWindowExW     = user32.NewProc("CreateWindowExW")
	procDestroyWindow       = user32.NewProc("DestroyWindow")
	procTranslateMessage    = user32.NewProc("TranslateMessage")
	procDispatchMessageW    = user32.NewProc("DispatchMessageW")
	procSetForegroundWindow = user32.NewProc("SetForegroundWindow")
	procSetFocus            = user32.NewProc("SetFocus")
	procGetWindowTextW      = user32.NewProc("GetWindowTextW")
	procGetCursorPos        = user32.NewProc("GetCursorPos")
	procUpdateWindow        = user32.NewProc("UpdateWindow")
	procGetCurrentThreadId  = windows.NewLazySystemDLL("kernel32.dll").NewProc("GetCurrentThreadId")
)

const (
	wsPopup       = 0x80000000
	wsBorder      = 0x00800000
	wsVisible     = 0x10000000
	esMultiline   = 0x0004
	esAutoVScroll = 0x0040
)

// testWindow is a top-level edit control on a thread of its own that
// pumps its messages. It is a popup (no caption): Wine's X11 driver waits
// two seconds for a window manager when it destroys a captioned window.
type testWindow struct {
	hwnd uintptr
	tid  uintptr
	done chan struct{}
	rect screen.Rect // in screen coordinates
}

// openWindow shows an edit control at x, y (screen coordinates), w×h, and
// gives it the focus. It is destroyed when the test ends.
func openWindow(t *testing.T, x, y, w, h int) *testWindow {
	t.Helper()
	tw := &testWindow{done: make(chan struct{}), rect: screen.Rect{X: x, Y: y, W: w, H: h}}
	ready := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // the window belongs to this thread; never unlocked, so the thread ends with it
		defer close(tw.done)
		tw.tid, _, _ = procGetCurrentThreadId.Call()
		class, _ := windows.UTF16PtrFromString("EDIT")
		title, _ := windows.UTF16PtrFromString("gethelp test")
		hwnd, _, err := procCreateWindowExW.Call(0, uintptr(unsafe.Pointer(class)), uintptr(unsafe.Pointer(title)),
			wsPopup|wsBorder|wsVisible|esMultiline|esAutoVScroll, uintptr(x), uintptr(y), uintptr(w), uintptr(h), 0, 0, 0, 0)
		if hwnd == 0 {
			ready <- err
			return
		}
		tw.hwnd = hwnd
		procUpdateWindow.Call(hwnd)
		procSetForegroundWindow.Call(hwnd)
		procSetFocus.Call(hwnd)
		// The title is the control's text: clear it.
		empty, _ := windows.UTF16PtrFromString("")
		user32.NewProc("SetWindowTextW").Call(hwnd, uintptr(unsafe.Pointer(empty)))
		ready <- nil
		var msg [48]byte // MSG
		for {
			r, _, _ := procGetMessageW.Call(uintptr(unsafe.Pointer(&msg[0])), 0, 0, 0)
			if int32(r) <= 0 {
				break
			}
			procTranslateMessage.Call(uintptr(unsafe.Pointer(&msg[0])))
			procDispatchMessageW.Call(uintptr(unsafe.Pointer(&msg[0])))
		}
		procDestroyWindow.Call(hwnd)
	}()
	if err := <-ready; err != nil {
		t.Fatalf("CreateWindowEx: %v", err)
	}
	t.Cleanup(func() {
		procPostThreadMessageW.Call(tw.tid, wmQuit, 0, 0)
		<-tw.done
	})
	return tw
}

// text returns the control's text (WM_GETTEXT, handled by its thread).
func (tw *testWindow) text() string {
	var buf [256]uint16
	n, _, _ := procGetWindowTextW.Call(tw.hwnd, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
	return windows.UTF16ToString(buf[:n])
}

func wantScreen() (w, h int, ok bool) {
	s := os.Getenv("GETHELP_WINE_SCREEN")
	ws, hs, found := strings.Cut(s, "x")
	if !found {
		return 0, 0, false
	}
	w, _ = strconv.Atoi(ws)
	h, _ = strconv.Atoi(hs)
	return w, h, true
}

func TestCapture(t *testing.T) {
	src, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	c, err := src.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first capture %dx%d in %v", c.Image.W, c.Image.H, time.Since(start))
	if w, h, ok := wantScreen(); ok && (c.Image.W != w || c.Image.H != h) {
		t.Errorf("image %dx%d, want %dx%d", c.Image.W, c.Image.H, w, h)
	}
	if len(c.Dirty) != 1 || c.Dirty[0] != c.Image.Bounds() {
		t.Errorf("first capture: dirty %v, want the whole screen", c.Dirty)
	}
	mons := src.Monitors()
	t.Logf("monitors: %+v", mons)
	if len(mons) == 0 || !mons[0].Primary || mons[0].Rect.Intersect(c.Image.Bounds()).Empty() {
		t.Errorf("monitors %+v", mons)
	}

	// A still screen: Next waits.
	short, cancelShort := context.WithTimeout(ctx, 150*time.Millisecond)
	c2, err := src.Next(short)
	cancelShort()
	if err == nil {
		t.Logf("the screen changed while still (dirty %v); the desktop is not quiet", c2.Dirty)
	}

	// A window appears: its area is dirty.
	vs := virtualScreen()
	tw := openWindow(t, vs.X+200, vs.Y+150, 300, 200)
	win := screen.Rect{X: tw.rect.X - vs.X, Y: tw.rect.Y - vs.Y, W: tw.rect.W, H: tw.rect.H}
	var dirty []screen.Rect
	deadline := time.Now().Add(5 * time.Second)
	for !covers(dirty, win.X+win.W/2, win.Y+win.H/2) {
		if time.Now().After(deadline) {
			t.Fatalf("the window at %v never showed as dirty (dirty so far %v)", win, dirty)
		}
		c, err := src.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		dirty = append(dirty, c.Dirty...)
	}
	t.Logf("window %v: dirty %v", win, dirty)

	// Refresh: the whole screen again, at once.
	src.Refresh()
	c, err = src.Next(ctx)
	if err != nil || len(c.Dirty) != 1 || c.Dirty[0] != c.Image.Bounds() {
		t.Errorf("after Refresh: dirty %v, err %v; want the whole screen", c.Dirty, err)
	}

	// NextAfter holds the change back until its time.
	src.Refresh()
	notBefore := time.Now().Add(100 * time.Millisecond)
	if c, err = src.NextAfter(ctx, notBefore); err != nil || len(c.Dirty) != 1 {
		t.Errorf("NextAfter after Refresh: dirty %v, err %v", c.Dirty, err)
	}
	if early := time.Until(notBefore); early > 20*time.Millisecond { // Wine's clock is coarse
		t.Errorf("NextAfter returned %v early", early)
	}

	// Figures: one BitBlt and one comparison.
	const n = 100 // Go's clock on Wine ticks coarsely
	src.mu.Lock()
	start = time.Now()
	for range n {
		if err := src.bltLocked(); err != nil {
			t.Fatal(err)
		}
	}
	blt := time.Since(start) / n
	start = time.Now()
	for range n {
		tiles.DiffCopy(src.img, src.dib, nil)
	}
	cmp := time.Since(start) / n
	src.mu.Unlock()
	t.Logf("capture of %dx%d: BitBlt %v, tile comparison %v", c.Image.W, c.Image.H, blt, cmp)

	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Next(ctx); err == nil {
		t.Error("Next after Close: no error")
	}
}

func covers(rs []screen.Rect, x, y int) bool {
	for _, r := range rs {
		if x >= r.X && x < r.X+r.W && y >= r.Y && y < r.Y+r.H {
			return true
		}
	}
	return false
}

func TestInject(t *testing.T) {
	inj, err := OpenInjector(InjectorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer inj.Close()
	ctx := context.Background()
	vs := virtualScreen()
	tw := openWindow(t, vs.X+100, vs.Y+100, 400, 200)

	// The pointer goes where it is sent.
	for _, p := range [][2]int{{0, 0}, {300, 200}, {vs.W - 1, vs.H - 1}, {tw.rect.X - vs.X + 50, tw.rect.Y - vs.Y + 100}} {
		if err := inj.Inject(ctx, host.InputEvent{Kind: host.InputPointer, X: p[0], Y: p[1]}); err != nil {
			t.Fatal(err)
		}
		var pt struct{ X, Y int32 }
		for deadline := time.Now().Add(time.Second); ; time.Sleep(5 * time.Millisecond) { // the move may be handled later
			procGetCursorPos.Call(uintptr(unsafe.Pointer(&pt)))
			if int(pt.X) == vs.X+p[0] && int(pt.Y) == vs.Y+p[1] || time.Now().After(deadline) {
				break
			}
		}
		if int(pt.X) != vs.X+p[0] || int(pt.Y) != vs.Y+p[1] {
			t.Errorf("pointer sent to %v is at %d,%d (virtual screen %v)", p, pt.X, pt.Y, vs)
		}
	}
	// A click in the control gives it the focus, if it lost it.
	for _, down := range []bool{true, false} {
		if err := inj.Inject(ctx, host.InputEvent{Kind: host.InputButton, Button: 1, Down: down, X: tw.rect.X - vs.X + 50, Y: tw.rect.Y - vs.Y + 100}); err != nil {
			t.Fatal(err)
		}
	}

	const want = "Hello, World! ü"
	if err := inj.Inject(ctx, host.InputEvent{Kind: host.InputText, Text: "Hello, World! "}); err != nil {
		t.Fatal(err)
	}
	// A character key pressed and released, and a typo taken back.
	for _, e := range []host.InputEvent{
		{Kind: host.InputKey, Key: "ü", Down: true}, {Kind: host.InputKey, Key: "ü"},
		{Kind: host.InputKey, Key: "x", Down: true}, {Kind: host.InputKey, Key: "x"},
		{Kind: host.InputKey, Key: "Backspace", Down: true}, {Kind: host.InputKey, Key: "Backspace"},
	} {
		if err := inj.Inject(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	got := ""
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got = tw.text(); got == want {
			break
		}
	}
	if got != want {
		t.Errorf("the control holds %q, want %q", got, want)
	}

	// Held keys are released by Close.
	if err := inj.Inject(ctx, host.InputEvent{Kind: host.InputKey, Key: "Shift", Down: true}); err != nil {
		t.Fatal(err)
	}
	if err := inj.Close(); err != nil {
		t.Fatal(err)
	}
	if r, _, _ := user32.NewProc("GetAsyncKeyState").Call(vkLShift); r&0x8000 != 0 {
		t.Error("Shift is still down after Close")
	}
	if err := inj.Inject(ctx, host.InputEvent{Kind: host.InputPointer}); err == nil {
		t.Error("Inject after Close: no error")
	}
}

func TestDesktop(t *testing.T) {
	name, err := InputDesktop()
	t.Logf("input desktop %q, err %v", name, err)
	w, err := WatchDesktop(WatchOptions{Interval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	openWindow(t, 10, 10, 120, 80)
	wins, err := w.Windows(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("windows: %+v", wins)
	found := false
	for _, win := range wins {
		found = found || win.Class == "Edit"
	}
	if !found {
		t.Error("the test's edit control is not in the window list")
	}
	if name == userDesktop && host.MatchClass(wins[len(wins)-1], DefaultSecurePrompts) {
		t.Error("the secure desktop is reported while the input desktop is Default")
	}
	time.Sleep(50 * time.Millisecond)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkCapture(b *testing.B) {
	src, err := Open(Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	if _, err := src.Next(context.Background()); err != nil {
		b.Fatal(err)
	}
	src.mu.Lock()
	defer src.mu.Unlock()
	for b.Loop() {
		if err := src.bltLocked(); err != nil {
			b.Fatal(err)
		}
		tiles.DiffCopy(src.img, src.dib, nil)
	}
}
