package wlroots

// sway's IPC (sway-ipc(7), i3's protocol): the window list and the ESC
// binding, which no wlroots Wayland protocol offers.
//
// Decisions:
//
//   - Its own client, standard library only: the pure-Go sway IPC
//     libraries are unmaintained or not served by the module proxy, and
//     the protocol is small. A message is "i3-ipc", the payload's length
//     and the message type (both uint32, native byte order, little endian
//     on every machine sway runs on), then the JSON payload. Events are
//     messages whose type has the high bit set.
//   - One reader goroutine per connection. Replies come in the order the
//     requests were written; events are handed to the connection's owner
//     in the reader, before any reply that follows them on the socket. So
//     a request written on a subscribed connection returns only after
//     every event sway sent before handling it was handled: the round
//     trip that host/x11's Sync makes with a marker event.
//   - The socket is the caller's (cmd/gethelp reads $SWAYSOCK); a message
//     longer than maxIPCMessage ends the connection.

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
)

// Message and event types of sway's IPC.
const (
	ipcRunCommand = 0
	ipcSubscribe  = 2
	ipcGetTree    = 4

	ipcEvent          = 1 << 31
	ipcEventWorkspace = ipcEvent | 0
	ipcEventWindow    = ipcEvent | 3
	ipcEventBinding   = ipcEvent | 5
	ipcEventShutdown  = ipcEvent | 6
)

const ipcMagic = "i3-ipc"

// maxIPCMessage bounds a message's payload: a tree of a few hundred
// windows is a few hundred kilobytes.
const maxIPCMessage = 32 << 20

var errIPCClosed = fmt.Errorf("wlroots: sway IPC closed: %w", net.ErrClosed)

// errSwayCommand is wrapped by the errors of commands sway refused.
var errSwayCommand = errors.New("wlroots: sway refused a command")

