// Package agent is the person's side of the bot: the small background
// agent (gethelp host agent) that keeps one authenticated link to the bot
// (package agentlink), lets the person link this computer to their chat
// identity, asks them on their own screen when someone asks for help for
// them, and runs a host (package host) for each ticket they accept.
//
// It imports host, invitations (through host), session (capability names)
// and agentlink, never the bot: the two meet only through the agent link.
//
// Decisions:
//
//   - The person decides on their own screen. A consent_request is shown
//     with the helper as the chat network vouches for them (network,
//     workspace, display name, e-mail: agentlink.Identity), never a name
//     someone typed; the requester's description is shown as their words.
//     Nothing is shared before the person says yes (Config.Ask). A request
//     the computer cannot serve (the administrator's policy, no screen:
//     Config.Host fails) is declined without bothering the person, the
//     reason going to the bot.
//   - One ticket, one host, one port: several tickets may be open at once,
//     each its own host.Host with its own invitation, key and password.
//     Config.Host is called once per ticket and its release function when
//     the ticket is over, so that each ticket gets its own screen source
//     (a Source's Next must not run concurrently with itself).
//   - The invitation goes to the bot with its password (the bot sends them
//     on over two channels and keeps neither); the agent keeps the
//     password only inside the host, and no log sees it (agentlink's
//     Message.LogValue redacts it). The person's own events carry no
//     password either.
//   - Resend keeps the invitation id and makes a new key, password and
//     expiry. While the invitation is open and nobody has connected, it
//     happens at once: the person's yes still stands. After the session
//     ended, the invitation expired or was locked by wrong passwords, the
//     person is asked again (ConsentRequest.Again): a yes is for one
//     session, so the bot cannot reopen a screen on its own. While a
//     helper is connected, resend is refused.
//   - Cancel from the bot withdraws the question, cancels a waiting
//     invitation or ends the session; the person can do the same
//     (Agent.Cancel), and "gethelp invitations cancel" still works through
//     the host's store.
//   - Chat is mirrored both ways. The session's chat goes to the bot as
//     chat from "person" or "helper" with a fresh key. Chat from the bot
//     (the ticket's thread, e-mail replies) is deduplicated by key, held
//     until a helper is connected, and relayed into the session under its
//     author's name and where it was written ("Ann Lee (email)",
//     host.Relay); its echo in the session is not mirrored back.
//   - The link may drop at any time. What the agent has to say meanwhile
//     is queued (up to a thousand messages) and sent in order after the
//     next welcome, followed by the status of every open ticket, so a bot
//     that restarted learns where things stand. Tickets and sessions carry
//     on while the link is down: a helper already connected is not cut off
//     because the bot went away.
//   - The first welcome that lists no link makes the agent ask for a link
//     code by itself, once; RequestLink asks again whenever the person
//     wants.
//   - Stopping the agent (Run's context) withdraws open questions, cancels
//     waiting invitations and ends sessions, tells the bot (waiting two
//     seconds at most), then closes the link.
//   - Status "ended" carries a Summary: duration (from connect to
//     disconnect, by Config.Now), path "direct" (the host has no relay yet),
//     the session's smoothed round trip, screen bytes and updates as the
//     host counted them.
package agent
