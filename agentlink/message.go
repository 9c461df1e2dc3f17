package agentlink

import (
	"strings"
	"time"
	"unicode"
)

// Message types. "agent" messages go from the person's agent to the bot,
// "bot" messages the other way.
const (
	// agent: first message on a connection.
	TypeHello = "hello" // Name, Version
	// bot: answer to hello; Links lists the identities the agent is linked to.
	TypeWelcome = "welcome" // Links

	// agent: asks for a code the person types in chat ("/gethelp link CODE").
	TypeLinkRequest = "link_request"
	// bot: the code and until when it works.
	TypeLinkCode = "link_code" // Code, Expires
	// bot: the code was used: the agent is now linked to Identity.
	TypeLinked = "linked" // Identity
	// bot: a link was removed ("/gethelp unlink").
	TypeUnlinked = "unlinked" // Identity

	// bot: somebody asks for help for the person; ask them.
	TypeConsentRequest = "consent_request" // Ticket, Requester, Helper, Description
	// agent: the person's answer. On yes an invitation follows.
	TypeConsent = "consent" // Ticket, Accepted, Reason
	// agent: the invitation for Ticket: the file (no secret in it) and its
	// password, which the bot sends on at once and never stores.
	TypeInvitation = "invitation" // Ticket, File, Password, Expires, InvitationID
	// bot: make the invitation again (new password, new expiry).
	TypeResend = "resend" // Ticket
	// bot: the ticket was cancelled; stop waiting, end the session.
	TypeCancel = "cancel" // Ticket, Reason

	// either: a chat line of Ticket's conversation. From the bot: written in
	// the chat thread or an e-mail reply (Author says who, Source where);
	// from the agent: written in the session (by the person or the helper).
	TypeChat = "chat" // Ticket, Author, Text, Source, Key

	// agent: how the ticket's session is going.
	TypeStatus = "status" // Ticket, State, Text, Summary

	// either: a request could not be carried out.
	TypeError = "error" // Ticket, Text

	// agent: e-mail this invitation to To for the person (`gethelp host
	// invite --email`); the person gives the password some other way, the
	// bot never sees it. The bot answers with an error or mail_sent.
	TypeMailInvitation = "mail_invitation" // To, File, InvitationID, Expires, Description
	// bot: the invitation e-mail is queued.
	TypeMailSent = "mail_sent" // Ticket, To

	// bot: every agent message up to Seq has been handled (and what it
	// changed is stored). The agent keeps what it sent until then and sends
	// it again on its next connection: a message written into a connection
	// whose other end died is not lost. The bot tells repeats apart by
	// their content (chat keys, ticket states), so a repeat is harmless.
	TypeAck = "ack" // Seq
)

// RoleOneShot in a hello: a short connection beside the agent's own, for
// one request; the bot sends it nothing unasked and keeps routing to the
// agent.
const RoleOneShot = "oneshot"

// Statuses in a status message.
const (
	StatusWaiting        = "waiting"         // the invitation is open
	StatusConnected      = "connected"       // the helper connected
	StatusControlGranted = "control_granted" // the person gave control
	StatusControlEnded   = "control_ended"   // control was taken back
	StatusEnded          = "ended"           // the session ended; Summary says how it went
	StatusExpired        = "expired"         // nobody connected in time
	StatusCancelled      = "cancelled"       // the person stopped it
)

