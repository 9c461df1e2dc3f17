package discordfake

import (
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"
)

// wireCommand is an application command as a bot registers it.
type wireCommand struct {
	ID                       string            `json:"id"`
	Name                     string            `json:"name"`
	NameLocalizations        map[string]string `json:"name_localizations"`
	Type                     int               `json:"type"`
	Description              string            `json:"description"`
	DescriptionLocalizations map[string]string `json:"description_localizations"`
	Options                  []wireCommandOpt  `json:"options"`
	DefaultMemberPermissions *string           `json:"default_member_permissions"`
	DefaultPermission        *bool             `json:"default_permission"`
	DMPermission             *bool             `json:"dm_permission"`
	NSFW                     bool              `json:"nsfw"`
	Contexts                 []int             `json:"contexts"`
	IntegrationTypes         []int             `json:"integration_types"`
}

type wireCommandOpt struct {
	Type                     int               `json:"type"`
	Name                     string            `json:"name"`
	NameLocalizations        map[string]string `json:"name_localizations"`
	Description              string            `json:"description"`
	DescriptionLocalizations map[string]string `json:"description_localizations"`
	Required                 bool              `json:"required"`
	Choices                  []struct {
		Name  string `json:"name"`
		Value any    `json:"value"`
	} `json:"choices"`
	Options      []wireCommandOpt `json:"options"`
	ChannelTypes []int            `json:"channel_types"`
	MinValue     *float64         `json:"min_value"`
	MaxValue     *float64         `json:"max_value"`
	MinLength    *int             `json:"min_length"`
	MaxLength    *int             `json:"max_length"`
	Autocomplete bool             `json:"autocomplete"`
}

// commandName is Discord's rule for chat input command and option names.
var commandName = regexp.MustCompile(`^[-_\p{L}\p{N}]{1,32}$`)

// scope returns the application, the guild ("" for global) and the
// command id ("" for the collection) of a commands path.
func (c *call) scope() (app, guild, id string) {
	p := c.params
	if strings.Contains(c.r.URL.Path, "/guilds/") {
		app, guild = p[0], p[1]
		if len(p) > 2 {
			id = p[2]
		}
		return
	}
	app = p[0]
	if len(p) > 1 {
		id = p[1]
	}
	return
}

// commandScope checks the application and guild; it reports whether the
// request may go on, and answered if not.
func (c *call) commandScopeLocked(app, guild string) bool {
	s := c.s
	if app != s.opts.ApplicationID {
		c.reject(http.StatusForbidden, CodeMissingAccess, "Missing Access", "%s %s: application %s is not the token's (%s)", c.r.Method, c.r.URL.Path, app, s.opts.ApplicationID)
		return false
	}
	if guild != "" && s.guilds[guild] == nil {
		// The application is not in that guild with applications.commands.
		c.fail(http.StatusForbidden, CodeMissingAccess, "Missing Access")
		return false
	}
	return true
}

// checkCommand checks a command; it reports whether it is good, and
// answered if not.
func (c *call) checkCommand(w *wireCommand, guild string) bool {
	if w.Type == 0 {
		w.Type = 1
	}
	switch {
	case w.Type < 1 || w.Type > 4:
		c.invalid("type: %d", w.Type)
		return false
	case w.Type == 1 && (!commandName.MatchString(w.Name) || strings.ToLower(w.Name) != w.Name):
		c.invalid("name: %q is not 1 to 32 lower-case letters, digits, - or _", w.Name)
		return false
	case w.Type == 1 && (utf8.RuneCountInString(w.Description) < 1 || utf8.RuneCountInString(w.Description) > 100):
		c.invalid("description: a chat input command needs 1 to 100 characters")
		return false
	case w.Type != 1 && (w.Description != "" || len(w.Options) > 0):
		c.invalid("description and options are for chat input commands")
		return false
	case guild != "" && (w.Contexts != nil || w.IntegrationTypes != nil || w.DMPermission != nil):
		c.invalid("contexts, integration_types and dm_permission are for global commands only")
		return false
	}
	for _, x := range w.Contexts {
		if x < 0 || x > 2 {
			c.invalid("contexts: %d", x)
			return false
		}
	}
	for _, x := range w.IntegrationTypes {
		if x < 0 || x > 1 {
			c.invalid("integration_types: %d", x)
			return false
		}
	}
	return c.checkOptions("options", w.Options)
}

func (c *call) checkOptions(where string, opts []wireCommandOpt) bool {
	if len(opts) > 25 {
		c.invalid("%s: %d options, over 25", where, len(opts))
		return false
	}
	names := map[string]bool{}
	optional := false
	for i, o := range opts {
		switch {
		case o.Type < 1 || o.Type > 11:
			c.invalid("%s[%d]: type %d", where, i, o.Type)
			return false
		case !commandName.MatchString(o.Name) || strings.ToLower(o.Name) != o.Name:
			c.invalid("%s[%d]: name %q", where, i, o.Name)
			return false
		case names[o.Name]:
			c.invalid("%s[%d]: name %q used twice", where, i, o.Name)
			return false
		case utf8.RuneCountInString(o.Description) < 1 || utf8.RuneCountInString(o.Description) > 100:
			c.invalid("%s[%d]: description of %d characters, not 1 to 100", where, i, utf8.RuneCountInString(o.Description))
			return false
		case o.Required && optional:
			c.invalid("%s[%d]: a required option after an optional one", where, i)
			return false
		case (o.MaxLength != nil || o.MinLength != nil) && o.Type != 3:
			c.invalid("%s[%d]: min_length and max_length are for string options", where, i)
			return false
		case o.MaxLength != nil && (*o.MaxLength < 1 || *o.MaxLength > 6000):
			c.invalid("%s[%d]: max_length %d", where, i, *o.MaxLength)
			return false
		}
		names[o.Name] = true
		optional = optional || !o.Required
		if len(o.Options) > 0 {
			if o.Type != 1 && o.Type != 2 {
				c.invalid("%s[%d]: options are for subcommands", where, i)
				return false
			}
			if !c.checkOptions(where+"["+o.Name+"].options", o.Options) {
				return false
			}
		}
	}
	return true
}

