package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/quic-go/quic-go"
)

// Application error codes used in CONNECTION_CLOSE.
const (
	codeBye      quic.ApplicationErrorCode = 0
	codeProtocol quic.ApplicationErrorCode = 1
	codeRejected quic.ApplicationErrorCode = 2
)

// byeGrace is how long a closing side waits for the peer to acknowledge a
// goodbye (by closing the connection) before it closes anyway.
const byeGrace = 2 * time.Second

// Conn is an authenticated session, on either side. Send and Receive are safe
// for concurrent use.
type Conn struct {
	qc       *quic.Conn
	ctrl     *quic.Stream
	peerName string
	resume   []byte // the session's resume secret (see Message.Resume)
	logger   *slog.Logger

	wmu sync.Mutex // guards writes to ctrl

	in     chan Message  // closed by readLoop when it ends
	killed chan struct{} // closed when the connection is torn down
	done   chan struct{} // closed after readLoop has ended and err is set

	onDone func() // nil, or run once the connection is torn down (closes a socket the session owns)

	streams    streamQueue   // the peer's other channels, until taken
	acceptDone chan struct{} // closed when acceptStreams has ended

	closeOnce sync.Once
	killOnce  sync.Once
	mu        sync.Mutex
	err       *ClosedError // guarded by mu; set once
}

func newConn(qc *quic.Conn, ctrl *quic.Stream, peerName string, logger *slog.Logger, onDone func()) *Conn {
	c := &Conn{
		onDone:   onDone,
		qc:       qc,
		ctrl:     ctrl,
		peerName: peerName,
		logger:   logger,
		in:       make(chan Message, 16),
		killed:   make(chan struct{}),
		done:     make(chan struct{}),

		acceptDone: make(chan struct{}),
	}
	c.streams.init()
	go func() { defer close(c.acceptDone); c.acceptStreams() }()
	go c.readLoop()
	return c
}

// ResumeToken is the secret that resumes this session after a lost
// connection (DialConfig.Resume on the viewer's side; the host compares it
// with Request.Resume). Nil for sessions that cannot be resumed (offers).
func (c *Conn) ResumeToken() []byte { return c.resume }

// PeerName is the display name the other side announced (the viewer's in a
// hello, the host's in a welcome). It is the peer's claim, not a verified
// identity.
func (c *Conn) PeerName() string { return c.peerName }

// RemoteAddr is the peer's UDP address.
func (c *Conn) RemoteAddr() net.Addr { return c.qc.RemoteAddr() }

// RTT is the smoothed round-trip time QUIC measures.
func (c *Conn) RTT() time.Duration { return c.qc.ConnectionStats().SmoothedRTT }

// Stats is what QUIC knows about the path, for quality reports.
type Stats struct {
	RTT           time.Duration // smoothed
	BytesSent     uint64        // UDP payload bytes, retransmissions included
	BytesReceived uint64
	PacketsSent   uint64
	PacketsLost   uint64
}

// Stats returns the connection's counters so far.
func (c *Conn) Stats() Stats {
	s := c.qc.ConnectionStats()
	return Stats{RTT: s.SmoothedRTT, BytesSent: s.BytesSent, BytesReceived: s.BytesReceived, PacketsSent: s.PacketsSent, PacketsLost: s.PacketsLost}
}

// Done is closed when the session has ended; Err then says how.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns nil while the session runs, then a *ClosedError.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		return nil
	}
	return c.err
}

func (c *Conn) setErr(e *ClosedError) {
	c.mu.Lock()
	if c.err == nil {
		c.err = e
	}
	c.mu.Unlock()
}

// Send sends m on the control channel. A chat text longer than MaxChatText
// is refused.
func (c *Conn) Send(m Message) error {
	if m.Type == TypeChat && len(m.Text) > MaxChatText {
		return fmt.Errorf("session: chat message is %d bytes, the limit is %d", len(m.Text), MaxChatText)
	}
	if m.Time.IsZero() {
		m.Time = time.Now().UTC()
	}
	if err := c.Err(); err != nil {
		return err
	}
	return writeMessage(&c.wmu, c.ctrl, m)
}

