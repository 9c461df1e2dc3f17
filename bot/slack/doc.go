// Package slack is the bot's adapter to Slack, over
// github.com/slack-go/slack: an *Adapter is a bot.Network (Name "slack")
// and a bot.UserLookup for one workspace, the one its bot token belongs
// to. It imports nothing of the bot but package bot.
//
// # Receiving
//
// Socket Mode is the default (Options.Mode "socket"): the bot opens a
// WebSocket to Slack with the app-level token (apps.connections.open), so
// it needs no public URL; slack-go's socketmode client reconnects when
// Slack sends "disconnect" or the connection drops. The Events API over
// HTTP (Mode "http") is the option for those who prefer it: Handler
// serves /slack/events, /slack/commands and /slack/interactive, verifies
// Slack's signature with the signing secret, and refuses (401) a bad
// signature or a timestamp more than five minutes from the clock.
//
// Both feed one path. Every envelope or request is acknowledged at once,
// before the core sees it, so that Slack's three-second deadline holds
// however slow the core is; then Run's worker calls the core's Handler,
// one call at a time:
//
//   - the slash command (/gethelp, whatever the manifest names it) is
//     Handler.Command, with the text trimmed (Slack's &amp; &lt; &gt;
//     undone; a mention stays "<@U123|name>", which LookupUser resolves);
//     its reply is posted ephemeral through the command's response_url,
//     or chat.postEphemeral where that fails;
//   - a button press (block_actions) is Handler.Button, the action_id
//     less any "#N" suffix as the Action; replied to likewise;
//   - a message event (message.channels, .groups, .im) is Handler.Post
//     when a person wrote it in a thread, or in a direct message with the
//     bot; the bot's own messages (bot_id, or the bot's user id), and
//     subtypes other than thread_broadcast and file_share (edits,
//     deletions, joins), are ignored. A direct message's Place keeps its
//     conversation id (D…) in Channel, with User set: Slack's direct
//     messages are conversations, and threads in them are named by it.
//
// Identities come from users.info (display name, else real name; e-mail
// with users:read.email), cached for ten minutes; the workspace is the
// payload's team id. Deduplication is the core's: Command.ID and Press.ID
// are the payload's trigger_id (unique per invocation), Post.ID the
// message's ts, which a retried event (retry_attempt, X-Slack-Retry-Num)
// repeats. Payloads that cannot be parsed are acknowledged, logged and
// dropped; they never stop Run.
//
// # Sending
//
// Send posts with chat.postMessage (threads with thread_ts, buttons as
// Block Kit), ephemeral messages with chat.postEphemeral, direct messages
// after conversations.open, and files with the external upload flow
// (files.getUploadURLExternal, the upload URL, files.completeUploadExternal).
// Slack has no client message ids, so a message with a key carries it —
// in metadata, or for a file message in a block_id — and Send first looks
// for it in the last day's history of the conversation or thread: a send
// retried after a crash is not posted twice (see Send). Rate limits: a
// Retry-After of up to five seconds is waited out within the call; a
// longer one is an error the core's outbox retries. Slack's errors that a
// retry cannot fix (channel_not_found, not_in_channel, user_not_found,
// invalid_auth, missing_scope, …) wrap bot.ErrPermanent.
//
// # Scopes
//
// manifest.yaml beside this file creates the app in one step. The bot
// token needs commands (/gethelp), chat:write (posts, threads, ephemeral
// replies), im:write (conversations.open for direct messages), users:read
// and users:read.email (who typed or pressed, and the helper a command
// names, with the address the invitation goes to), files:write (the
// invitation file), and channels:history, groups:history and im:history
// (message events in threads and direct messages, and the history look-up
// that keeps a retried send from posting twice). The app-level token
// needs connections:write (Socket Mode). The bot must be invited to the
// channels where it posts (the help desk) and where /gethelp is used.
//
// Tests run the real slack-go client against package slackfake, an
// in-process fake of Slack's Web API and Socket Mode.
package slack
