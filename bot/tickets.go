package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/gethelp/gethelp/agentlink"
	"github.com/gethelp/gethelp/bot/store"
)

const botError = "Something went wrong on the bot's side; try again in a moment."

// request handles "/gethelp [@helper] [description]".
func (c *Core) request(ctx context.Context, cmd Command) Reply {
	who := cmd.From
	links, err := c.store.LinksByIdentity(ctx, who)
	if err != nil {
		c.logger.Error("reading links", "err", err)
		return Reply{Text: botError}
	}
	if len(links) == 0 {
		return Reply{Text: "First link your computer: run `gethelp host agent` on it and type the code it shows here: /gethelp link CODE"}
	}
	var agent store.Link
	for i := len(links) - 1; i >= 0; i-- {
		if c.agent(links[i].AgentKey) != nil {
			agent = links[i]
			break
		}
	}
	if agent.AgentKey == "" {
		return Reply{Text: fmt.Sprintf("Your computer (%s) is not connected to me: start `gethelp host agent` on it, then try again.", links[len(links)-1].AgentName)}
	}

	args := strings.Fields(cmd.Text)
	var helper *Identity
	if len(args) > 0 && (strings.HasPrefix(args[0], "@") || strings.HasPrefix(args[0], "<@")) {
		h, reply := c.helperFor(ctx, cmd, args[0])
		if h == nil {
			return reply
		}
		helper = h
		args = args[1:]
	}
	if helper == nil && c.cfg.HelpDesk.Channel == "" {
		return Reply{Text: "No help desk is set up here: name your helper, as in /gethelp @name what is wrong"}
	}
	t := store.Ticket{
		State:       store.StateAwaitingHelper,
		Requester:   who,
		Description: strings.Join(args, " "),
		Origin:      store.Origin{Network: who.Network, ChannelID: cmd.At.Channel, ThreadID: cmd.At.Thread},
		AgentKey:    agent.AgentKey,
	}
	if helper != nil {
		t.State, t.Helper, t.HelperEmail = store.StateAwaitingConsent, helper, helper.Email
	}
	t, err = c.store.CreateTicket(ctx, t)
	if err != nil {
		c.logger.Error("creating a ticket", "err", err)
		return Reply{Text: botError}
	}
	c.countTicket()
	c.transcript(ctx, t, store.SourceBot, "gethelp", "request", requestText(t))
	if t.Origin.ThreadID == "" {
		root := postPayload{To: Place{Workspace: who.Workspace, Channel: cmd.At.Channel, User: who.UserID}, Message: Message{Text: requestText(t)}}
		if err := c.enqueue(ctx, t.ID, t.Origin.Network, kindRoot, "ticket/"+t.ID+"/root", root); err != nil {
			c.logger.Error("queueing the thread", "err", err)
		}
	} else {
		c.say(ctx, t, "request", requestText(t))
	}
	if helper == nil {
		c.toHelpDesk(ctx, t)
		return Reply{Text: "Your request is with the help desk. When a helper takes it, your computer asks you before anything is shared."}
	}
	c.askConsent(ctx, t)
	return Reply{Text: fmt.Sprintf("Asking your computer (%s) for your consent: look at its screen.", agent.AgentName)}
}

func requestText(t store.Ticket) string {
	s := t.Requester.DisplayName + " asked for help"
	if t.Helper != nil {
		s = t.Requester.DisplayName + " asked " + t.Helper.DisplayName + " for help"
	}
	if t.Description != "" {
		s += ": " + t.Description
	}
	return s + " (ticket " + t.ID[:8] + ")"
}

