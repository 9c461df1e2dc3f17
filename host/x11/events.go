package x11

import (
	"context"
	"fmt"

	"github.com/jezek/xgb/damage"
	"github.com/jezek/xgb/randr"
	"github.com/jezek/xgb/xfixes"
	"github.com/jezek/xgb/xproto"

	"github.com/gethelp/gethelp/session/screen"
)

// window is what the source knows of a top-level window, for move hints.
type window struct {
	rect   screen.Rect // outer rect (border included) in root coordinates; W < 0 while unknown
	mapped bool
	// As at the last capture:
	baseRect   screen.Rect
	baseMapped bool
}

// read is the one goroutine that takes events off the connection. It ends
// when the connection closes (Close, or the server went away) and then
// closes s.lost.
func (s *Source) read() {
	defer s.wg.Done()
	defer close(s.lost)
	for ev, xerr := range xevents(s.conn) {
		if xerr != nil {
			// An error of a request nobody waits for (unchecked): a window
			// that went away between two requests, say. Nothing to do.
			s.log.Debug("X error", "error", xerr)
			continue
		}
		switch e := ev.(type) {
		case damage.NotifyEvent:
			// At level DeltaRectangles each event carries one rect of
			// newly damaged screen (the 0x80 bit of Level says more
			// follow); one wake-up suffices for them all.
			if e.Damage == s.damage {
				s.wmu.Lock()
				s.addDamageLocked(screen.Rect{X: int(e.Area.X), Y: int(e.Area.Y), W: int(e.Area.Width), H: int(e.Area.Height)})
				s.wmu.Unlock()
				signal(s.damaged)
			}
		case xfixes.CursorNotifyEvent:
			signal(s.cursorNew)
		case xproto.ClientMessageEvent:
			if e.Window == s.syncWin && e.Format == 32 {
				seq := e.Data.Data32[0]
				select { // only this goroutine sends: after the drain the send cannot block
				case <-s.synced:
				default:
				}
				s.synced <- seq
			}
		case randr.ScreenChangeNotifyEvent, randr.NotifyEvent:
			s.wmu.Lock()
			s.monStale = true
			s.wmu.Unlock()
		default:
			s.wmu.Lock()
			s.trackLocked(ev)
			s.wmu.Unlock()
		}
	}
}

// signal wakes whoever waits on c (of capacity 1) without ever blocking.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// trackLocked updates the top-level windows and the root's size from a
// structure event.
func (s *Source) trackLocked(ev any) {
	outer := func(x, y int16, w, h, bw uint16) screen.Rect {
		return screen.Rect{X: int(x), Y: int(y), W: int(w) + 2*int(bw), H: int(h) + 2*int(bw)}
	}
	switch e := ev.(type) {
	case xproto.CreateNotifyEvent:
		if e.Parent == s.root && e.Window != s.syncWin {
			s.windows[e.Window] = &window{rect: outer(e.X, e.Y, e.Width, e.Height, e.BorderWidth)}
		}
	case xproto.DestroyNotifyEvent:
		delete(s.windows, e.Window)
	case xproto.MapNotifyEvent:
		if w := s.windows[e.Window]; w != nil {
			w.mapped = true
		}
	case xproto.UnmapNotifyEvent:
		if w := s.windows[e.Window]; w != nil {
			w.mapped = false
		}
	case xproto.ReparentNotifyEvent:
		if e.Parent == s.root {
			if e.Window != s.syncWin {
				s.windows[e.Window] = &window{rect: screen.Rect{X: int(e.X), Y: int(e.Y), W: -1, H: -1}}
			}
		} else {
			delete(s.windows, e.Window)
		}
	case xproto.ConfigureNotifyEvent:
		if e.Window == s.root {
			s.rootW, s.rootH = int(e.Width), int(e.Height)
			s.monStale = true
			return
		}
		if w := s.windows[e.Window]; w != nil {
			w.rect = outer(e.X, e.Y, e.Width, e.Height, e.BorderWidth)
		}
	case xproto.GravityNotifyEvent:
		if w := s.windows[e.Window]; w != nil {
			w.rect.X, w.rect.Y = int(e.X), int(e.Y)
		}
	}
}

