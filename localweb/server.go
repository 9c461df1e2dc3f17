package localweb

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"
)

// pageScript is localweb.js, served at /localweb.js to every page: what both
// windows' pages do the same way (see the file).
//
//go:embed localweb.js
var pageScript []byte

// ErrNotLoopback is returned by New when Options.Addr is not a loopback
// address: the page is never served to the network.
var ErrNotLoopback = errors.New("localweb: the UI listens on loopback addresses only")

// Options configures New.
type Options struct {
	// Addr is the TCP address to listen on; "" means "127.0.0.1:0". Its
	// host must be a loopback IP address (127.0.0.0/8 or ::1).
	Addr string
	// Assets holds the page: index.html (served at /), app.js and
	// style.css, at its root. Never nil. index.html may load localweb's
	// own script, /localweb.js, before app.js.
	Assets fs.FS
	// Name names the token cookie, gethelp_NAME_PORT; "" means "page".
	Name string
	// Logger receives diagnostics as is (give it the caller's component
	// attribute); nil discards them. The token is never logged.
	Logger *slog.Logger

	// Hello, if not nil, returns the first message to each page that
	// connects, sent before the backlog. It runs in the page's goroutine.
	Hello func() []byte
	// OnPage, if not nil, runs for each page in a goroutine of its own,
	// once the page has been sent its hello, the backlog and the latest
	// message of BroadcastLatest. ctx is cancelled when the page goes or
	// the server closes, and OnPage must then return. The page is closed
	// when OnPage returns; an error not caused by ctx is logged at debug
	// level. Without OnPage a page stays until it goes.
	OnPage func(ctx context.Context, p *Page) error
	// OnText, if not nil, receives each text message from a page, one at
	// a time, in that page's reading goroutine; msg is the caller's.
	// Binary messages from pages are ignored.
	OnText func(p *Page, msg []byte)
	// Uploads, if not nil, lets the page upload files (POST /upload); nil
	// answers 404 there.
	Uploads *Uploads
}

const (
	// maxBacklog bounds the messages kept for pages that connect late.
	maxBacklog = 5000
	// pageQueue is how many text messages may wait for a slow page before
	// it is dropped (it reconnects and gets the whole state again).
	pageQueue = 256
	// writeTimeout bounds one WebSocket write; a page that does not read
	// for that long is dropped.
	writeTimeout = 10 * time.Second
	// maxMessage bounds a message from a page (a chat of 16 KiB, escaped).
	maxMessage = 128 << 10
)

// Server serves one local page. Create it with New; it runs until Close.
type Server struct {
	opts   Options // Logger and Assets never nil; not modified after New
	logger *slog.Logger
	token  string // 32 hex digits; never logged
	cookie string // the cookie's name, unique per port (cookies ignore ports)
	addr   net.Addr
	url    string
	srv    *http.Server
	ctx    context.Context // cancelled by Close; parent of every page's context
	cancel context.CancelFunc
	wg     sync.WaitGroup // Serve and every page

	mu      sync.Mutex
	closed  bool               // guarded by mu
	pages   map[*Page]struct{} // guarded by mu
	backlog [][]byte           // guarded by mu: what Broadcast sent, oldest first
	latest  []byte             // guarded by mu: what BroadcastLatest sent last, or nil

	uploads    map[string]Upload // guarded by mu: by ID; Path "" while arriving
	uploadRoot *os.Root          // guarded by mu: the private folder of uploads; nil until the first
}

// New starts serving opts.Assets on a loopback address with a fresh random
// token. It returns ErrNotLoopback for a non-loopback Options.Addr, or the
// error of net.Listen.
func New(opts Options) (*Server, error) {
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if !loopbackAddr(addr) {
		return nil, fmt.Errorf("%w: %q", ErrNotLoopback, addr)
	}
	if opts.Assets == nil {
		return nil, errors.New("localweb: no assets")
	}
	if opts.Name == "" {
		opts.Name = "page"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("localweb: %w", err)
	}
	token := newToken()
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		opts:    opts,
		logger:  opts.Logger,
		token:   token,
		cookie:  fmt.Sprintf("gethelp_%s_%d", opts.Name, ln.Addr().(*net.TCPAddr).Port),
		addr:    ln.Addr(),
		url:     fmt.Sprintf("http://%s/?t=%s", ln.Addr(), token),
		ctx:     ctx,
		cancel:  cancel,
		pages:   make(map[*Page]struct{}),
		uploads: make(map[string]Upload),
	}
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	s.wg.Go(func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logger.Error("serving the UI", "err", err)
		}
	})
	return s, nil
}

