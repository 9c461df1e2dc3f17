package x11_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/host/x11"
)

// openInjector opens an Injector on display with its log in the returned
// buffer, closed when the test ends. Tests open it before their own
// connections (see initExtensions).
func openInjector(t *testing.T, display string, opts x11.InjectorOptions) (*x11.Injector, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	opts.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	inj, err := x11.OpenInjector(display, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inj.Close() })
	return inj, logs
}

// inject performs events, failing the test on an error.
func inject(t *testing.T, inj *x11.Injector, events ...host.InputEvent) {
	t.Helper()
	for _, e := range events {
		if err := inj.Inject(context.Background(), e); err != nil {
			t.Fatalf("Inject(%+v): %v", e, err)
		}
	}
}

// keyPairs returns a press and a release of each character of s, as the
// browser names them.
func keyPairs(s string) []host.InputEvent {
	var events []host.InputEvent
	for _, r := range s {
		events = append(events,
			host.InputEvent{Kind: host.InputKey, Key: string(r), Down: true},
			host.InputEvent{Kind: host.InputKey, Key: string(r)})
	}
	return events
}

// setLayout loads an XKB layout into the server of display.
func setLayout(t *testing.T, display, layout string) {
	t.Helper()
	path, err := exec.LookPath("setxkbmap")
	if err != nil {
		t.Fatal("setxkbmap is not installed: run `make test`, which installs Xvfb and with it x11-xkb-utils")
	}
	if out, err := exec.Command(path, "-display", display, "-layout", layout).CombinedOutput(); err != nil {
		t.Fatalf("setxkbmap %s: %v: %s", layout, err, out)
	}
}

// received is an input event as the test window got it.
type received struct {
	typ    byte // xproto.KeyPress, ButtonPress…
	detail byte
	state  uint16
	x, y   int16         // in the window
	sym    xproto.Keysym // of a KeyPress, looked up with the map of the moment
}

// inputWindow is a test client: a window of its own connection, focused,
// that records the input it receives.
type inputWindow struct {
	t      *testing.T
	c      *xgb.Conn
	root   xproto.Window
	win    xproto.Window
	x, y   int
	marks  chan uint32
	markNo uint32
	wg     sync.WaitGroup

	mu       sync.Mutex
	got      []received
	min      xproto.Keycode
	per      int
	syms     []xproto.Keysym
	level3   uint16        // the modifier of ISO_Level3_Shift
	mappings chan struct{} // cap 1: the map was read again
}

// newInputWindow maps a 400×300 window at x, y, focuses it and records
// what it gets until the test ends.
func newInputWindow(t *testing.T, display string, x, y int) *inputWindow {
	t.Helper()
	c, err := xgb.NewConnDisplay(display)
	if err != nil {
		t.Fatal(err)
	}
	w := &inputWindow{t: t, c: c, root: xproto.Setup(c).DefaultScreen(c).Root, x: x, y: y,
		marks: make(chan uint32, 16), mappings: make(chan struct{}, 1)}
	t.Cleanup(func() {
		c.Close()
		w.wg.Wait()
	})
	if err := w.readKeymap(); err != nil {
		t.Fatal(err)
	}
	if w.win, err = xproto.NewWindowId(c); err != nil {
		t.Fatal(err)
	}
	mask := uint32(xproto.EventMaskKeyPress | xproto.EventMaskKeyRelease | xproto.EventMaskButtonPress |
		xproto.EventMaskButtonRelease | xproto.EventMaskPointerMotion)
	if err := xproto.CreateWindowChecked(c, 0, w.win, w.root, int16(x), int16(y), 400, 300, 0,
		xproto.WindowClassInputOutput, 0, xproto.CwBackPixel|xproto.CwOverrideRedirect|xproto.CwEventMask,
		[]uint32{0xffffff, 1, mask}).Check(); err != nil {
		t.Fatal(err)
	}
	if err := xproto.MapWindowChecked(c, w.win).Check(); err != nil {
		t.Fatal(err)
	}
	if err := xproto.SetInputFocusChecked(c, xproto.InputFocusParent, w.win, xproto.TimeCurrentTime).Check(); err != nil {
		t.Fatal(err)
	}
	w.wg.Add(1)
	go w.read()
	return w
}

