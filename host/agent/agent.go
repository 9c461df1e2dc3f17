package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gethelp/gethelp/agentlink"
	"github.com/gethelp/gethelp/host"
)

// DefaultTTL is how long an invitation made for a ticket stays open.
const DefaultTTL = time.Hour

// Limits on what the agent keeps in memory.
const (
	maxQueue       = 1000 // messages waiting for the link
	maxPendingChat = 100  // chat from the bot waiting for a helper
	maxSeenKeys    = 1000 // chat keys remembered per ticket
	maxFinished    = 100  // finished tickets remembered
	drainTimeout   = 2 * time.Second
)

// Errors.
var (
	// ErrUnknownTicket is returned by Cancel for a ticket the agent does
	// not know (or no longer remembers).
	ErrUnknownTicket = errors.New("agent: no such ticket")
	// ErrRunning is returned by Run when it is called a second time.
	ErrRunning = errors.New("agent: already running")
)

// Config configures an Agent.
type Config struct {
	// Link says where the bot is, which key it must have, and the agent's
	// own key and name.
	Link agentlink.ClientConfig
	// Host prepares the host of one ticket: the base configuration
	// (source, injector, log directory, store, listen address, host
	// name ...) and a function to release what it opened (may be nil),
	// called when the ticket is over. The agent fills in TTL, Password,
	// ID and OnEvent. An error (the administrator's policy forbids remote
	// assistance, there is no screen) declines the ticket without asking
	// the person, the error's text telling the bot why. Never nil.
	Host func(ticket string) (host.Config, func(), error)
	// Ask asks the person whether to share their screen, showing who the
	// helper is as the bot knows them. It returns when they answer, or
	// with ctx's error when the request is withdrawn (the bot cancelled,
	// the agent stops). Never nil. Calls for different tickets may
	// overlap.
	Ask func(ctx context.Context, r ConsentRequest) (bool, error)
	// OnEvent receives what the person should see, one call at a time;
	// nil ignores them. It must not block for long nor call back into
	// the agent or a host synchronously.
	OnEvent func(Event)
	// TTL is how long each invitation stays open; zero means DefaultTTL.
	TTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
	// Backoff paces reconnecting to the bot; the zero value waits 1s to
	// 60s. Its Notify, when set, is called too.
	Backoff agentlink.Backoff
}

// ConsentRequest is what Ask shows the person.
type ConsentRequest struct {
	Ticket string
	// Helper is who would see the screen, Requester who asked for help
	// (often the person themselves), both as the chat network vouches
	// for them, never a name someone typed.
	Helper, Requester agentlink.Identity
	// Description is the requester's own words; show it as such.
	Description string
	// Again is set when the bot asks for a new invitation after the last
	// one ended, expired or locked: the person is asked afresh.
	Again bool
}

// Event is something the person should see. It marshals to the --json
// event schema of gethelp host agent.
type Event struct {
	Type   string    `json:"type"`
	Time   time.Time `json:"time"`
	Ticket string    `json:"ticket,omitempty"`

	Code         string               `json:"code,omitempty"`     // link_code
	Expires      time.Time            `json:"expires,omitzero"`   // link_code, invitation
	Identity     *agentlink.Identity  `json:"identity,omitempty"` // linked, unlinked
	Links        []agentlink.Identity `json:"links,omitempty"`    // connected_to_bot
	Helper       *agentlink.Identity  `json:"helper,omitempty"`   // invitation, declined
	InvitationID string               `json:"invitation_id,omitempty"`
	Resend       bool                 `json:"resend,omitempty"` // invitation: it replaces the ticket's previous one
	Reason       string               `json:"reason,omitempty"`
	RetryMs      int64                `json:"retry_ms,omitempty"` // disconnected_from_bot: next attempt in

	// Session is the host's event, for type session.
	Session *host.Event `json:"session,omitempty"`
	// Host is the ticket's host, for types invitation and session: the
	// person's controls (chat, grant, disconnect ...) act on it.
	Host *host.Host `json:"-"`
}

