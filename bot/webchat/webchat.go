package webchat

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gethelp/gethelp/bot"
)

// Errors the Server's calls return. The HTTP API answers them with the
// status given.
var (
	// ErrNotLoopback is returned by New when Options.Addr is not a
	// loopback address: the chat is never served to the network.
	ErrNotLoopback = errors.New("webchat: listens on loopback addresses only")
	// ErrNotFound: no such channel, thread, message, button or mail (404).
	// An unknown user is bot.ErrNoSuchUser instead (404 too).
	ErrNotFound = errors.New("webchat: not found")
	// ErrInvalid: the request makes no sense (400): empty text, a command
	// other than /gethelp, a reply to a reply.
	ErrInvalid = errors.New("webchat: invalid request")
	// ErrTimeout: the bot did not answer a command or a button press
	// within Options.Deadline (504).
	ErrTimeout = errors.New("webchat: gethelp did not answer in time")
	// ErrBusy: maxQueue events wait for the bot already (503).
	ErrBusy = errors.New("webchat: gethelp is busy, try again")
	// ErrClosed: the Server is closed (503). It wraps net.ErrClosed.
	ErrClosed = fmt.Errorf("webchat: closed: %w", net.ErrClosed)
	// ErrRunning: Run was called while another Run is receiving.
	ErrRunning = errors.New("webchat: Run is already running")
)

// User is a person on the chat.
type User struct {
	ID    string `json:"id"`              // unique, e.g. "alice"; no spaces; not "bot"
	Name  string `json:"name"`            // shown, e.g. "Alice"; "" means ID
	Email string `json:"email,omitempty"` // as the network reports it; may be ""
}

// Options configures New. The zero value is a demo workspace with Alice
// and Bob in #general and #helpdesk.
type Options struct {
	// Addr is the TCP address to listen on; "" means "127.0.0.1:0". Its
	// host must be a loopback IP address. A restarted Server can listen on
	// the port of one that just died at once (SO_REUSEADDR).
	Addr string
	// Token is the page's and the API's token, 32 lower-case hex digits;
	// "" means a fresh random one. With Addr's port fixed, a restarted
	// Server keeps its URL, and pages their cookie.
	Token string
	// StateFile, if set, is where the chat keeps everything it holds, so
	// that it survives a restart, even kill -9: New reads it, creating it
	// if missing, and every change is on disk before the call that made
	// it returns. See "The state file" in the package's documentation.
	StateFile string
	// Workspace is the workspace's name, as in Identity.Workspace; ""
	// means "demo".
	Workspace string
	// Users are the people on the chat; none means Alice
	// (alice@example.com) and Bob (bob@example.com). IDs and names must be
	// unique, compared without case, across all users.
	Users []User
	// Channels are the channels' names (and ids): lower-case letters,
	// digits, '-' and '_'. None means "general" and "helpdesk".
	Channels []string
	// Deadline is how long a command or a button press waits for the bot's
	// reply before the user is told it did not answer; 0 means 3s, as
	// Slack does.
	Deadline time.Duration
	// Logger receives diagnostics; nil discards them. The token is never
	// logged.
	Logger *slog.Logger
	// Now is the clock for message and mail times; nil means time.Now.
	Now func() time.Time
}

// Limits.
const (
	// MaxText bounds the text of a message, from the bot or a user, in
	// bytes (Slack's is 40,000 characters).
	MaxText = 40000
	// MaxFile bounds a file the bot sends.
	MaxFile = 10 << 20
	// maxQueue bounds the events waiting for the bot.
	maxQueue = 1024
)

// botID is the author of the bot's messages; botName is how they are
// signed.
const (
	botID   = "bot"
	botName = "gethelp"
)

