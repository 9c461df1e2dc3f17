package discordfake

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Options configure a Server; the zero value is a good one.
type Options struct {
	// Token is the bot token the Server accepts; "" means DefaultToken.
	Token string
	// ApplicationID is the application's id; "" means
	// DefaultApplicationID. The bot user has the same id (as Discord's
	// applications made since 2021 do) unless BotID says otherwise.
	ApplicationID string
	// BotID and BotName are the bot user's; defaults ApplicationID and
	// "gethelp".
	BotID, BotName string
	// HeartbeatInterval is what HELLO asks for; zero means Discord's
	// 41.25 s. A connection that sends nothing for three intervals (and 2
	// s) is closed with 4009 and fails the test.
	HeartbeatInterval time.Duration
	// InteractionDeadline is how long after INTERACTION_CREATE the first
	// answer is taken; zero means Discord's 3 s.
	InteractionDeadline time.Duration
	// DisabledIntents are privileged intents not switched on in the
	// developer portal: an IDENTIFY that asks for them is closed with 4014
	// (Disallowed intents).
	DisabledIntents int
	// WaitTimeout bounds the helpers that wait for the bot (Interact,
	// PressButton, WaitMessages, ...); zero means 10 s.
	WaitTimeout time.Duration
}

// Defaults.
const (
	DefaultToken         = "fake-bot-token.X1.Y2"
	DefaultApplicationID = "900000000000000001"
)

// Gateway intents the Server knows.
const (
	IntentGuilds         = 1 << 0
	IntentGuildMembers   = 1 << 1
	IntentGuildMessages  = 1 << 9
	IntentDirectMessages = 1 << 12
	IntentMessageContent = 1 << 15
	IntentGuildPresences = 1 << 8
	allIntents           = 1<<26 - 1
	privilegedIntents    = IntentGuildMembers | IntentGuildPresences | IntentMessageContent
)

// Server is Discord, as a bot sees it: the REST API under /api/v9 and
// /api/v10, and the gateway. Its methods may be called from any
// goroutine; the helpers that wait (Interact, PressButton, Wait...) report
// a timeout with tb.Errorf.
type Server struct {
	tb   testing.TB
	opts Options
	http *httptest.Server

	stopped atomic.Bool // Close was called; failures are no longer reported

	mu           sync.Mutex
	closed       bool
	changed      chan struct{} // closed and replaced on every change
	next         uint64        // the last snowflake made
	users        map[string]*User
	guilds       map[string]*guild
	channels     map[string]*channel
	messages     map[string]*Message // every message, by id, ephemeral ones too
	dms          map[string]string   // user id → DM channel id
	commands     []*Command
	interactions map[string]*Interaction // by id
	byToken      map[string]*Interaction
	nonces       map[nonceKey]nonceEntry
	limits       []*limit
	requests     []Request
	sessions     map[string]*session
	current      *session // the session dispatches go to
	conns        map[*conn]struct{}
	heartbeats   int
	identifies   []Identify

	wg sync.WaitGroup // gateway connections
}

// User is a Discord user.
type User struct {
	ID, Username, GlobalName string
	Bot                      bool
	// DMsClosed: the bot cannot send this user direct messages (50007).
	DMsClosed bool
}

type guild struct {
	id, name string
	members  map[string]string // user id → nick
}

type channel struct {
	id, guild, name, parent string
	kind                    int
	recipient               string // a DM's user
	deny                    int    // an error code for the bot's requests here
	order                   []string
}

// Message is a message as the Server keeps it.
type Message struct {
	ID, ChannelID, GuildID, AuthorID string
	Content                          string
	Buttons                          []Button
	Files                            []File
	ReplyTo                          string   // message_reference.message_id
	Nonce                            string   // as sent
	Ephemeral                        bool     // flags 64: only in interaction answers
	Thread                           string   // the thread started from it
	Interaction                      string   // the interaction it answers or follows up
	AllowedMentions                  []string // allowed_mentions.parse; nil when not sent
	Created                          time.Time
}

// Button is a button under a message.
type Button struct {
	Label, CustomID string
	Style           int
}

// File is an attachment.
type File struct {
	Name, ContentType string
	Data              []byte
}

// Command is a registered application command.
type Command struct {
	ID, GuildID, Name, Description string // GuildID "" for a global command
	Type                           int
	Options                        []CommandOption
	Contexts, IntegrationTypes     []int
}

// CommandOption is an option of a registered command.
type CommandOption struct {
	Type              int
	Name, Description string
	Required          bool
	MaxLength         int
	Options           []CommandOption
}

// Request is a REST request the Server answered.
type Request struct {
	Method, Path string
	Status       int
	Code         int // Discord's error code, if any
}

// Identify is what an IDENTIFY said.
type Identify struct {
	Token   string
	Intents int
}

// Channel describes a channel.
type Channel struct {
	ID, GuildID, Name, ParentID string
	Type                        int
}

