package screen

import (
	"encoding/binary"
	"slices"
)

// maxPalette is the most colours a rectangle may have to be sent as a
// palette (8-bit indices). Sending every non-solid rectangle with the
// predictor instead took 3 to 4 times the bytes on text keyframes.
const maxPalette = 256

// Below Full, photo-like rectangles are sent as JPEG. A rectangle is
// photo-like if it has more than 256 colours and under half of its pixels
// equal their left neighbour, or if it has at least photoMinColors colours
// and at least photoSmooth of its pixels differ from their left neighbour
// by at most photoStep in every channel. On the nature photos measured, 90%
// of 64×64 tiles have a smooth fraction over 0.40 (the rest are flat or
// few-coloured and cheap to send exactly); text, anti-aliased text and UI
// stay under 0.15, since their edges jump.
const (
	photoLeftEqual = 0.5
	photoMinColors = 24
	photoStep      = 8
	photoSmooth    = 0.25
)

// highPSNR is the PSNR that High keeps photo-like rectangles at; highMSE is
// the matching mean squared error per channel. highMaxBits caps what that
// may cost, in bits per pixel: only noise needs more (photos took 0.2 to 1
// bit per pixel at 40.5 dB, 4:4:4), and there the rate grows by a bit per
// pixel for every half dB (a noisy plasma: 2.6 bits per pixel at quality
// 90 and 35.7 dB, 9.3 at quality 98 and 43 dB), for errors that the noise
// hides.
const (
	highPSNR    = 40.5
	highMSE     = 255 * 255 / 11220.185 // 10^(highPSNR/10)
	highMaxBits = 3
)

// tileCoder encodes one rectangle of pixels. Its buffers are reused.
type tileCoder struct {
	px      []uint32 // the rectangle's pixels, blue in the low byte, top byte 0
	colors  colorTable
	planes  []byte
	jpegEnc jpegEnc
}

// encode appends one pixel op for the rectangle r of img at level lv and
// returns its op code and how faithful the decoder's pixels will be.
func (c *tileCoder) encode(e *Encoder, img *Image, r Rect, lv Level) (int, Level) {
	n := r.W * r.H
	if cap(c.px) < n {
		c.px = make([]uint32, max(n, tileSize*tileSize))
	}
	px := c.px[:n]
	for y := 0; y < r.H; y++ {
		row := img.Pix[(r.Y+y)*img.Stride+4*r.X:]
		dst := px[y*r.W : (y+1)*r.W]
		for x := range dst {
			dst[x] = le32(row[4*x:]) & 0xffffff
		}
	}
	ncol, leftEq := c.colors.count(px, r.W)
	if lv < Full && ncol > 1 && photoLike(px, r.W, ncol, leftEq) {
		c.jpeg(e, img, r, lv)
		return opJPEG, lv
	}
	q := Full
	if lv == Low {
		for i, p := range px {
			if qp := quantize565(p); qp != p {
				px[i] = qp
				q = Low
			}
		}
		if q == Low {
			ncol, _ = c.colors.count(px, r.W)
		}
	}
	switch {
	case ncol == 1:
		e.appendRect(opSolid, r)
		e.raw = append(e.raw, byte(px[0]), byte(px[0]>>8), byte(px[0]>>16))
		return opSolid, q
	case ncol <= maxPalette:
		c.palette(e, px, r)
		return opPalette, q
	}
	c.lossless(e, px, r)
	return opLossless, q
}

// palette appends a palette op: the colours in order of first appearance,
// then the rows of packed indices, most significant bits first.
func (c *tileCoder) palette(e *Encoder, px []uint32, r Rect) {
	e.appendRect(opPalette, r)
	n := len(c.colors.list)
	e.raw = append(e.raw, byte(n-1))
	for _, col := range c.colors.list {
		e.raw = append(e.raw, byte(col), byte(col>>8), byte(col>>16))
	}
	bits := paletteBits(n)
	if n <= maxRunPalette && n > 4 {
		// Run-length form, if it is clearly smaller than packed indices:
		// it wins on gradients and flat UI, whose rows repeat shifted.
		runBytes := 0
		for i := 0; i < len(px); {
			j := i + 1
			for j < len(px) && px[j] == px[i] {
				j++
			}
			runBytes += 1 + min(j-i-1, 1)
			i = j
		}
		if 2*runBytes < r.H*((r.W*bits+7)/8) {
			e.raw = append(e.raw, 0)
			for i := 0; i < len(px); {
				j := i + 1
				for j < len(px) && px[j] == px[i] {
					j++
				}
				if j-i == 1 {
					e.raw = append(e.raw, c.colors.lookup(px[i]))
				} else {
					e.raw = append(e.raw, c.colors.lookup(px[i])|0x80)
					e.raw = binary.AppendUvarint(e.raw, uint64(j-i-2))
				}
				i = j
			}
			return
		}
	}
	e.raw = append(e.raw, byte(bits))
	last, li := ^uint32(0), byte(0)
	for y := 0; y < r.H; y++ {
		var acc byte
		nb := 0
		for _, col := range px[y*r.W : (y+1)*r.W] {
			if col != last {
				last, li = col, c.colors.lookup(col)
			}
			acc = acc<<bits | li
			if nb += bits; nb == 8 {
				e.raw = append(e.raw, acc)
				acc, nb = 0, 0
			}
		}
		if nb > 0 {
			e.raw = append(e.raw, acc<<(8-nb))
		}
	}
}

