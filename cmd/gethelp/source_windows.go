//go:build windows

package main

import (
	"log/slog"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/host/windows"
)

// defaultSource is the screen shared when --source is not given.
const defaultSource = "windows"

// openWindowsScreen opens the Windows desktop (GDI).
func openWindowsScreen(logger *slog.Logger) (host.Source, error) {
	return windows.Open(windows.Options{Logger: logger})
}

// windowsDevices opens, beside the Windows screen, the watcher of the
// secure desktop (UAC prompts and the lock screen blank the helper's view)
// and, unless control is refused, SendInput.
func (m *Main) windowsDevices(cfg *host.Config) (closers []func() error, err error) {
	w, err := windows.WatchDesktop(windows.WatchOptions{Logger: m.logger})
	if err != nil {
		return nil, err
	}
	closers = append(closers, w.Close)
	cfg.Windows = w
	if cfg.SecurePrompts == nil {
		cfg.SecurePrompts = windows.DefaultSecurePrompts
	}
	if cfg.NoControl == "" {
		inj, err := windows.OpenInjector(windows.InjectorOptions{Logger: m.logger})
		if err != nil {
			m.logger.Warn("control will not be possible", "err", err)
		} else {
			closers = append(closers, inj.Close)
			cfg.Injector = inj
		}
	}
	return closers, nil
}