// Event types.
const (
	EventLinkCode     = "link_code"             // Code, Expires: "Type /gethelp link CODE in chat"
	EventLinked       = "linked"                // Identity: the bot now trusts this computer for them
	EventUnlinked     = "unlinked"              // Identity
	EventConnected    = "connected_to_bot"      // Links
	EventDisconnected = "disconnected_from_bot" // Reason, RetryMs: the agent keeps trying
	EventInvitation   = "invitation"            // Ticket, Helper, InvitationID, Expires, Resend: sent to the bot, which delivers it
	EventDeclined     = "declined"              // Ticket, Helper, Reason: the person said no, or the computer cannot host
	EventWithdrawn    = "withdrawn"             // Ticket, Reason: the request was cancelled before the person answered
	EventSession      = "session"               // Ticket, Session, Host
	EventError        = "error"                 // Ticket, Reason: the bot reported an error, or a ticket failed
)

// Ticket states, as Tickets reports them.
const (
	StateAsking    = "asking"
	StateWaiting   = "waiting"
	StateConnected = "connected"
	StateLocked    = "locked"
	StateEnded     = "ended"
	StateExpired   = "expired"
	StateCancelled = "cancelled"
	StateDeclined  = "declined"
	StateFailed    = "failed"
)

// Ticket describes one ticket the agent knows.
type Ticket struct {
	ID           string
	State        string
	Helper       agentlink.Identity
	Requester    agentlink.Identity
	InvitationID string // "" until the first invitation
}

// Agent is the person's side of the bot: it keeps the link, asks for
// consent and runs one host per accepted ticket. Create it with New.
type Agent struct {
	cfg    Config
	logger *slog.Logger
	evmu   sync.Mutex // serialises OnEvent

	mu         sync.Mutex
	ctx        context.Context      // guarded by mu: Run's; the tickets' parent
	running    bool                 // guarded by mu: Run was called
	stopping   bool                 // guarded by mu: Run is winding down; no new work
	conn       *agentlink.Conn      // guarded by mu; nil while the link is down or before welcome
	queue      []agentlink.Message  // guarded by mu: waiting for the link, oldest first
	unacked    []agentlink.Message  // guarded by mu: sent, not yet acknowledged by the bot, oldest first
	seq        uint64               // guarded by mu: the last Seq given
	sending    bool                 // guarded by mu: the sender holds queue[0]
	state      chan struct{}        // guarded by mu: closed and replaced when conn or queue change
	links      []agentlink.Identity // guarded by mu
	rendezvous string               // guarded by mu: the bot's rendezvous, as of the last welcome
	autoLinked bool                 // guarded by mu: a link code was asked for by itself
	tickets    map[string]*ticket   // guarded by mu
	order      []string             // guarded by mu: ticket ids, oldest first
	finished   []string             // guarded by mu: finished tickets, oldest first

	wg sync.WaitGroup // ticket goroutines and their helpers; Add under mu while !stopping
}

// New checks cfg and returns an Agent; Run starts it.
func New(cfg Config) (*Agent, error) {
	if cfg.Host == nil {
		return nil, errors.New("agent: Config.Host is nil")
	}
	if cfg.Ask == nil {
		return nil, errors.New("agent: Config.Ask is nil")
	}
	if cfg.TTL < 0 {
		return nil, fmt.Errorf("agent: invitation lifetime must be positive, got %v", cfg.TTL)
	}
	if cfg.TTL == 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Agent{
		cfg:     cfg,
		logger:  logger.With("component", "agent"),
		state:   make(chan struct{}),
		tickets: make(map[string]*ticket),
	}, nil
}

// Run creates an Agent and runs it until ctx ends; see Agent.Run.
func Run(ctx context.Context, cfg Config) error {
	a, err := New(cfg)
	if err != nil {
		return err
	}
	return a.Run(ctx)
}

// Run keeps the link to the bot (reconnecting with backoff) and serves it
// until ctx ends. Then it withdraws open questions, cancels waiting
// invitations and ends running sessions, tells the bot (waiting a couple
// of seconds at most), closes the link and returns nil. It returns
// ErrRunning when called again.
func (a *Agent) Run(ctx context.Context) error {
	a.mu.Lock()
	if a.running {
		a.mu.Unlock()
		return ErrRunning
	}
	a.running = true
	a.ctx = ctx
	a.mu.Unlock()

	linkCtx, stopLink := context.WithCancel(context.Background())
	var link sync.WaitGroup
	link.Go(func() { a.sender(linkCtx) })
	backoff := a.cfg.Backoff
	userNotify := backoff.Notify
	backoff.Notify = func(err error, wait time.Duration) {
		a.emit(Event{Type: EventDisconnected, Reason: reasonOf(err), RetryMs: wait.Milliseconds()})
		if userNotify != nil {
			userNotify(err, wait)
		}
	}
	link.Go(func() { _ = agentlink.Keep(linkCtx, a.cfg.Link, backoff, a.serve) })

	<-ctx.Done()
	a.mu.Lock()
	a.stopping = true
	a.mu.Unlock()
	a.wg.Wait() // every ticket has ended and queued its last status
	a.drain(drainTimeout)
	stopLink()
	link.Wait()
	return nil
}

