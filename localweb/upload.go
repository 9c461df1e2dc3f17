package localweb

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Uploads lets the page hand files to this program (POST /upload): the
// browser cannot tell a page where a chosen file is, so the page sends its
// bytes, and the caller uses the copy by path.
type Uploads struct {
	// Dir is where the server's private folder of uploads is made (mode
	// 0700, on the first upload; removed with everything in it by Close);
	// "" means os.TempDir().
	Dir string
	// MaxSize bounds one upload, in bytes; 0 means DefaultMaxUpload.
	MaxSize int64
	// CheckName, if not nil, checks the file's name after localweb's own
	// check (a plain name of at most 255 bytes: no separators, no control
	// characters, not "." or ".."), returning the name to use or an error
	// that refuses the upload; the page is shown the error's text.
	CheckName func(name string) (string, error)
	// Allowed, if not nil, is asked before each upload; an error refuses
	// it (409), and the page is shown the error's text.
	Allowed func() error
}

// DefaultMaxUpload is the largest upload when Uploads.MaxSize is 0: 4 GiB.
const DefaultMaxUpload = 4 << 30

// maxUploads is how many uploads may be kept (stored or arriving) at once.
const maxUploads = 16

// ErrNoUpload is returned by Server.Upload for an id that names no upload:
// never made, removed, or not finished.
var ErrNoUpload = errors.New("localweb: no such upload")

// Upload is a file the page uploaded.
type Upload struct {
	// ID names the upload: 32 random hex digits, given to the page.
	ID string
	// Name is the file's name as checked (Uploads.CheckName).
	Name string
	// Path is the file: Name, mode 0600, in a folder (0700) of its own in
	// the server's private folder of uploads.
	Path string
	// Size is the file's length in bytes.
	Size int64
}

// Upload returns the finished upload id, or ErrNoUpload.
func (s *Server) Upload(id string) (Upload, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.uploads[id]
	if !ok || u.Path == "" {
		return Upload{}, fmt.Errorf("%w: %q", ErrNoUpload, id)
	}
	return u, nil
}

// RemoveUpload deletes the upload id, its file and folder. An unknown id,
// or one still arriving, is left alone.
func (s *Server) RemoveUpload(id string) {
	s.mu.Lock()
	u, ok := s.uploads[id]
	if !ok || u.Path == "" {
		s.mu.Unlock()
		return
	}
	delete(s.uploads, id)
	root := s.uploadRoot
	s.mu.Unlock()
	if root != nil {
		if err := root.RemoveAll(id); err != nil {
			s.logger.Warn("removing an upload", "err", err)
		}
	}
}

// uploadReply is the answer to POST /upload, as JSON: upload, name and
// size, or error.
type uploadReply struct {
	Upload string `json:"upload,omitempty"`
	Name   string `json:"name,omitempty"`
	Size   int64  `json:"size,omitempty"`
	Error  string `json:"error,omitempty"`
}

