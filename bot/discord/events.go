package discord

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Discord's numbers, as its API documents them.
const (
	interactionCommand   = 2 // APPLICATION_COMMAND
	interactionComponent = 3 // MESSAGE_COMPONENT

	callbackMessage         = 4 // CHANNEL_MESSAGE_WITH_SOURCE
	callbackDeferredMessage = 5 // DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
	callbackDeferredUpdate  = 6 // DEFERRED_UPDATE_MESSAGE

	flagEphemeral = 1 << 6

	channelAnnouncementThread = 10
	channelPublicThread       = 11
	channelPrivateThread      = 12

	optionString = 3
	optionUser   = 6

	componentActionRow = 1
	componentButton    = 2

	messageDefault = 0
	messageReply   = 19
)

// errIgnored: an event of a type the adapter does not use.
var errIgnored = errors.New("discord: event not used")

// event is one gateway dispatch, decoded and checked: exactly one of its
// pointers is set, or channels for GUILD_CREATE and THREAD_* events.
type event struct {
	ready       *readyEvent
	interaction *interactionEvent
	message     *messageEvent
	channels    []channelInfo // threads and channels the gateway told of
	gone        []string      // ids of threads deleted
}

type readyEvent struct {
	botID, appID string
}

// person is a user as an event describes them.
type person struct {
	id, username, globalName, nick string
	bot                            bool
}

func (p person) displayName() string {
	switch {
	case p.nick != "":
		return p.nick
	case p.globalName != "":
		return p.globalName
	}
	return p.username
}

// channelInfo is what the adapter needs of a channel: its kind and, for a
// thread, its parent.
type channelInfo struct {
	id, guild, parent string
	kind              int
}

func (c channelInfo) thread() bool {
	return c.kind == channelPublicThread || c.kind == channelPrivateThread || c.kind == channelAnnouncementThread
}

// interactionEvent is an INTERACTION_CREATE the adapter answers.
type interactionEvent struct {
	id, appID, token string
	kind             int // interactionCommand or interactionComponent
	guild, channel   string
	channelInfo      *channelInfo // the partial channel it carries, if any
	from             person

	// Commands:
	command string
	options map[string]commandOption
	// Components:
	customID  string
	messageID string
}

type commandOption struct {
	kind  int
	value string // a string option's text, a user option's id
}

// messageEvent is a MESSAGE_CREATE.
type messageEvent struct {
	id, channel, guild string
	kind               int
	webhook            bool
	author             person
	content            string
	attachments        []string // "name <url>"
}

// The gateway's JSON, as far as the adapter reads it.
type (
	wireUser struct {
		ID         string `json:"id"`
		Username   string `json:"username"`
		GlobalName string `json:"global_name"`
		Bot        bool   `json:"bot"`
	}
	wireMember struct {
		User *wireUser `json:"user"`
		Nick string    `json:"nick"`
	}
	wireChannel struct {
		ID       string `json:"id"`
		Type     int    `json:"type"`
		GuildID  string `json:"guild_id"`
		ParentID string `json:"parent_id"`
	}
	wireOption struct {
		Name    string          `json:"name"`
		Type    int             `json:"type"`
		Value   json.RawMessage `json:"value"`
		Options []wireOption    `json:"options"`
	}
	wireInteraction struct {
		ID            string          `json:"id"`
		ApplicationID string          `json:"application_id"`
		Type          int             `json:"type"`
		Token         string          `json:"token"`
		GuildID       string          `json:"guild_id"`
		ChannelID     string          `json:"channel_id"`
		Channel       *wireChannel    `json:"channel"`
		Member        *wireMember     `json:"member"`
		User          *wireUser       `json:"user"`
		Data          json.RawMessage `json:"data"`
		Message       *struct {
			ID string `json:"id"`
		} `json:"message"`
	}
	wireCommandData struct {
		Name    string       `json:"name"`
		Type    int          `json:"type"`
		Options []wireOption `json:"options"`
	}
	wireComponentData struct {
		CustomID      string `json:"custom_id"`
		ComponentType int    `json:"component_type"`
	}
	wireMessage struct {
		ID          string      `json:"id"`
		ChannelID   string      `json:"channel_id"`
		GuildID     string      `json:"guild_id"`
		Type        int         `json:"type"`
		WebhookID   string      `json:"webhook_id"`
		Author      *wireUser   `json:"author"`
		Member      *wireMember `json:"member"`
		Content     string      `json:"content"`
		Attachments []struct {
			Filename string `json:"filename"`
			URL      string `json:"url"`
		} `json:"attachments"`
	}
	wireReady struct {
		User        *wireUser `json:"user"`
		Application *struct {
			ID string `json:"id"`
		} `json:"application"`
	}
	wireGuild struct {
		ID       string        `json:"id"`
		Channels []wireChannel `json:"channels"`
		Threads  []wireChannel `json:"threads"`
	}
	wireThreadList struct {
		GuildID string        `json:"guild_id"`
		Threads []wireChannel `json:"threads"`
	}
)

