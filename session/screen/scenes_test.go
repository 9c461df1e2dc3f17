package screen_test

import (
	"math"
	"math/rand/v2"

	"github.com/gethelp/gethelp/session/screen"
)

// Synthetic screens for the tests and benchmarks. Everything is drawn from
// a seeded generator, so every run sees the same pixels.

const (
	cellW, cellH = 9, 15 // an xterm "9x15" cell
)

type rgb struct{ r, g, b byte }

func set(m *screen.Image, x, y int, c rgb) {
	if x < 0 || y < 0 || x >= m.W || y >= m.H {
		return
	}
	o := y*m.Stride + 4*x
	m.Pix[o], m.Pix[o+1], m.Pix[o+2], m.Pix[o+3] = c.b, c.g, c.r, 0
}

func fill(m *screen.Image, r screen.Rect, c rgb) {
	r = r.Intersect(m.Bounds())
	for y := r.Y; y < r.Y+r.H; y++ {
		for x := r.X; x < r.X+r.W; x++ {
			set(m, x, y, c)
		}
	}
}

// font is 96 glyphs of 9×15 cells. Each pixel holds a coverage per
// channel (red, green, blue), as subpixel anti-aliasing makes: glyphs can
// be drawn sharp (two colours) or anti-aliased (some tens of colours).
type font [96][cellH][cellW][3]byte

func newFont(seed uint64) *font {
	rng := rand.New(rand.NewPCG(seed, 1))
	f := new(font)
	for g := 1; g < len(f); g++ {
		// A few strokes (vertical, horizontal, diagonal) within x 1..7,
		// y 3..12, like letters, drawn at three subpixels per pixel.
		var sub [cellH][3 * cellW]bool
		for range 2 + rng.IntN(3) {
			x0, y0 := 3+rng.IntN(18), 3+rng.IntN(9)
			x1, y1 := 3+rng.IntN(18), 3+rng.IntN(9)
			switch rng.IntN(3) {
			case 0:
				x1 = x0
			case 1:
				y1 = y0
			}
			steps := max(abs(x1-x0), abs(y1-y0), 1)
			for i := 0; i <= steps; i++ {
				x, y := x0+(x1-x0)*i/steps, y0+(y1-y0)*i/steps
				for k := range 3 { // strokes are a pixel wide
					sub[y][x+k] = true
				}
			}
		}
		for y := range cellH {
			for x := range cellW {
				for c := range 3 { // red from the left subpixels, blue from the right
					n := 0
					for k := -1; k <= 1; k++ {
						if s := 3*x + c + k; s >= 0 && s < 3*cellW && sub[y][s] {
							n++
						}
					}
					f[g][y][x][c] = byte(n * 255 / 3)
				}
			}
		}
	}
	return f
}

func abs(a int) int { return max(a, -a) }

// textScreen is a terminal: a grid of characters drawn with a font.
type textScreen struct {
	img        *screen.Image
	area       screen.Rect // where the cells are
	cols, rows int
	font       *font
	fg, bg     rgb
	aa         bool // anti-aliased: blend coverage instead of thresholding
	rng        *rand.Rand
}

func newTextScreen(img *screen.Image, area screen.Rect, aa bool, seed uint64) *textScreen {
	t := &textScreen{
		img: img, area: area, cols: area.W / cellW, rows: area.H / cellH,
		font: newFont(7), fg: rgb{230, 230, 230}, bg: rgb{16, 16, 24}, aa: aa,
		rng: rand.New(rand.NewPCG(seed, 2)),
	}
	fill(img, area, t.bg)
	return t
}

// randomChar is a letter with roughly English frequencies: spaces are common.
func (t *textScreen) randomChar() int {
	if t.rng.IntN(6) == 0 {
		return 0
	}
	return 1 + t.rng.IntN(40) // a small alphabet repeats, as text does
}

func (t *textScreen) cell(col, row int) screen.Rect {
	return screen.Rect{X: t.area.X + col*cellW, Y: t.area.Y + row*cellH, W: cellW, H: cellH}
}

// put draws character ch at col, row and returns the cell.
func (t *textScreen) put(col, row, ch int) screen.Rect {
	r := t.cell(col, row)
	for y := range cellH {
		for x := range cellW {
			c := t.font[ch][y][x]
			p := t.bg
			switch {
			case t.aa:
				p = rgb{blend(t.bg, t.fg, c[0]).r, blend(t.bg, t.fg, c[1]).g, blend(t.bg, t.fg, c[2]).b}
			case c[1] >= 128:
				p = t.fg
			}
			set(t.img, r.X+x, r.Y+y, p)
		}
	}
	return r
}

func blend(a, b rgb, c byte) rgb {
	mix := func(x, y byte) byte { return byte((int(x)*(255-int(c)) + int(y)*int(c)) / 255) }
	return rgb{mix(a.r, b.r), mix(a.g, b.g), mix(a.b, b.b)}
}

// fillText writes random lines, some short, as a shell session looks.
func (t *textScreen) fillText() {
	for row := range t.rows {
		t.line(row)
	}
}

func (t *textScreen) line(row int) {
	n := t.rng.IntN(t.cols + 1)
	for col := range t.cols {
		ch := 0
		if col < n {
			ch = t.randomChar()
		}
		t.put(col, row, ch)
	}
}

