package host

// Control: the helper's mouse and keyboard, only with the person's consent.
//
// Decisions:
//
//   - Consent is a set of capabilities (session.CapControl, CapAdminPrompts,
//     CapFiles, CapClipboard), all off when a session starts. The helper can
//     ask for control; the person grants (any capabilities, with or without
//     a request), declines, or revokes at any moment. Every change is sent
//     to the helper as a consent message carrying the whole set, written to
//     the session log and reported as an event.
//   - The helper's input arrives on its own channel, never behind screen
//     data or chat. Input that arrives while control is not granted is
//     dropped: nothing of it reaches the Injector. The first dropped event
//     after each consent change is logged (the log says what kind, never
//     which keys), and the session's end records how many were dropped.
//   - Input waits in a queue for the Injector. Pointer moves are lossy
//     (a move replaces a move still waiting, latest wins); keys, buttons,
//     wheel and text are never dropped or reordered while control lasts.
//     Revoking empties the queue and bumps an epoch, so nothing queued
//     before the revoke is performed after it, then releases every key and
//     button the helper held, so nothing stays stuck.
//   - ESC on the person's own keyboard (Config.Keys, which tells it apart
//     from injected input) revokes control unless Config.IgnoreEscape.
//     Stop (the person's button), Disconnect and the session's end revoke
//     too; the event's By says which.
//   - Config.NoControl (the admin policy or the person's settings) refuses
//     every control request with its reason. Without an Injector control
//     cannot be granted either.
//   - "Respond to administrator prompts" is offered only when the person
//     could answer such prompts themselves (Config.AdminPrompts); it needs
//     control.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/gethelp/gethelp/session"
)

// Errors returned by Grant.
var (
	ErrControlRefused = errors.New("host: control is not allowed on this computer")
	ErrNoInjector     = errors.New("host: this computer has no way to perform the helper's input")
	ErrAdminPrompts   = errors.New("host: you cannot answer administrator prompts yourself, so you cannot let the helper answer them")
)

// Event types for consent.
const (
	EventControlRequested = "control_requested"
	EventControlGranted   = "control_granted"
	EventControlDenied    = "control_denied"
	EventControlRevoked   = "control_revoked"
)

// knownCaps are the capabilities in the order they are reported.
var knownCaps = []string{session.CapControl, session.CapAdminPrompts, session.CapFiles, session.CapClipboard}

// activator is implemented by key watchers that can stop reading the
// keyboard while nobody has control (host/x11): a person typing then costs
// nothing.
type activator interface{ SetActive(bool) error }

// watchKeys turns the ESC watcher on while the helper has control, and off
// otherwise.
func (h *Host) watchKeys(on bool) {
	if a, ok := h.cfg.Keys.(activator); ok && !h.cfg.IgnoreEscape {
		if err := a.SetActive(on); err != nil {
			h.logger.Warn("turning the ESC watcher on or off", "on", on, "err", err)
		}
	}
}

// releaser is implemented by injectors that can release what the helper
// holds (host/x11).
type releaser interface{ ReleaseAll() error }

// consent is the person's current consent. Guarded by Host.mu.
type consent struct {
	caps      map[string]bool
	requested bool   // a control request awaits an answer
	epoch     uint64 // bumped on every revoke: queued input of an older epoch is dropped
	dropped   int    // input events dropped this session
	noted     bool   // a drop was logged since the last change
}

func (c *consent) list() []string {
	var out []string
	for _, k := range knownCaps {
		if c.caps[k] {
			out = append(out, k)
		}
	}
	return out
}

// Capabilities returns what the person has granted in the running session.
func (h *Host) Capabilities() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.consent.list()
}

// controlOK reports whether the helper's input may reach the desktop now.
// h.mu must be held.
func (h *Host) controlOKLocked() bool {
	if !h.consent.caps[session.CapControl] {
		return false
	}
	return !h.secure || h.consent.caps[session.CapAdminPrompts]
}

