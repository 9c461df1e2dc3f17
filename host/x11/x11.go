package x11

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/damage"
	"github.com/jezek/xgb/randr"
	"github.com/jezek/xgb/xfixes"
	"github.com/jezek/xgb/xproto"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/session/screen"
)

var (
	_ host.Source        = (*Source)(nil)
	_ host.PointerSource = (*Source)(nil)
	_ host.Refresher     = (*Source)(nil)
	_ host.PacedSource   = (*Source)(nil)
)

// ErrLost is returned (wrapped) by Next and Pointer when the connection to
// the X server broke: the server ended or the display was closed.
var ErrLost = errors.New("x11: lost the connection to the X server")

// errClosed is returned by Next and Pointer after Close.
var errClosed = fmt.Errorf("x11: source closed: %w", net.ErrClosed)

// Options tune a Source. The zero value is ready to use.
type Options struct {
	// NoSHM makes the source capture with plain GetImage requests even
	// where MIT-SHM works (for tests and comparisons; SHM is faster).
	NoSHM bool
	// PointerInterval is how often Pointer asks the X server where the
	// pointer is while a caller waits in it and the pointer moves (it asks
	// less often once the pointer has been still for a second). Zero means
	// 16ms.
	PointerInterval time.Duration
	// Logger receives the source's log, with component=x11. Nil discards.
	Logger *slog.Logger
}

// Source captures the screen of an X server. Create it with Open.
type Source struct {
	display string
	conn    *xgb.Conn
	root    xproto.Window
	syncWin xproto.Window // an unmapped InputOnly window that receives our own sync messages
	log     *slog.Logger
	opts    Options
	randr15 bool // RandR 1.5: GetMonitors
	hasRR   bool // RandR present at all
	hasSHM  bool // MIT-SHM usable on this connection

	damage damage.Damage

	done      chan struct{} // closed by Close
	lost      chan struct{} // closed when the reading goroutine ends
	damaged   chan struct{} // cap 1: a DamageNotify arrived (its rect is in pending)
	cursorNew chan struct{} // cap 1: a CursorNotify arrived
	synced    chan uint32   // cap 1: the latest sync message the reader saw
	refresh   atomic.Bool   // Refresh was called; Next reads the whole screen
	wg        sync.WaitGroup
	closeOnce sync.Once

	mu      sync.Mutex    // serialises Next and guards the fields below
	img     *screen.Image // what Next returns; nil before the first call
	grab    grabber       // nil after Close
	syncSeq uint32        // of the last sync message sent

	wmu      sync.Mutex // guards the fields below (written by the reader)
	windows  map[xproto.Window]*window
	pending  []screen.Rect // damage reported since the last capture took it
	rootW    int           // the root window's size as last told by the server
	rootH    int
	monStale bool
	monitors []host.Monitor

	pmu    sync.Mutex   // serialises Pointer and guards the fields below
	pFirst bool         // Pointer has been called
	pLast  host.Pointer // the last state returned, without Shape
	pMoved time.Time    // when Pointer last returned a change
	pShape *host.Cursor // the last shape returned
}

// Open connects to the X server of display (such as ":0"; the caller
// reads $DISPLAY if it wants it) and prepares to capture its default
// screen. It checks that the screen's pixels are 24 or 32 bits deep in
// 32-bit little-endian words (the layout of screen.Image) and that the
// server has DAMAGE and XFIXES; it uses MIT-SHM when the server can share
// memory with this process and plain GetImage otherwise. It starts one
// goroutine, which Close stops.
//
// The errors are one line each, starting "x11: ": "no display given",
// "cannot open display :N: …" (no server, refused), "unsupported pixel
// format: …", "the X server lacks the DAMAGE extension", and the like.
func Open(display string, opts Options) (*Source, error) {
	if display == "" {
		return nil, errors.New("x11: no display given")
	}
	if opts.PointerInterval <= 0 {
		opts.PointerInterval = 16 * time.Millisecond
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "x11", "display", display)
	conn, err := openDisplay(display)
	if err != nil {
		return nil, err
	}
	s := &Source{
		display:   display,
		conn:      conn,
		log:       log,
		opts:      opts,
		done:      make(chan struct{}),
		lost:      make(chan struct{}),
		damaged:   make(chan struct{}, 1),
		cursorNew: make(chan struct{}, 1),
		synced:    make(chan uint32, 1),
		windows:   make(map[xproto.Window]*window),
		monStale:  true,
	}
	if err := s.setup(); err != nil {
		conn.Close()
		return nil, err
	}
	s.wg.Add(1)
	go s.read()
	return s, nil
}

