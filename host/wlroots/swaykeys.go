package wlroots

// The person's ESC on sway: a key binding of ours, made through sway's
// IPC while the helper has control.
//
// Decisions:
//
//   - No Wayland protocol lets a client see keys meant for others, but
//     sway runs bindings and reports them to IPC clients subscribed to
//     "binding" events. While active, the watcher binds the Escape key
//     (keycode 9, evdev KEY_ESC) of every keyboard to a command that does
//     nothing and names gethelp (escapeCommand), and each binding event
//     with that command is an Escape.
//   - Telling the person's keyboards from ours: sway names every virtual
//     keyboard "0:0:virtual_keyboard" (an on-screen keyboard's, wtype's
//     and ours alike), so a binding per input device (--input-device)
//     cannot leave ours out. Instead our Injector never sends keycode 9:
//     it types Escape on a keycode of its own that its keymap binds to the
//     Escape keysym (see keymap.go). Applications get Escape all the same;
//     the binding, which matches the keycode, is never run by it. Any
//     other keyboard's Esc key, physical or virtual, revokes.
//   - The binding consumes the key: while the helper has control, the
//     person's Escape ends control and does not reach the focused
//     application (on X11 it does both). Its flags: --no-repeat (a held
//     key is one Escape), --locked (it works under a lock screen) and
//     --inhibited (it works while an application such as a virtual
//     machine's window inhibits the compositor's shortcuts).
//   - It matches Esc pressed alone: Shift+Esc or Ctrl+Esc does not revoke.
//     A layout that puts Escape on another key (caps:escape) does not
//     revoke from that key, only from the key labelled Esc.
//   - The binding goes into sway's binding mode of the moment (normally
//     "default"): if the person switches to another mode while the helper
//     has control, Esc does not revoke there. A binding of the person's
//     own for Escape in the default mode (bindsym Escape …) is matched by
//     sway before ours, and then Esc does not revoke either.
//   - SetActive(false) and Close remove the binding. If this process dies
//     while the binding is on, Esc does nothing until the binding is
//     removed: the next WatchSwayKeys removes it, as do `swaymsg reload`
//     and `swaymsg unbindcode --locked --inhibited 9`.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/gethelp/gethelp/host"
)

var _ host.KeyWatcher = (*SwayKeys)(nil)

// escapeCommand is the command of the binding: it does nothing, and its
// text tells the binding events apart from the person's own.
const escapeCommand = "nop gethelp-escape"

// Sway commands that add and remove the binding; the flags of unbindcode
// must be those of bindcode, less --no-repeat and --no-warn.
const (
	bindEscape   = "bindcode --no-repeat --locked --inhibited --no-warn 9 " + escapeCommand
	unbindEscape = "unbindcode --locked --inhibited 9"
)

// commandTimeout bounds a command to sway made by SetActive and Close.
const commandTimeout = 5 * time.Second

// SwayKeys reports Escape pressed on the person's keyboards on sway.
// Create it with WatchSwayKeys. Its methods may be called from any
// goroutine.
type SwayKeys struct {
	ic      *ipcConn
	log     *slog.Logger
	escapes chan struct{} // cap 1; closed when the connection ends

	mu     sync.Mutex // serialises SetActive and Close; guards the fields below
	active bool
	closed bool
}

// WatchSwayKeys connects to sway's IPC socket (the caller reads
// $SWAYSOCK), subscribes to binding events and removes a binding that a
// previous gethelp left behind. It starts inactive. logger gets
// component=sway-keys; nil discards. The errors start "wlroots: ".
func WatchSwayKeys(ctx context.Context, socket string, logger *slog.Logger) (*SwayKeys, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	k := &SwayKeys{log: logger.With("component", "sway-keys"), escapes: make(chan struct{}, 1)}
	ic, err := dialIPC(ctx, socket, k.event, func(error) { close(k.escapes) })
	if err != nil {
		return nil, err
	}
	k.ic = ic
	if err := ic.subscribe(ctx, "binding"); err != nil {
		ic.close()
		return nil, err
	}
	if err := ic.command(ctx, unbindEscape); err == nil {
		k.log.Warn("removed the ESC binding a previous gethelp left in sway")
	} else if !errors.Is(err, errSwayCommand) {
		ic.close()
		return nil, err
	}
	return k, nil
}

// Escapes returns the channel that receives a value for each Escape on
// the person's keyboards while the watcher is active (values not yet
// received are coalesced). It is closed when the watcher is closed or its
// connection to sway broke.
func (k *SwayKeys) Escapes() <-chan struct{} { return k.escapes }

// SetActive binds Escape (on) or removes the binding (off). It returns
// sway's refusal or the connection's error.
func (k *SwayKeys) SetActive(on bool) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return errIPCClosed
	}
	if on == k.active {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := unbindEscape
	if on {
		cmd = bindEscape
	}
	if err := k.ic.command(ctx, cmd); err != nil {
		return fmt.Errorf("wlroots: %s: %w", strings.Fields(cmd)[0], err)
	}
	k.active = on
	return nil
}

// event is called by the reader for each event.
func (k *SwayKeys) event(typ uint32, p []byte) {
	if typ != ipcEventBinding || !isEscapeBinding(p) {
		return
	}
	select {
	case k.escapes <- struct{}{}:
	default:
	}
}

// isEscapeBinding reports whether a binding event is our binding's.
func isEscapeBinding(p []byte) bool {
	var ev struct {
		Change  string `json:"change"`
		Binding struct {
			Command string `json:"command"`
		} `json:"binding"`
	}
	return json.Unmarshal(p, &ev) == nil && ev.Change == "run" && ev.Binding.Command == escapeCommand
}

// Close removes the binding if it is on and closes the connection. It
// returns the error of removing the binding.
func (k *SwayKeys) Close() error {
	k.mu.Lock()
	var err error
	if k.active && !k.closed {
		ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
		err = k.ic.command(ctx, unbindEscape)
		cancel()
		k.active = false
	}
	k.closed = true
	k.mu.Unlock()
	k.ic.close()
	return err
}
