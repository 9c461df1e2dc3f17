//go:build linux

package main_test

import (
	"bytes"
	"context"
	enc "encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gethelp/gethelp/host/portal/portaltest"
)

// gethelp host invite on a Wayland desktop that is not wlroots-based
// (GNOME, KDE; here a compositor offering nothing, and the fake portal on
// a private bus with a real PipeWire): the host falls back to the desktop
// portal by itself, tells the person what that path cannot do before the
// desktop's dialog, the helper sees the screen, and with consent types
// through RemoteDesktop; the desktop's restore token is kept.
func TestHostOnPortal(t *testing.T) {
	if testing.Short() {
		t.Skip("starts dbus-daemon, PipeWire and GStreamer")
	}
	const w, h = 320, 240
	pe := portaltest.Start(t, w, h, nil)
	runtime := t.TempDir()
	fakeCompositor(t, filepath.Join(runtime, "wayland-7"))
	e := newEnv(t)
	e.vars = append(e.vars, "WAYLAND_DISPLAY=wayland-7", "XDG_RUNTIME_DIR="+runtime, "DISPLAY=",
		"DBUS_SESSION_BUS_ADDRESS="+pe.Bus.Address)

	hp, inv := e.hostInvite("--bandwidth", "full")
	if !bytes.Contains([]byte(hp.stderr.String()), []byte("cannot hide password prompts")) {
		t.Errorf("the person was not told what the portal path cannot do: %s", hp.stderr)
	}
	frame := bytes.Repeat([]byte{0xcc, 0x66, 0x33, 0xff}, w*h)
	if err := pe.Screen.Show(frame); err != nil {
		t.Fatal(err)
	}
	v := e.viewer(str(inv, "file"), str(inv, "password"))
	v.next("connected")
	for {
		f := v.next("frame")
		if f["w"] == float64(w) && f["h"] == float64(h) {
			break
		}
	}
	v.send(map[string]any{"type": "request_control"})
	hp.next("control_requested")
	hp.send(map[string]any{"type": "grant", "capabilities": []string{"control"}})
	v.next("control_granted")
	v.send(map[string]any{"type": "type_text", "text": "Hi\n"})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	calls, err := pe.Portal.WaitCalls(ctx, "NotifyKeyboardKeysym", 6)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range calls {
		got = append(got, fmt.Sprint(c.Args))
	}
	if want := "[[72 1] [72 0] [105 1] [105 0] [65293 1] [65293 0]]"; fmt.Sprint(got) != want {
		t.Errorf("keysyms %v, want %s", got, want)
	}
	data, err := os.ReadFile(filepath.Join(e.state, "gethelp", "portal-tokens.json"))
	if err != nil || !bytes.Contains(data, []byte(`"remotedesktop": "token-1"`)) {
		t.Errorf("the desktop's restore token was not kept: %q, %v", data, err)
	}
}

// fakeCompositor listens on a Wayland socket at path and answers as a
// compositor that offers no globals at all: wlroots.Open finds no
// screencopy there, as on GNOME or KDE.
func fakeCompositor(t *testing.T, path string) {
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				var hdr [8]byte
				for {
					if _, err := io.ReadFull(c, hdr[:]); err != nil {
						return
					}
					obj, op, size := enc.LittleEndian.Uint32(hdr[:4]), enc.LittleEndian.Uint16(hdr[4:6]), enc.LittleEndian.Uint16(hdr[6:8])
					body := make([]byte, int(size)-8)
					if _, err := io.ReadFull(c, body); err != nil {
						return
					}
					if obj == 1 && op == 0 { // wl_display.sync(callback): done, then delete_id
						cb := enc.LittleEndian.Uint32(body)
						var ev []byte
						ev = enc.LittleEndian.AppendUint32(ev, cb)
						ev = enc.LittleEndian.AppendUint32(ev, 12<<16|0)
						ev = enc.LittleEndian.AppendUint32(ev, 1)
						ev = enc.LittleEndian.AppendUint32(ev, 1)
						ev = enc.LittleEndian.AppendUint32(ev, 12<<16|1)
						ev = enc.LittleEndian.AppendUint32(ev, cb)
						if _, err := c.Write(ev); err != nil {
							return
						}
					}
				}
			}()
		}
	}()
}

// When the person cancels the desktop's dialog, gethelp says so in one
// line and shares nothing.
func TestHostPortalDeclined(t *testing.T) {
	if testing.Short() {
		t.Skip("starts dbus-daemon, PipeWire and GStreamer")
	}
	pe := portaltest.Start(t, 64, 64, &portaltest.Portal{Cancel: true})
	e := newEnv(t)
	e.vars = append(e.vars, "DBUS_SESSION_BUS_ADDRESS="+pe.Bus.Address)
	_, stderr, code := e.run("", "host", "invite", "--source", "portal", "--no-ui", "--listen", "127.0.0.1:0", "--out", e.path("inv.gethelp"))
	if code != 1 || !strings.Contains(stderr, "gethelp: you declined screen sharing in the desktop's dialog: nothing is shared\n") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
	if _, err := os.Stat(e.path("inv.gethelp")); err == nil {
		t.Error("an invitation was made although nothing is shared")
	}
}
