package x11

// The injector: the helper's input, performed with XTEST on an X server.
//
// Decisions:
//
//   - XTEST's FakeInput on a connection of its own: the server handles a
//     fake event as if the device had sent it, so grabs, focus and the
//     keyboard state all apply. Each Inject sends its requests as checked
//     requests and then checks them: the first check is a round trip, so
//     when Inject returns the server has handled every event, and an X
//     error comes back from the call that caused it.
//   - Keys are keysyms, looked up in the server's core keyboard map
//     (GetKeyboardMapping, GetModifierMapping), read when first needed
//     and again after every MappingNotify. A character is looked for in
//     column 0 (plain), 1 (Shift), 4 and 5 (ISO_Level3_Shift, AltGr: the
//     third and fourth level of a one-group layout, as XKB lays the core
//     map out) and 2 and 3 (Mode_switch: the second group), in that order,
//     under its Latin-1, legacy (EuroSign, Cyrillic_a) or Unicode
//     (0x01000000|code point) keysym.
//   - Modifiers: the state is read once per Inject (QueryPointer's mask).
//     Shift, AltGr or Mode_switch the column needs and that is not in
//     effect is pressed around the key and released after it. For a
//     character, a Shift, AltGr or Mode_switch the helper is holding that
//     would change the column is released around the key and pressed
//     again after it (the helper's Shift+7 is "/" on a German keyboard,
//     and "/" is unshifted on a US one); Control, Alt and Meta are left
//     alone, so shortcuts work. With Caps Lock on, Shift is inverted for
//     letters. Named keys (Enter, F5) keep every modifier held.
//   - A character not on the map is bound to a spare keycode (one with no
//     keysym, not a modifier) with ChangeKeyboardMapping, as xdotool does,
//     in columns 0 and 1 so Shift does not matter. Applications look a
//     keycode up when they handle its event, and after a MappingNotify
//     they read the map again then, which can be after Inject returned: a
//     binding cleared at once can lose the character. So a binding stays
//     until it has not been used for InjectorOptions.KeymapHold (two
//     seconds), and is cleared then, by a goroutine of the injector, or at
//     Close; a binding is reused for the same character meanwhile. When
//     every spare keycode is bound, the least recently used one is rebound,
//     not sooner than spareReuseAge after its last use.
//   - The keys and buttons the helper pressed are remembered, so that
//     ReleaseAll (when control is revoked) and Close release them; a
//     release of something not pressed is ignored. Keys the injector
//     presses itself (the modifiers around a character, a whole typed
//     character) are always released within the same Inject.
//   - What is typed never reaches the log: no keys, no characters.
//   - The extension-init rule of ext.go holds here too: xtest.Init runs
//     once per process under extensions.mu, later connections only record
//     the opcode. XTEST has no events or errors, so its Init writes no
//     table that a reader consults, and opening an injector never races
//     with other connections. But its connection reads events
//     (MappingNotify comes to every client), so, like any other, it should
//     be opened after the first Source, whose Init does write them.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
	"github.com/jezek/xgb/xtest"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/host/internal/keysym"
)

var _ host.Injector = (*Injector)(nil)

// ErrUnknownKey is returned (wrapped) by Inject for an InputKey press whose
// Key is neither a character nor a key name the injector knows.
var ErrUnknownKey = errors.New("x11: unknown key")

// errInjectorClosed is returned by Inject and ReleaseAll after Close.
var errInjectorClosed = fmt.Errorf("x11: injector closed: %w", net.ErrClosed)

// InjectorOptions tune an Injector. The zero value is ready to use.
type InjectorOptions struct {
	// Logger receives the injector's log, with component=x11-input. It
	// never sees what is typed. Nil discards.
	Logger *slog.Logger
	// KeymapHold is how long a character that is not on the keyboard map
	// stays bound to a spare keycode after it was last typed; then the
	// keycode is cleared again. Zero means 2 seconds.
	KeymapHold time.Duration
}

