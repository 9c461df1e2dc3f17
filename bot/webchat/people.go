package webchat

import (
	"context"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/gethelp/gethelp/bot"
)

// Typed is what a user typed into the composer, and where: the body of
// POST /api/command and POST /api/post.
type Typed struct {
	User    string `json:"user"`    // the user's id or name
	Channel string `json:"channel"` // "" for the direct messages with the bot
	Thread  string `json:"thread"`  // the thread's root id; "" outside threads
	Text    string `json:"text"`
}

// Pressed is a press of a button: the body of POST /api/press.
type Pressed struct {
	User    string `json:"user"`    // the user's id or name
	Message string `json:"message"` // the id of the message with the button
	Action  string `json:"action"`
	Value   string `json:"value"`
}

// Message is a message as a user sees it: an element of GET
// /api/messages, and of the "message" events of /ws.
type Message struct {
	ID         string    `json:"id"`                // "m" and six or more digits; later messages have greater ids
	Channel    string    `json:"channel,omitempty"` // "" in direct messages
	DM         string    `json:"dm,omitempty"`      // in direct messages: the user's id
	Thread     string    `json:"thread,omitempty"`  // in a thread: the root's id
	Author     string    `json:"author"`            // a user's id, or "bot"
	AuthorName string    `json:"author_name"`
	Text       string    `json:"text"`
	Buttons    []Button  `json:"buttons,omitempty"`
	File       *FileInfo `json:"file,omitempty"`
	VisibleTo  string    `json:"visible_to,omitempty"` // ephemeral: the one user who sees it
	Command    string    `json:"command,omitempty"`    // the reply to a command: the command as typed
	Time       time.Time `json:"time"`
	Replies    int       `json:"replies,omitempty"` // a thread's root: the replies the viewer sees
}

// Button is a button under a message.
type Button struct {
	Label  string `json:"label"`
	Action string `json:"action"`
	Value  string `json:"value,omitempty"`
	Style  string `json:"style,omitempty"` // "primary", "danger" or ""
}

// FileInfo describes a file attached to a message or a mail; URL
// downloads it.
type FileInfo struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type,omitempty"`
	Size        int    `json:"size"`
	URL         string `json:"url"`
}

// Command is user typing text ("/gethelp ARGS") in t.Channel (or, with
// t.Channel "", in the direct messages with the bot), in thread t.Thread if
// set. Run passes it to Handler.Command with ARGS; the reply is posted,
// ephemeral, for the user alone, where the command was typed, and returned.
// The command itself is not posted. It returns bot.ErrNoSuchUser (wrapped)
// for an unknown user; ErrNotFound for an unknown channel or thread;
// ErrInvalid for text that is not /gethelp or is too long; ErrTimeout when
// the bot did not answer within Options.Deadline; ErrBusy, ErrClosed,
// ctx's error, or the state file's (see Send).
func (s *Server) Command(ctx context.Context, t Typed) (reply string, err error) {
	typed := strings.TrimSpace(t.Text)
	name, args := typed, ""
	if i := strings.IndexFunc(typed, unicode.IsSpace); i >= 0 {
		name, args = typed[:i], typed[i:]
	}
	switch {
	case name != "/gethelp" && strings.HasPrefix(name, "/"):
		return "", errorf(ErrInvalid, "%s is not a command here; the only one is /gethelp", name)
	case name != "/gethelp":
		return "", errorf(ErrInvalid, "a command starts with /gethelp")
	case len(typed) > MaxText:
		return "", errorf(ErrInvalid, "a command of %d bytes, over %d", len(typed), MaxText)
	}
	e, err := s.commandEvent(t, typed, strings.TrimSpace(args))
	if err != nil {
		return "", err
	}
	return s.ask(ctx, e)
}

