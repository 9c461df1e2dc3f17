package agent

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/gethelp/gethelp/agentlink"
	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/session"
)

// ticket is one request for help. Its fields are guarded by Agent.mu,
// except the channels, which are set once.
type ticket struct {
	id  string
	req ConsentRequest

	state     string
	reason    string             // why it was declined
	running   bool               // serveTicket is at work
	cancel    context.CancelFunc // ends serveTicket's context; set while running
	h         *host.Host         // the current host; nil while asking and after
	invID     string             // the invitation id, kept across resends
	stopHost  context.CancelFunc // ends the current host's Run; nil when there is none
	reissue   bool               // the current host is stopped to be replaced
	reask     bool               // ... and the person is to be asked again first
	again     bool               // a resend came while the ended host was still shutting down: ask again then
	cancelled string             // why the bot or the person cancelled it; "" if not

	connectedAt time.Time
	path        string // the connection's path (session.PathLAN, ...), as of the last connected event
	helperName  string // the name the helper's viewer announced
	seen        map[string]struct{}
	seenOrder   []string

	chat chan agentlink.Message // chat from the bot, for chatLoop
	wake chan struct{}          // cap 1: a helper connected
}

func (a *Agent) consentRequest(m agentlink.Message) {
	if m.Ticket == "" || m.Helper == nil || m.Helper.Network == "" || m.Helper.UserID == "" {
		a.mu.Lock()
		a.sendLocked(agentlink.Message{Type: agentlink.TypeError, Ticket: m.Ticket, Text: "a consent_request needs a ticket and the helper's identity"})
		a.mu.Unlock()
		return
	}
	req := ConsentRequest{Ticket: m.Ticket, Helper: *m.Helper, Description: m.Description}
	if m.Requester != nil {
		req.Requester = *m.Requester
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if t := a.tickets[m.Ticket]; t != nil {
		// Asked before (the bot restarted, or said it twice): answer with
		// what is known, never ask twice.
		switch {
		case t.state == StateAsking:
		case t.state == StateDeclined:
			a.sendLocked(agentlink.Message{Type: agentlink.TypeConsent, Ticket: t.id, Reason: t.reason})
		case t.state == StateWaiting && t.h != nil:
			// The bot asks again although the person said yes: what the
			// agent sent may have been lost with a bot that died. Say it
			// again, the same invitation with the same password (the bot
			// keeps no copy; its delivery keys make a repeat harmless).
			inv := t.h.Invitation()
			file, err := inv.Marshal()
			if err != nil {
				return
			}
			a.sendLocked(agentlink.Message{Type: agentlink.TypeConsent, Ticket: t.id, Accepted: true})
			a.sendLocked(agentlink.Message{
				Type: agentlink.TypeInvitation, Ticket: t.id, File: file, Password: t.h.Password(),
				Expires: inv.Expires, InvitationID: inv.ID,
			})
			a.sendLocked(agentlink.Message{Type: agentlink.TypeStatus, Ticket: t.id, State: t.state})
		default:
			a.sendLocked(agentlink.Message{Type: agentlink.TypeStatus, Ticket: t.id, State: t.state, Text: t.helperName})
		}
		return
	}
	if a.stopping {
		a.sendLocked(agentlink.Message{Type: agentlink.TypeConsent, Ticket: m.Ticket, Reason: "the person's gethelp agent is stopping"})
		return
	}
	t := &ticket{
		id: m.Ticket, req: req, state: StateAsking,
		seen: make(map[string]struct{}),
		chat: make(chan agentlink.Message, 64), wake: make(chan struct{}, 1),
	}
	a.tickets[t.id] = t
	a.order = append(a.order, t.id)
	a.startLocked(t, false)
}

// startLocked starts serving t. The caller checked !a.stopping.
func (a *Agent) startLocked(t *ticket, again bool) {
	ctx, cancel := context.WithCancel(a.ctx)
	t.running, t.cancel, t.cancelled, t.state = true, cancel, "", StateAsking
	a.finished = slices.DeleteFunc(a.finished, func(id string) bool { return id == t.id })
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer cancel()
		a.serveTicket(ctx, t, again)
		a.mu.Lock()
		t.running, t.cancel = false, nil
		if t.again && !a.stopping && t.cancelled == "" {
			t.again = false
			a.startLocked(t, true)
		} else {
			a.finished = append(a.finished, t.id)
			a.pruneLocked()
		}
		a.mu.Unlock()
	}()
}