// reasonOf is the text of an error for the person.
func reasonOf(err error) string {
	var ce *agentlink.ClosedError
	switch {
	case err == nil:
		return "disconnected"
	case errors.As(err, &ce):
		return ce.Reason
	case errors.Is(err, agentlink.ErrPinMismatch):
		return "the server that answered is not the bot this computer trusts (its key does not match bot_pin)"
	}
	return err.Error()
}

// RequestLink asks the bot for a link code; the code arrives as an
// EventLinkCode. When the link is down the request waits for it.
func (a *Agent) RequestLink() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sendLocked(agentlink.Message{Type: agentlink.TypeLinkRequest})
}

// Links returns the identities the bot says this computer is linked to,
// as of the last welcome or link change.
func (a *Agent) Links() []agentlink.Identity {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.links)
}

// Host returns the running host of ticket, or nil when there is none
// (still asking, or over). A resend replaces it.
func (a *Agent) Host(ticket string) *host.Host {
	a.mu.Lock()
	defer a.mu.Unlock()
	if t := a.tickets[ticket]; t != nil {
		return t.h
	}
	return nil
}

// Tickets lists the tickets the agent knows, oldest first.
func (a *Agent) Tickets() []Ticket {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]Ticket, 0, len(a.order))
	for _, id := range a.order {
		t := a.tickets[id]
		out = append(out, Ticket{ID: id, State: t.state, Helper: t.req.Helper, Requester: t.req.Requester, InvitationID: t.invID})
	}
	return out
}

// Cancel is the person stopping a ticket from their side: a question is
// withdrawn, a waiting invitation cancelled, a session ended. It returns
// ErrUnknownTicket for a ticket the agent does not know, nil for one
// already over.
func (a *Agent) Cancel(ticket string) error {
	return a.cancelTicket(ticket, "the person cancelled", true)
}

func (a *Agent) emit(e Event) {
	if e.Time.IsZero() {
		e.Time = a.cfg.Now().UTC()
	}
	if a.cfg.OnEvent == nil {
		return
	}
	a.evmu.Lock()
	defer a.evmu.Unlock()
	a.cfg.OnEvent(e)
}

// sendLocked queues m for the bot.
func (a *Agent) sendLocked(m agentlink.Message) {
	if len(a.queue) >= maxQueue {
		a.logger.Warn("the link has been down long; dropping the oldest message", "msg", a.queue[0])
		a.queue = a.queue[1:]
	}
	a.queue = append(a.queue, m)
	a.changedLocked()
}

// changedLocked wakes whoever waits for the queue or the connection.
func (a *Agent) changedLocked() {
	close(a.state)
	a.state = make(chan struct{})
}

// sender sends the queue in order over the current connection, keeping a
// message until a connection took it.
func (a *Agent) sender(ctx context.Context) {
	for {
		a.mu.Lock()
		c := a.conn
		ready := c != nil && len(a.queue) > 0
		var m agentlink.Message
		if ready {
			if a.queue[0].Seq == 0 {
				a.seq++
				a.queue[0].Seq = a.seq
			}
			m = a.queue[0]
			a.sending = true
		}
		wake := a.state
		a.mu.Unlock()
		if !ready {
			select {
			case <-wake:
				continue
			case <-ctx.Done():
				return
			}
		}
		err := c.Send(m)
		a.mu.Lock()
		a.sending = false
		switch {
		case err == nil:
			a.queue = a.queue[1:]
			// Kept until the bot acknowledges it: the bot may have died
			// with it in flight.
			if len(a.unacked) >= maxQueue {
				a.unacked = a.unacked[1:]
			}
			a.unacked = append(a.unacked, m)
			a.logger.Debug("sent", "msg", m)
		case errors.Is(err, net.ErrClosed):
			if a.conn == c {
				a.conn = nil // keep m for the next connection
			}
		default:
			a.logger.Error("dropping a message the link refuses", "msg", m, "err", err)
			a.queue = a.queue[1:]
		}
		a.changedLocked()
		a.mu.Unlock()
	}
}

