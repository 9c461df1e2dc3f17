package x11

// The window watcher: which top-level windows are on screen, for the
// host's privacy features (blank the helper's view while a password prompt
// is up; black out the windows of chosen applications).
//
// Decisions:
//
//   - A connection of its own, with SubstructureNotify selected on the root
//     window: every map, unmap, move, resize, restack, reparent or destroy
//     of a child of the root comes as an event.
//   - The list is read afresh with a full rescan (QueryTree on the root,
//     whose children come bottom to top, then GetWindowAttributes,
//     GetGeometry, WM_CLASS and, for frames, the children below), the
//     requests of each step pipelined. Keeping a model up to date from the
//     events instead would have to get every ordering case of mapping and
//     reparenting right, and a mistake there hides a password prompt; a
//     full rescan cannot drift. It costs about 0.2 ms on Xvfb with no
//     other window, 0.6 ms with 20 xterms and 1.5–2 ms with 20 clients in
//     frames two levels deep (BenchmarkWindowWatcher, 2-core machine):
//     xgb spends some 7 µs on each request, and a scan makes 3 to 10 per
//     window. Full rescans happen at the pace of people: a window mapped,
//     unmapped, raised, a menu opened.
//   - Except for moves and resizes, which come in storms (a window
//     dragged, a window manager's animation): a ConfigureNotify of a child
//     of the root carries its new geometry and the sibling right below it.
//     While every such event names the sibling that was below that window
//     at the last scan, no window changed its place in the stack (by
//     induction over the events, in the order the server sent them), so
//     the events' geometry is applied to the list without a request, in
//     about a microsecond. Any other event (or a ConfigureNotify of a
//     window the last scan did not see, or naming another sibling, even
//     of a window not listed) makes a full rescan.
//   - Two goroutines. The reader only takes events off xgb's queue and
//     hands them to the scanner; the scanner updates the list while
//     something is pending and publishes it when it differs. The reader
//     never waits for a reply, so a burst of events cannot fill xgb's
//     queue (5000) while the scanner waits for one (xgb's reading goroutine
//     would block on the full queue and never deliver the reply). Events
//     that arrive during a scan cost at most one more scan, whatever their
//     number: bursts coalesce.
//   - Reparenting window managers put each client into a frame, a child of
//     the root that carries no WM_CLASS. A viewable child of the root
//     (MapState Viewable, not InputOnly) that has WM_CLASS is listed as
//     itself; otherwise its descendants are searched breadth-first, down to
//     maxClientDepth levels (KWin puts a wrapper between frame and client,
//     mutter, xfwm4 and Openbox none), bottom to top within a level, and
//     the first with WM_CLASS is the client. The rectangle is the child of
//     the root's (GetGeometry plus twice its border), so a mask covers the
//     decorations too. A child of the root with no WM_CLASS on it or within
//     reach is not listed: it could not match a class anyway.
//   - Override-redirect windows (menus, tooltips, some dialogs) are listed
//     like any other when they carry WM_CLASS.
//   - WM_CLASS set after the window was mapped: at each scan the watcher
//     selects PropertyChange on every window it reads WM_CLASS from
//     (selecting again is harmless, costs no round trip, and still holds
//     when the server has given a destroyed window's id to a new one), and
//     a PropertyNotify for WM_CLASS makes a scan; the reader drops the
//     other properties' (_NET_WM_USER_TIME changes at every key press).
//   - Unmapped windows are not listed: minimised windows and those on
//     another virtual desktop, with most window managers. Window managers
//     that keep them mapped and move them off screen (viewports) give
//     rectangles outside the screen; callers clip.
//   - The extension-init rule of ext.go: the watcher's connection reads
//     events and errors, so it initialises the package's extensions (or
//     checks they are) before it selects any event, like Open. It can be
//     opened before or after a Source, and it fails where Open would for
//     want of DAMAGE or XFIXES.
//   - Lag: a window is in the list some 0.4–1.5 ms after it was mapped
//     (median 0.65 ms from the MapWindow request, Xvfb with 20 other
//     windows; TestWindowWatcherNoticeDelay logs it), more when this
//     process waits for a CPU. Until then it is on screen and not in the
//     list, and a capture taken in that moment shows it unmasked. An
//     application usually draws its window only after the Expose that
//     follows the map, which tends to take it longer, but nothing
//     guarantees that. Moves lag the same way: for that moment a mask
//     stays on the window's old rectangle while its pixels are already at
//     the new one (a caller can mask both for a frame after a change).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/session/screen"
)

