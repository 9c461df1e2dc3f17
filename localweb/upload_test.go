package localweb_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gethelp/gethelp/localweb"
)

// uploadReply is the JSON answer to POST /upload.
type uploadReply struct {
	Upload string `json:"upload"`
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	Error  string `json:"error"`
}

// upload is one POST /upload to s.
type upload struct {
	method string // "" means POST
	name   string // the name parameter, as is
	body   io.Reader
	token  bool   // send the token (in the URL)
	origin string // "" means the page's own; "-" sends none
	ctype  string // "" means application/octet-stream; "-" sends none
}

func (u upload) do(t *testing.T, s *localweb.Server) (int, uploadReply) {
	t.Helper()
	code, r, err := u.try(s)
	if err != nil {
		t.Fatal(err)
	}
	return code, r
}

// try is do for any goroutine: the request's error, if any, instead of
// failing the test. The status is 0 when there is no answer.
func (u upload) try(s *localweb.Server) (int, uploadReply, error) {
	base, err := url.Parse(s.URL())
	if err != nil {
		return 0, uploadReply{}, err
	}
	q := url.Values{"name": {u.name}}
	if u.token {
		q.Set("t", base.Query().Get("t"))
	}
	method := u.method
	if method == "" {
		method = http.MethodPost
	}
	body := u.body
	if body == nil {
		body = strings.NewReader("")
	}
	req, err := http.NewRequest(method, "http://"+base.Host+"/upload?"+q.Encode(), body)
	if err != nil {
		return 0, uploadReply{}, err
	}
	switch u.origin {
	case "":
		req.Header.Set("Origin", "http://"+base.Host)
	case "-":
	default:
		req.Header.Set("Origin", u.origin)
	}
	switch u.ctype {
	case "":
		req.Header.Set("Content-Type", "application/octet-stream")
	case "-":
	default:
		req.Header.Set("Content-Type", u.ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, uploadReply{}, err
	}
	defer resp.Body.Close()
	var r uploadReply
	if resp.Header.Get("Content-Type") == "application/json" {
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
			return resp.StatusCode, r, fmt.Errorf("the reply is not JSON: %w", err)
		}
	}
	return resp.StatusCode, r, nil
}

// files lists the regular files under dir, relative to it.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return out
}

// neverEnds is a body longer than any limit, sent chunked (no length).
type neverEnds struct{}

