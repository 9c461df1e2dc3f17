package wlroots

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/session/screen"
)

var (
	_ host.Source      = (*Source)(nil)
	_ host.PacedSource = (*Source)(nil)
	_ host.Refresher   = (*Source)(nil)
)

// ErrUnsupported is returned (wrapped) by Open and OpenInjector when the
// compositor lacks a protocol they need (it is not wlroots-based, or
// too old): the caller should try another way (xdg-desktop-portal).
var ErrUnsupported = errors.New("wlroots: unsupported compositor")

// ErrLost is returned (wrapped) by Next and Inject when the connection to
// the compositor broke (it ended, or reported a protocol error).
var ErrLost = errLost

var errClosed = fmt.Errorf("wlroots: source closed: %w", net.ErrClosed)

// wl_shm formats (the DRM fourcc codes, but 0 and 1 for the two that
// wl_shm numbers itself). In memory, little-endian: XRGB8888 is B, G, R, X.
const (
	shmARGB8888 = 0
	shmXRGB8888 = 1
	shmABGR8888 = 0x34324241
	shmXBGR8888 = 0x34324258
)

// Options tune a Source or an Injector. The zero value is ready to use for
// an absolute socket path.
type Options struct {
	// RuntimeDir is $XDG_RUNTIME_DIR, where a display name such as
	// "wayland-1" is looked up. Not needed for an absolute path.
	RuntimeDir string
	// Logger receives the log, with component=wlroots (or wlroots-input
	// for the injector). Nil discards.
	Logger *slog.Logger
}

// Source captures the outputs of a wlroots compositor with
// zwlr_screencopy_manager_v1, or ext-image-copy-capture-v1 where offered
// (extcapture.go). Create it with Open.
type Source struct {
	d          *display
	ext        *extCapture // non-nil when capturing with ext-image-copy-capture
	screencopy uint32      // the bound manager
	shm        uint32
	version    uint32 // of the screencopy manager
	log        *slog.Logger

	refresh   atomic.Bool
	kick      chan struct{} // cap 1: Refresh was called
	done      chan struct{} // closed by Close
	closeOnce sync.Once

	qmu   sync.Mutex   // guards queue
	queue []frameEvent // screencopy events not yet handled by Next
	wake  chan struct{}

	mu       sync.Mutex // serialises Next; guards the fields below
	closed   bool
	img      *screen.Image
	outs     []*outCapture
	stale    bool   // the outputs changed: rebuild before the next capture
	seq      uint64 // of the latest frame
	monMu    sync.Mutex
	monitors []host.Monitor // guarded by monMu
}

// outCapture is the capture state of one output.
//
// A frame goes through three steps: capture_output (the compositor
// answers with the buffer it wants), copy (or copy_with_damage) into our
// buffer, ready. The next frame's capture_output is sent as soon as one is
// ready, so that its buffer events arrive while the host still works on
// the update; the copy is asked for only by Next, so a capture is never
// older than the call that returns it.
type outCapture struct {
	placed
	frame   uint32 // the frame in flight, 0 if none
	seq     uint64 // tells frame apart from an earlier frame of the same id
	damaged bool   // frame is a copy_with_damage
	sized   bool   // frame's buffer events are in: the copy can be sent
	want    bool   // Next asked for frame's copy
	copying bool   // the copy was sent, and frame is not ready yet
	buf     *shmBuffer
	// per frame, filled from its events:
	format, w, h, stride uint32
	yInvert              bool
	damage               []screen.Rect
	failures             int
}

// shmBuffer is a wl_buffer on a memfd of ours.
type shmBuffer struct {
	id                   uint32
	mem                  []byte
	format, w, h, stride uint32
}

// frameEvent is one zwlr_screencopy_frame_v1 event.
type frameEvent struct {
	frame uint32
	seq   uint64
	op    uint16
	v     [4]uint32
}

