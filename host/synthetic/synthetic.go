package synthetic

import (
	"context"
	"fmt"
	"math"
	"net"
	"sync"
	"time"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/session/screen"
)

var (
	_ host.Source        = (*Source)(nil)
	_ host.PointerSource = (*Source)(nil)
	_ host.Refresher     = (*Source)(nil)
)

// Defaults used by New for zero arguments.
const (
	DefaultWidth  = 1280
	DefaultHeight = 800
	DefaultFPS    = 10
)

// errClosed is returned by Next and Pointer after Close.
var errClosed = fmt.Errorf("synthetic: source closed: %w", net.ErrClosed)

// Source is an animated test screen. Create it with New.
type Source struct {
	w, h int
	fps  int
	bg   *screen.Image // the static background, never written after New

	closeOnce sync.Once
	closed    chan struct{} // closed by Close
	refresh   chan struct{} // cap 1: Refresh was called

	mu    sync.Mutex    // serialises Next; guards the fields below
	img   *screen.Image // what the last Next returned
	shown int           // number of the frame in img; -1 before the first Next
	start time.Time     // when frame 0 was shown

	pmu    sync.Mutex // serialises Pointer; guards the fields below
	pshown int        // step of the pointer last reported; -1 before the first call
	pstart time.Time  // when step 0 was reported
}

// New returns a w×h synthetic screen that changes fps times a second.
// Zero (or negative) arguments take the defaults: 1280×800 at 10 frames a
// second. It starts nothing: frames are computed in Next.
func New(w, h, fps int) *Source {
	if w <= 0 {
		w = DefaultWidth
	}
	if h <= 0 {
		h = DefaultHeight
	}
	if fps <= 0 {
		fps = DefaultFPS
	}
	return &Source{
		w: w, h: h, fps: fps,
		bg:      background(w, h),
		closed:  make(chan struct{}),
		refresh: make(chan struct{}, 1),
		shown:   -1,
		pshown:  -1,
	}
}

// Next returns frame 0 at once, with the whole screen dirty, then waits for
// the next frame's time (frame n is due n/fps seconds after frame 0) and
// returns it. A caller that falls behind gets the latest due frame: frames
// in between are skipped and Dirty covers exactly the changes between the
// two frames shown (the moving box's old and new places, the clock's
// changed digits). After Refresh it returns at once with the whole screen
// dirty. Moves is always empty. The image is the same buffer every time,
// updated in place.
//
// Next returns ctx.Err() when ctx ends, and an error wrapping
// net.ErrClosed after Close.
func (s *Source) Next(ctx context.Context) (host.Capture, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return host.Capture{}, err
	}
	if s.shown < 0 {
		s.img = s.Frame(0)
		s.shown = 0
		s.start = time.Now()
		return host.Capture{Image: s.img, Dirty: []screen.Rect{s.img.Bounds()}}, nil
	}
	refreshed, err := s.waitUntil(ctx, s.start.Add(s.frameTime(s.shown+1)), s.refresh)
	if err != nil {
		if refreshed {
			s.Refresh() // for the next call
		}
		return host.Capture{}, err
	}
	n := int(time.Since(s.start) * time.Duration(s.fps) / time.Second)
	if refreshed {
		n = max(n, s.shown)
	} else {
		n = max(n, s.shown+1)
	}
	dirty := s.Changes(s.shown, n)
	for _, r := range dirty {
		s.render(s.img, n, r)
	}
	s.shown = n
	if refreshed {
		dirty = []screen.Rect{s.img.Bounds()}
	}
	return host.Capture{Image: s.img, Dirty: dirty}, nil
}

// Refresh makes the pending or next Next return at once, with the frame
// due then (possibly the one it returned last) and the whole screen dirty.
func (s *Source) Refresh() {
	select {
	case s.refresh <- struct{}{}:
	default:
	}
}

// FrameNumber returns the number of the frame that the last Next returned,
// or -1 before the first.
func (s *Source) FrameNumber() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shown
}

// Frame returns a new image of what frame n looks like. Frames depend on
// the size and n only: two Sources of the same size show the same frame n.
func (s *Source) Frame(n int) *screen.Image {
	img := &screen.Image{W: s.w, H: s.h, Stride: 4 * s.w, Pix: make([]byte, 4*s.w*s.h)}
	s.render(img, n, img.Bounds())
	return img
}

// Changes returns the rects in which frames a and b differ: the moving
// box's place in each (when it moved) and the clock digits that differ.
// Every pixel that differs between Frame(a) and Frame(b) is inside one of
// them, and each of them holds pixels that differ.
func (s *Source) Changes(a, b int) []screen.Rect {
	var out []screen.Rect
	add := func(r screen.Rect) {
		if r = r.Intersect(screen.Rect{W: s.w, H: s.h}); !r.Empty() {
			out = append(out, r)
		}
	}
	ba, bb := s.box(a), s.box(b)
	if ba != bb {
		add(ba)
		add(bb)
	}
	da, db := clockDigits(a), clockDigits(b)
	for i := range da {
		cell := s.digitCell(i)
		if da[i] != db[i] && !(inside(cell, ba) && inside(cell, bb)) { // a digit under the box in both frames does not show
			add(cell)
		}
	}
	return out
}

