// Package fakecomp is a fake Wayland compositor for the tests of
// host/wlroots: an in-process server on a Unix socket in a temporary
// directory, speaking just enough of the wire protocol to be captured
// through ext-image-copy-capture-v1. It was written from the protocol XML
// (wayland.xml; ext-image-capture-source-v1 and ext-image-copy-capture-v1
// of wayland-protocols' staging), not from a compositor's code, so it
// shows that the client follows the protocol as written, not that it
// works with a given compositor.
//
// It serves wl_display (sync, get_registry), wl_registry (bind), wl_shm
// (create_pool on the client's descriptor, mapped here), wl_shm_pool,
// wl_buffer, wl_output (geometry, mode, scale, name, done),
// ext_output_image_capture_source_manager_v1, ext_image_capture_source_v1,
// ext_image_copy_capture_manager_v1 and its sessions and frames. Each
// output has an image the test draws on; a capture copies it into the
// client's buffer in the buffer's format and reports what changed since
// the session's previous frame, as the protocol says a compositor must.
// Misuse the XML names a protocol error for (a second frame, capture
// without a buffer, bad damage, unknown options…) ends the connection
// with wl_display.error, as libwayland-server would.
//
// zwlr_screencopy_manager_v1 can be announced so that a test sees which
// protocol the client chooses; binding it is counted, its requests are
// not served.
package fakecomp

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gethelp/gethelp/session/screen"
)

// Interface names.
const (
	IfaceShm           = "wl_shm"
	IfaceOutput        = "wl_output"
	IfaceScreencopy    = "zwlr_screencopy_manager_v1"
	IfaceCopyCapture   = "ext_image_copy_capture_manager_v1"
	IfaceOutputSources = "ext_output_image_capture_source_manager_v1"
)

// wl_shm formats the fake can render.
const (
	ARGB8888 = 0
	XRGB8888 = 1
	ABGR8888 = 0x34324241
	XBGR8888 = 0x34324258
)

// Failure reasons of ext_image_copy_capture_frame_v1.failed.
const (
	failUnknown           = 0
	failBufferConstraints = 1
	failStopped           = 2
)

// Output is an output to offer: its name, its place in the layout
// (wl_output.geometry's position) and its size in pixels.
type Output struct {
	Name       string
	X, Y, W, H int
}

// Config chooses what the compositor offers.
type Config struct {
	// Outputs to offer; none means one 64×48 output named FAKE-1.
	Outputs []Output
	// Ext announces ext_image_copy_capture_manager_v1 and
	// ext_output_image_capture_source_manager_v1.
	Ext bool
	// Screencopy announces zwlr_screencopy_manager_v1 version 3 (bind
	// only).
	Screencopy bool
	// Formats are the shm formats sessions offer; none means XRGB8888.
	Formats []uint32
}

// Compositor is a running fake. Its methods may be called from any
// goroutine.
type Compositor struct {
	Socket string // the socket's absolute path

	dir string
	ln  *net.UnixListener
	wg  sync.WaitGroup

	mu       sync.Mutex // guards the fields below, and every client's state and writes
	globals  []global
	outs     []*output // by number, removed ones included
	formats  []uint32  // for new outputs
	clients  map[*client]bool
	binds    map[string]int
	options  []uint32 // of every create_session, in order
	broken   []string // the client's breaches of what the XML says it must do
	captures int      // frames made ready
	closed   bool
}

type global struct {
	name    uint32
	iface   string
	version uint32
	out     *output // for wl_output
}

type output struct {
	Output
	img      *screen.Image // what the output shows, never nil
	formats  []uint32
	sessions []*session
	last     uint32 // format of the buffer of the latest ready frame
}

// Start starts a compositor with cfg and stops it when the test ends.
func Start(t testing.TB, cfg Config) *Compositor {
	t.Helper()
	c, err := start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		for _, b := range c.Breaches() {
			t.Errorf("fakecomp: the client %s", b)
		}
	})
	return c
}

