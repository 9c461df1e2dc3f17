package viewer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gethelp/gethelp/invitations"
	"github.com/gethelp/gethelp/session"
	"github.com/gethelp/gethelp/session/files"
	"github.com/gethelp/gethelp/session/screen"
	"github.com/gethelp/gethelp/sessionlog"
)

// Config configures Open.
type Config struct {
	// Invitation is the person's invitation; nil when offering help.
	Invitation *invitations.Invitation
	// Offer, when set, offers help to a computer whose policy lists the
	// helper's key, instead of opening an invitation (which is then
	// ignored, with Password).
	Offer *Offer
	// Password as typed; it is put in canonical form here.
	Password string
	// Name is the helper's display name.
	Name string
	// LogDir is where the helper's session log goes; "" writes none.
	LogDir string
	// OnEvent receives events, one call at a time; nil ignores them.
	OnEvent func(Event)
	// FilesDir is where files from the person land; "" declines them.
	FilesDir string
	// AttemptTimeout bounds each address; zero means the session default.
	AttemptTimeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
}

// Event is something the helper should see; it marshals to the --json
// event schema.
type Event struct {
	Type   string    `json:"type"`
	Time   time.Time `json:"time"`
	Host   string    `json:"host,omitempty"`
	Addr   string    `json:"addr,omitempty"`
	From   string    `json:"from,omitempty"`
	Text   string    `json:"text,omitempty"`
	Self   bool      `json:"self,omitempty"`
	Reason string    `json:"reason,omitempty"`
	RTTms  float64   `json:"rtt_ms,omitempty"`
	Log    string    `json:"log,omitempty"`
	// Resumed (connected) says the session goes on after a lost
	// connection, without a new password.
	Resumed bool `json:"resumed,omitempty"`

	// Screen sharing.
	Seq       uint32                `json:"seq,omitempty"`
	W         int                   `json:"w,omitempty"`
	H         int                   `json:"h,omitempty"`
	Bytes     int                   `json:"bytes,omitempty"`
	LatencyMs float64               `json:"latency_ms,omitempty"`
	Path      string                `json:"path,omitempty"` // snapshot, file_received: a file; connected: the network path (session.PathLAN, PathDirect, PathPunched)
	Level     string                `json:"level,omitempty"`
	Paused    *bool                 `json:"paused,omitempty"`
	Privacy   string                `json:"privacy,omitempty"` // sharing: why the view is blanked
	Monitors  []session.MonitorInfo `json:"monitors,omitempty"`
	Monitor   *int                  `json:"monitor,omitempty"`
	X         int                   `json:"x,omitempty"`
	Y         int                   `json:"y,omitempty"`

	// Consent.
	Capabilities []string `json:"capabilities,omitempty"`
	By           string   `json:"by,omitempty"`

	// Files.
	ID        string `json:"id,omitempty"`
	Name      string `json:"name,omitempty"`
	Size      int64  `json:"size,omitempty"`
	Done      int64  `json:"done,omitempty"`
	Total     int64  `json:"total,omitempty"`
	SHA256    string `json:"sha256,omitempty"`
	Direction string `json:"direction,omitempty"`
}

// Event types.
const (
	EventConnected    = "connected" // also after a resume (Resumed)
	EventChat         = "chat"
	EventDisconnected = "disconnected"
	// EventReconnecting: the connection was lost (Reason); the viewer
	// resumes the session, over whatever path works, for up to
	// ResumeWindow. A connected event with Resumed follows, or
	// disconnected.
	EventReconnecting = "reconnecting"
)

// ResumeWindow is how long the viewer tries to resume a session whose
// connection was lost; the host waits as long (host.ResumeWindow).
const ResumeWindow = 30 * time.Second

// Viewer is a connected helper.
type Viewer struct {
	cfg   Config
	conn  atomic.Pointer[session.Conn] // the current connection; another after a resume
	dial  session.DialConfig           // how to connect again (zero for offers)
	rdv   string                       // the invitation's rendezvous
	path  string                       // the last connection's path
	chats session.Chats

	interruptMu sync.Mutex
	interrupted []interrupted // guarded by interruptMu: sending cut by a lost connection
	log         *sessionlog.Log
	logger      *slog.Logger
	evmu        sync.Mutex
	fb          framebuffer
	ctl         control

	ctx       context.Context // ends when Run has returned
	cancel    context.CancelFunc
	decisions files.Decisions
	transfers sync.WaitGroup // file transfers under way
	inboxOnce sync.Once
	inbox     *files.Inbox
}

// runCtx is the context of work that ends with the session.
func (v *Viewer) runCtx() context.Context { return v.ctx }