// serveUpload stores the request's body as a new upload: POST
// /upload?name=NAME, Content-Type application/octet-stream, from the
// page's own origin.
func (s *Server) serveUpload(w http.ResponseWriter, r *http.Request) {
	up := s.opts.Uploads
	if up == nil {
		http.NotFound(w, r)
		return
	}
	fail := func(code int, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(uploadReply{Error: msg})
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		fail(http.StatusMethodNotAllowed, "uploads are POSTed")
		return
	}
	// The cookie is SameSite=Strict and the token secret, so another site
	// cannot get here; the Origin and a type no form can send make sure.
	if origin := r.Header.Get("Origin"); origin != "http://"+r.Host {
		fail(http.StatusForbidden, "an upload must come from the page itself")
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/octet-stream" {
		fail(http.StatusUnsupportedMediaType, "an upload is sent as application/octet-stream")
		return
	}
	name, err := plainName(r.URL.Query().Get("name"))
	if err == nil && up.CheckName != nil {
		name, err = up.CheckName(name)
		if err == nil {
			_, err = plainName(name) // CheckName may not loosen the rules
		}
	}
	if err != nil {
		fail(http.StatusBadRequest, err.Error())
		return
	}
	if up.Allowed != nil {
		if err := up.Allowed(); err != nil {
			fail(http.StatusConflict, err.Error())
			return
		}
	}
	maxSize := up.MaxSize
	if maxSize <= 0 {
		maxSize = DefaultMaxUpload
	}
	if r.ContentLength > maxSize {
		fail(http.StatusRequestEntityTooLarge, fmt.Sprintf("the file is larger than %s", sizeText(maxSize)))
		return
	}

	id := newToken()
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		fail(http.StatusServiceUnavailable, "gethelp is stopping")
		return
	case len(s.uploads) >= maxUploads:
		s.mu.Unlock()
		fail(http.StatusTooManyRequests, "too many files at once: wait until some are sent")
		return
	}
	root, err := s.uploadRootLocked()
	if err != nil {
		s.mu.Unlock()
		s.logger.Error("making the folder for uploads", "err", err)
		fail(http.StatusInternalServerError, "gethelp could not make a folder for the file")
		return
	}
	s.uploads[id] = Upload{ID: id, Name: name} // arriving: no Path yet
	s.wg.Add(1)                                // Close waits for the copy, then removes the folder
	s.mu.Unlock()
	defer s.wg.Done()

	size, err := s.storeUpload(root, id, name, http.MaxBytesReader(w, r.Body, maxSize))
	if err != nil {
		s.mu.Lock()
		delete(s.uploads, id)
		s.mu.Unlock()
		if rerr := root.RemoveAll(id); rerr != nil {
			s.logger.Warn("removing a failed upload", "err", rerr)
		}
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			fail(http.StatusRequestEntityTooLarge, fmt.Sprintf("the file is larger than %s", sizeText(maxSize)))
			return
		}
		s.logger.Info("upload failed", "err", err)
		fail(http.StatusBadRequest, "the file did not arrive whole")
		return
	}
	u := Upload{ID: id, Name: name, Path: filepath.Join(root.Name(), id, name), Size: size}
	s.mu.Lock()
	if s.closed {
		// Close is waiting for this handler and removes the folder next.
		s.mu.Unlock()
		fail(http.StatusServiceUnavailable, "gethelp is stopping")
		return
	}
	s.uploads[id] = u
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(uploadReply{Upload: id, Name: name, Size: size})
}

// storeUpload writes body to id/name in root, both new.
func (s *Server) storeUpload(root *os.Root, id, name string, body io.Reader) (int64, error) {
	if err := root.Mkdir(id, 0o700); err != nil {
		return 0, err
	}
	f, err := root.OpenFile(id+"/"+name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(f, body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return n, err
}

// uploadRootLocked returns the private folder of uploads, making it on
// first use. s.mu must be held.
func (s *Server) uploadRootLocked() (*os.Root, error) {
	if s.uploadRoot != nil {
		return s.uploadRoot, nil
	}
	dir, err := os.MkdirTemp(s.opts.Uploads.Dir, "gethelp-uploads-") // mode 0700
	if err != nil {
		return nil, err
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs // Upload.Path stays valid whatever the working directory
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		os.Remove(dir)
		return nil, err
	}
	s.uploadRoot = root
	return root, nil
}

// removeUploads removes the folder of uploads, once nothing writes to it.
func (s *Server) removeUploads() {
	s.mu.Lock()
	root := s.uploadRoot
	s.uploadRoot = nil
	clear(s.uploads)
	s.mu.Unlock()
	if root == nil {
		return
	}
	dir := root.Name()
	root.Close()
	if err := os.RemoveAll(dir); err != nil {
		s.logger.Warn("removing the folder of uploads", "err", err)
	}
}

// plainName refuses a name that is not one plain file name: empty, "."
// or "..", over 255 bytes, not UTF-8, or with a separator or a control
// character.
func plainName(name string) (string, error) {
	switch {
	case name == "":
		return "", errors.New("the file has no name")
	case name == "." || name == "..":
		return "", fmt.Errorf("%q is not a file name", name)
	case len(name) > 255:
		return "", errors.New("the file's name is too long")
	case !utf8.ValidString(name):
		return "", errors.New("the file's name is not valid text")
	case strings.ContainsAny(name, `/\`):
		return "", errors.New("the file's name contains a slash")
	case strings.ContainsFunc(name, unicode.IsControl):
		return "", errors.New("the file's name contains a control character")
	}
	return name, nil
}

// sizeText puts a byte count in words: "4 GiB", "512 MiB".
func sizeText(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