func writeMessage(mu *sync.Mutex, w io.Writer, m Message) error {
	p, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("session: encoding %s message: %w", m.Type, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if err := WriteFrame(w, Frame{Type: FrameMessage, Payload: p}); err != nil {
		return fmt.Errorf("session: sending %s message: %w", m.Type, err)
	}
	return nil
}

// Receive returns the next message from the peer. When the session has ended
// and every message before the end has been returned, it returns the
// *ClosedError.
func (c *Conn) Receive(ctx context.Context) (Message, error) {
	select {
	case m, ok := <-c.in:
		if !ok {
			<-c.done
			return Message{}, c.Err()
		}
		return m, nil
	case <-ctx.Done():
		return Message{}, ctx.Err()
	}
}

// Close ends the session with a reason the peer is shown. Messages sent
// before Close reach the peer, and messages the peer sent before it saw the
// goodbye are still returned by Receive. It waits at most a couple of
// seconds for the peer.
func (c *Conn) Close(reason string) {
	if reason == "" {
		reason = "disconnected"
	}
	c.closeOnce.Do(func() {
		c.setErr(&ClosedError{Reason: reason})
		// Best effort: the peer may already be gone.
		_ = writeMessage(&c.wmu, c.ctrl, Message{Type: TypeBye, Text: reason, Time: time.Now().UTC()})
		c.closeSend()
		// The peer answers the goodbye by finishing its side of the
		// stream; readLoop ends when it has read everything up to there.
		select {
		case <-c.done:
		case <-time.After(byeGrace):
		}
		c.kill(codeBye, reason)
	})
	<-c.done
}

// LostWithin waits up to d for the session to end and reports whether
// its connection was lost (ClosedError.Lost) rather than ended: what a
// stream error cut then goes on after the resume. A session still
// running after d is not lost.
func (c *Conn) LostWithin(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-c.done:
	case <-t.C:
		return false
	}
	var ce *ClosedError
	return errors.As(c.Err(), &ce) && ce.Lost
}

// Abandon tears the connection down at once, without a goodbye, as if it
// had been lost (Err then has Lost set): for a session whose viewer has
// already resumed it on another connection.
func (c *Conn) Abandon(reason string) {
	c.setErr(&ClosedError{Reason: reason, Lost: true})
	c.kill(codeBye, reason)
	<-c.done
}

func (c *Conn) closeSend() {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ctrl.Close()
}

// kill tears the connection down at once.
func (c *Conn) kill(code quic.ApplicationErrorCode, reason string) {
	c.killOnce.Do(func() {
		close(c.killed)
		_ = c.qc.CloseWithError(code, reason)
	})
}

func (c *Conn) readLoop() {
	defer close(c.done)
	defer func() {
		if c.onDone != nil {
			c.onDone()
		}
	}()
	defer func() { <-c.acceptDone }() // every path out has killed the connection
	defer close(c.in)
	for {
		f, err := ReadFrame(c.ctrl, MaxControlFrame)
		if err != nil {
			c.setErr(c.translate(err))
			c.kill(codeBye, "disconnected")
			return
		}
		m, err := decodeMessage(f.Payload)
		if err != nil {
			c.protocolError(err)
			return
		}
		if m.Type == TypeBye {
			reason := m.Text
			if reason == "" {
				reason = "disconnected"
			}
			c.setErr(&ClosedError{Reason: reason, ByPeer: true})
			// Finish our side after what we already sent; the peer closes
			// the connection once it has read it.
			c.closeSend()
			select {
			case <-c.qc.Context().Done():
			case <-time.After(byeGrace):
			}
			c.kill(codeBye, "goodbye")
			return
		}
		select {
		case c.in <- m:
		case <-c.killed:
			return
		}
	}
}

func (c *Conn) protocolError(err error) {
	c.logger.Warn("closing session on protocol error", "err", err)
	c.setErr(&ClosedError{Reason: "protocol error: " + err.Error()})
	c.kill(codeProtocol, err.Error())
}

// translate turns a stream error into the reason a person would understand.
func (c *Conn) translate(err error) *ClosedError {
	if errors.Is(err, ErrFrameTooLarge) || errors.Is(err, ErrBadFrame) || errors.Is(err, io.ErrUnexpectedEOF) {
		c.protocolError(err)
		return &ClosedError{Reason: "protocol error: " + err.Error()}
	}
	return closedFrom(err)
}

func closedFrom(err error) *ClosedError {
	var appErr *quic.ApplicationError
	var idle *quic.IdleTimeoutError
	switch {
	case errors.As(err, &appErr) && appErr.Remote:
		if appErr.ErrorCode == codeProtocol {
			return &ClosedError{Reason: "the other side reported a protocol error: " + appErr.ErrorMessage, ByPeer: true}
		}
		reason := appErr.ErrorMessage
		if reason == "" {
			reason = "disconnected"
		}
		return &ClosedError{Reason: reason, ByPeer: true}
	case errors.As(err, &idle):
		return &ClosedError{Reason: "connection lost: no answer from the other side", Lost: true}
	case errors.Is(err, io.EOF):
		return &ClosedError{Reason: "the other side closed the session", ByPeer: true}
	default:
		return &ClosedError{Reason: "connection lost: " + err.Error(), Lost: true}
	}
}
