package discordfake

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// Interaction is an interaction the Server dispatched: a command typed or
// a button pressed. Its methods wait for the bot's answers.
type Interaction struct {
	ID, Token string
	Type      int // 2: a command; 3: a button
	s         *Server
	channel   string
	guild     string
	user      string
	created   time.Time
	failed    bool // it could not be dispatched; waits return at once

	// Guarded by s.mu:
	resp      Response
	original  *Message // the answer of a type 4 or 5 response
	followups []*Message
}

// Response is how the bot answered an interaction so far.
type Response struct {
	// Type is the callback's type: 4 (a message), 5 (deferred message), 6
	// (deferred update), 7 (update message); 0 before any.
	Type int
	// After is the time from INTERACTION_CREATE to the callback.
	After time.Duration
	// Ephemeral: the answer (of type 4 or 5) is shown to the user alone.
	Ephemeral bool
	// Content is the answer's text: a type 4's, or a type 5's once edited.
	Content string
	// Edited: the original answer was edited (PATCH .../@original).
	Edited bool
	// Followups are the follow-up messages, oldest first.
	Followups []Message
}

// Response returns how the bot has answered so far.
func (i *Interaction) Response() Response {
	i.s.mu.Lock()
	defer i.s.mu.Unlock()
	return i.responseLocked()
}

func (i *Interaction) responseLocked() Response {
	r := i.resp
	if i.original != nil {
		r.Content = i.original.Content
	}
	r.Followups = nil
	for _, m := range i.followups {
		r.Followups = append(r.Followups, m.clone())
	}
	return r
}

// WaitAck waits for the bot's first answer and returns it; after
// WaitTimeout it fails the test.
func (i *Interaction) WaitAck() Response {
	i.s.tb.Helper()
	if i.failed {
		return Response{}
	}
	if !i.s.waitFor(func() bool { return i.resp.Type != 0 }) {
		i.s.tb.Errorf("discordfake: interaction %s: no answer within %v", i.ID, i.s.opts.WaitTimeout)
	}
	return i.Response()
}

// Wait waits for the bot's answer and returns its text: a type 4's
// content; a type 5's once edited; for a type 6 or 7, the first
// follow-up's. After WaitTimeout it fails the test and returns "".
func (i *Interaction) Wait() string {
	i.s.tb.Helper()
	if i.failed {
		return ""
	}
	done := func() bool {
		switch i.resp.Type {
		case 4:
			return true
		case 5:
			return i.resp.Edited
		case 6, 7:
			return len(i.followups) > 0
		}
		return false
	}
	if !i.s.waitFor(done) {
		r := i.Response()
		i.s.tb.Errorf("discordfake: interaction %s: no answer within %v (answered so far: type %d)", i.ID, i.s.opts.WaitTimeout, r.Type)
		return ""
	}
	r := i.Response()
	if r.Type >= 6 {
		return r.Followups[0].Content
	}
	return r.Content
}

// Option is an option of a command typed. Type 0 takes the registered
// command's type for the name (and fails the test when it has no such
// option); any other type is sent as it is, as Discord does for a command
// registered by an older version.
type Option struct {
	Name, Value string
	Type        int
}

// Interact types the command registered for guild (the guild's own, or
// the global one) in channel as user, and returns the bot's answer (see
// Interaction.Wait). With guild "", it is typed in the user's DM with the
// bot, channel ignored.
func (s *Server) Interact(user, guild, channel string, options ...Option) string {
	s.tb.Helper()
	return s.Invoke(user, guild, channel, options...).Wait()
}

// Invoke types the command as Interact does and returns at once.
func (s *Server) Invoke(user, guild, channel string, options ...Option) *Interaction {
	s.tb.Helper()
	s.mu.Lock()
	var cmd *Command // the guild's, else the global one
	for _, c := range s.commands {
		if c.Type == 1 && (c.GuildID == guild || c.GuildID == "") && (cmd == nil || c.GuildID != "") {
			cmd = c
		}
	}
	s.mu.Unlock()
	if cmd == nil {
		s.tb.Errorf("discordfake: no command registered for guild %q", guild)
		return &Interaction{s: s, failed: true}
	}
	return s.InvokeCommand(cmd.Name, user, guild, channel, options...)
}

