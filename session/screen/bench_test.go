package screen_test

import (
	"testing"

	"github.com/gethelp/gethelp/session/screen"
)

// The benchmarks encode updates of a 1920×1080 screen and report the
// average update size as bytes/update.

func BenchmarkEncode(b *testing.B) {
	b.Run("typing", func(b *testing.B) {
		// A few 9×15 glyphs typed into a full xterm, dirty rects given.
		img := screen.NewImage(1920, 1080)
		term := newTextScreen(img, img.Bounds(), false, 1)
		term.fillText()
		enc := screen.NewEncoder()
		mustEncode(b, enc, img, nil, screen.Full)
		total := 0
		b.ResetTimer()
		for i := range b.N {
			dirty := make([]screen.Rect, 0, 3)
			for k := range 3 {
				dirty = append(dirty, term.put((3*i+k)%term.cols, 60, 1+(i+k)%40))
			}
			total += mustEncode(b, enc, img, dirty, screen.Full)
		}
		b.ReportMetric(float64(total)/float64(b.N), "bytes/update")
	})
	b.Run("typing, lines damaged", func(b *testing.B) {
		// As typing, but the dirty rects are the glyphs' whole lines, as
		// a Wayland compositor reports foot's damage.
		img := screen.NewImage(1920, 1080)
		term := newTextScreen(img, img.Bounds(), false, 1)
		term.fillText()
		enc := screen.NewEncoder()
		mustEncode(b, enc, img, nil, screen.Full)
		total := 0
		b.ResetTimer()
		for i := range b.N {
			dirty := make([]screen.Rect, 0, 3)
			for k := range 3 {
				r := term.put((3*i+k)%term.cols, 60, 1+(i+k)%40)
				dirty = append(dirty, screen.Rect{Y: r.Y, W: img.W, H: r.H})
			}
			total += mustEncode(b, enc, img, dirty, screen.Full)
		}
		b.ReportMetric(float64(total)/float64(b.N), "bytes/update")
	})
	b.Run("scroll", func(b *testing.B) {
		// A full-screen terminal scrolled by one line: copy plus new line.
		img := screen.NewImage(1920, 1080)
		term := newTextScreen(img, img.Bounds(), false, 1)
		term.fillText()
		enc := screen.NewEncoder()
		mustEncode(b, enc, img, nil, screen.Full)
		total := 0
		b.ResetTimer()
		for range b.N {
			b.StopTimer()
			area := term.scroll(1)
			b.StartTimer()
			total += mustEncode(b, enc, img, []screen.Rect{area}, screen.Full)
		}
		b.ReportMetric(float64(total)/float64(b.N), "bytes/update")
	})
	b.Run("window-move", func(b *testing.B) {
		d := newDrag()
		enc := screen.NewEncoder()
		mustEncodeMoves(b, enc, d.img, nil, nil, screen.High)
		total := 0
		for b.Loop() {
			b.StopTimer()
			dirty, moves := d.step()
			b.StartTimer()
			total += mustEncodeMoves(b, enc, d.img, dirty, moves, screen.High)
		}
		b.ReportMetric(float64(total)/float64(b.N), "bytes/update")
	})
	photos := [2]*screen.Image{screen.NewImage(1920, 1080), screen.NewImage(1920, 1080)}
	for i, p := range photos {
		photo(p, p.Bounds(), uint64(i+1))
	}
	for _, lv := range []screen.Level{screen.High, screen.Full} {
		b.Run("photo-"+lv.String(), func(b *testing.B) {
			// The whole screen changes from one photo to another.
			benchAlternate(b, photos, lv)
		})
	}
	b.Run("text-page", func(b *testing.B) {
		// A full-screen terminal scrolled by a whole page: all new text,
		// nothing a copy or the stream's window has seen.
		img := screen.NewImage(1920, 1080)
		term := newTextScreen(img, img.Bounds(), false, 1)
		term.fillText()
		enc := screen.NewEncoder()
		mustEncode(b, enc, img, nil, screen.Full)
		total := 0
		for b.Loop() {
			b.StopTimer()
			area := term.scroll(term.rows)
			b.StartTimer()
			total += mustEncode(b, enc, img, []screen.Rect{area}, screen.Full)
		}
		b.ReportMetric(float64(total)/float64(b.N), "bytes/update")
	})
	b.Run("text-full", func(b *testing.B) {
		// The whole screen changes from one page of text to another and
		// back.
		var pages [2]*screen.Image
		for i := range pages {
			pages[i] = screen.NewImage(1920, 1080)
			newTextScreen(pages[i], pages[i].Bounds(), true, uint64(i+1)).fillText()
		}
		benchAlternate(b, pages, screen.Full)
	})
}

