package host

// Resuming a session after a lost connection.
//
// Decisions:
//
//   - A connection is lost when QUIC hears nothing for 3 s (it pings every
//     second while idle), or on a network error: not when either side
//     ends the session. The host then keeps the session for ResumeWindow:
//     the helper's viewer connects again, over whatever path works then
//     (the rendezvous is told the host's address at once, in case it is
//     the host's that changed), proves the password again and shows the
//     session's resume secret, which only the viewer the host welcomed
//     has (it came inside TLS). Nobody else can take the session over,
//     and a viewer without the secret is still "busy".
//   - Consent survives a resume: the person granted it to this helper, in
//     this session. Input queued before the loss is dropped, keys and
//     buttons the helper held are released, and the person can still
//     revoke at any time (ESC works throughout).
//   - Chat is numbered and acknowledged (session.Chats): what did not
//     arrive is sent again after the resume, nothing twice. Chat written
//     while the connection is down waits for it.
//   - A file being sent is offered again on the new connection; the
//     receiver, who accepted it already, resumes its partial file without
//     asking again (files.Decisions).
//   - The session log records connection_lost and resumed; the invitation
//     stays "used".

import (
	"errors"
	"time"

	"github.com/gethelp/gethelp/session"
	"github.com/gethelp/gethelp/session/files"
)

// ResumeWindow is how long the host waits for a helper whose connection
// was lost to resume the session.
const ResumeWindow = 30 * time.Second

// lostSession is a session whose connection was lost.
type lostSession struct {
	token     []byte // its resume secret
	helper    string
	revokedBy string // the person revoked consent meanwhile (session.ByEscape, ...); guarded by Host.mu
}

func (h *Host) resumeWindow() time.Duration {
	if h.cfg.ResumeWindow > 0 {
		return h.cfg.ResumeWindow
	}
	return ResumeWindow
}

// suspended reports whether a lost session waits to be resumed.
func (h *Host) suspended() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.lost != nil
}

// suspend puts session s aside after its connection was lost: sharing and
// input stop, held keys are released, and it waits for the helper to
// resume it.
func (h *Host) suspend(s *session.Conn, reason string) {
	h.mu.Lock()
	if h.sess != s {
		h.mu.Unlock()
		return
	}
	h.sess = nil
	sr := h.share
	h.share = nil
	endInput, inputDone := h.endInput, h.inputDone
	h.endInput, h.inputDone = nil, nil
	h.stopInputLocked() // nothing queued before the loss is performed after it
	control := h.consent.caps[session.CapControl]
	h.lost = &lostSession{token: s.ResumeToken(), helper: s.PeerName()}
	h.mu.Unlock()
	if endInput != nil {
		endInput()
		<-inputDone
	}
	if control {
		h.releaseAll()
	}
	var stats ShareStats
	if sr != nil {
		stats = sr.stop()
	}
	h.mu.Lock()
	h.earlier.Bytes += stats.Bytes
	h.earlier.Updates += stats.Updates
	h.mu.Unlock()
	h.record("connection_lost", map[string]any{"helper": s.PeerName(), "reason": reason})
	h.emit(Event{Type: EventReconnecting, Helper: s.PeerName(), Reason: reason})
	h.paths.nudge()
}

// resumeSession admits a viewer that resumes the session: lost, or still
// running here because the host has not noticed yet what the viewer has.
func (h *Host) resumeSession(r *session.Request, who map[string]any) *session.Conn {
	h.mu.Lock()
	lost, cur := h.lost, h.sess
	h.mu.Unlock()
	var token []byte
	switch {
	case lost != nil:
		token = lost.token
	case cur != nil:
		token = cur.ResumeToken()
	}
	if !r.Resumes(token) {
		h.record("refused", merge(who, "reason", "resume of an unknown session"))
		r.Reject(session.RejectBusy, "there is no session of yours to resume here", 0)
		return nil
	}
	if !r.CheckPassword(h.password) {
		h.failed(r, who)
		return nil
	}
	if lost == nil {
		cur.Abandon("the helper resumed the session on another connection")
		h.suspend(cur, "the helper's connection moved")
	}
	h.mu.Lock()
	revokedBy := h.lost.revokedBy
	h.lost = nil
	h.mu.Unlock()
	return h.admit(r, who, true, revokedBy)
}

// resumed finishes admitting a resumed session: the person's consent as
// it was, the chat that had not arrived, the files under way.
func (h *Host) resumed(s *session.Conn, who map[string]any, path, revokedBy string) {
	h.record("resumed", merge(who, "path", path))
	h.emit(Event{Type: EventConnected, Helper: s.PeerName(), Addr: s.RemoteAddr().String(), Path: path, Resumed: true, RTTms: ms(s.RTT())})
	// The consent as it is now: what the person revoked while the
	// connection was down is gone, and the helper learns why.
	h.mu.Lock()
	caps := h.consent.list()
	h.mu.Unlock()
	by := session.ByGrant
	if revokedBy != "" {
		by = revokedBy
	}
	_ = s.Send(session.Message{Type: session.TypeConsent, Capabilities: caps, By: by})
	for _, m := range h.chats.Unacked() {
		_ = s.Send(m)
	}
	h.interruptMu.Lock()
	list := h.interrupted
	h.interrupted = nil
	h.interruptMu.Unlock()
	for _, t := range list {
		if err := h.SendOffer(t.path, t.offer); err != nil {
			h.fileFailed(t.offer, toHelper, err)
		}
	}
}

// finishLost ends a session whose connection was lost and not resumed.
func (h *Host) finishLost(reason string) error {
	h.mu.Lock()
	lost := h.lost
	h.lost = nil
	stats := h.earlier
	h.earlier = ShareStats{}
	h.mu.Unlock()
	if lost == nil {
		return nil
	}
	h.endConsent(lost.helper)
	h.interruptMu.Lock()
	list := h.interrupted
	h.interrupted = nil
	h.interruptMu.Unlock()
	for _, t := range list {
		h.fileFailed(t.offer, toHelper, errors.New("connection lost"))
	}
	h.record("disconnected", map[string]any{"reason": reason, "by": "network", "screen_bytes": stats.Bytes, "updates": stats.Updates})
	h.emit(Event{Type: EventDisconnected, Reason: reason, Helper: lost.helper, Log: h.LogPath(), ScreenBytes: stats.Bytes, Updates: stats.Updates})
	return nil
}

// sendChat sends a chat message, numbered so that it survives a lost
// connection; while one is being resumed it waits for it.
func (h *Host) sendChat(m session.Message) error {
	h.mu.Lock()
	s, waiting := h.sess, h.lost != nil
	h.mu.Unlock()
	if s == nil && !waiting {
		return ErrNoSession
	}
	m = h.chats.Number(m)
	if s == nil {
		return nil // sent when the helper is back
	}
	if err := s.Send(m); err != nil && !h.suspended() && !lostConn(s) {
		return err
	}
	return nil
}

// lostConn reports whether conn's connection was lost (it waits a
// moment for the session to end after a stream error).
func lostConn(conn *session.Conn) bool { return conn.LostWithin(time.Second) }

type interrupted struct {
	path  string
	offer files.Offer
}

// keepInterrupted remembers a file whose sending a lost connection cut, to
// offer it again once the session resumes.
func (h *Host) keepInterrupted(path string, offer files.Offer) {
	h.record("file_interrupted", map[string]any{"name": offer.Name, "size": offer.Size, "direction": toHelper})
	h.interruptMu.Lock()
	defer h.interruptMu.Unlock()
	h.interrupted = append(h.interrupted, interrupted{path, offer})
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
