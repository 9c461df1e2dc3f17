// Package discord is the bot's adapter to Discord, over
// github.com/bwmarrin/discordgo v0.29: an *Adapter is a bot.Network (Name
// "discord") and a bot.UserLookup for one application (one bot user), in
// every guild (server) it is installed in. It imports nothing of the bot but
// package bot. Package discordfake, beside it, is Discord in process for
// its tests and anyone else's.
//
// # Setting the application up
//
// In the developer portal (https://discord.com/developers/applications):
// create an application; its id is Options.ApplicationID. Under Bot, take
// the token (Options.Token; a secret: it comes from the environment or a
// file, never from the config file itself) and switch on the Message
// Content Intent. Then install it in a guild with the link InstallURL
// returns:
//
//   - scopes: bot (the bot user joins the guild) and applications.commands
//     (the application may register /gethelp there);
//   - permissions (Permissions, 311385230336): View Channel, Send
//     Messages, Send Messages in Threads, Create Public Threads, Attach
//     Files, Read Message History, Use Application Commands. Channel
//     overrides that take one away show up as Missing Access (50001) or
//     Missing Permissions (50013) errors, which are permanent.
//
// The gateway intents (Intents) are GUILDS (channels and threads),
// GUILD_MESSAGES (messages in threads), DIRECT_MESSAGES and
// MESSAGE_CONTENT. MESSAGE_CONTENT is privileged: without the switch in the
// portal, Discord closes the gateway with 4014 and Run returns that error;
// an application in 100 guilds or more needs Discord's approval for it.
// Without it the bot would read no text in threads, where the conversation
// is mirrored.
//
// # The command
//
// Run registers one chat command at start, replacing one of the same
// name: /gethelp with two optional options, text (a string: what is wrong,
// or one of the words link CODE, unlink, links, status, cancel, resend,
// help) and helper (a user, picked from Discord's list). Text comes first,
// so that "/gethelp link K7PM-W3XQ" typed as it reads fills text. With
// Options.Guilds it is registered in each of those guilds, where it is
// available at once; otherwise globally (for guilds only: contexts GUILD,
// integration type GUILD_INSTALL), which Discord clients may take a while
// to show.
//
// # Receiving
//
// Discord gives an interaction 3 seconds for a first answer; the core may
// be slower and takes one event at a time. So every interaction is
// acknowledged at once by a goroutine of its own, before the core sees it:
// a command with a deferred, ephemeral answer (type 5, flags 64), which is
// edited into the core's reply when it comes (PATCH
// /webhooks/{app}/{token}/messages/@original; "Done." for an empty reply,
// 2000 characters at most); a button press with a deferred update (type
// 6), and the core's reply, if any, follows ephemeral. The core gets the
// command's text as "<@HELPER> TEXT", so that its mention handling calls
// LookupUser, and Command.ID, Press.ID and Post.ID are the interaction's
// or message's id, for its deduplication. A button's custom id is
// "ACTION:VALUE".
//
// Some answers need no core: /gethelp in a DM (links and requests belong to
// a guild: the identity's workspace is the guild) and options the adapter
// cannot read (a command registered by an older version, which gets Usage)
// are answered at once, ephemeral. A message is passed to Handler.Post
// when a person wrote it in a thread (its Place is the parent channel, with
// Thread the thread's id) or to the bot directly (Place{User}); the bot's
// own messages, other bots', webhooks' and system messages are not, nor
// messages in channels outside threads. Attachments are appended to the
// text as "[attachment: NAME <URL>]".
//
// The adapter decodes the gateway's events itself (decodeEvent, fuzzed):
// an event it cannot read, or with ids that are not snowflakes (they end
// up in URLs), is logged and dropped and never stops Run. (discordgo
// decodes them too, for its own use; it survives junk, but a GUILD_CREATE
// whose data is null crashes its reader, which no adapter can catch.)
// discordgo's own reconnection is off: when the connection drops, Run
// opens it again and discordgo resumes the session, so every goroutine
// has an owner; closing it takes discordgo a second.
//
// # Identities
//
// An Identity is Network "discord", Workspace the guild's id ("" in a
// DM), UserID the user's id, DisplayName the member's nickname in the
// guild, else the user's global display name, else the username. Links are
// per guild: a person in two guilds links in each.
//
// Discord gives bots no e-mail addresses: Identity.Email is always "".
// The core refuses to send the invitation by e-mail to a helper without an
// address, and its two channels must differ; so a Discord deployment sends
// the invitation file as a DM attachment (invitation_via: chat) and the
// password by e-mail (password_via: email), which needs the helpers'
// addresses from elsewhere (a directory the core would consult, by
// "discord:USER-ID"). Without one, Discord alone cannot carry both.
//
// # Sending
//
// Send posts to a channel (POST /channels/{id}/messages), to a thread, or
// as a DM. The core's thread is a message's thread: the first Send to
// Place{Channel, Thread: ROOT} starts a public thread from message ROOT
// (named after its first line), and as a thread started from a message has
// that message's id, ROOT is the thread's channel id too; a thread already
// started (160004, after a restart) is used as it is. A DM opens the DM
// channel (POST /users/@me/channels) once per user. DMs have no threads: a
// DM with Thread set replies to that message. An ephemeral message is
// possible only as an interaction's follow-up: Send uses the token of the
// interaction Place.User started last in that channel, for the 15 minutes
// Discord takes it, and sends a DM otherwise.
//
// Buttons are action rows of five, at most 25 (style primary, danger, or
// secondary by default); a file goes as a multipart attachment of at most
// MaxFile (10 MiB, Discord's limit for bots); a text over MaxText (2000
// characters) goes as several messages, the buttons and file with the
// last, and Send returns the first one's id. No message pings anyone
// (allowed_mentions parse []): the bot mirrors text it did not write.
//
// Idempotency: Message.Key becomes the message's nonce (25 hex digits of
// SHA-256 of the key and the part's number) with enforce_nonce, so
// Discord answers a retry by the same bot in the same channel within a few
// minutes with the first message instead of a second one; and a key sent
// by this process returns the first message's id without asking (the last
// 16384 keys). A retry after a crash later than Discord's few minutes may
// post twice; Discord offers nothing longer.
//
// Rate limits: every request goes through discordgo's rate limiter, which
// keeps Discord's buckets (X-RateLimit-* headers, per route and channel)
// and the global limit. A wait up to Options.MaxRateLimitWait (2 s) is
// waited out inside Send, before or after a 429; a longer one returns an
// error wrapping ErrRateLimited, without asking Discord again, and the
// core's outbox retries later: no message is dropped.
//
// Errors: Discord's 4xx answers (Unknown Channel 10003, Unknown Message
// 10008, Missing Access 50001, Cannot send messages to this user 50007,
// Missing Permissions 50013, Invalid Form Body 50035, ...) wrap
// bot.ErrPermanent, and Unknown User (10013) bot.ErrNoSuchUser too; 401 (a
// token refused: an operator can mend it while deliveries wait), 408, 429,
// 5xx and network errors do not.
//
// # Configuration
//
// APIURL (config discord.api_url, default https://discord.com) is where
// the REST API is, for proxies and fakes: discordgo's endpoints are
// package variables computed at start-up, so the Adapter does not change
// them but wraps its HTTP client's transport to send https://discord.com
// there; the gateway is wherever GET /api/v9/gateway there says.
package discord
