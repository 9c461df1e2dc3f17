package wlroots

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gethelp/gethelp/session/screen"
)

// The spare keycodes must be named by the keymap, with the evdev code
// given, and bound to no symbol.
func TestSpareKeysAreSpare(t *testing.T) {
	sections := strings.Split(usKeymap, "xkb_symbols")
	if len(sections) != 2 {
		t.Fatal("the keymap has no single xkb_symbols section")
	}
	keycodes, symbols := sections[0], sections[1]
	for _, k := range append(slices.Clone(spareKeys), escapeKey) {
		m := regexp.MustCompile(`<` + k.name + `>\s*=\s*(\d+);`).FindStringSubmatch(keycodes)
		if m == nil {
			t.Errorf("<%s> is not in the keycodes", k.name)
			continue
		}
		if m[1] != strconv.Itoa(int(k.code)+8) {
			t.Errorf("<%s> is keycode %s, want %d (evdev %d + 8)", k.name, m[1], k.code+8, k.code)
		}
		if strings.Contains(symbols, "<"+k.name+">") {
			t.Errorf("<%s> has symbols in the US keymap", k.name)
		}
		if k.code+8 > 255 {
			t.Errorf("<%s> is above 255, out of reach of X11 clients", k.name)
		}
	}
	km := keymapWith([]rune{'€', 0, 'ß'})
	for _, want := range []string{"key <I120> { [ U20AC ] };", "key <I154> { [ U00DF ] };", "key <I248> { [ Escape ] };"} {
		if !strings.Contains(km, want) {
			t.Errorf("keymapWith lacks %q", want)
		}
	}
	if i, j := strings.Index(km, "key <I120>"), strings.Index(km, "xkb_symbols"); i < j {
		t.Error("the spare binding is outside the symbols section")
	}
}

// Every printable ASCII character is on the US layout.
func TestUSCharsCoverASCII(t *testing.T) {
	for r := rune(0x20); r < 0x7f; r++ {
		if _, ok := usChars[r]; !ok {
			t.Errorf("%q is not in usChars", r)
		}
	}
}

func TestToLayout(t *testing.T) {
	places := []placed{
		{rect: screen.Rect{X: 0, Y: 0, W: 1000, H: 500}, logical: screen.Rect{X: -1000, Y: 0, W: 1000, H: 500}},
		// scale 2: 800×600 pixels are 400×300 logical
		{rect: screen.Rect{X: 1000, Y: 0, W: 800, H: 600}, logical: screen.Rect{X: 0, Y: 0, W: 400, H: 300}},
	}
	tests := []struct {
		name         string
		x, y, lx, ly int
	}{
		{"left output", 10, 20, -990, 20},
		{"scaled output", 1400, 300, 200, 150},
		{"below the left output: clamped to it", 500, 550, -500, 499},
		{"off the right edge", 5000, -7, 399, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lx, ly := toLayout(places, tt.x, tt.y)
			if lx != tt.lx || ly != tt.ly {
				t.Errorf("toLayout(%d, %d) = %d, %d, want %d, %d", tt.x, tt.y, lx, ly, tt.lx, tt.ly)
			}
		})
	}
}

// Requests encode as the wire wants them, and args decode them back.
func TestWireEncoding(t *testing.T) {
	r := newRequest(7, 3).uint(0xdeadbeef).int(-2).string("wl_shm").fixed(1.5)
	want := []byte{
		7, 0, 0, 0, 3, 0, 0, 0, // id, opcode (size is set by send)
		0xef, 0xbe, 0xad, 0xde,
		0xfe, 0xff, 0xff, 0xff,
		7, 0, 0, 0, 'w', 'l', '_', 's', 'h', 'm', 0, 0,
		0x80, 1, 0, 0,
	}
	if string(r.b) != string(want) {
		t.Fatalf("encoded % x\nwant    % x", r.b, want)
	}
	a := &args{b: r.b[8:]}
	if v := a.uint(); v != 0xdeadbeef {
		t.Errorf("uint = %#x", v)
	}
	if v := a.int(); v != -2 {
		t.Errorf("int = %d", v)
	}
	if v := a.string(); v != "wl_shm" {
		t.Errorf("string = %q", v)
	}
	if v := a.int(); v != 384 {
		t.Errorf("fixed = %d", v)
	}
	if v := a.string(); v != "" || a.b != nil {
		t.Errorf("reading past the end = %q, %v", v, a.b)
	}
}