// requestControl answers the helper's request for control.
func (h *Host) requestControl(s *session.Conn) {
	helper := s.PeerName()
	refuse := func(by, reason string) {
		h.mu.Lock()
		caps := h.consent.list()
		h.mu.Unlock()
		_ = s.Send(session.Message{Type: session.TypeConsent, Capabilities: caps, By: by, Text: reason})
		h.record("control_refused", map[string]any{"helper": helper, "reason": reason})
		h.emit(Event{Type: EventControlDenied, Helper: helper, By: by, Reason: reason})
	}
	switch {
	case h.cfg.NoControl != "":
		refuse(session.ByPolicy, h.cfg.NoControl)
		return
	case h.cfg.Injector == nil:
		refuse(session.ByUnable, "this computer cannot be controlled remotely (no input method for its display)")
		return
	}
	h.mu.Lock()
	granted := h.consent.caps[session.CapControl]
	h.consent.requested = !granted
	caps := h.consent.list()
	h.mu.Unlock()
	if granted {
		_ = s.Send(session.Message{Type: session.TypeConsent, Capabilities: caps, By: session.ByGrant})
		return
	}
	h.record("control_requested", map[string]any{"helper": helper})
	h.emit(Event{Type: EventControlRequested, Helper: helper, AdminPrompts: h.cfg.AdminPrompts})
}

// Grant gives the helper the capabilities named (session.CapControl and
// the others), adding to what was granted; it answers a pending request
// for control. It returns ErrNoSession, ErrControlRefused (policy or
// settings), ErrNoInjector, ErrAdminPrompts, or an error naming an unknown
// capability.
func (h *Host) Grant(caps ...string) error {
	for _, c := range caps {
		if !slices.Contains(knownCaps, c) {
			return fmt.Errorf("host: unknown capability %q (use control, admin_prompts, files or clipboard)", c)
		}
	}
	wantControl := slices.Contains(caps, session.CapControl) || slices.Contains(caps, session.CapAdminPrompts)
	switch {
	case wantControl && h.cfg.NoControl != "":
		return fmt.Errorf("%w: %s", ErrControlRefused, h.cfg.NoControl)
	case wantControl && h.cfg.Injector == nil:
		return ErrNoInjector
	case slices.Contains(caps, session.CapAdminPrompts) && !h.cfg.AdminPrompts:
		return ErrAdminPrompts
	}
	h.mu.Lock()
	s := h.sess
	if s == nil {
		h.mu.Unlock()
		return ErrNoSession
	}
	if h.consent.caps == nil {
		h.consent.caps = make(map[string]bool)
	}
	for _, c := range caps {
		h.consent.caps[c] = true
	}
	if slices.Contains(caps, session.CapAdminPrompts) {
		h.consent.caps[session.CapControl] = true
	}
	if h.consent.caps[session.CapControl] {
		h.consent.requested = false // answered; granting files alone leaves a request for control open
	}
	h.consent.noted = false
	now := h.consent.list()
	h.mu.Unlock()
	if slices.Contains(now, session.CapControl) {
		h.watchKeys(true) // before the helper can type: ESC works from the first key
	}
	_ = s.Send(session.Message{Type: session.TypeConsent, Capabilities: now, By: session.ByGrant})
	h.toSharer(shareCmd{privacy: true}) // admin_prompts may unblank the view
	h.record("control_granted", map[string]any{"helper": s.PeerName(), "capabilities": now})
	h.emit(Event{Type: EventControlGranted, Helper: s.PeerName(), Capabilities: now})
	return nil
}

// Deny declines the helper's pending request for control. It returns
// ErrNoSession when no helper is connected.
func (h *Host) Deny() error {
	h.mu.Lock()
	s := h.sess
	h.consent.requested = false
	caps := h.consent.list()
	h.mu.Unlock()
	if s == nil {
		return ErrNoSession
	}
	reason := h.cfg.HostName + " declined to share control"
	_ = s.Send(session.Message{Type: session.TypeConsent, Capabilities: caps, By: session.ByDeny, Text: reason})
	h.record("control_denied", map[string]any{"helper": s.PeerName()})
	h.emit(Event{Type: EventControlDenied, Helper: s.PeerName(), By: session.ByDeny})
	return nil
}