// InvokeCommand types the command name, registered or not, as Invoke does.
func (s *Server) InvokeCommand(name, user, guild, channel string, options ...Option) *Interaction {
	s.tb.Helper()
	s.mu.Lock()
	var def *Command
	for _, c := range s.commands {
		if c.Name == name && c.Type == 1 && (c.GuildID == guild || c.GuildID == "" && def == nil) {
			def = c
		}
	}
	cmdID := "1"
	if def != nil {
		cmdID = def.ID
	}
	var opts []any
	resolvedUsers := map[string]any{}
	resolvedMembers := map[string]any{}
	for _, o := range options {
		typ := o.Type
		if typ == 0 {
			if def != nil {
				for _, d := range def.Options {
					if d.Name == o.Name {
						typ = d.Type
					}
				}
			}
			if typ == 0 {
				s.mu.Unlock()
				s.tb.Errorf("discordfake: command %q has no option %q", name, o.Name)
				return &Interaction{s: s, failed: true}
			}
		}
		var v any = o.Value
		switch typ {
		case 4:
			n, err := strconv.ParseInt(o.Value, 10, 64)
			if err != nil {
				v = o.Value
			} else {
				v = n
			}
		case 5:
			v = o.Value == "true"
		case 6:
			if u := s.users[o.Value]; u != nil {
				resolvedUsers[u.ID] = userJSON(u)
				if g := s.guilds[guild]; g != nil {
					if nick, ok := g.members[u.ID]; ok {
						m := s.memberJSONLocked(u.ID, nick, false)
						m["permissions"] = "2147483647"
						resolvedMembers[u.ID] = m
					}
				}
			}
		}
		opts = append(opts, map[string]any{"name": o.Name, "type": typ, "value": v})
	}
	if def != nil {
		for _, d := range def.Options {
			found := false
			for _, o := range options {
				found = found || o.Name == d.Name
			}
			if d.Required && !found {
				s.mu.Unlock()
				s.tb.Errorf("discordfake: command %q needs option %q", name, d.Name)
				return &Interaction{s: s, failed: true}
			}
		}
	}
	data := map[string]any{"id": cmdID, "name": name, "type": 1}
	if opts != nil {
		data["options"] = opts
	}
	if len(resolvedUsers) > 0 {
		r := map[string]any{"users": resolvedUsers}
		if len(resolvedMembers) > 0 {
			r["members"] = resolvedMembers
		}
		data["resolved"] = r
	}
	if guild != "" {
		data["guild_id"] = guild
	}
	s.mu.Unlock()
	return s.interact(interactionCommand, user, guild, channel, data, nil)
}

// Press presses the button with customID under a message as user, and
// returns at once.
func (s *Server) Press(user, messageID, customID string) *Interaction {
	s.tb.Helper()
	s.mu.Lock()
	m := s.messages[messageID]
	found := false
	if m != nil {
		for _, b := range m.Buttons {
			found = found || b.CustomID == customID
		}
	}
	if !found {
		s.mu.Unlock()
		s.tb.Errorf("discordfake: no button %q under message %s", customID, messageID)
		return &Interaction{s: s, failed: true}
	}
	msg := s.messageJSONLocked(m, true)
	guild, channel := m.GuildID, m.ChannelID
	s.mu.Unlock()
	data := map[string]any{"custom_id": customID, "component_type": 2}
	return s.interact(interactionComponent, user, guild, channel, data, msg)
}

// PressButton presses a button as Press does and returns the bot's answer
// (see Interaction.Wait).
func (s *Server) PressButton(user, messageID, customID string) string {
	s.tb.Helper()
	return s.Press(user, messageID, customID).Wait()
}

// interact dispatches INTERACTION_CREATE.
func (s *Server) interact(kind int, user, guild, channelID string, data, message map[string]any) *Interaction {
	s.tb.Helper()
	if !s.WaitReady() {
		return &Interaction{s: s, failed: true}
	}
	s.mu.Lock()
	u := s.users[user]
	if u == nil {
		s.mu.Unlock()
		s.tb.Errorf("discordfake: no user %s", user)
		return &Interaction{s: s, failed: true}
	}
	j := map[string]any{
		"application_id": s.opts.ApplicationID, "type": kind, "version": 1, "data": data,
		"app_permissions": "2147483647", "locale": "en-US", "entitlements": []any{},
		"attachment_size_limit": MaxFile,
	}
	var ch *channel
	if guild == "" {
		ch = s.dmLocked(user)
		j["user"] = userJSON(u)
		j["context"] = 1
		j["authorizing_integration_owners"] = map[string]string{"1": user}
	} else {
		g := s.guilds[guild]
		ch = s.channels[channelID]
		if g == nil || ch == nil || ch.guild != guild {
			s.mu.Unlock()
			s.tb.Errorf("discordfake: no channel %s in guild %s", channelID, guild)
			return &Interaction{s: s, failed: true}
		}
		nick, ok := g.members[user]
		if !ok {
			s.mu.Unlock()
			s.tb.Errorf("discordfake: user %s is not a member of guild %s", user, guild)
			return &Interaction{s: s, failed: true}
		}
		m := s.memberJSONLocked(user, nick, true)
		m["permissions"] = "2147483647"
		j["member"] = m
		j["guild_id"] = guild
		j["guild_locale"] = "en-US"
		j["context"] = 0
		j["authorizing_integration_owners"] = map[string]string{"0": guild}
	}
	cj := s.channelJSONLocked(ch)
	cj["permissions"] = "2147483647"
	j["channel"] = cj
	j["channel_id"] = ch.id
	if message != nil {
		j["message"] = message
	}
	it := &Interaction{
		ID: s.snowflakeLocked(), Token: randomToken(), Type: kind, s: s,
		channel: ch.id, guild: guild, user: user, created: time.Now(),
	}
	j["id"], j["token"] = it.ID, it.Token
	s.interactions[it.ID] = it
	s.byToken[it.Token] = it
	s.dispatchLocked("INTERACTION_CREATE", 0, j)
	s.mu.Unlock()
	return it
}

