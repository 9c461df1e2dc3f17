//go:build windows

package windows

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/session/screen"
)

var _ host.WindowLister = (*DesktopWatcher)(nil)

// WatchOptions tune a DesktopWatcher. The zero value is ready to use.
type WatchOptions struct {
	// Interval is how often the watcher looks which desktop has the
	// input. Zero means 250ms.
	Interval time.Duration
	// Logger receives the watcher's log, with component=windows-desktop.
	// Nil discards.
	Logger *slog.Logger
}

// DesktopWatcher is the host's window list on Windows (a
// host.WindowLister): the visible top-level windows of the person's
// desktop, and, while another desktop has the input (UAC's secure
// desktop, the lock screen), one synthetic window of class
// SecureDesktopClass covering the whole screen, which DefaultSecurePrompts
// matches. Create it with WatchDesktop.
type DesktopWatcher struct {
	log       *slog.Logger
	interval  time.Duration
	changed   chan struct{} // cap 1
	done      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// WatchDesktop starts watching which desktop has the input. It starts one
// goroutine, which Close stops.
func WatchDesktop(opts WatchOptions) (*DesktopWatcher, error) {
	if opts.Interval <= 0 {
		opts.Interval = 250 * time.Millisecond
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dpiAware()
	w := &DesktopWatcher{
		log:      log.With("component", "windows-desktop"),
		interval: opts.Interval,
		changed:  make(chan struct{}, 1),
		done:     make(chan struct{}),
	}
	w.wg.Add(1)
	go w.watch()
	return w, nil
}

// InputDesktop returns the name of the desktop that receives the input
// now ("Default" for the person's own, "Winlogon" for the secure
// desktop), or an error when it cannot be opened: for a program of the
// person's, that is what the secure desktop looks like (access denied).
func InputDesktop() (string, error) {
	h, err := call(procOpenInputDesktop, 0, 0, desktopReadObjects)
	if err != nil {
		return "", fmt.Errorf("windows: OpenInputDesktop: %w", err)
	}
	defer procCloseDesktop.Call(h)
	var buf [64]uint16
	var n uint32
	if r, _, err := procGetUserObjectInformationW.Call(h, uoiName, uintptr(unsafe.Pointer(&buf[0])), unsafe.Sizeof(buf), uintptr(unsafe.Pointer(&n))); r == 0 {
		return "", fmt.Errorf("windows: GetUserObjectInformation: %w", err)
	}
	return windows.UTF16ToString(buf[:]), nil
}

// secure returns the synthetic window for the input desktop, if it is not
// the person's.
func (w *DesktopWatcher) secure() (host.Window, bool) {
	name, _ := InputDesktop()
	vs := virtualScreen()
	return secureWindow(name, screen.Rect{W: vs.W, H: vs.H})
}

// watch signals changed when the input desktop changes.
func (w *DesktopWatcher) watch() {
	defer w.wg.Done()
	t := time.NewTicker(w.interval)
	defer t.Stop()
	last, was := w.secure()
	for {
		select {
		case <-w.done:
			return
		case <-t.C:
		}
		win, is := w.secure()
		if is != was || win.Instance != last.Instance {
			w.log.Info("input desktop changed", "secure", is, "desktop", win.Instance)
			select {
			case w.changed <- struct{}{}:
			default:
			}
		}
		last, was = win, is
	}
}

// Windows returns the visible, not minimised top-level windows of the
// person's desktop, bottom to top, with their window class as Class
// (Instance is empty), in the image's coordinates; and, last (on top),
// the synthetic secure-desktop window while another desktop has the
// input. The desktop is looked at during the call.
func (w *DesktopWatcher) Windows(ctx context.Context) ([]host.Window, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	wins := topLevelWindows()
	if sw, ok := w.secure(); ok {
		wins = append(wins, sw)
	}
	return wins, nil
}

// Changed receives a value after the input desktop changed.
func (w *DesktopWatcher) Changed() <-chan struct{} { return w.changed }

// Close stops the watcher and waits for its goroutine. Calling it again
// returns nil.
func (w *DesktopWatcher) Close() error {
	w.closeOnce.Do(func() {
		close(w.done)
		w.wg.Wait()
	})
	return nil
}

// The EnumWindows callback, made once, and what it collects, guarded by
// enumMu.
var (
	enumMu       sync.Mutex
	enumFound    []windows.HWND
	enumCallback = sync.OnceValue(func() uintptr {
		return windows.NewCallback(func(h windows.HWND, lparam uintptr) uintptr {
			enumFound = append(enumFound, h)
			return 1
		})
	})
)

// topLevelWindows lists the visible, not minimised top-level windows,
// bottom to top, in the image's coordinates.
func topLevelWindows() []host.Window {
	cb := enumCallback()
	enumMu.Lock()
	enumFound = nil
	windows.EnumWindows(cb, nil) // top to bottom
	hwnds := enumFound
	enumFound = nil
	enumMu.Unlock()
	vs := virtualScreen()
	var out []host.Window
	for _, h := range slices.Backward(hwnds) {
		if !windows.IsWindowVisible(h) {
			continue
		}
		if r, _, _ := procIsIconic.Call(uintptr(h)); r != 0 {
			continue
		}
		var wr rect
		if r, _, _ := procGetWindowRect.Call(uintptr(h), uintptr(unsafe.Pointer(&wr))); r == 0 {
			continue
		}
		var cls [256]uint16
		n, err := windows.GetClassName(h, &cls[0], int32(len(cls)))
		if err != nil {
			continue
		}
		out = append(out, host.Window{
			Class: windows.UTF16ToString(cls[:n]),
			Rect:  screen.Rect{X: int(wr.Left) - vs.X, Y: int(wr.Top) - vs.Y, W: int(wr.Right - wr.Left), H: int(wr.Bottom - wr.Top)},
		})
	}
	return out
}
