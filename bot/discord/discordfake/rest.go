package discordfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Discord's numbers.
const (
	channelText         = 0
	channelDM           = 1
	channelPublicThread = 11

	interactionCommand   = 2
	interactionComponent = 3

	flagEphemeral = 1 << 6

	// MaxFile is the largest upload a bot may make.
	MaxFile = 10 << 20
)

// Discord's error codes the Server answers with.
const (
	CodeUnknownChannel     = 10003
	CodeUnknownGuild       = 10004
	CodeUnknownMember      = 10007
	CodeUnknownMessage     = 10008
	CodeUnknownUser        = 10013
	CodeUnknownWebhook     = 10015
	CodeUnknownInteraction = 10062
	CodeAlreadyAcked       = 40060
	CodeMissingAccess      = 50001
	CodeEmptyMessage       = 50006
	CodeCannotDM           = 50007
	CodeMissingPermissions = 50013
	CodeWrongChannelType   = 50024
	CodeInvalidFormBody    = 50035
	CodeThreadExists       = 160004
)

// call is one REST request.
type call struct {
	s      *Server
	w      http.ResponseWriter
	r      *http.Request
	params []string // the route's wildcards
	status int
	code   int
}

// route is a REST endpoint: segments with "*" for a wildcard.
type route struct {
	method  string
	pattern []string
	auth    bool // needs the bot's Authorization
	handle  func(*call)
}

var routes []route

func init() {
	add := func(method, pattern string, auth bool, h func(*call)) {
		routes = append(routes, route{method: method, pattern: strings.Split(strings.Trim(pattern, "/"), "/"), auth: auth, handle: h})
	}
	add("GET", "/gateway", false, (*call).gateway)
	add("GET", "/gateway/bot", true, (*call).gatewayBot)
	add("GET", "/users/*", true, (*call).getUser)
	add("POST", "/users/@me/channels", true, (*call).openDM)
	add("GET", "/guilds/*/members/*", true, (*call).getMember)
	add("GET", "/channels/*", true, (*call).getChannel)
	add("POST", "/channels/*/messages", true, (*call).createMessage)
	add("POST", "/channels/*/messages/*/threads", true, (*call).startThread)
	add("GET", "/applications/*/commands", true, (*call).listCommands)
	add("POST", "/applications/*/commands", true, (*call).createCommand)
	add("PUT", "/applications/*/commands", true, (*call).overwriteCommands)
	add("DELETE", "/applications/*/commands/*", true, (*call).deleteCommand)
	add("GET", "/applications/*/guilds/*/commands", true, (*call).listCommands)
	add("POST", "/applications/*/guilds/*/commands", true, (*call).createCommand)
	add("PUT", "/applications/*/guilds/*/commands", true, (*call).overwriteCommands)
	add("DELETE", "/applications/*/guilds/*/commands/*", true, (*call).deleteCommand)
	add("POST", "/interactions/*/*/callback", false, (*call).interactionCallback)
	add("PATCH", "/webhooks/*/*/messages/@original", false, (*call).editOriginal)
	add("GET", "/webhooks/*/*/messages/@original", false, (*call).getOriginal)
	add("POST", "/webhooks/*/*", false, (*call).followup)
}

func (r route) match(method string, segs []string) ([]string, bool, bool) {
	if len(segs) != len(r.pattern) {
		return nil, false, false
	}
	var params []string
	for i, p := range r.pattern {
		switch {
		case p == "*":
			if segs[i] == "" {
				return nil, false, false
			}
			params = append(params, segs[i])
		case p != segs[i]:
			return nil, false, false
		}
	}
	return params, true, method == r.method
}

