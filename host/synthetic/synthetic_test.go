package synthetic_test

import (
	"context"
	"errors"
	"math"
	"net"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gethelp/gethelp/host/synthetic"
	"github.com/gethelp/gethelp/session/screen"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestDefaults(t *testing.T) {
	s := synthetic.New(0, 0, 0)
	defer s.Close()
	c, err := s.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c.Image.W != 1280 || c.Image.H != 800 {
		t.Errorf("size %dx%d, want 1280x800", c.Image.W, c.Image.H)
	}
	start := time.Now()
	if _, err := s.Next(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 50*time.Millisecond || d > time.Second {
		t.Errorf("second frame after %v, want about 100ms (10 fps)", d)
	}
	m := s.Monitors()
	if len(m) != 1 || m[0].Rect != c.Image.Bounds() || !m[0].Primary {
		t.Errorf("Monitors() = %+v, want one primary monitor covering %v", m, c.Image.Bounds())
	}
}

func TestFramesAreDeterministic(t *testing.T) {
	a, b := synthetic.New(640, 400, 10), synthetic.New(640, 400, 10)
	for _, n := range []int{0, 1, 7, 123, 99999} {
		if !a.Frame(n).Equal(b.Frame(n)) {
			t.Errorf("frame %d differs between two sources", n)
		}
		if !a.Frame(n).Equal(a.Frame(n)) {
			t.Errorf("frame %d differs between two calls", n)
		}
		if a.Frame(n).Equal(a.Frame(n + 1)) {
			t.Errorf("frames %d and %d are equal", n, n+1)
		}
	}
}

// checkChanges fails t unless every pixel that differs between prev and
// cur lies in a dirty rect, and every dirty rect holds a differing pixel.
func checkChanges(t *testing.T, prev, cur *screen.Image, dirty []screen.Rect) {
	t.Helper()
	used := make([]bool, len(dirty))
	bad := 0
	for y := 0; y < cur.H; y++ {
		a, b := prev.Row(y), cur.Row(y)
		for x := 0; x < cur.W; x++ {
			i := 4 * x
			if a[i] == b[i] && a[i+1] == b[i+1] && a[i+2] == b[i+2] {
				continue
			}
			in := false
			for j, r := range dirty {
				if x >= r.X && x < r.X+r.W && y >= r.Y && y < r.Y+r.H {
					in, used[j] = true, true
				}
			}
			if !in {
				if bad < 5 {
					t.Errorf("pixel %d,%d changed outside the dirty rects %v", x, y, dirty)
				}
				bad++
			}
		}
	}
	for j, r := range dirty {
		if r.Intersect(cur.Bounds()) != r {
			t.Errorf("dirty rect %v is not inside the image %v", r, cur.Bounds())
		}
		if !used[j] {
			t.Errorf("dirty rect %v holds no changed pixel (dirty %v)", r, dirty)
		}
	}
}

func TestChangesAreExact(t *testing.T) {
	tests := []struct {
		name      string
		w, h      int
		from, to  int
		step, gap int
	}{
		{"consecutive small", 320, 200, 0, 400, 1, 1},
		{"skipped frames small", 320, 200, 0, 400, 7, 3},
		{"consecutive default size", 1280, 800, 95, 105, 1, 1},
		{"digit carry", 1280, 800, 9999, 10001, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := synthetic.New(tt.w, tt.h, 10)
			for n := tt.from; n < tt.to; n += tt.step {
				checkChanges(t, s.Frame(n), s.Frame(n+tt.gap), s.Changes(n, n+tt.gap))
				if t.Failed() {
					t.Fatalf("frames %d to %d", n, n+tt.gap)
				}
			}
		})
	}
}

func TestNextReturnsFrames(t *testing.T) {
	s := synthetic.New(320, 200, 100)
	defer s.Close()
	ctx := context.Background()
	c, err := s.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Dirty) != 1 || c.Dirty[0] != c.Image.Bounds() {
		t.Errorf("first Dirty = %v, want the whole screen", c.Dirty)
	}
	if n := s.FrameNumber(); n != 0 || !c.Image.Equal(s.Frame(0)) {
		t.Fatalf("first capture is frame %d, or not equal to Frame(0)", n)
	}
	prev, last := s.Frame(0), 0
	for range 20 {
		c, err := s.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n := s.FrameNumber()
		if n <= last {
			t.Fatalf("frame %d after frame %d", n, last)
		}
		if !c.Image.Equal(s.Frame(n)) {
			t.Fatalf("capture of frame %d differs from Frame(%d)", n, n)
		}
		if len(c.Moves) != 0 {
			t.Errorf("Moves = %v, want none", c.Moves)
		}
		checkChanges(t, prev, c.Image, c.Dirty)
		prev, last = s.Frame(n), n
		if n == 5 {
			time.Sleep(35 * time.Millisecond) // fall behind: frames are skipped
		}
	}
}

