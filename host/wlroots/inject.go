package wlroots

// The injector: the helper's input through a virtual pointer
// (zwlr_virtual_pointer_manager_v1) and a virtual keyboard
// (zwp_virtual_keyboard_manager_v1).
//
// Decisions:
//
//   - Its own connection, like the source's, so either can be used alone.
//   - The pointer moves with motion_absolute: x and y over an extent that
//     wlroots maps onto the whole output layout (not one output). A point
//     of the shared image is turned into the layout's logical coordinates
//     through the output it falls on (the same layout as the Source's), so
//     the extent is the layout's bounding box. Buttons are Linux input
//     codes (BTN_LEFT 0x110, BTN_RIGHT, BTN_MIDDLE, BTN_SIDE, BTN_EXTRA);
//     the wheel is axis_discrete with 15 units a notch (as libinput).
//     Each action ends with frame.
//   - The keyboard needs a keymap before its first key, handed over as a
//     file descriptor: a memfd holding the shipped US keymap (us.xkb).
//     Keys are evdev codes; the compositor keeps the modifier state from
//     the keys themselves (wlroots does), so Shift is a key like others.
//   - Characters: those of the US layout are typed with their key, with
//     Shift pressed around it when needed and a held Shift released
//     around it when not. Any other character is bound to a spare keycode
//     (one the US keymap names but leaves empty) in a new keymap sent
//     just before the key. Wayland keeps the order of events on a
//     connection, so the application gets the new keymap before the key:
//     unlike X11, there is no race. Twelve spare keycodes are reused least
//     recently used first.
//   - Each Inject ends with a round trip (wl_display.sync): when it
//     returns, the compositor has handled the events, and a protocol error
//     comes back from the call that caused it.
//   - Escape is typed on a keycode of its own (escapeKey), never on the
//     Esc key's, so that sway's ESC binding (swaykeys.go) cannot be run
//     by the helper.
//   - Keys and buttons the helper pressed are remembered; ReleaseAll (when
//     control is revoked) and Close release them.
//   - What is typed never reaches the log.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"github.com/gethelp/gethelp/host"
)

var _ host.Injector = (*Injector)(nil)

// ErrUnknownKey is returned (wrapped) by Inject for an InputKey whose Key
// is neither a character nor a key name the injector knows.
var ErrUnknownKey = errors.New("wlroots: unknown key")

var errInjectorClosed = fmt.Errorf("wlroots: injector closed: %w", net.ErrClosed)

// maxNotches bounds the wheel notches of one InputWheel per axis.
const maxNotches = 1000

// Injector performs the helper's input on a wlroots compositor. Create it
// with OpenInjector. Its methods may be called from any goroutine.
type Injector struct {
	d       *display
	pointer uint32 // zwlr_virtual_pointer_v1
	kbd     uint32 // zwp_virtual_keyboard_v1
	log     *slog.Logger
	start   time.Time

	mu      sync.Mutex // serialises Inject; guards the fields below
	closed  bool
	keys    map[uint32]bool // evdev codes the helper holds
	down    map[uint32]bool // evdev codes pressed now (the helper's and ours)
	locked  uint32          // the locked modifiers (Caps Lock, Num Lock)
	buttons map[uint32]bool
	bound   []rune      // the character on spareKeys[i], or 0
	used    []time.Time // when spareKeys[i] was last typed
}

// OpenInjector connects to the compositor of display (as Open does) and
// creates a virtual pointer and a virtual keyboard on its seat. It returns
// an error wrapping ErrUnsupported when the compositor lacks
// zwlr_virtual_pointer_manager_v1, zwp_virtual_keyboard_manager_v1 or a
// seat.
func OpenInjector(ctx context.Context, display string, opts Options) (*Injector, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "wlroots-input")
	d, err := openDisplay(ctx, opts.RuntimeDir, display)
	if err != nil {
		return nil, err
	}
	inj := &Injector{
		d:       d,
		log:     log,
		start:   time.Now(),
		keys:    map[uint32]bool{},
		down:    map[uint32]bool{},
		buttons: map[uint32]bool{},
		bound:   make([]rune, len(spareKeys)),
		used:    make([]time.Time, len(spareKeys)),
	}
	var gs [3]global
	for i, iface := range []string{ifaceVirtPointer, ifaceVirtKeyboard, ifaceSeat} {
		g, ok := d.find(iface)
		if !ok {
			d.close()
			return nil, errMissing(iface)
		}
		gs[i] = g
	}
	pm := d.bind(gs[0], versionVirtPointer, nil)
	km := d.bind(gs[1], 1, nil)
	seat := d.bind(gs[2], 1, nil)
	inj.pointer = d.c.newID(nil)
	inj.kbd = d.c.newID(nil)
	err = d.c.send(
		newRequest(pm, 0).uint(seat).uint(inj.pointer), // create_virtual_pointer(seat, id)
		newRequest(km, 0).uint(seat).uint(inj.kbd),     // create_virtual_keyboard(seat, id)
	)
	if err == nil {
		err = inj.sendKeymap()
	}
	if err == nil {
		err = d.c.roundtrip(ctx)
	}
	if err != nil {
		d.close()
		return nil, err
	}
	return inj, nil
}

