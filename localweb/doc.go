// Package localweb serves a local web page to the person at this machine:
// the plumbing under the person's window (host/hostui) and the helper's
// window (viewer/viewerui). It listens, checks every request, serves the
// page's embedded assets and runs one WebSocket per open page, with a
// queue, a backlog for pages that open late and a clean Close. What the
// messages mean is the caller's business, but for one form both windows
// share: ErrorReply, the answer to a command that failed.
//
// These pages show passwords and let whoever holds them end sessions,
// chat and steer the screen sharing, so:
//
//   - The server listens on a loopback address only (127.0.0.1:0 unless
//     Options.Addr names another loopback IP); New refuses any other
//     address with ErrNotLoopback. Other machines cannot connect.
//   - Other programs and users on this machine can, so every request must
//     carry a fresh random 128-bit token, compared in constant time: in
//     the URL (/?t=TOKEN, the address the user is given) or in a cookie set
//     when the URL was opened. The cookie is HttpOnly (scripts cannot read
//     it) and SameSite=Strict (other sites cannot send it), and is named
//     after the port, since cookies ignore ports and two servers on one
//     machine must not overwrite each other's. Anything else gets 403.
//   - A Host header that does not name this machine (127.0.0.0/8, ::1 or
//     localhost) gets 403 too, token or not: a web site that points its
//     own name at 127.0.0.1 (DNS rebinding) cannot talk to the page as its
//     own origin.
//   - Authorize is that check (Host and token, the cookie set), exported
//     for the other local servers of gethelp (bot/webchat) that serve more
//     than a page and so cannot be a Server.
//   - Every response forbids caching, sniffing, referrers and framing, and
//     carries a Content-Security-Policy that lets the page load its own
//     script and style and connect to its own origin, nothing else.
//   - The WebSocket (/ws) checks the token like any request, and its
//     Origin must be the page's own, so a page from elsewhere cannot open
//     it with the cookie.
//   - Only three assets are served, at fixed paths: index.html at /,
//     app.js and style.css. The page needs no more, and nothing else in
//     Options.Assets can leak. With them, at /localweb.js, localweb's own
//     script (localweb.js, embedded here): what both windows' pages do
//     the same way (the WebSocket's address, uploads, the chat transcript,
//     the list of file transfers), loaded by their index.html before
//     app.js, from the page's own origin like the rest.
//   - With Options.Uploads the page may upload files, since a browser
//     never tells a page where a chosen file is: POST /upload?name=NAME
//     with the token like any request, its Origin the page's own and
//     Content-Type application/octet-stream (which no form of another site
//     can send), the raw bytes as the body. The name must be one plain
//     file name (no separators, no control characters, not "." or "..",
//     at most 255 bytes) and pass Uploads.CheckName; it is never a path.
//     Each upload lands, with mode 0600 and O_EXCL, in a folder of its own
//     named by a random ID, inside a private folder (0700) made on first
//     use and opened as an os.Root, so nothing is written outside it;
//     bodies are cut off at Uploads.MaxSize (4 GiB by default), and at
//     most 16 uploads are kept at once. The reply is JSON: the ID, the
//     name and the size, or an error for the page to show. The caller
//     uses an upload by path (Server.Upload) and removes it
//     (Server.RemoveUpload); Close removes the private folder and
//     everything left in it.
//   - Text messages to a page go through a queue of 256 and never block
//     the sender; a page that falls that far behind is dropped and is
//     expected to reconnect and catch up from the backlog. Broadcast keeps
//     its messages (the latest 5000) and replays them, in order, to pages
//     that connect later or reload. Binary messages are written at once,
//     so a screen stream slows to the pace of its page.
//   - Every goroutine (the HTTP server, each page's reader, writer and
//     Options.OnPage, each upload) is counted; Close ends them all before
//     it returns. (net/http alone may linger up to half a second on a
//     connection whose body it refused unread.)
//   - Tokens never reach a log.
package localweb
