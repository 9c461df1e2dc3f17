package screen

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"io"

	"github.com/klauspost/compress/zstd"
)

// ErrCorrupt is returned (wrapped) by Decode for an update it cannot apply:
// malformed, out of bounds, over a limit, or following an update that was.
var ErrCorrupt = errors.New("screen: corrupt update")

// OpKind says what an Op did to the framebuffer.
type OpKind uint8

// Kinds of Op.
const (
	OpPixels OpKind = 1 // Rect now holds new pixels: read them from Image()
	OpCopy   OpKind = 2 // the pixels at SrcX, SrcY were copied to Rect
	OpResize OpKind = 3 // the framebuffer was replaced by a black one of Rect's size
)

// Op is one change Decode made to the framebuffer. Replayed in order onto a
// copy of the previous frame (a browser canvas: OpCopy as drawImage of the
// canvas onto itself, OpPixels by drawing Rect from Image()), the ops give
// the new frame.
type Op struct {
	Kind       OpKind
	Rect       Rect
	SrcX, SrcY int // OpCopy: the top-left corner of the source; Rect is the destination
}

// Decoder applies the updates of one Encoder to its framebuffer. The zero
// value is not ready; use NewDecoder. Not safe for concurrent use.
type Decoder struct {
	img    *Image // the framebuffer; nil before the first keyframe
	broken bool   // an update failed: only a keyframe can follow

	src    bytes.Buffer  // compressed command stream not yet decompressed
	zr     *zstd.Decoder // decompresses src; its window persists across updates
	lr     io.LimitedReader
	br     *bufio.Reader
	tables []byte // JPEG tables from the last op that sent them
	blobs  []byte // the current update's JPEG scans not yet used
	area   int    // pixels the current update's ops have touched
	budget int    // the most area an update may touch

	maxSide int // largest screen side accepted; MaxSize when 0
	buf     []byte
	jpg     []byte
}

// NewDecoder returns a Decoder that waits for a keyframe.
func NewDecoder() *Decoder {
	return &Decoder{}
}

// Image returns the framebuffer, or nil before the first keyframe. It is
// the decoder's own: it changes with every Decode and is replaced by a
// keyframe. Its fourth bytes are 0xff.
func (d *Decoder) Image() *Image { return d.img }

// Decode applies one update and returns what it changed, in order.
//
// A malformed update, or one over a limit (MaxSize on a side, area and
// stream lengths derived from the screen size), gives an error wrapping
// ErrCorrupt, with the ops applied before the fault was found. The
// framebuffer then keeps its size but may hold part of the update, and every
// update but a keyframe is refused until one comes: the viewer should ask
// the host for one (Encoder.Reset). Decode never panics on any input.
func (d *Decoder) Decode(update []byte) ([]Op, error) {
	ops, err := d.decode(update)
	if err != nil {
		d.broken = true
		return ops, err
	}
	return ops, nil
}

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}

