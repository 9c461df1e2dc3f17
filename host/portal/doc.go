// Package portal shares the screen of desktops that let no client read it
// directly (GNOME and KDE on Wayland, and any desktop with a portal
// backend) and performs the helper's input on them, through
// xdg-desktop-portal: a host.Source over org.freedesktop.portal.ScreenCast
// and a host.Injector over org.freedesktop.portal.RemoteDesktop. The person
// approves in the desktop's own dialog; the portal hands over a PipeWire
// stream.
//
// Decisions:
//
//   - D-Bus with github.com/godbus/dbus/v5, pure Go. The bus address is
//     the caller's (Options.Bus); this package reads no environment.
//   - The portal's pattern: each call that needs the person answers with
//     a Request object whose path is computed from our unique name and a
//     handle_token of ours, and the Response signal on it is watched
//     before the call is made (so it cannot be missed). Signals are taken
//     only from the portal's own unique name. Response 1 (the person
//     cancelled) is ErrDeclined, "the person declined screen sharing in
//     the desktop's dialog"; 2 and others are one-line errors. When Open's
//     context ends while the dialog is up, the Request is closed and the
//     dialog goes away.
//   - One monitor (SelectSources types=monitor, multiple=false): the
//     person picks it in the dialog. The pointer is drawn into the stream
//     (cursor_mode embedded), so the Source is not a host.PointerSource:
//     the metadata cursor mode would need PipeWire's cursor metadata,
//     which the helper process below does not pass on.
//   - With Options.Input the session is a RemoteDesktop one (SelectDevices
//     keyboard|pointer, then SelectSources on the same session, then
//     RemoteDesktop.Start): one dialog asks for the screen and for
//     control together. The person's answer for control is the desktop's
//     (gethelp still asks its own consent before the helper gets control).
//     A portal without RemoteDesktop (xdg-desktop-portal-wlr) shares
//     without control.
//   - The person is not asked every time: with Options.TokenFile, the
//     session asks to persist (persist_mode 2, until the person revokes
//     it in the desktop's settings) and the restore_token Start returns is
//     kept in that file (mode 0600, JSON, versioned: see tokens) and handed
//     back next time, when the desktop may share the same monitor without
//     its dialog. ScreenCast sessions persist through SelectSources
//     (ScreenCast version 4), RemoteDesktop ones through SelectDevices
//     (RemoteDesktop version 2; the portal refuses persist_mode in
//     SelectSources for them). Each token is used once: the new one
//     replaces it. A missing or corrupt file only means the dialog again.
//   - Frames: there is no pure-Go PipeWire video client, and the build has
//     no cgo. Two ways were weighed: libpipewire through
//     github.com/ebitengine/purego (in process, but the whole of
//     pw_stream's callback API and SPA's POD format by hand, against a C
//     library whose structs change between versions, crashing the host
//     on a mismatch), and a helper process. The helper won:
//     gst-launch-1.0 running "pipewiresrc fd=3 path=NODE ! videoconvert !
//     video/x-raw,format=BGRx ! identity name=gethelp silent=false !
//     fdsink fd=4" with -v (gstArgs has it whole).
//     The PipeWire remote from OpenPipeWireRemote is the child's fd 3
//     (ExtraFiles); the frames come on fd 4, a pipe, as raw BGRx, which
//     is screen.Image's byte order. The frames' size comes from the
//     stream, not from Start's size: the identity element's last-message
//     lines, which -v prints on stdout in the stream's order, announce
//     each caps event (width, height, format) and each buffer's length,
//     and that framing survives a change of size mid-stream (a monitor's
//     resolution changed) without a restart; a buffer that is not a whole
//     frame of the caps is skipped whole, keeping the framing. Restarting
//     the pipeline instead would mean reconnecting to the stream, which
//     not every producer survives (Debian 12's pipewiresink does not).
//     The child dies with the host (Pdeathsig). It needs gst-launch-1.0
//     and GStreamer's PipeWire plugin (Debian, Ubuntu: gstreamer1.0-tools,
//     gstreamer1.0-pipewire); without them Open says so (ErrNoGStreamer).
//   - Damage: PipeWire streams carry no damage gethelp can read through
//     the helper, and a compositor may send a frame although nothing
//     changed. Each frame is compared with the previous one in 64×64 tiles
//     (host/internal/tiles, shared with host/windows); the changed tiles
//     are Dirty, and a frame equal to the previous one wakes nobody: an
//     idle screen sends nothing to the helper. Three images of the
//     screen's size are held (the frame being read, the latest, and the
//     one Next returned).
//   - Next returns ErrStopped when the desktop closed the session (the
//     person used the desktop's "stop sharing" indicator) and
//     ErrStreamEnded, with gst-launch-1.0's last error line, when the
//     stream ended otherwise. Close closes the portal session (the
//     indicator goes away), kills the child and waits for every goroutine.
//
// The injector's decisions are at the top of inject.go.
//
// Figures (BenchmarkStream1080p, 1920×1080 at 30 frames a second, a
// shared 2-core AMD EPYC VM, Debian 12, three runs): each second of stream
// costs gst-launch-1.0 4–6% of a core and this process 7–10% (reading
// 8 MB a frame from the pipe, enlarged to 1 MiB, and comparing it: about
// 3 ms a frame from its announcement to its changes being ready for
// Next). That is the cost of a stream that sends frames while nothing
// changes, as the test's does; GNOME's and KDE's compositors send a frame
// when they repainted, so an idle desktop costs next to nothing. A change
// takes about 66 ms from the test's screen to Next, most of it the test
// screen's own 30 Hz compositing (two frame periods).
//
// What the portal path cannot do (the host tells the person before
// sharing):
//
//   - Physical ESC: no portal lets a client see the person's keys, so
//     there is no host.KeyWatcher. Control ends with the desktop's own
//     "stop sharing" indicator (which ends the session), gethelp's Stop
//     control or Stop sharing, or Disconnect.
//   - Secure prompts: gethelp sees no windows here, only the picture, so
//     it cannot hide a password prompt (nor honour masked_windows):
//     whatever the desktop puts in the stream is shared. GNOME Shell and
//     KWin draw their own system prompts (polkit, the keyring) and decide
//     themselves whether a screen cast shows them; gethelp cannot check
//     or change that, so the person is told not to type a password while
//     sharing, and "control with administrator prompts" cannot be
//     withheld by hiding them.
//   - Keys: NotifyKeyboardKeysym types what the person's keyboard layout
//     can type; GNOME on Wayland drops a character the layout lacks.
//   - One monitor per session; no clipboard (the portal's Clipboard
//     interface is not used yet); the pointer is seen only as drawn in
//     the picture.
package portal
