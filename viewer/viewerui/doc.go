// Package viewerui serves the helper's window: a local web page that shows
// the person's screen, the host's pointer, the chat and the connection, and
// sends the helper's chat, bandwidth, monitor and disconnect commands to a
// viewer.Viewer.
//
// Decisions:
//
//   - The page is served by package localweb, which holds the security
//     decisions: a loopback address only (127.0.0.1:0 unless Options.Addr
//     names another loopback address), a fresh random 128-bit token in the
//     URL (/?t=TOKEN) or in an HttpOnly, SameSite=Strict cookie named after
//     the port, 403 for anything else and for a Host header that does not
//     name this machine (DNS rebinding), a strict Content-Security-Policy,
//     and an Origin check on the WebSocket.
//   - Assets are plain HTML, CSS and JavaScript embedded with go:embed; the
//     page loads nothing from anywhere else.
//   - One WebSocket (/ws) per page. Server to page: text messages are JSON:
//     a "hello" (side, host name, wire version) first, then the viewer's
//     events as they marshal (frame events excepted), a "stats" message
//     every second (bytes/s, updates/s, mean latency, RTT: computed here
//     from the frame events) and "error" replies to failed commands. Binary
//     messages are screen and pointer records (see wire.go). Page to
//     server: {"type":"chat","text"}, {"type":"disconnect"},
//     {"type":"bandwidth","level"}, {"type":"monitor","monitor":N}.
//   - Pixels always come from the viewer's framebuffer as it is when they
//     are sent, converted from BGRX to RGBA; screen operations are replayed
//     in order, copies with drawImage on the canvas itself while that is
//     exact. A page that connects, reconnects, misses updates (a gap in
//     Seq) or would need more pixels than the screen holds gets the whole
//     framebuffer. Binary messages stay under 1 MiB: big rects go in strips.
//   - The pointer is not in the pixels: the page draws it from the shape
//     and position, polled from the viewer at 30 Hz and sent when changed.
//   - Events are kept (up to 5000) and replayed to a page that connects
//     late or reloads, so it shows the whole chat and the current state.
//     Publish never blocks: a page that falls 256 messages behind is
//     dropped and reconnects. The page reconnects by itself when the
//     WebSocket drops, until the session has ended.
//   - The helper's own bandwidth change is not echoed by the host, so the
//     server publishes it (as a bandwidth event with self set) itself.
package viewerui
