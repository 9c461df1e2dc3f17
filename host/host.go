package host

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"time"

	"github.com/gethelp/gethelp/invitations"
	"github.com/gethelp/gethelp/session"
	"github.com/gethelp/gethelp/session/files"
	"github.com/gethelp/gethelp/session/screen"
	"github.com/gethelp/gethelp/sessionlog"
)

// DefaultMaxFailures is how many wrong passwords lock an invitation.
const DefaultMaxFailures = 5

// Errors returned by Run.
var (
	ErrExpired   = errors.New("host: the invitation expired before a helper connected")
	ErrCancelled = errors.New("host: the invitation was cancelled")
	ErrNoSession = errors.New("host: no helper is connected")
)

// Config configures a Host.
type Config struct {
	// ListenAddr is the UDP address to listen on; "" means ":0" (every
	// interface, an ephemeral port).
	ListenAddr string
	// ResumeWindow is how long a session whose connection was lost waits
	// for the helper to resume it; zero means ResumeWindow.
	ResumeWindow time.Duration
	// TTL is how long the invitation stays open; it must be positive.
	TTL time.Duration
	// HostName is the display name shown to the helper; never empty.
	HostName string
	// Password in any form (see invitations.CanonicalPassword); "" means
	// generate one.
	Password string
	// ID is the invitation id; "" means a new one. An id the store already
	// has is re-issued (resend): new key, password and expiry.
	ID string
	// File is where the caller saves the invitation, recorded in the store.
	File string
	// Store keeps the invitation's record; nil keeps none.
	Store *invitations.Store
	// LogDir is where the session log goes; "" writes none.
	LogDir string
	// OnEvent receives events, one call at a time; nil ignores them.
	OnEvent func(Event)
	// MaxFailures locks the invitation; zero means DefaultMaxFailures.
	MaxFailures int
	// StorePoll is how often the store is read for a cancel from another
	// process; zero means one second.
	StorePoll time.Duration
	// Source is the screen to share; nil shares none (chat only).
	Source Source
	// Level is the starting bandwidth level; either side may change it.
	Level screen.Level
	// Monitor, when >= 0, shares only that monitor of the source and the
	// helper cannot pick another; -1 lets the helper choose (all at first).
	Monitor int
	// Injector performs the helper's input once the person grants control;
	// nil means control cannot be granted.
	Injector Injector
	// Keys reports ESC on the person's own keyboard, which takes control
	// back; nil means ESC is not watched.
	Keys KeyWatcher
	// IgnoreEscape turns off taking control back with ESC (the person's
	// setting "Use ESC key to stop sharing control").
	IgnoreEscape bool
	// NoControl, when not empty, refuses control with this reason (the
	// admin policy or the person's settings): view and chat only.
	NoControl string
	// AdminPrompts says the person can answer administrator prompts
	// themselves, so they may let the helper answer them.
	AdminPrompts bool
	// Windows lists the person's windows, for SecurePrompts and
	// MaskedWindows; nil hides nothing.
	Windows WindowLister
	// SecurePrompts are the window classes (globs, case-insensitive) of
	// password and administrator prompts: while one is on screen the
	// helper sees nothing and their input is dropped, unless the person
	// granted admin_prompts.
	SecurePrompts []string
	// MaskedWindows are window classes always painted black for the
	// helper (a password manager, a mail client).
	MaskedWindows []string
	// Clipboard is the person's clipboard, shared while they grant
	// "clipboard"; nil shares none.
	Clipboard Clipboard
	// FilesDir is where files from the helper land; "" refuses them.
	FilesDir string
	// MaxFileSize bounds a file from the helper; zero means no limit.
	MaxFileSize int64
	// Rendezvous is the host:port of the rendezvous that helps a helper
	// behind NAT reach this computer; it is written into the invitation.
	// "" uses none: only the invitation's own addresses work.
	Rendezvous string
	// PID is recorded in the store while the host waits; zero means none.
	PID int
	// Offers, when set, makes the Host one that helpers offer help to
	// (gethelp host serve) instead of one waiting on an invitation.
	Offers *OfferConfig
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
}

