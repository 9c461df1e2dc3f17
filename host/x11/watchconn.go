package x11

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
)

// The key watcher's connection. xgb v1.1.1 reads every event as 32 bytes,
// so an XInput 2 event, a GenericEvent of 32 bytes plus 4×length more,
// would leave it reading the middle of that event as the next packet. The
// watcher therefore gives xgb (xgb.NewConnNet) a net.Conn, filterConn,
// that takes every event out of the byte stream before xgb reads it and
// hands it to an eventQueue; xgb sees only the setup reply, replies and
// errors. Since xgb then never decodes an event on this connection, it
// never reads xgb's package-wide event tables (the error table only for
// an error to one of the watcher's own requests, none of which is
// expected after WatchKeys), and the extension-init discipline of ext.go
// does not concern the watcher: it may be opened before or after a
// Source.
//
// NewConnNet does not know the display, so xgb would look up the wrong
// Xauthority entry (one for display "") and log through xgb.Logger that
// it found none. The watcher looks up the right one itself and
// filterConn sends its own setup request in place of xgb's first write.

// dialDisplay connects to the X server of display as xgb.NewConnDisplay
// does: ":N[.S]" and "unix:N" on the Unix socket /tmp/.X11-unix/XN,
// "/path/to/socket:N" on that socket, "host:N" and "tcp/host:N" on TCP port
// 6000+N. It returns the connection and the host and display number to
// look up in the Xauthority file.
func dialDisplay(display string) (conn net.Conn, host, number string, err error) {
	colon := strings.LastIndex(display, ":")
	if colon < 0 {
		return nil, "", "", fmt.Errorf("bad display string %q", display)
	}
	number = display[colon+1:]
	if dot := strings.LastIndex(number, "."); dot >= 0 {
		number = number[:dot]
	}
	if n, err := strconv.Atoi(number); err != nil || n < 0 {
		return nil, "", "", fmt.Errorf("bad display string %q", display)
	}
	var network, addr string
	switch {
	case strings.HasPrefix(display, "/"):
		network, addr = "unix", display[:colon]+":"+number
	default:
		protocol, h := "", display[:colon]
		if slash := strings.LastIndex(h, "/"); slash >= 0 {
			protocol, h = h[:slash], h[slash+1:]
		}
		if h == "" || h == "unix" {
			network, addr = "unix", "/tmp/.X11-unix/X"+number
		} else {
			if protocol == "" {
				protocol = "tcp"
			}
			n, _ := strconv.Atoi(number)
			network, addr, host = protocol, net.JoinHostPort(h, strconv.Itoa(6000+n)), h
		}
	}
	conn, err = net.Dial(network, addr)
	if err != nil {
		return nil, "", "", err
	}
	return conn, host, number, nil
}

// xauthority returns the MIT-MAGIC-COOKIE-1 for the display number on
// host ("" for this machine) from the file named by $XAUTHORITY, else
// $HOME/.Xauthority — as xgb looks it up for NewConnDisplay: an entry of
// family Local whose address is the host name, or of family Wild, for
// that display number or for any. No entry (or no file) gives empty
// strings and the connection goes without authorisation, as with xgb.
//
// The file is a sequence of records (Xauth.h, libXau's XauReadAuth), all
// numbers big-endian:
//
//	CARD16  family: 256 Local, 65535 Wild, others network addresses
//	CARD16  length, then the address
//	CARD16  length, then the display number as decimal text
//	CARD16  length, then the authorisation name
//	CARD16  length, then the authorisation data
func xauthority(host, number string) (name string, data []byte) {
	path := os.Getenv("XAUTHORITY")
	if path == "" {
		home := os.Getenv("HOME")
		if home == "" {
			return "", nil
		}
		path = home + "/.Xauthority"
	}
	f, err := os.Open(path)
	if err != nil {
		return "", nil
	}
	defer f.Close()
	if host == "" || host == "localhost" {
		if host, err = os.Hostname(); err != nil {
			return "", nil
		}
	}
	return findXauthority(bufio.NewReader(f), host, number)
}

// findXauthority reads Xauthority records from r (see xauthority) and
// returns the first MIT-MAGIC-COOKIE-1 for host and number.
func findXauthority(r io.Reader, host, number string) (name string, data []byte) {
	const familyLocal, familyWild = 256, 65535
	field := func() ([]byte, error) {
		var n uint16
		if err := binary.Read(r, binary.BigEndian, &n); err != nil {
			return nil, err
		}
		b := make([]byte, n)
		_, err := io.ReadFull(r, b)
		return b, err
	}
	for {
		var family uint16
		if err := binary.Read(r, binary.BigEndian, &family); err != nil {
			return "", nil
		}
		var fields [4][]byte
		for i := range fields {
			b, err := field()
			if err != nil {
				return "", nil
			}
			fields[i] = b
		}
		addr, disp, authName, authData := string(fields[0]), string(fields[1]), string(fields[2]), fields[3]
		hostOK := family == familyWild || (family == familyLocal && addr == host)
		if hostOK && (disp == "" || disp == number) && authName == "MIT-MAGIC-COOKIE-1" && len(authData) == 16 {
			return authName, authData
		}
	}
}

