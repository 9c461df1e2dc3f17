package x11

import (
	"errors"
	"fmt"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/shm"
	"github.com/jezek/xgb/xproto"
	"golang.org/x/sys/unix"

	"github.com/gethelp/gethelp/session/screen"
)

// A grabber reads pixels of the root window into an image of the screen's
// size.
type grabber interface {
	// grab copies the root window's pixels in rects (inside the screen;
	// they may overlap) into the same places of img.
	grab(img *screen.Image, rects []screen.Rect) error
	// free releases what the grabber holds (the shared memory).
	free()
	// size is the screen size the grabber was made for.
	size() (w, h int)
}

// newGrabber returns an MIT-SHM grabber when it works, else a plain one,
// and logs which and why.
func (s *Source) newGrabber(hasSHM bool, w, h int) grabber {
	plain := &plainGrabber{c: s.conn, root: s.root, w: w, h: h, strip: plainStrip}
	var reason string
	switch {
	case s.opts.NoSHM:
		reason = "MIT-SHM turned off by Options.NoSHM"
	case !hasSHM:
		reason = "the X server lacks MIT-SHM (or numbers it differently from the first display opened)"
	case !isLocal(s.display):
		reason = "the display is not on this machine"
	default:
		g, err := newSHMGrabber(s.conn, s.root, w, h)
		if err == nil {
			if err = g.verify(plain); err != nil {
				g.free()
			}
		}
		if err == nil {
			s.log.Info("capturing with MIT-SHM", "size", fmt.Sprintf("%dx%d", w, h))
			return g
		}
		var access xproto.AccessError
		if errors.As(err, &access) {
			reason = "the X server cannot attach our shared memory (BadAccess: another IPC namespace, or another machine)"
		} else {
			reason = "MIT-SHM failed: " + err.Error()
		}
	}
	s.log.Info("capturing with plain GetImage", "size", fmt.Sprintf("%dx%d", w, h), "reason", reason)
	return plain
}

// plainStrip is the most bytes the plain grabber asks for in one GetImage.
// Replies have a 32-bit length, so one request could carry any screen;
// strips only bound the size of each buffer. On Xvfb, a 1920×1080 screen
// in strips of 256 KiB to 4 MiB or whole cost the same within the noise
// (3.7 to 4.1 ms, BenchmarkCaptureFull) and the same memory, since
// pipelined replies all arrive before they are copied.
const plainStrip = 16 << 20

// plainGrabber reads pixels with core GetImage requests: the pixels cross
// the socket.
type plainGrabber struct {
	c     *xgb.Conn
	root  xproto.Window
	w, h  int
	strip int // bytes per request at most
}

func (g *plainGrabber) size() (int, int) { return g.w, g.h }
func (g *plainGrabber) free()            {}

func (g *plainGrabber) grab(img *screen.Image, rects []screen.Rect) error {
	type part struct {
		r      screen.Rect
		cookie *xgb.Cookie
	}
	var parts []part
	for _, r := range rects {
		rows := max(1, g.strip/(4*r.W))
		for y := r.Y; y < r.Y+r.H; y += rows {
			p := screen.Rect{X: r.X, Y: y, W: r.W, H: min(rows, r.Y+r.H-y)}
			parts = append(parts, part{p, g.request(p)})
		}
	}
	var first error
	for _, p := range parts { // collect every reply, also after an error
		reply, err := p.cookie.Reply()
		if err == nil && len(reply) < 32+4*p.r.W*p.r.H {
			err = fmt.Errorf("GetImage %v returned %d bytes", p.r, len(reply))
		}
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		copyIn(img, p.r, reply[32:])
	}
	return first
}

// request sends a core GetImage (ZPixmap, all planes) of r. It is built by
// hand, as xgb's documentation suggests for hot paths, so that the reply's
// pixels are used where they were read instead of copied once more.
func (g *plainGrabber) request(r screen.Rect) *xgb.Cookie {
	const opGetImage = 73
	buf := make([]byte, 20)
	buf[0] = opGetImage
	buf[1] = xproto.ImageFormatZPixmap
	xgb.Put16(buf[2:], 5) // length in 4-byte units
	xgb.Put32(buf[4:], uint32(g.root))
	xgb.Put16(buf[8:], uint16(int16(r.X)))
	xgb.Put16(buf[10:], uint16(int16(r.Y)))
	xgb.Put16(buf[12:], uint16(r.W))
	xgb.Put16(buf[14:], uint16(r.H))
	xgb.Put32(buf[16:], 0xffffffff)
	cookie := g.c.NewCookie(true, true)
	g.c.NewRequest(buf, cookie)
	return cookie
}

// shmGrabber has the X server write pixels into memory shared with it
// (MIT-SHM): one request, no pixels on the socket, one copy on our side.
type shmGrabber struct {
	c    *xgb.Conn
	root xproto.Window
	w, h int
	seg  shm.Seg
	mem  []byte // w*h*4 bytes, attached by the server too
}

