package main_test

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A file the helper sends lands in the person's folder only when the
// person accepts it; a transfer cut off by a disconnect resumes where it
// stopped when the same file is offered in the next session (a resent
// invitation), and the log records the file with its SHA-256.
func TestFileTransferResumesAfterDisconnect(t *testing.T) {
	e := newEnv(t)
	inbox := e.path("Downloads")
	e.vars = append(e.vars, "XDG_DOWNLOAD_DIR="+inbox)
	// Big enough that the first session ends in the middle; zeros cost no
	// disk (sparse) and QUIC does not compress.
	src := e.path("disk.img")
	f, err := os.Create(src)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(128 << 20)
	f.WriteAt([]byte("the end"), 128<<20-7)
	f.Close()
	want := fileSHA256(t, src)

	h, inv := e.hostInvite()
	id, file := str(inv, "id"), str(inv, "file")
	v := e.viewer(file, str(inv, "password"))
	v.next("connected")
	h.next("connected")

	// Not allowed yet: refused on the helper's side with a reason.
	v.send(map[string]any{"type": "send_file", "path": src})
	if ev := v.next("error"); !strings.Contains(str(ev, "message"), "not allowed file transfer") {
		t.Errorf("send_file before the grant: %v", ev)
	}
	h.send(map[string]any{"type": "grant", "capabilities": []string{"files"}})
	v.next("consent")
	v.send(map[string]any{"type": "send_file", "path": src})
	offer := h.next("file_offer")
	if str(offer, "name") != "disk.img" || str(offer, "helper") != "Bob" {
		t.Fatalf("offer: %v", offer)
	}
	h.send(map[string]any{"type": "accept_file", "id": str(offer, "id")})
	for {
		p := h.next("file_progress")
		if done, _ := p["done"].(float64); done > 0 {
			break
		}
	}
	h.send(map[string]any{"type": "disconnect"}) // cut it off
	h.next("disconnected")
	h.exit()
	v.exit()
	if ents, _ := os.ReadDir(inbox); len(ents) != 1 || ents[0].Name() != ".gethelp-partial" {
		t.Fatalf("after the cut the folder holds %v, want only the partial", ents)
	}

	// The next session: the same file resumes.
	r := e.start("invitations", "resend", "--json", "--listen", "127.0.0.1:0", id)
	inv2 := r.next("invitation")
	v2 := e.viewer(file, str(inv2, "password"))
	v2.next("connected")
	r.next("connected")
	r.send(map[string]any{"type": "grant", "capabilities": []string{"files"}})
	v2.next("consent")
	v2.send(map[string]any{"type": "send_file", "path": src})
	offer = r.next("file_offer")
	r.send(map[string]any{"type": "accept_file", "id": str(offer, "id")})
	got := r.next("file_received")
	if str(got, "sha256") != want || filepath.Dir(str(got, "path")) != inbox {
		t.Fatalf("file_received: %v", got)
	}
	if fileSHA256(t, str(got, "path")) != want {
		t.Fatal("the file on disk differs from the one sent")
	}
	v2.next("file_sent")
	v2.send(map[string]any{"type": "disconnect"})
	r.next("disconnected")
	r.exit()

	log, err := os.ReadFile(str(inv2, "log"))
	if err != nil {
		t.Fatal(err)
	}
	entry := lineWith(string(log), `"file_received"`)
	if !strings.Contains(entry, want) || strings.Contains(entry, `"resumed_from":0`) || !strings.Contains(entry, `"resumed_from"`) {
		t.Errorf("the log's file entry does not show a resumed transfer with its SHA-256: %s", entry)
	}
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func lineWith(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}
