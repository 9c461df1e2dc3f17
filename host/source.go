package host

import (
	"context"
	"time"

	"github.com/gethelp/gethelp/session/screen"
)

// Source is a screen to share. Implementations: host/x11, host/synthetic
// (later Wayland, Windows).
//
// Next and Pointer (for sources that are also a PointerSource) may be called
// from different goroutines at once, but Next must not be called
// concurrently with itself. After Close, Next (and Pointer) return an error
// that wraps net.ErrClosed.
type Source interface {
	// Next waits until the screen differs from what the previous call
	// returned (the first call returns at once with the whole screen as
	// dirty) and returns it. The Capture's Image stays valid until the next
	// call to Next or Close. Dirty may over-approximate (X11 DAMAGE does);
	// Moves are hints (e.g. a window moved) the encoder checks.
	// An idle screen makes Next block and costs (nearly) nothing. Returns
	// ctx.Err() when ctx ends.
	Next(ctx context.Context) (Capture, error)
	// Monitors lists the monitors in the image's coordinates; a
	// single-screen source returns one covering it all.
	Monitors() []Monitor
	// Close stops the source and releases what it holds; it waits for the
	// source's goroutines to end. Calling it again returns nil.
	Close() error
}

// PacedSource is implemented by sources that can hold a change back until
// a given time. The sharer paces updates (at most one every 16 ms at
// High, less often on a slower link or while the screen churns); with a
// PacedSource it waits for the change and the time in one call, instead of
// sleeping until the time and then waiting for the change, which wakes the
// process once more per update for nothing when changes come slower than
// the pace (typing).
type PacedSource interface {
	// NextAfter is Next, except that it does not read the screen before
	// notBefore: a change that comes earlier waits, gathering what follows
	// it, until then. A zero notBefore makes it Next.
	NextAfter(ctx context.Context, notBefore time.Time) (Capture, error)
}

// Refresher is implemented by sources that can be asked for the whole
// screen again (a new encoder, a new monitor, sharing resumed).
type Refresher interface {
	// Refresh makes the next (or the pending) call to Next return at once
	// with the whole screen as dirty, even if nothing changed. It may be
	// called from any goroutine, also while Next waits.
	Refresh()
}

// Capture is one frame returned by Source.Next.
type Capture struct {
	// Image is the whole screen, never nil. It is owned by the source and
	// overwritten by the next call to Next: copy what must outlive it.
	Image *screen.Image
	// Dirty lists the parts of Image that may differ from the previous
	// capture; every changed pixel lies inside one of them. The rects are
	// inside Image.Bounds(); they may overlap and over-approximate.
	Dirty []screen.Rect
	// Moves are hints that pixels of the previous capture reappear
	// elsewhere in this one (a dragged window). They may be wrong; the
	// moved pixels' destinations are inside Dirty all the same.
	Moves []screen.Move
}

// Monitor is one monitor, as a part of the source's image.
type Monitor struct {
	Name    string      // as the system names it ("DP-1", "screen"); may be empty
	Rect    screen.Rect // in the image's coordinates
	Primary bool
}

// PointerSource is implemented by sources that can report the mouse pointer
// apart from the pixels (their images do not show the pointer).
type PointerSource interface {
	// Pointer waits until the pointer moved or changed shape since the
	// previous call (first call: at once) and returns it. Returns ctx.Err()
	// when ctx ends.
	Pointer(ctx context.Context) (Pointer, error)
}

// Pointer is the mouse pointer's state.
type Pointer struct {
	X, Y    int // position of the hot spot, in the image's coordinates
	Visible bool
	Shape   *Cursor // non-nil only when the shape changed since the previous call (sent once per shape)
}

// Cursor is a pointer shape.
type Cursor struct {
	Serial     uint32 // identifies the shape: equal serials, equal shapes
	W, H       int
	HotX, HotY int    // the hot spot, inside the W×H image
	Pix        []byte // W*H*4 bytes, RGBA, not premultiplied, row after row
}
