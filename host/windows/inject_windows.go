//go:build windows

package windows

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/gethelp/gethelp/host"
)

var _ host.Injector = (*Injector)(nil)

// ErrBlocked is returned (wrapped) by Inject when Windows took fewer
// events than were sent: the input desktop is not the person's (the
// secure desktop), or a window of a higher integrity level than the host
// (an elevated program) has the focus and UIPI refuses input from the
// host.
var ErrBlocked = errors.New("windows: input blocked (secure desktop, or an elevated window has the focus)")

// errInjectorClosed is returned by Inject and ReleaseAll after Close.
var errInjectorClosed = fmt.Errorf("windows: injector closed: %w", net.ErrClosed)

// sendChunk is how many events one SendInput call takes at most: ctx is
// checked between calls, so a long text can be stopped.
const sendChunk = 128

// InjectorOptions tune an Injector. The zero value is ready to use.
type InjectorOptions struct {
	// Logger receives the injector's log, with component=windows-input.
	// It never sees what is typed. Nil discards.
	Logger *slog.Logger
}

// Injector performs the helper's input with SendInput. Create it with
// OpenInjector. Its methods may be called from any goroutine.
type Injector struct {
	log *slog.Logger

	mu     sync.Mutex // serialises SendInput; guards the fields below
	closed bool
	st     inputState
}

// OpenInjector prepares to perform input on the person's desktop. Like
// Open it makes the process DPI aware, so that positions are the
// monitors' own pixels. It starts no goroutine.
func OpenInjector(opts InjectorOptions) (*Injector, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dpiAware()
	if err := procSendInput.Find(); err != nil {
		return nil, fmt.Errorf("windows: SendInput: %w", err)
	}
	inj := &Injector{log: log.With("component", "windows-input"), st: inputState{sys: winSystem{}}}
	inj.log.Info("injecting input with SendInput")
	return inj, nil
}

// Inject performs e: pointer positions are in the image's coordinates
// (the virtual screen's, from its top-left corner). Key, button and text
// events are performed in order and completely: when Inject returns,
// Windows has queued them (SendInput returns after inserting them into
// the input stream, before applications handle them).
//
// It returns an error wrapping ErrUnknownKey for a key it cannot name,
// ErrBlocked when Windows refused the events, one wrapping net.ErrClosed
// after Close, and ctx's error when ctx ends (typing stops between two
// chunks of characters).
func (inj *Injector) Inject(ctx context.Context, e host.InputEvent) error {
	inj.mu.Lock()
	defer inj.mu.Unlock()
	if inj.closed {
		return errInjectorClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	ins, err := inj.st.event(e, virtualScreen())
	if err != nil {
		return err
	}
	for len(ins) > 0 {
		n := min(len(ins), sendChunk)
		if err := send(ins[:n]); err != nil {
			return err
		}
		ins = ins[n:]
		if len(ins) > 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	return nil
}

// ReleaseAll releases every key and button the helper holds (control was
// revoked). It returns an error wrapping net.ErrClosed after Close.
func (inj *Injector) ReleaseAll() error {
	inj.mu.Lock()
	defer inj.mu.Unlock()
	if inj.closed {
		return errInjectorClosed
	}
	return inj.releaseLocked()
}

func (inj *Injector) releaseLocked() error {
	if ins := inj.st.releaseAll(); len(ins) > 0 {
		return send(ins)
	}
	return nil
}

// Close releases what the helper holds; after it Inject fails. Calling it
// again returns nil.
func (inj *Injector) Close() error {
	inj.mu.Lock()
	defer inj.mu.Unlock()
	if inj.closed {
		return nil
	}
	inj.closed = true
	return inj.releaseLocked()
}

// send performs ins with one SendInput call.
func send(ins []input) error {
	n, _, err := procSendInput.Call(uintptr(len(ins)), uintptr(unsafe.Pointer(&ins[0])), unsafe.Sizeof(ins[0]))
	if int(n) != len(ins) {
		return fmt.Errorf("%w: SendInput inserted %d of %d events: %v", ErrBlocked, n, len(ins), err)
	}
	return nil
}

// winSystem is the system's keyboard layouts.
type winSystem struct{}

func (winSystem) scanCode(vk uint16) uint16 {
	r, _, _ := procMapVirtualKeyW.Call(uintptr(vk), mapvkVKToVSC)
	return uint16(r)
}

func (winSystem) keyOf(r rune) (uint16, bool) {
	if r > 0xffff {
		return 0, false
	}
	var tid uint32
	if fg := windows.GetForegroundWindow(); fg != 0 {
		tid, _ = windows.GetWindowThreadProcessId(fg, nil)
	}
	hkl, _, _ := procGetKeyboardLayout.Call(uintptr(tid))
	v, _, _ := procVkKeyScanExW.Call(uintptr(r), hkl)
	if int16(v) == -1 {
		return 0, false
	}
	return uint16(v & 0xff), true
}
