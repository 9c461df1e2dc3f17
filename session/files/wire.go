package files

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// WireVersion is the version written in the "v" field of every message.
const WireVersion = 1

// MaxMessage is the largest JSON message, in bytes, either side writes or
// accepts. The length prefix is not counted.
const MaxMessage = 4 << 10

// chunkSize is how many file bytes move per Read and Write.
const chunkSize = 64 << 10

// Message types.
const (
	typeOffer  = "offer"
	typeAnswer = "answer"
	typeDone   = "done"
)

// Reason codes in "answer" (accept false) and "done" (ok false) messages.
// An unknown code is reported to the sender as ErrRefused.
const (
	reasonDeclined = "declined"  // the person said no: ErrDeclined
	reasonTooLarge = "too_large" // larger than Inbox.MaxSize: ErrTooLarge
	reasonBadName  = "bad_name"  // SanitizeName refused the name: ErrBadName
	reasonBusy     = "busy"      // same Offer.ID already in progress: ErrBusy
	reasonProtocol = "protocol"  // the offer broke the protocol: ErrProtocol
	reasonVerify   = "verify"    // SHA-256 mismatch (done only): ErrVerify
	reasonFailed   = "failed"    // the receiver's own failure: ErrRefused
)

// offerMsg is the sender's first message.
type offerMsg struct {
	Type   string `json:"type"`
	V      int    `json:"v"`
	ID     string `json:"id"`
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// answerMsg is the receiver's reply to the offer.
type answerMsg struct {
	Type   string `json:"type"`
	V      int    `json:"v"`
	Accept bool   `json:"accept"`
	Offset int64  `json:"offset"`
	Reason string `json:"reason,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// doneMsg is the receiver's verdict after the last byte.
type doneMsg struct {
	Type   string `json:"type"`
	V      int    `json:"v"`
	OK     bool   `json:"ok"`
	Reason string `json:"reason,omitempty"`
	Detail string `json:"detail,omitempty"`
}

func newOffer(o Offer) offerMsg {
	return offerMsg{Type: typeOffer, V: WireVersion, ID: o.ID, Name: o.Name, Size: o.Size, SHA256: o.SHA256}
}

func accepted(offset int64) answerMsg {
	return answerMsg{Type: typeAnswer, V: WireVersion, Accept: true, Offset: offset}
}

func declined(reason, detail string) answerMsg {
	return answerMsg{Type: typeAnswer, V: WireVersion, Reason: reason, Detail: detail}
}

func verdict(ok bool, reason, detail string) doneMsg {
	return doneMsg{Type: typeDone, V: WireVersion, OK: ok, Reason: reason, Detail: detail}
}

// writeMessage encodes m (an offerMsg, answerMsg or doneMsg) and writes the
// length prefix and the JSON in one Write call.
func writeMessage(w io.Writer, m any) error {
	var buf bytes.Buffer
	buf.Write([]byte{0, 0, 0, 0})
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return fmt.Errorf("files: encoding message: %w", err)
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n")) // Encode adds a newline
	n := len(b) - 4
	if n > MaxMessage {
		return fmt.Errorf("%w: message of %d bytes exceeds the %d-byte limit", ErrProtocol, n, MaxMessage)
	}
	binary.BigEndian.PutUint32(b[:4], uint32(n))
	_, err := w.Write(b)
	return err
}

// readMessage reads one message and returns it as an offerMsg, answerMsg or
// doneMsg whose fields are well-formed (not yet checked against the
// conversation). A stream that ends before the first byte gives io.EOF, one
// that ends inside a message an error wrapping io.ErrUnexpectedEOF; other
// read errors are returned as they are. Anything malformed gives a one-line
// error wrapping ErrProtocol. It never reads past the declared length, and
// reads nothing past the prefix when the length is over MaxMessage.
func readMessage(r io.Reader) (any, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("stream ended inside a message header: %w", err)
		}
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > MaxMessage {
		return nil, fmt.Errorf("%w: message of %d bytes exceeds the %d-byte limit", ErrProtocol, n, MaxMessage)
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: empty message", ErrProtocol)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("stream ended inside a message: %w", err)
	}
	return decodeMessage(body)
}

func decodeMessage(body []byte) (any, error) {
	var head struct {
		Type string `json:"type"`
		V    int    `json:"v"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return nil, protocolError("message is not a JSON object with type and v: %s", oneLine(err.Error()))
	}
	if head.V != WireVersion {
		return nil, protocolError("unsupported version %d (this side speaks %d)", head.V, WireVersion)
	}
	switch head.Type {
	case typeOffer:
		var m offerMsg
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, protocolError("bad offer: %s", oneLine(err.Error()))
		}
		switch {
		case !isHex(m.ID, 32):
			return nil, protocolError("bad offer: id %s is not 32 lowercase hex digits", quote(m.ID))
		case !isHex(m.SHA256, 64):
			return nil, protocolError("bad offer: sha256 %s is not 64 lowercase hex digits", quote(m.SHA256))
		case m.Size < 0:
			return nil, protocolError("bad offer: negative size %d", m.Size)
		}
		return m, nil
	case typeAnswer:
		var m answerMsg
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, protocolError("bad answer: %s", oneLine(err.Error()))
		}
		if m.Offset < 0 {
			return nil, protocolError("bad answer: negative offset %d", m.Offset)
		}
		return m, nil
	case typeDone:
		var m doneMsg
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, protocolError("bad done: %s", oneLine(err.Error()))
		}
		return m, nil
	default:
		return nil, protocolError("unknown message type %s", quote(head.Type))
	}
}

// readAs reads one message and insists on its type.
func readAs[T offerMsg | answerMsg | doneMsg](r io.Reader, want string) (T, error) {
	var zero T
	m, err := readMessage(r)
	if err != nil {
		return zero, err
	}
	t, ok := m.(T)
	if !ok {
		return zero, protocolError("expected %s, got %s", want, messageType(m))
	}
	return t, nil
}

func messageType(m any) string {
	switch m.(type) {
	case offerMsg:
		return typeOffer
	case answerMsg:
		return typeAnswer
	case doneMsg:
		return typeDone
	}
	return "nothing"
}

func protocolError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrProtocol, fmt.Sprintf(format, args...))
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// quote quotes s for an error message: one line, at most about 64 bytes of
// it, so a hostile peer cannot forge or flood log lines.
func quote(s string) string {
	short := truncate(s, 64)
	if len(short) < len(s) {
		return fmt.Sprintf("%q…", short)
	}
	return fmt.Sprintf("%q", s)
}

// truncate cuts s to at most max bytes without splitting a UTF-8 sequence.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut]
}

// oneLine replaces control characters so an error message stays on one line.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
}
