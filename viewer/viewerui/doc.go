// Package viewerui serves the helper's window: a local web page that shows
// the person's screen, the host's pointer, the chat and the connection, and
// sends the helper's chat, bandwidth, monitor and disconnect commands, the
// request for control and, once the person grants it, the helper's mouse
// and keyboard to a viewer.Viewer. It sends files both ways and shares the
// clipboard, as far as the person allows.
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
//   - Assets are plain HTML, CSS and JavaScript embedded with go:embed,
//     with localweb's script (/localweb.js) for what both windows do the
//     same way (the chat, the list of transfers, uploads); the page loads
//     nothing from anywhere else.
//   - One WebSocket (/ws) per page. Server to page: text messages are JSON:
//     a "hello" (side, host name, wire version) first, then the viewer's
//     events as they marshal (frame events excepted), a "stats" message
//     every second (bytes/s, updates/s, mean latency, RTT: computed here
//     from the frame events) and "error" replies to failed commands. Binary
//     messages are screen and pointer records (see wire.go). Page to
//     server: {"type":"chat","text"}, {"type":"disconnect"},
//     {"type":"bandwidth","level"}, {"type":"monitor","monitor":N},
//     {"type":"request_control"}, and the input commands
//     {"type":"pointer","x","y","buttons"} (image pixels, buttons as
//     MouseEvent.buttons), {"type":"wheel","dx","dy"} (notches),
//     {"type":"key","key","down"} (key as KeyboardEvent.key; down true or
//     false, or absent to press and release) and {"type":"type_text","text"},
//     {"type":"accept_file","id"} and {"type":"decline_file","id"} (id is
//     the offer's), {"type":"send_file","upload"} (see below) and
//     {"type":"clipboard","text"} (viewer.SetClipboard), named as the
//     --json commands are. The server answers send_file with
//     {"type":"file_queued","upload","id","name","size"} to that page
//     alone, before any event of the transfer, which names it by the
//     offer's id; an error reply to send_file carries the upload too.
//     The viewer reports nothing when the helper's clipboard went, so the
//     server publishes a clipboard event with self and size (never the
//     text) itself.
//   - Files the helper sends: a browser never tells a page where a chosen
//     or dropped file is, so the page uploads it to the server first
//     (localweb's POST /upload, with the token, the page's own Origin and
//     application/octet-stream; see package localweb), only while the
//     person grants files. The name must pass files.SanitizeName, as the
//     person's side will check it; another is refused before a byte is
//     stored, with the reason. The copy lands, mode 0600, in a private
//     folder (Options.UploadDir), is hashed to learn its offer id, sent
//     with viewer.SendFile, and deleted when file_sent or file_failed for
//     that id arrives, or at Close: package filexfer, shared with the
//     person's window. Send a file is disabled, saying why,
//     until the person allows files; a file dropped on the picture is
//     sent the same way (or refused, saying why).
//   - Files the person offers are prompts in the side panel, with the
//     name, size and SHA-256, Accept (disabled for its first second) and
//     Decline; transfers both ways have progress bars, and a received
//     file says where it was saved.
//   - The clipboard panel is there only while the person shares the
//     clipboard: "<person> copied: <the first 80 characters>…" with Copy
//     (navigator.clipboard.writeText, which needs the click), and Send my
//     clipboard, which reads the helper's clipboard with
//     navigator.clipboard.readText on the click; where the browser refuses
//     (or the clipboard holds no text) a box to paste into appears
//     instead. Ctrl+V over the picture is not intercepted: the clipboard
//     travels on the control stream and keys on the input stream, so the
//     person's computer could paste before the text arrived.
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
//   - Input goes only while the person has granted control: the page
//     offers none before (its input surface is not even there), stops at
//     the revoke, and the server drops input commands while
//     viewer.InControl is false, so what a page sent before it learned of
//     the revoke goes nowhere. The host drops such input too.
//   - The page's input surface is a transparent textarea over the picture,
//     not the canvas: only an editable element gets composition events,
//     so input methods and dead keys work (their text goes as type_text).
//     Keys that name themselves go as key presses and releases with their
//     default prevented (Tab, Backspace, F5 act on the person's computer,
//     not the page); keys the browser keeps (Ctrl+W, Alt+Tab) cannot be
//     caught, and the page says so. Pointer moves go at most once per
//     animation frame, the latest winning; buttons, wheel and keys at once.
//   - While the person enters credentials (a sharing event with privacy
//     "secure_prompt") the picture is covered by "Waiting for <person> to
//     enter credentials" and no input is sent, unless the person granted
//     admin_prompts: the host sends no picture and drops input meanwhile.
//   - Nothing stays pressed on the person's computer: the page releases
//     what it holds when its surface loses the keyboard, and the server
//     releases what a page held when the page goes (a closed tab).
package viewerui
