package x11

import (
	"context"
	"time"

	"github.com/jezek/xgb/xfixes"
	"github.com/jezek/xgb/xproto"

	"github.com/gethelp/gethelp/host"
)

// Pointer polling backs off while the pointer is still: Pointer asks every
// Options.PointerInterval while the pointer moves and for pointerStill
// after it last moved, then doubles the interval at each poll up to
// pointerIdleInterval. A still pointer so costs 5 polls a second instead of
// 60 (each a round trip to the X server and a wake-up of the process,
// about 0.25 ms of CPU all told on a 2-core machine); the first move after
// a pause shows up to pointerIdleInterval late, the rest at the full rate.
const (
	pointerStill        = time.Second
	pointerIdleInterval = 200 * time.Millisecond
)

// Pointer returns the pointer at once the first time, with its Shape;
// later it waits until the pointer moved, showed or hid, or changed shape.
// The shape comes from XFixes (GetCursorImage, woken by CursorNotify); the
// position is polled with QueryPointer, only while a caller waits here:
// every Options.PointerInterval while the pointer moves, less often once it
// has been still for a second (see pointerIdleInterval). The pointer counts
// as hidden while it is on another screen of the display or its shape is
// wholly transparent.
//
// Pointer returns ctx.Err() when ctx ends, an error wrapping
// net.ErrClosed after Close, and one wrapping ErrLost when the X server
// went away.
func (s *Source) Pointer(ctx context.Context) (host.Pointer, error) {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	if err := s.stopped(ctx); err != nil {
		return host.Pointer{}, err
	}
	if !s.pFirst {
		select { // the shape is read now anyway
		case <-s.cursorNew:
		default:
		}
		p, err := s.pointerNow(true)
		if err != nil {
			return host.Pointer{}, err
		}
		s.pFirst = true
		s.pLast = host.Pointer{X: p.X, Y: p.Y, Visible: p.Visible}
		s.pMoved = time.Now()
		return p, nil
	}
	var timer *time.Timer
	wait := s.opts.PointerInterval
	shape := false
	for {
		p, err := s.pointerNow(shape)
		if err != nil {
			return host.Pointer{}, err
		}
		now := time.Now()
		if p.Shape != nil || p.X != s.pLast.X || p.Y != s.pLast.Y || p.Visible != s.pLast.Visible {
			s.pLast = host.Pointer{X: p.X, Y: p.Y, Visible: p.Visible}
			s.pMoved = now
			return p, nil
		}
		if now.Sub(s.pMoved) >= pointerStill {
			wait = min(2*wait, max(pointerIdleInterval, s.opts.PointerInterval))
		}
		if timer == nil {
			timer = time.NewTimer(wait)
			defer timer.Stop()
		} else {
			timer.Reset(wait)
		}
		shape = false
		select {
		case <-timer.C:
		case <-s.cursorNew:
			shape = true
		case <-ctx.Done():
			return host.Pointer{}, ctx.Err()
		case <-s.done:
			return host.Pointer{}, errClosed
		case <-s.lost:
			return host.Pointer{}, s.stopped(ctx)
		}
	}
}

// pointerNow asks where the pointer is and, if withShape, its shape; the
// Pointer has a Shape only when the shape differs from the last one sent.
// It records the shape it returns in pShape.
func (s *Source) pointerNow(withShape bool) (host.Pointer, error) {
	qp := xproto.QueryPointer(s.conn, s.root)
	var ci xfixes.GetCursorImageCookie
	if withShape {
		ci = xfixes.GetCursorImage(s.conn)
	}
	q, err := qp.Reply()
	if err != nil {
		return host.Pointer{}, s.xerr("query the pointer", err)
	}
	p := host.Pointer{X: int(q.RootX), Y: int(q.RootY)}
	if withShape {
		img, err := ci.Reply()
		if err != nil {
			return host.Pointer{}, s.xerr("read the cursor image", err)
		}
		if s.pShape == nil || img.CursorSerial != s.pShape.Serial {
			p.Shape = cursorFromARGB(img)
			s.pShape = p.Shape
		}
	}
	p.Visible = q.SameScreen && s.pShape != nil && !transparent(s.pShape)
	return p, nil
}

// cursorFromARGB converts XFixes' cursor image (32-bit ARGB words, alpha
// in the top byte, colours premultiplied by alpha) to non-premultiplied
// RGBA bytes.
func cursorFromARGB(r *xfixes.GetCursorImageReply) *host.Cursor {
	w, h := int(r.Width), int(r.Height)
	c := &host.Cursor{Serial: r.CursorSerial, W: w, H: h, HotX: int(r.Xhot), HotY: int(r.Yhot), Pix: make([]byte, 4*w*h)}
	for i, v := range r.CursorImage[:min(len(r.CursorImage), w*h)] {
		a := v >> 24
		if a == 0 {
			continue // transparent: 0, 0, 0, 0
		}
		red, green, blue := v>>16&0xff, v>>8&0xff, v&0xff
		if a < 0xff {
			red = min(0xff, (red*0xff+a/2)/a)
			green = min(0xff, (green*0xff+a/2)/a)
			blue = min(0xff, (blue*0xff+a/2)/a)
		}
		c.Pix[4*i], c.Pix[4*i+1], c.Pix[4*i+2], c.Pix[4*i+3] = byte(red), byte(green), byte(blue), byte(a)
	}
	return c
}

// transparent reports whether no pixel of c shows.
func transparent(c *host.Cursor) bool {
	for i := 3; i < len(c.Pix); i += 4 {
		if c.Pix[i] != 0 {
			return false
		}
	}
	return true
}
