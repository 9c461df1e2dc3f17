// Package invitations defines the gethelp invitation: the small file that a
// person who needs help hands to a helper, the password that goes with it,
// and the local list of past invitations from which the person can resend
// or cancel one.
//
// A person creates an invitation and a password. The helper opens the file,
// types the password, and connects straight to the person's computer over
// QUIC with TLS 1.3. The file says where to connect and which key to
// expect; the password proves to the host that the helper is the one it was
// meant for. This package knows the file, the password rules and the list;
// the wire protocol, including the password proof, belongs to package
// session.
//
// # No secret in the file
//
// The invitation file holds nothing secret: the host's candidate addresses,
// the SHA-256 pin of the host certificate's SubjectPublicKeyInfo (the viewer
// accepts only that key), the invitation id, when it was created and when
// it expires, the host's display name and, optionally, a rendezvous
// address. Anyone may read it; reading it lets nobody in.
//
// Windows Remote Assistance, which gethelp is modelled on, encrypts its
// invitation ticket with the password. Whoever gets hold of such a file can
// then try passwords offline, as fast as their hardware allows, and check
// each guess against the file without ever contacting the host. gethelp
// does not: the password is never in the file and never crosses the wire.
// The only way to test a guess is to connect to the host and prove it over
// that one TLS connection, and the host counts failures and kills the
// invitation after a few (Record.Failures, StateLocked). The file can
// therefore travel by e-mail, chat or a shared folder; the password must
// reach the helper by another channel.
//
// # File format, version 1
//
// An invitation file has the extension FileExtension (".gethelp") and is
// UTF-8 text made of "key: value" lines. Lines that are blank or whose
// first non-blank character is '#' are ignored. White space around keys and
// values is ignored. A leading UTF-8 byte order mark and CRLF line endings
// are accepted, since files travel through e-mail and Windows editors.
// Keys are case-sensitive.
//
// The first line that is not blank or a comment must be
//
//	gethelp-invitation: 1
//
// giving the format version. A file of another version is refused with
// ErrUnknownVersion, so that an old gethelp tells its user to update rather
// than guessing. The version changes whenever a key is added or a meaning
// changes, because a reader cannot tell whether a key it does not know
// matters; that is also why an unknown key is an error.
//
// The other keys, each exactly once unless said otherwise, in any order:
//
//	id          required. The invitation id: exactly 10 characters from
//	            Alphabet, as made by NewID.
//	host-name   required. The name of the person's computer, shown to the
//	            helper: 1–64 characters (runes), no control characters, no
//	            line or paragraph separators, no bidirectional overrides or
//	            isolates (U+202A–U+202E, U+2066–U+2069), no white space at
//	            either end.
//	created     required. When the invitation was made: an RFC 3339 time in
//	            whole seconds, year 2000–9999, read into UTC
//	            (2026-11-24T19:30:00Z; an offset such as +01:00 is accepted).
//	expires     required. When it stops working: as created, and after it.
//	pin-sha256  required. The SHA-256 of the DER SubjectPublicKeyInfo of the
//	            host certificate (see PinOf), in standard base64 with padding
//	            (44 characters); not all zeros.
//	address     required, 1 to 16 times, no two the same. A candidate
//	            address of the host: IP:port, the IP a literal (IPv6 in
//	            brackets, without a zone; not unspecified or multicast) and
//	            the port 1–65535, as in 192.168.1.5:40123 or
//	            [2001:db8::1]:40123. Order is kept: the host lists its
//	            best candidates first.
//	rendezvous  optional. host:port of the rendezvous service that helps
//	            the two sides find each other through NAT: host is a DNS
//	            name (letters, digits, hyphens; no trailing dot) or an IP
//	            literal (IPv6 in brackets), the port 1–65535.
//
// A file may be at most 16 KiB and a line at most 1024 bytes, not counting
// its line ending. Parse checks every rule and reports the first broken one
// in a one-line message naming the line and key, such as
//
//	invitations: line 8: bad pin-sha256: not 32 bytes of base64 (16 bytes)
//
// Every such error wraps ErrMalformed. Parse does not look at the clock;
// CheckExpiry does.
//
// Marshal writes this, for example:
//
//	# gethelp invitation: open it with `gethelp viewer open FILE`.
//	# It holds no secret; the password reaches you separately.
//	gethelp-invitation: 1
//	id: 7Q2M9KX4TR
//	host-name: Alice's laptop
//	created: 2026-11-24T19:30:00Z
//	expires: 2026-11-25T01:30:00Z
//	pin-sha256: vgHQZzdoDxTzEwsk1apzI7ojgx3E43BgJKFPXdqJtKQ=
//	address: 192.168.1.5:40123
//	address: [2001:db8::1]:40123
//	rendezvous: bot.example.com:3478
//
// Marshal writes the keys in this order, times in UTC with a Z, addresses
// in their canonical form, the rendezvous line only when it is set, "\n"
// line endings and no byte order mark.
//
// # Passwords
//
// Ids and generated passwords use Alphabet, which leaves out the characters
// that are easily mistaken for one another: 0 and O, 1, I and L. A
// generated password has 12 characters drawn uniformly with crypto/rand,
// about 59 bits, shown in groups of four: "K7PM-W3XQ-R9TD". Passwords are
// compared in canonical form (CanonicalPassword): white space and dashes
// removed, letters upper-cased, so that "k7pm w3xq-r9td" read over the
// phone is the same password. A password the person chooses must have at
// least 8 characters in canonical form (CheckPassword). Passwords are never
// stored by this package.
//
// # The list of past invitations
//
// Store keeps one JSON file per invitation in a directory chosen by the
// caller:
//
//	<Dir>/               mode 0700, created on first write
//	<Dir>/.lock          taken exclusively by every writer
//	<Dir>/<ID>.json      one Record, mode 0600, replaced atomically
//	<Dir>/.tmp-<ID>-*    a record being written; renamed over <ID>.json
//
// A record says what became of an invitation: open while its host waits,
// then used, expired, cancelled or locked. A host that dies cannot say so,
// so Store.List and Record.Effective report an open record as expired once
// its time has passed, and as cancelled once its host process (Record.PID)
// has gone. Records hold no password and no key: resending an invitation
// means issuing a new password for it. A corrupt record file does not stop
// List: it returns the other records and an error naming the file.
package invitations