// queryWindows learns the top-level windows at start. The events selected
// before it keep the map right afterwards: each carries the whole new
// state, so replaying ones older than the query converges all the same.
func (s *Source) queryWindows() error {
	tree, err := xproto.QueryTree(s.conn, s.root).Reply()
	if err != nil {
		return fmt.Errorf("x11: list windows: %w", err)
	}
	geoms := make([]xproto.GetGeometryCookie, len(tree.Children))
	attrs := make([]xproto.GetWindowAttributesCookie, len(tree.Children))
	for i, w := range tree.Children {
		geoms[i] = xproto.GetGeometry(s.conn, xproto.Drawable(w))
		attrs[i] = xproto.GetWindowAttributes(s.conn, w)
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	for i, id := range tree.Children {
		g, gerr := geoms[i].Reply()
		a, aerr := attrs[i].Reply()
		if gerr != nil || aerr != nil {
			continue // gone meanwhile
		}
		rect := screen.Rect{X: int(g.X), Y: int(g.Y), W: int(g.Width) + 2*int(g.BorderWidth), H: int(g.Height) + 2*int(g.BorderWidth)}
		mapped := a.MapState != xproto.MapStateUnmapped
		s.windows[id] = &window{rect: rect, mapped: mapped, baseRect: rect, baseMapped: mapped}
	}
	return nil
}

// syncEvents makes sure the reader has handled every event the server sent
// before this call: it sends itself a message through the server and waits
// until the reader sees it.
func (s *Source) syncEvents(ctx context.Context) error {
	s.syncSeq++
	seq := s.syncSeq
	ev := xproto.ClientMessageEvent{
		Format: 32,
		Window: s.syncWin,
		Data:   xproto.ClientMessageDataUnionData32New([]uint32{seq, 0, 0, 0, 0}),
	}
	xproto.SendEvent(s.conn, false, s.syncWin, xproto.EventMaskNoEvent, string(ev.Bytes()))
	for {
		select {
		case got := <-s.synced:
			if got == seq {
				return nil
			}
		case <-ctx.Done():
			return ctx.Err()
		case <-s.done:
			return errClosed
		case <-s.lost:
			return s.stopped(ctx)
		}
	}
}

// maxPending is how many damaged rects the reader keeps before it merges
// them (with simplify), so that damage piling up while nobody captures
// takes bounded memory.
const maxPending = 4 * maxRects

// addDamageLocked records a damaged rect for the next capture.
func (s *Source) addDamageLocked(r screen.Rect) {
	if r.Empty() {
		return
	}
	s.pending = append(s.pending, r)
	if len(s.pending) > maxPending {
		s.pending = simplify(s.pending, screen.Rect{W: s.rootW, H: s.rootH})
	}
}

// takeChanges returns the damage the reader has seen since the last call
// and the moves of top-level windows since then (see takeMovesLocked), both as
// of the same event.
func (s *Source) takeChanges(w, h int) ([]screen.Rect, []screen.Move) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	rects := s.pending
	s.pending = nil
	return rects, s.takeMovesLocked(w, h)
}

// takeMovesLocked returns the moves of top-level windows since the last call
// (or since the start) as hints, clipped to the w×h screen, and makes the
// windows' present places the base of the next call. A window counts as
// moved when it stayed mapped and kept its size.
func (s *Source) takeMovesLocked(w, h int) []screen.Move {
	var moves []screen.Move
	bounds := screen.Rect{W: w, H: h}
	for _, win := range s.windows {
		from, to := win.baseRect, win.rect
		if win.mapped && win.baseMapped && from.W > 0 && from.W == to.W && from.H == to.H && (from.X != to.X || from.Y != to.Y) {
			dx, dy := to.X-from.X, to.Y-from.Y
			// Keep the part whose source and destination are both on screen.
			src := from.Intersect(bounds).Intersect(screen.Rect{X: -dx, Y: -dy, W: w, H: h})
			if !src.Empty() {
				moves = append(moves, screen.Move{Src: src, DstX: src.X + dx, DstY: src.Y + dy})
			}
		}
		win.baseRect, win.baseMapped = win.rect, win.mapped
	}
	return moves
}

// rootSize returns the root window's size as last told by the server.
func (s *Source) rootSize() (int, int) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.rootW, s.rootH
}
