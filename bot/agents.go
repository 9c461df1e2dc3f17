package bot

import (
	"context"
	"crypto/rand"
	"errors"
	"hash/fnv"
	"strconv"

	"github.com/gethelp/gethelp/agentlink"
	"github.com/gethelp/gethelp/bot/store"
)

// codeAlphabet has no look-alikes (no 0/O, 1/I/L).
const codeAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

// newLinkCode returns a random 8-character code from codeAlphabet (about
// 40 bits; it works once, for minutes, and only for the agent that asked).
func newLinkCode() string {
	b := make([]byte, 0, 8)
	var buf [1]byte
	for len(b) < 8 {
		rand.Read(buf[:])
		if int(buf[0]) < 256/len(codeAlphabet)*len(codeAlphabet) { // no modulo bias
			b = append(b, codeAlphabet[int(buf[0])%len(codeAlphabet)])
		}
	}
	return string(b)
}

// displayCode writes a code as people read it: K7PM-W3XQ.
func displayCode(code string) string {
	if len(code) != 8 {
		return code
	}
	return code[:4] + "-" + code[4:]
}

func linkedMessage(l store.Link) agentlink.Message {
	id := toLinkIdentity(l.Identity)
	return agentlink.Message{Type: agentlink.TypeLinked, Identity: &id}
}

func toLinkIdentity(id Identity) agentlink.Identity {
	return agentlink.Identity{Network: id.Network, Workspace: id.Workspace, UserID: id.UserID, DisplayName: id.DisplayName, Email: id.Email}
}

// agent returns the connection of an online agent, or nil.
func (c *Core) agent(key string) *agentlink.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.agents[key]
}

// toAgent sends m to the agent if it is online, and reports whether it
// went.
func (c *Core) toAgent(key string, m agentlink.Message) bool {
	conn := c.agent(key)
	if conn == nil {
		return false
	}
	if err := conn.Send(m); err != nil {
		c.logger.Info("the agent did not get a message", "agent", key[:min(12, len(key))], "type", m.Type, "err", err)
		return false
	}
	return true
}

// serveAgents accepts agents until ctx ends.
func (c *Core) serveAgents(ctx context.Context, srv *agentlink.Server) {
	for {
		conn, err := srv.Accept(ctx)
		if err != nil {
			return
		}
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			c.serveAgent(ctx, conn)
		}()
	}
}

func (c *Core) serveAgent(ctx context.Context, conn *agentlink.Conn) {
	key := conn.AgentKey()
	log := c.logger.With("agent", key[:min(12, len(key))], "name", conn.Hello().Name)
	if conn.Hello().Role == agentlink.RoleOneShot {
		c.serveOneShot(ctx, key, conn)
		return
	}
	c.mu.Lock()
	old := c.agents[key]
	c.agents[key] = conn
	c.mu.Unlock()
	if old != nil {
		old.Close("replaced by a newer connection of the same agent")
	}
	defer func() {
		c.mu.Lock()
		if c.agents[key] == conn {
			delete(c.agents, key)
		}
		c.mu.Unlock()
		conn.Close("the bot is stopping")
	}()
	links, err := c.store.LinksByAgent(ctx, key)
	if err != nil {
		log.Error("reading the agent's links", "err", err)
		return
	}
	welcome := agentlink.Message{Type: agentlink.TypeWelcome, Rendezvous: c.cfg.Rendezvous}
	for _, l := range links {
		welcome.Links = append(welcome.Links, toLinkIdentity(l.Identity))
	}
	if err := conn.Send(welcome); err != nil {
		return
	}
	log.Info("agent connected", "links", len(links))
	c.resumeTickets(ctx, key)
	for {
		m, err := conn.Receive(ctx)
		if err != nil {
			log.Info("agent disconnected", "err", err)
			return
		}
		c.fromAgent(ctx, key, conn, m)
		if m.Seq != 0 {
			_ = conn.Send(agentlink.Message{Type: agentlink.TypeAck, Seq: m.Seq})
		}
	}
}

// serveOneShot serves a short connection beside the agent's own: only
// requests the person makes from a command (mail_invitation).
func (c *Core) serveOneShot(ctx context.Context, key string, conn *agentlink.Conn) {
	defer conn.Close("done")
	if err := conn.Send(agentlink.Message{Type: agentlink.TypeWelcome}); err != nil {
		return
	}
	for {
		m, err := conn.Receive(ctx)
		if err != nil {
			return
		}
		if m.Type == agentlink.TypeMailInvitation {
			c.mailInvitation(ctx, key, conn, m)
		}
	}
}

// fromAgent handles one message of an agent.
func (c *Core) fromAgent(ctx context.Context, key string, conn *agentlink.Conn, m agentlink.Message) {
	switch m.Type {
	case agentlink.TypeLinkRequest:
		code := newLinkCode()
		expires := c.now().Add(c.cfg.LinkCodeTTL)
		err := c.store.AddLinkCode(ctx, store.LinkCode{Code: code, AgentKey: key, AgentName: conn.Hello().Name, ExpiresAt: expires})
		if err != nil {
			c.logger.Error("recording a link code", "err", err)
			_ = conn.Send(agentlink.Message{Type: agentlink.TypeError, Text: "the bot could not make a link code; try again"})
			return
		}
		_ = conn.Send(agentlink.Message{Type: agentlink.TypeLinkCode, Code: displayCode(code), Expires: expires})
	case agentlink.TypeMailInvitation:
		c.mailInvitation(ctx, key, conn, m)
	case agentlink.TypeConsent, agentlink.TypeInvitation, agentlink.TypeChat, agentlink.TypeStatus, agentlink.TypeError:
		t, err := c.agentTicket(ctx, key, m.Ticket)
		if err != nil {
			c.logger.Info("agent message about an unknown ticket", "type", m.Type, "err", err)
			return
		}
		switch m.Type {
		case agentlink.TypeConsent:
			c.consent(ctx, t, m)
		case agentlink.TypeInvitation:
			c.invitation(ctx, t, m)
		case agentlink.TypeChat:
			c.sessionChat(ctx, t, m)
		case agentlink.TypeStatus:
			c.status(ctx, t, m)
		case agentlink.TypeError:
			c.say(ctx, t, "agent-error/"+shortHash(m.Text+c.now().String()), "The person's computer reports: "+m.Text)
		}
	default:
		c.logger.Debug("ignoring an agent message", "type", m.Type)
	}
}

// errNotYours: an agent spoke of a ticket that is not its person's.
var errNotYours = errors.New("bot: the ticket belongs to another computer")

// agentTicket returns the ticket id if it belongs to the agent key.
func (c *Core) agentTicket(ctx context.Context, key, id string) (store.Ticket, error) {
	t, err := c.store.Ticket(ctx, id)
	if err != nil {
		return t, err
	}
	links, err := c.store.LinksByAgent(ctx, key)
	if err != nil {
		return t, err
	}
	for _, l := range links {
		if sameUser(l.Identity, t.Requester) {
			return t, nil
		}
	}
	return t, errNotYours
}

func sameUser(a, b Identity) bool {
	return a.Network == b.Network && a.Workspace == b.Workspace && a.UserID == b.UserID
}

// shortHash is a short stable key part.
func shortHash(s string) string {
	h := fnv.New64a()
	h.Write([]byte(s))
	return strconv.FormatUint(h.Sum64(), 36)
}
