package slackfake

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The workspace's fixed names.
const (
	TeamID     = "T0GETHELP"
	TeamDomain = "gethelp-test"
	AppID      = "A0GETHELP"
	BotUserID  = "U0BOT"
	BotID      = "B0BOT"
	BotName    = "gethelp"

	BotToken      = "xoxb-0000-fake-bot-token"
	AppToken      = "xapp-1-A0GETHELP-fake-app-token"
	SigningSecret = "fake-signing-secret-0123456789abcdef"
	// VerificationToken is the deprecated token Slack still puts in
	// payloads.
	VerificationToken = "fake-verification-token"
)

// DefaultScopes are the bot token's scopes when Server.Scopes is nil: those
// of bot/slack/manifest.yaml.
var DefaultScopes = []string{
	"commands", "chat:write", "im:write", "users:read", "users:read.email",
	"files:write", "channels:history", "groups:history", "im:history",
}

// User is a person (or the bot) in the workspace.
type User struct {
	ID          string
	Name        string // the handle: "alice"
	DisplayName string // profile.display_name; may be ""
	RealName    string
	Email       string // may be ""
	IsBot       bool
}

// Channel is a conversation: a public channel (C…), a private one (G…) or
// a direct message with the bot (D…, IM set).
type Channel struct {
	ID      string
	Name    string
	Private bool
	IM      bool
	Members []string // user ids; the bot is a member when listed
}

// Message is a message as the fake keeps it.
type Message struct {
	TS       string
	Channel  string // the conversation's id
	ThreadTS string // the root's ts for a reply; "" otherwise
	User     string // the author's id (BotUserID for the bot)
	BotID    string // BotID when the bot posted it
	Text     string
	Blocks   json.RawMessage // as posted; nil without blocks
	Buttons  []Button        // the buttons of its actions blocks
	Metadata *Metadata       // as posted with chat.postMessage; nil without
	Files    []File          // shared with the message
	// Ephemeral: shown to VisibleTo alone, not in history.
	Ephemeral bool
	VisibleTo string
	// Via says how it was posted: "chat.postMessage", "chat.postEphemeral",
	// "files.completeUploadExternal", "response_url", "user".
	Via string
}

// Button is a button of a posted message.
type Button struct {
	BlockID  string
	ActionID string
	Text     string
	Value    string
	Style    string
}

// Metadata is a message's metadata.
type Metadata struct {
	EventType    string         `json:"event_type"`
	EventPayload map[string]any `json:"event_payload"`
}

// File is an uploaded file.
type File struct {
	ID        string
	Name      string
	Title     string
	Data      []byte
	Channel   string // where it was shared; "" while private
	ThreadTS  string
	MessageTS string // the message that shares it
}

// Call is a Web API request the fake received.
type Call struct {
	Method string
	Params map[string]string // the parameters, less the token
	Token  string            // "bot", "app", "none" or "unknown"
	Error  string            // the error code answered; "" when ok
}

// Server is the fake. The zero value is ready to use; set the exported
// fields before the first call.
type Server struct {
	// T receives every failure through T.Errorf; nil: failures are only
	// recorded (Failures).
	T testing.TB
	// Scopes granted to the bot token; nil means DefaultScopes.
	Scopes []string
	// AckTimeout is how soon an envelope or an HTTP event must be
	// acknowledged; 0 means 3s.
	AckTimeout time.Duration
	// ReplyTimeout is how long SlashCommand and Press wait for the reply
	// after the ack; 0 means 10s.
	ReplyTimeout time.Duration
	// PingInterval is how often Socket Mode connections are pinged; 0
	// means 5s.
	PingInterval time.Duration
	// NoEscape: slash command text is passed as typed; otherwise "@name"
	// becomes "<@U…|name>" as with the manifest's should_escape: true.
	NoEscape bool
	// RequestURL, when set, makes the fake deliver events, commands and
	// presses by signed HTTP requests (the Events API) to
	// RequestURL+"/events", "/commands" and "/interactive" instead of
	// Socket Mode. Once the fake runs, change it with SetRequestURL.
	RequestURL string
	// HTTPClient makes those requests; nil means a plain client.
	HTTPClient *http.Client
	// Now is the clock of timestamps and signatures; nil means time.Now.
	Now func() time.Time

	once    sync.Once
	srv     *httptest.Server
	ctx     context.Context // cancelled by Close
	cancel  context.CancelFunc
	wg      sync.WaitGroup // connections and deliveries
	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every change; guarded by mu
	closed  bool

	users     map[string]*User
	userOrder []string
	channels  map[string]*Channel
	chanOrder []string
	messages  []*Message // in order of ts
	files     map[string]*pendingFile
	fileOrder []string
	calls     []Call
	failures  []string
	expected  []string
	limits    map[string]*rateLimit
	lastTS    int64 // microseconds of the last ts
	seq       int   // counter for ids
	tickets   map[string]bool
	conns     []*wsConn
	envelopes map[string]*envelope
	responses map[string]*responseURL
	lastEvent *sentEvent
	emitting  int // message events being sent
}

