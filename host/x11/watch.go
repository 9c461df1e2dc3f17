package x11

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"github.com/gethelp/gethelp/host"
)

// The key watcher lets the person take control back with Escape on their
// own keyboard, while an Escape the helper types must not count.
//
// Decisions:
//
//   - XInput 2 raw key events (XI 2.1 or later), selected on the root
//     windows for XIAllMasterDevices. They are a passive observation: the
//     keys still reach the applications, nothing is grabbed, focus is not
//     touched, and since XI 2.1 they arrive even while another client
//     grabs the keyboard. Each carries sourceid, the slave device that
//     made it. Injection through XTEST comes from the server's XTEST slave
//     device of a master ("Virtual core XTEST keyboard"); every other
//     source is taken as a physical keyboard, so a keyboard plugged in
//     later counts without ado (the devices are read afresh on
//     XI_HierarchyChanged, and whenever an unknown sourceid shows up).
//     Anything typed through XTEST never counts, from whichever client.
//     XTEST devices are known by the names the X server gives them
//     ("<master> XTEST keyboard"; clients cannot rename devices). One
//     loophole stays open: XTEST's FakeInput with an XInput 1 device
//     event (deviceid not 0) names any keyboard as its source and passes
//     for it. The session's Injector sends core events, which always go
//     through the XTEST device.
//   - Not core events: a passive GrabKey would fire on injected keys too
//     and move the focus; polling QueryKeymap misses quick taps and cannot
//     tell the devices apart. Not RECORD: xgb's hangs after the first
//     reply (BurntSushi/xgb issue 16).
//   - xgb v1.1.1 has no XInput and misreads the longer XI2 events, so the
//     watcher has its own connection whose byte stream it filters (see
//     watchconn.go) and builds its three XI2 requests by hand (see
//     watchwire.go for the byte layouts).
//   - Escape is every keycode that has the keysym Escape (0xff1b) in the
//     core keyboard mapping, read again after a MappingNotify at the next
//     key press of a physical keyboard.
//   - Autorepeat: the X server repeats a held key as press, press, …,
//     release, and raw events carry no XIKeyRepeat flag. A press of Escape
//     on a source whose Escape is down and was pressed less than a second
//     before (server time) is taken for a repeat; after longer, for a new
//     press whose release was missed, so a lost release cannot silence the
//     key for good. A nested server (Xephyr, Xnest) receives the outer
//     server's repeat as release and press in the same millisecond: a
//     press within 2 ms of the key's release is a repeat too.

var _ host.KeyWatcher = (*KeyWatcher)(nil)

// ErrNoXInput2 is returned (wrapped) by WatchKeys when the X server lacks
// XInput 2.1, which the watcher needs to tell keyboards apart.
var ErrNoXInput2 = errors.New("x11: the X server lacks XInput 2.1")

// repeatWindow is how soon after a press of Escape on a source, in server
// milliseconds, another press while it is still down counts as autorepeat
// (X servers repeat after 660 ms by default, then every 40 ms).
const repeatWindow = 1000

// releaseRepeatWindow is how soon after its release, in server
// milliseconds, a press of the same key counts as autorepeat forwarded
// from another X server.
const releaseRepeatWindow = 2

// WatchOptions tune a KeyWatcher. The zero value is ready to use.
type WatchOptions struct {
	// Logger receives the watcher's log, with component=x11-keys. Nil
	// discards.
	Logger *slog.Logger
}

// KeyWatcher reports presses of Escape on the physical keyboards of an X
// server. Create it with WatchKeys.
type KeyWatcher struct {
	activeMu sync.Mutex // serialises SetActive
	active   bool       // guarded by activeMu: key events are selected

	conn    *xgb.Conn
	queue   *eventQueue
	log     *slog.Logger
	xi      byte // major opcode of XInputExtension
	minKey  xproto.Keycode
	maxKey  xproto.Keycode
	escapes chan struct{} // cap 1; closed by run when it ends

	ctx       context.Context // cancelled by Close
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once

	// Owned by WatchKeys, then by run.
	escape  map[uint32]bool     // keycodes with the Escape keysym
	devices map[uint16]xiDevice // input devices by id
	keys    map[keyOf]keyState  // the Escape keys pressed so far, by source

	keymapStale bool // a MappingNotify came after the last read of the mapping
}

