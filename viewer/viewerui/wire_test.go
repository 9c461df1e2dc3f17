package viewerui

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"testing"

	"github.com/gethelp/gethelp/session"
	"github.com/gethelp/gethelp/session/screen"
	"github.com/gethelp/gethelp/viewer"
)

// TestWireGolden pins the binary format the page parses (app.js).
func TestWireGolden(t *testing.T) {
	img := &screen.Image{W: 2, H: 1, Stride: 8, Pix: []byte{
		0x01, 0x02, 0x03, 0x00, // BGRX
		0x0a, 0x0b, 0x0c, 0x99,
	}}
	w := newWireWriter()
	w.resize(2, 1)
	w.pixels(img, img.Bounds())
	w.copyRect(1, 0, screen.Rect{X: 0, Y: 0, W: 1, H: 1})
	w.pointer(-3, 7, true)
	w.cursor(&session.CursorMessage{Serial: 9, W: 1, H: 1, RGBA: []byte{1, 2, 3, 4}})
	w.sync(42)
	msgs := w.messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	want := "01" + // version
		"01" + "02000000" + "01000000" + // resize 2×1
		"03" + "00000000" + "00000000" + "02000000" + "01000000" + "030201ff" + "0c0b0aff" + // pixels
		"02" + "01000000" + "00000000" + "01000000" + "01000000" + "00000000" + "00000000" + // copy
		"04" + "fdffffff" + "07000000" + "01" + // pointer
		"05" + "09000000" + "01000000" + "01000000" + "00000000" + "00000000" + "01020304" + // cursor
		"06" + "2a000000" // sync
	if got := hex.EncodeToString(msgs[0]); got != want {
		t.Fatalf("wire bytes\n got %s\nwant %s", got, want)
	}
}

func TestWireRejectsBadCursor(t *testing.T) {
	for name, c := range map[string]*session.CursorMessage{
		"short pixels": {W: 2, H: 2, RGBA: make([]byte, 15)},
		"too big":      {W: 300, H: 2, RGBA: make([]byte, 300*2*4)},
		"hot spot out": {W: 2, H: 2, HotX: 2, RGBA: make([]byte, 16)},
		"empty":        {},
	} {
		w := newWireWriter()
		if w.cursor(c) || len(w.messages()) != 0 {
			t.Errorf("%s: cursor accepted", name)
		}
	}
}

// testCanvas applies the page's records as app.js does.
type testCanvas struct {
	w, h int
	pix  []byte // RGBA
	seq  uint32
}

func (c *testCanvas) apply(t *testing.T, msg []byte, limit int) {
	t.Helper()
	if len(msg) > limit {
		t.Fatalf("message of %d bytes, limit %d", len(msg), limit)
	}
	if msg[0] != wireVersion {
		t.Fatalf("version %d", msg[0])
	}
	p := msg[1:]
	u := func() int { v := binary.LittleEndian.Uint32(p); p = p[4:]; return int(v) }
	for len(p) > 0 {
		kind := p[0]
		p = p[1:]
		switch kind {
		case recResize:
			c.w, c.h = u(), u()
			c.pix = make([]byte, 4*c.w*c.h)
			for i := 3; i < len(c.pix); i += 4 {
				c.pix[i] = 0xff
			}
		case recCopy:
			sx, sy, w, h, dx, dy := u(), u(), u(), u(), u(), u()
			tmp := make([]byte, 4*w*h)
			for y := range h {
				copy(tmp[4*w*y:4*w*(y+1)], c.pix[4*((sy+y)*c.w+sx):])
			}
			for y := range h {
				copy(c.pix[4*((dy+y)*c.w+dx):4*((dy+y)*c.w+dx+w)], tmp[4*w*y:])
			}
		case recPixels:
			x, y, w, h := u(), u(), u(), u()
			if x+w > c.w || y+h > c.h {
				t.Fatalf("pixels %dx%d+%d+%d outside %dx%d", w, h, x, y, c.w, c.h)
			}
			for r := range h {
				copy(c.pix[4*((y+r)*c.w+x):4*((y+r)*c.w+x+w)], p[4*w*r:])
			}
			p = p[4*w*h:]
		case recPointer:
			p = p[9:]
		case recCursor:
			u()
			w, h := u(), u()
			u()
			u()
			p = p[4*w*h:]
		case recSync:
			c.seq = uint32(u())
		default:
			t.Fatalf("unknown record %d", kind)
		}
	}
}

