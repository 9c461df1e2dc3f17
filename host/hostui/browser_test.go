package hostui_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/localweb/browsertest"
	"github.com/gethelp/gethelp/viewer"
)

func TestHostWindow(t *testing.T) {
	t.Parallel() // its own host, viewer and browser
	l := startHost(t)
	ctx := browsertest.Open(t, l.server.URL())
	// Waiting: the password, the invitation, the state.
	browsertest.Poll(t, ctx, "the password", fmt.Sprintf(`document.getElementById('password').textContent === %q`, l.host.Password()))
	browsertest.Poll(t, ctx, "the waiting state", `document.getElementById('status-title').textContent.includes('Waiting')`)
	browsertest.Poll(t, ctx, "the invitation id", fmt.Sprintf(`document.getElementById('inv-id').textContent === %q`, l.host.Invitation().ID))
	body := browsertest.Eval[string](t, ctx, `document.body.innerText`)
	for _, want := range []string{"gethelp", "Getting help", "not with the invitation", "Disconnect", "Pause sharing"} {
		if !strings.Contains(body, want) {
			t.Errorf("the page does not say %q", want)
		}
	}
	if browsertest.Eval[bool](t, ctx, `!document.getElementById('disconnect').disabled`) {
		t.Error("Disconnect is enabled with nobody connected")
	}
	browsertest.Screenshot(t, ctx, "host-waiting.png")

	// A wrong password shows in the log.
	if _, _, err := l.connect(t, "Mallory", "wrong-password-1234"); err == nil {
		t.Fatal("a wrong password was accepted")
	}
	browsertest.Poll(t, ctx, "the wrong password in the log", `document.getElementById('log').textContent.includes('Wrong password from “Mallory”')`)

	// The helper connects.
	v, vev, err := l.connect(t, "Bob", l.host.Password())
	if err != nil {
		t.Fatal(err)
	}
	browsertest.Poll(t, ctx, "the helper's name", `document.getElementById('status-title').textContent === 'Bob is helping you'`)
	browsertest.Poll(t, ctx, "what the helper may do", `!document.getElementById('rights').hidden &&
		document.getElementById('rights').textContent.includes('Can see your screen')`)
	browsertest.Poll(t, ctx, "Disconnect enabled", `!document.getElementById('disconnect').disabled`)

	// A second helper is refused as busy, and the log says so.
	if _, _, err := l.connect(t, "Carol", l.host.Password()); err == nil {
		t.Fatal("a second helper was let in")
	}
	browsertest.Poll(t, ctx, "the busy helper in the log", `document.getElementById('log').textContent.includes('“Carol”')`)

	// Chat from the page reaches the viewer.
	const fromAlice = "Hi Bob, the printer says it is offline."
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("chat-input"), fromAlice+kb.Enter)); err != nil {
		t.Fatal(err)
	}
	vev.Wait(t, "Alice's chat", func(e viewer.Event) bool {
		return e.Type == viewer.EventChat && e.From == "Alice" && e.Text == fromAlice
	})
	// Chat from the viewer appears in the page.
	const fromBob = "Let me have a look at the print queue."
	if err := v.Chat(fromBob); err != nil {
		t.Fatal(err)
	}
	browsertest.Poll(t, ctx, "Bob's chat", fmt.Sprintf(`document.getElementById('transcript').textContent.includes(%q)`, fromBob))

	// Bandwidth: the page's select reaches the viewer.
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`(() => {
		const s = document.getElementById('bandwidth');
		s.focus(); s.value = 'high'; s.dispatchEvent(new Event('change'));
	})()`)); err != nil {
		t.Fatal(err)
	}
	vev.Wait(t, "the bandwidth change", func(e viewer.Event) bool {
		return e.Type == viewer.EventBandwidth && e.Level == "high"
	})

	// Pause and resume sharing.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("pause"))); err != nil {
		t.Fatal(err)
	}
	vev.Wait(t, "sharing paused", func(e viewer.Event) bool {
		return e.Type == viewer.EventSharing && e.Paused != nil && *e.Paused
	})
	browsertest.Poll(t, ctx, "the Resume button", `document.getElementById('pause-text').textContent === 'Resume sharing'`)
	browsertest.Screenshot(t, ctx, "host-paused.png")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("pause"))); err != nil {
		t.Fatal(err)
	}
	vev.Wait(t, "sharing resumed", func(e viewer.Event) bool {
		return e.Type == viewer.EventSharing && e.Paused != nil && !*e.Paused
	})
	browsertest.Poll(t, ctx, "the Pause button", `document.getElementById('pause-text').textContent === 'Pause sharing'`)

	// A reload gets the whole state back.
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	browsertest.Poll(t, ctx, "the state after a reload", `document.getElementById('status-title').textContent === 'Bob is helping you'`)
	browsertest.Poll(t, ctx, "the chat after a reload", fmt.Sprintf(`document.getElementById('transcript').textContent.includes(%q) &&
		document.getElementById('transcript').textContent.includes(%q)`, fromAlice, fromBob))
	browsertest.Poll(t, ctx, "the log after a reload", `document.getElementById('log').textContent.includes('“Carol”')`)
	browsertest.Poll(t, ctx, "the bandwidth after a reload", `document.getElementById('bandwidth').value === 'high'`)

	browsertest.Screenshot(t, ctx, "host.png")
	browsertest.NarrowScreenshot(t, ctx, "host-narrow.png")

	// How the helper's connection goes, and a lost connection resumed (the
	// events as the host reports them).
	browsertest.Poll(t, ctx, "the path in the log", `document.getElementById('log').textContent.includes('on your local network (round trip')`)
	l.server.Publish(host.Event{Type: host.EventReconnecting, Helper: "Bob", Reason: "connection lost: no answer from the other side"})
	browsertest.Poll(t, ctx, "the lost connection in the log", `document.getElementById('log').textContent.includes('The connection to Bob was lost (no answer from the other side)')`)
	l.server.Publish(host.Event{Type: host.EventConnected, Helper: "Bob", Path: "relayed", Resumed: true})
	browsertest.Poll(t, ctx, "the helper back in the log", `document.getElementById('log').textContent.includes('Bob is back, through the relay')`)

	// Disconnect ends the session at once.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("disconnect"))); err != nil {
		t.Fatal(err)
	}
	e := vev.Wait(t, "the viewer to see the end", func(e viewer.Event) bool { return e.Type == viewer.EventDisconnected })
	if e.Reason != "Alice ended the session" {
		t.Errorf("the helper was told %q", e.Reason)
	}
	l.hostEv.Wait(t, "the host's end", func(e host.Event) bool { return e.Type == host.EventDisconnected })
	browsertest.Poll(t, ctx, "the ended state", `document.getElementById('status-title').textContent === 'The session ended' &&
		document.getElementById('status-detail').textContent === 'You ended the session.'`)
	browsertest.Poll(t, ctx, "Disconnect disabled", `document.getElementById('disconnect').disabled`)
	browsertest.Screenshot(t, ctx, "host-ended.png")
}