type pendingFile struct {
	File
	length   int
	uploaded bool
	done     bool
}

type rateLimit struct {
	n          int
	retryAfter time.Duration
}

type responseURL struct {
	user, channel, thread string
	uses                  int
}

// New returns a Server that reports failures to t and is closed when the
// test ends.
func New(t testing.TB) *Server {
	s := &Server{T: t}
	t.Cleanup(s.Close)
	return s
}

// URL returns the Web API's base URL, with a trailing slash, starting the
// server if need be.
func (s *Server) URL() string {
	s.start()
	return s.srv.URL + "/api/"
}

// Close stops the server and its connections, and records as failures the
// expectations never met and the envelopes never acknowledged.
func (s *Server) Close() {
	s.start()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	for _, code := range s.expected {
		s.failLocked("the expected error %q never happened", code)
	}
	s.expected = nil
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	s.srv.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, e := range s.envelopes {
		e.timer.Stop()
		if !e.acked && !e.lost && time.Since(e.sent) > s.ackTimeout() {
			s.failLocked("Socket Mode: envelope %s (%s) was never acknowledged", id, e.typ)
		}
	}
}

func (s *Server) start() {
	s.once.Do(func() {
		s.ctx, s.cancel = context.WithCancel(context.Background())
		s.mu.Lock()
		s.initLocked()
		s.mu.Unlock()
		mux := http.NewServeMux()
		mux.HandleFunc("/api/{method}", s.serveAPI)
		mux.HandleFunc("/upload/v1/{id}", s.serveUpload)
		mux.HandleFunc("/socket", s.serveSocket)
		mux.HandleFunc("/response/{id}", s.serveResponse)
		s.srv = httptest.NewServer(mux)
	})
}

// initLocked fills the workspace, once.
func (s *Server) initLocked() {
	if s.users != nil {
		return
	}
	s.users = map[string]*User{}
	s.channels = map[string]*Channel{}
	s.files = map[string]*pendingFile{}
	s.limits = map[string]*rateLimit{}
	s.tickets = map[string]bool{}
	s.envelopes = map[string]*envelope{}
	s.responses = map[string]*responseURL{}
	s.changed = make(chan struct{})
	for _, u := range []User{
		{ID: BotUserID, Name: BotName, RealName: "gethelp", IsBot: true},
		{ID: "U0ALICE", Name: "alice", DisplayName: "Alice", RealName: "Alice Archer", Email: "alice@example.com"},
		{ID: "U0BOB", Name: "bob", DisplayName: "Bob", RealName: "Bob Baker", Email: "bob@example.com"},
		{ID: "U0CAROL", Name: "carol", RealName: "Carol Smith"},
	} {
		s.addUserLocked(u)
	}
	everyone := []string{"U0ALICE", "U0BOB", "U0CAROL", BotUserID}
	for _, c := range []Channel{
		{ID: "C0GENERAL", Name: "general", Members: everyone},
		{ID: "C0HELPDESK", Name: "helpdesk", Members: everyone},
		{ID: "C0RANDOM", Name: "random", Members: []string{"U0ALICE", "U0BOB", "U0CAROL"}},
		{ID: "G0PRIVATE", Name: "private", Private: true, Members: []string{"U0ALICE", "U0BOB", BotUserID}},
	} {
		s.addChannelLocked(c)
	}
}

// AddUser adds a user to the workspace (or replaces the one with its id).
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.initLocked()
	s.addUserLocked(u)
}

func (s *Server) addUserLocked(u User) {
	if _, ok := s.users[u.ID]; !ok {
		s.userOrder = append(s.userOrder, u.ID)
	}
	s.users[u.ID] = &u
}

// AddChannel adds a channel (or replaces the one with its id).
func (s *Server) AddChannel(c Channel) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.initLocked()
	s.addChannelLocked(c)
}

func (s *Server) addChannelLocked(c Channel) {
	c.Members = slices.Clone(c.Members)
	if _, ok := s.channels[c.ID]; !ok {
		s.chanOrder = append(s.chanOrder, c.ID)
	}
	s.channels[c.ID] = &c
}

// Expect declares that the next error answered with code is intended by
// the test, not a failure.
func (s *Server) Expect(code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expected = append(s.expected, code)
}

// RateLimit makes the next n calls of method answer HTTP 429 with
// Retry-After (in whole seconds, as Slack sends it).
func (s *Server) RateLimit(method string, n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.initLocked()
	s.limits[method] = &rateLimit{n: n, retryAfter: retryAfter}
}

// Failures returns what the fake found wrong so far.
func (s *Server) Failures() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.failures)
}

// Calls returns the Web API calls so far, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// CallCount returns how many calls of method the fake received.
func (s *Server) CallCount(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if c.Method == method {
			n++
		}
	}
	return n
}

// Messages returns the messages of a channel (by id or name), oldest
// first, ephemeral ones excluded: with thread "" those that are not
// replies, else the replies to the root thread.
func (s *Server) Messages(channel, thread string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.initLocked()
	c := s.channelLocked(channel)
	if c == nil {
		return nil
	}
	var out []Message
	for _, m := range s.messages {
		if m.Channel == c.ID && !m.Ephemeral && m.ThreadTS == thread {
			out = append(out, *m)
		}
	}
	return out
}