var apiPrefix = regexp.MustCompile(`^/api/v(9|10)/`)

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/" && strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		s.serveGateway(w, r)
		return
	}
	c := &call{s: s, w: w, r: r}
	defer func() {
		s.mu.Lock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Status: c.status, Code: c.code})
		s.changedLocked()
		s.mu.Unlock()
	}()
	loc := apiPrefix.FindStringIndex(r.URL.Path)
	if loc == nil {
		c.reject(http.StatusNotFound, 0, "404: Not Found", "%s %s: not an API path (/api/v9/... or /api/v10/...)", r.Method, r.URL.Path)
		return
	}
	path := r.URL.Path[loc[1]-1:]
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var found *route
	methodOK := false
	for i := range routes {
		if p, ok, m := routes[i].match(r.Method, segs); ok {
			found = &routes[i]
			c.params = p
			if m {
				methodOK = true
				break
			}
		}
	}
	switch {
	case found == nil:
		c.reject(http.StatusNotFound, 0, "404: Not Found", "%s %s: no such endpoint", r.Method, r.URL.Path)
		return
	case !methodOK:
		c.reject(http.StatusMethodNotAllowed, 0, "405: Method Not Allowed", "%s %s: method not allowed", r.Method, r.URL.Path)
		return
	}
	ua := r.Header.Get("User-Agent")
	if !strings.HasPrefix(ua, "DiscordBot (") {
		c.reject(http.StatusBadRequest, 0, "Bad User-Agent", "%s %s: User-Agent %q is not DiscordBot ($url, $version)", r.Method, r.URL.Path, ua)
		return
	}
	if found.auth {
		got := r.Header.Get("Authorization")
		if got != "Bot "+s.opts.Token {
			why := "a wrong token"
			switch {
			case got == "":
				why = "no Authorization header"
			case !strings.HasPrefix(got, "Bot "):
				why = "an Authorization header without \"Bot \""
			}
			c.reject(http.StatusUnauthorized, 0, "401: Unauthorized", "%s %s: %s", r.Method, r.URL.Path, why)
			return
		}
	}
	if r.Method != "GET" && r.Method != "DELETE" && r.ContentLength != 0 {
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if mt != "application/json" && mt != "multipart/form-data" {
			c.reject(http.StatusBadRequest, CodeInvalidFormBody, "Invalid Form Body", "%s %s: Content-Type %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
			return
		}
	}
	if c.rateLimited(path) {
		return
	}
	found.handle(c)
}

// rateLimited answers 429 when a limit applies.
func (c *call) rateLimited(path string) bool {
	s := c.s
	s.mu.Lock()
	now := time.Now()
	var hit *limit
	for _, l := range s.limits {
		if !strings.HasPrefix(path, l.prefix) && !l.global {
			continue
		}
		if !l.until.IsZero() && now.Before(l.until.Add(-10*time.Millisecond)) {
			s.mu.Unlock()
			s.failf("%s %s: %v before the end of a rate limit", c.r.Method, c.r.URL.Path, l.until.Sub(now).Round(time.Millisecond))
			c.write429(l, l.until.Sub(now))
			return true
		}
		if l.count > 0 && strings.HasPrefix(path, l.prefix) {
			hit = l
			break
		}
	}
	if hit == nil {
		s.mu.Unlock()
		return false
	}
	hit.count--
	hit.until = now.Add(hit.after)
	s.mu.Unlock()
	c.write429(hit, hit.after)
	return true
}

func (c *call) write429(l *limit, after time.Duration) {
	secs := after.Seconds()
	h := c.w.Header()
	h.Set("Retry-After", strconv.Itoa(int(after.Seconds()+0.999)))
	h.Set("X-RateLimit-Limit", "5")
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Reset-After", strconv.FormatFloat(secs, 'f', 3, 64))
	h.Set("X-RateLimit-Bucket", "fake-"+strings.ReplaceAll(l.prefix, "/", "-"))
	scope := "user"
	if l.global {
		h.Set("X-RateLimit-Global", "true")
		scope = "global"
	}
	h.Set("X-RateLimit-Scope", scope)
	c.status = http.StatusTooManyRequests
	c.writeJSON(http.StatusTooManyRequests, map[string]any{"message": "You are being rate limited.", "retry_after": secs, "global": l.global})
}

