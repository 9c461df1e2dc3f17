package windows

import (
	"bytes"
	"testing"
)

// px builds 32-bit DIB pixels (B, G, R, A) from RGBA quadruples.
func px(rgba ...byte) []byte {
	out := make([]byte, len(rgba))
	for i := 0; i+3 < len(rgba); i += 4 {
		out[i], out[i+1], out[i+2], out[i+3] = rgba[i+2], rgba[i+1], rgba[i], rgba[i+3]
	}
	return out
}

func TestCursorFromBits(t *testing.T) {
	const (
		k = 0x00 // a mask pixel not set (black)
		W = 0xff // a mask pixel set (white)
	)
	m := func(v ...byte) []byte { // mask pixels
		var out []byte
		for _, b := range v {
			out = append(out, b, b, b, 0)
		}
		return out
	}
	for _, c := range []struct {
		name        string
		w, h        int
		color, mask []byte
		want        []byte // RGBA
	}{
		{
			name: "monochrome: black, white, transparent, inverted",
			w:    4, h: 1,
			mask: append(m(k, k, W, W), m(k, W, k, W)...),
			want: []byte{0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0xff},
		},
		{
			name: "colour with alpha: taken as it is",
			w:    2, h: 1,
			color: px(0x10, 0x20, 0x30, 0x80, 0xff, 0, 0, 0xff),
			mask:  m(W, k),
			want:  []byte{0x10, 0x20, 0x30, 0x80, 0xff, 0, 0, 0xff},
		},
		{
			name: "colour without alpha: the mask makes it transparent",
			w:    3, h: 1,
			color: px(0x10, 0x20, 0x30, 0, 0, 0, 0, 0, 0x40, 0x50, 0x60, 0),
			mask:  m(k, W, W),
			want:  []byte{0x10, 0x20, 0x30, 0xff, 0, 0, 0, 0, 0, 0, 0, 0xff},
		},
		{
			name: "two rows",
			w:    1, h: 2,
			mask: append(m(k, W), m(W, k)...),
			want: []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			cur := cursorFromBits(c.w, c.h, 0, 0, c.color, c.mask)
			if cur == nil {
				t.Fatal("nil")
			}
			if cur.W != c.w || cur.H != c.h || !bytes.Equal(cur.Pix, c.want) {
				t.Errorf("got %dx%d %x, want %dx%d %x", cur.W, cur.H, cur.Pix, c.w, c.h, c.want)
			}
		})
	}
}

func TestCursorFromBitsBad(t *testing.T) {
	for _, c := range []struct {
		name        string
		w, h        int
		color, mask []byte
	}{
		{"empty", 0, 0, nil, nil},
		{"negative", -1, 4, nil, make([]byte, 32)},
		{"too large", maxCursorSide + 1, 1, nil, make([]byte, 8*(maxCursorSide+1))},
		{"monochrome mask without its XOR half", 2, 2, nil, make([]byte, 16)},
		{"colour too short", 2, 2, make([]byte, 15), make([]byte, 16)},
		{"colour mask too long", 2, 2, make([]byte, 16), make([]byte, 32)},
	} {
		t.Run(c.name, func(t *testing.T) {
			if cur := cursorFromBits(c.w, c.h, 0, 0, c.color, c.mask); cur != nil {
				t.Errorf("got %+v, want nil", cur)
			}
		})
	}
}

func TestCursorSerialAndHotSpot(t *testing.T) {
	mask := make([]byte, 8*4) // 2×2 monochrome, all black
	a := cursorFromBits(2, 2, 1, 1, nil, mask)
	b := cursorFromBits(2, 2, 1, 1, nil, bytes.Clone(mask))
	if a.Serial != b.Serial {
		t.Errorf("equal shapes, serials %#x and %#x", a.Serial, b.Serial)
	}
	if c := cursorFromBits(2, 2, 0, 1, nil, mask); c.Serial == a.Serial {
		t.Error("another hot spot, same serial")
	}
	mask[0] = 0xff // a pixel of the AND mask: transparent
	if c := cursorFromBits(2, 2, 1, 1, nil, mask); c.Serial == a.Serial {
		t.Error("other pixels, same serial")
	}
	if c := cursorFromBits(2, 2, 7, -3, nil, mask); c.HotX != 1 || c.HotY != 0 {
		t.Errorf("hot spot 7,-3 in 2×2: %d,%d, want 1,0", c.HotX, c.HotY)
	}
	if transparent(a) {
		t.Error("a black cursor is transparent")
	}
	all := make([]byte, 8*4)
	for i := range 16 {
		all[i] = 0xff // AND mask all set, XOR mask all clear
	}
	if c := cursorFromBits(2, 2, 0, 0, nil, all); !transparent(c) {
		t.Error("an empty cursor is not transparent")
	}
}
