package screen_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gethelp/gethelp/session/screen"
)

// fuzzMaxSize keeps fuzzed keyframes small: the limit logic is the same at
// 8192, but 256 MiB frames would make each run slow.
const fuzzMaxSize = 1024

// fuzzUpdates returns a real session of small scenes: the first update is
// a keyframe, the others follow it.
func fuzzUpdates() [][]byte {
	img, steps := goldenSequence()
	enc := screen.NewEncoder()
	var out [][]byte
	for _, s := range steps {
		s.draw(img)
		if u, _, _ := enc.Encode(img, s.dirty, s.moves, s.lv); u != nil {
			out = append(out, u)
		}
	}
	return out
}

// FuzzDecode feeds arbitrary updates to a fresh decoder and to one holding
// a frame: no panic, errors wrap ErrCorrupt, ops stay inside the frame.
func FuzzDecode(f *testing.F) {
	updates := fuzzUpdates()
	for _, u := range updates {
		f.Add(u)
	}
	f.Fuzz(func(t *testing.T, u []byte) {
		fresh := screen.NewDecoder()
		screen.SetMaxSize(fresh, fuzzMaxSize)
		check(t, fresh, u)

		primed := screen.NewDecoder()
		screen.SetMaxSize(primed, fuzzMaxSize)
		if _, err := primed.Decode(updates[0]); err != nil {
			t.Fatal(err)
		}
		check(t, primed, u)
		check(t, primed, updates[1]) // after anything, a non-keyframe may fail but not panic
	})
}

func check(t *testing.T, d *screen.Decoder, u []byte) {
	ops, err := d.Decode(u)
	if err != nil && !errors.Is(err, screen.ErrCorrupt) {
		t.Fatalf("error %v does not wrap ErrCorrupt", err)
	}
	img := d.Image()
	if img == nil {
		if len(ops) != 0 {
			t.Fatalf("%d ops without a frame", len(ops))
		}
		return
	}
	if img.W > screen.MaxSize || img.H > screen.MaxSize || len(img.Pix) != 4*img.W*img.H {
		t.Fatalf("frame %dx%d with %d bytes", img.W, img.H, len(img.Pix))
	}
	for _, op := range ops {
		if op.Rect.Intersect(img.Bounds()) != op.Rect || op.Rect.Empty() {
			t.Fatalf("op %+v outside %v", op, img.Bounds())
		}
	}
}

// TestFuzzCorpus writes the seed corpus with -update: the real updates of
// the golden session and some corrupt variants of them.
func TestFuzzCorpus(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite testdata/fuzz/FuzzDecode")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	seeds := map[string][]byte{}
	for i, u := range fuzzUpdates() {
		seeds[fmt.Sprintf("update-%d", i)] = u
		trunc := u[:len(u)*2/3]
		seeds[fmt.Sprintf("update-%d-truncated", i)] = trunc
		flip := append([]byte(nil), u...)
		flip[len(flip)/2] ^= 0x40
		seeds[fmt.Sprintf("update-%d-bitflip", i)] = flip
	}
	seeds["huge-keyframe"] = []byte{2, 1, 0x80, 0x40, 0x80, 0x40, 1, 0}
	seeds["zero-size"] = []byte{2, 1, 0, 0, 1, 0}
	seeds["bad-version"] = []byte{3, 0}
	seeds["version-1"] = []byte{1, 1, 10, 10, 1, 0}
	for name, b := range seeds {
		data := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
