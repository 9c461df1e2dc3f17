package screen_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/gethelp/gethelp/session/screen"
)

// pair is an encoder and its decoder, checked after every update.
type pair struct {
	t   testing.TB
	enc *screen.Encoder
	dec *screen.Decoder
}

func newPair(t testing.TB) *pair {
	return &pair{t: t, enc: screen.NewEncoder(), dec: screen.NewDecoder()}
}

// send encodes img and applies the update; it returns the update's stats
// and ops (nil if Encode returned no update).
func (p *pair) send(img *screen.Image, dirty []screen.Rect, moves []screen.Move, lv screen.Level) (screen.Stats, []screen.Op) {
	p.t.Helper()
	u, st, err := p.enc.Encode(img, dirty, moves, lv)
	if err != nil {
		p.t.Fatalf("Encode: %v", err)
	}
	if st.Bytes != len(u) {
		p.t.Fatalf("Stats.Bytes = %d, update has %d", st.Bytes, len(u))
	}
	if u == nil {
		return st, nil
	}
	ops, err := p.dec.Decode(u)
	if err != nil {
		p.t.Fatalf("Decode: %v", err)
	}
	return st, ops
}

// exact sends img at Full and fails unless the decoder then equals it.
func (p *pair) exact(img *screen.Image, dirty []screen.Rect, moves []screen.Move) screen.Stats {
	p.t.Helper()
	st, _ := p.send(img, dirty, moves, screen.Full)
	if got := p.dec.Image(); got == nil || !got.Equal(img) {
		p.t.Fatalf("decoded frame differs from input (stats %+v)", st)
	}
	return st
}

func TestRoundTripScenes(t *testing.T) {
	scenes := []struct {
		name string
		draw func(m *screen.Image)
	}{
		{"solid", func(m *screen.Image) { fill(m, m.Bounds(), rgb{1, 2, 3}) }},
		{"text", func(m *screen.Image) { newTextScreen(m, m.Bounds(), false, 1).fillText() }},
		{"text anti-aliased", func(m *screen.Image) { newTextScreen(m, m.Bounds(), true, 2).fillText() }},
		{"gradient", func(m *screen.Image) { gradient(m, m.Bounds(), rgb{0, 0, 0}, rgb{255, 128, 7}) }},
		{"photo", func(m *screen.Image) { photo(m, m.Bounds(), 3) }},
		{"noise", func(m *screen.Image) { noise(m, m.Bounds(), 4) }},
		{"desktop with windows", func(m *screen.Image) {
			desktop(m)
			window(m, screen.Rect{X: 100, Y: 50, W: 300, H: 200}, 5)
			photo(m, screen.Rect{X: 250, Y: 200, W: 150, H: 130}, 6)
		}},
	}
	sizes := []struct{ w, h int }{{1, 1}, {63, 65}, {64, 64}, {333, 257}, {500, 400}}
	for _, sc := range scenes {
		for _, sz := range sizes {
			t.Run(sc.name, func(t *testing.T) {
				img := screen.NewImage(sz.w, sz.h)
				sc.draw(img)
				p := newPair(t)
				p.exact(img, nil, nil)
				// A second, different frame of the same kind over it.
				noise(img, screen.Rect{X: sz.w / 3, Y: sz.h / 3, W: 20, H: 10}, 9)
				fill(img, screen.Rect{X: 0, Y: sz.h - 5, W: sz.w, H: 5}, rgb{200, 0, 0})
				p.exact(img, nil, nil)
			})
		}
	}
}

func TestTyping(t *testing.T) {
	img := screen.NewImage(800, 600)
	term := newTextScreen(img, img.Bounds(), false, 1)
	term.fillText()
	p := newPair(t)
	p.exact(img, nil, nil)
	total := 0
	for i := range 60 {
		col, row := 10+i%60, 20+i/60
		cell := term.put(col, row, term.randomChar())
		st := p.exact(img, []screen.Rect{cell}, nil)
		total += st.Bytes
	}
	if avg := total / 60; avg > 60 {
		t.Errorf("a typed character costs %d bytes on average, want <= 60", avg)
	}
}