// decodeEvent decodes the data of a gateway dispatch of type typ. It
// returns errIgnored for types the adapter does not use, and an error
// saying what is wrong for data it cannot use: not JSON, or without the
// ids it needs, or with ids that are not snowflakes (which would end up
// in URLs). It never panics, whatever raw holds.
func decodeEvent(typ string, raw []byte) (event, error) {
	switch typ {
	case "READY":
		var r wireReady
		if err := json.Unmarshal(raw, &r); err != nil {
			return event{}, fmt.Errorf("discord: READY: %w", err)
		}
		if r.User == nil || !snowflake(r.User.ID) {
			return event{}, errors.New("discord: READY without the bot's user id")
		}
		ev := &readyEvent{botID: r.User.ID}
		if r.Application != nil && snowflake(r.Application.ID) {
			ev.appID = r.Application.ID
		}
		return event{ready: ev}, nil
	case "INTERACTION_CREATE":
		it, err := decodeInteraction(raw)
		if err != nil {
			return event{}, err
		}
		return event{interaction: it}, nil
	case "MESSAGE_CREATE":
		m, err := decodeMessage(raw)
		if err != nil {
			return event{}, err
		}
		return event{message: m}, nil
	case "GUILD_CREATE":
		var g wireGuild
		if err := json.Unmarshal(raw, &g); err != nil {
			return event{}, fmt.Errorf("discord: GUILD_CREATE: %w", err)
		}
		if !snowflake(g.ID) {
			return event{}, errors.New("discord: GUILD_CREATE without a guild id")
		}
		var ev event
		for _, list := range [][]wireChannel{g.Channels, g.Threads} {
			for _, c := range list {
				if c.GuildID == "" {
					c.GuildID = g.ID
				}
				if ci, ok := channelOf(c); ok {
					ev.channels = append(ev.channels, ci)
				}
			}
		}
		return ev, nil
	case "THREAD_CREATE", "THREAD_UPDATE", "CHANNEL_CREATE", "CHANNEL_UPDATE":
		var c wireChannel
		if err := json.Unmarshal(raw, &c); err != nil {
			return event{}, fmt.Errorf("discord: %s: %w", typ, err)
		}
		ci, ok := channelOf(c)
		if !ok {
			return event{}, fmt.Errorf("discord: %s without a channel id", typ)
		}
		return event{channels: []channelInfo{ci}}, nil
	case "THREAD_LIST_SYNC":
		var l wireThreadList
		if err := json.Unmarshal(raw, &l); err != nil {
			return event{}, fmt.Errorf("discord: THREAD_LIST_SYNC: %w", err)
		}
		var ev event
		for _, c := range l.Threads {
			if c.GuildID == "" {
				c.GuildID = l.GuildID
			}
			if ci, ok := channelOf(c); ok {
				ev.channels = append(ev.channels, ci)
			}
		}
		return ev, nil
	case "THREAD_DELETE", "CHANNEL_DELETE":
		var c wireChannel
		if err := json.Unmarshal(raw, &c); err != nil {
			return event{}, fmt.Errorf("discord: %s: %w", typ, err)
		}
		if !snowflake(c.ID) {
			return event{}, fmt.Errorf("discord: %s without a channel id", typ)
		}
		return event{gone: []string{c.ID}}, nil
	}
	return event{}, errIgnored
}

// channelOf checks a channel object; threads need their parent.
func channelOf(c wireChannel) (channelInfo, bool) {
	ci := channelInfo{id: c.ID, guild: c.GuildID, parent: c.ParentID, kind: c.Type}
	if !snowflake(c.ID) || (c.GuildID != "" && !snowflake(c.GuildID)) || (c.ParentID != "" && !snowflake(c.ParentID)) {
		return channelInfo{}, false
	}
	if ci.thread() && ci.parent == "" {
		return channelInfo{}, false
	}
	return ci, true
}

