package agentlink

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// MaxMessageSize bounds the JSON of one message (the length prefix not
// counted).
const MaxMessageSize = 1 << 20

// Errors returned by ReadMessage and WriteMessage.
var (
	// ErrTooLarge: a message is longer than MaxMessageSize.
	ErrTooLarge = errors.New("agentlink: message too large")
	// ErrMalformed: the bytes are not a message: a zero length, a message
	// cut off by the end of the stream, JSON that is not an object, or one
	// without a type.
	ErrMalformed = errors.New("agentlink: malformed message")
)

// ReadMessage reads one message: a 4-byte big-endian length, then that many
// bytes of JSON encoding a Message. It returns io.EOF when r ends cleanly
// before a message, an error wrapping ErrTooLarge or ErrMalformed for bad
// input, or r's error. It never reads more than MaxMessageSize+4 bytes.
func ReadMessage(r io.Reader) (Message, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return Message{}, fmt.Errorf("%w: the stream ended inside a length prefix", ErrMalformed)
		}
		return Message{}, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	switch {
	case n == 0:
		return Message{}, fmt.Errorf("%w: zero length", ErrMalformed)
	case n > MaxMessageSize:
		return Message{}, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, n, MaxMessageSize)
	}
	buf := make([]byte, n)
	if k, err := io.ReadFull(r, buf); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return Message{}, fmt.Errorf("%w: the stream ended after %d of %d bytes", ErrMalformed, k, n)
		}
		return Message{}, err
	}
	return decode(buf)
}

func decode(p []byte) (Message, error) {
	var m Message
	trimmed := bytes.TrimLeft(p, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return m, fmt.Errorf("%w: not a JSON object", ErrMalformed)
	}
	if err := json.Unmarshal(p, &m); err != nil {
		return Message{}, fmt.Errorf("%w: %v", ErrMalformed, oneLine(err.Error()))
	}
	if m.Type == "" {
		return Message{}, fmt.Errorf("%w: no type", ErrMalformed)
	}
	return m, nil
}

// Encode returns the framed form of m: length prefix and JSON. It returns
// an error wrapping ErrMalformed when m has no Type and ErrTooLarge when
// its JSON exceeds MaxMessageSize.
func Encode(m Message) ([]byte, error) {
	if m.Type == "" {
		return nil, fmt.Errorf("%w: no type", ErrMalformed)
	}
	p, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("agentlink: encoding %s message: %w", m.Type, err)
	}
	if len(p) > MaxMessageSize {
		return nil, fmt.Errorf("%w: %s message is %d bytes, the limit is %d", ErrTooLarge, m.Type, len(p), MaxMessageSize)
	}
	out := make([]byte, 4, 4+len(p))
	binary.BigEndian.PutUint32(out, uint32(len(p)))
	return append(out, p...), nil
}

// WriteMessage writes m framed as ReadMessage expects, in one Write. Errors
// are those of Encode, or w's.
func WriteMessage(w io.Writer, m Message) error {
	b, err := Encode(m)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// oneLine keeps an error text to one line of reasonable length, for close
// reasons and logs.
func oneLine(s string) string {
	s = printable(s)
	if len(s) > 200 {
		i := 200
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		s = s[:i] + "…"
	}
	return s
}