// sendKeymap sends the US keymap with the current spare bindings.
func (inj *Injector) sendKeymap() error {
	text := keymapWith(inj.bound)
	f, mem, err := memfd("gethelp-keymap", len(text)+1)
	if err != nil {
		return err
	}
	defer f.Close()
	copy(mem, text) // and a NUL: the size includes it
	unix.Munmap(mem)
	// keymap(format uint: 1 = xkb_v1, fd, size uint)
	return inj.d.c.send(newRequest(inj.kbd, 0).uint(1).fd(int(f.Fd())).uint(uint32(len(text) + 1)))
}

func (inj *Injector) now() uint32 { return uint32(time.Since(inj.start).Milliseconds()) }

// Inject performs e. It returns ErrUnknownKey (wrapped) for a key it
// cannot name, an error wrapping net.ErrClosed after Close and one
// wrapping ErrLost when the compositor went away.
func (inj *Injector) Inject(ctx context.Context, e host.InputEvent) error {
	inj.mu.Lock()
	defer inj.mu.Unlock()
	if inj.closed {
		return errInjectorClosed
	}
	var reqs []*request
	var err error
	switch e.Kind {
	case host.InputPointer:
		reqs = inj.motion(e.X, e.Y)
	case host.InputButton:
		code, ok := buttonCodes[e.Button]
		if !ok {
			return fmt.Errorf("wlroots: unknown button %d", e.Button)
		}
		if !e.Down && !inj.buttons[code] {
			return nil
		}
		reqs = inj.motion(e.X, e.Y)
		reqs = append(reqs, inj.button(code, e.Down)...)
	case host.InputWheel:
		reqs = inj.wheel(e.DX, e.DY)
	case host.InputKey:
		reqs, err = inj.key(e.Key, e.Down)
	case host.InputText:
		reqs, err = inj.text(e.Text)
	default:
		return fmt.Errorf("wlroots: unknown input kind %d", e.Kind)
	}
	if err != nil {
		return err
	}
	if len(reqs) == 0 {
		return nil
	}
	if err := inj.d.c.send(reqs...); err != nil {
		return err
	}
	return inj.d.c.roundtrip(ctx)
}

// buttonCodes maps InputEvent buttons to Linux input codes.
var buttonCodes = map[int]uint32{1: 0x110, 2: 0x112, 3: 0x111, 8: 0x113, 9: 0x114}

// motion moves the pointer to the image point x, y.
func (inj *Injector) motion(x, y int) []*request {
	places, _, _, extent := inj.d.layout()
	if len(places) == 0 || extent.Empty() {
		return nil
	}
	lx, ly := toLayout(places, x, y)
	return []*request{
		// motion_absolute(time, x, y, x_extent, y_extent uint)
		newRequest(inj.pointer, 1).uint(inj.now()).uint(uint32(lx - extent.X)).uint(uint32(ly - extent.Y)).uint(uint32(extent.W)).uint(uint32(extent.H)),
		newRequest(inj.pointer, 4), // frame
	}
}

// toLayout turns a point of the image into the layout's logical
// coordinates, through the output it is on (or the nearest), clamped to it.
func toLayout(places []placed, x, y int) (int, int) {
	best, dist := 0, -1
	for i, p := range places {
		cx := min(max(x, p.rect.X), p.rect.X+p.rect.W-1)
		cy := min(max(y, p.rect.Y), p.rect.Y+p.rect.H-1)
		if d := (cx-x)*(cx-x) + (cy-y)*(cy-y); dist < 0 || d < dist {
			best, dist = i, d
		}
	}
	p := places[best]
	r, l := p.rect, p.logical
	x = min(max(x, r.X), r.X+r.W-1)
	y = min(max(y, r.Y), r.Y+r.H-1)
	return l.X + (x-r.X)*l.W/r.W, l.Y + (y-r.Y)*l.H/r.H
}