func start(cfg Config) (*Compositor, error) {
	dir, err := os.MkdirTemp("", "fakecomp-")
	if err != nil {
		return nil, err
	}
	c := &Compositor{dir: dir, Socket: filepath.Join(dir, "wayland-0"), clients: map[*client]bool{}, binds: map[string]int{}}
	c.ln, err = net.ListenUnix("unix", &net.UnixAddr{Name: c.Socket, Net: "unix"})
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("fakecomp: %w", err)
	}
	formats := cfg.Formats
	if len(formats) == 0 {
		formats = []uint32{XRGB8888}
	}
	c.formats = formats
	outs := cfg.Outputs
	if len(outs) == 0 {
		outs = []Output{{Name: "FAKE-1", W: 64, H: 48}}
	}
	c.globals = append(c.globals, global{name: 1, iface: IfaceShm, version: 1})
	if cfg.Screencopy {
		c.globals = append(c.globals, global{name: 2, iface: IfaceScreencopy, version: 3})
	}
	if cfg.Ext {
		c.globals = append(c.globals,
			global{name: 3, iface: IfaceCopyCapture, version: 1},
			global{name: 4, iface: IfaceOutputSources, version: 1})
	}
	for i, o := range outs {
		out := &output{Output: o, img: pattern(o.W, o.H, i), formats: slices.Clone(formats)}
		c.outs = append(c.outs, out)
		c.globals = append(c.globals, global{name: uint32(10 + i), iface: IfaceOutput, version: 4, out: out})
	}
	c.wg.Add(1)
	go c.accept()
	return c, nil
}

// pattern is an image whose pixels all differ from their neighbours and
// from those of the other outputs.
func pattern(w, h, n int) *screen.Image {
	img := screen.NewImage(w, h)
	for y := 0; y < h; y++ {
		row := img.Row(y)
		for x := 0; x < w; x++ {
			row[4*x], row[4*x+1], row[4*x+2] = byte(x*7+n), byte(y*5), byte(x^y+n*40)
		}
	}
	return img
}

// Close stops the compositor: it disconnects the clients and waits for
// its goroutines.
func (c *Compositor) Close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.ln.Close()
	for cl := range c.clients {
		cl.uc.Close()
	}
	c.mu.Unlock()
	c.wg.Wait()
	os.RemoveAll(c.dir)
}

// Image returns a copy of what output n shows.
func (c *Compositor) Image(n int) *screen.Image {
	c.mu.Lock()
	defer c.mu.Unlock()
	src := c.outs[n].img
	img := screen.NewImage(src.W, src.H)
	copy(img.Pix, src.Pix)
	return img
}

// Fill paints r of output n in one colour and damages it: a session
// waiting for a change gets its frame.
func (c *Compositor) Fill(n int, r screen.Rect, b, g, red byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	o := c.outs[n]
	r = r.Intersect(o.img.Bounds())
	for y := r.Y; y < r.Y+r.H; y++ {
		row := o.img.Row(y)
		for x := r.X; x < r.X+r.W; x++ {
			row[4*x], row[4*x+1], row[4*x+2] = b, g, red
		}
	}
	o.damageLocked(r)
}

// SetFormats changes the shm formats output n's sessions accept: the
// sessions get the new constraints, the whole output is damaged, and a
// frame waiting with a buffer of another format fails with
// buffer_constraints.
func (c *Compositor) SetFormats(n int, formats ...uint32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	o := c.outs[n]
	o.formats = slices.Clone(formats)
	for _, s := range o.sessions {
		s.sendConstraintsLocked()
	}
	o.damageLocked(o.img.Bounds())
}

// Stop ends every capture session of output n: a frame waiting fails
// with the reason stopped, and the session gets stopped.
func (c *Compositor) Stop(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.outs[n].sessions {
		s.stopLocked()
	}
}

// RemoveOutput takes output n away: its sessions stop (a frame waiting
// fails with the reason stopped), then the clients' registries get
// global_remove.
func (c *Compositor) RemoveOutput(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	o := c.outs[n]
	for _, s := range o.sessions {
		s.stopLocked()
	}
	i := slices.IndexFunc(c.globals, func(g global) bool { return g.out == o })
	if i < 0 {
		return
	}
	name := c.globals[i].name
	c.globals = slices.Delete(c.globals, i, i+1)
	c.announceLocked(func(reg uint32) *message { return event(reg, 1).uint(name) }) // global_remove
}