// Open connects to the compositor of display ("wayland-1", looked up in
// opts.RuntimeDir, or an absolute socket path; the caller reads
// $WAYLAND_DISPLAY) and prepares to capture all its outputs as one image,
// laid out as the compositor lays them out. It returns an error wrapping
// ErrUnsupported when the compositor lacks wl_shm, or offers neither
// ext-image-copy-capture (chosen when offered, with its output sources) nor
// zwlr_screencopy_manager_v1 version 2 (copy_with_damage); other errors
// are one line starting "wlroots: " (no socket, refused, no outputs).
func Open(ctx context.Context, display string, opts Options) (*Source, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "wlroots")
	d, err := openDisplay(ctx, opts.RuntimeDir, display)
	if err != nil {
		return nil, err
	}
	s := &Source{
		d:    d,
		log:  log,
		kick: make(chan struct{}, 1),
		done: make(chan struct{}),
		wake: make(chan struct{}, 1),
	}
	shm, ok := d.find(ifaceShm)
	if !ok {
		d.close()
		return nil, errMissing(ifaceShm)
	}
	protocol := "ext-image-copy-capture"
	if s.ext = bindExt(d); s.ext == nil {
		protocol = "wlr-screencopy"
		sc, ok := d.find(ifaceScreencopy)
		if !ok || sc.version < 2 {
			d.close()
			return nil, errMissing(ifaceScreencopy + " version 2")
		}
		s.version = min(sc.version, versionScreencopy)
		s.screencopy = d.bind(sc, versionScreencopy, nil)
	}
	s.shm = d.bind(shm, 1, nil)
	if err := d.c.roundtrip(ctx); err != nil {
		d.close()
		return nil, err
	}
	places, w, h, _ := d.layout()
	if len(places) == 0 || w <= 0 || h <= 0 {
		d.close()
		return nil, errors.New("wlroots: the compositor has no outputs")
	}
	s.monitors = monitors(places)
	s.stale = true
	log.Info("capturing with "+protocol, "outputs", len(places), "width", w, "height", h, "version", s.version)
	return s, nil
}

// Monitors lists the outputs, in the image's coordinates. The first is
// primary: Wayland has no primary output.
func (s *Source) Monitors() []host.Monitor {
	s.monMu.Lock()
	defer s.monMu.Unlock()
	return append([]host.Monitor(nil), s.monitors...)
}

// Refresh makes the next (or pending) Next return the whole image.
func (s *Source) Refresh() {
	s.refresh.Store(true)
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Close disconnects from the compositor; it waits for the reader. Calling
// it again returns nil.
func (s *Source) Close() error {
	s.closeOnce.Do(func() {
		close(s.done)
		s.d.close()
		s.mu.Lock()
		s.closed = true
		for _, o := range s.outs {
			o.freeBuffer(nil)
		}
		s.outs = nil
		s.closeExtLocked()
		s.mu.Unlock()
	})
	return nil
}

// Next waits until some output changed and returns the image with the
// changed parts as Dirty (the first call, and the first after Refresh or a
// change of outputs, return the whole image). It returns ctx.Err() when
// ctx ends, an error wrapping net.ErrClosed after Close, one wrapping
// ErrLost when the compositor went away, and (ext-image-copy-capture) one
// wrapping ErrStopped when the compositor stopped the capture.
func (s *Source) Next(ctx context.Context) (host.Capture, error) {
	return s.NextAfter(ctx, time.Time{})
}

// NextAfter is Next, except that a frame the compositor copied before
// notBefore is held back until then (see host.PacedSource). With
// wlr-screencopy the copy is asked for at once and the compositor makes
// it when it next draws a change, so one wake-up serves both the change
// and the pace; the compositor draws at most once per refresh, so a frame
// held back until a notBefore less than a refresh away (the sharer's
// pace at High) still shows the screen as it is then. With
// ext-image-copy-capture NextAfter sleeps until notBefore, then waits for
// the next frame. Errors as for Next.
func (s *Source) NextAfter(ctx context.Context, notBefore time.Time) (host.Capture, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ext != nil {
		if err := s.sleepUntil(ctx, notBefore); err != nil {
			return host.Capture{}, err
		}
		return s.nextExtLocked(ctx)
	}
	for {
		if s.closed {
			return host.Capture{}, errClosed
		}
		select {
		case <-s.d.changed:
			s.stale = true
		default:
		}
		full := s.refresh.Swap(false)
		if s.stale {
			if err := s.rebuildLocked(); err != nil {
				return host.Capture{}, err
			}
			full = true
		}
		for _, o := range s.outs {
			if full || o.frame == 0 {
				if err := s.startFrameLocked(o, !full); err != nil {
					return host.Capture{}, err
				}
			}
			if err := s.askCopyLocked(o); err != nil {
				return host.Capture{}, err
			}
		}
		c, again, err := s.waitLocked(ctx, full, notBefore)
		if err != nil || !again {
			return c, err
		}
	}
}

// sleepUntil waits until t, or until ctx ends, the Source is closed or
// the connection is lost.
func (s *Source) sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return errClosed
	case <-s.d.c.lost:
		return s.d.c.failure()
	}
}

