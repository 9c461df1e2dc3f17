package wlroots

// The Wayland wire protocol, as much of it as the source and the injector
// need: a client over the compositor's Unix socket.
//
// A message is a header of two native-endian (little-endian here) 32-bit
// words — the object id, then the message's size in bytes (header
// included) in the upper 16 bits and its opcode in the lower 16 — and its
// arguments, each a multiple of 4 bytes: int, uint, object and new_id are
// one word; fixed is a word of 24.8 fixed point; a string is its length
// including the NUL, then the bytes and the NUL, padded to 4; an array is
// its length, then the bytes, padded. A file descriptor travels beside
// the bytes as SCM_RIGHTS ancillary data, in the order of the fd
// arguments. A new_id of a global's bind (wl_registry.bind, whose type is
// not fixed) is preceded by the interface name and the version.
//
// Object ids from 1 to 0xfeffffff are the client's. The server keeps them
// in an array and refuses a new id beyond its end, so ids are allocated
// like libwayland does: a freed one first (after the server confirmed
// with wl_display.delete_id that it forgot it), else the next.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// errLost is returned (wrapped) when the connection to the compositor
// broke.
var errLost = errors.New("wlroots: lost the connection to the compositor")

// handler receives the events of one object, on the reader goroutine. It
// must not block.
type handler func(op uint16, a *args)

// conn is a connection to a Wayland compositor. Requests may be sent from
// any goroutine; events are read by one goroutine of the conn, which calls
// each object's handler.
type conn struct {
	uc *net.UnixConn

	wmu sync.Mutex // serialises writes

	mu       sync.Mutex // guards the fields below
	handlers map[uint32]handler
	free     []uint32 // ids the server has forgotten, reusable
	next     uint32   // the lowest id never used
	err      error    // why the reader ended; set before lost is closed

	lost chan struct{} // closed when the reader ends
	wg   sync.WaitGroup
}

// dialWayland connects to the compositor's socket. display is
// $WAYLAND_DISPLAY's value: a name in runtimeDir ("wayland-1") or an
// absolute path.
func dialWayland(runtimeDir, display string) (*conn, error) {
	if display == "" {
		return nil, errors.New("wlroots: no Wayland display given")
	}
	path := display
	if path[0] != '/' {
		if runtimeDir == "" {
			return nil, errors.New("wlroots: no runtime directory given for display " + display)
		}
		path = runtimeDir + "/" + display
	}
	uc, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("wlroots: cannot connect to the compositor: %w", err)
	}
	c := &conn{
		uc:       uc,
		handlers: map[uint32]handler{},
		next:     2, // 1 is wl_display
		lost:     make(chan struct{}),
	}
	c.handlers[1] = c.displayEvent
	c.wg.Add(1)
	go c.read()
	return c, nil
}

// close closes the socket and waits for the reader to end.
func (c *conn) close() {
	c.uc.Close()
	c.wg.Wait()
}

// failure returns why the connection is gone, wrapping errLost.
func (c *conn) failure() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		return errLost
	}
	return c.err
}

// newID allocates an object id and registers h for its events (h may be
// nil: events are dropped).
func (c *conn) newID(h handler) uint32 {
	return c.newObject(func(uint32) handler { return h })
}

// newObject is newID for a handler that needs its object's id: mk makes
// it, given the id.
func (c *conn) newObject(mk func(id uint32) handler) uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var id uint32
	if n := len(c.free); n > 0 {
		id, c.free = c.free[n-1], c.free[:n-1]
	} else {
		id = c.next
		c.next++
	}
	h := mk(id)
	if h == nil {
		h = func(uint16, *args) {}
	}
	c.handlers[id] = h
	return id
}

// displayEvent handles wl_display's events: error and delete_id.
func (c *conn) displayEvent(op uint16, a *args) {
	switch op {
	case 0: // error(object_id object, code uint, message string)
		obj, code, msg := a.uint(), a.uint(), a.string()
		c.mu.Lock()
		c.err = fmt.Errorf("wlroots: the compositor reported a protocol error on object %d, code %d: %s: %w", obj, code, msg, errLost)
		c.mu.Unlock()
		c.uc.Close()
	case 1: // delete_id(id uint)
		id := a.uint()
		c.mu.Lock()
		if _, ok := c.handlers[id]; ok {
			delete(c.handlers, id)
			c.free = append(c.free, id)
		}
		c.mu.Unlock()
	}
}

