package webchat

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
)

const (
	// pageQueue is how many events may wait for a slow page before it is
	// dropped (it reconnects and fetches what it shows again).
	pageQueue = 256
	// writeTimeout bounds one WebSocket write.
	writeTimeout = 10 * time.Second
)

// page is one open WebSocket.
type page struct {
	out      chan []byte   // events for the page
	slow     chan struct{} // closed when out overflowed
	slowOnce sync.Once
}

// hello is the first event on /ws: the page is then receiving.
type hello struct {
	Type      string `json:"type"` // "hello"
	Workspace string `json:"workspace"`
}

// broadcastLocked sends the event v to every page without blocking.
func (s *Server) broadcastLocked(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.logger.Error("event", "err", err)
		return
	}
	for p := range s.pages {
		select {
		case p.out <- b:
		default:
			p.slowOnce.Do(func() { close(p.slow) })
		}
	}
}

// serveWS pushes every change to one page until it goes, falls behind or
// the server closes. The page's Origin must be its own (r.Host).
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return // Accept has answered
	}
	defer c.CloseNow()
	p := &page{out: make(chan []byte, pageQueue), slow: make(chan struct{})}
	first, _ := json.Marshal(hello{Type: "hello", Workspace: s.workspace})
	p.out <- first
	s.mu.Lock()
	s.pages[p] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.pages, p)
		s.mu.Unlock()
	}()
	ctx := c.CloseRead(s.ctx) // done when the page goes or the server closes
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.slow:
			s.logger.Debug("page dropped: too slow")
			return
		case b := <-p.out:
			if err := write(ctx, c, b); err != nil {
				return
			}
		}
	}
}

func write(ctx context.Context, c *websocket.Conn, b []byte) error {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	return c.Write(ctx, websocket.MessageText, b)
}