// drain waits until the queue is sent, the link is down or d has passed.
func (a *Agent) drain(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		a.mu.Lock()
		done := a.conn == nil || (len(a.queue) == 0 && !a.sending)
		wake := a.state
		a.mu.Unlock()
		if done {
			return
		}
		select {
		case <-wake:
		case <-t.C:
			return
		}
	}
}

// serve runs one connection: it waits for the welcome, then hands the
// connection to the sender and handles what the bot sends.
func (a *Agent) serve(ctx context.Context, c *agentlink.Conn) error {
	m, err := c.Receive(ctx)
	if err != nil {
		return err
	}
	if m.Type != agentlink.TypeWelcome {
		return fmt.Errorf("agent: the bot's first message is %q, not welcome", m.Type)
	}
	a.mu.Lock()
	a.conn = c
	a.links = slices.Clone(m.Links)
	a.rendezvous = botRelative(m.Rendezvous, a.cfg.Link.Addr)
	// What the last connection did not see acknowledged goes again, first.
	a.queue = append(a.unacked, a.queue...)
	a.unacked = nil
	if len(m.Links) == 0 && !a.autoLinked {
		a.autoLinked = true
		a.sendLocked(agentlink.Message{Type: agentlink.TypeLinkRequest})
	}
	// The bot may have restarted: tell it where each open ticket stands.
	for _, id := range a.order {
		t := a.tickets[id]
		switch t.state {
		case StateWaiting, StateConnected, StateLocked:
			a.sendLocked(agentlink.Message{Type: agentlink.TypeStatus, Ticket: id, State: t.state, Text: t.helperName})
		}
	}
	a.changedLocked()
	a.mu.Unlock()
	a.emit(Event{Type: EventConnected, Links: slices.Clone(m.Links)})
	defer func() {
		a.mu.Lock()
		if a.conn == c {
			a.conn = nil
			a.changedLocked()
		}
		a.mu.Unlock()
	}()
	for {
		m, err := c.Receive(ctx)
		if err != nil {
			return err
		}
		a.logger.Debug("received", "msg", m)
		a.handle(m)
	}
}

func (a *Agent) handle(m agentlink.Message) {
	switch m.Type {
	case agentlink.TypeAck:
		a.mu.Lock()
		a.unacked = slices.DeleteFunc(a.unacked, func(u agentlink.Message) bool { return u.Seq <= m.Seq })
		a.mu.Unlock()
	case agentlink.TypeWelcome:
		a.mu.Lock()
		a.links = slices.Clone(m.Links)
		a.mu.Unlock()
	case agentlink.TypeLinkCode:
		a.emit(Event{Type: EventLinkCode, Code: m.Code, Expires: m.Expires})
	case agentlink.TypeLinked, agentlink.TypeUnlinked:
		if m.Identity == nil {
			a.logger.Info("ignoring a link change without an identity", "msg", m)
			return
		}
		id := *m.Identity
		a.mu.Lock()
		a.links = slices.DeleteFunc(a.links, func(l agentlink.Identity) bool { return sameUser(l, id) })
		if m.Type == agentlink.TypeLinked {
			a.links = append(a.links, id)
		}
		a.mu.Unlock()
		typ := EventLinked
		if m.Type == agentlink.TypeUnlinked {
			typ = EventUnlinked
		}
		a.emit(Event{Type: typ, Identity: &id})
	case agentlink.TypeConsentRequest:
		a.consentRequest(m)
	case agentlink.TypeResend:
		a.resend(m.Ticket)
	case agentlink.TypeCancel:
		_ = a.cancelTicket(m.Ticket, m.Reason, false)
	case agentlink.TypeChat:
		a.chatFromBot(m)
	case agentlink.TypeError:
		a.emit(Event{Type: EventError, Ticket: m.Ticket, Reason: "the bot: " + m.Text})
	default:
		a.logger.Debug("ignoring a message of a type this agent does not know", "msg", m)
	}
}

func sameUser(a, b agentlink.Identity) bool {
	return a.Network == b.Network && a.Workspace == b.Workspace && a.UserID == b.UserID
}

// newKey returns a fresh chat dedupe key.
func newKey() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// botRelative resolves the rendezvous the bot announced: ":port" means
// that port on the bot's own host, as this agent reaches the bot.
func botRelative(rendezvous, botAddr string) string {
	if !strings.HasPrefix(rendezvous, ":") {
		return rendezvous
	}
	host, _, err := net.SplitHostPort(botAddr)
	if err != nil {
		return ""
	}
	return net.JoinHostPort(host, rendezvous[1:])
}
