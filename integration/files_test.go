package integration_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/session"
	"github.com/gethelp/gethelp/viewer"
)

func randomFile(t *testing.T, name string, size int) (string, []byte) {
	t.Helper()
	data := make([]byte, size)
	rand.Read(data)
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, data
}

func TestFilesBothWays(t *testing.T) {
	inbox := t.TempDir()
	c := controlSession(t, host.Config{FilesDir: inbox})
	waitHost(t, c.hostEvents, host.EventConnected)
	path, data := randomFile(t, "fix-printer.sh", 3<<20)

	// Not before the person allows it.
	if err := c.v.SendFile(context.Background(), path); !errors.Is(err, viewer.ErrFilesNotAllowed) {
		t.Fatalf("SendFile before the grant: %v", err)
	}
	if err := c.h.Grant(session.CapFiles); err != nil {
		t.Fatal(err)
	}
	waitViewer(t, c.events, viewer.EventConsent)

	// Helper to person: the person accepts.
	if err := c.v.SendFile(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	offer := waitHost(t, c.hostEvents, host.EventFileOffer)
	if offer.Name != "fix-printer.sh" || offer.Size != int64(len(data)) || offer.Helper != "Bob" {
		t.Fatalf("offer %+v", offer)
	}
	if err := c.h.AcceptFile(offer.ID); err != nil {
		t.Fatal(err)
	}
	got := waitHost(t, c.hostEvents, host.EventFileReceived)
	sum := sha256.Sum256(data)
	if got.SHA256 != hex.EncodeToString(sum[:]) || filepath.Dir(got.Path) != inbox {
		t.Fatalf("received %+v", got)
	}
	if b, err := os.ReadFile(got.Path); err != nil || !bytes.Equal(b, data) {
		t.Fatalf("the received file differs (%v)", err)
	}
	waitViewer(t, c.events, viewer.EventFileSent)

	// Again: declined this time; nothing new lands.
	if err := c.v.SendFile(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	offer = waitHost(t, c.hostEvents, host.EventFileOffer)
	if err := c.h.DeclineFile(offer.ID); err != nil {
		t.Fatal(err)
	}
	if f := waitViewer(t, c.events, viewer.EventFileFailed); f.Reason != "declined" {
		t.Errorf("viewer: %+v", f)
	}
	if ents, _ := os.ReadDir(inbox); len(ents) != 1 {
		t.Errorf("the inbox holds %d entries after a decline", len(ents))
	}

	// Person to helper: the viewer has no folder, so it declines.
	if err := c.h.SendFile(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	if f := waitHost(t, c.hostEvents, host.EventFileFailed); f.Reason != "declined" {
		t.Errorf("host: %+v", f)
	}

	c.v.Disconnect("")
	waitHost(t, c.hostEvents, host.EventDisconnected)
	log, _ := os.ReadFile(c.h.LogPath())
	for _, want := range []string{`"file_received"`, hex.EncodeToString(sum[:]), `"from_helper"`, `"file_declined"`} {
		if !strings.Contains(string(log), want) {
			t.Errorf("the session log lacks %s", want)
		}
	}
}
