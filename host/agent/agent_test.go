package agent_test

import (
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gethelp/gethelp/agentlink"
	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/host/agent"
	"github.com/gethelp/gethelp/invitations"
	"github.com/gethelp/gethelp/session"
	"github.com/gethelp/gethelp/viewer"
)

// TestSession is the whole way: linking, consent, the invitation, a real
// viewer, chat both ways, the end and its summary.
func TestSession(t *testing.T) {
	r := startAgent(t, options{})
	l := r.bot.accept(t) // no links yet
	if h := l.c.Hello(); h.Name != "ann-laptop" || h.Version != agentlink.Version {
		t.Errorf("hello = %+v", h)
	}
	r.event(agent.EventConnected)

	// A first start without links asks for a code by itself.
	l.expect(agentlink.TypeLinkRequest)
	l.send(agentlink.Message{Type: agentlink.TypeLinkCode, Code: "K7PM-W3XQ"})
	if e := r.event(agent.EventLinkCode); e.Code != "K7PM-W3XQ" {
		t.Errorf("link code event %+v", e)
	}
	l.send(agentlink.Message{Type: agentlink.TypeLinked, Identity: &ann})
	if e := r.event(agent.EventLinked); e.Identity == nil || *e.Identity != ann {
		t.Errorf("linked event %+v", e)
	}

	// Someone asks for help for Ann; she is asked, with Bob as Slack
	// knows him.
	l.send(agentlink.Message{Type: agentlink.TypeConsentRequest, Ticket: "T-1", Helper: &bob, Requester: &ann, Description: "the printer"})
	c := r.ask()
	if c.req.Ticket != "T-1" || c.req.Helper != bob || c.req.Requester != ann || c.req.Description != "the printer" || c.req.Again {
		t.Fatalf("asked %+v", c.req)
	}
	c.answer <- true
	if m := l.expect(agentlink.TypeConsent); !m.Accepted {
		t.Fatalf("consent %+v", m)
	}
	im := l.expect(agentlink.TypeInvitation)
	inv, err := invitations.Parse(im.File)
	if err != nil {
		t.Fatal(err)
	}
	if im.InvitationID != inv.ID || im.Password == "" || strings.Contains(string(im.File), im.Password) {
		t.Fatalf("invitation %+v", im)
	}
	l.expect(agentlink.TypeStatus, agentlink.StatusWaiting)
	if e := r.event(agent.EventInvitation); e.Ticket != "T-1" || e.Host == nil || e.InvitationID != inv.ID || *e.Helper != bob {
		t.Errorf("invitation event %+v", e)
	}

	// Chat from the thread before the helper arrives waits for them.
	l.send(agentlink.Message{Type: agentlink.TypeChat, Ticket: "T-1", Author: "Ann Lee", Text: "he is on his way", Source: "chat", Key: "k0"})

	v := connectViewer(t, inv, im.Password)
	if m := l.expect(agentlink.TypeStatus, agentlink.StatusConnected); m.Text != "Bob" {
		t.Errorf("connected status %+v", m)
	}
	if e := v.event(t, viewer.EventChat); e.From != "Ann Lee (chat)" || e.Text != "he is on his way" {
		t.Errorf("held chat reached the viewer as %q: %q", e.From, e.Text)
	}

	// The helper's chat reaches the bot.
	if err := v.v.Chat("can you see the dialog?"); err != nil {
		t.Fatal(err)
	}
	if m := l.expect(agentlink.TypeChat); m.Source != "helper" || m.Author != "Bob" || m.Text != "can you see the dialog?" || m.Key == "" {
		t.Errorf("helper chat %+v", m)
	}

	// The bot's chat reaches the helper, once per key, and is not echoed.
	l.send(agentlink.Message{Type: agentlink.TypeChat, Ticket: "T-1", Author: "Ann Lee", Text: "yes", Source: "email", Key: "k1"})
	l.send(agentlink.Message{Type: agentlink.TypeChat, Ticket: "T-1", Author: "Ann Lee", Text: "yes", Source: "email", Key: "k1"})
	l.send(agentlink.Message{Type: agentlink.TypeChat, Ticket: "T-1", Author: "Ann Lee", Text: "now it is gone", Source: "chat", Key: "k2"})
	if e := v.event(t, viewer.EventChat); e.From != "Ann Lee (email)" || e.Text != "yes" {
		t.Errorf("viewer got %q: %q", e.From, e.Text)
	}
	if e := v.event(t, viewer.EventChat); e.From != "Ann Lee (chat)" || e.Text != "now it is gone" {
		t.Errorf("viewer got %q: %q (a duplicate?)", e.From, e.Text)
	}

	// The person's own chat in the session goes to the bot.
	h := r.agent.Host("T-1")
	if h == nil {
		t.Fatal("no host for T-1")
	}
	if err := h.Chat("thank you Bob"); err != nil {
		t.Fatal(err)
	}
	m := l.expect(agentlink.TypeChat) // not an echo of the bot's chat
	if m.Source != "person" || m.Author != "Ann" || m.Text != "thank you Bob" {
		t.Errorf("person chat %+v", m)
	}

	// The helper saw the screen, then leaves.
	v.event(t, viewer.EventFrame)
	v.disconnect("Bob is done")
	end := l.expect(agentlink.TypeStatus, agentlink.StatusEnded)
	s := end.Summary
	if s == nil || s.Duration <= 0 || s.Path != session.PathLAN || s.ScreenBytes <= 0 || s.Updates <= 0 || !strings.Contains(s.Reason, "Bob is done") {
		t.Errorf("summary %+v", s)
	}
	r.event(agent.EventSession, host.EventDisconnected)
	r.shutdown()
	if r.hosts.Load() != 1 || r.released.Load() != 1 {
		t.Errorf("Host called %d times, released %d times; want 1 and 1", r.hosts.Load(), r.released.Load())
	}
	if tk := r.agent.Tickets(); len(tk) != 1 || tk[0].State != agent.StateEnded || tk[0].InvitationID != inv.ID {
		t.Errorf("tickets %+v", tk)
	}
}