// setup does everything Open does on the connection before the reader
// starts.
func (s *Source) setup() error {
	c := s.conn
	info := xproto.Setup(c)
	scr := info.DefaultScreen(c)
	if err := checkFormat(info, scr); err != nil {
		return err
	}
	s.root = scr.Root
	s.rootW, s.rootH = int(scr.WidthInPixels), int(scr.HeightInPixels)

	ext, err := initExtensions(c)
	if err != nil {
		return err
	}
	dv, err := damage.QueryVersion(c, 1, 1).Reply()
	if err != nil {
		return fmt.Errorf("x11: DAMAGE version: %w", err)
	}
	fv, err := xfixes.QueryVersion(c, 5, 0).Reply()
	if err != nil {
		return fmt.Errorf("x11: XFIXES version: %w", err)
	}
	if fv.MajorVersion < 2 {
		return fmt.Errorf("x11: XFIXES %d.%d is too old (need 2.0 for regions)", fv.MajorVersion, fv.MinorVersion)
	}
	if ext["RANDR"] {
		if rv, err := randr.QueryVersion(c, 1, 5).Reply(); err == nil {
			s.hasRR = true
			s.randr15 = rv.MajorVersion > 1 || rv.MinorVersion >= 5
		}
	}
	s.log.Debug("extensions", "damage", fmt.Sprintf("%d.%d", dv.MajorVersion, dv.MinorVersion),
		"xfixes", fmt.Sprintf("%d.%d", fv.MajorVersion, fv.MinorVersion), "shm", ext["MIT-SHM"], "randr15", s.randr15)

	if err := s.queryWindows(); err != nil {
		return err
	}

	if s.syncWin, err = xproto.NewWindowId(c); err != nil {
		return fmt.Errorf("x11: %w", err)
	}
	if err := xproto.CreateWindowChecked(c, 0, s.syncWin, s.root, -1, -1, 1, 1, 0,
		xproto.WindowClassInputOnly, 0, 0, nil).Check(); err != nil {
		return fmt.Errorf("x11: create a window: %w", err)
	}

	s.hasSHM = ext["MIT-SHM"]
	s.grab = s.newGrabber(s.hasSHM, s.rootW, s.rootH)

	// Only now ask for events, with nothing left to wait for but the
	// checks of these requests: xgb stops reading the connection (replies
	// too) when its event queue is full, and nobody reads events before
	// the reader starts, so a busy desktop (a window being dragged) could
	// otherwise fill it while setup waits for a reply, for ever. Windows
	// that change between queryWindows and here only cost move hints
	// until their next event.
	// Top-level windows' geometry (for move hints) and the root's size;
	// the cursor's shape; RandR's monitor changes; then damage.
	mask := uint32(xproto.EventMaskStructureNotify | xproto.EventMaskSubstructureNotify)
	if err := xproto.ChangeWindowAttributesChecked(c, s.root, xproto.CwEventMask, []uint32{mask}).Check(); err != nil {
		return fmt.Errorf("x11: select events on the root window: %w", err)
	}
	xfixes.SelectCursorInput(c, s.root, xfixes.CursorNotifyMaskDisplayCursor)
	if s.hasRR {
		randr.SelectInput(c, s.root, randr.NotifyMaskScreenChange|randr.NotifyMaskCrtcChange|randr.NotifyMaskOutputChange)
	}
	if s.damage, err = damage.NewDamageId(c); err != nil {
		return fmt.Errorf("x11: %w", err)
	}
	// Each DamageNotify carries a rect of new damage (DeltaRectangles), so
	// a capture needs no round trip to learn what to read: it empties the
	// server's region with a Subtract, which has no reply, and reads.
	if err := damage.CreateChecked(c, s.damage, xproto.Drawable(s.root), damage.ReportLevelDeltaRectangles).Check(); err != nil {
		return fmt.Errorf("x11: create damage on the root window: %w", err)
	}

	return nil
}

