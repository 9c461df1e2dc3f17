package synthetic

import "github.com/gethelp/gethelp/session/screen"

// What a frame shows, back to front: the static background (a gradient,
// a light "document" window and a dark "terminal" window full of word-like
// blocks, the clock's panel), the clock's digits (the frame number, six
// digits in seven segments), and a box that bounces about.

const (
	boxSize = 48

	digits      = 6
	digitW      = 24
	digitH      = 40
	digitGap    = 6
	segment     = 4 // segment thickness
	clockMargin = 12
)

type colour struct{ b, g, r byte }

var (
	boxColour      = colour{0x20, 0x90, 0xff}
	segmentColour  = colour{0x40, 0xff, 0x60}
	clockPanel     = colour{0x30, 0x28, 0x20}
	docColour      = colour{0xf8, 0xf8, 0xf8}
	docTitle       = colour{0xb0, 0x60, 0x20}
	docInk         = colour{0x40, 0x40, 0x40}
	docLink        = colour{0xd0, 0x40, 0x10}
	termColour     = colour{0x18, 0x18, 0x18}
	termInk        = colour{0x70, 0xd0, 0x70}
	termPromptInk  = colour{0xe0, 0xe0, 0xe0}
	titleTextColor = colour{0xff, 0xff, 0xff}
)

// background draws the static part of every frame.
func background(w, h int) *screen.Image {
	img := &screen.Image{W: w, H: h, Stride: 4 * w, Pix: make([]byte, 4*w*h)}
	for y := 0; y < h; y++ {
		row := img.Row(y)
		g := byte(y * 255 / max(h-1, 1))
		for x := 0; x < w; x++ {
			row[4*x] = byte(x * 255 / max(w-1, 1))
			row[4*x+1] = g
			row[4*x+2] = 0x40
			row[4*x+3] = 0xff
		}
	}
	// A document window: title bar, then lines of words, some of them links.
	doc := screen.Rect{X: w / 16, Y: h / 8, W: w / 2, H: h / 2}
	fill(img, doc, docColour)
	title := screen.Rect{X: doc.X, Y: doc.Y, W: doc.W, H: 24}
	fill(img, title, docTitle)
	words(img, screen.Rect{X: title.X + 8, Y: title.Y + 8, W: title.W / 3, H: 8}, 1, titleTextColor, titleTextColor)
	words(img, screen.Rect{X: doc.X + 12, Y: doc.Y + 36, W: doc.W - 24, H: doc.H - 48}, 2, docInk, docLink)
	// A terminal window: prompt-coloured first words, the rest in green.
	term := screen.Rect{X: w / 2, Y: h / 2, W: w * 7 / 16, H: h * 3 / 8}
	fill(img, term, termColour)
	words(img, screen.Rect{X: term.X + 8, Y: term.Y + 8, W: term.W - 16, H: term.H - 16}, 3, termInk, termPromptInk)
	// The clock's panel.
	cells := screen.Rect{}
	for i := range digits {
		cells = cells.Union(digitCellIn(w, i))
	}
	fill(img, screen.Rect{X: cells.X - clockMargin, Y: cells.Y - clockMargin, W: cells.W + 2*clockMargin, H: cells.H + 2*clockMargin}, clockPanel)
	return img
}

// words fills area with lines of word-like blocks, 8 pixels high every 16,
// of deterministic pseudo-random widths. Every fifth word is in the second
// colour.
func words(img *screen.Image, area screen.Rect, seed uint32, ink, ink2 colour) {
	state := seed*2654435761 + 1
	next := func() uint32 { // xorshift32: the same words on every run
		state ^= state << 13
		state ^= state >> 17
		state ^= state << 5
		return state
	}
	for y := area.Y; y+8 <= area.Y+area.H; y += 16 {
		x := area.X + int(next()%3)*16 // ragged indentation
		for i := 0; ; i++ {
			wd := 12 + int(next()%48)
			if x+wd > area.X+area.W {
				break
			}
			c := ink
			if i%5 == 4 {
				c = ink2
			}
			fill(img, screen.Rect{X: x, Y: y, W: wd, H: 8}, c)
			x += wd + 6
		}
	}
}

