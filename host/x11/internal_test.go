package x11

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xfixes"
	"github.com/jezek/xgb/xproto"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/session/screen"
)

func TestSimplify(t *testing.T) {
	bounds := screen.Rect{W: 1280, H: 800}
	grid := func(n, step, size int) []screen.Rect { // n disjoint squares, row after row
		cols := 1280 / step
		var rs []screen.Rect
		for i := range n {
			rs = append(rs, screen.Rect{X: i % cols * step, Y: i / cols * step, W: size, H: size})
		}
		return rs
	}
	random := func(n int) []screen.Rect {
		r := rand.New(rand.NewPCG(1, 2))
		var rs []screen.Rect
		for range n {
			rs = append(rs, screen.Rect{X: r.IntN(1300) - 10, Y: r.IntN(820) - 10, W: 1 + r.IntN(20), H: 1 + r.IntN(20)})
		}
		return rs
	}
	tests := []struct {
		name  string
		in    []screen.Rect
		exact bool // the result must equal the input
	}{
		{"none", nil, true},
		{"one", []screen.Rect{{X: 10, Y: 20, W: 30, H: 40}}, true},
		{"at the limit", grid(maxRects, 40, 8), true},
		{"over the limit", grid(maxRects+1, 40, 8), false},
		{"many scattered", random(2000), false},
		{"a dense band", grid(3000, 3, 2), false},
		{"partly outside", []screen.Rect{{X: -5, Y: 790, W: 20, H: 20}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := simplify(tt.in, bounds)
			if len(out) > maxRects {
				t.Errorf("%d rects out, want at most %d", len(out), maxRects)
			}
			if tt.exact && fmt.Sprint(out) != fmt.Sprint(tt.in) && !(len(out) == 0 && len(tt.in) == 0) {
				t.Errorf("simplify(%v) = %v, want it unchanged", tt.in, out)
			}
			// Covers every pixel of the input, inside bounds, disjoint.
			cover := make([]int, bounds.W*bounds.H)
			for _, r := range out {
				if r.Intersect(bounds) != r || r.Empty() {
					t.Fatalf("rect %v empty or outside %v", r, bounds)
				}
				for y := r.Y; y < r.Y+r.H; y++ {
					for x := r.X; x < r.X+r.W; x++ {
						cover[y*bounds.W+x]++
					}
				}
			}
			for _, r := range tt.in {
				r = r.Intersect(bounds)
				for y := r.Y; y < r.Y+r.H; y++ {
					for x := r.X; x < r.X+r.W; x++ {
						if cover[y*bounds.W+x] == 0 {
							t.Fatalf("pixel %d,%d of %v not covered", x, y, r)
						}
					}
				}
			}
			for i, n := range cover {
				if n > 1 {
					t.Fatalf("pixel %d,%d covered %d times", i%bounds.W, i/bounds.W, n)
				}
			}
		})
	}
}

func TestCursorFromARGB(t *testing.T) {
	reply := &xfixes.GetCursorImageReply{
		Width: 4, Height: 1, Xhot: 1, Yhot: 0, CursorSerial: 7,
		CursorImage: []uint32{
			0xff102030, // opaque
			0x00000000, // transparent
			0x80402010, // half: premultiplied 0x40 → 0x80
			0x01010101, // nearly transparent: 1/1 → 255
		},
	}
	c := cursorFromARGB(reply)
	want := host.Cursor{Serial: 7, W: 4, H: 1, HotX: 1, Pix: []byte{
		0x10, 0x20, 0x30, 0xff,
		0, 0, 0, 0,
		0x80, 0x40, 0x20, 0x80,
		0xff, 0xff, 0xff, 0x01,
	}}
	if fmt.Sprint(*c) != fmt.Sprint(want) {
		t.Errorf("cursorFromARGB = %+v, want %+v", *c, want)
	}
	if transparent(c) {
		t.Error("transparent() of a visible cursor")
	}
	if !transparent(&host.Cursor{W: 1, H: 1, Pix: make([]byte, 4)}) {
		t.Error("transparent() of an empty cursor is false")
	}
}

func TestIsLocal(t *testing.T) {
	for d, want := range map[string]bool{
		":0": true, ":0.1": true, "unix:0": true, "/tmp/.X11-unix/X0:0": true, "unix/unix:1": true,
		"localhost:10.0": false, "tcp/host:0": false, "example.org:0": false, "0": false,
	} {
		if got := isLocal(d); got != want {
			t.Errorf("isLocal(%q) = %v, want %v", d, got, want)
		}
	}
}

