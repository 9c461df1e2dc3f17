// Package filexfer sends the files that a page of package localweb
// uploads through the session, the same way for the person's window
// (host/hostui, with host.SendFile) and the helper's (viewer/viewerui,
// with viewer.SendFile).
//
// Decisions:
//
//   - A browser never tells a page where a chosen file is, so the page
//     uploads it first (localweb's POST /upload), then asks for it to be
//     sent ({"type":"send_file","upload":ID}). CheckName, as the
//     uploads' localweb.Uploads.CheckName, refuses a name the other side
//     would refuse (files.SanitizeName) before a byte is stored, saying
//     why.
//   - Sender.Send hashes the copy in a goroutine of its own (a big file
//     takes a while) to learn the offer ID the session's events will name
//     the transfer by, as host.SendFile and viewer.SendFile compute it,
//     and tells the page that asked {"type":"file_queued","upload","id",
//     "name","size"} before any of those events; then it sends the file.
//   - The copy is removed once its transfer ends (Sender.Done, for
//     file_sent or file_failed in the sending direction) or when it cannot
//     be sent; the server's Close removes what is left. The same file (the
//     same offer ID) twice at once is refused.
//   - A file that cannot be sent is told to the page that asked, as a
//     localweb.ErrorReply to send_file that carries the upload, in the
//     window's words (Options.Words). Message puts the errors of files,
//     uploads and this package in the words both windows use.
//   - Every goroutine is the Sender's; Close cancels what is under way and
//     waits for it.
package filexfer
