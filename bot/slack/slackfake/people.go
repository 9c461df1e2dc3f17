package slackfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
)

// SlashCommand types "/gethelp text" as user in channel (ids or names;
// channel "" is the user's direct conversation with the bot), waits for
// the acknowledgement (within AckTimeout) and then for the reply, and
// returns the reply's text as shown (Slack's &amp; &lt; &gt; undone): the
// ack's own text, or the first ephemeral
// message for user in channel posted after the command (through the
// command's response_url or chat.postEphemeral), within ReplyTimeout. A
// missing ack or reply is a failure, and returns "".
func (s *Server) SlashCommand(user, channel, text string) string {
	s.start()
	s.mu.Lock()
	u, ch, ok := s.personLocked("SlashCommand", user, channel)
	if !ok {
		s.mu.Unlock()
		return ""
	}
	text = escape(text)
	if !s.NoEscape {
		text = s.escapeLocked(text)
	}
	respURL := s.responseURLLocked(u.ID, ch.ID, "")
	start := len(s.messages)
	name := ch.Name
	if ch.IM {
		name = "directmessage"
	}
	payload := map[string]any{
		"token": VerificationToken, "team_id": TeamID, "team_domain": TeamDomain,
		"channel_id": ch.ID, "channel_name": name, "user_id": u.ID, "user_name": u.Name,
		"command": "/gethelp", "text": text, "api_app_id": AppID, "is_enterprise_install": "false",
		"response_url": respURL, "trigger_id": s.triggerIDLocked(),
	}
	s.mu.Unlock()
	ack, ok := s.deliver("slash_commands", payload, true, 0)
	if !ok {
		return ""
	}
	if t := ackText(ack); t != "" {
		return unescape(t)
	}
	return s.reply("SlashCommand", u.ID, ch.ID, start)
}

// Press presses the button with actionID and value of the message with
// ts messageTS, as user, waits for the acknowledgement and the reply like
// SlashCommand, and returns the reply's text. A message or button that
// does not exist is a failure.
func (s *Server) Press(user, messageTS, actionID, value string) string {
	s.start()
	s.mu.Lock()
	u := s.userLocked(user)
	var m *Message
	for _, x := range s.messages {
		if x.TS == messageTS && (!x.Ephemeral || u != nil && x.VisibleTo == u.ID) {
			m = x
		}
	}
	var btn *Button
	if m != nil {
		for i, b := range m.Buttons {
			if b.ActionID == actionID && b.Value == value {
				btn = &m.Buttons[i]
			}
		}
	}
	switch {
	case u == nil:
		s.failLocked("Press: no user %q", user)
	case m == nil:
		s.failLocked("Press: no message %s", messageTS)
	case btn == nil:
		s.failLocked("Press: message %s has no button %q with value %q", messageTS, actionID, value)
	case !s.channels[m.Channel].member(u.ID):
		s.failLocked("Press: %s is not in %s", u.ID, m.Channel)
	}
	if u == nil || btn == nil || !s.channels[m.Channel].member(u.ID) {
		s.mu.Unlock()
		return ""
	}
	ch := s.channels[m.Channel]
	start := len(s.messages)
	container := map[string]any{"type": "message", "message_ts": m.TS, "channel_id": m.Channel, "is_ephemeral": m.Ephemeral}
	if m.ThreadTS != "" {
		container["thread_ts"] = m.ThreadTS
	}
	action := map[string]any{
		"action_id": btn.ActionID, "block_id": btn.BlockID, "value": btn.Value, "type": "button",
		"text": map[string]any{"type": "plain_text", "text": btn.Text, "emoji": true}, "action_ts": s.newTSLocked(),
	}
	if btn.Style != "" {
		action["style"] = btn.Style
	}
	name := ch.Name
	if ch.IM {
		name = "directmessage"
	}
	payload := map[string]any{
		"type":       "block_actions",
		"user":       map[string]any{"id": u.ID, "username": u.Name, "name": u.Name, "team_id": TeamID},
		"api_app_id": AppID, "token": VerificationToken, "container": container,
		"trigger_id": s.triggerIDLocked(), "team": map[string]any{"id": TeamID, "domain": TeamDomain},
		"enterprise": nil, "is_enterprise_install": false,
		"channel":      map[string]any{"id": ch.ID, "name": name},
		"message":      s.messageJSONLocked(m, false),
		"state":        map[string]any{"values": map[string]any{}},
		"response_url": s.responseURLLocked(u.ID, ch.ID, m.ThreadTS),
		"actions":      []any{action},
	}
	s.mu.Unlock()
	if _, ok := s.deliver("interactive", payload, false, 0); !ok {
		return ""
	}
	return s.reply("Press", u.ID, ch.ID, start)
}

