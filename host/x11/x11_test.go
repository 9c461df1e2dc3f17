package x11_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
	"go.uber.org/goleak"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/host/x11"
	"github.com/gethelp/gethelp/session/screen"
)

func TestMain(m *testing.M) {
	// xgb logs to stderr, with no way to pass a logger per connection:
	// "Could not get authority info" for every connection to Xvfb (which
	// needs none), "read error" when a test stops a server. Set here,
	// before any connection exists, it races with nothing.
	xgb.Logger = log.New(io.Discard, "", 0)
	goleak.VerifyTestMain(m)
}

const screenW, screenH = 1280, 800

// logBuffer collects a Source's log for checks.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// open opens a Source on display, closed when the test ends. Tests open
// their Sources before their drawing connection (see initExtensions).
func open(t *testing.T, display string, opts x11.Options) (*x11.Source, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	opts.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	src, err := x11.Open(display, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src, logs
}

// painter is a test's own connection to the X server, to draw with.
type painter struct {
	t    *testing.T
	c    *xgb.Conn
	root xproto.Window
}

func dial(t *testing.T, display string) *painter {
	t.Helper()
	c, err := xgb.NewConnDisplay(display)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return &painter{t, c, xproto.Setup(c).DefaultScreen(c).Root}
}

// fill paints rects of d in colour (0xRRGGBB) and waits until the server
// has done it.
func (p *painter) fill(d xproto.Drawable, colour uint32, rects ...xproto.Rectangle) {
	p.t.Helper()
	gc, err := xproto.NewGcontextId(p.c)
	if err != nil {
		p.t.Fatal(err)
	}
	if err := xproto.CreateGCChecked(p.c, gc, d, xproto.GcForeground|xproto.GcSubwindowMode,
		[]uint32{colour, xproto.SubwindowModeIncludeInferiors}).Check(); err != nil {
		p.t.Fatal(err)
	}
	if err := xproto.PolyFillRectangleChecked(p.c, d, gc, rects).Check(); err != nil {
		p.t.Fatal(err)
	}
	xproto.FreeGC(p.c, gc)
	p.sync()
}

// window creates and maps a top-level window (override-redirect, so no
// window manager would touch it) with a background of colour.
func (p *painter) window(r screen.Rect, colour uint32, extra ...uint32) xproto.Window {
	p.t.Helper()
	w, err := xproto.NewWindowId(p.c)
	if err != nil {
		p.t.Fatal(err)
	}
	mask := uint32(xproto.CwBackPixel | xproto.CwOverrideRedirect)
	values := []uint32{colour, 1}
	if len(extra) > 0 {
		mask |= xproto.CwCursor
		values = append(values, extra[0])
	}
	if err := xproto.CreateWindowChecked(p.c, 0, w, p.root, int16(r.X), int16(r.Y), uint16(r.W), uint16(r.H), 0,
		xproto.WindowClassInputOutput, 0, mask, values).Check(); err != nil {
		p.t.Fatal(err)
	}
	if err := xproto.MapWindowChecked(p.c, w).Check(); err != nil {
		p.t.Fatal(err)
	}
	p.sync()
	return w
}

func (p *painter) sync() {
	if _, err := xproto.GetInputFocus(p.c).Reply(); err != nil {
		p.t.Fatal(err)
	}
}

func rect(x, y, w, h int) xproto.Rectangle {
	return xproto.Rectangle{X: int16(x), Y: int16(y), Width: uint16(w), Height: uint16(h)}
}

// rgb returns the pixel at x, y as 0xRRGGBB.
func rgb(img *screen.Image, x, y int) uint32 {
	p := img.Pix[y*img.Stride+4*x:]
	return uint32(p[2])<<16 | uint32(p[1])<<8 | uint32(p[0])
}

// checkColour fails unless every pixel of r in img is colour.
func checkColour(t *testing.T, img *screen.Image, r screen.Rect, colour uint32) {
	t.Helper()
	for y := r.Y; y < r.Y+r.H; y++ {
		for x := r.X; x < r.X+r.W; x++ {
			if got := rgb(img, x, y); got != colour {
				t.Fatalf("pixel %d,%d is %06x, want %06x", x, y, got, colour)
			}
		}
	}
}

// covered reports whether r lies within the union of rects.
func covered(r screen.Rect, rects []screen.Rect) bool {
	for y := r.Y; y < r.Y+r.H; y++ {
		for x := r.X; x < r.X+r.W; x++ {
			in := false
			for _, d := range rects {
				if x >= d.X && x < d.X+d.W && y >= d.Y && y < d.Y+d.H {
					in = true
					break
				}
			}
			if !in {
				return false
			}
		}
	}
	return true
}

func next(t *testing.T, src *x11.Source, d time.Duration) host.Capture {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	c, err := src.Next(ctx)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return c
}

func copyImage(img *screen.Image) *screen.Image {
	return &screen.Image{W: img.W, H: img.H, Stride: img.Stride, Pix: bytes.Clone(img.Pix)}
}

func TestFirstNextIsTheWholeScreen(t *testing.T) {
	display, _ := x11.StartXvfb(t, screenW, screenH, 24)
	src, logs := open(t, display, x11.Options{})
	p := dial(t, display)
	p.window(screen.Rect{X: 100, Y: 100, W: 200, H: 150}, 0x336699)
	p.fill(xproto.Drawable(p.root), 0xff8000, rect(700, 500, 30, 20))

	c := next(t, src, 5*time.Second)
	if c.Image.W != screenW || c.Image.H != screenH {
		t.Fatalf("image %dx%d, want %dx%d", c.Image.W, c.Image.H, screenW, screenH)
	}
	if len(c.Dirty) != 1 || c.Dirty[0] != c.Image.Bounds() {
		t.Errorf("Dirty = %v, want the whole screen", c.Dirty)
	}
	checkColour(t, c.Image, screen.Rect{X: 100, Y: 100, W: 200, H: 150}, 0x336699)
	checkColour(t, c.Image, screen.Rect{X: 700, Y: 500, W: 30, H: 20}, 0xff8000)
	if !strings.Contains(logs.String(), "capturing with MIT-SHM") {
		t.Errorf("log does not say MIT-SHM is used:\n%s", logs)
	}
}

func TestNextReturnsTheDamage(t *testing.T) {
	display, _ := x11.StartXvfb(t, screenW, screenH, 24)
	src, _ := open(t, display, x11.Options{})
	p := dial(t, display)
	win := p.window(screen.Rect{X: 600, Y: 50, W: 300, H: 200}, 0x000000)
	next(t, src, 5*time.Second)

	// Drawing inside a window is damage on the root too.
	p.fill(xproto.Drawable(win), 0xff00ff, rect(10, 20, 30, 40))
	c := next(t, src, 5*time.Second)
	if r := (screen.Rect{X: 610, Y: 70, W: 30, H: 40}); !covered(r, c.Dirty) {
		t.Errorf("drawing %v in a window: Dirty %v does not cover it", r, c.Dirty)
	} else {
		checkColour(t, c.Image, r, 0xff00ff)
	}

	tests := []struct {
		name   string
		colour uint32
		rects  []screen.Rect
	}{
		{"one rect", 0x00ff00, []screen.Rect{{X: 400, Y: 300, W: 50, H: 40}}},
		{"two far apart", 0x0000ff, []screen.Rect{{X: 10, Y: 10, W: 5, H: 5}, {X: 1200, Y: 700, W: 60, H: 80}}},
		{"at the edge", 0xabcdef, []screen.Rect{{X: screenW - 7, Y: screenH - 3, W: 7, H: 3}}},
		{"many small", 0x123456, manyRects()},
		{"most of the screen", 0xfedcba, []screen.Rect{{X: 0, Y: 0, W: screenW, H: screenH - 100}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// One request a rect: the server damages the bounding box of
			// each request's rects.
			for _, r := range tt.rects {
				p.fill(xproto.Drawable(p.root), tt.colour, rect(r.X, r.Y, r.W, r.H))
			}
			c := next(t, src, 5*time.Second)
			area := 0
			for _, d := range c.Dirty {
				if d.Intersect(c.Image.Bounds()) != d {
					t.Errorf("dirty rect %v outside the screen", d)
				}
				area += d.Area()
			}
			want := 0
			for _, r := range tt.rects {
				if !covered(r, c.Dirty) {
					t.Errorf("drawn rect %v not covered by Dirty %v", r, c.Dirty)
				}
				checkColour(t, c.Image, r, tt.colour)
				want += r.Area()
			}
			if area > 4*want+64*64*len(tt.rects) {
				t.Errorf("Dirty covers %d pixels for %d drawn: %v", area, want, c.Dirty)
			}
		})
	}
}

// manyRects returns 200 small squares in a grid: more than the source
// passes on one by one.
func manyRects() []screen.Rect {
	var rs []screen.Rect
	for i := range 200 {
		rs = append(rs, screen.Rect{X: 20 + (i%20)*60, Y: 20 + (i/20)*70, W: 6, H: 6})
	}
	return rs
}

func TestIdleScreenBlocks(t *testing.T) {
	display, _ := x11.StartXvfb(t, screenW, screenH, 24)
	src, _ := open(t, display, x11.Options{})
	p := dial(t, display)
	p.window(screen.Rect{X: 10, Y: 10, W: 100, H: 100}, 0xffffff)
	next(t, src, 5*time.Second)
	for i := range 2 {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		start := time.Now()
		c, err := src.Next(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Next %d on an idle screen = %v (dirty %v), want context.DeadlineExceeded", i, err, c.Dirty)
		}
		if d := time.Since(start); d > 600*time.Millisecond {
			t.Errorf("Next returned %v after it was called, past its 300ms deadline", d)
		}
	}
	// Damage that came while nobody waited is not lost.
	p.fill(xproto.Drawable(p.root), 0x00ffff, rect(500, 500, 10, 10))
	c := next(t, src, 5*time.Second)
	checkColour(t, c.Image, screen.Rect{X: 500, Y: 500, W: 10, H: 10}, 0x00ffff)
}

// NextAfter holds a change back until its time, and what is drawn
// meanwhile goes into the same capture.
func TestNextAfter(t *testing.T) {
	display, _ := x11.StartXvfb(t, screenW, screenH, 24)
	src, _ := open(t, display, x11.Options{})
	p := dial(t, display)
	next(t, src, 5*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	type result struct {
		c   host.Capture
		at  time.Time
		err error
	}
	done := make(chan result, 1)
	notBefore := time.Now().Add(300 * time.Millisecond)
	go func() {
		c, err := src.NextAfter(ctx, notBefore)
		done <- result{c, time.Now(), err}
	}()
	p.fill(xproto.Drawable(p.root), 0xff0000, rect(100, 100, 20, 20))
	time.Sleep(100 * time.Millisecond)
	p.fill(xproto.Drawable(p.root), 0x00ff00, rect(400, 300, 20, 20))
	r := <-done
	if r.err != nil {
		t.Fatalf("NextAfter: %v", r.err)
	}
	if r.at.Before(notBefore) {
		t.Errorf("NextAfter returned %v before its time", notBefore.Sub(r.at))
	}
	checkColour(t, r.c.Image, screen.Rect{X: 100, Y: 100, W: 20, H: 20}, 0xff0000)
	checkColour(t, r.c.Image, screen.Rect{X: 400, Y: 300, W: 20, H: 20}, 0x00ff00)

	// A time passed already: at once, as Next.
	p.fill(xproto.Drawable(p.root), 0x0000ff, rect(10, 10, 5, 5))
	start := time.Now()
	c, err := src.NextAfter(ctx, start.Add(-time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 200*time.Millisecond {
		t.Errorf("NextAfter with a past time took %v", d)
	}
	checkColour(t, c.Image, screen.Rect{X: 10, Y: 10, W: 5, H: 5}, 0x0000ff)

	// Its wait ends with ctx, and the damage is kept for the next call.
	p.fill(xproto.Drawable(p.root), 0xffff00, rect(50, 50, 5, 5))
	short, cancelShort := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancelShort()
	if _, err := src.NextAfter(short, time.Now().Add(time.Hour)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("NextAfter past its context = %v, want context.DeadlineExceeded", err)
	}
	checkColour(t, next(t, src, 5*time.Second).Image, screen.Rect{X: 50, Y: 50, W: 5, H: 5}, 0xffff00)
}

func TestRefresh(t *testing.T) {
	display, _ := x11.StartXvfb(t, screenW, screenH, 24)
	src, _ := open(t, display, x11.Options{})
	first := copyImage(next(t, src, 5*time.Second).Image)
	go func() {
		time.Sleep(50 * time.Millisecond)
		src.Refresh() // while Next waits on an idle screen
	}()
	c := next(t, src, 5*time.Second)
	if len(c.Dirty) != 1 || c.Dirty[0] != c.Image.Bounds() || !c.Image.Equal(first) {
		t.Errorf("after Refresh: Dirty %v (want the whole screen), same pixels %v", c.Dirty, c.Image.Equal(first))
	}
	src.Refresh() // before Next
	if c := next(t, src, 5*time.Second); len(c.Dirty) != 1 || c.Dirty[0] != c.Image.Bounds() {
		t.Errorf("after Refresh: Dirty %v, want the whole screen", c.Dirty)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := src.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Next after the refreshes = %v, want context.DeadlineExceeded", err)
	}
}

func TestMoveHint(t *testing.T) {
	display, _ := x11.StartXvfb(t, screenW, screenH, 24)
	src, _ := open(t, display, x11.Options{})
	p := dial(t, display)
	from := screen.Rect{X: 100, Y: 120, W: 200, H: 150}
	w := p.window(from, 0x224466)
	p.fill(xproto.Drawable(w), 0xeeee00, rect(10, 10, 50, 20), rect(100, 80, 90, 60))
	prev := copyImage(next(t, src, 5*time.Second).Image)

	const dx, dy = 500, 300
	if err := xproto.ConfigureWindowChecked(p.c, w, xproto.ConfigWindowX|xproto.ConfigWindowY, []uint32{dx, dy}).Check(); err != nil {
		t.Fatal(err)
	}
	p.sync()
	c := next(t, src, 5*time.Second)
	want := screen.Move{Src: from, DstX: dx, DstY: dy}
	found := false
	for _, m := range c.Moves {
		found = found || m == want
	}
	if !found {
		t.Fatalf("Moves = %v, want %v", c.Moves, want)
	}
	if !prev.Sub(from).Equal(c.Image.Sub(screen.Rect{X: dx, Y: dy, W: from.W, H: from.H})) {
		t.Error("the window's pixels at its new place differ from those at the old")
	}
	if !covered(screen.Rect{X: dx, Y: dy, W: from.W, H: from.H}, c.Dirty) || !covered(from, c.Dirty) {
		t.Errorf("Dirty %v does not cover the old and new places", c.Dirty)
	}

	// Resizing is no move; moving off the screen's edge clips the hint.
	xproto.ConfigureWindow(p.c, w, xproto.ConfigWindowWidth, []uint32{300})
	p.sync()
	if c := next(t, src, 5*time.Second); len(c.Moves) != 0 {
		t.Errorf("resize gave Moves %v", c.Moves)
	}
	xproto.ConfigureWindow(p.c, w, xproto.ConfigWindowX|xproto.ConfigWindowY, []uint32{screenW - 100, dy + 10})
	p.sync()
	c = next(t, src, 5*time.Second)
	want = screen.Move{Src: screen.Rect{X: dx, Y: dy, W: 100, H: from.H}, DstX: screenW - 100, DstY: dy + 10}
	if len(c.Moves) != 1 || c.Moves[0] != want {
		t.Errorf("Moves = %v, want [%v]", c.Moves, want)
	}
}

func TestPlainGetImageMatchesSHM(t *testing.T) {
	display, _ := x11.StartXvfb(t, screenW, screenH, 24)
	fast, fastLog := open(t, display, x11.Options{})
	plain, plainLog := open(t, display, x11.Options{NoSHM: true})
	p := dial(t, display)
	if !strings.Contains(fastLog.String(), "capturing with MIT-SHM") {
		t.Errorf("default source does not use MIT-SHM:\n%s", fastLog)
	}
	if !strings.Contains(plainLog.String(), "capturing with plain GetImage") || !strings.Contains(plainLog.String(), "NoSHM") {
		t.Errorf("NoSHM source does not say it uses plain GetImage:\n%s", plainLog)
	}
	for i := range 12 {
		p.window(screen.Rect{X: 37 * i, Y: 23 * i, W: 300 - 10*i, H: 200}, uint32(0x102030*i))
	}
	gradient := make([]xproto.Rectangle, 0, 256)
	for i := range 256 {
		gradient = append(gradient, rect(i*5, 600+i%7, 5, 190))
	}
	p.fill(xproto.Drawable(p.root), 0x80ff40, gradient...)

	a, b := next(t, fast, 5*time.Second), next(t, plain, 5*time.Second)
	if !a.Image.Equal(b.Image) {
		t.Fatal("whole screens differ between MIT-SHM and plain GetImage")
	}
	// And the damage path: change things, then both must agree again.
	for i := range 5 {
		p.fill(xproto.Drawable(p.root), uint32(0x314159*(i+1)), rect(100*i, 50*i, 80+i, 60), rect(1000-50*i, 700, 30, 30))
		a, b = next(t, fast, 5*time.Second), next(t, plain, 5*time.Second)
		if !a.Image.Equal(b.Image) {
			t.Fatalf("round %d: screens differ between MIT-SHM and plain GetImage", i)
		}
	}
}

func TestPointer(t *testing.T) {
	display, _ := x11.StartXvfb(t, screenW, screenH, 24)
	src, _ := open(t, display, x11.Options{})
	p := dial(t, display)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	first, err := src.Pointer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := first.Shape
	if c == nil {
		t.Fatal("first Pointer has no Shape")
	}
	if c.W <= 0 || c.H <= 0 || len(c.Pix) != 4*c.W*c.H {
		t.Fatalf("cursor %dx%d with %d bytes", c.W, c.H, len(c.Pix))
	}
	if !first.Visible {
		t.Error("pointer not visible")
	}

	xproto.WarpPointer(p.c, 0, p.root, 0, 0, 0, 0, 321, 234)
	p.sync()
	got, err := src.Pointer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.X != 321 || got.Y != 234 || !got.Visible || got.Shape != nil {
		t.Errorf("after warping: %+v, want 321,234 visible without a shape", got)
	}

	// Not moving: Pointer waits.
	short, cancelShort := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancelShort()
	if got, err := src.Pointer(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Pointer on a still pointer = %+v, %v; want context.DeadlineExceeded", got, err)
	}

	// Into a window with another cursor: a new Shape, sent once.
	font, _ := xproto.NewFontId(p.c)
	xproto.OpenFont(p.c, font, uint16(len("cursor")), "cursor")
	cursor, _ := xproto.NewCursorId(p.c)
	const xcHand2 = 60
	xproto.CreateGlyphCursor(p.c, cursor, font, font, xcHand2, xcHand2+1, 0, 0, 0, 0xffff, 0xffff, 0xffff)
	p.window(screen.Rect{X: 600, Y: 400, W: 100, H: 100}, 0x808080, uint32(cursor))
	xproto.WarpPointer(p.c, 0, p.root, 0, 0, 0, 0, 650, 450)
	p.sync()
	var shape *host.Cursor
	for shape == nil {
		got, err := src.Pointer(ctx)
		if err != nil {
			t.Fatalf("waiting for the new shape: %v", err)
		}
		shape = got.Shape
	}
	if shape.Serial == c.Serial {
		t.Errorf("new shape has the old serial %d", c.Serial)
	}
	opaque := 0
	for i := 3; i < len(shape.Pix); i += 4 {
		if shape.Pix[i] != 0 {
			opaque++
		}
	}
	if opaque == 0 {
		t.Error("new shape is wholly transparent")
	}
}

func TestMonitors(t *testing.T) {
	display, _ := x11.StartXvfb(t, screenW, screenH, 24)
	src, _ := open(t, display, x11.Options{})
	mons := src.Monitors()
	if len(mons) == 0 {
		t.Fatal("no monitors")
	}
	all := screen.Rect{}
	primary := 0
	for _, m := range mons {
		all = all.Union(m.Rect)
		if m.Primary {
			primary++
		}
	}
	if all != (screen.Rect{W: screenW, H: screenH}) {
		t.Errorf("monitors %+v cover %v, want the whole screen", mons, all)
	}
	if primary != 1 {
		t.Errorf("%d primary monitors in %+v, want 1", primary, mons)
	}
	t.Logf("monitors: %+v", mons)
}

func TestCloseStopsEverything(t *testing.T) {
	display, _ := x11.StartXvfb(t, screenW, screenH, 24)
	src, _ := open(t, display, x11.Options{})
	ctx := context.Background()
	if _, err := src.Next(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Pointer(ctx); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	go func() { _, err := src.Next(ctx); errs <- err }()
	go func() { _, err := src.Pointer(ctx); errs <- err }()
	time.Sleep(50 * time.Millisecond)
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		select {
		case err := <-errs:
			if !errors.Is(err, net.ErrClosed) {
				t.Errorf("after Close: %v, want net.ErrClosed", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Next or Pointer still blocked 5s after Close")
		}
	}
	if _, err := src.Next(ctx); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Next after Close = %v, want net.ErrClosed", err)
	}
	if err := src.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func TestServerGoesAway(t *testing.T) {
	display, stop := x11.StartXvfb(t, 320, 200, 24)
	src, _ := open(t, display, x11.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := src.Next(ctx); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { _, err := src.Next(ctx); errc <- err }()
	time.Sleep(50 * time.Millisecond)
	stop()
	if err := <-errc; !errors.Is(err, x11.ErrLost) {
		t.Errorf("Next when the server went away = %v, want ErrLost", err)
	}
}

func TestOpenErrors(t *testing.T) {
	display16, _ := x11.StartXvfb(t, 320, 200, 16)
	tests := []struct {
		name, display, want string
	}{
		{"no display", "", "x11: no display given"},
		{"no server", ":1999", "x11: cannot open display :1999: "},
		{"16-bit screen", display16, "x11: unsupported pixel format: depth 16 at 16 bits per pixel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := x11.Open(tt.display, x11.Options{})
			if err == nil {
				src.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.HasPrefix(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("Open(%q) = %q, want one line starting %q", tt.display, err, tt.want)
			}
		})
	}
}

func ExampleOpen() {
	src, err := x11.Open(":0", x11.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer src.Close()
	ctx := context.Background()
	for {
		c, err := src.Next(ctx)
		if err != nil {
			return
		}
		fmt.Println(len(c.Dirty), "rects changed")
	}
}
