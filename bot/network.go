package bot

import (
	"context"
	"errors"

	"github.com/gethelp/gethelp/bot/store"
)

// Identity is who a network vouches a person is; never a name someone
// typed.
type Identity = store.Identity

// Network is a chat network as the core sees it: webchat, Slack, Discord,
// later Teams or Matrix. Each adapter package implements it and imports
// nothing else of the bot but this package and bot/store's types.
//
// Methods other than Run may be called from several goroutines at once.
// Errors that are worth retrying (the network is down, rate limited) are
// returned as they are; an error wrapping ErrPermanent is not retried (no
// such user, the bot was removed from the channel).
type Network interface {
	// Name is the network's name as in Identity.Network: "webchat",
	// "slack", "discord".
	Name() string
	// Send posts m to where says (a channel, a thread in it, or a direct
	// message to a user) and returns the network's id of the new message.
	// m.Key is an idempotency key: an adapter whose network can look up
	// messages by a client-chosen id uses it so that a retried send is not
	// posted twice.
	Send(ctx context.Context, to Place, m Message) (MessageRef, error)
	// Run receives what people do on the network and passes it to h, one
	// call at a time, until ctx ends; it returns nil then, or the error
	// that stopped it (bad credentials).
	Run(ctx context.Context, h Handler) error
}

// UserLookup is implemented by networks that can resolve a mention
// ("@bob", "<@U123>") in a command to a user.
type UserLookup interface {
	// LookupUser returns the identity of the user mention names, in the
	// workspace where the command was typed, or an error wrapping
	// ErrNoSuchUser.
	LookupUser(ctx context.Context, workspace, mention string) (Identity, error)
}

// Errors adapters return.
var (
	// ErrPermanent: retrying will not help.
	ErrPermanent = errors.New("bot: permanent delivery failure")
	// ErrNoSuchUser: a mention names nobody the network knows.
	ErrNoSuchUser = errors.New("bot: no such user")
)

// Place is where a message goes or came from.
type Place struct {
	Workspace string // team or guild; "" where the network has one
	Channel   string // channel id; "" for a direct message
	Thread    string // the thread's root message id; "" for the channel itself
	User      string // for a direct message: the user's id (Channel "")
}

// MessageRef is the network's id of a message (a Slack ts, a Discord
// snowflake); with the Place it was sent to, it names a thread's root.
type MessageRef string

// Message is what the bot posts.
type Message struct {
	Text    string   // plain text; adapters may render *bold* and links
	Buttons []Button // interactive buttons under the text; may be empty
	File    *File    // an attachment, where the network carries one
	// Ephemeral: shown only to Place.User, in Place.Channel (a reply to a
	// command that nobody else needs to see). Adapters without ephemeral
	// messages send a direct message instead.
	Ephemeral bool
	// Key is the idempotency key of the delivery (see Network.Send).
	Key string
}

// Button is an interactive button. Pressing it calls Handler.Button with
// Action and Value.
type Button struct {
	Label  string
	Action string // "take", "allow", "deny", "cancel"
	Value  string // usually a ticket id
	Style  string // "primary", "danger" or ""
}

// File is an attachment.
type File struct {
	Name        string
	ContentType string
	Data        []byte
}

// Handler is the core, as adapters call it.
type Handler interface {
	// Command handles "/gethelp ARGS" typed by from in at. The reply is
	// shown to from alone (ephemeral), and must reach them within the
	// network's deadline: Command answers at once and does slow work
	// afterwards.
	Command(ctx context.Context, c Command) Reply
	// Post handles a message someone wrote where the bot listens: in a
	// ticket's thread, or to the bot directly.
	Post(ctx context.Context, p Post)
	// Button handles a press of a button the bot posted.
	Button(ctx context.Context, b Press) Reply
}

// Command is a slash command.
type Command struct {
	From Identity
	At   Place  // where it was typed (Thread set when typed in a thread)
	Text string // the arguments after "/gethelp", as typed
	ID   string // the network's id of this invocation, for deduplication
}

// Post is a message someone wrote.
type Post struct {
	From Identity
	At   Place // Thread is the thread's root; "" when not in a thread
	Text string
	ID   MessageRef
}

// Press is a button press.
type Press struct {
	From   Identity
	At     Place // where the message with the button is
	Action string
	Value  string
	ID     string // the network's id of this interaction, for deduplication
}

// Reply answers a command or a button press, visible to the person who
// typed or pressed only.
type Reply struct {
	Text string
}
