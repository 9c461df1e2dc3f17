package localwebtest_test

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"

	"github.com/gethelp/gethelp/localweb"
	"github.com/gethelp/gethelp/localweb/localwebtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRecorder(t *testing.T) {
	var r localwebtest.Recorder[int]
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 5 {
			time.Sleep(time.Millisecond)
			r.Add(i)
		}
	}()
	if got := r.Wait(t, "3", func(i int) bool { return i == 3 }); got != 3 {
		t.Fatalf("Wait = %d", got)
	}
	all := r.WaitAll(t, "five", func(all []int) bool { return len(all) == 5 })
	<-done
	if len(all) != 5 || all[0] != 0 || all[4] != 4 || len(r.All()) != 5 {
		t.Fatalf("WaitAll = %v, All = %v", all, r.All())
	}
}

func TestPage(t *testing.T) {
	dir := t.TempDir()
	s, err := localweb.New(localweb.Options{
		Assets:  fstest.MapFS{"index.html": {Data: []byte("<!doctype html>")}},
		Hello:   func() []byte { return []byte("hello") },
		Uploads: &localweb.Uploads{Dir: dir, Allowed: func() error { return errors.New("not now") }},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := localwebtest.Dial(t, s.URL())
	ctx, cancel := context.WithTimeout(context.Background(), localwebtest.Timeout)
	defer cancel()
	if typ, msg, err := c.Read(ctx); err != nil || typ != websocket.MessageText || string(msg) != "hello" {
		t.Fatalf("first message: %v %q %v", typ, msg, err)
	}
	if code, msg := localwebtest.Upload(t, s.URL(), "a.txt", "a"); code != http.StatusConflict || msg != "not now" {
		t.Fatalf("Upload = %d %q, want 409 and the refusal", code, msg)
	}
	if left := localwebtest.RegularFiles(t, dir); len(left) != 0 {
		t.Fatalf("a refused upload left %q", left)
	}
}

func TestFiles(t *testing.T) {
	p := localwebtest.WriteFile(t, "notes.txt", "printer")
	localwebtest.WantFile(t, filepath.Dir(p), p, "printer")
	if got := localwebtest.RegularFiles(t, filepath.Dir(p)); len(got) != 1 || got[0] != p {
		t.Fatalf("RegularFiles = %q, want [%s]", got, p)
	}
}

func TestClipboard(t *testing.T) {
	c := localwebtest.NewClipboard()
	c.Copies <- "copied"
	if got := <-c.Changes(); got != "copied" {
		t.Fatalf("Changes gave %q", got)
	}
	if err := c.Set(context.Background(), "pasted"); err != nil {
		t.Fatal(err)
	}
	c.Text.Wait(t, "the text", func(s string) bool { return s == "pasted" })
}