// lossless appends a lossless op: the planes green, blue−green and
// red−green, each as residuals of the median edge predictor.
func (c *tileCoder) lossless(e *Encoder, px []uint32, r Rect) {
	e.appendRect(opLossless, r)
	n := len(px)
	if cap(c.planes) < 3*n {
		c.planes = make([]byte, 3*max(n, tileSize*tileSize))
	}
	p := c.planes[:3*n]
	g, b, rr := p[:n], p[n:2*n], p[2*n:]
	for i, v := range px {
		gv := byte(v >> 8)
		g[i], b[i], rr[i] = gv, byte(v)-gv, byte(v>>16)-gv
	}
	start := len(e.raw)
	e.raw = slices.Grow(e.raw, 3*n)[:start+3*n]
	out := e.raw[start:]
	for k := range 3 {
		residuals(out[k*n:(k+1)*n], p[k*n:(k+1)*n], r.W)
	}
}

// residuals writes to dst the prediction residuals of the plane p, w wide.
func residuals(dst, p []byte, w int) {
	dst[0] = p[0]
	for x := 1; x < w; x++ {
		dst[x] = p[x] - p[x-1]
	}
	for y := w; y < len(p); y += w {
		row, up, d := p[y:y+w], p[y-w:y], dst[y:y+w]
		d[0] = row[0] - up[0]
		for x := 1; x < w; x++ {
			d[x] = row[x] - med(row[x-1], up[x], up[x-1])
		}
	}
}

// unresiduals turns the residuals in p, w wide, back into the plane.
func unresiduals(p []byte, w int) {
	for x := 1; x < w; x++ {
		p[x] += p[x-1]
	}
	for y := w; y < len(p); y += w {
		row, up := p[y:y+w], p[y-w:y]
		row[0] += up[0]
		for x := 1; x < w; x++ {
			row[x] += med(row[x-1], up[x], up[x-1])
		}
	}
}

// jpeg appends a JPEG op for r: 4:2:0 at the level's fixed quality below
// High, 4:4:4 at the lowest quality that keeps highPSNR at High (within
// highMaxBits).
func (c *tileCoder) jpeg(e *Encoder, img *Image, r Rect, lv Level) {
	full := lv >= High
	scan, q := c.jpegEnc.encode(img, r, !full, jpegQuality[lv], highMSE, highMaxBits)
	e.appendRect(opJPEG, r)
	flags := byte(0)
	if full {
		flags |= jpeg444
	}
	if q != e.quant {
		flags |= jpegTables
	}
	e.raw = append(e.raw, flags)
	if q != e.quant {
		e.raw = binary.AppendUvarint(e.raw, uint64(len(q.tables)))
		e.raw = append(e.raw, q.tables...)
		e.quant = q
	}
	e.raw = binary.AppendUvarint(e.raw, uint64(len(scan)))
	e.blobs = append(e.blobs, scan...)
}

// photoLike reports whether a rectangle of n pixels, ncol colours (257 for
// more than 256) and leftEq pixels equal to their left neighbour looks like
// a photo rather than text or UI: many colours, and changes from pixel to
// pixel that are mostly small.
func photoLike(px []uint32, w, ncol, leftEq int) bool {
	n := len(px)
	if ncol > maxPalette && float64(leftEq) < photoLeftEqual*float64(n) {
		return true
	}
	if ncol < photoMinColors {
		return false
	}
	smooth := 0
	for y := 0; y < n; y += w {
		row := px[y : y+w]
		for x := 1; x < len(row); x++ {
			a, b := row[x], row[x-1]
			if a == b {
				continue
			}
			if absDiff(a, b) <= photoStep && absDiff(a>>8, b>>8) <= photoStep && absDiff(a>>16, b>>16) <= photoStep {
				smooth++
			}
		}
	}
	return float64(smooth) >= photoSmooth*float64(n)
}

func absDiff(a, b uint32) uint32 {
	a, b = a&0xff, b&0xff
	if a > b {
		return a - b
	}
	return b - a
}

// colorTable counts the distinct colours of a rectangle, up to 256, and
// numbers them in order of first appearance.
type colorTable struct {
	keys  [1024]uint32
	vals  [1024]byte
	stamp [1024]uint32
	gen   uint32
	list  []uint32
}

// count returns the number of distinct colours in px (w wide), or 257 if
// there are more than 256, and the number of pixels equal to their left
// neighbour.
func (t *colorTable) count(px []uint32, w int) (ncol, leftEq int) {
	t.gen++
	if t.gen == 0 {
		clear(t.stamp[:])
		t.gen = 1
	}
	t.list = t.list[:0]
	full := false
	for y := 0; y < len(px); y += w {
		row := px[y : y+w]
		last := row[0]
		if !full {
			full = !t.add(last)
		}
		for _, c := range row[1:] {
			if c == last {
				leftEq++
				continue
			}
			last = c
			if !full {
				full = !t.add(c)
			}
		}
	}
	if full {
		return maxPalette + 1, leftEq
	}
	return len(t.list), leftEq
}

func colorHash(c uint32) uint32 { return (c * 0x9e3779b1) >> 22 }

// add puts c in the table; it reports false if c is new and the table
// already holds 256 colours.
func (t *colorTable) add(c uint32) bool {
	for h := colorHash(c); ; h = (h + 1) & 1023 {
		if t.stamp[h] != t.gen {
			if len(t.list) == maxPalette {
				return false
			}
			t.stamp[h], t.keys[h], t.vals[h] = t.gen, c, byte(len(t.list))
			t.list = append(t.list, c)
			return true
		}
		if t.keys[h] == c {
			return true
		}
	}
}

// lookup returns the index of c, which must be in the table.
func (t *colorTable) lookup(c uint32) byte {
	for h := colorHash(c); ; h = (h + 1) & 1023 {
		if t.stamp[h] == t.gen && t.keys[h] == c {
			return t.vals[h]
		}
	}
}