// spareReuseAge is the least time between typing a character on a spare
// keycode and binding that keycode to another character, so that the
// application has read the map before it changes again.
const spareReuseAge = 200 * time.Millisecond

// maxNotches bounds the wheel notches of one InputWheel per axis.
const maxNotches = 1000

// Injector performs the helper's input on an X server with XTEST. Create
// it with OpenInjector. Its methods may be called from any goroutine.
type Injector struct {
	display string
	conn    *xgb.Conn
	root    xproto.Window
	log     *slog.Logger
	hold    time.Duration // InjectorOptions.KeymapHold, never zero

	stale     atomic.Bool   // a MappingNotify arrived since the keymap was read
	done      chan struct{} // closed by Close
	lost      chan struct{} // closed when the event reader ends
	kick      chan struct{} // cap 1: a binding was made or used
	wg        sync.WaitGroup
	closeOnce sync.Once

	mu      sync.Mutex // serialises the requests; guards the fields below
	closed  bool
	km      *keymap                     // nil until first needed
	keys    []heldKey                   // pressed by the helper, oldest first
	buttons []byte                      // pressed by the helper, oldest first
	bound   map[xproto.Keycode]*binding // spare keycodes bound to a keysym
	pending []checker                   // requests sent and not yet checked
	state   uint16                      // the modifier state, if stateOK
	stateOK bool                        // state was read during this call
}

// heldKey is a key the helper pressed and has not released.
type heldKey struct {
	name string // as InputEvent.Key gave it
	code xproto.Keycode
}

// binding is a spare keycode bound to a keysym.
type binding struct {
	sym  xproto.Keysym
	used time.Time // last typed
}

// checker is a cookie of a checked request without a reply.
type checker interface{ Check() error }

// OpenInjector connects to the X server of display (such as ":0"; the
// caller reads $DISPLAY if it wants it) to perform input on its default
// screen. It starts two goroutines, which Close stops: one reads the
// connection's events (MappingNotify), one clears spare keycodes no
// longer used. In a process that also captures, open it after the first
// Source (see initExtensions).
//
// The errors are one line each, starting "x11: ": "no display given",
// "cannot open display :N: …", "the X server lacks the XTEST extension",
// and the like.
func OpenInjector(display string, opts InjectorOptions) (*Injector, error) {
	if display == "" {
		return nil, errors.New("x11: no display given")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "x11-input", "display", display)
	hold := opts.KeymapHold
	if hold <= 0 {
		hold = 2 * time.Second
	}
	conn, err := openDisplay(display)
	if err != nil {
		return nil, err
	}
	if err := initXTest(conn); err != nil {
		conn.Close()
		return nil, err
	}
	v, err := xtest.GetVersion(conn, 2, 2).Reply()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("x11: XTEST version: %w", err)
	}
	inj := &Injector{
		display: display,
		conn:    conn,
		root:    xproto.Setup(conn).DefaultScreen(conn).Root,
		log:     log,
		hold:    hold,
		done:    make(chan struct{}),
		lost:    make(chan struct{}),
		kick:    make(chan struct{}, 1),
		bound:   make(map[xproto.Keycode]*binding),
	}
	log.Info("injecting input with XTEST", "version", fmt.Sprintf("%d.%d", v.MajorVersion, v.MinorVersion))
	inj.wg.Add(2)
	go inj.read()
	go inj.restorer()
	return inj, nil
}

// xtestInit says whether xtest.Init has run in this process. Guarded by
// extensions.mu.
var xtestInit bool

// initXTest makes XTEST usable on c, by the rule of initExtensions.
func initXTest(c *xgb.Conn) error {
	r, err := xproto.QueryExtension(c, uint16(len("XTEST")), "XTEST").Reply()
	if err != nil {
		return fmt.Errorf("x11: query extension XTEST: %w", err)
	}
	if !r.Present {
		return errors.New("x11: the X server lacks the XTEST extension")
	}
	extensions.mu.Lock()
	defer extensions.mu.Unlock()
	if !xtestInit {
		if err := xtest.Init(c); err != nil {
			return fmt.Errorf("x11: init extension XTEST: %w", err)
		}
		xtestInit = true
		return nil
	}
	c.ExtLock.Lock()
	c.Extensions["XTEST"] = r.MajorOpcode
	c.ExtLock.Unlock()
	return nil
}

