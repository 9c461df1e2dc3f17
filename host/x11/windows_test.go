package x11_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
	"go.uber.org/goleak"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/host/x11"
	"github.com/gethelp/gethelp/session/screen"
)

// watchWindows starts a WindowWatcher on display, closed when the test
// ends, with its log shown if the test fails. Tests start it before their
// own connections (see ext.go).
func watchWindows(t testing.TB, display string) (*x11.WindowWatcher, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	w, err := x11.WatchWindows(display, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		w.Close()
		if t.Failed() {
			t.Logf("window watcher log:\n%s", logs)
		}
	})
	return w, logs
}

// awaitWindows waits until cond holds for the watcher's list, looking
// again each time Changed fires, and returns that list. It fails the test
// after 10 s or if the watcher stops.
func awaitWindows(t testing.TB, w *x11.WindowWatcher, what string, cond func([]x11.Window) bool) []x11.Window {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		list := w.Windows()
		if cond(list) {
			return list
		}
		select {
		case _, ok := <-w.Changed():
			if !ok {
				t.Fatalf("%s: Changed closed: %v", what, w.Err())
			}
		case <-deadline:
			t.Fatalf("%s: not within 10s; the windows are %+v", what, list)
		}
	}
}

// find returns the listed window with client id, if any.
func find(list []x11.Window, id xproto.Window) (x11.Window, bool) {
	i := slices.IndexFunc(list, func(w x11.Window) bool { return w.ID == uint32(id) })
	if i < 0 {
		return x11.Window{}, false
	}
	return list[i], true
}

// listed returns a condition for awaitWindows: the window with client id
// is listed as want.
func listed(id xproto.Window, want x11.Window) func([]x11.Window) bool {
	want.ID = uint32(id)
	return func(list []x11.Window) bool {
		got, ok := find(list, id)
		return ok && got == want
	}
}

// absent returns a condition for awaitWindows: no window with client id is
// listed.
func absent(id xproto.Window) func([]x11.Window) bool {
	return func(list []x11.Window) bool {
		_, ok := find(list, id)
		return !ok
	}
}

// desk is a test's own connection to the X server, playing applications
// and a window manager. Every request is checked, so each call returns
// once the server has done it.
type desk struct {
	t    testing.TB
	c    *xgb.Conn
	root xproto.Window
}

func openDesk(t testing.TB, display string) *desk {
	t.Helper()
	c, err := xgb.NewConnDisplay(display)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return &desk{t, c, xproto.Setup(c).DefaultScreen(c).Root}
}

// winOpts say how desk.create makes a window.
type winOpts struct {
	parent    xproto.Window // 0: the root
	border    int
	override  bool // override-redirect
	inputOnly bool
	instance  string // WM_CLASS, set when either is not empty
	class     string
}

// create creates an unmapped window at r (relative to its parent).
func (d *desk) create(r screen.Rect, o winOpts) xproto.Window {
	d.t.Helper()
	id, err := xproto.NewWindowId(d.c)
	if err != nil {
		d.t.Fatal(err)
	}
	parent := o.parent
	if parent == 0 {
		parent = d.root
	}
	class := uint16(xproto.WindowClassInputOutput)
	var mask uint32
	var values []uint32
	if !o.inputOnly {
		mask, values = xproto.CwBackPixel, []uint32{0x336699}
	} else {
		class = xproto.WindowClassInputOnly
	}
	if o.override {
		mask |= xproto.CwOverrideRedirect
		values = append(values, 1)
	}
	if err := xproto.CreateWindowChecked(d.c, 0, id, parent, int16(r.X), int16(r.Y), uint16(r.W), uint16(r.H),
		uint16(o.border), class, 0, mask, values).Check(); err != nil {
		d.t.Fatal(err)
	}
	if o.instance != "" || o.class != "" {
		d.setClass(id, o.instance, o.class)
	}
	return id
}

// setClass sets WM_CLASS on win.
func (d *desk) setClass(win xproto.Window, instance, class string) {
	d.t.Helper()
	v := instance + "\x00" + class + "\x00"
	if err := xproto.ChangePropertyChecked(d.c, xproto.PropModeReplace, win, xproto.AtomWmClass, xproto.AtomString, 8,
		uint32(len(v)), []byte(v)).Check(); err != nil {
		d.t.Fatal(err)
	}
}

