package screen

import (
	"cmp"
	"encoding/binary"
	"hash/maphash"
	"math/bits"
	"slices"
)

// Copy detection. Every copy the encoder sends is checked pixel by pixel
// against the frame the decoder holds; hashes only propose where to look.
//
//  1. Move hints: rows of the hinted destination that match are grown into
//     the largest matching rectangle.
//  2. Vertical scrolls: in every tile column holding changed tiles, each new
//     row segment is looked up among the old ones by hash; rows whose hash is
//     unique vote for an offset dy.
//  3. Moves in two dimensions (a dragged window): content-defined anchors
//     (where a rolling hash of 16 pixels has its top bits zero, on an edge)
//     are keyed by the 24×4 pixels from them in the old and new frames; keys
//     unique in the old frame vote for an offset dx, dy.
//
// The offsets with the most votes are then followed: each voting position is
// a seed, grown one line at a time on every side while the pixels still
// match, and sent as a copy if big enough.
const (
	minMotionArea   = 8192 // changed pixels below which looking for copies does not pay
	minCopyArea     = 512  // smallest copy worth an op
	minVotes        = 8    // rows or anchors that must agree on an offset
	maxCandidates   = 4    // offsets followed per detector
	maxSeedFailures = 32   // seeds of an offset that may fail before it is dropped
	maxFeatures     = 1 << 16

	anchorBits    = 5  // one anchor in 32 edge pixels
	anchorShift   = 2  // bits the anchor hash shifts by a pixel ...
	anchorWindow  = 16 // ... so that it covers this many pixels
	featureBefore = 7  // a feature's key covers the anchor window ...
	featureSpan   = 24 // ... and the pixels after it, this many in all,
	featureRows   = 4  // in this many rows from the anchor's down
)

type seed struct{ x, y, w, dx, dy int }

type offset struct{ dx, dy int }

type feature struct {
	key  uint64
	x, y int32
}

// motionFinder finds copy ops. Its buffers are reused between updates.
type motionFinder struct {
	copies   []Rect // destinations of this update's copies
	limit    Rect   // the pixels still to send when the search began, boxed
	seeds    []seed
	follow   []seed
	votes    map[offset]int
	cands    []offset
	table    uniqueTable
	runs     []Rect // shift: runs of changed tiles, one tile high
	featPrev []feature
	featNew  []feature
	hseed    maphash.Seed
	seeded   bool
}

// findCopies sends the copies it can confirm and applies them to e.prev.
func (f *motionFinder) findCopies(e *Encoder, img *Image, moves []Move, lv Level) {
	f.copies = f.copies[:0]
	// Copies are trimmed to the pixels still to send, so growing them
	// past these is work for nothing (a flat background matches at any
	// offset all the way to the screen's edges).
	f.limit = Rect{}
	for _, t := range e.changed {
		f.limit = f.limit.Union(e.box[t])
	}
	if f.votes == nil {
		f.votes = make(map[offset]int)
	}
	for _, m := range moves {
		f.tryMove(e, img, m, lv)
	}
	if e.changedArea() >= minMotionArea {
		f.scroll(e, img, lv)
	}
	if e.changedArea() >= minMotionArea {
		f.shift(e, img, lv)
	}
}

func (f *motionFinder) tryMove(e *Encoder, img *Image, m Move, lv Level) {
	dx, dy := m.Src.X-m.DstX, m.Src.Y-m.DstY
	if dx == 0 && dy == 0 {
		return
	}
	b := img.Bounds()
	dst := Rect{m.DstX, m.DstY, m.Src.W, m.Src.H}.Intersect(b).Intersect(Rect{-dx, -dy, b.W, b.H}).Intersect(f.limit)
	fails := 0
	for y := dst.Y; y < dst.Y+dst.H && fails < maxSeedFailures; y += 16 {
		if f.covered(dst.X+dst.W/2, y) {
			continue
		}
		if !rowMatches(img, e.prev, dst.X, y, dst.W, dx, dy) {
			fails++
			continue
		}
		r := grow(img, e.prev, Rect{dst.X, y, dst.W, 1}, dx, dy, f.limit)
		if !f.tryCopy(e, img, r, dx, dy, lv) {
			fails++
		}
	}
}

