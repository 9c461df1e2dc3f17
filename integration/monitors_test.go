package integration_test

import (
	"context"
	"testing"
	"time"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/session/screen"
	"github.com/gethelp/gethelp/viewer"
)

// twoMonitors is a still screen made of two monitors side by side, each a
// solid colour, that can be asked for the whole picture again.
type twoMonitors struct {
	img     *screen.Image
	refresh chan struct{}
	first   bool
}

func newTwoMonitors() *twoMonitors {
	img := screen.NewImage(300, 200) // left 100x200 red, right 200x200 blue
	for y := 0; y < img.H; y++ {
		row := img.Row(y)
		for x := 0; x < img.W; x++ {
			if x < 100 {
				row[4*x+2] = 0xff
			} else {
				row[4*x] = 0xff
			}
		}
	}
	return &twoMonitors{img: img, refresh: make(chan struct{}, 1), first: true}
}

func (s *twoMonitors) Next(ctx context.Context) (host.Capture, error) {
	if !s.first {
		select {
		case <-s.refresh:
		case <-ctx.Done():
			return host.Capture{}, ctx.Err()
		}
	}
	s.first = false
	return host.Capture{Image: s.img, Dirty: []screen.Rect{s.img.Bounds()}}, nil
}

func (s *twoMonitors) Refresh() {
	select {
	case s.refresh <- struct{}{}:
	default:
	}
}

func (s *twoMonitors) Monitors() []host.Monitor {
	return []host.Monitor{
		{Name: "LEFT", Rect: screen.Rect{X: 0, Y: 0, W: 100, H: 200}, Primary: true},
		{Name: "RIGHT", Rect: screen.Rect{X: 100, Y: 0, W: 200, H: 200}},
	}
}

func (s *twoMonitors) Close() error { return nil }

// waitFrame waits for a frame event of the given size.
func waitFrame(t *testing.T, ch <-chan viewer.Event, w, h int) {
	t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case e := <-ch:
			if e.Type == viewer.EventFrame && e.W == w && e.H == h {
				return
			}
		case <-timeout:
			t.Fatalf("no %dx%d frame", w, h)
		}
	}
}

// sharedSession runs a host sharing twoMonitors (monitor: -1 lets the
// helper choose) and a viewer connected to it, until the test ends.
func sharedSession(t *testing.T, monitor int) (*viewer.Viewer, <-chan viewer.Event) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	h, err := host.New(host.Config{
		ListenAddr: "127.0.0.1:0", TTL: time.Hour, HostName: "Alice",
		Source: newTwoMonitors(), Level: screen.Full, Monitor: monitor,
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	hostDone := make(chan error, 1)
	go func() { hostDone <- h.Run(ctx) }()
	events := make(chan viewer.Event, 100)
	v, err := viewer.Open(ctx, viewer.Config{
		Invitation: h.Invitation(), Password: h.Password(), Name: "Bob",
		OnEvent: func(e viewer.Event) { events <- e },
	})
	if err != nil {
		cancel()
		<-hostDone
		h.Close()
		t.Fatal(err)
	}
	viewerDone := make(chan error, 1)
	go func() { viewerDone <- v.Run(ctx) }()
	t.Cleanup(func() { v.Disconnect(""); <-viewerDone; cancel(); <-hostDone; h.Close() })
	return v, events
}

func TestHelperPicksAMonitor(t *testing.T) {
	v, events := sharedSession(t, -1)

	waitFrame(t, events, 300, 200) // all monitors at first
	if err := v.ShowMonitor(1); err != nil {
		t.Fatal(err)
	}
	waitFrame(t, events, 200, 200)
	v.Framebuffer(func(img *screen.Image) {
		for _, p := range [][2]int{{0, 0}, {199, 199}, {100, 50}} {
			px := img.Row(p[1])[4*p[0]:]
			if px[0] != 0xff || px[2] != 0 {
				t.Errorf("pixel %v of monitor RIGHT is %v, want blue", p, px[:3])
			}
		}
	})
	if err := v.ShowMonitor(0); err != nil {
		t.Fatal(err)
	}
	waitFrame(t, events, 100, 200)
}

func TestPersonSharesOneMonitorOnly(t *testing.T) {
	v, events := sharedSession(t, 0)

	waitFrame(t, events, 100, 200)
	// The helper asks for the other monitor; the person said no.
	if err := v.ShowMonitor(1); err != nil {
		t.Fatal(err)
	}
	v.Chat("sync") // ordered after the request on the control stream
	time.Sleep(300 * time.Millisecond)
	v.Framebuffer(func(img *screen.Image) {
		if img.W != 100 {
			t.Fatalf("the helper switched to a monitor the person did not share: %dx%d", img.W, img.H)
		}
		for y := 0; y < img.H; y++ {
			if px := img.Row(y)[:4]; px[2] != 0xff {
				t.Fatalf("row %d shows %v, not the shared red monitor", y, px[:3])
			}
		}
	})
}