func (w *inputWindow) readKeymap() error {
	setup := xproto.Setup(w.c)
	km, err := xproto.GetKeyboardMapping(w.c, setup.MinKeycode, byte(setup.MaxKeycode-setup.MinKeycode+1)).Reply()
	if err != nil {
		return err
	}
	mm, err := xproto.GetModifierMapping(w.c).Reply()
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.min, w.per, w.syms = setup.MinKeycode, int(km.KeysymsPerKeycode), km.Keysyms
	w.level3 = 0
	per := int(mm.KeycodesPerModifier)
	for i, kc := range mm.Keycodes {
		if kc != 0 && w.rowLocked(kc)[0] == 0xfe03 { // ISO_Level3_Shift
			w.level3 |= 1 << (i / per)
		}
	}
	select {
	case w.mappings <- struct{}{}:
	default:
	}
	return nil
}

func (w *inputWindow) rowLocked(kc xproto.Keycode) []xproto.Keysym {
	i := (int(kc) - int(w.min)) * w.per
	return w.syms[i : i+w.per]
}

// lookup is the keysym of key kc in modifier state, as a client without
// XKB sees it: columns 0 and 1, or 4 and 5 with the level-3 modifier
// (2 and 3 if those are empty); Shift picks the second, Caps Lock swaps
// the case of letters (XKB's rule: Shift+Lock gives the small letter).
func (w *inputWindow) lookupLocked(kc xproto.Keycode, state uint16) xproto.Keysym {
	row := w.rowLocked(kc)
	col := 0
	if state&w.level3 != 0 && w.level3 != 0 {
		col = 2
		if w.per > 5 && (row[4] != 0 || row[5] != 0) {
			col = 4
		}
	}
	shift := state&xproto.ModMaskShift != 0
	if state&xproto.ModMaskLock != 0 {
		lo, up := testRune(row[col]), testRune(row[col+1])
		if lo != up && strings.ToUpper(string(lo)) == string(up) {
			shift = !shift
		}
	}
	if shift && row[col+1] != 0 {
		return row[col+1]
	}
	return row[col]
}

// testRune is the character of a keysym (for the few keysyms the tests
// use), -1 for others. Written apart from the package's tables, so that
// it checks them.
func testRune(ks xproto.Keysym) rune {
	switch {
	case ks >= 0x20 && ks <= 0x7e, ks >= 0xa0 && ks <= 0xff:
		return rune(ks)
	case ks >= 0x01000100 && ks <= 0x0110ffff:
		return rune(ks - 0x01000000)
	case ks == 0x20ac: // EuroSign
		return '€'
	case ks == 0x6d6: // Cyrillic_zhe
		return 'ж'
	case ks == 0x6d5: // Cyrillic_u
		return 'у'
	case ks == 0x6cb: // Cyrillic_ka
		return 'к'
	case ks == 0xff0d: // Return
		return '\n'
	}
	return -1
}

func (w *inputWindow) read() {
	defer w.wg.Done()
	for {
		ev, err := w.c.WaitForEvent()
		if ev == nil && err == nil {
			return
		}
		if err != nil {
			continue
		}
		switch e := ev.(type) {
		case xproto.MappingNotifyEvent:
			w.readKeymap() // an error only when the test ends
		case xproto.KeyPressEvent:
			w.mu.Lock()
			w.got = append(w.got, received{typ: xproto.KeyPress, detail: byte(e.Detail), state: e.State,
				x: e.EventX, y: e.EventY, sym: w.lookupLocked(e.Detail, e.State)})
			w.mu.Unlock()
		case xproto.KeyReleaseEvent:
			w.add(received{typ: xproto.KeyRelease, detail: byte(e.Detail), state: e.State})
		case xproto.ButtonPressEvent:
			w.add(received{typ: xproto.ButtonPress, detail: byte(e.Detail), state: e.State, x: e.EventX, y: e.EventY})
		case xproto.ButtonReleaseEvent:
			w.add(received{typ: xproto.ButtonRelease, detail: byte(e.Detail), state: e.State, x: e.EventX, y: e.EventY})
		case xproto.MotionNotifyEvent:
			w.add(received{typ: xproto.MotionNotify, state: e.State, x: e.EventX, y: e.EventY})
		case xproto.ClientMessageEvent:
			w.marks <- e.Data.Data32[0]
		}
	}
}

