package slack

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/gethelp/gethelp/bot"
)

// identityTTL is how long a user's identity is kept: names and addresses
// change rarely, and a command costs no users.info then.
const identityTTL = 10 * time.Minute

// maxCached bounds the identity cache.
const maxCached = 10000

// listPages bounds the users.list scan of a mention by name.
const listPages = 25

// identityOf is the Identity of u, in workspace team (u's own when "").
func identityOf(team string, u *slack.User) bot.Identity {
	if team == "" {
		team = u.TeamID
	}
	name := u.Profile.DisplayName
	if name == "" {
		name = u.Profile.RealName
	}
	if name == "" {
		name = u.RealName
	}
	if name == "" {
		name = u.Name
	}
	return bot.Identity{Network: "slack", Workspace: team, UserID: u.ID, DisplayName: name, Email: u.Profile.Email}
}

// user returns users.info of id, from the cache when fresh.
func (a *Adapter) user(ctx context.Context, team, id string) (bot.Identity, *slack.User, error) {
	k := team + "/" + id
	now := a.now()
	a.mu.Lock()
	c, ok := a.people[k]
	a.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.id, nil, nil
	}
	var u *slack.User
	err := a.call(ctx, "users.info", func(ctx context.Context) error {
		var err error
		u, err = a.api.GetUserInfoContext(ctx, id)
		return err
	})
	if err != nil {
		return bot.Identity{}, nil, err
	}
	ident := identityOf(team, u)
	a.mu.Lock()
	if len(a.people) >= maxCached {
		clear(a.people)
	}
	a.people[k] = cachedIdentity{id: ident, expires: now.Add(identityTTL)}
	a.mu.Unlock()
	return ident, u, nil
}

// identity is who the payload's user is, for the core: users.info's
// display name (or real name) and e-mail. When Slack cannot say, the
// payload's user name stands in and the e-mail is empty; the user id,
// which is what identities are matched on, is always the payload's.
func (a *Adapter) identity(ctx context.Context, team, id, name string) bot.Identity {
	ident, _, err := a.user(ctx, team, id)
	if err == nil {
		return ident
	}
	a.logger.Warn("looking up a user; going on with the name in the payload", "user", id, "err", err)
	if name == "" {
		name = id
	}
	return bot.Identity{Network: "slack", Workspace: team, UserID: id, DisplayName: name}
}

var (
	// <@U123>, <@U123|name>
	userMention = regexp.MustCompile(`^<@([UW][A-Z0-9]+)(\|[^>]*)?>$`)
	// <mailto:a@b.c|a@b.c>, as Slack escapes an address
	mailMention = regexp.MustCompile(`^<mailto:([^|>]+)(\|[^>]*)?>$`)
	userID      = regexp.MustCompile(`^[UW][A-Z0-9]{6,}$`)
)

// LookupUser returns the identity of the user mention names, for the
// workspace given (or the user's own when ""):
//
//   - "<@U123>" or "<@U123|name>", as Slack escapes a mention in a
//     command with should_escape: users.info;
//   - "@bob@example.com", "bob@example.com" or "<mailto:…>": an e-mail
//     address, users.lookupByEmail;
//   - "@U123ABC": a user id, users.info;
//   - "@bob": a name: users.list, matching the handle, display name or
//     real name without regard to case; only one user may match.
//
// Bots, deleted users, no match and more than one match are errors
// wrapping bot.ErrNoSuchUser; Slack's other errors are returned as
// *Error.
func (a *Adapter) LookupUser(ctx context.Context, workspace, mention string) (bot.Identity, error) {
	m := strings.TrimSpace(mention)
	if sm := userMention.FindStringSubmatch(m); sm != nil {
		return a.lookupID(ctx, workspace, sm[1], mention)
	}
	if sm := mailMention.FindStringSubmatch(m); sm != nil {
		return a.lookupEmail(ctx, workspace, sm[1], mention)
	}
	m = strings.TrimPrefix(m, "@")
	switch {
	case m == "":
		return bot.Identity{}, notFound(mention)
	case strings.Contains(m, "@"):
		return a.lookupEmail(ctx, workspace, m, mention)
	case userID.MatchString(m):
		id, err := a.lookupID(ctx, workspace, m, mention)
		if !errors.Is(err, bot.ErrNoSuchUser) {
			return id, err
		}
	}
	return a.lookupName(ctx, workspace, m, mention)
}

func notFound(mention string) error {
	return fmt.Errorf("slack: no such user %q: %w", mention, bot.ErrNoSuchUser)
}

func usable(u *slack.User) bool { return !u.Deleted && !u.IsBot && u.ID != "USLACKBOT" }

func (a *Adapter) lookupID(ctx context.Context, workspace, id, mention string) (bot.Identity, error) {
	ident, u, err := a.user(ctx, workspace, id)
	if c := code(err); c == "user_not_found" || c == "users_not_found" {
		return bot.Identity{}, notFound(mention)
	}
	if err != nil {
		return bot.Identity{}, err
	}
	if u != nil && !usable(u) {
		return bot.Identity{}, notFound(mention)
	}
	return ident, nil
}

func (a *Adapter) lookupEmail(ctx context.Context, workspace, email, mention string) (bot.Identity, error) {
	var u *slack.User
	err := a.call(ctx, "users.lookupByEmail", func(ctx context.Context) error {
		var err error
		u, err = a.api.GetUserByEmailContext(ctx, email)
		return err
	})
	if c := code(err); c == "users_not_found" || c == "user_not_found" {
		return bot.Identity{}, notFound(mention)
	}
	if err != nil {
		return bot.Identity{}, err
	}
	if !usable(u) {
		return bot.Identity{}, notFound(mention)
	}
	return identityOf(workspace, u), nil
}

func (a *Adapter) lookupName(ctx context.Context, workspace, name, mention string) (bot.Identity, error) {
	var found []slack.User
	cursor := ""
	for range listPages {
		var page []slack.User
		var next string
		err := a.call(ctx, "users.list", func(ctx context.Context) error {
			p := a.api.GetUsersPaginated(slack.GetUsersOptionLimit(200))
			if cursor != "" {
				p.Cursor = cursor
			}
			var err error
			p, err = p.Next(ctx)
			if err == nil {
				page, next = p.Users, p.Cursor
			}
			return err
		})
		if err != nil {
			return bot.Identity{}, err
		}
		for _, u := range page {
			if usable(&u) && (strings.EqualFold(u.Name, name) || strings.EqualFold(u.Profile.DisplayName, name) ||
				strings.EqualFold(u.Profile.RealName, name) || strings.EqualFold(u.RealName, name)) {
				found = append(found, u)
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if len(found) != 1 {
		if len(found) > 1 {
			return bot.Identity{}, fmt.Errorf("slack: %d users are called %q: %w", len(found), mention, bot.ErrNoSuchUser)
		}
		return bot.Identity{}, notFound(mention)
	}
	return identityOf(workspace, &found[0]), nil
}
