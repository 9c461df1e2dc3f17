package portal

// The injector: the helper's input through the RemoteDesktop portal, on
// the session the Source shares.
//
// Decisions:
//
//   - The pointer moves with NotifyPointerMotionAbsolute on the shared
//     stream. Which coordinates that takes differs between desktops, and
//     only on a scaled monitor, where the frames' pixels are not the
//     compositor's logical units: GNOME (mutter) takes the stream's
//     pixels (it divides by the monitor's scale itself), so a point of
//     the image is sent as it is; KDE (KWin's fake input) takes logical
//     units, the stream's size as Start reported it, so elsewhere a point
//     is scaled from the frames' size to that. GNOME is recognised by
//     org.gnome.Mutter.RemoteDesktop on the session bus. Buttons are
//     Linux input codes (BTN_LEFT 0x110, BTN_RIGHT,
//     BTN_MIDDLE, BTN_SIDE, BTN_EXTRA), pressed where the event says,
//     after a motion there. The wheel is NotifyPointerAxisDiscrete, one
//     step a notch (axis 0 vertical, 1 horizontal; positive is down or
//     right).
//   - Keys and characters go as keysyms (NotifyKeyboardKeysym), from the
//     tables host/internal/keysym shares with host/x11: the compositor
//     finds the key and the modifiers in the person's own layout. A
//     character the layout lacks is up to the compositor (see the package
//     doc's limits).
//   - Keys and buttons the helper holds are remembered; ReleaseAll (when
//     control is revoked) and Close release them.
//   - What is typed never reaches the log.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"unicode"

	"github.com/godbus/dbus/v5"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/host/internal/keysym"
)

var _ host.Injector = (*Injector)(nil)

// ErrUnknownKey is returned (wrapped) by Inject for an InputKey whose Key
// is neither a character nor a key name the injector knows.
var ErrUnknownKey = errors.New("portal: unknown key")

// ErrNotAllowed is returned (wrapped) by Inject for a pointer event when
// the person allowed only the keyboard in the desktop's dialog, and for a
// key when they allowed only the pointer.
var ErrNotAllowed = errors.New("portal: the person did not allow this device in the desktop's dialog")

var errInjectorClosed = fmt.Errorf("portal: injector closed: %w", net.ErrClosed)

// maxNotches bounds the wheel notches of one InputWheel per axis.
const maxNotches = 1000

// Linux input codes of the buttons, by host.InputEvent.Button.
var buttonCodes = map[int]int32{1: 0x110, 2: 0x112, 3: 0x111, 8: 0x113, 9: 0x114}

// Injector performs the helper's input through the RemoteDesktop portal.
// Get it from Source.Injector. Its methods may be called from any
// goroutine.
type Injector struct {
	s *Source

	mu      sync.Mutex // serialises Inject; guards the fields below
	closed  bool
	keys    []heldKey      // pressed by the helper, in order
	buttons map[int32]bool // pressed by the helper
}

// heldKey is a key the helper holds: the name it was pressed as and the
// keysym sent.
type heldKey struct {
	name string
	sym  uint32
}

func newInjector(s *Source) *Injector {
	return &Injector{s: s, buttons: map[int32]bool{}}
}

// Inject performs e. It returns an error wrapping ErrUnknownKey for a key
// it cannot name, ErrNotAllowed for a device the person did not allow,
// net.ErrClosed after Close, and a one-line error when the portal refuses
// the call.
func (inj *Injector) Inject(ctx context.Context, e host.InputEvent) error {
	inj.mu.Lock()
	defer inj.mu.Unlock()
	if inj.closed {
		return errInjectorClosed
	}
	switch e.Kind {
	case host.InputPointer:
		return inj.moveLocked(ctx, e.X, e.Y)
	case host.InputButton:
		code, ok := buttonCodes[e.Button]
		if !ok {
			return fmt.Errorf("portal: unknown button %d", e.Button)
		}
		if err := inj.moveLocked(ctx, e.X, e.Y); err != nil {
			return err
		}
		if e.Down == inj.buttons[code] {
			return nil // pressed twice, or released without a press
		}
		if err := inj.buttonLocked(ctx, code, e.Down); err != nil {
			return err
		}
		if e.Down {
			inj.buttons[code] = true
		} else {
			delete(inj.buttons, code)
		}
		return nil
	case host.InputWheel:
		return inj.wheelLocked(ctx, e.DX, e.DY)
	case host.InputKey:
		if e.Down {
			return inj.keyDownLocked(ctx, e.Key)
		}
		return inj.keyUpLocked(ctx, e.Key)
	case host.InputText:
		return inj.typeLocked(ctx, e.Text)
	}
	return fmt.Errorf("portal: unknown input kind %d", e.Kind)
}