func (w *inputWindow) add(r received) {
	w.mu.Lock()
	w.got = append(w.got, r)
	w.mu.Unlock()
}

// take waits until the window has seen every event the server sent it
// before this call, and returns and forgets them.
func (w *inputWindow) take() []received {
	w.t.Helper()
	w.markNo++
	ev := xproto.ClientMessageEvent{Format: 32, Window: w.win,
		Data: xproto.ClientMessageDataUnionData32New([]uint32{w.markNo, 0, 0, 0, 0})}
	if err := xproto.SendEventChecked(w.c, false, w.win, xproto.EventMaskNoEvent, string(ev.Bytes())).Check(); err != nil {
		w.t.Fatal(err)
	}
	timeout := time.After(10 * time.Second)
	for {
		select {
		case n := <-w.marks:
			if n != w.markNo {
				continue
			}
			w.mu.Lock()
			defer w.mu.Unlock()
			got := w.got
			w.got = nil
			return got
		case <-timeout:
			w.t.Fatal("the test window did not get its own message within 10s")
		}
	}
}

// text returns the characters of the KeyPress events in got.
func text(got []received) string {
	var b strings.Builder
	for _, r := range got {
		if r.typ == xproto.KeyPress {
			if c := testRune(r.sym); c >= 0 {
				b.WriteRune(c)
			}
		}
	}
	return b.String()
}

// keymap returns the server's keyboard map now.
func (w *inputWindow) keymap() []xproto.Keysym {
	w.t.Helper()
	setup := xproto.Setup(w.c)
	km, err := xproto.GetKeyboardMapping(w.c, setup.MinKeycode, byte(setup.MaxKeycode-setup.MinKeycode+1)).Reply()
	if err != nil {
		w.t.Fatal(err)
	}
	return km.Keysyms
}

// waitKeymap waits until the server's keyboard map is want.
func (w *inputWindow) waitKeymap(want []xproto.Keysym, d time.Duration) {
	w.t.Helper()
	timeout := time.After(d)
	for !slices.Equal(w.keymap(), want) {
		select {
		case <-w.mappings: // a MappingNotify: look again
		case <-timeout:
			w.t.Fatalf("the keyboard map was not restored within %v", d)
		}
	}
}

// modifierState returns the server's modifier and button state.
func (w *inputWindow) modifierState() uint16 {
	w.t.Helper()
	r, err := xproto.QueryPointer(w.c, w.root).Reply()
	if err != nil {
		w.t.Fatal(err)
	}
	return r.Mask
}

const helloWorld = "Hello, World! ü€"