func (d *desk) mapWindow(win xproto.Window) {
	d.t.Helper()
	if err := xproto.MapWindowChecked(d.c, win).Check(); err != nil {
		d.t.Fatal(err)
	}
}

func (d *desk) unmap(win xproto.Window) {
	d.t.Helper()
	if err := xproto.UnmapWindowChecked(d.c, win).Check(); err != nil {
		d.t.Fatal(err)
	}
}

func (d *desk) destroy(win xproto.Window) {
	d.t.Helper()
	if err := xproto.DestroyWindowChecked(d.c, win).Check(); err != nil {
		d.t.Fatal(err)
	}
}

func (d *desk) raise(win xproto.Window) {
	d.t.Helper()
	if err := xproto.ConfigureWindowChecked(d.c, win, xproto.ConfigWindowStackMode,
		[]uint32{xproto.StackModeAbove}).Check(); err != nil {
		d.t.Fatal(err)
	}
}

// configure moves and resizes win.
func (d *desk) configure(win xproto.Window, x, y, width, height int) {
	d.t.Helper()
	if err := xproto.ConfigureWindowChecked(d.c, win,
		xproto.ConfigWindowX|xproto.ConfigWindowY|xproto.ConfigWindowWidth|xproto.ConfigWindowHeight,
		[]uint32{uint32(int32(x)), uint32(int32(y)), uint32(width), uint32(height)}).Check(); err != nil {
		d.t.Fatal(err)
	}
}

// restack puts win right above sibling, or at the bottom if sibling is 0.
func (d *desk) restack(win, sibling xproto.Window) {
	d.t.Helper()
	mask, values := uint16(xproto.ConfigWindowStackMode), []uint32{xproto.StackModeBelow}
	if sibling != 0 {
		mask, values = xproto.ConfigWindowSibling|xproto.ConfigWindowStackMode, []uint32{uint32(sibling), xproto.StackModeAbove}
	}
	if err := xproto.ConfigureWindowChecked(d.c, win, mask, values).Check(); err != nil {
		d.t.Fatal(err)
	}
}

func (d *desk) reparent(win, parent xproto.Window, x, y int) {
	d.t.Helper()
	if err := xproto.ReparentWindowChecked(d.c, win, parent, int16(x), int16(y)).Check(); err != nil {
		d.t.Fatal(err)
	}
}

// frame makes a window manager's frame at r (border 2) holding client at
// 5, 20 through depth-1 empty windows (1: the frame is the client's
// parent), and maps them all. It returns the frame.
func (d *desk) frame(client xproto.Window, r screen.Rect, depth int) xproto.Window {
	d.t.Helper()
	frame := d.create(r, winOpts{border: 2})
	parent := frame
	for i := 1; i < depth; i++ {
		parent = d.create(screen.Rect{W: r.W, H: r.H}, winOpts{parent: parent})
		d.mapWindow(parent)
	}
	d.reparent(client, parent, 5, 20)
	d.mapWindow(client)
	d.mapWindow(frame)
	return frame
}

// startXterm starts xterm on display with args added, killed when the
// test ends.
func startXterm(t testing.TB, display string, args ...string) {
	t.Helper()
	path, err := exec.LookPath("xterm")
	if err != nil {
		t.Fatal("xterm is not installed: run `make test`, which installs it")
	}
	cmd := exec.Command(path, append(append([]string{"-display", display}, args...), "-e", "cat")...)
	out := &logBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 5 * time.Second // for output pipes a child of xterm might keep open
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("xterm %v: %s", args, out)
		}
	})
}

// xdotool runs xdotool on display.
func xdotool(t testing.TB, display string, args ...string) {
	t.Helper()
	cmd := exec.Command("xdotool", args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("xdotool %v: %v: %s", args, err, out)
	}
}

// hasClass returns a condition for awaitWindows: a window of class is
// listed.
func hasClass(class string) func([]x11.Window) bool {
	return func(list []x11.Window) bool {
		return slices.ContainsFunc(list, func(w x11.Window) bool { return w.Class == class })
	}
}