// render draws frame n's content of rect r into img (of the source's size).
func (s *Source) render(img *screen.Image, n int, r screen.Rect) {
	r = r.Intersect(img.Bounds())
	if r.Empty() {
		return
	}
	for y := r.Y; y < r.Y+r.H; y++ {
		copy(img.Pix[y*img.Stride+4*r.X:y*img.Stride+4*(r.X+r.W)], s.bg.Pix[y*s.bg.Stride+4*r.X:])
	}
	d := clockDigits(n)
	for i, v := range d {
		cell := s.digitCell(i)
		if cell.Intersect(r).Empty() {
			continue
		}
		for _, seg := range digitSegments(cell, v) {
			fill(img, seg.Intersect(r), segmentColour)
		}
	}
	fill(img, s.box(n).Intersect(r), boxColour)
}

// box is where the bouncing box is in frame n.
func (s *Source) box(n int) screen.Rect {
	return screen.Rect{X: triangle(n*7, s.w-boxSize), Y: triangle(n*5, s.h-boxSize), W: boxSize, H: boxSize}
}

// triangle goes from 0 up to span and back down as t grows.
func triangle(t, span int) int {
	if span <= 0 {
		return 0
	}
	t %= 2 * span
	if t > span {
		return 2*span - t
	}
	return t
}

// clockDigits returns frame n's number, n modulo a million, as six digits.
func clockDigits(n int) [digits]int {
	var d [digits]int
	n %= 1000000
	if n < 0 {
		n += 1000000
	}
	for i := digits - 1; i >= 0; i-- {
		d[i] = n % 10
		n /= 10
	}
	return d
}

// digitCell is where the clock's i-th digit (from the left) is drawn.
func (s *Source) digitCell(i int) screen.Rect { return digitCellIn(s.w, i) }

func digitCellIn(w, i int) screen.Rect {
	x0 := w - clockMargin*2 - digits*(digitW+digitGap) + digitGap
	return screen.Rect{X: x0 + i*(digitW+digitGap), Y: clockMargin * 2, W: digitW, H: digitH}
}

// Segments a to g of a seven-segment digit, as bits 0 to 6.
var sevenSegments = [10]uint8{
	0x3f, // 0: abcdef
	0x06, // 1: bc
	0x5b, // 2: abdeg
	0x4f, // 3: abcdg
	0x66, // 4: bcfg
	0x6d, // 5: acdfg
	0x7d, // 6: acdefg
	0x07, // 7: abc
	0x7f, // 8: abcdefg
	0x6f, // 9: abcdfg
}

// digitSegments returns the lit segments of digit v drawn in cell.
func digitSegments(cell screen.Rect, v int) []screen.Rect {
	x0, y0, w, h, t := cell.X, cell.Y, cell.W, cell.H, segment
	mid := y0 + h/2 - t/2
	all := [7]screen.Rect{
		{X: x0, Y: y0, W: w, H: t},                      // a: top
		{X: x0 + w - t, Y: y0, W: t, H: h/2 + t/2},      // b: top right
		{X: x0 + w - t, Y: mid, W: t, H: h - h/2 + t/2}, // c: bottom right
		{X: x0, Y: y0 + h - t, W: w, H: t},              // d: bottom
		{X: x0, Y: mid, W: t, H: h - h/2 + t/2},         // e: bottom left
		{X: x0, Y: y0, W: t, H: h/2 + t/2},              // f: top left
		{X: x0, Y: mid, W: w, H: t},                     // g: middle
	}
	var out []screen.Rect
	for i, r := range all {
		if sevenSegments[v]&(1<<i) != 0 {
			out = append(out, r)
		}
	}
	return out
}

// fill paints r (clipped to img) in c.
func fill(img *screen.Image, r screen.Rect, c colour) {
	r = r.Intersect(img.Bounds())
	for y := r.Y; y < r.Y+r.H; y++ {
		row := img.Pix[y*img.Stride+4*r.X : y*img.Stride+4*(r.X+r.W)]
		for i := 0; i < len(row); i += 4 {
			row[i], row[i+1], row[i+2], row[i+3] = c.b, c.g, c.r, 0xff
		}
	}
}