// Message posts text as user in channel (ids or names; "" is the user's
// direct conversation with the bot), in the thread threadTS when set, and
// sends its message event when the bot is in the channel, waiting for the
// ack. It returns the message's ts.
func (s *Server) Message(user, channel, threadTS, text string) string {
	s.start()
	s.mu.Lock()
	u, ch, ok := s.personLocked("Message", user, channel)
	if !ok {
		s.mu.Unlock()
		return ""
	}
	if threadTS != "" {
		if root := s.messageLocked(ch.ID, threadTS); root == nil || root.ThreadTS != "" {
			s.failLocked("Message: no root message %s in %s", threadTS, ch.ID)
			s.mu.Unlock()
			return ""
		}
	}
	blocks, _ := json.Marshal([]any{map[string]any{
		"type": "rich_text", "block_id": randomHex(3),
		"elements": []any{map[string]any{"type": "rich_text_section", "elements": []any{map[string]any{"type": "text", "text": text}}}},
	}})
	m := &Message{TS: s.newTSLocked(), Channel: ch.ID, ThreadTS: threadTS, User: u.ID, Text: escape(text), Blocks: blocks, Via: "user"}
	s.addMessageLocked(m)
	listening := ch.member(BotUserID)
	var payload map[string]any
	if listening {
		payload = s.eventLocked(m)
	}
	s.mu.Unlock()
	if listening {
		s.deliver("events_api", payload, false, 0)
	}
	return m.TS
}

// Event sends an Events API event_callback whose inner event is event, as
// it is, and waits for the ack; it reports whether the ack came.
func (s *Server) Event(event map[string]any) bool {
	s.start()
	s.mu.Lock()
	payload := map[string]any{
		"token": VerificationToken, "team_id": TeamID, "api_app_id": AppID, "event": event,
		"type": "event_callback", "event_id": s.newIDLocked("Ev"), "event_time": s.now().Unix(),
	}
	s.mu.Unlock()
	_, ok := s.deliver("events_api", payload, false, 0)
	return ok
}

// Envelope sends payload in an envelope of type typ ("events_api",
// "slash_commands", "interactive", or anything) and waits for the ack;
// it returns the ack's payload and whether the ack came.
func (s *Server) Envelope(typ string, payload map[string]any) (json.RawMessage, bool) {
	s.start()
	return s.deliver(typ, payload, typ == "slash_commands", 0)
}

// RetryLastEvent sends the last events_api payload again, as Slack
// retries an event: retry_attempt (Socket Mode) or X-Slack-Retry-Num
// (HTTP) one higher, the same event_id. It waits for the ack.
func (s *Server) RetryLastEvent() bool {
	s.start()
	s.mu.Lock()
	last := s.lastEvent
	s.mu.Unlock()
	if last == nil {
		s.fail("RetryLastEvent: no event was sent")
		return false
	}
	_, ok := s.deliver("events_api", last.payload, false, last.retries+1)
	return ok
}

func (s *Server) personLocked(who, user, channel string) (*User, *Channel, bool) {
	u := s.userLocked(user)
	if u == nil {
		s.failLocked("%s: no user %q", who, user)
		return nil, nil, false
	}
	var ch *Channel
	if channel == "" {
		ch = s.imLocked(u.ID, true)
	} else if ch = s.channelLocked(channel); ch == nil {
		s.failLocked("%s: no channel %q", who, channel)
		return nil, nil, false
	}
	if !ch.member(u.ID) {
		s.failLocked("%s: %s is not in %s", who, u.ID, ch.ID)
		return nil, nil, false
	}
	return u, ch, true
}

var mention = regexp.MustCompile(`(^|\s)@([a-zA-Z0-9._-]+)`)

// escapeLocked turns "@name" into "<@U…|name>" for users the workspace
// knows, as Slack does for a command with should_escape.
func (s *Server) escapeLocked(text string) string {
	return mention.ReplaceAllStringFunc(text, func(m string) string {
		i := strings.Index(m, "@")
		if u := s.userLocked(m[i+1:]); u != nil {
			return m[:i] + "<@" + u.ID + "|" + u.Name + ">"
		}
		return m
	})
}