// URL returns the address to open, token included: http://127.0.0.1:PORT/?t=TOKEN.
func (s *Server) URL() string { return s.url }

// Addr returns the address the server listens on, without the token.
func (s *Server) Addr() net.Addr { return s.addr }

// Close stops the server: pages are disconnected, the listener closed, and
// Close returns once every goroutine of the server, OnPage and uploads
// under way included, has ended, and the folder of uploads is removed.
// Calling it again returns nil.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	err := s.srv.Close()
	s.wg.Wait()
	s.removeUploads()
	return err
}

// Broadcast sends the text message msg to every page and keeps it (the
// latest maxBacklog of them), so a page that connects later or reloads
// gets them all, in order, after its hello. It never blocks on a page.
// msg must not be modified afterwards.
func (s *Server) Broadcast(msg []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.backlog = append(s.backlog, msg)
	if len(s.backlog) > maxBacklog {
		s.backlog = slices.Delete(s.backlog, 0, len(s.backlog)-maxBacklog)
	}
	s.sendLocked(msg)
}

// BroadcastLatest sends the text message msg to every page like
// Broadcast, but keeps only the latest such message, in place of the one
// before: a page that connects later gets it after the backlog. It suits
// a state that each message replaces whole. msg must not be modified
// afterwards.
func (s *Server) BroadcastLatest(msg []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latest = msg
	s.sendLocked(msg)
}

func (s *Server) sendLocked(msg []byte) {
	for p := range s.pages {
		p.SendText(msg)
	}
}

// ServeHTTP serves the page, its assets and the WebSocket, to requests that
// carry the token (in the URL or the cookie set when the page was opened
// with it) and name a loopback host; anything else gets 403.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; "+
		"img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	if !Authorize(w, r, s.token, s.cookie) {
		http.Error(w, "403 forbidden: open the address gethelp printed, with its token", http.StatusForbidden)
		return
	}
	switch r.URL.Path {
	case "/":
		s.asset(w, r, "index.html", "text/html; charset=utf-8")
	case "/app.js":
		s.asset(w, r, "app.js", "text/javascript; charset=utf-8")
	case "/style.css":
		s.asset(w, r, "style.css", "text/css; charset=utf-8")
	case "/localweb.js":
		s.script(w, r)
	case "/ws":
		s.servePage(w, r)
	case "/upload":
		s.serveUpload(w, r)
	default:
		http.NotFound(w, r)
	}
}

// asset answers a GET or HEAD with the file name of Options.Assets.
func (s *Server) asset(w http.ResponseWriter, r *http.Request, name, ctype string) {
	if !getOrHead(w, r) {
		return
	}
	b, err := fs.ReadFile(s.opts.Assets, name)
	if err != nil {
		http.Error(w, "500 missing asset", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Write(b)
}

// script answers a GET or HEAD with localweb.js.
func (s *Server) script(w http.ResponseWriter, r *http.Request) {
	if !getOrHead(w, r) {
		return
	}
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Write(pageScript)
}

// getOrHead answers 405 to a request that is neither GET nor HEAD, and
// reports whether it is one.
func getOrHead(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
		return false
	}
	return true
}

// Authorize reports whether r may be served: its Host header names this
// machine (127.0.0.0/8, ::1 or localhost, with or without a port: another
// name is DNS rebinding) and it carries token, compared in constant time,
// in the URL (?t=TOKEN) or in the cookie named cookie. When the token came
// in the URL, it sets that cookie on w (Path /, HttpOnly, SameSite=Strict),
// so that the page's own requests carry it. A token in the URL is the only
// one looked at, even when wrong; an empty token authorizes nothing. The
// caller answers a request that is not authorized with 403, and gives each
// server on this machine a cookie name of its own (cookies ignore ports).
func Authorize(w http.ResponseWriter, r *http.Request, token, cookie string) bool {
	if token == "" || !loopbackHost(r.Host) {
		return false
	}
	if t := r.URL.Query().Get("t"); t != "" {
		if !tokenEqual(t, token) {
			return false
		}
		http.SetCookie(w, &http.Cookie{
			Name: cookie, Value: token, Path: "/",
			HttpOnly: true, SameSite: http.SameSiteStrictMode,
		})
		return true
	}
	c, err := r.Cookie(cookie)
	return err == nil && tokenEqual(c.Value, token)
}

// tokenEqual compares t with token in constant time.
func tokenEqual(t, token string) bool {
	return subtle.ConstantTimeCompare([]byte(t), []byte(token)) == 1
}

// newToken returns 128 random bits as hex.
func newToken() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// loopbackAddr reports whether addr (host:port) names a loopback IP.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// loopbackHost reports whether a Host header names this machine.
func loopbackHost(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