func (s *Server) commandEvent(t Typed, typed, args string) (event, error) {
	u, err := s.user(t.User)
	if err != nil {
		return event{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.convLocked(t.Channel, u.ID)
	if err != nil {
		return event{}, err
	}
	if t.Thread != "" {
		if _, err := s.rootLocked(c, t.Thread); err != nil {
			return event{}, err
		}
	}
	if s.closed {
		return event{}, ErrClosed
	}
	id, err := s.nextIDLocked("c")
	if err != nil {
		return event{}, err
	}
	at := bot.Place{Workspace: s.workspace, Channel: c.channel, Thread: t.Thread, User: c.dm}
	cmd := &bot.Command{From: s.identity(u), At: at, Text: args, ID: id}
	return event{command: cmd, conv: c, thread: t.Thread, user: u.ID, typed: typed}, nil
}

// Post is user posting t.Text in t.Channel (or, with t.Channel "", to the
// bot directly), in thread t.Thread if set. The message is posted for all
// to see, queued for Handler.Post, and its id returned at once. It returns
// the errors of Command but ErrTimeout and ctx's.
func (s *Server) Post(ctx context.Context, t Typed) (id string, err error) {
	if strings.TrimSpace(t.Text) == "" {
		return "", errorf(ErrInvalid, "an empty message")
	}
	if len(t.Text) > MaxText {
		return "", errorf(ErrInvalid, "a message of %d bytes, over %d", len(t.Text), MaxText)
	}
	u, err := s.user(t.User)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.convLocked(t.Channel, u.ID)
	if err != nil {
		return "", err
	}
	if t.Thread != "" {
		if _, err := s.rootLocked(c, t.Thread); err != nil {
			return "", err
		}
	}
	if s.closed {
		return "", ErrClosed
	}
	if len(s.events) == cap(s.events) {
		return "", ErrBusy
	}
	m := &message{conv: c, thread: t.Thread, author: u.ID, text: t.Text}
	if err := s.addLocked(m, ""); err != nil {
		return "", err
	}
	p := &bot.Post{From: s.identity(u), At: s.place(m), Text: t.Text, ID: bot.MessageRef(m.id)}
	if err := s.enqueueLocked(event{post: p}); err != nil {
		return "", err // cannot happen: checked above, with s.mu held
	}
	return m.id, nil
}

// Press is user pressing the button with p.Action and p.Value under
// message p.Message. Run passes it to Handler.Button; the reply is posted,
// ephemeral, for the user alone, beside the message, and returned. It
// returns ErrNotFound for a message the user does not see or a button it
// does not have, and the other errors of Command.
func (s *Server) Press(ctx context.Context, p Pressed) (reply string, err error) {
	u, err := s.user(p.User)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	m, ok := s.byID[p.Message]
	if !ok || !m.visible(u.ID) {
		s.mu.Unlock()
		return "", errorf(ErrNotFound, "no message %q for %s", p.Message, u.ID)
	}
	found := false
	for _, b := range m.buttons {
		if b.Action == p.Action && b.Value == p.Value {
			found = true
			break
		}
	}
	if !found {
		s.mu.Unlock()
		return "", errorf(ErrNotFound, "no button %q (value %q) on message %s", p.Action, p.Value, p.Message)
	}
	if s.closed {
		s.mu.Unlock()
		return "", ErrClosed
	}
	id, err := s.nextIDLocked("p")
	if err != nil {
		s.mu.Unlock()
		return "", err
	}
	press := &bot.Press{From: s.identity(u), At: s.place(m), Action: p.Action, Value: p.Value, ID: id}
	e := event{press: press, conv: m.conv, thread: m.thread, user: u.ID}
	s.mu.Unlock()
	return s.ask(ctx, e)
}

// Messages returns what user sees, oldest first: with thread "", the
// messages of channel (or, with channel "", of the direct messages with
// the bot) that are not replies; with thread, the thread's root and its
// replies. Ephemeral messages for user are included. It returns
// bot.ErrNoSuchUser (wrapped) or ErrNotFound.
func (s *Server) Messages(user, channel, thread string) ([]Message, error) {
	u, err := s.user(user)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.convLocked(channel, u.ID)
	if err != nil {
		return nil, err
	}
	if thread != "" {
		if _, err := s.rootLocked(c, thread); err != nil {
			return nil, err
		}
	}
	replies := make(map[string]int)
	for _, m := range c.msgs {
		if m.thread != "" && m.visible(u.ID) {
			replies[m.thread]++
		}
	}
	out := []Message{}
	for _, m := range c.msgs {
		if !m.visible(u.ID) {
			continue
		}
		if (thread == "" && m.thread == "") || (thread != "" && (m.id == thread || m.thread == thread)) {
			v := s.viewLocked(m)
			v.Replies = replies[m.id]
			out = append(out, v)
		}
	}
	return out, nil
}

// viewLocked returns m as the API shows it. Replies is left for the
// caller.
func (s *Server) viewLocked(m *message) Message {
	v := Message{
		ID:         m.id,
		Channel:    m.conv.channel,
		DM:         m.conv.dm,
		Thread:     m.thread,
		Author:     m.author,
		AuthorName: botName,
		Text:       m.text,
		VisibleTo:  m.visibleTo,
		Command:    m.command,
		Time:       m.time,
	}
	if m.author != botID {
		if u, err := s.user(m.author); err == nil {
			v.AuthorName = u.Name
		}
	}
	for _, b := range m.buttons {
		v.Buttons = append(v.Buttons, Button{Label: b.Label, Action: b.Action, Value: b.Value, Style: b.Style})
	}
	if f := m.file; f != nil {
		v.File = &FileInfo{Name: f.Name, ContentType: f.ContentType, Size: len(f.Data),
			URL: "/api/file?message=" + url.QueryEscape(m.id)}
	}
	return v
}
