package wlroots

// Capture through ext-image-copy-capture-v1, wlr-screencopy's successor
// in wayland-protocols (staging, 1.37), with the outputs as sources
// through ext-image-capture-source-v1. Open chooses it when the compositor
// offers both managers (wlroots 0.19 and later do).
//
// Per output: an ext_image_capture_source_v1 and a capture session on it,
// created with paint_cursors (the wlr path asks for overlay_cursor: the
// helper sees the pointer as the person does). The session sends its
// buffer constraints (buffer_size, shm_format…, done), again whenever
// they change. A frame is create_frame, attach_buffer, damage_buffer
// (whole when the buffer is new or its content uncertain, else none: it
// holds the previous frame), capture; it ends in ready, after damage
// events saying what changed since the session's previous ready frame
// (all of it the first time), or in failed(reason). The compositor
// answers a capture only when the output changed (except the session's
// first), so an idle screen costs nothing.
//
// Messages, with opcodes in the XML's order (requests and events apart):
//
//	ext_output_image_capture_source_manager_v1
//	  request 0 create_source(source new_id, output object)
//	ext_image_capture_source_v1
//	  request 0 destroy
//	ext_image_copy_capture_manager_v1
//	  request 0 create_session(session new_id, source object, options uint)
//	ext_image_copy_capture_session_v1
//	  request 0 create_frame(frame new_id), 1 destroy
//	  event 0 buffer_size(width, height uint), 1 shm_format(format uint),
//	  2 dmabuf_device(device array), 3 dmabuf_format(format uint,
//	  modifiers array), 4 done, 5 stopped, 6 preferred_done (version 2)
//	ext_image_copy_capture_frame_v1
//	  request 0 destroy, 1 attach_buffer(buffer object),
//	  2 damage_buffer(x, y, width, height int), 3 capture
//	  event 0 transform(transform uint), 1 damage(x, y, width, height int),
//	  2 presentation_time(tv_sec_hi, tv_sec_lo, tv_nsec uint), 3 ready,
//	  4 failed(reason uint)

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/session/screen"
)

const (
	ifaceExtCopyCapture   = "ext_image_copy_capture_manager_v1"
	ifaceExtOutputSources = "ext_output_image_capture_source_manager_v1"

	extPaintCursors = 1 // ext_image_copy_capture_manager_v1.options

	// ext_image_copy_capture_frame_v1.failure_reason
	extFailBufferConstraints = 1
	extFailStopped           = 2

	// maxBufferSide bounds the buffer a compositor may ask for.
	maxBufferSide = 1 << 14
)

// ErrStopped is returned (wrapped) by Next when the compositor stopped an
// ext-image-copy-capture session of an output that is still there (the
// person or the compositor ended the capture): the Source is over, and
// every later Next returns it too.
var ErrStopped = errors.New("wlroots: the compositor stopped the capture")

// extCapture is a Source's state when it captures through
// ext-image-copy-capture. Its fields but the queue are guarded by the
// Source's mu.
type extCapture struct {
	manager, sources uint32 // the bound managers
	outs             []*extOutput
	full             bool  // a whole capture is owed (first, Refresh, outputs changed)
	err              error // why the capture ended for good, nil while it goes on

	qmu   sync.Mutex // guards queue
	queue []extEvent // events not yet handled by Next
}

// extOutput is the capture state of one output. Of the embedded
// outCapture it uses placed, frame, seq, buf, damage and failures.
type extOutput struct {
	outCapture
	source, session uint32
	sseq            uint64         // tells the session apart from an earlier one of the same id
	pending         extConstraints // being received
	cons            extConstraints // the latest complete ones
	hasCons         bool
	got             bool // a frame of this session was ready: its part of the image is filled
	fresh           bool // the buffer may not hold the previous frame: damage it whole
}

// extConstraints are a session's buffer constraints.
type extConstraints struct {
	w, h    uint32
	formats []uint32 // shm formats, in the order offered
}

// extKind tells which interface an event is of.
type extKind uint8

const (
	extSession extKind = iota // ext_image_copy_capture_session_v1
	extFrame                  // ext_image_copy_capture_frame_v1
)

var extIfaces = [...]string{extSession: "ext_image_copy_capture_session_v1", extFrame: "ext_image_copy_capture_frame_v1"}

// extArgs is the number of 32-bit arguments of each event, by kind and
// opcode; -1 for events this package ignores (they carry arrays).
var extArgs = [...][]int{
	extSession: {2, 1, -1, -1, 0, 0, 0},
	extFrame:   {1, 4, 3, 0, 1},
}

// extEvent is one event of a session or a frame, decoded.
type extEvent struct {
	kind  extKind
	op    uint16
	known bool      // an event this package handles (else ignored)
	v     [4]uint32 // its arguments
	obj   uint32    // the session or frame
	seq   uint64    // and its sequence number
	err   error     // the event was malformed
}

