package x11

import (
	"strconv"
	"unicode"

	"github.com/jezek/xgb/xproto"
)

//go:generate go run keysym_gen.go

// Keysyms the injector names (keysymdef.h).
const (
	ksBackSpace      xproto.Keysym = 0xff08
	ksTab            xproto.Keysym = 0xff09
	ksReturn         xproto.Keysym = 0xff0d
	ksEscape         xproto.Keysym = 0xff1b
	ksModeSwitch     xproto.Keysym = 0xff7e
	ksShiftL         xproto.Keysym = 0xffe1
	ksShiftR         xproto.Keysym = 0xffe2
	ksISOLevel3Shift xproto.Keysym = 0xfe03

	ksUnicode xproto.Keysym = 0x01000000 // | code point, for U+0100 and up
)

// namedKeys maps the values of the browser's KeyboardEvent.key that name a
// key rather than a character to X keysyms. A name that the browser gives
// to both sides of a key (Shift, Control, Alt, Meta) means the left one.
var namedKeys = map[string]xproto.Keysym{
	"Enter":     ksReturn,
	"Escape":    ksEscape,
	"Esc":       ksEscape,
	"Backspace": ksBackSpace,
	"Tab":       ksTab,
	"Delete":    0xffff,
	"Del":       0xffff,
	"Insert":    0xff63,
	"Clear":     0xff0b,

	"ArrowLeft":  0xff51,
	"ArrowUp":    0xff52,
	"ArrowRight": 0xff53,
	"ArrowDown":  0xff54,
	"Left":       0xff51,
	"Up":         0xff52,
	"Right":      0xff53,
	"Down":       0xff54,
	"Home":       0xff50,
	"End":        0xff57,
	"PageUp":     0xff55, // Prior
	"PageDown":   0xff56, // Next

	"Shift":      ksShiftL,
	"Control":    0xffe3, // Control_L
	"Alt":        0xffe9, // Alt_L
	"Meta":       0xffeb, // Super_L: the Windows or Command key
	"OS":         0xffeb,
	"Super":      0xffeb,
	"Hyper":      0xffed, // Hyper_L
	"AltGraph":   ksISOLevel3Shift,
	"CapsLock":   0xffe5,
	"NumLock":    0xff7f,
	"ScrollLock": 0xff14,
	"ModeChange": ksModeSwitch,
	"Compose":    0xff20, // Multi_key

	"ContextMenu": 0xff67, // Menu
	"Apps":        0xff67,
	"PrintScreen": 0xff61, // Print
	"Pause":       0xff13,
	"Cancel":      0xff69,
	"Help":        0xff6a,
	"Select":      0xff60,
	"Execute":     0xff62,
	"Find":        0xff68,
	"Undo":        0xff65,
	"Redo":        0xff66,
	"Again":       0xff66,
	"Spacebar":    0x20,

	// XF86keysym.h
	"AudioVolumeDown":    0x1008ff11,
	"AudioVolumeMute":    0x1008ff12,
	"AudioVolumeUp":      0x1008ff13,
	"MediaPlayPause":     0x1008ff14, // XF86AudioPlay
	"MediaPlay":          0x1008ff14,
	"MediaStop":          0x1008ff15,
	"MediaTrackPrevious": 0x1008ff16,
	"MediaTrackNext":     0x1008ff17,
	"MediaPause":         0x1008ff31,
	"BrowserHome":        0x1008ff18,
	"LaunchMail":         0x1008ff19,
	"BrowserSearch":      0x1008ff1b,
	"BrowserBack":        0x1008ff26,
	"BrowserForward":     0x1008ff27,
	"BrowserRefresh":     0x1008ff29,
	"Power":              0x1008ff2a, // XF86PowerOff
	"WakeUp":             0x1008ff2b,
	"Eject":              0x1008ff2c,
	"Sleep":              0x1008ff2f,
}

// ignoredKeys are values of KeyboardEvent.key that stand for no key to
// press: a dead key (the browser sends the composed character next), an
// input method at work, a key it could not identify.
var ignoredKeys = map[string]bool{"Dead": true, "Process": true, "Unidentified": true}

// legacyByRune and runeByLegacy index legacyKeysyms.
var (
	legacyByRune = make(map[rune]xproto.Keysym, len(legacyKeysyms))
	runeByLegacy = make(map[xproto.Keysym]rune, len(legacyKeysyms))
)

func init() {
	// F1 to F35 are consecutive keysyms.
	for i := 1; i <= 35; i++ {
		namedKeys["F"+strconv.Itoa(i)] = 0xffbe + xproto.Keysym(i-1)
	}
	for _, k := range legacyKeysyms {
		legacyByRune[k.r] = xproto.Keysym(k.sym)
		runeByLegacy[xproto.Keysym(k.sym)] = k.r
	}
}

// runeKeysyms returns the keysyms that stand for r, the usual one first:
// a Latin-1 character is its own keysym; a character with a legacy keysym
// (EuroSign, Cyrillic_a, Greek_alpha…) is that, as keyboard layouts name
// it; and every character is also 0x01000000|code point, the Unicode
// keysym, which layouts use for the characters without a legacy keysym.
// It returns nil for control characters and for code points that are
// not characters.
func runeKeysyms(r rune) []xproto.Keysym {
	switch {
	case r < 0x20, r >= 0x7f && r < 0xa0, r > unicode.MaxRune, r >= 0xd800 && r < 0xe000:
		return nil
	case r <= 0xff:
		return []xproto.Keysym{xproto.Keysym(r), ksUnicode | xproto.Keysym(r)}
	}
	if ks, ok := legacyByRune[r]; ok {
		return []xproto.Keysym{ks, ksUnicode | xproto.Keysym(r)}
	}
	return []xproto.Keysym{ksUnicode | xproto.Keysym(r)}
}

// keysymRune returns the character a keysym stands for, or -1.
func keysymRune(ks xproto.Keysym) rune {
	switch {
	case ks >= 0x20 && ks <= 0x7e, ks >= 0xa0 && ks <= 0xff:
		return rune(ks)
	case ks >= ksUnicode+0x100 && ks <= ksUnicode+unicode.MaxRune:
		return rune(ks - ksUnicode)
	}
	if r, ok := runeByLegacy[ks]; ok {
		return r
	}
	return -1
}
