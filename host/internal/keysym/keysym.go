// Package keysym maps the helper's keys (the browser's KeyboardEvent.key
// values) and characters to X keysyms (keysymdef.h, XF86keysym.h). X11's
// XTEST injector and xdg-desktop-portal's NotifyKeyboardKeysym both speak
// keysyms; this is the table they share, with no connection code.
package keysym

import (
	"strconv"
	"unicode"
)

//go:generate go run gen.go

// Keysyms the injectors name (keysymdef.h).
const (
	BackSpace      = 0xff08
	Tab            = 0xff09
	Return         = 0xff0d
	Escape         = 0xff1b
	ModeSwitch     = 0xff7e
	ShiftL         = 0xffe1
	ShiftR         = 0xffe2
	ISOLevel3Shift = 0xfe03

	Unicode = 0x01000000 // | code point, for U+0100 and up
)

// named maps the values of the browser's KeyboardEvent.key that name a
// key rather than a character to X keysyms. A name that the browser gives
// to both sides of a key (Shift, Control, Alt, Meta) means the left one.
var named = map[string]uint32{
	"Enter":     Return,
	"Escape":    Escape,
	"Esc":       Escape,
	"Backspace": BackSpace,
	"Tab":       Tab,
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

	"Shift":      ShiftL,
	"Control":    0xffe3, // Control_L
	"Alt":        0xffe9, // Alt_L
	"Meta":       0xffeb, // Super_L: the Windows or Command key
	"OS":         0xffeb,
	"Super":      0xffeb,
	"Hyper":      0xffed, // Hyper_L
	"AltGraph":   ISOLevel3Shift,
	"CapsLock":   0xffe5,
	"NumLock":    0xff7f,
	"ScrollLock": 0xff14,
	"ModeChange": ModeSwitch,
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

// ignored are values of KeyboardEvent.key that stand for no key to press:
// a dead key (the browser sends the composed character next), an input
// method at work, a key it could not identify.
var ignored = map[string]bool{"Dead": true, "Process": true, "Unidentified": true}

// legacyByRune and runeByLegacy index legacyKeysyms.
var (
	legacyByRune = make(map[rune]uint32, len(legacyKeysyms))
	runeByLegacy = make(map[uint32]rune, len(legacyKeysyms))
)

func init() {
	// F1 to F35 are consecutive keysyms.
	for i := 1; i <= 35; i++ {
		named["F"+strconv.Itoa(i)] = 0xffbe + uint32(i-1)
	}
	for _, k := range legacyKeysyms {
		legacyByRune[k.r] = k.sym
		runeByLegacy[k.sym] = k.r
	}
}

// Named returns the keysym of a key the browser names rather than types
// ("Enter", "ArrowLeft", "F5", "Control", "AudioVolumeUp"…), and whether
// there is one. A name that the browser gives to both sides of a key
// (Shift, Control, Alt, Meta) means the left one.
func Named(name string) (uint32, bool) {
	ks, ok := named[name]
	return ks, ok
}

// Ignored reports whether the browser's key name stands for no key to
// press: a dead key (the composed character comes next), an input method
// at work ("Process"), a key the browser could not identify.
func Ignored(name string) bool { return ignored[name] }

// ForRune returns the keysyms that stand for r, the usual one first:
// a Latin-1 character is its own keysym; a character with a legacy keysym
// (EuroSign, Cyrillic_a, Greek_alpha…) is that, as keyboard layouts name
// it; and every character is also 0x01000000|code point, the Unicode
// keysym, which layouts use for the characters without a legacy keysym.
// It returns nil for control characters and for code points that are
// not characters.
func ForRune(r rune) []uint32 {
	switch {
	case r < 0x20, r >= 0x7f && r < 0xa0, r > unicode.MaxRune, r >= 0xd800 && r < 0xe000:
		return nil
	case r <= 0xff:
		return []uint32{uint32(r), Unicode | uint32(r)}
	}
	if ks, ok := legacyByRune[r]; ok {
		return []uint32{ks, Unicode | uint32(r)}
	}
	return []uint32{Unicode | uint32(r)}
}

// Rune returns the character a keysym stands for, or -1.
func Rune(ks uint32) rune {
	switch {
	case ks >= 0x20 && ks <= 0x7e, ks >= 0xa0 && ks <= 0xff:
		return rune(ks)
	case ks >= Unicode+0x100 && ks <= Unicode+unicode.MaxRune:
		return rune(ks - Unicode)
	}
	if r, ok := runeByLegacy[ks]; ok {
		return r
	}
	return -1
}
