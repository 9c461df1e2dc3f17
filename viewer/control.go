package viewer

import (
	"context"
	"slices"
	"sync"

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
	if err := v.conn.Send(session.Message{Type: session.TypeRequestControl}); err != nil {
		return err
	}
	v.record("control_requested", nil)
	v.emit(Event{Type: EventControlRequested, Self: true})
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
		w, err := v.conn.OpenChannel(ctx, session.ChannelInput)
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
