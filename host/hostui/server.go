package hostui

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/localweb"
	"github.com/gethelp/gethelp/localweb/filexfer"
	"github.com/gethelp/gethelp/session"
	"github.com/gethelp/gethelp/session/files"
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
	// UploadDir is where the private folder for the files the person sends
	// is made (each file is copied there from the browser, sent, then
	// deleted); "" means os.TempDir().
	UploadDir string
	// MaxUpload bounds a file the person sends, in bytes; 0 means
	// localweb.DefaultMaxUpload (4 GiB).
	MaxUpload int64
}

// Server serves the person's window. Create it with New; it runs until
// Close.
type Server struct {
	h      *host.Host
	logger *slog.Logger
	hello  []byte // the first message to every page; holds the password
	web    *localweb.Server
	files  *filexfer.Sender // the files the person uploads to send

	mu        sync.Mutex
	connected bool // guarded by mu: a helper is connected (from the events)
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
	// Home is the person's home folder, shown as ~ in the paths of
	// received files; "" if unknown.
	Home string `json:"home,omitempty"`
	// Offers: this computer takes offers of help (gethelp host serve)
	// rather than waiting on an invitation; Password and the invitation's
	// ID and expiry mean nothing then, and Fingerprint is this computer's
	// key, which the person may read to a helper.
	Offers      bool   `json:"offers,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
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
	hi.Home, _ = os.UserHomeDir()
	if h.Offering() {
		hi.Offers, hi.Fingerprint = true, h.KeyFingerprint()
	}
	for _, a := range inv.Addresses {
		hi.Invitation.Addresses = append(hi.Invitation.Addresses, a.String())
	}
	hb, err := json.Marshal(hi)
	if err != nil {
		return nil, fmt.Errorf("hostui: %w", err)
	}
	s := &Server{h: h, logger: logger.With("component", "hostui"), hello: hb}
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		return nil, fmt.Errorf("hostui: %w", err)
	}
	s.web, err = localweb.New(localweb.Options{
		Addr:   opts.Addr,
		Assets: sub,
		Name:   "host",
		Logger: s.logger,
		Hello:  func() []byte { return s.hello },
		OnText: s.onText,
		Uploads: &localweb.Uploads{
			Dir:       opts.UploadDir,
			MaxSize:   opts.MaxUpload,
			CheckName: filexfer.CheckName,
			Allowed:   s.uploadAllowed,
		},
	})
	if err != nil {
		return nil, err
	}
	s.files = filexfer.New(s.web, filexfer.Options{
		SendFile: func(_ context.Context, path string, o files.Offer) error { return h.SendOffer(path, o) },
		Words:    errorText,
		Logger:   s.logger,
	})
	s.logger.Info("person's window ready", "addr", s.web.Addr().String())
	return s, nil
}

// URL returns the address to open, token included: http://127.0.0.1:PORT/?t=TOKEN.
func (s *Server) URL() string { return s.web.URL() }

// Close stops the server: pages are disconnected, the listener closed, and
// Close returns once every goroutine of the server has ended and the files
// the person uploaded to send are deleted. Calling it again returns nil.
func (s *Server) Close() error {
	s.files.Close()
	return s.web.Close()
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
	s.web.Broadcast(b)
	s.track(e)
}

// ServeHTTP serves the page, its assets and the WebSocket, to requests that
// carry the token (in the URL or the cookie set when the page was opened
// with it) and name a loopback host; anything else gets 403.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.web.ServeHTTP(w, r) }

// command is a message from the page.
type command struct {
	// Type is chat, disconnect, pause, resume, bandwidth, grant, deny,
	// revoke, accept_file, decline_file, send_file or consent (an offer).
	Type  string `json:"type"`
	Text  string `json:"text,omitempty"`
	Level string `json:"level,omitempty"`
	// Capabilities are what grant gives (session.CapControl and the
	// others) and what revoke takes back (none: control).
	Capabilities []string `json:"capabilities,omitempty"`
	// ID is the file offer accept_file and decline_file answer.
	ID string `json:"id,omitempty"`
	// Upload is the file send_file sends: the ID POST /upload gave.
	Upload string `json:"upload,omitempty"`
	// Accept is consent's answer to an offer of help.
	Accept *bool `json:"accept,omitempty"`
}

// onText decodes a message from the page and carries it out.
func (s *Server) onText(p *localweb.Page, msg []byte) {
	var cmd command
	if err := json.Unmarshal(msg, &cmd); err != nil {
		p.SendText(localweb.ErrorReply("", "", "the page sent something that is not JSON"))
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
	case "accept_file":
		err = s.h.AcceptFile(cmd.ID)
	case "decline_file":
		err = s.h.DeclineFile(cmd.ID)
	case "send_file":
		err = s.files.Send(p, cmd.Upload)
	case "consent":
		if cmd.Accept == nil {
			err = errors.New("the answer to the offer is missing")
		} else {
			err = s.h.AnswerOffer(*cmd.Accept)
		}
	default:
		err = fmt.Errorf("unknown command %q", cmd.Type)
	}
	if err != nil {
		s.logger.Info("command failed", "type", cmd.Type, "err", err)
		p.SendText(localweb.ErrorReply(cmd.Type, "", errorText(err)))
	}
}

// errorText puts the error of a failed command in the person's words.
func errorText(err error) string {
	switch {
	case errors.Is(err, host.ErrNoSession):
		return "no helper is connected"
	case errors.Is(err, host.ErrNoOffer):
		return "nobody is offering help now (the offer was withdrawn or timed out)"
	case errors.Is(err, host.ErrNoInjector):
		return "this computer cannot be controlled remotely (gethelp has no way to use its mouse and keyboard)"
	}
	return filexfer.Message(err, "host: ")
}