// AddOutput offers a new output and returns its number.
func (c *Compositor) AddOutput(o Output) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.outs)
	out := &output{Output: o, img: pattern(o.W, o.H, n), formats: slices.Clone(c.formats)}
	c.outs = append(c.outs, out)
	g := global{name: uint32(10 + n), iface: IfaceOutput, version: 4, out: out}
	c.globals = append(c.globals, g)
	c.announceLocked(func(reg uint32) *message { return event(reg, 0).uint(g.name).string(g.iface).uint(g.version) })
	return n
}

// announceLocked sends an event made by ev to every registry.
func (c *Compositor) announceLocked(ev func(registry uint32) *message) {
	for cl := range c.clients {
		for id, o := range cl.objs {
			if o.iface == "wl_registry" {
				cl.sendLocked(ev(id))
			}
		}
	}
}

// Binds returns how many times a client bound the global of iface.
func (c *Compositor) Binds(iface string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.binds[iface]
}

// Breaches returns what the client did that the protocol says it must
// not, though it names no protocol error for it (such as capturing into
// a new buffer without damaging it whole).
func (c *Compositor) Breaches() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.broken)
}

// Captures returns how many frames were made ready, over all sessions.
func (c *Compositor) Captures() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.captures
}

// SessionOptions returns the options of every create_session so far.
func (c *Compositor) SessionOptions() []uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.options)
}

// LastFormat returns the format of the buffer output n's latest frame was
// copied into (0, ARGB8888, before any).
func (c *Compositor) LastFormat(n int) uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.outs[n].last
}

func (c *Compositor) accept() {
	defer c.wg.Done()
	for {
		uc, err := c.ln.AcceptUnix()
		if err != nil {
			return
		}
		cl := &client{c: c, uc: uc, objs: map[uint32]*object{1: {iface: "wl_display"}}}
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			uc.Close()
			return
		}
		c.clients[cl] = true
		c.wg.Add(1)
		c.mu.Unlock()
		go cl.serve()
	}
}

// client is one connection.
type client struct {
	c  *Compositor
	uc *net.UnixConn

	// guarded by c.mu:
	objs  map[uint32]*object
	fds   []int    // received, not yet taken by a request
	pools [][]byte // mappings, unmapped when the client goes
	dead  bool     // a protocol error was sent
}

// object is one of the client's objects; which fields are set depends on
// iface.
type object struct {
	iface string
	out   *output
	pool  []byte // wl_shm_pool: its mapping
	buf   *buffer
	sess  *session
	frame *frame
}

type buffer struct {
	mem                  []byte // the pool's mapping
	offset, w, h, stride int
	format               uint32
	destroyed            bool
	captured             bool // into by a frame before
}

type session struct {
	cl      *client
	id      uint32
	out     *output
	first   bool          // no frame made ready yet
	damage  []screen.Rect // since the previous ready frame
	frame   *frame        // at most one
	stopped bool
}

type frame struct {
	id       uint32
	sess     *session
	buf      *buffer
	damage   []screen.Rect // from damage_buffer
	captured bool
	ended    bool // ready or failed sent
}

