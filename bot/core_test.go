package bot_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gethelp/gethelp/agentlink"
	"github.com/gethelp/gethelp/bot"
	"github.com/gethelp/gethelp/bot/store"
)

// memNet is a chat network in memory: what the bot sends is kept, and the
// test plays the people.
type memNet struct {
	mu    sync.Mutex
	sent  []sent
	keys  map[string]bot.MessageRef
	users map[string]bot.Identity
	h     chan bot.Handler
	seq   int
	wake  chan struct{}
}

type sent struct {
	To  bot.Place
	Msg bot.Message
	Ref bot.MessageRef
}

func newMemNet(users ...bot.Identity) *memNet {
	n := &memNet{keys: map[string]bot.MessageRef{}, users: map[string]bot.Identity{}, h: make(chan bot.Handler, 1), wake: make(chan struct{}, 1)}
	for _, u := range users {
		n.users[strings.ToLower(u.DisplayName)] = u
	}
	return n
}

func (n *memNet) Name() string { return "mem" }

func (n *memNet) Send(_ context.Context, to bot.Place, m bot.Message) (bot.MessageRef, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if ref, ok := n.keys[m.Key]; ok && m.Key != "" {
		return ref, nil
	}
	n.seq++
	ref := bot.MessageRef(fmt.Sprintf("m%d", n.seq))
	if m.Key != "" {
		n.keys[m.Key] = ref
	}
	n.sent = append(n.sent, sent{to, m, ref})
	select {
	case n.wake <- struct{}{}:
	default:
	}
	return ref, nil
}

func (n *memNet) Run(ctx context.Context, h bot.Handler) error {
	n.h <- h
	<-ctx.Done()
	return nil
}

func (n *memNet) LookupUser(_ context.Context, _, mention string) (bot.Identity, error) {
	u, ok := n.users[strings.ToLower(strings.TrimPrefix(mention, "@"))]
	if !ok {
		return bot.Identity{}, bot.ErrNoSuchUser
	}
	return u, nil
}

// wait returns the first message sent that matches, waiting for it.
func (n *memNet) wait(t *testing.T, what string, match func(sent) bool) sent {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		n.mu.Lock()
		for _, s := range n.sent {
			if match(s) {
				n.mu.Unlock()
				return s
			}
		}
		n.mu.Unlock()
		select {
		case <-n.wake:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			n.mu.Lock()
			defer n.mu.Unlock()
			t.Fatalf("never sent: %s; sent: %+v", what, n.sent)
		}
	}
}

func (n *memNet) count(match func(sent) bool) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := 0
	for _, s := range n.sent {
		if match(s) {
			c++
		}
	}
	return c
}

// mailbox is a Mailer that keeps what it sends.
type mailbox struct {
	mu   sync.Mutex
	mail []bot.Mail
}

func (m *mailbox) Send(_ context.Context, x bot.Mail) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.mail = append(m.mail, x)
	return nil
}

func (m *mailbox) wait(t *testing.T) bot.Mail {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		m.mu.Lock()
		if len(m.mail) > 0 {
			x := m.mail[0]
			m.mu.Unlock()
			return x
		}
		m.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no e-mail sent")
	return bot.Mail{}
}

var (
	alice = bot.Identity{Network: "mem", Workspace: "w", UserID: "U1", DisplayName: "Alice", Email: "alice@example.test"}
	bob   = bot.Identity{Network: "mem", Workspace: "w", UserID: "U2", DisplayName: "Bob", Email: "bob@example.test"}
	carol = bot.Identity{Network: "mem", Workspace: "w", UserID: "U3", DisplayName: "Carol"}
)

type world struct {
	t     *testing.T
	net   *memNet
	mail  *mailbox
	store *store.SQLite
	srv   *agentlink.Server
	cert  tls.Certificate
	h     bot.Handler
	stop  func()
}

func newWorld(t *testing.T, cfg bot.Config) *world {
	t.Helper()
	return newWorldWith(t, cfg, filepath.Join(t.TempDir(), "bot.db"))
}

func newWorldAt(t *testing.T, db string) *world {
	t.Helper()
	return newWorldWith(t, bot.Config{}, db)
}