func TestUnchangedGivesNil(t *testing.T) {
	img := screen.NewImage(300, 200)
	newTextScreen(img, img.Bounds(), true, 1).fillText()
	p := newPair(t)
	p.exact(img, nil, nil)
	for _, dirty := range [][]screen.Rect{nil, {{X: 0, Y: 0, W: 300, H: 200}}, {{X: 10, Y: 10, W: 5, H: 5}, {X: -5, Y: 190, W: 1000, H: 100}}} {
		// Only the ignored fourth byte changes.
		for i := 3; i < len(img.Pix); i += 4 {
			img.Pix[i]++
		}
		u, st, err := p.enc.Encode(img, dirty, nil, screen.Full)
		if err != nil || u != nil || st.Bytes != 0 {
			t.Fatalf("Encode of an unchanged frame = %d bytes, %+v, %v; want nil", len(u), st, err)
		}
		if st.Unchanged == 0 {
			t.Errorf("Stats.Unchanged = 0, want the tiles inspected")
		}
	}
}

func TestScroll(t *testing.T) {
	for _, tc := range []struct {
		name     string
		lines    int
		dirty    bool    // pass the terminal's area as dirty, else nil
		maxShare float64 // of the bytes that re-sending the region takes
	}{
		{"one line", 1, true, 0.2},
		{"three lines", 3, false, 0.2},
		{"half a screen", 18, true, 0.65}, // half of it is new text
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := screen.NewImage(1024, 640)
			desktop(img)
			term := newTextScreen(img, screen.Rect{X: 37, Y: 21, W: 80 * cellW, H: 36 * cellH}, false, 1)
			term.fillText()
			p := newPair(t)
			p.exact(img, nil, nil)
			for range 4 {
				area := term.scroll(tc.lines)
				var dirty []screen.Rect
				if tc.dirty {
					dirty = []screen.Rect{area}
				}
				st := p.exact(img, dirty, nil)
				if st.Copies == 0 {
					t.Fatalf("scroll sent no copy: %+v", st)
				}
				// What re-sending the region would cost.
				full, _, err := screen.NewEncoder().Encode(img.Sub(area), nil, nil, screen.Full)
				if err != nil {
					t.Fatal(err)
				}
				if float64(st.Bytes) > tc.maxShare*float64(len(full)) {
					t.Errorf("scroll took %d bytes, re-sending the region %d: want < %.0f%%", st.Bytes, len(full), 100*tc.maxShare)
				}
			}
		})
	}
}

func TestMoveWindow(t *testing.T) {
	for _, tc := range []struct {
		name   string
		hint   bool
		dirty  bool
		dx, dy int
	}{
		{"hint", true, true, 37, 23},
		{"no hint, dirty rects", false, true, -41, 17},
		{"no hint, no dirty rects", false, false, 120, -50},
		{"small step", false, false, 3, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bg := screen.NewImage(1024, 700)
			desktop(bg)
			img := clone(bg)
			win := screen.Rect{X: 200, Y: 150, W: 420, H: 300}
			content := clone(bg)
			window(content, win, 3)
			copyIn(img, content, win, win.X, win.Y)
			p := newPair(t)
			p.exact(img, nil, nil)
			for range 3 {
				next := win
				next.X += tc.dx
				next.Y += tc.dy
				copyIn(img, bg, win, win.X, win.Y)
				copyIn(img, content, win, next.X, next.Y)
				var dirty []screen.Rect
				if tc.dirty {
					dirty = []screen.Rect{win, next}
				}
				var moves []screen.Move
				if tc.hint {
					moves = []screen.Move{{Src: win, DstX: next.X, DstY: next.Y}}
				}
				st := p.exact(img, dirty, moves)
				if st.Copies == 0 {
					t.Fatalf("move sent no copy: %+v", st)
				}
				// What re-sending both places takes. The wallpaper the
				// window uncovers has to be sent anyway.
				full, _, err := screen.NewEncoder().Encode(img.Sub(win.Union(next)), nil, nil, screen.Full)
				if err != nil {
					t.Fatal(err)
				}
				if st.Bytes*2 > len(full) {
					t.Errorf("move took %d bytes, re-sending the area %d: want < 50%%", st.Bytes, len(full))
				}
				content = shifted(content, tc.dx, tc.dy)
				win = next
			}
		})
	}
}

