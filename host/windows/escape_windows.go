//go:build windows

package windows

import (
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/gethelp/gethelp/host"
)

var _ host.KeyWatcher = (*KeyWatcher)(nil)

// errWatcherClosed is returned by SetActive after Close.
var errWatcherClosed = fmt.Errorf("windows: key watcher closed: %w", net.ErrClosed)

// KeyOptions tune a KeyWatcher. The zero value is ready to use.
type KeyOptions struct {
	// Logger receives the watcher's log, with component=windows-keys.
	// It never sees any key but Escape. Nil discards.
	Logger *slog.Logger
}

// KeyWatcher reports the person's presses of Escape, on their keyboard or
// through another program (an on-screen keyboard), and never the Escape
// that gethelp's Injector sends. It reads the keyboard with a low-level
// keyboard hook, installed only while it is active. Create it with
// WatchKeys. Its methods may be called from any goroutine.
type KeyWatcher struct {
	log     *slog.Logger
	escapes chan struct{} // cap 1; closed by Close

	mu     sync.Mutex // serialises SetActive and Close; guards the fields below
	closed bool
	hook   *hookThread // non-nil while active
}

// hookThread is an OS thread that holds a low-level keyboard hook and
// pumps its message queue, as Windows requires of the thread that
// installed the hook: Windows calls the hook on it, from its GetMessage.
type hookThread struct {
	tid     uint32        // its thread id, for PostThreadMessage
	hook    uintptr       // the HHOOK, set before the thread reports ready
	done    chan struct{} // closed when the hook is removed and the thread ends
	escapes chan<- struct{}
	log     *slog.Logger
	esc     escState // owned by the thread (the hook runs on it)
}

// hookThreads are the threads holding a hook, by thread id: the hook
// procedure, one for all, finds its watcher by the thread it runs on.
var (
	hookMu      sync.Mutex
	hookThreads = make(map[uint32]*hookThread)
)

// llKeyboardProc is the hook procedure, made once (callbacks are never
// freed).
var llKeyboardProc = sync.OnceValue(func() uintptr { return windows.NewCallback(keyboardHook) })

// WatchKeys starts watching the keyboard for Escape: it installs the hook
// and is active when it returns (SetActive(false) removes the hook until
// SetActive(true)). It returns an error starting "windows: " when Windows
// refuses the hook (a process without a desktop, such as a service).
func WatchKeys(opts KeyOptions) (*KeyWatcher, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &KeyWatcher{
		log:     log.With("component", "windows-keys"),
		escapes: make(chan struct{}, 1),
	}
	if err := w.SetActive(true); err != nil {
		return nil, err
	}
	return w, nil
}

// Escapes returns the channel that receives a value for each press of
// Escape by the person while the watcher is active; presses not yet
// received are coalesced into one. It is closed by Close.
func (w *KeyWatcher) Escapes() <-chan struct{} { return w.escapes }

// SetActive installs (true) or removes (false) the keyboard hook. While it
// is removed, Windows calls nothing of gethelp's for the person's keys, so
// typing costs nothing and a stalled host cannot slow the keyboard: the
// host keeps it removed while nobody has control, when ESC has nothing to
// take back. Escape pressed while inactive is not reported. SetActive
// returns when the hook is in place or gone; it returns an error starting
// "windows: " when Windows refuses the hook, and one wrapping
// net.ErrClosed after Close.
func (w *KeyWatcher) SetActive(active bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return errWatcherClosed
	}
	switch {
	case active && w.hook == nil:
		ht, err := startHook(w.escapes, w.log)
		if err != nil {
			return err
		}
		w.hook = ht
		w.log.Debug("watching Escape")
	case !active && w.hook != nil:
		if err := w.hook.stop(); err != nil {
			return err
		}
		w.hook = nil
		w.log.Debug("no longer watching Escape")
	}
	return nil
}

// Close removes the hook, waits for its thread and closes the Escapes
// channel. It returns the error of removing the hook, if any; calling it
// again returns nil.
func (w *KeyWatcher) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	if w.hook != nil {
		if err := w.hook.stop(); err != nil {
			return err
		}
		w.hook = nil
	}
	w.closed = true
	close(w.escapes)
	return nil
}

