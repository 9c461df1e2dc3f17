package windows

import (
	"errors"
	"fmt"
	"slices"
	"unicode"
	"unicode/utf16"
	"unsafe"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/session/screen"
)

// ErrUnknownKey is returned (wrapped) by Injector.Inject for an InputKey
// press whose Key is neither a character nor a key name the injector
// knows.
var ErrUnknownKey = errors.New("windows: unknown key")

// InjectedExtraInfo is the dwExtraInfo of every event the Injector sends
// (the bytes "GHLP"), so that a low-level hook can tell gethelp's
// injections apart from other programs' too (LLKHF_INJECTED says only that
// an event was injected by someone).
const InjectedExtraInfo = 0x47484c50

// SendInput's structures (WinUser.h). Go lays them out as C does on
// windows/amd64, 386 and arm64: input is 40 bytes on 64-bit, 28 on 32-bit.
const (
	inputMouse    = 0
	inputKeyboard = 1

	mouseMove        = 0x0001
	mouseLeftDown    = 0x0002
	mouseLeftUp      = 0x0004
	mouseRightDown   = 0x0008
	mouseRightUp     = 0x0010
	mouseMiddleDown  = 0x0020
	mouseMiddleUp    = 0x0040
	mouseXDown       = 0x0080
	mouseXUp         = 0x0100
	mouseWheel       = 0x0800
	mouseHWheel      = 0x1000
	mouseVirtualDesk = 0x4000
	mouseAbsolute    = 0x8000

	keyExtended = 0x0001
	keyUp       = 0x0002
	keyUnicode  = 0x0004

	wheelDelta = 120 // one notch
	xButton1   = 1   // back
	xButton2   = 2   // forward
)

// maxNotches bounds the wheel notches of one InputWheel per axis.
const maxNotches = 1000

type mouseInput struct {
	DX, DY    int32
	MouseData uint32
	Flags     uint32
	Time      uint32
	ExtraInfo uintptr
}

type keybdInput struct {
	VK, Scan  uint16
	Flags     uint32
	Time      uint32
	ExtraInfo uintptr
}

// input is INPUT: a type and a union of MOUSEINPUT (the largest member)
// and KEYBDINPUT. The union is words, not a struct, so that copies keep
// every byte: a struct copy need not copy padding, and KEYBDINPUT's
// dwExtraInfo lies where MOUSEINPUT has padding.
type input struct {
	Type  uint32
	union [unsafe.Sizeof(mouseInput{}) / unsafe.Sizeof(uintptr(0))]uintptr
}

func mouse(x, y int32, flags, data uint32) input {
	in := input{Type: inputMouse}
	*in.mouse() = mouseInput{DX: x, DY: y, MouseData: data, Flags: flags, ExtraInfo: InjectedExtraInfo}
	return in
}

func keybd(vk, scan uint16, flags uint32) input {
	in := input{Type: inputKeyboard}
	*in.keybd() = keybdInput{VK: vk, Scan: scan, Flags: flags, ExtraInfo: InjectedExtraInfo}
	return in
}

// mouse returns the union as a MOUSEINPUT.
func (in *input) mouse() *mouseInput { return (*mouseInput)(unsafe.Pointer(&in.union)) }

// keybd returns the union as a KEYBDINPUT.
func (in *input) keybd() *keybdInput { return (*keybdInput)(unsafe.Pointer(&in.union)) }

// normalize maps pixel p of a side of n pixels to SendInput's absolute
// coordinates, 0 to 65535 across the side: the system turns v back into
// v*n>>16, so v is the least value that gives p. p is clamped into the
// side.
func normalize(p, n int) int32 {
	if n <= 1 {
		return 0
	}
	p = min(max(p, 0), n-1)
	return int32(min((p*65536+n-1)/n, 65535))
}

// system is what the input state asks of Windows (a fake in tests).
type system interface {
	// scanCode returns the scan code of virtual key vk on the current
	// layout (MapVirtualKey), or 0.
	scanCode(vk uint16) uint16
	// keyOf returns the virtual key that gives r on the keyboard layout of
	// the foreground window (VkKeyScanEx), if there is one.
	keyOf(r rune) (vk uint16, ok bool)
}