func benchAlternate(b *testing.B, frames [2]*screen.Image, lv screen.Level) {
	enc := screen.NewEncoder()
	mustEncode(b, enc, frames[0], nil, lv)
	total := 0
	b.ResetTimer()
	for i := range b.N {
		total += mustEncode(b, enc, frames[(i+1)%2], nil, lv)
	}
	b.ReportMetric(float64(total)/float64(b.N), "bytes/update")
}

func mustEncode(b *testing.B, enc *screen.Encoder, img *screen.Image, dirty []screen.Rect, lv screen.Level) int {
	return mustEncodeMoves(b, enc, img, dirty, nil, lv)
}

// drag is a 1100×500 window with text dragged across a flat desktop by
// 16, 8 pixels a step, bouncing off the edges, with move hints as the X11
// source gives.
type drag struct {
	img, bg, content *screen.Image
	win              screen.Rect
	dx, dy           int
}

func newDrag() *drag {
	bg := screen.NewImage(1920, 1080)
	fill(bg, bg.Bounds(), rgb{46, 52, 64})
	win := screen.Rect{X: 80, Y: 80, W: 1100, H: 500}
	content := clone(bg)
	window(content, win, 3)
	img := clone(bg)
	copyIn(img, content, win, win.X, win.Y)
	return &drag{img: img, bg: bg, content: content, win: win, dx: 16, dy: 8}
}

// step moves the window in d.img and returns the dirty rect and the move.
func (d *drag) step() ([]screen.Rect, []screen.Move) {
	next := d.win
	if next.X+d.dx < 0 || next.X+next.W+d.dx > d.img.W || next.Y+d.dy < 0 || next.Y+next.H+d.dy > d.img.H {
		d.dx, d.dy = -d.dx, -d.dy
	}
	next.X += d.dx
	next.Y += d.dy
	copyIn(d.img, d.bg, d.win, d.win.X, d.win.Y)
	copyIn(d.img, d.content, d.win, next.X, next.Y)
	d.content = shifted(d.content, d.dx, d.dy)
	moves := []screen.Move{{Src: d.win, DstX: next.X, DstY: next.Y}}
	dirty := []screen.Rect{d.win.Union(next)}
	d.win = next
	return dirty, moves
}

func mustEncodeMoves(b *testing.B, enc *screen.Encoder, img *screen.Image, dirty []screen.Rect, moves []screen.Move, lv screen.Level) int {
	u, _, err := enc.Encode(img, dirty, moves, lv)
	if err != nil {
		b.Fatal(err)
	}
	return len(u)
}

func BenchmarkDecode(b *testing.B) {
	b.Run("window-move", func(b *testing.B) {
		// The updates of 60 steps of the drag, decoded from the first.
		d := newDrag()
		enc := screen.NewEncoder()
		u, _, err := enc.Encode(d.img, nil, nil, screen.High)
		if err != nil {
			b.Fatal(err)
		}
		updates := [][]byte{u}
		for range 60 {
			dirty, moves := d.step()
			u, _, err := enc.Encode(d.img, dirty, moves, screen.High)
			if err != nil {
				b.Fatal(err)
			}
			updates = append(updates, u)
		}
		for b.Loop() {
			dec := screen.NewDecoder()
			for _, u := range updates {
				if _, err := dec.Decode(u); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(updates)), "ns/update")
	})
	photos := [2]*screen.Image{screen.NewImage(1920, 1080), screen.NewImage(1920, 1080)}
	for i, p := range photos {
		photo(p, p.Bounds(), uint64(i+1))
	}
	for _, lv := range []screen.Level{screen.High, screen.Full} {
		b.Run("photo-"+lv.String(), func(b *testing.B) {
			enc := screen.NewEncoder()
			var updates [][]byte
			for i := range 3 {
				u, _, _ := enc.Encode(photos[i%2], nil, nil, lv)
				updates = append(updates, u)
			}
			b.ResetTimer()
			for range b.N {
				dec := screen.NewDecoder()
				for _, u := range updates {
					if _, err := dec.Decode(u); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(len(updates[1])), "bytes/update")
		})
	}
}

// BenchmarkFeatures is the anchor search of the two-dimensional motion
// finder over a whole 1920×1080 screen, at every row.
func BenchmarkFeatures(b *testing.B) {
	for _, sc := range []struct {
		name string
		draw func(m *screen.Image)
	}{
		{"text", func(m *screen.Image) { newTextScreen(m, m.Bounds(), false, 1).fillText() }},
		{"desktop", func(m *screen.Image) {
			desktop(m)
			window(m, screen.Rect{X: 100, Y: 50, W: 1100, H: 500}, 5)
		}},
		{"photo", func(m *screen.Image) { photo(m, m.Bounds(), 1) }},
	} {
		b.Run(sc.name, func(b *testing.B) {
			img := screen.NewImage(1920, 1080)
			sc.draw(img)
			n := 0
			for b.Loop() {
				n = screen.Features(img, img.Bounds(), 1)
			}
			b.ReportMetric(float64(n), "features")
		})
	}
}