// DMs returns the messages of the direct conversation between the bot and
// user (by id or name), replies included, oldest first.
func (s *Server) DMs(user string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.initLocked()
	u := s.userLocked(user)
	if u == nil {
		return nil
	}
	im := s.imLocked(u.ID, false)
	if im == nil {
		return nil
	}
	var out []Message
	for _, m := range s.messages {
		if m.Channel == im.ID && !m.Ephemeral {
			out = append(out, *m)
		}
	}
	return out
}

// Ephemerals returns the ephemeral messages shown to user (by id or name),
// oldest first.
func (s *Server) Ephemerals(user string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.initLocked()
	u := s.userLocked(user)
	if u == nil {
		return nil
	}
	var out []Message
	for _, m := range s.messages {
		if m.Ephemeral && m.VisibleTo == u.ID {
			out = append(out, *m)
		}
	}
	return out
}

// Files returns the files whose upload was completed, oldest first.
func (s *Server) Files() []File {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []File
	for _, id := range s.fileOrder {
		if f := s.files[id]; f.done {
			g := f.File
			g.Data = bytes.Clone(f.Data)
			out = append(out, g)
		}
	}
	return out
}

// IM returns the id of the bot's direct conversation with user (by id or
// name), opening it if need be; "" for an unknown user.
func (s *Server) IM(user string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.initLocked()
	u := s.userLocked(user)
	if u == nil {
		return ""
	}
	return s.imLocked(u.ID, true).ID
}

// failLocked records a failure and reports it.
func (s *Server) failLocked(format string, args ...any) {
	msg := "slackfake: " + fmt.Sprintf(format, args...)
	s.failures = append(s.failures, msg)
	if s.T != nil {
		s.T.Helper()
		s.T.Errorf("%s", msg)
	}
}

func (s *Server) fail(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failLocked(format, args...)
}

// expectedLocked reports whether an error with code was expected, and
// consumes the expectation.
func (s *Server) expectedLocked(code string) bool {
	if i := slices.Index(s.expected, code); i >= 0 {
		s.expected = slices.Delete(s.expected, i, i+1)
		return true
	}
	return false
}

// notifyLocked wakes everyone waiting for a change.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// waitFor waits until cond (called with s.mu held) is true or the timeout
// passes, and reports whether it became true.
func (s *Server) waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ok := cond()
		ch := s.changed
		s.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			s.mu.Lock()
			defer s.mu.Unlock()
			return cond()
		case <-s.ctx.Done():
			return false
		}
	}
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// newTSLocked returns a new message timestamp, later than every other.
func (s *Server) newTSLocked() string {
	us := s.now().UnixMicro()
	if us <= s.lastTS {
		us = s.lastTS + 1
	}
	s.lastTS = us
	return fmt.Sprintf("%d.%06d", us/1e6, us%1e6)
}

// newIDLocked returns an id with prefix, unique in the fake.
func (s *Server) newIDLocked(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s%07d", prefix, s.seq)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *Server) userLocked(key string) *User {
	if u, ok := s.users[key]; ok {
		return u
	}
	key = strings.TrimPrefix(key, "@")
	for _, id := range s.userOrder {
		if u := s.users[id]; strings.EqualFold(u.Name, key) {
			return u
		}
	}
	return nil
}

func (s *Server) channelLocked(key string) *Channel {
	if c, ok := s.channels[key]; ok {
		return c
	}
	key = strings.TrimPrefix(key, "#")
	for _, id := range s.chanOrder {
		if c := s.channels[id]; !c.IM && strings.EqualFold(c.Name, key) {
			return c
		}
	}
	return nil
}

// imLocked returns the bot's direct conversation with user, creating it
// when create is set.
func (s *Server) imLocked(user string, create bool) *Channel {
	id := "D" + strings.TrimPrefix(user, "U")
	if c, ok := s.channels[id]; ok {
		return c
	}
	if !create {
		return nil
	}
	s.addChannelLocked(Channel{ID: id, IM: true, Private: true, Members: []string{user, BotUserID}})
	return s.channels[id]
}

func (c *Channel) member(user string) bool { return slices.Contains(c.Members, user) }

// kind is the channel's type as in events' channel_type.
func (c *Channel) kind() string {
	switch {
	case c.IM:
		return "im"
	case c.Private:
		return "group"
	}
	return "channel"
}

// historyScope is the scope reading the channel's history needs.
func (c *Channel) historyScope() string {
	switch {
	case c.IM:
		return "im:history"
	case c.Private:
		return "groups:history"
	}
	return "channels:history"
}

func (s *Server) messageLocked(channel, ts string) *Message {
	for _, m := range s.messages {
		if m.TS == ts && m.Channel == channel && !m.Ephemeral {
			return m
		}
	}
	return nil
}

func (s *Server) addMessageLocked(m *Message) {
	s.messages = append(s.messages, m)
	s.notifyLocked()
}