func newWorldWith(t *testing.T, cfg bot.Config, db string) *world {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cert, err := agentlink.NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := agentlink.Listen(agentlink.ServerConfig{Addr: "127.0.0.1:0", Certificate: cert})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	w := &world{t: t, net: newMemNet(alice, bob, carol), mail: &mailbox{}, store: st, srv: srv, cert: cert}
	cfg.Store, cfg.Networks, cfg.Mail = st, []bot.Network{w.net}, w.mail
	cfg.ReplyAddress = "bot+%s@example.test"
	core, err := bot.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- core.Run(rctx, srv) }()
	w.stop = func() { cancel(); <-done }
	t.Cleanup(w.stop)
	w.h = <-w.net.h
	return w
}

// agent connects a person's agent to the bot.
func (w *world) agent(name string) (*agentlink.Conn, agentlink.Message) {
	w.t.Helper()
	cert, err := agentlink.NewCertificate()
	if err != nil {
		w.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := agentlink.Dial(ctx, agentlink.ClientConfig{Addr: w.srv.Addr().String(), BotPin: agentlink.Pin(w.cert), Certificate: cert, Name: name})
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { conn.Close("test over") })
	welcome := receive(w.t, conn, agentlink.TypeWelcome)
	return conn, welcome
}

func receive(t *testing.T, c *agentlink.Conn, typ string) agentlink.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		m, err := c.Receive(ctx)
		if err != nil {
			t.Fatalf("waiting for %s: %v", typ, err)
		}
		if m.Type == typ {
			return m
		}
	}
}

func (w *world) command(from bot.Identity, at bot.Place, text string) string {
	return w.h.Command(context.Background(), bot.Command{From: from, At: at, Text: text}).Text
}

// link links a new agent to who and returns it.
func (w *world) link(who bot.Identity) *agentlink.Conn {
	w.t.Helper()
	conn, _ := w.agent(who.DisplayName + "'s laptop")
	if err := conn.Send(agentlink.Message{Type: agentlink.TypeLinkRequest}); err != nil {
		w.t.Fatal(err)
	}
	code := receive(w.t, conn, agentlink.TypeLinkCode)
	if reply := w.command(who, bot.Place{Channel: "general"}, "link "+strings.ToLower(code.Code)); !strings.HasPrefix(reply, "Linked") {
		w.t.Fatalf("link: %q", reply)
	}
	if l := receive(w.t, conn, agentlink.TypeLinked); l.Identity == nil || l.Identity.UserID != who.UserID {
		w.t.Fatalf("linked: %+v", l)
	}
	return conn
}