// parseExtEvent decodes the arguments b of event op of a session or a
// frame. Events of later versions and those carrying arrays are returned
// with known false. An event too short for its arguments is an error.
func parseExtEvent(kind extKind, op uint16, b []byte) (extEvent, error) {
	e := extEvent{kind: kind, op: op}
	if int(kind) >= len(extArgs) {
		return e, fmt.Errorf("wlroots: unknown event kind %d", kind)
	}
	words := extArgs[kind]
	if int(op) >= len(words) || words[op] < 0 {
		return e, nil
	}
	n := words[op]
	if len(b) < 4*n {
		return e, fmt.Errorf("wlroots: the compositor sent a %s event %d of %d bytes, want %d", extIfaces[kind], op, len(b), 4*n)
	}
	for i := range n {
		e.v[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	e.known = true
	return e, nil
}

// extDamage is a damage event's rect (x, y, width, height as ints)
// clipped to a w×h buffer; false when nothing of it is inside.
func extDamage(v [4]uint32, w, h uint32) (screen.Rect, bool) {
	r := screen.Rect{X: int(int32(v[0])), Y: int(int32(v[1])), W: int(int32(v[2])), H: int(int32(v[3]))}
	if r.Empty() {
		return screen.Rect{}, false
	}
	// Keep the sums in range on 32-bit platforms: clip the corners first.
	x1, y1 := min(int64(r.X)+int64(r.W), int64(w)), min(int64(r.Y)+int64(r.H), int64(h))
	x0, y0 := max(int64(r.X), 0), max(int64(r.Y), 0)
	if x1 <= x0 || y1 <= y0 {
		return screen.Rect{}, false
	}
	return screen.Rect{X: int(x0), Y: int(y0), W: int(x1 - x0), H: int(y1 - y0)}, true
}

// extFormat chooses the shm format to capture in among those offered:
// prefer (the current buffer's) if it is offered and readable, else the
// first offered of the formats screen.Image takes as they are, else of
// those it swaps.
func extFormat(offered []uint32, prefer uint32) (uint32, bool) {
	prefs := []uint32{shmXRGB8888, shmARGB8888, shmXBGR8888, shmABGR8888}
	if slices.Contains(prefs, prefer) && slices.Contains(offered, prefer) {
		return prefer, true
	}
	for _, f := range prefs {
		if slices.Contains(offered, f) {
			return f, true
		}
	}
	return 0, false
}

// bindExt binds the ext-image-copy-capture managers when the compositor
// offers both, and returns the capture state; nil when it does not.
func bindExt(d *display) *extCapture {
	cc, ok := d.find(ifaceExtCopyCapture)
	if !ok {
		return nil
	}
	src, ok := d.find(ifaceExtOutputSources)
	if !ok {
		return nil
	}
	return &extCapture{manager: d.bind(cc, 1, nil), sources: d.bind(src, 1, nil), full: true}
}

// hasGlobal reports whether the compositor still announces the global
// name.
func (d *display) hasGlobal(name uint32) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.globals[name]
	return ok
}

// extEvent queues an event of a session or a frame for Next (reader
// goroutine).
func (s *Source) extEvent(kind extKind, obj uint32, seq uint64, op uint16, a *args) {
	e, err := parseExtEvent(kind, op, a.b)
	e.obj, e.seq, e.err = obj, seq, err
	x := s.ext
	x.qmu.Lock()
	x.queue = append(x.queue, e)
	x.qmu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// nextExtLocked is Next over ext-image-copy-capture.
func (s *Source) nextExtLocked(ctx context.Context) (host.Capture, error) {
	x := s.ext
	for {
		if s.closed {
			return host.Capture{}, errClosed
		}
		if x.err != nil {
			return host.Capture{}, x.err
		}
		select {
		case <-s.d.changed:
			s.stale = true
		default:
		}
		if s.refresh.Swap(false) {
			x.full = true
		}
		if s.stale {
			if err := s.rebuildExtLocked(); err != nil {
				return host.Capture{}, err
			}
			x.full = true
		}
		c, again, err := s.waitExtLocked(ctx)
		if err != nil || !again {
			return c, err
		}
	}
}

// rebuildExtLocked ends the outputs' sessions and starts one per output
// as laid out now, into a new image.
func (s *Source) rebuildExtLocked() error {
	x := s.ext
	for _, o := range x.outs {
		s.dropExtLocked(o)
	}
	x.outs = nil
	places, w, h, _ := s.d.layout()
	if len(places) == 0 || w <= 0 || h <= 0 {
		return errors.New("wlroots: the compositor has no outputs")
	}
	c := s.d.c
	for _, p := range places {
		if p.out.scale != 1 || p.out.transform != 0 {
			s.log.Warn("output is scaled or rotated: captured unscaled and unrotated at its logical position", "output", p.out.name, "scale", p.out.scale, "transform", p.out.transform)
		}
		s.seq++
		o := &extOutput{outCapture: outCapture{placed: p}, sseq: s.seq}
		sseq := o.sseq
		o.source = c.newID(nil)
		o.session = c.newObject(func(id uint32) handler {
			return func(op uint16, a *args) { s.extEvent(extSession, id, sseq, op, a) }
		})
		err := c.send(
			newRequest(x.sources, 0).uint(o.source).uint(p.out.id),                        // create_source
			newRequest(x.manager, 0).uint(o.session).uint(o.source).uint(extPaintCursors), // create_session
		)
		x.outs = append(x.outs, o)
		if err != nil {
			return err
		}
	}
	s.img = screen.NewImage(w, h)
	s.monMu.Lock()
	s.monitors = monitors(places)
	s.monMu.Unlock()
	s.stale = false
	return nil
}

// dropExtLocked destroys o's frame, session and source and frees its
// buffer.
func (s *Source) dropExtLocked(o *extOutput) {
	c := s.d.c
	s.destroyExtFrameLocked(o)
	c.send(newRequest(o.session, 1), newRequest(o.source, 0)) // destroy both
	o.freeBuffer(c)
}

func (s *Source) destroyExtFrameLocked(o *extOutput) {
	if o.frame != 0 {
		s.d.c.send(newRequest(o.frame, 0)) // destroy
		o.frame = 0
	}
}

// startExtFrameLocked asks for o's next frame, in a buffer that fits the
// session's constraints (made anew when the old one does not).
func (s *Source) startExtFrameLocked(o *extOutput) error {
	c := s.d.c
	prefer := uint32(shmXRGB8888)
	if o.buf != nil {
		prefer = o.buf.format
	}
	f, _ := extFormat(o.cons.formats, prefer) // checked when the constraints came
	w, h := o.cons.w, o.cons.h
	if b := o.buf; b == nil || b.format != f || b.w != w || b.h != h {
		o.freeBuffer(c)
		b, err := s.newBuffer(f, w, h, 4*w)
		if err != nil {
			return err
		}
		o.buf = b
		o.fresh = true
	}
	s.seq++
	seq := s.seq
	o.frame = c.newObject(func(id uint32) handler {
		return func(op uint16, a *args) { s.extEvent(extFrame, id, seq, op, a) }
	})
	o.seq, o.damage = seq, nil
	reqs := []*request{
		newRequest(o.session, 0).uint(o.frame), // create_frame
		newRequest(o.frame, 1).uint(o.buf.id),  // attach_buffer
	}
	if o.fresh {
		reqs = append(reqs, newRequest(o.frame, 2).int(0).int(0).int(int32(w)).int(int32(h))) // damage_buffer
	}
	reqs = append(reqs, newRequest(o.frame, 3)) // capture
	return c.send(reqs...)
}

// waitExtLocked keeps a frame in flight for every output whose
// constraints are known and handles the events until a capture can be
// returned: every output's first frame for a whole one, else some damage.
// again is true when Next must start over (Refresh, outputs changed).
func (s *Source) waitExtLocked(ctx context.Context) (c host.Capture, again bool, err error) {
	x := s.ext
	var dirty []screen.Rect
	for {
		x.qmu.Lock()
		q := x.queue
		x.queue = nil
		x.qmu.Unlock()
		for _, e := range q {
			if e.err != nil {
				return c, false, e.err
			}
			d, again, err := s.handleExtLocked(ctx, e)
			if err != nil || again {
				return c, again, err
			}
			dirty = append(dirty, d...)
		}
		for _, o := range x.outs {
			if o.frame == 0 && o.hasCons {
				if err := s.startExtFrameLocked(o); err != nil {
					return c, false, err
				}
			}
		}
		if x.full {
			if !slices.ContainsFunc(x.outs, func(o *extOutput) bool { return !o.got }) {
				x.full = false
				return host.Capture{Image: s.img, Dirty: []screen.Rect{s.img.Bounds()}}, false, nil
			}
		} else if len(dirty) > 0 {
			return host.Capture{Image: s.img, Dirty: dirty}, false, nil
		}
		select {
		case <-s.wake:
		case <-s.kick:
			if s.refresh.Load() {
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
			return c, false, ctx.Err()
		}
	}
}

// handleExtLocked handles one event: it returns the image rects a ready
// frame filled, again when the outputs must be laid out anew, or an error
// that ends Next.
func (s *Source) handleExtLocked(ctx context.Context, e extEvent) (dirty []screen.Rect, again bool, err error) {
	if !e.known {
		return nil, false, nil
	}
	x := s.ext
	var o *extOutput
	for _, oo := range x.outs {
		if e.kind == extSession && oo.session == e.obj && oo.sseq == e.seq ||
			e.kind == extFrame && oo.frame == e.obj && oo.seq == e.seq && e.obj != 0 {
			o = oo
		}
	}
	if o == nil {
		return nil, false, nil // a destroyed session's or frame's
	}
	if e.kind == extSession {
		switch e.op {
		case 0: // buffer_size
			o.pending.w, o.pending.h = e.v[0], e.v[1]
		case 1: // shm_format
			o.pending.formats = append(o.pending.formats, e.v[0])
		case 4: // done
			cons := o.pending
			o.pending = extConstraints{}
			if cons.w == 0 || cons.h == 0 || cons.w > maxBufferSide || cons.h > maxBufferSide {
				return nil, false, fmt.Errorf("wlroots: the compositor asks for a %dx%d buffer to capture output %s", cons.w, cons.h, o.out.name)
			}
			if _, ok := extFormat(cons.formats, 0); !ok {
				return nil, false, fmt.Errorf("wlroots: the compositor offers no shm format this package reads for output %s (%#x)", o.out.name, cons.formats)
			}
			o.cons, o.hasCons = cons, true
		case 5: // stopped
			again, err := s.extStoppedLocked(ctx, o, e)
			return nil, again, err
		}
		return nil, false, nil
	}
	switch e.op {
	case 0: // transform
		if e.v[0] != 0 {
			s.log.Debug("the compositor transformed the captured buffer; taken as it is", "output", o.out.name, "transform", e.v[0])
		}
	case 1: // damage
		if r, ok := extDamage(e.v, o.buf.w, o.buf.h); ok {
			o.damage = append(o.damage, r)
		}
	case 3: // ready
		rects := o.damage
		if !o.got {
			rects = []screen.Rect{{W: int(o.buf.w), H: int(o.buf.h)}}
		}
		dirty = s.takeExtLocked(o, rects)
		s.destroyExtFrameLocked(o)
		o.got, o.fresh, o.failures = true, false, 0
	case 4: // failed
		s.destroyExtFrameLocked(o)
		o.fresh = true
		switch e.v[0] {
		case extFailStopped:
			again, err := s.extStoppedLocked(ctx, o, e)
			return nil, again, err
		case extFailBufferConstraints:
			// The new constraints came before: the next frame gets a
			// buffer that fits them.
			s.log.Debug("the compositor changed the buffer constraints; allocating again", "output", o.out.name, "width", o.cons.w, "height", o.cons.h, "formats", o.cons.formats)
			o.freeBuffer(s.d.c)
		}
		o.failures++
		if o.failures > 3 {
			return nil, false, fmt.Errorf("wlroots: the compositor failed to capture output %s %d times (reason %d)", o.out.name, o.failures, e.v[0])
		}
	}
	return dirty, false, nil
}

// extStoppedLocked handles e, a stopped session or a frame failed as
// stopped: when its output went away, again is true (the outputs are laid
// out anew); otherwise the capture is over, with ErrStopped.
func (s *Source) extStoppedLocked(ctx context.Context, o *extOutput, e extEvent) (again bool, err error) {
	// The output's global_remove, if any, was sent with the stop.
	if err := s.d.c.roundtrip(ctx); err != nil {
		s.requeueExt(e) // for the next Next
		return false, err
	}
	if !s.d.hasGlobal(o.out.global) {
		s.log.Debug("the capture of a removed output stopped", "output", o.out.name)
		s.stale = true
		return true, nil
	}
	s.ext.err = fmt.Errorf("%w of output %s", ErrStopped, o.out.name)
	s.log.Info("the compositor stopped the capture", "output", o.out.name)
	return false, s.ext.err
}

// requeueExt puts e back at the head of the queue.
func (s *Source) requeueExt(e extEvent) {
	x := s.ext
	x.qmu.Lock()
	x.queue = append([]extEvent{e}, x.queue...)
	x.qmu.Unlock()
}

// takeExtLocked copies rects of o's buffer (buffer coordinates) into the
// image and returns the image rects it copied.
func (s *Source) takeExtLocked(o *extOutput, rects []screen.Rect) []screen.Rect {
	own := screen.Rect{W: o.rect.W, H: o.rect.H} // what o's place in the image holds
	o.damage = o.damage[:0:0]
	for _, r := range rects {
		if r = r.Intersect(own); !r.Empty() {
			o.damage = append(o.damage, r)
		}
	}
	o.damaged, o.yInvert = true, false
	return s.takeLocked(&o.outCapture)
}

// closeExtLocked unmaps the buffers after Close (the connection is gone).
func (s *Source) closeExtLocked() {
	if s.ext == nil {
		return
	}
	for _, o := range s.ext.outs {
		o.freeBuffer(nil)
	}
	s.ext.outs = nil
}
