package agentlink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/quic-go/quic-go"
)

// ALPN is the TLS application protocol of the agent link. Its number is the
// protocol's major version: a change that old peers cannot ignore gets a
// new ALPN.
const ALPN = "gethelp-agent/1"

// Application error codes in CONNECTION_CLOSE.
const (
	codeBye      quic.ApplicationErrorCode = 0
	codeProtocol quic.ApplicationErrorCode = 1
)

// Timing. Variables so that tests can shorten them.
var (
	// keepAlivePeriod and maxIdleTimeout: a peer that stops answering is
	// noticed within maxIdleTimeout, with keep-alives so an idle link does
	// not time out (and NAT bindings stay open).
	keepAlivePeriod = 5 * time.Second
	maxIdleTimeout  = 15 * time.Second
	// helloTimeout bounds how long the server waits for a new
	// connection's stream and hello.
	helloTimeout = 10 * time.Second
	// byeGrace is how long a closing side waits for the peer to answer
	// its goodbye before it closes anyway.
	byeGrace = 2 * time.Second
	// sendTimeout bounds one Send; a peer that reads nothing for that long
	// is cut off.
	sendTimeout = 10 * time.Second
)

// quicConfig: the agent opens the one stream; the bot opens none.
func quicConfig(server bool) *quic.Config {
	streams := int64(-1)
	if server {
		streams = 1
	}
	return &quic.Config{
		KeepAlivePeriod:       keepAlivePeriod,
		MaxIdleTimeout:        maxIdleTimeout,
		HandshakeIdleTimeout:  helloTimeout,
		MaxIncomingStreams:    streams,
		MaxIncomingUniStreams: -1,
	}
}

// ClosedError tells how a connection ended. It unwraps to net.ErrClosed.
type ClosedError struct {
	Reason string // one line a person can read; never empty
	ByPeer bool   // the other side ended it
}

func (e *ClosedError) Error() string {
	if e.ByPeer {
		return "agentlink: closed by the other side: " + e.Reason
	}
	return "agentlink: closed: " + e.Reason
}

func (e *ClosedError) Unwrap() error { return net.ErrClosed }

// Conn is one authenticated agent link, on either side: the agent's from
// Dial, the bot's from Server.Accept. Send, Receive, Close and the getters
// are safe for concurrent use.
type Conn struct {
	qc     *quic.Conn
	st     *quic.Stream
	key    string  // the agent's key, hex
	hello  Message // the agent's hello
	logger *slog.Logger
	end    func(*Conn) // called once when the connection is over; may be nil

	wmu sync.Mutex // serialises writes to st

	in     chan Message  // closed by readLoop when it ends
	killed chan struct{} // closed when the QUIC connection is torn down
	done   chan struct{} // closed after readLoop has ended; err is set

	closeOnce sync.Once
	killOnce  sync.Once
	mu        sync.Mutex
	err       *ClosedError // guarded by mu; set once
}

// newConn makes the Conn; the caller starts it with go c.readLoop().
func newConn(qc *quic.Conn, st *quic.Stream, key string, hello Message, logger *slog.Logger, end func(*Conn)) *Conn {
	return &Conn{
		qc: qc, st: st, key: key, hello: hello, logger: logger, end: end,
		in:     make(chan Message, 16),
		killed: make(chan struct{}),
		done:   make(chan struct{}),
	}
}

// AgentKey is the agent's identity on this connection: the lowercase hex
// SHA-256 of its certificate's SubjectPublicKeyInfo (see AgentKey). The TLS
// handshake proved the peer holds the key.
func (c *Conn) AgentKey() string { return c.key }

// Hello is the agent's first message (as received on the bot's side, as
// sent on the agent's). Its Name is the agent's claim, not verified.
func (c *Conn) Hello() Message { return c.hello }

// RemoteAddr is the peer's UDP address.
func (c *Conn) RemoteAddr() net.Addr { return c.qc.RemoteAddr() }

// Done is closed when the connection has ended; Err then says how.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns nil while the connection is up, then a *ClosedError.
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

