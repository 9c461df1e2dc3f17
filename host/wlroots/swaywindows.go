package wlroots

// The window list of sway, for the host's privacy (secure prompts blank
// the helper's view, masked windows are painted black): no wlroots
// Wayland protocol shows a client the other clients' windows with their
// places, but sway's IPC does (GET_TREE).
//
// Decisions:
//
//   - Each Windows call reads the tree afresh (GET_TREE: 0.26 ms with ten
//     windows, BenchmarkSwayWindows) on a connection subscribed to the
//     window and workspace events (sway 1.7 has no output events: a change
//     of the outputs is seen at the next capture, which the Source makes
//     whole). Sway handles requests and draws in one thread, so a tree
//     read after a capture returned has every window that capture shows,
//     mapped or moved before it; the subscription only tells the host
//     when to look again (Changed), and its events, handled before the
//     reply that follows them, carry the windows that closed in between.
//     From starting a prompt (foot) to the helper's blanked view took
//     17 ms in TestPrivacyOnSway, most of it foot starting.
//   - Listed: the views (containers with an app_id, or an Xwayland window
//     with WM_CLASS) that sway says are visible (on a visible workspace,
//     not behind a tab or a fullscreen window), tiled and floating, with
//     their container's rectangle (decorations included) translated from
//     sway's output layout to the shared image as the Source lays it out:
//     each output at its logical position less the layout's top-left
//     corner, scaled by the output's scale within it. A Wayland window's
//     app_id is its Class (Instance is empty); an Xwayland window has its
//     WM_CLASS. A window reported with no visibility is listed (fail
//     closed).
//   - The tree is sway's pending state, which is ahead of the frames: a
//     change (a window moved, resized, closed, its workspace hidden) is
//     drawn only when its transaction applies, once the clients concerned
//     acknowledged their new size, or after sway's timeout (200 ms,
//     queued transactions wait for the one before). So a window that left
//     a place is listed at its old place too (a ghost) for ghostTTL after
//     the list first missed it, as is a window whose close event came in;
//     a prompt that closed keeps the view blank that long, a masked window
//     that moved keeps its old place black that long. When the ghosts
//     expire Changed fires, so the view comes back without waiting for
//     the screen to change.
//   - Not listed, because sway's tree does not have them: popups and menus
//     of a window (a masked window's menu that reaches outside it is not
//     masked), layer-shell surfaces (panels, notifications, lock screens),
//     and Xwayland override-redirect windows (X menus, and X prompts that
//     map themselves unmanaged). A secure prompt drawn as one of them is
//     not recognised.
//   - Fail closed: once the IPC connection broke, Windows returns its
//     error (the host blanks the view) and Changed fires once more so the
//     host looks. Changed is never closed.

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/session/screen"
)

var _ host.WindowLister = (*SwayWindows)(nil)

// ghostTTL is how long a window stays listed at a place it left, longer
// than sway's transaction timeout twice over.
const ghostTTL = 500 * time.Millisecond

// SwayWindows lists the windows of sway, for host privacy. Create it with
// WatchSwayWindows. Its methods may be called from any goroutine.
type SwayWindows struct {
	ic      *ipcConn
	log     *slog.Logger
	changed chan struct{} // cap 1

	mu     sync.Mutex
	last   []swayWindow // guarded by mu: the list the last Windows call read
	layout swayLayout   // guarded by mu: the outputs as of the last tree
	ghosts []ghost      // guarded by mu
	timer  *time.Timer  // guarded by mu: fires Changed when the first ghost expires
	closed bool         // guarded by mu
}

// swayWindow is one view of the tree, in the image's coordinates (a view
// across outputs has a rect on each).
type swayWindow struct {
	id    int64
	win   host.Window
	rects []screen.Rect
}

type ghost struct {
	win   host.Window
	until time.Time
}

// WatchSwayWindows connects to sway's IPC socket (the caller reads
// $SWAYSOCK), subscribes to window and workspace events and reads
// the tree once. logger gets component=sway-windows; nil discards; the
// log never has app ids. The errors start "wlroots: ": the socket cannot
// be reached, the subscription or the tree was refused or unreadable.
func WatchSwayWindows(ctx context.Context, socket string, logger *slog.Logger) (*SwayWindows, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	w := &SwayWindows{log: logger.With("component", "sway-windows"), changed: make(chan struct{}, 1)}
	ic, err := dialIPC(ctx, socket, w.event, w.end)
	if err != nil {
		return nil, err
	}
	w.ic = ic
	fail := func(err error) (*SwayWindows, error) {
		w.mu.Lock()
		w.closed = true
		w.mu.Unlock()
		ic.close()
		return nil, err
	}
	if err := ic.subscribe(ctx, "window", "workspace"); err != nil {
		return fail(err)
	}
	if _, err := w.Windows(ctx); err != nil {
		return fail(err)
	}
	return w, nil
}

