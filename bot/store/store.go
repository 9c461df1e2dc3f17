package store

import (
	"context"
	"errors"
	"time"
)

// Errors returned by a [Store]. Each method says which it returns; all of them
// may be wrapped, so test with [errors.Is].
var (
	// ErrNotFound: there is no such link, link code, ticket or delivery (or
	// the ticket an entry or delivery refers to does not exist).
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a unique value is taken (a link, a reply token, a ticket
	// id), the ticket changed since it was read (optimistic concurrency), or
	// a delivery is not in the state the call requires.
	ErrConflict = errors.New("store: conflict")
	// ErrExpired: the link code exists but its time is up. It is deleted.
	ErrExpired = errors.New("store: expired")
	// ErrInvalid: the caller passed a value the store will not keep (an
	// empty required field, an unknown state or source, a payload or summary
	// that is not JSON).
	ErrInvalid = errors.New("store: invalid")
	// ErrSchemaTooNew: the database was migrated by a newer binary than
	// this one; [OpenSQLite] refuses it rather than guess.
	ErrSchemaTooNew = errors.New("store: database schema is newer than this binary")
)

// Identity is who a chat network (or the mail system) vouches a person is.
// It is never a name somebody typed.
type Identity struct {
	Network     string // "slack", "discord", "webchat", "email"
	Workspace   string // Slack team id, Discord guild id; "" for e-mail
	UserID      string // the network's id for the user (the address for e-mail)
	DisplayName string
	Email       string // as the network reports it; may be ""
}

// Link binds the agent on a person's computer to their chat identity. It is
// unique on (Identity.Network, Identity.Workspace, Identity.UserID, AgentKey).
type Link struct {
	ID        int64
	Identity  Identity
	AgentKey  string // hex SHA-256 of the agent key's SubjectPublicKeyInfo
	AgentName string // the computer's name, as the agent reports it
	CreatedAt time.Time
}

// LinkCode is a pending link: the agent asked to be linked and shows Code to
// its user, who types it to the bot. Only the SHA-256 of Code is stored.
type LinkCode struct {
	Code      string
	AgentKey  string
	AgentName string
	ExpiresAt time.Time
}

// TicketState is where a ticket is in its life.
type TicketState string

// The ticket states. The store keeps any of them; the order of transitions is
// the core's business.
const (
	StateRequested       TicketState = "requested"        // asked for, no helper yet chosen
	StateAwaitingHelper  TicketState = "awaiting_helper"  // posted; waiting for a helper to take it
	StateAwaitingConsent TicketState = "awaiting_consent" // helper known; the person's agent is asking
	StateInvited         TicketState = "invited"          // the agent made the invitation
	StateDelivered       TicketState = "delivered"        // invitation and password sent
	StateConnected       TicketState = "connected"        // the helper is connected
	StateEnded           TicketState = "ended"            // the session ended normally
	StateCancelled       TicketState = "cancelled"        // withdrawn by the person or the helper
	StateFailed          TicketState = "failed"           // gave up
)

// Open reports whether the state is not final (ended, cancelled, failed).
func (s TicketState) Open() bool {
	return s != StateEnded && s != StateCancelled && s != StateFailed
}

func (s TicketState) valid() bool {
	switch s {
	case StateRequested, StateAwaitingHelper, StateAwaitingConsent, StateInvited,
		StateDelivered, StateConnected, StateEnded, StateCancelled, StateFailed:
		return true
	}
	return false
}

// Origin is the chat thread a ticket was asked for in; the bot mirrors the
// conversation there.
type Origin struct {
	Network   string
	ChannelID string
	ThreadID  string
}

// EmailThread is the e-mail conversation of a ticket, for In-Reply-To and
// References headers.
type EmailThread struct {
	RootMessageID string
	LastMessageID string
}

// Ticket is one request for help. The invitation's password is not here and
// has nowhere to go: only whether it was sent (PasswordSent).
type Ticket struct {
	ID                string // random, URL-safe; made by CreateTicket if empty
	State             TicketState
	Requester         Identity
	Helper            *Identity // nil until a helper takes the ticket
	HelperEmail       string    // where the invitation is e-mailed
	Description       string
	Origin            Origin
	EmailThread       EmailThread
	ReplyToken        string // [a-z0-9]{16}, unique: the per-ticket inbound address; made by CreateTicket if empty; never changes
	AgentKey          string // the person's computer that was asked for consent
	InvitationID      string
	InvitationFile    []byte // the invitation file: nothing secret in it
	InvitationExpires time.Time
	PasswordSent      bool   // the password went out over the second channel
	Summary           string // JSON quality summary when the ticket ends; "" until then
	CreatedAt         time.Time
	UpdatedAt         time.Time
	Version           int64 // bumped by every update; UpdateTicket fails with ErrConflict if it changed
}

// Transcript sources.
const (
	SourceChat    = "chat"
	SourceEmail   = "email"
	SourceSession = "session"
	SourceBot     = "bot"
)

// Entry is one line of a ticket's transcript, from whichever side it came.
type Entry struct {
	TicketID string
	Seq      int64 // 1, 2, 3… per ticket, assigned by the store
	Time     time.Time
	Source   string // SourceChat, SourceEmail, SourceSession or SourceBot
	Author   string // display name
	Text     string
	Key      string // dedupe key: one entry per (TicketID, Key); "" never dedupes
}

// DeliveryState is where a delivery is in the outbox.
type DeliveryState string

// The delivery states.
const (
	DeliveryPending  DeliveryState = "pending"   // waiting for NextAttempt
	DeliveryInFlight DeliveryState = "in_flight" // claimed until LeaseUntil
	DeliverySent     DeliveryState = "sent"      // done; never claimed again
	DeliveryFailed   DeliveryState = "failed"    // given up; never claimed again
)

// Delivery is one message in the outbox. See the package doc for how the
// outbox is meant to be used. Never put a password in Payload.
type Delivery struct {
	ID          int64
	Key         string // idempotency key, unique: the same key is enqueued once
	TicketID    string // "" when not about a ticket
	Channel     string // the adapter: "slack", "discord", "email", "webchat"
	Kind        string // what to do: "post", "dm", "email", …
	Payload     []byte // JSON, the adapter's to read
	State       DeliveryState
	Attempts    int       // attempts that ended (retry, failure, sent, or a lease that ran out); not the one in flight
	NextAttempt time.Time // not claimed before this
	LeaseUntil  time.Time // while in flight: reclaimable after this; zero otherwise
	LastError   string
	SentRef     string // the network's id of the sent message (Slack ts, Message-ID)
	CreatedAt   time.Time
}

// Store is the bot's durable state. Every method is safe for concurrent use.
// [*SQLite] implements it; a PostgreSQL one is meant to follow.
type Store interface {
	// AddLinkCode records a pending link. It fails with ErrInvalid if the code
	// or agent key is empty and ErrConflict if the code is already pending.
	AddLinkCode(ctx context.Context, c LinkCode) error
	// RedeemLinkCode turns a pending link code into a Link for id, at most
	// once. It fails with ErrNotFound if the code is unknown or already
	// redeemed and ErrExpired if now is at or past its expiry. Redeeming a
	// code for an agent already linked to id returns the existing Link, with
	// the agent's name and id's display name and e-mail brought up to date.
	RedeemLinkCode(ctx context.Context, code string, id Identity, now time.Time) (Link, error)
	// PruneLinkCodes deletes codes that expired at or before now and returns
	// how many.
	PruneLinkCodes(ctx context.Context, now time.Time) (int64, error)
	// Link returns a link by id, or ErrNotFound.
	Link(ctx context.Context, id int64) (Link, error)
	// LinksByIdentity returns the agents linked to a person (matched on
	// network, workspace and user id), oldest first.
	LinksByIdentity(ctx context.Context, id Identity) ([]Link, error)
	// LinksByAgent returns the identities an agent is linked to, oldest first.
	LinksByAgent(ctx context.Context, agentKey string) ([]Link, error)
	// DeleteLink removes a link, or fails with ErrNotFound.
	DeleteLink(ctx context.Context, id int64) error

	// CreateTicket stores a new ticket and returns it as stored: ID and
	// ReplyToken made if empty, CreatedAt and UpdatedAt now, Version 1. It
	// fails with ErrInvalid (unknown state, no requester, bad summary or
	// reply token) or ErrConflict (the ID or ReplyToken is taken).
	CreateTicket(ctx context.Context, t Ticket) (Ticket, error)
	// Ticket returns a ticket by id, or ErrNotFound.
	Ticket(ctx context.Context, id string) (Ticket, error)
	// TicketByReplyToken returns the ticket whose inbound address has this
	// token, or ErrNotFound.
	TicketByReplyToken(ctx context.Context, token string) (Ticket, error)
	// TicketByOrigin returns the newest ticket asked for in this chat
	// thread, or ErrNotFound.
	TicketByOrigin(ctx context.Context, o Origin) (Ticket, error)
	// OpenTickets returns the tickets not yet ended, cancelled or failed,
	// oldest first: what the bot picks up again after a restart.
	OpenTickets(ctx context.Context) ([]Ticket, error)
	// UpdateTicket stores t if the stored ticket still has t.Version and
	// returns it with Version bumped and UpdatedAt now. ID, ReplyToken,
	// Requester and CreatedAt never change. It fails with ErrNotFound,
	// ErrConflict (somebody else updated it first: read it again and redo
	// the change) or ErrInvalid.
	UpdateTicket(ctx context.Context, t Ticket) (Ticket, error)

	// AppendTranscript adds e to its ticket's transcript with the next Seq
	// and returns it as stored and true; if an entry with the same non-empty
	// Key is already there, it returns that one and false. A zero Time means
	// now. It fails with ErrNotFound if the ticket does not exist and
	// ErrInvalid for an unknown source.
	AppendTranscript(ctx context.Context, e Entry) (Entry, bool, error)
	// Transcript returns up to limit entries of a ticket with Seq > afterSeq,
	// in Seq order (limit <= 0: all of them).
	Transcript(ctx context.Context, ticketID string, afterSeq int64, limit int) ([]Entry, error)

	// Enqueue adds a pending delivery and returns it and true. If a delivery
	// with d.Key exists, it returns that one, unchanged, and false. A zero
	// NextAttempt means now. It fails with ErrInvalid (no key, channel or
	// kind; payload not JSON) or ErrNotFound (no such ticket).
	Enqueue(ctx context.Context, d Delivery) (Delivery, bool, error)
	// Claim takes up to limit deliveries that are due at now, pending ones
	// whose NextAttempt has come and in-flight ones whose lease ran out,
	// marks them in flight until now+lease and returns them, most overdue
	// first. No delivery is handed to two claimers whose leases overlap.
	Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Delivery, error)
	// MarkSent records that an in-flight delivery was sent, with the
	// network's id for it. It fails with ErrNotFound, or ErrConflict if the
	// delivery is not in flight (already sent, failed, or never claimed).
	MarkSent(ctx context.Context, id int64, ref string) error
	// MarkRetry puts an in-flight delivery back as pending until next,
	// keeping errText. Errors as for MarkSent.
	MarkRetry(ctx context.Context, id int64, errText string, next time.Time) error
	// MarkFailed gives up on an in-flight delivery. Errors as for MarkSent.
	MarkFailed(ctx context.Context, id int64, errText string) error
	// Delivery returns a delivery by id, or ErrNotFound.
	Delivery(ctx context.Context, id int64) (Delivery, error)
	// DeliveryByKey returns a delivery by idempotency key, or ErrNotFound.
	DeliveryByKey(ctx context.Context, key string) (Delivery, error)

	// MarkSeen records an inbound event key (a Slack event id, a Discord
	// interaction id, a Message-ID) and reports whether it is new.
	MarkSeen(ctx context.Context, key string, now time.Time) (bool, error)
	// PruneSeen forgets event keys seen before the given time and returns how
	// many.
	PruneSeen(ctx context.Context, before time.Time) (int64, error)

	// Close releases the database. Calls after Close fail.
	Close() error
}
