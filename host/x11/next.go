package x11

import (
	"context"
	"slices"

	"github.com/jezek/xgb/damage"
	"github.com/jezek/xgb/xfixes"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/session/screen"
)

// Next returns the whole screen at once the first time (and after the
// screen changed size, and after Refresh), then waits for the X server to
// report damage and returns the screen with the damaged rects re-read. Dirty is the
// damage, simplified into at most a few dozen rects; it over-approximates.
// Moves are top-level windows that moved (same size, still mapped) since
// the previous capture, clipped to the screen. The image is the same
// buffer every time (a new one after a change of size); pixels outside
// Dirty are not touched.
//
// Next returns ctx.Err() when ctx ends, an error wrapping net.ErrClosed
// after Close, and one wrapping ErrLost when the X server went away.
func (s *Source) Next(ctx context.Context) (host.Capture, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.stopped(ctx); err != nil {
		return host.Capture{}, err
	}
	if w, h := s.rootSize(); s.img == nil || s.img.W != w || s.img.H != h || s.refresh.Swap(false) {
		return s.captureAll(ctx, w, h)
	}
	for {
		select {
		case <-s.damaged: // or Refresh
		case <-ctx.Done():
			return host.Capture{}, ctx.Err()
		case <-s.done:
			return host.Capture{}, errClosed
		case <-s.lost:
			return host.Capture{}, s.stopped(ctx)
		}
		// Sync before taking the damage, so every move we report was
		// made before it, and its pixels are in what we read now.
		if err := s.syncEvents(ctx); err != nil {
			signal(s.damaged) // the damage is still there for next time
			return host.Capture{}, err
		}
		w, h := s.rootSize()
		if w != s.img.W || h != s.img.H || s.refresh.Swap(false) {
			return s.captureAll(ctx, w, h)
		}
		moves := s.takeMoves(w, h)
		// From here on the damage is ours: finish even if ctx ends.
		rects, err := s.takeDamage()
		if err != nil {
			return host.Capture{}, err
		}
		dirty := simplify(rects, s.img.Bounds())
		if len(dirty) == 0 {
			continue // a wake-up for damage already taken
		}
		if err := s.grab.grab(s.img, dirty); err != nil {
			s.img = nil // start over with a whole screen next time
			return host.Capture{}, s.xerr("read the screen", err)
		}
		return host.Capture{Image: s.img, Dirty: dirty, Moves: moves}, nil
	}
}

// captureAll reads the whole w×h screen, with new buffers if its size
// changed, and drops the damage and moves so far.
func (s *Source) captureAll(ctx context.Context, w, h int) (host.Capture, error) {
	if err := s.syncEvents(ctx); err != nil {
		s.refresh.Store(true) // whatever woke us, the next call reads everything
		return host.Capture{}, err
	}
	s.refresh.Store(false) // this is the whole screen; a Refresh from now on asks for another
	s.takeMoves(w, h)
	if _, err := s.takeDamage(); err != nil {
		return host.Capture{}, err
	}
	if s.img == nil || s.img.W != w || s.img.H != h {
		s.img = screen.NewImage(w, h)
	}
	if gw, gh := s.grab.size(); gw != w || gh != h {
		s.grab.free()
		s.grab = s.newGrabber(s.hasSHM, w, h)
	}
	all := s.img.Bounds()
	if err := s.grab.grab(s.img, []screen.Rect{all}); err != nil {
		s.img = nil
		return host.Capture{}, s.xerr("read the screen", err)
	}
	return host.Capture{Image: s.img, Dirty: []screen.Rect{all}}, nil
}

// takeDamage moves the damage accumulated so far into our region, which
// empties it and so re-arms the next DamageNotify, and returns its rects.
func (s *Source) takeDamage() ([]screen.Rect, error) {
	damage.Subtract(s.conn, s.damage, 0, s.region) // repair None: take it all
	reply, err := xfixes.FetchRegion(s.conn, s.region).Reply()
	if err != nil {
		return nil, s.xerr("fetch the damaged region", err)
	}
	rects := make([]screen.Rect, len(reply.Rectangles))
	for i, r := range reply.Rectangles {
		rects[i] = screen.Rect{X: int(r.X), Y: int(r.Y), W: int(r.Width), H: int(r.Height)}
	}
	return rects, nil
}

// Limits of simplify.
const (
	maxRects = 64 // more rects than this are merged on a grid
	tileSize = 32 // the grid's cell
)

// simplify clips rects (disjoint, as X regions are) to bounds and, when
// there are more than maxRects, replaces them by the cells of a
// tileSize grid they touch, merged into rects, or by their bounding box if
// that is still too many. The result is disjoint and covers the input.
func simplify(rects []screen.Rect, bounds screen.Rect) []screen.Rect {
	out := make([]screen.Rect, 0, len(rects))
	for _, r := range rects {
		if r = r.Intersect(bounds); !r.Empty() {
			out = append(out, r)
		}
	}
	if len(out) <= maxRects {
		return out
	}
	tw, th := (bounds.W+tileSize-1)/tileSize, (bounds.H+tileSize-1)/tileSize
	marked := make([]bool, tw*th)
	for _, r := range out {
		x0, x1 := (r.X-bounds.X)/tileSize, (r.X-bounds.X+r.W-1)/tileSize
		y0, y1 := (r.Y-bounds.Y)/tileSize, (r.Y-bounds.Y+r.H-1)/tileSize
		for ty := y0; ty <= y1; ty++ {
			for tx := x0; tx <= x1; tx++ {
				marked[ty*tw+tx] = true
			}
		}
	}
	// Runs of marked cells in each row; a run with the same span as one in
	// the row above extends that rect downwards.
	type span struct{ x0, x1 int }
	merged := out[:0]
	open := map[span]int{} // span → index in merged of the rect ending on the row above
	for ty := 0; ty < th; ty++ {
		next := map[span]int{}
		for tx := 0; tx < tw; {
			if !marked[ty*tw+tx] {
				tx++
				continue
			}
			sp := span{tx, tx}
			for sp.x1 < tw && marked[ty*tw+sp.x1] {
				sp.x1++
			}
			tx = sp.x1
			if i, ok := open[sp]; ok {
				merged[i].H += tileSize
				next[sp] = i
			} else {
				next[sp] = len(merged)
				merged = append(merged, screen.Rect{X: bounds.X + sp.x0*tileSize, Y: bounds.Y + ty*tileSize, W: (sp.x1 - sp.x0) * tileSize, H: tileSize})
			}
		}
		open = next
	}
	for i := range merged {
		merged[i] = merged[i].Intersect(bounds)
	}
	if len(merged) > maxRects {
		box := screen.Rect{}
		for _, r := range merged {
			box = box.Union(r)
		}
		return []screen.Rect{box}
	}
	return slices.Clip(merged)
}