// rebuildLocked forgets the outputs' capture state and lays them out
// again, in a new image.
func (s *Source) rebuildLocked() error {
	for _, o := range s.outs {
		s.destroyFrameLocked(o)
		o.freeBuffer(s.d.c)
	}
	places, w, h, _ := s.d.layout()
	if len(places) == 0 || w <= 0 || h <= 0 {
		return errors.New("wlroots: the compositor has no outputs")
	}
	s.outs = s.outs[:0]
	for _, p := range places {
		if p.out.scale != 1 || p.out.transform != 0 {
			s.log.Warn("output is scaled or rotated: captured unscaled and unrotated at its logical position", "output", p.out.name, "scale", p.out.scale, "transform", p.out.transform)
		}
		s.outs = append(s.outs, &outCapture{placed: p})
	}
	s.img = screen.NewImage(w, h)
	s.monMu.Lock()
	s.monitors = monitors(places)
	s.monMu.Unlock()
	s.stale = false
	return nil
}

// startFrameLocked asks for a frame of o (replacing one in flight), to be
// copied with copy_with_damage when damaged, else with a plain copy at the
// next commit; askCopyLocked asks for the copy.
func (s *Source) startFrameLocked(o *outCapture, damaged bool) error {
	s.destroyFrameLocked(o)
	s.seq++
	seq := s.seq
	id := s.d.c.newObject(func(id uint32) handler {
		return func(op uint16, a *args) { s.frameEvent(id, seq, op, a) }
	})
	o.frame, o.seq = id, seq
	o.damaged, o.sized, o.want, o.copying = damaged, false, false, false
	o.format, o.w, o.h, o.stride, o.yInvert, o.damage = 0, 0, 0, 0, false, o.damage[:0]
	// capture_output(frame new_id, overlay_cursor int, output object)
	return s.d.c.send(newRequest(s.screencopy, 0).uint(o.frame).int(1).uint(o.out.id))
}

// askCopyLocked asks for the copy of o's frame: now if the compositor
// has said which buffer it wants, else when it does. Asking again does
// nothing.
func (s *Source) askCopyLocked(o *outCapture) error {
	if o.frame == 0 || o.want {
		return nil
	}
	o.want = true
	if !o.sized {
		return nil
	}
	return s.copyLocked(o)
}

// destroyFrameLocked destroys o's frame in flight, if any; its events
// still queued are dropped by waitLocked, which no longer knows it.
func (s *Source) destroyFrameLocked(o *outCapture) {
	if o.frame != 0 {
		s.d.c.send(newRequest(o.frame, 1)) // destroy
		o.frame = 0
		o.copying = false
	}
}