// pruneLocked forgets the oldest finished tickets beyond maxFinished.
func (a *Agent) pruneLocked() {
	for len(a.finished) > maxFinished {
		id := a.finished[0]
		a.finished = a.finished[1:]
		if t := a.tickets[id]; t != nil && !t.running {
			delete(a.tickets, id)
			a.order = slices.DeleteFunc(a.order, func(o string) bool { return o == id })
		}
	}
}

func (a *Agent) setState(t *ticket, state string) {
	a.mu.Lock()
	t.state = state
	a.mu.Unlock()
}

func (a *Agent) queue1(m agentlink.Message) {
	a.mu.Lock()
	a.sendLocked(m)
	a.mu.Unlock()
}

// serveTicket asks the person, then serves invitations for t until one
// ends without being re-issued.
func (a *Agent) serveTicket(ctx context.Context, t *ticket, again bool) {
	log := a.logger.With("ticket", t.id)
	decline := func(reason string) {
		a.mu.Lock()
		t.state, t.reason = StateDeclined, reason
		a.sendLocked(agentlink.Message{Type: agentlink.TypeConsent, Ticket: t.id, Reason: reason})
		a.mu.Unlock()
		helper := t.req.Helper
		a.emit(Event{Type: EventDeclined, Ticket: t.id, Helper: &helper, Reason: reason})
	}
	hc, release, err := a.cfg.Host(t.id)
	if err != nil {
		log.Info("this computer cannot host", "err", err)
		decline("this computer cannot share its screen now: " + err.Error())
		return
	}
	if release != nil {
		defer release()
	}
	if hc.Rendezvous == "" {
		// The person's own setting wins; otherwise the bot's rendezvous
		// gets the helper through NAT.
		a.mu.Lock()
		hc.Rendezvous = a.rendezvous
		a.mu.Unlock()
	}

	chatCtx, stopChat := context.WithCancel(ctx)
	chatDone := make(chan struct{})
	go func() { defer close(chatDone); a.chatLoop(chatCtx, t) }()
	defer func() { stopChat(); <-chatDone }()

	ask, resend := true, again
	for {
		if ask {
			req := t.req
			req.Again = again
			ok, err := a.cfg.Ask(ctx, req)
			if ctx.Err() != nil {
				a.withdrawn(t)
				return
			}
			switch {
			case err != nil:
				log.Warn("asking the person", "err", err)
				decline("the person could not be asked: " + err.Error())
				return
			case !ok:
				decline("the person declined")
				return
			}
			a.queue1(agentlink.Message{Type: agentlink.TypeConsent, Ticket: t.id, Accepted: true})
		}
		next := a.serveInvitation(ctx, t, hc, resend)
		if next == nil {
			return
		}
		ask, again, resend = *next, true, true
	}
}

// withdrawn ends a ticket whose question was cancelled before an answer.
func (a *Agent) withdrawn(t *ticket) {
	a.mu.Lock()
	reason := t.cancelled
	if reason == "" {
		reason = "the person's gethelp agent stopped before they answered"
	}
	t.state = StateCancelled
	a.sendLocked(agentlink.Message{Type: agentlink.TypeStatus, Ticket: t.id, State: agentlink.StatusCancelled, Text: reason})
	a.mu.Unlock()
	a.emit(Event{Type: EventWithdrawn, Ticket: t.id, Reason: reason})
}

