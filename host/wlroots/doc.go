// Package wlroots shares the screen of a wlroots-based Wayland compositor
// (sway, Hyprland, river, labwc, Wayfire…) and performs the helper's input
// on it: a host.Source over zwlr_screencopy_manager_v1 and a host.Injector
// over zwlr_virtual_pointer_manager_v1 and zwp_virtual_keyboard_manager_v1,
// in pure Go with no cgo and no libwayland.
//
// Decisions:
//
//   - Its own Wayland client (wire.go): no pure-Go client library is
//     served by the module proxy, and the wire protocol is small. A Unix
//     socket, message framing, descriptors passed with SCM_RIGHTS
//     (golang.org/x/sys/unix), ids allocated as libwayland does, one
//     reader goroutine per connection calling each object's handler, and
//     wl_display.sync round trips. Only the messages this package uses are
//     encoded, by hand, with their signature in a comment beside each.
//   - The display is the caller's: Open and OpenInjector take the socket
//     ("wayland-1" with Options.RuntimeDir, or an absolute path) and never
//     read $WAYLAND_DISPLAY or $XDG_RUNTIME_DIR.
//   - A compositor without the protocols is refused with ErrUnsupported
//     (GNOME, KDE: the caller goes to xdg-desktop-portal instead).
//   - Capture: one zwlr_screencopy_frame_v1 per output and frame, into a
//     wl_shm buffer on a memfd of ours, reused while the frame asks for the
//     same size and format. The first capture, the one after Refresh and
//     the one after the outputs changed are plain copies (at the next
//     commit), reported whole; the others are copy_with_damage, which the
//     compositor answers only when the output changed: an idle screen
//     costs nothing, and the damage events (wlroots sends the bounding
//     box of what changed since this client's previous damaged copy) are
//     Dirty. Only Dirty is copied from the buffer into the image.
//     A frame comes with the output's next commit: on a screen idle for a
//     while a whole 800×600 capture takes about 1 ms (headless sway,
//     pixman; TestCaptureEqualsGrim logs it), but captures back to back
//     are paced by the refresh rate (BenchmarkCaptureWhole: 16.5 ms at
//     1920×1080, 60 Hz).
//   - The Source is a host.PacedSource: NextAfter asks for the copy at
//     once and holds a frame ready early until the sharer's time (the
//     compositor draws at most once a refresh, so it still shows the
//     screen as it is then), and the next frame's capture_output goes out
//     as soon as one is ready, so its buffer events come while the host
//     encodes: neither the sharer's timer nor the buffer events wake the
//     host apart from the change itself.
//   - ext-image-copy-capture-v1 (wlr-screencopy's successor in
//     wayland-protocols, offered by wlroots 0.19 and later) is used instead
//     when the compositor offers it with ext-image-capture-source-v1's
//     output sources; the log says which protocol captures
//     (extcapture.go). One session per output, with paint_cursors; its
//     damage events are Dirty, and a capture is answered only when the
//     output changed, as with copy_with_damage; a session the compositor
//     stops ends the Source (ErrStopped) unless its output went away.
//     This path is tested against internal/fakecomp, a fake compositor
//     written from the protocol XML, not against a real compositor: none
//     here offers the protocol (Debian 12's sway 1.7 does not). The wlr
//     path stays tested against headless sway.
//   - Pixels: XRGB8888 and ARGB8888 are screen.Image's BGRX byte for byte;
//     XBGR8888 and ABGR8888 are swapped; other formats (10-bit) are
//     refused by Next. The y_invert flag is honoured.
//   - The cursor is drawn into the image (overlay_cursor): the helper sees
//     the person's pointer as the person does. The Source is therefore not
//     a host.PointerSource.
//   - Several outputs make one image, laid out as the compositor lays
//     them out (xdg-output's logical positions when offered, else
//     wl_output.geometry), translated so the layout's top-left corner is
//     0,0. Monitors reports them; the first is primary (Wayland has no
//     primary output). Outputs added, removed or reconfigured are noticed
//     from the registry and wl_output.done: the next capture is whole, in
//     a new image.
//   - Limitation: an output with a scale other than 1 or a rotation is
//     captured as its buffer is (physical pixels, unrotated) at its logical
//     position, which may overlap a neighbour; the log warns. Pointer
//     positions stay right on such an output (they are mapped through it),
//     but the picture of a scaled multi-output layout is not yet.
//
// The injector's decisions are at the top of inject.go.
//
// What the host cannot guarantee on wlroots (the host tells the person):
//
//   - On sway, through its IPC (swayipc.go), the host has what the
//     Wayland protocols withhold: SwayWindows lists the windows with their
//     app ids and places (secure prompts blank the view, masked windows
//     are painted black on the image, failing closed), and SwayKeys
//     reports the person's Esc through a key binding that exists while the
//     helper has control (it consumes that Esc; on X11 the application
//     gets it too). Their doc comments say what sway guarantees and what
//     it does not (popups, layer-shell surfaces and Xwayland
//     override-redirect windows are not in sway's tree; the tree is ahead
//     of the frames by a transaction).
//   - Elsewhere (Hyprland, river, labwc, Wayfire…), physical ESC: no
//     wlroots protocol lets a client see keys meant for other clients, so
//     the ESC that ends control must come from the host's own window
//     (when focused), its Stop button, or a compositor key binding the
//     person configures.
//   - Elsewhere, secure prompts: wlroots has no secure desktop and no
//     protocol lists other clients' windows with their places. polkit and
//     sudo prompts are ordinary windows, captured and reachable by
//     injected input like any other; "control with administrator prompts"
//     cannot be withheld by hiding them, and no window can be masked.
//   - Masking is done on the image: screencopy captures whole outputs; a
//     window cannot be excluded (no per-window capture until
//     ext-image-copy-capture's toplevel sources).
//   - Injected input is not marked: applications and the compositor
//     cannot tell the virtual devices' input from the person's (other than
//     by device), and the virtual keyboard's keymap becomes the seat's
//     while it types (Wayland clients follow the keymap of the keyboard
//     that sent the key, so the person's own layout is back on their
//     next key press).
package wlroots
