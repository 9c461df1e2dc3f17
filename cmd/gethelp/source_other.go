//go:build !linux

package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/gethelp/gethelp/host"
)

func openX11(display string, logger *slog.Logger) (host.Source, error) {
	return nil, errors.New("sharing an X11 screen is supported on Linux only so far")
}

func quietX11(*slog.Logger) {}

func openX11Control(string, *slog.Logger) (host.Injector, host.KeyWatcher, error) {
	return nil, nil, errors.New("control of an X11 screen is supported on Linux only so far")
}

func openX11Windows(string, *slog.Logger) (host.WindowLister, func() error, []string, error) {
	return nil, nil, nil, errors.New("watching X11 windows is supported on Linux only so far")
}

func openX11Clipboard(string, *slog.Logger) (host.Clipboard, func() error, error) {
	return nil, nil, errors.New("the X11 clipboard is supported on Linux only so far")
}

func openWayland(string, string, *slog.Logger) (host.Source, error) {
	return nil, errors.New("sharing a Wayland screen is supported on Linux only")
}

func openWaylandInput(string, string, *slog.Logger) (host.Injector, error) {
	return nil, errors.New("control on Wayland is supported on Linux only")
}

func openSway(string, bool, *slog.Logger) (host.WindowLister, host.KeyWatcher, []string, func() error, error) {
	return nil, nil, nil, nil, errors.New("sway's IPC is used on Linux only")
}

func openPortal(context.Context, string, string, bool, *slog.Logger) (host.Source, error) {
	return nil, errors.New("sharing through the desktop portal is supported on Linux only")
}

func portalAvailable(string) bool { return false }

func portalInjector(host.Source) host.Injector { return nil }

func portalDeclined(error) bool { return false }

func waylandUnsupported(error) bool { return false }
