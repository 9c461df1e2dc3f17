package agent_test

import (
	"context"
	"crypto/tls"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gethelp/gethelp/agentlink"
	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/host/agent"
	"github.com/gethelp/gethelp/host/synthetic"
	"github.com/gethelp/gethelp/invitations"
	"github.com/gethelp/gethelp/viewer"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const wait = 20 * time.Second

var (
	bob = agentlink.Identity{Network: "slack", Workspace: "Acme", UserID: "U02BOB", DisplayName: "Bob Smith", Email: "bob@example.com"}
	ann = agentlink.Identity{Network: "slack", Workspace: "Acme", UserID: "U01ANN", DisplayName: "Ann Lee", Email: "ann@example.com"}
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	return ctx
}

// bot stands in for the bot: a real agentlink server the test scripts.
type bot struct {
	srv  *agentlink.Server
	cert tls.Certificate
}

func startBot(t *testing.T) *bot {
	t.Helper()
	cert, err := agentlink.NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := agentlink.Listen(agentlink.ServerConfig{Addr: "127.0.0.1:0", Certificate: cert})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return &bot{srv: srv, cert: cert}
}

// link is the bot's end of one connection.
type link struct {
	t     *testing.T
	c     *agentlink.Conn
	noAck bool // do not acknowledge what the agent sends (a bot that dies)
}

// accept takes the agent's next connection and welcomes it.
func (b *bot) accept(t *testing.T, links ...agentlink.Identity) *link {
	t.Helper()
	c, err := b.srv.Accept(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	l := &link{t: t, c: c}
	l.send(agentlink.Message{Type: agentlink.TypeWelcome, Links: links})
	return l
}

func (l *link) send(m agentlink.Message) {
	l.t.Helper()
	if err := l.c.Send(m); err != nil {
		l.t.Fatal(err)
	}
}

// next returns the agent's next message.
func (l *link) next() agentlink.Message {
	l.t.Helper()
	m, err := l.c.Receive(testCtx(l.t))
	if err != nil {
		l.t.Fatalf("waiting for the agent: %v", err)
	}
	if m.Seq != 0 && !l.noAck { // as the bot does once it handled it; the agent may be gone
		_ = l.c.Send(agentlink.Message{Type: agentlink.TypeAck, Seq: m.Seq})
	}
	return m
}

// expect returns the next message, failing unless it has type typ (and,
// for a status, state).
func (l *link) expect(typ string, state ...string) agentlink.Message {
	l.t.Helper()
	m := l.next()
	if m.Type != typ || (len(state) > 0 && m.State != state[0]) {
		l.t.Fatalf("got %s %q (%+v), want %s %v", m.Type, m.State, m, typ, state)
	}
	return m
}

type askCall struct {
	req    agent.ConsentRequest
	answer chan bool
}

// sleeper is the injected backoff: it reports each wait and returns when
// the test says so.
type sleeper struct {
	waits   chan time.Duration
	release chan struct{}
}

func (s sleeper) sleep(ctx context.Context, d time.Duration) error {
	select {
	case s.waits <- d:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-s.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// running is an agent under test with its bot.
type running struct {
	t        *testing.T
	bot      *bot
	agent    *agent.Agent
	asks     chan askCall
	events   chan agent.Event
	sleeper  sleeper
	hosts    atomic.Int32 // Config.Host calls
	released atomic.Int32 // release calls
	stop     context.CancelFunc
	done     chan error
	once     sync.Once
}

type options struct {
	keyPath   string
	bot       *bot
	hostError func(ticket string) error
	// slowRelease holds each ticket's end (its host is closed, its screen
	// not yet released) this long, as a loaded machine may.
	slowRelease time.Duration
}

func startAgent(t *testing.T, o options) *running {
	t.Helper()
	r := &running{
		t: t, bot: o.bot,
		asks:    make(chan askCall, 10),
		events:  make(chan agent.Event, 1000),
		sleeper: sleeper{waits: make(chan time.Duration), release: make(chan struct{})},
		done:    make(chan error, 1),
	}
	if r.bot == nil {
		r.bot = startBot(t)
	}
	keyPath := o.keyPath
	if keyPath == "" {
		keyPath = filepath.Join(t.TempDir(), "agent-key.pem")
	}
	cert, err := agentlink.LoadOrCreateKey(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	logDir := t.TempDir()
	a, err := agent.New(agent.Config{
		Link: agentlink.ClientConfig{
			Addr: r.bot.srv.Addr().String(), BotPin: agentlink.Pin(r.bot.cert), Certificate: cert, Name: "ann-laptop",
		},
		Host: func(ticket string) (host.Config, func(), error) {
			r.hosts.Add(1)
			if o.hostError != nil {
				if err := o.hostError(ticket); err != nil {
					return host.Config{}, nil, err
				}
			}
			src := synthetic.New(320, 200, 20)
			return host.Config{
					ListenAddr: "127.0.0.1:0", HostName: "Ann", Source: src, Monitor: -1, LogDir: logDir,
				}, func() {
					time.Sleep(o.slowRelease)
					src.Close()
					r.released.Add(1)
				}, nil
		},
		Ask: func(ctx context.Context, req agent.ConsentRequest) (bool, error) {
			c := askCall{req: req, answer: make(chan bool, 1)}
			r.asks <- c
			select {
			case ok := <-c.answer:
				return ok, nil
			case <-ctx.Done():
				return false, ctx.Err()
			}
		},
		OnEvent: func(e agent.Event) { r.events <- e },
		Backoff: agentlink.Backoff{Sleep: r.sleeper.sleep},
	})
	if err != nil {
		t.Fatal(err)
	}
	r.agent = a
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	go func() { r.done <- a.Run(ctx) }()
	t.Cleanup(r.shutdown)
	return r
}

// shutdown stops the agent and waits for Run.
func (r *running) shutdown() {
	r.once.Do(func() {
		r.stop()
		select {
		case err := <-r.done:
			if err != nil {
				r.t.Errorf("Run: %v", err)
			}
		case <-time.After(wait):
			r.t.Error("Run did not return")
		}
	})
}

// ask waits for the agent to ask the person.
func (r *running) ask() askCall {
	r.t.Helper()
	select {
	case c := <-r.asks:
		return c
	case <-time.After(wait):
		r.t.Fatal("the person was never asked")
	}
	panic("unreachable")
}

// event waits for the agent's next event of type typ (and, for session
// events, of the session type).
func (r *running) event(typ string, session ...string) agent.Event {
	r.t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case e := <-r.events:
			if e.Type == typ && (len(session) == 0 || (e.Session != nil && e.Session.Type == session[0])) {
				return e
			}
		case <-deadline:
			r.t.Fatalf("no %s %v event", typ, session)
		}
	}
}

// openTicket asks for help on l, says yes, and returns the invitation and
// its password once the agent reports it waiting.
func (r *running) openTicket(l *link, ticket string) (*invitations.Invitation, string) {
	r.t.Helper()
	l.send(agentlink.Message{Type: agentlink.TypeConsentRequest, Ticket: ticket, Helper: &bob, Requester: &ann, Description: "the printer"})
	c := r.ask()
	c.answer <- true
	if m := l.expect(agentlink.TypeConsent); !m.Accepted || m.Ticket != ticket {
		r.t.Fatalf("consent = %+v", m)
	}
	m := l.expect(agentlink.TypeInvitation)
	inv, err := invitations.Parse(m.File)
	if err != nil {
		r.t.Fatalf("the invitation file does not parse: %v\n%s", err, m.File)
	}
	if m.Ticket != ticket || m.Password == "" || m.InvitationID != inv.ID || !m.Expires.Equal(inv.Expires) {
		r.t.Fatalf("invitation message %+v for file %+v", m, inv)
	}
	l.expect(agentlink.TypeStatus, agentlink.StatusWaiting)
	return inv, m.Password
}

// helper is a connected viewer.
type helper struct {
	v      *viewer.Viewer
	events chan viewer.Event
	done   chan error
	once   sync.Once
}

func connectViewer(t *testing.T, inv *invitations.Invitation, password string) *helper {
	t.Helper()
	h := &helper{events: make(chan viewer.Event, 1000), done: make(chan error, 1)}
	v, err := viewer.Open(testCtx(t), viewer.Config{
		Invitation: inv, Password: password, Name: "Bob",
		OnEvent: func(e viewer.Event) {
			select {
			case h.events <- e:
			default: // frames the test does not read
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.v = v
	go func() { h.done <- v.Run(context.Background()) }()
	t.Cleanup(func() { h.disconnect("") })
	return h
}

// event waits for the viewer's next event of type typ, skipping the
// viewer's own chat.
func (h *helper) event(t *testing.T, typ string) viewer.Event {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case e := <-h.events:
			if e.Type == typ && !e.Self {
				return e
			}
		case <-deadline:
			t.Fatalf("the viewer saw no %s event", typ)
		}
	}
}

// disconnect ends the viewer's session and waits for its Run.
func (h *helper) disconnect(reason string) {
	h.once.Do(func() { h.v.Disconnect(reason); <-h.done })
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

var errPolicy = errors.New("remote assistance is turned off by the administrator's policy")
