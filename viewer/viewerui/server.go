package viewerui

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gethelp/gethelp/localweb"
	"github.com/gethelp/gethelp/localweb/filexfer"
	"github.com/gethelp/gethelp/session/files"
	"github.com/gethelp/gethelp/session/screen"
	"github.com/gethelp/gethelp/viewer"
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
	// Logger receives diagnostics; nil discards them. Tokens are never
	// logged.
	Logger *slog.Logger
	// UploadDir is where the private folder for the files the helper sends
	// is made (each file is copied there from the browser, sent, then
	// deleted); "" means os.TempDir().
	UploadDir string
	// MaxUpload bounds a file the helper sends, in bytes; 0 means
	// localweb.DefaultMaxUpload (4 GiB).
	MaxUpload int64
}

// statsInterval is how often the page gets connection statistics.
const statsInterval = time.Second

// Server serves the helper's window. Create it with New; it runs until
// Close.
type Server struct {
	v      *viewer.Viewer
	logger *slog.Logger
	web    *localweb.Server
	files  *filexfer.Sender // the files the helper uploads to send
	ctx    context.Context  // cancelled by Close; stops the stats loop and input in flight
	cancel context.CancelFunc
	wg     sync.WaitGroup // the stats loop

	mu    sync.Mutex
	meter meter                         // guarded by mu
	held  map[*localweb.Page]*heldInput // guarded by mu: what each page holds down on the person's computer
}

// New starts serving the window of v on a loopback address with a fresh
// random token. It returns ErrNotLoopback for a non-loopback Options.Addr,
// or the error of net.Listen.
func New(v *viewer.Viewer, opts Options) (*Server, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		v: v, logger: logger.With("component", "viewerui"),
		held: make(map[*localweb.Page]*heldInput),
	}
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		return nil, fmt.Errorf("viewerui: %w", err)
	}
	// The context exists before any page can connect: input commands use it.
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.web, err = localweb.New(localweb.Options{
		Addr:   opts.Addr,
		Assets: sub,
		Name:   "viewer",
		Logger: s.logger,
		Hello:  s.hello,
		OnPage: s.servePage,
		OnText: s.onText,
		Uploads: &localweb.Uploads{
			Dir:       opts.UploadDir,
			MaxSize:   opts.MaxUpload,
			CheckName: filexfer.CheckName,
			Allowed:   s.uploadAllowed,
		},
	})
	if err != nil {
		s.cancel()
		return nil, err
	}
	s.files = filexfer.New(s.web, filexfer.Options{
		SendFile: func(_ context.Context, path string, o files.Offer) error { return v.SendOffer(path, o) },
		Allowed:  s.uploadAllowed, // the person may have taken files back since the upload
		Words:    s.errorText,
		Logger:   s.logger,
	})
	s.meter.reset(time.Now())
	s.wg.Go(s.statsLoop)
	s.logger.Info("helper's window ready", "addr", s.web.Addr().String())
	return s, nil
}

// URL returns the address to open, token included: http://127.0.0.1:PORT/?t=TOKEN.
func (s *Server) URL() string { return s.web.URL() }

// Close stops the server: pages are disconnected, the listener closed, and
// Close returns once every goroutine of the server has ended and the files
// the helper uploaded to send are deleted. Calling it again returns nil.
func (s *Server) Close() error {
	s.cancel()
	s.files.Close()
	err := s.web.Close()
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
	if e.Type == viewer.EventFrame {
		s.meter.frame(e)
		s.mu.Unlock()
		return
	}
	if e.Type == viewer.EventConnected && e.RTTms > 0 {
		s.meter.rtt = e.RTTms
	}
	s.mu.Unlock()
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
	// Type is chat, disconnect, bandwidth, monitor, request_control,
	// release_control, accept_file, decline_file, send_file, clipboard, or
	// one of the input commands: pointer, wheel, key, type_text.
	Type    string `json:"type"`
	Text    string `json:"text,omitempty"` // chat, type_text, clipboard
	Level   string `json:"level,omitempty"`
	Monitor *int   `json:"monitor,omitempty"`

	X       int    `json:"x,omitempty"`       // pointer: in the shared image's pixels
	Y       int    `json:"y,omitempty"`       // pointer
	Buttons int    `json:"buttons,omitempty"` // pointer: as MouseEvent.buttons
	DX      int    `json:"dx,omitempty"`      // wheel: notches, positive right
	DY      int    `json:"dy,omitempty"`      // wheel: notches, positive down
	Key     string `json:"key,omitempty"`     // key: as KeyboardEvent.key
	Down    *bool  `json:"down,omitempty"`    // key: pressed (true) or released (false); absent: both

	ID     string `json:"id,omitempty"`     // accept_file, decline_file: the offer
	Upload string `json:"upload,omitempty"` // send_file: the ID POST /upload gave
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
	case "request_control":
		err = s.v.RequestControl()
	case "release_control":
		err = s.v.ReleaseControl()
	case "pointer", "wheel", "key", "type_text":
		err = s.input(p, cmd)
	case "accept_file":
		err = s.v.AcceptFile(cmd.ID)
	case "decline_file":
		err = s.v.DeclineFile(cmd.ID)
	case "send_file":
		err = s.files.Send(p, cmd.Upload)
	case "clipboard":
		err = s.setClipboard(cmd.Text)
	default:
		err = fmt.Errorf("unknown command %q", cmd.Type)
	}
	if err != nil {
		s.logger.Info("command failed", "type", cmd.Type, "err", err)
		p.SendText(localweb.ErrorReply(cmd.Type, "", s.errorText(err)))
	}
}

// errorText puts the error of a failed command in the helper's words.
func (s *Server) errorText(err error) string {
	switch {
	case errors.Is(err, viewer.ErrFilesNotAllowed):
		return s.v.HostName() + " has not allowed files"
	case errors.Is(err, viewer.ErrClipboardNotAllowed):
		return s.v.HostName() + " has not allowed sharing the clipboard"
	}
	return filexfer.Message(err, "viewer: ")
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
			s.web.BroadcastLatest(s.statsMessage(now))
		}
	}
}

// statsMessage returns the stats since the last one and starts the next
// period at now.
func (s *Server) statsMessage(now time.Time) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
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
	return b
}