func TestRequestConsentDelivery(t *testing.T) {
	w := newWorld(t, bot.Config{})
	agent := w.link(alice)
	general := bot.Place{Workspace: "w", Channel: "general"}

	reply := w.command(alice, general, "@bob my printer is broken")
	if !strings.Contains(reply, "consent") {
		t.Fatalf("request reply: %q", reply)
	}
	req := receive(t, agent, agentlink.TypeConsentRequest)
	if req.Helper == nil || req.Helper.UserID != "U2" || req.Helper.Email != "bob@example.test" || req.Description != "my printer is broken" {
		t.Fatalf("consent request shows the helper as %+v", req.Helper)
	}
	root := w.net.wait(t, "the thread root", func(s sent) bool { return strings.Contains(s.Msg.Text, "Alice asked Bob for help") })

	agent.Send(agentlink.Message{Type: agentlink.TypeConsent, Ticket: req.Ticket, Accepted: true})
	expires := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	agent.Send(agentlink.Message{Type: agentlink.TypeInvitation, Ticket: req.Ticket, InvitationID: "INV1", File: []byte("gethelp-invitation: 1\n"), Password: "K7PM-W3XQ-R9TD", Expires: expires})

	// The password by DM to Bob, the file by e-mail: two channels.
	dm := w.net.wait(t, "the password DM", func(s sent) bool { return s.To.User == "U2" && s.To.Channel == "" })
	if !strings.Contains(dm.Msg.Text, "K7PM-W3XQ-R9TD") || dm.Msg.File != nil {
		t.Fatalf("password DM: %+v", dm.Msg)
	}
	m := w.mail.wait(t)
	if m.To != "bob@example.test" || len(m.Attachments) != 1 || string(m.Attachments[0].Data) != "gethelp-invitation: 1\n" {
		t.Fatalf("invitation e-mail: %+v", m)
	}
	if strings.Contains(m.Text+m.HTML+m.Subject, "K7PM") {
		t.Fatal("the password went by e-mail too")
	}
	if !strings.HasPrefix(m.ReplyTo, "bot+") {
		t.Errorf("reply-to %q", m.ReplyTo)
	}
	tk, err := w.store.Ticket(context.Background(), req.Ticket)
	if err != nil || !tk.PasswordSent || tk.State != store.StateDelivered {
		t.Fatalf("ticket after delivery: %+v %v", tk, err)
	}

	// Chat: thread to session, session to thread, e-mail to both.
	thread := bot.Place{Workspace: "w", Channel: "general", Thread: string(root.Ref)}
	w.h.Post(context.Background(), bot.Post{From: bob, At: thread, Text: "restart the spooler?", ID: "p1"})
	if c := receive(t, agent, agentlink.TypeChat); c.Text != "restart the spooler?" || c.Author != "Bob" {
		t.Fatalf("chat to the agent: %+v", c)
	}
	agent.Send(agentlink.Message{Type: agentlink.TypeChat, Ticket: req.Ticket, Author: "Alice", Text: "done, it prints", Source: "person", Key: "s1"})
	w.net.wait(t, "session chat in the thread", func(s sent) bool {
		return s.To.Thread == string(root.Ref) && strings.Contains(s.Msg.Text, "Alice (in the session): done, it prints")
	})
	token := strings.TrimSuffix(strings.TrimPrefix(m.ReplyTo, "bot+"), "@example.test")
	core := w.h.(interface {
		EmailReply(context.Context, bot.InboundMail) error
	})
	if err := core.EmailReply(context.Background(), bot.InboundMail{Token: token, From: "bob@example.test", FromName: "Bob", MessageID: "r1@x", Text: "great"}); err != nil {
		t.Fatal(err)
	}
	w.net.wait(t, "the e-mail reply in the thread", func(s sent) bool { return strings.Contains(s.Msg.Text, "Bob (by e-mail): great") })
	if c := receive(t, agent, agentlink.TypeChat); c.Text != "great" || c.Source != "email" {
		t.Fatalf("e-mail reply to the agent: %+v", c)
	}
	// The same reply again (the mail server retried): once only.
	core.EmailReply(context.Background(), bot.InboundMail{Token: token, From: "bob@example.test", FromName: "Bob", MessageID: "r1@x", Text: "great"})
	// A forged sender is dropped.
	core.EmailReply(context.Background(), bot.InboundMail{Token: token, From: "mallory@evil.test", MessageID: "r2@x", Text: "send me your password"})

	agent.Send(agentlink.Message{Type: agentlink.TypeStatus, Ticket: req.Ticket, State: agentlink.StatusConnected, Time: time.Now()})
	w.net.wait(t, "connected status", func(s sent) bool { return strings.Contains(s.Msg.Text, "Bob connected") })
	agent.Send(agentlink.Message{Type: agentlink.TypeStatus, Ticket: req.Ticket, State: agentlink.StatusEnded, Time: time.Now(),
		Summary: &agentlink.Summary{Duration: 5 * time.Minute, Path: "direct", RTT: 3 * time.Millisecond, ScreenBytes: 4200000, Updates: 310}})
	w.net.wait(t, "the summary", func(s sent) bool {
		return strings.Contains(s.Msg.Text, "The session ended. 5m0s, direct connection, round trip 3.0 ms, 4.2 MB of screen in 310 updates.")
	})
	if n := w.net.count(func(s sent) bool { return strings.Contains(s.Msg.Text, "great") }); n != 1 {
		t.Errorf("the e-mail reply was posted %d times", n)
	}
	if n := w.net.count(func(s sent) bool { return strings.Contains(s.Msg.Text, "send me your password") }); n != 0 {
		t.Errorf("a forged e-mail reached the thread")
	}
}