// helperFor resolves the helper named in a command and checks them.
func (c *Core) helperFor(ctx context.Context, cmd Command, mention string) (*Identity, Reply) {
	lookup, ok := c.nets[cmd.From.Network].(UserLookup)
	if !ok {
		return nil, Reply{Text: "I cannot look people up on " + cmd.From.Network + "; ask the help desk instead: /gethelp what is wrong"}
	}
	ws := cmd.At.Workspace
	if ws == "" {
		ws = cmd.From.Workspace
	}
	h, err := lookup.LookupUser(ctx, ws, mention)
	h = c.withAddress(h)
	switch {
	case errors.Is(err, ErrNoSuchUser):
		return nil, Reply{Text: fmt.Sprintf("I don't know %s here.", mention)}
	case err != nil:
		c.logger.Warn("looking a user up", "err", err)
		return nil, Reply{Text: botError}
	case sameUser(h, cmd.From):
		return nil, Reply{Text: "You asked yourself for help: name someone else, or ask the help desk."}
	case !c.allowedHelper(h):
		return nil, Reply{Text: fmt.Sprintf("%s is not one of the helpers allowed here; ask the help desk instead: /gethelp what is wrong", h.DisplayName)}
	}
	if h.Email == "" && c.needsEmail() {
		return nil, Reply{Text: fmt.Sprintf("%s has no e-mail address I can see, so I cannot send them the invitation and its password on two channels.", h.DisplayName)}
	}
	return &h, Reply{}
}

// needsEmail reports whether the invitation or its password goes by
// e-mail.
func (c *Core) needsEmail() bool {
	return c.cfg.InvitationVia == ViaEmail || c.cfg.PasswordVia == ViaEmail
}

// withAddress fills in a helper's e-mail address from
// Config.HelperAddresses when the network gave none.
func (c *Core) withAddress(h Identity) Identity {
	if h.Email == "" {
		h.Email = c.cfg.HelperAddresses[h.Network+":"+h.UserID]
	}
	return h
}

// allowedHelper applies Config.Helpers.
func (c *Core) allowedHelper(h Identity) bool {
	if len(c.cfg.Helpers) == 0 {
		return true
	}
	email := strings.ToLower(h.Email)
	for _, a := range c.cfg.Helpers {
		a = strings.ToLower(strings.TrimSpace(a))
		switch {
		case strings.HasPrefix(a, "@") && email != "" && strings.HasSuffix(email, a):
			return true
		case email != "" && a == email:
			return true
		case a == strings.ToLower(h.Network+":"+h.UserID):
			return true
		}
	}
	return false
}

// toHelpDesk posts the request where helpers take it.
func (c *Core) toHelpDesk(ctx context.Context, t store.Ticket) {
	p := postPayload{To: c.cfg.HelpDesk, Message: Message{
		Text:    requestText(t),
		Buttons: []Button{{Label: "Take it", Action: "take", Value: t.ID, Style: "primary"}},
	}}
	if err := c.post(ctx, t.ID, c.cfg.HelpDeskNetwork, "ticket/"+t.ID+"/helpdesk", p); err != nil {
		c.logger.Error("queueing the help-desk post", "err", err)
	}
}

// askConsent asks the person's agent.
func (c *Core) askConsent(ctx context.Context, t store.Ticket) {
	helper := toLinkIdentity(*t.Helper)
	req := toLinkIdentity(t.Requester)
	ok := c.toAgent(t.AgentKey, agentlink.Message{
		Type: agentlink.TypeConsentRequest, Ticket: t.ID, Helper: &helper, Requester: &req, Description: t.Description,
	})
	if ok {
		c.say(ctx, t, "consent-asked", fmt.Sprintf("Waiting for %s to agree on their computer to share their screen with %s.", t.Requester.DisplayName, t.Helper.DisplayName))
	} else {
		c.say(ctx, t, "consent-offline", fmt.Sprintf("%s's computer is not connected; I will ask it when it is.", t.Requester.DisplayName))
	}
}