// serveInvitation creates the invitation (again, for a resend), sends it
// and runs its host. It returns nil when the ticket is over, or whether to
// ask the person before the invitation is made again.
func (a *Agent) serveInvitation(ctx context.Context, t *ticket, hc host.Config, resend bool) *bool {
	a.mu.Lock()
	hc.ID = t.invID
	a.mu.Unlock()
	hc.TTL = a.cfg.TTL
	hc.Password = ""
	if hc.Now == nil {
		hc.Now = a.cfg.Now
	}
	if hc.Logger == nil {
		hc.Logger = a.cfg.Logger
	}
	var h *host.Host
	hc.OnEvent = func(e host.Event) { a.hostEvent(t, h, e) }
	h, err := host.New(hc)
	if err != nil {
		a.mu.Lock()
		t.state = StateFailed
		a.sendLocked(agentlink.Message{Type: agentlink.TypeError, Ticket: t.id, Text: "could not make the invitation: " + err.Error()})
		a.mu.Unlock()
		a.emit(Event{Type: EventError, Ticket: t.id, Reason: "could not make the invitation: " + err.Error()})
		return nil
	}
	defer h.Close()
	inv := h.Invitation()
	file, err := inv.Marshal()
	if err != nil { // host.New validated it
		a.logger.Error("encoding the invitation", "err", err)
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	a.mu.Lock()
	t.h, t.invID, t.state = h, inv.ID, StateWaiting
	t.reissue, t.reask = false, false
	t.connectedAt, t.helperName = time.Time{}, ""
	t.stopHost = stop
	a.sendLocked(agentlink.Message{
		Type: agentlink.TypeInvitation, Ticket: t.id, File: file, Password: h.Password(),
		Expires: inv.Expires, InvitationID: inv.ID,
	})
	a.mu.Unlock()
	helper := t.req.Helper
	a.emit(Event{Type: EventInvitation, Ticket: t.id, Helper: &helper, InvitationID: inv.ID, Expires: inv.Expires, Resend: resend, Host: h})

	err = h.Run(runCtx)
	a.mu.Lock()
	t.h, t.stopHost = nil, nil
	reissue, reask := t.reissue, t.reask
	a.mu.Unlock()
	if err != nil && !errors.Is(err, host.ErrExpired) && !errors.Is(err, host.ErrCancelled) {
		a.logger.Warn("the host ended with an error", "ticket", t.id, "err", err)
	}
	if reissue && ctx.Err() == nil {
		return &reask
	}
	return nil
}

// hostEvent mirrors what the ticket's host reports to the bot, and passes
// it on to the person.
func (a *Agent) hostEvent(t *ticket, h *host.Host, e host.Event) {
	now := a.cfg.Now()
	status := func(state, text string) agentlink.Message {
		return agentlink.Message{Type: agentlink.TypeStatus, Ticket: t.id, State: state, Text: text}
	}
	show := true
	a.mu.Lock()
	switch e.Type {
	case host.EventWaiting:
		a.sendLocked(status(agentlink.StatusWaiting, ""))
	case host.EventConnected:
		t.path = e.Path
		if e.Resumed {
			break // the same session, after a lost connection: still connected
		}
		t.state, t.connectedAt, t.helperName = StateConnected, now, e.Helper
		a.sendLocked(status(agentlink.StatusConnected, e.Helper))
		select {
		case t.wake <- struct{}{}:
		default:
		}
	case host.EventChat:
		if e.Relayed {
			break // the bot's own chat, shown in the session: not mirrored back
		}
		m := agentlink.Message{Type: agentlink.TypeChat, Ticket: t.id, Author: e.From, Text: e.Text, Source: "helper", Key: newKey()}
		if e.Self {
			m.Source = "person"
		}
		a.sendLocked(m)
	case host.EventControlGranted:
		if slices.Contains(e.Capabilities, session.CapControl) {
			a.sendLocked(status(agentlink.StatusControlGranted, strings.Join(e.Capabilities, ", ")))
		}
	case host.EventControlRevoked:
		if slices.Contains(e.Capabilities, session.CapControl) {
			a.sendLocked(status(agentlink.StatusControlEnded, e.By))
		}
	case host.EventLocked:
		t.state = StateLocked
		a.sendLocked(status(agentlink.StatusLocked, e.Reason))
	case host.EventDisconnected:
		t.state = StateEnded
		var d time.Duration
		if !t.connectedAt.IsZero() {
			d = now.Sub(t.connectedAt)
		}
		m := status(agentlink.StatusEnded, e.Reason)
		m.Summary = &agentlink.Summary{
			Duration: d, Path: cmp.Or(t.path, agentlink.PathDirect), RTT: time.Duration(e.RTTms * float64(time.Millisecond)),
			ScreenBytes: e.ScreenBytes, Updates: e.Updates, Reason: e.Reason,
		}
		a.sendLocked(m)
	case host.EventExpired:
		t.state = StateExpired
		a.sendLocked(status(agentlink.StatusExpired, e.Reason))
	case host.EventCancelled:
		if t.reissue {
			show = false // replaced by the next invitation, not cancelled
			break
		}
		t.state = StateCancelled
		reason := t.cancelled
		switch {
		case reason != "":
		case a.ctx.Err() != nil:
			reason = "the person stopped their gethelp agent"
		default:
			reason = e.Reason
		}
		a.sendLocked(status(agentlink.StatusCancelled, reason))
	}
	a.mu.Unlock()
	if show {
		a.emit(Event{Type: EventSession, Ticket: t.id, Session: &e, Host: h})
	}
}

// resend makes the ticket's invitation again, asking the person first
// unless it is open and waiting.
func (a *Agent) resend(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	t := a.tickets[id]
	fail := func(text string) {
		a.sendLocked(agentlink.Message{Type: agentlink.TypeError, Ticket: id, Text: text})
	}
	switch {
	case t == nil:
		fail("this computer does not know the ticket (its agent may have restarted): send a new consent_request")
	case a.stopping:
		fail("the person's gethelp agent is stopping")
	case t.state == StateAsking:
		// The person has not answered yet; the invitation follows a yes.
	case t.state == StateConnected:
		fail("a helper is connected: nothing to resend")
	case t.state == StateDeclined:
		fail("the person declined this ticket: send a new consent_request")
	case t.state == StateCancelled:
		fail("this ticket was cancelled: send a new consent_request")
	case t.running && t.stopHost != nil && (t.state == StateWaiting || t.state == StateLocked):
		t.reissue, t.reask = true, t.state == StateLocked
		t.stopHost()
	case !t.running:
		a.startLocked(t, true) // ended, expired or failed: ask again
	case t.state == StateEnded || t.state == StateExpired:
		// The bot heard "ended" before the host finished closing: ask
		// again as soon as it has.
		t.again = true
	default:
		fail("the ticket is changing state; try again")
	}
}

// cancelTicket stops t: by the bot (byPerson false) or the person.
func (a *Agent) cancelTicket(id, reason string, byPerson bool) error {
	if reason == "" {
		reason = "the ticket was cancelled"
	}
	a.mu.Lock()
	t := a.tickets[id]
	if t == nil {
		if !byPerson {
			a.sendLocked(agentlink.Message{Type: agentlink.TypeError, Ticket: id, Text: "this computer does not know the ticket"})
		}
		a.mu.Unlock()
		return ErrUnknownTicket
	}
	if !t.running {
		a.mu.Unlock()
		return nil
	}
	t.cancelled = reason
	if t.state == StateConnected && t.h != nil {
		h := t.h
		a.wg.Add(1) // t's goroutine is running, so the count is not zero
		a.mu.Unlock()
		go func() {
			defer a.wg.Done()
			_ = h.Disconnect(reason)
		}()
		return nil
	}
	cancel := t.cancel
	a.mu.Unlock()
	cancel()
	return nil
}

// chatFromBot hands a chat message from the bot to the ticket's chatLoop.
func (a *Agent) chatFromBot(m agentlink.Message) {
	a.mu.Lock()
	t := a.tickets[m.Ticket]
	if t == nil || !t.running {
		a.mu.Unlock()
		a.logger.Info("dropping chat for a ticket without a session", "msg", m)
		return
	}
	if m.Key != "" {
		if _, dup := t.seen[m.Key]; dup {
			a.mu.Unlock()
			return
		}
		t.seen[m.Key] = struct{}{}
		t.seenOrder = append(t.seenOrder, m.Key)
		if len(t.seenOrder) > maxSeenKeys {
			delete(t.seen, t.seenOrder[0])
			t.seenOrder = t.seenOrder[1:]
		}
	}
	a.mu.Unlock()
	select {
	case t.chat <- m:
	default:
		a.logger.Warn("too much chat from the bot at once; dropping a message", "msg", m)
	}
}

// chatLoop shows the bot's chat in the session, in order, holding it until
// a helper is connected.
func (a *Agent) chatLoop(ctx context.Context, t *ticket) {
	var pending []agentlink.Message
	for {
		select {
		case m := <-t.chat:
			pending = append(pending, m)
			if len(pending) > maxPendingChat {
				pending = pending[1:]
			}
		case <-t.wake:
		case <-ctx.Done():
			return
		}
		for len(pending) > 0 {
			a.mu.Lock()
			h := t.h
			connected := t.state == StateConnected
			a.mu.Unlock()
			if h == nil || !connected {
				break
			}
			err := a.inject(t, h, pending[0])
			if errors.Is(err, host.ErrNoSession) {
				break
			}
			if err != nil {
				a.logger.Warn("showing the bot's chat in the session", "ticket", t.id, "err", err)
			}
			pending = pending[1:]
		}
	}
}

// inject shows m in the session under its author's name and where it
// was written ("Ann Lee (email)").
func (a *Agent) inject(t *ticket, h *host.Host, m agentlink.Message) error {
	author, via := m.Author, m.Source
	if author == "" {
		author = "someone"
	}
	if via == "" {
		via = "chat"
	}
	// host.Relay marks its echo in the session as relayed: not mirrored.
	return h.Relay(author, via, m.Text)
}
