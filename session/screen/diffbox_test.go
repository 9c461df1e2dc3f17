package screen

import (
	"math/rand/v2"
	"testing"
)

// naiveDiffBox is diffBox pixel by pixel.
func naiveDiffBox(a, b *Image, r Rect) (Rect, bool) {
	box, same := Rect{}, true
	for y := r.Y; y < r.Y+r.H; y++ {
		for x := r.X; x < r.X+r.W; x++ {
			pa, pb := le32(a.Pix[y*a.Stride+4*x:]), le32(b.Pix[y*b.Stride+4*x:])
			same = same && pa == pb
			if (pa^pb)&0xffffff != 0 {
				box = box.Union(Rect{x, y, 1, 1})
			}
		}
	}
	return box, same
}

// TestDiffBox checks diffBox and equalBGR against pixel-by-pixel
// comparisons on images that differ in a few scattered pixels, in a few
// blocks, or only in the fourth byte.
func TestDiffBox(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		w, h := 1+rng.IntN(40), 1+rng.IntN(12)
		a := NewImage(w+3, h)
		for k := range a.Pix {
			a.Pix[k] = byte(rng.IntN(3))
		}
		b := NewImage(w+3, h)
		copy(b.Pix, a.Pix)
		for range rng.IntN(6) {
			x, y := rng.IntN(w+3), rng.IntN(h)
			c := rng.IntN(4) // 3: the ignored byte
			if rng.IntN(3) == 0 {
				for xx := x; xx < min(w+3, x+rng.IntN(9)); xx++ {
					b.Pix[y*b.Stride+4*xx+c]++
				}
			} else {
				b.Pix[y*b.Stride+4*x+c]++
			}
		}
		r := Rect{rng.IntN(3), 0, w, h}
		r = r.Intersect(a.Bounds())
		gotBox, gotSame := diffBox(a, b, r)
		wantBox, wantSame := naiveDiffBox(a, b, r)
		if gotBox != wantBox || gotSame != wantSame {
			t.Fatalf("case %d, %v: diffBox = %v, %v; want %v, %v", i, r, gotBox, gotSame, wantBox, wantSame)
		}
		for y := range h {
			ra, rb := a.Pix[y*a.Stride+4*r.X:y*a.Stride+4*(r.X+r.W)], b.Pix[y*b.Stride+4*r.X:y*b.Stride+4*(r.X+r.W)]
			row, _ := naiveDiffBox(a, b, Rect{r.X, y, r.W, 1})
			if got := equalBGR(ra, rb); got != row.Empty() {
				t.Fatalf("case %d, row %d: equalBGR = %v", i, y, got)
			}
		}
	}
}
