package webchat

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/gethelp/gethelp/bot"
	"github.com/gethelp/gethelp/localweb"
)

//go:embed assets
var assets embed.FS

// maxBody bounds a request's body: a text of MaxText bytes, escaped.
const maxBody = 256 << 10

// pageCSP lets the page load its own script and style, connect to its own
// origin and frame its own mail view, nothing else.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// route is one endpoint.
type route struct {
	method string
	serve  func(s *Server, w http.ResponseWriter, r *http.Request)
}

var routes = map[string]route{
	"/":              {http.MethodGet, func(s *Server, w http.ResponseWriter, r *http.Request) { s.asset(w, "index.html", "text/html") }},
	"/app.js":        {http.MethodGet, func(s *Server, w http.ResponseWriter, r *http.Request) { s.asset(w, "app.js", "text/javascript") }},
	"/style.css":     {http.MethodGet, func(s *Server, w http.ResponseWriter, r *http.Request) { s.asset(w, "style.css", "text/css") }},
	"/ws":            {http.MethodGet, (*Server).serveWS},
	"/api/workspace": {http.MethodGet, (*Server).serveWorkspace},
	"/api/messages":  {http.MethodGet, (*Server).serveMessages},
	"/api/command":   {http.MethodPost, serveCall("reply", (*Server).Command)},
	"/api/post":      {http.MethodPost, serveCall("id", (*Server).Post)},
	"/api/press":     {http.MethodPost, serveCall("reply", (*Server).Press)},
	"/api/file":      {http.MethodGet, (*Server).serveFile},
	"/api/mail":      {http.MethodGet, (*Server).serveMail},
	"/api/mail/html": {http.MethodGet, (*Server).serveMailHTML},
	"/api/mail/file": {http.MethodGet, (*Server).serveMailFile},
}

// ServeHTTP serves the page, the API and the WebSocket to requests that
// carry the token (in the URL or in the cookie set when the page was
// opened with it) and name a loopback host; anything else gets 403.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		httpError(w, r, http.StatusServiceUnavailable, "the chat is closed")
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()

	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", pageCSP)
	if !localweb.Authorize(w, r, s.token, s.cookie) {
		httpError(w, r, http.StatusForbidden, "forbidden: open the address webchat printed, with its token")
		return
	}
	rt, ok := routes[r.URL.Path]
	if !ok {
		httpError(w, r, http.StatusNotFound, "no such page: "+r.URL.Path)
		return
	}
	if r.Method != rt.method && !(rt.method == http.MethodGet && r.Method == http.MethodHead) {
		w.Header().Set("Allow", rt.method)
		httpError(w, r, http.StatusMethodNotAllowed, r.Method+" "+r.URL.Path+": use "+rt.method)
		return
	}
	rt.serve(s, w, r)
}

func (s *Server) asset(w http.ResponseWriter, name, ctype string) {
	b, err := fs.ReadFile(assets, "assets/"+name)
	if err != nil {
		http.Error(w, "500 missing asset", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ctype+"; charset=utf-8")
	w.Write(b)
}

// workspaceView is what GET /api/workspace returns.
type workspaceView struct {
	Workspace string   `json:"workspace"`
	Bot       User     `json:"bot"`
	Users     []User   `json:"users"`
	Channels  []string `json:"channels"`
}

func (s *Server) serveWorkspace(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, workspaceView{
		Workspace: s.workspace,
		Bot:       User{ID: botID, Name: botName},
		Users:     s.users,
		Channels:  s.channels,
	})
}

func (s *Server) serveMessages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("user") == "" {
		httpError(w, r, http.StatusBadRequest, "say whose messages: ?user=ID")
		return
	}
	msgs, err := s.Messages(q.Get("user"), q.Get("channel"), q.Get("thread"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, msgs)
}

// serveCall serves a POST of a JSON In by calling fn, and answers
// {key: what fn returned}.
func serveCall[In any](key string, fn func(*Server, context.Context, In) (string, error)) func(*Server, http.ResponseWriter, *http.Request) {
	return func(s *Server, w http.ResponseWriter, r *http.Request) {
		var in In
		if !decode(w, r, &in) {
			return
		}
		out, err := fn(s, r.Context(), in)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{key: out})
	}
}

