// Package localweb serves a local web page to the person at this machine:
// the plumbing under the person's window (host/hostui) and the helper's
// window (viewer/viewerui). It listens, checks every request, serves the
// page's embedded assets and runs one WebSocket per open page, with a
// queue, a backlog for pages that open late and a clean Close. What the
// messages mean is the caller's business.
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
//   - Every response forbids caching, sniffing, referrers and framing, and
//     carries a Content-Security-Policy that lets the page load its own
//     script and style and connect to its own origin, nothing else.
//   - The WebSocket (/ws) checks the token like any request, and its
//     Origin must be the page's own, so a page from elsewhere cannot open
//     it with the cookie.
//   - Only three assets are served, at fixed paths: index.html at /,
//     app.js and style.css. The page needs no more, and nothing else in
//     Options.Assets can leak.
//   - Text messages to a page go through a queue of 256 and never block
//     the sender; a page that falls that far behind is dropped and is
//     expected to reconnect and catch up from the backlog. Broadcast keeps
//     its messages (the latest 5000) and replays them, in order, to pages
//     that connect later or reload. Binary messages are written at once,
//     so a screen stream slows to the pace of its page.
//   - Every goroutine (the HTTP server, each page's reader, writer and
//     Options.OnPage) is counted; Close ends them all before it returns.
//   - Tokens never reach a log.
package localweb
