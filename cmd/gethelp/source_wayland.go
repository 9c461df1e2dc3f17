//go:build linux

package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/host/wlroots"
	"github.com/gethelp/gethelp/host/x11"
)

// openWayland opens the screen of a wlroots compositor (sway and the like).
func openWayland(display, runtimeDir string, logger *slog.Logger) (host.Source, error) {
	return wlroots.Open(context.Background(), display, wlroots.Options{RuntimeDir: runtimeDir, Logger: logger})
}

// openWaylandInput opens the virtual pointer and keyboard of a wlroots
// compositor.
func openWaylandInput(display, runtimeDir string, logger *slog.Logger) (host.Injector, error) {
	return wlroots.OpenInjector(context.Background(), display, wlroots.Options{RuntimeDir: runtimeDir, Logger: logger})
}

// openSway opens what sway's IPC (at socket, $SWAYSOCK) gives the host
// beyond the picture: the window list for secure prompts and masking and,
// unless noControl, the person's ESC. It returns them with the default
// secure-prompt patterns (X11's WM_CLASS patterns, matched against app
// ids and Xwayland classes alike) and a function that closes them.
func openSway(socket string, noControl bool, logger *slog.Logger) (host.WindowLister, host.KeyWatcher, []string, func() error, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	w, err := wlroots.WatchSwayWindows(ctx, socket, logger)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if noControl {
		return w, nil, x11.DefaultSecurePrompts, w.Close, nil
	}
	k, err := wlroots.WatchSwayKeys(ctx, socket, logger)
	if err != nil {
		w.Close()
		return nil, nil, nil, nil, err
	}
	closeAll := func() error {
		err := k.Close()
		w.Close()
		return err
	}
	return w, k, x11.DefaultSecurePrompts, closeAll, nil
}
