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
