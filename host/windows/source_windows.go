//go:build windows

package windows

import (
	"context"
	"fmt"
	"image"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/host/internal/tiles"
	"github.com/gethelp/gethelp/session/screen"
)

var (
	_ host.Source        = (*Source)(nil)
	_ host.Refresher     = (*Source)(nil)
	_ host.PacedSource   = (*Source)(nil)
	_ host.PointerSource = (*Source)(nil)
)

// errClosed is returned by Next and Pointer after Close.
var errClosed = fmt.Errorf("windows: source closed: %w", net.ErrClosed)

// Options tune a Source. The zero value is ready to use.
type Options struct {
	// Interval is how often Next captures the screen while it waits for a
	// change. Zero means 33ms (30 Hz).
	Interval time.Duration
	// PointerInterval is how often Pointer looks where the pointer is
	// while a caller waits in it and the pointer moves (it looks less
	// often once the pointer has been still for a second). Zero means
	// 16ms.
	PointerInterval time.Duration
	// Logger receives the source's log, with component=windows. Nil
	// discards.
	Logger *slog.Logger
}

// Source captures the virtual screen (all monitors) with GDI. Create it
// with Open.
type Source struct {
	log             *slog.Logger
	interval        time.Duration
	pointerInterval time.Duration

	done      chan struct{} // closed by Close
	wake      chan struct{} // cap 1: Refresh was called
	refresh   atomic.Bool
	closeOnce sync.Once

	mu      sync.Mutex // serialises Next and guards the fields below
	closed  bool
	vs      screen.Rect   // the virtual screen, in screen coordinates, of img
	img     *screen.Image // what Next returns; nil before the first capture
	dib     *screen.Image // the DIB section's pixels, GDI memory; nil when img is
	memDC   uintptr
	bitmap  uintptr // the DIB section, selected into memDC
	oldBmp  uintptr // what memDC held before
	whole   bool    // the next capture that succeeds is returned whole
	failing bool    // the last BitBlt failed (logged once per failure run)

	// origin is the virtual screen's top-left corner, in screen
	// coordinates, of the image Next returns: where Pointer's 0,0 is. Nil
	// before the first capture.
	origin atomic.Pointer[image.Point]

	pmu     sync.Mutex // serialises Pointer and guards the fields below
	pFirst  bool       // Pointer was called before
	pLast   host.Pointer
	pMoved  time.Time    // when the pointer last moved
	pHandle uintptr      // the HCURSOR last seen
	pShape  *host.Cursor // the shape last returned
}

// Open prepares to capture the virtual screen: every monitor, as one
// image whose top-left corner is the virtual screen's (which can have
// negative screen coordinates). It makes the process DPI aware (per
// monitor), so that coordinates and pixels are the monitors' own. It
// starts no goroutine: Next captures on the caller's.
//
// It returns an error starting "windows: " when the process has no
// screen (a service without a desktop).
func Open(opts Options) (*Source, error) {
	if opts.Interval <= 0 {
		opts.Interval = 33 * time.Millisecond
	}
	if opts.PointerInterval <= 0 {
		opts.PointerInterval = 16 * time.Millisecond
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "windows")
	dpiAware()
	vs := virtualScreen()
	if vs.Empty() {
		return nil, fmt.Errorf("windows: no screen to capture (virtual screen %v)", vs)
	}
	s := &Source{
		log:             log,
		interval:        opts.Interval,
		pointerInterval: opts.PointerInterval,
		done:            make(chan struct{}),
		wake:            make(chan struct{}, 1),
	}
	log.Info("capturing the screen with GDI", "virtual_screen", vs, "interval", opts.Interval)
	return s, nil
}

// dpiAware makes the process per-monitor DPI aware (version 2 where the
// system has it, else system aware), once. A manifest or an earlier call
// may have set it already; that is fine.
var dpiAware = sync.OnceFunc(func() {
	if procSetProcessDpiAwarenessContext.Find() == nil {
		if r, _, _ := procSetProcessDpiAwarenessContext.Call(dpiPerMonitorAwareV2); r != 0 {
			return
		}
	}
	if procSetProcessDPIAware.Find() == nil {
		procSetProcessDPIAware.Call()
	}
})

// virtualScreen returns the bounding box of all monitors, in screen
// coordinates.
func virtualScreen() screen.Rect {
	return screen.Rect{
		X: getSystemMetrics(smXVirtualScreen),
		Y: getSystemMetrics(smYVirtualScreen),
		W: getSystemMetrics(smCXVirtualScreen),
		H: getSystemMetrics(smCYVirtualScreen),
	}
}

