package hostui_test

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/localweb/browsertest"
	"github.com/gethelp/gethelp/localweb/localwebtest"
	"github.com/gethelp/gethelp/session"
	"github.com/gethelp/gethelp/viewer"
)

var _ host.Clipboard = (*localwebtest.Clipboard)(nil)

func TestHostFiles(t *testing.T) {
	t.Parallel() // its own host, viewer and browser
	hostFiles, helperFiles := t.TempDir(), t.TempDir()
	clip := localwebtest.NewClipboard()
	l := startHost(t, func(c *host.Config) {
		c.FilesDir = hostFiles
		c.Clipboard = clip
	})
	ctx := browsertest.Open(t, l.server.URL())
	browsertest.Poll(t, ctx, "the page", `document.getElementById('status-title').textContent.includes('Waiting')`)
	if !browsertest.Eval[bool](t, ctx, `document.getElementById('share-card').hidden`) {
		t.Error("files and clipboard are shown with nobody connected")
	}
	v, vev, err := l.connect(t, "Bob", l.host.Password(), func(c *viewer.Config) { c.FilesDir = helperFiles })
	if err != nil {
		t.Fatal(err)
	}

	// Connected: both off, Send a file at hand.
	browsertest.Poll(t, ctx, "the panel", `!document.getElementById('share-card').hidden &&
		document.getElementById('lets-title').textContent === 'Let Bob…' &&
		!document.getElementById('allow-files').checked && !document.getElementById('allow-clipboard').checked &&
		!document.getElementById('allow-files').disabled && !document.getElementById('send-file').disabled`)
	if err := v.SendFile(l.ctx, localwebtest.WriteFile(t, "early.txt", "too early")); !errors.Is(err, viewer.ErrFilesNotAllowed) {
		t.Fatalf("the helper sent a file before the person allowed files: %v", err)
	}

	// The person lets Bob send files.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("allow-files"))); err != nil {
		t.Fatal(err)
	}
	vev.Wait(t, "files allowed", func(e viewer.Event) bool { return slices.Contains(e.Capabilities, session.CapFiles) })
	if caps := l.host.Capabilities(); !slices.Equal(caps, []string{session.CapFiles}) {
		t.Fatalf("the host grants %v, want files only", caps)
	}
	browsertest.Poll(t, ctx, "the switch on and the log", `document.getElementById('allow-files').checked &&
		document.getElementById('log').textContent.includes('You let Bob offer you files.') &&
		document.getElementById('rights').textContent.includes('Can offer you files')`)

	// Bob sends a file: the person is asked, and accepts.
	const report = "%PDF-1.4 the quarterly report"
	if err := v.SendFile(l.ctx, localwebtest.WriteFile(t, "report.pdf", report)); err != nil {
		t.Fatal(err)
	}
	offer := l.hostEv.Wait(t, "the offer", func(e host.Event) bool { return e.Type == host.EventFileOffer && e.Name == "report.pdf" })
	browsertest.Poll(t, ctx, "the offer on the page", fmt.Sprintf(`(() => {
		const o = document.querySelector('#offers .offer');
		return o && o.textContent.includes('Bob wants to send you report.pdf (29 bytes).') && o.textContent.includes(%q) &&
			document.title.includes('Bob wants to send you report.pdf');
	})()`, offer.SHA256))
	browsertest.Poll(t, ctx, "Accept to be enabled", `!document.querySelector('#offers .accept').disabled`)
	browsertest.Screenshot(t, ctx, "host-file-offer.png")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#offers .accept`))); err != nil {
		t.Fatal(err)
	}
	got := l.hostEv.Wait(t, "the file", func(e host.Event) bool { return e.Type == host.EventFileReceived && e.ID == offer.ID })
	localwebtest.WantFile(t, hostFiles, got.Path, report)
	browsertest.Poll(t, ctx, "the saved path", fmt.Sprintf(`document.getElementById('offers').children.length === 0 &&
		document.getElementById('transfers').textContent.includes('Saved to ' + %q)`, got.Path))

	// Another: declined, and nothing lands.
	if err := v.SendFile(l.ctx, localwebtest.WriteFile(t, "unwanted.exe", "MZ")); err != nil {
		t.Fatal(err)
	}
	browsertest.Poll(t, ctx, "the second offer", `(() => {
		const o = document.querySelector('#offers .offer');
		return o && o.textContent.includes('unwanted.exe');
	})()`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#offers .decline`))); err != nil {
		t.Fatal(err)
	}
	vev.Wait(t, "the helper told", func(e viewer.Event) bool {
		return e.Type == viewer.EventFileFailed && e.Name == "unwanted.exe" && e.Reason == "declined"
	})
	browsertest.Poll(t, ctx, "the decline on the page", `document.getElementById('transfers').textContent.includes('You declined it') &&
		document.getElementById('log').textContent.includes('You declined unwanted.exe.')`)
	if files := localwebtest.RegularFiles(t, hostFiles); len(files) != 1 {
		t.Fatalf("the person's folder holds %q, want the report only", files)
	}

	// The person sends a file from the page; Bob accepts it.
	const notes = "printer: HP LaserJet, queue stuck since Monday"
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.ID("file-input"), []string{localwebtest.WriteFile(t, "printer notes.txt", notes)})); err != nil {
		t.Fatal(err)
	}
	vo := vev.Wait(t, "the offer to Bob", func(e viewer.Event) bool { return e.Type == viewer.EventFileOffer && e.Name == "printer notes.txt" })
	if vo.From != "Alice" || vo.Size != int64(len(notes)) {
		t.Fatalf("Bob was offered %+v", vo)
	}
	browsertest.Poll(t, ctx, "waiting for Bob", `document.getElementById('transfers').textContent.includes('Waiting for Bob to accept')`)
	if err := v.AcceptFile(vo.ID); err != nil {
		t.Fatal(err)
	}
	vr := vev.Wait(t, "Bob's file", func(e viewer.Event) bool { return e.Type == viewer.EventFileReceived && e.ID == vo.ID })
	localwebtest.WantFile(t, helperFiles, vr.Path, notes)
	browsertest.Poll(t, ctx, "sent", `document.getElementById('transfers').textContent.includes('Sent to Bob') &&
		document.getElementById('log').textContent.includes('Bob received printer notes.txt')`)
	// The copy made for sending is gone once sent.
	l.hostEv.Wait(t, "sent", func(e host.Event) bool { return e.Type == host.EventFileSent && e.ID == vo.ID })
	if left := localwebtest.RegularFiles(t, l.uploads); len(left) != 0 {
		t.Errorf("the uploaded copy is still there: %q", left)
	}

	// Names the helper's side would refuse are refused at the upload, and
	// nothing is written anywhere.
	for _, name := range []string{"../../x", ".bashrc", "con.txt", "a:b"} {
		code, msg := localwebtest.Upload(t, l.server.URL(), name, "evil")
		if code != http.StatusBadRequest || msg == "" {
			t.Errorf("upload of %q: %d %q, want 400 and a reason", name, code, msg)
		}
	}
	if left := localwebtest.RegularFiles(t, l.uploads); len(left) != 0 {
		t.Errorf("refused uploads left %q", left)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(l.uploads), "x")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("an upload escaped its folder: %v", err)
	}

	// The clipboard, both ways, once the person shares it; the log says
	// how much, never what.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("allow-clipboard"))); err != nil {
		t.Fatal(err)
	}
	vev.Wait(t, "the clipboard allowed", func(e viewer.Event) bool { return slices.Contains(e.Capabilities, session.CapClipboard) })
	clip.Copies <- "secret-ish text"
	vev.Wait(t, "Alice's copy", func(e viewer.Event) bool { return e.Type == viewer.EventClipboard && e.Text == "secret-ish text" })
	if err := v.SetClipboard("sudo systemctl restart cups"); err != nil {
		t.Fatal(err)
	}
	clip.Text.Wait(t, "Bob's text on the clipboard", func(s string) bool { return s == "sudo systemctl restart cups" })
	browsertest.Poll(t, ctx, "the clipboard in the log", `document.getElementById('log').textContent.includes('What you copied went to Bob (15 bytes).') &&
		document.getElementById('log').textContent.includes('Bob put text on your clipboard (27 bytes).') &&
		!document.getElementById('log').textContent.includes('sudo')`)

	// Files off again: Bob cannot send.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("allow-files"))); err != nil {
		t.Fatal(err)
	}
	vev.Wait(t, "files taken back", func(e viewer.Event) bool {
		return e.Type == viewer.EventConsent && slices.Equal(e.Capabilities, []string{session.CapClipboard})
	})
	browsertest.Poll(t, ctx, "the switch off", `!document.getElementById('allow-files').checked &&
		document.getElementById('allow-clipboard').checked &&
		document.getElementById('log').textContent.includes('You stopped letting Bob offer you files.')`)
	if err := v.SendFile(l.ctx, localwebtest.WriteFile(t, "late.txt", "late")); !errors.Is(err, viewer.ErrFilesNotAllowed) {
		t.Fatalf("the helper sent a file after files were taken back: %v", err)
	}
	browsertest.NarrowScreenshot(t, ctx, "host-files-narrow.png")
}