func (neverEnds) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestUploads(t *testing.T) {
	dir := t.TempDir()
	var refuse error
	s := start(t, localweb.Options{Uploads: &localweb.Uploads{
		Dir:     dir,
		MaxSize: 1 << 20,
		CheckName: func(name string) (string, error) {
			if strings.HasPrefix(name, "-") {
				return "", errors.New("no dashes first")
			}
			return name, nil
		},
		Allowed: func() error { return refuse },
	}})

	for _, tc := range []struct {
		name string
		up   upload
		want int
	}{
		{name: "no token", up: upload{name: "a.txt"}, want: 403},
		{name: "foreign origin", up: upload{name: "a.txt", token: true, origin: "http://attacker.example"}, want: 403},
		{name: "no origin", up: upload{name: "a.txt", token: true, origin: "-"}, want: 403},
		{name: "form post", up: upload{name: "a.txt", token: true, ctype: "application/x-www-form-urlencoded"}, want: 415},
		{name: "no type", up: upload{name: "a.txt", token: true, ctype: "-"}, want: 415},
		{name: "GET", up: upload{method: "GET", name: "a.txt", token: true}, want: 405},
		{name: "parent path", up: upload{name: "../../x", token: true, body: strings.NewReader("evil")}, want: 400},
		{name: "absolute path", up: upload{name: "/etc/passwd", token: true}, want: 400},
		{name: "backslash", up: upload{name: `..\..\x`, token: true}, want: 400},
		{name: "dot dot", up: upload{name: "..", token: true}, want: 400},
		{name: "no name", up: upload{name: "", token: true}, want: 400},
		{name: "NUL", up: upload{name: "a\x00b", token: true}, want: 400},
		{name: "newline", up: upload{name: "a\nb", token: true}, want: 400},
		{name: "long", up: upload{name: strings.Repeat("a", 256), token: true}, want: 400},
		{name: "refused by CheckName", up: upload{name: "-rf", token: true}, want: 400},
		{name: "too large", up: upload{name: "big.bin", token: true, body: strings.NewReader(strings.Repeat("x", 1<<20+1))}, want: 413},
		{name: "too large, chunked", up: upload{name: "big.bin", token: true, body: io.LimitReader(neverEnds{}, 4<<20)}, want: 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, r := tc.up.do(t, s)
			if code != tc.want {
				t.Fatalf("status %d (%q), want %d", code, r.Error, tc.want)
			}
			if code != 403 && r.Error == "" {
				t.Errorf("no error message for the page")
			}
		})
	}
	if got := files(t, dir); len(got) != 0 {
		t.Fatalf("refused uploads left files: %q", got)
	}
	if parent := files(t, filepath.Dir(dir)); len(parent) != 0 {
		t.Fatalf("files outside the folder of uploads: %q", parent)
	}

	// Refused while the caller does not allow uploads.
	refuse = errors.New("Alice has not allowed files")
	if code, r := (upload{name: "a.txt", token: true}).do(t, s); code != 409 || r.Error != "Alice has not allowed files" {
		t.Fatalf("a refused upload: %d %q", code, r.Error)
	}
	refuse = nil

	// An upload lands in a private folder of its own, and is removed on
	// request.
	const content = "the printer's log"
	code, r := (upload{name: "printer log.txt", token: true, body: strings.NewReader(content)}).do(t, s)
	if code != 200 || len(r.Upload) != 32 || r.Name != "printer log.txt" || r.Size != int64(len(content)) {
		t.Fatalf("upload: %d %+v", code, r)
	}
	u, err := s.Upload(r.Upload)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(u.Path) != "printer log.txt" || !strings.HasPrefix(u.Path, dir+string(os.PathSeparator)) || u.Size != int64(len(content)) {
		t.Fatalf("Upload %+v", u)
	}
	b, err := os.ReadFile(u.Path)
	if err != nil || string(b) != content {
		t.Fatalf("the file holds %q, %v", b, err)
	}
	for path, want := range map[string]fs.FileMode{
		u.Path:                             0o600,
		filepath.Dir(u.Path):               fs.ModeDir | 0o700,
		filepath.Dir(filepath.Dir(u.Path)): fs.ModeDir | 0o700,
	} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode() != want {
			t.Errorf("%s: mode %v, want %v", path, st.Mode(), want)
		}
	}
	// The same name again is a second upload beside the first.
	_, r2 := (upload{name: "printer log.txt", token: true, body: strings.NewReader("second")}).do(t, s)
	u2, err := s.Upload(r2.Upload)
	if err != nil || u2.Path == u.Path {
		t.Fatalf("a second upload of the same name: %+v, %v", u2, err)
	}
	s.RemoveUpload(u.ID)
	if _, err := os.Stat(filepath.Dir(u.Path)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("after RemoveUpload: %v", err)
	}
	if _, err := s.Upload(u.ID); !errors.Is(err, localweb.ErrNoUpload) {
		t.Fatalf("Upload of a removed upload: %v", err)
	}
	s.RemoveUpload(u.ID)         // again: nothing
	s.RemoveUpload("../" + u.ID) // not an upload: nothing

	// At most 16 at once.
	for i := range 16 {
		code, r := (upload{name: fmt.Sprintf("f%d", i), token: true}).do(t, s)
		if i < 15 && code != 200 {
			t.Fatalf("upload %d: %d %q", i, code, r.Error)
		}
		if i == 15 && code != 429 {
			t.Fatalf("upload 17: %d, want 429", code)
		}
	}

	// Close removes them all.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if left, err := os.ReadDir(dir); err != nil || len(left) != 0 {
		t.Fatalf("after Close the folder holds %v (%v)", left, err)
	}
}

func TestUploadsOff(t *testing.T) {
	s := start(t, localweb.Options{})
	if code, _ := (upload{name: "a.txt", token: true}).do(t, s); code != 404 {
		t.Fatalf("upload without Options.Uploads: %d, want 404", code)
	}
}

// TestCloseDuringUpload checks that Close waits for an upload under way
// and removes what it wrote.
func TestCloseDuringUpload(t *testing.T) {
	dir := t.TempDir()
	s, err := localweb.New(localweb.Options{Assets: assets, Uploads: &localweb.Uploads{Dir: dir}})
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		code, _, _ := (upload{name: "slow.bin", token: true, body: pr}).try(s)
		done <- code
	}()
	if _, err := pw.Write([]byte("the first bytes")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(waitTimeout)
	for len(files(t, dir)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the upload did not start")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if left, err := os.ReadDir(dir); err != nil || len(left) != 0 {
		t.Fatalf("after Close the folder holds %v (%v)", left, err)
	}
	pw.CloseWithError(errors.New("the test is done"))
	if code := <-done; code == 200 {
		t.Fatal("an upload cut off by Close succeeded")
	}
}