// The path for servers older than RandR 1.5 agrees with GetMonitors.
func TestMonitorsFromCRTCs(t *testing.T) {
	display, _ := StartXvfb(t, 1024, 768, 24)
	s, err := Open(display, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.randr15 {
		t.Skip("the server has no RandR 1.5 to compare with")
	}
	mons, err := s.monitorsCRTC()
	if err != nil {
		t.Fatal(err)
	}
	if len(mons) != 1 || mons[0].Rect != (screen.Rect{W: 1024, H: 768}) || mons[0].Name == "" {
		t.Errorf("monitorsCRTC = %+v, want one named monitor of 1024x768", mons)
	}
}

// benchSource opens a w×h Xvfb with something on it and a Source on it.
func benchSource(b *testing.B, w, h int, opts Options) *Source {
	display, _ := StartXvfb(b, w, h, 24)
	s, err := Open(display, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if _, err := s.Next(b.Context()); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkCaptureFull reads a whole 1920×1080 screen into an image.
func BenchmarkCaptureFull(b *testing.B) {
	const w, h = 1920, 1080
	for _, bc := range []struct {
		name  string
		noSHM bool
		strip int
	}{
		{"shm", false, 0},
		{"plain", true, plainStrip},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := benchSource(b, w, h, Options{NoSHM: bc.noSHM})
			if pg, ok := s.grab.(*plainGrabber); ok {
				pg.strip = bc.strip
			} else if bc.noSHM {
				b.Fatal("NoSHM gave an SHM grabber")
			}
			img := screen.NewImage(w, h)
			all := []screen.Rect{img.Bounds()}
			b.SetBytes(int64(4 * w * h))
			for b.Loop() {
				if err := s.grab.grab(img, all); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCaptureRects compares, for n scattered 64×64 rects of a
// 1920×1080 screen, one SHM request per rect against one whole-screen
// request and copying the rects out: it sets shmFullRects and shmFullArea.
func BenchmarkCaptureRects(b *testing.B) {
	const w, h = 1920, 1080
	s := benchSource(b, w, h, Options{})
	g, ok := s.grab.(*shmGrabber)
	if !ok {
		b.Skip("no MIT-SHM")
	}
	img := screen.NewImage(w, h)
	for _, n := range []int{1, 8, 32, 64, 128} {
		var rects []screen.Rect
		for i := range n {
			rects = append(rects, screen.Rect{X: (i % 29) * 66, Y: (i / 29) * 66, W: 64, H: 64})
		}
		b.Run(fmt.Sprintf("rects-%d/each", n), func(b *testing.B) {
			for b.Loop() {
				if err := g.grabRects(img, rects); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("rects-%d/full", n), func(b *testing.B) {
			for b.Loop() {
				if err := g.grabFull(img, rects); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, frac := range []int{10, 25, 50, 75} {
		r := []screen.Rect{{W: w, H: h * frac / 100}}
		b.Run(fmt.Sprintf("area-%d%%/each", frac), func(b *testing.B) {
			for b.Loop() {
				if err := g.grabRects(img, r); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("area-%d%%/full", frac), func(b *testing.B) {
			for b.Loop() {
				if err := g.grabFull(img, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPointerPoll is the cost of one position poll.
func BenchmarkPointerPoll(b *testing.B) {
	s := benchSource(b, 640, 480, Options{})
	for b.Loop() {
		if _, err := s.pointerNow(false); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSmallChange is a whole cycle for a 100×100 change: another
// client draws it, Next wakes on the damage, syncs, fetches the region and
// reads it.
func BenchmarkSmallChange(b *testing.B) {
	display, _ := StartXvfb(b, 1920, 1080, 24)
	s, err := Open(display, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Next(b.Context()); err != nil {
		b.Fatal(err)
	}
	c, err := xgb.NewConnDisplay(display)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	root := xproto.Setup(c).DefaultScreen(c).Root
	gc, _ := xproto.NewGcontextId(c)
	xproto.CreateGC(c, gc, xproto.Drawable(root), xproto.GcForeground, []uint32{0})
	i := 0
	for b.Loop() {
		i++
		xproto.ChangeGC(c, gc, xproto.GcForeground, []uint32{uint32(i * 0x10101)})
		xproto.PolyFillRectangle(c, xproto.Drawable(root), gc, []xproto.Rectangle{{X: int16(i % 1000), Y: 300, Width: 100, Height: 100}})
		capture, err := s.Next(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		if len(capture.Dirty) == 0 {
			b.Fatal("no dirty rect")
		}
	}
}

// A change of the root window's size makes the next capture whole, in a
// new image of the new size. Xvfb cannot change its size, so the test
// feeds the source the ConfigureNotify a smaller root would send.
func TestRootResize(t *testing.T) {
	display, _ := StartXvfb(t, 1280, 800, 24)
	s, err := Open(display, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	first, err := s.Next(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	s.wmu.Lock()
	s.trackLocked(xproto.ConfigureNotifyEvent{Event: s.root, Window: s.root, Width: 640, Height: 400})
	s.wmu.Unlock()
	signal(s.damaged)
	c, err := s.Next(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if c.Image.W != 640 || c.Image.H != 400 || c.Image == first.Image {
		t.Fatalf("after the resize: a %dx%d image (new: %v), want a new 640x400 one", c.Image.W, c.Image.H, c.Image != first.Image)
	}
	if len(c.Dirty) != 1 || c.Dirty[0] != c.Image.Bounds() {
		t.Errorf("Dirty = %v, want the whole screen", c.Dirty)
	}
	if !c.Image.Equal(first.Image.Sub(c.Image.Bounds())) {
		t.Error("pixels differ from the same part of the screen before")
	}
	if gw, gh := s.grab.size(); gw != 640 || gh != 400 {
		t.Errorf("grabber for %dx%d, want 640x400", gw, gh)
	}
	if m := s.Monitors(); len(m) != 1 || m[0].Rect != c.Image.Bounds() {
		t.Errorf("Monitors = %+v, want one clipped to 640x400", m)
	}
}
