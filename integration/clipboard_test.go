package integration_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/session"
	"github.com/gethelp/gethelp/viewer"
)

// clip is a Clipboard the test copies into and reads.
type clip struct {
	changes chan string
	set     chan string
}

func (c *clip) Changes() <-chan string                   { return c.changes }
func (c *clip) Set(_ context.Context, text string) error { c.set <- text; return nil }

func TestClipboardOnlyWhenGranted(t *testing.T) {
	// Unbuffered: a send returns once the host took the text, and the next
	// send once the host has handled the one before.
	cb := &clip{changes: make(chan string), set: make(chan string, 4)}
	c := controlSession(t, host.Config{Clipboard: cb})
	waitHost(t, c.hostEvents, host.EventConnected)

	// Before the grant: nothing either way.
	if err := c.v.SetClipboard("from Bob"); !errors.Is(err, viewer.ErrClipboardNotAllowed) {
		t.Fatalf("SetClipboard before the grant: %v", err)
	}
	cb.changes <- "hunter2 (copied before the grant)"
	cb.changes <- "marker" // hunter2 has been handled

	if err := c.h.Grant(session.CapClipboard); err != nil {
		t.Fatal(err)
	}
	waitViewer(t, c.events, viewer.EventConsent)
	cb.changes <- "the error message ✓"
	for {
		e := waitViewer(t, c.events, viewer.EventClipboard)
		if strings.HasPrefix(e.Text, "hunter2") {
			t.Fatal("a copy from before the grant reached the helper")
		}
		if e.Text == "the error message ✓" {
			break
		}
	}
	if err := c.v.SetClipboard("sudo apt install cups"); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-cb.set:
		if got != "sudo apt install cups" {
			t.Fatalf("the person's clipboard got %q", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the helper's text never reached the clipboard")
	}

	if err := c.h.Revoke(session.ByButton, session.CapClipboard); err != nil {
		t.Fatal(err)
	}
	waitViewer(t, c.events, viewer.EventConsent)
	cb.changes <- "private"
	c.v.Chat("sync")
	waitHost(t, c.hostEvents, host.EventChat)
	for _, e := range drainAll(c.events) {
		if e.Type == viewer.EventClipboard {
			t.Fatalf("clipboard sent after the revoke: %q", e.Text)
		}
	}
	c.v.Disconnect("")
	waitHost(t, c.hostEvents, host.EventDisconnected)
	log, _ := os.ReadFile(c.h.LogPath())
	if n := strings.Count(string(log), `"event":"clipboard"`); n < 2 || strings.Contains(string(log), "apt install") {
		t.Errorf("the log should record the transfers (%d) without their text:\n%s", n, log)
	}
}

func drainAll(ch <-chan viewer.Event) []viewer.Event {
	var out []viewer.Event
	for {
		select {
		case e := <-ch:
			out = append(out, e)
		case <-time.After(200 * time.Millisecond):
			return out
		}
	}
}