// copyIn copies the pixels of r in src to dst at x, y.
func copyIn(dst, src *screen.Image, r screen.Rect, x, y int) {
	for j := range r.H {
		copy(dst.Pix[(y+j)*dst.Stride+4*x:(y+j)*dst.Stride+4*(x+r.W)], src.Pix[(r.Y+j)*src.Stride+4*r.X:])
	}
}

// shifted returns m with its content moved by dx, dy (what moves out is lost).
func shifted(m *screen.Image, dx, dy int) *screen.Image {
	out := screen.NewImage(m.W, m.H)
	r := m.Bounds().Intersect(screen.Rect{X: -dx, Y: -dy, W: m.W, H: m.H})
	copyIn(out, m, r, r.X+dx, r.Y+dy)
	return out
}

func TestMoveHintIsChecked(t *testing.T) {
	img := screen.NewImage(400, 300)
	photo(img, img.Bounds(), 1)
	p := newPair(t)
	p.exact(img, nil, nil)
	photo(img, img.Bounds(), 2) // nothing moved, whatever the hint says
	st := p.exact(img, nil, []screen.Move{{Src: screen.Rect{X: 0, Y: 0, W: 200, H: 200}, DstX: 50, DstY: 60}, {Src: screen.Rect{X: -50, Y: 250, W: 900, H: 900}, DstX: 9000, DstY: -3}})
	if st.Copies != 0 {
		t.Errorf("Stats.Copies = %d for a false hint", st.Copies)
	}
}

func TestSubImage(t *testing.T) {
	big := screen.NewImage(700, 500)
	desktop(big)
	window(big, screen.Rect{X: 120, Y: 90, W: 400, H: 300}, 1)
	view := big.Sub(screen.Rect{X: 101, Y: 77, W: 333, H: 222})
	if view.Stride <= 4*view.W {
		t.Fatal("test needs a view with padding")
	}
	p := newPair(t)
	p.exact(view, nil, nil)
	fill(big, screen.Rect{X: 150, Y: 150, W: 30, H: 30}, rgb{9, 9, 9})
	st := p.exact(view, []screen.Rect{{X: 49, Y: 73, W: 30, H: 30}}, nil)
	if st.Bytes == 0 {
		t.Fatal("no update for a change in the view")
	}
}

func TestHighLevel(t *testing.T) {
	img := screen.NewImage(960, 640)
	text := screen.Rect{X: 0, Y: 0, W: 960, H: 256}
	pic := screen.Rect{X: 0, Y: 256, W: 960, H: 384}
	newTextScreen(img, text, true, 1).fillText()
	photo(img, pic, 2)
	p := newPair(t)
	st, _ := p.send(img, nil, nil, screen.High)
	if st.Lossy == 0 {
		t.Errorf("no lossy tiles for a photo: %+v", st)
	}
	got := p.dec.Image()
	if !equalIn(img, got, text) {
		t.Error("text is not exact at High")
	}
	if db := psnr(img, got, pic); db < 40 {
		t.Errorf("photo PSNR = %.1f dB at High, want >= 40", db)
	}
	// Asking for Full sends the photo again, exactly, though nothing changed.
	p.exact(img, []screen.Rect{}, nil)
	if u, _, _ := p.enc.Encode(img, nil, nil, screen.Full); u != nil {
		t.Errorf("a second Full update of %d bytes", len(u))
	}
}

// A noisy photo, whose noise would need more than 3 bits a pixel for
// 40.5 dB, costs at most that at High (highMaxBits), and still looks like
// itself: the noise hides the error.
func TestHighLevelNoise(t *testing.T) {
	img := screen.NewImage(512, 384)
	photo(img, img.Bounds(), 7)
	grain(img, img.Bounds(), 5, 8)
	p := newPair(t)
	st, _ := p.send(img, nil, nil, screen.High)
	if st.Lossy == 0 {
		t.Fatalf("no lossy tiles for a noisy photo: %+v", st)
	}
	if bpp := 8 * float64(st.Bytes) / float64(img.W*img.H); bpp > 3.1 {
		t.Errorf("noisy photo took %.2f bits a pixel at High, want at most 3", bpp)
	}
	if db := psnr(img, p.dec.Image(), img.Bounds()); db < 32 {
		t.Errorf("noisy photo PSNR = %.1f dB at High, want >= 32", db)
	}
}