// newSHMGrabber makes a System V shared memory segment of a screenful,
// has the server attach it, then marks it for removal at once, so the
// kernel frees it as soon as both sides detach (also if we crash).
func newSHMGrabber(c *xgb.Conn, root xproto.Window, w, h int) (*shmGrabber, error) {
	size := 4 * w * h
	id, err := unix.SysvShmGet(unix.IPC_PRIVATE, size, unix.IPC_CREAT|0o600)
	if err != nil {
		return nil, fmt.Errorf("shmget: %w", err)
	}
	mem, err := unix.SysvShmAttach(id, 0, 0)
	if err != nil {
		unix.SysvShmCtl(id, unix.IPC_RMID, nil)
		return nil, fmt.Errorf("shmat: %w", err)
	}
	seg, err := shm.NewSegId(c)
	if err == nil {
		err = shm.AttachChecked(c, seg, uint32(id), false).Check()
	}
	unix.SysvShmCtl(id, unix.IPC_RMID, nil)
	if err != nil {
		unix.SysvShmDetach(mem)
		return nil, err
	}
	return &shmGrabber{c: c, root: root, w: w, h: h, seg: seg, mem: mem}, nil
}

func (g *shmGrabber) size() (int, int) { return g.w, g.h }

// free detaches the segment on both sides; the kernel then frees it.
func (g *shmGrabber) free() {
	if g.mem == nil {
		return
	}
	shm.Detach(g.c, g.seg) // no reply: harmless on a closed connection
	unix.SysvShmDetach(g.mem)
	g.mem = nil
}

// shmPixelsPerRect sets when one whole-screen grab beats a request per
// rect: past about one rect per shmPixelsPerRect screen pixels (34 at
// 1920×1080, at least 16). BenchmarkCaptureRects on Xvfb at 1920×1080,
// over several runs on a loaded 2-core machine: one request per 64×64 rect
// costs 8–9 µs, a whole screen 0.24–0.37 ms, so the two meet between 25
// and 50 rects; a single rect of any area is always cheaper alone (75% of
// the screen: 0.34–0.50 ms against 0.44–0.59 ms).
const shmPixelsPerRect = 60000

func (g *shmGrabber) grab(img *screen.Image, rects []screen.Rect) error {
	area := 0
	for _, r := range rects {
		area += r.Area()
	}
	// Rects that overlap may add up to more than the segment holds.
	if len(rects) > max(16, g.w*g.h/shmPixelsPerRect) || area > g.w*g.h {
		return g.grabFull(img, rects)
	}
	return g.grabRects(img, rects)
}

// grabFull reads the whole screen with one request, then copies out only
// rects: img keeps its old pixels elsewhere, as Dirty says.
func (g *shmGrabber) grabFull(img *screen.Image, rects []screen.Rect) error {
	if err := g.get(screen.Rect{W: g.w, H: g.h}, 0); err != nil {
		return err
	}
	for _, r := range rects {
		for y := r.Y; y < r.Y+r.H; y++ {
			o := y*4*g.w + 4*r.X
			copy(img.Pix[y*img.Stride+4*r.X:y*img.Stride+4*(r.X+r.W)], g.mem[o:o+4*r.W])
		}
	}
	return nil
}

// grabRects reads each rect with its own request, pipelined, each into
// its own part of the segment (grab checks that they fit).
func (g *shmGrabber) grabRects(img *screen.Image, rects []screen.Rect) error {
	cookies := make([]shm.GetImageCookie, len(rects))
	off := 0
	for i, r := range rects {
		cookies[i] = shm.GetImage(g.c, xproto.Drawable(g.root), int16(r.X), int16(r.Y), uint16(r.W), uint16(r.H),
			0xffffffff, xproto.ImageFormatZPixmap, g.seg, uint32(off))
		off += 4 * r.Area()
	}
	var first error
	off = 0
	for i, r := range rects {
		if _, err := cookies[i].Reply(); err != nil {
			if first == nil {
				first = err
			}
		} else {
			copyIn(img, r, g.mem[off:])
		}
		off += 4 * r.Area()
	}
	return first
}

// get has the server write rect r (packed, 4*r.W bytes a row) at offset
// off of the segment.
func (g *shmGrabber) get(r screen.Rect, off int) error {
	reply, err := shm.GetImage(g.c, xproto.Drawable(g.root), int16(r.X), int16(r.Y), uint16(r.W), uint16(r.H),
		0xffffffff, xproto.ImageFormatZPixmap, g.seg, uint32(off)).Reply()
	if err != nil {
		return err
	}
	if int(reply.Size) < 4*r.Area() {
		return fmt.Errorf("shm GetImage %v wrote %d bytes", r, reply.Size)
	}
	return nil
}

// verify checks that the server really writes into our segment (it could
// attach a different segment of the same id, say in another IPC
// namespace): the first row's start read both ways must agree, with the
// segment filled with the opposite first. The screen may change between
// the two reads, so it tries three times.
func (g *shmGrabber) verify(plain *plainGrabber) error {
	r := screen.Rect{W: min(g.w, 64), H: 1}
	want := screen.NewImage(g.w, 1)
	for range 3 {
		if err := plain.grab(want, []screen.Rect{r}); err != nil {
			return err
		}
		for i := range 4 * r.W {
			g.mem[i] = ^want.Pix[i]
		}
		if err := g.get(r, 0); err != nil {
			return err
		}
		same := true
		for i := 0; i < 4*r.W; i += 4 {
			a, b := g.mem[i:i+3], want.Pix[i:i+3]
			same = same && a[0] == b[0] && a[1] == b[1] && a[2] == b[2]
		}
		if same {
			return nil
		}
	}
	return errors.New("the pixels read through shared memory differ from those read over the socket")
}

// copyIn copies the packed pixels of rect r (4*r.W bytes a row) from src
// into img.
func copyIn(img *screen.Image, r screen.Rect, src []byte) {
	n := 4 * r.W
	for y := 0; y < r.H; y++ {
		o := (r.Y+y)*img.Stride + 4*r.X
		copy(img.Pix[o:o+n], src[y*n:y*n+n])
	}
}