// limit is a rate limit set up with RateLimit, or one a 429 started.
type limit struct {
	prefix string
	count  int
	after  time.Duration
	global bool
	until  time.Time // requests before it are too early
}

type nonceKey struct{ channel, author, nonce string }

type nonceEntry struct {
	id   string
	when time.Time
}

// New starts a Server on 127.0.0.1 and closes it when the test ends.
// Requests the real service would reject, and answers that come too late,
// are reported with tb.Errorf.
func New(tb testing.TB, opts Options) *Server {
	tb.Helper()
	if opts.Token == "" {
		opts.Token = DefaultToken
	}
	if opts.ApplicationID == "" {
		opts.ApplicationID = DefaultApplicationID
	}
	if opts.BotID == "" {
		opts.BotID = opts.ApplicationID
	}
	if opts.BotName == "" {
		opts.BotName = "gethelp"
	}
	if opts.HeartbeatInterval <= 0 {
		opts.HeartbeatInterval = 41250 * time.Millisecond
	}
	if opts.InteractionDeadline <= 0 {
		opts.InteractionDeadline = 3 * time.Second
	}
	if opts.WaitTimeout <= 0 {
		opts.WaitTimeout = 10 * time.Second
	}
	s := &Server{
		tb: tb, opts: opts,
		changed:      make(chan struct{}),
		next:         1300000000000000000,
		users:        map[string]*User{},
		guilds:       map[string]*guild{},
		channels:     map[string]*channel{},
		messages:     map[string]*Message{},
		dms:          map[string]string{},
		interactions: map[string]*Interaction{},
		byToken:      map[string]*Interaction{},
		nonces:       map[nonceKey]nonceEntry{},
		sessions:     map[string]*session{},
		conns:        map[*conn]struct{}{},
	}
	s.users[opts.BotID] = &User{ID: opts.BotID, Username: opts.BotName, Bot: true}
	s.http = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	tb.Cleanup(s.Close)
	return s
}

// URL returns the Server's base URL, http://127.0.0.1:PORT: Discord's
// https://discord.com.
func (s *Server) URL() string { return s.http.URL }

// GatewayURL returns the gateway's address, as GET /api/v9/gateway says.
func (s *Server) GatewayURL() string { return "ws" + strings.TrimPrefix(s.http.URL, "http") }

// Token returns the bot token the Server accepts.
func (s *Server) Token() string { return s.opts.Token }

// ApplicationID returns the application's id.
func (s *Server) ApplicationID() string { return s.opts.ApplicationID }

// BotID returns the bot user's id.
func (s *Server) BotID() string { return s.opts.BotID }

// Client returns an HTTP client whose transport sends requests for
// https://discord.com to the Server: discordgo's endpoints are package
// variables, so this is how a discordgo session is pointed at the fake.
func (s *Server) Client() *http.Client {
	u, _ := url.Parse(s.http.URL)
	return &http.Client{Timeout: 20 * time.Second, Transport: &rewriter{to: u, next: s.http.Client().Transport}}
}

type rewriter struct {
	to   *url.URL
	next http.RoundTripper
}

func (r *rewriter) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != "discord.com" {
		return r.next.RoundTrip(req)
	}
	out := req.Clone(req.Context())
	out.URL.Scheme, out.URL.Host, out.Host = r.to.Scheme, r.to.Host, ""
	return r.next.RoundTrip(out)
}

// Close stops the Server: it closes the gateway's connections and the
// listener, and waits for its goroutines. New arranges it for the test's
// end.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.stopped.Store(true)
	var conns []*conn
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.changedLocked()
	s.mu.Unlock()
	for _, c := range conns {
		c.ws.Close()
	}
	s.http.Close()
	s.wg.Wait()
}

// failf reports a request the real service would reject.
// It may be called with s.mu held.
func (s *Server) failf(format string, args ...any) {
	if !s.stopped.Load() {
		s.tb.Errorf("discordfake: "+format, args...)
	}
}

func (s *Server) changedLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// waitFor waits until cond, called with s.mu held, holds, up to
// WaitTimeout; it reports whether it did.
func (s *Server) waitFor(cond func() bool) bool {
	deadline := time.NewTimer(s.opts.WaitTimeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ok := cond()
		ch := s.changed
		closed := s.closed
		s.mu.Unlock()
		if ok {
			return true
		}
		if closed {
			return false
		}
		select {
		case <-ch:
		case <-deadline.C:
			return false
		}
	}
}

// snowflakeLocked returns a new id.
func (s *Server) snowflakeLocked() string {
	s.next++
	return strconv.FormatUint(s.next, 10)
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return "aW50ZXJhY3Rpb246" + hex.EncodeToString(b)
}

// AddUser adds a user (or replaces one with the same id).
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cp := u
	s.users[u.ID] = &cp
}

