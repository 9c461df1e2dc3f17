//go:build linux

// Package portaltest runs what the tests of host/portal need: a private
// D-Bus session bus (dbus-daemon), a private PipeWire with a screen-like
// video source whose frames the test writes, and a fake
// xdg-desktop-portal (Portal) on that bus, which hands out real PipeWire
// connections and records the input it is asked to perform.
//
// PipeWire runs without a session manager: the Linker does what
// WirePlumber would, linking every new video input to the screen.
package portaltest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Env is everything a test of the portal path needs, started by Start.
type Env struct {
	Bus      *Bus
	PipeWire *PipeWire
	Screen   *Screen
	Portal   *Portal
}

// Start starts a bus, a PipeWire with a w×h screen, and the fake portal
// on the bus offering that screen (configure p before: its zero value
// offers ScreenCast and RemoteDesktop). Everything stops when the test
// ends. The test is skipped when the programs are not installed.
func Start(t testing.TB, w, h int, p *Portal) *Env {
	t.Helper()
	Require(t)
	e := &Env{Bus: StartBus(t), PipeWire: StartPipeWire(t)}
	e.Screen = e.PipeWire.StartScreen(t, w, h)
	if p == nil {
		p = &Portal{}
	}
	p.PipeWire = e.PipeWire
	if p.Node == 0 {
		p.Node = e.Screen.Node
	}
	if p.Size == ([2]int32{}) {
		p.Size = [2]int32{int32(w), int32(h)}
	}
	p.Start(t, e.Bus.Address)
	e.Portal = p
	return e
}

// Require skips the test unless dbus-daemon, PipeWire (pipewire,
// pw-link, pw-dump) and GStreamer with its PipeWire plugin are installed.
func Require(t testing.TB) {
	t.Helper()
	for _, prog := range []string{"dbus-daemon", "pipewire", "pw-link", "pw-dump", "gst-launch-1.0", "gst-inspect-1.0"} {
		if _, err := exec.LookPath(prog); err != nil {
			t.Skipf("%s is not installed: apt-get install dbus-daemon pipewire gstreamer1.0-pipewire gstreamer1.0-tools gstreamer1.0-plugins-base (the test script installs them)", prog)
		}
	}
	for _, elem := range []string{"pipewiresrc", "pipewiresink", "compositor", "rawvideoparse", "videoconvert"} {
		if exec.Command("gst-inspect-1.0", elem).Run() != nil {
			t.Skipf("GStreamer has no %s: apt-get install gstreamer1.0-pipewire gstreamer1.0-plugins-base (the test script installs them)", elem)
		}
	}
}

// Bus is a private session bus.
type Bus struct {
	Address string // for dbus.Connect and $DBUS_SESSION_BUS_ADDRESS
}