// scroll moves the text up by k text lines and writes new lines at the
// bottom, as a terminal does. It returns the changed area.
func (t *textScreen) scroll(k int) screen.Rect {
	dy := k * cellH
	h := t.rows * cellH
	for y := 0; y < h-dy; y++ {
		dst := (t.area.Y+y)*t.img.Stride + 4*t.area.X
		src := (t.area.Y+y+dy)*t.img.Stride + 4*t.area.X
		copy(t.img.Pix[dst:dst+4*t.cols*cellW], t.img.Pix[src:src+4*t.cols*cellW])
	}
	for row := t.rows - k; row < t.rows; row++ {
		t.line(row)
	}
	return screen.Rect{X: t.area.X, Y: t.area.Y, W: t.cols * cellW, H: h}
}

// photo paints r with a smooth, textured, photo-like picture: blurred
// coloured shapes plus fine grain, with more than 256 colours in any tile.
func photo(m *screen.Image, r screen.Rect, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 3))
	type blob struct{ x, y, s, r, g, b float64 }
	blobs := make([]blob, 12)
	for i := range blobs {
		blobs[i] = blob{rng.Float64() * float64(r.W), rng.Float64() * float64(r.H),
			30 + rng.Float64()*float64(r.W)/3, rng.Float64() * 255, rng.Float64() * 255, rng.Float64() * 255}
	}
	fx, fy := 0.02+rng.Float64()*0.05, 0.02+rng.Float64()*0.05
	for y := range r.H {
		for x := range r.W {
			var cr, cg, cb, wsum float64 = 40, 50, 60, 1
			for _, b := range blobs {
				dx, dy := float64(x)-b.x, float64(y)-b.y
				w := math.Exp(-(dx*dx + dy*dy) / (2 * b.s * b.s))
				cr, cg, cb, wsum = cr+w*b.r, cg+w*b.g, cb+w*b.b, wsum+w
			}
			tex := 12*math.Sin(float64(x)*fx+3*math.Sin(float64(y)*fy)) + rng.NormFloat64()*3
			set(m, r.X+x, r.Y+y, rgb{clamp(cr/wsum + tex), clamp(cg/wsum + tex), clamp(cb/wsum + tex*0.8)})
		}
	}
}

func clamp(v float64) byte { return byte(min(255, max(0, math.Round(v)))) }

// grain adds Gaussian noise of standard deviation sd to every channel of
// r, as an unblurred plasma or a high-ISO photo has.
func grain(m *screen.Image, r screen.Rect, sd float64, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 5))
	r = r.Intersect(m.Bounds())
	for y := r.Y; y < r.Y+r.H; y++ {
		for x := r.X; x < r.X+r.W; x++ {
			o := y*m.Stride + 4*x
			for k := range 3 {
				m.Pix[o+k] = clamp(float64(m.Pix[o+k]) + rng.NormFloat64()*sd)
			}
		}
	}
}

// noise paints r with uniformly random pixels (the worst case).
func noise(m *screen.Image, r screen.Rect, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 4))
	r = r.Intersect(m.Bounds())
	for y := r.Y; y < r.Y+r.H; y++ {
		for x := r.X; x < r.X+r.W; x++ {
			v := rng.Uint32()
			set(m, x, y, rgb{byte(v), byte(v >> 8), byte(v >> 16)})
		}
	}
}

// gradient paints r with a diagonal two-colour gradient, as title bars and
// wallpapers have.
func gradient(m *screen.Image, r screen.Rect, a, b rgb) {
	for y := range r.H {
		for x := range r.W {
			c := byte(255 * (x + y) / max(1, r.W+r.H-2))
			set(m, r.X+x, r.Y+y, blend(a, b, c))
		}
	}
}

// desktop paints a wallpaper gradient with a few flat "icons".
func desktop(m *screen.Image) {
	gradient(m, m.Bounds(), rgb{30, 60, 110}, rgb{90, 140, 200})
	for i := range 5 {
		fill(m, screen.Rect{X: 20, Y: 20 + 90*i, W: 48, H: 48}, rgb{200, byte(40 * i), 60})
	}
}

// window draws a window with a title bar and text at r and returns the rect.
func window(m *screen.Image, r screen.Rect, seed uint64) screen.Rect {
	fill(m, r, rgb{200, 200, 200})
	gradient(m, screen.Rect{X: r.X + 2, Y: r.Y + 2, W: r.W - 4, H: 20}, rgb{40, 70, 160}, rgb{110, 150, 230})
	t := newTextScreen(m, screen.Rect{X: r.X + 4, Y: r.Y + 26, W: r.W - 8, H: r.H - 30}, false, seed)
	t.fg, t.bg = rgb{10, 10, 10}, rgb{250, 250, 250}
	fill(m, t.area, t.bg)
	t.fillText()
	return r
}

func clone(m *screen.Image) *screen.Image {
	c := &screen.Image{W: m.W, H: m.H, Stride: 4 * m.W, Pix: make([]byte, 4*m.W*m.H)}
	for y := range m.H {
		copy(c.Row(y), m.Row(y))
	}
	return c
}

// psnr is the peak signal-to-noise ratio of b against a over r, in dB.
func psnr(a, b *screen.Image, r screen.Rect) float64 {
	var se float64
	for y := r.Y; y < r.Y+r.H; y++ {
		for x := r.X; x < r.X+r.W; x++ {
			oa, ob := y*a.Stride+4*x, y*b.Stride+4*x
			for k := range 3 {
				d := float64(a.Pix[oa+k]) - float64(b.Pix[ob+k])
				se += d * d
			}
		}
	}
	if se == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/(se/float64(3*r.Area())))
}

// equalIn reports whether a and b agree in blue, green and red over r.
func equalIn(a, b *screen.Image, r screen.Rect) bool {
	return a.Sub(r).Equal(b.Sub(r))
}
