package slack

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// The payloads, parsed into only what the adapter uses, the same way for
// Socket Mode and the HTTP Events API. Parsing is lenient about fields it
// does not read and strict about those it needs: a payload without them is
// an error, logged and dropped.

// slashCommand is a slash command's payload (a JSON object in Socket Mode,
// a form over HTTP; every value a string).
type slashCommand struct {
	TeamID      string `json:"team_id"`
	ChannelID   string `json:"channel_id"`
	UserID      string `json:"user_id"`
	UserName    string `json:"user_name"`
	Command     string `json:"command"`
	Text        string `json:"text"`
	ResponseURL string `json:"response_url"`
	TriggerID   string `json:"trigger_id"`
}

func (c slashCommand) check() error {
	if c.TeamID == "" || c.ChannelID == "" || c.UserID == "" {
		return errors.New("a command without team_id, channel_id or user_id")
	}
	return nil
}

func parseCommandJSON(raw []byte) (slashCommand, error) {
	var c slashCommand
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, fmt.Errorf("a slash command: %w", err)
	}
	return c, c.check()
}

func parseCommandForm(v url.Values) (slashCommand, error) {
	c := slashCommand{
		TeamID: v.Get("team_id"), ChannelID: v.Get("channel_id"), UserID: v.Get("user_id"),
		UserName: v.Get("user_name"), Command: v.Get("command"), Text: v.Get("text"),
		ResponseURL: v.Get("response_url"), TriggerID: v.Get("trigger_id"),
	}
	return c, c.check()
}

// interaction is an interactive payload; the adapter handles
// block_actions (a button pressed) only.
type interaction struct {
	Type string `json:"type"`
	User struct {
		ID     string `json:"id"`
		Name   string `json:"name"`
		TeamID string `json:"team_id"`
	} `json:"user"`
	Team struct {
		ID string `json:"id"`
	} `json:"team"`
	Channel struct {
		ID string `json:"id"`
	} `json:"channel"`
	Container struct {
		ChannelID string `json:"channel_id"`
		MessageTS string `json:"message_ts"`
		ThreadTS  string `json:"thread_ts"`
	} `json:"container"`
	Message struct {
		TS       string `json:"ts"`
		ThreadTS string `json:"thread_ts"`
	} `json:"message"`
	ResponseURL string `json:"response_url"`
	TriggerID   string `json:"trigger_id"`
	Actions     []struct {
		ActionID string `json:"action_id"`
		Value    string `json:"value"`
		Type     string `json:"type"`
		ActionTS string `json:"action_ts"`
	} `json:"actions"`
}

func parseInteraction(raw []byte) (interaction, error) {
	var i interaction
	if err := json.Unmarshal(raw, &i); err != nil {
		return i, fmt.Errorf("an interaction: %w", err)
	}
	if i.Type != "block_actions" {
		return i, nil
	}
	if i.User.ID == "" || len(i.Actions) == 0 || i.Actions[0].ActionID == "" {
		return i, errors.New("block_actions without a user or an action")
	}
	if i.channel() == "" {
		return i, errors.New("block_actions outside a channel")
	}
	return i, nil
}

func (i interaction) channel() string {
	if i.Container.ChannelID != "" {
		return i.Container.ChannelID
	}
	return i.Channel.ID
}

func (i interaction) team() string {
	if i.Team.ID != "" {
		return i.Team.ID
	}
	return i.User.TeamID
}

// thread is the thread the pressed message is a reply in, or "".
func (i interaction) thread() string {
	ts, thread := i.Message.TS, i.Message.ThreadTS
	if ts == "" {
		ts, thread = i.Container.MessageTS, i.Container.ThreadTS
	}
	if thread != "" && thread != ts {
		return thread
	}
	return ""
}

// callback is an Events API payload: event_callback, url_verification,
// app_rate_limited.
type callback struct {
	Type      string          `json:"type"`
	TeamID    string          `json:"team_id"`
	EventID   string          `json:"event_id"`
	Challenge string          `json:"challenge"`
	Event     json.RawMessage `json:"event"`
}

// messageEvent is the inner event of a message.* subscription.
type messageEvent struct {
	Type        string `json:"type"`
	Subtype     string `json:"subtype"`
	Channel     string `json:"channel"`
	ChannelType string `json:"channel_type"`
	User        string `json:"user"`
	BotID       string `json:"bot_id"`
	Text        string `json:"text"`
	TS          string `json:"ts"`
	ThreadTS    string `json:"thread_ts"`
	Team        string `json:"team"`
}

// parseCallback parses an Events API payload and, for a message event,
// its inner event (nil for other events).
func parseCallback(raw []byte) (callback, *messageEvent, error) {
	var c callback
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, nil, fmt.Errorf("an Events API payload: %w", err)
	}
	switch c.Type {
	case "url_verification", "app_rate_limited":
		return c, nil, nil
	case "event_callback":
	default:
		return c, nil, fmt.Errorf("an Events API payload of type %q", c.Type)
	}
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(c.Event, &head); err != nil {
		return c, nil, fmt.Errorf("an event_callback without an event: %w", err)
	}
	if head.Type != "message" {
		return c, nil, nil
	}
	var m messageEvent
	if err := json.Unmarshal(c.Event, &m); err != nil {
		return c, nil, fmt.Errorf("a message event: %w", err)
	}
	if m.Channel == "" || m.TS == "" {
		return c, nil, errors.New("a message event without channel or ts")
	}
	return c, &m, nil
}

// actionSuffix is what Send appends to an action_id that a message uses
// twice (Slack wants them unique): "take#2".
var actionSuffix = regexp.MustCompile(`#[0-9]+$`)

func actionName(actionID string) string {
	return actionSuffix.ReplaceAllString(actionID, "")
}

// plainText undoes Slack's escaping of message text (&amp; &lt; &gt;).
func plainText(s string) string {
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}