func toOptions(opts []wireCommandOpt) []CommandOption {
	var out []CommandOption
	for _, o := range opts {
		co := CommandOption{Type: o.Type, Name: o.Name, Description: o.Description, Required: o.Required, Options: toOptions(o.Options)}
		if o.MaxLength != nil {
			co.MaxLength = *o.MaxLength
		}
		out = append(out, co)
	}
	return out
}

// putLocked stores a command, replacing one of the same name and type in
// its scope; it reports whether it was new.
func (s *Server) putLocked(w wireCommand, guild string) (*Command, bool) {
	cmd := &Command{
		GuildID: guild, Name: w.Name, Description: w.Description, Type: w.Type,
		Options: toOptions(w.Options), Contexts: w.Contexts, IntegrationTypes: w.IntegrationTypes,
	}
	for i, old := range s.commands {
		if old.GuildID == guild && old.Name == w.Name && old.Type == w.Type {
			cmd.ID = old.ID
			s.commands[i] = cmd
			s.changedLocked()
			return cmd, false
		}
	}
	cmd.ID = s.snowflakeLocked()
	s.commands = append(s.commands, cmd)
	s.changedLocked()
	return cmd, true
}

func (s *Server) commandJSON(cmd *Command) map[string]any {
	j := map[string]any{
		"id": cmd.ID, "application_id": s.opts.ApplicationID, "version": cmd.ID, "type": cmd.Type,
		"name": cmd.Name, "description": cmd.Description, "default_member_permissions": nil, "nsfw": false,
		"options": optionsJSON(cmd.Options),
	}
	if cmd.GuildID != "" {
		j["guild_id"] = cmd.GuildID
	}
	if cmd.Contexts != nil {
		j["contexts"] = cmd.Contexts
	}
	if cmd.IntegrationTypes != nil {
		j["integration_types"] = cmd.IntegrationTypes
	}
	return j
}

func optionsJSON(opts []CommandOption) []any {
	out := []any{}
	for _, o := range opts {
		j := map[string]any{"type": o.Type, "name": o.Name, "description": o.Description, "required": o.Required}
		if o.MaxLength != 0 {
			j["max_length"] = o.MaxLength
		}
		if len(o.Options) > 0 {
			j["options"] = optionsJSON(o.Options)
		}
		out = append(out, j)
	}
	return out
}

func (c *call) createCommand() {
	data, _, ok := c.body()
	if !ok {
		return
	}
	var w wireCommand
	if !c.decode(data, &w) {
		return
	}
	app, guild, _ := c.scope()
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if !c.commandScopeLocked(app, guild) || !c.checkCommand(&w, guild) {
		return
	}
	cmd, fresh := s.putLocked(w, guild)
	status := http.StatusOK
	if fresh {
		status = http.StatusCreated
	}
	c.ok(status, s.commandJSON(cmd))
}

func (c *call) overwriteCommands() {
	data, _, ok := c.body()
	if !ok {
		return
	}
	var ws []wireCommand
	if !c.decode(data, &ws) {
		return
	}
	app, guild, _ := c.scope()
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if !c.commandScopeLocked(app, guild) {
		return
	}
	for i := range ws {
		if !c.checkCommand(&ws[i], guild) {
			return
		}
	}
	var keep []*Command
	for _, old := range s.commands {
		if old.GuildID != guild {
			keep = append(keep, old)
		}
	}
	old := s.commands
	s.commands = keep
	out := []any{}
	for _, w := range ws {
		for _, o := range old { // keep ids of commands of the same name
			if o.GuildID == guild && o.Name == w.Name && o.Type == w.Type {
				w.ID = o.ID
			}
		}
		cmd, _ := s.putLocked(w, guild)
		if w.ID != "" {
			cmd.ID = w.ID
		}
		out = append(out, s.commandJSON(cmd))
	}
	c.ok(http.StatusOK, out)
}

func (c *call) listCommands() {
	app, guild, _ := c.scope()
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if !c.commandScopeLocked(app, guild) {
		return
	}
	out := []any{}
	for _, cmd := range s.commands {
		if cmd.GuildID == guild {
			out = append(out, s.commandJSON(cmd))
		}
	}
	c.ok(http.StatusOK, out)
}

func (c *call) deleteCommand() {
	app, guild, id := c.scope()
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if !c.commandScopeLocked(app, guild) {
		return
	}
	for i, cmd := range s.commands {
		if cmd.GuildID == guild && cmd.ID == id {
			s.commands = append(s.commands[:i], s.commands[i+1:]...)
			s.changedLocked()
			c.ok(http.StatusNoContent, nil)
			return
		}
	}
	c.fail(http.StatusNotFound, 10063, "Unknown application command")
}