// Windows returns the visible windows as of the call, bottom to top as
// far as sway tells (tiled, then floating, per workspace), with the
// ghosts of windows that recently left a place. Every window mapped or
// moved before the call is in it. It fails once the IPC connection
// broke.
func (w *SwayWindows) Windows(ctx context.Context) ([]host.Window, error) {
	p, err := w.ic.request(ctx, ipcGetTree, nil)
	if err != nil {
		return nil, err
	}
	list, layout, err := parseTree(p)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	cur := make(map[int64]swayWindow, len(list))
	for _, sw := range list {
		cur[sw.id] = sw
	}
	for _, old := range w.last {
		if n, ok := cur[old.id]; ok && slices.Equal(n.rects, old.rects) {
			continue
		}
		for _, r := range old.rects {
			win := old.win
			win.Rect = r
			w.ghosts = append(w.ghosts, ghost{win: win, until: now.Add(ghostTTL)})
		}
	}
	w.last, w.layout = list, layout
	w.ghosts = slices.DeleteFunc(w.ghosts, func(g ghost) bool { return !now.Before(g.until) })
	var out []host.Window
	for _, sw := range list {
		for _, r := range sw.rects {
			win := sw.win
			win.Rect = r
			out = append(out, win)
		}
	}
	for _, g := range w.ghosts {
		out = append(out, g.win)
	}
	w.armLocked(now)
	return out, nil
}

// armLocked sets the timer to fire Changed when the first ghost expires.
func (w *SwayWindows) armLocked(now time.Time) {
	if len(w.ghosts) == 0 || w.closed {
		return
	}
	first := w.ghosts[0].until
	for _, g := range w.ghosts {
		if g.until.Before(first) {
			first = g.until
		}
	}
	d := first.Sub(now)
	if w.timer == nil {
		w.timer = time.AfterFunc(d, w.notify)
	} else {
		w.timer.Reset(d)
	}
}

// Changed receives a value after the list may have changed (a window
// event, a workspace shown, ghosts expired, the
// connection lost); values not yet received are coalesced.
func (w *SwayWindows) Changed() <-chan struct{} { return w.changed }