// scroll proposes vertical offsets from row hashes, column by column.
func (f *motionFinder) scroll(e *Encoder, img *Image, lv Level) {
	if !f.seeded {
		f.hseed, f.seeded = maphash.MakeSeed(), true
	}
	f.seeds = f.seeds[:0]
	clear(f.votes)
	for col := range e.tw {
		y0, y1 := -1, 0
		for ty := range e.th {
			if !e.box[ty*e.tw+col].Empty() {
				if y0 < 0 {
					y0 = ty * tileSize
				}
				y1 = min((ty+1)*tileSize, img.H)
			}
		}
		if y0 < 0 || y1-y0 < 2*minVotes {
			continue
		}
		x := col * tileSize
		w := min(tileSize, img.W-x)
		f.table.reset(y1 - y0)
		for y := y0; y < y1; y++ {
			f.table.add(f.rowHash(e.prev, x, y, w), y)
		}
		last := 0 // the offset the row above voted for
		for y := y0; y < y1; y++ {
			yp, ok := f.table.unique(f.rowHash(img, x, y, w))
			if !ok || yp == y {
				last = 0
				continue
			}
			d := yp - y
			f.votes[offset{0, d}]++
			if d != last { // a seed where a run of rows agreeing on d starts
				f.seeds = append(f.seeds, seed{x, y, w, 0, d})
			}
			last = d
		}
	}
	f.followSeeds(e, img, lv)
}

func (f *motionFinder) rowHash(m *Image, x, y, w int) uint64 {
	o := y*m.Stride + 4*x
	return maphash.Bytes(f.hseed, m.Pix[o:o+4*w])
}

// shift proposes offsets in two dimensions from anchored features.
//
// The anchors of the new frame come first, where pixels are still to
// send; then those of a sample of the old frame's rows (one in
// shiftSample), and only if one of the new anchors is there at another
// place, those of all its rows. Most large changes are new content
// (another picture, another page), for which this reads a seventh of the
// old frame instead of all of it; content that moved shows a seventh of
// its anchors in the sample (the step is odd, as the new rows' is even,
// so that every vertical offset has its share).
func (f *motionFinder) shift(e *Encoder, img *Image, lv Level) {
	f.seeds = f.seeds[:0]
	clear(f.votes)
	f.runs, f.featNew = f.runs[:0], f.featNew[:0]
	for ty := range e.th {
		for tx := 0; tx < e.tw; {
			if e.box[ty*e.tw+tx].Empty() {
				tx++
				continue
			}
			start := tx
			for tx < e.tw && !e.box[ty*e.tw+tx].Empty() {
				tx++
			}
			x0, y0 := start*tileSize, ty*tileSize
			f.runs = append(f.runs, Rect{x0, y0, min(tx*tileSize, img.W) - x0, min(tileSize, img.H-y0)})
			// A copy only fills pixels still to send: look for their
			// anchors in the new frame there only.
			var need Rect
			for t := ty*e.tw + start; t < ty*e.tw+tx; t++ {
				need = need.Union(e.box[t])
			}
			f.featNew = features(f.featNew, img, need, 2)
		}
	}
	if len(f.featNew) < minVotes {
		return
	}
	for _, step := range [2]int{shiftSample, 1} {
		f.featPrev = f.featPrev[:0]
		for _, r := range f.runs {
			f.featPrev = features(f.featPrev, e.prev, r, step)
		}
		f.table.reset(len(f.featPrev))
		for i, ft := range f.featPrev {
			f.table.add(ft.key, i)
		}
		if step != 1 && !f.moved() {
			return
		}
	}
	for _, ft := range f.featNew {
		i, ok := f.table.unique(ft.key)
		if !ok {
			continue
		}
		p := f.featPrev[i]
		if dx, dy := int(p.x-ft.x), int(p.y-ft.y); dx != 0 || dy != 0 {
			f.votes[offset{dx, dy}]++
			f.seeds = append(f.seeds, seed{int(ft.x), int(ft.y), featureSpan, dx, dy})
		}
	}
	f.followSeeds(e, img, lv)
}

