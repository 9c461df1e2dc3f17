//go:build linux

package portal_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gethelp/gethelp/host/portal"
	"github.com/gethelp/gethelp/host/portal/portaltest"
	"github.com/gethelp/gethelp/session/screen"
)

// fakeGstEnv, when set, makes the test binary a stand-in for
// gst-launch-1.0 that plays the script it holds (see fakeGst). Debian
// 12's pipewiresink crashes when its own caps change, so a stream that
// changes size mid-way is played by the stand-in.
const fakeGstEnv = "GETHELP_PORTAL_FAKE_GST"

// fakeGst writes gst-launch-1.0 -v's lines on stdout and frames on fd 4
// as the script says, one command after another, separated by ";":
//
//	caps WxH FORMAT   the identity's caps event
//	frame AARRGGBB    a buffer of one colour, of the last caps' size
//	junk N            a buffer of N bytes
//	exit              an ERROR line on stderr, exit status 1
//	hold              wait until killed
func fakeGst(script string) int {
	frames := os.NewFile(4, "frames")
	if _, err := os.NewFile(3, "pipewire").Stat(); err != nil {
		fmt.Fprintln(os.Stderr, "fake gst-launch-1.0: no fd 3:", err)
		return 1
	}
	const prefix = "/GstPipeline:pipeline0/GstIdentity:gethelp: last-message = "
	w, h := 0, 0
	for _, cmd := range strings.Split(script, ";") {
		f := strings.Fields(cmd)
		switch f[0] {
		case "caps":
			fmt.Sscanf(f[1], "%dx%d", &w, &h)
			caps := fmt.Sprintf(`"video/x-raw\,\ format\=\(string\)%s\,\ width\=\(int\)%d\,\ height\=\(int\)%d\,\ framerate\=\(fraction\)0/1";`, f[2], w, h)
			fmt.Printf("%sevent   ******* (gethelp:sink) E (type: caps (12814), GstEventCaps, caps=(GstCaps)%s) 0x55d0\n", prefix, caps)
		case "frame", "junk":
			var data []byte
			if f[0] == "frame" {
				c, _ := strconv.ParseUint(f[1], 16, 32)
				data = solid(w, h, uint32(c))
			} else {
				n, _ := strconv.Atoi(f[1])
				data = make([]byte, n)
			}
			fmt.Printf("%schain   ******* (gethelp:sink) (%d bytes, dts: none, pts: 0:00:01.000000000, duration: none, offset: -1, offset_end: -1, flags: 00004000 tag-memory , meta: none) 0x7f00\n", prefix, len(data))
			if _, err := frames.Write(data); err != nil {
				return 1
			}
		case "exit":
			fmt.Fprintln(os.Stderr, "ERROR: from element /GstPipeline:pipeline0/GstPipeWireSrc:pipewiresrc0: stream error: fake failure")
			return 1
		case "hold":
			select {}
		}
	}
	return 0
}

// openFake opens a Source whose gst-launch-1.0 is the stand-in playing
// script.
func openFake(t *testing.T, script string) (*portal.Source, error) {
	env := portaltest.Start(t, 64, 64, nil)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(fakeGstEnv, script)
	src, err := portal.Open(timeout(t), portal.Options{Bus: env.Bus.Address, GstLaunch: exe, Logger: logger(t)})
	if err == nil {
		t.Cleanup(func() { src.Close() })
	}
	return src, err
}

// TestSizeChange checks that a stream whose size changes mid-way (a
// monitor's resolution changed) is followed: the framing stays right
// (also past a buffer that matches no caps), the next capture is whole,
// at the new size, and Monitors says so.
func TestSizeChange(t *testing.T) {
	src, err := openFake(t, "caps 32x24 BGRx; frame ff3366cc; junk 100; frame ff3366cc; caps 16x12 BGRx; frame ff00ff00; hold")
	if err != nil {
		t.Fatal(err)
	}
	ctx := timeout(t)
	want := solid(16, 12, 0xff00ff00)
	for {
		c, err := src.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if c.Image.W == 32 && c.Image.H == 24 && slices.Equal(pixels(c.Image), solid(32, 24, 0xff3366cc)) {
			continue
		}
		if c.Image.W != 16 || c.Image.H != 12 || !slices.Equal(pixels(c.Image), want) {
			t.Fatalf("capture %dx%d, want the 32x24 frames then the 16x12 one", c.Image.W, c.Image.H)
		}
		if !slices.Equal(c.Dirty, []screen.Rect{{W: 16, H: 12}}) {
			t.Errorf("dirty after the size changed = %v, want the whole image", c.Dirty)
		}
		break
	}
	if m := src.Monitors(); len(m) != 1 || m[0].Rect != (screen.Rect{W: 16, H: 12}) {
		t.Errorf("Monitors = %+v, want 16x12", m)
	}
}

// TestStreamEnded checks that gst-launch-1.0's end reaches Next with its
// error line.
func TestStreamEnded(t *testing.T) {
	src, err := openFake(t, "caps 8x8 BGRx; frame ff000000; exit")
	if err != nil {
		t.Fatal(err)
	}
	ctx := timeout(t)
	for {
		_, err := src.Next(ctx)
		if err == nil {
			continue
		}
		if !errors.Is(err, portal.ErrStreamEnded) || !strings.Contains(err.Error(), "fake failure") {
			t.Fatalf("Next = %v, want ErrStreamEnded with gst's error", err)
		}
		break
	}
}

// TestWrongFormat checks that frames in another format than BGRx are
// refused, not misread.
func TestWrongFormat(t *testing.T) {
	_, err := openFake(t, "caps 8x8 RGBA; frame ff000000; hold")
	if !errors.Is(err, portal.ErrStreamEnded) || !strings.Contains(err.Error(), "RGBA") {
		t.Fatalf("Open = %v, want ErrStreamEnded naming RGBA", err)
	}
}

var _ = binary.LittleEndian
