package integration_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/session"
	"github.com/gethelp/gethelp/session/screen"
	"github.com/gethelp/gethelp/viewer"
)

// windows is a WindowLister whose windows the test sets.
type windows struct {
	mu      sync.Mutex
	list    []host.Window
	changed chan struct{}
}

func newWindows(list ...host.Window) *windows {
	return &windows{list: list, changed: make(chan struct{}, 1)}
}

func (w *windows) Windows(context.Context) ([]host.Window, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]host.Window(nil), w.list...), nil
}

func (w *windows) Changed() <-chan struct{} { return w.changed }

func (w *windows) set(list ...host.Window) {
	w.mu.Lock()
	w.list = list
	w.mu.Unlock()
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

// secretScreen is a changing grey screen with a red "secret" rectangle that
// stays where a masked window is.
type secretScreen struct {
	img    *screen.Image
	secret screen.Rect
	frame  int
	tick   *time.Ticker
}

func newSecretScreen(secret screen.Rect) *secretScreen {
	return &secretScreen{img: screen.NewImage(160, 120), secret: secret, tick: time.NewTicker(20 * time.Millisecond)}
}

func (s *secretScreen) Next(ctx context.Context) (host.Capture, error) {
	if s.frame > 0 {
		select {
		case <-s.tick.C:
		case <-ctx.Done():
			return host.Capture{}, ctx.Err()
		}
	}
	s.frame++
	g := byte(40 + s.frame%100)
	for y := 0; y < s.img.H; y++ {
		row := s.img.Row(y)
		for x := 0; x < s.img.W; x++ {
			px := row[4*x : 4*x+4]
			px[0], px[1], px[2] = g, g, g
			if (screen.Rect{X: x, Y: y, W: 1, H: 1}).Intersect(s.secret) != (screen.Rect{}) {
				px[0], px[1], px[2] = 0, 0, 0xff // red, BGRX
			}
		}
	}
	return host.Capture{Image: s.img, Dirty: []screen.Rect{s.img.Bounds()}}, nil
}

func (s *secretScreen) Monitors() []host.Monitor {
	return []host.Monitor{{Name: "screen", Rect: s.img.Bounds(), Primary: true}}
}

func (s *secretScreen) Close() error { s.tick.Stop(); return nil }

// Pixels of a masked window never reach the helper, in any frame.
func TestMaskedWindowNeverLeavesTheHost(t *testing.T) {
	secret := screen.Rect{X: 50, Y: 20, W: 40, H: 30}
	wl := newWindows(host.Window{Instance: "keepassxc", Class: "KeePassXC", Rect: secret})
	c := controlSession(t, host.Config{
		Source: newSecretScreen(secret), Level: screen.Full,
		Windows: wl, MaskedWindows: []string{"keepassxc"},
	})
	updates, stop := c.v.SubscribeScreen()
	defer stop()
	for n := 0; n < 10; n++ {
		select {
		case <-updates:
		case <-time.After(10 * time.Second):
			t.Fatal("no screen updates")
		}
		c.v.Framebuffer(func(img *screen.Image) {
			for y := 0; y < img.H; y++ {
				row := img.Row(y)
				for x := 0; x < img.W; x++ {
					if row[4*x+2] == 0xff && row[4*x] == 0 {
						t.Fatalf("frame %d shows a pixel of the masked window at %d,%d", n, x, y)
					}
				}
			}
			if p := img.Row(secret.Y + 1)[4*(secret.X+1):]; p[0]|p[1]|p[2] != 0 {
				t.Fatalf("the masked window is %v, not black", p[:3])
			}
		})
	}
}

// A secure prompt blanks the helper's view and stops their input, unless
// the person lets them answer administrator prompts.
func TestSecurePromptBlanksTheView(t *testing.T) {
	wl := newWindows()
	c := controlSession(t, host.Config{
		Source: newSecretScreen(screen.Rect{}), Level: screen.Full,
		Windows: wl, SecurePrompts: []string{"*pinentry*"}, AdminPrompts: true,
	})
	waitViewer(t, c.events, viewer.EventFrame)
	if err := c.h.Grant(session.CapControl); err != nil {
		t.Fatal(err)
	}
	waitViewer(t, c.events, viewer.EventControlGranted)

	wl.set(host.Window{Instance: "pinentry-gtk-2", Class: "Pinentry-gtk-2", Rect: screen.Rect{X: 10, Y: 10, W: 50, H: 30}})
	for {
		e := waitViewer(t, c.events, viewer.EventSharing)
		if e.Privacy == session.PrivacySecurePrompt {
			break
		}
	}
	// Nothing more arrives while the prompt is up, and input is dropped.
	drain(c.events)
	send(t, c.v, session.Input{Kind: session.InputText, Text: "secret"})
	waitLog(t, c.h.LogPath(), `"input_dropped"`, 1)
	select {
	case e := <-c.events:
		if e.Type == viewer.EventFrame {
			t.Fatal("a frame was sent while the secure prompt was up")
		}
	case <-time.After(300 * time.Millisecond):
	}

	// The person lets the helper answer it: the view and input come back.
	if err := c.h.Grant(session.CapAdminPrompts); err != nil {
		t.Fatal(err)
	}
	for {
		e := waitViewer(t, c.events, viewer.EventSharing)
		if e.Privacy == "" {
			break
		}
	}
	waitViewer(t, c.events, viewer.EventFrame)
	send(t, c.v, session.Input{Kind: session.InputText, Text: "answer"})
	c.inj.waitText(t, "answer")

	// Taking admin_prompts back blanks it again; the prompt going away
	// restores it.
	if err := c.h.Revoke(session.ByButton, session.CapAdminPrompts); err != nil {
		t.Fatal(err)
	}
	for {
		if e := waitViewer(t, c.events, viewer.EventSharing); e.Privacy == session.PrivacySecurePrompt {
			break
		}
	}
	wl.set()
	for {
		if e := waitViewer(t, c.events, viewer.EventSharing); e.Privacy == "" {
			break
		}
	}
	waitViewer(t, c.events, viewer.EventFrame)
}

func drain(ch <-chan viewer.Event) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}
