// Package tiles finds what changed between two captures of a screen that
// gives no damage of its own (GDI, a PipeWire stream): it compares them in
// square tiles and reports the changed tiles as rects. Platform packages
// of host share it (host/windows, host/portal).
package tiles

import (
	"bytes"
	"slices"

	"github.com/gethelp/gethelp/session/screen"
)

// Size is the side of the square tiles in which DiffCopy compares.
const Size = 64

// DiffCopy compares cur with prev (both the same size) in Size×Size
// tiles, copies every tile that differs from cur into prev, and appends the
// changed tiles to dirty as rects: the changed tiles of one tile row that
// touch make one rect, and a rect is extended downwards when the tile row
// below has a run of exactly the same columns. It returns dirty.
//
// A row of the screen that equals the previous one as a whole (one memcmp)
// is skipped; only rows that differ are compared tile by tile, and a tile
// known to differ is not compared again. A static screen therefore costs
// one memcmp per row: about 0.2 ms for 1024×768.
func DiffCopy(prev, cur *screen.Image, dirty []screen.Rect) []screen.Rect {
	cols := (cur.W + Size - 1) / Size
	changed := make([]bool, cols)
	var above, here []int // indices into dirty of the rects ending at this tile row's top, bottom
	for ty := 0; ty < cur.H; ty += Size {
		th := min(Size, cur.H-ty)
		clear(changed)
		here = here[:0]
		for y := ty; y < ty+th; y++ {
			a, b := prev.Row(y), cur.Row(y)
			if bytes.Equal(a, b) {
				continue
			}
			for c := range changed {
				if changed[c] {
					continue
				}
				x0, x1 := 4*c*Size, min(4*(c+1)*Size, len(b))
				if !bytes.Equal(a[x0:x1], b[x0:x1]) {
					changed[c] = true
				}
			}
		}
		for c := 0; c < cols; {
			if !changed[c] {
				c++
				continue
			}
			end := c
			for end < cols && changed[end] {
				end++
			}
			r := screen.Rect{X: c * Size, Y: ty, W: min(end*Size, cur.W) - c*Size, H: th}
			for y := ty; y < ty+th; y++ {
				copy(prev.Row(y)[4*r.X:4*(r.X+r.W)], cur.Row(y)[4*r.X:4*(r.X+r.W)])
			}
			i := slices.IndexFunc(above, func(i int) bool { return dirty[i].X == r.X && dirty[i].W == r.W })
			if i >= 0 {
				dirty[above[i]].H += r.H
				here = append(here, above[i])
			} else {
				dirty = append(dirty, r)
				here = append(here, len(dirty)-1)
			}
			c = end
		}
		above, here = here, above
	}
	return dirty
}
