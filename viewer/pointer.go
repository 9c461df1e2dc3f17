package viewer

import "github.com/gethelp/gethelp/session"

// PointerState is the host's mouse pointer as last reported.
type PointerState struct {
	X, Y    int
	Visible bool
	Shape   *session.CursorMessage // nil until the host sends one
}

// Pointer returns the host's pointer as last reported.
func (v *Viewer) Pointer() PointerState {
	v.fb.mu.Lock()
	defer v.fb.mu.Unlock()
	return v.fb.pointer
}

func (v *Viewer) pointer(m session.Message) {
	v.fb.mu.Lock()
	if m.Type == session.TypeCursor {
		v.fb.pointer.Shape = m.Cursor
	} else {
		v.fb.pointer.X, v.fb.pointer.Y, v.fb.pointer.Visible = m.X, m.Y, m.Visible
	}
	v.fb.mu.Unlock()
	// The pointer moves far too often for --json: UIs poll Pointer or
	// subscribe to the screen.
}