func (w *SwayWindows) notify() {
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

// event is called by the reader for each event.
func (w *SwayWindows) event(typ uint32, p []byte) {
	if typ == ipcEventWindow {
		if win, rects, ok := parseCloseEvent(p, w.layoutNow()); ok {
			until := time.Now().Add(ghostTTL)
			w.mu.Lock()
			for _, r := range rects {
				win.Rect = r
				w.ghosts = append(w.ghosts, ghost{win: win, until: until})
			}
			w.mu.Unlock()
		}
	}
	w.notify()
}

func (w *SwayWindows) layoutNow() swayLayout {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.layout
}

// end is called by the reader when the connection ended.
func (w *SwayWindows) end(err error) {
	w.mu.Lock()
	closed := w.closed
	w.mu.Unlock()
	if !closed {
		w.log.Warn("sway's IPC connection broke; the helper's view stays blank", "err", err)
	}
	w.notify()
}

// Close closes the IPC connection. It returns nil.
func (w *SwayWindows) Close() error {
	w.mu.Lock()
	w.closed = true
	if w.timer != nil {
		w.timer.Stop()
	}
	w.mu.Unlock()
	w.ic.close()
	return nil
}

// swayNode is what the package reads of a node of sway's tree.
type swayNode struct {
	ID               int64    `json:"id"`
	Type             string   `json:"type"`
	Name             string   `json:"name"`
	Rect             swayRect `json:"rect"`
	AppID            *string  `json:"app_id"`
	WindowProperties *struct {
		Class    string `json:"class"`
		Instance string `json:"instance"`
	} `json:"window_properties"`
	Visible       *bool      `json:"visible"`
	Active        *bool      `json:"active"`
	Scale         float64    `json:"scale"`
	Nodes         []swayNode `json:"nodes"`
	FloatingNodes []swayNode `json:"floating_nodes"`
}

type swayRect struct {
	X      int `json:"x"`
	Y      int `json:"y"`
	Width  int `json:"width"`
	Height int `json:"height"`
}

func (r swayRect) rect() screen.Rect { return screen.Rect{X: r.X, Y: r.Y, W: r.Width, H: r.Height} }

// swayLayout is the outputs as sway lays them out.
type swayLayout struct {
	outputs []swayOutput
	extent  screen.Rect // their union, logical
}

type swayOutput struct {
	logical screen.Rect
	scale   float64
}

// maxTreeDepth bounds the recursion into a tree (sway's have a handful of
// levels; split containers nest).
const maxTreeDepth = 100

// parseTree reads GET_TREE's reply: the visible views and the layout.
func parseTree(p []byte) ([]swayWindow, swayLayout, error) {
	var root swayNode
	if err := json.Unmarshal(p, &root); err != nil {
		return nil, swayLayout{}, fmt.Errorf("wlroots: sway's tree: %v", err)
	}
	if root.Type != "root" {
		return nil, swayLayout{}, fmt.Errorf("wlroots: sway's tree: the top node is a %.40q, not the root", root.Type)
	}
	var l swayLayout
	for _, o := range root.Nodes {
		if o.Type != "output" || o.Name == "__i3" || (o.Active != nil && !*o.Active) || o.Rect.Width <= 0 || o.Rect.Height <= 0 {
			continue
		}
		scale := o.Scale
		if !(scale > 0 && scale <= 16) {
			scale = 1
		}
		lr := o.Rect.rect()
		l.outputs = append(l.outputs, swayOutput{logical: lr, scale: scale})
		l.extent = l.extent.Union(lr)
	}
	var out []swayWindow
	var walk func(n *swayNode, depth int) error
	walk = func(n *swayNode, depth int) error {
		if depth > maxTreeDepth {
			return fmt.Errorf("wlroots: sway's tree is more than %d levels deep", maxTreeDepth)
		}
		if win, ok := viewOf(n); ok && (n.Visible == nil || *n.Visible) {
			if rects := l.toImage(n.Rect.rect()); len(rects) > 0 {
				out = append(out, swayWindow{id: n.ID, win: win, rects: rects})
			}
		}
		for i := range n.Nodes {
			if err := walk(&n.Nodes[i], depth+1); err != nil {
				return err
			}
		}
		for i := range n.FloatingNodes {
			if err := walk(&n.FloatingNodes[i], depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	for i := range root.Nodes {
		if root.Nodes[i].Name == "__i3" { // the scratchpad: never shown
			continue
		}
		if err := walk(&root.Nodes[i], 1); err != nil {
			return nil, swayLayout{}, err
		}
	}
	return out, l, nil
}

// viewOf returns the window a node is, if it is an application's.
func viewOf(n *swayNode) (host.Window, bool) {
	if n.Type != "con" && n.Type != "floating_con" {
		return host.Window{}, false
	}
	switch {
	case n.AppID != nil && *n.AppID != "":
		return host.Window{Class: *n.AppID}, true
	case n.WindowProperties != nil:
		return host.Window{Instance: n.WindowProperties.Instance, Class: n.WindowProperties.Class}, true
	case n.AppID != nil: // a Wayland window without an app_id: nothing can match it
		return host.Window{}, true
	}
	return host.Window{}, false
}

// parseCloseEvent reads a window event; for "close" it returns the window
// and its rects.
func parseCloseEvent(p []byte, l swayLayout) (host.Window, []screen.Rect, bool) {
	var ev struct {
		Change    string   `json:"change"`
		Container swayNode `json:"container"`
	}
	if err := json.Unmarshal(p, &ev); err != nil || ev.Change != "close" {
		return host.Window{}, nil, false
	}
	win, ok := viewOf(&ev.Container)
	if !ok {
		return host.Window{}, nil, false
	}
	rects := l.toImage(ev.Container.Rect.rect())
	return win, rects, len(rects) > 0
}

// toImage turns a rectangle of sway's layout into the parts of the
// shared image it covers: one per output it is on, scaled within it.
func (l swayLayout) toImage(r screen.Rect) []screen.Rect {
	var out []screen.Rect
	for _, o := range l.outputs {
		part := r.Intersect(o.logical)
		if part.Empty() {
			continue
		}
		x0 := o.logical.X - l.extent.X
		y0 := o.logical.Y - l.extent.Y
		fx := func(v int) float64 { return float64(v) * o.scale }
		left := x0 + int(math.Floor(fx(part.X-o.logical.X)))
		top := y0 + int(math.Floor(fx(part.Y-o.logical.Y)))
		right := x0 + int(math.Ceil(fx(part.X+part.W-o.logical.X)))
		bottom := y0 + int(math.Ceil(fx(part.Y+part.H-o.logical.Y)))
		out = append(out, screen.Rect{X: left, Y: top, W: right - left, H: bottom - top})
	}
	return out
}
