// Package x11test starts X servers for tests: Xvfb, and Xephyr nested in
// Xvfb as a display with a physical keyboard. Tests of host/x11, and
// end-to-end tests of the gethelp binary, share it.
package x11test

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// StartXvfb starts an Xvfb server with a w×h screen of the given depth on
// the first free display number from 90 up, and returns its display
// (":N") and a function that stops it at once (it is stopped when the test
// ends anyway). A machine without Xvfb fails the test: `make test` installs
// it.
func StartXvfb(t testing.TB, w, h, depth int) (display string, stop func()) {
	t.Helper()
	path, err := exec.LookPath("Xvfb")
	if err != nil {
		t.Fatal("Xvfb is not installed: run `make test`, which installs it (Debian package xvfb)")
	}
	return StartServer(t, path, nil, func(display string) []string {
		return []string{display, "-screen", "0", fmt.Sprintf("%dx%dx%d", w, h, depth), "-nolisten", "tcp", "-noreset"}
	})
}

// StartServer starts the X server at path (Xvfb, Xephyr) on the first free
// display number from 90 up, with the arguments args gives for that display
// and env added to the environment, and waits until it accepts connections.
// It returns the display (":N") and a function that stops the server at once;
// the server is stopped when the test ends anyway.
func StartServer(t testing.TB, path string, env []string, args func(display string) []string) (display string, stop func()) {
	t.Helper()
	name := filepath.Base(path)
	for n := 90; n < 200; n++ {
		socket := fmt.Sprintf("/tmp/.X11-unix/X%d", n)
		if accepts(socket) {
			continue // a live server; stale lock files the server clears itself
		}
		display := fmt.Sprintf(":%d", n)
		cmd := exec.Command(path, args(display)...)
		cmd.Env = append(os.Environ(), env...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatalf("start %s: %v", name, err)
		}
		exited := make(chan struct{})
		go func() {
			cmd.Wait()
			close(exited)
		}()
		switch waitFor(socket, exited, 10*time.Second) {
		case "exited": // the number was taken meanwhile, or the server failed
			t.Logf("%s %s exited at once: %s", name, display, out.String())
			continue
		case "timeout":
			cmd.Process.Kill()
			<-exited
			t.Fatalf("%s %s did not start within 10s: %s", name, display, out.String())
		}
		var once sync.Once
		stop := func() {
			once.Do(func() {
				cmd.Process.Signal(syscall.SIGTERM)
				select {
				case <-exited:
				case <-time.After(5 * time.Second):
					cmd.Process.Kill()
					<-exited
				}
			})
		}
		t.Cleanup(stop)
		return display, stop
	}
	t.Fatal("no free X display number between 90 and 199")
	return "", nil
}

// waitFor waits until the Unix socket at path accepts connections ("ok"),
// the process ends ("exited") or d has passed ("timeout"). (The socket's
// file appears when Xvfb binds it, a moment before it listens.)
func waitFor(path string, exited <-chan struct{}, d time.Duration) string {
	deadline := time.Now().Add(d)
	for !accepts(path) {
		if time.Now().After(deadline) {
			return "timeout"
		}
		select {
		case <-exited:
			return "exited"
		case <-time.After(10 * time.Millisecond):
		}
	}
	return "ok"
}

func accepts(path string) bool {
	c, err := net.Dial("unix", path)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