// Message is one message of the agent link. Which fields are set depends
// on Type. Unknown types are delivered to the application, which ignores
// what it does not understand.
type Message struct {
	Type string    `json:"type"`
	Time time.Time `json:"time,omitzero"`
	// Seq numbers the agent's messages, 1, 2, 3… per agent run; an ack
	// carries the last one handled.
	Seq uint64 `json:"seq,omitempty"`

	Name    string `json:"name,omitempty"`    // hello: the computer's name
	Version int    `json:"version,omitempty"` // hello
	Role    string `json:"role,omitempty"`    // hello: "" (the agent) or RoleOneShot

	Links []Identity `json:"links,omitempty"` // welcome
	// Rendezvous (welcome) is the rendezvous hosts should name in their
	// invitations, to get through NAT (and to a relay): "host:port", or
	// ":port" for a port on the bot's own host.
	Rendezvous string    `json:"rendezvous,omitempty"`
	Code       string    `json:"code,omitempty"`     // link_code
	Expires    time.Time `json:"expires,omitzero"`   // link_code, invitation
	Identity   *Identity `json:"identity,omitempty"` // linked, unlinked

	Ticket      string    `json:"ticket,omitempty"`
	Requester   *Identity `json:"requester,omitempty"` // consent_request
	Helper      *Identity `json:"helper,omitempty"`    // consent_request: as the network vouches
	Description string    `json:"description,omitempty"`
	To          string    `json:"to,omitempty"` // mail_invitation, mail_sent: an e-mail address

	Accepted bool   `json:"accepted,omitempty"` // consent
	Reason   string `json:"reason,omitempty"`   // consent (declined), cancel

	InvitationID string `json:"invitation_id,omitempty"` // invitation
	File         []byte `json:"file,omitempty"`          // invitation: the .gethelp file
	Password     string `json:"password,omitempty"`      // invitation only; never logged

	Author string `json:"author,omitempty"` // chat
	Text   string `json:"text,omitempty"`   // chat, status, error
	Source string `json:"source,omitempty"` // chat from the bot: "chat" or "email"; from the agent: "person" or "helper"
	Key    string `json:"key,omitempty"`    // chat: dedupe key

	State   string   `json:"state,omitempty"`   // status
	Summary *Summary `json:"summary,omitempty"` // status ended
}

// Identity is a chat identity as the bot knows it (the bot's own type,
// repeated here so the host side need not import the bot).
type Identity struct {
	Network     string `json:"network"`
	Workspace   string `json:"workspace,omitempty"`
	UserID      string `json:"user_id"`
	DisplayName string `json:"display_name,omitempty"`
	Email       string `json:"email,omitempty"`
}

// Summary is an honest account of a session, for the ticket's thread.
type Summary struct {
	Duration    time.Duration `json:"duration_ns"`
	Path        string        `json:"path"` // "lan", "direct", "punched" or "relayed" (as session names them)
	RTT         time.Duration `json:"rtt_ns"`
	ScreenBytes int64         `json:"screen_bytes"`
	Updates     int           `json:"updates"`
	Reason      string        `json:"reason,omitempty"` // how it ended
}

// Version is the protocol revision this package speaks, sent in hello.
// Revisions within one ALPN ("gethelp-agent/1") only add message types and
// fields; a peer ignores what it does not know.
const Version = 1

// TypeBye is sent by Conn.Close and handled by Conn itself, never
// delivered: either side's last message, Text saying why it closes.
const TypeBye = "bye" // Text

// StatusLocked says too many wrong passwords were tried: the invitation is
// dead, though the host keeps refusing (and counting) until it expires.
// Only a resend opens the ticket again.
const StatusLocked = "locked"

// Paths in a Summary.
const (
	PathDirect  = "direct"  // the helper reached the person's computer itself
	PathRelayed = "relayed" // through a TURN relay (QUIC ciphertext only)
)

// String is the identity as a person should read it, for instance
// "Bob Smith <bob@example.com> (slack, workspace Acme)". Every part comes
// from the network, none from what someone typed.
func (id Identity) String() string {
	name := id.DisplayName
	if name == "" {
		name = id.UserID
	}
	s := name
	if id.Email != "" {
		s += " <" + id.Email + ">"
	}
	where := id.Network
	if id.Workspace != "" {
		where += ", workspace " + id.Workspace
	}
	if where != "" {
		s += " (" + where + ")"
	}
	return printable(s)
}

// printable drops control characters (terminal escapes, newlines) so that
// a name cannot rewrite the prompt it is shown in.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Bidi_Control, r) {
			return -1
		}
		return r
	}, s)
}