// shiftSample is the step between the old frame's rows that shift looks
// at first.
const shiftSample = 7

// moved reports whether a new anchor is in the table of old ones, once,
// at another place.
func (f *motionFinder) moved() bool {
	for _, ft := range f.featNew {
		if i, ok := f.table.unique(ft.key); ok {
			if p := f.featPrev[i]; p.x != ft.x || p.y != ft.y {
				return true
			}
		}
	}
	return false
}

// features appends the anchored features of rect r of m, looking at every
// step-th row.
//
// The anchors come from a gear hash of the pixels to the left: each pixel
// shifts the hash by two bits and adds a mix of its colour, so the hash is
// a function of the last anchorWindow pixels (their contributions shift
// out after that) without a second read to take the oldest away. Inside a
// run of one colour at least anchorWindow long the hash stays the same and
// no pixel is an edge, so such runs (backgrounds, empty lines) are skipped
// at the speed of a comparison.
func features(dst []feature, m *Image, r Rect, step int) []feature {
	end := 4 * (r.W - (featureSpan - featureBefore) + 1) // past the last anchor position in a row
	if end <= 0 {
		return dst
	}
	for y := r.Y; y < min(r.Y+r.H, m.H-featureRows+1); y += step {
		o := y*m.Stride + 4*r.X
		row := m.Pix[o : o+end]
		var h uint32
		prev := ^uint32(0)
		run := 0 // pixels equal to prev ending at the one before j
		for j := 0; j+4 <= len(row); j += 4 {
			c := binary.LittleEndian.Uint32(row[j:j+4]) & 0xffffff
			h = h<<anchorShift + gear(c)
			if c == prev {
				if run++; run >= anchorWindow {
					// The hash is that of anchorWindow pixels of colour c
					// and stays so to the end of the run.
					for j+8 <= len(row) && binary.LittleEndian.Uint32(row[j+4:j+8])&0xffffff == c {
						j += 4
					}
				}
				continue
			}
			prev, run = c, 1
			if j < 4*featureBefore || (h*0x9e3779b1)>>(32-anchorBits) != 0 {
				continue
			}
			if len(dst) == maxFeatures {
				return dst
			}
			x := r.X + j/4 - featureBefore
			dst = append(dst, feature{featureKey(m, x, y), int32(x), int32(y)})
		}
	}
	return dst
}

// gear mixes a colour for the anchor hash: the rotation brings the
// product's well-mixed high bits down, so that what is left of a pixel's
// contribution after shifting still depends on all of its colour.
func gear(c uint32) uint32 { return bits.RotateLeft32(c*0x9e3779b1, 16) }

