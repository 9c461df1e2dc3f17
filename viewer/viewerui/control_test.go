package viewerui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/localweb/browsertest"
	"github.com/gethelp/gethelp/localweb/localwebtest"
	"github.com/gethelp/gethelp/session"
	"github.com/gethelp/gethelp/viewer"
)

// rect is an element's getBoundingClientRect, in CSS pixels.
type rect struct {
	Left   float64 `json:"left"`
	Top    float64 `json:"top"`
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
}

// cssPoint returns where the image pixel x, y (of a w×h image shown in r)
// is on the page: the middle of that pixel.
func (r rect) cssPoint(x, y, w, h int) (float64, float64) {
	return r.Left + (float64(x)+0.5)*r.Width/float64(w), r.Top + (float64(y)+0.5)*r.Height/float64(h)
}

const canvasRect = `(() => { const r = document.getElementById('screen').getBoundingClientRect();
	return {left: r.left, top: r.top, width: r.width, height: r.height}; })()`

// typed is the text that the input events spell: each key pressed that is
// one character, and typed text.
func typed(events []host.InputEvent) string {
	var b strings.Builder
	for _, e := range events {
		switch {
		case e.Kind == host.InputKey && e.Down && len([]rune(e.Key)) == 1:
			b.WriteString(e.Key)
		case e.Kind == host.InputText:
			b.WriteString(e.Text)
		}
	}
	return b.String()
}

// wheel turns the mouse wheel dy CSS pixels at x, y.
func wheel(x, y, dy float64) chromedp.Action[chromedp.Void] {
	return chromedp.MouseEvent(chromedp.MouseWheel, x, y, func(p *input.DispatchMouseEventParams) {
		p.DeltaY = dy
		p.DeltaX = 0.01 // Chromium wants both deltas, and a zero one is left out of the call
	})
}

// sendRaw opens the page's WebSocket without a browser, sends the commands
// and returns once the server has handled them all (the last must fail).
func sendRaw(t *testing.T, pageURL string, cmds ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	c := localwebtest.Dial(t, pageURL)
	defer c.CloseNow()
	for _, cmd := range cmds {
		if err := c.Write(ctx, websocket.MessageText, []byte(cmd)); err != nil {
			t.Fatal(err)
		}
	}
	// Commands are handled in order: the last one's error means all were.
	for {
		typ, msg, err := c.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var m struct{ Type, Command string }
		if typ == websocket.MessageText && json.Unmarshal(msg, &m) == nil && m.Type == "error" && m.Command == "nonsense" {
			return
		}
	}
}

