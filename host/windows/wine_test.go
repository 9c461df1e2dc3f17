//go:build linux

package windows

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/gethelp/gethelp/host/x11/x11test"
)

// TestWine runs this package's Windows tests (capture of the desktop,
// typing into an edit control, the window list, the ESC watcher, the
// pointer) under Wine
// on an Xvfb server: it cross-builds the test binary for windows/amd64,
// prepares a Wine prefix (kept in the user's cache directory, or
// $GETHELP_WINEPREFIX, so that only the first run pays for wineboot),
// puts a stand-in bcryptprimitives.dll in it (testdata: Wine before 8.13
// lacks ProcessPrng, which Go's runtime needs) and runs the binary there.
// $GETHELP_WINE_RUN narrows the tests (-test.run). xdotool, when
// installed, plays the person's keyboard and mouse (on the X server, so
// that Wine sees them as a keyboard's and a mouse's).
//
// It is skipped with -short and when Wine, MinGW or Xvfb is missing (Debian
// packages wine, wine64, gcc-mingw-w64-x86-64, xvfb).
func TestWine(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: not running the Windows tests under Wine")
	}
	for _, tool := range []string{"wine", "wineserver", "x86_64-w64-mingw32-gcc", "Xvfb"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed, so the Windows tests do not run under Wine here (Debian packages wine, wine64, gcc-mingw-w64-x86-64, xvfb)", tool)
		}
	}
	prefix := os.Getenv("GETHELP_WINEPREFIX")
	if prefix == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			t.Fatal(err)
		}
		prefix = filepath.Join(cache, "gethelp", "wine")
	}
	if err := os.MkdirAll(filepath.Dir(prefix), 0o755); err != nil {
		t.Fatal(err)
	}
	// One test process at a time per prefix.
	lock, err := os.OpenFile(prefix+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}

	display, _ := x11test.StartXvfb(t, 1024, 768, 24)
	env := append(os.Environ(),
		"WINEPREFIX="+prefix,
		"WINEDEBUG=-all",
		"WINEDLLOVERRIDES=mscoree,mshtml=;bcryptprimitives=n,b", // no Mono or Gecko installers; our ProcessPrng
		"DISPLAY="+display,
		"GETHELP_WINE_SCREEN=1024x768",
	)
	if xdotool, err := exec.LookPath("xdotool"); err == nil {
		env = append(env, "GETHELP_WINE_XDOTOOL="+xdotool) // the person's keyboard and mouse, for the Windows tests
	} else {
		t.Log("xdotool is not installed: the tests of the ESC watcher and the pointer are skipped (Debian package xdotool)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	run := func(what string, dir string, cmd string, args ...string) string {
		t.Helper()
		c := exec.CommandContext(ctx, cmd, args...)
		c.Env, c.Dir = env, dir
		var out bytes.Buffer
		c.Stdout, c.Stderr = &out, &out
		start := time.Now()
		err := c.Run()
		t.Logf("%s: %v", what, time.Since(start).Round(time.Millisecond))
		if err != nil {
			t.Fatalf("%s: %v\n%s", what, err, out.String())
		}
		return out.String()
	}
	t.Cleanup(func() {
		c := exec.Command("wineserver", "-k")
		c.Env = env
		c.Run()
	})

	system32 := filepath.Join(prefix, "drive_c", "windows", "system32")
	if _, err := os.Stat(filepath.Join(system32, "kernel32.dll")); err != nil {
		run("wineboot (a new prefix, once)", "", "wine", "wineboot", "-i")
	}
	dir := t.TempDir()
	shim := filepath.Join(dir, "bcryptprimitives.dll")
	run("build the bcryptprimitives shim", "", "x86_64-w64-mingw32-gcc", "-shared", "-O2", "-s", "-o", shim,
		"testdata/bcryptprimitives.c", "testdata/bcryptprimitives.def", "-ladvapi32")
	if err := copyFile(filepath.Join(system32, "bcryptprimitives.dll"), shim); err != nil {
		t.Fatal(err)
	}

	exe := filepath.Join(dir, "windows.test.exe")
	build := exec.CommandContext(ctx, goTool(), "test", "-c", "-o", exe, ".")
	build.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0", "GOFLAGS=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go test -c for windows: %v\n%s", err, out)
	}
	args := []string{exe, "-test.v", "-test.count=1"}
	if r := os.Getenv("GETHELP_WINE_RUN"); r != "" {
		args = append(args, "-test.run", r)
	}
	t.Log(run("the Windows tests under Wine", dir, "wine", args...))
}

func copyFile(dst, src string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o755)
}

// goTool is the go command that runs this test.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(os.Getenv("GOROOT"), "bin", "go")
}
