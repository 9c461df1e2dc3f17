package keysym_test

import (
	"slices"
	"testing"

	"github.com/gethelp/gethelp/host/internal/keysym"
)

func TestNamed(t *testing.T) {
	for _, tc := range []struct {
		name string
		want uint32
		ok   bool
	}{
		{"Enter", 0xff0d, true},
		{"Escape", 0xff1b, true},
		{"ArrowLeft", 0xff51, true},
		{"F1", 0xffbe, true},
		{"F12", 0xffc9, true},
		{"F35", 0xffe0, true},
		{"Control", 0xffe3, true},
		{"AudioVolumeUp", 0x1008ff13, true},
		{"F36", 0, false},
		{"a", 0, false},
		{"", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := keysym.Named(tc.name)
			if got != tc.want || ok != tc.ok {
				t.Errorf("Named(%q) = %#x, %v; want %#x, %v", tc.name, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestForRune(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    rune
		want []uint32
	}{
		{"ASCII", 'a', []uint32{0x61, 0x01000061}},
		{"Latin-1", 'ü', []uint32{0xfc, 0x010000fc}},
		{"legacy euro", '€', []uint32{0x20ac, 0x010020ac}},
		{"legacy Cyrillic", 'д', []uint32{0x6c4, 0x01000434}},
		{"Unicode only", '😀', []uint32{0x0101f600}},
		{"control", '\n', nil},
		{"C1 control", 0x85, nil},
		{"surrogate", 0xd800, nil},
		{"beyond Unicode", 0x110000, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := keysym.ForRune(tc.r); !slices.Equal(got, tc.want) {
				t.Errorf("ForRune(%U) = %#x, want %#x", tc.r, got, tc.want)
			}
		})
	}
}

// TestRuneInverts checks that the usual keysym ForRune gives maps back
// (and the Unicode keysym, from U+0100 up: below, X11 has only Latin-1's).
func TestRuneInverts(t *testing.T) {
	for _, r := range []rune{' ', 'a', '~', 0xa0, 'ÿ', 'Ā', '€', 'д', 'α', '😀'} {
		syms := keysym.ForRune(r)
		if r < 0x100 {
			syms = syms[:1]
		}
		for _, ks := range syms {
			if got := keysym.Rune(ks); got != r {
				t.Errorf("Rune(%#x) = %U, want %U", ks, got, r)
			}
		}
	}
	for _, ks := range []uint32{0, 0x1f, 0x7f, 0xff0d, 0x01000000 + 0x110000} {
		if got := keysym.Rune(ks); got != -1 {
			t.Errorf("Rune(%#x) = %U, want -1", ks, got)
		}
	}
	if !keysym.Ignored("Dead") || keysym.Ignored("a") {
		t.Error("Ignored: Dead must be ignored and a not")
	}
}
