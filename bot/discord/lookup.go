package discord

import (
	"context"
	"fmt"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/gethelp/gethelp/bot"
)

// LookupUser returns the identity of the user mention names: "<@ID>" or
// "<@!ID>" as Discord writes a mention (and as Run writes the helper
// option), or a bare id. With workspace (a guild id), the user must be a
// member of that guild, and their nickname there is their display name;
// otherwise their global display name or username is. Discord gives bots
// no e-mail addresses: Identity.Email is always "".
//
// Errors wrap bot.ErrNoSuchUser for a mention that is not of that form (a
// typed "@name", which Discord did not resolve), a user Discord does not
// know, a user who is not a member of workspace, and a bot (bots do not
// help people); other errors are the API's or the network's, and say
// nothing about the user.
func (a *Adapter) LookupUser(ctx context.Context, workspace, mention string) (bot.Identity, error) {
	id := mentionID(mention)
	if id == "" {
		return bot.Identity{}, noSuchUser(mention, "pick the person from Discord's list, or use the helper option")
	}
	if workspace != "" && !snowflake(workspace) {
		return bot.Identity{}, noSuchUser(mention, "no such server")
	}
	var u wireUser
	if err := a.requestJSON(ctx, "looking up user "+id, "GET", discordgo.EndpointUser(id), nil, &u); err != nil {
		if c := codeOf(err); c == codeUnknownUser {
			return bot.Identity{}, noSuchUser(mention, "Discord knows nobody by that id")
		}
		return bot.Identity{}, err
	}
	if u.ID != id {
		return bot.Identity{}, fmt.Errorf("discord: looking up user %s: the answer is of %q", id, u.ID)
	}
	if u.Bot {
		return bot.Identity{}, noSuchUser(mention, "a bot")
	}
	p := person{id: u.ID, username: u.Username, globalName: u.GlobalName}
	if workspace != "" {
		var m wireMember
		err := a.requestJSON(ctx, "looking up member "+id, "GET", discordgo.EndpointGuildMember(workspace, id), nil, &m)
		switch c := codeOf(err); {
		case err == nil:
			p.nick = m.Nick
		case c == codeUnknownMember || c == codeUnknownGuild || c == codeUnknownUser:
			return bot.Identity{}, noSuchUser(mention, "not a member of this server")
		default:
			return bot.Identity{}, err
		}
	}
	return identity(workspace, p), nil
}

// mentionID returns the user id in "<@ID>", "<@!ID>" or "ID", or "".
func mentionID(mention string) string {
	s := strings.TrimSpace(mention)
	if strings.HasPrefix(s, "<@") && strings.HasSuffix(s, ">") {
		s = strings.TrimPrefix(s[2:len(s)-1], "!")
	}
	if !snowflake(s) {
		return ""
	}
	return s
}

// identity is the identity Discord vouches for p in guild.
func identity(guild string, p person) bot.Identity {
	return bot.Identity{Network: "discord", Workspace: guild, UserID: p.id, DisplayName: p.displayName()}
}

// userError is an error about a user named in a command.
type userError struct{ msg string }

func (e *userError) Error() string { return e.msg }
func (e *userError) Unwrap() error { return bot.ErrNoSuchUser }

func noSuchUser(mention, why string) error {
	return &userError{msg: fmt.Sprintf("discord: no such user %q: %s", mention, why)}
}