var (
	channelName  = regexp.MustCompile(`^[a-z0-9_-]{1,80}$`)
	tokenPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

// Server is the chat network and its adapter: it serves the page and the
// API, keeps the messages in memory (and in Options.StateFile, if set) and
// implements bot.Network and bot.UserLookup. Create it with New; it runs
// until Close.
type Server struct {
	workspace string
	users     []User           // in the order given; not modified after New
	byKey     map[string]*User // lower-cased id and name → user; not modified after New
	channels  []string         // not modified after New
	deadline  time.Duration
	logger    *slog.Logger
	now       func() time.Time

	token  string // 32 hex digits; never logged
	cookie string // the cookie's name, unique per port (cookies ignore ports)
	url    string
	srv    *http.Server
	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // Serve and every request

	events  chan event  // for Run, one at a time
	running atomic.Bool // a Run is receiving

	mu     sync.Mutex
	closed bool                // guarded by mu
	state  *stateFile          // guarded by mu; nil without Options.StateFile; closed once closed is set
	seq    int                 // guarded by mu: the last id handed out (or, with a state file, recorded in it)
	convs  map[string]*conv    // "#channel" or "@user id" → conv; the map is not modified after New, each conv's msgs are guarded by mu
	byID   map[string]*message // guarded by mu
	keys   map[string]string   // guarded by mu: Message.Key → the message's id
	mails  []*Mail             // guarded by mu: oldest first
	pages  map[*page]struct{}  // guarded by mu
}

// conv is a channel or the direct messages between the bot and one user.
type conv struct {
	channel string     // "" for a direct message
	dm      string     // the user of a direct message
	msgs    []*message // oldest first, replies included
}

// message is one message, as kept.
type message struct {
	id        string
	conv      *conv
	thread    string // the root's id for a reply, else ""
	author    string // a user's id or botID
	text      string
	buttons   []bot.Button
	file      *bot.File
	visibleTo string // an ephemeral message's only reader, else ""
	command   string // for the reply to a command, the command as typed
	time      time.Time
}

// New starts serving the chat on a loopback address, with Options.Token or
// a fresh random token. With Options.StateFile it first loads what the
// file holds, and hands the core again what users posted that no
// Handler.Post returned from (see Run). It returns ErrNotLoopback for a
// non-loopback Options.Addr; an error for a bad Options.Token, or users or
// channels that break the rules of Options; ErrCorruptState or
// ErrStateInUse (wrapped), an error for a state file of another workspace
// or with messages in channels or of users that Options no longer has, or
// the file system's; or the error of net.Listen.
func New(opts Options) (_ *Server, err error) {
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if !loopbackAddr(addr) {
		return nil, fmt.Errorf("%w: %q", ErrNotLoopback, addr)
	}
	if opts.Token != "" && !tokenPattern.MatchString(opts.Token) {
		return nil, errors.New("webchat: Options.Token is not 32 lower-case hex digits")
	}
	s := &Server{
		workspace: opts.Workspace,
		deadline:  opts.Deadline,
		logger:    opts.Logger,
		now:       opts.Now,
		byKey:     make(map[string]*User),
		convs:     make(map[string]*conv),
		byID:      make(map[string]*message),
		keys:      make(map[string]string),
		pages:     make(map[*page]struct{}),
		events:    make(chan event, maxQueue),
	}
	if s.workspace == "" {
		s.workspace = "demo"
	}
	if s.deadline <= 0 {
		s.deadline = 3 * time.Second
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	s.logger = s.logger.With("component", "webchat")
	if s.now == nil {
		s.now = time.Now
	}
	users := opts.Users
	if len(users) == 0 {
		users = []User{
			{ID: "alice", Name: "Alice", Email: "alice@example.com"},
			{ID: "bob", Name: "Bob", Email: "bob@example.com"},
		}
	}
	s.users = make([]User, len(users))
	for i, u := range users {
		if u.ID == "" || strings.ContainsAny(u.ID, " \t\r\n@<>") || strings.EqualFold(u.ID, botID) {
			return nil, fmt.Errorf("webchat: bad user id %q", u.ID)
		}
		if u.Name == "" {
			u.Name = u.ID
		}
		s.users[i] = u
		for _, k := range []string{u.ID, u.Name} {
			k = strings.ToLower(k)
			if other, ok := s.byKey[k]; ok && other != &s.users[i] {
				return nil, fmt.Errorf("webchat: two users answer to %q", k)
			}
			s.byKey[k] = &s.users[i]
		}
	}
	channels := opts.Channels
	if len(channels) == 0 {
		channels = []string{"general", "helpdesk"}
	}
	for _, c := range channels {
		if !channelName.MatchString(c) {
			return nil, fmt.Errorf("webchat: bad channel name %q", c)
		}
		if _, ok := s.convs["#"+c]; ok {
			return nil, fmt.Errorf("webchat: channel %q twice", c)
		}
		s.channels = append(s.channels, c)
		s.convs["#"+c] = &conv{channel: c}
	}
	for _, u := range s.users {
		s.convs["@"+u.ID] = &conv{dm: u.ID}
	}

	var undelivered []*message
	if opts.StateFile != "" {
		l := &loader{s: s, delivered: make(map[string]bool)}
		if s.state, err = openState(opts.StateFile, s.workspace, s.logger, l.apply); err != nil {
			return nil, err
		}
		st := s.state
		defer func() {
			if err != nil {
				st.close() // and its lock
			}
		}()
		for _, m := range l.posts {
			if !l.delivered[m.id] {
				undelivered = append(undelivered, m)
			}
		}
		s.logger.Info("state loaded", "path", opts.StateFile, "messages", len(s.byID), "mail", len(s.mails),
			"undelivered", len(undelivered), "last_id", s.seq)
	}
	for i, m := range undelivered {
		if i == maxQueue {
			s.logger.Warn("more undelivered posts than the queue holds; the rest wait for the next restart", "posts", len(undelivered))
			break
		}
		u, _ := s.user(m.author) // the loader checked
		s.events <- event{post: &bot.Post{From: s.identity(u), At: s.place(m), Text: m.text, ID: bot.MessageRef(m.id)}}
	}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("webchat: %w", err)
	}
	s.token = opts.Token
	if s.token == "" {
		var tok [16]byte
		rand.Read(tok[:])
		s.token = hex.EncodeToString(tok[:])
	}
	s.cookie = fmt.Sprintf("gethelp_webchat_%d", ln.Addr().(*net.TCPAddr).Port)
	s.url = fmt.Sprintf("http://%s/?t=%s", ln.Addr(), s.token)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return s.ctx },
	}
	s.wg.Go(func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logger.Error("serving the chat", "err", err)
		}
	})
	return s, nil
}

