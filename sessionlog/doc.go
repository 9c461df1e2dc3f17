// Package sessionlog writes and checks the tamper-evident log that every
// gethelp session leaves behind: who connected and when, every consent
// change, chat, and files sent with their SHA-256.
//
// The log exists so that the person who was helped (or whoever they show it
// to) can later ask "is this what really happened?" and get a firm answer.
// Every line carries the SHA-256 of the line before it, so no line can be
// changed, removed, inserted or moved without [Verify] noticing at the line
// that follows. The host writes its log with [Open] and [Log.Append];
// `gethelp log` reads one back with [Verify], [Read] and [Show].
//
// # File format, version 1
//
// A log is a UTF-8 text file of JSON Lines: one JSON object per line, each
// line ending in a single '\n'. Every object has these five fields, which are
// reserved and cannot be used as attributes:
//
//	v      format version, the number 1
//	seq    1-based line number within the file
//	time   when the line was written, RFC 3339 in UTC with nine fraction digits
//	event  what happened, a non-empty string such as "connected" or "chat"
//	prev   lowercase hex SHA-256 of the previous line's exact bytes, without
//	       its '\n'; on the first line, 64 '0' characters
//
// Any other fields are attributes given by the caller: strings, numbers,
// booleans, null, or nested arrays and objects, flattened into the same
// object. The writer emits compact JSON (no spaces, no HTML escaping) with
// the fields in this order: v, seq, time, event, the attributes sorted by
// key, and prev last. These are the first two lines of
// testdata/golden.jsonl, the test vector, with prev shortened:
//
//	{"v":1,"seq":1,"time":"2025-03-14T09:26:53.589793238Z","event":"listening","addr":"0.0.0.0:4242","version":"0.1.0","prev":"0000…0000"}
//	{"v":1,"seq":2,"time":"2025-03-14T09:26:55.089793238Z","event":"invitation","expires":"2025-03-14T10:26:53Z","id":"7Q2M-K9XD","prev":"9cbc…3817"}
//
// A line may be at most 1 MiB long, not counting its '\n'. [Log.Append]
// refuses to write a longer one, and [Verify] reports one as a problem.
//
// Files are named by [FileName]: "2025-03-14-<session id>.jsonl", with
// "-<role>" before the extension when both sides of a session keep a log in
// the same place.
//
// A reader that meets a "v" other than 1 must refuse the line rather than
// guess; a later version will change "v".
//
// # Decisions
//
// The hash covers the raw bytes of a line exactly as stored, not a
// re-encoding of the parsed object. Verifying therefore needs no canonical
// JSON form, which is hard to specify and easy to get subtly wrong across
// languages and library versions: anyone can check a log with a line splitter
// and sha256sum. The writer still produces a fixed field order and compact
// encoding so that logs are easy to read and to diff, but a checker does not
// depend on it.
//
// Each line, with its '\n', is written with a single write(2) on a file
// opened with O_APPEND, while a mutex orders concurrent Appends. The kernel
// then places the whole line at the end of the file in one piece: a reader
// such as `tail -f` never sees a line built from fragments, and a crash can at
// worst lose or tear the final line, never damage one in the middle. Lines
// are not fsynced; losing the last lines to a power cut is accepted. A torn
// final line is reported by [Verify] as "incomplete line", and [Open] refuses
// to continue such a file rather than glue new lines onto a fragment. After a
// failed write a [Log] refuses further Appends, because it no longer knows
// what the file ends with.
//
// The time is read inside the same critical section that assigns seq, so
// times never go backwards along the chain when the clock does not.
//
// [Read] and [Show] return numbers as [encoding/json.Number], so that large
// integers such as file sizes keep every digit and are shown exactly as
// written.
//
// [Show] is for people: it never writes control characters from the log to
// the terminal, quoting strings that contain them, and it keeps going after a
// problem so that a damaged log can still be read.
//
// # Limits
//
// The chain proves that each line follows the one before it; nothing follows
// the last line. So:
//
//   - Changing the last line (its time, event or attributes), or removing
//     lines from the end, cannot be detected by the chain alone, as long as
//     what remains is well-formed.
//   - Deleting the whole file cannot be detected by the file itself.
//
// To narrow this, host and viewer end every session with a "disconnected"
// event: a log whose last line is not that event was cut short, by a crash
// or by someone. The helper's side keeps its own log of the same session, a
// record the person's side cannot edit, to compare against. Anyone who can
// write the file can also replace it with a fresh, valid chain: the chain
// makes changes evident, it does not say who wrote the log.
//
// One [Log] must be the only writer of its file; two processes appending to
// the same file would fork the chain.
package sessionlog