// Next returns the whole screen at once the first time (and after the
// virtual screen changed size or place, and after Refresh); then it
// captures the screen every Options.Interval until it differs from the
// previous capture, and returns it with the 64×64 tiles that changed as
// Dirty (runs of neighbouring tiles merged). The image is the same buffer
// every time (a new one after a change of size); pixels outside Dirty are
// not touched. Moves are never given.
//
// While the screen cannot be read (the secure desktop is up, the session
// is locked or disconnected) Next keeps waiting, and returns the whole
// screen once it can read it again.
//
// Next returns ctx.Err() when ctx ends and an error wrapping
// net.ErrClosed after Close.
func (s *Source) Next(ctx context.Context) (host.Capture, error) {
	return s.NextAfter(ctx, time.Time{})
}

// NextAfter is Next, except that it does not read the screen before
// notBefore (the sharer's pace): a source that polls gathers what changes
// until then for free. A zero notBefore makes it Next.
func (s *Source) NextAfter(ctx context.Context, notBefore time.Time) (host.Capture, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return host.Capture{}, errClosed
	}
	if err := ctx.Err(); err != nil {
		return host.Capture{}, err
	}
	t := time.NewTimer(time.Until(notBefore))
	defer t.Stop()
	if !notBefore.IsZero() {
		select {
		case <-t.C:
		case <-ctx.Done():
			return host.Capture{}, ctx.Err()
		case <-s.done:
			return host.Capture{}, errClosed
		}
	}
	for {
		if s.refresh.Swap(false) {
			s.whole = true
		}
		c, ok := s.captureLocked()
		if ok {
			return c, nil
		}
		t.Reset(s.interval)
		select {
		case <-t.C:
		case <-s.wake:
		case <-ctx.Done():
			return host.Capture{}, ctx.Err()
		case <-s.done:
			return host.Capture{}, errClosed
		}
	}
}

// captureLocked captures the screen once. It reports false when nothing
// changed or the screen could not be read.
func (s *Source) captureLocked() (host.Capture, bool) {
	vs := virtualScreen()
	if vs.Empty() {
		return host.Capture{}, false
	}
	if s.img == nil || vs != s.vs {
		if err := s.allocLocked(vs); err != nil {
			s.noteFailure(err)
			return host.Capture{}, false
		}
	}
	if err := s.bltLocked(); err != nil {
		s.noteFailure(err)
		s.whole = true // what was on screen meanwhile is unknown
		return host.Capture{}, false
	}
	if s.failing {
		s.failing = false
		s.log.Info("reading the screen again")
	}
	if s.whole {
		s.whole = false
		for y := range s.img.H {
			copy(s.img.Row(y), s.dib.Row(y))
		}
		return host.Capture{Image: s.img, Dirty: []screen.Rect{s.img.Bounds()}}, true
	}
	dirty := tiles.DiffCopy(s.img, s.dib, nil)
	if len(dirty) == 0 {
		return host.Capture{}, false
	}
	return host.Capture{Image: s.img, Dirty: dirty}, true
}

func (s *Source) noteFailure(err error) {
	if !s.failing {
		s.failing = true
		s.log.Info("cannot read the screen; waiting (secure desktop, locked or disconnected session?)", "err", err)
	}
}

// allocLocked makes a DIB section and an image of the size of vs.
func (s *Source) allocLocked(vs screen.Rect) error {
	s.freeLocked()
	memDC, err := call(procCreateCompatibleDC, 0)
	if err != nil {
		return fmt.Errorf("CreateCompatibleDC: %w", err)
	}
	bi := bitmapInfo{Header: bitmapInfoHeader{
		Width:       int32(vs.W),
		Height:      -int32(vs.H), // top-down rows, as screen.Image
		Planes:      1,
		BitCount:    32,
		Compression: biRGB,
	}}
	bi.Header.Size = uint32(unsafe.Sizeof(bi.Header))
	var bits unsafe.Pointer
	bmp, _, err := procCreateDIBSection.Call(memDC, uintptr(unsafe.Pointer(&bi)), dibRGBColors, uintptr(unsafe.Pointer(&bits)), 0, 0)
	if bmp == 0 || bits == nil {
		procDeleteDC.Call(memDC)
		return fmt.Errorf("CreateDIBSection %dx%d: %w", vs.W, vs.H, err)
	}
	old, _, _ := procSelectObject.Call(memDC, bmp)
	s.memDC, s.bitmap, s.oldBmp = memDC, bmp, old
	// 32-bit rows are always a multiple of 4 bytes: the stride is 4*W.
	s.dib = &screen.Image{W: vs.W, H: vs.H, Stride: 4 * vs.W, Pix: unsafe.Slice((*byte)(bits), 4*vs.W*vs.H)}
	s.img = screen.NewImage(vs.W, vs.H)
	s.vs = vs
	s.origin.Store(&image.Point{X: vs.X, Y: vs.Y})
	s.whole = true
	return nil
}