// Send sends m, stamping Time when it is zero. It returns an error
// wrapping ErrMalformed (no Type) or ErrTooLarge without harm to the
// connection, or a *ClosedError when the connection has ended or ends
// while sending (also when the peer has read nothing for a while).
func (c *Conn) Send(m Message) error {
	if err := c.Err(); err != nil {
		return err
	}
	if m.Type == TypeBye {
		return fmt.Errorf("%w: %q is sent by Close", ErrMalformed, TypeBye)
	}
	if m.Time.IsZero() {
		m.Time = time.Now().UTC()
	}
	b, err := Encode(m)
	if err != nil {
		return err
	}
	c.wmu.Lock()
	_ = c.st.SetWriteDeadline(time.Now().Add(sendTimeout))
	_, err = c.st.Write(b)
	c.wmu.Unlock()
	if err == nil {
		return nil
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		c.setErr(&ClosedError{Reason: "the other side stopped reading"})
	} else {
		c.setErr(closedFrom(err))
	}
	c.kill(codeBye, "")
	return c.Err()
}

// Receive returns the next message from the peer. Once the connection has
// ended and every message received before is returned, it returns the
// *ClosedError; it returns ctx's error when ctx ends first. Bye messages
// are handled here and never returned.
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

// Close ends the connection, telling the peer reason. Messages sent before
// reach the peer, and what the peer sent before it saw the goodbye can
// still be received. It waits a couple of seconds at most for the peer,
// and returns once the connection is gone. Calling it again does nothing.
func (c *Conn) Close(reason string) {
	if reason == "" {
		reason = "closed"
	}
	reason = oneLine(reason)
	c.closeOnce.Do(func() {
		c.setErr(&ClosedError{Reason: reason})
		c.wmu.Lock()
		_ = c.st.SetWriteDeadline(time.Now().Add(byeGrace))
		_ = WriteMessage(c.st, Message{Type: TypeBye, Text: reason, Time: time.Now().UTC()})
		_ = c.st.Close()
		c.wmu.Unlock()
		// The peer answers by finishing its side; readLoop then ends.
		t := time.NewTimer(byeGrace)
		defer t.Stop()
		select {
		case <-c.done:
		case <-t.C:
		}
		c.kill(codeBye, reason)
	})
	<-c.done
}

// kill tears the connection down at once.
func (c *Conn) kill(code quic.ApplicationErrorCode, reason string) {
	c.killOnce.Do(func() {
		close(c.killed)
		_ = c.qc.CloseWithError(code, reason)
	})
}

func (c *Conn) readLoop() {
	defer func() {
		if c.end != nil {
			c.end(c)
		}
	}()
	defer close(c.done)
	defer close(c.in)
	for {
		m, err := ReadMessage(c.st)
		if err != nil {
			if errors.Is(err, ErrMalformed) || errors.Is(err, ErrTooLarge) {
				c.protocolError(err)
				return
			}
			c.setErr(closedFrom(err))
			c.kill(codeBye, "")
			return
		}
		if m.Type == TypeBye {
			reason := oneLine(m.Text)
			if reason == "" {
				reason = "closed"
			}
			c.setErr(&ClosedError{Reason: reason, ByPeer: true})
			// Finish our side after what we already sent; the peer
			// closes the connection once it has read it.
			c.wmu.Lock()
			_ = c.st.Close()
			c.wmu.Unlock()
			t := time.NewTimer(byeGrace)
			select {
			case <-c.qc.Context().Done():
			case <-c.killed:
			case <-t.C:
			}
			t.Stop()
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
	text := oneLine(err.Error())
	c.logger.Warn("closing the agent link on a protocol error", "err", text)
	c.setErr(&ClosedError{Reason: "protocol error: " + text})
	c.kill(codeProtocol, text)
}

// closedFrom turns a stream error into a reason a person understands.
func closedFrom(err error) *ClosedError {
	var appErr *quic.ApplicationError
	var idle *quic.IdleTimeoutError
	var streamErr *quic.StreamError
	switch {
	case errors.As(err, &appErr) && appErr.Remote:
		if appErr.ErrorCode == codeProtocol {
			return &ClosedError{Reason: "the other side reported a protocol error: " + oneLine(appErr.ErrorMessage), ByPeer: true}
		}
		reason := oneLine(appErr.ErrorMessage)
		if reason == "" {
			reason = "closed"
		}
		return &ClosedError{Reason: reason, ByPeer: true}
	case errors.As(err, &appErr):
		return &ClosedError{Reason: "closed"}
	case errors.As(err, &idle):
		return &ClosedError{Reason: fmt.Sprintf("connection lost: no answer from the other side for %v", maxIdleTimeout)}
	case errors.As(err, &streamErr) && streamErr.Remote:
		return &ClosedError{Reason: "the other side reset the stream", ByPeer: true}
	case errors.Is(err, io.EOF):
		return &ClosedError{Reason: "the other side closed the connection", ByPeer: true}
	default:
		return &ClosedError{Reason: "connection lost: " + oneLine(err.Error())}
	}
}