// featureKey hashes the featureSpan×featureRows pixels from x, y (blue,
// green and red only), a row per lane, the lanes side by side so that
// their multiplications overlap.
func featureKey(m *Image, x, y int) uint64 {
	const (
		mask  = 0x00ffffff00ffffff
		prime = 0x100000001b3
		n     = 4 * featureSpan
	)
	o := y*m.Stride + 4*x
	r0 := m.Pix[o : o+n]
	r1 := m.Pix[o+m.Stride : o+m.Stride+n]
	r2 := m.Pix[o+2*m.Stride : o+2*m.Stride+n]
	r3 := m.Pix[o+3*m.Stride : o+3*m.Stride+n]
	k0, k1, k2, k3 := uint64(0xcbf29ce484222325), uint64(0x84222325cbf29ce4), uint64(0x9ce484222325cbf2), uint64(0x2325cbf29ce48422)
	for i := 0; i+8 <= n; i += 8 {
		k0 = (k0 ^ binary.LittleEndian.Uint64(r0[i:])&mask) * prime
		k1 = (k1 ^ binary.LittleEndian.Uint64(r1[i:])&mask) * prime
		k2 = (k2 ^ binary.LittleEndian.Uint64(r2[i:])&mask) * prime
		k3 = (k3 ^ binary.LittleEndian.Uint64(r3[i:])&mask) * prime
	}
	k := k0 ^ bits.RotateLeft64(k1, 16) ^ bits.RotateLeft64(k2, 32) ^ bits.RotateLeft64(k3, 48)
	k ^= k >> 29
	k *= 0xbf58476d1ce4e5b9
	return k ^ k>>32
}

// followSeeds tries the offsets with the most votes, growing copies from
// their seeds.
func (f *motionFinder) followSeeds(e *Encoder, img *Image, lv Level) {
	f.cands = f.cands[:0]
	for o, n := range f.votes {
		if n >= minVotes {
			f.cands = append(f.cands, o)
		}
	}
	slices.SortFunc(f.cands, func(a, b offset) int {
		return cmp.Or(cmp.Compare(f.votes[b], f.votes[a]), cmp.Compare(a.dy, b.dy), cmp.Compare(a.dx, b.dx))
	})
	for _, o := range f.cands[:min(len(f.cands), maxCandidates)] {
		f.follow = f.follow[:0]
		for _, s := range f.seeds {
			if s.dx == o.dx && s.dy == o.dy {
				f.follow = append(f.follow, s)
			}
		}
		// Copy the parts whose sources the others overwrite first: when
		// content moves up, top to bottom; when it moves down, bottom up.
		sy, sx := 1, 1
		if o.dy < 0 {
			sy = -1
		}
		if o.dx < 0 {
			sx = -1
		}
		slices.SortFunc(f.follow, func(a, b seed) int {
			return cmp.Or(sy*cmp.Compare(a.y, b.y), sx*cmp.Compare(a.x, b.x))
		})
		fails := 0
		for _, s := range f.follow {
			if fails >= maxSeedFailures {
				break
			}
			if f.covered(s.x+s.w/2, s.y) {
				continue
			}
			seed := Rect{s.x, s.y, s.w, 1}.Intersect(f.limit)
			if seed.Empty() || !rowMatches(img, e.prev, seed.X, seed.Y, seed.W, s.dx, s.dy) {
				fails++
				continue
			}
			r := grow(img, e.prev, seed, s.dx, s.dy, f.limit)
			if !f.tryCopy(e, img, r, s.dx, s.dy, lv) {
				fails++
			}
		}
	}
}

// covered reports whether x, y lies in a copy already sent.
func (f *motionFinder) covered(x, y int) bool {
	for _, r := range f.copies {
		if x >= r.X && x < r.X+r.W && y >= r.Y && y < r.Y+r.H {
			return true
		}
	}
	return false
}

// tryCopy sends the copy of r from offset dx, dy, trimmed to the pixels
// still to send, if that saves enough and its source is faithful enough for
// level lv. (Growing runs into unchanged areas that match too, such as flat
// backgrounds; copying those would be work for nothing.)
func (f *motionFinder) tryCopy(e *Encoder, img *Image, r Rect, dx, dy int, lv Level) bool {
	var need Rect
	gain := 0
	e.tilesOf(r, func(t int) {
		b := e.box[t].Intersect(r)
		need = need.Union(b)
		gain += b.Area()
	})
	if gain < minCopyArea {
		return false
	}
	r = need
	if e.minQuality(Rect{r.X + dx, r.Y + dy, r.W, r.H}) < lv {
		return false
	}
	e.emitCopy(img, r, dx, dy, lv)
	f.copies = append(f.copies, r)
	return true
}

