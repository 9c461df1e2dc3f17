package viewerui_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/localweb/browsertest"
	"github.com/gethelp/gethelp/session/screen"
	"github.com/gethelp/gethelp/viewer"
)

// canvasPixels is the page's canvas as read with getImageData.
type canvasPixels struct {
	W   int    `json:"w"`
	H   int    `json:"h"`
	B64 string `json:"b64"`
}

const readCanvas = `(() => {
	const c = document.getElementById('screen');
	const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
	let s = '';
	for (let i = 0; i < d.length; i += 0x8000) s += String.fromCharCode.apply(null, d.subarray(i, i + 0x8000));
	return {w: c.width, h: c.height, b64: btoa(s)};
})()`

// framebufferRGBA returns the viewer's framebuffer as RGBA bytes.
func framebufferRGBA(v *viewer.Viewer) (w, h int, pix []byte) {
	v.Framebuffer(func(img *screen.Image) {
		if img == nil {
			return
		}
		rgba := img.RGBA()
		w, h, pix = img.W, img.H, append([]byte(nil), rgba.Pix...)
	})
	return w, h, pix
}

// firstDifference describes where two RGBA images differ, or returns "".
func firstDifference(w int, want, got []byte) string {
	if len(want) != len(got) {
		return fmt.Sprintf("%d bytes, want %d", len(got), len(want))
	}
	for i := 0; i < len(want); i += 4 {
		if !bytes.Equal(want[i:i+3], got[i:i+3]) {
			p := i / 4
			return fmt.Sprintf("pixel (%d,%d) is %v, want %v", p%w, p/w, got[i:i+3], want[i:i+3])
		}
	}
	return ""
}

