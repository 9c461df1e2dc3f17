package viewerui

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/gethelp/gethelp/session/screen"
	"github.com/gethelp/gethelp/viewer"
)

//go:embed assets
var assets embed.FS

// ErrNotLoopback is returned by New when Options.Addr is not a loopback
// address: the UI is never served to the network.
var ErrNotLoopback = errors.New("viewerui: the UI listens on loopback addresses only")

// Options configures New.
type Options struct {
	// Addr is the TCP address to listen on; "" means "127.0.0.1:0". Its
	// host must be a loopback IP address (127.0.0.0/8 or ::1).
	Addr string
	// Logger receives diagnostics; nil discards them. Tokens are never
	// logged.
	Logger *slog.Logger
}

const (
	// maxBacklog bounds the events kept for pages that connect late.
	maxBacklog = 5000
	// pageQueue is how many JSON messages may wait for a slow page before
	// it is dropped (it reconnects and gets the whole state again).
	pageQueue = 256
	// statsInterval is how often the page gets connection statistics.
	statsInterval = time.Second
)

// Server serves the helper's window. Create it with New; it runs until
// Close.
type Server struct {
	v      *viewer.Viewer
	logger *slog.Logger
	token  string // 32 hex digits; never logged
	cookie string // the cookie's name, unique per port (cookies ignore ports)
	url    string
	ln     net.Listener
	srv    *http.Server
	ctx    context.Context // cancelled by Close; parent of every page's context
	cancel context.CancelFunc
	wg     sync.WaitGroup // Serve, the stats loop and every page

	mu      sync.Mutex
	closed  bool               // guarded by mu
	pages   map[*page]struct{} // guarded by mu
	backlog [][]byte           // guarded by mu: every event but frames, as JSON, oldest first
	meter   meter              // guarded by mu
	stats   []byte             // guarded by mu: the last stats message, nil before the first
}

// New starts serving the window of v on a loopback address with a fresh
// random token. It returns ErrNotLoopback for a non-loopback Options.Addr,
// or the error of net.Listen.
func New(v *viewer.Viewer, opts Options) (*Server, error) {
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if !loopbackAddr(addr) {
		return nil, fmt.Errorf("%w: %q", ErrNotLoopback, addr)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("viewerui: %w", err)
	}
	token := newToken()
	port := ln.Addr().(*net.TCPAddr).Port
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		v:      v,
		logger: logger.With("component", "viewerui"),
		token:  token,
		cookie: fmt.Sprintf("gethelp_viewer_%d", port),
		url:    fmt.Sprintf("http://%s/?t=%s", ln.Addr(), token),
		ln:     ln,
		ctx:    ctx,
		cancel: cancel,
		pages:  make(map[*page]struct{}),
	}
	s.meter.reset(time.Now())
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logger.Error("serving the UI", "err", err)
		}
	}()
	go func() { defer s.wg.Done(); s.statsLoop() }()
	s.logger.Info("helper's window ready", "addr", ln.Addr().String())
	return s, nil
}

// URL returns the address to open, token included: http://127.0.0.1:PORT/?t=TOKEN.
func (s *Server) URL() string { return s.url }

// Close stops the server: pages are disconnected, the listener closed, and
// Close returns once every goroutine of the server has ended. Calling it
// again returns nil.
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
	return err
}

