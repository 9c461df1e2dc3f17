//go:build !windows

package main

import (
	"errors"
	"log/slog"

	"github.com/gethelp/gethelp/host"
)

// defaultSource is the screen shared when --source is not given and no
// display is set.
const defaultSource = "synthetic"

func openWindowsScreen(*slog.Logger) (host.Source, error) {
	return nil, errors.New("--source windows works on Windows only")
}

func (m *Main) windowsDevices(*host.Config) ([]func() error, error) {
	return nil, errors.New("the Windows desktop is shared on Windows only")
}
