package x11

import (
	"context"
	"slices"
	"time"

	"github.com/jezek/xgb/damage"

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
	return s.NextAfter(ctx, time.Time{})
}

// NextAfter is Next, except that it reads nothing before notBefore: damage
// that comes earlier waits until then, and the damage that follows it in
// the meantime goes into the same capture (see host.PacedSource).
func (s *Source) NextAfter(ctx context.Context, notBefore time.Time) (host.Capture, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.stopped(ctx); err != nil {
		return host.Capture{}, err
	}
	if w, h := s.rootSize(); s.img == nil || s.img.W != w || s.img.H != h || s.refresh.Load() {
		if err := s.sleepUntil(ctx, notBefore); err != nil {
			return host.Capture{}, err
		}
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
		if err := s.sleepUntil(ctx, notBefore); err != nil {
			signal(s.damaged) // the damage is still there for next time
			return host.Capture{}, err
		}
		if err := s.settle(ctx); err != nil {
			signal(s.damaged) // the damage is still there for next time
			return host.Capture{}, err
		}
		w, h := s.rootSize()
		if w != s.img.W || h != s.img.H || s.refresh.Swap(false) {
			return s.captureAll(ctx, w, h)
		}
		// From here on the damage is ours: finish even if ctx ends. The
		// damage events the reader has handled carry the rects; any still
		// on their way go to the next call. The moves come from the same
		// events, so every move reported was made before the damage taken.
		rects, moves := s.takeChanges(w, h)
		bounds := s.img.Bounds()
		dirty := simplify(rects, bounds)
		if len(dirty) == 0 {
			continue // a wake-up for damage already taken
		}
		s.rearm()
		if err := s.grab.grab(s.img, dirty); err != nil {
			s.img = nil // start over with a whole screen next time
			return host.Capture{}, s.xerr("read the screen", err)
		}
		return host.Capture{Image: s.img, Dirty: dirty, Moves: moves}, nil
	}
}

// A client draws a change in several requests (an xterm echoing a key
// clears the cell, draws the glyph, moves the cursor), and the first of
// them wakes Next. Reading at once would catch the change half drawn and
// send the rest in another update, so Next waits until no damage came for
// settleQuiet, but no longer than settleMax in all. On the desktop workload
// reading at once made 29% more updates while typing.
const (
	settleQuiet = time.Millisecond
	settleMax   = 4 * time.Millisecond
)

// sleepUntil waits until t (the damage meanwhile piles up in pending).
func (s *Source) sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return errClosed
	case <-s.lost:
		return s.stopped(ctx)
	}
}

// settle waits until the damage stops coming for settleQuiet, or settleMax
// has passed.
func (s *Source) settle(ctx context.Context) error {
	deadline := time.Now().Add(settleMax)
	t := time.NewTimer(settleQuiet)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			return nil
		case <-s.damaged:
			wait := min(settleQuiet, time.Until(deadline))
			if wait <= 0 {
				signal(s.damaged) // keep the wake-up for the loop in Next
				return nil
			}
			t.Reset(wait)
		case <-ctx.Done():
			return ctx.Err()
		case <-s.done:
			return errClosed
		case <-s.lost:
			return s.stopped(ctx)
		}
	}
}

// captureAll reads the whole w×h screen, with new buffers if its size
// changed, and drops the damage and moves so far.
func (s *Source) captureAll(ctx context.Context, w, h int) (host.Capture, error) {
	// Have the reader handle every event sent so far, so that the damage
	// and moves dropped include all that this capture covers.
	if err := s.syncEvents(ctx); err != nil {
		s.refresh.Store(true) // whatever woke us, the next call reads everything
		return host.Capture{}, err
	}
	s.refresh.Store(false) // this is the whole screen; a Refresh from now on asks for another
	s.takeChanges(w, h)
	s.rearm()
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

// rearm empties the server's damage region, so that it reports again
// whatever is drawn from now on, also where it reported before. It is sent
// before the pixels are read: a drawing the server makes before it
// empties the region is in the pixels read after; one it makes after is
// reported again. It needs no reply, so it costs no round trip (a broken
// connection shows in the read that follows).
func (s *Source) rearm() {
	damage.Subtract(s.conn, s.damage, 0, 0) // repair None, parts None: take it all
}

// Limits of simplify.
const (
	maxRects = 64 // more rects than this are merged on a grid
	tileSize = 32 // the grid's cell
)

// simplify clips rects to bounds and, when there are more than maxRects,
// replaces them by the cells of a tileSize grid they touch, merged into
// rects, or by their bounding box if that is still too many. The result
// covers the input, and is disjoint if the input is or was merged. (The
// damage of one capture is disjoint but for rects reported on either side
// of the Subtract that re-armed the reports.)
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
