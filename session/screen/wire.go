package screen

import "encoding/binary"

// Wire constants of update format version 2 (see the package documentation).
const (
	formatVersion = 2

	flagKey = 1 << 0 // keyframe: size follows, decoder state starts afresh

	opCopy     = 1
	opSolid    = 2
	opPalette  = 3
	opLossless = 4
	opJPEG     = 5

	jpegTables = 1 << 0 // JPEG op flags: tables follow
	jpeg444    = 1 << 1 // chroma at full resolution, else halved both ways

	// MaxSize is the largest screen side, in pixels, an update may declare.
	MaxSize = 8192

	maxRectSide   = 256  // largest side of a pixel op's rectangle
	maxTablesLen  = 2048 // largest JPEG tables block
	maxAreaFactor = 4    // ops of one update may touch at most this many frames' worth of pixels
	maxRawSlack   = 1 << 20
)

// tileSize is the side of the encoder's tile grid; the format does not
// depend on it. On the desktop workload of TestBytesAgainstZRLE, 128 beat 64
// and 32 on keyframes (0.89, 1.00, 1.13 of ZRLE's bytes) and full-screen
// text (89, 104, 130 kB) at the same cost for typing, since changed
// rectangles are trimmed to the changed pixels; 256 saved more on keyframes
// but lost on moved windows and took twice the time per keystroke.
const tileSize = 128

// jpegQuality is the JPEG quality (4:2:0) of photo-like rectangles at Low
// and Medium. High picks its quality per rectangle (see highPSNR).
var jpegQuality = [...]int{Low: 50, Medium: 75, High: 0}

// maxRaw is the largest command stream a single update for a w×h screen may
// announce: lossless pixels take 3 bytes each and the area limit allows
// maxAreaFactor frames of them, plus slack for op headers and JPEG tables.
// The decoder parses the stream as it decompresses it, so this bounds
// work, not memory.
func maxRaw(w, h int) int { return 3*maxAreaFactor*w*h + maxRawSlack }

// Baseline JPEG headers the decoder rebuilds around each scan: three
// components, Y with tables 0, Cb and Cr with tables 1.
var sosHeader = []byte{
	0xff, 0xda, 0x00, 0x0c, 0x03, 0x01, 0x00, 0x02,
	0x11, 0x03, 0x11, 0x00, 0x3f, 0x00,
}

func appendSOF0(b []byte, w, h int, full bool) []byte {
	ySampling := byte(0x22) // 4:2:0: luma sampled twice as densely both ways
	if full {
		ySampling = 0x11
	}
	return append(b, 0xff, 0xc0, 0x00, 0x11, 0x08,
		byte(h>>8), byte(h), byte(w>>8), byte(w), 0x03,
		0x01, ySampling, 0x00,
		0x02, 0x11, 0x01,
		0x03, 0x11, 0x01)
}

// validTables reports whether t is a sequence of whole DQT and DHT segments,
// the only thing a JPEG tables block may hold.
func validTables(t []byte) bool {
	if len(t) == 0 {
		return false
	}
	for len(t) > 0 {
		if len(t) < 4 || t[0] != 0xff || (t[1] != 0xdb && t[1] != 0xc4) {
			return false
		}
		n := int(binary.BigEndian.Uint16(t[2:]))
		if n < 2 || 2+n > len(t) {
			return false
		}
		t = t[2+n:]
	}
	return true
}

// maxRunPalette is the most colours a palette op in run-length form may have:
// the top bit of each index says whether a run length follows.
const maxRunPalette = 128

// paletteBits is the number of bits per index for a palette of n colours.
func paletteBits(n int) int {
	switch {
	case n <= 2:
		return 1
	case n <= 4:
		return 2
	case n <= 16:
		return 4
	default:
		return 8
	}
}

// med is the LOCO-I median edge detector: a is the left neighbour, b the one
// above, c the one above-left.
func med(a, b, c byte) byte {
	mx, mn := a, b
	if b > a {
		mx, mn = b, a
	}
	switch {
	case c >= mx:
		return mn
	case c <= mn:
		return mx
	default:
		return a + b - c
	}
}

// quantize565 reduces a masked BGR pixel to 5-6-5 bits, replicating the high
// bits into the low ones so that white stays white. Applying it twice gives
// the same pixel.
func quantize565(c uint32) uint32 {
	b, g, r := c&0xff, c>>8&0xff, c>>16&0xff
	b = b&0xf8 | b>>5
	g = g&0xfc | g>>6
	r = r&0xf8 | r>>5
	return b | g<<8 | r<<16
}

func le32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }

// equalBGR reports whether two rows of pixels agree in blue, green and red.
func equalBGR(a, b []byte) bool {
	return string(a) == string(b) || firstDiff(a, b) == min(len(a), len(b))/4
}

// copyRect moves the w×h pixels at sx, sy to dx, dy inside m, reading every
// source pixel before it is overwritten (as canvas drawImage of a canvas onto
// itself does).
func copyRect(m *Image, sx, sy, dx, dy, w, h int) {
	n := 4 * w
	if dy <= sy {
		for y := 0; y < h; y++ {
			d := (dy+y)*m.Stride + 4*dx
			s := (sy+y)*m.Stride + 4*sx
			copy(m.Pix[d:d+n], m.Pix[s:s+n])
		}
		return
	}
	for y := h - 1; y >= 0; y-- {
		d := (dy+y)*m.Stride + 4*dx
		s := (sy+y)*m.Stride + 4*sx
		copy(m.Pix[d:d+n], m.Pix[s:s+n])
	}
}
