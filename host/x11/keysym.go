package x11

import (
	"github.com/jezek/xgb/xproto"

	"github.com/gethelp/gethelp/host/internal/keysym"
)

// Keysyms the injector names. The tables (key names, characters, legacy
// keysyms) are in host/internal/keysym, shared with host/portal.
const (
	ksBackSpace      xproto.Keysym = keysym.BackSpace
	ksTab            xproto.Keysym = keysym.Tab
	ksReturn         xproto.Keysym = keysym.Return
	ksEscape         xproto.Keysym = keysym.Escape
	ksModeSwitch     xproto.Keysym = keysym.ModeSwitch
	ksShiftL         xproto.Keysym = keysym.ShiftL
	ksShiftR         xproto.Keysym = keysym.ShiftR
	ksISOLevel3Shift xproto.Keysym = keysym.ISOLevel3Shift
)

// namedKeysym returns the keysym of a key the browser names ("Enter",
// "F5") rather than types.
func namedKeysym(name string) (xproto.Keysym, bool) {
	ks, ok := keysym.Named(name)
	return xproto.Keysym(ks), ok
}

// runeKeysyms returns the keysyms that stand for r, the usual one first
// (keysym.ForRune), or nil for control characters.
func runeKeysyms(r rune) []xproto.Keysym {
	syms := keysym.ForRune(r)
	if syms == nil {
		return nil
	}
	out := make([]xproto.Keysym, len(syms))
	for i, ks := range syms {
		out[i] = xproto.Keysym(ks)
	}
	return out
}

// keysymRune returns the character a keysym stands for, or -1.
func keysymRune(ks xproto.Keysym) rune { return keysym.Rune(uint32(ks)) }