// inside reports whether r lies within s.
func inside(r, s screen.Rect) bool { return r.Intersect(s) == r }

// Monitors returns one monitor covering the whole screen.
func (s *Source) Monitors() []host.Monitor {
	return []host.Monitor{{Name: "synthetic", Rect: screen.Rect{W: s.w, H: s.h}, Primary: true}}
}

// Close makes blocked and later calls of Next and Pointer return an error
// wrapping net.ErrClosed. The source runs no goroutine; Close always
// returns nil.
func (s *Source) Close() error {
	s.closeOnce.Do(func() { close(s.closed) })
	return nil
}

// Pointer reports a pointer that goes round a circle in the middle of the
// screen, one step per frame time, once around every four seconds. The
// first call returns at once with the arrow Cursor (Serial 1); later calls
// wait for the next step and carry no Shape.
//
// Pointer returns ctx.Err() when ctx ends, and an error wrapping
// net.ErrClosed after Close.
func (s *Source) Pointer(ctx context.Context) (host.Pointer, error) {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	if err := s.check(ctx); err != nil {
		return host.Pointer{}, err
	}
	if s.pshown < 0 {
		s.pshown = 0
		s.pstart = time.Now()
		p := s.PointerAt(0)
		p.Shape = Arrow()
		return p, nil
	}
	if _, err := s.waitUntil(ctx, s.pstart.Add(s.frameTime(s.pshown+1)), nil); err != nil {
		return host.Pointer{}, err
	}
	s.pshown = max(s.pshown+1, int(time.Since(s.pstart)*time.Duration(s.fps)/time.Second))
	return s.PointerAt(s.pshown), nil
}

// PointerAt returns where the pointer is at step k (without a Shape).
func (s *Source) PointerAt(k int) host.Pointer {
	steps := 4 * s.fps
	a := 2 * math.Pi * float64(k%steps) / float64(steps)
	r := float64(min(s.w, s.h)) / 4
	return host.Pointer{
		X:       s.w/2 + int(math.Round(r*math.Cos(a))),
		Y:       s.h/2 + int(math.Round(r*math.Sin(a))),
		Visible: true,
	}
}

// Arrow returns the pointer shape the synthetic source reports: a black
// arrow with a white inside, hot spot at its tip, Serial 1.
func Arrow() *host.Cursor {
	h, w := len(arrow), len(arrow[0])
	c := &host.Cursor{Serial: 1, W: w, H: h, Pix: make([]byte, 4*w*h)}
	for y, row := range arrow {
		for x, ch := range row {
			p := c.Pix[4*(y*w+x):]
			switch ch {
			case 'B':
				p[0], p[1], p[2], p[3] = 0, 0, 0, 0xff
			case 'W':
				p[0], p[1], p[2], p[3] = 0xff, 0xff, 0xff, 0xff
			}
		}
	}
	return c
}

var arrow = [...]string{
	"B...........",
	"BB..........",
	"BWB.........",
	"BWWB........",
	"BWWWB.......",
	"BWWWWB......",
	"BWWWWWB.....",
	"BWWWWWWB....",
	"BWWWWWWWB...",
	"BWWWWWWWWB..",
	"BWWWWWWWWWB.",
	"BWWWWWWBBBBB",
	"BWWWBWWB....",
	"BWWBBWWB....",
	"BWB..BWWB...",
	"BB...BWWB...",
	"B.....BWWB..",
	"......BWWB..",
	".......BB...",
}

// check returns the error to give when ctx has ended or s is closed.
func (s *Source) check(ctx context.Context) error {
	select {
	case <-s.closed:
		return errClosed
	default:
	}
	return ctx.Err()
}

// waitUntil waits until t, or until wake (if not nil) has a value, which
// it reports; it returns early with ctx's error or errClosed.
func (s *Source) waitUntil(ctx context.Context, t time.Time, wake chan struct{}) (woken bool, err error) {
	select {
	case <-wake:
		return true, s.check(ctx)
	default:
	}
	d := time.Until(t)
	if d <= 0 {
		return false, s.check(ctx)
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return false, s.check(ctx)
	case <-wake:
		return true, s.check(ctx)
	case <-ctx.Done():
		return false, ctx.Err()
	case <-s.closed:
		return false, errClosed
	}
}

// frameTime is when frame n is due, after frame 0.
func (s *Source) frameTime(n int) time.Duration {
	return time.Duration(n) * time.Second / time.Duration(s.fps)
}
