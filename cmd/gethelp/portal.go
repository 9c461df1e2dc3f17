package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/gethelp/gethelp/host"
)

// portalTokenFile is where, in the state directory, the desktop portal's
// restore tokens are kept, so that the desktop does not ask the person to
// pick the screen every time.
const portalTokenFile = "portal-tokens.json"

// portalNote tells the person, before the desktop's dialog, what sharing
// through the desktop portal cannot do.
const portalNote = `Your desktop will ask you which screen to share with gethelp (and whether to allow control); gethelp remembers your answer, so it may not ask next time.
Note: on this desktop gethelp sees only the picture: it cannot hide password prompts from your helper, so do not type passwords while sharing, and ESC does not take control back: use Stop control, Stop sharing or Disconnect, or your desktop's own stop-sharing indicator.`

// sessionBus returns the address of the session bus: $DBUS_SESSION_BUS_ADDRESS,
// else the systemd user bus in $XDG_RUNTIME_DIR.
func (m *Main) sessionBus() string {
	if a := m.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" {
		return a
	}
	if dir := m.Getenv("XDG_RUNTIME_DIR"); dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "bus")); err == nil {
			return "unix:path=" + filepath.Join(dir, "bus")
		}
	}
	return ""
}

// openPortalSource shares the screen through xdg-desktop-portal (GNOME,
// KDE): the person is told what this path cannot do, then the desktop
// asks them; control is asked for too unless policy or settings refuse
// it. Ctrl-C while the desktop's dialog is up withdraws it.
func (m *Main) openPortalSource() (host.Source, string, error) {
	if len(m.cfg.MaskedWindows) > 0 {
		return nil, "portal", errors.New("masked_windows cannot be honoured through the desktop portal (it shows gethelp no windows); remove them from the config to share")
	}
	pol, err := loadPolicy(m.Getenv)
	if err != nil {
		return nil, "portal", err
	}
	fmt.Fprintln(m.Stderr, portalNote)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	src, err := openPortal(ctx, m.sessionBus(), filepath.Join(m.stateDir, portalTokenFile), noControl(pol, m.cfg) == "", m.logger)
	if err != nil {
		return nil, "portal", portalError{err}
	}
	return src, "portal", nil
}

// portalError is a failure to share through the portal, in the person's
// words.
type portalError struct{ err error }

func (e portalError) Error() string { return e.err.Error() }
func (e portalError) Unwrap() error { return e.err }

func (e portalError) userWords() string {
	if portalDeclined(e.err) {
		return "you declined screen sharing in the desktop's dialog: nothing is shared"
	}
	return strings.TrimPrefix(e.err.Error(), "portal: ")
}

// portalDevices sets the portal session's input in cfg, when control is
// not refused.
func (m *Main) portalDevices(cfg *host.Config) {
	if cfg.NoControl != "" {
		return
	}
	if inj := portalInjector(cfg.Source); inj != nil {
		cfg.Injector = inj
		return
	}
	m.logger.Warn("control will not be possible: the desktop portal gave no keyboard or pointer")
}