func (s *Server) triggerIDLocked() string {
	return fmt.Sprintf("%d.%d.%s", s.now().UnixMicro(), 1000+s.seq, randomHex(16))
}

// responseURLLocked makes a response_url for a command or interaction of
// user in channel.
func (s *Server) responseURLLocked(user, channel, thread string) string {
	id := randomHex(12)
	s.responses[id] = &responseURL{user: user, channel: channel, thread: thread}
	return s.srv.URL + "/response/" + id
}

func ackText(ack json.RawMessage) string {
	var a struct {
		Text string `json:"text"`
	}
	if len(ack) == 0 || json.Unmarshal(ack, &a) != nil {
		return ""
	}
	return a.Text
}

// reply waits for the first ephemeral message for user in channel after
// message number start.
func (s *Server) reply(who, user, channel string, start int) string {
	var text string
	ok := s.waitFor(s.replyTimeout(), func() bool {
		for _, m := range s.messages[start:] {
			if m.Ephemeral && m.VisibleTo == user && m.Channel == channel {
				text = m.Plain()
				return true
			}
		}
		return false
	})
	if !ok {
		s.fail("%s: no reply for %s in %s within %v", who, user, channel, s.replyTimeout())
	}
	return text
}

// serveResponse takes what an app posts to a response_url: JSON with
// text or blocks, response_type "ephemeral" (the default) or "in_channel".
// Like Slack, a response_url takes five posts.
func (s *Server) serveResponse(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var msg struct {
		Text            string          `json:"text"`
		ResponseType    string          `json:"response_type"`
		ReplaceOriginal bool            `json:"replace_original"`
		DeleteOriginal  bool            `json:"delete_original"`
		ThreadTS        string          `json:"thread_ts"`
		Blocks          json.RawMessage `json:"blocks"`
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rsp, ok := s.responses[id]
	bad := func(code int, format string, args ...any) {
		s.failLocked("response_url: "+format, args...)
		http.Error(w, http.StatusText(code), code)
	}
	switch {
	case r.Method != http.MethodPost:
		bad(http.StatusMethodNotAllowed, "method %s", r.Method)
		return
	case !ok:
		bad(http.StatusNotFound, "an unknown response_url %s", r.URL.Path)
		return
	case rsp.uses >= 5:
		bad(http.StatusNotFound, "a sixth post to a response_url")
		return
	case !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json"):
		bad(http.StatusBadRequest, "Content-Type %q", r.Header.Get("Content-Type"))
		return
	case json.Unmarshal(body, &msg) != nil:
		bad(http.StatusBadRequest, "a body that is not JSON: %.200s", body)
		return
	case msg.ResponseType != "" && msg.ResponseType != "ephemeral" && msg.ResponseType != "in_channel":
		bad(http.StatusBadRequest, "response_type %q", msg.ResponseType)
		return
	}
	var blocks json.RawMessage
	var buttons []Button
	if len(msg.Blocks) > 0 && string(msg.Blocks) != "null" {
		var err error
		if buttons, err = validateBlocks(msg.Blocks); err != nil {
			bad(http.StatusBadRequest, "invalid_blocks: %v", err)
			return
		}
		blocks = msg.Blocks
	}
	if strings.TrimSpace(msg.Text) == "" && blocks == nil && !msg.DeleteOriginal {
		bad(http.StatusBadRequest, "no_text")
		return
	}
	rsp.uses++
	m := &Message{
		TS: s.newTSLocked(), Channel: rsp.channel, ThreadTS: rsp.thread, User: BotUserID, BotID: BotID,
		Text: msg.Text, Blocks: blocks, Buttons: buttons, Via: "response_url",
	}
	if msg.ResponseType != "in_channel" {
		m.Ephemeral, m.VisibleTo = true, rsp.user
	}
	s.calls = append(s.calls, Call{Method: "response_url", Params: map[string]string{"text": msg.Text, "response_type": msg.ResponseType}})
	s.addMessageLocked(m)
	if !m.Ephemeral {
		s.emitLocked(m)
	}
	w.Header().Set("Content-Type", "text/html")
	_, _ = io.WriteString(w, "ok")
}

// escape escapes text as Slack does in messages and command text.
func escape(text string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(text)
}

func unescape(text string) string {
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(text)
}

// Plain returns the message's text as shown: Slack's &amp; &lt; &gt;
// undone (Text is as Slack stores it, escaped).
func (m Message) Plain() string { return unescape(m.Text) }
