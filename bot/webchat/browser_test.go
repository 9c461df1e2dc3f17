package webchat_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/gethelp/gethelp/bot"
	"github.com/gethelp/gethelp/bot/bottest"
	"github.com/gethelp/gethelp/bot/webchat"
	"github.com/gethelp/gethelp/localweb/browsertest"
)

// TestPage drives the page as the demo's two people would: Alice asks for
// help with /gethelp, Bob reads his direct messages, answers in the
// ticket's thread and opens the invitation mail.
func TestPage(t *testing.T) {
	core := new(bottest.Core)
	core.OnCommand(func(c bot.Command) bot.Reply {
		return bot.Reply{Text: "Asked Bob for help with “printer broken”. Your ticket is *7*; watch #helpdesk."}
	})
	core.OnButton(func(p bot.Press) bot.Reply { return bot.Reply{Text: "You are on ticket " + p.Value + "."} })
	clock := time.Date(2026, 3, 2, 9, 41, 0, 0, time.Local)
	h := startWith(t, webchat.Options{Now: func() time.Time { return clock }}, core)
	ctx := browsertest.New(t)
	h.post("bob", "general", "", "Morning all! The coffee machine is fixed ☕")

	run(t, ctx, chromedp.Navigate(h.s.URL()))
	browsertest.Poll(t, ctx, "the page", `window.webchat && window.webchat.ready &&
		document.getElementById('nav-ch-general').getAttribute('aria-current') === 'page' &&
		document.getElementById('messages').textContent.includes('coffee machine')`)
	body := browsertest.Eval[string](t, ctx, `document.body.innerText`)
	for _, want := range []string{"demo", "general", "helpdesk", "gethelp bot", "Mailbox", "You are", "/gethelp"} {
		if !strings.Contains(body, want) {
			t.Errorf("the page does not say %q", want)
		}
	}
	if u := browsertest.Eval[string](t, ctx, `document.getElementById('user').value`); u != "alice" {
		t.Errorf("the page acts as %q, want alice", u)
	}

	// The composer hints at /gethelp.
	run(t, ctx, chromedp.SendKeys(chromedp.ID("input"), "/ge"))
	browsertest.Poll(t, ctx, "the hint", `!document.getElementById('hint').hidden &&
		document.getElementById('hint').textContent.includes('/gethelp')`)
	run(t, ctx, chromedp.SendKeys(chromedp.ID("input"), kb.Tab))
	browsertest.Poll(t, ctx, "the completion", `document.getElementById('input').value === '/gethelp '`)
	run(t, ctx, chromedp.SendKeys(chromedp.ID("input"), "@bob printer broken"))
	browsertest.Poll(t, ctx, "the hint with the arguments", `!document.getElementById('hint').hidden &&
		document.getElementById('hint').textContent.includes('only you see the answer')`)
	screenshot(t, ctx, "webchat-hint.png")
	run(t, ctx, enter)
	c := bottest.Wait(t, core, "the command", func(c bot.Command) bool { return true })
	if c.Text != "@bob printer broken" || c.From != alice || c.At != (bot.Place{Workspace: "demo", Channel: "general"}) {
		t.Errorf("Command %+v", c)
	}
	browsertest.Poll(t, ctx, "the ephemeral reply", `(() => {
		const li = document.querySelector('#messages li.ephemeral');
		return li && li.textContent.includes('Only visible to you') && li.textContent.includes('Asked Bob for help') &&
			li.textContent.includes('Alice used /gethelp @bob printer broken');
	})()`)
	if v := browsertest.Eval[string](t, ctx, `document.getElementById('input').value`); v != "" {
		t.Errorf("the composer still holds %q", v)
	}

	// What the core would do next: a ticket in #helpdesk, a DM with the
	// password and the invitation to Bob, a mail.
	clock = clock.Add(time.Minute)
	ticket := h.send(bot.Place{Channel: "helpdesk"}, bot.Message{
		Text:    "*Ticket 7* · Alice needs help: printer broken\nAsked: Bob",
		Buttons: []bot.Button{{Label: "Take it", Action: "take", Value: "7", Style: "primary"}, {Label: "Cancel", Action: "cancel", Value: "7", Style: "danger"}},
	})
	h.send(bot.Place{Channel: "helpdesk", Thread: ticket}, bot.Message{Text: "Alice’s computer is ready. Bob, the invitation is in your e-mail."})
	h.send(bot.Place{User: "bob"}, bot.Message{
		Text:    "Alice asked you for help (ticket 7).\nThe password for the invitation: *K7QP-2MWX-9HJD*\nIt was e-mailed to bob@example.com; never forward the two together.",
		File:    &bot.File{Name: "alice-ticket-7.gethelp", ContentType: "application/x-gethelp-invitation", Data: []byte(`{"version":1}`)},
		Buttons: []bot.Button{{Label: "I’m on it", Action: "ack", Value: "7", Style: "primary"}},
	})
	h.s.AddMail(webchat.Mail{
		From: "gethelp <bot@gethelp.example>", To: "Bob <bob@example.com>",
		Subject: "Alice asks for your help (ticket 7)",
		Text:    "Hello Bob,\n\nAlice asked for your help: printer broken.\n\nOpen the attached invitation with gethelp viewer.\nThe password comes separately, in your chat.\n\n— gethelp",
		HTML: `<div style="font-family:sans-serif"><h2 style="color:#1f5fbf">Alice asks for your help</h2>` +
			`<p>Printer broken. Open the attached invitation with <b>gethelp viewer</b>.</p>` +
			`<img src="https://tracker.example/pixel.gif" alt="(a remote image, not loaded)"><script>document.body.textContent='script ran'</script></div>`,
		Attachments: []webchat.Attachment{{Name: "alice-ticket-7.gethelp", ContentType: "application/x-gethelp-invitation", Data: []byte(`{"version":1}`)}},
	})
	browsertest.Poll(t, ctx, "the unread ticket", `document.querySelector('#nav-ch-helpdesk .badge').textContent === '1' &&
		!document.querySelector('#nav-ch-helpdesk .badge').hidden`)
	browsertest.Poll(t, ctx, "the unread mail", `document.getElementById('mail-count').textContent === '1' &&
		!document.getElementById('mail-count').hidden`)
	if browsertest.Eval[bool](t, ctx, `!document.querySelector('#nav-dm .badge').hidden`) {
		t.Error("Alice is shown Bob's direct message as unread")
	}
	screenshot(t, ctx, "webchat.png")

	// Switch to Bob: his DM is unread; the ephemeral reply is Alice's alone.
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`(() => {
		const s = document.getElementById('user');
		s.focus(); s.value = 'bob'; s.dispatchEvent(new Event('change'));
	})()`))
	browsertest.Poll(t, ctx, "Bob's unread DM", `document.querySelector('#nav-dm .badge').textContent === '1' &&
		!document.querySelector('#nav-dm .badge').hidden`)
	browsertest.Poll(t, ctx, "#general as Bob", `document.getElementById('messages').textContent.includes('coffee machine') &&
		!document.getElementById('messages').textContent.includes('Asked Bob for help')`)
	run(t, ctx, chromedp.Click(chromedp.ID("nav-dm")))
	browsertest.Poll(t, ctx, "the DM", `document.getElementById('conv-title').textContent === 'gethelp bot' &&
		document.getElementById('messages').textContent.includes('K7QP-2MWX-9HJD') &&
		document.querySelector('#messages a.file[download="alice-ticket-7.gethelp"]') !== null &&
		document.querySelector('#nav-dm .badge').hidden`)
	run(t, ctx, chromedp.Click(chromedp.CSS(`#messages button[data-action="ack"]`)))
	p := bottest.Wait(t, core, "the press", func(p bot.Press) bool { return true })
	if p.From != bob || p.Action != "ack" || p.Value != "7" || p.At != (bot.Place{Workspace: "demo", User: "bob"}) {
		t.Errorf("Press %+v", p)
	}
	browsertest.Poll(t, ctx, "the press's reply", `(() => {
		const li = document.querySelector('#messages li.ephemeral');
		return li && li.textContent.includes('You are on ticket 7.');
	})()`)
	screenshot(t, ctx, "webchat-dm.png")

	// The ticket's thread: Bob answers in it.
	run(t, ctx, chromedp.Click(chromedp.ID("nav-ch-helpdesk")))
	sel := fmt.Sprintf(`#messages li[data-id=%q] .replies`, ticket)
	browsertest.Poll(t, ctx, "the reply count", fmt.Sprintf(`document.querySelector(%q) && document.querySelector(%q).textContent === '1 reply'`, sel, sel))
	run(t, ctx, chromedp.Click(chromedp.CSS(sel)))
	browsertest.Poll(t, ctx, "the thread", `!document.getElementById('thread').hidden &&
		document.getElementById('thread-messages').textContent.includes('invitation is in your e-mail')`)
	run(t, ctx, chromedp.SendKeys(chromedp.ID("thread-input"), "On my way, Alice. Opening the invitation now."), enter)
	post := bottest.Wait(t, core, "Bob's post in the thread", func(p bot.Post) bool { return p.At.Thread != "" })
	if post.At != (bot.Place{Workspace: "demo", Channel: "helpdesk", Thread: ticket}) || post.Text != "On my way, Alice. Opening the invitation now." {
		t.Errorf("Post %+v", post)
	}
	browsertest.Poll(t, ctx, "the post in the thread", `document.getElementById('thread-messages').textContent.includes('On my way, Alice')`)
	browsertest.Poll(t, ctx, "two replies", fmt.Sprintf(`document.querySelector(%q).textContent === '2 replies'`, sel))
	screenshot(t, ctx, "webchat-thread.png")
	narrow(t, ctx, 800, "webchat-800.png")
	narrow(t, ctx, 480, "webchat-480.png")

	// The Mailbox, with one unread mail.
	run(t, ctx, chromedp.Click(chromedp.ID("nav-mail")))
	browsertest.Poll(t, ctx, "the mail list", `document.getElementById('conv-title').textContent === 'Mailbox' &&
		document.querySelectorAll('#mail-list .mail-item.unread').length === 1`)
	run(t, ctx, chromedp.Click(chromedp.CSS("#mail-list .mail-item")))
	browsertest.Poll(t, ctx, "the mail", `(() => {
		const v = document.getElementById('mail-view');
		return v.querySelector('h3').textContent === 'Alice asks for your help (ticket 7)' &&
			v.querySelector('pre.mail-text').textContent.includes('Open the attached invitation') &&
			v.querySelector('a.file[download="alice-ticket-7.gethelp"]') !== null &&
			document.getElementById('mail-count').hidden;
	})()`)
	screenshot(t, ctx, "webchat-mailbox.png")
	run(t, ctx, chromedp.Click(chromedp.ID("mail-tab-html")))
	browsertest.Poll(t, ctx, "the HTML, loaded", `(() => {
		const f = document.querySelector('#mail-view iframe.mail-html');
		return f && f.getAttribute('sandbox') === '' && performance.getEntriesByType('resource').some((e) =>
			e.initiatorType === 'iframe' && e.name.includes('/api/mail/html') && e.responseStatus === 200);
	})()`)
	time.Sleep(100 * time.Millisecond) // let the frame paint
	screenshot(t, ctx, "webchat-mail-html.png")

	// A reload comes back to the same user and view.
	run(t, ctx, chromedp.Reload())
	browsertest.Poll(t, ctx, "the page after a reload", `window.webchat && window.webchat.ready &&
		document.getElementById('user').value === 'bob' && document.getElementById('conv-title').textContent === 'Mailbox' &&
		document.getElementById('mail-count').hidden`)
}