func TestInjectTypesText(t *testing.T) {
	tests := []struct {
		layout, text string
		onMap        bool          // every character is on the layout's map
		shifted      xproto.Keysym // a character that needs the level-3 or group modifier
	}{
		{"us", helloWorld, false, 0},          // ü and € on spare keycodes
		{"de", helloWorld, true, 0x20ac},      // € at AltGr+E: column 4
		{"us,ru", "Hello, жук!", true, 0x6d6}, // Cyrillic in the second group: columns 2 and 3
	}
	for _, tt := range tests {
		t.Run(tt.layout, func(t *testing.T) {
			display, _ := x11.StartXvfb(t, 800, 600, 24)
			setLayout(t, display, tt.layout)
			inj, logs := openInjector(t, display, x11.InjectorOptions{})
			w := newInputWindow(t, display, 100, 50)
			before := w.keymap()

			inject(t, inj, host.InputEvent{Kind: host.InputText, Text: tt.text})
			if got := text(w.take()); got != tt.text {
				t.Errorf("InputText: the window got %q, want %q", got, tt.text)
			}
			inject(t, inj, keyPairs(tt.text)...)
			got := w.take()
			if s := text(got); s != tt.text {
				t.Errorf("InputKey: the window got %q, want %q", s, tt.text)
			}
			if tt.onMap && !slices.Equal(w.keymap(), before) {
				t.Error("the keyboard map changed, though every character is on it")
			}
			if tt.shifted != 0 {
				i := slices.IndexFunc(got, func(r received) bool { return r.sym == tt.shifted })
				if i < 0 || got[i].state&w.level3 == 0 {
					t.Errorf("%#x was not typed with the level-3 or group modifier: %+v", tt.shifted, got)
				}
			}
			// Shift and AltGr pressed around characters are released.
			if s := w.modifierState(); s&0xff != 0 {
				t.Errorf("modifier state %#x after typing, want none", s)
			}
			for _, secret := range []string{"Hello", "World", "ü", "€", "\\u00fc"} {
				if strings.Contains(logs.String(), secret) {
					t.Errorf("the log shows typed text %q:\n%s", secret, logs)
				}
			}
		})
	}
}

func TestInjectNamedKeys(t *testing.T) {
	display, _ := x11.StartXvfb(t, 800, 600, 24)
	inj, _ := openInjector(t, display, x11.InjectorOptions{})
	w := newInputWindow(t, display, 100, 50)
	tests := []struct {
		key  string
		want xproto.Keysym
	}{
		{"Enter", 0xff0d},
		{"Escape", 0xff1b},
		{"ArrowLeft", 0xff51},
		{"F5", 0xffc2},
		{"F24", 0xffd5}, // not on Xvfb's map: a spare keycode
		{"Backspace", 0xff08},
		{"Tab", 0xff09},
		{"PageDown", 0xff56},
		{"Delete", 0xffff},
		{" ", 0x20},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			inject(t, inj, host.InputEvent{Kind: host.InputKey, Key: tt.key, Down: true},
				host.InputEvent{Kind: host.InputKey, Key: tt.key})
			got := w.take()
			if len(got) != 2 || got[0].typ != xproto.KeyPress || got[1].typ != xproto.KeyRelease ||
				got[0].detail != got[1].detail || got[0].sym != tt.want {
				t.Errorf("got %+v, want a press and a release of keysym %#x", got, tt.want)
			}
		})
	}
}