// StartBus starts dbus-daemon with the session bus's configuration on a
// socket in a temporary directory, and stops it when the test ends.
func StartBus(t testing.TB) *Bus {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("dbus-daemon", "--session", "--nofork", "--print-address=1",
		"--address=unix:path="+filepath.Join(dir, "bus"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard // it warns that it cannot raise its fd limit
	start(t, cmd, "dbus-daemon")
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon printed no address: %v", err)
	}
	go io.Copy(io.Discard, out)
	return &Bus{Address: strings.TrimSpace(line)}
}

// PipeWire is a private PipeWire daemon.
type PipeWire struct {
	RuntimeDir string // its $XDG_RUNTIME_DIR
	Socket     string // RuntimeDir/pipewire-0
}

// StartPipeWire starts pipewire in a temporary runtime directory (off
// any session bus) and stops it when the test ends.
func StartPipeWire(t testing.TB) *PipeWire {
	t.Helper()
	dir := t.TempDir()
	p := &PipeWire{RuntimeDir: dir, Socket: filepath.Join(dir, "pipewire-0")}
	cmd := exec.Command("pipewire")
	cmd.Env = p.Env()
	logf, err := os.Create(filepath.Join(dir, "pipewire.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	start(t, cmd, "pipewire")
	t.Cleanup(func() { logf.Close() })
	waitFor(t, "the PipeWire socket", func() bool {
		_, err := os.Stat(p.Socket)
		return err == nil
	})
	return p
}

// Env returns the environment of a PipeWire client of p.
func (p *PipeWire) Env() []string {
	env := []string{"XDG_RUNTIME_DIR=" + p.RuntimeDir, "DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent", "PIPEWIRE_LOG_SYSTEMD=false"}
	for _, v := range os.Environ() {
		if !strings.HasPrefix(v, "XDG_RUNTIME_DIR=") && !strings.HasPrefix(v, "DBUS_SESSION_BUS_ADDRESS=") &&
			!strings.HasPrefix(v, "PIPEWIRE_") {
			env = append(env, v)
		}
	}
	return env
}

// Connect returns a new connection to p, as the portal's
// OpenPipeWireRemote hands out.
func (p *PipeWire) Connect() (*os.File, error) {
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	if err := syscall.Connect(fd, &syscall.SockaddrUnix{Name: p.Socket}); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("connecting to PipeWire: %w", err)
	}
	return os.NewFile(uintptr(fd), "pipewire"), nil
}

// object is an entry of pw-dump's output.
type object struct {
	ID   uint32 `json:"id"`
	Type string `json:"type"`
	Info struct {
		Props map[string]any `json:"props"`
	} `json:"info"`
}

// dump returns pw-dump's objects.
func (p *PipeWire) dump(t testing.TB) []object {
	cmd := exec.Command("pw-dump")
	cmd.Env = p.Env()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pw-dump: %v", err)
	}
	var objs []object
	if err := json.Unmarshal(out, &objs); err != nil {
		t.Fatalf("pw-dump: %v", err)
	}
	return objs
}

// Screen is a video source on PipeWire that acts as a monitor: a
// compositor over a black background, 30 frames a second whether or not
// anything changed (as a desktop's stream may), showing the last frame
// the test wrote.
type Screen struct {
	W, H int
	Node uint32 // its PipeWire node
	Name string // its node.name

	mu    sync.Mutex
	in    io.WriteCloser
	links int // input ports the linker linked to it
	p     *PipeWire
}

// StartScreen starts a w×h screen on p and the Linker that links every
// new video input to it.
func (p *PipeWire) StartScreen(t testing.TB, w, h int) *Screen {
	t.Helper()
	s := &Screen{W: w, H: h, Name: fmt.Sprintf("gethelp-test-screen-%d", time.Now().UnixNano()), p: p}
	caps := fmt.Sprintf("video/x-raw,format=BGRx,width=%d,height=%d,framerate=30/1", w, h)
	args := strings.Fields(fmt.Sprintf(
		"-q compositor name=c background=black ! %s ! pipewiresink mode=provide stream-properties=p,media.class=Video/Source,node.name=%s "+
			"videotestsrc is-live=true pattern=black ! %s ! c.sink_0 "+
			"fdsrc fd=0 do-timestamp=true ! rawvideoparse width=%d height=%d format=bgrx framerate=30/1 ! queue ! c.sink_1",
		caps, s.Name, caps, w, h))
	cmd := exec.Command("gst-launch-1.0", args...)
	cmd.Env = p.Env()
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	s.in = in
	cmd.Stderr = os.Stderr
	start(t, cmd, "the screen's gst-launch-1.0")
	waitFor(t, "the screen's PipeWire node", func() bool {
		for _, o := range p.dump(t) {
			if o.Type == "PipeWire:Interface:Node" && o.Info.Props["node.name"] == s.Name {
				s.Node = o.ID
				return true
			}
		}
		return false
	})
	s.link(t)
	return s
}

// Show makes frame (W*H*4 bytes, BGRx) the screen's picture from its next
// frame on.
func (s *Screen) Show(frame []byte) error {
	if len(frame) != 4*s.W*s.H {
		return fmt.Errorf("portaltest: a frame of %d bytes, not %d", len(frame), 4*s.W*s.H)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.in.Write(frame)
	return err
}

// Links returns how many inputs the linker linked to the screen.
func (s *Screen) Links() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.links
}

// link runs the Linker: pw-link -m watches the input ports, and each new
// one is linked to the screen's output, as a session manager would link
// a portal client's stream to the node it targets.
func (s *Screen) link(t testing.TB) {
	var out uint32
	waitFor(t, "the screen's output port", func() bool {
		for _, o := range s.p.dump(t) {
			if o.Type == "PipeWire:Interface:Port" && o.Info.Props["port.direction"] == "out" &&
				fmt.Sprint(o.Info.Props["node.id"]) == strconv.FormatUint(uint64(s.Node), 10) {
				out = o.ID
				return true
			}
		}
		return false
	})
	cmd := exec.Command("pw-link", "-m", "-I", "-i")
	cmd.Env = s.p.Env()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	start(t, cmd, "pw-link -m")
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			f := strings.Fields(strings.TrimPrefix(sc.Text(), "+"))
			if strings.HasPrefix(sc.Text(), "-") || len(f) < 2 {
				continue
			}
			in, err := strconv.ParseUint(f[0], 10, 32)
			if err != nil {
				continue
			}
			link := exec.Command("pw-link", strconv.FormatUint(uint64(out), 10), strconv.FormatUint(in, 10))
			link.Env = s.p.Env()
			if msg, err := link.CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "portaltest: linking %s: %v %s\n", f[1], err, msg)
				continue
			}
			s.mu.Lock()
			s.links++
			s.mu.Unlock()
		}
	}()
}

// start starts cmd in its own process group and stops the group when the
// test ends.
func start(t testing.TB, cmd *exec.Cmd, what string) {
	t.Helper()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", what, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})
}

// waitFor polls cond until it holds, for at most 20 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("%s did not come within 20 s", what)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
