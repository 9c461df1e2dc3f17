package host

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gethelp/gethelp/invitations"
	"github.com/gethelp/gethelp/session"
	"github.com/gethelp/gethelp/session/screen"
)

// Run waits for the helper, serves one session and returns when it ends
// (nil), when ctx is cancelled (nil: the person stopped waiting, and the
// invitation is cancelled), when the invitation expires unused (ErrExpired)
// or when it is cancelled from elsewhere (ErrCancelled). Events go to
// Config.OnEvent as they happen. A Host that takes offers (Config.Offers)
// serves one session after another until ctx is cancelled (nil).
func (h *Host) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	if h.cfg.Store != nil {
		if rec, err := h.cfg.Store.Get(h.inv.ID); err == nil {
			h.mu.Lock()
			h.failures = rec.Failures
			h.locked = rec.State == invitations.StateLocked
			h.mu.Unlock()
		}
	}

	reqs := make(chan *session.Request)
	acceptDone := make(chan struct{})
	go func() {
		defer close(acceptDone)
		for {
			r, err := h.ln.Accept(ctx)
			if err != nil {
				return
			}
			select {
			case reqs <- r:
			case <-ctx.Done():
				r.Reject(session.RejectCancelled, "the person stopped waiting", 0)
				return
			}
		}
	}()
	defer func() { cancel(); <-acceptDone }()
	if h.offers != nil {
		defer func() { cancel(); h.offers.wg.Wait() }()
	}

	expiry := time.NewTimer(h.inv.Expires.Sub(h.cfg.Now()))
	defer expiry.Stop()
	poll := time.NewTicker(h.cfg.StorePoll)
	defer poll.Stop()

	stop := make(chan struct{})
	defer close(stop)

	h.watchKeys(false) // nobody has control yet
	escDone := make(chan struct{})
	go func() { defer close(escDone); h.watchEscape(ctx) }()
	defer func() { cancel(); <-escDone }()
	clipDone := make(chan struct{})
	go func() { defer close(clipDone); h.watchClipboard(ctx) }()
	defer func() { cancel(); <-clipDone }()

	pathsDone := make(chan struct{})
	go func() { defer close(pathsDone); h.paths.run(ctx) }()
	defer func() { cancel(); <-pathsDone }()

	h.emit(Event{Type: EventWaiting})
	var msgs <-chan received
	resumeTimer := time.NewTimer(0)
	<-resumeTimer.C
	defer resumeTimer.Stop()
	var resumeC <-chan time.Time // while a lost connection may be resumed
	for {
		select {
		case <-ctx.Done():
			if s := h.current(); s != nil {
				return h.closeAndDrain(s, msgs, "the person stopped gethelp")
			}
			if h.suspended() {
				return h.finishLost("the person stopped gethelp")
			}
			h.setState(invitations.StateCancelled)
			h.record("cancelled", map[string]any{"reason": "the person stopped waiting"})
			h.emit(Event{Type: EventCancelled, Reason: "you stopped waiting"})
			return nil

		case <-expiry.C:
			if h.current() != nil || h.suspended() {
				continue // the session goes on; only new connections are refused
			}
			h.setState(invitations.StateExpired)
			h.record("expired", nil)
			h.emit(Event{Type: EventExpired, Reason: "the invitation expired before a helper connected"})
			return ErrExpired

		case <-poll.C:
			if !h.cancelledElsewhere() {
				continue
			}
			h.record("cancelled", map[string]any{"reason": "cancelled with gethelp invitations cancel"})
			h.emit(Event{Type: EventCancelled, Reason: "the invitation was cancelled"})
			if s := h.current(); s != nil {
				_ = h.closeAndDrain(s, msgs, "the person cancelled the invitation")
			} else if h.suspended() {
				_ = h.finishLost("the person cancelled the invitation")
			}
			return ErrCancelled

		case r := <-reqs:
			if r.Offer() {
				h.offer(ctx, r) // asks the person; an accepted offer comes back below
				continue
			}
			if s := h.handle(r); s != nil {
				msgs = pump(s, stop)
				resumeC = nil
			}

		case r := <-h.acceptedOffers():
			if s := h.admitOffer(r); s != nil {
				msgs = pump(s, stop)
			}

		case <-resumeC:
			resumeC = nil
			return h.finishLost("the helper's connection was lost and did not come back")

		case reason := <-h.endLost:
			if h.suspended() {
				if reason == "" {
					reason = "the person ended the session"
				}
				return h.finishLost(reason)
			}

		case m := <-msgs:
			var lost *session.ClosedError
			if s := h.current(); m.err != nil && s != nil && s.ResumeToken() != nil && errors.As(m.err, &lost) && lost.Lost {
				// Wait for the helper to resume on a new connection.
				h.suspend(s, lost.Reason)
				msgs = nil
				resumeTimer.Reset(h.resumeWindow())
				resumeC = resumeTimer.C
				continue
			}
			if m.err != nil {
				err := h.finish(h.current(), m.err)
				if h.offers == nil {
					return err
				}
				msgs = nil
				h.emit(Event{Type: EventWaiting}) // for the next offer
				continue
			}
			h.deliver(m.msg)
		}
	}
}