// Button handles a button press: "take" from the help desk.
func (c *Core) Button(ctx context.Context, b Press) Reply {
	if b.ID != "" {
		if fresh, err := c.store.MarkSeen(ctx, "press/"+b.From.Network+"/"+b.ID, c.now()); err == nil && !fresh {
			return Reply{Text: "Already done."}
		}
	}
	if b.Action != "take" {
		return Reply{Text: "That button does nothing any more."}
	}
	t, err := c.store.Ticket(ctx, b.Value)
	if err != nil {
		return Reply{Text: "That request is gone."}
	}
	switch {
	case t.State != store.StateAwaitingHelper:
		who := "someone"
		if t.Helper != nil {
			who = t.Helper.DisplayName
		}
		return Reply{Text: fmt.Sprintf("Too late: %s took it already.", who)}
	case sameUser(b.From, t.Requester):
		return Reply{Text: "That is your own request."}
	case !c.allowedHelper(c.withAddress(b.From)):
		return Reply{Text: "You are not one of the helpers allowed here."}
	}
	helper := c.withAddress(b.From)
	if helper.Email == "" && c.needsEmail() {
		return Reply{Text: "I cannot see your e-mail address, so I cannot send you the invitation and its password on two channels."}
	}
	var took bool
	err = c.updateTicket(ctx, t.ID, func(x *store.Ticket) {
		took = x.State == store.StateAwaitingHelper
		if took {
			x.State, x.Helper, x.HelperEmail = store.StateAwaitingConsent, &helper, helper.Email
		}
	})
	if err != nil || !took {
		return Reply{Text: "Too late: someone took it already."}
	}
	t, _ = c.store.Ticket(ctx, t.ID)
	c.say(ctx, t, "taken", helper.DisplayName+" took the request.")
	c.askConsent(ctx, t)
	return Reply{Text: fmt.Sprintf("It's yours. %s's computer asks them for consent; then the invitation comes to you by %s and the password by %s.", t.Requester.DisplayName, via(c.cfg.InvitationVia), via(c.cfg.PasswordVia))}
}

func via(v string) string {
	if v == ViaEmail {
		return "e-mail"
	}
	return "direct message"
}

// consent handles the person's answer.
func (c *Core) consent(ctx context.Context, t store.Ticket, m agentlink.Message) {
	if m.Accepted {
		c.say(ctx, t, "consent-yes", t.Requester.DisplayName+" agreed; their computer is making the invitation.")
		return
	}
	c.updateTicket(ctx, t.ID, func(x *store.Ticket) { x.State = store.StateCancelled })
	text := t.Requester.DisplayName + " declined on their computer"
	if m.Reason != "" {
		text += ": " + m.Reason
	}
	c.say(ctx, t, "consent-no", text+".")
}

// invitation delivers an invitation: the file one way, the password the
// other. The password goes straight to the network and is never stored.
func (c *Core) invitation(ctx context.Context, t store.Ticket, m agentlink.Message) {
	if !t.State.Open() || t.Helper == nil {
		c.toAgent(t.AgentKey, agentlink.Message{Type: agentlink.TypeCancel, Ticket: t.ID, Reason: "the request is no longer open"})
		return
	}
	if t.PasswordSent && t.InvitationID == m.InvitationID && t.InvitationExpires.Equal(m.Expires) {
		return // the same invitation again (the agent repeats what it was unsure of): delivered already
	}
	err := c.updateTicket(ctx, t.ID, func(x *store.Ticket) {
		x.State = store.StateInvited
		x.InvitationID, x.InvitationFile, x.InvitationExpires = m.InvitationID, m.File, m.Expires
		x.PasswordSent = false
	})
	if err != nil {
		c.logger.Error("recording an invitation", "err", err)
		return
	}
	t, _ = c.store.Ticket(ctx, t.ID)
	generation := fmt.Sprint(m.Expires.Unix())
	if err := c.sendPassword(ctx, t, m.Password); err != nil {
		c.logger.Warn("sending the password", "ticket", t.ID, "err", err)
		c.say(ctx, t, "password-failed/"+generation, fmt.Sprintf("I could not send the password to %s (%v); /gethelp resend makes a new one.", t.Helper.DisplayName, err))
		return
	}
	c.updateTicket(ctx, t.ID, func(x *store.Ticket) { x.PasswordSent = true; x.State = store.StateDelivered })
	c.sendInvitationFile(ctx, t, generation, c.cfg.InvitationVia == ViaEmail, "by "+via(c.cfg.PasswordVia))
	c.say(ctx, t, "delivered/"+generation, fmt.Sprintf("Invitation sent to %s by %s, its password by %s. It expires at %s UTC.",
		t.Helper.DisplayName, via(c.cfg.InvitationVia), via(c.cfg.PasswordVia), m.Expires.UTC().Format("15:04 on 2 Jan")))
}