// ReleaseAll releases every key and button the helper holds.
func (inj *Injector) ReleaseAll() error {
	inj.mu.Lock()
	defer inj.mu.Unlock()
	if inj.closed {
		return nil
	}
	return inj.releaseLocked()
}

// Close releases what the helper holds; later calls to Inject fail. The
// portal session stays the Source's. Calling it again returns nil.
func (inj *Injector) Close() error {
	inj.mu.Lock()
	defer inj.mu.Unlock()
	if inj.closed {
		return nil
	}
	err := inj.releaseLocked()
	inj.closed = true
	return err
}

func (inj *Injector) releaseLocked() error {
	ctx := context.Background()
	var first error
	for i := len(inj.keys) - 1; i >= 0; i-- {
		k := inj.keys[i]
		if slices.IndexFunc(inj.keys[:i], func(h heldKey) bool { return h.sym == k.sym }) >= 0 {
			continue // the same key held under another name: released once
		}
		if err := inj.keysymLocked(ctx, k.sym, false); err != nil && first == nil {
			first = err
		}
	}
	inj.keys = inj.keys[:0]
	for code := range inj.buttons {
		if err := inj.buttonLocked(ctx, code, false); err != nil && first == nil {
			first = err
		}
	}
	clear(inj.buttons)
	return first
}

// moveLocked moves the pointer to x, y of the image.
func (inj *Injector) moveLocked(ctx context.Context, x, y int) error {
	if inj.s.devices&devicePointer == 0 {
		return fmt.Errorf("%w (pointer)", ErrNotAllowed)
	}
	lx, ly := inj.s.logical(x, y)
	return inj.s.b.call(ctx, ifaceRemoteDesktop+".NotifyPointerMotionAbsolute",
		inj.s.session, map[string]dbus.Variant{}, inj.s.stream.node, lx, ly)
}

func (inj *Injector) buttonLocked(ctx context.Context, code int32, down bool) error {
	if inj.s.devices&devicePointer == 0 {
		return fmt.Errorf("%w (pointer)", ErrNotAllowed)
	}
	return inj.s.b.call(ctx, ifaceRemoteDesktop+".NotifyPointerButton",
		inj.s.session, map[string]dbus.Variant{}, code, state(down))
}

func (inj *Injector) wheelLocked(ctx context.Context, dx, dy int) error {
	if inj.s.devices&devicePointer == 0 {
		return fmt.Errorf("%w (pointer)", ErrNotAllowed)
	}
	for axis, steps := range [2]int{dy, dx} {
		if steps == 0 {
			continue
		}
		steps = max(-maxNotches, min(maxNotches, steps))
		if err := inj.s.b.call(ctx, ifaceRemoteDesktop+".NotifyPointerAxisDiscrete",
			inj.s.session, map[string]dbus.Variant{}, uint32(axis), int32(steps)); err != nil {
			return err
		}
	}
	return nil
}

func (inj *Injector) keysymLocked(ctx context.Context, sym uint32, down bool) error {
	if inj.s.devices&deviceKeyboard == 0 {
		return fmt.Errorf("%w (keyboard)", ErrNotAllowed)
	}
	return inj.s.b.call(ctx, ifaceRemoteDesktop+".NotifyKeyboardKeysym",
		inj.s.session, map[string]dbus.Variant{}, int32(sym), state(down))
}