// Revoke takes capabilities back at once; with none named it takes control
// (and administrator prompts) back. by says who or what did it
// (session.ByButton, ByEscape). It returns ErrNoSession when no helper is
// connected; revoking what was not granted does nothing.
func (h *Host) Revoke(by string, caps ...string) error {
	if len(caps) == 0 {
		caps = []string{session.CapControl, session.CapAdminPrompts}
	}
	if slices.Contains(caps, session.CapControl) && !slices.Contains(caps, session.CapAdminPrompts) {
		caps = append(caps, session.CapAdminPrompts)
	}
	h.mu.Lock()
	s := h.sess
	lost := h.lost // the connection is being resumed: revoke all the same
	if s == nil && lost == nil {
		h.mu.Unlock()
		return ErrNoSession
	}
	var gone []string
	for _, c := range knownCaps {
		if slices.Contains(caps, c) && h.consent.caps[c] {
			gone = append(gone, c)
			delete(h.consent.caps, c)
		}
	}
	if len(gone) == 0 {
		h.mu.Unlock()
		return nil
	}
	lostControl := slices.Contains(gone, session.CapControl)
	if lostControl {
		h.stopInputLocked()
	}
	h.consent.noted = false
	now := h.consent.list()
	helper := ""
	if s != nil {
		helper = s.PeerName()
	} else {
		helper = lost.helper
		lost.revokedBy = by // told to the helper when they are back
	}
	h.mu.Unlock()
	if lostControl {
		h.releaseAll()
		h.watchKeys(false)
	}
	reason := ""
	switch by {
	case session.ByEscape:
		reason = h.cfg.HostName + " pressed ESC and took control back"
	case session.ByButton:
		reason = h.cfg.HostName + " stopped sharing control"
	case session.ByHelper:
		reason = "you gave control back"
	}
	if s != nil {
		_ = s.Send(session.Message{Type: session.TypeConsent, Capabilities: now, By: by, Text: reason})
	}
	h.toSharer(shareCmd{privacy: true}) // without admin_prompts a prompt blanks the view again
	h.record("control_revoked", map[string]any{"helper": helper, "by": by, "capabilities": gone})
	h.emit(Event{Type: EventControlRevoked, Helper: helper, By: by, Capabilities: gone})
	return nil
}

// endConsent clears consent when the session ends and records the revoke.
func (h *Host) endConsent(helper string) {
	h.mu.Lock()
	had := h.consent.caps[session.CapControl]
	gone := h.consent.list()
	dropped := h.consent.dropped
	h.stopInputLocked()
	h.consent = consent{epoch: h.consent.epoch}
	h.mu.Unlock()
	if had {
		h.releaseAll()
		h.watchKeys(false)
	}
	if len(gone) > 0 {
		h.record("control_revoked", map[string]any{"helper": helper, "by": session.ByDisconnect, "capabilities": gone})
		h.emit(Event{Type: EventControlRevoked, Helper: helper, By: session.ByDisconnect, Capabilities: gone})
	}
	if dropped > 0 {
		h.record("input_dropped", map[string]any{"helper": helper, "count": dropped, "reason": "session total"})
	}
}

func (h *Host) releaseAll() {
	if r, ok := h.cfg.Injector.(releaser); ok {
		if err := r.ReleaseAll(); err != nil {
			h.logger.Warn("releasing the helper's keys", "err", err)
		}
	}
}

// watchEscape revokes control when the person presses ESC, until ctx ends.
func (h *Host) watchEscape(ctx context.Context) {
	if h.cfg.Keys == nil || h.cfg.IgnoreEscape {
		return
	}
	esc := h.cfg.Keys.Escapes()
	for {
		select {
		case _, ok := <-esc:
			if !ok {
				h.logger.Warn("the ESC watcher stopped; ESC no longer takes control back")
				return
			}
			h.mu.Lock()
			on := h.consent.caps[session.CapControl]
			h.mu.Unlock()
			if on {
				_ = h.Revoke(session.ByEscape)
			}
		case <-ctx.Done():
			return
		}
	}
}