func TestNextHonoursContext(t *testing.T) {
	s := synthetic.New(320, 200, 1)
	defer s.Close()
	if _, err := s.Next(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := s.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Next = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 300*time.Millisecond {
		t.Errorf("Next returned %v after its deadline", d)
	}
	done, stop := context.WithCancel(context.Background())
	stop()
	if _, err := s.Next(done); !errors.Is(err, context.Canceled) {
		t.Errorf("Next(cancelled) = %v, want context.Canceled", err)
	}
}

func TestRefresh(t *testing.T) {
	s := synthetic.New(320, 200, 1)
	defer s.Close()
	if _, err := s.Next(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, when := range []string{"before Next", "while Next waits"} {
		if when == "before Next" {
			s.Refresh()
		} else {
			go func() {
				time.Sleep(20 * time.Millisecond)
				s.Refresh()
			}()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		c, err := s.Next(ctx) // at 1 fps, only Refresh returns it this soon
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		if len(c.Dirty) != 1 || c.Dirty[0] != c.Image.Bounds() {
			t.Errorf("%s: Dirty = %v, want the whole screen", when, c.Dirty)
		}
		if !c.Image.Equal(s.Frame(s.FrameNumber())) {
			t.Errorf("%s: image differs from Frame(%d)", when, s.FrameNumber())
		}
	}
}

func TestCloseWakesNext(t *testing.T) {
	s := synthetic.New(320, 200, 1)
	if _, err := s.Next(context.Background()); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := s.Next(context.Background())
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Next after Close = %v, want net.ErrClosed", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Next still blocked a second after Close")
	}
	if _, err := s.Pointer(context.Background()); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Pointer after Close = %v, want net.ErrClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func TestPointer(t *testing.T) {
	const w, h = 640, 400
	s := synthetic.New(w, h, 50)
	defer s.Close()
	ctx := context.Background()
	p, err := s.Pointer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := p.Shape
	if c == nil {
		t.Fatal("first Pointer has no Shape")
	}
	if c.W <= 0 || c.H <= 0 || len(c.Pix) != 4*c.W*c.H || c.HotX < 0 || c.HotX >= c.W || c.HotY < 0 || c.HotY >= c.H {
		t.Errorf("bad cursor %dx%d hot %d,%d with %d bytes", c.W, c.H, c.HotX, c.HotY, len(c.Pix))
	}
	opaque := 0
	for i := 3; i < len(c.Pix); i += 4 {
		if c.Pix[i] == 0xff {
			opaque++
		}
	}
	if opaque == 0 || opaque == c.W*c.H {
		t.Errorf("cursor has %d opaque pixels of %d: not an arrow", opaque, c.W*c.H)
	}
	seen := map[[2]int]bool{{p.X, p.Y}: true}
	for range 10 {
		p, err := s.Pointer(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if p.Shape != nil {
			t.Error("Shape sent again")
		}
		if !p.Visible {
			t.Error("pointer not visible")
		}
		r := math.Hypot(float64(p.X-w/2), float64(p.Y-h/2))
		if math.Abs(r-h/4) > 1.5 {
			t.Errorf("pointer at %d,%d is %.1f from the centre, want %d", p.X, p.Y, r, h/4)
		}
		seen[[2]int{p.X, p.Y}] = true
	}
	if len(seen) < 5 {
		t.Errorf("pointer visited only %d places in 11 steps", len(seen))
	}
	ctx2, cancel := context.WithTimeout(ctx, time.Millisecond)
	defer cancel()
	time.Sleep(2 * time.Millisecond)
	if _, err := s.Pointer(ctx2); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Pointer(expired) = %v, want context.DeadlineExceeded", err)
	}
}