// Inject performs e. Key, button and text events are performed in order
// and completely: when Inject returns, the X server has handled them.
// Pointer positions are in root window coordinates.
//
// It returns an error wrapping ErrUnknownKey for a key it cannot name,
// ErrLost when the connection broke, one wrapping net.ErrClosed after
// Close, ctx's error when ctx ends (typing stops between two characters),
// and "x11: no spare keycode …" when a character is not on the keyboard
// map and cannot be bound.
func (inj *Injector) Inject(ctx context.Context, e host.InputEvent) error {
	inj.mu.Lock()
	defer inj.mu.Unlock()
	if err := inj.stoppedLocked(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	inj.stateOK = false
	err := inj.injectLocked(ctx, e)
	if ferr := inj.flushLocked(); err == nil {
		err = ferr
	}
	return err
}

func (inj *Injector) injectLocked(ctx context.Context, e host.InputEvent) error {
	switch e.Kind {
	case host.InputPointer:
		inj.moveLocked(e.X, e.Y)
	case host.InputButton:
		if !slices.Contains([]int{1, 2, 3, 8, 9}, e.Button) {
			return fmt.Errorf("x11: unsupported mouse button %d", e.Button)
		}
		b := byte(e.Button)
		inj.moveLocked(e.X, e.Y)
		if e.Down {
			inj.fakeLocked(xproto.ButtonPress, b)
			if !slices.Contains(inj.buttons, b) {
				inj.buttons = append(inj.buttons, b)
			}
		} else if i := slices.Index(inj.buttons, b); i >= 0 {
			inj.fakeLocked(xproto.ButtonRelease, b)
			inj.buttons = slices.Delete(inj.buttons, i, i+1)
		}
	case host.InputWheel:
		inj.moveLocked(e.X, e.Y)
		inj.wheelLocked(e.DY, 5, 4)
		inj.wheelLocked(e.DX, 7, 6)
	case host.InputKey:
		if e.Down {
			return inj.keyDownLocked(ctx, e.Key)
		}
		return inj.keyUpLocked(e.Key)
	case host.InputText:
		return inj.typeLocked(ctx, e.Text)
	default:
		return fmt.Errorf("x11: unknown input kind %d", e.Kind)
	}
	return nil
}

// moveLocked moves the pointer to x, y on the root window.
func (inj *Injector) moveLocked(x, y int) {
	clamp := func(v int) int16 { return int16(min(max(v, -1<<15), 1<<15-1)) }
	inj.pending = append(inj.pending, xtest.FakeInputChecked(inj.conn, xproto.MotionNotify, 0, 0, inj.root, clamp(x), clamp(y), 0))
}

// wheelLocked clicks button positive (or negative, if n < 0) |n| times.
func (inj *Injector) wheelLocked(n int, positive, negative byte) {
	b := positive
	if n < 0 {
		b, n = negative, -n
	}
	for range min(n, maxNotches) {
		inj.fakeLocked(xproto.ButtonPress, b)
		inj.fakeLocked(xproto.ButtonRelease, b)
	}
}

// fakeLocked sends one key or button event.
func (inj *Injector) fakeLocked(typ, detail byte) {
	inj.pending = append(inj.pending, xtest.FakeInputChecked(inj.conn, typ, detail, 0, inj.root, 0, 0, 0))
}

// flushLocked checks the requests sent: a round trip, after which the
// server has handled them. It returns the first error.
func (inj *Injector) flushLocked() error {
	var first error
	for _, c := range inj.pending {
		if err := c.Check(); err != nil && first == nil {
			first = err
		}
	}
	inj.pending = inj.pending[:0]
	if first != nil {
		return inj.xerr("input request", first)
	}
	return nil
}

// keyDownLocked presses the key named name (KeyboardEvent.key) and keeps
// it pressed. A name of several characters is typed instead.
func (inj *Injector) keyDownLocked(ctx context.Context, name string) error {
	if i := inj.heldIndex(name); i >= 0 { // the browser's autorepeat
		inj.fakeLocked(xproto.KeyPress, byte(inj.keys[i].code))
		return nil
	}
	if keysym.Ignored(name) {
		return nil
	}
	var syms []xproto.Keysym
	strict := false
	if ks, ok := namedKeysym(name); ok {
		syms = []xproto.Keysym{ks}
	} else {
		runes := []rune(name)
		if len(runes) > 1 && !isKeyName(runes) && !slices.ContainsFunc(runes, func(r rune) bool { return !unicode.IsGraphic(r) }) {
			return inj.typeLocked(ctx, name) // a character and its combining marks, say
		}
		if len(runes) == 1 {
			syms = runeKeysyms(runes[0])
			strict = true
		}
	}
	if syms == nil {
		return fmt.Errorf("%w %q", ErrUnknownKey, name)
	}
	kc, err := inj.strokeLocked(ctx, syms, strict, true)
	if err != nil {
		return err
	}
	inj.keys = append(inj.keys, heldKey{name, kc})
	return nil
}

// keyUpLocked releases the key the helper pressed as name. The browser
// may name it differently on release (Shift went down meanwhile: "a"
// then "A"); then the key is found by its keysym, or ignoring case.
func (inj *Injector) keyUpLocked(name string) error {
	i := inj.heldIndex(name)
	if i < 0 && inj.km != nil {
		var syms []xproto.Keysym
		if ks, ok := namedKeysym(name); ok {
			syms = []xproto.Keysym{ks}
		} else if runes := []rune(name); len(runes) == 1 {
			syms = runeKeysyms(runes[0])
		}
		if kc, _, ok := inj.km.find(syms); ok {
			i = slices.IndexFunc(inj.keys, func(h heldKey) bool { return h.code == kc })
		}
	}
	if i < 0 {
		i = slices.IndexFunc(inj.keys, func(h heldKey) bool { return caseFold(h.name) == caseFold(name) })
	}
	if i < 0 {
		return nil // not pressed by the helper, or released by ReleaseAll
	}
	kc := inj.keys[i].code
	inj.keys = slices.Delete(inj.keys, i, i+1)
	if !slices.ContainsFunc(inj.keys, func(h heldKey) bool { return h.code == kc }) {
		inj.fakeLocked(xproto.KeyRelease, byte(kc))
	}
	return nil
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

func (inj *Injector) heldIndex(name string) int {
	return slices.IndexFunc(inj.keys, func(h heldKey) bool { return h.name == name })
}

// typeLocked types text: each character pressed and released. Newline
// and carriage return are Return (CR LF is one), tab is Tab; other
// control characters are skipped.
func (inj *Injector) typeLocked(ctx context.Context, text string) error {
	runes := []rune(text)
	for i, r := range runes {
		if err := ctx.Err(); err != nil {
			return err
		}
		if i > 0 && i%64 == 0 {
			if err := inj.flushLocked(); err != nil {
				return err
			}
		}
		var syms []xproto.Keysym
		strict := false
		switch r {
		case '\r':
			if i+1 < len(runes) && runes[i+1] == '\n' {
				continue
			}
			syms = []xproto.Keysym{ksReturn}
		case '\n':
			syms = []xproto.Keysym{ksReturn}
		case '\t':
			syms = []xproto.Keysym{ksTab}
		default:
			syms, strict = runeKeysyms(r), true
		}
		if syms == nil {
			continue
		}
		if _, err := inj.strokeLocked(ctx, syms, strict, false); err != nil {
			return err
		}
	}
	return nil
}

// strokeLocked presses the key of the first of syms found on the keyboard
// map (binding syms[0] to a spare keycode if none is), with the modifiers
// its column needs, and releases it unless hold. strict (for characters)
// also releases for the stroke the helper's Shift, AltGr or Mode_switch
// that would change the column. It returns the keycode.
func (inj *Injector) strokeLocked(ctx context.Context, syms []xproto.Keysym, strict, hold bool) (xproto.Keycode, error) {
	km, err := inj.keymapLocked()
	if err != nil {
		return 0, err
	}
	kc, col, ok := km.find(syms)
	if ok {
		if b := inj.bound[kc]; b != nil {
			b.used = time.Now()
			signal(inj.kick)
		}
	} else {
		if kc, err = inj.bindLocked(ctx, km, syms[0]); err != nil {
			return 0, err
		}
		col = 0
	}
	var press, lift []xproto.Keycode
	if strict || col != 0 { // else no modifier matters
		state, err := inj.stateLocked()
		if err != nil {
			return 0, err
		}
		press, lift = inj.modifiersLocked(km, kc, col, state, strict)
	}
	for _, k := range lift {
		inj.fakeLocked(xproto.KeyRelease, byte(k))
	}
	for _, k := range press {
		inj.fakeLocked(xproto.KeyPress, byte(k))
	}
	inj.fakeLocked(xproto.KeyPress, byte(kc))
	if !hold {
		inj.fakeLocked(xproto.KeyRelease, byte(kc))
	}
	for _, k := range slices.Backward(press) {
		inj.fakeLocked(xproto.KeyRelease, byte(k))
	}
	for _, k := range slices.Backward(lift) {
		inj.fakeLocked(xproto.KeyPress, byte(k))
	}
	return kc, nil
}

// modifiersLocked returns the modifier keys to press around key kc to get
// its column col in the modifier state, and the keys the helper holds to
// release around it (only if strict).
func (inj *Injector) modifiersLocked(km *keymap, kc xproto.Keycode, col int, state uint16, strict bool) (press, lift []xproto.Keycode) {
	wantShift := col%2 == 1
	if state&xproto.ModMaskLock != 0 && km.cased(kc, col&^1) {
		wantShift = !wantShift // Caps Lock: Shift gives the small letter
	}
	var want uint16
	if wantShift {
		want |= xproto.ModMaskShift
		if state&xproto.ModMaskShift == 0 && km.shift != 0 {
			press = append(press, km.shift)
		}
	}
	switch col {
	case 2, 3:
		want |= km.modeSwitchMask
		if (km.modeSwitchMask == 0 || state&km.modeSwitchMask == 0) && km.modeSwitch != 0 {
			press = append(press, km.modeSwitch)
		}
	case 4, 5:
		want |= km.level3Mask
		if (km.level3Mask == 0 || state&km.level3Mask == 0) && km.level3 != 0 {
			press = append(press, km.level3)
		}
	}
	if !strict {
		return press, nil
	}
	// The modifiers that would change the character (Shift does not
	// change a space).
	row, pair := km.row(kc), col&^1
	var unwanted uint16
	if pair+1 < km.per && row[pair+1] != 0 && row[pair+1] != row[pair] {
		unwanted |= xproto.ModMaskShift
	}
	if km.otherLevels(kc, 2) {
		unwanted |= km.modeSwitchMask
	}
	if km.otherLevels(kc, 4) {
		unwanted |= km.level3Mask
	}
	unwanted &^= want
	if state&unwanted == 0 {
		return press, nil
	}
	for _, h := range inj.keys {
		if km.modOf[h.code]&unwanted != 0 && h.code != kc && !slices.Contains(lift, h.code) {
			lift = append(lift, h.code)
		}
	}
	return press, lift
}

// stateLocked returns the keyboard's modifier state, read once per call.
func (inj *Injector) stateLocked() (uint16, error) {
	if !inj.stateOK {
		r, err := xproto.QueryPointer(inj.conn, inj.root).Reply()
		if err != nil {
			return 0, inj.xerr("query the modifier state", err)
		}
		inj.state, inj.stateOK = r.Mask, true
	}
	return inj.state, nil
}

// keymapLocked returns the keyboard map, read again if it changed.
func (inj *Injector) keymapLocked() (*keymap, error) {
	if inj.km != nil && !inj.stale.Load() {
		return inj.km, nil
	}
	inj.stale.Store(false) // before reading: a change after it sets it again
	km, err := loadKeymap(inj.conn)
	if err != nil {
		return nil, inj.xerr("read the keyboard map", err)
	}
	for kc, b := range inj.bound {
		if km.row(kc)[0] != b.sym { // someone else changed it: no longer ours
			delete(inj.bound, kc)
		}
	}
	inj.km = km
	return km, nil
}

// bindLocked binds ks to a spare keycode and returns it.
func (inj *Injector) bindLocked(ctx context.Context, km *keymap, ks xproto.Keysym) (xproto.Keycode, error) {
	kc := xproto.Keycode(0)
	for c := int(km.max); c >= int(km.min); c-- {
		k := xproto.Keycode(c)
		if km.empty(k) && km.modOf[k] == 0 && !inj.pressed(k) {
			kc = k
			break
		}
	}
	if kc == 0 { // every spare is bound: take the least recently used
		var oldest *binding
		for k, b := range inj.bound {
			if !inj.pressed(k) && (oldest == nil || b.used.Before(oldest.used)) {
				kc, oldest = k, b
			}
		}
		if oldest == nil {
			return 0, errors.New("x11: no spare keycode to bind a character to: the keyboard map is full")
		}
		if wait := time.Until(oldest.used.Add(min(spareReuseAge, inj.hold))); wait > 0 {
			if err := inj.flushLocked(); err != nil {
				return 0, err
			}
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return 0, ctx.Err()
			}
		}
	}
	row := make([]xproto.Keysym, km.per)
	row[0] = ks
	if km.per > 1 {
		row[1] = ks
	}
	inj.pending = append(inj.pending, xproto.ChangeKeyboardMappingChecked(inj.conn, 1, kc, byte(km.per), row))
	copy(km.row(kc), row)
	inj.bound[kc] = &binding{sym: ks, used: time.Now()}
	signal(inj.kick)
	inj.log.Debug("bound a character to a spare keycode", "keycode", kc)
	return kc, nil
}

// unbindLocked clears the spare keycode kc again.
func (inj *Injector) unbindLocked(kc xproto.Keycode) {
	delete(inj.bound, kc)
	if inj.km == nil {
		return
	}
	row := make([]xproto.Keysym, inj.km.per)
	inj.pending = append(inj.pending, xproto.ChangeKeyboardMappingChecked(inj.conn, 1, kc, byte(inj.km.per), row))
	copy(inj.km.row(kc), row)
	inj.log.Debug("cleared a spare keycode", "keycode", kc)
}

// pressed reports whether the helper holds key kc.
func (inj *Injector) pressed(kc xproto.Keycode) bool {
	return slices.ContainsFunc(inj.keys, func(h heldKey) bool { return h.code == kc })
}

// ReleaseAll releases every key and mouse button the helper pressed and
// has not released, newest first, and waits until the X server has
// handled it. Call it when the helper loses control, so that no key stays
// stuck. It returns ErrLost if the connection broke (the server then
// released them itself) and nil after Close.
func (inj *Injector) ReleaseAll() error {
	inj.mu.Lock()
	defer inj.mu.Unlock()
	if inj.closed {
		return nil
	}
	if err := inj.stoppedLocked(); err != nil {
		return err
	}
	inj.releaseAllLocked()
	return inj.flushLocked()
}

func (inj *Injector) releaseAllLocked() {
	var released []xproto.Keycode
	for _, h := range slices.Backward(inj.keys) {
		if !slices.Contains(released, h.code) {
			inj.fakeLocked(xproto.KeyRelease, byte(h.code))
			released = append(released, h.code)
		}
	}
	for _, b := range slices.Backward(inj.buttons) {
		inj.fakeLocked(xproto.ButtonRelease, b)
	}
	inj.keys, inj.buttons = nil, nil
	if len(released) > 0 {
		inj.log.Info("released the helper's keys", "keys", len(released))
	}
}

// restorer clears spare keycodes once they have not been used for
// inj.hold. It ends when the injector is closed.
func (inj *Injector) restorer() {
	defer inj.wg.Done()
	t := time.NewTimer(time.Hour)
	t.Stop()
	for {
		select {
		case <-inj.done:
			t.Stop()
			return
		case <-inj.kick:
			t.Reset(inj.hold)
		case <-t.C:
			if next := inj.restoreIdle(); next > 0 {
				t.Reset(next)
			}
		}
	}
}

// restoreIdle clears the bindings unused for inj.hold and returns when to
// look again (0: no binding left).
func (inj *Injector) restoreIdle() time.Duration {
	inj.mu.Lock()
	defer inj.mu.Unlock()
	if inj.stoppedLocked() != nil {
		return 0
	}
	next := time.Duration(0)
	for kc, b := range inj.bound {
		idle := time.Since(b.used)
		switch {
		case inj.pressed(kc):
			next = inj.hold
		case idle >= inj.hold:
			inj.unbindLocked(kc)
		case next == 0 || inj.hold-idle < next:
			next = inj.hold - idle
		}
	}
	if err := inj.flushLocked(); err != nil {
		inj.log.Warn("could not clear spare keycodes", "error", err)
	}
	return next
}

// Close releases what the helper holds, clears the spare keycodes it
// bound, closes the connection and waits for the injector's goroutines.
// It returns the error of releasing (nil if the connection was lost: the
// server releases a lost client's keys itself), and nil when called
// again.
func (inj *Injector) Close() error {
	var err error
	inj.closeOnce.Do(func() {
		inj.mu.Lock()
		if inj.stoppedLocked() == nil {
			inj.releaseAllLocked()
			for kc := range inj.bound {
				inj.unbindLocked(kc)
			}
			if err = inj.flushLocked(); errors.Is(err, ErrLost) {
				err = nil
			}
		}
		inj.closed = true
		inj.mu.Unlock()
		close(inj.done)
		inj.conn.Close()
		inj.wg.Wait()
	})
	return err
}

// read takes events off the connection: MappingNotify marks the keyboard
// map stale; errors of requests nobody checks are logged. It ends when the
// connection closes and then closes inj.lost.
func (inj *Injector) read() {
	defer inj.wg.Done()
	defer close(inj.lost)
	for ev, xerr := range xevents(inj.conn) {
		if xerr != nil {
			inj.log.Debug("X error", "error", xerr)
			continue
		}
		if m, ok := ev.(xproto.MappingNotifyEvent); ok && m.Request != xproto.MappingPointer {
			inj.stale.Store(true)
		}
	}
}

// stoppedLocked returns the error to give once the injector is closed or
// its connection lost; nil if neither.
func (inj *Injector) stoppedLocked() error {
	if inj.closed {
		return errInjectorClosed
	}
	select {
	case <-inj.lost:
		return lostError(inj.display, nil)
	default:
	}
	return nil
}

// xerr turns an error from a request into the one to return.
func (inj *Injector) xerr(what string, err error) error {
	if serr := inj.stoppedLocked(); serr != nil {
		return serr
	}
	return requestError(inj.display, what, err)
}

// keymap is the server's core keyboard map and modifier map.
type keymap struct {
	min, max xproto.Keycode
	per      int             // keysyms per keycode
	syms     []xproto.Keysym // per keysyms for each keycode from min to max
	modOf    map[xproto.Keycode]uint16

	shift          xproto.Keycode // a key that sets Shift; 0 if none
	level3         xproto.Keycode // ISO_Level3_Shift (AltGr); 0 if none
	level3Mask     uint16         // the modifier it sets; 0 if none
	modeSwitch     xproto.Keycode // Mode_switch; 0 if none
	modeSwitchMask uint16
}

func loadKeymap(c *xgb.Conn) (*keymap, error) {
	setup := xproto.Setup(c)
	lo, hi := setup.MinKeycode, setup.MaxKeycode
	kcookie := xproto.GetKeyboardMapping(c, lo, byte(int(hi)-int(lo)+1))
	mcookie := xproto.GetModifierMapping(c)
	kr, kerr := kcookie.Reply()
	mr, merr := mcookie.Reply()
	if kerr != nil {
		return nil, kerr
	}
	if merr != nil {
		return nil, merr
	}
	km := &keymap{min: lo, max: hi, per: int(kr.KeysymsPerKeycode), syms: kr.Keysyms, modOf: make(map[xproto.Keycode]uint16)}
	if km.per == 0 || len(km.syms) < km.per*(int(hi)-int(lo)+1) {
		return nil, fmt.Errorf("GetKeyboardMapping returned %d keysyms at %d per keycode", len(km.syms), km.per)
	}
	per := int(mr.KeycodesPerModifier)
	for m := range 8 {
		for _, kc := range mr.Keycodes[m*per : (m+1)*per] {
			if kc != 0 {
				km.modOf[kc] |= 1 << m
			}
		}
	}
	km.shift, _ = km.modifierKey(ksShiftL)
	if km.shift == 0 {
		km.shift, _ = km.modifierKey(ksShiftR)
	}
	km.level3, km.level3Mask = km.modifierKey(ksISOLevel3Shift)
	km.modeSwitch, km.modeSwitchMask = km.modifierKey(ksModeSwitch)
	return km, nil
}

// modifierKey returns the first key whose first keysym is ks, preferring
// one in the modifier map, and the modifiers it sets.
func (k *keymap) modifierKey(ks xproto.Keysym) (xproto.Keycode, uint16) {
	var first xproto.Keycode
	for c := int(k.min); c <= int(k.max); c++ {
		kc := xproto.Keycode(c)
		if k.row(kc)[0] != ks {
			continue
		}
		if k.modOf[kc] != 0 {
			return kc, k.modOf[kc]
		}
		if first == 0 {
			first = kc
		}
	}
	return first, 0
}

// row returns the keysyms of kc (a slice of k.syms).
func (k *keymap) row(kc xproto.Keycode) []xproto.Keysym {
	i := (int(kc) - int(k.min)) * k.per
	return k.syms[i : i+k.per]
}

// empty reports whether kc has no keysym.
func (k *keymap) empty(kc xproto.Keycode) bool {
	return !slices.ContainsFunc(k.row(kc), func(s xproto.Keysym) bool { return s != 0 })
}

// find returns the key and column of the first of syms found on the map:
// by column 0, 1, then 4, 5 (AltGr) and 2, 3 (Mode_switch) when the
// keyboard has those modifier keys; by keycode within a column.
func (k *keymap) find(syms []xproto.Keysym) (xproto.Keycode, int, bool) {
	cols := []int{0, 1}
	if k.level3 != 0 {
		cols = append(cols, 4, 5)
	}
	if k.modeSwitch != 0 {
		cols = append(cols, 2, 3)
	}
	for _, col := range cols {
		if col >= k.per {
			continue
		}
		for c := int(k.min); c <= int(k.max); c++ {
			kc := xproto.Keycode(c)
			if slices.Contains(syms, k.row(kc)[col]) && k.row(kc)[col] != 0 {
				return kc, col, true
			}
		}
	}
	return 0, 0, false
}

// otherLevels reports whether columns col and col+1 of kc hold keysyms
// other than columns 0 and 1.
func (k *keymap) otherLevels(kc xproto.Keycode, col int) bool {
	if col+1 >= k.per {
		return false
	}
	row := k.row(kc)
	return (row[col] != 0 || row[col+1] != 0) && (row[col] != row[0] || row[col+1] != row[1])
}

// cased reports whether columns col and col+1 of kc hold a small letter
// and its capital, which Caps Lock swaps.
func (k *keymap) cased(kc xproto.Keycode, col int) bool {
	if col+1 >= k.per {
		return false
	}
	lower, upper := keysymRune(k.row(kc)[col]), keysymRune(k.row(kc)[col+1])
	return lower >= 0 && lower != upper && unicode.IsLower(lower) && unicode.ToUpper(lower) == upper
}