// AddGuild adds a guild the bot is in.
func (s *Server) AddGuild(id, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.guilds[id] == nil {
		s.guilds[id] = &guild{id: id, name: name, members: map[string]string{s.opts.BotID: ""}}
	}
}

// AddChannel adds a text channel to a guild.
func (s *Server) AddChannel(guildID, id, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.guilds[guildID] == nil {
		s.failf("AddChannel: no guild %s", guildID)
		return
	}
	s.channels[id] = &channel{id: id, guild: guildID, name: name, kind: channelText}
}

// AddMember makes a user a member of a guild, with a nickname there ("":
// none). The user must have been added.
func (s *Server) AddMember(guildID, userID, nick string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.guilds[guildID]
	if g == nil || s.users[userID] == nil {
		s.failf("AddMember: no guild %s or user %s", guildID, userID)
		return
	}
	g.members[userID] = nick
}

// Deny makes the bot's requests about a channel (and its threads) fail
// with code: 50001 (Missing Access) or 50013 (Missing Permissions), both
// 403; 0 lifts it.
func (s *Server) Deny(channelID string, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.channels[channelID]; c != nil {
		c.deny = code
	}
}

// RateLimit makes the next count requests whose path (after /api/vN)
// starts with prefix get 429 with retry_after; with global, the limit is
// the bot's global one. A request before a 429's retry_after has passed
// fails the test: clients must honour them.
func (s *Server) RateLimit(prefix string, count int, retryAfter time.Duration, global bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits = append(s.limits, &limit{prefix: prefix, count: count, after: retryAfter, global: global})
}

// Messages returns the messages of a channel (or thread), oldest first,
// without ephemeral ones.
func (s *Server) Messages(channelID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.messagesLocked(channelID)
}

func (s *Server) messagesLocked(channelID string) []Message {
	c := s.channels[channelID]
	if c == nil {
		return nil
	}
	out := make([]Message, 0, len(c.order))
	for _, id := range c.order {
		out = append(out, s.messages[id].clone())
	}
	return out
}

// WaitMessages waits until a channel has at least n messages and returns
// them; after WaitTimeout it fails the test and returns what there is.
func (s *Server) WaitMessages(channelID string, n int) []Message {
	s.tb.Helper()
	ok := s.waitFor(func() bool {
		c := s.channels[channelID]
		return c != nil && len(c.order) >= n
	})
	msgs := s.Messages(channelID)
	if !ok {
		s.tb.Errorf("discordfake: channel %s has %d messages, want %d", channelID, len(msgs), n)
	}
	return msgs
}

// Message returns a message by id, ephemeral ones too.
func (s *Server) Message(id string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.messages[id]
	if m == nil {
		return Message{}, false
	}
	return m.clone(), true
}

// DMChannel returns the id of the DM channel between the bot and a user,
// or "" while there is none.
func (s *Server) DMChannel(userID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dms[userID]
}

// DMs returns the direct messages between the bot and a user.
func (s *Server) DMs(userID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.messagesLocked(s.dms[userID])
}

// Channel describes a channel, thread or DM.
func (s *Server) Channel(id string) (Channel, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[id]
	if c == nil {
		return Channel{}, false
	}
	return Channel{ID: c.id, GuildID: c.guild, Name: c.name, ParentID: c.parent, Type: c.kind}, true
}

// Commands returns the commands registered in a guild, or globally with
// guildID "".
func (s *Server) Commands(guildID string) []Command {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Command
	for _, c := range s.commands {
		if c.GuildID == guildID {
			cp := *c
			cp.Options = slices.Clone(c.Options)
			out = append(out, cp)
		}
	}
	return out
}

// WaitCommands waits until n commands are registered in a guild (or
// globally) and returns them.
func (s *Server) WaitCommands(guildID string, n int) []Command {
	s.tb.Helper()
	ok := s.waitFor(func() bool {
		k := 0
		for _, c := range s.commands {
			if c.GuildID == guildID {
				k++
			}
		}
		return k >= n
	})
	cs := s.Commands(guildID)
	if !ok {
		s.tb.Errorf("discordfake: %d commands registered in %q, want %d", len(cs), guildID, n)
	}
	return cs
}

// Requests returns the REST requests answered so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Identifies returns the IDENTIFYs received so far.
func (s *Server) Identifies() []Identify {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.identifies)
}

// Heartbeats returns how many heartbeats were acknowledged.
func (s *Server) Heartbeats() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.heartbeats
}

func (m *Message) clone() Message {
	cp := *m
	cp.Buttons = slices.Clone(m.Buttons)
	cp.Files = slices.Clone(m.Files)
	cp.AllowedMentions = slices.Clone(m.AllowedMentions)
	return cp
}

// String describes a message for test failures.
func (m Message) String() string {
	return fmt.Sprintf("%s in %s by %s: %q", m.ID, m.ChannelID, m.AuthorID, m.Content)
}
