//go:build windows

package windows

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/gethelp/gethelp/host"
)

// xdotool runs xdotool on the X server beneath Wine, with args, and
// returns at once. It stands for the person: what it types and moves
// reaches Wine as an X keyboard's and mouse's input, as a keyboard's
// does on Windows (not injected). TestWine gives its Unix path in
// GETHELP_WINE_XDOTOOL; elsewhere the test is skipped.
//
// Wine starts a Unix program named by its Unix path on drive Z: (it
// forks and execs it), but the process handle it returns cannot be
// waited for: callers wait for xdotool's effect instead, and put what
// must happen in order into one call.
func xdotool(t *testing.T, args ...string) {
	t.Helper()
	path := os.Getenv("GETHELP_WINE_XDOTOOL")
	if path == "" {
		t.Skip("needs Wine and xdotool: TestWine runs this test with GETHELP_WINE_XDOTOOL set")
	}
	p, err := os.StartProcess(`Z:`+strings.ReplaceAll(path, "/", `\`), append([]string{"xdotool"}, args...),
		&os.ProcAttr{Files: []*os.File{nil, os.Stderr, os.Stderr}})
	if err != nil {
		t.Fatalf("xdotool %v: %v", args, err)
	}
	p.Release()
}

// waitText waits until the control's text is want.
func (tw *testWindow) waitText(t *testing.T, want string) {
	t.Helper()
	got := ""
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if got = tw.text(); got == want {
			return
		}
	}
	t.Fatalf("the control holds %q, want %q", got, want)
}

// preciseNow is a clock for measuring: QueryPerformanceCounter (Go's
// clock under Wine ticks every 15.6 ms).
func preciseNow() time.Duration {
	var c, f int64
	procQueryPerformanceCounter.Call(uintptr(unsafe.Pointer(&c)))
	procQueryPerformanceFrequency.Call(uintptr(unsafe.Pointer(&f)))
	return time.Duration(float64(c) / float64(f) * float64(time.Second))
}

var (
	procQueryPerformanceCounter   = windows.NewLazySystemDLL("kernel32.dll").NewProc("QueryPerformanceCounter")
	procQueryPerformanceFrequency = windows.NewLazySystemDLL("kernel32.dll").NewProc("QueryPerformanceFrequency")
)

// waitEscape waits for the watcher to report Escape, and returns the time
// (preciseNow) it came.
func waitEscape(t *testing.T, w *KeyWatcher, what string) time.Duration {
	t.Helper()
	select {
	case _, ok := <-w.Escapes():
		at := preciseNow()
		if !ok {
			t.Fatalf("%s: the Escapes channel is closed", what)
		}
		return at
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: not reported", what)
		return 0
	}
}

// noEscape checks that the watcher has reported nothing. Callers make
// sure first that the event they test went past the hook: a key typed
// after it reached the focused control.
func noEscape(t *testing.T, w *KeyWatcher, what string) {
	t.Helper()
	select {
	case <-w.Escapes():
		t.Errorf("%s: reported as the person's Escape", what)
	default:
	}
}

// TestKeyWatcher checks which Escape takes control back: the person's (an
// X keyboard's, through xdotool) and another program's injected one (an
// on-screen keyboard's), while the watcher is active; never gethelp's own
// (the Injector's), and nothing while the watcher is inactive, when its
// hook is removed.
//
// Wine delivers X key events only to its own windows, so an edit control
// of the test's has the focus; what is typed after an Escape reaching it
// proves that the Escape went past the hook (Windows calls low-level
// hooks before it queues the key).
func TestKeyWatcher(t *testing.T) {
	if os.Getenv("GETHELP_WINE_XDOTOOL") == "" {
		t.Skip("needs Wine and xdotool: TestWine runs this test with GETHELP_WINE_XDOTOOL set")
	}
	vs := virtualScreen()
	tw := openWindow(t, vs.X+100, vs.Y+100, 400, 200)
	// The pointer over the control, so that X gives it the keys whatever
	// the focus mode.
	xdotool(t, "mousemove", "--sync", "300", "200", "key", "a")
	typed := "a"
	tw.waitText(t, typed)

	w, err := WatchKeys(KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	inj, err := OpenInjector(InjectorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer inj.Close()
	ctx := context.Background()

	// The person's Escape, a few times, each followed by a letter: when
	// the letter is in the control, Escape's release went past the hook
	// too, and the next press is not autorepeat. The times are from
	// starting xdotool (a process, a connection to the X server) to the
	// report, and to the letter in the control for comparison.
	var toEscape, toLetter []time.Duration
	for i := range 5 {
		start := preciseNow()
		xdotool(t, "key", "Escape", "b")
		toEscape = append(toEscape, waitEscape(t, w, fmt.Sprint("the person's Escape #", i+1))-start)
		typed += "b"
		tw.waitText(t, typed)
		toLetter = append(toLetter, preciseNow()-start)
	}
	slices.Sort(toEscape)
	slices.Sort(toLetter)
	t.Logf("xdotool to the person's Escape reported: median %v (%v); to the letter after it in the control: median %v",
		toEscape[len(toEscape)/2], toEscape, toLetter[len(toLetter)/2])

	// What the hook costs a key: called here, off the hook's thread, it
	// looks the thread up, finds nothing and passes the key on.
	info := kbdLLHookStruct{VKCode: vkEscape}
	start := preciseNow()
	const n = 1000
	for range n {
		keyboardHook(hcAction, 0x100, &info) // WM_KEYDOWN
	}
	t.Logf("the hook procedure for Escape, lookup and CallNextHookEx: %v", (preciseNow()-start)/n)

	// gethelp's own Escape, then a letter: the letter reached the control,
	// so the Escape went past the hook before it.
	for _, e := range []host.InputEvent{{Kind: host.InputKey, Key: "Escape", Down: true}, {Kind: host.InputKey, Key: "Escape"}, {Kind: host.InputText, Text: "c"}} {
		if err := inj.Inject(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	typed += "c"
	tw.waitText(t, typed)
	noEscape(t, w, "the Injector's Escape")

	// Another program's injected Escape (an on-screen keyboard's): the
	// person's.
	sc := winSystem{}.scanCode(vkEscape)
	osk := []input{keybd(vkEscape, sc, 0), keybd(vkEscape, sc, keyUp)}
	for i := range osk {
		osk[i].keybd().ExtraInfo = 0
	}
	if err := send(osk); err != nil {
		t.Fatal(err)
	}
	waitEscape(t, w, "another program's injected Escape")

	// Inactive: the hook is removed, and Escape is not reported.
	ht := w.hook
	if err := w.SetActive(false); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ht.done:
	default:
		t.Error("SetActive(false) returned before the hook's thread ended")
	}
	hookMu.Lock()
	registered := hookThreads[ht.tid] != nil
	hookMu.Unlock()
	if registered || w.hook != nil {
		t.Error("SetActive(false) left the hook registered")
	}
	if r, _, _ := procUnhookWindowsHookEx.Call(ht.hook); r != 0 {
		t.Error("the hook was still installed after SetActive(false): UnhookWindowsHookEx removed it")
	}
	xdotool(t, "key", "Escape", "d")
	typed += "d"
	tw.waitText(t, typed)
	if err := send(osk); err != nil {
		t.Fatal(err)
	}
	if err := inj.Inject(ctx, host.InputEvent{Kind: host.InputText, Text: "e"}); err != nil {
		t.Fatal(err)
	}
	typed += "e"
	tw.waitText(t, typed)
	noEscape(t, w, "Escape while inactive")
	if err := w.SetActive(false); err != nil {
		t.Errorf("SetActive(false) again: %v", err)
	}

	// Active again.
	if err := w.SetActive(true); err != nil {
		t.Fatal(err)
	}
	xdotool(t, "key", "Escape")
	waitEscape(t, w, "the person's Escape after SetActive(true)")

	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-w.Escapes(); ok {
		t.Error("Escapes is not closed after Close")
	}
	if err := w.SetActive(true); err == nil {
		t.Error("SetActive after Close: no error")
	}
	if err := w.Close(); err != nil {
		t.Errorf("Close again: %v", err)
	}
}
