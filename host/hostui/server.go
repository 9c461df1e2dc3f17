package hostui

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

	"github.com/coder/websocket"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/session/screen"
)

//go:embed assets
var assets embed.FS

// ErrNotLoopback is returned by New when Options.Addr is not a loopback
// address: the UI is never served to the network.
var ErrNotLoopback = errors.New("hostui: the UI listens on loopback addresses only")

// Options configures New.
type Options struct {
	// Addr is the TCP address to listen on; "" means "127.0.0.1:0". Its
	// host must be a loopback IP address (127.0.0.0/8 or ::1).
	Addr string
	// Level is the bandwidth level the host starts with (host.Config.Level),
	// shown until a change is published; "" shows none.
	Level string
	// Logger receives diagnostics; nil discards them. The password and the
	// token are never logged.
	Logger *slog.Logger
}

const (
	// maxBacklog bounds the events kept for pages that connect late.
	maxBacklog = 5000
	// pageQueue is how many messages may wait for a slow page before it is
	// dropped (it reconnects and gets the whole state again).
	pageQueue = 256
	// writeTimeout bounds one WebSocket write.
	writeTimeout = 10 * time.Second
	// maxCommand bounds a message from the page (a chat of 16 KiB, escaped).
	maxCommand = 128 << 10
)

// Server serves the person's window. Create it with New; it runs until
// Close.
type Server struct {
	h      *host.Host
	logger *slog.Logger
	hello  []byte // the first message to every page; holds the password
	token  string // 32 hex digits; never logged
	cookie string // the cookie's name, unique per port (cookies ignore ports)
	url    string
	srv    *http.Server
	ctx    context.Context // cancelled by Close; parent of every page's context
	cancel context.CancelFunc
	wg     sync.WaitGroup // Serve and every page

	mu      sync.Mutex
	closed  bool               // guarded by mu
	pages   map[*page]struct{} // guarded by mu
	backlog [][]byte           // guarded by mu: every event, as JSON, oldest first
}

// hello is the first message to a page: what the host knows from the start.
type hello struct {
	Type       string         `json:"type"` // "hello"
	Side       string         `json:"side"` // "person"
	Version    int            `json:"version"`
	HostName   string         `json:"host_name"`
	Password   string         `json:"password"`
	Invitation invitationInfo `json:"invitation"`
	Level      string         `json:"level,omitempty"`
}

type invitationInfo struct {
	ID        string    `json:"id"`
	Created   time.Time `json:"created"`
	Expires   time.Time `json:"expires"`
	Addresses []string  `json:"addresses"`
}

// New starts serving the window of h on a loopback address with a fresh
// random token. It returns ErrNotLoopback for a non-loopback Options.Addr,
// an error for an unknown Options.Level, or the error of net.Listen.
func New(h *host.Host, opts Options) (*Server, error) {
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if !loopbackAddr(addr) {
		return nil, fmt.Errorf("%w: %q", ErrNotLoopback, addr)
	}
	if opts.Level != "" {
		lv, err := screen.ParseLevel(opts.Level)
		if err != nil {
			return nil, fmt.Errorf("hostui: %w", err)
		}
		opts.Level = lv.String()
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	inv := h.Invitation()
	hi := hello{
		Type: "hello", Side: "person", Version: 1,
		HostName: inv.HostName, Password: h.Password(), Level: opts.Level,
		Invitation: invitationInfo{ID: inv.ID, Created: inv.Created, Expires: inv.Expires, Addresses: []string{}},
	}
	for _, a := range inv.Addresses {
		hi.Invitation.Addresses = append(hi.Invitation.Addresses, a.String())
	}
	hb, err := json.Marshal(hi)
	if err != nil {
		return nil, fmt.Errorf("hostui: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("hostui: %w", err)
	}
	token := newToken()
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		h:      h,
		logger: logger.With("component", "hostui"),
		hello:  hb,
		token:  token,
		cookie: fmt.Sprintf("gethelp_host_%d", ln.Addr().(*net.TCPAddr).Port),
		url:    fmt.Sprintf("http://%s/?t=%s", ln.Addr(), token),
		ctx:    ctx,
		cancel: cancel,
		pages:  make(map[*page]struct{}),
	}
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logger.Error("serving the UI", "err", err)
		}
	}()
	s.logger.Info("person's window ready", "addr", ln.Addr().String())
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