// filterConn is the watcher's connection as xgb sees it: it sends setup in
// place of xgb's setup request, passes the setup reply, replies and errors
// through, and gives every event to queue instead.
type filterConn struct {
	net.Conn
	setup []byte
	queue *eventQueue

	// Written by xgb's one writer at a time: xgb.NewConnNet's caller during
	// the handshake, then the sendRequests goroutine it starts after.
	wrote bool

	// Used only by xgb's reader: the handshake, then readResponses.
	r         *bufio.Reader
	setupDone bool
	pending   []byte // bytes of the current setup reply, reply or error not yet read
}

func newFilterConn(c net.Conn, setup []byte, q *eventQueue) *filterConn {
	return &filterConn{Conn: c, setup: setup, queue: q, r: bufio.NewReader(c)}
}

// Write sends p, except that xgb's connection setup request (the first
// write) is replaced by ours.
func (c *filterConn) Write(p []byte) (int, error) {
	if !c.wrote {
		c.wrote = true
		if _, err := c.Conn.Write(c.setup); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// Read gives xgb the next bytes of the stream with the events taken out.
// A failed read also ends the queue.
func (c *filterConn) Read(p []byte) (int, error) {
	for len(c.pending) == 0 {
		b, err := c.next()
		if err != nil {
			c.queue.end(err)
			return 0, err
		}
		c.pending = b
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

// next returns the next whole packet xgb is to read. The X server sends
// (X11 protocol, "Connection Setup" and "Encoding"):
//
//   - first the setup reply: CARD8 status (0 Failed, 1 Success,
//     2 Authenticate), then 5 bytes, then at byte 6 a CARD16 length of the
//     additional data in 4-byte units after the first 8 bytes;
//   - then packets of 32 bytes, told apart by byte 0: 0 an error, 1 a
//     reply, which carries at byte 4 a CARD32 length of extra data in
//     4-byte units after the 32, any other value an event; bit 0x80 of it
//     marks an event sent by SendEvent. A GenericEvent (35) carries at
//     byte 4 a CARD32 length of extra data like a reply (XGE; XI2proto.txt
//     "Events": "GenericEvents are of flexible length with a minimum
//     length of 32 bytes"). All other events are 32 bytes.
func (c *filterConn) next() ([]byte, error) {
	if !c.setupDone {
		head := make([]byte, 8)
		if _, err := io.ReadFull(c.r, head); err != nil {
			return nil, err
		}
		b := make([]byte, 8+4*int(le.Uint16(head[6:])))
		copy(b, head)
		if _, err := io.ReadFull(c.r, b[8:]); err != nil {
			return nil, err
		}
		c.setupDone = true
		return b, nil
	}
	for {
		b := make([]byte, 32)
		if _, err := io.ReadFull(c.r, b); err != nil {
			return nil, err
		}
		kind := b[0] & 0x7f
		if b[0] == 0 || b[0] == 1 || kind == genericEvent {
			if n := le.Uint32(b[4:]); b[0] != 0 && n > 0 {
				if n > maxResponseUnits {
					return nil, fmt.Errorf("x11: a response of %d bytes from the X server", 32+4*uint64(n))
				}
				// Grown as the bytes come, not allocated at the length's word.
				buf := bytes.NewBuffer(b)
				if _, err := io.CopyN(buf, c.r, 4*int64(n)); err != nil {
					return nil, err
				}
				b = buf.Bytes()
			}
		}
		if b[0] == 0 || b[0] == 1 {
			return b, nil
		}
		c.queue.push(b)
	}
}

// eventQueue carries events from xgb's reading goroutine (filterConn) to
// the watcher's. It never blocks the reader: the watcher may be waiting
// for a reply that the reader has yet to pass on.
type eventQueue struct {
	wake chan struct{} // cap 1: events or the end arrived

	mu     sync.Mutex
	events [][]byte // guarded by mu
	err    error    // guarded by mu; set once the stream ended
}

func newEventQueue() *eventQueue {
	return &eventQueue{wake: make(chan struct{}, 1)}
}

func (q *eventQueue) push(ev []byte) {
	q.mu.Lock()
	q.events = append(q.events, ev)
	q.mu.Unlock()
	signal(q.wake)
}

// end records that the stream ended with err (the first err counts).
func (q *eventQueue) end(err error) {
	if err == nil {
		err = io.EOF
	}
	q.mu.Lock()
	if q.err == nil {
		q.err = err
	}
	q.mu.Unlock()
	signal(q.wake)
}

// take returns the queued events and, once the stream ended, the error
// it ended with: the events came before the end.
func (q *eventQueue) take() ([][]byte, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	evs := q.events
	q.events = nil
	return evs, q.err
}