func (c *call) writeJSON(status int, v any) {
	if c.status == 0 {
		c.status = status
	}
	if status == http.StatusNoContent {
		c.w.WriteHeader(status)
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	c.w.Header().Set("Content-Type", "application/json")
	c.w.WriteHeader(status)
	c.w.Write(b)
}

// ok answers with v and Discord's rate-limit headers.
func (c *call) ok(status int, v any) {
	h := c.w.Header()
	h.Set("X-RateLimit-Limit", "50")
	h.Set("X-RateLimit-Remaining", "49")
	h.Set("X-RateLimit-Reset-After", "1.000")
	h.Set("X-RateLimit-Bucket", "fake")
	c.writeJSON(status, v)
}

// fail answers Discord's error JSON for a refusal that depends on the
// state of things (no such channel, no access): the test goes on.
func (c *call) fail(status, code int, msg string) {
	c.code = code
	c.writeJSON(status, map[string]any{"message": msg, "code": code})
}

// reject answers Discord's error JSON for a request the real service
// rejects for what it is, and fails the test.
func (c *call) reject(status, code int, msg, format string, args ...any) {
	c.s.failf(format, args...)
	c.fail(status, code, msg)
}

// invalid rejects an invalid form body.
func (c *call) invalid(format string, args ...any) {
	detail := fmt.Sprintf(format, args...)
	c.s.failf("%s %s: invalid form body: %s", c.r.Method, c.r.URL.Path, detail)
	c.code = CodeInvalidFormBody
	c.writeJSON(http.StatusBadRequest, map[string]any{
		"message": "Invalid Form Body", "code": CodeInvalidFormBody,
		"errors": map[string]any{"_errors": []map[string]string{{"code": "BASE_TYPE_INVALID", "message": detail}}},
	})
}

// decode reads the JSON body into v, strictly: unknown fields and wrong
// types are invalid. It reports whether it could; it answered if not.
func (c *call) decode(data []byte, v any) bool {
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		c.invalid("%v", err)
		return false
	}
	if d.More() {
		c.invalid("data after the JSON value")
		return false
	}
	return true
}

// body reads a JSON or multipart body: the JSON (payload_json in a
// multipart form) and the files, as files[N] parts.
func (c *call) body() ([]byte, []File, bool) {
	data, err := io.ReadAll(io.LimitReader(c.r.Body, 8*MaxFile+1))
	if err != nil {
		c.fail(http.StatusBadRequest, 0, "could not read the body")
		return nil, nil, false
	}
	mt, params, _ := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		if len(data) == 0 {
			c.invalid("no body")
			return nil, nil, false
		}
		return data, nil, true
	}
	mr := multipart.NewReader(bytes.NewReader(data), params["boundary"])
	var payload []byte
	var files []File
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			c.invalid("a multipart body: %v", err)
			return nil, nil, false
		}
		b, err := io.ReadAll(p)
		if err != nil {
			c.invalid("a multipart body: %v", err)
			return nil, nil, false
		}
		name := p.FormName()
		switch {
		case name == "payload_json":
			payload = b
		case strings.HasPrefix(name, "files[") && strings.HasSuffix(name, "]"):
			n, err := strconv.Atoi(name[len("files[") : len(name)-1])
			if err != nil || n != len(files) {
				c.invalid("a part named %q", name)
				return nil, nil, false
			}
			if p.FileName() == "" {
				c.invalid("file %s without a filename", name)
				return nil, nil, false
			}
			if len(b) > MaxFile {
				c.reject(http.StatusRequestEntityTooLarge, 40005, "Request entity too large", "a file of %d bytes, over %d", len(b), MaxFile)
				return nil, nil, false
			}
			files = append(files, File{Name: p.FileName(), ContentType: p.Header.Get("Content-Type"), Data: b})
		default:
			c.invalid("a part named %q", name)
			return nil, nil, false
		}
	}
	if payload == nil {
		payload = []byte("{}")
	}
	return payload, files, true
}