func (c *Core) sendPassword(ctx context.Context, t store.Ticket, password string) error {
	text := fmt.Sprintf("Password for %s's gethelp invitation (ticket %s): %s\nThe invitation itself comes separately, by %s. Never share this password.",
		t.Requester.DisplayName, t.ID[:8], password, via(c.cfg.InvitationVia))
	if c.cfg.PasswordVia == ViaEmail {
		return c.cfg.Mail.Send(ctx, Mail{To: t.HelperEmail, ToName: t.Helper.DisplayName, Subject: "Password for " + t.Requester.DisplayName + "'s gethelp invitation", Text: text})
	}
	n := c.nets[t.Helper.Network]
	if n == nil {
		return fmt.Errorf("the helper's network %s is not configured", t.Helper.Network)
	}
	_, err := n.Send(ctx, Place{Workspace: t.Helper.Workspace, User: t.Helper.UserID}, Message{Text: text})
	return err
}

// sendInvitationFile sends the invitation file to the helper: by e-mail
// when byMail, else by direct message. passwordHow says, for the helper,
// how the password comes.
func (c *Core) sendInvitationFile(ctx context.Context, t store.Ticket, generation string, byMail bool, passwordHow string) {
	file := File{Name: "gethelp-" + t.InvitationID + ".gethelp", ContentType: "application/x-gethelp-invitation", Data: t.InvitationFile}
	key := "ticket/" + t.ID + "/invitation/" + generation
	expires := t.InvitationExpires.UTC().Format("15:04 UTC on Mon 2 Jan")
	text := fmt.Sprintf("%s asked you for help%s.\n\n"+
		"Open the attached invitation with gethelp:  gethelp viewer open %s\n"+
		"Its password comes separately, %s. The invitation expires at %s.\n\n"+
		"Reply to this e-mail to write in the conversation.",
		t.Requester.DisplayName, descSuffix(t.Description), file.Name, passwordHow, expires)
	if !byMail {
		p := postPayload{To: Place{Workspace: t.Helper.Workspace, User: t.Helper.UserID}, Message: Message{Text: text, File: &file}}
		if err := c.post(ctx, t.ID, t.Helper.Network, key, p); err != nil {
			c.logger.Error("queueing the invitation", "err", err)
		}
		return
	}
	m := Mail{
		To: t.HelperEmail, ToName: t.Helper.DisplayName,
		Subject:     fmt.Sprintf("%s asked you for help (gethelp)", t.Requester.DisplayName),
		Text:        text,
		HTML:        invitationHTML(t, file.Name, passwordHow, expires),
		MessageID:   "gethelp-" + t.ID + "-" + generation + "@" + c.mailDomain(),
		Attachments: []File{file},
	}
	if c.cfg.ReplyAddress != "" {
		m.ReplyTo = fmt.Sprintf(c.cfg.ReplyAddress, t.ReplyToken)
	}
	if t.EmailThread.RootMessageID != "" {
		m.InReplyTo = t.EmailThread.LastMessageID
		m.References = []string{t.EmailThread.RootMessageID}
	}
	if err := c.enqueue(ctx, t.ID, ViaEmail, kindMail, key, m); err != nil {
		c.logger.Error("queueing the invitation e-mail", "err", err)
	}
}

func descSuffix(d string) string {
	if d == "" {
		return ""
	}
	return ": " + d
}

// mailDomain is the domain of Message-IDs.
func (c *Core) mailDomain() string {
	if _, d, ok := strings.Cut(c.cfg.ReplyAddress, "@"); ok && d != "" {
		return d
	}
	return "gethelp.invalid"
}

