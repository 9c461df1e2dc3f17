// Package discordfake is Discord, in process, for tests: the REST API as
// discordgo v0.29 calls it (under /api/v9 and /api/v10) and the gateway
// (a WebSocket), served on 127.0.0.1. discordgo has no fake of its own.
//
// A Server keeps guilds, channels, threads, DMs, users and members, the
// messages in them, the application commands registered, and the
// interactions it dispatched with the bot's answers. Tests set it up
// (AddGuild, AddChannel, AddUser, AddMember), act as people (Interact and
// Invoke type a command, PressButton and Press press a button, Say and
// SayDM write a message) and look at what the bot did (Messages, DMs,
// Message, Channel, Commands, Requests, Interaction.Response).
//
// # Pointing a client at it
//
// discordgo's endpoints are package variables computed at start-up from
// https://discord.com; changing them at run time races with every other
// session. Instead, Client returns an *http.Client whose transport sends
// requests for https://discord.com to the Server, and GET /api/v9/gateway
// answers the Server's own ws:// address, which discordgo's dialer reaches
// as it is. (An adapter with a base-URL setting, such as bot/discord's
// Options.APIURL, is given URL instead.)
//
// # The gateway
//
// A connection gets HELLO with Options.HeartbeatInterval; it must send
// IDENTIFY (token, properties, intents) or RESUME. IDENTIFY with a wrong
// token is closed with 4004, with a privileged intent in
// Options.DisabledIntents with 4014; otherwise the Server sends READY (the
// bot user, session_id, resume_gateway_url, application) and GUILD_CREATE
// for each guild, and from then on dispatches with sequence numbers:
// INTERACTION_CREATE, MESSAGE_CREATE (for every message created, the bot's
// own included, and without content for a guild message when the session
// lacks MESSAGE_CONTENT, as Discord does), THREAD_CREATE. Dispatches are
// filtered by the session's intents (GUILDS, GUILD_MESSAGES,
// DIRECT_MESSAGES). Heartbeats are acknowledged. RESUME replays what the
// session missed and sends RESUMED; DropConnection breaks a connection to
// test it. Dispatch and SendRaw send anything, junk included.
//
// # Strictness
//
// The Server answers as Discord does, with its error JSON
// {"message": ..., "code": ...}, and tells two kinds of error apart:
//
//   - Refusals that depend on the state of things are answered and the
//     test goes on, because a bot must handle them: no such channel
//     (10003), guild (10004), member (10007), message (10008) or user
//     (10013); Missing Access (50001) and Missing Permissions (50013) where
//     Deny says so; a DM to a user who takes none (50007); a thread
//     already started from the message (160004); a wrong channel type
//     (50024); 429 where RateLimit says so.
//   - Requests the real service rejects for what they are also fail the
//     test, through the testing.TB given to New: a missing or wrong
//     "Authorization: Bot TOKEN" header, a User-Agent that is not
//     "DiscordBot (url, version)", an unknown endpoint or method, a
//     Content-Type other than JSON or multipart, JSON that does not decode
//     or has a field the endpoint does not take (DisallowUnknownFields),
//     content over 2000 characters, an empty message, bad components (not
//     action rows of 1 to 5 buttons with unique custom ids of 1 to 100
//     characters), flags the endpoint does not take (ephemeral outside an
//     interaction's answer), a nonce over 25 characters, a file over
//     MaxFile, invalid commands (names, descriptions, option order and
//     types; contexts on a guild command); an interaction answered twice,
//     answered after Options.InteractionDeadline (Discord's 3 s), or
//     edited or followed up before it was answered; a request made before
//     a 429's retry_after passed; on the gateway, a frame that is not
//     JSON, an unknown opcode, anything but a heartbeat before IDENTIFY,
//     IDENTIFY twice, invalid intents, a heartbeat with a sequence number
//     never sent, and silence for three heartbeat intervals.
//
// Idempotency is as Discord's: a message created with a nonce and
// enforce_nonce: true in a channel where the same author used the same
// nonce in the last 5 minutes is not created again; the first is
// returned.
package discordfake