// Publish shows an event of the host in the pages. Events are kept, so a
// page that connects later (or reloads) catches up. Publish never blocks
// on a page.
func (s *Server) Publish(e host.Event) {
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	b, err := json.Marshal(e)
	if err != nil {
		s.logger.Error("encoding an event", "type", e.Type, "err", err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
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
	Type  string `json:"type"` // chat, disconnect, pause, resume, bandwidth
	Text  string `json:"text,omitempty"`
	Level string `json:"level,omitempty"`
}

// do carries out a page's command; failures are told to that page.
func (s *Server) do(p *page, cmd command) {
	var err error
	switch cmd.Type {
	case "chat":
		if cmd.Text == "" {
			return
		}
		err = s.h.Chat(cmd.Text)
	case "disconnect":
		err = s.h.Disconnect(s.h.Invitation().HostName + " ended the session")
	case "pause", "resume":
		err = s.h.PauseSharing(cmd.Type == "pause")
	case "bandwidth":
		var lv screen.Level
		if lv, err = screen.ParseLevel(cmd.Level); err == nil {
			err = s.h.SetBandwidth(lv)
		}
	default:
		err = fmt.Errorf("unknown command %q", cmd.Type)
	}
	if err != nil {
		s.logger.Info("command failed", "type", cmd.Type, "err", err)
		p.send(errorMessage(cmd.Type, err))
	}
}

// errorMessage puts a failed command in the person's words.
func errorMessage(cmd string, err error) []byte {
	msg := err.Error()
	if errors.Is(err, host.ErrNoSession) {
		msg = "no helper is connected"
	}
	b, _ := json.Marshal(struct {
		Type    string `json:"type"`
		Command string `json:"command"`
		Message string `json:"message"`
	}{"error", cmd, msg})
	return b
}

// page is one connected browser page.
type page struct {
	s        *Server
	conn     *websocket.Conn
	out      chan []byte   // JSON messages for the page
	slow     chan struct{} // closed when out overflowed
	slowOnce sync.Once
}

// send queues a message without blocking; a page that lets its queue fill
// up is dropped.
func (p *page) send(b []byte) {
	select {
	case p.out <- b:
	default:
		p.slowOnce.Do(func() { close(p.slow) })
	}
}

// servePage runs one page's WebSocket until the page goes or the server
// closes.
func (s *Server) servePage(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return // Accept has answered
	}
	c.SetReadLimit(maxCommand)
	p := &page{s: s, conn: c, out: make(chan []byte, pageQueue), slow: make(chan struct{})}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.CloseNow()
		return
	}
	s.wg.Add(1)
	defer s.wg.Done()
	initial := append([][]byte{s.hello}, s.backlog...)
	s.pages[p] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.pages, p)
		s.mu.Unlock()
	}()

	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		defer cancel()
		p.readCommands(ctx)
	}()
	err = p.run(ctx, initial)
	if err != nil && ctx.Err() == nil {
		s.logger.Debug("page dropped", "err", err)
	}
	cancel()
	c.CloseNow()
	<-readDone
}

func (p *page) readCommands(ctx context.Context) {
	for {
		typ, b, err := p.conn.Read(ctx)
		if err != nil {
			return
		}
		if typ != websocket.MessageText {
			continue
		}
		var cmd command
		if err := json.Unmarshal(b, &cmd); err != nil {
			p.send(errorMessage("", errors.New("the page sent something that is not JSON")))
			continue
		}
		p.s.do(p, cmd)
	}
}

var errSlow = errors.New("hostui: the page does not keep up")

// run writes the state so far to the page, then events as they come.
func (p *page) run(ctx context.Context, initial [][]byte) error {
	for _, m := range initial {
		if err := p.write(ctx, m); err != nil {
			return err
		}
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-p.slow:
			return errSlow
		case m := <-p.out:
			if err := p.write(ctx, m); err != nil {
				return err
			}
		}
	}
}

func (p *page) write(ctx context.Context, b []byte) error {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	return p.conn.Write(ctx, websocket.MessageText, b)
}
