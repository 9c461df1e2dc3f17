package webchat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gethelp/gethelp/bot"
)

var (
	_ bot.Network    = (*Server)(nil)
	_ bot.UserLookup = (*Server)(nil)
)

// Name returns "webchat", the network's name in identities.
func (s *Server) Name() string { return "webchat" }

// Send posts m where to says: in a channel (to.Channel), in a thread of it
// (to.Thread, the root's id), or in the direct messages between the bot and
// to.User (to.Channel ""). An ephemeral message in a channel is shown to
// to.User alone. It returns the new message's id, with a state file once
// the message and m.Key are on disk; a second Send with the same non-empty
// m.Key returns the first one's id and posts nothing, even after a
// restart.
//
// Errors wrap bot.ErrPermanent when retrying cannot help: another
// workspace, no such channel or thread (or a thread root that is a reply
// or ephemeral), no such user (wrapping bot.ErrNoSuchUser too), an
// ephemeral message in a channel without to.User, an empty message, text
// over MaxText, a file over MaxFile or without a name, a button without a
// label or action or with a style other than "", "primary" and "danger".
// After Close, Send returns ErrClosed; with ctx done, ctx's error; when
// the state file cannot take the message, ErrStateFull or the file
// system's error, which are not permanent: the message was not posted.
func (s *Server) Send(ctx context.Context, to bot.Place, m bot.Message) (bot.MessageRef, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", ErrClosed
	}
	if m.Key != "" {
		if id, ok := s.keys[m.Key]; ok {
			return bot.MessageRef(id), nil
		}
	}
	msg, err := s.outgoingLocked(to, m)
	if err != nil {
		return "", &wrapped{msg: err.Error(), errs: []error{bot.ErrPermanent, err}}
	}
	if err := s.addLocked(msg, m.Key); err != nil {
		return "", err
	}
	s.logger.Debug("sent", "id", msg.id, "where", msg.conv.name(), "thread", msg.thread, "ephemeral", msg.visibleTo != "")
	return bot.MessageRef(msg.id), nil
}

// outgoingLocked checks what the bot sends and returns it as a message,
// not yet stored.
func (s *Server) outgoingLocked(to bot.Place, m bot.Message) (*message, error) {
	if to.Workspace != "" && to.Workspace != s.workspace {
		return nil, errorf(ErrNotFound, "no workspace %q", to.Workspace)
	}
	if strings.TrimSpace(m.Text) == "" && m.File == nil && len(m.Buttons) == 0 {
		return nil, errorf(ErrInvalid, "an empty message")
	}
	if len(m.Text) > MaxText {
		return nil, errorf(ErrInvalid, "a text of %d bytes, over %d", len(m.Text), MaxText)
	}
	for _, b := range m.Buttons {
		if b.Label == "" || b.Action == "" {
			return nil, errorf(ErrInvalid, "a button needs a label and an action")
		}
		if b.Style != "" && b.Style != "primary" && b.Style != "danger" {
			return nil, errorf(ErrInvalid, "no button style %q", b.Style)
		}
	}
	out := &message{author: botID, text: m.Text, buttons: slices.Clone(m.Buttons)}
	if f := m.File; f != nil {
		if f.Name == "" {
			return nil, errorf(ErrInvalid, "a file without a name")
		}
		if len(f.Data) > MaxFile {
			return nil, errorf(ErrInvalid, "a file of %d bytes, over %d", len(f.Data), MaxFile)
		}
		out.file = &bot.File{Name: f.Name, ContentType: f.ContentType, Data: bytes.Clone(f.Data)}
	}
	var u *User
	if to.User != "" {
		var err error
		if u, err = s.user(to.User); err != nil {
			return nil, err
		}
	}
	var err error
	switch {
	case to.Channel != "":
		if out.conv, err = s.convLocked(to.Channel, ""); err != nil {
			return nil, err
		}
	case u != nil:
		out.conv = s.convs["@"+u.ID]
	default:
		return nil, errorf(ErrInvalid, "a place with neither a channel nor a user")
	}
	if to.Thread != "" {
		if _, err := s.rootLocked(out.conv, to.Thread); err != nil {
			return nil, err
		}
		out.thread = to.Thread
	}
	if m.Ephemeral {
		if u == nil {
			return nil, errorf(ErrInvalid, "an ephemeral message in #%s for nobody: Place.User is empty", to.Channel)
		}
		out.visibleTo = u.ID
	}
	return out, nil
}

