// Package email is the bot's e-mail transport: it builds the messages the bot
// sends (invitations, mirrored chat), submits them to a mail server over SMTP,
// receives helpers' replies on an SMTP listener of its own and reduces each
// reply to the new text a person typed. It imports nothing from gethelp; the
// bot's core wraps it as its e-mail adapter.
//
// # Building
//
// [Outgoing.Bytes] writes an RFC 5322 message with go-message:
//
//	multipart/mixed                       only when there are attachments
//	├── multipart/alternative             only when there is HTML
//	│   ├── text/plain; charset=utf-8     quoted-printable
//	│   └── text/html; charset=utf-8      quoted-printable
//	└── application/…                     base64, Content-Disposition: attachment
//
// A message without attachments or HTML is a single text/plain part; HTML
// without text gets a text part made from the HTML, so every message reads in
// a text-only client. Non-ASCII subjects and display names are RFC 2047
// encoded words; non-ASCII file names use RFC 2231 in Content-Disposition
// (filename*=, percent-encoded UTF-8), with an RFC 2047 name= in Content-Type
// for old clients. Message identifiers are given and returned without angle brackets;
// when MessageID is empty Bytes makes one, <32 hex digits@domain of From>, and
// writes it (and a zero Date) back into the Outgoing so the caller can record
// it for threading before it sends. Randomness (Message-ID, MIME boundaries) is
// injectable through Outgoing.Rand, which makes the output byte-for-byte
// reproducible in tests. Header values with line breaks are refused, not
// encoded: a line break in a bot-made header is a bug or an injection.
//
// # Sending
//
// [Sender] submits to one configured server (a submission port of the
// organisation's mail service, not direct-to-MX); it holds no connection
// between messages and needs no closing. Security is "starttls" (default),
// "tls" (implicit TLS, port 465) or "none", which is allowed only towards a
// loopback address and exists for tests. With "starttls" a server that does
// not offer STARTTLS is refused outright, before any credential or message is
// sent, rather than silently downgraded. This package speaks the exchange up
// to STARTTLS itself (go-smtp's client cannot check for STARTTLS and then
// upgrade the same connection), and refuses a server that sends bytes after
// its 220 reply to STARTTLS (response injection); the TLS connection is then
// handed to go-smtp's client. AUTH PLAIN is used when a user name is set.
//
// A 5xx reply is permanent: [Sender.Send] returns a [*PermanentError] at
// once. 4xx replies and network errors are retried with exponential backoff
// (2s, 4s, 8s… capped at one minute, five retries by default); certificate
// errors and refusals of this package's own policy are not retried. Once the
// server has accepted the message (250 after DATA) Send reports success even
// if QUIT fails, so a retry never sends it twice; a connection lost between
// the final dot and the reply can still cause a duplicate, as with every SMTP
// client, so the core's outbox should tolerate it. The password never
// appears in an error or a log: server texts are scrubbed of it, and
// [SenderConfig] and [Sender] redact themselves for fmt and slog.
//
// # Receiving
//
// [Inbound] is an SMTP server for the bot's own reply domain (the MX for, say,
// reply.gethelp.example). It accepts a recipient only when it is in Domain and
// its local part is base+token, token being 8–64 of [a-z0-9] (compared
// lower-cased); anything else gets 550 at RCPT, so unknown addresses bounce
// at the sender's server rather than vanishing here. Tokens are capabilities
// (whoever knows one can write into that ticket) and never reach a log. Each
// message is read up to MaxBytes, parsed with [ParseReply] and handed to the
// Handler once per accepted token. A message that is too large gets 552, one
// that cannot be parsed 554, each with one log line; a Handler error gets
// 451, so the sending server retries later: delivery is at least once and the
// core should drop a repeated (MessageID, Token). Inbound never offers AUTH.
//
// # Parsing
//
// [ParseReply] keeps only what the person wrote: the first text/plain part
// that is not an attachment (format=flowed is unfolded), else the first
// text/html part turned into text (block elements become line breaks,
// blockquotes become "> " lines, links keep their address). Transfer
// encodings are decoded and charsets converted to UTF-8 (an unknown charset is
// read as is, with invalid bytes replaced). Quoted history is removed:
//
//   - lines starting with '>';
//   - an attribution line ("On … wrote:", "Le … a écrit :", "Am … schrieb …:",
//     and the Spanish, Italian, Portuguese and Dutch equivalents) containing a
//     digit, possibly wrapped over three lines: when quoted lines follow it,
//     it is dropped with them and any text after the quote (an interleaved or
//     bottom-posted answer) is kept; otherwise everything from it on goes;
//   - everything from a "-----Original Message-----" line (any number of
//     dashes, a few languages), an Outlook "______" separator line, or a
//     "From:" header block (From: followed within four lines by Sent:, Date:,
//     To: or Subject:) that follows a blank line;
//   - a signature from a "-- " (or "--") line on, and a final "Sent from my …"
//     or "Get Outlook for …" line.
//
// Runs of blank lines are collapsed and the result trimmed. A reply is
// marked Automatic (and should not be mirrored as the helper's words) when it
// carries Auto-Submitted other than "no", Precedence bulk, junk or list, a
// multipart/report body, or (set by Inbound) a null envelope sender.
// Structural damage (no usable From, a header that does not parse, a multipart
// body without its boundary or cut short, corrupt base64) is an error wrapping
// [ErrMalformed]; a message over the limit is an error wrapping [ErrTooLarge].
package email