func TestConsentDeclined(t *testing.T) {
	r := startAgent(t, options{})
	l := r.bot.accept(t, ann)
	l.send(agentlink.Message{Type: agentlink.TypeConsentRequest, Ticket: "T-2", Helper: &bob})
	r.ask().answer <- false
	m := l.expect(agentlink.TypeConsent)
	if m.Accepted || m.Ticket != "T-2" || m.Reason == "" {
		t.Fatalf("consent %+v", m)
	}
	if e := r.event(agent.EventDeclined); e.Ticket != "T-2" {
		t.Errorf("declined event %+v", e)
	}
	// No invitation follows; a resend is refused, a repeated request is
	// answered without asking.
	l.send(agentlink.Message{Type: agentlink.TypeResend, Ticket: "T-2"})
	if m := l.expect(agentlink.TypeError); m.Ticket != "T-2" || !strings.Contains(m.Text, "declined") {
		t.Errorf("resend answered %+v", m)
	}
	l.send(agentlink.Message{Type: agentlink.TypeConsentRequest, Ticket: "T-2", Helper: &bob})
	if m := l.expect(agentlink.TypeConsent); m.Accepted {
		t.Errorf("repeated request answered %+v", m)
	}
	select {
	case c := <-r.asks:
		t.Fatalf("asked twice: %+v", c.req)
	default:
	}
	r.shutdown()
	if r.released.Load() != 1 {
		t.Errorf("released %d times", r.released.Load())
	}
}

func TestHostUnavailableDeclinesWithoutAsking(t *testing.T) {
	r := startAgent(t, options{hostError: func(string) error { return errPolicy }})
	l := r.bot.accept(t, ann)
	l.send(agentlink.Message{Type: agentlink.TypeConsentRequest, Ticket: "T-3", Helper: &bob})
	m := l.expect(agentlink.TypeConsent)
	if m.Accepted || !strings.Contains(m.Reason, errPolicy.Error()) {
		t.Fatalf("consent %+v", m)
	}
	select {
	case c := <-r.asks:
		t.Fatalf("asked %+v although the computer cannot host", c.req)
	default:
	}
}

func TestBadConsentRequest(t *testing.T) {
	r := startAgent(t, options{})
	l := r.bot.accept(t, ann)
	l.send(agentlink.Message{Type: agentlink.TypeConsentRequest, Ticket: "T-4"}) // no helper
	if m := l.expect(agentlink.TypeError); m.Ticket != "T-4" {
		t.Errorf("got %+v", m)
	}
}

func TestCancelWhileAsking(t *testing.T) {
	r := startAgent(t, options{})
	l := r.bot.accept(t, ann)
	l.send(agentlink.Message{Type: agentlink.TypeConsentRequest, Ticket: "T-5", Helper: &bob})
	r.ask() // never answered
	l.send(agentlink.Message{Type: agentlink.TypeCancel, Ticket: "T-5", Reason: "Ann found the answer"})
	if m := l.expect(agentlink.TypeStatus, agentlink.StatusCancelled); m.Text != "Ann found the answer" {
		t.Errorf("status %+v", m)
	}
	if e := r.event(agent.EventWithdrawn); e.Reason != "Ann found the answer" {
		t.Errorf("withdrawn event %+v", e)
	}
}