// sessionChat mirrors a line of the session chat into the thread.
func (c *Core) sessionChat(ctx context.Context, t store.Ticket, m agentlink.Message) {
	key := m.Key
	if key == "" {
		key = shortHash(m.Author + m.Text + c.now().String())
	}
	if !c.transcript(ctx, t, store.SourceSession, m.Author, "session/"+key, m.Text) {
		return
	}
	c.say(ctx, t, "session/"+key, fmt.Sprintf("%s (in the session): %s", m.Author, m.Text))
}

// Post handles a message in a ticket's thread: it goes into the session.
func (c *Core) Post(ctx context.Context, p Post) {
	if p.At.Thread == "" {
		return
	}
	t, err := c.store.TicketByOrigin(ctx, store.Origin{Network: p.From.Network, ChannelID: p.At.Channel, ThreadID: p.At.Thread})
	if err != nil || !t.State.Open() {
		return
	}
	key := "chat/" + string(p.ID)
	if !c.transcript(ctx, t, store.SourceChat, p.From.DisplayName, key, p.Text) {
		return
	}
	c.toAgent(t.AgentKey, agentlink.Message{Type: agentlink.TypeChat, Ticket: t.ID, Author: p.From.DisplayName, Text: p.Text, Source: "chat", Key: key})
}

// EmailReply handles a reply to a ticket's e-mail: it goes into the thread
// and the session. Mail to an unknown ticket, or from someone who is
// neither the person nor the helper, is dropped with a log line; an error
// means a transient failure (the sending server should try again).
func (c *Core) EmailReply(ctx context.Context, r InboundMail) error {
	t, err := c.store.TicketByReplyToken(ctx, r.Token)
	if errors.Is(err, store.ErrNotFound) {
		c.logger.Info("dropping an e-mail to an unknown ticket address")
		return nil
	}
	if err != nil {
		return err // the store is down: the sender tries again later
	}
	if !strings.EqualFold(r.From, t.HelperEmail) && !strings.EqualFold(r.From, t.Requester.Email) {
		c.logger.Info("dropping an e-mail from someone not in the ticket", "ticket", t.ID[:8])
		return nil
	}
	author := r.FromName
	if author == "" {
		author = r.From
	}
	key := "email/" + r.MessageID
	if !c.transcript(ctx, t, store.SourceEmail, author, key, r.Text) {
		return nil
	}
	c.say(ctx, t, key, fmt.Sprintf("%s (by e-mail): %s", author, r.Text))
	c.toAgent(t.AgentKey, agentlink.Message{Type: agentlink.TypeChat, Ticket: t.ID, Author: author, Text: r.Text, Source: "email", Key: key})
	return nil
}

// transcript appends to the ticket's transcript and reports whether the
// entry is new.
func (c *Core) transcript(ctx context.Context, t store.Ticket, source, author, key, text string) bool {
	_, fresh, err := c.store.AppendTranscript(ctx, store.Entry{TicketID: t.ID, Time: c.now(), Source: source, Author: author, Text: text, Key: key})
	if err != nil {
		c.logger.Error("writing the transcript", "err", err)
		return false
	}
	return fresh
}