// The JSON the Server reads.
type (
	wireComponent struct {
		Type       int             `json:"type"`
		Style      int             `json:"style,omitempty"`
		Label      string          `json:"label,omitempty"`
		CustomID   string          `json:"custom_id,omitempty"`
		URL        string          `json:"url,omitempty"`
		Disabled   bool            `json:"disabled,omitempty"`
		Emoji      json.RawMessage `json:"emoji,omitempty"`
		Components []wireComponent `json:"components,omitempty"`
	}
	wireMentions struct {
		Parse       []string `json:"parse"`
		Users       []string `json:"users"`
		Roles       []string `json:"roles"`
		RepliedUser bool     `json:"replied_user"`
	}
	wireReference struct {
		Type            int    `json:"type"`
		MessageID       string `json:"message_id"`
		ChannelID       string `json:"channel_id"`
		GuildID         string `json:"guild_id"`
		FailIfNotExists *bool  `json:"fail_if_not_exists"`
	}
	wireAttachment struct {
		ID          json.RawMessage `json:"id"`
		Filename    string          `json:"filename"`
		Description string          `json:"description"`
	}
	// channelMessage is POST /channels/{id}/messages.
	channelMessage struct {
		Content          *string           `json:"content"`
		Nonce            json.RawMessage   `json:"nonce"`
		EnforceNonce     bool              `json:"enforce_nonce"`
		TTS              bool              `json:"tts"`
		Embeds           []json.RawMessage `json:"embeds"`
		AllowedMentions  *wireMentions     `json:"allowed_mentions"`
		MessageReference *wireReference    `json:"message_reference"`
		Components       []wireComponent   `json:"components"`
		StickerIDs       []string          `json:"sticker_ids"`
		Attachments      []wireAttachment  `json:"attachments"`
		Flags            int               `json:"flags"`
		Poll             json.RawMessage   `json:"poll"`
	}
	// webhookMessage is an interaction's answer, follow-up or edit.
	webhookMessage struct {
		Content         *string           `json:"content"`
		TTS             bool              `json:"tts"`
		Embeds          []json.RawMessage `json:"embeds"`
		AllowedMentions *wireMentions     `json:"allowed_mentions"`
		Components      []wireComponent   `json:"components"`
		Attachments     []wireAttachment  `json:"attachments"`
		Flags           int               `json:"flags"`
		Poll            json.RawMessage   `json:"poll"`
		Username        string            `json:"username"`
		AvatarURL       string            `json:"avatar_url"`
		ThreadName      string            `json:"thread_name"`
	}
)

// draft is a message checked, not yet stored.
type draft struct {
	content  string
	buttons  []Button
	files    []File
	mentions []string
	flags    int
	nonempty bool // embeds, stickers or a poll
}

