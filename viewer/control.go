package viewer

import (
	"context"
	"slices"
	"sync"
	"unicode/utf8"

	"github.com/gethelp/gethelp/session"
)

// Consent event types.
const (
	EventControlRequested = "control_requested" // this helper asked
	EventControlGranted   = "control_granted"   // the person granted; Capabilities is the whole set
	EventControlDenied    = "control_denied"    // the person (or policy) declined; By says which
	EventControlRevoked   = "control_revoked"   // the person took control back; By: esc, button, disconnect
	EventConsent          = "consent"           // capabilities other than control changed
)

// control is the helper's view of consent and its input channel.
type control struct {
	mu   sync.Mutex
	caps []string               // guarded by mu: what the person granted
	w    *session.ChannelWriter // guarded by mu: the input channel, opened at first use
	buf  []byte                 // guarded by mu
	// buttons is the browser-style button mask of the last Pointer call.
	buttons int // guarded by mu
}

// Capabilities returns what the person has granted.
func (v *Viewer) Capabilities() []string {
	v.ctl.mu.Lock()
	defer v.ctl.mu.Unlock()
	return slices.Clone(v.ctl.caps)
}

// InControl reports whether the person has granted control.
func (v *Viewer) InControl() bool {
	v.ctl.mu.Lock()
	defer v.ctl.mu.Unlock()
	return slices.Contains(v.ctl.caps, session.CapControl)
}

// RequestControl asks the person for control of their computer; the answer
// comes as a control_granted or control_denied event.
func (v *Viewer) RequestControl() error {
	if err := v.session().Send(session.Message{Type: session.TypeRequestControl}); err != nil {
		return err
	}
	v.record("control_requested", nil)
	v.emit(Event{Type: EventControlRequested, Self: true})
	return nil
}

// ReleaseControl gives control back to the person; a control_revoked
// event with By "helper" follows.
func (v *Viewer) ReleaseControl() error {
	if err := v.session().Send(session.Message{Type: session.TypeReleaseControl}); err != nil {
		return err
	}
	v.record("control_released", nil)
	return nil
}

// SendInput sends one input event. The host performs it only while the
// person has granted control and drops it otherwise; a UI should offer
// input only while InControl. Bad events are refused here with the error
// of session.Input.Check.
func (v *Viewer) SendInput(ctx context.Context, in session.Input) error {
	v.ctl.mu.Lock()
	defer v.ctl.mu.Unlock()
	p, err := session.AppendInput(v.ctl.buf[:0], in)
	if err != nil {
		return err
	}
	v.ctl.buf = p
	if v.ctl.w == nil {
		w, err := v.session().OpenChannel(ctx, session.ChannelInput)
		if err != nil {
			return err
		}
		v.ctl.w = w
	}
	return v.ctl.w.WriteFrame(p)
}

// consent applies the host's consent message.
func (v *Viewer) consent(m session.Message) {
	v.ctl.mu.Lock()
	before := v.ctl.caps
	v.ctl.caps = slices.Clone(m.Capabilities)
	v.ctl.mu.Unlock()
	had := slices.Contains(before, session.CapControl)
	has := slices.Contains(m.Capabilities, session.CapControl)
	var typ string
	switch {
	case !had && has:
		typ = EventControlGranted
	case had && !has:
		typ = EventControlRevoked
	case m.By == session.ByDeny || m.By == session.ByPolicy || m.By == session.ByUnable:
		typ = EventControlDenied
	case !slices.Equal(before, m.Capabilities):
		typ = EventConsent
	default:
		return
	}
	v.record(typ, map[string]any{"capabilities": m.Capabilities, "by": m.By, "reason": m.Text})
	v.emit(Event{Type: typ, Capabilities: m.Capabilities, By: m.By, Reason: m.Text})
}

// closeInput ends the input channel.
func (v *Viewer) closeInput() {
	v.ctl.mu.Lock()
	defer v.ctl.mu.Unlock()
	if v.ctl.w != nil {
		_ = v.ctl.w.Close()
		v.ctl.w = nil
	}
}

// browserButtons maps the bits of a browser's MouseEvent.buttons to X-style
// button numbers.
var browserButtons = [...]struct{ bit, button int }{{1, 1}, {2, 3}, {4, 2}, {8, 8}, {16, 9}}

// MovePointer moves the pointer to x, y (in the shared image) with buttons held
// as a browser's MouseEvent.buttons says (1 left, 2 right, 4 middle, 8 back,
// 16 forward): presses and releases are sent for the buttons that changed
// since the previous call.
func (v *Viewer) MovePointer(ctx context.Context, x, y, buttons int) error {
	if err := v.SendInput(ctx, session.Input{Kind: session.InputMove, X: x, Y: y}); err != nil {
		return err
	}
	v.ctl.mu.Lock()
	before := v.ctl.buttons
	v.ctl.buttons = buttons
	v.ctl.mu.Unlock()
	for _, b := range browserButtons {
		was, is := before&b.bit != 0, buttons&b.bit != 0
		if was == is {
			continue
		}
		if err := v.SendInput(ctx, session.Input{Kind: session.InputButton, X: x, Y: y, Button: b.button, Down: is}); err != nil {
			return err
		}
	}
	return nil
}

// TypeText types text on the person's computer ('\n' is Return), in pieces
// of at most session.MaxInputText bytes.
func (v *Viewer) TypeText(ctx context.Context, text string) error {
	for len(text) > 0 {
		n := min(len(text), session.MaxInputText)
		for n < len(text) && !utf8.RuneStart(text[n]) {
			n--
		}
		if err := v.SendInput(ctx, session.Input{Kind: session.InputText, Text: text[:n]}); err != nil {
			return err
		}
		text = text[n:]
	}
	return nil
}

// PressKey presses and releases the named key ("Escape", "Enter", "F5",
// "a").
func (v *Viewer) PressKey(ctx context.Context, key string) error {
	if err := v.SendInput(ctx, session.Input{Kind: session.InputKey, Key: key, Down: true}); err != nil {
		return err
	}
	return v.SendInput(ctx, session.Input{Kind: session.InputKey, Key: key})
}
