package viewerui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/localweb/browsertest"
	"github.com/gethelp/gethelp/localweb/localwebtest"
	"github.com/gethelp/gethelp/session"
	"github.com/gethelp/gethelp/viewer"
)

var _ host.Clipboard = (*localwebtest.Clipboard)(nil)

// dropFile drops a file named name holding content on the picture, as a
// file dragged from the desktop would be.
func dropFile(name, content string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		const dt = new DataTransfer();
		dt.items.add(new File([%q], %q, {type: 'text/plain'}));
		const v = document.getElementById('viewport');
		for (const type of ['dragenter', 'dragover', 'drop']) {
			v.dispatchEvent(new DragEvent(type, {dataTransfer: dt, bubbles: true, cancelable: true}));
		}
	})()`, content, name))
}

func TestViewerFiles(t *testing.T) {
	t.Parallel() // its own host, viewer and browser
	hostFiles, helperFiles := t.TempDir(), t.TempDir()
	clip := localwebtest.NewClipboard()
	l := startLive(t, setup{
		host: func(c *host.Config) {
			c.FilesDir = hostFiles
			c.Clipboard = clip
		},
		viewer: func(c *viewer.Config) { c.FilesDir = helperFiles },
	})
	ctx := browsertest.Open(t, l.server.URL())
	browsertest.Poll(t, ctx, "the first picture", `window.gethelp && window.gethelp.w === 640`)

	// Before the person allows anything: no files, no clipboard.
	browsertest.Poll(t, ctx, "Send a file disabled", `document.getElementById('send-file').disabled &&
		document.getElementById('send-file').title === 'Alice has not allowed files' &&
		document.getElementById('clip').hidden`)
	if err := chromedp.Do(ctx, dropFile("early.txt", "too early")); err != nil {
		t.Fatal(err)
	}
	browsertest.Poll(t, ctx, "the refusal of a drop", `document.getElementById('transcript').textContent.includes('Alice has not allowed files.')`)

	// Alice allows files: the helper sends one from the page; she accepts.
	if err := l.host.Grant(session.CapFiles); err != nil {
		t.Fatal(err)
	}
	browsertest.Poll(t, ctx, "Send a file enabled", `!document.getElementById('send-file').disabled`)
	const script = "#!/bin/sh\nlpstat -t\n"
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.ID("file-input"), []string{localwebtest.WriteFile(t, "check-printer.sh", script)})); err != nil {
		t.Fatal(err)
	}
	offer := l.hostEv.Wait(t, "the offer", func(e host.Event) bool { return e.Type == host.EventFileOffer && e.Name == "check-printer.sh" })
	if offer.Helper != "Bob" || offer.Size != int64(len(script)) {
		t.Fatalf("Alice was offered %+v", offer)
	}
	browsertest.Poll(t, ctx, "waiting for Alice", `document.getElementById('transfers').textContent.includes('Waiting for Alice to accept')`)
	if err := l.host.AcceptFile(offer.ID); err != nil {
		t.Fatal(err)
	}
	got := l.hostEv.Wait(t, "the file", func(e host.Event) bool { return e.Type == host.EventFileReceived && e.ID == offer.ID })
	localwebtest.WantFile(t, hostFiles, got.Path, script)
	browsertest.Poll(t, ctx, "sent", `document.getElementById('transfers').textContent.includes('Sent: Alice has it')`)
	l.viewEv.Wait(t, "sent", func(e viewer.Event) bool { return e.Type == viewer.EventFileSent && e.ID == offer.ID })
	if left := localwebtest.RegularFiles(t, l.uploads); len(left) != 0 {
		t.Errorf("the uploaded copy is still there: %q", left)
	}

	// A file dropped on the picture goes the same way; Alice declines it.
	if err := chromedp.Do(ctx, dropFile("dropped.txt", "dropped on the picture")); err != nil {
		t.Fatal(err)
	}
	dropped := l.hostEv.Wait(t, "the dropped file", func(e host.Event) bool { return e.Type == host.EventFileOffer && e.Name == "dropped.txt" })
	if err := l.host.DeclineFile(dropped.ID); err != nil {
		t.Fatal(err)
	}
	browsertest.Poll(t, ctx, "the decline", `document.getElementById('transfers').textContent.includes('Alice declined it')`)

	// Alice sends a file: the helper is asked and accepts.
	const invoice = "%PDF-1.4 invoice 2024-117"
	if err := l.host.SendFile(context.Background(), localwebtest.WriteFile(t, "invoice.pdf", invoice)); err != nil {
		t.Fatal(err)
	}
	sent := l.hostEv.Wait(t, "Alice's offer", func(e host.Event) bool { return e.Type == host.EventFileProgress && e.Name == "invoice.pdf" })
	browsertest.Poll(t, ctx, "the offer on the page", fmt.Sprintf(`(() => {
		const o = document.querySelector('#offers .offer');
		return o && o.textContent.includes('Alice wants to send you invoice.pdf (25 bytes).') && o.textContent.includes('SHA-256 ') &&
			!o.querySelector('.accept').disabled && o.dataset.id === %q;
	})()`, sent.ID))
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#offers .accept`))); err != nil {
		t.Fatal(err)
	}
	received := l.viewEv.Wait(t, "the helper's file", func(e viewer.Event) bool { return e.Type == viewer.EventFileReceived && e.ID == sent.ID })
	localwebtest.WantFile(t, helperFiles, received.Path, invoice)
	browsertest.Poll(t, ctx, "where it was saved", fmt.Sprintf(`document.getElementById('offers').children.length === 0 &&
		document.getElementById('transfers').textContent.includes('Saved to ' + %q)`, received.Path))

	// For the picture, a big file on its way.
	l.server.Publish(viewer.Event{Type: viewer.EventFileProgress, ID: strings.Repeat("ab", 16), Name: "system-logs-2024-06-03.tar.gz",
		Done: 41_900_000, Total: 104_800_000, Direction: "to_host"})
	browsertest.Poll(t, ctx, "the progress", `document.getElementById('transfers').textContent.includes('Sending… 39%')`)
	browsertest.Screenshot(t, ctx, "viewer-files.png")
	browsertest.NarrowScreenshot(t, ctx, "viewer-files-narrow.png")

	// The clipboard: once Alice shares it, the helper sends theirs. The
	// browser does not let the page read it here, so the helper pastes.
	if err := l.host.Grant(session.CapClipboard); err != nil {
		t.Fatal(err)
	}
	browsertest.Poll(t, ctx, "the clipboard", `!document.getElementById('clip').hidden &&
		document.getElementById('clip-status').textContent === 'When Alice copies text, it appears here.'`)
	if err := chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](`navigator.clipboard.readText = () => Promise.reject(new DOMException('denied', 'NotAllowedError'))`),
		chromedp.Click(chromedp.ID("send-clipboard")),
	); err != nil {
		t.Fatal(err)
	}
	browsertest.Poll(t, ctx, "the box to paste into", `!document.getElementById('paste-form').hidden &&
		document.activeElement === document.getElementById('paste-text')`)
	const fromBob = "lpadmin -x Office_Printer"
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("paste-text"), fromBob),
		chromedp.Click(chromedp.ID("paste-send")),
	); err != nil {
		t.Fatal(err)
	}
	clip.Text.Wait(t, "the helper's text on Alice's clipboard", func(s string) bool { return s == fromBob })
	browsertest.Poll(t, ctx, "sent", `document.getElementById('paste-form').hidden &&
		document.getElementById('clip-status').textContent === 'Sent to Alice’s clipboard (25 bytes).'`)

	// Alice copies: the helper sees the start of it and can copy it all.
	copied := "Error 0x0000011b: Windows cannot connect to the printer.\n\tCheck the printer name and try again; contact your administrator."
	clip.Copies <- copied
	browsertest.Poll(t, ctx, "the chip", `!document.getElementById('clip-chip').hidden &&
		document.getElementById('clip-who').textContent === 'Alice copied:' &&
		document.getElementById('clip-preview').textContent ===
			'“Error 0x0000011b: Windows cannot connect to the printer. Check the printer name…”'`)
	browsertest.Screenshot(t, ctx, "viewer-clipboard.png")
	if err := chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](`navigator.clipboard.writeText = (t) => { window.copied = t; return Promise.resolve(); }`),
		chromedp.Click(chromedp.ID("clip-copy")),
	); err != nil {
		t.Fatal(err)
	}
	browsertest.Poll(t, ctx, "the copy", `document.getElementById('clip-copy-text').textContent === 'Copied'`)
	if got := browsertest.Eval[string](t, ctx, `window.copied`); got != copied {
		t.Errorf("Copy put %q on the helper's clipboard, want %q", got, copied)
	}

	// Alice takes both back.
	if err := l.host.Revoke(session.ByButton, session.CapFiles, session.CapClipboard); err != nil {
		t.Fatal(err)
	}
	browsertest.Poll(t, ctx, "nothing shared", `document.getElementById('clip').hidden &&
		document.getElementById('send-file').disabled`)
}