// frameEvent queues a frame's event for Next (reader goroutine).
func (s *Source) frameEvent(frame uint32, seq uint64, op uint16, a *args) {
	e := frameEvent{frame: frame, seq: seq, op: op}
	for i := range e.v {
		e.v[i] = a.uint()
	}
	s.qmu.Lock()
	s.queue = append(s.queue, e)
	s.qmu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// waitLocked handles frame events until a capture can be returned: all
// outputs ready for a full one, else at least one, and notBefore passed.
// A frame ready earlier is taken only then: its ready event waits at the
// head of the queue. again is true when Next must start over (Refresh,
// outputs changed, a frame failed).
func (s *Source) waitLocked(ctx context.Context, full bool, notBefore time.Time) (c host.Capture, again bool, err error) {
	var dirty []screen.Rect
	ready := 0
wait:
	for {
		s.qmu.Lock()
		q := s.queue
		s.queue = nil
		s.qmu.Unlock()
		for i, e := range q {
			o := s.outOf(e.frame, e.seq)
			if o == nil {
				continue // a destroyed frame's
			}
			switch e.op {
			case 0: // buffer(format, width, height, stride uint)
				o.format, o.w, o.h, o.stride = e.v[0], e.v[1], e.v[2], e.v[3]
				if s.version < 3 {
					if err := s.sizedLocked(o); err != nil {
						return c, false, err
					}
				}
			case 6: // buffer_done
				if err := s.sizedLocked(o); err != nil {
					return c, false, err
				}
			case 1: // flags(flags uint)
				o.yInvert = e.v[0]&1 != 0
			case 4: // damage(x, y, width, height uint)
				o.damage = append(o.damage, screen.Rect{X: int(e.v[0]), Y: int(e.v[1]), W: int(e.v[2]), H: int(e.v[3])})
			case 2: // ready
				if time.Now().Before(notBefore) {
					s.requeue(q[i:])
					if err := s.sleepUntil(ctx, notBefore); err != nil {
						if full {
							s.refresh.Store(true) // as below
						}
						return c, false, err
					}
					continue wait // take the rest again, from this ready on
				}
				dirty = append(dirty, s.takeLocked(o)...)
				s.destroyFrameLocked(o)
				o.failures = 0
				ready++
				// The next frame's buffer events come while the
				// host encodes this one.
				if err := s.startFrameLocked(o, true); err != nil {
					return c, false, err
				}
			case 3: // failed
				s.destroyFrameLocked(o)
				o.failures++
				if o.failures > 3 {
					return c, false, fmt.Errorf("wlroots: the compositor failed to copy output %s %d times", o.out.name, o.failures)
				}
				s.log.Debug("screencopy frame failed; laying the outputs out again", "output", o.out.name)
				s.stale = true
				return c, true, nil
			}
		}
		if ready > 0 && (!full || s.allCopiedLocked()) {
			return host.Capture{Image: s.img, Dirty: dirty}, false, nil
		}
		select {
		case <-s.wake:
		case <-s.kick:
			if s.refresh.Load() && !full {
				return c, true, nil
			}
		case <-s.d.changed:
			s.stale = true
			return c, true, nil
		case <-s.d.c.lost:
			return c, false, s.d.c.failure()
		case <-s.done:
			return c, false, errClosed
		case <-ctx.Done():
			if full {
				// The pending plain copies would be taken for damage.
				s.refresh.Store(true)
			}
			return c, false, ctx.Err()
		}
	}
}

// requeue puts events back at the head of the queue, for the next look.
func (s *Source) requeue(events []frameEvent) {
	s.qmu.Lock()
	s.queue = append(append([]frameEvent(nil), events...), s.queue...)
	s.qmu.Unlock()
}

// allCopiedLocked reports whether no output waits for a copy.
func (s *Source) allCopiedLocked() bool {
	for _, o := range s.outs {
		if o.copying {
			return false
		}
	}
	return true
}

func (s *Source) outOf(frame uint32, seq uint64) *outCapture {
	for _, o := range s.outs {
		if o.frame == frame && o.seq == seq && frame != 0 {
			return o
		}
	}
	return nil
}

// sizedLocked notes that the compositor has said which buffer o's frame
// wants, and sends the copy if Next has asked for it.
func (s *Source) sizedLocked(o *outCapture) error {
	o.sized = true
	if !o.want {
		return nil
	}
	return s.copyLocked(o)
}

// copyLocked sends copy (or copy_with_damage) into a buffer of the size
// and format the frame asked for, making one if needed.
func (s *Source) copyLocked(o *outCapture) error {
	switch o.format {
	case shmXRGB8888, shmARGB8888, shmXBGR8888, shmABGR8888:
	default:
		return fmt.Errorf("wlroots: unsupported screencopy pixel format %#x", o.format)
	}
	b := o.buf
	if b == nil || b.format != o.format || b.w != o.w || b.h != o.h || b.stride != o.stride {
		o.freeBuffer(s.d.c)
		var err error
		if b, err = s.newBuffer(o.format, o.w, o.h, o.stride); err != nil {
			return err
		}
		o.buf = b
	}
	op := uint16(0) // copy
	if o.damaged {
		op = 2 // copy_with_damage
	}
	o.copying = true
	return s.d.c.send(newRequest(o.frame, op).uint(b.id))
}

// newBuffer makes a wl_buffer on a memfd: a pool, the buffer, and the pool
// destroyed again (the buffer keeps the memory).
func (s *Source) newBuffer(format, w, h, stride uint32) (*shmBuffer, error) {
	size := int(stride) * int(h)
	f, mem, err := memfd("gethelp-screencopy", size)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c := s.d.c
	pool := c.newID(nil)
	b := &shmBuffer{id: c.newID(nil), mem: mem, format: format, w: w, h: h, stride: stride}
	err = c.send(
		newRequest(s.shm, 0).uint(pool).fd(int(f.Fd())).int(int32(size)),                                  // create_pool
		newRequest(pool, 0).uint(b.id).int(0).int(int32(w)).int(int32(h)).int(int32(stride)).uint(format), // create_buffer
		newRequest(pool, 1), // destroy
	)
	if err != nil {
		unix.Munmap(mem)
		return nil, err
	}
	return b, nil
}

// freeBuffer destroys o's buffer (when c is not nil: not after Close) and
// unmaps its memory.
func (o *outCapture) freeBuffer(c *conn) {
	if o.buf == nil {
		return
	}
	if c != nil {
		c.send(newRequest(o.buf.id, 0)) // wl_buffer.destroy
	}
	unix.Munmap(o.buf.mem)
	o.buf.mem = nil
	o.buf = nil
}

// takeLocked copies o's frame (its damage, or all of it for a plain copy)
// into the image and returns the image rects it copied.
func (s *Source) takeLocked(o *outCapture) []screen.Rect {
	b := o.buf
	whole := screen.Rect{W: int(b.w), H: int(b.h)}
	var rects []screen.Rect
	if !o.damaged {
		rects = []screen.Rect{whole}
	} else {
		for _, r := range o.damage {
			if o.yInvert {
				r.Y = int(b.h) - r.Y - r.H
			}
			if r = r.Intersect(whole); !r.Empty() {
				rects = append(rects, r)
			}
		}
	}
	swap := b.format == shmXBGR8888 || b.format == shmABGR8888
	var out []screen.Rect
	for _, r := range rects {
		dst := r
		dst.X += o.rect.X
		dst.Y += o.rect.Y
		dst = dst.Intersect(s.img.Bounds())
		if dst.Empty() {
			continue
		}
		for y := 0; y < dst.H; y++ {
			sy := r.Y + y
			if o.yInvert {
				sy = int(b.h) - 1 - sy
			}
			src := b.mem[sy*int(b.stride)+4*r.X : sy*int(b.stride)+4*(r.X+dst.W)]
			d := s.img.Pix[(dst.Y+y)*s.img.Stride+4*dst.X:]
			copy(d, src)
			if swap {
				for i := 0; i < len(src); i += 4 {
					d[i], d[i+2] = d[i+2], d[i]
				}
			}
		}
		out = append(out, dst)
	}
	return out
}