// grow extends r, whose pixels in img match those of prev at offset dx, dy,
// on each side in turn for as long as the new lines match too, but not
// past limit. A side tries strips of growStep lines and halves the strip
// when one fails; a side whose single line fails stays failed, since its
// line only gets longer.
func grow(img, prev *Image, r Rect, dx, dy int, limit Rect) Rect {
	xlo, xhi := max(0, -dx, limit.X), min(img.W, img.W-dx, limit.X+limit.W)
	ylo, yhi := max(0, -dy, limit.Y), min(img.H, img.H-dy, limit.Y+limit.H)
	var step [4]int // up, down, left, right
	for i := range step {
		step[i] = growStep
	}
	for step != [4]int{} {
		if k := min(step[0], r.Y-ylo); k > 0 && rectMatches(img, prev, Rect{r.X, r.Y - k, r.W, k}, dx, dy) {
			r.Y -= k
			r.H += k
		} else {
			step[0] = min(step[0], k) / 2
		}
		if k := min(step[1], yhi-r.Y-r.H); k > 0 && rectMatches(img, prev, Rect{r.X, r.Y + r.H, r.W, k}, dx, dy) {
			r.H += k
		} else {
			step[1] = min(step[1], k) / 2
		}
		if k := min(step[2], r.X-xlo); k > 0 && rectMatches(img, prev, Rect{r.X - k, r.Y, k, r.H}, dx, dy) {
			r.X -= k
			r.W += k
		} else {
			step[2] = min(step[2], k) / 2
		}
		if k := min(step[3], xhi-r.X-r.W); k > 0 && rectMatches(img, prev, Rect{r.X + r.W, r.Y, k, r.H}, dx, dy) {
			r.W += k
		} else {
			step[3] = min(step[3], k) / 2
		}
	}
	return r
}

// growStep is the widest strip grow adds at once.
const growStep = 32

// rectMatches reports whether the pixels of r in img equal those of prev at
// offset dx, dy.
func rectMatches(img, prev *Image, r Rect, dx, dy int) bool {
	for y := r.Y; y < r.Y+r.H; y++ {
		if !rowMatches(img, prev, r.X, y, r.W, dx, dy) {
			return false
		}
	}
	return true
}

// rowMatches reports whether the w pixels of img at x, y equal those of prev
// at x+dx, y+dy.
func rowMatches(img, prev *Image, x, y, w, dx, dy int) bool {
	a := y*img.Stride + 4*x
	b := (y+dy)*prev.Stride + 4*(x+dx)
	return equalBGR(img.Pix[a:a+4*w], prev.Pix[b:b+4*w])
}

// uniqueTable maps 64-bit hashes to the one position that has them; a hash
// seen twice maps to nothing.
type uniqueTable struct {
	keys []uint64
	vals []int32 // position+1; 0: empty slot; -1: hash seen more than once
	mask uint64
}

func (t *uniqueTable) reset(n int) {
	size := 16
	for size < 2*n {
		size <<= 1
	}
	if cap(t.keys) < size {
		t.keys, t.vals = make([]uint64, size), make([]int32, size)
	} else {
		t.keys, t.vals = t.keys[:size], t.vals[:size]
		clear(t.vals)
	}
	t.mask = uint64(size - 1)
}

func (t *uniqueTable) add(k uint64, pos int) {
	for i := k & t.mask; ; i = (i + 1) & t.mask {
		switch {
		case t.vals[i] == 0:
			t.keys[i], t.vals[i] = k, int32(pos)+1
			return
		case t.keys[i] == k:
			t.vals[i] = -1
			return
		}
	}
}

func (t *uniqueTable) unique(k uint64) (int, bool) {
	for i := k & t.mask; ; i = (i + 1) & t.mask {
		switch {
		case t.vals[i] == 0:
			return 0, false
		case t.keys[i] == k:
			return int(t.vals[i]) - 1, t.vals[i] > 0
		}
	}
}