// writeIPC writes one message.
func writeIPC(w io.Writer, typ uint32, payload []byte) error {
	b := make([]byte, 14, 14+len(payload))
	copy(b, ipcMagic)
	binary.LittleEndian.PutUint32(b[6:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(b[10:], typ)
	_, err := w.Write(append(b, payload...))
	return err
}

// readIPC reads one message. Its errors are one line: io.EOF at a clean
// end, else "wlroots: sway IPC: …".
func readIPC(r io.Reader) (typ uint32, payload []byte, err error) {
	var h [14]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		if err == io.EOF {
			return 0, nil, io.EOF
		}
		return 0, nil, fmt.Errorf("wlroots: sway IPC: reading a header: %w", err)
	}
	if string(h[:6]) != ipcMagic {
		return 0, nil, fmt.Errorf("wlroots: sway IPC: bad magic %q", h[:6])
	}
	n := binary.LittleEndian.Uint32(h[6:])
	typ = binary.LittleEndian.Uint32(h[10:])
	if n > maxIPCMessage {
		return 0, nil, fmt.Errorf("wlroots: sway IPC: a message of %d bytes (more than %d)", n, maxIPCMessage)
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, fmt.Errorf("wlroots: sway IPC: reading a message of %d bytes: %w", n, err)
	}
	return typ, payload, nil
}

// ipcConn is a connection to sway's IPC with its reader goroutine.
type ipcConn struct {
	c       net.Conn
	onEvent func(typ uint32, payload []byte) // called by the reader, in order
	onEnd   func(err error)                  // called by the reader once, last
	done    chan struct{}                    // closed when the reader ends

	wmu sync.Mutex // serialises writes, so waiting has their order

	mu      sync.Mutex
	waiting []chan ipcReply // guarded by mu: one per request written, in order
	err     error           // guarded by mu: why the connection ended
}

type ipcReply struct {
	payload []byte
	err     error
}

// dialIPC connects to sway's IPC socket at path. onEvent and onEnd may be
// nil.
func dialIPC(ctx context.Context, path string, onEvent func(uint32, []byte), onEnd func(error)) (*ipcConn, error) {
	if path == "" {
		return nil, errors.New("wlroots: no sway IPC socket given")
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("wlroots: sway IPC: %w", err)
	}
	if onEvent == nil {
		onEvent = func(uint32, []byte) {}
	}
	if onEnd == nil {
		onEnd = func(error) {}
	}
	ic := &ipcConn{c: c, onEvent: onEvent, onEnd: onEnd, done: make(chan struct{})}
	go ic.read()
	return ic, nil
}

func (ic *ipcConn) read() {
	defer close(ic.done)
	r := bufio.NewReaderSize(ic.c, 64<<10)
	var err error
	for {
		var typ uint32
		var p []byte
		typ, p, err = readIPC(r)
		if err != nil {
			break
		}
		if typ&ipcEvent != 0 {
			ic.onEvent(typ, p)
			continue
		}
		ic.mu.Lock()
		if len(ic.waiting) == 0 {
			ic.mu.Unlock()
			err = fmt.Errorf("wlroots: sway IPC: a reply (type %d) to no request", typ)
			break
		}
		ch := ic.waiting[0]
		ic.waiting = ic.waiting[1:]
		ic.mu.Unlock()
		ch <- ipcReply{payload: p}
	}
	if err == io.EOF {
		err = fmt.Errorf("wlroots: sway IPC: sway closed the connection: %w", net.ErrClosed)
	}
	ic.mu.Lock()
	if ic.err == nil {
		ic.err = err
	}
	err = ic.err
	waiting := ic.waiting
	ic.waiting = nil
	ic.mu.Unlock()
	for _, ch := range waiting {
		ch <- ipcReply{err: err}
	}
	ic.c.Close()
	ic.onEnd(err)
}

// request sends a message and returns its reply's payload.
func (ic *ipcConn) request(ctx context.Context, typ uint32, payload []byte) ([]byte, error) {
	ch := make(chan ipcReply, 1)
	ic.wmu.Lock()
	ic.mu.Lock()
	if err := ic.err; err != nil {
		ic.mu.Unlock()
		ic.wmu.Unlock()
		return nil, err
	}
	ic.waiting = append(ic.waiting, ch)
	ic.mu.Unlock()
	err := writeIPC(ic.c, typ, payload)
	ic.wmu.Unlock()
	if err != nil {
		ic.c.Close() // the reader ends and answers ch
	}
	select {
	case r := <-ch:
		return r.payload, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// subscribe subscribes to events by name ("window", "binding").
func (ic *ipcConn) subscribe(ctx context.Context, events ...string) error {
	b, _ := json.Marshal(events)
	p, err := ic.request(ctx, ipcSubscribe, b)
	if err != nil {
		return err
	}
	var r struct{ Success bool }
	if err := json.Unmarshal(p, &r); err != nil || !r.Success {
		return fmt.Errorf("wlroots: sway IPC: subscribing to %s refused: %.200s", strings.Join(events, ", "), p)
	}
	return nil
}

// command runs sway commands and returns the first error sway reports.
func (ic *ipcConn) command(ctx context.Context, cmd string) error {
	p, err := ic.request(ctx, ipcRunCommand, []byte(cmd))
	if err != nil {
		return err
	}
	return parseCommandReply(p)
}

// parseCommandReply turns RUN_COMMAND's reply into an error for the first
// command that failed.
func parseCommandReply(p []byte) error {
	var rs []struct {
		Success bool   `json:"success"`
		Error   string `json:"error"`
	}
	if err := json.Unmarshal(p, &rs); err != nil {
		return fmt.Errorf("wlroots: sway IPC: a command's reply: %v", err)
	}
	for _, r := range rs {
		if !r.Success {
			return fmt.Errorf("%w: %s", errSwayCommand, oneLine(r.Error))
		}
	}
	return nil
}

// oneLine keeps an error text from sway to one short line.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// close closes the connection and waits for the reader.
func (ic *ipcConn) close() {
	ic.mu.Lock()
	if ic.err == nil {
		ic.err = errIPCClosed
	}
	ic.mu.Unlock()
	ic.c.Close()
	<-ic.done
}
