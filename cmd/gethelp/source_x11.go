//go:build linux

package main

import (
	"log/slog"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/host/x11"
	"github.com/jezek/xgb"
)

func openX11(display string, logger *slog.Logger) (host.Source, error) {
	return x11.Open(display, x11.Options{Logger: logger})
}

// quietX11 sends xgb's own notes (such as a missing X authority file) to
// the debug log.
func quietX11(logger *slog.Logger) {
	xgb.Logger = slog.NewLogLogger(logger.Handler(), slog.LevelDebug)
}

// openX11Control opens what control of an X11 display needs: XTEST to
// perform the helper's input and a watcher for the person's ESC. Call it
// after openX11.
func openX11Control(display string, logger *slog.Logger) (host.Injector, host.KeyWatcher, error) {
	inj, err := x11.OpenInjector(display, x11.InjectorOptions{Logger: logger})
	if err != nil {
		return nil, nil, err
	}
	keys, err := x11.WatchKeys(display, x11.WatchOptions{Logger: logger})
	if err != nil {
		inj.Close()
		return nil, nil, err
	}
	return inj, keys, nil
}

// openX11Windows watches the windows of an X11 display for privacy, and
// returns the default secure-prompt classes.
func openX11Windows(display string, logger *slog.Logger) (host.WindowLister, func() error, []string, error) {
	w, err := x11.WatchWindows(display, logger)
	if err != nil {
		return nil, nil, nil, err
	}
	return w.ForHost(), w.Close, x11.DefaultSecurePrompts, nil
}

// openX11Clipboard opens the display's clipboard, shared only while the
// person grants it.
func openX11Clipboard(display string, logger *slog.Logger) (host.Clipboard, func() error, error) {
	c, err := x11.OpenClipboard(display, x11.ClipboardOptions{Logger: logger})
	if err != nil {
		return nil, nil, err
	}
	return c, c.Close, nil
}

var _ host.Clipboard = (*x11.Clipboard)(nil)
