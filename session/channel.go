package session

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/quic-go/quic-go"
)

// Channels other than control run on QUIC streams of their own, so bulk data
// never holds up the control channel (chat, consent) and one channel never
// holds up another. Every stream starts with the preface naming its channel;
// the Conn accepts the peer's streams as they come and queues them by
// channel until the application asks for one.
//
//   - Unidirectional streams carry one-way flows: the screen (host to
//     viewer) and input (viewer to host). Their frames are FrameData.
//   - Bidirectional streams carry exchanges: one file transfer per stream.
//     The application owns the framing inside them.

// prefaceTimeout bounds how long a new stream may take to name its channel.
const prefaceTimeout = 10 * time.Second

// maxQueued is how many streams of one channel may wait for the application;
// more are refused.
const maxQueued = 8

// ChannelWriter sends frames on a one-way channel.
type ChannelWriter struct {
	st *quic.SendStream
	mu sync.Mutex
}

// OpenChannel opens a one-way channel to the peer.
func (c *Conn) OpenChannel(ctx context.Context, ch byte) (*ChannelWriter, error) {
	st, err := c.qc.OpenUniStreamSync(ctx)
	if err != nil {
		return nil, fmt.Errorf("session: opening channel %d: %w", ch, err)
	}
	if _, err := st.Write(preface(ch)); err != nil {
		return nil, fmt.Errorf("session: opening channel %d: %w", ch, err)
	}
	return &ChannelWriter{st: st}, nil
}

// WriteFrame sends one payload. It blocks while the peer's flow-control
// window is full.
func (w *ChannelWriter) WriteFrame(payload []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return WriteFrame(w.st, Frame{Type: FrameData, Payload: payload})
}

// Close ends the channel after what was written.
func (w *ChannelWriter) Close() error { return w.st.Close() }

// ChannelReader receives frames of a one-way channel.
type ChannelReader struct {
	st  *quic.ReceiveStream
	max int
}

// ReadFrame returns the next payload; it fails on frames larger than the
// limit given to AcceptChannel.
func (r *ChannelReader) ReadFrame() ([]byte, error) {
	f, err := ReadFrame(r.st, r.max)
	if err != nil {
		return nil, err
	}
	if f.Type != FrameData {
		return nil, fmt.Errorf("%w: frame type %d on a bulk channel", ErrBadFrame, f.Type)
	}
	return f.Payload, nil
}

// Cancel stops reading the channel.
func (r *ChannelReader) Cancel() { r.st.CancelRead(0) }

// AcceptChannel waits for the peer to open one-way channel ch and returns
// it; frames longer than max bytes are refused.
func (c *Conn) AcceptChannel(ctx context.Context, ch byte, max int) (*ChannelReader, error) {
	st, err := c.streams.take(ctx, ch, false)
	if err != nil {
		return nil, fmt.Errorf("session: waiting for channel %d: %w", ch, err)
	}
	return &ChannelReader{st: st.(*quic.ReceiveStream), max: max}, nil
}

// Stream is a two-way channel: one exchange (a file transfer) on a QUIC
// stream of its own.
type Stream struct {
	st *quic.Stream
}

// Read reads what the peer wrote.
func (s *Stream) Read(p []byte) (int, error) { return s.st.Read(p) }

// Write writes to the peer; it blocks while flow control says wait.
func (s *Stream) Write(p []byte) (int, error) { return s.st.Write(p) }

// Close finishes the writing side; the peer reads io.EOF after what was
// written. Reading goes on.
func (s *Stream) Close() error { return s.st.Close() }

// SetDeadline makes blocked and later reads and writes fail after t.
func (s *Stream) SetDeadline(t time.Time) error { return s.st.SetDeadline(t) }

// SetReadDeadline makes blocked and later reads fail after t.
func (s *Stream) SetReadDeadline(t time.Time) error { return s.st.SetReadDeadline(t) }

// Finish ends the exchange gracefully: what was written still reaches the
// peer, then the writing side ends; nothing more is read.
func (s *Stream) Finish() {
	_ = s.st.Close()
	s.st.CancelRead(0)
}

// Cancel aborts both directions at once: what was written and not yet
// delivered may be lost.
func (s *Stream) Cancel() {
	s.st.CancelRead(0)
	s.st.CancelWrite(0)
}

