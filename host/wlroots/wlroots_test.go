package wlroots_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/host/wlroots"
	"github.com/gethelp/gethelp/host/wlroots/wltest"
	"github.com/gethelp/gethelp/session/screen"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func logger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

func openSource(t *testing.T, s *wltest.Sway) *wlroots.Source {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	src, err := wlroots.Open(ctx, s.Socket, wlroots.Options{Logger: logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

func openInjector(t *testing.T, s *wltest.Sway) *wlroots.Injector {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	inj, err := wlroots.OpenInjector(ctx, s.Display, wlroots.Options{RuntimeDir: s.RuntimeDir, Logger: logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inj.Close() })
	return inj
}

// next calls src.Next with a timeout.
func next(src *wlroots.Source, d time.Duration) (host.Capture, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return src.Next(ctx)
}

// settle returns once the screen has not changed for quiet.
func settle(t *testing.T, src *wlroots.Source, quiet time.Duration) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		_, err := next(src, quiet)
		if errors.Is(err, context.DeadlineExceeded) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("the screen kept changing for 10 s")
}

func inject(t *testing.T, inj *wlroots.Injector, events ...host.InputEvent) {
	t.Helper()
	for _, e := range events {
		if err := inj.Inject(context.Background(), e); err != nil {
			t.Fatalf("Inject(%+v): %v", e, err)
		}
	}
}

func TestCaptureEqualsGrim(t *testing.T) {
	s := wltest.Start(t, 800, 600, "")
	s.Start("foot", "sh", "-c", "printf 'gethelp \\033[31mred\\033[0m lossless\\n'; ls -l /; exec sleep 60")
	s.WaitWindows(1)
	src := openSource(t, s)
	settle(t, src, 300*time.Millisecond)

	src.Refresh()
	start := time.Now()
	c, err := next(src, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("whole capture of %dx%d: %v", c.Image.W, c.Image.H, time.Since(start))
	if len(c.Dirty) != 1 || c.Dirty[0] != c.Image.Bounds() {
		t.Errorf("Dirty of a refreshed capture = %v, want the whole image", c.Dirty)
	}
	if got := src.Monitors(); len(got) != 1 || got[0].Rect != (screen.Rect{W: 800, H: 600}) || got[0].Name != "HEADLESS-1" || !got[0].Primary {
		t.Errorf("Monitors() = %+v", got)
	}

	file := filepath.Join(s.Dir, "grim.png")
	s.Run("grim", "-c", "-o", "HEADLESS-1", file)
	if n := differing(t, c.Image, file); n > 0 {
		t.Errorf("%d pixels differ from grim's", n)
	}
	colours := map[[3]byte]bool{}
	for y := 0; y < c.Image.H; y++ {
		row := c.Image.Row(y)
		for x := 0; x < len(row); x += 4 {
			colours[[3]byte{row[x], row[x+1], row[x+2]}] = true
		}
	}
	if len(colours) < 3 {
		t.Errorf("the capture has %d colours: foot's text is not in it", len(colours))
	}
}

func TestIdleScreenBlocksAndDamageIsReported(t *testing.T) {
	s := wltest.Start(t, 640, 480, "")
	src := openSource(t, s)
	c, err := next(src, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Dirty) != 1 || c.Dirty[0] != c.Image.Bounds() {
		t.Errorf("first Dirty = %v, want the whole image", c.Dirty)
	}
	settle(t, src, 200*time.Millisecond)
	if _, err := next(src, 300*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next on an idle screen = %v, want it to block", err)
	}

	// swaybg draws the new background a moment after the change.
	s.Msg("output", "HEADLESS-1", "bg", "#ff8000", "solid_color")
	for {
		c, err = next(src, 5*time.Second)
		if err != nil {
			t.Fatal("the new background did not show:", err)
		}
		if len(c.Dirty) == 0 {
			t.Fatal("no dirty rects after a change")
		}
		if px := c.Image.Row(240)[4*320:]; px[0] == 0x00 && px[1] == 0x80 && px[2] == 0xff {
			break
		}
	}

	// Refresh makes a waiting Next return the whole image.
	settle(t, src, 200*time.Millisecond)
	go func() {
		time.Sleep(50 * time.Millisecond)
		src.Refresh()
	}()
	c, err = next(src, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Dirty) != 1 || c.Dirty[0] != c.Image.Bounds() {
		t.Errorf("Dirty after Refresh = %v, want the whole image", c.Dirty)
	}

	src.Close()
	if _, err := next(src, time.Second); err == nil {
		t.Error("Next after Close succeeded")
	}
}

// showsColour reports whether img has the colour rgb at (x, y).
func showsColour(img *screen.Image, x, y int, rgb [3]byte) bool {
	px := img.Row(y)[4*x:]
	return px[2] == rgb[0] && px[1] == rgb[1] && px[0] == rgb[2]
}

// NextAfter holds a change back until its time, and a change held back
// when its context ends is returned by the next call.
func TestNextAfter(t *testing.T) {
	s := wltest.Start(t, 640, 480, "")
	src := openSource(t, s)
	if _, err := next(src, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	settle(t, src, 200*time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	notBefore := time.Now().Add(300 * time.Millisecond)
	s.Msg("output", "HEADLESS-1", "bg", "#ff8000", "solid_color")
	c, err := src.NextAfter(ctx, notBefore)
	if err != nil {
		t.Fatal(err)
	}
	if now := time.Now(); now.Before(notBefore) {
		t.Errorf("NextAfter returned %v before its time", notBefore.Sub(now))
	}
	if len(c.Dirty) == 0 {
		t.Error("no dirty rects after a change")
	}
	orange := [3]byte{0xff, 0x80, 0x00}
	for !showsColour(c.Image, 320, 240, orange) {
		if c, err = next(src, 5*time.Second); err != nil {
			t.Fatal("the new background did not show:", err)
		}
	}
	settle(t, src, 200*time.Millisecond)

	// The wait ends with ctx; what changed meanwhile is not lost.
	s.Msg("output", "HEADLESS-1", "bg", "#0080ff", "solid_color")
	short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancelShort()
	if _, err := src.NextAfter(short, time.Now().Add(time.Hour)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("NextAfter past its context = %v, want context.DeadlineExceeded", err)
	}
	time.Sleep(300 * time.Millisecond) // swaybg has drawn by then
	blue := [3]byte{0x00, 0x80, 0xff}
	for {
		c, err := next(src, 2*time.Second)
		if err != nil {
			t.Fatal("the change made during the cancelled wait did not show:", err)
		}
		if showsColour(c.Image, 320, 240, blue) {
			break
		}
	}
}

// waitFile waits until the file holds want.
func waitFile(t *testing.T, path, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	var got []byte
	for time.Now().Before(deadline) {
		got, _ = os.ReadFile(path)
		if string(got) == want {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s holds %q, want %q", filepath.Base(path), got, want)
}

func TestTypeIntoFoot(t *testing.T) {
	s := wltest.Start(t, 640, 480, "")
	inj := openInjector(t, s)
	s.Start("foot", "sh", "-c", "cat > typed.txt")
	s.WaitWindows(1)
	out := filepath.Join(s.Dir, "typed.txt")

	inject(t, inj, host.InputEvent{Kind: host.InputText, Text: "Hello, World!\n"})
	waitFile(t, out, "Hello, World!\n")

	// Keys as the browser names them, with Shift held by the helper.
	var events []host.InputEvent
	key := func(k string, down bool) {
		events = append(events, host.InputEvent{Kind: host.InputKey, Key: k, Down: down})
	}
	key("Shift", true)
	key("A", true)
	key("A", false)
	key("1", true) // with Shift held, still "1"
	key("1", false)
	key("Shift", false)
	key("b", true)
	key("b", false)
	key("Backspace", true)
	key("Backspace", false)
	key("c", true)
	key("c", false)
	// Control+U erases the line in the terminal's canonical mode: the
	// modifier reaches the application.
	key("x", true)
	key("x", false)
	key("Control", true)
	key("u", true)
	key("u", false)
	key("Control", false)
	key("Enter", true)
	key("Enter", false)
	inject(t, inj, events...)
	waitFile(t, out, "Hello, World!\n\n")

	// Characters the US layout lacks go through spare keycodes.
	inject(t, inj, host.InputEvent{Kind: host.InputText, Text: "Grüße, €ñ — 日本\n"})
	waitFile(t, out, "Hello, World!\n\nGrüße, €ñ — 日本\n")
}

func TestClickFocusesWindow(t *testing.T) {
	s := wltest.Start(t, 800, 400, "")
	inj := openInjector(t, s)
	s.Start("foot", "sh", "-c", "cat > left.txt")
	s.WaitWindows(1)
	s.Start("foot", "sh", "-c", "cat > right.txt")
	ws := s.WaitWindows(2)
	var left wltest.Window
	for _, w := range ws {
		if w.Rect.X == 0 {
			left = w
		}
		if w.Rect.X == 0 && w.Focused {
			t.Fatal("the left window has the focus before the click")
		}
	}
	x, y := left.Rect.X+left.Rect.Width/2, left.Rect.Y+left.Rect.Height/2
	inject(t, inj,
		host.InputEvent{Kind: host.InputPointer, X: x, Y: y},
		host.InputEvent{Kind: host.InputButton, Button: 1, Down: true, X: x, Y: y},
		host.InputEvent{Kind: host.InputButton, Button: 1, X: x, Y: y},
		host.InputEvent{Kind: host.InputText, Text: "clicked\n"})
	waitFile(t, filepath.Join(s.Dir, "left.txt"), "clicked\n")
	for _, w := range s.Windows() {
		if w.Focused != (w.ID == left.ID) {
			t.Errorf("window at x=%d focused=%v after the click", w.Rect.X, w.Focused)
		}
	}
}

// BenchmarkCaptureWhole measures a whole capture (Refresh, Next) of a
// 1920×1080 output.
func BenchmarkCaptureWhole(b *testing.B) {
	s := wltest.Start(b, 1920, 1080, "")
	ctx := context.Background()
	src, err := wlroots.Open(ctx, s.Socket, wlroots.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	if _, err := src.Next(ctx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		src.Refresh()
		if _, err := src.Next(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// Two outputs of different sizes make one image; each part equals grim's
// capture of that output, and the pointer reaches windows on both.
func TestTwoOutputs(t *testing.T) {
	s := wltest.StartLayout(t, []wltest.Output{{W: 640, H: 480}, {X: 640, W: 800, H: 600}}, "")
	inj := openInjector(t, s)
	s.Start("foot", "sh", "-c", "cat > left.txt")
	s.WaitWindows(1)
	s.Msg("focus", "output", "HEADLESS-2")
	s.Start("foot", "sh", "-c", "cat > right.txt")
	ws := s.WaitWindows(2)
	src := openSource(t, s)
	settle(t, src, 300*time.Millisecond)

	want := []host.Monitor{
		{Name: "HEADLESS-1", Rect: screen.Rect{W: 640, H: 480}, Primary: true},
		{Name: "HEADLESS-2", Rect: screen.Rect{X: 640, W: 800, H: 600}},
	}
	mons := src.Monitors()
	if len(mons) != 2 || mons[0] != want[0] || mons[1] != want[1] {
		t.Fatalf("Monitors() = %+v, want %+v", mons, want)
	}
	src.Refresh()
	c, err := next(src, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if c.Image.W != 1440 || c.Image.H != 600 {
		t.Fatalf("image is %dx%d, want 1440x600", c.Image.W, c.Image.H)
	}
	for _, m := range mons {
		file := filepath.Join(s.Dir, m.Name+".png")
		s.Run("grim", "-c", "-o", m.Name, file)
		if n := differing(t, c.Image.Sub(m.Rect), file); n > 0 {
			t.Errorf("%s: %d pixels differ from grim's", m.Name, n)
		}
	}

	for _, w := range ws {
		x, y := w.Rect.X+w.Rect.Width/2, w.Rect.Y+w.Rect.Height/2
		inject(t, inj,
			host.InputEvent{Kind: host.InputButton, Button: 1, Down: true, X: x, Y: y},
			host.InputEvent{Kind: host.InputButton, Button: 1, X: x, Y: y},
			host.InputEvent{Kind: host.InputText, Text: fmt.Sprintf("at %d,%d\n", x, y)})
	}
	for _, w := range ws {
		file := "left.txt"
		if w.Rect.X >= 640 {
			file = "right.txt"
		}
		waitFile(t, filepath.Join(s.Dir, file), fmt.Sprintf("at %d,%d\n", w.Rect.X+w.Rect.Width/2, w.Rect.Y+w.Rect.Height/2))
	}
}

// differing counts the pixels of img that differ from the PNG file.
func differing(t *testing.T, img *screen.Image, file string) int {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	b := want.Bounds()
	if b.Dx() != img.W || b.Dy() != img.H {
		t.Fatalf("%s is %v, the image %dx%d", filepath.Base(file), b, img.W, img.H)
	}
	n := 0
	for y := 0; y < img.H; y++ {
		row := img.Row(y)
		for x := 0; x < img.W; x++ {
			r, g, bl, _ := want.At(b.Min.X+x, b.Min.Y+y).RGBA()
			if px := row[4*x:]; px[2] != byte(r>>8) || px[1] != byte(g>>8) || px[0] != byte(bl>>8) {
				n++
			}
		}
	}
	return n
}