// status handles the agent's account of the session.
func (c *Core) status(ctx context.Context, t store.Ticket, m agentlink.Message) {
	// A state is said once per invitation (an agent repeats the current
	// state after reconnecting); control can come and go many times.
	key := "status/" + m.State + "/" + t.InvitationID
	if m.State == agentlink.StatusControlGranted || m.State == agentlink.StatusControlEnded {
		key += "/" + fmt.Sprint(m.Time.UnixNano())
	}
	helper := "The helper"
	if t.Helper != nil {
		helper = t.Helper.DisplayName
	}
	switch m.State {
	case agentlink.StatusConnected:
		c.updateTicket(ctx, t.ID, func(x *store.Ticket) { x.State = store.StateConnected })
		c.say(ctx, t, key, helper+" connected to "+t.Requester.DisplayName+"'s computer.")
	case agentlink.StatusControlGranted:
		c.say(ctx, t, key, t.Requester.DisplayName+" gave "+helper+" control of the mouse and keyboard.")
	case agentlink.StatusControlEnded:
		c.say(ctx, t, key, t.Requester.DisplayName+" took control back.")
	case agentlink.StatusEnded:
		summary := ""
		if m.Summary != nil {
			b, _ := json.Marshal(m.Summary)
			summary = string(b)
		}
		c.updateTicket(ctx, t.ID, func(x *store.Ticket) { x.State, x.Summary = store.StateEnded, summary })
		c.say(ctx, t, key, "The session ended. "+summaryText(m.Summary))
	case agentlink.StatusExpired:
		c.updateTicket(ctx, t.ID, func(x *store.Ticket) { x.State = store.StateFailed })
		c.say(ctx, t, key, "The invitation expired before "+helper+" connected. /gethelp resend makes a new one.")
	case agentlink.StatusCancelled:
		c.updateTicket(ctx, t.ID, func(x *store.Ticket) { x.State = store.StateCancelled })
		c.say(ctx, t, key, t.Requester.DisplayName+" stopped the request on their computer.")
	}
}

// summaryText is an honest account: what path, how fast, how much.
func summaryText(s *agentlink.Summary) string {
	if s == nil {
		return ""
	}
	var b strings.Builder
	path := map[string]string{
		"lan": "direct connection (same network)", "direct": "direct connection",
		"punched": "direct connection (through NAT)", "relayed": "relayed connection (end-to-end encrypted)",
	}[s.Path]
	if path == "" {
		path = "connection"
	}
	fmt.Fprintf(&b, "%s, %s, round trip %.1f ms, %s of screen in %d updates.",
		s.Duration.Round(time.Second), path, float64(s.RTT.Microseconds())/1000, megabytes(s.ScreenBytes), s.Updates)
	if s.Reason != "" {
		b.WriteString(" Ended: " + s.Reason + ".")
	}
	return b.String()
}