func TestCancelWaiting(t *testing.T) {
	r := startAgent(t, options{})
	l := r.bot.accept(t, ann)
	r.openTicket(l, "T-6")
	l.send(agentlink.Message{Type: agentlink.TypeCancel, Ticket: "T-6", Reason: "Ann cancelled the ticket"})
	if m := l.expect(agentlink.TypeStatus, agentlink.StatusCancelled); m.Text != "Ann cancelled the ticket" {
		t.Errorf("status %+v", m)
	}
	r.event(agent.EventSession, host.EventCancelled)
}

func TestCancelConnected(t *testing.T) {
	r := startAgent(t, options{})
	l := r.bot.accept(t, ann)
	inv, pw := r.openTicket(l, "T-7")
	v := connectViewer(t, inv, pw)
	l.expect(agentlink.TypeStatus, agentlink.StatusConnected)
	l.send(agentlink.Message{Type: agentlink.TypeCancel, Ticket: "T-7", Reason: "Ann cancelled the ticket"})
	m := l.expect(agentlink.TypeStatus, agentlink.StatusEnded)
	if m.Summary == nil || !strings.Contains(m.Summary.Reason, "Ann cancelled the ticket") {
		t.Errorf("status %+v", m)
	}
	if e := v.event(t, viewer.EventDisconnected); !strings.Contains(e.Reason, "Ann cancelled the ticket") {
		t.Errorf("the helper was told %q", e.Reason)
	}
}

func TestPersonCancels(t *testing.T) {
	r := startAgent(t, options{})
	l := r.bot.accept(t, ann)
	r.openTicket(l, "T-8")
	if err := r.agent.Cancel("T-8"); err != nil {
		t.Fatal(err)
	}
	if m := l.expect(agentlink.TypeStatus, agentlink.StatusCancelled); m.Text != "the person cancelled" {
		t.Errorf("status %+v", m)
	}
	if err := r.agent.Cancel("nope"); !errors.Is(err, agent.ErrUnknownTicket) {
		t.Errorf("Cancel of an unknown ticket: %v", err)
	}
}

func TestResendWhileWaiting(t *testing.T) {
	r := startAgent(t, options{})
	l := r.bot.accept(t, ann)
	first, pw1 := r.openTicket(l, "T-9")
	l.send(agentlink.Message{Type: agentlink.TypeResend, Ticket: "T-9"})
	// No cancelled status in between: the next message is the new invitation.
	m := l.expect(agentlink.TypeInvitation)
	second, err := invitations.Parse(m.File)
	if err != nil {
		t.Fatal(err)
	}
	if second.ID != first.ID || m.Password == pw1 || second.Pin == first.Pin || !second.Expires.After(first.Created) {
		t.Fatalf("resend: id %s→%s, pin changed %v, password changed %v", first.ID, second.ID, second.Pin != first.Pin, m.Password != pw1)
	}
	l.expect(agentlink.TypeStatus, agentlink.StatusWaiting)
	if e := r.event(agent.EventInvitation); e.Resend {
		t.Error("the first invitation event says resend")
	}
	if e := r.event(agent.EventInvitation); !e.Resend {
		t.Error("the second invitation event does not say resend")
	}
	select {
	case c := <-r.asks:
		t.Fatalf("asked again for an open invitation: %+v", c.req)
	default:
	}
	// The new one works.
	connectViewer(t, second, m.Password)
	l.expect(agentlink.TypeStatus, agentlink.StatusConnected)
	// While connected, a resend is refused.
	l.send(agentlink.Message{Type: agentlink.TypeResend, Ticket: "T-9"})
	if m := l.expect(agentlink.TypeError); !strings.Contains(m.Text, "connected") {
		t.Errorf("resend while connected answered %+v", m)
	}
}