func TestLowLevel(t *testing.T) {
	img := screen.NewImage(640, 480)
	newTextScreen(img, screen.Rect{X: 0, Y: 0, W: 640, H: 240}, true, 1).fillText()
	photo(img, screen.Rect{X: 0, Y: 240, W: 640, H: 240}, 2)
	p := newPair(t)
	st, _ := p.send(img, nil, nil, screen.Low)
	if db := psnr(img, p.dec.Image(), img.Bounds()); db < 28 {
		t.Errorf("PSNR = %.1f dB at Low, want >= 28", db)
	}
	pHigh := newPair(t)
	stHigh, _ := pHigh.send(img, nil, nil, screen.High)
	if st.Bytes >= stHigh.Bytes {
		t.Errorf("Low took %d bytes, High %d", st.Bytes, stHigh.Bytes)
	}
	// Medium refreshes what Low sent lossy.
	if st, _ := p.send(img, nil, nil, screen.Medium); st.Bytes == 0 {
		t.Error("no refresh going from Low to Medium")
	}
}

func TestResize(t *testing.T) {
	p := newPair(t)
	a := screen.NewImage(300, 200)
	newTextScreen(a, a.Bounds(), false, 1).fillText()
	p.exact(a, nil, nil)
	b := screen.NewImage(200, 300)
	photo(b, b.Bounds(), 2)
	_, ops := p.send(b, []screen.Rect{{X: 0, Y: 0, W: 1, H: 1}}, nil, screen.Full)
	if len(ops) == 0 || ops[0].Kind != screen.OpResize || ops[0].Rect != b.Bounds() {
		t.Fatalf("first op = %+v, want a resize to %v", ops, b.Bounds())
	}
	if !p.dec.Image().Equal(b) {
		t.Fatal("decoded frame differs after resize")
	}
	// Reset sends everything again, for a new decoder.
	p.enc.Reset()
	p.dec = screen.NewDecoder()
	p.exact(b, []screen.Rect{}, nil)
}

func TestDecodedFourthByte(t *testing.T) {
	img := screen.NewImage(100, 100)
	photo(img, img.Bounds(), 1)
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = byte(i)
	}
	for _, lv := range []screen.Level{screen.Low, screen.High, screen.Full} {
		p := newPair(t)
		p.send(img, nil, nil, lv)
		for i := 3; i < len(p.dec.Image().Pix); i += 4 {
			if p.dec.Image().Pix[i] != 0xff {
				t.Fatalf("%v: fourth byte %d is %#x", lv, i, p.dec.Image().Pix[i])
			}
		}
	}
}

func TestOpsReplay(t *testing.T) {
	// Replaying the ops on the previous frame, as a canvas would, gives the
	// new one.
	bg := screen.NewImage(640, 480)
	desktop(bg)
	img := clone(bg)
	term := newTextScreen(img, screen.Rect{X: 40, Y: 30, W: 60 * cellW, H: 25 * cellH}, false, 1)
	term.fillText()
	p := newPair(t)
	p.exact(img, nil, nil)
	canvas := clone(img)
	for i := range 6 {
		if i%2 == 0 {
			term.scroll(2)
		} else {
			term.put(3, 24, 5)
			fill(img, screen.Rect{X: 600, Y: 400, W: 20, H: 20}, rgb{byte(i), 0, 0})
		}
		_, ops := p.send(img, nil, nil, screen.Full)
		for _, op := range ops {
			switch op.Kind {
			case screen.OpCopy:
				src := clone(canvas)
				copyIn(canvas, src, screen.Rect{X: op.SrcX, Y: op.SrcY, W: op.Rect.W, H: op.Rect.H}, op.Rect.X, op.Rect.Y)
			case screen.OpPixels:
				copyIn(canvas, p.dec.Image(), op.Rect, op.Rect.X, op.Rect.Y)
			default:
				t.Fatalf("unexpected op %+v", op)
			}
		}
		if !canvas.Equal(img) {
			t.Fatalf("step %d: replayed ops differ from the frame", i)
		}
	}
}

