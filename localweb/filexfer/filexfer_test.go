package filexfer_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gethelp/gethelp/localweb"
	"github.com/gethelp/gethelp/localweb/filexfer"
	"github.com/gethelp/gethelp/session/files"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// waitTimeout bounds every wait of these tests.
const waitTimeout = 10 * time.Second

// uploads is a filexfer.Uploads of files in a folder.
type uploads struct {
	mu      sync.Mutex
	byID    map[string]localweb.Upload
	removed []string
}

func newUploads() *uploads { return &uploads{byID: make(map[string]localweb.Upload)} }

// add makes the upload id: a file name holding content.
func (u *uploads) add(t *testing.T, id, name, content string) localweb.Upload {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	up := localweb.Upload{ID: id, Name: name, Path: p, Size: int64(len(content))}
	u.mu.Lock()
	u.byID[id] = up
	u.mu.Unlock()
	return up
}

func (u *uploads) Upload(id string) (localweb.Upload, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	up, ok := u.byID[id]
	if !ok {
		return localweb.Upload{}, fmt.Errorf("%w: %q", localweb.ErrNoUpload, id)
	}
	return up, nil
}

func (u *uploads) RemoveUpload(id string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, ok := u.byID[id]; ok {
		delete(u.byID, id)
		u.removed = append(u.removed, id)
	}
}

func (u *uploads) has(id string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	_, ok := u.byID[id]
	return ok
}

// page is a filexfer.Page that keeps what it is told.
type page chan []byte

func (p page) SendText(msg []byte) { p <- msg }

// message is what a Sender tells a page: file_queued or error.
type message struct {
	Type, Upload, ID, Name, Command, Message string
	Size                                     int64
}

func (p page) next(t *testing.T) message {
	t.Helper()
	select {
	case b := <-p:
		var m message
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		return m
	case <-time.After(waitTimeout):
		t.Fatal("the page was told nothing")
	}
	return message{}
}

// sent records the paths a Sender offers, one at a time, until it is
// told what to answer.
type sent struct {
	paths   chan string
	answers chan error
}

func newSent() *sent { return &sent{paths: make(chan string, 10), answers: make(chan error, 10)} }