// The bot may hear "ended" and send resend before the ended ticket has
// finished closing (slowRelease makes sure it does here): the person is
// asked again all the same, once it has.
func TestResendAfterEndAsksAgain(t *testing.T) {
	r := startAgent(t, options{slowRelease: 300 * time.Millisecond})
	l := r.bot.accept(t, ann)
	inv, pw := r.openTicket(l, "T-10")
	v := connectViewer(t, inv, pw)
	l.expect(agentlink.TypeStatus, agentlink.StatusConnected)
	v.disconnect("")
	l.expect(agentlink.TypeStatus, agentlink.StatusEnded)

	l.send(agentlink.Message{Type: agentlink.TypeResend, Ticket: "T-10"})
	c := r.ask()
	if !c.req.Again || c.req.Helper != bob {
		t.Fatalf("asked %+v", c.req)
	}
	c.answer <- true
	l.expect(agentlink.TypeConsent)
	m := l.expect(agentlink.TypeInvitation)
	again, err := invitations.Parse(m.File)
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != inv.ID || m.Password == pw {
		t.Fatalf("resend after the end: id %s→%s", inv.ID, again.ID)
	}
	l.expect(agentlink.TypeStatus, agentlink.StatusWaiting)
	connectViewer(t, again, m.Password)
	l.expect(agentlink.TypeStatus, agentlink.StatusConnected)
}

func TestResendUnknownTicket(t *testing.T) {
	r := startAgent(t, options{})
	l := r.bot.accept(t, ann)
	l.send(agentlink.Message{Type: agentlink.TypeResend, Ticket: "T-404"})
	if m := l.expect(agentlink.TypeError); m.Ticket != "T-404" {
		t.Errorf("got %+v", m)
	}
}

func TestTwoTicketsAtOnce(t *testing.T) {
	r := startAgent(t, options{})
	l := r.bot.accept(t, ann)
	inv1, pw1 := r.openTicket(l, "T-11")
	inv2, pw2 := r.openTicket(l, "T-12")
	if inv1.ID == inv2.ID || inv1.Addresses[0] == inv2.Addresses[0] {
		t.Fatalf("two tickets share an invitation or a port: %v %v", inv1.Addresses, inv2.Addresses)
	}
	connectViewer(t, inv1, pw1)
	if m := l.expect(agentlink.TypeStatus, agentlink.StatusConnected); m.Ticket != "T-11" {
		t.Errorf("status for %s", m.Ticket)
	}
	connectViewer(t, inv2, pw2)
	if m := l.expect(agentlink.TypeStatus, agentlink.StatusConnected); m.Ticket != "T-12" {
		t.Errorf("status for %s", m.Ticket)
	}
	if r.hosts.Load() != 2 {
		t.Errorf("Host called %d times", r.hosts.Load())
	}
}

// TestReconnect: the bot drops the link; the agent comes back (after the
// injected backoff), sends what it queued meanwhile and where its tickets
// stand, and keeps its key.
func TestReconnect(t *testing.T) {
	r := startAgent(t, options{})
	l := r.bot.accept(t) // no links
	l.expect(agentlink.TypeLinkRequest)
	r.openTicket(l, "T-13")
	key := l.c.AgentKey()

	l.c.Close("the bot restarts")
	if e := r.event(agent.EventDisconnected); e.Reason != "the bot restarts" {
		t.Errorf("disconnected event %+v", e)
	}
	<-r.sleeper.waits // the agent is waiting to reconnect
	r.agent.RequestLink()
	r.sleeper.release <- struct{}{}

	l2 := r.bot.accept(t) // still no links, but no second automatic request
	if l2.c.AgentKey() != key {
		t.Errorf("agent key changed across reconnects")
	}
	// Repeats of what the first link may not have acknowledged in time
	// come first; then the request queued while down, and the status.
	var gotLink, gotStatus bool
	for !gotLink || !gotStatus {
		m := l2.next()
		switch {
		case m.Type == agentlink.TypeLinkRequest:
			gotLink = true
		case m.Type == agentlink.TypeStatus && m.State == agentlink.StatusWaiting && gotLink:
			if m.Ticket != "T-13" {
				t.Errorf("status %+v", m)
			}
			gotStatus = true
		}
	}
	// The ticket still works on the new link.
	l2.send(agentlink.Message{Type: agentlink.TypeCancel, Ticket: "T-13"})
	l2.expect(agentlink.TypeStatus, agentlink.StatusCancelled)
}

func TestKeyReusedAcrossRestarts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent-key.pem")
	b := startBot(t)
	r1 := startAgent(t, options{keyPath: path, bot: b})
	first := b.accept(t, ann).c.AgentKey()
	r1.shutdown()
	startAgent(t, options{keyPath: path, bot: b})
	if again := b.accept(t, ann).c.AgentKey(); again != first {
		t.Fatalf("agent key %s after a restart, was %s", again, first)
	}
}

