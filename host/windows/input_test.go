package windows

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/session/screen"
)

func TestInputLayout(t *testing.T) {
	// INPUT is 40 bytes on 64-bit Windows and 28 on 32-bit, the union at
	// 8 or 4; KEYBDINPUT fits in it.
	want, off := uintptr(40), uintptr(8)
	if unsafe.Sizeof(uintptr(0)) == 4 {
		want, off = 28, 4
	}
	var in input
	if got := unsafe.Sizeof(in.union); got != unsafe.Sizeof(mouseInput{}) {
		t.Errorf("sizeof(union) = %d, want sizeof(MOUSEINPUT) %d", got, unsafe.Sizeof(mouseInput{}))
	}
	if got := unsafe.Sizeof(in); got != want {
		t.Errorf("sizeof(input) = %d, want %d", got, want)
	}
	if got := unsafe.Offsetof(in.union); got != off {
		t.Errorf("offset of the union = %d, want %d", got, off)
	}
	if unsafe.Sizeof(keybdInput{}) > unsafe.Sizeof(mouseInput{}) {
		t.Error("KEYBDINPUT does not fit in the union")
	}
}

func TestNormalize(t *testing.T) {
	for _, n := range []int{1, 2, 640, 768, 1024, 1080, 1920, 3840, 5760, 7680, 65536} {
		for p := range n {
			v := normalize(p, n)
			if v < 0 || v > 65535 {
				t.Fatalf("normalize(%d, %d) = %d, out of range", p, n, v)
			}
			if n > 1 && int(v)*n>>16 != p {
				t.Fatalf("normalize(%d, %d) = %d, which the system maps to %d", p, n, v, int(v)*n>>16)
			}
		}
	}
	if normalize(-5, 100) != 0 || normalize(500, 100) != normalize(99, 100) {
		t.Error("positions outside the screen are not clamped")
	}
}

// fakeSystem is a US layout: letters and digits are their own virtual
// keys; scan codes are vk+0x100 so that tests can see them.
type fakeSystem struct{}

func (fakeSystem) scanCode(vk uint16) uint16 { return vk + 0x100 }

func (fakeSystem) keyOf(r rune) (uint16, bool) {
	switch {
	case r >= 'a' && r <= 'z':
		return uint16(r - 'a' + 'A'), true
	case r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == ' ':
		return uint16(r), true
	}
	return 0, false
}

// describe writes inputs as short words: "m:x,y:flags:data", "k:vk:scan:flags".
func describe(ins []input) string {
	var w []string
	for _, in := range ins {
		switch in.Type {
		case inputMouse:
			m := in.mouse()
			if m.ExtraInfo != InjectedExtraInfo {
				w = append(w, "no-extra")
			}
			w = append(w, fmt.Sprintf("m:%d,%d:%#x:%d", m.DX, m.DY, m.Flags, int32(m.MouseData)))
		case inputKeyboard:
			k := in.keybd()
			if k.ExtraInfo != InjectedExtraInfo {
				w = append(w, "no-extra")
			}
			w = append(w, fmt.Sprintf("k:%#x:%#x:%d", k.VK, k.Scan, k.Flags))
		}
	}
	return strings.Join(w, " ")
}