// waitCanvasEqual waits until the page's canvas equals the viewer's
// framebuffer, pixel for pixel.
func waitCanvasEqual(t *testing.T, ctx context.Context, v *viewer.Viewer) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	var diff string
	for time.Now().Before(deadline) {
		w, h, want := framebufferRGBA(v)
		c := browsertest.Eval[canvasPixels](t, ctx, readCanvas)
		got, err := base64.StdEncoding.DecodeString(c.B64)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case want == nil:
			diff = "no framebuffer yet"
		case c.W != w || c.H != h:
			diff = fmt.Sprintf("canvas is %dx%d, framebuffer %dx%d", c.W, c.H, w, h)
		default:
			if diff = firstDifference(w, want, got); diff == "" {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the canvas never equalled the framebuffer: %s", diff)
}

func TestViewerWindow(t *testing.T) {
	t.Parallel() // its own host, viewer and browser
	l := startLive(t)
	ctx := browsertest.Open(t, l.server.URL())
	browsertest.Poll(t, ctx, "the first picture", `window.gethelp && window.gethelp.w === 640 && window.gethelp.h === 400`)
	browsertest.Poll(t, ctx, "the host's name", `document.getElementById('title').textContent.includes('Alice')`)

	// The canvas is not blank: the synthetic screen has many colours.
	c := browsertest.Eval[canvasPixels](t, ctx, readCanvas)
	pix, _ := base64.StdEncoding.DecodeString(c.B64)
	colours := map[[3]byte]bool{}
	for i := 0; i+3 < len(pix); i += 4 * 97 {
		colours[[3]byte(pix[i:i+3])] = true
	}
	if len(colours) < 4 {
		t.Fatalf("the canvas looks blank: %d colours", len(colours))
	}

	// With sharing paused the picture holds still: the canvas must then be
	// the framebuffer exactly (full quality).
	if err := l.host.PauseSharing(true); err != nil {
		t.Fatal(err)
	}
	l.viewEv.Wait(t, "sharing paused", func(e viewer.Event) bool {
		return e.Type == viewer.EventSharing && e.Paused != nil && *e.Paused
	})
	browsertest.Poll(t, ctx, "the paused banner", `!document.getElementById('banner').hidden &&
		document.getElementById('banner').textContent.includes('paused')`)
	waitCanvasEqual(t, ctx, l.viewer)
	// The pointer is drawn by the page, over the canvas, not in it.
	browsertest.Poll(t, ctx, "the pointer", `!document.getElementById('cursor').hidden`)
	if err := l.host.PauseSharing(false); err != nil {
		t.Fatal(err)
	}
	browsertest.Poll(t, ctx, "the banner to go", `document.getElementById('banner').hidden`)

	// 1:1 shows the screen at its size; Fit to window scales it.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("actual"))); err != nil {
		t.Fatal(err)
	}
	browsertest.Poll(t, ctx, "1:1", `document.getElementById('screen').style.width === '640px' &&
		document.getElementById('actual').getAttribute('aria-pressed') === 'true'`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("fit"))); err != nil {
		t.Fatal(err)
	}
	browsertest.Poll(t, ctx, "fit to window", `document.getElementById('screen').style.width !== '640px'`)

	// Chat from the page reaches the host.
	const fromBob = "Hello Alice, can you open the printer settings?"
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("chat-input"), fromBob+kb.Enter)); err != nil {
		t.Fatal(err)
	}
	l.hostEv.Wait(t, "Bob's chat", func(e host.Event) bool {
		return e.Type == host.EventChat && e.From == "Bob" && e.Text == fromBob
	})
	browsertest.Poll(t, ctx, "the input to clear", `document.getElementById('chat-input').value === ''`)

	// Chat from the host appears in the page.
	const fromAlice = "Sure, they are open now."
	if err := l.host.Chat(fromAlice); err != nil {
		t.Fatal(err)
	}
	browsertest.Poll(t, ctx, "Alice's chat", fmt.Sprintf(`document.getElementById('transcript').textContent.includes(%q)`, fromAlice))

	// The bandwidth select sends the change.
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`(() => {
		const s = document.getElementById('bandwidth');
		s.focus(); s.value = 'medium'; s.dispatchEvent(new Event('change'));
	})()`)); err != nil {
		t.Fatal(err)
	}
	l.hostEv.Wait(t, "the bandwidth change", func(e host.Event) bool {
		return e.Type == host.EventBandwidth && e.Level == "medium" && e.Helper == "Bob"
	})
	// The person's change shows in the select.
	if err := l.host.SetBandwidth(screen.Full); err != nil {
		t.Fatal(err)
	}
	browsertest.Poll(t, ctx, "the person's bandwidth change", `document.getElementById('bandwidth').value === 'full'`)
	browsertest.Poll(t, ctx, "the monitor picker", `document.getElementById('monitor').options[0].text === 'All monitors' &&
		document.getElementById('monitor').options.length === 2`)
	browsertest.Poll(t, ctx, "connection statistics", `document.getElementById('stat-rate').textContent.includes('/s')`)

	// A reload gets the whole state back: chat, picture, bandwidth.
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	browsertest.Poll(t, ctx, "the chat after a reload", fmt.Sprintf(`document.getElementById('transcript').textContent.includes(%q) &&
		document.getElementById('transcript').textContent.includes(%q)`, fromBob, fromAlice))
	browsertest.Poll(t, ctx, "the picture after a reload", `window.gethelp.w === 640`)
	browsertest.Poll(t, ctx, "the bandwidth after a reload", `document.getElementById('bandwidth').value === 'full'`)
	browsertest.Poll(t, ctx, "statistics after a reload", `document.getElementById('stat-rate').textContent !== ''`)

	browsertest.Screenshot(t, ctx, "viewer.png")
	browsertest.NarrowScreenshot(t, ctx, "viewer-narrow.png")

	// The path is named beside the round trip (loopback is the same
	// network).
	browsertest.Poll(t, ctx, "the path", `document.getElementById('stat-rtt').textContent.startsWith('Direct (same network)')`)
	// A lost connection shows while the viewer resumes it, and goes when
	// it is back (the events as the viewer reports them).
	l.server.Publish(viewer.Event{Type: viewer.EventReconnecting, Reason: "connection lost: no answer from the other side"})
	browsertest.Poll(t, ctx, "the reconnecting banner", `!document.getElementById('banner').hidden &&
		document.getElementById('banner').textContent.includes('Reconnecting') &&
		document.getElementById('quality').textContent.includes('Reconnecting')`)
	browsertest.Screenshot(t, ctx, "viewer-reconnecting.png")
	l.server.Publish(viewer.Event{Type: viewer.EventConnected, Host: "Alice", Path: "relayed", RTTms: 42, Resumed: true})
	browsertest.Poll(t, ctx, "the banner to go after the resume", `document.getElementById('banner').hidden &&
		document.getElementById('stat-rtt').textContent.startsWith('Relayed')`)

	// Disconnect ends the session on both sides.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("disconnect"))); err != nil {
		t.Fatal(err)
	}
	l.hostEv.Wait(t, "the host to see the end", func(e host.Event) bool { return e.Type == host.EventDisconnected })
	browsertest.Poll(t, ctx, "the disconnected state", `!document.getElementById('ended').hidden &&
		document.getElementById('ended-reason').textContent.startsWith('Disconnected: ')`)
	reason := browsertest.Eval[string](t, ctx, `document.getElementById('ended-reason').textContent`)
	if !strings.Contains(reason, "helper disconnected") {
		t.Errorf("ended reason %q", reason)
	}
	browsertest.Screenshot(t, ctx, "viewer-disconnected.png")
}