func TestInjectHeldModifiers(t *testing.T) {
	display, _ := x11.StartXvfb(t, 800, 600, 24)
	inj, _ := openInjector(t, display, x11.InjectorOptions{})
	w := newInputWindow(t, display, 100, 50)
	key := func(name string, down bool) host.InputEvent {
		return host.InputEvent{Kind: host.InputKey, Key: name, Down: down}
	}

	// A helper on a German keyboard types "/" as Shift+7: on this US map
	// "/" is unshifted, so the helper's Shift is lifted around it.
	inject(t, inj, key("Shift", true), key("/", true), key("/", false), key("A", true), key("A", false), key("Shift", false))
	if got := text(w.take()); got != "/A" {
		t.Errorf("with Shift held: got %q, want %q", got, "/A")
	}

	// Shift stays down where it changes nothing: Shift+Space.
	inject(t, inj, key("Shift", true), key(" ", true), key(" ", false), key("Shift", false))
	got := w.take()
	if i := slices.IndexFunc(got, func(r received) bool { return r.sym == ' ' }); i < 0 || got[i].state&xproto.ModMaskShift == 0 {
		t.Errorf("Shift+Space: got %+v, want a space with Shift", got)
	}

	// Control stays down for a character: Ctrl+C arrives as such.
	inject(t, inj, key("Control", true), key("c", true), key("c", false), key("Control", false))
	got = w.take()
	i := slices.IndexFunc(got, func(r received) bool { return r.sym == 'c' })
	if i < 0 || got[i].state&xproto.ModMaskControl == 0 {
		t.Errorf("Ctrl+C: got %+v, want c with Control", got)
	}

	// Caps Lock on: the letters come out as named all the same.
	inject(t, inj, key("CapsLock", true), key("CapsLock", false))
	if w.modifierState()&xproto.ModMaskLock == 0 {
		t.Fatal("Caps Lock did not lock")
	}
	inject(t, inj, host.InputEvent{Kind: host.InputText, Text: "aB1!"})
	if got := text(w.take()); got != "aB1!" {
		t.Errorf("with Caps Lock: got %q, want %q", got, "aB1!")
	}
	inject(t, inj, key("CapsLock", true), key("CapsLock", false))
	w.take()

	// Released under another name: "a" down, Shift down, "A" up.
	inject(t, inj, key("a", true), key("Shift", true), key("A", false), key("Shift", false))
	got = w.take()
	var presses, releases int
	for _, r := range got {
		switch r.typ {
		case xproto.KeyPress:
			presses++
		case xproto.KeyRelease:
			releases++
		}
	}
	if presses != 2 || releases != 2 {
		t.Errorf("a, Shift, A up, Shift up: %d presses and %d releases, want 2 and 2: %+v", presses, releases, got)
	}
}

func TestInjectPointer(t *testing.T) {
	display, _ := x11.StartXvfb(t, 800, 600, 24)
	inj, _ := openInjector(t, display, x11.InjectorOptions{})
	w := newInputWindow(t, display, 100, 50)

	inject(t, inj, host.InputEvent{Kind: host.InputPointer, X: 150, Y: 120})
	got := w.take()
	if len(got) == 0 || got[len(got)-1].typ != xproto.MotionNotify || got[len(got)-1].x != 50 || got[len(got)-1].y != 70 {
		t.Errorf("move to 150,120: got %+v, want motion to 50,70 in the window", got)
	}

	clicks := []struct {
		button, x, y int
	}{{1, 200, 100}, {3, 300, 200}, {2, 101, 51}, {8, 499, 349}, {9, 250, 250}}
	for _, c := range clicks {
		inject(t, inj, host.InputEvent{Kind: host.InputButton, Button: c.button, X: c.x, Y: c.y, Down: true},
			host.InputEvent{Kind: host.InputButton, Button: c.button, X: c.x, Y: c.y})
		var buttons []received
		for _, r := range w.take() {
			if r.typ == xproto.ButtonPress || r.typ == xproto.ButtonRelease {
				buttons = append(buttons, r)
			}
		}
		wantX, wantY := int16(c.x-w.x), int16(c.y-w.y)
		if len(buttons) != 2 || buttons[0].typ != xproto.ButtonPress || buttons[1].typ != xproto.ButtonRelease ||
			buttons[0].detail != byte(c.button) || buttons[1].detail != byte(c.button) ||
			buttons[0].x != wantX || buttons[0].y != wantY {
			t.Errorf("click of button %d at %d,%d: got %+v, want press and release at %d,%d", c.button, c.x, c.y, buttons, wantX, wantY)
		}
	}

	inject(t, inj,
		host.InputEvent{Kind: host.InputWheel, X: 150, Y: 150, DY: 2},
		host.InputEvent{Kind: host.InputWheel, X: 150, Y: 150, DY: -1},
		host.InputEvent{Kind: host.InputWheel, X: 150, Y: 150, DX: 1},
		host.InputEvent{Kind: host.InputWheel, X: 150, Y: 150, DX: -1})
	var wheel []byte
	for _, r := range w.take() {
		if r.typ == xproto.ButtonPress {
			wheel = append(wheel, r.detail)
		}
	}
	if want := []byte{5, 5, 4, 7, 6}; !slices.Equal(wheel, want) {
		t.Errorf("wheel: buttons %v, want %v", wheel, want)
	}
	if s := w.modifierState(); s&0x1f00 != 0 {
		t.Errorf("button state %#x after the clicks, want none", s)
	}
}

