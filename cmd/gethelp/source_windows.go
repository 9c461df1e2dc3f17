//go:build windows

package main

import (
	"fmt"
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
// and, unless control is refused, SendInput and the watcher of the
// person's ESC (unless they turned ESC off).
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
			if !cfg.IgnoreEscape {
				keys, err := windows.WatchKeys(windows.KeyOptions{Logger: m.logger})
				if err != nil {
					m.logger.Warn("ESC will not take control back", "err", err)
					fmt.Fprintln(m.Stderr, "Note: on this computer ESC does not take control back (Windows refused to let gethelp watch the keyboard): use Stop control or Disconnect.")
				} else {
					closers = append(closers, keys.Close)
					cfg.Keys = keys
				}
			}
		}
	}
	return closers, nil
}