func classOf(list []x11.Window, class string) x11.Window {
	i := slices.IndexFunc(list, func(w x11.Window) bool { return w.Class == class })
	if i < 0 {
		return x11.Window{}
	}
	return list[i]
}

// TestWindowWatcherXterm follows a real application's window: it appears
// with its class, moves, goes when unmapped, comes back, goes when the
// application is killed.
func TestWindowWatcherXterm(t *testing.T) {
	display, _ := x11.StartXvfb(t, 800, 600, 24)
	w, _ := watchWindows(t, display)
	if got := w.Windows(); len(got) != 0 {
		t.Fatalf("an empty screen lists %+v", got)
	}

	startXterm(t, display, "-name", "pin", "-class", "Pinentry", "-geometry", "40x10+50+60")
	startXterm(t, display, "-geometry", "20x5+400+300")
	list := awaitWindows(t, w, "xterms listed", func(list []x11.Window) bool {
		return hasClass("Pinentry")(list) && hasClass("XTerm")(list)
	})
	if len(list) != 2 {
		t.Errorf("listed %+v, want two xterms", list)
	}
	pin := classOf(list, "Pinentry")
	if pin.Instance != "pin" {
		t.Errorf("instance %q, want pin", pin.Instance)
	}
	// -geometry places the outer corner; 40×10 cells of a font at least 5×7.
	if pin.X != 50 || pin.Y != 60 || pin.W < 200 || pin.H < 70 {
		t.Errorf("rect %+v, want at 50,60 and at least 200×70", pin.Rect())
	}
	if x := classOf(list, "XTerm"); x.Instance != "xterm" || x.X != 400 || x.Y != 300 {
		t.Errorf("the other xterm: %+v", x)
	}
	// The rect is the window's geometry as the server tells it, border
	// included.
	d := openDesk(t, display)
	g, err := xproto.GetGeometry(d.c, xproto.Drawable(pin.ID)).Reply()
	if err != nil {
		t.Fatal(err)
	}
	bw := 2 * int(g.BorderWidth)
	if want := (screen.Rect{X: int(g.X), Y: int(g.Y), W: int(g.Width) + bw, H: int(g.Height) + bw}); pin.Rect() != want {
		t.Errorf("rect %+v, want %+v", pin.Rect(), want)
	}
	if !x11.MatchClass(pin, x11.DefaultSecurePrompts) {
		t.Errorf("%+v is not a secure prompt", pin)
	}
	id := strconv.FormatUint(uint64(pin.ID), 10)

	xdotool(t, display, "windowmove", id, "200", "150")
	moved := pin
	moved.X, moved.Y = 200, 150
	awaitWindows(t, w, "moved", listed(xproto.Window(pin.ID), moved))

	xdotool(t, display, "windowunmap", "--sync", id)
	awaitWindows(t, w, "unmapped", absent(xproto.Window(pin.ID)))
	xdotool(t, display, "windowmap", "--sync", id)
	awaitWindows(t, w, "mapped again", listed(xproto.Window(pin.ID), moved))

	xdotool(t, display, "windowkill", id)
	list = awaitWindows(t, w, "killed", absent(xproto.Window(pin.ID)))
	if len(list) != 1 || list[0].Class != "XTerm" {
		t.Errorf("after the kill: %+v, want the other xterm", list)
	}
}

// TestWindowWatcherChanged: Changed fires after a change, and the list
// has it by then.
func TestWindowWatcherChanged(t *testing.T) {
	display, _ := x11.StartXvfb(t, 320, 200, 24)
	w, _ := watchWindows(t, display)
	d := openDesk(t, display)
	win := d.create(screen.Rect{X: 1, Y: 2, W: 3, H: 4}, winOpts{instance: "a", class: "A"})
	d.mapWindow(win)
	select {
	case <-w.Changed():
	case <-time.After(10 * time.Second):
		t.Fatal("Changed did not fire within 10s of a map")
	}
	want := []x11.Window{{ID: uint32(win), Instance: "a", Class: "A", X: 1, Y: 2, W: 3, H: 4}}
	if got := w.Windows(); !slices.Equal(got, want) {
		t.Errorf("after Changed: %+v, want %+v", got, want)
	}
}

