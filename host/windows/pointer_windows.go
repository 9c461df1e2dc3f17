//go:build windows

package windows

import (
	"context"
	"image"
	"time"
	"unsafe"

	"github.com/gethelp/gethelp/host"
)

// Pointer polling backs off while the pointer is still, as host/x11's
// does: Pointer looks every Options.PointerInterval while the pointer
// moves and for pointerStill after it last moved, then doubles the
// interval at each look up to pointerIdleInterval. A still pointer so
// costs 5 looks a second instead of 60; the first move after a pause
// shows up to pointerIdleInterval late, the rest at the full rate.
const (
	pointerStill        = time.Second
	pointerIdleInterval = 200 * time.Millisecond
)

// Pointer returns the pointer at once the first time, with its Shape;
// later it waits until the pointer moved, showed or hid, or changed shape.
// Positions are in the coordinates of the image Next returned last (the
// virtual screen's, from its top-left corner). It looks with
// GetCursorInfo (position, shown or not, and the cursor's handle), only
// while a caller waits here: every Options.PointerInterval while the
// pointer moves, less often once it has been still for a second. The
// shape is read (GetIconInfo, GetDIBits) when the handle changes, and
// returned when it differs from the last one returned; an animated cursor
// (the busy one) shows its first frame. The pointer is hidden when
// Windows hides it (an application hid it, or touch and pen input
// suppress it), when its shape is wholly transparent, and while its
// position cannot be read (the secure desktop has the input).
//
// Pointer returns ctx.Err() when ctx ends and an error wrapping
// net.ErrClosed after Close.
func (s *Source) Pointer(ctx context.Context) (host.Pointer, error) {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	select {
	case <-s.done:
		return host.Pointer{}, errClosed
	default:
	}
	if err := ctx.Err(); err != nil {
		return host.Pointer{}, err
	}
	if !s.pFirst {
		p := s.pointerNow()
		s.pFirst = true
		s.pLast = host.Pointer{X: p.X, Y: p.Y, Visible: p.Visible}
		s.pMoved = time.Now()
		return p, nil
	}
	var timer *time.Timer
	wait := s.pointerInterval
	for {
		p := s.pointerNow()
		now := time.Now()
		if p.Shape != nil || p.X != s.pLast.X || p.Y != s.pLast.Y || p.Visible != s.pLast.Visible {
			s.pLast = host.Pointer{X: p.X, Y: p.Y, Visible: p.Visible}
			s.pMoved = now
			return p, nil
		}
		if now.Sub(s.pMoved) >= pointerStill {
			wait = min(2*wait, max(pointerIdleInterval, s.pointerInterval))
		}
		if timer == nil {
			timer = time.NewTimer(wait)
			defer timer.Stop()
		} else {
			timer.Reset(wait)
		}
		select {
		case <-timer.C:
		case <-ctx.Done():
			return host.Pointer{}, ctx.Err()
		case <-s.done:
			return host.Pointer{}, errClosed
		}
	}
}

// pointerNow looks at the pointer once; the Pointer has a Shape only when
// the shape differs from the last one returned. s.pmu must be held.
func (s *Source) pointerNow() host.Pointer {
	ci := cursorInfo{}
	ci.Size = uint32(unsafe.Sizeof(ci))
	if r, _, _ := procGetCursorInfo.Call(uintptr(unsafe.Pointer(&ci))); r == 0 {
		return host.Pointer{X: s.pLast.X, Y: s.pLast.Y} // hidden where it was
	}
	o := s.origin.Load() // as the image; GetSystemMetrics costs more than GetCursorInfo under Wine
	if o == nil {
		vs := virtualScreen()
		o = &image.Point{X: vs.X, Y: vs.Y}
	}
	p := host.Pointer{X: int(ci.Pos.X) - o.X, Y: int(ci.Pos.Y) - o.Y}
	if ci.Cursor != s.pHandle {
		s.pHandle = ci.Cursor
		if ci.Cursor != 0 {
			if c := readCursor(ci.Cursor); c != nil && (s.pShape == nil || c.Serial != s.pShape.Serial) {
				p.Shape = c
				s.pShape = c
			}
		}
	}
	p.Visible = ci.Flags&cursorShowing != 0 && ci.Cursor != 0 && (s.pShape == nil || !transparent(s.pShape))
	return p
}

// readCursor reads the shape of the cursor hc, or returns nil when it
// cannot.
func readCursor(hc uintptr) *host.Cursor {
	var ii iconInfo
	if _, err := call(procGetIconInfo, hc, uintptr(unsafe.Pointer(&ii))); err != nil {
		return nil
	}
	// GetIconInfo makes copies of the bitmaps: they are ours to delete.
	defer func() {
		if ii.Mask != 0 {
			procDeleteObject.Call(ii.Mask)
		}
		if ii.Color != 0 {
			procDeleteObject.Call(ii.Color)
		}
	}()
	mw, mh, ok := bitmapSize(ii.Mask)
	if !ok {
		return nil
	}
	w, h := mw, mh
	if ii.Color == 0 {
		h = mh / 2 // the AND mask over the XOR mask
	} else if cw, ch, ok := bitmapSize(ii.Color); !ok || cw != mw || ch != mh {
		return nil
	}
	if w <= 0 || h <= 0 || w > maxCursorSide || h > maxCursorSide {
		return nil
	}
	dc, err := call(procCreateCompatibleDC, 0)
	if err != nil {
		return nil
	}
	defer procDeleteDC.Call(dc)
	mask := dibBits(dc, ii.Mask, mw, mh)
	if mask == nil {
		return nil
	}
	var color []byte
	if ii.Color != 0 {
		if color = dibBits(dc, ii.Color, w, h); color == nil {
			return nil
		}
	}
	return cursorFromBits(w, h, int(ii.XHot), int(ii.YHot), color, mask)
}

// bitmapSize returns the size of a bitmap.
func bitmapSize(bmp uintptr) (w, h int, ok bool) {
	if bmp == 0 {
		return 0, 0, false
	}
	var bm bitmapObject
	if r, _, _ := procGetObjectW.Call(bmp, unsafe.Sizeof(bm), uintptr(unsafe.Pointer(&bm))); r == 0 {
		return 0, 0, false
	}
	return int(bm.Width), int(bm.Height), true
}

// dibBits reads a w×h bitmap (not selected into any DC) as top-down
// 32-bit rows, BGRX or BGRA; monochrome bitmaps come out black (0) and
// white (1).
func dibBits(dc, bmp uintptr, w, h int) []byte {
	bi := bitmapInfo{Header: bitmapInfoHeader{
		Width:       int32(w),
		Height:      -int32(h),
		Planes:      1,
		BitCount:    32,
		Compression: biRGB,
	}}
	bi.Header.Size = uint32(unsafe.Sizeof(bi.Header))
	buf := make([]byte, 4*w*h)
	r, _, _ := procGetDIBits.Call(dc, bmp, 0, uintptr(h), uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&bi)), dibRGBColors)
	if int(r) != h {
		return nil
	}
	return buf
}