// maxClientDepth is how many levels below a child of the root the watcher
// looks for the client window (the one with WM_CLASS).
const maxClientDepth = 3

// wmClassMax is how much of a WM_CLASS property is read, in 4-byte units.
const wmClassMax = 256

// errWatcherClosed is what Err returns after Close.
var errWatcherClosed = fmt.Errorf("x11: window watcher closed: %w", net.ErrClosed)

// Window is one viewable top-level window, as a WindowWatcher lists it.
type Window struct {
	// ID is the client window, the one carrying WM_CLASS: the child of the
	// root itself, or the client inside a window manager's frame.
	ID uint32
	// Instance and Class are the two strings of WM_CLASS ("xterm",
	// "XTerm"), as the application set them; either may be empty.
	Instance string
	Class    string
	// X, Y, W and H are the outer rectangle in root coordinates, border
	// included, of the child of the root: the frame when a window manager
	// reparented the client, so that a mask covers the decorations too.
	// It may reach past the screen's edges.
	X, Y, W, H int
}

// Rect returns the window's outer rectangle.
func (w Window) Rect() screen.Rect {
	return screen.Rect{X: w.X, Y: w.Y, W: w.W, H: w.H}
}

// WindowWatcher tracks the viewable top-level windows of the default
// screen of an X server. Create it with WatchWindows.
type WindowWatcher struct {
	display string
	conn    *xgb.Conn
	root    xproto.Window
	log     *slog.Logger

	wake     chan struct{} // cap 1: the reader put something in pending
	changed  chan struct{} // cap 1: the list changed; closed when the scanner ends
	readDone chan struct{} // closed when the reader ends (the connection closed)
	scanDone chan struct{} // closed when the scanner ends

	ctx       context.Context // cancelled by Close
	cancel    context.CancelFunc
	wg        sync.WaitGroup // the reader and the scanner
	closeOnce sync.Once

	pmu     sync.Mutex
	pending pendingEvents // guarded by pmu; what the reader saw since the scanner took it

	mu      sync.Mutex
	windows []Window      // guarded by mu; never modified once stored, Windows copies it
	err     error         // guarded by mu; why the watcher stopped, nil while it watches
	synced  uint32        // guarded by mu: the last Sync marker the scanner has handled
	syncs   chan struct{} // guarded by mu: closed and replaced when synced grows

	syncWin xproto.Window // an unmapped window of ours that Sync's markers go to
	syncSeq atomic.Uint32

	// Owned by the scanner (WatchWindows, then run), as of the last scan:
	tops  []xproto.Window                 // the child of the root of each window of the list
	below map[xproto.Window]xproto.Window // each child of the root → the one right below it (0 at the bottom)
}

// pendingEvents is what the reader tells the scanner.
type pendingEvents struct {
	full bool // an event that needs a full rescan came
	// syncTo is the last Sync marker the reader saw: every event before it
	// is in this pendingEvents.
	syncTo uint32
	// The ConfigureNotify events of children of the root since the last
	// take, in order, unless full; at most maxPendingMoves.
	configures []xproto.ConfigureNotifyEvent
}

// maxPendingMoves is how many ConfigureNotify events the reader keeps for
// the scanner; past that it asks for a full rescan.
const maxPendingMoves = 1024