func personOf(u *wireUser, m *wireMember) (person, bool) {
	if u == nil && m != nil {
		u = m.User
	}
	if u == nil || !snowflake(u.ID) {
		return person{}, false
	}
	p := person{id: u.ID, username: u.Username, globalName: u.GlobalName, bot: u.Bot}
	if m != nil {
		p.nick = m.Nick
	}
	return p, true
}

func decodeInteraction(raw []byte) (*interactionEvent, error) {
	var w wireInteraction
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, fmt.Errorf("discord: INTERACTION_CREATE: %w", err)
	}
	if !snowflake(w.ID) || !snowflake(w.ApplicationID) || !interactionToken(w.Token) {
		return nil, errors.New("discord: INTERACTION_CREATE without a valid id, application id or token")
	}
	if !snowflake(w.ChannelID) || (w.GuildID != "" && !snowflake(w.GuildID)) {
		return nil, errors.New("discord: INTERACTION_CREATE without a valid channel or guild id")
	}
	var member *wireMember
	if w.GuildID != "" {
		member = w.Member
	}
	from, ok := personOf(w.User, member)
	if !ok {
		return nil, errors.New("discord: INTERACTION_CREATE without a user")
	}
	it := &interactionEvent{
		id: w.ID, appID: w.ApplicationID, token: w.Token, kind: w.Type,
		guild: w.GuildID, channel: w.ChannelID, from: from,
	}
	if w.Channel != nil && w.Channel.ID == w.ChannelID {
		if w.Channel.GuildID == "" {
			w.Channel.GuildID = w.GuildID
		}
		if ci, ok := channelOf(*w.Channel); ok {
			it.channelInfo = &ci
		}
	}
	switch w.Type {
	case interactionCommand:
		var d wireCommandData
		if err := json.Unmarshal(w.Data, &d); err != nil {
			return nil, fmt.Errorf("discord: a command's data: %w", err)
		}
		it.command = d.Name
		it.options = map[string]commandOption{}
		for _, o := range d.Options {
			var v string
			switch o.Type {
			case optionString, optionUser:
				if err := json.Unmarshal(o.Value, &v); err != nil {
					return nil, fmt.Errorf("discord: option %q: %w", o.Name, err)
				}
			}
			it.options[o.Name] = commandOption{kind: o.Type, value: v}
		}
	case interactionComponent:
		var d wireComponentData
		if err := json.Unmarshal(w.Data, &d); err != nil {
			return nil, fmt.Errorf("discord: a component's data: %w", err)
		}
		if d.CustomID == "" || w.Message == nil || !snowflake(w.Message.ID) {
			return nil, errors.New("discord: a component interaction without a custom id or message")
		}
		it.customID, it.messageID = d.CustomID, w.Message.ID
	default:
		// Pings, autocomplete and modals: the adapter registers none.
		return nil, fmt.Errorf("discord: an interaction of type %d: %w", w.Type, errIgnored)
	}
	return it, nil
}

func decodeMessage(raw []byte) (*messageEvent, error) {
	var w wireMessage
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, fmt.Errorf("discord: MESSAGE_CREATE: %w", err)
	}
	if !snowflake(w.ID) || !snowflake(w.ChannelID) || (w.GuildID != "" && !snowflake(w.GuildID)) {
		return nil, errors.New("discord: MESSAGE_CREATE without valid ids")
	}
	var member *wireMember
	if w.GuildID != "" {
		member = w.Member
	}
	if w.Author == nil {
		return nil, errors.New("discord: MESSAGE_CREATE without an author")
	}
	author, ok := personOf(w.Author, member)
	if !ok {
		return nil, errors.New("discord: MESSAGE_CREATE without a valid author")
	}
	m := &messageEvent{
		id: w.ID, channel: w.ChannelID, guild: w.GuildID, kind: w.Type,
		webhook: w.WebhookID != "", author: author, content: w.Content,
	}
	for _, a := range w.Attachments {
		if a.Filename != "" {
			m.attachments = append(m.attachments, a.Filename+" <"+a.URL+">")
		}
	}
	return m, nil
}

// snowflake reports whether s is a Discord id: 1 to 20 decimal digits.
func snowflake(s string) bool {
	if len(s) == 0 || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// interactionToken reports whether s can be an interaction token, which
// goes into URL paths: letters, digits and "-_.", at most 1000 of them.
func interactionToken(s string) bool {
	if len(s) == 0 || len(s) > 1000 {
		return false
	}
	return strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
	}) < 0
}