// Say posts text in a channel or thread as user, dispatches
// MESSAGE_CREATE and returns the message's id.
func (s *Server) Say(user, channel, text string) string {
	s.tb.Helper()
	s.mu.Lock()
	ch := s.channels[channel]
	if ch == nil || ch.kind == channelDM {
		s.mu.Unlock()
		s.tb.Errorf("discordfake: Say: no channel %s (SayDM for DMs)", channel)
		return ""
	}
	if _, ok := s.guilds[ch.guild].members[user]; !ok {
		s.mu.Unlock()
		s.tb.Errorf("discordfake: Say: user %s is not a member of guild %s", user, ch.guild)
		return ""
	}
	s.mu.Unlock()
	return s.say(user, ch, text)
}

// SayDM writes text to the bot in a direct message as user and returns the
// message's id.
func (s *Server) SayDM(user, text string) string {
	s.tb.Helper()
	s.mu.Lock()
	if s.users[user] == nil {
		s.mu.Unlock()
		s.tb.Errorf("discordfake: SayDM: no user %s", user)
		return ""
	}
	ch := s.dmLocked(user)
	s.mu.Unlock()
	return s.say(user, ch, text)
}

func (s *Server) say(user string, ch *channel, text string) string {
	s.tb.Helper()
	if !s.WaitReady() {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := &Message{ID: s.snowflakeLocked(), ChannelID: ch.id, GuildID: ch.guild, AuthorID: user, Content: text, Created: time.Now()}
	s.addMessageLocked(ch, m)
	return m.ID
}

// interactionLocked finds an interaction by its token.
func (c *call) interactionLocked(app, token string) *Interaction {
	it := c.s.byToken[token]
	if it == nil || app != c.s.opts.ApplicationID {
		return nil
	}
	return it
}

func (c *call) interactionCallback() {
	data, files, ok := c.body()
	if !ok {
		return
	}
	var req struct {
		Type int             `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	if !c.decode(data, &req) {
		return
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	it := s.interactions[c.params[0]]
	if it == nil || it.Token != c.params[1] {
		c.reject(http.StatusNotFound, CodeUnknownInteraction, "Unknown interaction", "a callback for an unknown interaction %s", c.params[0])
		return
	}
	after := time.Since(it.created)
	if it.resp.Type != 0 {
		c.reject(http.StatusBadRequest, CodeAlreadyAcked, "Interaction has already been acknowledged.", "interaction %s answered twice", it.ID)
		return
	}
	if after > s.opts.InteractionDeadline {
		c.reject(http.StatusNotFound, CodeUnknownInteraction, "Unknown interaction", "interaction %s answered after %v, over Discord's %v", it.ID, after.Round(time.Millisecond), s.opts.InteractionDeadline)
		return
	}
	valid := req.Type == 4 || req.Type == 5
	if it.Type == interactionComponent {
		valid = valid || req.Type == 6 || req.Type == 7
	}
	if !valid {
		c.invalid("type: %d is no answer to an interaction of type %d", req.Type, it.Type)
		return
	}
	var w webhookMessage
	if len(req.Data) > 0 && string(req.Data) != "null" {
		if req.Type == 6 {
			c.invalid("data: a deferred update takes none")
			return
		}
		if !c.decode(req.Data, &w) {
			return
		}
	}
	d, ok := c.check(w.Content, w.Components, w.AllowedMentions, w.Attachments, files, w.Flags, flagEphemeral|1<<2|1<<12)
	if !ok {
		return
	}
	if req.Type == 4 && d.content == "" && len(d.buttons) == 0 && len(files) == 0 && len(w.Embeds) == 0 {
		c.reject(http.StatusBadRequest, CodeEmptyMessage, "Cannot send an empty message", "interaction %s: an empty answer", it.ID)
		return
	}
	it.resp = Response{Type: req.Type, After: after, Ephemeral: d.flags&flagEphemeral != 0}
	if req.Type == 4 || req.Type == 5 {
		m := &Message{
			ID: s.snowflakeLocked(), ChannelID: it.channel, GuildID: it.guild, AuthorID: s.opts.BotID,
			Content: d.content, Buttons: d.buttons, Files: files, Ephemeral: it.resp.Ephemeral,
			Interaction: it.ID, AllowedMentions: d.mentions, Created: time.Now(),
		}
		it.original = m
		s.addMessageLocked(s.channels[it.channel], m)
	}
	s.changedLocked()
	c.ok(http.StatusNoContent, nil)
}

func (c *call) editOriginal() {
	data, files, ok := c.body()
	if !ok {
		return
	}
	var w struct {
		Content         *string           `json:"content"`
		Embeds          []json.RawMessage `json:"embeds"`
		Flags           int               `json:"flags"`
		AllowedMentions *wireMentions     `json:"allowed_mentions"`
		Components      []wireComponent   `json:"components"`
		Attachments     []wireAttachment  `json:"attachments"`
		Poll            json.RawMessage   `json:"poll"`
	}
	if !c.decode(data, &w) {
		return
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	it := c.interactionLocked(c.params[0], c.params[1])
	if it == nil {
		c.reject(http.StatusNotFound, CodeUnknownWebhook, "Unknown Webhook", "an edit for an unknown interaction token")
		return
	}
	if it.original == nil {
		c.reject(http.StatusNotFound, CodeUnknownMessage, "Unknown Message", "interaction %s: an edit of the original answer before a type 4 or 5 answer", it.ID)
		return
	}
	d, ok := c.check(w.Content, w.Components, w.AllowedMentions, w.Attachments, files, w.Flags, 1<<2)
	if !ok {
		return
	}
	m := it.original
	if w.Content != nil {
		m.Content = d.content
	}
	if w.Components != nil {
		m.Buttons = d.buttons
	}
	if files != nil {
		m.Files = append(m.Files, files...)
	}
	it.resp.Edited = true
	s.changedLocked()
	c.ok(http.StatusOK, s.messageJSONLocked(m, true))
}

func (c *call) getOriginal() {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	it := c.interactionLocked(c.params[0], c.params[1])
	if it == nil || it.original == nil {
		c.fail(http.StatusNotFound, CodeUnknownMessage, "Unknown Message")
		return
	}
	c.ok(http.StatusOK, s.messageJSONLocked(it.original, true))
}

func (c *call) followup() {
	data, files, ok := c.body()
	if !ok {
		return
	}
	var w webhookMessage
	if !c.decode(data, &w) {
		return
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	it := c.interactionLocked(c.params[0], c.params[1])
	if it == nil {
		c.reject(http.StatusNotFound, CodeUnknownWebhook, "Unknown Webhook", "a follow-up for an unknown interaction token")
		return
	}
	if it.resp.Type == 0 {
		c.reject(http.StatusNotFound, CodeUnknownWebhook, "Unknown Webhook", "interaction %s: a follow-up before the interaction was answered", it.ID)
		return
	}
	d, ok := c.check(w.Content, w.Components, w.AllowedMentions, w.Attachments, files, w.Flags, flagEphemeral|1<<2|1<<12)
	if !ok {
		return
	}
	if d.content == "" && len(d.buttons) == 0 && len(files) == 0 && len(w.Embeds) == 0 {
		c.reject(http.StatusBadRequest, CodeEmptyMessage, "Cannot send an empty message", "interaction %s: an empty follow-up", it.ID)
		return
	}
	m := &Message{
		ID: s.snowflakeLocked(), ChannelID: it.channel, GuildID: it.guild, AuthorID: s.opts.BotID,
		Content: d.content, Buttons: d.buttons, Files: files, Ephemeral: d.flags&flagEphemeral != 0,
		Interaction: it.ID, AllowedMentions: d.mentions, Created: time.Now(),
	}
	it.followups = append(it.followups, m)
	s.addMessageLocked(s.channels[it.channel], m)
	if c.r.URL.Query().Get("wait") != "true" {
		c.ok(http.StatusNoContent, nil)
		return
	}
	c.ok(http.StatusOK, s.messageJSONLocked(m, true))
}