func TestViewerControl(t *testing.T) {
	t.Parallel() // its own host, viewer and browser
	l := startLive(t)
	ctx := browsertest.Open(t, l.server.URL())
	browsertest.Poll(t, ctx, "the first picture", `window.gethelp && window.gethelp.w === 640 && window.gethelp.h === 400`)

	// Input commands while the person has not granted control are dropped
	// by the server: the host's log, read at the end, shows none arrived.
	sendRaw(t, l.server.URL(),
		`{"type":"key","key":"a","down":true}`,
		`{"type":"pointer","x":10,"y":10,"buttons":1}`,
		`{"type":"type_text","text":"rm -rf ~"}`,
		`{"type":"wheel","dy":3}`,
		`{"type":"nonsense"}`)

	// Request control: the host is asked, the button waits.
	browsertest.Poll(t, ctx, "Request control", `!document.getElementById('control').disabled &&
		document.getElementById('control-text').textContent === 'Request control'`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("control"))); err != nil {
		t.Fatal(err)
	}
	l.hostEv.Wait(t, "the request for control", func(e host.Event) bool {
		return e.Type == host.EventControlRequested && e.Helper == "Bob"
	})
	browsertest.Poll(t, ctx, "the pending request", `document.getElementById('control').disabled &&
		document.getElementById('control-text').textContent === 'Waiting for Alice…'`)
	if browsertest.Eval[int](t, ctx, `window.gethelp.inputSent`) != 0 {
		t.Fatal("the page sent input before control was granted")
	}

	if err := l.host.Grant(session.CapControl); err != nil {
		t.Fatal(err)
	}
	browsertest.Poll(t, ctx, "the page in control", `!document.getElementById('control-bar').hidden &&
		document.getElementById('control-state').textContent.startsWith('You are in control of Alice') &&
		document.getElementById('control-text').textContent === 'Release control' &&
		!document.getElementById('surface').hidden &&
		document.getElementById('title').textContent.includes('you are in control')`)

	// A click on the (scaled) picture lands on the image pixel under it,
	// once the picture has its size under the control bar.
	browsertest.Poll(t, ctx, "the picture's layout", `(() => {
		const v = document.getElementById('viewport'), r = document.getElementById('screen').getBoundingClientRect();
		return Math.round(640 * Math.min((v.clientWidth - 32) / 640, (v.clientHeight - 32) / 400)) === Math.round(r.width);
	})()`)
	browsertest.Poll(t, ctx, "the hint to click", `!document.getElementById('surface-hint').hidden`)
	r := browsertest.Eval[rect](t, ctx, canvasRect)
	if r.Width == 640 {
		t.Fatalf("the picture is not scaled (%+v): the test would not check the conversion", r)
	}
	const clickX, clickY = 201, 149
	cx, cy := r.cssPoint(clickX, clickY, 640, 400)
	if err := chromedp.Do(ctx, chromedp.MouseClickXY(cx, cy)); err != nil {
		t.Fatal(err)
	}
	events := l.input.WaitAll(t, "the click", func(evs []host.InputEvent) bool {
		for _, e := range evs {
			if e.Kind == host.InputButton && !e.Down {
				return true
			}
		}
		return false
	})
	var buttons []host.InputEvent
	for _, e := range events {
		if e.Kind == host.InputButton {
			buttons = append(buttons, e)
		}
	}
	want := []host.InputEvent{
		{Kind: host.InputButton, X: clickX, Y: clickY, Button: 1, Down: true},
		{Kind: host.InputButton, X: clickX, Y: clickY, Button: 1},
	}
	if fmt.Sprint(buttons) != fmt.Sprint(want) {
		t.Errorf("the click arrived as %+v, want %+v", buttons, want)
	}

	// Typing into the focused picture: every key arrives, pressed and
	// released; what has no key of its own ("ü" here) arrives as text.
	const text = "Hello, World! ü"
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("surface"), text)); err != nil {
		t.Fatal(err)
	}
	events = l.input.WaitAll(t, "the typing", func(evs []host.InputEvent) bool { return strings.Contains(typed(evs), text) })
	held := map[string]int{}
	for _, e := range events {
		if e.Kind == host.InputKey {
			if e.Down {
				held[e.Key]++
			} else {
				held[e.Key]--
			}
		}
	}
	for k, n := range held {
		if n != 0 {
			t.Errorf("key %q pressed %d more times than released", k, n)
		}
	}
	browsertest.Poll(t, ctx, "the hint to go once the picture has the keyboard", `document.getElementById('surface-hint').hidden`)

	// The wheel: 300 pixels down are 3 notches.
	if err := chromedp.Do(ctx, wheel(cx, cy, 300)); err != nil {
		t.Fatal(err)
	}
	l.input.Wait(t, "the wheel", func(e host.InputEvent) bool { return e.Kind == host.InputWheel && e.DY == 3 && e.DX == 0 })
	if browsertest.Screenshots() { // a picture with the statistics filled in
		browsertest.Poll(t, ctx, "connection statistics", `document.getElementById('stat-rate').textContent.includes('/s')`)
	}
	browsertest.Screenshot(t, ctx, "viewer-in-control.png")

	// The person types a password: the picture is hidden, and so says the
	// page. (The host's side of it is the host's tests'.)
	paused := false
	l.server.Publish(viewer.Event{Type: viewer.EventSharing, Paused: &paused, Privacy: session.PrivacySecurePrompt})
	browsertest.Poll(t, ctx, "the credentials overlay", `!document.getElementById('privacy').hidden &&
		document.getElementById('privacy-title').textContent === 'Waiting for Alice to enter credentials' &&
		document.getElementById('control-detail').textContent.startsWith('Paused while Alice enters credentials')`)
	browsertest.Screenshot(t, ctx, "viewer-secure-prompt.png")
	l.server.Publish(viewer.Event{Type: viewer.EventSharing, Paused: &paused})
	browsertest.Poll(t, ctx, "the overlay to go", `document.getElementById('privacy').hidden`)

	// The person takes control back: the page says why and sends nothing
	// more, whatever the helper does.
	sent := browsertest.Eval[int](t, ctx, `window.gethelp.inputSent`)
	if err := l.host.Revoke(session.ByButton); err != nil {
		t.Fatal(err)
	}
	browsertest.Poll(t, ctx, "the reason", `document.getElementById('control-state').textContent === 'Alice stopped sharing control.' &&
		document.getElementById('surface').hidden &&
		!document.getElementById('control').disabled &&
		document.getElementById('control-text').textContent === 'Request control'`)
	if err := chromedp.Do(ctx,
		chromedp.MouseClickXY(cx, cy),
		wheel(cx, cy, 100),
		chromedp.KeyEvent("after"),
	); err != nil {
		t.Fatal(err)
	}
	if n := browsertest.Eval[int](t, ctx, `window.gethelp.inputSent`); n != sent {
		t.Errorf("the page sent %d input commands after control was taken back", n-sent)
	}

	// Control again, and a key: it travels the input channel behind
	// anything sent before, so once it arrived the host has seen it all,
	// and its log says whether anything came without consent.
	if err := l.host.Grant(session.CapControl); err != nil {
		t.Fatal(err)
	}
	browsertest.Poll(t, ctx, "control again", `!document.getElementById('surface').hidden`)
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("surface"), "z")); err != nil {
		t.Fatal(err)
	}
	l.input.Wait(t, "the last key", func(e host.InputEvent) bool { return e.Kind == host.InputKey && e.Key == "z" })
	b, err := os.ReadFile(l.host.LogPath())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "input_dropped") {
		t.Errorf("input reached the host without consent:\n%s", b)
	}
	if got := typed(l.input.All()); got != text+"z" {
		t.Errorf("the host got %q typed, want %q", got, text+"z")
	}

	// A page that goes (a closed tab) while holding Shift and a button
	// leaves nothing pressed on the person's computer.
	sendRaw(t, l.server.URL(),
		`{"type":"key","key":"Shift","down":true}`,
		`{"type":"pointer","x":5,"y":6,"buttons":1}`,
		`{"type":"nonsense"}`)
	l.input.Wait(t, "Shift released", func(e host.InputEvent) bool { return e.Kind == host.InputKey && e.Key == "Shift" && !e.Down })
	l.input.Wait(t, "the button released", func(e host.InputEvent) bool {
		return e.Kind == host.InputButton && e.Button == 1 && !e.Down && e.X == 5 && e.Y == 6
	})
}