// checkFormat refuses screens whose pixels are not BGRX in 32-bit words.
func checkFormat(info *xproto.SetupInfo, scr *xproto.ScreenInfo) error {
	if info.ImageByteOrder != xproto.ImageOrderLSBFirst {
		return errors.New("x11: unsupported pixel format: the server's images are big-endian (need little-endian BGRX)")
	}
	bpp, pad := 0, 0
	for _, f := range info.PixmapFormats {
		if f.Depth == scr.RootDepth {
			bpp, pad = int(f.BitsPerPixel), int(f.ScanlinePad)
		}
	}
	if (scr.RootDepth != 24 && scr.RootDepth != 32) || bpp != 32 || pad != 32 {
		return fmt.Errorf("x11: unsupported pixel format: depth %d at %d bits per pixel (need depth 24 or 32 at 32 bits per pixel)", scr.RootDepth, bpp)
	}
	for _, d := range scr.AllowedDepths {
		for _, v := range d.Visuals {
			if v.VisualId != scr.RootVisual {
				continue
			}
			if (v.Class != xproto.VisualClassTrueColor && v.Class != xproto.VisualClassDirectColor) ||
				v.RedMask != 0xff0000 || v.GreenMask != 0xff00 || v.BlueMask != 0xff {
				return fmt.Errorf("x11: unsupported pixel format: visual class %d with masks %06x %06x %06x (need true colour 0xff0000 0xff00 0xff)",
					v.Class, v.RedMask, v.GreenMask, v.BlueMask)
			}
			return nil
		}
	}
	return errors.New("x11: the root visual is not among the screen's visuals")
}

// isLocal reports whether display is reached through a Unix socket on this
// machine (only then can it share memory with us).
func isLocal(display string) bool {
	if strings.HasPrefix(display, "/") {
		return true
	}
	i := strings.LastIndex(display, ":")
	if i < 0 {
		return false
	}
	hostPart := display[:i]
	if j := strings.LastIndex(hostPart, "/"); j >= 0 {
		if hostPart[:j] != "unix" && hostPart[:j] != "local" {
			return false
		}
		hostPart = hostPart[j+1:]
	}
	return hostPart == "" || hostPart == "unix"
}

// Close stops the source: it closes the connection to the X server, waits
// for the goroutine reading its events, and frees the shared memory. Next
// and Pointer blocked at that moment return an error wrapping
// net.ErrClosed. It returns nil, also when called again.
func (s *Source) Close() error {
	s.closeOnce.Do(func() {
		close(s.done)
		s.conn.Close()
		s.wg.Wait()
		s.mu.Lock() // wait for a Next still copying from the shared memory
		if s.grab != nil {
			s.grab.free()
			s.grab = nil
		}
		s.mu.Unlock()
	})
	return nil
}

// Refresh makes the pending or next Next return at once with the whole
// screen read again and dirty.
func (s *Source) Refresh() {
	s.refresh.Store(true)
	signal(s.damaged)
}

// stopped returns the error to give when ctx has ended, the source is
// closed or the connection lost; nil if none.
func (s *Source) stopped(ctx context.Context) error {
	select {
	case <-s.done: // first: Close also ends the connection
		return errClosed
	default:
	}
	select {
	case <-s.lost:
		return lostError(s.display, nil)
	default:
	}
	return ctx.Err()
}

// xerr turns an error from a request into the one to return: errClosed or
// ErrLost when the connection is gone, else the error with its context.
func (s *Source) xerr(what string, err error) error {
	if err := s.stopped(context.Background()); err != nil {
		return err
	}
	return requestError(s.display, what, err)
}