// TestWindowWatcherFrames plays a reparenting window manager: the client
// is listed with its frame's rectangle, once, found down to three levels
// below the frame.
func TestWindowWatcherFrames(t *testing.T) {
	display, _ := x11.StartXvfb(t, 800, 600, 24)
	w, _ := watchWindows(t, display)
	d := openDesk(t, display)

	// A client mapped before the window manager frames it.
	client := d.create(screen.Rect{X: 10, Y: 10, W: 200, H: 100}, winOpts{instance: "keepassxc", class: "KeePassXC"})
	d.mapWindow(client)
	awaitWindows(t, w, "the unframed client", listed(client,
		x11.Window{Instance: "keepassxc", Class: "KeePassXC", X: 10, Y: 10, W: 200, H: 100}))
	// The window manager unmaps it, reparents it into a frame, maps both.
	d.unmap(client)
	frame := d.frame(client, screen.Rect{X: 100, Y: 50, W: 210, H: 125}, 1)
	want := x11.Window{Instance: "keepassxc", Class: "KeePassXC", X: 100, Y: 50, W: 214, H: 129}
	list := awaitWindows(t, w, "the framed client", listed(client, want))
	if len(list) != 1 {
		t.Errorf("listed %+v, want only the client", list)
	}
	// The window manager moves and resizes the frame.
	d.configure(frame, 120, 70, 300, 200)
	want.X, want.Y, want.W, want.H = 120, 70, 304, 204
	awaitWindows(t, w, "the frame moved", listed(client, want))
	// Frames of depth 2 (KWin) and 3 are searched; 4 is too deep.
	for _, depth := range []int{2, 3, 4} {
		c := d.create(screen.Rect{W: 50, H: 50}, winOpts{instance: fmt.Sprint("depth", depth), class: "Deep"})
		f := d.frame(c, screen.Rect{X: 100 * depth, Y: 300, W: 60, H: 80}, depth)
		if depth <= 3 {
			awaitWindows(t, w, fmt.Sprint("client at depth ", depth), listed(c,
				x11.Window{Instance: fmt.Sprint("depth", depth), Class: "Deep", X: 100 * depth, Y: 300, W: 64, H: 84}))
			continue
		}
		// The window manager raises the frame of depth 4 over everything;
		// once the new order shows, the deep client has been looked for.
		d.raise(frame)
		list := awaitWindows(t, w, "restacked", func(list []x11.Window) bool {
			return len(list) > 0 && list[len(list)-1].ID == uint32(client)
		})
		if _, ok := find(list, c); ok {
			t.Errorf("a client 4 levels below its frame was listed: %+v", list)
		}
		d.destroy(f)
	}

	// Closing the frame's window takes the client with it.
	d.destroy(frame)
	awaitWindows(t, w, "frame destroyed", absent(client))
}

// TestWindowWatcherStacking checks the order, bottom to top, and a
// restack.
func TestWindowWatcherStacking(t *testing.T) {
	display, _ := x11.StartXvfb(t, 800, 600, 24)
	w, _ := watchWindows(t, display)
	d := openDesk(t, display)
	var ids []xproto.Window
	for i, name := range []string{"a", "b", "c"} {
		id := d.create(screen.Rect{X: 10 * i, Y: 10 * i, W: 100, H: 100}, winOpts{override: true, instance: name, class: name})
		d.mapWindow(id)
		ids = append(ids, id)
	}
	order := func(want ...xproto.Window) func([]x11.Window) bool {
		return func(list []x11.Window) bool {
			return slices.EqualFunc(list, want, func(w x11.Window, id xproto.Window) bool { return w.ID == uint32(id) })
		}
	}
	awaitWindows(t, w, "a, b, c", order(ids[0], ids[1], ids[2]))
	d.raise(ids[0])
	awaitWindows(t, w, "b, c, a", order(ids[1], ids[2], ids[0]))
	// Moves keep the order.
	d.configure(ids[1], 300, 300, 50, 50)
	list := awaitWindows(t, w, "b moved", func(list []x11.Window) bool {
		got, ok := find(list, ids[1])
		return ok && got.X == 300 && got.W == 50
	})
	if !order(ids[1], ids[2], ids[0])(list) {
		t.Errorf("after a move: %+v", list)
	}

	// A window that is not listed (no WM_CLASS) moves in the stack, then a
	// listed one is put right above it: the listed order changes though
	// the second window lands right above the same sibling as before.
	for _, id := range ids[1:] {
		d.destroy(id)
	}
	a := ids[0]
	s := d.create(screen.Rect{W: 10, H: 10}, winOpts{override: true})
	d.mapWindow(s)
	l := d.create(screen.Rect{W: 10, H: 10}, winOpts{override: true, instance: "l", class: "l"})
	d.mapWindow(l) // a, s, l
	awaitWindows(t, w, "a, l", order(a, l))
	d.restack(s, 0) // s, a, l
	d.restack(l, s) // s, l, a
	awaitWindows(t, w, "l, a", order(l, a))
}

