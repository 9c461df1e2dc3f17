// Package webchat is a small chat network on this machine, and the bot's
// adapter to it. It stands in for Slack or Discord in `gethelp demo` and in
// tests: a workspace with users, channels, threads, direct messages with the
// bot, the /gethelp command, buttons, files and ephemeral messages, served
// as a Slack-like web page, plus a Mailbox that shows what the bot e-mailed.
// A *Server is the network and implements bot.Network and bot.UserLookup
// itself; it imports nothing of the bot but package bot.
//
// # Model
//
// Everything is in memory, and lost on Close unless Options.StateFile keeps
// it (see "The state file"). A workspace (Options.Workspace,
// "demo") has users (Options.Users, by default Alice and Bob) and channels
// (Options.Channels, by default #general and #helpdesk; a channel's id is
// its name). Each user has one conversation of direct messages with the bot
// (Place{User: id}, Channel ""). A message has an id ("m" and six or more
// digits, taken from one counter, so that later messages have greater ids;
// with a state file, also after a restart: an id is never used twice),
// an author (a user's id, or "bot"), text, buttons, an optional file, a
// time from Options.Now, and, for a reply, its thread's root id. A root is a
// message that is not a reply and not ephemeral; replying to a reply is an
// error, as threads do not nest. An ephemeral message is in a channel or
// thread but shown to one user only. Users are named in requests and
// places by id or by name, without regard to case.
//
// # The adapter
//
// Send posts what the core sends: to a channel, a thread in it, a direct
// message, ephemeral for Place.User (in a direct message Ephemeral changes
// nothing but the styling). A Send whose Message.Key was sent before
// returns the first message's id and posts nothing, so the core's outbox can
// retry; with a state file the keys survive a restart as the messages do,
// and Send returns an id only once the message and its key are on disk. Mistakes the core can make (no such channel, thread, user or
// workspace; an empty message; text over MaxText; a file over MaxFile;
// a button without a label or action, or with an unknown style) are
// returned wrapping bot.ErrPermanent, and also ErrNotFound, ErrInvalid or
// bot.ErrNoSuchUser: the fake is strict so that core bugs show in tests.
//
// Run hands what people do to the core, one call at a time, from a queue
// of up to 1024 events that fills while no Run receives (further actions
// get ErrBusy): "/gethelp ARGS" typed anywhere is Handler.Command, with
// ARGS trimmed; every other message is Handler.Post, in channels as well as
// threads and direct messages (the core decides what concerns it); a button
// press is Handler.Button. Commands and presses wait for the core's reply
// up to Options.Deadline (3s, as Slack), and the reply, if not empty, is
// posted ephemeral for the one who typed or pressed, where they did it,
// even when it came too late for the request, which then got ErrTimeout
// (504). A command's reply carries the command as typed; the command
// itself is not posted, as in Slack.
//
// With a state file, a message a user posted is handed to Handler.Post
// again after a restart if no Handler.Post had returned from it (Slack
// redelivers an event not acknowledged), with the same Post.ID: at least
// once, as the core deduplicates. Commands and presses are not: like
// Slack's, they fail for the user while the bot is down. Their ids
// (Command.ID, Press.ID) come from the messages' counter and are recorded
// before use, as the core remembers those it has seen.
//
// LookupUser resolves "@bob", "bob" or "<@bob>" by id or name, without
// regard to case, in the Server's workspace (or workspace "").
//
// # Security
//
// The page is for the person at this machine, like the windows of package
// localweb, and makes the same decisions: it listens on a loopback address
// only (New returns ErrNotLoopback otherwise); every request must carry a
// fresh random 128-bit token (or Options.Token, so that a restart keeps the
// URL: the caller keeps it secret), in the URL (?t=TOKEN, which URL
// returns) or in the HttpOnly, SameSite=Strict cookie set when the page was opened with
// it, named after the port; a Host header that does not name this machine
// gets 403 (DNS rebinding); responses forbid caching, sniffing, referrers
// and framing under a strict Content-Security-Policy; the WebSocket's
// Origin must be the page's own. POST bodies must be application/json. It
// cannot use localweb itself, which serves three fixed assets and /ws and
// nothing else, while the chat needs an API and downloads.
//
// Within the token, nobody is authenticated: the demo's person and helper
// share one browser, and the page acts as whoever is chosen in "You are".
// Who sees which message (direct messages, ephemerals) is the model's, not
// a barrier: a request may name any user.
//
// Files and mail attachments are served as downloads (Content-Disposition:
// attachment, under a CSP sandbox), never shown. A mail's text is shown as
// text; its HTML only in a frame with sandbox="", served under its own CSP
// (sandbox, no scripts, nothing loaded from anywhere, inline styles only),
// so mail cannot run script, track its reader or reach the page.
//
// # The state file
//
// webchat stands in for Slack, whose messages outlive a crash of the bot;
// as webchat runs in the bot's process, Options.StateFile lets it outlive
// the bot's kill -9 too. The file holds every message (replies, ephemeral
// ones, files inline as base64), the Send keys, the mail and the id
// counter, and which users' posts the core has received. New reads it
// (creating it, mode 0600 as messages hold invitations and passwords);
// every change is on disk before the call that made it returns, and is
// kept in memory too.
//
// The file is JSON lines, appended to and fsynced for every change: a
// header line ({"webchat_state":1,"workspace":"demo"}) and one line per
// change; state.go defines the format and testdata/state-v1.jsonl is a
// golden example. This beats rewriting a snapshot (a temporary file, fsync,
// rename, fsync of the directory) because the chat is itself append-only:
// nothing is edited or deleted, so the log is the state, needs no
// compaction, and a change costs one small write and one fsync however
// much the chat holds (a snapshot costs the whole state per change): a
// Send took 0.13ms (median) on an ext4 virtual disk (BenchmarkSend). It is
// as crash-safe: writes are serialized and each is synced before the next
// begins, so a crash can tear only the last line, whose call never
// returned; New drops such a line (one without its newline, or that is not
// JSON) and cuts it off before appending. A bad line anywhere else, a file
// that is not a state file, or a newer version is ErrCorruptState, with
// the file and line in a one-line message; a file that contradicts the
// Options (another workspace, a channel or user no longer there) is an
// error too. After a failed write or fsync every later change fails, as
// what is on disk is then unknown (a restart recovers). The file is created
// atomically (a temporary file renamed), so it always has its header.
//
// The file is bounded by MaxState (64 MiB): a message takes a few hundred
// bytes and invitations and mail attachments a few KiB, so a demo's file
// stays far below it, and a 10 MiB file still fits. A change that
// would exceed it fails with ErrStateFull (not permanent: the core keeps
// the delivery for a restart with a new file); New reads the file whole.
// A flock(2) keeps a second Server off the file (ErrStateInUse), which the
// kernel releases when the process dies.
//
// To restart where it was, a Server needs the same StateFile, Options
// (workspace, users and channels), Addr with a fixed port and Token: its
// URL is then the same, and open pages keep their cookie (they reconnect
// their WebSocket and fetch again). The port can be bound again at once,
// even while the dead server's connections linger in TIME_WAIT, as Go sets
// SO_REUSEADDR on listeners on Unix (TestStateCrash checks it on Linux).
//
// # HTTP API
//
// All requests carry the token; answers are JSON. Errors are
// {"error": "words"} with 400 (bad JSON, unknown fields, empty or
// over-long text, a command other than /gethelp, a reply to a reply), 403
// (no token), 404 (no such user, channel, thread, message, button, file or
// mail), 405, 413 (a body over 256 KiB), 415 (not JSON), 500 (the state
// file could not be written), 503 (closed, busy, or the state file full)
// or 504 (the bot did not answer in time).
//
//	GET  /api/workspace  {workspace, bot: {id, name}, users: [{id, name, email}], channels: [name]}
//	GET  /api/messages?user=U&channel=C&thread=T
//	     what U sees, oldest first: with T empty the messages of channel C
//	     (C empty: U's direct messages with the bot) that are not replies,
//	     each with "replies", the number of replies U sees; with T, the
//	     root T and its replies. Each is a Message:
//	     {id, channel, dm, thread, author, author_name, text,
//	      buttons: [{label, action, value, style}],
//	      file: {name, content_type, size, url}, visible_to, command, time, replies}
//	POST /api/command {user, channel, thread, text: "/gethelp ARGS"} → {reply}
//	POST /api/post    {user, channel, thread, text} → {id}; text is posted as is,
//	                  even when it starts with "/": the page sends those to /api/command
//	POST /api/press   {user, message, action, value} → {reply}
//	GET  /api/file?message=ID             the file of a message
//	GET  /api/mail                        [{id, from, to, subject, date, text, html_url,
//	                                        attachments: [{name, content_type, size, url}]}], oldest first
//	GET  /api/mail/html?mail=ID           a mail's HTML, for the sandboxed frame
//	GET  /api/mail/file?mail=ID&n=N       a mail's Nth attachment, from 0
//	GET  /ws                              the WebSocket
//
// The WebSocket sends JSON text messages and reads none: first
// {"type": "hello", "workspace"}, then one event per change, for every
// user: {"type": "message", ...the Message} for every new message,
// ephemeral ones included (a page shows those whose visible_to is its
// user), and {"type": "mail", ...the mail as in /api/mail} for every mail.
// Events are not replayed: a page that connects or reconnects fetches what
// it shows. A page that falls 256 events behind is dropped.
//
// The same actions are Go calls for tests of other packages: Command,
// Post, Press, Messages, AddMail and Mail.
//
// # The page
//
// Plain HTML, CSS and JavaScript embedded with go:embed, no build step. A
// sidebar (workspace, channels, "gethelp bot" for the direct messages,
// Mailbox, each with an unread count kept per user in localStorage), a
// "You are" switcher, the messages with buttons, downloads, ephemeral
// messages marked "Only visible to you", threads in a pane on the right
// (over the chat below 1000px), and a composer that sends on Enter, hints
// at /gethelp as soon as "/" is typed and completes it with Tab.
package webchat
