package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gethelp/gethelp/bot/store"
)

// Usage is the reply to "/gethelp help" and to junk.
const Usage = "Usage:\n" +
	"/gethelp [@helper] [what is wrong]  ask for help (without @helper: the help desk)\n" +
	"/gethelp link CODE                  link this chat account to your computer (run `gethelp host agent` there for the code)\n" +
	"/gethelp unlink                     remove the links to your computers\n" +
	"/gethelp links                      list your linked computers\n" +
	"/gethelp status | cancel | resend   your open request (resend: new password and expiry)"

// Command handles "/gethelp ...".
func (c *Core) Command(ctx context.Context, cmd Command) Reply {
	if cmd.ID != "" {
		if fresh, err := c.store.MarkSeen(ctx, "command/"+cmd.From.Network+"/"+cmd.ID, c.now()); err == nil && !fresh {
			return Reply{Text: "Already done."}
		}
	}
	args := strings.Fields(cmd.Text)
	verb := ""
	if len(args) > 0 {
		verb = strings.ToLower(args[0])
	}
	switch verb {
	case "help", "link", "unlink", "links", "status", "cancel", "resend":
		c.countCommand(verb)
	default:
		c.countCommand("request")
	}
	switch verb {
	case "help", "-h", "--help", "?":
		return Reply{Text: Usage}
	case "link":
		if len(args) != 2 {
			return Reply{Text: "Usage: /gethelp link CODE (the code `gethelp host agent` shows on your computer)"}
		}
		return c.link(ctx, cmd.From, args[1])
	case "unlink":
		return c.unlink(ctx, cmd.From)
	case "links":
		return c.listLinks(ctx, cmd.From)
	case "status", "cancel", "resend":
		if len(args) > 2 {
			return Reply{Text: "Usage: /gethelp " + verb + " [ticket]"}
		}
		id := ""
		if len(args) == 2 {
			id = args[1]
		}
		return c.ticketCommand(ctx, cmd.From, verb, id)
	}
	return c.request(ctx, cmd)
}

func (c *Core) link(ctx context.Context, who Identity, code string) Reply {
	l, err := c.store.RedeemLinkCode(ctx, normalizeCode(code), who, c.now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Reply{Text: "That code is unknown or already used. Run `gethelp host agent` on your computer for a fresh one."}
	case errors.Is(err, store.ErrExpired):
		return Reply{Text: "That code has expired. Your computer shows a new one when you restart `gethelp host agent`."}
	case err != nil:
		c.logger.Error("redeeming a link code", "err", err)
		return Reply{Text: "Something went wrong on the bot's side; try again in a moment."}
	}
	c.toAgent(l.AgentKey, linkedMessage(l))
	return Reply{Text: fmt.Sprintf("Linked: %s is now your computer. /gethelp from here asks it for consent before anyone sees your screen.", l.AgentName)}
}

func (c *Core) unlink(ctx context.Context, who Identity) Reply {
	links, err := c.store.LinksByIdentity(ctx, who)
	if err != nil {
		return Reply{Text: "Something went wrong on the bot's side; try again in a moment."}
	}
	if len(links) == 0 {
		return Reply{Text: "You have no linked computers."}
	}
	var names []string
	for _, l := range links {
		if err := c.store.DeleteLink(ctx, l.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return Reply{Text: "Something went wrong on the bot's side; try again in a moment."}
		}
		names = append(names, l.AgentName)
		m := linkedMessage(l)
		m.Type = "unlinked"
		c.toAgent(l.AgentKey, m)
	}
	return Reply{Text: "Unlinked: " + strings.Join(names, ", ") + "."}
}

func (c *Core) listLinks(ctx context.Context, who Identity) Reply {
	links, err := c.store.LinksByIdentity(ctx, who)
	if err != nil {
		return Reply{Text: "Something went wrong on the bot's side; try again in a moment."}
	}
	if len(links) == 0 {
		return Reply{Text: "You have no linked computers. Run `gethelp host agent` on yours and type /gethelp link CODE here."}
	}
	var b strings.Builder
	b.WriteString("Your computers:")
	for _, l := range links {
		state := "offline"
		if c.agent(l.AgentKey) != nil {
			state = "online"
		}
		fmt.Fprintf(&b, "\n• %s (%s, linked %s)", l.AgentName, state, l.CreatedAt.Format("2 Jan 2006"))
	}
	return Reply{Text: b.String()}
}

// normalizeCode accepts a code typed with dashes, spaces or lower case.
func normalizeCode(s string) string {
	s = strings.ToUpper(s)
	return strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, s)
}
