package viewer

import (
	"errors"
	"slices"

	"github.com/gethelp/gethelp/session"
)

// EventClipboard: the person copied Text; it is the helper's to paste.
const EventClipboard = "clipboard"

// MaxClipboard is the longest clipboard text SetClipboard sends.
const MaxClipboard = 48 << 10

// ErrClipboardNotAllowed is returned by SetClipboard until the person
// grants the clipboard.
var ErrClipboardNotAllowed = errors.New("viewer: the person has not allowed sharing the clipboard")

// SetClipboard puts text on the person's clipboard. It returns
// ErrClipboardNotAllowed until the person granted "clipboard", or an error
// for text longer than MaxClipboard.
func (v *Viewer) SetClipboard(text string) error {
	if !slices.Contains(v.Capabilities(), session.CapClipboard) {
		return ErrClipboardNotAllowed
	}
	if len(text) > MaxClipboard {
		return errors.New("viewer: clipboard text is longer than 48 KiB")
	}
	if err := v.session().Send(session.Message{Type: session.TypeClipboard, Text: text}); err != nil {
		return err
	}
	v.record("clipboard", map[string]any{"direction": toHost, "bytes": len(text)})
	return nil
}

func (v *Viewer) clipboard(m session.Message) {
	v.record("clipboard", map[string]any{"direction": fromHost, "bytes": len(m.Text)})
	v.emit(Event{Type: EventClipboard, Text: m.Text, Size: int64(len(m.Text))})
}
