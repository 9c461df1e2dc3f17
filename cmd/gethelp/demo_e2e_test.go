package main_test

import (
	"bufio"
	"context"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/gethelp/gethelp/localweb/browsertest"
)

// demoProc runs `gethelp demo` and collects its output.
type demoProc struct {
	mu    sync.Mutex
	lines []string
	more  chan struct{}
}

func startDemo(t *testing.T, e *env) *demoProc {
	t.Helper()
	cmd := exec.Command(binary, "demo", "--no-browser", "--yes", "--source", "synthetic")
	cmd.Env = e.vars
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &demoProc{more: make(chan struct{}, 1)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			d.mu.Lock()
			d.lines = append(d.lines, sc.Text())
			d.mu.Unlock()
			select {
			case d.more <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() { cmd.Process.Kill(); <-done; cmd.Wait() })
	return d
}

// wait returns the first match of re in the demo's output.
func (d *demoProc) wait(t *testing.T, what string, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		d.mu.Lock()
		for _, l := range d.lines {
			if m := re.FindStringSubmatch(l); m != nil {
				d.mu.Unlock()
				return m
			}
		}
		all := strings.Join(d.lines, "\n")
		d.mu.Unlock()
		select {
		case <-d.more:
		case <-deadline:
			t.Fatalf("the demo never printed %s; it printed:\n%s", what, all)
		}
	}
}

// The README's first command: on the chat page a newcomer types /gethelp,
// the invitation e-mail arrives in the mailbox, the password by direct
// message, and Bob's viewer connects to Alice's (animated) screen.
func TestDemo(t *testing.T) {
	e := newEnv(t)
	d := startDemo(t, e)
	url := d.wait(t, "the chat's address", regexp.MustCompile(`Open the chat: (http://127\.0\.0\.1:\d+/\?t=[0-9a-f]+)`))[1]
	d.wait(t, "Alice's computer linked", regexp.MustCompile(`Linked: Alice's computer`))

	ctx := browsertest.New(t)
	do := func(actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatal(err)
		}
	}
	do(chromedp.Navigate(url))
	browsertest.Poll(t, ctx, "the chat", `window.webchat && window.webchat.ready &&
		document.getElementById('user').value === 'alice'`)
	do(chromedp.SendKeys(chromedp.ID("input"), "/gethelp @bob my printer does not print"), pressEnter)
	browsertest.Poll(t, ctx, "the bot's answer", `document.getElementById('messages').textContent.includes('Asking your computer')`)

	d.wait(t, "Alice's consent", regexp.MustCompile(`share your screen with Bob \(bob on webchat, bob@example.com\)`))
	browsertest.Poll(t, ctx, "the invitation in the mailbox", `document.getElementById('mail-count').textContent === '1'`)
	do(chromedp.Click(chromedp.ID("nav-mail")))
	browsertest.Poll(t, ctx, "the mail list", `document.querySelector('#mail-list .mail-item') !== null`)
	do(chromedp.Click(chromedp.CSS("#mail-list .mail-item")))
	browsertest.Poll(t, ctx, "the invitation e-mail", `(() => {
		const t = document.body.innerText;
		return t.includes('Alice asked you for help') && t.includes('.gethelp');
	})()`)
	browsertest.Screenshot(t, ctx, "demo-mailbox.png")
	// Bob's computer opens the invitation with the password from his DM.
	if got := d.wait(t, "Bob's viewer", regexp.MustCompile(`(Bob's window|Bob could not connect.*)`))[1]; got != "Bob's window" {
		t.Fatalf("Bob's viewer failed: %s", got)
	}
}

var pressEnter = chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
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
