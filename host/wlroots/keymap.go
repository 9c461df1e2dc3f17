package wlroots

import (
	_ "embed"
	"fmt"
	"strings"
)

// usKeymap is the keymap the virtual keyboard starts with: an XKB text
// keymap for the US layout on the evdev keycodes, made with
// `xkbcli compile-keymap --layout us` (libxkbcommon-tools, xkeyboard-config
// 2.38).
//
//go:embed us.xkb
var usKeymap string

// Evdev codes (linux/input-event-codes.h); XKB keycodes are these plus 8.
const (
	keyLeftShift  = 42
	keyRightShift = 54
)

// usChars maps the characters of the US layout to their evdev code and
// whether they need Shift.
var usChars = func() map[rune]keyStroke {
	m := map[rune]keyStroke{' ': {57, false}}
	rows := []struct {
		code        int
		plain, shft string
	}{
		{2, "1234567890-=", "!@#$%^&*()_+"},
		{16, "qwertyuiop[]", "QWERTYUIOP{}"},
		{30, "asdfghjkl;'`", "ASDFGHJKL:\"~"},
		{44, "zxcvbnm,./", "ZXCVBNM<>?"},
	}
	for _, r := range rows {
		for i, c := range r.plain {
			m[c] = keyStroke{uint32(r.code + i), false}
		}
		for i, c := range r.shft {
			m[c] = keyStroke{uint32(r.code + i), true}
		}
	}
	m['\\'] = keyStroke{43, false}
	m['|'] = keyStroke{43, true}
	return m
}()

// keyStroke is a key of the keymap and whether it needs Shift.
type keyStroke struct {
	code  uint32 // evdev
	shift bool
}

// namedKeys maps the browser's names of keys that are not characters to
// evdev codes.
var namedKeys = map[string]uint32{
	"Escape": escapeKey.code, "Backspace": 14, "Tab": 15, "Enter": 28,
	"Control": 29, "Shift": keyLeftShift, "Alt": 56, "Meta": 125, "OS": 125,
	"AltGraph": 100, "CapsLock": 58, "NumLock": 69, "ScrollLock": 70,
	"F1": 59, "F2": 60, "F3": 61, "F4": 62, "F5": 63, "F6": 64, "F7": 65,
	"F8": 66, "F9": 67, "F10": 68, "F11": 87, "F12": 88,
	"Home": 102, "ArrowUp": 103, "PageUp": 104, "ArrowLeft": 105,
	"ArrowRight": 106, "End": 107, "ArrowDown": 108, "PageDown": 109,
	"Insert": 110, "Delete": 111, "PrintScreen": 99, "Pause": 119,
	"ContextMenu": 127, "Spacebar": 57,
}

// spareKeys are keycodes below 256 that usKeymap names but binds no
// symbol to (XKB names and evdev codes): characters not on the US layout
// are bound to them in a keymap sent for the purpose.
var spareKeys = []struct {
	name string
	code uint32
}{
	{"I120", 112}, {"I149", 141}, {"I154", 146}, {"I168", 160},
	{"I178", 170}, {"I183", 175}, {"I184", 176}, {"I217", 209},
	{"I219", 211}, {"I222", 214}, {"I230", 222},
}

// escapeKey is where the injector types Escape: a spare keycode bound to
// the Escape keysym in every keymap it sends, never KEY_ESC (1), whose
// keycode sway's ESC binding matches (see swaykeys.go).
var escapeKey = struct {
	name string
	code uint32
}{"I248", 240}

// keymapWith returns usKeymap with Escape on escapeKey and the characters
// bound[i] (0 for none) on spareKeys[i], one level each so Shift does not
// matter.
func keymapWith(bound []rune) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\tkey <%s> { [ Escape ] };\n", escapeKey.name)
	for i, r := range bound {
		if r != 0 {
			fmt.Fprintf(&b, "\tkey <%s> { [ U%04X ] };\n", spareKeys[i].name, r)
		}
	}
	// The symbols section is the last; its end is the second to last "};".
	end := strings.LastIndex(usKeymap, "\n};")
	end = strings.LastIndex(usKeymap[:end], "\n};")
	return usKeymap[:end+1] + b.String() + usKeymap[end+1:]
}