// keyState is the last event of a key.
type keyState struct {
	down bool
	time uint32 // server milliseconds
}

// keyOf names a key of a source device.
type keyOf struct {
	source  uint16
	keycode uint32
}

// WatchKeys connects to the X server of display (such as ":0"; the caller
// reads $DISPLAY if it wants it) and watches its keyboards for Escape. It
// authenticates as xgb does, with the MIT-MAGIC-COOKIE-1 for the display
// from $XAUTHORITY or $HOME/.Xauthority, and without when there is none.
// It starts one goroutine, which Close stops.
//
// The errors are one line each, starting "x11: ": "no display given",
// "cannot open display :N: …" (no server, refused), ErrNoXInput2 (wrapped,
// with the version found) and the failures of its first requests.
func WatchKeys(display string, opts WatchOptions) (*KeyWatcher, error) {
	if display == "" {
		return nil, errors.New("x11: no display given")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "x11-keys", "display", display)

	nc, hostName, number, err := dialDisplay(display)
	if err != nil {
		return nil, fmt.Errorf("x11: cannot open display %s: %w", display, err)
	}
	authName, authData := xauthority(hostName, number)
	q := newEventQueue()
	conn, err := xgb.NewConnNet(newFilterConn(nc, setupRequest(authName, authData), q))
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("x11: cannot open display %s: %w", display, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &KeyWatcher{
		conn:    conn,
		queue:   q,
		log:     log,
		escapes: make(chan struct{}, 1),
		ctx:     ctx,
		cancel:  cancel,
		escape:  make(map[uint32]bool),
		devices: make(map[uint16]xiDevice),
		keys:    make(map[keyOf]keyState),
	}
	if err := w.setup(); err != nil {
		cancel()
		conn.Close()
		return nil, err
	}
	w.active = true
	w.wg.Add(1)
	go w.run()
	return w, nil
}

// Escapes returns the channel that receives a value for each press of
// Escape on a physical keyboard; presses not yet received are coalesced
// into one. It is closed when the watcher is closed or loses its
// connection.
func (w *KeyWatcher) Escapes() <-chan struct{} { return w.escapes }

// Close stops watching, closes the connection and waits for the watcher's
// goroutine, which closes the Escapes channel. It returns nil; calling it
// again does nothing.
func (w *KeyWatcher) Close() error {
	w.closeOnce.Do(func() {
		w.cancel()
		w.conn.Close()
	})
	w.wg.Wait()
	return nil
}

// setup checks for XInput 2.1, selects the raw key and hierarchy events,
// and reads the devices and the keyboard mapping.
func (w *KeyWatcher) setup() error {
	c := w.conn
	const name = "XInputExtension"
	ext, err := xproto.QueryExtension(c, uint16(len(name)), name).Reply()
	if err != nil {
		return fmt.Errorf("x11: query extension %s: %w", name, err)
	}
	if !ext.Present {
		return fmt.Errorf("%w (it has no XInputExtension)", ErrNoXInput2)
	}
	w.xi = ext.MajorOpcode

	// Announce 2.2, the version whose raw-event behaviour (2.1: sourceid,
	// delivery during grabs) this code is written for; 2.1 suffices.
	major, minor, err := w.queryVersion(2, 2)
	if err != nil {
		return fmt.Errorf("%w (XIQueryVersion: %v)", ErrNoXInput2, err)
	}
	if major < 2 || (major == 2 && minor < 1) {
		return fmt.Errorf("%w (it has %d.%d)", ErrNoXInput2, major, minor)
	}

	setup := xproto.Setup(c)
	w.minKey, w.maxKey = setup.MinKeycode, setup.MaxKeycode
	if err := w.selectKeys(true); err != nil {
		return err
	}
	// Selected first, read second: a change in between is notified.
	if err := w.readDevices(); err != nil {
		return err
	}
	if err := w.readKeymap(); err != nil {
		return err
	}
	w.log.Debug("watching Escape", "xinput", fmt.Sprintf("%d.%d", major, minor), "escape keycodes", len(w.escape))
	return nil
}

// selectKeys selects the raw key events on every root (and the device
// hierarchy's changes always), or only the hierarchy when keys is false.
func (w *KeyWatcher) selectKeys(keys bool) error {
	var keyMask uint32
	if keys {
		keyMask = 1<<xiRawKeyPress | 1<<xiRawKeyRelease
	}
	masks := []xiEventMask{
		{deviceid: xiAllMasterDevices, mask: keyMask},
		{deviceid: xiAllDevices, mask: 1 << xiHierarchyChanged}, // allowed only for XIAllDevices
	}
	for _, root := range xproto.Setup(w.conn).Roots { // raw events go to the root of the screen the device is on
		cookie := w.conn.NewCookie(true, false)
		w.conn.NewRequest(xiSelectEventsRequest(w.xi, uint32(root.Root), masks), cookie)
		if err := cookie.Check(); err != nil {
			return fmt.Errorf("x11: select raw key events: %w", err)
		}
	}
	return nil
}

// SetActive starts (true) or stops (false) reading the keyboard. A watcher
// is active when WatchKeys returns. While inactive the X server sends it
// no key events at all, so a person typing costs nothing: the host keeps
// it inactive while nobody has control, when ESC has nothing to take
// back. Escape pressed while inactive is not reported.
func (w *KeyWatcher) SetActive(active bool) error {
	w.activeMu.Lock()
	defer w.activeMu.Unlock()
	if w.active == active {
		return nil
	}
	if err := w.selectKeys(active); err != nil {
		return err
	}
	w.active = active
	return nil
}

// queryVersion sends XIQueryVersion and returns the server's answer.
func (w *KeyWatcher) queryVersion(major, minor uint16) (uint16, uint16, error) {
	cookie := w.conn.NewCookie(true, true)
	w.conn.NewRequest(xiQueryVersionRequest(w.xi, major, minor), cookie)
	b, err := cookie.Reply()
	if err != nil {
		return 0, 0, err
	}
	return parseXIQueryVersionReply(b)
}

// readDevices reads the input devices afresh and forgets the keys held on
// devices that are gone.
func (w *KeyWatcher) readDevices() error {
	cookie := w.conn.NewCookie(true, true)
	w.conn.NewRequest(xiQueryDeviceRequest(w.xi, xiAllDevices), cookie)
	b, err := cookie.Reply()
	if err != nil {
		return fmt.Errorf("x11: list input devices: %w", err)
	}
	devs, err := parseXIQueryDeviceReply(b)
	if err != nil {
		return fmt.Errorf("x11: list input devices: %w", err)
	}
	w.devices = make(map[uint16]xiDevice, len(devs))
	var keyboards []string
	for _, d := range devs {
		w.devices[d.id] = d
		if d.use == xiSlaveKeyboard || d.use == xiFloatingSlave {
			kind := "physical"
			if isXTEST(d) {
				kind = "XTEST"
			}
			keyboards = append(keyboards, fmt.Sprintf("%d %q (%s, %s)", d.id, d.name, useName(d.use), kind))
		}
	}
	for k := range w.keys {
		if _, ok := w.devices[k.source]; !ok {
			delete(w.keys, k)
		}
	}
	w.log.Debug("input devices", "keyboards", strings.Join(keyboards, "; "))
	return nil
}

// readKeymap finds the keycodes of Escape in the core keyboard mapping.
func (w *KeyWatcher) readKeymap() error {
	count := int(w.maxKey) - int(w.minKey) + 1
	r, err := xproto.GetKeyboardMapping(w.conn, w.minKey, byte(count)).Reply()
	if err != nil {
		return fmt.Errorf("x11: read the keyboard mapping: %w", err)
	}
	syms := make([]uint32, len(r.Keysyms))
	for i, s := range r.Keysyms {
		syms[i] = uint32(s)
	}
	w.escape = escapeKeycodes(byte(w.minKey), int(r.KeysymsPerKeycode), syms)
	w.keymapStale = false
	if len(w.escape) == 0 {
		w.log.Warn("no key of the keyboard mapping is Escape: taking control back with Escape cannot work")
	}
	return nil
}

// isXTEST reports whether d is an XTEST device, through which clients
// inject input: the X server makes one XTEST keyboard per master keyboard
// and names it after the master ("Virtual core XTEST keyboard" for
// "Virtual core keyboard"); clients cannot rename devices.
func isXTEST(d xiDevice) bool {
	return d.use != xiMasterKeyboard && d.use != xiMasterPointer && strings.HasSuffix(d.name, " XTEST keyboard")
}

// run is the watcher's goroutine: it handles the events the connection's
// filter queued until Close, or until the connection ends.
func (w *KeyWatcher) run() {
	defer w.wg.Done()
	defer close(w.escapes)
	for {
		select {
		case <-w.ctx.Done():
			return
		case <-w.queue.wake:
		}
		evs, err := w.queue.take()
		for _, ev := range evs {
			if w.ctx.Err() != nil {
				return
			}
			w.handle(ev)
		}
		if err != nil {
			if w.ctx.Err() == nil {
				w.log.Warn("lost the connection to the X server: no longer watching Escape", "error", err)
			}
			return
		}
	}
}

// handle acts on one event.
func (w *KeyWatcher) handle(ev []byte) {
	switch {
	case isXIHierarchyChanged(ev, w.xi):
		if err := w.readDevices(); err != nil {
			w.log.Debug("after a device change", "error", err)
		}
	case isKeyboardMappingNotify(ev):
		// Read when a key of a physical keyboard needs it: the Injector
		// remaps a spare keycode for each character it types that has no
		// key of its own.
		w.keymapStale = true
	default:
		if k, ok := parseXIRawKey(ev, w.xi); ok {
			w.key(k)
		}
	}
}

// key acts on one raw key event.
func (w *KeyWatcher) key(k xiRawKey) {
	id := keyOf{k.sourceid, k.keycode}
	last, seen := w.keys[id]
	if !k.press {
		if seen {
			w.keys[id] = keyState{down: false, time: k.time}
		}
		return
	}
	d, known := w.devices[k.sourceid]
	if !known {
		if err := w.readDevices(); err != nil {
			w.log.Debug("reading the devices for an unknown source", "error", err)
		}
		d, known = w.devices[k.sourceid]
	}
	if known && isXTEST(d) {
		if w.escape[k.keycode] { // (the keymap may be stale: this is for the log only)
			w.log.Debug("Escape injected through XTEST: ignored", "device", d.name, "id", d.id)
		}
		return
	}
	if w.keymapStale {
		if err := w.readKeymap(); err != nil {
			w.log.Debug("after a keyboard mapping change", "error", err)
		}
	}
	if !w.escape[k.keycode] {
		return
	}
	w.keys[id] = keyState{down: true, time: k.time}
	if seen && isRepeat(last, k.time) {
		return
	}
	w.log.Info("Escape pressed on a physical keyboard", "device", d.name, "id", k.sourceid)
	signal(w.escapes)
}

// isRepeat reports whether a press at server time now, after the key's
// last event was last, is autorepeat: a press while the key is down less
// than repeatWindow after its previous press (the X server's own repeat),
// or a press at the moment of its release (the repeat of the X server
// beneath Xephyr or Xnest, forwarded as release and press; no finger
// releases and presses a key within 2 ms).
func isRepeat(last keyState, now uint32) bool {
	if last.down {
		return now-last.time < repeatWindow
	}
	return now-last.time <= releaseRepeatWindow
}
