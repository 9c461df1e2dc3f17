// Package agentlink is the agent link: the one connection between the
// small agent on a person's computer (gethelp host agent, package
// host/agent) and the bot (package bot). The bot uses it to ask the person
// for consent, receive the invitation and its password, and mirror chat;
// the agent uses it to be reachable at all. No screen ever crosses it.
//
// The package is standalone: it imports nothing of gethelp's, so that the
// bot and the host side share it without knowing each other.
//
// # Transport
//
// QUIC with TLS 1.3 only, ALPN "gethelp-agent/1", Ed25519 keys on both
// sides, no certificate authority:
//
//   - The bot has a long-lived key (LoadOrCreateKey, PEM, mode 0600). The
//     agent's configuration carries the SHA-256 of the bot's
//     SubjectPublicKeyInfo (Pin, written in hex; ParsePin), and Dial
//     accepts only that key, inside the handshake: a server with another
//     key gets ErrPinMismatch and not one byte of application data.
//   - The agent has a long-lived key of its own (agent-key.pem in its
//     state directory) and presents it as a TLS client certificate. The
//     server requires one, and admits exactly one self-signed Ed25519
//     certificate; anything else fails the handshake. The bot knows the
//     agent by its AgentKey: the lowercase hex SHA-256 of that
//     certificate's SubjectPublicKeyInfo. Names and dates in either
//     certificate mean nothing; only keys count.
//   - Keep-alives every 5 s and a 15 s idle timeout: a peer that vanishes
//     is noticed within 15 s. Keep redials with exponential backoff (1 s
//     doubling to 60 s, jittered, reset by a successful dial).
//
// # Framing
//
// The agent opens one bidirectional stream; it carries everything, in
// order, both ways. Each message is a 4-byte big-endian length followed by
// that many bytes of JSON: one object, a Message, whose "type" is never
// empty. A message is at most MaxMessageSize (1 MiB). A zero or too large
// length, a stream that ends inside a message, JSON that is not an object
// or has no type close the connection with QUIC application error 1 and a
// one-line reason (ErrMalformed, ErrTooLarge), logged on the side that saw
// it; nothing panics (FuzzReadMessage). testdata/messages.golden holds the
// encoding of a message of every type.
//
// The bot sends nothing before it has read a valid hello; a connection
// without one within 10 s is dropped. Conn.Close sends "bye" (Text: why),
// finishes the stream and waits a moment for the peer to do the same, so
// that what was sent before it arrives and the peer learns the reason;
// Conn handles bye itself and never delivers it. Errors of a closed
// connection are *ClosedError and unwrap to net.ErrClosed.
//
// # Versioning
//
// The ALPN names the major version; a change an old peer cannot safely
// ignore needs "gethelp-agent/2". Within a major version, revisions only
// add: new message types, new fields. hello carries the agent's revision
// (Version, now 1); a peer ignores fields it does not know and message
// types it does not know (the bot may answer an unknown type with error).
//
// # Messages
//
// (Types and fields are in message.go; "agent" means agent to bot.)
//
// Connecting: agent hello {name, version}; the bot answers welcome {links:
// the identities this agent key is linked to, maybe none}. welcome is
// always the bot's first message.
//
// Linking: agent link_request; bot link_code {code, expires}, which the
// agent shows ("Type /gethelp link CODE in chat"). When the person types
// it, the bot sends linked {identity}; later, perhaps, unlinked
// {identity}. The agent asks for a code by itself when its first welcome
// lists no link, and whenever the person asks.
//
// Asking for help: bot consent_request {ticket, requester, helper,
// description}. requester and helper are identities as the chat network
// vouches for them (network, workspace, user id, display name, e-mail),
// never a name someone typed; description is the requester's words and
// is shown as such. The agent asks the person on their own screen and
// answers consent {ticket, accepted, reason}; it may decline without asking
// when the computer cannot host (the administrator's policy, no screen),
// reason saying why. On yes it follows with invitation {ticket, file (the
// .gethelp file, no secret in it), password, expires, invitation_id} and
// then status waiting. The bot sends the file and the password over two
// different channels and stores neither the password nor anything derived
// from it. A consent_request for a ticket the agent already knows is not
// asked again: the agent answers with what it knows (consent when it was
// declined, the current status when the invitation is open).
//
// The session: agent status {ticket, state, text, summary} as it goes:
// waiting; connected (text: the name the helper's viewer announced, a
// claim); control_granted (text: the capabilities now granted) and
// control_ended (text: how control ended: esc, button, disconnect);
// locked (too many wrong passwords); then one of ended (summary: duration,
// path, RTT, screen bytes, updates, how it ended), expired (nobody
// connected in time) or cancelled. Chat goes both ways as chat {ticket,
// author, text, source, key}: from the agent with source "person" or
// "helper", each with a fresh unique key; from the bot with source "chat"
// (the ticket's thread) or "email" (a reply), shown in the session under
// the author's name and where it was written once a helper is connected
// (held until then), and dropped when its key was seen before, since the
// bot delivers at least once.
//
// resend {ticket} from the bot makes the invitation again with the same
// invitation id and a new key, password and expiry: a new invitation
// message follows. While the invitation is open and nobody has connected,
// the agent does so at once (the person's yes still stands). When it has
// ended, expired or locked, the agent asks the person again first. While a
// helper is connected, or for a ticket the agent does not know (it
// restarted), the answer is error {ticket, text}.
//
// cancel {ticket, reason} from the bot withdraws the question (status
// cancelled, no consent), stops a waiting invitation (status cancelled) or
// ends a running session (status ended). error {ticket, text} goes either
// way for a request that could not be carried out.
//
// # Delivery
//
// A message is delivered at most once per connection. The agent queues
// what it sends while the link is down and sends it, in order, after the
// next welcome, followed by the current status of every open ticket; the
// bot therefore treats status as "latest wins", chat as deduplicated by
// key, and a repeated invitation for the same invitation id and expiry as
// one.
//
// # Trust
//
//   - The agent trusts the bot's key because its configuration pins it;
//     there is no trust on first use.
//   - The bot trusts an agent key for a person only after linking: a code
//     shown on the person's own screen and typed by them in a chat where
//     the network vouches for who they are. Any agent may connect and ask
//     for a code; an unlinked agent is asked nothing.
//   - The bot says who the helper is, but cannot share anyone's screen:
//     the person says yes on their own computer for every ticket, and
//     again for every resend of an invitation that is no longer open. A
//     compromised bot can ask, not look.
//   - The password crosses the link once, agent to bot, inside TLS. No log
//     sees it: Message's LogValue redacts it (and the link code, and
//     reduces the file and chat texts to their lengths).
package agentlink