// Event is something the person should see. It marshals to the --json
// event schema.
type Event struct {
	Type         string    `json:"type"`
	Time         time.Time `json:"time"`
	Helper       string    `json:"helper,omitempty"`
	Addr         string    `json:"addr,omitempty"`
	From         string    `json:"from,omitempty"`
	Text         string    `json:"text,omitempty"`
	Self         bool      `json:"self,omitempty"`
	Reason       string    `json:"reason,omitempty"`
	AttemptsLeft *int      `json:"attempts_left,omitempty"`
	Log          string    `json:"log,omitempty"`
	Level        string    `json:"level,omitempty"`
	Paused       *bool     `json:"paused,omitempty"`
	ScreenBytes  int64     `json:"screen_bytes,omitempty"`
	Updates      int       `json:"updates,omitempty"`
	By           string    `json:"by,omitempty"`
	Capabilities []string  `json:"capabilities,omitempty"`
	AdminPrompts bool      `json:"admin_prompts,omitempty"`
	Privacy      string    `json:"privacy,omitempty"`
	Shown        bool      `json:"shown,omitempty"`
	Relayed      bool      `json:"relayed,omitempty"` // chat: written in the ticket's thread or by e-mail, relayed into the session
	Resumed      bool      `json:"resumed,omitempty"` // connected: the session goes on after a lost connection
	RTTms        float64   `json:"rtt_ms,omitempty"`  // connected: the handshake's round trip; disconnected: the smoothed round trip of the session

	// Files.
	ID        string `json:"id,omitempty"`
	Name      string `json:"name,omitempty"`
	Size      int64  `json:"size,omitempty"`
	Done      int64  `json:"done,omitempty"`
	Total     int64  `json:"total,omitempty"`
	SHA256    string `json:"sha256,omitempty"`
	Path      string `json:"path,omitempty"` // file_received: where the file was saved; connected: the network path, session.PathLAN, PathDirect or PathPunched
	Direction string `json:"direction,omitempty"`

	Fingerprint string `json:"fingerprint,omitempty"` // offers: the helper's key (helperkey.Fingerprint)
}

// Event types.
const (
	EventWaiting      = "waiting"
	EventAuthFailed   = "auth_failed"
	EventLocked       = "locked"
	EventBusy         = "busy"
	EventConnected    = "connected"
	EventChat         = "chat"
	EventDisconnected = "disconnected"
	EventExpired      = "expired"
	EventCancelled    = "cancelled"
	EventBandwidth    = "bandwidth"
	EventSharing      = "sharing"
	// EventReconnecting: the helper's connection was lost (Reason); the
	// host waits up to ResumeWindow for them to resume the session (a
	// connected event with Resumed follows) before it ends it.
	EventReconnecting = "reconnecting"
	EventPrivacy      = "privacy" // a secure prompt came (Shown) or went; Privacy says whether the helper's view is blanked, Text names the window class
)

// Host waits for one helper on one invitation.
type Host struct {
	cfg      Config
	inv      *invitations.Invitation
	password string // canonical
	display  string // as shown to the person
	ln       *session.Listener
	log      *sessionlog.Log // nil when not logging
	logger   *slog.Logger
	paths    *paths // never nil

	evmu sync.Mutex // serialises OnEvent

	mu       sync.Mutex
	sess     *session.Conn      // guarded by mu; nil while waiting
	share    *shareRun          // guarded by mu; nil when not sharing
	failures int                // guarded by mu
	locked   bool               // guarded by mu
	consent  consent            // guarded by mu
	secure   bool               // guarded by mu: an administrator prompt is on screen
	origin   struct{ X, Y int } // guarded by mu: the shared region's corner in the source

	input     inputQueue
	endInput  context.CancelFunc // guarded by mu; stops serveInput
	inputDone chan struct{}      // guarded by mu; closed when serveInput has ended
	sessCtx   context.Context    // guarded by mu; ends with the session

	decisions files.Decisions
	transfers sync.WaitGroup // file transfers under way
	inboxOnce sync.Once
	filesIn   *files.Inbox

	offers *offers // nil unless Config.Offers is set

	paused      bool // guarded by mu: the person paused sharing (kept across a resumed connection)
	chats       session.Chats
	endLost     chan string  // Disconnect while a lost connection waits to be resumed (buffered, 1)
	lost        *lostSession // guarded by mu: a session whose connection was lost, waiting to be resumed
	earlier     ShareStats   // guarded by mu: what was shared before lost connections
	interruptMu sync.Mutex
	interrupted []interrupted // guarded by interruptMu: sending cut by a lost connection
}