// bltLocked copies the screen into the DIB section.
func (s *Source) bltLocked() error {
	// A DC from GetDC must be released by the thread that got it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	hdc, err := call(procGetDC, 0)
	if err != nil {
		return fmt.Errorf("GetDC: %w", err)
	}
	_, err = call(procBitBlt, s.memDC, 0, 0, uintptr(s.vs.W), uintptr(s.vs.H), hdc, uintptr(s.vs.X), uintptr(s.vs.Y), srcCopy|captureBlt)
	procReleaseDC.Call(0, hdc)
	if err != nil {
		return fmt.Errorf("BitBlt: %w", err)
	}
	procGdiFlush.Call() // the DIB's memory is complete
	return nil
}

// freeLocked releases the GDI objects.
func (s *Source) freeLocked() {
	if s.memDC != 0 {
		procSelectObject.Call(s.memDC, s.oldBmp)
		procDeleteObject.Call(s.bitmap)
		procDeleteDC.Call(s.memDC)
	}
	s.memDC, s.bitmap, s.oldBmp, s.dib = 0, 0, 0, nil
	s.img = nil
}

// Refresh makes the next (or the pending) call to Next return the whole
// screen at once.
func (s *Source) Refresh() {
	s.refresh.Store(true)
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Monitors lists the monitors (EnumDisplayMonitors), in the image's
// coordinates: relative to the virtual screen's top-left corner. Names are
// the device names ("\\.\DISPLAY1"). If the system lists none, one
// monitor covers the virtual screen; if none is primary, the first is made
// primary.
func (s *Source) Monitors() []host.Monitor {
	vs := virtualScreen()
	mons := enumMonitors()
	for i := range mons {
		mons[i].Rect.X -= vs.X
		mons[i].Rect.Y -= vs.Y
	}
	if len(mons) == 0 {
		return []host.Monitor{{Name: "screen", Rect: screen.Rect{W: vs.W, H: vs.H}, Primary: true}}
	}
	primary := false
	for _, m := range mons {
		primary = primary || m.Primary
	}
	if !primary {
		mons[0].Primary = true
	}
	return mons
}

// The EnumDisplayMonitors callback, made once (callbacks are never freed),
// and what it collects, guarded by monMu.
var (
	monMu       sync.Mutex
	monFound    []host.Monitor
	monCallback = sync.OnceValue(func() uintptr {
		return windows.NewCallback(func(hmon, hdc uintptr, r *rect, lparam uintptr) uintptr {
			mi := monitorInfoEx{}
			mi.Size = uint32(unsafe.Sizeof(mi))
			if ok, _, _ := procGetMonitorInfoW.Call(hmon, uintptr(unsafe.Pointer(&mi))); ok == 0 {
				return 1 // go on
			}
			m := mi.Monitor
			monFound = append(monFound, host.Monitor{
				Name:    windows.UTF16ToString(mi.Device[:]),
				Rect:    screen.Rect{X: int(m.Left), Y: int(m.Top), W: int(m.Right - m.Left), H: int(m.Bottom - m.Top)},
				Primary: mi.Flags&monitorInfoFPrimary != 0,
			})
			return 1
		})
	})
)

// enumMonitors lists the monitors in screen coordinates.
func enumMonitors() []host.Monitor {
	cb := monCallback()
	monMu.Lock()
	defer monMu.Unlock()
	monFound = nil
	procEnumDisplayMonitors.Call(0, 0, cb, 0)
	out := monFound
	monFound = nil
	return out
}

// Close releases the GDI objects; a Next or Pointer waiting returns an
// error wrapping net.ErrClosed. Calling it again returns nil.
func (s *Source) Close() error {
	s.closeOnce.Do(func() {
		close(s.done)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.closed = true
		s.freeLocked()
	})
	return nil
}
