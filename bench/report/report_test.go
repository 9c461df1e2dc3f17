package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"io"
	"math"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/summary.golden")

// TestSummaryGolden runs summary over two hand-made run directories: a
// gethelp run with bytes in idle-end, a dropped-datagram count and probes,
// and a VNC run whose first burst is followed by a late read.
func TestSummaryGolden(t *testing.T) {
	var out bytes.Buffer
	dirs := []string{"testdata/runs/gethelp-high", "testdata/runs/vnc-tight8"}
	if err := run(context.Background(), append([]string{"summary"}, dirs...), &out); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "summary.golden")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != string(want) {
		t.Errorf("summary differs from %s (run with -update to accept):\n%s", golden, got)
	}
	for _, line := range []string{
		"RESULT gethelp-high idle=0 typing=220 scroll=5000 window-move=300 fullscreen=200000 idle-end=50 total_bytes=205570 server_cpu_ms=1500 latency_p50_ms=4.0 latency_p95_ms=40.0 first_frame_ms=30.0",
		"RESULT vnc-tight8 idle=0 typing=200 scroll=20000 window-move=2000 fullscreen=100000 idle-end=0 total_bytes=122200 server_cpu_ms=750 latency_p50_ms=na latency_p95_ms=na first_frame_ms=19.5",
		"RATIO gethelp-high/vnc-tight8 total_bytes=1.682 scroll=0.250 window-move=0.150 server_cpu_ms=2.000",
	} {
		if !strings.Contains(out.String(), line+"\n") {
			t.Errorf("missing line %q", line)
		}
	}
}

// TestSummaryWayland: the runs of run.sh --wayland are compared with
// wayvnc's, and the compositor's CPU is reported under its name.
func TestSummaryWayland(t *testing.T) {
	tmp := t.TempDir()
	var dirs []string
	for _, c := range []struct{ from, label string }{
		{"gethelp-high", "wayland-gethelp-high"},
		{"vnc-tight8", "wayvnc-tight9"},
	} {
		dir := filepath.Join(tmp, c.label)
		if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "runs", c.from))); err != nil {
			t.Fatal(err)
		}
		meta, err := os.ReadFile(filepath.Join(dir, "meta"))
		if err != nil {
			t.Fatal(err)
		}
		m := strings.Replace(string(meta), "label="+c.from, "label="+c.label, 1)
		m = strings.ReplaceAll(m, "cpu_xvfb_", "cpu_display_") + "display=sway\n"
		if err := os.WriteFile(filepath.Join(dir, "meta"), []byte(m), 0o644); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
	}
	var out bytes.Buffer
	if err := run(context.Background(), append([]string{"summary"}, dirs...), &out); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"RATIO wayland-gethelp-high/wayvnc-tight9 total_bytes=1.682 scroll=0.250 window-move=0.150 server_cpu_ms=2.000\n",
		"  viewer CPU during the workload: 200 ms; sway (shared display) CPU: 150 ms\n",
	} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("missing %q in:\n%s", line, out.String())
		}
	}
	if strings.Contains(out.String(), "RATIO gethelp-high/") {
		t.Errorf("an X11 ratio from Wayland runs:\n%s", out.String())
	}
}

func TestReadPhasesErrors(t *testing.T) {
	tests := []struct {
		name, log, want string
	}{
		{"no end", "PHASE idle 1\n", "has no END"},
		{"end without phase", "END idle 2\n", "without its PHASE"},
		{"missing phases", "PHASE idle 1\nEND idle 2\n", "want [idle typing"},
		{"bad time", "PHASE idle x\n", "invalid syntax"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "phases.log")
			os.WriteFile(p, []byte(tt.log), 0o644)
			_, err := readPhases(p)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("readPhases: %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	tests := []struct {
		name string
		xs   []float64
		p    float64
		want float64
	}{
		{"empty", nil, 50, math.NaN()},
		{"one", []float64{7}, 95, 7},
		{"p50 of four", []float64{4, 1, 3, 2}, 50, 2},
		{"p95 of twenty", []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}, 95, 19},
		{"p100", []float64{1, 9, 5}, 100, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := percentile(tt.xs, tt.p)
			if got != tt.want && !(math.IsNaN(got) && math.IsNaN(tt.want)) {
				t.Errorf("percentile(%v, %v) = %v, want %v", tt.xs, tt.p, got, tt.want)
			}
		})
	}
}

