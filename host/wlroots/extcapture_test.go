package wlroots_test

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/host/wlroots"
	"github.com/gethelp/gethelp/host/wlroots/internal/fakecomp"
	"github.com/gethelp/gethelp/session/screen"
)

// The tests of the ext-image-copy-capture path run against
// internal/fakecomp, a fake compositor written from the protocol XML: no
// compositor on the test machines (sway 1.7) offers the protocol.

func openFake(t *testing.T, fc *fakecomp.Compositor) *wlroots.Source {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	src, err := wlroots.Open(ctx, fc.Socket, wlroots.Options{Logger: logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// covered reports whether every pixel of r lies in one of rects.
func covered(r screen.Rect, rects []screen.Rect) bool {
	for y := r.Y; y < r.Y+r.H; y++ {
		for x := r.X; x < r.X+r.W; x++ {
			if !slices.ContainsFunc(rects, func(d screen.Rect) bool { return !d.Intersect(screen.Rect{X: x, Y: y, W: 1, H: 1}).Empty() }) {
				return false
			}
		}
	}
	return true
}

func wantWhole(t *testing.T, c host.Capture) {
	t.Helper()
	if len(c.Dirty) != 1 || c.Dirty[0] != c.Image.Bounds() {
		t.Errorf("Dirty = %v, want the whole image %v", c.Dirty, c.Image.Bounds())
	}
}

func wantEqual(t *testing.T, got, want *screen.Image) {
	t.Helper()
	if !got.Equal(want) {
		t.Fatalf("the capture (%dx%d) differs from the compositor's image (%dx%d)", got.W, got.H, want.W, want.H)
	}
}

func TestExtFirstFrameEqualsImage(t *testing.T) {
	fc := fakecomp.Start(t, fakecomp.Config{Ext: true, Screencopy: true})
	src := openFake(t, fc)
	c, err := next(src, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	wantWhole(t, c)
	wantEqual(t, c.Image, fc.Image(0))
	if got := src.Monitors(); len(got) != 1 || got[0] != (host.Monitor{Name: "FAKE-1", Rect: screen.Rect{W: 64, H: 48}, Primary: true}) {
		t.Errorf("Monitors() = %+v", got)
	}
	if got := fc.SessionOptions(); !slices.Equal(got, []uint32{1}) {
		t.Errorf("sessions created with options %v, want [1] (paint_cursors, as the wlr path's overlay_cursor)", got)
	}
}

func TestExtDamageIdleAndRefresh(t *testing.T) {
	fc := fakecomp.Start(t, fakecomp.Config{Ext: true})
	src := openFake(t, fc)
	if _, err := next(src, 5*time.Second); err != nil {
		t.Fatal(err)
	}

	// An idle output: Next blocks until its context ends, and the
	// compositor copied nothing more.
	before := fc.Captures()
	if _, err := next(src, 100*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next on an idle output = %v, want it to block until the context ends", err)
	}
	if n := fc.Captures() - before; n != 0 {
		t.Errorf("%d frames were copied while the output was idle", n)
	}

	// A change in one region.
	r := screen.Rect{X: 10, Y: 5, W: 8, H: 6}
	fc.Fill(0, r, 0x10, 0x20, 0x30)
	c, err := next(src, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !covered(r, c.Dirty) {
		t.Errorf("Dirty %v does not cover the change %v", c.Dirty, r)
	}
	if covered(c.Image.Bounds(), c.Dirty) {
		t.Errorf("Dirty %v covers the whole image after a small change", c.Dirty)
	}
	wantEqual(t, c.Image, fc.Image(0))

	// Refresh: the whole image at once, with nothing changed.
	src.Refresh()
	c, err = next(src, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	wantWhole(t, c)
	wantEqual(t, c.Image, fc.Image(0))

	src.Close()
	if _, err := next(src, time.Second); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Next after Close = %v, want net.ErrClosed", err)
	}
}

// When the compositor changes the buffer constraints, the frame in flight
// fails with buffer_constraints and the Source captures again in a buffer
// that fits.
func TestExtRenegotiatesBufferConstraints(t *testing.T) {
	fc := fakecomp.Start(t, fakecomp.Config{Ext: true})
	src := openFake(t, fc)
	if _, err := next(src, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := fc.LastFormat(0); got != fakecomp.XRGB8888 {
		t.Fatalf("first frame in format %#x, want XRGB8888", got)
	}
	fc.SetFormats(0, fakecomp.XBGR8888)
	fc.Fill(0, screen.Rect{X: 1, Y: 2, W: 3, H: 4}, 0xff, 0, 0x80)
	c, err := next(src, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got := fc.LastFormat(0); got != fakecomp.XBGR8888 {
		t.Fatalf("frame after the new constraints in format %#x, want XBGR8888", got)
	}
	wantEqual(t, c.Image, fc.Image(0))
}

func TestExtStoppedEndsSource(t *testing.T) {
	fc := fakecomp.Start(t, fakecomp.Config{Ext: true})
	src := openFake(t, fc)
	if _, err := next(src, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	fc.Stop(0)
	for range 2 {
		_, err := next(src, 5*time.Second)
		if !errors.Is(err, wlroots.ErrStopped) {
			t.Fatalf("Next after the compositor stopped the session = %v, want ErrStopped", err)
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "wlroots: ") || !strings.Contains(msg, "FAKE-1") || strings.Contains(msg, "\n") {
			t.Errorf("error %q is not one line naming the output", msg)
		}
	}
}

func TestExtTwoOutputs(t *testing.T) {
	fc := fakecomp.Start(t, fakecomp.Config{Ext: true, Outputs: []fakecomp.Output{
		{Name: "LEFT", W: 40, H: 30},
		{Name: "RIGHT", X: 40, W: 50, H: 20},
	}})
	src := openFake(t, fc)
	c, err := next(src, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	wantWhole(t, c)
	if c.Image.W != 90 || c.Image.H != 30 {
		t.Fatalf("image is %dx%d, want 90x30", c.Image.W, c.Image.H)
	}
	mons := src.Monitors()
	if len(mons) != 2 {
		t.Fatalf("Monitors() = %+v", mons)
	}
	for i, m := range mons {
		wantEqual(t, c.Image.Sub(m.Rect), fc.Image(i))
	}

	r := screen.Rect{X: 45, Y: 15, W: 10, H: 10} // reaches below RIGHT's 20 rows
	fc.Fill(1, screen.Rect{X: r.X - 40, Y: r.Y, W: r.W, H: r.H}, 1, 2, 3)
	c, err = next(src, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if want := (screen.Rect{X: 45, Y: 15, W: 10, H: 5}); !covered(want, c.Dirty) {
		t.Errorf("Dirty %v does not cover %v", c.Dirty, want)
	}
	for i, m := range mons {
		wantEqual(t, c.Image.Sub(m.Rect), fc.Image(i))
	}
}

// An output taken away ends its session, not the Source: the next
// capture is whole, of the outputs left; an output added joins the image.
func TestExtOutputsHotplug(t *testing.T) {
	fc := fakecomp.Start(t, fakecomp.Config{Ext: true, Outputs: []fakecomp.Output{
		{Name: "LEFT", W: 40, H: 30},
		{Name: "RIGHT", X: 40, W: 50, H: 20},
	}})
	src := openFake(t, fc)
	if _, err := next(src, 5*time.Second); err != nil {
		t.Fatal(err)
	}

	fc.RemoveOutput(1)
	c, err := next(src, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	wantWhole(t, c)
	wantEqual(t, c.Image, fc.Image(0))
	if mons := src.Monitors(); len(mons) != 1 || mons[0].Name != "LEFT" {
		t.Errorf("Monitors() after RIGHT went = %+v", mons)
	}

	n := fc.AddOutput(fakecomp.Output{Name: "NEW", X: 40, Y: 10, W: 20, H: 10})
	c, err = next(src, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	wantWhole(t, c)
	want := []host.Monitor{
		{Name: "LEFT", Rect: screen.Rect{W: 40, H: 30}, Primary: true},
		{Name: "NEW", Rect: screen.Rect{X: 40, Y: 10, W: 20, H: 10}},
	}
	if mons := src.Monitors(); !slices.Equal(mons, want) {
		t.Fatalf("Monitors() after NEW came = %+v, want %+v", mons, want)
	}
	wantEqual(t, c.Image.Sub(want[0].Rect), fc.Image(0))
	wantEqual(t, c.Image.Sub(want[1].Rect), fc.Image(n))
}

// Open chooses ext-image-copy-capture when the compositor offers it, and
// wlr-screencopy otherwise.
func TestProtocolChoice(t *testing.T) {
	tests := []struct {
		name            string
		cfg             fakecomp.Config
		ext, screencopy int // binds expected
		unsupported     bool
	}{
		{name: "both offered", cfg: fakecomp.Config{Ext: true, Screencopy: true}, ext: 1},
		{name: "ext only", cfg: fakecomp.Config{Ext: true}, ext: 1},
		{name: "wlr-screencopy only", cfg: fakecomp.Config{Screencopy: true}, screencopy: 1},
		{name: "neither", unsupported: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc := fakecomp.Start(t, tt.cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			src, err := wlroots.Open(ctx, fc.Socket, wlroots.Options{Logger: logger(t)})
			if tt.unsupported {
				if !errors.Is(err, wlroots.ErrUnsupported) {
					t.Fatalf("Open = %v, want ErrUnsupported", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			src.Close()
			if got := fc.Binds(fakecomp.IfaceCopyCapture); got != tt.ext {
				t.Errorf("%s bound %d times, want %d", fakecomp.IfaceCopyCapture, got, tt.ext)
			}
			if got := fc.Binds(fakecomp.IfaceScreencopy); got != tt.screencopy {
				t.Errorf("%s bound %d times, want %d", fakecomp.IfaceScreencopy, got, tt.screencopy)
			}
		})
	}
}
