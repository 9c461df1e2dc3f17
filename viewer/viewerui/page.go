package viewerui

import (
	"context"
	"encoding/json"
	"os"
	"time"

	"github.com/gethelp/gethelp/localweb"
	"github.com/gethelp/gethelp/session"
	"github.com/gethelp/gethelp/session/screen"
	"github.com/gethelp/gethelp/viewer"
)

// pointerInterval is how often the host's pointer is polled (~30 Hz).
const pointerInterval = time.Second / 30

// hello returns the first message to a page.
func (s *Server) hello() []byte {
	home, _ := os.UserHomeDir()
	b, _ := json.Marshal(struct {
		Type    string `json:"type"`
		Side    string `json:"side"`
		Host    string `json:"host"`
		Version int    `json:"version"`
		Home    string `json:"home,omitempty"` // shown as ~ in the paths of received files
	}{"hello", "helper", s.v.HostName(), wireVersion, home})
	return b
}

// page is the screen and pointer of one connected browser page.
type page struct {
	s   *Server
	web *localweb.Page

	// Owned by run.
	w, h    int    // the canvas's size; 0 before the first picture
	seq     uint32 // the last screen update drawn
	haveSeq bool
	ptr     viewer.PointerState // the pointer as last sent
	ptrSent bool
	shape   *session.CursorMessage // the shape last sent
}

// servePage sends a page the screen and the pointer, once it has the hello,
// the events and the stats so far (localweb.Options.OnPage). When the page
// goes, the keys and buttons it held on the person's computer are released.
func (s *Server) servePage(ctx context.Context, p *localweb.Page) error {
	defer s.releaseHeld(p)
	return (&page{s: s, web: p}).run(ctx)
}

// run writes to the page: the whole screen, then screen updates and
// pointer moves as they come. (localweb writes the events.)
func (p *page) run(ctx context.Context) error {
	updates, stop := p.s.v.SubscribeScreen()
	defer stop()
	if err := p.screen(ctx, updates, nil); err != nil {
		return err
	}
	if err := p.pointer(ctx); err != nil {
		return err
	}
	tick := time.NewTicker(pointerInterval)
	defer tick.Stop()
	for {
		var err error
		select {
		case <-ctx.Done():
			return ctx.Err()
		case u := <-updates:
			err = p.screen(ctx, updates, &u)
		case <-tick.C:
			err = p.pointer(ctx)
		}
		if err != nil {
			return err
		}
	}
}

// screen brings the page's canvas up to the framebuffer. first is the
// update just received, or nil to redraw everything (a new page).
//
// The framebuffer may already be ahead of the updates received: pixels
// always come from the framebuffer as it is now. Updates are handed to
// subscribers under the framebuffer's lock, so once the queue is drained
// under that lock the framebuffer is exactly the last update drained,
// unless one was dropped for want of room; a drop is detected by a full
// queue or a gap in Seq and answered with a whole redraw.
func (p *page) screen(ctx context.Context, updates <-chan viewer.ScreenUpdate, first *viewer.ScreenUpdate) error {
	var batch []viewer.ScreenUpdate
	full := first == nil
	if first != nil {
		batch = append(batch, *first)
		if len(updates) >= cap(updates)-1 {
			full = true // the queue may have been full: something may be lost
		}
	}
	ww := newWireWriter()
	p.s.v.Framebuffer(func(img *screen.Image) {
		n := len(updates)
		if n == cap(updates) {
			full = true
		}
		for range n {
			batch = append(batch, <-updates)
		}
		for _, u := range batch {
			if p.haveSeq && u.Seq != p.seq+1 {
				full = true
			}
			p.seq, p.haveSeq = u.Seq, true
		}
		if img == nil {
			return
		}
		if full || img.W != p.w || img.H != p.h || !replay(ww, img, batch) {
			ww = newWireWriter()
			ww.resize(img.W, img.H)
			ww.pixels(img, img.Bounds())
			p.w, p.h = img.W, img.H
		}
		ww.sync(p.seq)
	})
	for _, m := range ww.messages() {
		if err := p.web.SendBinary(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// replay writes the batch's operations with pixels from img, the state
// after the batch, and reports false when a whole redraw is better (a
// resize, an unknown operation, more pixels than the screen holds).
//
// A copy reads the canvas, so it is replayed only while everything before
// it in the batch was an exact copy too; later copies are sent as the
// pixels of their destination. The canvas then ends equal to img: every
// rect that an operation touched last was written from img or by an exact
// copy that nothing later overwrote.
func replay(ww *wireWriter, img *screen.Image, batch []viewer.ScreenUpdate) bool {
	bounds := img.Bounds()
	area, limit := 0, bounds.Area()
	copies := true
	for _, u := range batch {
		for _, op := range u.Ops {
			if op.Rect.Empty() && op.Kind != screen.OpResize {
				continue
			}
			switch op.Kind {
			case screen.OpCopy:
				src := screen.Rect{X: op.SrcX, Y: op.SrcY, W: op.Rect.W, H: op.Rect.H}
				if copies && src.Intersect(bounds) == src && op.Rect.Intersect(bounds) == op.Rect {
					ww.copyRect(op.SrcX, op.SrcY, op.Rect)
					continue
				}
			case screen.OpPixels:
			default:
				return false
			}
			copies = false
			area += op.Rect.Intersect(bounds).Area()
			if area > limit {
				return false
			}
			ww.pixels(img, op.Rect)
		}
	}
	return true
}

// pointer sends the host's pointer (and its shape) when they changed.
func (p *page) pointer(ctx context.Context) error {
	ps := p.s.v.Pointer()
	ww := newWireWriter()
	if ps.Shape != nil && ps.Shape != p.shape {
		if p.shape == nil || ps.Shape.Serial != p.shape.Serial {
			ww.cursor(ps.Shape)
		}
		p.shape = ps.Shape
	}
	if !p.ptrSent || ps.X != p.ptr.X || ps.Y != p.ptr.Y || ps.Visible != p.ptr.Visible {
		ww.pointer(ps.X, ps.Y, ps.Visible)
		p.ptr, p.ptrSent = ps, true
	}
	for _, m := range ww.messages() {
		if err := p.web.SendBinary(ctx, m); err != nil {
			return err
		}
	}
	return nil
}
