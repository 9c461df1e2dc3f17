package session

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Version is the protocol version written in every stream preface.
const Version = 1

// ALPN is the TLS application protocol both sides insist on.
const ALPN = "gethelp/1"

// Channel numbers, written in the stream preface.
const (
	ChannelControl byte = 1 // bidirectional: handshake, control, chat
	ChannelScreen  byte = 2 // host to viewer: screen updates (one-way)
	ChannelInput   byte = 3 // viewer to host: the helper's input (one-way)
	ChannelFile    byte = 4 // either way: one file transfer per stream (two-way)
)

// Frame types.
const (
	// FrameMessage carries one JSON-encoded Message.
	FrameMessage byte = 1
	// FrameData carries one opaque payload of a bulk channel.
	FrameData byte = 2
)

// MaxControlFrame is the largest payload accepted on the control channel.
const MaxControlFrame = 64 << 10

// Errors returned by ReadFrame and ReadPreface. They are wrapped with detail;
// test with errors.Is.
var (
	ErrFrameTooLarge = errors.New("session: frame too large")
	ErrBadFrame      = errors.New("session: malformed frame")
	ErrBadPreface    = errors.New("session: not a gethelp stream")
)

// Frame is one framed unit on a stream.
type Frame struct {
	Type    byte
	Payload []byte
}

// WriteFrame writes f in one Write call.
func WriteFrame(w io.Writer, f Frame) error {
	buf := make([]byte, 5+len(f.Payload))
	buf[0] = f.Type
	binary.BigEndian.PutUint32(buf[1:5], uint32(len(f.Payload)))
	copy(buf[5:], f.Payload)
	_, err := w.Write(buf)
	return err
}

// ReadFrame reads one frame whose payload is at most max bytes. It returns
// io.EOF only when the stream ends cleanly between frames, an error wrapping
// io.ErrUnexpectedEOF when it ends inside one, ErrFrameTooLarge when the
// declared length exceeds max (nothing more is read), and ErrBadFrame for an
// unknown frame type.
func ReadFrame(r io.Reader, max int) (Frame, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return Frame{}, fmt.Errorf("session: stream ended inside a frame header: %w", err)
		}
		return Frame{}, err
	}
	f := Frame{Type: hdr[0]}
	if f.Type != FrameMessage && f.Type != FrameData {
		return Frame{}, fmt.Errorf("%w: unknown frame type %d", ErrBadFrame, f.Type)
	}
	n := binary.BigEndian.Uint32(hdr[1:5])
	if uint64(n) > uint64(max) {
		return Frame{}, fmt.Errorf("%w: %d bytes, limit %d", ErrFrameTooLarge, n, max)
	}
	f.Payload = make([]byte, n)
	if _, err := io.ReadFull(r, f.Payload); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return Frame{}, fmt.Errorf("session: stream ended inside a frame: %w", err)
	}
	return f, nil
}

func preface(channel byte) []byte { return []byte{'G', 'H', Version, channel} }

// readPreface reads a stream preface and returns its channel number.
func readPreface(r io.Reader) (byte, error) {
	var p [4]byte
	if _, err := io.ReadFull(r, p[:]); err != nil {
		return 0, fmt.Errorf("%w: %v", ErrBadPreface, err)
	}
	if p[0] != 'G' || p[1] != 'H' {
		return 0, fmt.Errorf("%w: bad magic", ErrBadPreface)
	}
	if p[2] != Version {
		return 0, fmt.Errorf("%w: protocol version %d, this gethelp speaks %d", ErrBadPreface, p[2], Version)
	}
	return p[3], nil
}
