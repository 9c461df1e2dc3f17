// Package files moves files between a gethelp helper and the person being
// helped, one file per stream, with the person's consent for each file,
// resume after a broken connection and a SHA-256 check of every byte.
//
// The caller (host or viewer) opens one fresh bidirectional stream per file
// (a QUIC stream in production, net.Pipe in tests), calls Send on one end
// and Inbox.Receive on the other, and closes the stream when the call
// returns. This package imports nothing else of gethelp: whether files are
// allowed at all (the "files" consent), logging the transfer with its
// SHA-256 in the session log and showing the prompt are the caller's.
//
//	offer, err := files.OfferFile(ctx, path)               // sender: hash once
//	res, err := files.Send(ctx, stream, path, offer, progress)
//
//	inbox := &files.Inbox{Dir: downloads, MaxSize: 4 << 30}
//	res, err := inbox.Receive(ctx, stream, askThePerson, progress)
//
// # Wire format (version 1)
//
// Inside the stream, messages are a 4-byte big-endian length followed by
// that many bytes of one JSON object, at most MaxMessage (4 KiB). Every
// object has "type" and "v" (WireVersion, 1). A peer that sees another
// version, an unknown type, a message out of turn, a length over the limit
// or malformed JSON stops with ErrProtocol; the receiver first declines
// with reason "protocol" when it can. Unknown fields are ignored, so
// version 1 can grow optional fields; anything else needs version 2.
//
//	sender                                     receiver
//	offer  {"type":"offer","v":1,"id":…,"name":…,"size":…,"sha256":…}  →
//	                                           checks name, size, id; asks the person
//	       ← answer {"type":"answer","v":1,"accept":true,"offset":N}
//	exactly size-N raw bytes of the file     →
//	       ← done   {"type":"done","v":1,"ok":true}
//
// A refusal is an answer with "accept":false and a "reason": "declined"
// (the person said no: ErrDeclined), "too_large" (ErrTooLarge), "bad_name"
// (ErrBadName), "busy" (ErrBusy), "protocol" (ErrProtocol) or "failed"
// (ErrRefused; so is any reason this version does not know), plus an
// optional human "detail". After the bytes, "done" has "ok":false with
// reason "verify" (ErrVerify) or "failed" (ErrRefused). Nothing follows
// done. The raw bytes are not framed: both sides know exactly how many to
// expect, and the sender writes them in 64 KiB chunks straight from the
// file, never holding it in memory. testdata/wire.golden holds a vector of
// every message.
//
// # Transfer id and resume
//
// Offer.ID is the first 16 bytes, as 32 lowercase hex digits, of
//
//	SHA-256("gethelp/files v1 id" || 0x00 || uint32be(len(name)) || name ||
//	        uint64be(size) || the 32 raw bytes of the content's SHA-256)
//
// so the same file with the same name gets the same ID on every offer,
// across reconnects, and an ID is bound to the content it claims. The
// receiver recomputes it and refuses an offer whose ID does not match, which
// also guarantees the ID is safe in a file name.
//
// The receiver keeps an unfinished transfer in Dir/.gethelp-partial/<ID>.part
// (PartialDir). When the same file is offered again it hashes the partial
// prefix, answers with its length as the offset, and hashes the new bytes
// as they arrive, so the check at the end covers the whole content. The
// offset comes from what is actually on the receiver's disk, never from the
// sender. A hash mismatch deletes the partial (a corrupt prefix cannot poison
// later attempts); a broken stream or cancellation keeps it. Partials of
// files that are never offered again stay until someone deletes them.
//
// # Decisions
//
//   - Names are the sender's to propose and the receiver's to check:
//     SanitizeName refuses anything that is not a plain, visible file name
//     valid on Linux, macOS and Windows alike (separators, control and
//     bidirectional-control characters, Windows-reserved characters and
//     device names, leading dots, trailing dots and spaces, over 255 bytes),
//     before the person is asked. The name is never used as a path.
//   - A finished file never replaces another: it is hard-linked into Dir
//     under "name.ext", "name (1).ext", "name (2).ext", … (".tar.gz" and
//     friends stay together), the link failing atomically if the name is
//     taken, even by a file created a moment earlier; then the partial is
//     unlinked. Where hard links are unsupported the name is claimed with
//     O_EXCL and the partial renamed over that placeholder.
//   - Received files have mode 0600 and are never executable; Dir is created
//     0700 on the first accepted file, so a declined or refused offer leaves
//     no trace.
//   - Size limits and bad names are refused before the person is asked:
//     the prompt only ever shows offers that could be accepted.
//   - One transfer per ID at a time in an Inbox: a second offer of a file
//     already being received is refused with ErrBusy rather than appending
//     to the same partial.
//   - While the person decides, the receiver watches the stream (when it
//     has read deadlines, as QUIC streams do); if the sender gives up, the
//     context passed to decide is cancelled so the prompt can close.
//   - Send does not hash the file again: it fails with ErrChanged if the
//     size changed or the file ends early, and leaves any other change to the
//     receiver's SHA-256 check.
//   - The receiver's local errors (paths, disk errors) are not sent to the
//     sender; it learns "failed" and "could not store the file".
//
// # Cancellation
//
// Send and Receive take a context. When it ends they interrupt their own
// blocked I/O by setting a deadline in the past on the stream if it has
// SetDeadline (net.Conn, *quic.Stream) or else by closing it if it is an
// io.Closer; a stream with neither is checked between reads and writes
// only. Either way they stop, and wait for, every goroutine they started
// before they return; the stream is unusable afterwards and the caller
// closes it.
//
// # Progress
//
// Progress callbacks run on the goroutine doing the transfer, about ten
// times a second at most and once more with done == total after the last
// byte; they count a resumed prefix as done.
package files