// URL returns the page's address, token included:
// http://127.0.0.1:PORT/?t=TOKEN.
func (s *Server) URL() string { return s.url }

// Workspace returns the workspace's name.
func (s *Server) Workspace() string { return s.workspace }

// Close stops the server: pages are disconnected, commands waiting for the
// bot fail with ErrClosed, Run returns ErrClosed, the state file is closed,
// and Close returns once every request has ended. Calling it again returns
// nil.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	var stateErr error
	if s.state != nil {
		stateErr = s.state.close() // nothing writes once closed is set
	}
	s.mu.Unlock()
	s.cancel()
	err := s.srv.Close()
	s.wg.Wait()
	return errors.Join(err, stateErr)
}

// user returns the user with the id or name k (any case), or an error
// wrapping bot.ErrNoSuchUser. Requests and places may name users either way.
func (s *Server) user(k string) (*User, error) {
	if u, ok := s.byKey[strings.ToLower(k)]; ok {
		return u, nil
	}
	return nil, noSuchUser(k)
}

func (s *Server) identity(u *User) bot.Identity {
	return bot.Identity{
		Network:     "webchat",
		Workspace:   s.workspace,
		UserID:      u.ID,
		DisplayName: u.Name,
		Email:       u.Email,
	}
}

// convLocked returns the channel, or with channel "" the direct messages
// of user and the bot.
func (s *Server) convLocked(channel, user string) (*conv, error) {
	if channel == "" {
		if c, ok := s.convs["@"+user]; ok {
			return c, nil
		}
		return nil, noSuchUser(user)
	}
	if c, ok := s.convs["#"+strings.TrimPrefix(channel, "#")]; ok {
		return c, nil
	}
	return nil, errorf(ErrNotFound, "no channel #%s", strings.TrimPrefix(channel, "#"))
}

// rootLocked returns the message id in c that can take replies: a message
// that is not a reply and not ephemeral.
func (s *Server) rootLocked(c *conv, id string) (*message, error) {
	m, ok := s.byID[id]
	if !ok || m.conv != c {
		return nil, errorf(ErrNotFound, "no message %s in %s", id, c.name())
	}
	if m.thread != "" {
		return nil, errorf(ErrInvalid, "%s is a reply; reply in its thread, %s", id, m.thread)
	}
	if m.visibleTo != "" {
		return nil, errorf(ErrInvalid, "%s is ephemeral and takes no replies", id)
	}
	return m, nil
}

// nextIDLocked returns a new id for a command ("c") or a press ("p"). Ids
// of messages ("m"), commands and presses share one counter and grow, so
// ids of messages sort in the order they were posted. With a state file
// the counter is recorded first, as the core remembers the ids of
// commands and presses it has seen: an id is never handed out twice, even
// across restarts.
func (s *Server) nextIDLocked(prefix string) (string, error) {
	if err := s.persistLocked(record{Seq: s.seq + 1}); err != nil {
		return "", err
	}
	s.seq++
	return formatID(prefix, s.seq), nil
}

// addLocked gives m an id and a time, makes it durable (recording key,
// the Message.Key of a Send, with it), stores it and tells the pages. It
// returns the state file's errors; m is then not posted.
func (s *Server) addLocked(m *message, key string) error {
	m.id = formatID("m", s.seq+1)
	m.time = s.now()
	if err := s.persistLocked(record{Msg: m.record(key)}); err != nil {
		return err
	}
	s.seq++
	m.conv.msgs = append(m.conv.msgs, m)
	s.byID[m.id] = m
	if key != "" {
		s.keys[key] = m.id
	}
	s.broadcastLocked(messageEvent{Type: "message", Message: s.viewLocked(m)})
	return nil
}

// persistLocked appends r to the state file, if there is one, and returns
// once it is on disk: the change it records may then be made. It returns
// ErrClosed after Close, ErrStateFull, or the file system's error.
func (s *Server) persistLocked(r record) error {
	switch {
	case s.state == nil:
		return nil
	case s.closed:
		return ErrClosed
	}
	return s.state.append(r)
}

func (c *conv) name() string {
	if c.channel == "" {
		return "the direct messages with " + c.dm
	}
	return "#" + c.channel
}

// visible reports whether user sees m.
func (m *message) visible(user string) bool {
	if m.conv.dm != "" && m.conv.dm != user {
		return false
	}
	return m.visibleTo == "" || m.visibleTo == user
}

// place returns where m is, as the core names places.
func (s *Server) place(m *message) bot.Place {
	return bot.Place{Workspace: s.workspace, Channel: m.conv.channel, Thread: m.thread, User: m.conv.dm}
}

func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