func (cl *client) serve() {
	c := cl.c
	defer c.wg.Done()
	defer func() {
		cl.uc.Close()
		c.mu.Lock()
		delete(c.clients, cl)
		for _, o := range cl.objs {
			if o.sess != nil {
				o.sess.detachLocked()
			}
		}
		for _, m := range cl.pools {
			unix.Munmap(m)
		}
		for _, fd := range cl.fds {
			unix.Close(fd)
		}
		cl.pools, cl.fds = nil, nil
		c.mu.Unlock()
	}()
	buf := make([]byte, 0, 1<<16)
	chunk := make([]byte, 1<<16)
	oob := make([]byte, unix.CmsgSpace(28*4))
	for {
		n, oobn, _, _, err := cl.uc.ReadMsgUnix(chunk, oob)
		if oobn > 0 {
			fds := parseFDs(oob[:oobn])
			c.mu.Lock()
			cl.fds = append(cl.fds, fds...)
			c.mu.Unlock()
		}
		if err != nil || n == 0 {
			return
		}
		buf = append(buf, chunk[:n]...)
		for len(buf) >= 8 {
			id := binary.LittleEndian.Uint32(buf)
			word := binary.LittleEndian.Uint32(buf[4:])
			size, op := int(word>>16), uint16(word)
			if size < 8 || size%4 != 0 {
				return
			}
			if len(buf) < size {
				break
			}
			c.mu.Lock()
			cl.requestLocked(id, op, &reader{b: buf[8:size]})
			dead := cl.dead
			c.mu.Unlock()
			if dead {
				return
			}
			buf = buf[size:]
		}
		buf = append(buf[:0:0], buf...)
	}
}

func parseFDs(oob []byte) []int {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil
	}
	var all []int
	for _, m := range msgs {
		if fds, err := unix.ParseUnixRights(&m); err == nil {
			all = append(all, fds...)
		}
	}
	return all
}

// errorLocked sends wl_display.error and ends the connection.
func (cl *client) errorLocked(obj, code uint32, format string, a ...any) {
	cl.sendLocked(event(1, 0).uint(obj).uint(code).string(fmt.Sprintf(format, a...)))
	cl.dead = true
}

// newLocked registers a new object of the client, refusing a used id.
func (cl *client) newLocked(id uint32, o *object) bool {
	if _, ok := cl.objs[id]; ok || id == 0 {
		cl.errorLocked(1, 0, "invalid new id %d", id)
		return false
	}
	cl.objs[id] = o
	return true
}

// deleteLocked forgets an object and tells the client with delete_id.
func (cl *client) deleteLocked(id uint32) {
	delete(cl.objs, id)
	cl.sendLocked(event(1, 1).uint(id))
}

// objectLocked returns the object id, which must be of iface.
func (cl *client) objectLocked(id uint32, iface string) *object {
	o, ok := cl.objs[id]
	if !ok || o.iface != iface {
		cl.errorLocked(1, 0, "object %d is not a %s", id, iface)
		return nil
	}
	return o
}