// check checks what every message create or edit has: it reports whether
// all is well, and answered if not. allowedFlags are the flags this
// endpoint takes.
func (c *call) check(content *string, comps []wireComponent, mentions *wireMentions, atts []wireAttachment, files []File, flags, allowedFlags int) (draft, bool) {
	d := draft{files: files, flags: flags}
	if content != nil {
		d.content = *content
	}
	if n := utf8.RuneCountInString(d.content); n > 2000 {
		c.invalid("content: %d characters, over 2000", n)
		return d, false
	}
	if flags&^allowedFlags != 0 {
		c.invalid("flags: %d not allowed here", flags)
		return d, false
	}
	if mentions != nil {
		d.mentions = []string{}
		for _, p := range mentions.Parse {
			if p != "users" && p != "roles" && p != "everyone" {
				c.invalid("allowed_mentions.parse: %q", p)
				return d, false
			}
			d.mentions = append(d.mentions, p)
		}
	}
	if len(comps) > 5 {
		c.invalid("components: %d action rows, over 5", len(comps))
		return d, false
	}
	ids := map[string]bool{}
	for i, row := range comps {
		if row.Type != 1 || len(row.Components) == 0 || len(row.Components) > 5 {
			c.invalid("components[%d]: an action row (type 1) of 1 to 5 buttons, got type %d with %d", i, row.Type, len(row.Components))
			return d, false
		}
		for j, b := range row.Components {
			where := fmt.Sprintf("components[%d].components[%d]", i, j)
			switch {
			case b.Type != 2:
				c.invalid("%s: type %d is not a button", where, b.Type)
				return d, false
			case b.Style < 1 || b.Style > 6:
				c.invalid("%s: style %d", where, b.Style)
				return d, false
			case b.Style == 5 && (b.URL == "" || b.CustomID != ""):
				c.invalid("%s: a link button needs a url and no custom_id", where)
				return d, false
			case b.Style != 5 && b.Style != 6 && (b.CustomID == "" || len(b.CustomID) > 100 || b.URL != ""):
				c.invalid("%s: a button needs a custom_id of 1 to 100 characters and no url", where)
				return d, false
			case utf8.RuneCountInString(b.Label) > 80:
				c.invalid("%s: a label over 80 characters", where)
				return d, false
			case b.Label == "" && len(b.Emoji) == 0:
				c.invalid("%s: a button needs a label or an emoji", where)
				return d, false
			case b.CustomID != "" && ids[b.CustomID]:
				c.invalid("%s: custom_id %q used twice", where, b.CustomID)
				return d, false
			}
			ids[b.CustomID] = true
			d.buttons = append(d.buttons, Button{Label: b.Label, CustomID: b.CustomID, Style: b.Style})
		}
	}
	if len(files) > 10 {
		c.invalid("%d files, over 10", len(files))
		return d, false
	}
	for _, a := range atts {
		var id int
		if err := json.Unmarshal(a.ID, &id); err != nil {
			var s string
			if json.Unmarshal(a.ID, &s) != nil {
				c.invalid("attachments: id %s", a.ID)
				return d, false
			}
			if id, err = strconv.Atoi(s); err != nil {
				c.invalid("attachments: id %s", a.ID)
				return d, false
			}
		}
		if id < 0 || id >= len(files) {
			c.invalid("attachments: id %d names no uploaded file", id)
			return d, false
		}
	}
	return d, true
}

// guard applies a channel's Deny; it reports whether the request may go
// on, and answered if not.
func (c *call) guard(ch *channel) bool {
	deny := ch.deny
	if ch.parent != "" {
		if p := c.s.channels[ch.parent]; p != nil && deny == 0 {
			deny = p.deny
		}
	}
	switch deny {
	case 0:
		return true
	case CodeMissingPermissions:
		c.fail(http.StatusForbidden, deny, "Missing Permissions")
	default:
		c.fail(http.StatusForbidden, deny, "Missing Access")
	}
	return false
}

func (c *call) gateway() {
	c.ok(http.StatusOK, map[string]string{"url": c.s.GatewayURL()})
}

func (c *call) gatewayBot() {
	c.ok(http.StatusOK, map[string]any{"url": c.s.GatewayURL(), "shards": 1, "session_start_limit": map[string]int{
		"total": 1000, "remaining": 999, "reset_after": 14400000, "max_concurrency": 1}})
}

func (c *call) getUser() {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	id := c.params[0]
	if id == "@me" {
		id = s.opts.BotID
	}
	u := s.users[id]
	if u == nil {
		c.fail(http.StatusNotFound, CodeUnknownUser, "Unknown User")
		return
	}
	c.ok(http.StatusOK, userJSON(u))
}

func (c *call) getMember() {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.guilds[c.params[0]]
	if g == nil {
		c.fail(http.StatusNotFound, CodeUnknownGuild, "Unknown Guild")
		return
	}
	nick, ok := g.members[c.params[1]]
	if !ok {
		c.fail(http.StatusNotFound, CodeUnknownMember, "Unknown Member")
		return
	}
	c.ok(http.StatusOK, s.memberJSONLocked(c.params[1], nick, true))
}

