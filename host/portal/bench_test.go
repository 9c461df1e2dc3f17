//go:build linux

package portal_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gethelp/gethelp/host/portal"
	"github.com/gethelp/gethelp/host/portal/portaltest"
	"github.com/gethelp/gethelp/session/screen"
)

// cpuTicks returns the user and system clock ticks (1/100 s) process pid
// used so far.
func cpuTicks(b *testing.B, pid int) float64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		b.Fatal(err)
	}
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	u, _ := strconv.ParseFloat(f[11], 64) // utime, field 14
	s, _ := strconv.ParseFloat(f[12], 64) // stime, field 15
	return u + s
}

// selfCPU returns the CPU time this process used so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkStream1080p measures the portal path on a 1920×1080 stream of
// 30 frames a second (the test's screen sends one whether or not anything
// changed, as a compositor may). idle: a still screen, per frame read:
// CPU of gst-launch-1.0 and of this process (reading the pipe and
// comparing). change: a 64×64 square changes per op; ns/op is the time
// from the screen's input to Next returning it, which includes waiting
// for the screen's next frame (up to 33 ms at 30 Hz).
func BenchmarkStream1080p(b *testing.B) {
	const w, h = 1920, 1080
	env := portaltest.Start(b, w, h, nil)
	src, err := portal.Open(context.Background(), portal.Options{Bus: env.Bus.Address})
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	ctx := context.Background()
	frame := solid(w, h, 0xff204060)
	if err := env.Screen.Show(frame); err != nil {
		b.Fatal(err)
	}
	for {
		c, err := src.Next(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if c.Image.Pix[0] == 0x60 {
			break
		}
	}
	pid := portal.GstPID(src)
	b.Run("idle", func(b *testing.B) {
		start, gst0, self0 := time.Now(), cpuTicks(b, pid), selfCPU()
		n0, busy0 := portal.FramesRead(src), portal.Busy(src)
		for portal.FramesRead(src) < n0+uint64(b.N) {
			time.Sleep(5 * time.Millisecond)
		}
		wall := time.Since(start)
		b.ReportMetric(float64((portal.Busy(src)-busy0).Microseconds())/1000/float64(portal.FramesRead(src)-n0), "ms-read+compare/frame")
		b.ReportMetric(100*(cpuTicks(b, pid)-gst0)/100/wall.Seconds(), "gst-%cpu")
		b.ReportMetric(100*(selfCPU()-self0).Seconds()/wall.Seconds(), "go-%cpu")
	})
	b.Run("change", func(b *testing.B) {
		gst0 := cpuTicks(b, pid)
		start := time.Now()
		for i := 0; b.Loop(); i++ {
			r := screen.Rect{X: 64 * (i % 30), Y: 64 * (i % 16), W: 64, H: 64}
			color := uint32(0xff000000 | i&0xffffff)
			paint(frame, w, r, color)
			if err := env.Screen.Show(frame); err != nil {
				b.Fatal(err)
			}
			for {
				c, err := src.Next(ctx)
				if err != nil {
					b.Fatal(err)
				}
				o := r.Y*c.Image.Stride + 4*r.X
				if c.Image.Pix[o] == byte(color) && c.Image.Pix[o+1] == byte(color>>8) && c.Image.Pix[o+2] == byte(color>>16) {
					break
				}
			}
		}
		b.ReportMetric(100*(cpuTicks(b, pid)-gst0)/100/time.Since(start).Seconds(), "gst-%cpu")
	})
}
