package screen_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gethelp/gethelp/session/screen"
)

var update = flag.Bool("update", false, "rewrite the golden updates and the fuzz seed corpus in testdata")

// goldenStep is one frame of a golden sequence.
type goldenStep struct {
	name  string
	dirty []screen.Rect
	moves []screen.Move
	lv    screen.Level
	draw  func(m *screen.Image)
}

// goldenSequence is a small session that uses every op: a keyframe with
// text, a gradient, flat colour and a photo, then typing, a scroll, a
// window move, a High update with JPEG and a Full refresh of it.
func goldenSequence() (*screen.Image, []goldenStep) {
	img := screen.NewImage(200, 160)
	var term *textScreen
	win := screen.Rect{X: 150, Y: 115, W: 40, H: 30}
	return img, []goldenStep{
		{name: "keyframe", lv: screen.Full, draw: func(m *screen.Image) {
			gradient(m, m.Bounds(), rgb{20, 40, 90}, rgb{90, 140, 200})
			term = newTextScreen(m, screen.Rect{X: 4, Y: 4, W: 16 * cellW, H: 7 * cellH}, true, 1)
			term.fillText()
			fill(m, win, rgb{200, 200, 200})
			noise(m, screen.Rect{X: win.X + 5, Y: win.Y + 5, W: 30, H: 20}, 3)
		}},
		{name: "typing", dirty: []screen.Rect{{X: 4 + 3*cellW, Y: 4 + 6*cellH, W: cellW, H: cellH}}, lv: screen.Full, draw: func(m *screen.Image) {
			term.put(3, 6, 17)
		}},
		{name: "scroll", lv: screen.Full, draw: func(m *screen.Image) { term.scroll(2) }},
		{name: "move", lv: screen.Full, moves: []screen.Move{{Src: win, DstX: win.X - 50, DstY: win.Y + 10}}, draw: func(m *screen.Image) {
			c := clone(m)
			fill(m, win, rgb{10, 80, 10})
			copyIn(m, c, win, win.X-50, win.Y+10)
		}},
		{name: "high", lv: screen.High, draw: func(m *screen.Image) {
			photo(m, screen.Rect{X: 150, Y: 0, W: 50, H: 64}, 5)
		}},
		{name: "refresh", dirty: []screen.Rect{}, lv: screen.Full, draw: func(*screen.Image) {}},
	}
}

// TestGolden pins the wire format: the encoder must produce the updates in
// testdata/golden byte for byte, and a decoder must turn them into the
// frames. Run with -update after a deliberate format or encoder change.
func TestGolden(t *testing.T) {
	img, steps := goldenSequence()
	enc, dec := screen.NewEncoder(), screen.NewDecoder()
	for i, s := range steps {
		s.draw(img)
		u, st, err := enc.Encode(img, s.dirty, s.moves, s.lv)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %+v", s.name, st)
		path := filepath.Join("testdata", "golden", fmt.Sprintf("%d-%s.update", i, s.name))
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, u, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create)", err)
		}
		if !bytes.Equal(u, want) {
			t.Errorf("%s: encoder output differs from %s (%d bytes, want %d)", s.name, path, len(u), len(want))
		}
		if _, err := dec.Decode(want); err != nil {
			t.Fatalf("%s: decoding %s: %v", s.name, path, err)
		}
		if s.lv == screen.Full && !dec.Image().Equal(img) {
			t.Errorf("%s: %s does not decode to the frame", s.name, path)
		}
	}
}
