package main

// A Wayland client with just what a background needs: the registry,
// wl_compositor, wl_shm and zwlr_layer_shell_v1, over the compositor's
// Unix socket. It is synchronous: requests are written as they are made,
// and events are read only while waiting for a wl_display.sync callback
// (roundtrip), one goroutine in all.
//
// The wire format: a message is two little-endian 32-bit words — the
// object id, then the size in bytes (header included) in the upper 16 bits
// and the opcode in the lower 16 — and its arguments, each a multiple of 4
// bytes: int, uint, object and new_id are one word; a string is its length
// including the NUL, then the bytes and the NUL, padded to 4. A file
// descriptor travels beside the bytes as SCM_RIGHTS. wl_registry.bind's
// new_id is preceded by the interface name and version.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// errClosed is returned when the compositor closed the connection or the
// layer surface.
var errClosed = errors.New("wlbackdrop: the compositor closed the connection or the surface")

type handler func(op uint16, a *args) error

type client struct {
	uc       *net.UnixConn
	next     uint32
	handlers map[uint32]handler
	in       []byte // bytes read, not yet dispatched
}

func dial(path string) (*client, error) {
	uc, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("wlbackdrop: %w", err)
	}
	c := &client{uc: uc, next: 2, handlers: map[uint32]handler{}}
	c.handlers[1] = c.displayEvent
	return c, nil
}

func (c *client) close() error { return c.uc.Close() }

// newID allocates an object id with h for its events (nil: ignored). Ids
// are never reused: a background makes a few dozen objects in its life.
func (c *client) newID(h handler) uint32 {
	id := c.next
	c.next++
	if h == nil {
		h = func(uint16, *args) error { return nil }
	}
	c.handlers[id] = h
	return id
}

func (c *client) displayEvent(op uint16, a *args) error {
	switch op {
	case 0: // error(object_id object, code uint, message string)
		obj, code, msg := a.uint(), a.uint(), a.string()
		return fmt.Errorf("wlbackdrop: protocol error on object %d, code %d: %s", obj, code, msg)
	case 1: // delete_id(id uint)
		delete(c.handlers, a.uint())
	}
	return nil
}

// request builds one message.
type request struct {
	b   []byte
	fds []int
}

func msg(id uint32, op uint16) *request {
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

func (r *request) string(s string) *request {
	r.uint(uint32(len(s) + 1))
	r.b = append(r.b, s...)
	r.b = append(r.b, 0)
	for len(r.b)%4 != 0 {
		r.b = append(r.b, 0)
	}
	return r
}

func (r *request) fd(fd int) *request {
	r.fds = append(r.fds, fd)
	return r
}

// send writes the requests in one message to the socket.
func (c *client) send(reqs ...*request) error {
	var b []byte
	var fds []int
	for _, r := range reqs {
		binary.LittleEndian.PutUint32(r.b[4:], uint32(len(r.b))<<16|binary.LittleEndian.Uint32(r.b[4:])&0xffff)
		b = append(b, r.b...)
		fds = append(fds, r.fds...)
	}
	var oob []byte
	if len(fds) > 0 {
		oob = syscall.UnixRights(fds...)
	}
	n, _, err := c.uc.WriteMsgUnix(b, oob, nil)
	if err == nil && n < len(b) {
		_, err = c.uc.Write(b[n:])
	}
	if err != nil {
		return fmt.Errorf("wlbackdrop: %w", err)
	}
	return nil
}

// args reads a message's arguments.
type args struct{ b []byte }

func (a *args) uint() uint32 {
	if len(a.b) < 4 {
		return 0
	}
	v := binary.LittleEndian.Uint32(a.b)
	a.b = a.b[4:]
	return v
}

func (a *args) int() int32 { return int32(a.uint()) }

func (a *args) string() string {
	n := int(a.uint())
	if n == 0 || n > len(a.b) {
		return ""
	}
	s := string(a.b[:n-1])
	a.b = a.b[(n+3)&^3:]
	return s
}

// dispatch reads from the socket once and calls the handlers of every
// complete message read so far.
func (c *client) dispatch() error {
	buf := make([]byte, 4096)
	oob := make([]byte, syscall.CmsgSpace(28*4))
	n, oobn, _, _, err := c.uc.ReadMsgUnix(buf, oob)
	if oobn > 0 { // no event of ours carries a descriptor: close any
		if msgs, err := syscall.ParseSocketControlMessage(oob[:oobn]); err == nil {
			for _, m := range msgs {
				fds, _ := syscall.ParseUnixRights(&m)
				for _, fd := range fds {
					syscall.Close(fd)
				}
			}
		}
	}
	if n == 0 && err == nil {
		err = errClosed
	}
	if err != nil {
		return fmt.Errorf("wlbackdrop: reading from the compositor: %w", err)
	}
	c.in = append(c.in, buf[:n]...)
	for len(c.in) >= 8 {
		id := binary.LittleEndian.Uint32(c.in)
		w := binary.LittleEndian.Uint32(c.in[4:])
		size, op := int(w>>16), uint16(w)
		if size < 8 {
			return fmt.Errorf("wlbackdrop: bad message size %d", size)
		}
		if len(c.in) < size {
			break
		}
		body := c.in[8:size:size]
		c.in = c.in[size:]
		if h := c.handlers[id]; h != nil {
			if err := h(op, &args{body}); err != nil {
				return err
			}
		}
	}
	if len(c.in) == 0 {
		c.in = nil
	}
	return nil
}

// roundtrip sends wl_display.sync and handles events until its callback:
// then the compositor has handled every request sent before.
func (c *client) roundtrip() error {
	done := false
	cb := c.newID(func(op uint16, _ *args) error {
		done = true
		return nil
	})
	if err := c.send(msg(1, 0).uint(cb)); err != nil { // wl_display.sync(callback new_id)
		return err
	}
	for !done {
		if err := c.dispatch(); err != nil {
			return err
		}
	}
	return nil
}

// shmFile returns an anonymous file holding data, for wl_shm.
func shmFile(data []byte) (*os.File, error) {
	fd, err := unix.MemfdCreate("wlbackdrop", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("wlbackdrop: memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "wlbackdrop")
	if _, err := f.WriteAt(data, 0); err != nil {
		f.Close()
		return nil, fmt.Errorf("wlbackdrop: memfd: %w", err)
	}
	return f, nil
}
