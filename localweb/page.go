package localweb

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"

	"github.com/coder/websocket"
)

var errSlow = errors.New("localweb: the page does not keep up")

// Page is one connected browser page: one WebSocket. Its methods may be
// called from any goroutine.
type Page struct {
	conn     *websocket.Conn
	out      chan []byte   // text messages for the page
	slow     chan struct{} // closed when out overflowed
	slowOnce sync.Once
}

// SendText queues the text message msg for the page without blocking; a
// page that lets pageQueue messages pile up is dropped (it reconnects and
// catches up from the backlog). Messages are written in the order queued.
// msg must not be modified afterwards.
func (p *Page) SendText(msg []byte) {
	select {
	case p.out <- msg:
	default:
		p.slowOnce.Do(func() { close(p.slow) })
	}
}

// SendBinary writes the binary message msg to the page now. It returns
// once written, or the error of the write: ctx done, the page gone, or
// writeTimeout passed without the page reading.
func (p *Page) SendBinary(ctx context.Context, msg []byte) error {
	return p.write(ctx, websocket.MessageBinary, msg)
}

func (p *Page) write(ctx context.Context, typ websocket.MessageType, b []byte) error {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	return p.conn.Write(ctx, typ, b)
}

// ErrorReply returns the text message that tells a page one of its
// commands failed, as both windows say it: {"type":"error","command":
// command,"message":message}, with "upload":upload when upload is not ""
// (the upload, POST /upload, the failed command was about). message is in
// the page's words.
func ErrorReply(command, upload, message string) []byte {
	b, _ := json.Marshal(struct {
		Type    string `json:"type"`
		Command string `json:"command"`
		Message string `json:"message"`
		Upload  string `json:"upload,omitempty"`
	}{"error", command, message, upload})
	return b
}

// servePage runs one page's WebSocket until the page goes, OnPage returns
// or the server closes.
func (s *Server) servePage(w http.ResponseWriter, r *http.Request) {
	// Accept refuses an Origin other than the page's own (r.Host).
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return // Accept has answered
	}
	c.SetReadLimit(maxMessage)
	p := &Page{conn: c, out: make(chan []byte, pageQueue), slow: make(chan struct{})}
	var hello []byte
	if s.opts.Hello != nil {
		hello = s.opts.Hello()
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.CloseNow()
		return
	}
	s.wg.Add(1)
	defer s.wg.Done()
	initial := make([][]byte, 0, len(s.backlog)+2)
	if hello != nil {
		initial = append(initial, hello)
	}
	initial = append(initial, s.backlog...)
	if s.latest != nil {
		initial = append(initial, s.latest)
	}
	s.pages[p] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.pages, p)
		s.mu.Unlock()
	}()

	ctx, cancel := context.WithCancelCause(s.ctx)
	defer cancel(nil)
	var wg sync.WaitGroup // the reader and OnPage
	wg.Go(func() {
		defer cancel(nil)
		s.read(ctx, p)
	})
	err = p.writeTexts(ctx, initial)
	if err == nil {
		if s.opts.OnPage != nil {
			wg.Go(func() {
				err := s.opts.OnPage(ctx, p)
				if err == nil {
					err = context.Canceled // OnPage is done with the page: close it quietly
				}
				cancel(err) // a no-op when ctx ended first: then the cause is ctx's
			})
		}
		err = p.writeQueue(ctx)
	}
	if ctx.Err() != nil {
		err = context.Cause(ctx) // the page went, the server closed, or OnPage ended
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		s.logger.Debug("page dropped", "err", err)
	}
	cancel(nil)
	c.CloseNow()
	wg.Wait()
}

// read hands the page's text messages to OnText until the page goes.
func (s *Server) read(ctx context.Context, p *Page) {
	for {
		typ, b, err := p.conn.Read(ctx)
		if err != nil {
			return
		}
		if typ == websocket.MessageText && s.opts.OnText != nil {
			s.opts.OnText(p, b)
		}
	}
}

// writeTexts writes the text messages msgs to the page, in order.
func (p *Page) writeTexts(ctx context.Context, msgs [][]byte) error {
	for _, m := range msgs {
		if err := p.write(ctx, websocket.MessageText, m); err != nil {
			return err
		}
	}
	return nil
}

// writeQueue writes the text messages of SendText as they are queued,
// until ctx is done (then it returns nil), a write fails or the page falls
// behind (errSlow).
func (p *Page) writeQueue(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-p.slow:
			return errSlow
		case m := <-p.out:
			if err := p.write(ctx, websocket.MessageText, m); err != nil {
				return err
			}
		}
	}
}