// TestWindowWatcherWhichWindows: override-redirect windows count when they
// have WM_CLASS; windows without it, InputOnly and unmapped ones do not; a
// class set after mapping is noticed.
func TestWindowWatcherWhichWindows(t *testing.T) {
	display, _ := x11.StartXvfb(t, 800, 600, 24)
	w, _ := watchWindows(t, display)
	d := openDesk(t, display)

	menu := d.create(screen.Rect{X: 5, Y: 6, W: 70, H: 80}, winOpts{override: true, border: 1, instance: "menu", class: "App"})
	bare := d.create(screen.Rect{X: 5, Y: 6, W: 70, H: 80}, winOpts{})
	input := d.create(screen.Rect{X: 5, Y: 6, W: 70, H: 80}, winOpts{inputOnly: true, instance: "input", class: "App"})
	d.create(screen.Rect{X: 5, Y: 6, W: 70, H: 80}, winOpts{instance: "unmapped", class: "App"}) // never mapped
	late := d.create(screen.Rect{X: 300, Y: 200, W: 40, H: 30}, winOpts{})
	lateClient := d.create(screen.Rect{W: 20, H: 20}, winOpts{})
	lateFrame := d.frame(lateClient, screen.Rect{X: 400, Y: 200, W: 40, H: 50}, 2)
	for _, id := range []xproto.Window{bare, input, late, menu} { // menu last: once it shows, the others were seen
		d.mapWindow(id)
	}
	list := awaitWindows(t, w, "the menu", listed(menu, x11.Window{Instance: "menu", Class: "App", X: 5, Y: 6, W: 72, H: 82}))
	if len(list) != 1 {
		t.Errorf("listed %+v, want only the menu", list)
	}

	// WM_CLASS set after mapping, on a top-level window and on a client
	// inside a frame.
	d.setClass(late, "late", "Late")
	awaitWindows(t, w, "late class", listed(late, x11.Window{Instance: "late", Class: "Late", X: 300, Y: 200, W: 40, H: 30}))
	d.setClass(lateClient, "", "Pinentry")
	awaitWindows(t, w, "late class in a frame", listed(lateClient, x11.Window{Class: "Pinentry", X: 400, Y: 200, W: 44, H: 54}))
	d.destroy(lateFrame)
	awaitWindows(t, w, "frame destroyed", absent(lateClient))
}

// TestWindowWatcherNoticeDelay logs how long after a window is mapped
// (and unmapped) the watcher's list shows it; a figure for the doc, not a
// check.
func TestWindowWatcherNoticeDelay(t *testing.T) {
	display, _ := x11.StartXvfb(t, 800, 600, 24)
	w, _ := watchWindows(t, display)
	d := openDesk(t, display)
	for i := range 20 { // a desktop's worth of other windows
		d.mapWindow(d.create(screen.Rect{X: 30 * i, Y: 20 * i, W: 300, H: 200}, winOpts{instance: "xterm", class: "XTerm"}))
	}
	win := d.create(screen.Rect{X: 100, Y: 100, W: 300, H: 200}, winOpts{instance: "pinentry", class: "Pinentry"})
	want := x11.Window{Instance: "pinentry", Class: "Pinentry", X: 100, Y: 100, W: 300, H: 200}
	var mapped, unmapped []time.Duration
	for range 30 {
		start := time.Now()
		xproto.MapWindow(d.c, win)
		awaitWindows(t, w, "mapped", listed(win, want))
		mapped = append(mapped, time.Since(start))
		start = time.Now()
		xproto.UnmapWindow(d.c, win)
		awaitWindows(t, w, "unmapped", absent(win))
		unmapped = append(unmapped, time.Since(start))
	}
	stats := func(ds []time.Duration) string {
		slices.Sort(ds)
		return fmt.Sprintf("min %v, median %v, max %v", ds[0], ds[len(ds)/2], ds[len(ds)-1])
	}
	t.Logf("from MapWindow sent to listed (20 other windows, %d runs): %s", len(mapped), stats(mapped))
	t.Logf("from UnmapWindow sent to gone: %s", stats(unmapped))
}