// startHook starts a thread that installs the hook, and waits until it
// has.
func startHook(escapes chan<- struct{}, log *slog.Logger) (*hookThread, error) {
	ht := &hookThread{done: make(chan struct{}), escapes: escapes, log: log}
	ready := make(chan error, 1)
	go ht.run(ready)
	if err := <-ready; err != nil {
		<-ht.done
		return nil, err
	}
	return ht, nil
}

// run is the hook thread: it installs the hook, reports to ready, then
// pumps messages until WM_QUIT, and removes the hook.
func (ht *hookThread) run(ready chan<- error) {
	defer close(ht.done)
	// Never unlocked: the thread ends with the goroutine, and its message
	// queue with it.
	runtime.LockOSThread()
	ht.tid = windows.GetCurrentThreadId()
	var m msg
	// The thread's message queue exists from its first message call, so
	// that stop's PostThreadMessage cannot come too early.
	procPeekMessageW.Call(uintptr(unsafe.Pointer(&m)), 0, 0, 0, pmNoRemove)

	var mod windows.Handle // the executable's module, where the hook procedure is
	if err := windows.GetModuleHandleEx(0, nil, &mod); err != nil {
		ready <- fmt.Errorf("windows: GetModuleHandleEx: %w", err)
		return
	}
	hookMu.Lock()
	hookThreads[ht.tid] = ht
	hookMu.Unlock()
	defer func() {
		hookMu.Lock()
		delete(hookThreads, ht.tid)
		hookMu.Unlock()
	}()
	hook, err := call(procSetWindowsHookExW, whKeyboardLL, llKeyboardProc(), uintptr(mod), 0)
	if err != nil {
		ready <- fmt.Errorf("windows: SetWindowsHookEx(WH_KEYBOARD_LL): %w", err)
		return
	}
	ht.hook = hook
	ready <- nil
	for {
		r, _, err := procGetMessageW.Call(uintptr(unsafe.Pointer(&m)), 0, 0, 0)
		if int32(r) == 0 { // WM_QUIT
			break
		}
		if int32(r) == -1 {
			ht.log.Warn("the keyboard hook's message loop failed: ESC no longer takes control back", "err", err)
			break
		}
		// A thread without windows gets no other messages; the hook is
		// called from within GetMessage.
	}
	if _, err := call(procUnhookWindowsHookEx, hook); err != nil {
		ht.log.Warn("UnhookWindowsHookEx", "err", err)
	}
}

// stop ends the hook thread and waits for it.
func (ht *hookThread) stop() error {
	if _, err := call(procPostThreadMessageW, uintptr(ht.tid), wmQuit, 0, 0); err != nil {
		select {
		case <-ht.done: // it ended on its own
			return nil
		default:
		}
		return fmt.Errorf("windows: stopping the keyboard hook: PostThreadMessage: %w", err)
	}
	<-ht.done
	return nil
}

// keyboardHook is the low-level keyboard hook (LowLevelKeyboardProc). It
// runs on a hook thread, for every key of every keyboard while a watcher
// is active, and must return fast: it looks at Escape only, and always
// passes the event on, so the person's keys reach their programs as if
// gethelp were not there.
func keyboardHook(code, wparam uintptr, info *kbdLLHookStruct) uintptr {
	if int32(code) == hcAction && info != nil && info.VKCode == vkEscape {
		hookMu.Lock()
		ht := hookThreads[windows.GetCurrentThreadId()]
		hookMu.Unlock()
		if ht != nil {
			ht.escape(info)
		}
	}
	r, _, _ := procCallNextHookEx.Call(0, code, wparam, uintptr(unsafe.Pointer(info)))
	return r
}

// escape handles one event of the Escape key.
func (ht *hookThread) escape(info *kbdLLHookStruct) {
	if !ht.esc.key(info.Flags, info.ExtraInfo, info.Time) {
		if info.Flags&llkhfUp == 0 && ours(info.Flags, info.ExtraInfo) {
			ht.log.Debug("Escape sent by gethelp's injector: ignored")
		}
		return
	}
	select {
	case ht.escapes <- struct{}{}:
	default:
	}
	ht.log.Info("Escape pressed by the person", "injected", info.Flags&llkhfInjected != 0)
}