// read is the reader goroutine: it reads events until the socket fails or
// is closed, and calls the handlers.
func (c *conn) read() {
	defer c.wg.Done()
	defer close(c.lost)
	buf := make([]byte, 0, 1<<16)
	chunk := make([]byte, 1<<16)
	oob := make([]byte, unix.CmsgSpace(28*4))
	for {
		n, oobn, _, _, err := c.uc.ReadMsgUnix(chunk, oob)
		if oobn > 0 {
			closeFDs(oob[:oobn]) // no event we handle carries a descriptor
		}
		if err != nil || n == 0 {
			c.mu.Lock()
			if c.err == nil {
				if err == nil {
					err = errors.New("end of stream")
				}
				c.err = fmt.Errorf("%w: %v", errLost, err)
			}
			c.mu.Unlock()
			return
		}
		buf = append(buf, chunk[:n]...)
		for len(buf) >= 8 {
			id := binary.LittleEndian.Uint32(buf)
			word := binary.LittleEndian.Uint32(buf[4:])
			size, op := int(word>>16), uint16(word)
			if size < 8 || size%4 != 0 {
				c.mu.Lock()
				c.err = fmt.Errorf("%w: malformed message of %d bytes", errLost, size)
				c.mu.Unlock()
				c.uc.Close()
				return
			}
			if len(buf) < size {
				break
			}
			c.mu.Lock()
			h := c.handlers[id]
			c.mu.Unlock()
			if h != nil {
				h(op, &args{b: buf[8:size]})
			}
			buf = buf[size:]
		}
		buf = append(buf[:0:0], buf...) // keep the remainder, not the whole history
	}
}

// closeFDs closes the descriptors of SCM_RIGHTS messages in oob.
func closeFDs(oob []byte) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return
	}
	for _, m := range msgs {
		fds, err := unix.ParseUnixRights(&m)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			unix.Close(fd)
		}
	}
}

// args decodes an event's arguments. A short message reads as zeros.
type args struct{ b []byte }

func (a *args) uint() uint32 {
	if len(a.b) < 4 {
		a.b = nil
		return 0
	}
	v := binary.LittleEndian.Uint32(a.b)
	a.b = a.b[4:]
	return v
}

func (a *args) int() int32 { return int32(a.uint()) }

func (a *args) string() string {
	n := int(a.uint())
	padded := (n + 3) &^ 3
	if n == 0 || padded > len(a.b) {
		a.b = nil
		return ""
	}
	s := string(a.b[:n-1])
	a.b = a.b[padded:]
	return s
}

// request builds one request.
type request struct {
	b   []byte
	fds []int
}

func newRequest(id uint32, op uint16) *request {
	r := &request{b: make([]byte, 8, 64)}
	binary.LittleEndian.PutUint32(r.b, id)
	binary.LittleEndian.PutUint32(r.b[4:], uint32(op))
	return r
}

func (r *request) uint(v uint32) *request {
	r.b = binary.LittleEndian.AppendUint32(r.b, v)
	return r
}

func (r *request) int(v int32) *request { return r.uint(uint32(v)) }

// fixed appends v as 24.8 fixed point.
func (r *request) fixed(v float64) *request {
	return r.int(int32(math.Round(v * 256)))
}

func (r *request) string(s string) *request {
	r.uint(uint32(len(s) + 1))
	r.b = append(r.b, s...)
	r.b = append(r.b, 0)
	for len(r.b)%4 != 0 {
		r.b = append(r.b, 0)
	}
	return r
}

// fd attaches a file descriptor (sent with the request; the caller keeps
// its own and closes it).
func (r *request) fd(fd int) *request {
	r.fds = append(r.fds, fd)
	return r
}

// send writes requests in one go, with their descriptors.
func (c *conn) send(reqs ...*request) error {
	var b []byte
	var fds []int
	for _, r := range reqs {
		binary.LittleEndian.PutUint32(r.b[4:], uint32(len(r.b))<<16|binary.LittleEndian.Uint32(r.b[4:])&0xffff)
		b = append(b, r.b...)
		fds = append(fds, r.fds...)
	}
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	select {
	case <-c.lost:
		return c.failure()
	default:
	}
	n, _, err := c.uc.WriteMsgUnix(b, oob, nil)
	if err == nil && n < len(b) {
		_, err = c.uc.Write(b[n:])
	}
	if err != nil {
		return fmt.Errorf("%w: %v", errLost, err)
	}
	return nil
}

// roundtrip sends wl_display.sync and waits for its callback: when it
// returns, the compositor has handled every request sent before and the
// reader has handled every event it sent before the callback.
func (c *conn) roundtrip(ctx context.Context) error {
	done := make(chan struct{})
	cb := c.newID(func(op uint16, a *args) {
		if op == 0 {
			close(done)
		}
	})
	if err := c.send(newRequest(1, 0).uint(cb)); err != nil {
		return err
	}
	select {
	case <-done:
		return nil
	case <-c.lost:
		return c.failure()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// memfd returns an anonymous file of size bytes, mapped shared into
// memory. The caller unmaps the memory and closes the file.
func memfd(name string, size int) (*os.File, []byte, error) {
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, nil, fmt.Errorf("wlroots: memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), name)
	if err := f.Truncate(int64(size)); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("wlroots: memfd: %w", err)
	}
	mem, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("wlroots: mmap: %w", err)
	}
	return f, mem, nil
}