func (s *Server) serveFile(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("message")
	s.mu.Lock()
	m, ok := s.byID[id]
	s.mu.Unlock()
	if !ok || m.file == nil {
		httpError(w, r, http.StatusNotFound, "no file on message "+strconv.Quote(id))
		return
	}
	download(w, m.file.Name, m.file.ContentType, m.file.Data) // m.file is never modified
}

func (s *Server) serveMail(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	out := make([]mailView, 0, len(s.mails))
	for _, m := range s.mails {
		out = append(out, mailViewOf(m))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// serveMailHTML serves a mail's HTML for a sandboxed frame of the page: no
// scripts, no forms, nothing loaded from anywhere (no tracking pixels),
// inline styles only.
func (s *Server) serveMailHTML(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("mail")
	s.mu.Lock()
	m := s.mailLocked(id)
	s.mu.Unlock()
	if m == nil || m.HTML == "" {
		httpError(w, r, http.StatusNotFound, "no HTML mail "+strconv.Quote(id))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	io.WriteString(w, m.HTML)
}

func (s *Server) serveMailFile(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	m := s.mailLocked(q.Get("mail"))
	s.mu.Unlock()
	n, err := strconv.Atoi(q.Get("n"))
	if m == nil || err != nil || n < 0 || n >= len(m.Attachments) {
		httpError(w, r, http.StatusNotFound, "no attachment "+strconv.Quote(q.Get("n"))+" on mail "+strconv.Quote(q.Get("mail")))
		return
	}
	a := m.Attachments[n]
	download(w, a.Name, a.ContentType, a.Data)
}

// download writes a file to be saved, never shown: a sandbox and
// Content-Disposition: attachment even for HTML.
func download(w http.ResponseWriter, name, ctype string, data []byte) {
	if mt, params, err := mime.ParseMediaType(ctype); err == nil {
		ctype = mime.FormatMediaType(mt, params)
	} else {
		ctype = ""
	}
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	disp := mime.FormatMediaType("attachment", map[string]string{"filename": name})
	if disp == "" {
		disp = "attachment"
	}
	h.Set("Content-Disposition", disp)
	h.Set("Content-Length", strconv.Itoa(len(data)))
	w.Write(data)
}

// decode reads the JSON body of r into v, strictly, or answers the error
// and returns false.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		httpError(w, r, http.StatusUnsupportedMediaType, "send JSON, with Content-Type: application/json")
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("more than one JSON value")
	}
	if err == nil {
		if _, e := dec.Token(); e != io.EOF {
			err = errors.New("data after the JSON value")
		}
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			httpError(w, r, http.StatusRequestEntityTooLarge, "the request is over "+strconv.Itoa(maxBody)+" bytes")
		} else {
			httpError(w, r, http.StatusBadRequest, "bad JSON: "+err.Error())
		}
		return false
	}
	return true
}

// fail answers err from one of the Server's calls.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, bot.ErrNoSuchUser), errors.Is(err, ErrNotFound):
		code = http.StatusNotFound
	case errors.Is(err, ErrInvalid):
		code = http.StatusBadRequest
	case errors.Is(err, ErrTimeout):
		code = http.StatusGatewayTimeout
	case errors.Is(err, ErrBusy), errors.Is(err, ErrClosed), errors.Is(err, ErrStateFull), errors.Is(err, context.Canceled):
		code = http.StatusServiceUnavailable
	}
	if code == http.StatusInternalServerError {
		s.logger.Error("request", "path", r.URL.Path, "err", err)
	}
	httpError(w, r, code, strings.TrimPrefix(err.Error(), "webchat: "))
}

// httpError answers {"error": msg} with code; pages other than the API's
// get plain text.
func httpError(w http.ResponseWriter, r *http.Request, code int, msg string) {
	if !strings.HasPrefix(r.URL.Path, "/api/") {
		http.Error(w, strconv.Itoa(code)+" "+msg, code)
		return
	}
	writeJSON(w, code, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "500 "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}