// inputState turns the helper's events into SendInput events and
// remembers what the helper holds, so that it can all be released.
type inputState struct {
	sys     system
	keys    []heldKey // pressed by the helper, oldest first
	buttons []int     // pressed by the helper, oldest first
}

// heldKey is a key the helper pressed and has not released: a virtual key
// or, for a character typed as such, its UTF-16 code units.
type heldKey struct {
	name  string
	vk    vkey
	units []uint16 // a character sent with KEYEVENTF_UNICODE, when not nil
}

// event returns the inputs that perform e on a virtual screen of size vs
// (the image's coordinates are the virtual screen's, from its top-left
// corner).
func (st *inputState) event(e host.InputEvent, vs screen.Rect) ([]input, error) {
	const abs = mouseMove | mouseAbsolute | mouseVirtualDesk
	x, y := normalize(e.X, vs.W), normalize(e.Y, vs.H)
	switch e.Kind {
	case host.InputPointer:
		return []input{mouse(x, y, abs, 0)}, nil
	case host.InputButton:
		down, up, data, ok := buttonFlags(e.Button)
		if !ok {
			return nil, fmt.Errorf("windows: unsupported mouse button %d", e.Button)
		}
		if e.Down {
			if !slices.Contains(st.buttons, e.Button) {
				st.buttons = append(st.buttons, e.Button)
			}
			return []input{mouse(x, y, abs|down, data)}, nil
		}
		i := slices.Index(st.buttons, e.Button)
		if i < 0 {
			return []input{mouse(x, y, abs, 0)}, nil // not pressed by the helper
		}
		st.buttons = slices.Delete(st.buttons, i, i+1)
		return []input{mouse(x, y, abs|up, data)}, nil
	case host.InputWheel:
		out := []input{mouse(x, y, abs, 0)}
		if dy := min(max(e.DY, -maxNotches), maxNotches); dy != 0 {
			out[0] = mouse(x, y, abs|mouseWheel, uint32(int32(-dy*wheelDelta))) // positive: away from the user, up
		}
		if dx := min(max(e.DX, -maxNotches), maxNotches); dx != 0 {
			out = append(out, mouse(x, y, abs|mouseHWheel, uint32(int32(dx*wheelDelta)))) // positive: right
		}
		return out, nil
	case host.InputKey:
		if e.Down {
			return st.keyDown(e.Key)
		}
		return st.keyUp(e.Key), nil
	case host.InputText:
		return st.text(e.Text), nil
	}
	return nil, fmt.Errorf("windows: unknown input kind %d", e.Kind)
}

// buttonFlags returns the MOUSEEVENTF flags and mouseData of button b.
func buttonFlags(b int) (down, up, data uint32, ok bool) {
	switch b {
	case 1:
		return mouseLeftDown, mouseLeftUp, 0, true
	case 2:
		return mouseMiddleDown, mouseMiddleUp, 0, true
	case 3:
		return mouseRightDown, mouseRightUp, 0, true
	case 8:
		return mouseXDown, mouseXUp, xButton1, true
	case 9:
		return mouseXDown, mouseXUp, xButton2, true
	}
	return 0, 0, 0, false
}

// keyDown presses the key named name (KeyboardEvent.key) and keeps it
// pressed. A character is sent as the character (KEYEVENTF_UNICODE), so
// that it types whatever the layout, unless the helper holds Control, Alt
// or Meta and the layout has a key for it: then that key is pressed, so
// that shortcuts work. A name of several characters is typed instead.
func (st *inputState) keyDown(name string) ([]input, error) {
	if i := st.held(name); i >= 0 { // the browser's autorepeat
		return st.keyDownInputs(st.keys[i]), nil
	}
	if ignoredKeys[name] {
		return nil, nil
	}
	k := heldKey{name: name}
	if vk, ok := namedKeys[name]; ok {
		k.vk = vk
	} else {
		runes := []rune(name)
		switch {
		case len(runes) == 1 && unicode.IsGraphic(runes[0]):
			r := runes[0]
			if vk, ok := st.sys.keyOf(r); ok && st.shortcut() {
				k.vk = vkey{vk: vk}
			} else {
				k.units = utf16.Encode(runes)
			}
		case len(runes) > 1 && !isKeyName(runes) && !slices.ContainsFunc(runes, func(r rune) bool { return !unicode.IsGraphic(r) }):
			return st.text(name), nil // a character and its combining marks, say
		default:
			return nil, fmt.Errorf("%w %q", ErrUnknownKey, name)
		}
	}
	st.keys = append(st.keys, k)
	return st.keyDownInputs(k), nil
}