func (d *Decoder) decode(u []byte) ([]Op, error) {
	if len(u) < 2 {
		return nil, corrupt("%d bytes", len(u))
	}
	if u[0] != formatVersion {
		return nil, corrupt("format version %d, want %d", u[0], formatVersion)
	}
	flags, p := u[1], u[2:]
	if flags&^flagKey != 0 {
		return nil, corrupt("unknown flags %#x", flags)
	}
	key := flags&flagKey != 0
	var w, h uint64
	var ok bool
	if key {
		maxSide := uint64(MaxSize)
		if d.maxSide > 0 {
			maxSide = uint64(d.maxSide)
		}
		if w, p, ok = uvarint(p); !ok {
			return nil, corrupt("bad width")
		}
		if h, p, ok = uvarint(p); !ok {
			return nil, corrupt("bad height")
		}
		if w < 1 || h < 1 || w > maxSide || h > maxSide {
			return nil, corrupt("screen size %dx%d", w, h)
		}
	} else {
		if d.img == nil || d.broken {
			return nil, corrupt("update without a keyframe before it")
		}
		w, h = uint64(d.img.W), uint64(d.img.H)
	}
	rawLen, p, ok := uvarint(p)
	if !ok || rawLen == 0 || rawLen > uint64(maxRaw(int(w), int(h))) {
		return nil, corrupt("command stream length %d", rawLen)
	}
	zLen, p, ok := uvarint(p)
	if !ok || zLen > uint64(len(p)) {
		return nil, corrupt("compressed length %d of %d bytes", zLen, len(p))
	}

	if key {
		d.resetStream()
	}
	d.src.Write(p[:zLen])
	d.blobs = p[zLen:]
	d.lr = io.LimitedReader{R: d.zr, N: int64(rawLen)}
	d.br.Reset(&d.lr)
	var ops []Op
	if key {
		// Inflate the first op before allocating what may be 256 MiB, so
		// that a few random bytes do not make the decoder do that.
		if _, err := d.br.Peek(1); err != nil {
			return nil, corrupt("command stream: %v", noEOF(err))
		}
		d.newFrame(int(w), int(h))
		ops = append(ops, Op{Kind: OpResize, Rect: d.img.Bounds()})
	}
	d.area, d.budget = 0, maxAreaFactor*d.img.W*d.img.H
	pixels := false
	maxOps := 1024 + d.img.W*d.img.H/64
	for n := 0; ; n++ {
		op, err := d.br.ReadByte()
		if err != nil {
			if err == io.EOF && d.lr.N == 0 {
				break
			}
			return ops, corrupt("command stream: %v", noEOF(err))
		}
		if n == maxOps {
			return ops, corrupt("more than %d ops", maxOps)
		}
		if op == opCopy {
			if pixels {
				return ops, corrupt("copy after pixels")
			}
			o, err := d.copyOp()
			if err != nil {
				return ops, err
			}
			ops = append(ops, o)
			continue
		}
		pixels = true
		r, err := d.pixelOp(op)
		if err != nil {
			return ops, err
		}
		if n := len(ops) - 1; n >= 0 && ops[n].Kind == OpPixels {
			if l := ops[n].Rect; l.Y == r.Y && l.H == r.H && l.X+l.W == r.X {
				ops[n].Rect.W += r.W
				continue
			}
		}
		ops = append(ops, Op{Kind: OpPixels, Rect: r})
	}
	if len(d.blobs) != 0 {
		return ops, corrupt("%d bytes of JPEG data left over", len(d.blobs))
	}
	return ops, nil
}

// resetStream starts a new command stream and forgets the JPEG tables.
func (d *Decoder) resetStream() {
	d.src.Reset()
	// The zstd decoder reads src as a stream, a block at a time, and never
	// past the blocks an update's command stream needs. (Handed a
	// *bytes.Buffer itself, it would decode what the buffer holds at once
	// and stop there.)
	src := struct{ io.Reader }{&d.src}
	if d.zr == nil {
		zr, err := zstd.NewReader(src, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(streamWindow),
			zstd.WithDecoderMaxMemory(streamWindow), zstd.WithDecoderLowmem(true))
		if err != nil {
			panic(err) // the options are valid
		}
		d.zr = zr
		d.br = bufio.NewReaderSize(&d.lr, 32<<10)
	} else if err := d.zr.Reset(src); err != nil {
		panic(err) // Reset with a reader fails only after Close, which is never called
	}
	d.tables = nil
}