func TestReleaseAll(t *testing.T) {
	display, _ := x11.StartXvfb(t, 800, 600, 24)
	inj, _ := openInjector(t, display, x11.InjectorOptions{})
	w := newInputWindow(t, display, 100, 50)

	inject(t, inj,
		host.InputEvent{Kind: host.InputKey, Key: "Shift", Down: true},
		host.InputEvent{Kind: host.InputKey, Key: "x", Down: true},
		host.InputEvent{Kind: host.InputButton, Button: 1, X: 200, Y: 200, Down: true})
	if s := w.modifierState(); s&xproto.ModMaskShift == 0 || s&xproto.KeyButMaskButton1 == 0 {
		t.Fatalf("state %#x with Shift and button 1 held", s)
	}
	w.take()
	if err := inj.ReleaseAll(); err != nil {
		t.Fatal(err)
	}
	if s := w.modifierState(); s&0x1fff != 0 {
		t.Errorf("state %#x after ReleaseAll, want nothing held", s)
	}
	var releases []byte
	for _, r := range w.take() {
		if r.typ == xproto.KeyRelease || r.typ == xproto.ButtonRelease {
			releases = append(releases, r.typ)
		}
	}
	if want := []byte{xproto.KeyRelease, xproto.KeyRelease, xproto.ButtonRelease}; !slices.Equal(releases, want) {
		t.Errorf("ReleaseAll sent %v, want %v", releases, want)
	}
	// The browser's late releases are ignored.
	inject(t, inj, host.InputEvent{Kind: host.InputKey, Key: "Shift"}, host.InputEvent{Kind: host.InputButton, Button: 1})
	if got := w.take(); slices.ContainsFunc(got, func(r received) bool { return r.typ != xproto.MotionNotify }) {
		t.Errorf("releases after ReleaseAll sent %+v", got)
	}

	// Close releases too.
	inject(t, inj, host.InputEvent{Kind: host.InputKey, Key: "Control", Down: true})
	if err := inj.Close(); err != nil {
		t.Fatal(err)
	}
	if s := w.modifierState(); s&xproto.ModMaskControl != 0 {
		t.Errorf("state %#x after Close, want Control released", s)
	}
}