// OpenStream opens a two-way channel ch to the peer.
func (c *Conn) OpenStream(ctx context.Context, ch byte) (*Stream, error) {
	st, err := c.qc.OpenStreamSync(ctx)
	if err != nil {
		return nil, fmt.Errorf("session: opening channel %d: %w", ch, err)
	}
	if _, err := st.Write(preface(ch)); err != nil {
		st.CancelRead(0)
		st.CancelWrite(0)
		return nil, fmt.Errorf("session: opening channel %d: %w", ch, err)
	}
	return &Stream{st: st}, nil
}

// AcceptStream waits for the peer to open a two-way channel ch.
func (c *Conn) AcceptStream(ctx context.Context, ch byte) (*Stream, error) {
	st, err := c.streams.take(ctx, ch, true)
	if err != nil {
		return nil, fmt.Errorf("session: waiting for channel %d: %w", ch, err)
	}
	return &Stream{st: st.(*quic.Stream)}, nil
}

// streamQueue holds the peer's streams, by channel, until they are taken.
type streamQueue struct {
	mu     sync.Mutex
	queued map[streamKey][]any // *quic.ReceiveStream or *quic.Stream
	wake   chan struct{}       // closed and replaced when something is queued
	closed bool
}

type streamKey struct {
	ch   byte
	bidi bool
}

func (q *streamQueue) init() {
	q.queued = make(map[streamKey][]any)
	q.wake = make(chan struct{})
}

func (q *streamQueue) put(k streamKey, st any) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || len(q.queued[k]) >= maxQueued {
		return false
	}
	q.queued[k] = append(q.queued[k], st)
	close(q.wake)
	q.wake = make(chan struct{})
	return true
}

func (q *streamQueue) take(ctx context.Context, ch byte, bidi bool) (any, error) {
	k := streamKey{ch, bidi}
	for {
		q.mu.Lock()
		if s := q.queued[k]; len(s) > 0 {
			st := s[0]
			q.queued[k] = s[1:]
			q.mu.Unlock()
			return st, nil
		}
		if q.closed {
			q.mu.Unlock()
			return nil, &ClosedError{Reason: "the session has ended"}
		}
		wake := q.wake
		q.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// close refuses further streams and cancels those nobody took.
func (q *streamQueue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	q.closed = true
	for _, s := range q.queued {
		for _, st := range s {
			cancelStream(st)
		}
	}
	q.queued = nil
	close(q.wake)
}

func cancelStream(st any) {
	switch st := st.(type) {
	case *quic.ReceiveStream:
		st.CancelRead(0)
	case *quic.Stream:
		st.CancelRead(0)
		st.CancelWrite(0)
	}
}

// acceptStreams runs until the connection ends, queuing the peer's streams.
func (c *Conn) acceptStreams() {
	var wg sync.WaitGroup
	defer wg.Wait()
	defer c.streams.close()
	ctx := c.qc.Context()
	wg.Add(1)
	go func() {
		defer wg.Done()
		acceptEach(ctx, &wg, c.qc.AcceptUniStream, func(st *quic.ReceiveStream) {
			c.prefaced(st, st.SetReadDeadline, false)
		})
	}()
	acceptEach(ctx, &wg, c.qc.AcceptStream, func(st *quic.Stream) {
		c.prefaced(st, st.SetReadDeadline, true)
	})
}

// acceptEach accepts streams until accept fails, handling each in a
// goroutine counted in wg.
func acceptEach[S any](ctx context.Context, wg *sync.WaitGroup, accept func(context.Context) (S, error), handle func(S)) {
	for {
		st, err := accept(ctx)
		if err != nil {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			handle(st)
		}()
	}
}

// prefaced reads a new stream's preface, within prefaceTimeout, and queues
// the stream by its channel.
func (c *Conn) prefaced(st io.Reader, setDeadline func(time.Time) error, bidi bool) {
	_ = setDeadline(time.Now().Add(prefaceTimeout))
	ch, err := readPreface(st)
	_ = setDeadline(time.Time{})
	c.queueStream(streamKey{ch, bidi}, st, err)
}

func (c *Conn) queueStream(k streamKey, st any, err error) {
	if err == nil && (k.ch == ChannelControl || !c.streams.put(k, st)) {
		err = fmt.Errorf("channel %d not wanted here", k.ch)
	}
	if err != nil {
		c.logger.Warn("dropping unexpected stream", "channel", k.ch, "err", err)
		cancelStream(st)
	}
}