// Run passes what people do on the chat to h, one call at a time: a
// command typed (its reply is posted as an ephemeral message to whoever
// typed it, in the same channel or thread), a message posted anywhere (in
// a channel, a thread or to the bot directly), a button pressed (its
// reply posted like a command's). What happens while no Run receives
// waits, up to maxQueue events. Run returns nil when ctx ends, ErrClosed
// when the Server is closed, and ErrRunning when another Run is receiving.
//
// With a state file, a message a user posted counts as delivered once
// Handler.Post has returned (as Slack's events are once acknowledged):
// one posted before a crash or a Close that was not delivered by then is
// passed to Handler.Post again, with the same ID, by the next Server on
// the file. Delivery is at least once, so the core deduplicates by
// Post.ID. Commands and presses are not passed again: like Slack's, they
// fail for the user when the bot is down.
func (s *Server) Run(ctx context.Context, h bot.Handler) error {
	if !s.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer s.running.Store(false)
	for {
		if ctx.Err() != nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.ctx.Done():
			return ErrClosed
		case e := <-s.events:
			s.deliver(ctx, h, e)
		}
	}
}

// event is one thing a person did, for Run.
type event struct {
	command *bot.Command
	post    *bot.Post
	press   *bot.Press

	// For a command or a press: where its reply goes and who sees it.
	conv   *conv
	thread string
	user   string
	typed  string      // the command as typed
	done   chan string // buffered; receives the reply
}

func (s *Server) deliver(ctx context.Context, h bot.Handler, e event) {
	switch {
	case e.command != nil:
		s.answer(e, h.Command(ctx, *e.command).Text)
	case e.press != nil:
		s.answer(e, h.Button(ctx, *e.press).Text)
	case e.post != nil:
		h.Post(ctx, *e.post)
		s.mu.Lock()
		err := s.persistLocked(record{Delivered: string(e.post.ID)})
		s.mu.Unlock()
		if err != nil && !errors.Is(err, ErrClosed) {
			s.logger.Warn("recording a delivered post; it will be delivered again after a restart", "id", e.post.ID, "err", err)
		}
	}
}

// answer posts the reply to a command or a press, ephemeral, and hands it
// to whoever waits for it. An empty reply posts nothing.
func (s *Server) answer(e event, reply string) {
	if reply != "" {
		if len(reply) > MaxText {
			reply = reply[:MaxText]
		}
		s.mu.Lock()
		err := s.addLocked(&message{conv: e.conv, thread: e.thread, author: botID, text: reply, visibleTo: e.user, command: e.typed}, "")
		s.mu.Unlock()
		if err != nil && !errors.Is(err, ErrClosed) {
			s.logger.Warn("posting the reply", "err", err)
		}
	}
	e.done <- reply
}

// enqueueLocked queues e for Run, or returns ErrBusy or ErrClosed. Every
// event is queued with s.mu held, so that the events are in the order of
// the messages, and a check for room stays true until the send.
func (s *Server) enqueueLocked(e event) error {
	if s.closed {
		return ErrClosed
	}
	if len(s.events) == cap(s.events) {
		return ErrBusy
	}
	s.events <- e
	return nil
}

// ask queues e and waits for its reply, up to the deadline.
func (s *Server) ask(ctx context.Context, e event) (string, error) {
	e.done = make(chan string, 1)
	s.mu.Lock()
	err := s.enqueueLocked(e)
	s.mu.Unlock()
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, s.deadline)
	defer cancel()
	select {
	case r := <-e.done:
		return r, nil
	case <-s.ctx.Done():
		return "", ErrClosed
	case <-ctx.Done():
		if ctx.Err() == context.DeadlineExceeded {
			return "", fmt.Errorf("%w (within %v)", ErrTimeout, s.deadline)
		}
		return "", ctx.Err()
	}
}

// LookupUser returns the identity of the user that mention names: "@bob",
// "bob" or "<@bob>", by id or name, without regard to case. workspace must
// be the Server's or "". Otherwise it returns an error wrapping
// bot.ErrNoSuchUser.
func (s *Server) LookupUser(ctx context.Context, workspace, mention string) (bot.Identity, error) {
	if workspace != "" && workspace != s.workspace {
		return bot.Identity{}, noSuchUser(mention)
	}
	k := strings.TrimSpace(mention)
	if strings.HasPrefix(k, "<@") && strings.HasSuffix(k, ">") {
		k = k[2 : len(k)-1]
	}
	k = strings.TrimPrefix(k, "@")
	u, err := s.user(k)
	if err != nil {
		return bot.Identity{}, noSuchUser(mention)
	}
	return s.identity(u), nil
}

// wrapped is an error with words of its own that is each of errs.
type wrapped struct {
	msg  string
	errs []error
}

func (e *wrapped) Error() string   { return e.msg }
func (e *wrapped) Unwrap() []error { return e.errs }

// errorf returns an error that reads "webchat: " and the format, and is
// sentinel.
func errorf(sentinel error, format string, args ...any) error {
	return &wrapped{msg: "webchat: " + fmt.Sprintf(format, args...), errs: []error{sentinel}}
}

func noSuchUser(name string) error {
	return errorf(bot.ErrNoSuchUser, "no such user %q", name)
}