func TestInjectSpareKeycode(t *testing.T) {
	display, _ := x11.StartXvfb(t, 800, 600, 24)
	inj, logs := openInjector(t, display, x11.InjectorOptions{KeymapHold: 100 * time.Millisecond})
	w := newInputWindow(t, display, 100, 50)
	before := w.keymap()

	// Not on Xvfb's US map: Latin-1, a legacy keysym, a Unicode one.
	const typed = "€ü中ж"
	for _, r := range typed {
		for _, ks := range []xproto.Keysym{xproto.Keysym(r), 0x20ac, 0x6d6, 0x1000000 | xproto.Keysym(r)} {
			if slices.Contains(before, ks) && testRune(ks) == r {
				t.Fatalf("%c is on Xvfb's default map: pick another character for this test", r)
			}
		}
	}
	inject(t, inj, host.InputEvent{Kind: host.InputText, Text: typed})
	if got := text(w.take()); got != typed {
		t.Errorf("got %q, want %q", got, typed)
	}
	if slices.Equal(w.keymap(), before) {
		t.Error("the map did not change: the characters were not bound to spare keycodes")
	}
	if !strings.Contains(logs.String(), "bound a character to a spare keycode") {
		t.Errorf("the log does not tell of the spare keycodes:\n%s", logs)
	}
	// KeymapHold after the last use, the map is as it was.
	w.waitKeymap(before, 5*time.Second)

	// Held down, a bound key stays bound.
	inject(t, inj, host.InputEvent{Kind: host.InputKey, Key: "中", Down: true})
	time.Sleep(300 * time.Millisecond) // thrice KeymapHold
	if slices.Equal(w.keymap(), before) {
		t.Error("the map was restored while the key was held")
	}
	inject(t, inj, host.InputEvent{Kind: host.InputKey, Key: "中"})
	if got := text(w.take()); got != "中" {
		t.Errorf("held key: got %q, want 中", got)
	}
	w.waitKeymap(before, 5*time.Second)

	// More characters than spare keycodes: the oldest are rebound.
	var many strings.Builder
	for r := rune(0x4e00); r < 0x4e00+40; r++ {
		many.WriteRune(r)
	}
	inject(t, inj, host.InputEvent{Kind: host.InputText, Text: many.String()})
	if got := text(w.take()); got != many.String() {
		t.Errorf("40 CJK characters: got %q, want %q", got, many.String())
	}
	// Close restores at once.
	if err := inj.Close(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(w.keymap(), before) {
		t.Error("the map was not restored by Close")
	}
}

// TestInjectIntoXterm types into a real application: xterm running cat.
func TestInjectIntoXterm(t *testing.T) {
	xterm, err := exec.LookPath("xterm")
	if err != nil {
		t.Fatal("xterm is not installed: run `make test`, which installs it")
	}
	display, _ := x11.StartXvfb(t, 800, 600, 24)
	inj, _ := openInjector(t, display, x11.InjectorOptions{})
	c, err := xgb.NewConnDisplay(display)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	root := xproto.Setup(c).DefaultScreen(c).Root
	if err := xproto.ChangeWindowAttributesChecked(c, root, xproto.CwEventMask,
		[]uint32{xproto.EventMaskSubstructureNotify}).Check(); err != nil {
		t.Fatal(err)
	}

	file := filepath.Join(t.TempDir(), "typed")
	cmd := exec.Command(xterm, "-display", display, "-u8", "-geometry", "80x24+10+10", "-e", "sh", "-c", `cat > "$1"`, "sh", file)
	cmd.Env = append(os.Environ(), "LANG=C.UTF-8", "LC_ALL=C.UTF-8")
	out := &logBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cmd.WaitDelay = 5 * time.Second // for output pipes a child of xterm might keep open
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	defer func() {
		select {
		case <-exited:
		default:
			cmd.Process.Kill()
			<-exited
		}
	}()

	// xterm's window, once mapped.
	events := make(chan xgb.Event, 64)
	go func() {
		for {
			ev, err := c.WaitForEvent()
			if ev == nil && err == nil {
				close(events)
				return
			}
			if ev != nil {
				events <- ev
			}
		}
	}()
	defer func() {
		c.Close()
		for range events {
		}
	}()
	var win xproto.Window
	timeout := time.After(15 * time.Second)
	for win == 0 {
		select {
		case ev := <-events:
			if m, ok := ev.(xproto.MapNotifyEvent); ok && m.Event == root {
				win = m.Window
			}
		case <-exited:
			t.Fatalf("xterm exited before mapping a window: %v: %s", waitErr, out)
		case <-timeout:
			t.Fatalf("xterm mapped no window within 15s: %s", out)
		}
	}
	if err := xproto.SetInputFocusChecked(c, xproto.InputFocusPointerRoot, win, xproto.TimeCurrentTime).Check(); err != nil {
		t.Fatal(err)
	}

	const typed = "Hello, World! ü\n"
	inject(t, inj,
		host.InputEvent{Kind: host.InputPointer, X: 100, Y: 100},
		host.InputEvent{Kind: host.InputText, Text: typed},
		host.InputEvent{Kind: host.InputKey, Key: "Control", Down: true},
		host.InputEvent{Kind: host.InputKey, Key: "d", Down: true},
		host.InputEvent{Kind: host.InputKey, Key: "d"},
		host.InputEvent{Kind: host.InputKey, Key: "Control"})
	select {
	case <-exited:
		if waitErr != nil {
			t.Fatalf("xterm: %v: %s", waitErr, out)
		}
	case <-time.After(15 * time.Second):
		b, _ := os.ReadFile(file)
		t.Fatalf("cat did not end within 15s of Ctrl-D; it wrote %q", b)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != typed {
		t.Errorf("cat in xterm wrote %q, want %q", b, typed)
	}
}

func TestInjectErrors(t *testing.T) {
	display, _ := x11.StartXvfb(t, 320, 200, 24)
	inj, _ := openInjector(t, display, x11.InjectorOptions{})
	ctx := context.Background()

	if err := inj.Inject(ctx, host.InputEvent{Kind: host.InputKey, Key: "NoSuchKey", Down: true}); !errors.Is(err, x11.ErrUnknownKey) {
		t.Errorf("unknown key: %v, want ErrUnknownKey", err)
	}
	for _, key := range []string{"Dead", "Unidentified", "NoSuchKey"} {
		if err := inj.Inject(ctx, host.InputEvent{Kind: host.InputKey, Key: key}); err != nil {
			t.Errorf("release of %q: %v, want nil", key, err)
		}
	}
	if err := inj.Inject(ctx, host.InputEvent{Kind: host.InputKey, Key: "Dead", Down: true}); err != nil {
		t.Errorf("dead key: %v, want nil (the browser sends the character next)", err)
	}
	if err := inj.Inject(ctx, host.InputEvent{Kind: host.InputButton, Button: 4, Down: true}); err == nil || !strings.HasPrefix(err.Error(), "x11: ") {
		t.Errorf("button 4: %v, want an x11: error", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := inj.Inject(cancelled, host.InputEvent{Kind: host.InputText, Text: "x"}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
	if err := inj.Close(); err != nil {
		t.Fatal(err)
	}
	if err := inj.Inject(ctx, host.InputEvent{Kind: host.InputPointer}); !errors.Is(err, net.ErrClosed) {
		t.Errorf("after Close: %v, want net.ErrClosed", err)
	}
	if err := inj.ReleaseAll(); err != nil {
		t.Errorf("ReleaseAll after Close: %v", err)
	}
	if err := inj.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	for _, tt := range []struct{ display, want string }{
		{"", "x11: no display given"},
		{":1999", "x11: cannot open display :1999: "},
	} {
		inj, err := x11.OpenInjector(tt.display, x11.InjectorOptions{})
		if err == nil {
			inj.Close()
			t.Fatalf("OpenInjector(%q) succeeded", tt.display)
		}
		if !strings.HasPrefix(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("OpenInjector(%q) = %q, want one line starting %q", tt.display, err, tt.want)
		}
	}
}

func TestInjectorServerGoesAway(t *testing.T) {
	display, stop := x11.StartXvfb(t, 320, 200, 24)
	inj, _ := openInjector(t, display, x11.InjectorOptions{})
	inject(t, inj, host.InputEvent{Kind: host.InputKey, Key: "Shift", Down: true})
	stop()
	var err error
	for range 100 { // until the reader notices
		if err = inj.Inject(context.Background(), host.InputEvent{Kind: host.InputPointer, X: 1, Y: 1}); err != nil {
			break
		}
	}
	if !errors.Is(err, x11.ErrLost) {
		t.Errorf("Inject when the server went away = %v, want ErrLost", err)
	}
	if err := inj.Close(); err != nil {
		t.Errorf("Close after the server went away = %v, want nil", err)
	}
}

func ExampleOpenInjector() {
	inj, err := x11.OpenInjector(":0", x11.InjectorOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer inj.Close()
	ctx := context.Background()
	inj.Inject(ctx, host.InputEvent{Kind: host.InputButton, Button: 1, X: 100, Y: 200, Down: true})
	inj.Inject(ctx, host.InputEvent{Kind: host.InputButton, Button: 1, X: 100, Y: 200})
	inj.Inject(ctx, host.InputEvent{Kind: host.InputText, Text: "Grüße\n"})
}
