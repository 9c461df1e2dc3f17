// Package slackfake is an in-process fake of Slack for tests: the Web API
// methods the gethelp bot calls, the file-upload URL, response_url, and a
// Socket Mode WebSocket, speaking Slack's wire formats so that the real
// slack-go client (github.com/slack-go/slack and its socketmode package)
// runs against it over loopback HTTP and WebSocket. It is test support,
// reusable by any package's tests; it imports nothing of gethelp.
//
// # Use
//
// A zero Server is ready to use; New(t) returns one that reports to t and
// closes itself at the end of the test. URL returns the Web API's base URL
// ("http://127.0.0.1:PORT/api/", for slack.OptionAPIURL), starting the
// server on first use. The workspace (TeamID) holds the bot (BotUserID,
// BotID, named "gethelp"), users alice (U0ALICE, "Alice",
// alice@example.com), bob (U0BOB, "Bob", bob@example.com) and carol
// (U0CAROL, real name "Carol Smith" and no display name or e-mail), and
// channels #general (C0GENERAL) and #helpdesk (C0HELPDESK) with everyone
// and the bot, #random (C0RANDOM) without the bot, and the private
// #private (G0PRIVATE) with alice, bob and the bot. AddUser and AddChannel
// add more before or after start.
//
// The tokens are BotToken (xoxb-) and AppToken (xapp-); the signing secret
// for the HTTP Events API is SigningSecret. Scopes lists what the bot
// token was granted; nil grants DefaultScopes, those of the gethelp
// manifest.
//
// # Strict
//
// The fake answers a request the real Slack would reject with Slack's
// error shape ({"ok":false,"error":"missing_scope","needed":…,"provided":…},
// "not_authed", "invalid_auth", "not_allowed_token_type",
// "channel_not_found", "not_in_channel", "user_not_found",
// "users_not_found", "invalid_arguments", "no_text", "invalid_blocks",
// "msg_too_long", "invalid_metadata_format", "file_not_found",
// "unknown_method", …) and records it as a failure: Failures returns them
// and, with Server.T set, each is reported by T.Errorf so that the test
// fails. A test that provokes an error on purpose says so first with
// Expect(code): the next error with that code is then not a failure (and
// an expectation still unmet at Close is one). It is stricter than Slack
// where Slack quietly accepts a mistake: a thread_ts that names no root
// message of the channel is "thread_not_found", and an upload whose bytes
// differ in length from what files.getUploadURLExternal announced fails
// files.completeUploadExternal.
//
// Which token and scopes each method needs:
//
//	auth.test                        any token
//	users.info, users.list           bot, users:read (users:read.email to see profile.email)
//	users.lookupByEmail              bot, users:read.email
//	conversations.open               bot, im:write
//	conversations.history, .replies  bot, channels:history, groups:history or im:history by the channel's kind; the bot must be a member
//	chat.postMessage                 bot, chat:write; the bot must be a member
//	chat.postEphemeral               bot, chat:write; the bot and the user must be members
//	files.getUploadURLExternal       bot, files:write
//	files.completeUploadExternal     bot, files:write
//	apps.connections.open            app, connections:write
//
// Tokens are read as slack-go sends them: the "token" form field, or an
// "Authorization: Bearer" header (JSON bodies, the upload URL).
//
// Timestamps (ts) are the clock's seconds and six digits of microseconds,
// unique and increasing ("1732456789.000100"): unlike slacktest's
// whole-second ts, two messages in a second never collide, so threads
// work.
//
// # Socket Mode and events
//
// apps.connections.open returns a one-use ws:// URL of the fake. A
// connection gets {"type":"hello"}, WebSocket pings every PingInterval
// (5s), and envelopes; every envelope must be acknowledged
// ({"envelope_id":…}) within AckTimeout (3s, as Slack), or it is a
// failure. Disconnect sends {"type":"disconnect"} and the client is
// expected to connect again. Events go to the newest connection.
//
// With RequestURL set, the fake delivers as the HTTP Events API instead:
// POSTs signed with SigningSecret (X-Slack-Signature,
// X-Slack-Request-Timestamp) to RequestURL+"/events" (JSON),
// "/commands" (a form) and "/interactive" (a form with payload=JSON),
// each to be answered 200 within AckTimeout.
//
// Like Slack, the fake sends a message event (message.channels,
// message.groups, message.im) for every message posted in a conversation
// the bot is in, the bot's own included, whenever a client is connected
// (or RequestURL is set): an adapter must ignore its own messages.
//
// The helpers act as people: SlashCommand types /gethelp and waits for the
// ack and the reply (an ephemeral message through response_url or
// chat.postEphemeral, or the ack's own text); Press presses a button of a
// posted message and waits likewise; Message posts as a user and sends the
// event. Messages, DMs, Ephemerals, Files and Calls show what the client
// did. RateLimit makes the next calls of a method answer 429 with
// Retry-After.
package slackfake