// shortcut reports whether the helper holds Control, Alt or Meta.
func (st *inputState) shortcut() bool {
	return slices.ContainsFunc(st.keys, func(k heldKey) bool { return k.units == nil && shortcutKeys[k.vk.vk] })
}

// keyUp releases the key the helper pressed as name. The browser may name
// it differently on release (Shift went down meanwhile: "a" then "A");
// then it is found ignoring case.
func (st *inputState) keyUp(name string) []input {
	i := st.held(name)
	if i < 0 {
		i = slices.IndexFunc(st.keys, func(k heldKey) bool { return caseFold(k.name) == caseFold(name) })
	}
	if i < 0 {
		return nil // not pressed by the helper, or released already
	}
	k := st.keys[i]
	st.keys = slices.Delete(st.keys, i, i+1)
	return st.keyUpInputs(k)
}

func (st *inputState) held(name string) int {
	return slices.IndexFunc(st.keys, func(k heldKey) bool { return k.name == name })
}

func (st *inputState) keyDownInputs(k heldKey) []input {
	if k.units != nil {
		out := make([]input, len(k.units))
		for i, u := range k.units {
			out[i] = keybd(0, u, keyUnicode)
		}
		return out
	}
	return []input{st.vkInput(k.vk, 0)}
}

func (st *inputState) keyUpInputs(k heldKey) []input {
	if k.units != nil {
		out := make([]input, len(k.units))
		for i, u := range slices.Backward(k.units) {
			out[len(k.units)-1-i] = keybd(0, u, keyUnicode|keyUp)
		}
		return out
	}
	return []input{st.vkInput(k.vk, keyUp)}
}

// vkInput is a press (flags 0) or release (keyUp) of a virtual key, with
// its scan code, which some programs read instead.
func (st *inputState) vkInput(k vkey, flags uint32) input {
	if k.ext {
		flags |= keyExtended
	}
	return keybd(k.vk, st.sys.scanCode(k.vk), flags)
}

// text types s: each character pressed and released as a character
// (KEYEVENTF_UNICODE, both halves of a surrogate pair in turn). Newline
// and carriage return are Return (CR LF is one), tab is Tab; other
// control characters are skipped. The helper's modifiers stay as they
// are.
func (st *inputState) text(s string) []input {
	runes := []rune(s)
	out := make([]input, 0, 2*len(runes))
	for i, r := range runes {
		switch {
		case r == '\r' && i+1 < len(runes) && runes[i+1] == '\n':
			continue
		case r == '\r' || r == '\n':
			out = append(out, st.vkInput(vkey{vk: vkReturn}, 0), st.vkInput(vkey{vk: vkReturn}, keyUp))
		case r == '\t':
			out = append(out, st.vkInput(vkey{vk: vkTab}, 0), st.vkInput(vkey{vk: vkTab}, keyUp))
		case !unicode.IsGraphic(r):
			continue
		default:
			for _, u := range utf16.Encode([]rune{r}) {
				out = append(out, keybd(0, u, keyUnicode), keybd(0, u, keyUnicode|keyUp))
			}
		}
	}
	return out
}

// releaseAll returns the inputs that release every key (newest first) and
// button the helper holds, and forgets them.
func (st *inputState) releaseAll() []input {
	var out []input
	for _, k := range slices.Backward(st.keys) {
		out = append(out, st.keyUpInputs(k)...)
	}
	for _, b := range slices.Backward(st.buttons) {
		_, up, data, _ := buttonFlags(b)
		out = append(out, mouse(0, 0, up, data)) // relative, no move: where the pointer is
	}
	st.keys, st.buttons = nil, nil
	return out
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