// WatchWindows connects to the X server of display (such as ":0"; the
// caller reads $DISPLAY if it wants it), lists the viewable top-level
// windows of its default screen, and keeps the list up to date until
// Close. The list is ready when it returns. It starts two goroutines,
// which Close stops. logger receives the watcher's log, with
// component=x11-windows; nil discards. The log has the number of windows
// and never their classes.
//
// Like Open, it makes sure the package's X extensions are initialised for
// the whole process (see ext.go), so it fails on a server that lacks DAMAGE
// or XFIXES, which a Source needs anyway.
//
// The errors are one line each, starting "x11: ": "no display given",
// "cannot open display :N: …" (no server, refused), "the X server lacks
// the DAMAGE extension" and the like, and the failures of its first
// requests.
func WatchWindows(display string, logger *slog.Logger) (*WindowWatcher, error) {
	if display == "" {
		return nil, errors.New("x11: no display given")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	log := logger.With("component", "x11-windows", "display", display)
	conn, err := openDisplay(display)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &WindowWatcher{
		display:  display,
		conn:     conn,
		log:      log,
		wake:     make(chan struct{}, 1),
		changed:  make(chan struct{}, 1),
		readDone: make(chan struct{}),
		ctx:      ctx,
		cancel:   cancel,
		syncs:    make(chan struct{}),
		scanDone: make(chan struct{}),
	}
	fail := func(err error) (*WindowWatcher, error) {
		cancel()
		conn.Close()
		w.wg.Wait()
		return nil, err
	}

	w.root = xproto.Setup(conn).DefaultScreen(conn).Root
	if w.syncWin, err = xproto.NewWindowId(conn); err != nil {
		return fail(fmt.Errorf("x11: display %s: %w", display, err))
	}
	err = xproto.CreateWindowChecked(conn, 0, w.syncWin, w.root, -1, -1, 1, 1, 0,
		xproto.WindowClassInputOnly, 0, 0, nil).Check()
	if err != nil {
		return fail(fmt.Errorf("x11: display %s: create a window: %w", display, err))
	}
	if _, err := initExtensions(conn); err != nil {
		extensions.mu.Lock()
		ready := extensions.done
		extensions.mu.Unlock()
		// With the tables set, a mismatch in this server's numbering of
		// DAMAGE or XFIXES does not matter: the watcher makes core requests
		// and selects core events only.
		if !ready {
			return fail(err)
		}
	}

	// Selected first and read second: a change in between makes a scan.
	mask := uint32(xproto.EventMaskSubstructureNotify)
	if err := xproto.ChangeWindowAttributesChecked(conn, w.root, xproto.CwEventMask, []uint32{mask}).Check(); err != nil {
		return fail(fmt.Errorf("x11: select events on the root window: %w", err))
	}
	w.wg.Add(1)
	go w.read()
	start := time.Now()
	list, err := w.scan()
	if err != nil {
		return fail(fmt.Errorf("x11: list windows: %w", err))
	}
	w.windows = list
	log.Debug("watching windows", "windows", len(list), "took", time.Since(start))
	w.wg.Add(1)
	go w.run()
	return w, nil
}

// Windows returns the viewable top-level windows that carry WM_CLASS (on
// themselves or on a client within their frame), bottom to top in stacking
// order. The slice is the caller's. After the watcher stopped (see Err) it
// returns the last list it had. It is safe for concurrent use.
func (w *WindowWatcher) Windows() []Window {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.windows)
}