// TestWindowWatcherBeforeSource opens a watcher before the first Source
// of the process (when run alone: go test -race -run ThisTest) while a
// window keeps moving: the watcher's reader decodes its events while the
// Source opens, and must not race with the extensions' initialisation.
func TestWindowWatcherBeforeSource(t *testing.T) {
	display, _ := x11.StartXvfb(t, 320, 200, 24)
	w, _ := watchWindows(t, display)
	d := openDesk(t, display)
	win := d.create(screen.Rect{W: 50, H: 50}, winOpts{instance: "a", class: "A"})
	d.mapWindow(win)
	awaitWindows(t, w, "listed", listed(win, x11.Window{Instance: "a", Class: "A", W: 50, H: 50}))

	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			xproto.ConfigureWindow(d.c, win, xproto.ConfigWindowX, []uint32{uint32(i % 100)})
		}
	}()
	open(t, display, x11.Options{})
	close(stop)
	<-stopped
	d.configure(win, 200, 100, 50, 50)
	awaitWindows(t, w, "moved", listed(win, x11.Window{Instance: "a", Class: "A", X: 200, Y: 100, W: 50, H: 50}))
}

// TestWindowWatcherClose: Close stops the goroutines, closes Changed, and
// may be called again.
func TestWindowWatcherClose(t *testing.T) {
	display, _ := x11.StartXvfb(t, 320, 200, 24)
	before := goleak.IgnoreCurrent()
	w, err := x11.WatchWindows(display, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Err(); err != nil {
		t.Errorf("Err while watching: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, ok := <-w.Changed(); ok {
		t.Error("Changed not closed by Close")
	}
	if err := w.Err(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Err after Close: %v, want one wrapping net.ErrClosed", err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	goleak.VerifyNone(t, before)
}

// TestWindowWatcherLost: when the X server goes away, Changed is closed
// and Err says the connection was lost.
func TestWindowWatcherLost(t *testing.T) {
	display, stop := x11.StartXvfb(t, 320, 200, 24)
	w, _ := watchWindows(t, display)
	stop()
	select {
	case _, ok := <-w.Changed():
		if ok {
			t.Fatal("Changed fired with no window")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Changed not closed within 10s of the server's end")
	}
	if err := w.Err(); !errors.Is(err, x11.ErrLost) {
		t.Errorf("Err: %v, want one wrapping ErrLost", err)
	}
}

func TestWatchWindowsErrors(t *testing.T) {
	if _, err := x11.WatchWindows("", nil); err == nil {
		t.Error("no error for no display")
	}
	if _, err := x11.WatchWindows(":199", nil); err == nil {
		t.Error("no error for a display without a server")
	}
}

func TestMatchClass(t *testing.T) {
	tests := []struct {
		name     string
		instance string
		class    string
		patterns []string
		want     bool
	}{
		{"exact instance", "keepassxc", "KeePassXC", []string{"keepassxc"}, true},
		{"class ignoring case", "main", "KeePassXC", []string{"keepassxc"}, true},
		{"pattern ignoring case", "pinentry-gtk-2", "Pinentry-gtk-2", []string{"*PINENTRY*"}, true},
		{"glob", "pinentry-qt", "pinentry-qt", []string{"*pinentry*"}, true},
		{"no match", "xterm", "XTerm", []string{"keepassxc", "*pinentry*"}, false},
		{"no patterns", "xterm", "XTerm", nil, false},
		{"second pattern", "thunderbird", "thunderbird", []string{"keepassxc", "thunder*"}, true},
		{"question mark", "gksu", "Gksu", []string{"gks?"}, true},
		{"character class", "kdesu", "kdesu", []string{"kdes[a-z]"}, true},
		{"anchored", "xkeepassxc", "X", []string{"keepassxc"}, false},
		{"malformed pattern", "a[", "a[", []string{"a["}, false},
		{"empty class", "", "", []string{"keepassxc"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := x11.Window{Instance: tt.instance, Class: tt.class}
			if got := x11.MatchClass(w, tt.patterns); got != tt.want {
				t.Errorf("MatchClass(%q/%q, %q) = %v, want %v", tt.instance, tt.class, tt.patterns, got, tt.want)
			}
		})
	}
}

func TestDefaultSecurePrompts(t *testing.T) {
	if err := x11.CheckClassPatterns(x11.DefaultSecurePrompts); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		instance, class string
		want            bool
	}{
		{"polkit-gnome-authentication-agent-1", "Polkit-gnome-authentication-agent-1", true},
		{"polkit-kde-authentication-agent-1", "polkit-kde-authentication-agent-1", true},
		{"polkit-mate-authentication-agent-1", "Polkit-mate-authentication-agent-1", true},
		{"lxpolkit", "Lxpolkit", true},
		{"xfce-polkit", "Xfce-polkit", true},
		{"lxqt-policykit-agent", "lxqt-policykit-agent", true},
		{"budgie-polkit-dialog", "Budgie-polkit-dialog", true},
		{"pinentry", "Pinentry", true},
		{"pinentry-gtk-2", "Pinentry-gtk-2", true},
		{"pinentry-qt", "pinentry-qt", true},
		{"gcr-prompter", "Gcr-prompter", true},
		{"ssh-askpass", "Ssh-askpass", true},
		{"ssh-askpass", "SshAskpass", true},
		{"x11-ssh-askpass", "X11-ssh-askpass", true},
		{"ksshaskpass", "ksshaskpass", true},
		{"lxqt-openssh-askpass", "lxqt-openssh-askpass", true},
		{"gksudo", "Gksu", true},
		{"kdesu", "kdesu", true},
		{"xterm", "XTerm", false},
		{"keepassxc", "KeePassXC", false},
		{"zenity", "Zenity", false},
		{"kdialog", "kdialog", false},
		{"Navigator", "firefox", false},
		{"gnome-terminal-server", "Gnome-terminal", false},
	}
	for _, tt := range tests {
		w := x11.Window{Instance: tt.instance, Class: tt.class}
		if got := x11.MatchClass(w, x11.DefaultSecurePrompts); got != tt.want {
			t.Errorf("%s/%s: secure prompt %v, want %v", tt.instance, tt.class, got, tt.want)
		}
	}
}

func TestCheckClassPatterns(t *testing.T) {
	if err := x11.CheckClassPatterns([]string{"keepassxc", "*pinentry*", "kdes[a-z]"}); err != nil {
		t.Errorf("valid patterns: %v", err)
	}
	if err := x11.CheckClassPatterns(nil); err != nil {
		t.Errorf("no patterns: %v", err)
	}
	err := x11.CheckClassPatterns([]string{"keepassxc", "pass[", "x"})
	if !errors.Is(err, path.ErrBadPattern) {
		t.Errorf("malformed pattern: %v, want one wrapping path.ErrBadPattern", err)
	}
}

// updateRE finds how the watcher updated its list, and how long that
// took, in its log.
var updateRE = regexp.MustCompile(`windows changed.* by=(\w+) took=(\S+)`)

// BenchmarkWindowWatcher measures a change on screen until the watcher's
// list shows it, and reports the mean time the watcher took to update its
// list, as its log says ("scan-µs" for full rescans, "moves-µs" for moves
// applied from the events): a window moved (no rescan) and two windows
// restacked (a full rescan each), with no other window, with 20 xterms
// (top-level windows with WM_CLASS), and with 20 clients in frames two
// levels deep (as KWin nests them).
func BenchmarkWindowWatcher(b *testing.B) {
	for _, scene := range []string{"alone", "xterms=20", "framed=20"} {
		b.Run(scene, func(b *testing.B) {
			display, _ := x11.StartXvfb(b, 1280, 800, 24)
			w, logs := watchWindows(b, display)
			d := openDesk(b, display)
			n := 2
			switch scene {
			case "xterms=20":
				for i := range 20 {
					startXterm(b, display, "-geometry", fmt.Sprintf("80x24+%d+%d", 30*i, 20*i))
				}
				n += 20
			case "framed=20":
				for i := range 20 {
					c := d.create(screen.Rect{W: 500, H: 300}, winOpts{instance: "app", class: "App"})
					d.frame(c, screen.Rect{X: 30 * i, Y: 20 * i, W: 510, H: 325}, 2)
				}
				n += 20
			}
			var wins [2]xproto.Window
			for i := range wins {
				wins[i] = d.create(screen.Rect{W: 100, H: 100}, winOpts{override: true, instance: "bench", class: "Bench"})
				d.mapWindow(wins[i])
			}
			awaitWindows(b, w, "all listed", func(list []x11.Window) bool { return len(list) == n })

			b.Run("move", func(b *testing.B) {
				skip := len(logs.String())
				for i := range b.N {
					x := 1 + i%2
					xproto.ConfigureWindow(d.c, wins[0], xproto.ConfigWindowX, []uint32{uint32(x)})
					awaitWindows(b, w, "moved", func(list []x11.Window) bool {
						got, ok := find(list, wins[0])
						return ok && got.X == x
					})
				}
				b.StopTimer()
				reportUpdates(b, logs.String()[skip:])
			})
			b.Run("restack", func(b *testing.B) {
				skip := len(logs.String())
				for i := range b.N {
					top := wins[i%2]
					xproto.ConfigureWindow(d.c, top, xproto.ConfigWindowStackMode, []uint32{xproto.StackModeAbove})
					awaitWindows(b, w, "raised", func(list []x11.Window) bool {
						return len(list) > 0 && list[len(list)-1].ID == uint32(top)
					})
				}
				b.StopTimer()
				reportUpdates(b, logs.String()[skip:])
			})
		})
	}
}

// reportUpdates reports the mean duration of each kind of update in the
// watcher's log.
func reportUpdates(b *testing.B, log string) {
	b.Helper()
	total := make(map[string]time.Duration)
	count := make(map[string]int)
	for _, m := range updateRE.FindAllStringSubmatch(log, -1) {
		d, err := time.ParseDuration(m[2])
		if err != nil {
			b.Fatal(err)
		}
		total[m[1]] += d
		count[m[1]]++
	}
	for by, d := range total {
		b.ReportMetric(float64(d)/float64(count[by])/1e3, by+"-µs")
	}
}

// TestWindowWatcherSync: after Sync, a window the server has mapped is in
// the list at once, with no waiting on Changed; the host's view of the
// watcher syncs on every call.
func TestWindowWatcherSync(t *testing.T) {
	display, _ := x11.StartXvfb(t, 800, 600, 24)
	w, _ := watchWindows(t, display)
	d := openDesk(t, display)
	win := d.create(screen.Rect{X: 40, Y: 50, W: 200, H: 100}, winOpts{instance: "pinentry", class: "Pinentry"})
	hw := w.ForHost()
	ctx := context.Background()
	for i := range 30 {
		xproto.MapWindow(d.c, win)
		if _, err := xproto.GetInputFocus(d.c).Reply(); err != nil { // the server has mapped it
			t.Fatal(err)
		}
		var list []host.Window
		var err error
		if i%2 == 0 {
			if err = w.Sync(ctx); err == nil {
				for _, x := range w.Windows() {
					list = append(list, host.Window{Instance: x.Instance, Class: x.Class, Rect: x.Rect()})
				}
			}
		} else {
			list, err = hw.Windows(ctx)
		}
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(list, func(x host.Window) bool { return x.Class == "Pinentry" }) {
			t.Fatalf("round %d: a mapped window is missing after Sync: %+v", i, list)
		}
		xproto.UnmapWindow(d.c, win)
		if _, err := xproto.GetInputFocus(d.c).Reply(); err != nil {
			t.Fatal(err)
		}
		if err := w.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(w.Windows(), func(x x11.Window) bool { return x.Class == "Pinentry" }) {
			t.Fatalf("round %d: an unmapped window is still listed after Sync", i)
		}
	}
	w.Close()
	if _, err := hw.Windows(ctx); err == nil {
		t.Error("the host's view of a closed watcher gave a list: it must fail closed")
	}
}