// requestLocked handles one request.
func (cl *client) requestLocked(id uint32, op uint16, r *reader) {
	o, ok := cl.objs[id]
	if !ok {
		cl.errorLocked(1, 0, "invalid object %d", id)
		return
	}
	c := cl.c
	switch o.iface + "." + fmt.Sprint(op) {
	case "wl_display.0": // sync(callback new_id)
		cb := r.uint()
		cl.sendLocked(event(cb, 0).uint(0)) // wl_callback.done(serial)
		cl.sendLocked(event(1, 1).uint(cb))
	case "wl_display.1": // get_registry(registry new_id)
		reg := r.uint()
		if cl.newLocked(reg, &object{iface: "wl_registry"}) {
			for _, g := range c.globals {
				cl.sendLocked(event(reg, 0).uint(g.name).string(g.iface).uint(g.version))
			}
		}
	case "wl_registry.0": // bind(name uint, id new_id: interface string, version uint, id)
		name, iface, version, nid := r.uint(), r.string(), r.uint(), r.uint()
		i := slices.IndexFunc(c.globals, func(g global) bool { return g.name == name })
		if i < 0 || c.globals[i].iface != iface || version == 0 || version > c.globals[i].version {
			cl.errorLocked(id, 0, "invalid bind of global %d (%s v%d)", name, iface, version)
			return
		}
		g := c.globals[i]
		if !cl.newLocked(nid, &object{iface: iface, out: g.out}) {
			return
		}
		c.binds[iface]++
		switch iface {
		case IfaceShm:
			cl.sendLocked(event(nid, 0).uint(ARGB8888))
			cl.sendLocked(event(nid, 0).uint(XRGB8888))
		case IfaceOutput:
			out := g.out
			// geometry(x, y, physical_width, physical_height, subpixel int, make, model string, transform int)
			cl.sendLocked(event(nid, 0).int(out.X).int(out.Y).int(0).int(0).int(0).string("fakecomp").string("fake").int(0))
			cl.sendLocked(event(nid, 1).uint(3).int(out.W).int(out.H).int(60000)) // mode(current|preferred)
			if version >= 2 {
				cl.sendLocked(event(nid, 3).int(1)) // scale
			}
			if version >= 4 {
				cl.sendLocked(event(nid, 4).string(out.Name)) // name
			}
			if version >= 2 {
				cl.sendLocked(event(nid, 2)) // done
			}
		}
	case "wl_shm.0": // create_pool(id new_id, fd fd, size int)
		nid, size := r.uint(), int(int32(r.uint()))
		if len(cl.fds) == 0 {
			cl.errorLocked(id, 2, "create_pool without a descriptor")
			return
		}
		fd := cl.fds[0]
		cl.fds = cl.fds[1:]
		defer unix.Close(fd)
		if size <= 0 {
			cl.errorLocked(id, 2, "invalid pool size %d", size)
			return
		}
		mem, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err != nil {
			cl.errorLocked(id, 2, "mmap: %v", err)
			return
		}
		cl.pools = append(cl.pools, mem)
		cl.newLocked(nid, &object{iface: "wl_shm_pool", pool: mem})
	case "wl_shm.1": // release
		cl.deleteLocked(id)
	case "wl_shm_pool.0": // create_buffer(id new_id, offset, width, height, stride int, format uint)
		nid := r.uint()
		b := &buffer{mem: o.pool, offset: int(int32(r.uint())), w: int(int32(r.uint())), h: int(int32(r.uint())), stride: int(int32(r.uint())), format: r.uint()}
		if b.offset < 0 || b.w <= 0 || b.h <= 0 || b.stride < 4*b.w || b.offset+b.stride*(b.h-1)+4*b.w > len(o.pool) {
			cl.errorLocked(id, 1, "invalid buffer %dx%d stride %d at %d in a pool of %d", b.w, b.h, b.stride, b.offset, len(o.pool))
			return
		}
		cl.newLocked(nid, &object{iface: "wl_buffer", buf: b})
	case "wl_shm_pool.1", "wl_buffer.0", "wl_output.0", "ext_image_capture_source_v1.0",
		"ext_output_image_capture_source_manager_v1.1", "ext_image_copy_capture_manager_v1.2":
		// destroy (wl_output.release)
		if o.buf != nil {
			o.buf.destroyed = true
		}
		cl.deleteLocked(id)
	case "wl_shm_pool.2": // resize(size int): the mapping stays as it was; buffers stay in it
	case "ext_output_image_capture_source_manager_v1.0": // create_source(source new_id, output object)
		nid := r.uint()
		out := cl.objectLocked(r.uint(), IfaceOutput)
		if out != nil {
			cl.newLocked(nid, &object{iface: "ext_image_capture_source_v1", out: out.out})
		}
	case "ext_image_copy_capture_manager_v1.0": // create_session(session new_id, source object, options uint)
		nid := r.uint()
		src := cl.objectLocked(r.uint(), "ext_image_capture_source_v1")
		opts := r.uint()
		if src == nil {
			return
		}
		if opts&^1 != 0 {
			cl.errorLocked(id, 1, "invalid options %#x", opts)
			return
		}
		c.options = append(c.options, opts)
		s := &session{cl: cl, id: nid, out: src.out, first: true}
		if !cl.newLocked(nid, &object{iface: "ext_image_copy_capture_session_v1", sess: s}) {
			return
		}
		src.out.sessions = append(src.out.sessions, s)
		s.sendConstraintsLocked()
	case "ext_image_copy_capture_manager_v1.1": // create_pointer_cursor_session
		cl.errorLocked(id, 0, "fakecomp: cursor sessions are not implemented")
	case "ext_image_copy_capture_session_v1.0": // create_frame(frame new_id)
		nid := r.uint()
		s := o.sess
		if s.frame != nil {
			cl.errorLocked(id, 1, "create_frame sent before destroying previous frame")
			return
		}
		f := &frame{id: nid, sess: s}
		if cl.newLocked(nid, &object{iface: "ext_image_copy_capture_frame_v1", frame: f}) {
			s.frame = f
		}
	case "ext_image_copy_capture_session_v1.1": // destroy
		o.sess.detachLocked()
		cl.deleteLocked(id)
	case "ext_image_copy_capture_frame_v1.0": // destroy
		if o.frame.sess.frame == o.frame {
			o.frame.sess.frame = nil
		}
		o.frame.ended = true
		cl.deleteLocked(id)
	case "ext_image_copy_capture_frame_v1.1": // attach_buffer(buffer object)
		b := cl.objectLocked(r.uint(), "wl_buffer")
		if b == nil {
			return
		}
		if o.frame.captured {
			cl.errorLocked(id, 3, "attach_buffer after capture")
			return
		}
		o.frame.buf = b.buf
	case "ext_image_copy_capture_frame_v1.2": // damage_buffer(x, y, width, height int)
		d := screen.Rect{X: int(int32(r.uint())), Y: int(int32(r.uint())), W: int(int32(r.uint())), H: int(int32(r.uint()))}
		if d.X < 0 || d.Y < 0 || d.W <= 0 || d.H <= 0 {
			cl.errorLocked(id, 2, "invalid buffer damage %v", d)
			return
		}
		if o.frame.captured {
			cl.errorLocked(id, 3, "damage_buffer after capture")
			return
		}
		o.frame.damage = append(o.frame.damage, d)
	case "ext_image_copy_capture_frame_v1.3": // capture
		f := o.frame
		if f.captured {
			cl.errorLocked(id, 3, "capture sent twice")
			return
		}
		if f.buf == nil {
			cl.errorLocked(id, 1, "capture without attach_buffer")
			return
		}
		f.captured = true
		if b := f.buf; !b.captured {
			// "When a wl_buffer is captured for the first time […] the
			// client must damage the whole buffer."
			b.captured = true
			whole := screen.Rect{W: b.w, H: b.h}
			if !slices.ContainsFunc(f.damage, func(r screen.Rect) bool { return r.Intersect(whole) == whole }) {
				c.broken = append(c.broken, fmt.Sprintf("captured into a new %dx%d buffer with damage %v, not the whole buffer", b.w, b.h, f.damage))
			}
		}
		f.tryLocked()
	default:
		if o.iface == IfaceScreencopy {
			return // bound only
		}
		cl.errorLocked(id, 0, "fakecomp: %s request %d is not implemented", o.iface, op)
	}
	if !cl.dead && r.short {
		cl.errorLocked(id, 0, "short %s request %d", o.iface, op)
	}
}