func TestHelpDeskTakeIt(t *testing.T) {
	w := newWorld(t, bot.Config{HelpDesk: bot.Place{Workspace: "w", Channel: "helpdesk"}, HelpDeskNetwork: "mem"})
	agent := w.link(alice)
	if reply := w.command(alice, bot.Place{Workspace: "w", Channel: "general"}, "wifi is down"); !strings.Contains(reply, "help desk") {
		t.Fatalf("reply: %q", reply)
	}
	post := w.net.wait(t, "the help-desk post", func(s sent) bool { return s.To.Channel == "helpdesk" && len(s.Msg.Buttons) == 1 })
	b := post.Msg.Buttons[0]
	if r := w.h.Button(context.Background(), bot.Press{From: alice, Action: b.Action, Value: b.Value}); !strings.Contains(r.Text, "your own") {
		t.Errorf("the person took their own request: %q", r.Text)
	}
	if r := w.h.Button(context.Background(), bot.Press{From: carol, Action: b.Action, Value: b.Value}); !strings.Contains(r.Text, "e-mail") {
		t.Errorf("a helper without e-mail took it: %q", r.Text)
	}
	if r := w.h.Button(context.Background(), bot.Press{From: bob, Action: b.Action, Value: b.Value, ID: "i1"}); !strings.HasPrefix(r.Text, "It's yours") {
		t.Fatalf("take: %q", r.Text)
	}
	if r := w.h.Button(context.Background(), bot.Press{From: carol, Action: b.Action, Value: b.Value}); !strings.Contains(r.Text, "Too late") {
		t.Errorf("second taker: %q", r.Text)
	}
	req := receive(t, agent, agentlink.TypeConsentRequest)
	if req.Helper.DisplayName != "Bob" {
		t.Errorf("consent asked for %+v", req.Helper)
	}
	agent.Send(agentlink.Message{Type: agentlink.TypeConsent, Ticket: req.Ticket})
	w.net.wait(t, "the refusal", func(s sent) bool { return strings.Contains(s.Msg.Text, "Alice declined") })
}

func TestBadCommands(t *testing.T) {
	w := newWorld(t, bot.Config{Helpers: []string{"@example.test"}})
	p := bot.Place{Workspace: "w", Channel: "general"}
	for _, tc := range []struct {
		who        bot.Identity
		text, want string
	}{
		{alice, "@bob help", "link your computer"},
		{alice, "link", "Usage: /gethelp link CODE"},
		{alice, "link NOPE-NOPE", "unknown or already used"},
		{alice, "status", "no open request"},
		{alice, "help", "Usage:"},
		{alice, "links", "no linked computers"},
	} {
		if got := w.command(tc.who, p, tc.text); !strings.Contains(got, tc.want) {
			t.Errorf("/gethelp %s: %q, want %q", tc.text, got, tc.want)
		}
	}
	w.link(alice)
	for _, tc := range []struct{ text, want string }{
		{"@nobody help", "I don't know @nobody"},
		{"@alice help", "asked yourself"},
		{"@carol help", "not one of the helpers"},
		{"no helper named", "No help desk"},
		{"links", "online"},
	} {
		if got := w.command(alice, p, tc.text); !strings.Contains(got, tc.want) {
			t.Errorf("/gethelp %s: %q, want %q", tc.text, got, tc.want)
		}
	}
}

// The bot forgets nothing when it restarts: a ticket whose password never
// went out is asked for again (the bot never keeps a password).
func TestRestartAsksForANewPassword(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.OpenSQLite(ctx, filepath.Join(dir, "bot.db"))
	if err != nil {
		t.Fatal(err)
	}
	tk, err := st.CreateTicket(ctx, store.Ticket{State: store.StateInvited, Requester: alice, Helper: &bob, HelperEmail: bob.Email,
		Origin: store.Origin{Network: "mem", ChannelID: "general", ThreadID: "m1"}, InvitationID: "INV1"})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	w := newWorldAt(t, filepath.Join(dir, "bot.db"))
	cert, _ := agentlink.NewCertificate()
	key := agentlink.AgentKey(cert)
	w.store.AddLinkCode(ctx, store.LinkCode{Code: "ABCDEFGH", AgentKey: key, AgentName: "laptop", ExpiresAt: time.Now().Add(time.Hour)})
	w.store.RedeemLinkCode(ctx, "ABCDEFGH", alice, time.Now())
	t2, _ := w.store.Ticket(ctx, tk.ID)
	t2.AgentKey = key
	w.store.UpdateTicket(ctx, t2)
	conn, err := agentlink.Dial(ctx, agentlink.ClientConfig{Addr: w.srv.Addr().String(), BotPin: agentlink.Pin(w.cert), Certificate: cert, Name: "laptop"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close("")
	if m := receive(t, conn, agentlink.TypeResend); m.Ticket != tk.ID {
		t.Fatalf("resend for %q", m.Ticket)
	}
}

// Agents learn the bot's rendezvous from the welcome, for their
// invitations.
func TestWelcomeNamesTheRendezvous(t *testing.T) {
	w := newWorld(t, bot.Config{Rendezvous: ":3478"})
	_, welcome := w.agent("alice-laptop")
	if welcome.Rendezvous != ":3478" {
		t.Errorf("welcome rendezvous %q, want :3478", welcome.Rendezvous)
	}
}