func (inj *Injector) button(code uint32, down bool) []*request {
	state := uint32(0)
	if down {
		state = 1
	}
	if down {
		inj.buttons[code] = true
	} else {
		delete(inj.buttons, code)
	}
	return []*request{
		newRequest(inj.pointer, 2).uint(inj.now()).uint(code).uint(state), // button(time, button, state)
		newRequest(inj.pointer, 4),
	}
}

func (inj *Injector) wheel(dx, dy int) []*request {
	var reqs []*request
	for axis, n := range []int{dy, dx} { // axis 0 vertical, 1 horizontal
		n = min(max(n, -maxNotches), maxNotches)
		if n == 0 {
			continue
		}
		reqs = append(reqs,
			newRequest(inj.pointer, 5).uint(0), // axis_source(wheel)
			// axis_discrete(time, axis uint, value fixed, discrete int)
			newRequest(inj.pointer, 7).uint(inj.now()).uint(uint32(axis)).fixed(float64(15*n)).int(int32(n)),
			newRequest(inj.pointer, 4))
	}
	return reqs
}

// modifierMasks are the XKB modifier masks of the modifier keys (evdev
// codes) in the US keymap: Shift, Lock, Control, Mod1 (Alt), Mod2
// (NumLock), Mod4 (Super).
var modifierMasks = map[uint32]uint32{
	keyLeftShift: 1, keyRightShift: 1, 29: 4, 97: 4, 56: 8, 100: 8, 125: 0x40, 126: 0x40,
}

// lockMasks are the masks the lock keys toggle: Caps Lock, Num Lock.
var lockMasks = map[uint32]uint32{58: 2, 69: 0x10}

// keyReq is a key event of the virtual keyboard, followed by the new
// modifier state when the key changes it: wlroots takes a virtual
// keyboard's modifiers from the modifiers request only, not from its keys.
func (inj *Injector) keyReq(code uint32, down bool, more ...*request) []*request {
	state := uint32(0)
	if down {
		state = 1
	}
	reqs := []*request{newRequest(inj.kbd, 1).uint(inj.now()).uint(code).uint(state)} // key(time, key, state)
	_, mod := modifierMasks[code]
	lock, isLock := lockMasks[code]
	if down {
		inj.down[code] = true
		if isLock {
			inj.locked ^= lock
		}
	} else {
		delete(inj.down, code)
	}
	if mod || (isLock && down) {
		var depressed uint32
		for c := range inj.down {
			depressed |= modifierMasks[c]
		}
		// modifiers(mods_depressed, mods_latched, mods_locked, group uint)
		reqs = append(reqs, newRequest(inj.kbd, 2).uint(depressed).uint(0).uint(inj.locked).uint(0))
	}
	return append(reqs, more...)
}

// key presses or releases a key named as the browser names it.
func (inj *Injector) key(name string, down bool) ([]*request, error) {
	if code, ok := namedKeys[name]; ok {
		if !down && !inj.keys[code] {
			return nil, nil
		}
		if down {
			inj.keys[code] = true
		} else {
			delete(inj.keys, code)
		}
		return inj.keyReq(code, down), nil
	}
	r, size := utf8.DecodeRuneInString(name)
	if name == "" || size != len(name) || r == utf8.RuneError {
		return nil, fmt.Errorf("%w: %q", ErrUnknownKey, name)
	}
	if !down {
		// The character's key was pressed (and its modifiers restored)
		// on the press; release the key.
		ks, err := inj.stroke(r, nil)
		if err != nil || !inj.keys[ks.code] {
			return nil, nil
		}
		delete(inj.keys, ks.code)
		return inj.keyReq(ks.code, false), nil
	}
	var reqs []*request
	ks, err := inj.stroke(r, &reqs)
	if err != nil {
		return nil, err
	}
	reqs = append(reqs, inj.shifted(ks, func() []*request {
		inj.keys[ks.code] = true
		return inj.keyReq(ks.code, true)
	})...)
	return reqs, nil
}

