// Package wltest runs a headless sway for the tests of host/wlroots: a
// real wlroots compositor with no screen and no input devices, rendering
// with pixman.
package wltest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Sway is a running headless sway.
type Sway struct {
	Dir        string // a scratch directory the compositor's clients may write to
	RuntimeDir string // its $XDG_RUNTIME_DIR
	Display    string // the socket's name in RuntimeDir ("wayland-1")
	Socket     string // the socket's absolute path
	ipc        string // sway's IPC socket
	cred       *syscall.Credential
	t          testing.TB
}

// Config is the part of sway's configuration a test chooses; Start adds
// the output's size.
const baseConfig = `default_border none
focus_follows_mouse no
`

// Output is a headless output to create: its size and its place in the
// layout.
type Output struct{ X, Y, W, H int }

// Start starts sway with one w×h output (HEADLESS-1) and extra lines of
// configuration, and stops it when the test ends (see StartLayout).
func Start(t testing.TB, w, h int, extra string) *Sway {
	t.Helper()
	return StartLayout(t, []Output{{W: w, H: h}}, extra)
}

// StartLayout starts sway with the outputs (HEADLESS-1, HEADLESS-2…) and
// extra lines of configuration, and stops it when the test ends. The test is skipped
// when sway is not installed (Debian packages sway, foot, grim). Run as
// root, sway (which refuses root) runs as the user nobody, with a runtime
// directory of its own that root can still reach.
func StartLayout(t testing.TB, outputs []Output, extra string) *Sway {
	t.Helper()
	path, err := exec.LookPath("sway")
	if err != nil {
		t.Skip("sway is not installed: apt-get install sway foot grim (the test script installs them)")
	}
	s := &Sway{t: t}
	dir, err := os.MkdirTemp("", "wltest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s.Dir = dir
	s.RuntimeDir = filepath.Join(dir, "run")
	if err := os.Mkdir(s.RuntimeDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("nobody")
		if err != nil {
			t.Fatalf("running as root, sway needs the user nobody: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		for _, p := range []string{dir, s.RuntimeDir} {
			if err := os.Chown(p, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
	}
	os.Chmod(dir, 0o755)
	config := filepath.Join(dir, "config")
	var text strings.Builder
	for i, o := range outputs {
		fmt.Fprintf(&text, "output HEADLESS-%d resolution %dx%d position %d %d bg #204060 solid_color\n", i+1, o.W, o.H, o.X, o.Y)
	}
	text.WriteString(baseConfig + extra + "\n")
	if err := os.WriteFile(config, []byte(text.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "sway.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, "-c", config)
	cmd.Dir = dir
	cmd.Env = append(s.env(),
		"WLR_BACKENDS=headless", "WLR_LIBINPUT_NO_DEVICES=1", "WLR_RENDERER=pixman",
		"WLR_HEADLESS_OUTPUTS="+strconv.Itoa(len(outputs)))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting sway: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(3 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		logf.Close()
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		sockets, _ := filepath.Glob(filepath.Join(s.RuntimeDir, "wayland-*"))
		ipcs, _ := filepath.Glob(filepath.Join(s.RuntimeDir, "sway-ipc.*.sock"))
		for _, p := range sockets {
			if !strings.HasSuffix(p, ".lock") {
				s.Socket = p
			}
		}
		if s.Socket != "" && len(ipcs) > 0 {
			s.ipc = ipcs[0]
			break
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("sway ended at start:\n%s", log)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("sway did not create its sockets within 10 s")
		}
	}
	s.Display = filepath.Base(s.Socket)
	// The IPC socket exists a moment before sway listens on it.
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := s.Command(ctx, "swaymsg", "-t", "get_outputs").Run()
		cancel()
		if err == nil {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("swaymsg -t get_outputs: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// env is the environment of sway and its clients.
func (s *Sway) env() []string {
	return []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + s.Dir, "XDG_RUNTIME_DIR=" + s.RuntimeDir,
		"LANG=C.UTF-8",
	}
}

// Command returns a command that runs as the compositor's client (as the
// same user, with WAYLAND_DISPLAY set), in Dir. The test is skipped when
// the program is not installed.
func (s *Sway) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	s.t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		s.t.Skipf("%s is not installed: apt-get install sway foot grim (the test script installs them)", name)
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = s.Dir
	cmd.Env = append(s.env(), "WAYLAND_DISPLAY="+s.Display, "SWAYSOCK="+s.ipc)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	return cmd
}

// Run runs a client to its end and returns its output; it fails the test
// when the client fails.
func (s *Sway) Run(name string, args ...string) []byte {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := s.Command(ctx, name, args...).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		s.t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, stderr)
	}
	return out
}

// IPCSocket returns the path of sway's IPC socket (what $SWAYSOCK names).
func (s *Sway) IPCSocket() string { return s.ipc }

// Msg runs swaymsg with args and returns its output.
func (s *Sway) Msg(args ...string) []byte {
	s.t.Helper()
	return s.Run("swaymsg", args...)
}

// Window is a window of the tree, as swaymsg -t get_tree reports it.
type Window struct {
	ID      int64  `json:"id"`
	AppID   string `json:"app_id"`
	Name    string `json:"name"`
	PID     int    `json:"pid"`
	Focused bool   `json:"focused"`
	Rect    struct {
		X, Y, Width, Height int
	} `json:"rect"`
}

// Windows returns the application windows, in tree order.
func (s *Sway) Windows() []Window {
	s.t.Helper()
	var tree node
	if err := json.Unmarshal(s.Msg("-t", "get_tree"), &tree); err != nil {
		s.t.Fatalf("swaymsg -t get_tree: %v", err)
	}
	var ws []Window
	tree.walk(func(n *node) {
		if n.PID != 0 {
			ws = append(ws, n.Window)
		}
	})
	return ws
}

type node struct {
	Window
	Nodes         []node `json:"nodes"`
	FloatingNodes []node `json:"floating_nodes"`
}

func (n *node) walk(f func(*node)) {
	f(n)
	for i := range n.Nodes {
		n.Nodes[i].walk(f)
	}
	for i := range n.FloatingNodes {
		n.FloatingNodes[i].walk(f)
	}
}

// Start starts a client in the background and stops it when the test
// ends.
func (s *Sway) Start(name string, args ...string) *exec.Cmd {
	s.t.Helper()
	cmd := s.Command(context.Background(), name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("starting %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	s.t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	return cmd
}

// WaitWindows waits until n application windows are mapped and returns
// them.
func (s *Sway) WaitWindows(n int) []Window {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ws := s.Windows()
		if len(ws) >= n {
			return ws
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%d windows after 10 s, want %d", len(ws), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
