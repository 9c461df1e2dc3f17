package viewerui

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/gethelp/gethelp/session"
	"github.com/gethelp/gethelp/session/screen"
	"github.com/gethelp/gethelp/viewer"
)

const (
	// pointerInterval is how often the host's pointer is polled (~30 Hz).
	pointerInterval = time.Second / 30
	// writeTimeout bounds one WebSocket write; a page that does not read
	// for that long is dropped.
	writeTimeout = 10 * time.Second
	// maxCommand bounds a message from the page (a chat of 16 KiB, escaped).
	maxCommand = 128 << 10
)

var errSlow = errors.New("viewerui: the page does not keep up")

// page is one connected browser page.
type page struct {
	s        *Server
	conn     *websocket.Conn
	out      chan []byte   // JSON messages for the page
	slow     chan struct{} // closed when out overflowed
	slowOnce sync.Once

	// Owned by run.
	w, h    int    // the canvas's size; 0 before the first picture
	seq     uint32 // the last screen update drawn
	haveSeq bool
	ptr     viewer.PointerState // the pointer as last sent
	ptrSent bool
	shape   *session.CursorMessage // the shape last sent
}

// send queues a JSON message without blocking; a page that lets its queue
// fill up is dropped.
func (p *page) send(b []byte) {
	select {
	case p.out <- b:
	default:
		p.slowOnce.Do(func() { close(p.slow) })
	}
}

// servePage runs one page's WebSocket until the page goes or the server
// closes.
func (s *Server) servePage(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return // Accept has answered
	}
	c.SetReadLimit(maxCommand)
	p := &page{s: s, conn: c, out: make(chan []byte, pageQueue), slow: make(chan struct{})}

	hello, _ := json.Marshal(struct {
		Type    string `json:"type"`
		Side    string `json:"side"`
		Host    string `json:"host"`
		Version int    `json:"version"`
	}{"hello", "helper", s.v.HostName(), wireVersion})
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.CloseNow()
		return
	}
	s.wg.Add(1)
	defer s.wg.Done()
	initial := append([][]byte{hello}, s.backlog...)
	if s.stats != nil {
		initial = append(initial, s.stats)
	}
	initial = slices.Clip(initial)
	s.pages[p] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.pages, p)
		s.mu.Unlock()
	}()

	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		defer cancel()
		p.readCommands(ctx)
	}()
	err = p.run(ctx, initial)
	if err != nil && ctx.Err() == nil {
		s.logger.Debug("page dropped", "err", err)
	}
	cancel()
	c.CloseNow()
	<-readDone
}

func (p *page) readCommands(ctx context.Context) {
	for {
		typ, b, err := p.conn.Read(ctx)
		if err != nil {
			return
		}
		if typ != websocket.MessageText {
			continue
		}
		var cmd command
		if err := json.Unmarshal(b, &cmd); err != nil {
			p.send(errorMessage("", errors.New("the page sent something that is not JSON")))
			continue
		}
		p.s.do(p, cmd)
	}
}

// run writes to the page: the state so far, the whole screen, then events,
// screen updates and pointer moves as they come.
func (p *page) run(ctx context.Context, initial [][]byte) error {
	for _, m := range initial {
		if err := p.write(ctx, websocket.MessageText, m); err != nil {
			return err
		}
	}
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
		case <-p.slow:
			return errSlow
		case m := <-p.out:
			err = p.write(ctx, websocket.MessageText, m)
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

func (p *page) write(ctx context.Context, typ websocket.MessageType, b []byte) error {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	return p.conn.Write(ctx, typ, b)
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
		if err := p.write(ctx, websocket.MessageBinary, m); err != nil {
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
		if err := p.write(ctx, websocket.MessageBinary, m); err != nil {
			return err
		}
	}
	return nil
}