// Publish shows an event of the viewer in the pages; frame events feed the
// connection statistics. Events are kept, so a page that connects later
// (or reloads) catches up. Publish never blocks on a page.
func (s *Server) Publish(e viewer.Event) {
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.Type == viewer.EventFrame {
		s.meter.frame(e)
		return
	}
	if e.Type == viewer.EventConnected && e.RTTms > 0 {
		s.meter.rtt = e.RTTms
	}
	b, err := json.Marshal(e)
	if err != nil {
		s.logger.Error("encoding an event", "type", e.Type, "err", err)
		return
	}
	s.backlog = append(s.backlog, b)
	if len(s.backlog) > maxBacklog {
		s.backlog = slices.Delete(s.backlog, 0, len(s.backlog)-maxBacklog)
	}
	for p := range s.pages {
		p.send(b)
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
	viaURL, ok := s.authorized(r)
	if !ok {
		http.Error(w, "403 forbidden: open the address gethelp printed, with its token", http.StatusForbidden)
		return
	}
	if viaURL {
		http.SetCookie(w, &http.Cookie{
			Name: s.cookie, Value: s.token, Path: "/",
			HttpOnly: true, SameSite: http.SameSiteStrictMode,
		})
	}
	switch r.URL.Path {
	case "/":
		s.asset(w, r, "assets/index.html", "text/html; charset=utf-8")
	case "/app.js":
		s.asset(w, r, "assets/app.js", "text/javascript; charset=utf-8")
	case "/style.css":
		s.asset(w, r, "assets/style.css", "text/css; charset=utf-8")
	case "/ws":
		s.servePage(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) asset(w http.ResponseWriter, r *http.Request, name, ctype string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
		return
	}
	b, err := assets.ReadFile(name)
	if err != nil {
		http.Error(w, "500 missing asset", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Write(b)
}

// authorized reports whether r carries the token, and whether it came in
// the URL (then the cookie is set).
func (s *Server) authorized(r *http.Request) (viaURL, ok bool) {
	if !loopbackHost(r.Host) {
		return false, false // DNS rebinding: a foreign name pointing at us
	}
	if t := r.URL.Query().Get("t"); t != "" {
		return true, s.tokenEqual(t)
	}
	c, err := r.Cookie(s.cookie)
	return false, err == nil && s.tokenEqual(c.Value)
}

func (s *Server) tokenEqual(t string) bool {
	return subtle.ConstantTimeCompare([]byte(t), []byte(s.token)) == 1
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

// command is a message from the page.
type command struct {
	Type    string `json:"type"` // chat, disconnect, bandwidth, monitor
	Text    string `json:"text,omitempty"`
	Level   string `json:"level,omitempty"`
	Monitor *int   `json:"monitor,omitempty"`
}

// do carries out a page's command; failures are told to that page.
func (s *Server) do(p *page, cmd command) {
	var err error
	switch cmd.Type {
	case "chat":
		if cmd.Text == "" {
			return
		}
		err = s.v.Chat(cmd.Text)
	case "disconnect":
		s.v.Disconnect("")
	case "bandwidth":
		var lv screen.Level
		if lv, err = screen.ParseLevel(cmd.Level); err == nil {
			if err = s.v.SetBandwidth(lv); err == nil {
				// The host does not echo the helper's own change: tell
				// every page (and later ones) here.
				s.Publish(viewer.Event{Type: viewer.EventBandwidth, Level: lv.String(), Self: true})
			}
		}
	case "monitor":
		if cmd.Monitor == nil {
			err = errors.New("no monitor given")
		} else {
			err = s.v.ShowMonitor(*cmd.Monitor)
		}
	default:
		err = fmt.Errorf("unknown command %q", cmd.Type)
	}
	if err != nil {
		s.logger.Info("command failed", "type", cmd.Type, "err", err)
		p.send(errorMessage(cmd.Type, err))
	}
}

func errorMessage(cmd string, err error) []byte {
	b, _ := json.Marshal(struct {
		Type    string `json:"type"`
		Command string `json:"command"`
		Message string `json:"message"`
	}{"error", cmd, err.Error()})
	return b
}

// meter sums frame events between two stats messages.
type meter struct {
	since   time.Time
	bytes   int
	updates int
	latSum  float64
	latency float64 // the last mean latency, kept while the screen is idle
	rtt     float64 // from the connected event
}

func (m *meter) reset(now time.Time) { m.since, m.bytes, m.updates, m.latSum = now, 0, 0, 0 }

func (m *meter) frame(e viewer.Event) {
	m.bytes += e.Bytes
	m.updates++
	m.latSum += e.LatencyMs
}

// statsMessage is the page's connection-quality line, sent every second.
type statsMessage struct {
	Type          string  `json:"type"` // "stats"
	BytesPerSec   float64 `json:"bytes_per_sec"`
	UpdatesPerSec float64 `json:"updates_per_sec"`
	LatencyMs     float64 `json:"latency_ms,omitempty"` // capture to applied, mean; the last known when idle
	RTTms         float64 `json:"rtt_ms,omitempty"`
}

func (s *Server) statsLoop() {
	t := time.NewTicker(statsInterval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case now := <-t.C:
			s.mu.Lock()
			m := &s.meter
			secs := now.Sub(m.since).Seconds()
			if m.updates > 0 {
				m.latency = m.latSum / float64(m.updates)
			}
			b, _ := json.Marshal(statsMessage{
				Type:          "stats",
				BytesPerSec:   float64(m.bytes) / secs,
				UpdatesPerSec: float64(m.updates) / secs,
				LatencyMs:     max(m.latency, 0),
				RTTms:         m.rtt,
			})
			m.reset(now)
			s.stats = b
			for p := range s.pages {
				p.send(b)
			}
			s.mu.Unlock()
		}
	}
}