// newFrame makes the framebuffer a black w×h one.
func (d *Decoder) newFrame(w, h int) {
	if d.img != nil && d.img.W == w && d.img.H == h {
		clear(d.img.Pix)
		for i := 3; i < len(d.img.Pix); i += 4 {
			d.img.Pix[i] = 0xff
		}
	} else {
		d.img = nil // let the old frame go before allocating the new one
		d.img = NewImage(w, h)
	}
	d.broken = false
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func uvarint(p []byte) (uint64, []byte, bool) {
	v, n := binary.Uvarint(p)
	if n <= 0 {
		return 0, p, false
	}
	return v, p[n:], true
}

func (d *Decoder) readUvarint(max uint64, what string) (int, error) {
	v, err := binary.ReadUvarint(d.br)
	if err != nil {
		return 0, corrupt("%s: %v", what, noEOF(err))
	}
	if v > max {
		return 0, corrupt("%s %d over %d", what, v, max)
	}
	return int(v), nil
}

// readRect reads a rectangle that must lie in the frame and have no side
// longer than maxSide, and charges its area.
func (d *Decoder) readRect(maxSide int) (Rect, error) {
	var v [4]int
	for i, what := range [4]string{"x", "y", "width", "height"} {
		n, err := d.readUvarint(MaxSize, what)
		if err != nil {
			return Rect{}, err
		}
		v[i] = n
	}
	r := Rect{v[0], v[1], v[2], v[3]}
	if r.W < 1 || r.H < 1 || r.W > maxSide || r.H > maxSide || r.X+r.W > d.img.W || r.Y+r.H > d.img.H {
		return Rect{}, corrupt("rectangle %v outside %dx%d", r, d.img.W, d.img.H)
	}
	if d.area += r.Area(); d.area > d.budget {
		return Rect{}, corrupt("update touches more than %d pixels", d.budget)
	}
	return r, nil
}

func (d *Decoder) copyOp() (Op, error) {
	r, err := d.readRect(MaxSize)
	if err != nil {
		return Op{}, err
	}
	sx, err := d.readUvarint(MaxSize, "source x")
	if err != nil {
		return Op{}, err
	}
	sy, err := d.readUvarint(MaxSize, "source y")
	if err != nil {
		return Op{}, err
	}
	if sx+r.W > d.img.W || sy+r.H > d.img.H {
		return Op{}, corrupt("copy source %v outside %dx%d", Rect{sx, sy, r.W, r.H}, d.img.W, d.img.H)
	}
	copyRect(d.img, sx, sy, r.X, r.Y, r.W, r.H)
	return Op{Kind: OpCopy, Rect: r, SrcX: sx, SrcY: sy}, nil
}

// read returns the next n bytes of the command stream, in d.buf.
func (d *Decoder) read(n int) ([]byte, error) {
	if cap(d.buf) < n {
		d.buf = make([]byte, n)
	}
	b := d.buf[:n]
	if _, err := io.ReadFull(d.br, b); err != nil {
		return nil, corrupt("command stream: %v", noEOF(err))
	}
	return b, nil
}

func (d *Decoder) pixelOp(op byte) (Rect, error) {
	if op < opSolid || op > opJPEG {
		return Rect{}, corrupt("unknown op %d", op)
	}
	r, err := d.readRect(maxRectSide)
	if err != nil {
		return r, err
	}
	switch op {
	case opSolid:
		err = d.solid(r)
	case opPalette:
		err = d.palette(r)
	case opLossless:
		err = d.lossless(r)
	case opJPEG:
		err = d.jpeg(r)
	}
	return r, err
}

func (d *Decoder) row(r Rect, y int) []byte {
	o := (r.Y+y)*d.img.Stride + 4*r.X
	return d.img.Pix[o : o+4*r.W]
}

func (d *Decoder) solid(r Rect) error {
	c, err := d.read(3)
	if err != nil {
		return err
	}
	px := [4]byte{c[0], c[1], c[2], 0xff}
	for y := range r.H {
		row := d.row(r, y)
		for x := 0; x < len(row); x += 4 {
			copy(row[x:x+4], px[:])
		}
	}
	return nil
}

func (d *Decoder) palette(r Rect) error {
	b, err := d.read(1)
	if err != nil {
		return err
	}
	n := int(b[0]) + 1
	if n < 2 {
		return corrupt("palette of one colour")
	}
	b, err = d.read(3 * n)
	if err != nil {
		return err
	}
	var pal [256][4]byte
	for i := range n {
		pal[i] = [4]byte{b[3*i], b[3*i+1], b[3*i+2], 0xff}
	}
	b, err = d.read(1)
	if err != nil {
		return err
	}
	bits := int(b[0])
	if bits == 0 {
		return d.paletteRuns(r, pal[:n])
	}
	if bits != 1 && bits != 2 && bits != 4 && bits != 8 || n > 1<<bits {
		return corrupt("%d bits for %d colours", bits, n)
	}
	rowBytes := (r.W*bits + 7) / 8
	b, err = d.read(r.H * rowBytes)
	if err != nil {
		return err
	}
	mask := byte(1)<<bits - 1
	for y := range r.H {
		src, dst := b[y*rowBytes:(y+1)*rowBytes], d.row(r, y)
		for x := range r.W {
			bit := x * bits
			i := int(src[bit>>3]>>(8-bits-bit&7)) & int(mask)
			if i >= n {
				return corrupt("palette index %d of %d", i, n)
			}
			copy(dst[4*x:4*x+4], pal[i][:])
		}
	}
	return nil
}

func (d *Decoder) lossless(r Rect) error {
	n := r.W * r.H
	p, err := d.read(3 * n)
	if err != nil {
		return err
	}
	for k := range 3 {
		unresiduals(p[k*n:(k+1)*n], r.W)
	}
	g, b, rr := p[:n], p[n:2*n], p[2*n:]
	for y := range r.H {
		row := d.row(r, y)
		for x := range r.W {
			i := y*r.W + x
			row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = b[i]+g[i], g[i], rr[i]+g[i], 0xff
		}
	}
	return nil
}

func (d *Decoder) jpeg(r Rect) error {
	b, err := d.read(1)
	if err != nil {
		return err
	}
	flags := b[0]
	if flags&^(jpegTables|jpeg444) != 0 {
		return corrupt("JPEG flags %#x", flags)
	}
	if flags&jpegTables != 0 {
		n, err := d.readUvarint(maxTablesLen, "JPEG tables length")
		if err != nil {
			return err
		}
		t, err := d.read(n)
		if err != nil {
			return err
		}
		if !validTables(t) {
			return corrupt("bad JPEG tables")
		}
		d.tables = append(d.tables[:0], t...)
	} else if d.tables == nil {
		return corrupt("JPEG without tables")
	}
	n, err := d.readUvarint(uint64(len(d.blobs)), "JPEG scan length")
	if err != nil {
		return err
	}
	scan := d.blobs[:n]
	d.blobs = d.blobs[n:]

	j := append(d.jpg[:0], 0xff, 0xd8)
	j = append(j, d.tables...)
	j = appendSOF0(j, r.W, r.H, flags&jpeg444 != 0)
	j = append(j, sosHeader...)
	j = append(j, scan...)
	j = append(j, 0xff, 0xd9)
	d.jpg = j
	m, err := jpeg.Decode(bytes.NewReader(j))
	if err != nil {
		return corrupt("JPEG: %v", err)
	}
	ycc, ok := m.(*image.YCbCr)
	if !ok || ycc.Rect != image.Rect(0, 0, r.W, r.H) {
		return corrupt("JPEG decodes to %T %v", m, m.Bounds())
	}
	for y := range r.H {
		row := d.row(r, y)
		yi := y * ycc.YStride
		switch ycc.SubsampleRatio {
		case image.YCbCrSubsampleRatio444:
			ci := y * ycc.CStride
			for x := range r.W {
				ycbcrToBGRX(row[4*x:4*x+4], ycc.Y[yi+x], ycc.Cb[ci+x], ycc.Cr[ci+x])
			}
		case image.YCbCrSubsampleRatio420:
			ci := y / 2 * ycc.CStride
			for x := range r.W {
				ycbcrToBGRX(row[4*x:4*x+4], ycc.Y[yi+x], ycc.Cb[ci+x/2], ycc.Cr[ci+x/2])
			}
		default:
			for x := range r.W {
				ci := ycc.COffset(x, y)
				ycbcrToBGRX(row[4*x:4*x+4], ycc.Y[ycc.YOffset(x, y)], ycc.Cb[ci], ycc.Cr[ci])
			}
		}
	}
	return nil
}

// ycbcrToBGRX converts as image/color.YCbCrToRGB does (JFIF).
func ycbcrToBGRX(p []byte, y, cb, cr uint8) {
	yy := int32(y) * 0x10101
	cb1, cr1 := int32(cb)-128, int32(cr)-128
	p[0] = clamp16(yy + 116130*cb1)
	p[1] = clamp16(yy - 22554*cb1 - 46802*cr1)
	p[2] = clamp16(yy + 91881*cr1)
	p[3] = 0xff
}

// clamp16 returns v>>16 clamped to 0..255.
func clamp16(v int32) uint8 {
	if uint32(v)&0xff000000 == 0 {
		return uint8(v >> 16)
	}
	return uint8(^(v >> 31))
}

// paletteRuns reads the runs of a palette op in run-length form.
func (d *Decoder) paletteRuns(r Rect, pal [][4]byte) error {
	x, y := 0, 0
	if len(pal) > maxRunPalette {
		return corrupt("%d colours in run-length form", len(pal))
	}
	for y < r.H {
		i, err := d.br.ReadByte()
		if err != nil {
			return corrupt("palette runs: %v", noEOF(err))
		}
		n := 0 // pixels after the first
		if i&0x80 != 0 {
			i &= 0x7f
			if n, err = d.readUvarint(uint64(max(r.W*r.H-2, 0)), "run length"); err != nil {
				return err
			}
			n++
		}
		if int(i) >= len(pal) {
			return corrupt("palette index %d of %d", i, len(pal))
		}
		for n++; n > 0; {
			row := d.row(r, y)
			k := min(n, r.W-x)
			for j := x; j < x+k; j++ {
				copy(row[4*j:4*j+4], pal[i][:])
			}
			n -= k
			if x += k; x == r.W {
				x, y = 0, y+1
				if y == r.H && n > 0 {
					return corrupt("palette runs overflow %v", r)
				}
			}
		}
	}
	return nil
}
