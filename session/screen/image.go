package screen

import (
	"fmt"
	"image"
	"strings"
)

// Rect is a rectangle of screen pixels: X, Y is its top-left corner.
// A Rect with W or H <= 0 is empty.
type Rect struct{ X, Y, W, H int }

// Empty reports whether r holds no pixel.
func (r Rect) Empty() bool { return r.W <= 0 || r.H <= 0 }

// Intersect returns the part of r inside s (empty if none).
func (r Rect) Intersect(s Rect) Rect {
	x0, y0 := max(r.X, s.X), max(r.Y, s.Y)
	x1, y1 := min(r.X+r.W, s.X+s.W), min(r.Y+r.H, s.Y+s.H)
	if x1 <= x0 || y1 <= y0 {
		return Rect{}
	}
	return Rect{x0, y0, x1 - x0, y1 - y0}
}

// Union returns the smallest rect holding r and s.
func (r Rect) Union(s Rect) Rect {
	if r.Empty() {
		return s
	}
	if s.Empty() {
		return r
	}
	x0, y0 := min(r.X, s.X), min(r.Y, s.Y)
	x1, y1 := max(r.X+r.W, s.X+s.W), max(r.Y+r.H, s.Y+s.H)
	return Rect{x0, y0, x1 - x0, y1 - y0}
}

// Area is W*H, or 0 for an empty rect.
func (r Rect) Area() int {
	if r.Empty() {
		return 0
	}
	return r.W * r.H
}

func (r Rect) String() string { return fmt.Sprintf("%dx%d+%d+%d", r.W, r.H, r.X, r.Y) }

// Image is a 32-bit framebuffer in BGRX byte order: blue, green, red, then
// a byte that is ignored. That is the native layout of X11 ZPixmap images at
// depth 24 on little-endian machines and of Windows GDI DIBs, so captures
// need no conversion. Row y starts at Pix[y*Stride].
type Image struct {
	W, H   int
	Stride int // bytes per row, at least 4*W
	Pix    []byte
}

// NewImage returns a black w×h image.
func NewImage(w, h int) *Image {
	img := &Image{W: w, H: h, Stride: 4 * w, Pix: make([]byte, 4*w*h)}
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 0xff
	}
	return img
}

// Bounds is the image's rect, at 0,0.
func (m *Image) Bounds() Rect { return Rect{0, 0, m.W, m.H} }

// Sub returns a view of the part r of m (clipped to m), sharing its pixels.
func (m *Image) Sub(r Rect) *Image {
	r = r.Intersect(m.Bounds())
	if r.Empty() {
		return &Image{}
	}
	off := r.Y*m.Stride + 4*r.X
	end := (r.Y+r.H-1)*m.Stride + 4*(r.X+r.W)
	return &Image{W: r.W, H: r.H, Stride: m.Stride, Pix: m.Pix[off:end]}
}

// Row returns the 4*W bytes of row y.
func (m *Image) Row(y int) []byte { return m.Pix[y*m.Stride : y*m.Stride+4*m.W] }

// Equal reports whether m and o have the same size and the same blue, green
// and red in every pixel (the ignored fourth byte may differ).
func (m *Image) Equal(o *Image) bool {
	if m.W != o.W || m.H != o.H {
		return false
	}
	for y := 0; y < m.H; y++ {
		a, b := m.Row(y), o.Row(y)
		for i := 0; i < len(a); i += 4 {
			if a[i] != b[i] || a[i+1] != b[i+1] || a[i+2] != b[i+2] {
				return false
			}
		}
	}
	return true
}

// RGBA converts m to a standard image (for PNG snapshots and tests).
func (m *Image) RGBA() *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, m.W, m.H))
	for y := 0; y < m.H; y++ {
		src, dst := m.Row(y), out.Pix[y*out.Stride:]
		for i := 0; i < len(src); i += 4 {
			dst[i], dst[i+1], dst[i+2], dst[i+3] = src[i+2], src[i+1], src[i], 0xff
		}
	}
	return out
}

// Move says that the pixels that were at Src (in the previous frame) now
// appear with their top-left corner at DstX, DstY: a window dragged, a page
// scrolled. Sources offer moves as hints; the encoder checks them.
type Move struct {
	Src        Rect
	DstX, DstY int
}

// Level is the bandwidth setting, like Windows Remote Assistance's
// "Bandwidth usage" slider.
type Level int

// Bandwidth levels, from least to most bandwidth.
const (
	Low    Level = iota // fewer colours and frames, lossy photos
	Medium              // lossy photos
	High                // photos lossy at high quality (PSNR >= 40 dB), text exact
	Full                // every pixel exact
)

var levelNames = [...]string{"low", "medium", "high", "full"}

func (l Level) String() string {
	if l < Low || l > Full {
		return fmt.Sprintf("Level(%d)", int(l))
	}
	return levelNames[l]
}

// ParseLevel parses "low", "medium", "high" or "full".
func ParseLevel(s string) (Level, error) {
	for i, n := range levelNames {
		if strings.EqualFold(s, n) {
			return Level(i), nil
		}
	}
	return 0, fmt.Errorf("screen: unknown bandwidth level %q (use low, medium, high or full)", s)
}
