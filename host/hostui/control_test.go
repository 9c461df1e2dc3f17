package hostui_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/localweb/browsertest"
	"github.com/gethelp/gethelp/session"
	"github.com/gethelp/gethelp/viewer"
)

func TestHostControl(t *testing.T) {
	t.Parallel() // its own host, viewer and browser
	l := startHost(t, func(c *host.Config) {
		c.Injector = injector{}
		c.Keys = keys{}
		c.AdminPrompts = true
	})
	ctx := browsertest.Open(t, l.server.URL())
	v, vev, err := l.connect(t, "Bob", l.host.Password())
	if err != nil {
		t.Fatal(err)
	}
	browsertest.Poll(t, ctx, "the helper", `document.getElementById('status-title').textContent === 'Bob is helping you'`)

	// countViewer counts the viewer's events of type typ and by.
	countViewer := func(typ, by string) int {
		n := 0
		for _, e := range vev.All() {
			if e.Type == typ && e.By == by {
				n++
			}
		}
		return n
	}
	// ask has the helper ask for control and waits for the question, with
	// the safe answer focused.
	ask := func(what string) {
		t.Helper()
		if err := v.RequestControl(); err != nil {
			t.Fatal(err)
		}
		browsertest.Poll(t, ctx, what, `document.getElementById('control-dialog').open &&
			document.getElementById('cd-title').textContent === 'Bob wants to control your mouse and keyboard' &&
			document.activeElement === document.getElementById('cd-deny')`)
	}
	allow := func() {
		t.Helper()
		browsertest.Poll(t, ctx, "Allow to be enabled", `!document.getElementById('cd-allow').disabled`)
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("cd-allow"))); err != nil {
			t.Fatal(err)
		}
		browsertest.Poll(t, ctx, "the dialog to close", `!document.getElementById('control-dialog').open`)
	}
	wantCaps := func(want ...string) {
		t.Helper()
		l.hostEv.Wait(t, "the grant", func(e host.Event) bool {
			return e.Type == host.EventControlGranted && slices.Equal(e.Capabilities, want)
		})
		if got := l.host.Capabilities(); !slices.Equal(got, want) {
			t.Fatalf("the host granted %v, want %v", got, want)
		}
		vev.Wait(t, "the helper's grant", func(e viewer.Event) bool {
			return e.Type == viewer.EventControlGranted && slices.Equal(e.Capabilities, want)
		})
	}

	// The question, with the checkbox for administrator prompts.
	ask("the question")
	body := browsertest.Eval[string](t, ctx, `document.getElementById('control-dialog').innerText`)
	for _, want := range []string{"can do anything you can do", "take control back at any time by pressing ESC or Stop control",
		"Allow Bob to respond to administrator prompts", "Allow", "Deny"} {
		if !strings.Contains(body, want) {
			t.Errorf("the dialog does not say %q:\n%s", want, body)
		}
	}
	if browsertest.Eval[bool](t, ctx, `document.getElementById('cd-admin-row').hidden`) {
		t.Error("the administrator prompts checkbox is hidden though the person may offer it")
	}
	browsertest.Poll(t, ctx, "the title", `document.title.includes('Bob asks to control your computer')`)
	browsertest.Poll(t, ctx, "Allow to be enabled", `!document.getElementById('cd-allow').disabled`)
	browsertest.Screenshot(t, ctx, "host-control-request.png")

	// Allow, without the checkbox: control only.
	allow()
	wantCaps(session.CapControl)
	browsertest.Poll(t, ctx, "the banner", `!document.getElementById('control-banner').hidden &&
		document.getElementById('control-banner').textContent.includes('Bob is in control of your mouse and keyboard — press ESC or Stop control') &&
		document.getElementById('rights').textContent.includes('Can use your mouse and keyboard') &&
		document.getElementById('title').textContent === 'Bob is in control of your computer'`)
	browsertest.Screenshot(t, ctx, "host-in-control.png")

	// Stop control takes it back.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("stop-control"))); err != nil {
		t.Fatal(err)
	}
	l.hostEv.Wait(t, "the revoke", func(e host.Event) bool { return e.Type == host.EventControlRevoked && e.By == session.ByButton })
	vev.Wait(t, "the helper told", func(e viewer.Event) bool { return e.Type == viewer.EventControlRevoked })
	browsertest.Poll(t, ctx, "the banner to go", `document.getElementById('control-banner').hidden &&
		document.getElementById('rights').textContent.includes('Cannot use your mouse or keyboard') &&
		document.getElementById('log').textContent.includes('You pressed Stop control and took control back from Bob.')`)

	// Allow with the checkbox: administrator prompts too.
	ask("the second question")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("cd-admin"))); err != nil {
		t.Fatal(err)
	}
	allow()
	wantCaps(session.CapControl, session.CapAdminPrompts)
	browsertest.Poll(t, ctx, "the rights", `document.getElementById('rights').textContent.includes('and answer administrator prompts')`)

	// ESC on the person's keyboard (the host's watcher; here, its call).
	if err := l.host.Revoke(session.ByEscape); err != nil {
		t.Fatal(err)
	}
	browsertest.Poll(t, ctx, "ESC in the log", `document.getElementById('control-banner').hidden &&
		document.getElementById('log').textContent.includes('You pressed ESC and took control back from Bob.')`)

	// ESC in the dialog is Deny.
	ask("the third question")
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Escape)); err != nil {
		t.Fatal(err)
	}
	vev.Wait(t, "the refusal", func(e viewer.Event) bool { return e.Type == viewer.EventControlDenied && e.By == session.ByDeny })
	browsertest.Poll(t, ctx, "the refusal in the log", `!document.getElementById('control-dialog').open &&
		document.getElementById('log').textContent.includes('You declined Bob’s request to control your mouse and keyboard.')`)
	if caps := l.host.Capabilities(); len(caps) != 0 {
		t.Errorf("after Deny the host grants %v", caps)
	}

	// Without administrator prompts to offer, no checkbox; Deny declines.
	l.server.Publish(host.Event{Type: host.EventControlRequested, Helper: "Bob"})
	browsertest.Poll(t, ctx, "the question without the checkbox", `document.getElementById('control-dialog').open &&
		document.getElementById('cd-admin-row').hidden`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("cd-deny"))); err != nil {
		t.Fatal(err)
	}
	vev.WaitAll(t, "the second refusal", func([]viewer.Event) bool { return countViewer(viewer.EventControlDenied, session.ByDeny) == 2 })

	// A password prompt hides the screen from the helper, and the page says
	// so until it closes. (The host's privacy tests make the real events.)
	l.server.Publish(host.Event{Type: host.EventPrivacy, Helper: "Bob", Privacy: session.PrivacySecurePrompt, Text: "Polkit-gnome-authentication-agent-1"})
	browsertest.Poll(t, ctx, "the prompt in the log", `document.getElementById('log').textContent.includes(
		'A password or administrator prompt is open: Bob cannot see your screen until it closes.') &&
		document.getElementById('rights').textContent.includes('Cannot see your screen while you enter credentials')`)
	l.server.Publish(host.Event{Type: host.EventPrivacy, Helper: "Bob"})
	browsertest.Poll(t, ctx, "the screen back", `document.getElementById('log').textContent.includes('The prompt closed: Bob can see your screen again.') &&
		document.getElementById('rights').textContent.includes('Can see your screen')`)

	// A refusal by policy is logged with its reason.
	l.server.Publish(host.Event{Type: host.EventControlDenied, Helper: "Bob", By: session.ByPolicy, Reason: "your administrator does not allow control"})
	browsertest.Poll(t, ctx, "the policy in the log", `document.getElementById('log').textContent.includes(
		'Bob asked to control your mouse and keyboard and was refused: your administrator does not allow control.')`)
}
