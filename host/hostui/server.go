package hostui

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/localweb"
	"github.com/gethelp/gethelp/session"
	"github.com/gethelp/gethelp/session/screen"
)

//go:embed assets
var assets embed.FS

// ErrNotLoopback is returned by New when Options.Addr is not a loopback
// address: the UI is never served to the network. It is
// localweb.ErrNotLoopback.
var ErrNotLoopback = localweb.ErrNotLoopback

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

// Server serves the person's window. Create it with New; it runs until
// Close.
type Server struct {
	h      *host.Host
	logger *slog.Logger
	hello  []byte // the first message to every page; holds the password
	web    *localweb.Server
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
	// EscStopsControl: ESC on this keyboard takes control back.
	EscStopsControl bool `json:"esc_stops_control"`
}

type invitationInfo struct {
	ID        string    `json:"id"`
	Created   time.Time `json:"created"`
	Expires   time.Time `json:"expires"`
	Addresses []string  `json:"addresses"`
}

// New starts serving the window of h on a loopback address with a fresh
// random token. It returns an error for an unknown Options.Level,
// ErrNotLoopback for a non-loopback Options.Addr, or the error of
// net.Listen.
func New(h *host.Host, opts Options) (*Server, error) {
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
		EscStopsControl: h.EscapeStopsControl(),
		Invitation:      invitationInfo{ID: inv.ID, Created: inv.Created, Expires: inv.Expires, Addresses: []string{}},
	}
	for _, a := range inv.Addresses {
		hi.Invitation.Addresses = append(hi.Invitation.Addresses, a.String())
	}
	hb, err := json.Marshal(hi)
	if err != nil {
		return nil, fmt.Errorf("hostui: %w", err)
	}
	s := &Server{h: h, logger: logger.With("component", "hostui"), hello: hb}
	files, err := fs.Sub(assets, "assets")
	if err != nil {
		return nil, fmt.Errorf("hostui: %w", err)
	}
	s.web, err = localweb.New(localweb.Options{
		Addr:   opts.Addr,
		Assets: files,
		Name:   "host",
		Logger: s.logger,
		Hello:  func() []byte { return s.hello },
		OnText: s.onText,
	})
	if err != nil {
		return nil, err
	}
	s.logger.Info("person's window ready", "addr", s.web.Addr().String())
	return s, nil
}

// URL returns the address to open, token included: http://127.0.0.1:PORT/?t=TOKEN.
func (s *Server) URL() string { return s.web.URL() }

// Close stops the server: pages are disconnected, the listener closed, and
// Close returns once every goroutine of the server has ended. Calling it
// again returns nil.
func (s *Server) Close() error { return s.web.Close() }

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
	s.web.Broadcast(b)
}

// ServeHTTP serves the page, its assets and the WebSocket, to requests that
// carry the token (in the URL or the cookie set when the page was opened
// with it) and name a loopback host; anything else gets 403.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.web.ServeHTTP(w, r) }

// command is a message from the page.
type command struct {
	Type  string `json:"type"` // chat, disconnect, pause, resume, bandwidth, grant, deny, revoke
	Text  string `json:"text,omitempty"`
	Level string `json:"level,omitempty"`
	// Capabilities are what grant gives (session.CapControl and the
	// others) and what revoke takes back (none: control).
	Capabilities []string `json:"capabilities,omitempty"`
}

// onText decodes a message from the page and carries it out.
func (s *Server) onText(p *localweb.Page, msg []byte) {
	var cmd command
	if err := json.Unmarshal(msg, &cmd); err != nil {
		p.SendText(errorMessage("", errors.New("the page sent something that is not JSON")))
		return
	}
	s.do(p, cmd)
}

// do carries out a page's command; failures are told to that page.
func (s *Server) do(p *localweb.Page, cmd command) {
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
	case "grant":
		if len(cmd.Capabilities) == 0 {
			err = errors.New("nothing to allow was named")
		} else {
			err = s.h.Grant(cmd.Capabilities...)
		}
	case "deny":
		err = s.h.Deny()
	case "revoke":
		err = s.h.Revoke(session.ByButton, cmd.Capabilities...)
	default:
		err = fmt.Errorf("unknown command %q", cmd.Type)
	}
	if err != nil {
		s.logger.Info("command failed", "type", cmd.Type, "err", err)
		p.SendText(errorMessage(cmd.Type, err))
	}
}

// errorMessage puts a failed command in the person's words.
func errorMessage(cmd string, err error) []byte {
	msg := strings.TrimPrefix(err.Error(), "host: ")
	switch {
	case errors.Is(err, host.ErrNoSession):
		msg = "no helper is connected"
	case errors.Is(err, host.ErrNoInjector):
		msg = "this computer cannot be controlled remotely (gethelp has no way to use its mouse and keyboard)"
	}
	b, _ := json.Marshal(struct {
		Type    string `json:"type"`
		Command string `json:"command"`
		Message string `json:"message"`
	}{"error", cmd, msg})
	return b
}