func (o *output) damageLocked(r screen.Rect) {
	if r.Empty() {
		return
	}
	for _, s := range o.sessions {
		s.damage = append(s.damage, r)
		if s.frame != nil {
			s.frame.tryLocked()
		}
	}
}

// sendConstraintsLocked sends the session's buffer constraints.
func (s *session) sendConstraintsLocked() {
	for _, f := range s.out.formats {
		s.cl.sendLocked(event(s.id, 1).uint(f)) // shm_format
	}
	s.cl.sendLocked(event(s.id, 0).uint(uint32(s.out.W)).uint(uint32(s.out.H))) // buffer_size
	s.cl.sendLocked(event(s.id, 4))                                             // done
}

func (s *session) stopLocked() {
	if s.stopped {
		return
	}
	s.stopped = true
	if s.frame != nil {
		s.frame.tryLocked()
	}
	s.cl.sendLocked(event(s.id, 5)) // stopped
}

// detachLocked takes a destroyed session off its output.
func (s *session) detachLocked() {
	s.out.sessions = slices.DeleteFunc(s.out.sessions, func(x *session) bool { return x == s })
	s.stopped = true
}

// tryLocked completes a captured frame if it can: fails it if the
// session stopped or the buffer does not fit the constraints, copies and
// makes it ready if this is the session's first frame or the output
// changed since the previous one, else leaves it waiting.
func (f *frame) tryLocked() {
	if !f.captured || f.ended {
		return
	}
	s, cl := f.sess, f.sess.cl
	fail := func(reason uint32) {
		f.ended = true
		cl.sendLocked(event(f.id, 4).uint(reason))
	}
	switch b := f.buf; {
	case s.stopped:
		fail(failStopped)
		return
	case b.destroyed || b.w != s.out.W || b.h != s.out.H || !slices.Contains(s.out.formats, b.format):
		fail(failBufferConstraints)
		return
	}
	if !s.first && len(s.damage) == 0 {
		return
	}
	whole := s.out.img.Bounds()
	damage := s.damage
	if s.first {
		damage = []screen.Rect{whole}
	}
	// The buffer gets at least the union of the client's damage and the
	// output's.
	for _, r := range append(slices.Clone(damage), f.damage...) {
		f.buf.render(s.out.img, r.Intersect(whole))
	}
	for _, r := range damage {
		cl.sendLocked(event(f.id, 1).int(r.X).int(r.Y).int(r.W).int(r.H)) // damage
	}
	cl.sendLocked(event(f.id, 0).uint(0))                 // transform: normal
	cl.sendLocked(event(f.id, 2).uint(0).uint(1).uint(0)) // presentation_time
	cl.sendLocked(event(f.id, 3))                         // ready
	f.ended = true
	s.first, s.damage = false, nil
	s.out.last = f.buf.format
	cl.c.captures++
}