func megabytes(n int64) string {
	if n < 1e6 {
		return fmt.Sprintf("%.0f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}

// ticketCommand handles status, cancel and resend.
func (c *Core) ticketCommand(ctx context.Context, who Identity, verb, id string) Reply {
	t, err := c.ticketOf(ctx, who, id)
	if err != nil {
		return Reply{Text: "You have no open request" + map[bool]string{true: " with that id", false: ""}[id != ""] + "."}
	}
	switch verb {
	case "status":
		helper := "no helper yet"
		if t.Helper != nil {
			helper = "helper " + t.Helper.DisplayName
		}
		return Reply{Text: fmt.Sprintf("Ticket %s: %s, %s, opened %s.", t.ID[:8], strings.ReplaceAll(string(t.State), "_", " "), helper, t.CreatedAt.Format("15:04 on 2 Jan"))}
	case "cancel":
		c.updateTicket(ctx, t.ID, func(x *store.Ticket) { x.State = store.StateCancelled })
		c.toAgent(t.AgentKey, agentlink.Message{Type: agentlink.TypeCancel, Ticket: t.ID, Reason: who.DisplayName + " cancelled the request"})
		c.say(ctx, t, "cancelled", who.DisplayName+" cancelled the request.")
		return Reply{Text: "Cancelled."}
	case "resend":
		if t.Helper == nil {
			return Reply{Text: "Nobody has taken your request yet; there is nothing to resend."}
		}
		if !c.toAgent(t.AgentKey, agentlink.Message{Type: agentlink.TypeResend, Ticket: t.ID}) {
			return Reply{Text: "Your computer is not connected: start `gethelp host agent` on it."}
		}
		return Reply{Text: "Your computer is making a new invitation (new password, new expiry)."}
	}
	return Reply{Text: Usage}
}

// ticketOf returns the ticket id of who (or, helpers, one they help), or
// their newest open ticket when id is "".
func (c *Core) ticketOf(ctx context.Context, who Identity, id string) (store.Ticket, error) {
	tickets, err := c.store.OpenTickets(ctx)
	if err != nil {
		return store.Ticket{}, err
	}
	var found *store.Ticket
	for i := range tickets {
		t := &tickets[i]
		mine := sameUser(t.Requester, who) || (t.Helper != nil && sameUser(*t.Helper, who))
		if !mine || (id != "" && !strings.HasPrefix(t.ID, strings.ToLower(id))) {
			continue
		}
		if found == nil || t.CreatedAt.After(found.CreatedAt) {
			found = t
		}
	}
	if found == nil {
		return store.Ticket{}, store.ErrNotFound
	}
	return *found, nil
}

// resumeTickets, when an agent (re)connects, asks it again what a crash or
// a lost connection left undone: consent never answered, and invitations
// whose password never went out (the bot does not keep passwords, so it
// asks for a new one).
func (c *Core) resumeTickets(ctx context.Context, key string) {
	tickets, err := c.store.OpenTickets(ctx)
	if err != nil {
		return
	}
	for _, t := range tickets {
		if t.AgentKey != key {
			continue
		}
		switch {
		case t.State == store.StateAwaitingConsent:
			c.askConsent(ctx, t)
		case t.State == store.StateInvited && !t.PasswordSent:
			c.toAgent(key, agentlink.Message{Type: agentlink.TypeResend, Ticket: t.ID})
		}
	}
}

// mailInvitation e-mails an invitation the person made on their computer
// (gethelp host invite --email) to the address they gave. The password is
// not the bot's: the person gives it another way. The agent must be linked:
// the request is theirs, and replies come back to them.
func (c *Core) mailInvitation(ctx context.Context, key string, conn interface {
	Send(agentlink.Message) error
}, m agentlink.Message) {
	fail := func(text string) {
		_ = conn.Send(agentlink.Message{Type: agentlink.TypeError, Text: text})
	}
	links, err := c.store.LinksByAgent(ctx, key)
	if err != nil || len(links) == 0 {
		fail("this computer is not linked to anyone: run `gethelp host agent` and type /gethelp link CODE in chat first")
		return
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil || m.InvitationID == "" || len(m.File) == 0 {
		fail("the invitation or the address is not valid")
		return
	}
	if c.cfg.Mail == nil {
		fail("this bot sends no e-mail")
		return
	}
	if !c.allowedHelper(Identity{Network: "email", UserID: to.Address, Email: to.Address}) {
		fail(to.Address + " is not one of the helpers allowed here")
		return
	}
	who := links[len(links)-1].Identity
	t, err := c.store.CreateTicket(ctx, store.Ticket{
		State: store.StateDelivered, Requester: who, HelperEmail: to.Address, Description: m.Description,
		Origin: store.Origin{Network: who.Network}, AgentKey: key, PasswordSent: true,
		InvitationID: m.InvitationID, InvitationFile: m.File, InvitationExpires: m.Expires,
	})
	if err != nil {
		c.logger.Error("creating a ticket", "err", err)
		fail("the bot could not record the invitation; try again")
		return
	}
	c.countTicket()
	root := postPayload{To: Place{Workspace: who.Workspace, User: who.UserID}, Message: Message{
		Text: fmt.Sprintf("Your invitation %s is on its way to %s by e-mail. Give them the password another way (by phone, not by e-mail). Replies to it appear here.", m.InvitationID, to.Address),
	}}
	if err := c.enqueue(ctx, t.ID, who.Network, kindRoot, "ticket/"+t.ID+"/root", root); err != nil {
		c.logger.Error("queueing the DM", "err", err)
	}
	t.Helper = &Identity{Network: "email", UserID: to.Address, DisplayName: to.Name, Email: to.Address}
	if t.Helper.DisplayName == "" {
		t.Helper.DisplayName = to.Address
	}
	c.sendInvitationFile(ctx, t, fmt.Sprint(m.Expires.Unix()), true, "from "+who.DisplayName+" in person or by phone, never by e-mail")
	_ = conn.Send(agentlink.Message{Type: agentlink.TypeMailSent, Ticket: t.ID, To: to.Address})
}
