package windows

// What the low-level keyboard hook of KeyWatcher decides, apart from the
// hook itself (escape_windows.go), so that it is tested everywhere.

// KBDLLHOOKSTRUCT's flags (WinUser.h).
const (
	llkhfInjected = 0x10 // the event came from SendInput (or keybd_event), not a keyboard
	llkhfUp       = 0x80 // the key was released
)

// escRepeatWindow is how soon after a press of Escape, in the events'
// milliseconds, another press while it is still down counts as the
// keyboard's autorepeat. Windows repeats a held key after 250 to 1000 ms
// (the keyboard delay setting), then every 33 to 400 ms; a lost release
// silences Escape for at most this long.
const escRepeatWindow = 1500

// ours reports whether a low-level keyboard event was sent by gethelp's
// Injector: injected, and carrying InjectedExtraInfo. A keyboard's own
// events are never injected, whatever their extra information.
func ours(flags uint32, extra uintptr) bool {
	return flags&llkhfInjected != 0 && extra == InjectedExtraInfo
}

// escState follows the Escape key as the hook sees it and tells the
// person's new presses from autorepeat and from gethelp's own Escape.
// The zero value is a key not pressed. It belongs to the hook's thread.
type escState struct {
	down bool   // the last press of the person's Escape has not been released
	time uint32 // of the last press, in the events' milliseconds (GetTickCount)
}

// key takes one event of the Escape key (flags and extra as in
// KBDLLHOOKSTRUCT, time its milliseconds) and reports whether it is a new
// press by the person: not gethelp's own (ours), not a release, and not
// the autorepeat of a press still held. Events of gethelp's Escape change
// nothing.
func (s *escState) key(flags uint32, extra uintptr, time uint32) bool {
	if ours(flags, extra) {
		return false
	}
	if flags&llkhfUp != 0 {
		s.down = false
		return false
	}
	repeat := s.down && time-s.time < escRepeatWindow
	s.down, s.time = true, time
	return !repeat
}