// render copies r of img into the buffer, in the buffer's format.
func (b *buffer) render(img *screen.Image, r screen.Rect) {
	swap := b.format == ABGR8888 || b.format == XBGR8888
	for y := r.Y; y < r.Y+r.H; y++ {
		src := img.Row(y)[4*r.X : 4*(r.X+r.W)]
		dst := b.mem[b.offset+y*b.stride+4*r.X:]
		for i := 0; i < len(src); i += 4 {
			bl, g, red := src[i], src[i+1], src[i+2]
			if swap {
				bl, red = red, bl
			}
			dst[i], dst[i+1], dst[i+2], dst[i+3] = bl, g, red, 0xff
		}
	}
}

// sendLocked writes one event; a failed write ends the connection.
func (cl *client) sendLocked(e *message) {
	if cl.dead {
		return
	}
	binary.LittleEndian.PutUint32(e.b[4:], uint32(len(e.b))<<16|binary.LittleEndian.Uint32(e.b[4:]))
	if _, err := cl.uc.Write(e.b); err != nil {
		cl.dead = true
		cl.uc.Close()
	}
}

// message is an event being built.
type message struct{ b []byte }

func event(id uint32, op uint16) *message {
	m := &message{b: make([]byte, 8, 64)}
	binary.LittleEndian.PutUint32(m.b, id)
	binary.LittleEndian.PutUint32(m.b[4:], uint32(op))
	return m
}

func (m *message) uint(v uint32) *message {
	m.b = binary.LittleEndian.AppendUint32(m.b, v)
	return m
}

func (m *message) int(v int) *message { return m.uint(uint32(int32(v))) }

func (m *message) string(s string) *message {
	m.uint(uint32(len(s) + 1))
	m.b = append(m.b, s...)
	m.b = append(m.b, 0)
	for len(m.b)%4 != 0 {
		m.b = append(m.b, 0)
	}
	return m
}

// reader decodes a request's arguments; short marks a request that ended
// early.
type reader struct {
	b     []byte
	short bool
}

func (r *reader) uint() uint32 {
	if len(r.b) < 4 {
		r.short = true
		return 0
	}
	v := binary.LittleEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

func (r *reader) string() string {
	n := int(r.uint())
	padded := (n + 3) &^ 3
	if n == 0 || padded > len(r.b) {
		r.short = true
		return ""
	}
	s := string(r.b[:n-1])
	r.b = r.b[padded:]
	return s
}