func TestPhaseIn(t *testing.T) {
	p := phase{start: time.UnixMilli(1000), end: time.UnixMilli(2000)}
	tests := []struct {
		name string
		t    time.Time
		want bool
	}{
		{"before", time.UnixMilli(999), false},
		{"start", time.UnixMilli(1000), true},
		{"end millisecond", time.UnixMilli(2000).Add(999 * time.Microsecond), true},
		{"after", time.UnixMilli(2001), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.in(tt.t); got != tt.want {
				t.Errorf("in(%v) = %v", tt.t, got)
			}
		})
	}
}

// startRelay runs the relay subcommand in the background and returns its
// address and a function that stops it and returns its error.
func startRelay(t *testing.T, args ...string) (string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var err error
	var wg sync.WaitGroup
	wg.Go(func() {
		err = run(ctx, args, pw)
		pw.CloseWithError(err)
	})
	line, rerr := bufio.NewReader(pr).ReadString('\n')
	if rerr != nil {
		cancel()
		wg.Wait()
		t.Fatalf("relay did not start: %v", rerr)
	}
	go io.Copy(io.Discard, pr)
	return strings.TrimSpace(strings.TrimPrefix(line, "listening ")), func() error {
		cancel()
		wg.Wait()
		return err
	}
}

func TestTCPRelay(t *testing.T) {
	srv, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	got := make(chan []byte, 1) // what the server read, once the viewer side closed
	go func() {
		defer close(got)
		c, err := srv.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.Write([]byte("RFB 003.008\n"))
		b, _ := io.ReadAll(c)
		got <- b
	}()
	logPath := filepath.Join(t.TempDir(), "relay.log")
	addr, stop := startRelay(t, "relay", "-listen", "127.0.0.1:0", "-to", srv.Addr().String(), "-log", logPath)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 12)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "RFB 003.008\n" {
		t.Fatalf("read %q, %v", buf, err)
	}
	c.Write([]byte("hello"))
	c.Close()
	if b := <-got; string(b) != "hello" {
		t.Errorf("server read %q, want hello", b)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	lg, err := readByteLog(logPath)
	if err != nil {
		t.Fatal(err)
	}
	var c2s int64
	for _, a := range lg.c2s {
		c2s += a.bytes
	}
	if lg.opens != 1 || len(lg.s2c) != 1 || lg.s2c[0].bytes != 12 || c2s != 5 {
		t.Errorf("log: opens %d, s2c %v, c2s bytes %d; want 1, one read of 12, 5", lg.opens, lg.s2c, c2s)
	}
}

func TestUDPRelay(t *testing.T) {
	srv, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := srv.ReadFrom(buf)
			if err != nil {
				return
			}
			srv.WriteTo(append([]byte("echo:"), buf[:n]...), from)
		}
	})
	defer srv.Close() // before wg.Wait: ends the echo loop
	logPath := filepath.Join(t.TempDir(), "udp.log")
	addr, stop := startRelay(t, "udprelay", "-listen", "127.0.0.1:0", "-to", srv.LocalAddr().String(), "-log", logPath)
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte("ping"))
	buf := make([]byte, 100)
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "echo:ping" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	lg, err := readByteLog(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if lg.opens != 1 || len(lg.s2c) != 1 || lg.s2c[0].bytes != 9 || len(lg.c2s) != 1 || lg.c2s[0].bytes != 4 {
		t.Errorf("log: opens %d, s2c %v, c2s %v", lg.opens, lg.s2c, lg.c2s)
	}
}

func TestRelayRefusesNonLoopback(t *testing.T) {
	err := run(context.Background(), []string{"relay", "-listen", "0.0.0.0:0", "-to", "127.0.0.1:1", "-log", "x"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "not a loopback address") {
		t.Errorf("got %v", err)
	}
}
