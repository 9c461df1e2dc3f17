package main

import (
	"bufio"
	"fmt"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gethelp/gethelp/host/wlroots/wltest"
)

// TestOnSway shows a solid colour, an xsetroot -mod pattern and a PPM file
// on a headless sway and checks that grim captures each exactly.
func TestOnSway(t *testing.T) {
	if testing.Short() {
		t.Skip("starts sway")
	}
	const w, h = 320, 240
	s := wltest.Start(t, w, h, "swaybg_command -")
	ppm := filepath.Join(t.TempDir(), "gradient.ppm")
	want := newPicture(w, h)
	var raw strings.Builder
	fmt.Fprintf(&raw, "P6\n# a gradient\n%d %d\n255\n", w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := rgb{byte(x), byte(y), byte(x ^ y)}
			raw.Write([]byte{c.r, c.g, c.b})
			want.set(x, y, c)
		}
	}
	if err := os.WriteFile(ppm, []byte(raw.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(s.Socket, inR, outW)
		outW.CloseWithError(fmt.Errorf("run ended: %v", err))
		done <- err
	}()
	out := bufio.NewScanner(outR)
	expect := func(line string) {
		t.Helper()
		if !out.Scan() {
			t.Fatalf("no %q: %v", line, out.Err())
		}
		if out.Text() != line {
			t.Fatalf("got %q, want %q", out.Text(), line)
		}
	}
	send := func(cmd, reply string) {
		t.Helper()
		if _, err := fmt.Fprintln(inW, cmd); err != nil {
			t.Fatal(err)
		}
		expect(reply)
	}
	expect(fmt.Sprintf("ready %dx%d", w, h))
	send("load red solid #bf616a", "ok red")
	send("load grid mod 5 5 #ebcb8b #3b4252", "ok grid")
	send("load photo ppm "+ppm, "ok photo")
	red, _ := parseColour("#bf616a")
	fg, _ := parseColour("#ebcb8b")
	bg, _ := parseColour("#3b4252")
	for _, tc := range []struct {
		id   string
		want *picture
	}{
		{"red", solid(w, h, red)},
		{"grid", modPattern(w, h, 5, 5, fg, bg)},
		{"photo", want},
		{"red", solid(w, h, red)}, // a buffer shown before, shown again
	} {
		send("show "+tc.id, "shown "+tc.id)
		file := filepath.Join(s.Dir, tc.id+".png")
		s.Run("grim", file)
		if n := differing(t, tc.want, file); n > 0 {
			t.Errorf("%s: %d pixels differ from grim's capture", tc.id, n)
		}
	}
	inW.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func differing(t *testing.T, want *picture, file string) int {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != want.w || b.Dy() != want.h {
		t.Fatalf("grim captured %v, want %dx%d", b, want.w, want.h)
	}
	n := 0
	for y := 0; y < want.h; y++ {
		for x := 0; x < want.w; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if (rgb{byte(r >> 8), byte(g >> 8), byte(b >> 8)}) != want.at(x, y) {
				n++
			}
		}
	}
	return n
}

// xsetroot -mod's tile: 16×16, lines on the multiples of MX and MY within
// it (so -mod 5 5 has columns 0, 5, 10, 15, 16, 21…).
func TestModPattern(t *testing.T) {
	fg, bg := rgb{1, 1, 1}, rgb{2, 2, 2}
	p := modPattern(40, 40, 5, 5, fg, bg)
	for _, tc := range []struct {
		x, y int
		want rgb
	}{
		{0, 3, fg}, {5, 3, fg}, {15, 3, fg}, {16, 3, fg}, {20, 3, bg}, {21, 3, fg},
		{3, 0, fg}, {3, 15, fg}, {3, 16, fg}, {3, 17, bg}, {3, 21, fg}, {1, 1, bg},
	} {
		if got := p.at(tc.x, tc.y); got != tc.want {
			t.Errorf("(%d,%d) = %v, want %v", tc.x, tc.y, got, tc.want)
		}
	}
}

func TestDecodePPM(t *testing.T) {
	tests := []struct {
		name, data string
		ok         bool
	}{
		{"plain", "P6\n2 1\n255\n\x01\x02\x03\x04\x05\x06", true},
		{"comments", "P6 # by hand\n2\n# width above\n1 255 \x01\x02\x03\x04\x05\x06", true},
		{"ascii", "P3\n2 1\n255\n1 2 3 4 5 6\n", false},
		{"16 bits", "P6\n2 1\n65535\n\x01\x02\x03\x04\x05\x06", false},
		{"short", "P6\n2 1\n255\n\x01\x02\x03", false},
		{"huge", "P6\n99999999 1\n255\n", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := decodePPM([]byte(tt.data))
			if (err == nil) != tt.ok {
				t.Fatalf("decodePPM: %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && (p.at(0, 0) != rgb{1, 2, 3} || p.at(1, 0) != rgb{4, 5, 6}) {
				t.Errorf("pixels %v %v", p.at(0, 0), p.at(1, 0))
			}
		})
	}
}