// Open checks the invitation's expiry, connects and authenticates. Errors
// are those of session.Dial, or one wrapping invitations.ErrExpired. With
// Config.Offer it offers help instead (see Offer).
func Open(ctx context.Context, cfg Config) (*Viewer, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Offer != nil {
		return openOffer(ctx, cfg, logger)
	}
	logger = logger.With("component", "viewer", "invitation", cfg.Invitation.ID)
	inv := cfg.Invitation
	if err := inv.CheckExpiry(cfg.Now()); err != nil {
		return nil, err
	}
	dc := session.DialConfig{
		Addresses:      inv.Addresses,
		Pin:            inv.Pin,
		InvitationID:   inv.ID,
		Password:       invitations.CanonicalPassword(cfg.Password),
		Name:           cfg.Name,
		AttemptTimeout: cfg.AttemptTimeout,
		Logger:         logger,
	}
	conn, path, err := connect(ctx, dc, inv.Rendezvous, logger)
	if err != nil {
		return nil, err
	}
	v, err := start(cfg, conn, path, inv.ID, logger)
	if err != nil {
		return nil, err
	}
	v.dial, v.rdv = dc, inv.Rendezvous
	return v, nil
}

// start makes the Viewer of a session that has begun. logID names its log.
func start(cfg Config, conn *session.Conn, path, logID string, logger *slog.Logger) (*Viewer, error) {
	v := &Viewer{cfg: cfg, logger: logger, path: path}
	v.conn.Store(conn)
	v.ctx, v.cancel = context.WithCancel(context.Background())
	v.fb.dec = screen.NewDecoder()
	v.fb.subs = make(map[chan ScreenUpdate]struct{})
	if cfg.LogDir != "" {
		now := cfg.Now()
		l, err := sessionlog.Open(filepath.Join(cfg.LogDir, sessionlog.FileName(now, logID, "helper")), cfg.Now)
		if err != nil {
			conn.Close("the helper's gethelp could not write its log")
			return nil, err
		}
		v.log = l
	}
	v.record("connected", map[string]any{"host": conn.PeerName(), "addr": conn.RemoteAddr().String(), "as": cfg.Name, "path": path})
	v.emit(Event{Type: EventConnected, Host: conn.PeerName(), Addr: conn.RemoteAddr().String(), RTTms: ms(conn.RTT()), Path: path})
	return v, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func (v *Viewer) emit(e Event) {
	if e.Time.IsZero() {
		e.Time = v.cfg.Now().UTC()
	}
	if v.cfg.OnEvent == nil {
		return
	}
	v.evmu.Lock()
	defer v.evmu.Unlock()
	v.cfg.OnEvent(e)
}

func (v *Viewer) record(event string, attrs map[string]any) {
	if v.log == nil {
		return
	}
	if err := v.log.Append(event, attrs); err != nil {
		v.logger.Error("writing the session log", "err", err)
	}
}

// session is the current connection.
func (v *Viewer) session() *session.Conn { return v.conn.Load() }

// HostName is the name the host announced.
func (v *Viewer) HostName() string { return v.session().PeerName() }

// LogPath returns the helper's session log path, or "".
func (v *Viewer) LogPath() string {
	if v.log == nil {
		return ""
	}
	return v.log.Path()
}

// Chat sends a chat message to the person. While the connection is being
// resumed it is kept and sent once it is back (and again after a resume
// when the person's side had not acknowledged it).
func (v *Viewer) Chat(text string) error {
	if len(text) > session.MaxChatText {
		return fmt.Errorf("viewer: chat message is %d bytes, the limit is %d", len(text), session.MaxChatText)
	}
	m := v.chats.Number(session.Message{Type: session.TypeChat, Text: text, Name: v.cfg.Name})
	if err := v.session().Send(m); err != nil && !v.resuming() {
		return err
	}
	v.record("chat", map[string]any{"from": v.cfg.Name, "side": "helper", "text": text})
	v.emit(Event{Type: EventChat, From: v.cfg.Name, Text: text, Self: true})
	return nil
}

// Disconnect ends the session; Run then returns.
func (v *Viewer) Disconnect(reason string) {
	if reason == "" {
		reason = "the helper disconnected"
	}
	v.session().Close(reason)
	v.cancel() // ends a resume under way
}

// Run delivers the session's events until it ends, then returns nil (or
// ctx's error, after disconnecting). When the connection is lost (not
// ended by either side) it resumes the session on a new connection, over
// whatever path works then, without a new password: chat that had not
// arrived is sent again and file transfers under way go on. It closes the
// log.
func (v *Viewer) Run(ctx context.Context) error {
	defer func() {
		if v.log != nil {
			v.log.Close()
		}
	}()
	defer func() { v.cancel(); v.transfers.Wait() }()
	for {
		err := v.serve(ctx)
		var ce *session.ClosedError
		if ctx.Err() != nil || !errors.As(err, &ce) || !ce.Lost || v.dial.InvitationID == "" || v.session().ResumeToken() == nil {
			if ctx.Err() != nil {
				v.session().Close("the helper closed gethelp")
				v.end(v.session().Err())
				return ctx.Err()
			}
			v.end(err)
			return nil
		}
		if rerr := v.resume(ctx, ce.Reason); rerr != nil {
			if ctx.Err() != nil {
				v.end(err)
				return ctx.Err()
			}
			v.end(err)
			return nil
		}
	}
}

// serve runs one connection: it receives the screen, files and messages
// until the connection ends, and returns how it ended.
func (v *Viewer) serve(ctx context.Context) error {
	conn := v.session()
	sctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); v.receiveScreen(sctx) }()
	go func() { defer wg.Done(); v.serveFiles(sctx) }()
	defer func() { stop(); wg.Wait() }()
	for {
		m, err := conn.Receive(ctx)
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		if err != nil {
			return err
		}
		v.deliver(m)
	}
}