// text types each character of s: press and release.
func (inj *Injector) text(s string) ([]*request, error) {
	var reqs []*request
	for _, r := range s {
		switch r {
		case '\n', '\r':
			reqs = append(reqs, inj.keyReq(28, true, inj.keyReq(28, false)...)...)
			continue
		case '\t':
			reqs = append(reqs, inj.keyReq(15, true, inj.keyReq(15, false)...)...)
			continue
		}
		if r < 0x20 || (r >= 0x7f && r < 0xa0) {
			continue // other control characters cannot be typed
		}
		ks, err := inj.stroke(r, &reqs)
		if err != nil {
			return nil, err
		}
		reqs = append(reqs, inj.shifted(ks, func() []*request {
			return inj.keyReq(ks.code, true, inj.keyReq(ks.code, false)...)
		})...)
	}
	return reqs, nil
}

// shifted wraps the requests of f in Shift presses or releases so that
// Shift is down exactly when ks needs it.
func (inj *Injector) shifted(ks keyStroke, f func() []*request) []*request {
	var held []uint32
	for _, c := range []uint32{keyLeftShift, keyRightShift} {
		if inj.keys[c] {
			held = append(held, c)
		}
	}
	// keyReq tracks the modifier state, so the requests are made in the
	// order they are sent.
	var reqs []*request
	switch {
	case ks.shift && len(held) == 0:
		reqs = append(reqs, inj.keyReq(keyLeftShift, true)...)
		reqs = append(reqs, f()...)
		return append(reqs, inj.keyReq(keyLeftShift, false)...)
	case !ks.shift && len(held) > 0:
		for _, c := range held {
			reqs = append(reqs, inj.keyReq(c, false)...)
		}
		reqs = append(reqs, f()...)
		for _, c := range held {
			reqs = append(reqs, inj.keyReq(c, true)...)
		}
		return reqs
	}
	return f()
}

// stroke returns the key for r. A character not on the US layout is bound
// to a spare keycode; when reqs is not nil, the new keymap is appended to
// it if the binding is new.
func (inj *Injector) stroke(r rune, reqs *[]*request) (keyStroke, error) {
	if ks, ok := usChars[r]; ok {
		return ks, nil
	}
	for i, b := range inj.bound {
		if b == r {
			inj.used[i] = time.Now()
			return keyStroke{code: spareKeys[i].code}, nil
		}
	}
	if reqs == nil {
		return keyStroke{}, fmt.Errorf("%w: %q", ErrUnknownKey, r)
	}
	// The least recently used spare key that is not held.
	slot := -1
	for i := range inj.bound {
		if inj.keys[spareKeys[i].code] {
			continue
		}
		if slot < 0 || inj.used[i].Before(inj.used[slot]) {
			slot = i
		}
	}
	if slot < 0 {
		return keyStroke{}, fmt.Errorf("%w: every spare key is held", ErrUnknownKey)
	}
	inj.bound[slot] = r
	inj.used[slot] = time.Now()
	// The keymap goes out in the batch, before the key that needs it.
	if err := inj.flush(reqs); err != nil {
		return keyStroke{}, err
	}
	if err := inj.sendKeymap(); err != nil {
		return keyStroke{}, err
	}
	return keyStroke{code: spareKeys[slot].code}, nil
}

// flush sends the requests gathered so far, so that a keymap sent next
// follows them.
func (inj *Injector) flush(reqs *[]*request) error {
	if len(*reqs) == 0 {
		return nil
	}
	err := inj.d.c.send(*reqs...)
	*reqs = nil
	return err
}

// ReleaseAll releases every key and button the helper holds.
func (inj *Injector) ReleaseAll() error {
	inj.mu.Lock()
	defer inj.mu.Unlock()
	if inj.closed {
		return errInjectorClosed
	}
	return inj.releaseAllLocked()
}

func (inj *Injector) releaseAllLocked() error {
	var reqs []*request
	for code := range inj.keys {
		reqs = append(reqs, inj.keyReq(code, false)...)
	}
	for code := range inj.buttons {
		reqs = append(reqs, inj.button(code, false)...)
	}
	clear(inj.keys)
	if len(reqs) == 0 {
		return nil
	}
	if err := inj.d.c.send(reqs...); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return inj.d.c.roundtrip(ctx)
}

// Close releases what the helper holds, destroys the virtual devices and
// disconnects. Calling it again returns nil.
func (inj *Injector) Close() error {
	inj.mu.Lock()
	defer inj.mu.Unlock()
	if inj.closed {
		return nil
	}
	inj.closed = true
	inj.releaseAllLocked()
	inj.d.c.send(newRequest(inj.pointer, 8), newRequest(inj.kbd, 3)) // destroy both
	inj.d.close()
	return nil
}
