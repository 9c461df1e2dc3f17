package host

// Clipboard: text only, both ways, only while the person grants
// "clipboard". The person's copies reach the helper as they happen (not
// what was on the clipboard before the grant); the helper's text lands on
// the person's clipboard. The session log records each transfer's
// direction, size and SHA-256, never the text: a clipboard often holds a
// password.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/gethelp/gethelp/session"
)

// Clipboard is the person's clipboard. Implementations: host/x11.
type Clipboard interface {
	// Changes receives the clipboard's text each time the person (any
	// application but this one) copies; it is closed when the clipboard
	// is closed.
	Changes() <-chan string
	// Set puts text on the clipboard.
	Set(ctx context.Context, text string) error
}

// MaxClipboard is the longest clipboard text sent, in bytes: a control
// message must stay under session.MaxControlFrame.
const MaxClipboard = 48 << 10

// EventClipboard: clipboard text went to or came from the helper
// (Direction), Size bytes.
const EventClipboard = "clipboard"

// errNoClipboard is returned when the helper's text arrives and there is
// no clipboard to put it on.
var errNoClipboard = errors.New("host: this computer's clipboard is not available")

// watchClipboard sends the person's copies to the helper while the grant
// lasts, until ctx ends.
func (h *Host) watchClipboard(ctx context.Context) {
	if h.cfg.Clipboard == nil {
		return
	}
	changes := h.cfg.Clipboard.Changes()
	for {
		select {
		case text, ok := <-changes:
			if !ok {
				return
			}
			h.sendClipboard(text)
		case <-ctx.Done():
			return
		}
	}
}

func (h *Host) sendClipboard(text string) {
	h.mu.Lock()
	s, ok := h.sess, h.consent.caps[session.CapClipboard]
	h.mu.Unlock()
	if s == nil || !ok {
		return
	}
	if len(text) > MaxClipboard {
		h.logger.Info("not sending a clipboard text that is too long", "bytes", len(text), "max", MaxClipboard)
		return
	}
	if err := s.Send(session.Message{Type: session.TypeClipboard, Text: text}); err != nil {
		return
	}
	h.recordClipboard(toHelper, text)
}

// receiveClipboard puts the helper's text on the person's clipboard, if
// the person allows it.
func (h *Host) receiveClipboard(text string) {
	h.mu.Lock()
	ok := h.consent.caps[session.CapClipboard]
	h.mu.Unlock()
	switch {
	case !ok:
		h.record("clipboard_dropped", map[string]any{"direction": fromHelper, "bytes": len(text), "reason": "clipboard not granted"})
		return
	case h.cfg.Clipboard == nil:
		h.logger.Info("dropping the helper's clipboard", "err", errNoClipboard)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.cfg.Clipboard.Set(ctx, text); err != nil {
		h.logger.Warn("setting the clipboard", "err", err)
		return
	}
	h.recordClipboard(fromHelper, text)
}

func (h *Host) recordClipboard(dir, text string) {
	sum := sha256.Sum256([]byte(text))
	h.record("clipboard", map[string]any{"direction": dir, "bytes": len(text), "sha256": hex.EncodeToString(sum[:])})
	h.emit(Event{Type: EventClipboard, Direction: dir, Size: int64(len(text))})
}