// Sync returns once the list that Windows returns accounts for every
// change the X server made before Sync was called: a window mapped before
// the call is in the list after it. It costs a round trip to the server
// (well under a millisecond locally) and, when something changed, the
// rescan. It returns ctx's error, or Err once the watcher stopped.
func (w *WindowWatcher) Sync(ctx context.Context) error {
	seq := w.syncSeq.Add(1)
	if seq == 0 { // wrapped: 0 means none
		seq = w.syncSeq.Add(1)
	}
	ev := xproto.ClientMessageEvent{
		Format: 32,
		Window: w.syncWin,
		Data:   xproto.ClientMessageDataUnionData32New([]uint32{seq, 0, 0, 0, 0}),
	}
	xproto.SendEvent(w.conn, false, w.syncWin, xproto.EventMaskNoEvent, string(ev.Bytes()))
	for {
		w.mu.Lock()
		done, err, wait := int32(w.synced-seq) >= 0, w.err, w.syncs
		w.mu.Unlock()
		switch {
		case err != nil:
			return err
		case done:
			return nil
		}
		select {
		case <-wait:
		case <-w.scanDone:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// ForHost returns the watcher as the host's privacy needs it: each call of
// its Windows syncs first, so the list is as fresh as a capture taken
// before the call, and fails once the watcher stopped (the host then
// blanks the view).
func (w *WindowWatcher) ForHost() host.WindowLister { return hostWindows{w} }

type hostWindows struct{ w *WindowWatcher }

func (h hostWindows) Windows(ctx context.Context) ([]host.Window, error) {
	if err := h.w.Sync(ctx); err != nil {
		return nil, err
	}
	list := h.w.Windows()
	out := make([]host.Window, len(list))
	for i, win := range list {
		out[i] = host.Window{Instance: win.Instance, Class: win.Class, Rect: win.Rect()}
	}
	return out, nil
}

func (h hostWindows) Changed() <-chan struct{} { return h.w.changed }

// Changed returns the channel that receives a value after the list that
// Windows returns changed; changes not yet received are coalesced into one
// (the channel has a capacity of one and is sent to without blocking), so a
// receiver then reads Windows afresh. The list is ready when WatchWindows
// returns: read Windows first, then wait on Changed. The channel is closed
// when the watcher stops, by Close or because its connection to the X
// server broke (see Err): receivers must check the second value.
func (w *WindowWatcher) Changed() <-chan struct{} { return w.changed }

// Err returns nil while the watcher watches. Once Changed is closed it
// returns why: an error wrapping ErrLost when the connection to the X
// server broke (the list is no longer updated; a privacy feature should
// fail closed), or one wrapping net.ErrClosed after Close.
func (w *WindowWatcher) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Close stops watching: it closes the connection to the X server and waits
// for the watcher's goroutines; Changed is closed then. It returns nil;
// calling it again does nothing.
func (w *WindowWatcher) Close() error {
	w.closeOnce.Do(func() {
		w.cancel()
		w.conn.Close()
	})
	w.wg.Wait()
	return nil
}

// read is the goroutine that takes events off the connection. It ends when
// the connection closes (Close, or the server went away), and closes
// w.readDone then. It must not wait for anything but xgb's queue.
func (w *WindowWatcher) read() {
	defer w.wg.Done()
	defer close(w.readDone)
	for ev, xerr := range xevents(w.conn) {
		if xerr != nil {
			// An error of an unchecked request: a window that went away
			// before the watcher selected PropertyChange on it.
			continue
		}
		switch e := ev.(type) {
		case xproto.ClientMessageEvent:
			if e.Window == w.syncWin {
				w.pmu.Lock()
				w.pending.syncTo = e.Data.Data32[0]
				w.pmu.Unlock()
				signal(w.wake)
			}
		case xproto.ConfigureNotifyEvent:
			w.pmu.Lock()
			if !w.pending.full {
				if len(w.pending.configures) < maxPendingMoves {
					w.pending.configures = append(w.pending.configures, e)
				} else {
					w.pending = pendingEvents{full: true, syncTo: w.pending.syncTo}
				}
			}
			w.pmu.Unlock()
			signal(w.wake)
		case xproto.MapNotifyEvent, xproto.UnmapNotifyEvent, xproto.ReparentNotifyEvent,
			xproto.DestroyNotifyEvent, xproto.CirculateNotifyEvent, xproto.GravityNotifyEvent:
			w.needScan()
		case xproto.PropertyNotifyEvent:
			if e.Atom == xproto.AtomWmClass {
				w.needScan()
			}
		}
		// CreateNotify: a new window is unmapped; its MapNotify will come.
	}
}

// needScan tells the scanner to rescan.
func (w *WindowWatcher) needScan() {
	w.pmu.Lock()
	w.pending = pendingEvents{full: true, syncTo: w.pending.syncTo}
	w.pmu.Unlock()
	signal(w.wake)
}

// run is the scanner: whenever the reader has something pending, it
// updates the list and publishes it if it changed, until Close or until
// the connection ends. It closes w.changed when it ends.
func (w *WindowWatcher) run() {
	defer w.wg.Done()
	defer close(w.scanDone)
	defer close(w.changed)
	for {
		select {
		case <-w.ctx.Done():
			w.stop(errWatcherClosed)
			return
		case <-w.readDone:
			w.stop(w.lostErr(io.EOF))
			return
		case <-w.wake:
		}
		w.pmu.Lock()
		p := w.pending
		w.pending = pendingEvents{}
		w.pmu.Unlock()

		start := time.Now()
		by := "moves"
		var list []Window
		ok := false
		if !p.full {
			list, ok = w.moved(p.configures)
		}
		if !ok {
			by = "scan"
			var err error
			if list, err = w.scan(); err != nil {
				w.stop(w.lostErr(err))
				return
			}
		}
		w.mu.Lock()
		same := slices.Equal(list, w.windows)
		if !same {
			w.windows = list
		}
		if p.syncTo != 0 && p.syncTo != w.synced {
			w.synced = p.syncTo
			close(w.syncs)
			w.syncs = make(chan struct{})
		}
		w.mu.Unlock()
		if !same {
			w.log.Debug("windows changed", "windows", len(list), "by", by, "took", time.Since(start))
			signal(w.changed)
		}
	}
}

// moved returns the list with the moves and resizes of configures applied
// and true, or false if one of them may have restacked a window, or is of
// a window the last scan did not see, and a full scan is needed. A
// ConfigureNotify carries the window's new geometry and the sibling right
// below it: while every event names the sibling that was below the window
// at the last scan, no window changed its place in the stack, so the
// order the scan read still holds (by induction over the events, in the
// order the server sent them). An event for a child of the root that is
// not listed changes nothing else.
func (w *WindowWatcher) moved(configures []xproto.ConfigureNotifyEvent) ([]Window, bool) {
	list := w.Windows()
	for _, e := range configures {
		if b, ok := w.below[e.Window]; !ok || b != e.AboveSibling {
			return nil, false
		}
		if i := slices.Index(w.tops, e.Window); i >= 0 {
			bw := 2 * int(e.BorderWidth)
			list[i].X, list[i].Y = int(e.X), int(e.Y)
			list[i].W, list[i].H = int(e.Width)+bw, int(e.Height)+bw
		}
	}
	return list, true
}

// lostErr returns the error for the watcher's end after err ended a scan
// or the connection: errWatcherClosed after Close, else ErrLost.
func (w *WindowWatcher) lostErr(err error) error {
	if w.ctx.Err() != nil {
		return errWatcherClosed
	}
	return lostError(w.display, err)
}

// stop records why the watcher stopped.
func (w *WindowWatcher) stop(err error) {
	if !errors.Is(err, net.ErrClosed) {
		w.log.Warn("lost the connection to the X server: the window list is no longer updated", "error", err)
	}
	w.mu.Lock()
	w.err = err
	w.mu.Unlock()
}

// scanTop is a viewable child of the root during a scan.
type scanTop struct {
	id     xproto.Window
	geom   xproto.GetGeometryCookie
	level  []xproto.Window // the windows to look at for WM_CLASS next
	client xproto.Window   // the first with WM_CLASS; 0 while not found
	inst   string
	class  string
}

// scan lists the viewable top-level windows with WM_CLASS, bottom to top,
// and records the stacking order of the root's children and the child of
// each listed window (for moved). It selects PropertyChange on each window
// it reads WM_CLASS from. Windows that vanish during the scan are left out
// (their events make another). It returns an error only when the
// connection is gone.
func (w *WindowWatcher) scan() ([]Window, error) {
	c := w.conn
	tree, err := xproto.QueryTree(c, w.root).Reply()
	if err != nil {
		return nil, err
	}
	below := make(map[xproto.Window]xproto.Window, len(tree.Children))
	for i, id := range tree.Children {
		below[id] = xproto.WindowNone
		if i > 0 {
			below[id] = tree.Children[i-1]
		}
	}
	attrs := make([]xproto.GetWindowAttributesCookie, len(tree.Children))
	for i, id := range tree.Children {
		attrs[i] = xproto.GetWindowAttributes(c, id)
	}
	var tops []*scanTop
	for i, id := range tree.Children {
		a, err := attrs[i].Reply()
		if err != nil {
			if gone(err) {
				continue
			}
			return nil, err
		}
		if a.MapState != xproto.MapStateViewable || a.Class == xproto.WindowClassInputOnly {
			continue
		}
		tops = append(tops, &scanTop{id: id, geom: xproto.GetGeometry(c, xproto.Drawable(id)), level: []xproto.Window{id}})
	}

	// Level by level, for all the tops at once: WM_CLASS of each window of
	// the level, then the children of those of tops still without a client.
	for depth := 0; depth <= maxClientDepth; depth++ {
		type probe struct {
			top  *scanTop
			id   xproto.Window
			prop xproto.GetPropertyCookie
		}
		var probes []probe
		for _, t := range tops {
			for _, id := range t.level {
				xproto.ChangeWindowAttributes(c, id, xproto.CwEventMask, []uint32{xproto.EventMaskPropertyChange})
				probes = append(probes, probe{t, id, xproto.GetProperty(c, false, id, xproto.AtomWmClass, xproto.GetPropertyTypeAny, 0, wmClassMax)})
			}
			t.level = nil
		}
		if len(probes) == 0 {
			break
		}
		for _, p := range probes {
			r, err := p.prop.Reply()
			if err != nil {
				if gone(err) {
					continue
				}
				return nil, err
			}
			if p.top.client != 0 || r.Type == xproto.AtomNone || r.Format != 8 {
				continue
			}
			p.top.client = p.id
			p.top.inst, p.top.class = parseWMClass(r.Value)
		}
		if depth == maxClientDepth {
			break
		}
		type search struct {
			top  *scanTop
			tree xproto.QueryTreeCookie
		}
		var searches []search
		for _, p := range probes {
			if p.top.client == 0 {
				searches = append(searches, search{p.top, xproto.QueryTree(c, p.id)})
			}
		}
		for _, s := range searches {
			r, err := s.tree.Reply()
			if err != nil {
				if gone(err) {
					continue
				}
				return nil, err
			}
			s.top.level = append(s.top.level, r.Children...)
		}
	}

	var list []Window
	var listed []xproto.Window
	for _, t := range tops {
		g, err := t.geom.Reply()
		if err != nil {
			if gone(err) {
				continue
			}
			return nil, err
		}
		if t.client == 0 {
			continue
		}
		bw := 2 * int(g.BorderWidth)
		list = append(list, Window{
			ID:       uint32(t.client),
			Instance: t.inst,
			Class:    t.class,
			X:        int(g.X),
			Y:        int(g.Y),
			W:        int(g.Width) + bw,
			H:        int(g.Height) + bw,
		})
		listed = append(listed, t.id)
	}
	w.tops, w.below = listed, below
	return list, nil
}

// gone reports whether err, from a request about a window, is an X error
// (the window went away meanwhile) rather than the end of the connection.
func gone(err error) bool {
	var xe xgb.Error
	return errors.As(err, &xe)
}

// parseWMClass splits the value of WM_CLASS, two strings each ended by a
// NUL ("xterm\x00XTerm\x00"); a missing final NUL is tolerated.
func parseWMClass(v []byte) (instance, class string) {
	instance, rest, _ := strings.Cut(string(v), "\x00")
	class, _, _ = strings.Cut(rest, "\x00")
	return instance, class
}

// MatchClass reports whether the window's WM_CLASS instance or class
// matches one of patterns, ignoring case. A pattern is a path.Match glob
// ("*pinentry*", "ssh-askpass", "keepassxc"); a malformed one matches
// nothing (check patterns from configuration with CheckClassPatterns).
func MatchClass(w Window, patterns []string) bool {
	inst, class := strings.ToLower(w.Instance), strings.ToLower(w.Class)
	for _, p := range patterns {
		p = strings.ToLower(p)
		if ok, _ := path.Match(p, inst); ok {
			return true
		}
		if ok, _ := path.Match(p, class); ok {
			return true
		}
	}
	return false
}

// CheckClassPatterns returns an error wrapping path.ErrBadPattern, naming
// the first malformed pattern, if any of patterns is not a valid
// path.Match glob; nil otherwise.
func CheckClassPatterns(patterns []string) error {
	for _, p := range patterns {
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("x11: window class pattern %q: %w", p, err)
		}
	}
	return nil
}

// DefaultSecurePrompts are the WM_CLASS patterns (for MatchClass) of the
// windows in which people type a password to authorise something: while
// one is on screen the helper should see nothing. Matching ignores case, so
// "gcr-prompter" stands for "Gcr-prompter" too. The explicit names document
// the known programs; the globs catch their relatives. Screen lockers are
// left out (they cover the screen themselves), and so are generic dialog
// tools such as zenity or kdialog, which scripts use for any question, and
// would blank the view for every one of them. Callers that add patterns
// make a new slice (slices.Concat) rather than append to this one.
//
// GNOME Shell and Cinnamon draw their own polkit and keyring prompts
// inside the compositor: no window is mapped, and no pattern can match
// them.
var DefaultSecurePrompts = []string{
	// Polkit authentication agents: the administrator prompts of pkexec,
	// of software centres and of system settings.
	"polkit-gnome-authentication-agent-1", // GNOME outside GNOME Shell (which draws its own), Cinnamon's fallback
	"polkit-kde-authentication-agent-1",   // KDE Plasma
	"polkit-mate-authentication-agent-1",  // MATE (package mate-polkit)
	"lxpolkit",                            // LXDE
	"xfce-polkit",                         // Xfce
	"lxqt-policykit-agent",                // LXQt: "policykit", which "*polkit*" misses
	"*polkit*",                            // others: budgie-polkit-dialog, polkit-dumb-agent, …
	// GnuPG's pinentry, for a key's passphrase: pinentry-gtk-2,
	// pinentry-qt, pinentry-fltk, …; pinentry-gnome3 asks through
	// gcr-prompter, which GNOME's keyring uses too.
	"*pinentry*",
	"gcr-prompter",
	// ssh-askpass and its kind, for an SSH key's passphrase or sudo -A:
	// ssh-askpass-gnome, lxqt-openssh-askpass, seahorse-ssh-askpass,
	// ksshaskpass, and x11-ssh-askpass, Debian's ssh-askpass, whose
	// WM_CLASS is "ssh-askpass", "SshAskpass".
	"*ssh-askpass*",
	"*sshaskpass*",
	"x11-ssh-askpass",
	"ksshaskpass",
	"*askpass*", // any askpass helper asks for a password
	// Graphical sudo and su front ends (gksu, gksudo, kdesu, kdesudo),
	// unmaintained but still installed here and there.
	"gksu*",
	"kdesu*",
}
