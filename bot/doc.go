// Package bot is the service behind /gethelp: it links chat users to the
// agent on their computer, turns a request for help into a ticket, has the
// person's agent ask for consent and create the invitation, delivers the
// invitation by e-mail and the password over a second channel, and mirrors
// the conversation between the chat thread, the e-mail thread and the
// session chat. It never sees the screen.
//
// This package is the core: Core handles commands, button presses and
// thread messages (as the Handler of every Network), talks to agents over
// the agent link, delivers through the outbox, and mirrors the
// conversation. Its shape:
//
//   - The core knows chat networks only through a small interface that each
//     adapter implements (post to a channel, reply in a thread, send a direct
//     message, attach a file) and calls back into (a command, a thread
//     message, a button press). Adapters are packages of their own, bot/email,
//     bot/webchat, bot/slack, bot/discord, each importing only this core, never
//     one another; the core imports none of them. cmd/ wires them.
//   - Identities are what a network vouches for (network, workspace, user
//     id, display name, e-mail), never a name someone typed: the person's
//     consent prompt shows the helper as the bot knows them.
//   - The password never reaches the store. The agent hands it over with the
//     invitation and the bot sends it straight on; if the bot dies before it
//     is sent, the ticket says so and on restart the bot asks the agent for a
//     resend (a new password and expiry) instead of keeping a copy.
//   - Everything else that must survive kill -9 (links, tickets, pending
//     deliveries, the transcript) lives in the store: embedded SQLite by
//     default, PostgreSQL later, behind one interface with versioned
//     migrations. Deliveries are an outbox with idempotency keys: at least
//     once towards the network, and never twice for the same key.
//   - The host's agent talks to the bot over QUIC with TLS 1.3 (the agent-link
//     protocol, a library both import), authenticated by the agent's own key,
//     which linking registers.
//
// Decisions made while building it:
//
//   - A ticket remembers the agent it asked (the person may have linked
//     several computers); requests go to the most recently linked one that
//     is online.
//   - The helper is whoever the network says the mention names, or whoever
//     presses "Take it" in the help-desk channel; Config.Helpers can limit
//     both. The consent request carries that identity, never typed text.
//   - The password is sent straight from the agent's message to the network
//     (or mail server), never through the store or the outbox; only
//     Ticket.PasswordSent records that it went. A ticket left "invited"
//     without it (a crash in between) is re-issued when its agent connects:
//     a new password and expiry, never a stored copy.
//   - The invitation file, thread messages and status go through the outbox
//     with keys naming what they are, so a restart re-delivers without
//     duplicates. Thread messages wait for the thread's root to be posted.
//   - E-mail replies are taken only from the ticket's person or helper, to
//     the ticket's own address; retried deliveries are deduplicated by
//     Message-ID through the transcript.
package bot
