package windows

import (
	"encoding/binary"
	"hash/fnv"

	"github.com/gethelp/gethelp/host"
)

// maxCursorSide bounds the cursors read: Windows draws them at most
// 256×256 (the largest accessibility size); anything larger is not a
// cursor worth sending.
const maxCursorSide = 256

// cursorFromBits makes a host.Cursor of a cursor's bitmaps, read as
// top-down 32-bit DIB rows (BGRX or BGRA): color is w×h pixels, or nil
// for a monochrome cursor; mask is w×h pixels (the AND mask) followed,
// for a monochrome cursor, by w×h more (the XOR mask). A mask pixel is
// set when it is not black. hotX, hotY is the hot spot, clamped into the
// image.
//
// Colour cursors whose colour has alpha are taken as they are (straight
// alpha); without alpha, the AND mask makes the transparent pixels. The
// pixels that Windows inverts (AND mask set, colour or XOR mask not
// black: the I-beam of some schemes) become opaque black, which is what
// inverting gives over the white of most text. Serial is a 32-bit hash of
// the result: equal shapes have equal serials, and different shapes
// different ones but for the hash's rare collisions. It returns nil when the
// sizes do not add up or the cursor is empty or too large.
func cursorFromBits(w, h, hotX, hotY int, color, mask []byte) *host.Cursor {
	if w <= 0 || h <= 0 || w > maxCursorSide || h > maxCursorSide {
		return nil
	}
	n := w * h
	if color != nil && (len(color) != 4*n || len(mask) != 4*n) || color == nil && len(mask) != 8*n {
		return nil
	}
	set := func(b []byte, i int) bool { return b[4*i]|b[4*i+1]|b[4*i+2] != 0 }
	c := &host.Cursor{
		W: w, H: h,
		HotX: min(max(hotX, 0), w-1), HotY: min(max(hotY, 0), h-1),
		Pix: make([]byte, 4*n),
	}
	alpha := false
	if color != nil {
		for i := range n {
			if color[4*i+3] != 0 {
				alpha = true
				break
			}
		}
	}
	for i := range n {
		p := c.Pix[4*i : 4*i+4 : 4*i+4]
		switch {
		case alpha:
			p[0], p[1], p[2], p[3] = color[4*i+2], color[4*i+1], color[4*i], color[4*i+3]
		case color != nil && !set(mask, i):
			p[0], p[1], p[2], p[3] = color[4*i+2], color[4*i+1], color[4*i], 0xff
		case color != nil:
			if set(color, i) {
				p[3] = 0xff // inverted: black
			}
		default: // monochrome: AND, XOR
			and, xor := set(mask, i), set(mask, n+i)
			switch {
			case !and && xor:
				p[0], p[1], p[2], p[3] = 0xff, 0xff, 0xff, 0xff // white
			case !and || xor:
				p[3] = 0xff // black, or inverted: black
			}
		}
	}
	hash := fnv.New32a()
	var head [16]byte
	binary.LittleEndian.PutUint32(head[0:], uint32(c.W))
	binary.LittleEndian.PutUint32(head[4:], uint32(c.H))
	binary.LittleEndian.PutUint32(head[8:], uint32(c.HotX))
	binary.LittleEndian.PutUint32(head[12:], uint32(c.HotY))
	hash.Write(head[:])
	hash.Write(c.Pix)
	c.Serial = hash.Sum32()
	return c
}

// transparent reports whether no pixel of c shows.
func transparent(c *host.Cursor) bool {
	for i := 3; i < len(c.Pix); i += 4 {
		if c.Pix[i] != 0 {
			return false
		}
	}
	return true
}
