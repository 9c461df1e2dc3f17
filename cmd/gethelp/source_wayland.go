//go:build linux

package main

import (
	"context"
	"log/slog"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/host/wlroots"
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