func (c *call) getChannel() {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channels[c.params[0]]
	if ch == nil {
		c.fail(http.StatusNotFound, CodeUnknownChannel, "Unknown Channel")
		return
	}
	if !c.guard(ch) {
		return
	}
	c.ok(http.StatusOK, s.channelJSONLocked(ch))
}

func (c *call) openDM() {
	data, _, ok := c.body()
	if !ok {
		return
	}
	var req struct {
		RecipientID string `json:"recipient_id"`
	}
	if !c.decode(data, &req) {
		return
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[req.RecipientID]
	if u == nil {
		c.fail(http.StatusNotFound, CodeUnknownUser, "Unknown User")
		return
	}
	c.ok(http.StatusOK, s.channelJSONLocked(s.dmLocked(u.ID)))
}

// dmLocked returns the DM channel with a user, opening it.
func (s *Server) dmLocked(user string) *channel {
	if id, ok := s.dms[user]; ok {
		return s.channels[id]
	}
	ch := &channel{id: s.snowflakeLocked(), kind: channelDM, recipient: user}
	s.channels[ch.id] = ch
	s.dms[user] = ch.id
	return ch
}

func (c *call) createMessage() {
	data, files, ok := c.body()
	if !ok {
		return
	}
	var req channelMessage
	if !c.decode(data, &req) {
		return
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channels[c.params[0]]
	if ch == nil {
		c.fail(http.StatusNotFound, CodeUnknownChannel, "Unknown Channel")
		return
	}
	if !c.guard(ch) {
		return
	}
	d, ok := c.check(req.Content, req.Components, req.AllowedMentions, req.Attachments, files, req.Flags, 1<<2|1<<12)
	if !ok {
		return
	}
	if d.content == "" && len(d.buttons) == 0 && len(files) == 0 && len(req.Embeds) == 0 && len(req.StickerIDs) == 0 && req.Poll == nil {
		c.reject(http.StatusBadRequest, CodeEmptyMessage, "Cannot send an empty message", "POST %s: an empty message", c.r.URL.Path)
		return
	}
	var nonce string
	if len(req.Nonce) > 0 && string(req.Nonce) != "null" {
		if json.Unmarshal(req.Nonce, &nonce) != nil {
			var n int64
			if json.Unmarshal(req.Nonce, &n) != nil {
				c.invalid("nonce: %s is neither a string nor an integer", req.Nonce)
				return
			}
			nonce = strconv.FormatInt(n, 10)
		}
		if len(nonce) > 25 {
			c.invalid("nonce: %d characters, over 25", len(nonce))
			return
		}
	}
	if ch.kind == channelDM {
		if u := s.users[ch.recipient]; u == nil || u.DMsClosed || u.Bot {
			c.fail(http.StatusForbidden, CodeCannotDM, "Cannot send messages to this user")
			return
		}
	}
	var replyTo string
	if ref := req.MessageReference; ref != nil {
		target := s.messages[ref.MessageID]
		if ref.ChannelID != "" && ref.ChannelID != ch.id || target == nil || target.ChannelID != ch.id || target.Ephemeral {
			if ref.FailIfNotExists == nil || *ref.FailIfNotExists {
				c.fail(http.StatusBadRequest, CodeInvalidFormBody, "Invalid Form Body: message_reference: Unknown message")
				return
			}
		} else {
			replyTo = ref.MessageID
		}
	}
	key := nonceKey{channel: ch.id, author: s.opts.BotID, nonce: nonce}
	if nonce != "" && req.EnforceNonce {
		if e, ok := s.nonces[key]; ok && time.Since(e.when) < 5*time.Minute {
			c.ok(http.StatusOK, s.messageJSONLocked(s.messages[e.id], true))
			return
		}
	}
	m := &Message{
		ID: s.snowflakeLocked(), ChannelID: ch.id, GuildID: ch.guild, AuthorID: s.opts.BotID,
		Content: d.content, Buttons: d.buttons, Files: files, ReplyTo: replyTo, Nonce: nonce,
		AllowedMentions: d.mentions, Created: time.Now(),
	}
	s.addMessageLocked(ch, m)
	if nonce != "" {
		s.nonces[key] = nonceEntry{id: m.ID, when: m.Created}
	}
	c.ok(http.StatusOK, s.messageJSONLocked(m, true))
}

// addMessageLocked stores a message and dispatches MESSAGE_CREATE.
func (s *Server) addMessageLocked(ch *channel, m *Message) {
	s.messages[m.ID] = m
	if !m.Ephemeral {
		ch.order = append(ch.order, m.ID)
		s.dispatchMessageLocked(m)
	}
	s.changedLocked()
}

func (c *call) startThread() {
	data, _, ok := c.body()
	if !ok {
		return
	}
	var req struct {
		Name                string `json:"name"`
		AutoArchiveDuration int    `json:"auto_archive_duration"`
		RateLimitPerUser    *int   `json:"rate_limit_per_user"`
	}
	if !c.decode(data, &req) {
		return
	}
	switch n := utf8.RuneCountInString(req.Name); {
	case n < 1 || n > 100:
		c.invalid("name: %d characters, not 1 to 100", n)
		return
	case req.AutoArchiveDuration != 0 && req.AutoArchiveDuration != 60 && req.AutoArchiveDuration != 1440 &&
		req.AutoArchiveDuration != 4320 && req.AutoArchiveDuration != 10080:
		c.invalid("auto_archive_duration: %d", req.AutoArchiveDuration)
		return
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channels[c.params[0]]
	if ch == nil {
		c.fail(http.StatusNotFound, CodeUnknownChannel, "Unknown Channel")
		return
	}
	if !c.guard(ch) {
		return
	}
	if ch.kind != channelText {
		c.fail(http.StatusBadRequest, CodeWrongChannelType, "Cannot execute action on this channel type")
		return
	}
	m := s.messages[c.params[1]]
	if m == nil || m.ChannelID != ch.id || m.Ephemeral {
		c.fail(http.StatusNotFound, CodeUnknownMessage, "Unknown Message")
		return
	}
	if m.Thread != "" {
		c.fail(http.StatusBadRequest, CodeThreadExists, "A thread has already been created for this message")
		return
	}
	th := &channel{id: m.ID, guild: ch.guild, name: req.Name, parent: ch.id, kind: channelPublicThread}
	s.channels[th.id] = th
	m.Thread = th.id
	j := s.channelJSONLocked(th)
	j["newly_created"] = true
	s.dispatchLocked("THREAD_CREATE", IntentGuilds, j)
	s.changedLocked()
	c.ok(http.StatusCreated, s.channelJSONLocked(th))
}

// The JSON the Server writes.

func userJSON(u *User) map[string]any {
	j := map[string]any{
		"id": u.ID, "username": u.Username, "global_name": nil, "discriminator": "0", "avatar": nil, "public_flags": 0,
	}
	if u.GlobalName != "" {
		j["global_name"] = u.GlobalName
	}
	if u.Bot {
		j["bot"] = true
	}
	return j
}

var epoch = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC).Format(time.RFC3339)

func (s *Server) memberJSONLocked(id, nick string, withUser bool) map[string]any {
	j := map[string]any{"nick": nil, "roles": []string{}, "joined_at": epoch, "deaf": false, "mute": false, "flags": 0, "pending": false}
	if nick != "" {
		j["nick"] = nick
	}
	if withUser {
		j["user"] = userJSON(s.users[id])
	}
	return j
}

func (s *Server) channelJSONLocked(ch *channel) map[string]any {
	j := map[string]any{"id": ch.id, "type": ch.kind}
	switch ch.kind {
	case channelDM:
		j["recipients"] = []any{userJSON(s.users[ch.recipient])}
		j["last_message_id"] = nil
	default:
		j["guild_id"], j["name"], j["position"], j["nsfw"] = ch.guild, ch.name, 0, false
		j["permission_overwrites"] = []any{}
		if ch.parent != "" {
			j["parent_id"] = ch.parent
			j["owner_id"] = s.opts.BotID
			j["message_count"], j["member_count"] = len(ch.order), 1
			j["thread_metadata"] = map[string]any{"archived": false, "auto_archive_duration": 1440, "archive_timestamp": epoch, "locked": false}
		} else {
			j["parent_id"] = nil
		}
	}
	return j
}

func (s *Server) messageJSONLocked(m *Message, content bool) map[string]any {
	author := s.users[m.AuthorID]
	typ := 0
	if m.ReplyTo != "" {
		typ = 19
	}
	j := map[string]any{
		"id": m.ID, "channel_id": m.ChannelID, "author": userJSON(author), "content": "",
		"timestamp": m.Created.UTC().Format(time.RFC3339Nano), "edited_timestamp": nil, "tts": false,
		"mention_everyone": false, "mentions": []any{}, "mention_roles": []any{}, "attachments": []any{},
		"embeds": []any{}, "pinned": false, "type": typ, "flags": 0, "components": []any{},
	}
	if m.GuildID != "" {
		j["guild_id"] = m.GuildID
		if g := s.guilds[m.GuildID]; g != nil && !author.Bot {
			j["member"] = s.memberJSONLocked(m.AuthorID, g.members[m.AuthorID], false)
		}
	}
	if m.Ephemeral {
		j["flags"] = flagEphemeral
	}
	if m.Nonce != "" {
		j["nonce"] = m.Nonce
	}
	if m.ReplyTo != "" {
		j["message_reference"] = map[string]any{"type": 0, "message_id": m.ReplyTo, "channel_id": m.ChannelID}
	}
	if m.Interaction != "" {
		j["webhook_id"] = s.opts.ApplicationID
		j["application_id"] = s.opts.ApplicationID
	}
	if m.Thread != "" {
		if th := s.channels[m.Thread]; th != nil {
			j["thread"] = s.channelJSONLocked(th)
		}
	}
	if !content {
		return j
	}
	j["content"] = m.Content
	var atts []any
	for i, f := range m.Files {
		id := m.ID + strconv.Itoa(i)
		atts = append(atts, map[string]any{
			"id": id, "filename": f.Name, "size": len(f.Data), "content_type": f.ContentType,
			"url":       s.http.URL + "/attachments/" + m.ChannelID + "/" + id + "/" + f.Name,
			"proxy_url": s.http.URL + "/attachments/" + m.ChannelID + "/" + id + "/" + f.Name,
		})
	}
	if atts != nil {
		j["attachments"] = atts
	}
	var rows []any
	var row []any
	for i, b := range m.Buttons {
		row = append(row, map[string]any{"type": 2, "style": b.Style, "label": b.Label, "custom_id": b.CustomID})
		if len(row) == 5 || i == len(m.Buttons)-1 {
			rows = append(rows, map[string]any{"type": 1, "components": row})
			row = nil
		}
	}
	if rows != nil {
		j["components"] = rows
	}
	return j
}

// dispatchMessageLocked dispatches MESSAGE_CREATE as the bot's intents
// let it see the message: without MESSAGE_CONTENT, a guild message by
// someone else that does not mention the bot comes without content.
func (s *Server) dispatchMessageLocked(m *Message) {
	intent := IntentGuildMessages
	if m.GuildID == "" {
		intent = IntentDirectMessages
	}
	content := m.GuildID == "" || m.AuthorID == s.opts.BotID || strings.Contains(m.Content, "<@"+s.opts.BotID+">")
	if s.current != nil && s.current.intents&IntentMessageContent != 0 {
		content = true
	}
	s.dispatchLocked("MESSAGE_CREATE", intent, s.messageJSONLocked(m, content))
}