func (s *sent) sendFile(ctx context.Context, path string, _ files.Offer) error {
	s.paths <- path
	select {
	case err := <-s.answers:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestSend(t *testing.T) {
	ups, snt, p := newUploads(), newSent(), make(page, 10)
	s := filexfer.New(ups, filexfer.Options{SendFile: snt.sendFile})
	defer s.Close()
	u := ups.add(t, "u1", "notes.txt", "printer: HP LaserJet")
	offer, err := files.OfferFile(context.Background(), u.Path)
	if err != nil {
		t.Fatal(err)
	}

	if err := s.Send(p, "u1"); err != nil {
		t.Fatal(err)
	}
	want := message{Type: "file_queued", Upload: "u1", ID: offer.ID, Name: "notes.txt", Size: u.Size}
	if m := p.next(t); m != want {
		t.Fatalf("the page was told %+v, want %+v", m, want)
	}
	if got := <-snt.paths; got != u.Path {
		t.Fatalf("sent %s, want %s", got, u.Path)
	}
	snt.answers <- nil

	// The same file again, while the first is under way: refused, and its
	// copy removed.
	ups.add(t, "u2", "notes.txt", "printer: HP LaserJet")
	if err := s.Send(p, "u2"); err != nil {
		t.Fatal(err)
	}
	want = message{Type: "error", Command: "send_file", Upload: "u2", Message: "notes.txt is already being sent"}
	if m := p.next(t); m != want {
		t.Fatalf("the page was told %+v, want %+v", m, want)
	}
	if ups.has("u2") {
		t.Error("the refused copy is still there")
	}

	// The transfer ends: the copy goes, once.
	if !ups.has("u1") {
		t.Fatal("the copy went before the transfer ended")
	}
	s.Done("ffff") // another transfer
	s.Done(offer.ID)
	s.Done(offer.ID)
	if ups.has("u1") {
		t.Error("the copy is still there after the transfer ended")
	}
	if fmt.Sprint(ups.removed) != "[u2 u1]" {
		t.Errorf("removed %v, want [u2 u1]", ups.removed)
	}
}

func TestSendFails(t *testing.T) {
	ups, snt, p := newUploads(), newSent(), make(page, 10)
	allowed := errors.New("Alice has not allowed files")
	var refuse bool
	var mu sync.Mutex
	s := filexfer.New(ups, filexfer.Options{
		SendFile: snt.sendFile,
		Allowed: func() error {
			mu.Lock()
			defer mu.Unlock()
			if refuse {
				return allowed
			}
			return nil
		},
		Words: func(err error) string { return "in words: " + filexfer.Message(err, "viewer: ") },
	})
	defer s.Close()

	if err := s.Send(p, "nothing"); !errors.Is(err, localweb.ErrNoUpload) {
		t.Fatalf("Send of an unknown upload: %v, want ErrNoUpload", err)
	}

	// The session refuses: the page is told, in its words, and the copy
	// goes; the same file can then be sent again.
	ups.add(t, "u1", "a.txt", "a")
	if err := s.Send(p, "u1"); err != nil {
		t.Fatal(err)
	}
	if m := p.next(t); m.Type != "file_queued" {
		t.Fatalf("the page was told %+v", m)
	}
	<-snt.paths
	snt.answers <- errors.New("viewer: files: the session ended")
	want := message{Type: "error", Command: "send_file", Upload: "u1", Message: "in words: the session ended"}
	if m := p.next(t); m != want {
		t.Fatalf("the page was told %+v, want %+v", m, want)
	}
	if ups.has("u1") {
		t.Error("the copy of a file not sent is still there")
	}
	ups.add(t, "u2", "a.txt", "a")
	if err := s.Send(p, "u2"); err != nil {
		t.Fatal(err)
	}
	if m := p.next(t); m.Type != "file_queued" || m.Upload != "u2" {
		t.Fatalf("the page was told %+v", m)
	}
	<-snt.paths
	snt.answers <- nil

	// Files taken back since the upload: refused, and the copy goes.
	mu.Lock()
	refuse = true
	mu.Unlock()
	ups.add(t, "u3", "b.txt", "b")
	if err := s.Send(p, "u3"); err != allowed {
		t.Fatalf("Send while not allowed: %v", err)
	}
	if ups.has("u3") {
		t.Error("the copy of a refused file is still there")
	}

	// A copy gone before it was hashed.
	mu.Lock()
	refuse = false
	mu.Unlock()
	u := ups.add(t, "u4", "c.txt", "c")
	if err := os.Remove(u.Path); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(p, "u4"); err != nil {
		t.Fatal(err)
	}
	if m := p.next(t); m.Type != "error" || m.Upload != "u4" || !strings.HasPrefix(m.Message, "in words: ") {
		t.Fatalf("the page was told %+v", m)
	}
	if ups.has("u4") {
		t.Error("the copy of a file that could not be read is still there")
	}
}

func TestClose(t *testing.T) {
	ups, snt, p := newUploads(), newSent(), make(page, 10)
	s := filexfer.New(ups, filexfer.Options{SendFile: snt.sendFile})
	ups.add(t, "u1", "a.txt", "a")
	if err := s.Send(p, "u1"); err != nil {
		t.Fatal(err)
	}
	<-snt.paths // under way, and never answered
	s.Close()   // cancels it, and waits
	if m := p.next(t); m.Type != "file_queued" {
		t.Fatalf("the page was told %+v", m)
	}
	if m := p.next(t); m.Type != "error" || m.Message != "context canceled" {
		t.Fatalf("the page was told %+v", m)
	}
	ups.add(t, "u2", "b.txt", "b")
	if err := s.Send(p, "u2"); !errors.Is(err, filexfer.ErrClosed) {
		t.Fatalf("Send after Close: %v, want ErrClosed", err)
	}
	if got := filexfer.Message(filexfer.ErrClosed, ""); got != "gethelp is stopping" {
		t.Errorf("ErrClosed in words: %q", got)
	}
	s.Close()
}

func TestCheckName(t *testing.T) {
	for _, tc := range []struct {
		name, want string // want: "" for accepted, else in the error
	}{
		{name: "report.pdf"},
		{name: "printer notes.txt"},
		{name: ".bashrc", want: "this file's name cannot be sent ("},
		{name: "con.txt", want: "rename the file and try again"},
		{name: "a:b", want: "Windows does not allow"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := filexfer.CheckName(tc.name)
			switch {
			case tc.want == "" && (err != nil || got != tc.name):
				t.Fatalf("CheckName = %q, %v", got, err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("CheckName = %q, %v; want an error saying %q", got, err, tc.want)
			case err != nil && strings.Contains(err.Error(), "files:"):
				t.Fatalf("the error is not in the page's words: %v", err)
			}
		})
	}
}

func TestMessage(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"no offer", fmt.Errorf("host: %w", files.ErrNoOffer), "that file is no longer waiting for an answer"},
		{"no upload", fmt.Errorf("%w: %q", localweb.ErrNoUpload, "00"), "the file is no longer here: choose it again"},
		{"closed", filexfer.ErrClosed, "gethelp is stopping"},
		{"prefixes", errors.New("host: files: the session ended"), "the session ended"},
		{"other prefix", errors.New("viewer: not connected"), "viewer: not connected"},
		{"plain", errors.New("nothing to allow was named"), "nothing to allow was named"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := filexfer.Message(tc.err, "host: "); got != tc.want {
				t.Fatalf("Message = %q, want %q", got, tc.want)
			}
		})
	}
}
