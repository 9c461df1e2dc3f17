// Package hostui serves the person's window: a local web page that shows
// the invitation (its password large, to read out or copy), who is
// connected and what they may do, the chat, and an activity log of
// everything that happened (wrong passwords, refused helpers), with the
// buttons the person needs at hand: Disconnect, Pause/Resume sharing, the
// bandwidth setting and, while the helper is in control, Stop control. It
// asks the person whether the helper may control the mouse and keyboard,
// lets them allow files and the clipboard, asks them about each file the
// helper offers, and sends the files they choose.
//
// Decisions:
//
//   - The page is served by package localweb, which holds the security
//     decisions: a loopback address only (127.0.0.1:0 unless Options.Addr
//     names another loopback address), a fresh random 128-bit token in the
//     URL (/?t=TOKEN) or in an HttpOnly, SameSite=Strict cookie named after
//     the port, 403 for anything else and for a Host header that does not
//     name this machine (DNS rebinding), a strict Content-Security-Policy,
//     and an Origin check on the WebSocket. The password is sent only
//     over that WebSocket, in the first message, and never logged.
//   - Assets are plain HTML, CSS and JavaScript embedded with go:embed,
//     with localweb's script (/localweb.js) for what both windows do the
//     same way (the chat, the list of transfers, uploads); the page loads
//     nothing from anywhere else.
//   - One WebSocket (/ws) per page, JSON text messages only. Server to
//     page: a "hello" first (host name, password, invitation id, expiry,
//     addresses, starting bandwidth level), then the host's events as they
//     marshal, and "error" replies to failed commands. Page to server:
//     {"type":"chat","text"}, {"type":"disconnect"}, {"type":"pause"},
//     {"type":"resume"}, {"type":"bandwidth","level"},
//     {"type":"grant","capabilities":["control"]} (any of control,
//     admin_prompts, files, clipboard: host.Grant), {"type":"deny"}
//     (host.Deny), {"type":"revoke"} (host.Revoke by the button; with
//     "capabilities", only those), {"type":"accept_file","id"} and
//     {"type":"decline_file","id"} (host.AcceptFile, DeclineFile: id is
//     the offer's), and {"type":"send_file","upload"} (see below). The
//     server answers send_file with {"type":"file_queued","upload","id",
//     "name","size"} to that page alone, before any event of the
//     transfer: the events name the transfer by the offer's id. An error
//     reply to send_file carries the upload too.
//   - Files the person sends: a browser never tells a page where a chosen
//     file is, so the page uploads it to the server first (localweb's
//     POST /upload, with the token, the page's own Origin and
//     application/octet-stream; see package localweb), only while a
//     helper is connected. The name must pass files.SanitizeName, as the
//     helper's side will check it; another is refused before a byte is
//     stored, with the reason. The copy lands, mode 0600, in a private
//     folder (Options.UploadDir), is hashed to learn its offer id, sent
//     with host.SendFile, and deleted when file_sent or file_failed for
//     that id arrives, or at Close: package filexfer, shared with the
//     helper's window. At most Options.MaxUpload bytes (4
//     GiB by default); the same file twice at once is refused.
//   - "Let <helper>…" has two switches, off at the start of every
//     session: send you files (files) and share the clipboard
//     (clipboard); each sends grant or revoke with that capability alone,
//     and shows the host's answer, not the click. They are apart from the
//     request for control, which stays about control.
//   - Each file the helper offers is a prompt in the page (not a modal
//     dialog, so several can wait and the chat stays usable): who, the
//     name, the size and the SHA-256, Accept and Decline. Accept is
//     disabled for its first second, like Allow. The title says a file
//     waits. Transfers both ways are listed with progress bars; a
//     received file says where it was saved (~ for the home folder). The
//     log records offers, declines, failures and clipboard transfers with
//     their direction and size, never the text.
//   - Events are kept (up to 5000) and replayed to a page that connects
//     late or reloads, so it shows the whole chat and log and the current
//     state. Publish never blocks: a page that falls 256 messages behind
//     is dropped and reconnects by itself.
//   - The Disconnect button is always in view (in the top bar) and ends
//     the session at once, without a question; the helper is told that the
//     person ended it. The helper's name is shown as the claim it is.
//   - A request for control is a modal dialog that says what control
//     means (the helper can do anything the person can) and how to take it
//     back (ESC or Stop control). Deny has the focus and ESC answers Deny;
//     Allow is disabled for its first second, so a click meant for what
//     was under the dialog cannot answer it. "Allow <helper> to respond to
//     administrator prompts" is offered, unchecked, only when the host says
//     the person could answer them (admin_prompts in the request).
//   - While the helper is in control, a banner under the top bar (and in
//     view with it) says so, with Stop control; the title and the list of
//     what the helper may do say so too. The log says how control ended:
//     ESC, Stop control or the session's end. While a password or
//     administrator prompt hides the screen from the helper (the privacy
//     event), the log and that list say so.
//   - A host that takes offers of help (gethelp host serve; hello has
//     "offers": true and this computer's key's "fingerprint") shows that
//     key instead of a password and an invitation. Each offer is a modal
//     dialog like the request for control: the administrator's name for
//     the helper's key, its fingerprint and address, what accepting lets
//     them do; Decline has the focus and ESC answers it, Accept is
//     disabled for its first second. The page answers with
//     {"type":"consent","accept":true|false} (host.AnswerOffer). Declined,
//     withdrawn, timed out and refused offers go to the log; after a
//     session the page waits for the next offer.
package hostui
