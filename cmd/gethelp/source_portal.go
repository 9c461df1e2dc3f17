//go:build linux

package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/host/portal"
	"github.com/gethelp/gethelp/host/wlroots"
)

// openPortal asks xdg-desktop-portal on the session bus at bus for the
// screen, and for keyboard and pointer when input.
func openPortal(ctx context.Context, bus, tokenFile string, input bool, logger *slog.Logger) (host.Source, error) {
	return portal.Open(ctx, portal.Options{Bus: bus, Input: input, TokenFile: tokenFile, Logger: logger})
}

// portalAvailable reports whether the session bus at bus has a portal
// that shares screens.
func portalAvailable(bus string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return portal.Available(ctx, bus) == nil
}

// portalInjector returns the input of a portal source, or nil.
func portalInjector(src host.Source) host.Injector {
	if s, ok := src.(*portal.Source); ok {
		if inj := s.Injector(); inj != nil {
			return inj
		}
	}
	return nil
}

// portalDeclined reports whether err says the person cancelled the
// desktop's dialog.
func portalDeclined(err error) bool { return errors.Is(err, portal.ErrDeclined) }

// waylandUnsupported reports whether err says the compositor is not
// wlroots-based (GNOME, KDE), rather than that it is not there.
func waylandUnsupported(err error) bool { return errors.Is(err, wlroots.ErrUnsupported) }
