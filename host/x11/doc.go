// Package x11 captures the screen of an X server: a host.Source and a
// host.PointerSource in pure Go over github.com/jezek/xgb, with no cgo.
//
// Decisions:
//
//   - The display is the caller's: Open takes it (":0") and never reads
//     $DISPLAY. (xgb itself reads $XAUTHORITY or $HOME/.Xauthority for the
//     MIT-MAGIC-COOKIE; without one it connects without authorisation, and
//     logs so through xgb.Logger.)
//   - Pixels: the screen must be depth 24 or 32 at 32 bits per pixel,
//     little-endian, true colour with masks 0xff0000/0xff00/0xff. That is
//     screen.Image's BGRX byte for byte, so captures are copies, never
//     conversions. Anything else (a depth-16 Xvfb, a big-endian server) is
//     refused by Open with a one-line error.
//   - MIT-SHM, with a fallback. The server writes pixels straight into a
//     System V segment we share with it (unix.SysvShmGet/SysvShmAttach,
//     shm.Attach, then IPC_RMID at once so the kernel frees it when both
//     sides detach, even if we crash), instead of sending them over the
//     socket: a 1920×1080 screen takes 0.5–0.9 ms against 3.7–4.9 ms with
//     plain GetImage on Xvfb (BenchmarkCaptureFull, 2-core machine). SHM cannot work for a
//     server in another IPC namespace (a container), on another machine
//     (TCP) or without the extension: attach then fails with BadAccess, and
//     the source falls back to core GetImage requests. It does not even try
//     over TCP, where the segment id could name someone else's segment on
//     the server's machine, and after attaching it checks that a few pixels
//     read both ways agree. The log says which path is used and why;
//     Options.NoSHM forces the plain path.
//   - The image is Go memory, not the shared segment: a full grab costs one
//     more copy (included in the figure above), but an Image kept past
//     Close can never point into unmapped memory.
//   - DAMAGE makes an idle screen free. A damage object on the root window
//     reports each damaged rectangle in its events, so a capture needs no
//     round trip to learn what changed; damage.Subtract (no reply) re-arms
//     it. Next waits until no damage has come for 1 ms (4 ms at most) so it
//     does not catch a half-drawn character. Damage created on a viewable
//     window starts as the whole window; the first Next drops it and reads
//     the whole screen.
//     The server damages the bounding box of each drawing request, so Dirty
//     over-approximates; more than 64 rects are merged on a 32-pixel grid.
//     Only Dirty is copied into the image, so pixels outside it never
//     change, even when they were read.
//   - Reading rects: one pipelined shm GetImage per rect, each into its own
//     part of the segment, unless there are more rects than about one per
//     60 000 screen pixels (34 at 1920×1080); then one whole-screen request
//     and the rects copied out. BenchmarkCaptureRects sets the threshold: a
//     request costs 8–9 µs, a whole screen 0.24–0.37 ms at 1920×1080, and a
//     single rect of any area is cheaper alone.
//   - Move hints: the source listens to SubstructureNotify on the root and
//     keeps the geometry of top-level windows (queried with QueryTree and
//     GetGeometry at start). A window still mapped, of the same size, at a
//     new place since the previous capture gives a screen.Move, clipped so
//     that source and destination are on screen. Before a whole-screen
//     capture, Next sends itself a ClientMessage through the server and
//     waits for the event reader to see it, so every reported move happened
//     before the damage was taken and its pixels are in the capture.
//   - The extension-init race: xgb keeps event and error decoders in
//     package-wide maps that every connection's reader consults, and each
//     extension's Init writes them. The race detector rightly flags an Init
//     while another connection decodes an event. So MIT-SHM, DAMAGE, XFIXES
//     and RANDR are initialised once per process, under a mutex, on the
//     first connection, before any reader of ours starts; later
//     connections only set their own opcode table, after checking that
//     their server numbers the extensions' events as the first did (xgb can
//     hold one numbering per process). Another xgb connection in the same
//     process that may receive events should therefore be opened after the
//     first Source.
//   - One connection, one goroutine reading its events (xgb's
//     WaitForEvent), which turns them into wake-ups on channels and keeps
//     the window map; requests are made from Next and Pointer. Close closes
//     the connection, which ends the reader, waits for it and frees the
//     segment.
//   - The pointer: XFixes CursorNotify says when the shape changes, and
//     GetCursorImage gives it (ARGB words with premultiplied alpha,
//     converted to straight RGBA). The position is polled with QueryPointer
//     only while a caller waits in Pointer, every 16 ms while it moves,
//     backing off to every 200 ms once it has been still for a second (the
//     first move after a pause shows up to 200 ms late): a poll is one
//     round trip of 25–45 µs on Xvfb, 0.15–0.3% of a core. No
//     event-driven way works with xgb v1.1.1: XInput2 raw motion would, but
//     xgb lacks XInput and would lose its place in the stream on generic
//     events longer than 32 bytes; core MotionNotify on the root never
//     arrives while the pointer is over a window that selects motion.
//   - Monitors from RandR: GetMonitors with 1.5, else the active CRTCs;
//     one monitor covering the screen without RandR. Xvfb reports one
//     monitor, "screen", and no primary: the first is then made primary.
//     A change of the root window's size (RandR) is noticed from its
//     ConfigureNotify: the next capture is whole, in a new image.
//
// The package also gives the helper's hands and the person's way out:
//
//   - Injector (inject.go) performs the helper's input through XTEST on a
//     connection of its own: pointer, buttons, wheel, keys named as the
//     browser names them and any Unicode text, with the modifiers the
//     host's layout needs; a character the keymap lacks is bound to a spare
//     keycode for a while. The design notes are at the top of inject.go.
//   - KeyWatcher (watch.go) reports Escape pressed on a physical keyboard
//     and never one injected through XTEST, from XI2 raw key events read on
//     a dedicated connection whose byte stream is filtered before xgb sees
//     it (xgb has no XInput2 and reads every event as 32 bytes). The design
//     notes and byte layouts are in watch.go and watchwire.go.
package x11
