package x11

import (
	"bytes"
	"crypto/rand"
	"github.com/gethelp/gethelp/host/x11/x11test"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The watcher authenticates with the cookie of its display, which xgb
// would not find for a connection it did not dial itself.
func TestWatchKeysXauthority(t *testing.T) {
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cookie, other := make([]byte, 16), make([]byte, 16)
	rand.Read(cookie)
	rand.Read(other)
	display := startXvfbWithCookie(t, dir, host, cookie)

	// Entries for other hosts and displays first: the right one is found.
	number := strings.TrimPrefix(display, ":")
	mine := filepath.Join(dir, "mine")
	writeFile(t, mine,
		xauthRecord(256, "elsewhere", number, "MIT-MAGIC-COOKIE-1", other),
		xauthRecord(256, host, number+"0", "MIT-MAGIC-COOKIE-1", other),
		xauthRecord(256, host, number, "MIT-MAGIC-COOKIE-1", cookie))
	wrong := filepath.Join(dir, "wrong")
	writeFile(t, wrong, xauthRecord(256, host, number, "MIT-MAGIC-COOKIE-1", other))

	t.Setenv("XAUTHORITY", wrong)
	if w, err := WatchKeys(display, WatchOptions{}); err == nil {
		w.Close()
		t.Fatal("WatchKeys with the wrong cookie succeeded: the server does not check")
	} else if !strings.HasPrefix(err.Error(), "x11: cannot open display "+display+": ") || strings.Contains(err.Error(), "\n") {
		t.Errorf("with the wrong cookie: %q, want one line", err)
	}
	t.Setenv("XAUTHORITY", mine)
	w, err := WatchKeys(display, WatchOptions{})
	if err != nil {
		t.Fatalf("with the right cookie: %v", err)
	}
	w.Close()
}

func writeFile(t *testing.T, path string, records ...[]byte) {
	t.Helper()
	if err := os.WriteFile(path, bytes.Join(records, nil), 0o600); err != nil {
		t.Fatal(err)
	}
}

// startXvfbWithCookie starts Xvfb on a free display that admits only
// clients with cookie, and returns the display.
func startXvfbWithCookie(t *testing.T, dir, host string, cookie []byte) string {
	t.Helper()
	display, _ := x11test.StartServer(t, "Xvfb", nil, func(display string) []string {
		n := strings.TrimPrefix(display, ":")
		auth := filepath.Join(dir, "server"+n)
		writeFile(t, auth, xauthRecord(256, host, n, "MIT-MAGIC-COOKIE-1", cookie))
		return []string{display, "-screen", "0", "320x200x24", "-nolisten", "tcp", "-auth", auth}
	})
	return display
}
