package session

import (
	"encoding/binary"
	"fmt"
	"time"
)

// MaxScreenFrame is the largest screen update a viewer accepts.
const MaxScreenFrame = 64 << 20

// screenHeader is the fixed part of a screen-channel payload:
//
//	seq      uint32, big-endian: 1, 2, 3, … per session
//	captured int64, big-endian: when the host captured it, Unix nanoseconds
//	update   the rest: one screen.Encoder update
const screenHeader = 12

// ScreenFrame is one screen update as it travels.
type ScreenFrame struct {
	Seq      uint32
	Captured time.Time
	Update   []byte
}

// AppendScreenFrame appends f's wire form to dst.
func AppendScreenFrame(dst []byte, f ScreenFrame) []byte {
	dst = binary.BigEndian.AppendUint32(dst, f.Seq)
	dst = binary.BigEndian.AppendUint64(dst, uint64(f.Captured.UnixNano()))
	return append(dst, f.Update...)
}

// ParseScreenFrame parses a screen-channel payload. Update aliases p.
func ParseScreenFrame(p []byte) (ScreenFrame, error) {
	if len(p) < screenHeader {
		return ScreenFrame{}, fmt.Errorf("%w: screen frame of %d bytes", ErrBadFrame, len(p))
	}
	return ScreenFrame{
		Seq:      binary.BigEndian.Uint32(p),
		Captured: time.Unix(0, int64(binary.BigEndian.Uint64(p[4:]))),
		Update:   p[screenHeader:],
	}, nil
}