// inputQueue holds the helper's input on its way to the Injector.
type inputQueue struct {
	mu     sync.Mutex
	events []queuedInput
	wake   chan struct{} // cap 1
}

type queuedInput struct {
	ev    InputEvent
	epoch uint64
}

func (q *inputQueue) push(ev InputEvent, epoch uint64) {
	q.mu.Lock()
	if n := len(q.events); n > 0 && ev.Kind == InputPointer && q.events[n-1].ev.Kind == InputPointer {
		q.events[n-1] = queuedInput{ev, epoch} // latest wins
	} else {
		q.events = append(q.events, queuedInput{ev, epoch})
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *inputQueue) take() []queuedInput {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.events
	q.events = nil
	return out
}

func (q *inputQueue) clear() {
	q.mu.Lock()
	q.events = nil
	q.mu.Unlock()
}

// stopInputLocked drops queued input and makes input in flight stale.
// h.mu must be held.
func (h *Host) stopInputLocked() {
	h.consent.epoch++
	h.input.clear()
}

// serveInput reads the helper's input channels and performs what consent
// allows, until ctx ends.
func (h *Host) serveInput(ctx context.Context, s *session.Conn) {
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(1)
	go func() { defer wg.Done(); h.inject(ctx) }()
	for {
		r, err := s.AcceptChannel(ctx, session.ChannelInput, session.MaxInputFrame)
		if err != nil {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			stop := context.AfterFunc(ctx, r.Cancel)
			defer stop()
			for {
				p, err := r.ReadFrame()
				if err != nil {
					return
				}
				in, err := session.ParseInput(p)
				if err != nil {
					h.logger.Info("dropping bad input", "err", err)
					continue
				}
				h.receiveInput(s.PeerName(), in)
			}
		}()
	}
}

// receiveInput queues one input event if consent allows it, or drops it.
func (h *Host) receiveInput(helper string, in session.Input) {
	h.mu.Lock()
	if !h.controlOKLocked() {
		h.consent.dropped++
		first := !h.consent.noted
		h.consent.noted = true
		reason := "control not granted"
		if h.consent.caps[session.CapControl] {
			reason = "administrator prompt on screen"
		}
		h.mu.Unlock()
		if first {
			h.record("input_dropped", map[string]any{"helper": helper, "kind": in.Kind, "reason": reason})
		}
		return
	}
	epoch := h.consent.epoch
	ox, oy := h.origin.X, h.origin.Y
	h.mu.Unlock()
	h.input.push(toInputEvent(in, ox, oy), epoch)
}

func toInputEvent(in session.Input, ox, oy int) InputEvent {
	ev := InputEvent{X: in.X + ox, Y: in.Y + oy, Button: in.Button, Down: in.Down, DX: in.DX, DY: in.DY, Key: in.Key, Text: in.Text}
	switch in.Kind {
	case session.InputMove:
		ev.Kind = InputPointer
	case session.InputButton:
		ev.Kind = InputButton
	case session.InputWheel:
		ev.Kind = InputWheel
	case session.InputKey:
		ev.Kind = InputKey
	case session.InputText:
		ev.Kind = InputText
	}
	return ev
}

// inject performs queued input until ctx ends.
func (h *Host) inject(ctx context.Context) {
	for {
		select {
		case <-h.input.wake:
		case <-ctx.Done():
			return
		}
		for _, q := range h.input.take() {
			h.mu.Lock()
			ok := q.epoch == h.consent.epoch && h.controlOKLocked()
			h.mu.Unlock()
			if !ok {
				continue
			}
			if err := h.cfg.Injector.Inject(ctx, q.ev); err != nil && ctx.Err() == nil {
				h.logger.Info("performing the helper's input", "err", err)
			}
		}
	}
}
