package viewerui

import (
	"encoding/binary"

	"github.com/gethelp/gethelp/session"
	"github.com/gethelp/gethelp/session/screen"
)

// The page's binary WebSocket messages (server to page only), version 1.
//
// A message is one version byte (1) followed by one or more records. A
// record is one kind byte followed by its fields; every integer is
// little-endian, 4 bytes, unsigned unless marked signed:
//
//	1 resize   w, h                                  canvas becomes w×h, black
//	2 copy     srcX, srcY, w, h, dstX, dstY          drawImage(canvas, …) on itself
//	3 pixels   x, y, w, h, then w*h*4 bytes          RGBA (A always 255), row after row
//	4 pointer  x, y (signed), visible (1 byte)       the host's pointer hot spot
//	5 cursor   serial, w, h, hotX, hotY, then w*h*4  the pointer's shape, RGBA
//	6 sync     seq                                   the records before it bring the canvas to update seq
//
// Records apply in order; a message never exceeds maxMessage bytes, so big
// rectangles are split into strips of whole rows. A page that sees an
// unknown version or kind ignores the rest of the message.
const (
	wireVersion = 1

	recResize  = 1
	recCopy    = 2
	recPixels  = 3
	recPointer = 4
	recCursor  = 5
	recSync    = 6

	// maxMessage bounds every binary message.
	maxMessage = 1 << 20

	pixelsHeader = 1 + 4*4
	cursorHeader = 1 + 5*4
	// maxCursor is the largest pointer shape forwarded, per side.
	maxCursor = 256
)

// wireWriter packs records into messages of at most limit bytes.
type wireWriter struct {
	limit int
	msgs  [][]byte
	cur   []byte
}

func newWireWriter() *wireWriter { return &wireWriter{limit: maxMessage} }

// room makes sure the current message has n more bytes of space (starting a
// new message when needed) and returns how many bytes are free in it.
func (w *wireWriter) room(n int) int {
	if w.cur != nil && len(w.cur)+n > w.limit {
		w.msgs = append(w.msgs, w.cur)
		w.cur = nil
	}
	if w.cur == nil {
		w.cur = make([]byte, 1, min(w.limit, max(n+1, 4096)))
		w.cur[0] = wireVersion
	}
	return w.limit - len(w.cur)
}

func (w *wireWriter) record(kind byte, fields ...uint32) {
	w.room(1 + 4*len(fields))
	w.cur = append(w.cur, kind)
	for _, f := range fields {
		w.cur = binary.LittleEndian.AppendUint32(w.cur, f)
	}
}

func (w *wireWriter) resize(width, height int) {
	w.record(recResize, uint32(width), uint32(height))
}

func (w *wireWriter) copyRect(srcX, srcY int, dst screen.Rect) {
	w.record(recCopy, uint32(srcX), uint32(srcY), uint32(dst.W), uint32(dst.H), uint32(dst.X), uint32(dst.Y))
}

// pixels adds r of img (clipped to it), converted from BGRX to RGBA, in as
// many strips as the message limit needs.
func (w *wireWriter) pixels(img *screen.Image, r screen.Rect) {
	r = r.Intersect(img.Bounds())
	if r.Empty() {
		return
	}
	row := 4 * r.W
	if pixelsHeader+row > w.limit-1 {
		// Wider than a message: send it in narrower columns.
		cols := (w.limit - 1 - pixelsHeader) / 4
		for x := r.X; x < r.X+r.W; x += cols {
			w.pixels(img, screen.Rect{X: x, Y: r.Y, W: min(cols, r.X+r.W-x), H: r.H})
		}
		return
	}
	for y := r.Y; y < r.Y+r.H; {
		free := w.room(pixelsHeader + row)
		rows := min((free-pixelsHeader)/row, r.Y+r.H-y)
		w.cur = append(w.cur, recPixels)
		for _, f := range []int{r.X, y, r.W, rows} {
			w.cur = binary.LittleEndian.AppendUint32(w.cur, uint32(f))
		}
		for i := range rows {
			src := img.Pix[(y+i)*img.Stride+4*r.X:][:row]
			w.cur = appendRGBA(w.cur, src)
		}
		y += rows
	}
}

// appendRGBA appends BGRX pixels as opaque RGBA.
func appendRGBA(dst, bgrx []byte) []byte {
	n := len(dst)
	dst = append(dst, bgrx...)
	out := dst[n:]
	for i := 0; i+3 < len(out); i += 4 {
		out[i], out[i+2], out[i+3] = out[i+2], out[i], 0xff
	}
	return dst
}

func (w *wireWriter) pointer(x, y int, visible bool) {
	var v byte
	if visible {
		v = 1
	}
	w.room(1 + 8 + 1)
	w.cur = append(w.cur, recPointer)
	w.cur = binary.LittleEndian.AppendUint32(w.cur, uint32(int32(x)))
	w.cur = binary.LittleEndian.AppendUint32(w.cur, uint32(int32(y)))
	w.cur = append(w.cur, v)
}

// cursor adds the pointer shape c; it reports false (adding nothing) for a
// malformed or oversized shape.
func (w *wireWriter) cursor(c *session.CursorMessage) bool {
	if c.W <= 0 || c.H <= 0 || c.W > maxCursor || c.H > maxCursor || len(c.RGBA) != 4*c.W*c.H ||
		c.HotX < 0 || c.HotY < 0 || c.HotX >= c.W || c.HotY >= c.H {
		return false
	}
	w.room(cursorHeader + len(c.RGBA))
	w.cur = append(w.cur, recCursor)
	for _, f := range []uint32{c.Serial, uint32(c.W), uint32(c.H), uint32(c.HotX), uint32(c.HotY)} {
		w.cur = binary.LittleEndian.AppendUint32(w.cur, f)
	}
	w.cur = append(w.cur, c.RGBA...)
	return true
}

func (w *wireWriter) sync(seq uint32) { w.record(recSync, seq) }

// messages returns the packed messages and empties w.
func (w *wireWriter) messages() [][]byte {
	if w.cur != nil {
		w.msgs = append(w.msgs, w.cur)
	}
	m := w.msgs
	w.msgs, w.cur = nil, nil
	return m
}
