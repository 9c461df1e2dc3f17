package wlroots

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/gethelp/gethelp/session/screen"
)

func TestExtDamageClipped(t *testing.T) {
	tests := []struct {
		name string
		v    [4]int32
		want screen.Rect
		ok   bool
	}{
		{"inside", [4]int32{1, 2, 3, 4}, screen.Rect{X: 1, Y: 2, W: 3, H: 4}, true},
		{"across the right edge", [4]int32{60, 40, 10, 10}, screen.Rect{X: 60, Y: 40, W: 4, H: 8}, true},
		{"negative corner", [4]int32{-5, -5, 10, 10}, screen.Rect{W: 5, H: 5}, true},
		{"negative size", [4]int32{1, 1, -3, 4}, screen.Rect{}, false},
		{"outside", [4]int32{64, 0, 5, 5}, screen.Rect{}, false},
		{"huge", [4]int32{0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff}, screen.Rect{}, false},
		{"huge size", [4]int32{-10, 0, 0x7fffffff, 0x7fffffff}, screen.Rect{W: 64, H: 48}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v [4]uint32
			for i := range v {
				v[i] = uint32(tt.v[i])
			}
			got, ok := extDamage(v, 64, 48)
			if got != tt.want || ok != tt.ok {
				t.Errorf("extDamage(%v) = %v, %v, want %v, %v", tt.v, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestExtFormat(t *testing.T) {
	tests := []struct {
		name    string
		offered []uint32
		prefer  uint32
		want    uint32
		ok      bool
	}{
		{"the current one kept", []uint32{shmXRGB8888, shmABGR8888}, shmABGR8888, shmABGR8888, true},
		{"unswapped first", []uint32{shmABGR8888, shmARGB8888}, shmXRGB8888, shmARGB8888, true},
		{"swapped if no other", []uint32{0x30335258, shmXBGR8888}, shmXRGB8888, shmXBGR8888, true},
		{"nothing readable", []uint32{0x30335258}, shmXRGB8888, 0, false},
		{"none offered", nil, shmXRGB8888, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := extFormat(tt.offered, tt.prefer)
			if got != tt.want || ok != tt.ok {
				t.Errorf("extFormat(%#x, %#x) = %#x, %v, want %#x, %v", tt.offered, tt.prefer, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// The events of sessions and frames decode without panicking; a short one
// is a one-line error; a known one's arguments are the message's words.
func FuzzParseExtEvent(f *testing.F) {
	f.Add(uint8(extSession), uint16(0), []byte{64, 0, 0, 0, 48, 0, 0, 0})
	f.Add(uint8(extFrame), uint16(1), []byte{1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0})
	f.Fuzz(func(t *testing.T, kind uint8, op uint16, b []byte) {
		e, err := parseExtEvent(extKind(kind), op, b)
		if err != nil {
			if msg := err.Error(); !strings.HasPrefix(msg, "wlroots: ") || strings.Contains(msg, "\n") {
				t.Fatalf("error %q is not one line starting wlroots:", msg)
			}
			return
		}
		if !e.known {
			return
		}
		for i := range extArgs[kind][op] {
			if w := binary.LittleEndian.Uint32(b[4*i:]); e.v[i] != w {
				t.Fatalf("argument %d = %#x, the message has %#x", i, e.v[i], w)
			}
		}
		if extKind(kind) == extFrame && op == 1 {
			if r, ok := extDamage(e.v, 64, 48); ok && r.Intersect(screen.Rect{W: 64, H: 48}) != r {
				t.Fatalf("damage %v clipped to %v, outside the buffer", e.v, r)
			}
		}
	})
}
