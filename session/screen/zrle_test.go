package screen_test

import (
	"bytes"
	"compress/flate"
	"testing"

	"github.com/gethelp/gethelp/session/screen"
)

// zrle computes what a VNC server using ZRLE (RFC 6143, 7.7.6) sends, as a
// yardstick: changed 32×32 tiles
// (as x11vnc polls) merged into horizontal runs, each rect ZRLE-encoded
// with 64×64 subtiles into one persistent zlib stream (level 6).
type zrle struct {
	prev *screen.Image
	buf  bytes.Buffer
	zw   *flate.Writer
}

func (z *zrle) update(img *screen.Image) int {
	if z.zw == nil {
		z.zw, _ = flate.NewWriter(&z.buf, 6)
	}
	var rects []screen.Rect
	for ty := 0; ty < img.H; ty += 32 {
		run := screen.Rect{}
		for tx := 0; tx < img.W; tx += 32 {
			r := screen.Rect{X: tx, Y: ty, W: min(32, img.W-tx), H: min(32, img.H-ty)}
			if z.prev != nil && img.Sub(r).Equal(z.prev.Sub(r)) {
				if !run.Empty() {
					rects = append(rects, run)
				}
				run = screen.Rect{}
				continue
			}
			run = run.Union(r)
		}
		if !run.Empty() {
			rects = append(rects, run)
		}
	}
	z.prev = clone(img)
	if len(rects) == 0 {
		return 0
	}
	total := 4
	for _, r := range rects {
		var raw []byte
		for y := r.Y; y < r.Y+r.H; y += 64 {
			for x := r.X; x < r.X+r.W; x += 64 {
				raw = zrleTile(raw, img, screen.Rect{X: x, Y: y, W: min(64, r.X+r.W-x), H: min(64, r.Y+r.H-y)})
			}
		}
		z.buf.Reset()
		z.zw.Write(raw)
		z.zw.Flush()
		total += 12 + 4 + z.buf.Len()
	}
	return total
}

func zrleTile(out []byte, img *screen.Image, r screen.Rect) []byte {
	var px []uint32
	pal := map[uint32]int{}
	var order []uint32
	runs := 0
	for y := r.Y; y < r.Y+r.H; y++ {
		for x := r.X; x < r.X+r.W; x++ {
			o := y*img.Stride + 4*x
			c := uint32(img.Pix[o]) | uint32(img.Pix[o+1])<<8 | uint32(img.Pix[o+2])<<16
			if len(px) == 0 || px[len(px)-1] != c {
				runs++
			}
			px = append(px, c)
			if _, ok := pal[c]; !ok {
				pal[c] = len(order)
				order = append(order, c)
			}
		}
	}
	n := len(px)
	cp := func(b []byte, c uint32) []byte { return append(b, byte(c), byte(c>>8), byte(c>>16)) }
	if len(order) == 1 {
		return cp(append(out, 1), order[0])
	}
	// Choose the subencoding as libvncserver does, by estimated size.
	best, choice := 3*n, 0
	if est := 4 * runs; est < best {
		best, choice = est, 128
	}
	if len(order) < 128 {
		if est := 3*len(order) + 2*runs; est < best {
			best, choice = est, 130
		}
		if len(order) <= 16 {
			bits := 4
			if len(order) <= 2 {
				bits = 1
			} else if len(order) <= 4 {
				bits = 2
			}
			if est := 3*len(order) + (r.W*bits+7)/8*r.H; est < best {
				best, choice = est, 2
			}
		}
	}
	runLen := func(b []byte, l int) []byte {
		l--
		for l >= 255 {
			b = append(b, 255)
			l -= 255
		}
		return append(b, byte(l))
	}
	switch choice {
	case 0:
		out = append(out, 0)
		for _, c := range px {
			out = cp(out, c)
		}
	case 128:
		out = append(out, 128)
		for i := 0; i < n; {
			j := i
			for j < n && px[j] == px[i] {
				j++
			}
			out = runLen(cp(out, px[i]), j-i)
			i = j
		}
	case 130:
		out = append(out, byte(128+len(order)))
		for _, c := range order {
			out = cp(out, c)
		}
		for i := 0; i < n; {
			j := i
			for j < n && px[j] == px[i] {
				j++
			}
			if j-i == 1 {
				out = append(out, byte(pal[px[i]]))
			} else {
				out = runLen(append(out, byte(pal[px[i]])|128), j-i)
			}
			i = j
		}
	case 2:
		out = append(out, byte(len(order)))
		for _, c := range order {
			out = cp(out, c)
		}
		bits := 4
		if len(order) <= 2 {
			bits = 1
		} else if len(order) <= 4 {
			bits = 2
		}
		for y := 0; y < r.H; y++ {
			var acc, nb int
			for x := 0; x < r.W; x++ {
				acc = acc<<bits | pal[px[y*r.W+x]]
				nb += bits
				if nb == 8 {
					out = append(out, byte(acc))
					acc, nb = 0, 0
				}
			}
			if nb > 0 {
				out = append(out, byte(acc<<(8-nb)))
			}
		}
	}
	return out
}

// TestBytesAgainstZRLE runs a small desktop workload (a terminal on a
// wallpaper: keyframe, typing, scrolling, moving a window) through the
// codec at Full and through a ZRLE encoder, and wants at most 0.7 of ZRLE's
// bytes in total.
func TestBytesAgainstZRLE(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	bg := screen.NewImage(1280, 720)
	desktop(bg)
	img := clone(bg)
	termWin := screen.Rect{X: 40, Y: 30, W: 82 * cellW, H: 40 * cellH}
	term := newTextScreen(img, termWin, true, 1)
	term.fillText()
	other := screen.Rect{X: 820, Y: 200, W: 400, H: 300}
	content := clone(img)
	window(content, other, 2)
	copyIn(img, content, other, other.X, other.Y)

	var z zrle
	p := newPair(t)
	ours, theirs := map[string]int{}, map[string]int{}
	step := func(phase string, dirty []screen.Rect) {
		theirs[phase] += z.update(img)
		ours[phase] += p.exact(img, dirty, nil).Bytes
	}
	step("keyframe", nil)
	for i := range 60 {
		step("typing", []screen.Rect{term.put(i%80, 39, term.randomChar())})
	}
	for range 20 {
		step("scrolling", []screen.Rect{term.scroll(1)})
	}
	for range 10 {
		next := other
		next.X -= 23
		next.Y += 11
		copyIn(img, bg, other, other.X, other.Y)
		copyIn(img, content, other, next.X, next.Y)
		content = shifted(content, -23, 11)
		step("moving", []screen.Rect{other, next})
		other = next
	}
	var to, tt int
	for _, phase := range []string{"keyframe", "typing", "scrolling", "moving"} {
		t.Logf("%-9s ours %8d  ZRLE %8d  (%.2f)", phase, ours[phase], theirs[phase], float64(ours[phase])/float64(theirs[phase]))
		to += ours[phase]
		tt += theirs[phase]
	}
	t.Logf("total     ours %8d  ZRLE %8d  (%.2f)", to, tt, float64(to)/float64(tt))
	if float64(to) > 0.7*float64(tt) {
		t.Errorf("%d bytes, ZRLE %d: want at most 0.7 of ZRLE", to, tt)
	}
}