// TestViewerFileCommandErrors checks the helper's words for file and
// clipboard commands that cannot be carried out, and that nothing is
// uploaded before the person allows files.
func TestViewerFileCommandErrors(t *testing.T) {
	t.Parallel()
	l := startLive(t)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	c := localwebtest.Dial(t, l.server.URL())
	for _, tc := range []struct {
		name, cmd, command, want string
	}{
		{"accept an unknown file", `{"type":"accept_file","id":"00"}`, "accept_file", "that file is no longer waiting for an answer"},
		{"decline an unknown file", `{"type":"decline_file","id":"00"}`, "decline_file", "that file is no longer waiting for an answer"},
		{"send an unknown upload", `{"type":"send_file","upload":"00"}`, "send_file", "the file is no longer here: choose it again"},
		{"clipboard not allowed", `{"type":"clipboard","text":"hi"}`, "clipboard", "Alice has not allowed sharing the clipboard"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := c.Write(ctx, websocket.MessageText, []byte(tc.cmd)); err != nil {
				t.Fatal(err)
			}
			for {
				typ, msg, err := c.Read(ctx)
				if err != nil {
					t.Fatal(err)
				}
				var m struct{ Type, Command, Message string }
				if typ != websocket.MessageText || json.Unmarshal(msg, &m) != nil || m.Type != "error" {
					continue
				}
				if m.Command != tc.command || m.Message != tc.want {
					t.Fatalf("error %+v, want %s: %q", m, tc.command, tc.want)
				}
				return
			}
		})
	}

	// An upload before the person allows files is refused, and stores
	// nothing.
	code, msg := localwebtest.Upload(t, l.server.URL(), "early.txt", "too early")
	if code != http.StatusConflict || msg != "Alice has not allowed files" {
		t.Fatalf("an upload before files were allowed: %d %q", code, msg)
	}
	if left := localwebtest.RegularFiles(t, l.uploads); len(left) != 0 {
		t.Fatalf("a refused upload left %q", left)
	}
}
