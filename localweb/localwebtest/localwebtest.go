// Package localwebtest helps test the pages package localweb serves and
// the windows built on it (host/hostui, viewer/viewerui): it opens a
// page's WebSocket and uploads a file as the page does, records events
// and waits for them, fakes the clipboard of the host those tests run,
// and makes and checks files.
//
// Every wait is bounded by Timeout, so a test that never gets there fails
// instead of hanging.
package localwebtest

import (
	"context"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// Timeout bounds every wait.
const Timeout = 30 * time.Second

// Recorder keeps values (events, as a Config's OnEvent gets them) and lets
// a test wait for them. Its zero value is ready to use; its methods may be
// called from any goroutine.
type Recorder[E any] struct {
	mu      sync.Mutex
	events  []E           // guarded by mu
	changed chan struct{} // guarded by mu: closed and replaced on every Add; nil until waited on
}

// Add records e.
func (r *Recorder[E]) Add(e E) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	if r.changed != nil {
		close(r.changed)
		r.changed = nil
	}
}

// All returns what was recorded so far, oldest first.
func (r *Recorder[E]) All() []E {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]E(nil), r.events...)
}

// Wait returns the first value recorded (from the start) that ok accepts,
// failing the test after Timeout; what says what is awaited.
func (r *Recorder[E]) Wait(t testing.TB, what string, ok func(E) bool) E {
	t.Helper()
	var found E
	r.WaitAll(t, what, func(events []E) bool {
		for _, e := range events {
			if ok(e) {
				found = e
				return true
			}
		}
		return false
	})
	return found
}

// WaitAll waits until ok accepts all the values recorded so far, and
// returns them, failing the test after Timeout.
func (r *Recorder[E]) WaitAll(t testing.TB, what string, ok func([]E) bool) []E {
	t.Helper()
	deadline := time.After(Timeout)
	for {
		r.mu.Lock()
		events := append([]E(nil), r.events...)
		if r.changed == nil {
			r.changed = make(chan struct{})
		}
		ch := r.changed
		r.mu.Unlock()
		if ok(events) {
			return events
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("timed out waiting for %s; events: %+v", what, r.All())
		}
	}
}

// Dial opens the WebSocket of the page at pageURL (http://HOST/?t=TOKEN),
// with its token, as the page does. It reads messages of any size (a
// screen comes too), and is closed when the test ends.
func Dial(t testing.TB, pageURL string) *websocket.Conn {
	t.Helper()
	u, err := url.Parse(pageURL)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel() // the handshake's only
	c, _, err := websocket.Dial(ctx, "ws://"+u.Host+"/ws?"+u.RawQuery, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadLimit(-1)
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// Upload uploads content as the file name to the page at pageURL, as the
// page does (POST /upload with the token, the page's Origin and
// application/octet-stream), and returns the status and the error the
// page would show ("" with none).
func Upload(t testing.TB, pageURL, name, content string) (int, string) {
	t.Helper()
	u, err := url.Parse(pageURL)
	if err != nil {
		t.Fatal(err)
	}
	q := url.Values{"name": {name}, "t": {u.Query().Get("t")}}
	req, err := http.NewRequest(http.MethodPost, "http://"+u.Host+"/upload?"+q.Encode(), strings.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", "http://"+u.Host)
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct{ Error string }
	json.NewDecoder(resp.Body).Decode(&r)
	return resp.StatusCode, r.Error
}

// Clipboard is a clipboard for the host of a test (a host.Clipboard): a
// test copies text, as the person would, by sending it on Copies, and
// Text records what is put on the clipboard. Make it with NewClipboard.
type Clipboard struct {
	// Copies is what the person copies: the host reads it from Changes.
	Copies chan string
	// Text records the texts put on the clipboard (Set), in order.
	Text Recorder[string]
}

// NewClipboard returns an empty Clipboard.
func NewClipboard() *Clipboard { return &Clipboard{Copies: make(chan string, 1)} }

// Changes returns Copies.
func (c *Clipboard) Changes() <-chan string { return c.Copies }

// Set records text in Text.
func (c *Clipboard) Set(_ context.Context, text string) error {
	c.Text.Add(text)
	return nil
}

// WriteFile writes content to a new file name in a new folder and returns
// its path.
func WriteFile(t testing.TB, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// WantFile fails the test unless the file at path is in the folder dir and
// holds content.
func WantFile(t testing.TB, dir, path, content string) {
	t.Helper()
	if filepath.Dir(path) != dir {
		t.Fatalf("the file landed at %s, not in %s", path, dir)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != content {
		t.Fatalf("%s holds %q, want %q", path, b, content)
	}
}

// RegularFiles lists the files under dir, in its subfolders too.
func RegularFiles(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
