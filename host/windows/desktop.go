package windows

import (
	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/session/screen"
)

// SecureDesktopClass is the class of the synthetic window that
// DesktopWatcher reports while the input desktop is not the person's own:
// UAC's secure desktop, the sign-in and lock screens, Ctrl+Alt+Del.
const SecureDesktopClass = "Winlogon-SecureDesktop"

// DefaultSecurePrompts are the patterns (for host.MatchClass) of the
// windows that blank the helper's view on Windows: the secure desktop.
// Callers that add patterns make a new slice rather than append to this
// one.
var DefaultSecurePrompts = []string{SecureDesktopClass}

// userDesktop is the name of the interactive desktop of a window station
// ("WinSta0\Default").
const userDesktop = "Default"

// secureWindow returns the synthetic window that stands for the input
// desktop named name, covering rect (as GetUserObjectInformation gives it; empty when
// OpenInputDesktop failed, which for a process of the person's is what
// the secure desktop looks like: access denied), or false when name is the
// person's own desktop. Any desktop but "Default" counts: "Winlogon" (UAC,
// Ctrl+Alt+Del, the lock screen), "Screen-saver", and names not yet known.
func secureWindow(name string, rect screen.Rect) (host.Window, bool) {
	if name == userDesktop {
		return host.Window{}, false
	}
	if name == "" {
		name = "(not readable)"
	}
	return host.Window{Instance: name, Class: SecureDesktopClass, Rect: rect}, true
}