func TestEncodeInvalidImage(t *testing.T) {
	for _, m := range []*screen.Image{
		nil,
		{W: 0, H: 10, Stride: 0},
		{W: 10, H: 10, Stride: 39, Pix: make([]byte, 400)},
		{W: 10, H: 10, Stride: 40, Pix: make([]byte, 399)},
		{W: 9000, H: 1, Stride: 36000, Pix: make([]byte, 36000)},
	} {
		if _, _, err := screen.NewEncoder().Encode(m, nil, nil, screen.Full); !errors.Is(err, screen.ErrInvalidImage) {
			t.Errorf("Encode(%+v) error = %v, want ErrInvalidImage", m, err)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	img := screen.NewImage(200, 100)
	newTextScreen(img, img.Bounds(), false, 1).fillText()
	enc := screen.NewEncoder()
	key, _, _ := enc.Encode(img, nil, nil, screen.Full)
	fill(img, screen.Rect{X: 10, Y: 10, W: 50, H: 20}, rgb{1, 2, 3})
	next, _, _ := enc.Encode(img, nil, nil, screen.Full)

	for _, tc := range []struct {
		name string
		u    []byte
	}{
		{"empty", nil},
		{"bad version", append([]byte{9}, key[1:]...)},
		{"truncated", key[:len(key)-3]},
		{"no keyframe", next},
		{"huge screen", []byte{2, 1, 0x80, 0x80, 0x01, 1, 1, 0}},
		{"version 1", append([]byte{1}, key[1:]...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := screen.NewDecoder().Decode(tc.u); !errors.Is(err, screen.ErrCorrupt) {
				t.Errorf("Decode error = %v, want ErrCorrupt", err)
			}
		})
	}

	// A zstd frame that asks for a window over 8 MiB is refused.
	var zbuf bytes.Buffer
	zw, err := zstd.NewWriter(&zbuf, zstd.WithWindowSize(16<<20), zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	zw.Write([]byte{2, 0, 0, 1, 1, 1, 2, 3}) // a solid op over the top-left pixel
	zw.Flush()
	big16 := append([]byte{2, 1, 10, 10, 8, byte(zbuf.Len())}, zbuf.Bytes()...)
	if _, err := screen.NewDecoder().Decode(big16); !errors.Is(err, screen.ErrCorrupt) {
		t.Errorf("a 16 MiB window: Decode error = %v, want ErrCorrupt", err)
	}

	// A few random bytes announcing the largest screen do not make the
	// decoder allocate it.
	big := screen.NewDecoder()
	if _, err := big.Decode([]byte{2, 1, 0x80, 0x40, 0x80, 0x40, 5, 2, 0xff, 0xff}); !errors.Is(err, screen.ErrCorrupt) || big.Image() != nil {
		t.Errorf("garbage keyframe of 8192x8192: %v, frame %v", err, big.Image() != nil)
	}

	// After an error, only a keyframe is accepted.
	dec := screen.NewDecoder()
	if _, err := dec.Decode(key); err != nil {
		t.Fatal(err)
	}
	if _, err := dec.Decode(next[:len(next)-1]); !errors.Is(err, screen.ErrCorrupt) {
		t.Fatalf("truncated update: %v", err)
	}
	if _, err := dec.Decode(next); !errors.Is(err, screen.ErrCorrupt) {
		t.Fatalf("update after an error: %v, want ErrCorrupt", err)
	}
	if dec.Image().W != 200 || dec.Image().H != 100 {
		t.Fatal("framebuffer changed size after an error")
	}
	enc.Reset()
	key, _, _ = enc.Encode(img, nil, nil, screen.Full)
	if _, err := dec.Decode(key); err != nil || !dec.Image().Equal(img) {
		t.Fatalf("keyframe after an error: %v", err)
	}
}