func TestInputEvents(t *testing.T) {
	vs := screen.Rect{W: 1024, H: 768}
	const abs = "0xc001" // MOVE|VIRTUALDESK|ABSOLUTE
	type step struct {
		e    host.InputEvent
		want string
	}
	down := func(k string) host.InputEvent { return host.InputEvent{Kind: host.InputKey, Key: k, Down: true} }
	up := func(k string) host.InputEvent { return host.InputEvent{Kind: host.InputKey, Key: k} }
	for _, tc := range []struct {
		name    string
		steps   []step
		release string // what releaseAll sends after the steps
	}{
		{"move", []step{{host.InputEvent{Kind: host.InputPointer, X: 512, Y: 384}, "m:32768,32768:" + abs + ":0"}}, ""},
		{"left click", []step{
			{host.InputEvent{Kind: host.InputButton, Button: 1, Down: true}, "m:0,0:0xc003:0"},
			{host.InputEvent{Kind: host.InputButton, Button: 1}, "m:0,0:0xc005:0"},
		}, ""},
		{"back button held", []step{{host.InputEvent{Kind: host.InputButton, Button: 8, Down: true}, "m:0,0:0xc081:1"}}, "m:0,0:0x100:1"},
		{"release of a button not pressed only moves", []step{{host.InputEvent{Kind: host.InputButton, Button: 3}, "m:0,0:" + abs + ":0"}}, ""},
		{"wheel down two, right one", []step{{host.InputEvent{Kind: host.InputWheel, DY: 2, DX: 1}, "m:0,0:0xc801:-240 m:0,0:0xd001:120"}}, ""},
		{"wheel up", []step{{host.InputEvent{Kind: host.InputWheel, DY: -1}, "m:0,0:0xc801:120"}}, ""},
		{"named keys", []step{
			{down("Enter"), "k:0xd:0x10d:0"},
			{up("Enter"), "k:0xd:0x10d:2"},
			{down("ArrowLeft"), "k:0x25:0x125:1"},
			{up("ArrowLeft"), "k:0x25:0x125:3"},
			{down("F5"), "k:0x74:0x174:0"},
			{up("F5"), "k:0x74:0x174:2"},
		}, ""},
		{"a character is a character", []step{
			{down("ü"), "k:0x0:0xfc:4"},
			{up("ü"), "k:0x0:0xfc:6"},
		}, ""},
		{"shift does not make a shortcut", []step{
			{down("Shift"), "k:0xa0:0x1a0:0"},
			{down("A"), "k:0x0:0x41:4"},
			{up("a"), "k:0x0:0x41:6"}, // released under another name
		}, "k:0xa0:0x1a0:2"},
		{"control makes a shortcut", []step{
			{down("Control"), "k:0xa2:0x1a2:0"},
			{down("c"), "k:0x43:0x143:0"},
			{down("c"), "k:0x43:0x143:0"}, // autorepeat
			{up("c"), "k:0x43:0x143:2"},
		}, "k:0xa2:0x1a2:2"},
		{"a shortcut character off the layout is a character", []step{
			{down("Control"), "k:0xa2:0x1a2:0"},
			{down("é"), "k:0x0:0xe9:4"},
		}, "k:0x0:0xe9:6 k:0xa2:0x1a2:2"},
		{"astral character held", []step{{down("😀"), "k:0x0:0xd83d:4 k:0x0:0xde00:4"}}, "k:0x0:0xde00:6 k:0x0:0xd83d:6"},
		{"ignored keys", []step{{down("Dead"), ""}, {up("Dead"), ""}}, ""},
		{"release of a key not pressed", []step{{up("x"), ""}}, ""},
		{"text", []step{{host.InputEvent{Kind: host.InputText, Text: "a\r\nb\tc\x01"},
			"k:0x0:0x61:4 k:0x0:0x61:6 k:0xd:0x10d:0 k:0xd:0x10d:2 k:0x0:0x62:4 k:0x0:0x62:6 k:0x9:0x109:0 k:0x9:0x109:2 k:0x0:0x63:4 k:0x0:0x63:6"}}, ""},
		{"several characters as a key are typed", []step{{down("e\u0301"), "k:0x0:0x65:4 k:0x0:0x65:6 k:0x0:0x301:4 k:0x0:0x301:6"}}, ""},
		{"held keys and buttons released newest first", []step{
			{down("Alt"), "k:0xa4:0x1a4:0"},
			{down("Meta"), "k:0x5b:0x15b:1"},
			{host.InputEvent{Kind: host.InputButton, Button: 3, Down: true}, "m:0,0:0xc009:0"},
		}, "k:0x5b:0x15b:3 k:0xa4:0x1a4:2 m:0,0:0x10:0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := inputState{sys: fakeSystem{}}
			for i, s := range tc.steps {
				ins, err := st.event(s.e, vs)
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if got := describe(ins); got != s.want {
					t.Errorf("step %d (%+v):\n got %s\nwant %s", i, s.e, got, s.want)
				}
			}
			if got := describe(st.releaseAll()); got != tc.release {
				t.Errorf("releaseAll:\n got %s\nwant %s", got, tc.release)
			}
			if got := describe(st.releaseAll()); got != "" {
				t.Errorf("second releaseAll: %s", got)
			}
		})
	}
}

func TestInputErrors(t *testing.T) {
	st := inputState{sys: fakeSystem{}}
	vs := screen.Rect{W: 100, H: 100}
	for _, e := range []host.InputEvent{
		{Kind: host.InputKey, Key: "NoSuchKey", Down: true},
		{Kind: host.InputKey, Key: "\x01", Down: true},
	} {
		if _, err := st.event(e, vs); !errors.Is(err, ErrUnknownKey) {
			t.Errorf("%q: err = %v, want ErrUnknownKey", e.Key, err)
		}
	}
	if _, err := st.event(host.InputEvent{Kind: host.InputButton, Button: 4, Down: true}, vs); err == nil {
		t.Error("button 4: no error")
	}
	if _, err := st.event(host.InputEvent{Kind: 99}, vs); err == nil {
		t.Error("kind 99: no error")
	}
}

// TestNamedKeys checks the table: every name maps to a virtual key, the
// extended keys are the ones Windows calls extended, F1–F24 exist.
func TestNamedKeys(t *testing.T) {
	ext := map[uint16]bool{0x21: true, 0x22: true, 0x23: true, 0x24: true, 0x25: true, 0x26: true, 0x27: true, 0x28: true,
		0x2d: true, 0x2e: true, 0x2c: true, 0x5b: true, 0x5c: true, 0x5d: true, 0x90: true, 0x03: true, vkRMenu: true, vkRControl: true}
	for name, k := range namedKeys {
		if k.vk == 0 || k.vk > 0xfe {
			t.Errorf("%s: virtual key %#x", name, k.vk)
		}
		if k.vk >= 0xa6 && k.vk <= 0xb7 { // browser, volume, media, launch keys
			if !k.ext {
				t.Errorf("%s (%#x) should be extended", name, k.vk)
			}
			continue
		}
		if k.ext != ext[k.vk] {
			t.Errorf("%s (%#x): extended %v, want %v", name, k.vk, k.ext, ext[k.vk])
		}
	}
	for i := 1; i <= 24; i++ {
		if k := namedKeys[fmt.Sprintf("F%d", i)]; k.vk != uint16(0x6f+i) {
			t.Errorf("F%d = %#x", i, k.vk)
		}
	}
}

func TestSecureWindow(t *testing.T) {
	r := screen.Rect{W: 800, H: 600}
	if _, ok := secureWindow("Default", r); ok {
		t.Error("the person's desktop counts as secure")
	}
	for _, name := range []string{"Winlogon", "Screen-saver", ""} {
		w, ok := secureWindow(name, r)
		if !ok || w.Class != SecureDesktopClass || w.Rect != r {
			t.Errorf("%q: %+v, %v", name, w, ok)
		}
		if !host.MatchClass(w, DefaultSecurePrompts) {
			t.Errorf("%q: DefaultSecurePrompts does not match %+v", name, w)
		}
	}
}