// resuming reports whether the connection is lost and being resumed.
func (v *Viewer) resuming() bool {
	var ce *session.ClosedError
	return errors.As(v.session().Err(), &ce) && ce.Lost
}

// resume connects again with the lost session's resume token, for up to
// ResumeWindow, and makes the new connection current.
func (v *Viewer) resume(ctx context.Context, reason string) error {
	old := v.session()
	start := time.Now()
	v.closeInput() // it was on the lost connection; SendInput opens another
	v.record("connection_lost", map[string]any{"reason": reason})
	v.emit(Event{Type: EventReconnecting, Reason: reason})
	rctx, cancel := context.WithTimeout(ctx, ResumeWindow)
	defer cancel()
	defer context.AfterFunc(v.ctx, cancel)() // Disconnect stops it
	dc := v.dial
	dc.Resume = old.ResumeToken()
	if v.path == session.PathRelayed {
		dc.RelayDelay = time.Millisecond // it was the only way last time
	}
	for attempt := 0; ; attempt++ {
		conn, path, err := connect(rctx, dc, v.rdv, v.logger)
		if err == nil {
			v.conn.Store(conn)
			v.path = path
			v.record("resumed", map[string]any{"addr": conn.RemoteAddr().String(), "path": path, "after_ms": time.Since(start).Milliseconds()})
			v.emit(Event{Type: EventConnected, Host: conn.PeerName(), Addr: conn.RemoteAddr().String(), RTTms: ms(conn.RTT()), Path: path, Resumed: true})
			for _, m := range v.chats.Unacked() {
				_ = conn.Send(m)
			}
			v.resumeTransfers()
			return nil
		}
		var rej *session.RejectError
		if errors.As(err, &rej) {
			v.logger.Info("the host refused to resume", "err", err)
			return err
		}
		v.logger.Info("resuming", "attempt", attempt, "err", err)
		select {
		case <-rctx.Done():
			return rctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func (v *Viewer) deliver(m session.Message) {
	switch m.Type {
	case session.TypeChatAck:
		v.chats.Acked(m.ID)
	case session.TypeChat:
		fresh, ack := v.chats.Arrived(m)
		if ack.Type != "" {
			_ = v.session().Send(ack)
		}
		if !fresh {
			return
		}
		from := v.session().PeerName()
		if m.Name != "" && m.Name != from {
			from = m.Name // relayed from the ticket's thread or e-mail
		}
		v.record("chat", map[string]any{"from": from, "side": "host", "text": m.Text})
		v.emit(Event{Type: EventChat, From: from, Text: m.Text})
	case session.TypeBandwidth:
		v.emit(Event{Type: EventBandwidth, Level: m.Level})
	case session.TypeMonitors:
		v.emit(Event{Type: EventMonitors, Monitors: m.Monitors, Monitor: m.Monitor})
	case session.TypeSharing:
		paused := m.Paused
		v.record("sharing", map[string]any{"paused": paused, "privacy": m.Privacy})
		v.emit(Event{Type: EventSharing, Paused: &paused, Privacy: m.Privacy})
	case session.TypeConsent:
		v.consent(m)
	case session.TypeClipboard:
		v.clipboard(m)
	case session.TypePointer, session.TypeCursor:
		v.pointer(m)
	}
}

func (v *Viewer) end(err error) {
	v.closeInput()
	if v.InControl() {
		v.ctl.mu.Lock()
		v.ctl.caps = nil
		v.ctl.mu.Unlock()
		v.record(EventControlRevoked, map[string]any{"by": session.ByDisconnect})
		v.emit(Event{Type: EventControlRevoked, By: session.ByDisconnect})
	}
	reason, by := "disconnected", "helper"
	var ce *session.ClosedError
	if errors.As(err, &ce) {
		reason = ce.Reason
		if ce.ByPeer {
			by = "host"
		}
	}
	v.record("disconnected", map[string]any{"reason": reason, "by": by})
	v.emit(Event{Type: EventDisconnected, Reason: reason, Log: v.LogPath()})
}
