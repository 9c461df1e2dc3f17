package session

import (
	"context"
	"fmt"
	"sync"

	"github.com/quic-go/quic-go"
)

// A bulk channel carries frames in one direction on a QUIC stream of its
// own, so it never holds up the control channel (chat, consent, input).

// ChannelWriter sends frames on a bulk channel.
type ChannelWriter struct {
	st *quic.SendStream
	mu sync.Mutex
}

// OpenChannel opens a bulk channel to the peer.
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

// ChannelReader receives frames of a bulk channel.
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

// AcceptChannel waits for the peer to open bulk channel ch and returns it;
// frames longer than max bytes are refused. Streams of channels nobody
// accepts are dropped.
func (c *Conn) AcceptChannel(ctx context.Context, ch byte, max int) (*ChannelReader, error) {
	for {
		st, err := c.qc.AcceptUniStream(ctx)
		if err != nil {
			return nil, fmt.Errorf("session: waiting for channel %d: %w", ch, err)
		}
		got, err := readPreface(st)
		if err != nil || got != ch {
			c.logger.Warn("dropping unexpected stream", "channel", got, "err", err)
			st.CancelRead(0)
			continue
		}
		return &ChannelReader{st: st, max: max}, nil
	}
}