func TestStopEndsTickets(t *testing.T) {
	r := startAgent(t, options{})
	l := r.bot.accept(t, ann)
	r.openTicket(l, "T-14")
	l.send(agentlink.Message{Type: agentlink.TypeConsentRequest, Ticket: "T-15", Helper: &bob})
	r.ask()
	r.shutdown()
	got := map[string]string{}
	for range 2 {
		m := l.expect(agentlink.TypeStatus, agentlink.StatusCancelled)
		got[m.Ticket] = m.Text
	}
	if !strings.Contains(got["T-14"], "stopped") || !strings.Contains(got["T-15"], "stopped") {
		t.Errorf("statuses %v", got)
	}
	_, err := l.c.Receive(testCtx(t))
	var ce *agentlink.ClosedError
	if !errors.As(err, &ce) || !ce.ByPeer || !errors.Is(err, net.ErrClosed) {
		t.Fatalf("after the statuses: %v", err)
	}
}

func TestLockedResendAsksAgain(t *testing.T) {
	r := startAgent(t, options{})
	l := r.bot.accept(t, ann)
	inv, _ := r.openTicket(l, "T-16")
	for range host.DefaultMaxFailures {
		_, err := viewer.Open(testCtx(t), viewer.Config{Invitation: inv, Password: "WRONG-WRONG-WRON", Name: "Mallory"})
		if err == nil {
			t.Fatal("a wrong password was accepted")
		}
	}
	l.expect(agentlink.TypeStatus, agentlink.StatusLocked)
	l.send(agentlink.Message{Type: agentlink.TypeResend, Ticket: "T-16"})
	c := r.ask()
	if !c.req.Again {
		t.Fatalf("asked %+v", c.req)
	}
	c.answer <- true
	l.expect(agentlink.TypeConsent)
	m := l.expect(agentlink.TypeInvitation)
	again, err := invitations.Parse(m.File)
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != inv.ID {
		t.Fatalf("resend made invitation %s, want %s", again.ID, inv.ID)
	}
	l.expect(agentlink.TypeStatus, agentlink.StatusWaiting)
	connectViewer(t, again, m.Password) // the lock went with the old password
	l.expect(agentlink.TypeStatus, agentlink.StatusConnected)
}

// TestUnacknowledgedSentAgain: what the agent sent into a link whose bot
// died before acknowledging it goes again, with the same Seq, on the next
// link; once acknowledged it is not sent again.
func TestUnacknowledgedSentAgain(t *testing.T) {
	r := startAgent(t, options{})
	l := r.bot.accept(t)
	l.expect(agentlink.TypeLinkRequest)
	l.noAck = true
	r.openTicket(l, "T-14")
	l.c.Close("the bot died")
	<-r.sleeper.waits
	r.sleeper.release <- struct{}{}

	l2 := r.bot.accept(t)
	l2.noAck = true
	first := l2.next()
	if first.Type == agentlink.TypeLinkRequest { // its ack may not have arrived in time
		first = l2.next()
	}
	if first.Type != agentlink.TypeConsent {
		t.Fatalf("first repeat %+v, want the consent", first)
	}
	inv := l2.expect(agentlink.TypeInvitation)
	if !first.Accepted || inv.Ticket != "T-14" || inv.Password == "" || inv.Seq <= first.Seq {
		t.Fatalf("repeats: %+v / %+v", first, inv)
	}
	l2.send(agentlink.Message{Type: agentlink.TypeAck, Seq: inv.Seq})
	for {
		m := l2.next()
		if m.Type == agentlink.TypeStatus && m.Seq > inv.Seq {
			l2.send(agentlink.Message{Type: agentlink.TypeAck, Seq: m.Seq})
			break
		}
	}
	l2.c.Close("again")
	<-r.sleeper.waits
	r.sleeper.release <- struct{}{}
	l3 := r.bot.accept(t)
	if m := l3.next(); m.Type == agentlink.TypeConsent || m.Type == agentlink.TypeInvitation {
		t.Fatalf("an acknowledged message came again: %+v", m)
	}
}

// The bot's rendezvous (announced in its welcome as a port on its own
// host) goes into the invitations, so that helpers get through NAT
// without the person configuring anything.
func TestInvitationNamesTheBotsRendezvous(t *testing.T) {
	r := startAgent(t, options{})
	c, err := r.bot.srv.Accept(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	l := &link{t: t, c: c}
	l.send(agentlink.Message{Type: agentlink.TypeWelcome, Links: []agentlink.Identity{ann}, Rendezvous: ":3478"})
	inv, _ := r.openTicket(l, "T-R")
	if want := "127.0.0.1:3478"; inv.Rendezvous != want {
		t.Errorf("invitation rendezvous %q, want %q (the bot's host, the announced port)", inv.Rendezvous, want)
	}
}