// enter presses Enter in the focused element as a keyboard does: the
// page's keydown handler sends and cancels the key, so no line break is
// typed. (SendKeys's "\n" sends a char event too, which types one anyway.)
var enter = chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
	for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeRawKeyDown, input.DispatchKeyEventTypeKeyUp} {
		_, err := cdp.Call(ctx, t, input.DispatchKeyEvent, input.DispatchKeyEventParams{
			Type: typ, Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13,
		})
		if err != nil {
			return err
		}
	}
	return nil
})

func run(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// screenshot writes a screenshot of the page to testdata/screenshots/name
// when the test runs with -screenshots (the flag of package browsertest).
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if f := flag.Lookup("screenshots"); f == nil || f.Value.String() != "true" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := filepath.Join("testdata", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", filepath.Join(dir, name))
}

// narrow checks the page at width×800, that nothing sticks out sideways
// and that the thread's composer is in view, takes a screenshot when the
// test runs with -screenshots, and goes back to 1280×800.
func narrow(t *testing.T, ctx context.Context, width int64, name string) {
	t.Helper()
	run(t, ctx, chromedp.EmulateViewport(width, 800))
	browsertest.Poll(t, ctx, fmt.Sprintf("the layout at %dpx", width), fmt.Sprintf(`window.innerWidth === %d &&
		document.documentElement.scrollWidth <= %d && (() => {
			const r = document.getElementById('thread-input').getBoundingClientRect();
			return r.width > 100 && r.left >= 0 && r.right <= %d && r.bottom <= 800;
		})()`, width, width, width))
	screenshot(t, ctx, name)
	run(t, ctx, chromedp.EmulateViewport(1280, 800))
}
