package tiles_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gethelp/gethelp/host/internal/tiles"
	"github.com/gethelp/gethelp/session/screen"
)

func rc(x, y, w, h int) screen.Rect { return screen.Rect{X: x, Y: y, W: w, H: h} }

func filled(w, h int, seed uint64) *screen.Image {
	img := screen.NewImage(w, h)
	r := rand.New(rand.NewPCG(seed, 1))
	for i := range img.Pix {
		img.Pix[i] = byte(r.Uint32())
	}
	return img
}

func clone(m *screen.Image) *screen.Image {
	c := *m
	c.Pix = slices.Clone(m.Pix)
	return &c
}

func TestDiffCopy(t *testing.T) {
	const w, h = 300, 200 // 5×4 tiles, the last column and row partial
	type change struct{ x, y int }
	for _, tc := range []struct {
		name    string
		changes []change
		want    []screen.Rect
	}{
		{"still", nil, nil},
		{"one pixel", []change{{70, 10}}, []screen.Rect{rc(64, 0, 64, 64)}},
		{"last partial tile", []change{{299, 199}}, []screen.Rect{rc(256, 192, 44, 8)}},
		{"neighbours in a row merge", []change{{1, 1}, {65, 2}, {130, 3}}, []screen.Rect{rc(0, 0, 192, 64)}},
		{"gap keeps them apart", []change{{1, 1}, {130, 3}}, []screen.Rect{rc(0, 0, 64, 64), rc(128, 0, 64, 64)}},
		{"same columns below merge", []change{{1, 1}, {65, 1}, {1, 70}, {65, 70}, {2, 130}, {66, 131}}, []screen.Rect{rc(0, 0, 128, 192)}},
		{"different columns below stay", []change{{1, 1}, {65, 70}}, []screen.Rect{rc(0, 0, 64, 64), rc(64, 64, 64, 64)}},
		{"a still row ends a column", []change{{1, 1}, {1, 130}}, []screen.Rect{rc(0, 0, 64, 64), rc(0, 128, 64, 64)}},
		{"fourth byte counts", []change{{-1, -1}}, []screen.Rect{rc(0, 0, 64, 64)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prev := filled(w, h, 1)
			cur := clone(prev)
			for _, c := range tc.changes {
				if c.x < 0 {
					cur.Pix[3]++
					continue
				}
				cur.Pix[c.y*cur.Stride+4*c.x+1]++
			}
			got := tiles.DiffCopy(prev, cur, nil)
			if !slices.Equal(got, tc.want) {
				t.Errorf("dirty = %v, want %v", got, tc.want)
			}
			if !slices.Equal(prev.Pix, cur.Pix) {
				t.Error("the changed tiles were not copied into prev")
			}
			if again := tiles.DiffCopy(prev, cur, nil); len(again) != 0 {
				t.Errorf("second comparison: dirty = %v, want none", again)
			}
		})
	}
}

// TestDiffCopyRandom checks on random changes that every changed pixel is
// inside Dirty, that Dirty stays inside the image, and that only dirty
// pixels are written.
func TestDiffCopyRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for i := range 200 {
		w, h := 1+r.IntN(400), 1+r.IntN(300)
		prev := filled(w, h, uint64(i))
		cur := clone(prev)
		for range r.IntN(20) {
			x, y := r.IntN(w), r.IntN(h)
			cur.Pix[y*cur.Stride+4*x]++
		}
		want := clone(cur)
		before := clone(prev)
		dirty := tiles.DiffCopy(prev, cur, nil)
		if !slices.Equal(prev.Pix, want.Pix) {
			t.Fatalf("%dx%d: prev differs from cur after the copy", w, h)
		}
		in := func(x, y int) bool {
			return slices.ContainsFunc(dirty, func(d screen.Rect) bool { return x >= d.X && x < d.X+d.W && y >= d.Y && y < d.Y+d.H })
		}
		for _, d := range dirty {
			if d.Intersect(prev.Bounds()) != d {
				t.Fatalf("%dx%d: dirty %v outside the image", w, h, d)
			}
		}
		for y := range h {
			for x := range w {
				o := y*cur.Stride + 4*x
				if !slices.Equal(before.Pix[o:o+4], want.Pix[o:o+4]) && !in(x, y) {
					t.Fatalf("%dx%d: changed pixel %d,%d not in dirty %v", w, h, x, y, dirty)
				}
			}
		}
	}
}

func BenchmarkDiffCopyStill(b *testing.B) {
	prev := filled(1920, 1080, 1)
	cur := clone(prev)
	b.SetBytes(int64(len(cur.Pix)))
	for b.Loop() {
		tiles.DiffCopy(prev, cur, nil)
	}
}

func BenchmarkDiffCopyTyping(b *testing.B) {
	prev := filled(1920, 1080, 1)
	cur := clone(prev)
	b.SetBytes(int64(len(cur.Pix)))
	for i := 0; b.Loop(); i++ {
		cur.Pix[500*cur.Stride+4*(i%1920)]++ // one changed character cell a frame
		tiles.DiffCopy(prev, cur, nil)
	}
}