func (c *testCanvas) equal(img *screen.Image) bool {
	return c.w == img.W && c.h == img.H && bytes.Equal(c.pix, img.RGBA().Pix)
}

func randomImage(r *rand.Rand, w, h int) *screen.Image {
	img := screen.NewImage(w, h)
	for i := range img.Pix {
		img.Pix[i] = byte(r.IntN(256))
	}
	return img
}

func TestWireStrips(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	img := randomImage(r, 37, 29)
	for _, limit := range []int{40, 64, 150, 1000, 1 << 20} {
		w := newWireWriter()
		w.limit = limit
		w.resize(img.W, img.H)
		w.pixels(img, img.Bounds())
		w.pixels(img, screen.Rect{X: 30, Y: 20, W: 50, H: 50}) // clipped
		w.sync(1)
		var c testCanvas
		msgs := w.messages()
		for _, m := range msgs {
			c.apply(t, m, limit)
		}
		if !c.equal(img) || c.seq != 1 {
			t.Errorf("limit %d: the strips (%d messages) do not rebuild the image", limit, len(msgs))
		}
	}
}

// TestReplay checks that replaying a batch of updates with pixels taken
// from the state after the batch always ends with the canvas equal to
// that state, whatever the mix of copies and pixels.
func TestReplay(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const W, H = 48, 32
	replayed, withCopy := 0, 0
	for trial := range 500 {
		fb := randomImage(r, W, H)
		var c testCanvas
		w := newWireWriter()
		w.resize(W, H)
		w.pixels(fb, fb.Bounds())
		for _, m := range w.messages() {
			c.apply(t, m, maxMessage)
		}

		var batch []viewer.ScreenUpdate
		for u := range 1 + r.IntN(4) {
			var ops []screen.Op
			for range 1 + r.IntN(5) {
				rw, rh := 1+r.IntN(W/2), 1+r.IntN(H/2)
				dst := screen.Rect{X: r.IntN(W - rw + 1), Y: r.IntN(H - rh + 1), W: rw, H: rh}
				if r.IntN(2) == 0 {
					sx, sy := r.IntN(W-rw+1), r.IntN(H-rh+1)
					// Apply the copy to fb as the decoder would.
					tmp := screen.NewImage(rw, rh)
					for y := range rh {
						copy(tmp.Row(y), fb.Sub(screen.Rect{X: sx, Y: sy + y, W: rw, H: 1}).Row(0))
					}
					for y := range rh {
						copy(fb.Sub(screen.Rect{X: dst.X, Y: dst.Y + y, W: rw, H: 1}).Row(0), tmp.Row(y))
					}
					ops = append(ops, screen.Op{Kind: screen.OpCopy, Rect: dst, SrcX: sx, SrcY: sy})
				} else {
					for y := range rh {
						row := fb.Sub(screen.Rect{X: dst.X, Y: dst.Y + y, W: rw, H: 1}).Row(0)
						for i := range row {
							row[i] = byte(r.IntN(256))
						}
					}
					ops = append(ops, screen.Op{Kind: screen.OpPixels, Rect: dst})
				}
			}
			batch = append(batch, viewer.ScreenUpdate{Seq: uint32(u + 1), Ops: ops, W: W, H: H})
		}
		w = newWireWriter()
		if !replay(w, fb, batch) {
			continue // a whole redraw: trivially right
		}
		replayed++
		if batch[0].Ops[0].Kind == screen.OpCopy {
			withCopy++ // replayed as a copy record
		}
		for _, m := range w.messages() {
			c.apply(t, m, maxMessage)
		}
		if !c.equal(fb) {
			t.Fatalf("trial %d: the canvas differs from the framebuffer after %+v", trial, batch)
		}
	}
	if replayed < 100 || withCopy < 30 {
		t.Fatalf("only %d of 500 batches were replayed, %d with copies", replayed, withCopy)
	}
}

func TestReplayRedrawsOnResize(t *testing.T) {
	img := screen.NewImage(4, 4)
	batch := []viewer.ScreenUpdate{{Seq: 1, Ops: []screen.Op{{Kind: screen.OpResize, Rect: img.Bounds()}}}}
	if replay(newWireWriter(), img, batch) {
		t.Fatal("a resize was replayed")
	}
}