// New creates the invitation: a fresh key, the listening socket, the
// candidate addresses. It records the invitation as open in the store.
// With Config.Offers it creates a host that helpers offer help to instead
// (see OfferConfig).
func New(cfg Config) (*Host, error) {
	if cfg.Offers != nil {
		return newOffering(cfg)
	}
	if cfg.TTL <= 0 {
		return nil, fmt.Errorf("host: invitation lifetime must be positive, got %v", cfg.TTL)
	}
	if cfg.HostName == "" {
		return nil, errors.New("host: display name is empty")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxFailures <= 0 {
		cfg.MaxFailures = DefaultMaxFailures
	}
	if cfg.StorePoll <= 0 {
		cfg.StorePoll = time.Second
	}
	if cfg.ListenAddr == "" {
		cfg.ListenAddr = ":0"
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	display := cfg.Password
	if display == "" {
		display = invitations.NewPassword()
	} else if err := invitations.CheckPassword(display); err != nil {
		return nil, err
	}
	id := cfg.ID
	if id == "" {
		id = invitations.NewID()
	}
	now := cfg.Now().UTC().Truncate(time.Second)
	expires := now.Add(cfg.TTL)
	cert, pin, err := session.NewHostCertificate(expires)
	if err != nil {
		return nil, err
	}
	ln, err := session.Listen(session.ListenConfig{Addr: cfg.ListenAddr, Certificate: cert, Logger: logger})
	if err != nil {
		return nil, err
	}
	inv := &invitations.Invitation{
		ID:         id,
		HostName:   cfg.HostName,
		Created:    now,
		Expires:    expires,
		Pin:        pin,
		Addresses:  Candidates(ln.Addr(), InterfaceAddrs()),
		Rendezvous: cfg.Rendezvous,
	}
	if _, err := inv.Marshal(); err != nil { // validates
		ln.Close()
		return nil, fmt.Errorf("host: %w", err)
	}
	h := &Host{
		cfg:      cfg,
		inv:      inv,
		password: invitations.CanonicalPassword(display),
		display:  display,
		ln:       ln,
		logger:   logger.With("component", "host", "invitation", id),
		endLost:  make(chan string, 1),
	}
	key, _ := cert.PrivateKey.(ed25519.PrivateKey)
	h.paths = &paths{
		server: cfg.Rendezvous, key: key, sock: ln.Socket(), ln: ln, id: id, own: inv.Addresses, rereg: make(chan struct{}, 1),
		prefixes: session.InterfacePrefixes(), logger: h.logger.With("component", "rendezvous"),
	}
	h.input.wake = make(chan struct{}, 1)
	resend := false
	if cfg.Store != nil {
		_, err := cfg.Store.Get(id)
		resend = err == nil
		rec := invitations.Record{
			ID: id, HostName: cfg.HostName, File: cfg.File, Created: now, Expires: expires,
			State: invitations.StateOpen, PID: cfg.PID, Updated: now,
		}
		if err := cfg.Store.Put(rec); err != nil {
			ln.Close()
			return nil, fmt.Errorf("host: recording the invitation: %w", err)
		}
	}
	if cfg.LogDir != "" {
		l, err := sessionlog.Open(filepath.Join(cfg.LogDir, sessionlog.FileName(now, id, "")), cfg.Now)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("host: opening the session log: %w", err)
		}
		h.log = l
	}
	addrs := make([]string, len(inv.Addresses))
	for i, a := range inv.Addresses {
		addrs[i] = a.String()
	}
	h.record("invitation", map[string]any{
		"host_name": cfg.HostName, "expires": expires.Format(time.RFC3339), "addresses": addrs,
		"pin_sha256": fmt.Sprintf("%x", pin), "resend": resend,
	})
	if cfg.Rendezvous != "" {
		// The TURN client's socket, for the relay the rendezvous may offer
		// (opened now, with the listener, so both live in the caller's
		// network namespace).
		if udp, err := net.ListenPacket("udp4", ":0"); err == nil {
			h.paths.relayUDP = udp
		} else {
			h.logger.Warn("no socket for a relay", "err", err)
		}
	}
	return h, nil
}

// Invitation returns the invitation to save and send. It holds no secret.
func (h *Host) Invitation() *invitations.Invitation { return h.inv }

// Password returns the password to give the helper over another channel.
func (h *Host) Password() string { return h.display }

// EscapeStopsControl reports whether ESC on the person's keyboard takes
// control back on this computer.
func (h *Host) EscapeStopsControl() bool { return h.cfg.Keys != nil && !h.cfg.IgnoreEscape }

// LogPath returns the session log's path, or "" when not logging.
func (h *Host) LogPath() string {
	if h.log == nil {
		return ""
	}
	return h.log.Path()
}

// Close releases the socket and the log. Call it after Run returns.
func (h *Host) Close() error {
	err := h.ln.Close()
	h.paths.closeRelay() // when Run never ran
	if h.log != nil {
		if lerr := h.log.Close(); err == nil {
			err = lerr
		}
	}
	return err
}

func (h *Host) emit(e Event) {
	if e.Time.IsZero() {
		e.Time = h.cfg.Now().UTC()
	}
	if h.cfg.OnEvent == nil {
		return
	}
	h.evmu.Lock()
	defer h.evmu.Unlock()
	h.cfg.OnEvent(e)
}

// record appends to the session log; a failure to log is reported but does
// not stop the session.
func (h *Host) record(event string, attrs map[string]any) {
	if h.log == nil {
		return
	}
	if err := h.log.Append(event, attrs); err != nil {
		h.logger.Error("writing the session log", "err", err)
	}
}

func (h *Host) setState(st invitations.State) {
	if h.cfg.Store == nil {
		return
	}
	_, err := h.cfg.Store.Update(h.inv.ID, func(r *invitations.Record) error {
		if r.State == invitations.StateCancelled && st != invitations.StateCancelled {
			return nil // a cancel from elsewhere wins
		}
		r.State = st
		if st != invitations.StateOpen {
			r.PID = 0
		}
		r.Updated = h.cfg.Now().UTC()
		return nil
	})
	if err != nil {
		h.logger.Error("updating the invitation record", "err", err)
	}
}

// Chat sends a chat message to the helper.
func (h *Host) Chat(text string) error {
	if err := h.sendChat(session.Message{Type: session.TypeChat, Text: text, Name: h.cfg.HostName}); err != nil {
		return err
	}
	h.record("chat", map[string]any{"from": h.cfg.HostName, "side": "host", "text": text})
	h.emit(Event{Type: EventChat, From: h.cfg.HostName, Text: text, Self: true})
	return nil
}

// Relay sends a chat line someone else wrote (in the ticket's chat thread,
// by e-mail) into the session, labelled with their name, so the person and
// the helper see one conversation. via says where it was written ("chat",
// "email").
func (h *Host) Relay(author, via, text string) error {
	name := author + " (" + via + ")"
	if err := h.sendChat(session.Message{Type: session.TypeChat, Text: text, Name: name}); err != nil {
		return err
	}
	h.record("chat", map[string]any{"from": name, "side": via, "text": text})
	h.emit(Event{Type: EventChat, From: name, Text: text, Relayed: true})
	return nil
}

// Disconnect ends the running session with reason.
func (h *Host) Disconnect(reason string) error {
	h.mu.Lock()
	s, lost := h.sess, h.lost != nil
	h.mu.Unlock()
	if s == nil && lost {
		// The helper's connection is being resumed: end it instead.
		select {
		case h.endLost <- reason:
		default:
		}
		return nil
	}
	if s == nil {
		return ErrNoSession
	}
	s.Close(reason)
	return nil
}