// keyDownLocked presses the key named name (KeyboardEvent.key) and keeps
// it pressed. A name of several characters is typed instead.
func (inj *Injector) keyDownLocked(ctx context.Context, name string) error {
	if keysym.Ignored(name) {
		return nil
	}
	sym, ok := keysym.Named(name)
	if !ok {
		runes := []rune(name)
		if len(runes) > 1 && !isKeyName(runes) && !slices.ContainsFunc(runes, func(r rune) bool { return !unicode.IsGraphic(r) }) {
			return inj.typeLocked(ctx, name) // a character and its combining marks, say
		}
		if len(runes) == 1 {
			if syms := keysym.ForRune(runes[0]); syms != nil {
				sym, ok = syms[0], true
			}
		}
	}
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownKey, name)
	}
	if err := inj.keysymLocked(ctx, sym, true); err != nil {
		return err
	}
	inj.keys = append(inj.keys, heldKey{name, sym})
	return nil
}

// keyUpLocked releases the key the helper pressed as name. The browser
// may name it differently on release (Shift went down meanwhile: "a"
// then "A"): then it is found ignoring case.
func (inj *Injector) keyUpLocked(ctx context.Context, name string) error {
	i := slices.IndexFunc(inj.keys, func(h heldKey) bool { return h.name == name })
	if i < 0 {
		i = slices.IndexFunc(inj.keys, func(h heldKey) bool { return caseFold(h.name) == caseFold(name) })
	}
	if i < 0 {
		return nil // not pressed by the helper, or released by ReleaseAll
	}
	sym := inj.keys[i].sym
	inj.keys = slices.Delete(inj.keys, i, i+1)
	if slices.ContainsFunc(inj.keys, func(h heldKey) bool { return h.sym == sym }) {
		return nil // still held under another name
	}
	return inj.keysymLocked(ctx, sym, false)
}

// typeLocked types text: each character pressed and released. Newline
// and carriage return are Return (CR LF is one), tab is Tab; other
// control characters are skipped.
func (inj *Injector) typeLocked(ctx context.Context, text string) error {
	runes := []rune(text)
	for i, r := range runes {
		var sym uint32
		switch r {
		case '\r':
			if i+1 < len(runes) && runes[i+1] == '\n' {
				continue
			}
			sym = keysym.Return
		case '\n':
			sym = keysym.Return
		case '\t':
			sym = keysym.Tab
		default:
			syms := keysym.ForRune(r)
			if syms == nil {
				continue
			}
			sym = syms[0]
		}
		if err := inj.keysymLocked(ctx, sym, true); err != nil {
			return err
		}
		if err := inj.keysymLocked(ctx, sym, false); err != nil {
			return err
		}
	}
	return nil
}

// logical turns a point of the image into the coordinates
// NotifyPointerMotionAbsolute takes on this desktop (see the decisions
// above), clamped to the image.
func (s *Source) logical(x, y int) (float64, float64) {
	s.mu.Lock()
	iw, ih := 0, 0
	if s.latest != nil {
		iw, ih = s.latest.W, s.latest.H
	}
	s.mu.Unlock()
	if iw > 0 && ih > 0 {
		x, y = max(0, min(iw-1, x)), max(0, min(ih-1, y))
	}
	lw, lh := s.stream.w, s.stream.h
	if s.pixelPointer || iw <= 0 || ih <= 0 || lw <= 0 || lh <= 0 {
		return float64(x), float64(y)
	}
	return float64(x) * float64(lw) / float64(iw), float64(y) * float64(lh) / float64(ih)
}

// state is a key's or button's state as the portal spells it.
func state(down bool) uint32 {
	if down {
		return 1
	}
	return 0
}

// isKeyName reports whether name looks like one of the browser's key names
// ("AudioVolumeUp"): ASCII letters and digits only.
func isKeyName(name []rune) bool {
	return !slices.ContainsFunc(name, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	})
}

// caseFold returns a one-character name in lower case, other names as
// they are.
func caseFold(name string) string {
	if r := []rune(name); len(r) == 1 {
		return string(unicode.ToLower(r[0]))
	}
	return name
}