type received struct {
	msg session.Message
	err error // the session ended; nothing follows
}

func (h *Host) current() *session.Conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sess
}

// pump moves the session's messages into a channel Run selects on. It ends
// after delivering the session's end, or when stop is closed.
func pump(s *session.Conn, stop <-chan struct{}) <-chan received {
	out := make(chan received)
	go func() {
		for {
			m, err := s.Receive(context.Background())
			select {
			case out <- received{m, err}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return out
}

// closeAndDrain closes the session and delivers what the helper sent
// before the end.
func (h *Host) closeAndDrain(s *session.Conn, msgs <-chan received, reason string) error {
	s.Close(reason)
	for {
		m := <-msgs
		if m.err != nil {
			return h.finish(s, m.err)
		}
		h.deliver(m.msg)
	}
}

// finish records the end of the session.
func (h *Host) finish(s *session.Conn, end error) error {
	reason, by := "disconnected", "host"
	var ce *session.ClosedError
	if errors.As(end, &ce) {
		reason = ce.Reason
		if ce.ByPeer {
			by = "helper"
		}
	}
	h.mu.Lock()
	h.sess = nil
	sr := h.share
	h.share = nil
	endInput, inputDone := h.endInput, h.inputDone
	h.endInput, h.inputDone = nil, nil
	h.mu.Unlock()
	if endInput != nil {
		endInput()
		<-inputDone
	}
	h.endConsent(s.PeerName())
	var stats ShareStats
	if sr != nil {
		stats = sr.stop()
	}
	h.mu.Lock()
	stats.Bytes += h.earlier.Bytes // before lost connections
	stats.Updates += h.earlier.Updates
	h.earlier = ShareStats{}
	h.mu.Unlock()
	h.setState(invitations.StateUsed)
	h.record("disconnected", map[string]any{"reason": reason, "by": by, "screen_bytes": stats.Bytes, "updates": stats.Updates})
	rtt := float64(s.RTT().Microseconds()) / 1000
	h.emit(Event{Type: EventDisconnected, Reason: reason, Helper: s.PeerName(), Log: h.LogPath(), ScreenBytes: stats.Bytes, Updates: stats.Updates, RTTms: rtt})
	return nil
}

func (h *Host) deliver(m session.Message) {
	switch m.Type {
	case session.TypeChatAck:
		h.chats.Acked(m.ID)
	case session.TypeChat:
		fresh, ack := h.chats.Arrived(m)
		if ack.Type != "" {
			_ = h.current().Send(ack)
		}
		if !fresh {
			return
		}
		from := h.current().PeerName()
		h.record("chat", map[string]any{"from": from, "side": "helper", "text": m.Text})
		h.emit(Event{Type: EventChat, From: from, Text: m.Text})
	case session.TypeRequestControl:
		h.requestControl(h.current())
	case session.TypeReleaseControl:
		_ = h.Revoke(session.ByHelper)
	case session.TypeClipboard:
		h.receiveClipboard(m.Text)
	case session.TypeScreenAck:
		h.toSharer(shareCmd{ack: m.Seq})
	case session.TypeMonitor:
		if m.Monitor != nil && h.cfg.Monitor < 0 {
			h.toSharer(shareCmd{monitor: m.Monitor})
		}
	case session.TypeBandwidth:
		lv, err := screen.ParseLevel(m.Level)
		if err != nil {
			h.logger.Info("ignoring bandwidth request", "err", err)
			return
		}
		h.mu.Lock()
		h.cfg.Level = lv
		h.mu.Unlock()
		h.toSharer(shareCmd{level: &lv})
		h.record("bandwidth", map[string]any{"level": lv.String(), "by": "helper"})
		h.emit(Event{Type: EventBandwidth, Level: lv.String(), Helper: h.current().PeerName()})
	default:
		h.logger.Debug("ignoring message", "type", m.Type)
	}
}

func (h *Host) toSharer(cmd shareCmd) {
	h.mu.Lock()
	sr := h.share
	h.mu.Unlock()
	if sr != nil {
		sr.command(cmd)
	}
}

func (h *Host) cancelledElsewhere() bool {
	if h.cfg.Store == nil {
		return false
	}
	rec, err := h.cfg.Store.Get(h.inv.ID)
	return err == nil && rec.State == invitations.StateCancelled
}

// handle applies the invitation's rules to one viewer and returns the new
// session when it is admitted.
func (h *Host) handle(r *session.Request) *session.Conn {
	who := map[string]any{"helper": r.ViewerName, "addr": r.RemoteAddr.String()}
	h.mu.Lock()
	locked, busy := h.locked, h.sess != nil
	h.mu.Unlock()
	switch {
	case r.Offer(): // the person accepted it (offer.go)
	case r.InvitationID != h.inv.ID:
		r.Reject(session.RejectUnknown, "this computer is not waiting for that invitation", 0)
		return nil
	case r.Resuming():
		return h.resumeSession(r, who)
	case locked:
		h.record("refused", merge(who, "reason", "locked"))
		r.Reject(session.RejectLocked, lockedText, 0)
		return nil
	case h.cancelledElsewhere():
		r.Reject(session.RejectCancelled, "the invitation was cancelled", 0)
		return nil
	case !h.cfg.Now().Before(h.inv.Expires):
		r.Reject(session.RejectExpired, fmt.Sprintf("the invitation expired at %s", h.inv.Expires.Format("2006-01-02 15:04 UTC")), 0)
		return nil
	case !r.CheckPassword(h.password):
		h.failed(r, who)
		return nil
	case busy:
		h.record("refused", merge(who, "reason", "busy"))
		h.emit(Event{Type: EventBusy, Helper: r.ViewerName, Addr: r.RemoteAddr.String()})
		r.Reject(session.RejectBusy, "the person is already being helped by someone else", 0)
		return nil
	}
	return h.admit(r, who, false, "")
}

// admit welcomes the viewer r and starts the session: sharing, input,
// files. A resumed session keeps the person's consent.
func (h *Host) admit(r *session.Request, who map[string]any, resumed bool, revokedBy string) *session.Conn {
	s, err := r.Accept(h.cfg.HostName)
	if err != nil {
		h.logger.Warn("welcoming the helper", "err", err)
		return nil
	}
	if !resumed {
		h.mu.Lock()
		h.paused = false // a new session starts shared; a resumed one as it was
		h.mu.Unlock()
	}
	sr := h.startSharing(s)
	inCtx, endInput := context.WithCancel(context.Background())
	inputDone := make(chan struct{})
	h.mu.Lock()
	h.sess = s
	h.share = sr
	if !resumed {
		h.consent = consent{epoch: h.consent.epoch}
	}
	h.endInput, h.inputDone = endInput, inputDone
	h.sessCtx = inCtx
	h.mu.Unlock()
	go func() {
		defer close(inputDone)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); h.serveFiles(inCtx, s) }()
		h.serveInput(inCtx, s)
		wg.Wait()
		h.transfers.Wait()
	}()
	h.setState(invitations.StateUsed)
	path := h.paths.pathTo(r)
	if resumed {
		h.resumed(s, who, path, revokedBy)
		return s
	}
	h.record("connected", merge(who, "path", path))
	h.emit(Event{Type: EventConnected, Helper: r.ViewerName, Addr: r.RemoteAddr.String(), Path: path, RTTms: ms(s.RTT())})
	return s
}

const lockedText = "this invitation is locked after too many wrong passwords; ask for a new invitation"

func (h *Host) failed(r *session.Request, who map[string]any) {
	h.mu.Lock()
	h.failures++
	n := h.failures
	h.locked = n >= h.cfg.MaxFailures
	locked := h.locked
	h.mu.Unlock()
	if h.cfg.Store != nil {
		_, err := h.cfg.Store.Update(h.inv.ID, func(rec *invitations.Record) error {
			rec.Failures = n
			if locked {
				rec.State = invitations.StateLocked
				rec.PID = 0
			}
			rec.Updated = h.cfg.Now().UTC()
			return nil
		})
		if err != nil {
			h.logger.Error("updating the invitation record", "err", err)
		}
	}
	left := h.cfg.MaxFailures - n
	h.record("auth_failed", merge(who, "failures", n))
	h.emit(Event{Type: EventAuthFailed, Helper: r.ViewerName, Addr: r.RemoteAddr.String(), AttemptsLeft: &left})
	if locked {
		h.record("locked", map[string]any{"failures": n})
		h.emit(Event{Type: EventLocked, Reason: fmt.Sprintf("%d wrong passwords: the invitation is locked", n)})
		r.Reject(session.RejectLocked, lockedText, 0)
		return
	}
	r.Reject(session.RejectBadPassword, "wrong password", left)
}

func merge(m map[string]any, kv ...any) map[string]any {
	out := make(map[string]any, len(m)+len(kv)/2)
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}
