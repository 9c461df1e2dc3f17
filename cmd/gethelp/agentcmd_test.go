package main_test

// End-to-end tests of gethelp host agent: the real binary against a bot
// stood in by a real agentlink server in the test, with a real viewer.

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gethelp/gethelp/agentlink"
	"github.com/gethelp/gethelp/invitations"
	"github.com/gethelp/gethelp/session"
)

var (
	testHelper    = agentlink.Identity{Network: "slack", Workspace: "Acme", UserID: "U02BOB", DisplayName: "Bob Smith", Email: "bob@example.com"}
	testRequester = agentlink.Identity{Network: "slack", Workspace: "Acme", UserID: "U01ANN", DisplayName: "Ann Lee", Email: "ann@example.com"}
)

// testBot is a real agent-link server playing the bot.
type testBot struct {
	t   *testing.T
	srv *agentlink.Server
	pin string // hex
}

func startTestBot(t *testing.T) *testBot {
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
	pin := agentlink.Pin(cert)
	return &testBot{t: t, srv: srv, pin: hex.EncodeToString(pin[:])}
}

func (b *testBot) addr() string { return b.srv.Addr().String() }

// botConn is the bot's end of the agent's connection.
type botConn struct {
	t *testing.T
	c *agentlink.Conn
}

func (b *testBot) accept(links ...agentlink.Identity) *botConn {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := b.srv.Accept(ctx)
	if err != nil {
		b.t.Fatalf("the agent never connected: %v", err)
	}
	bc := &botConn{t: b.t, c: c}
	bc.send(agentlink.Message{Type: agentlink.TypeWelcome, Links: links})
	return bc
}

func (c *botConn) send(m agentlink.Message) {
	c.t.Helper()
	if err := c.c.Send(m); err != nil {
		c.t.Fatal(err)
	}
}

func (c *botConn) expect(typ string, state ...string) agentlink.Message {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	m, err := c.c.Receive(ctx)
	if err != nil {
		c.t.Fatalf("waiting for %s: %v", typ, err)
	}
	if m.Type != typ || (len(state) > 0 && m.State != state[0]) {
		c.t.Fatalf("got %s %q (%+v), want %s %v", m.Type, m.State, m, typ, state)
	}
	return m
}

func (e *env) agent(b *testBot, extra ...string) *proc {
	e.t.Helper()
	args := append([]string{"host", "agent", "--json", "--bot", b.addr(), "--bot-pin", b.pin,
		"--source", "synthetic", "--listen", "127.0.0.1:0", "--name", "Ann"}, extra...)
	return e.start(args...)
}

func (p *proc) interrupt() int {
	p.t.Helper()
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		p.t.Fatal(err)
	}
	return p.exit()
}

func TestAgentCommand(t *testing.T) {
	e := newEnv(t)
	b := startTestBot(t)
	p := e.agent(b)
	start := p.next("agent")
	l := b.accept()
	if h := l.c.Hello(); h.Name != "Ann" {
		t.Errorf("hello %+v", h)
	}
	if l.c.AgentKey() != str(start, "agent_key") {
		t.Errorf("the bot sees key %s, the agent says %s", l.c.AgentKey(), str(start, "agent_key"))
	}
	p.next("connected_to_bot")

	// Linking.
	l.expect(agentlink.TypeLinkRequest)
	l.send(agentlink.Message{Type: agentlink.TypeLinkCode, Code: "K7PM-W3XQ", Expires: time.Now().Add(10 * time.Minute)})
	if ev := p.next("link_code"); str(ev, "code") != "K7PM-W3XQ" {
		t.Errorf("link code event %v", ev)
	}
	l.send(agentlink.Message{Type: agentlink.TypeLinked, Identity: &testRequester})
	p.next("linked")

	// Consent, asked on stdin and answered with a JSON command.
	l.send(agentlink.Message{Type: agentlink.TypeConsentRequest, Ticket: "T-1", Helper: &testHelper, Requester: &testRequester, Description: "the printer"})
	ask := p.next("consent_request")
	if helper, _ := ask["helper"].(map[string]any); str(ask, "ticket") != "T-1" || str(helper, "display_name") != "Bob Smith" || str(helper, "email") != "bob@example.com" {
		t.Fatalf("consent request event %v", ask)
	}
	p.send(map[string]any{"type": "consent", "ticket": "T-1", "accept": true})
	if m := l.expect(agentlink.TypeConsent); !m.Accepted {
		t.Fatalf("consent %+v", m)
	}
	im := l.expect(agentlink.TypeInvitation)
	if _, err := invitations.Parse(im.File); err != nil {
		t.Fatal(err)
	}
	l.expect(agentlink.TypeStatus, agentlink.StatusWaiting)
	if ev := p.next("invitation"); str(ev, "ticket") != "T-1" || strings.Contains(strings.ToLower(str(ev, "password")+str(ev, "text")), strings.ToLower(im.Password)) {
		t.Errorf("invitation event %v", ev)
	}

	// Bob connects with the file the bot would e-mail and the password
	// it would send apart.
	file := e.write("T-1.gethelp", string(im.File))
	v := e.viewer(file, im.Password)
	v.next("connected")
	if m := l.expect(agentlink.TypeStatus, agentlink.StatusConnected); m.Text != "Bob" {
		t.Errorf("status %+v", m)
	}
	if ev := p.next("connected"); str(ev, "ticket") != "T-1" || str(ev, "helper") != "Bob" {
		t.Errorf("session event %v", ev)
	}

	// Chat: the person's goes to the bot, the thread's to the helper.
	p.send(map[string]any{"type": "chat", "text": "thanks for coming"})
	if m := l.expect(agentlink.TypeChat); m.Source != "person" || m.Text != "thanks for coming" || m.Ticket != "T-1" {
		t.Errorf("chat %+v", m)
	}
	l.send(agentlink.Message{Type: agentlink.TypeChat, Ticket: "T-1", Author: "Ann Lee", Source: "chat", Text: "from the thread", Key: "k1"})
	for {
		ev := v.next("chat")
		if str(ev, "text") == "from the thread" {
			if str(ev, "from") != "Ann Lee (chat)" {
				t.Errorf("viewer chat %v", ev)
			}
			break
		}
	}

	// The bot cancels: the session ends, the helper is told why.
	l.send(agentlink.Message{Type: agentlink.TypeCancel, Ticket: "T-1", Reason: "Ann closed the ticket"})
	if m := l.expect(agentlink.TypeStatus, agentlink.StatusEnded); m.Summary == nil || m.Summary.Path != session.PathLAN {
		t.Errorf("status %+v", m)
	}
	if ev := v.next("disconnected"); !strings.Contains(str(ev, "reason"), "Ann closed the ticket") {
		t.Errorf("viewer told %v", ev)
	}

	// Ctrl-C: the agent says goodbye and exits cleanly.
	if code := p.interrupt(); code != 0 {
		t.Fatalf("exit code %d; stderr:\n%s", code, p.stderr)
	}
	_, err := l.c.Receive(context.Background())
	var ce *agentlink.ClosedError
	if !errors.As(err, &ce) || !ce.ByPeer || !errors.Is(err, net.ErrClosed) {
		t.Errorf("the bot saw %v", err)
	}

	// The key is kept, private, and used again.
	key := filepath.Join(e.state, "gethelp", "agent-key.pem")
	fi, err := os.Stat(key)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %04o", key, fi.Mode().Perm())
	}
	p2 := e.agent(b)
	if again := b.accept(testRequester).c.AgentKey(); again != l.c.AgentKey() {
		t.Errorf("the agent's key changed across restarts")
	}
	p2.interrupt()
}

// textProc is gethelp in terminal mode, its output read line by line.
type textProc struct {
	t     *testing.T
	cmd   *exec.Cmd
	stdin interface{ Write([]byte) (int, error) }
	lines chan string
	done  chan struct{}
}

func (e *env) startText(args ...string) *textProc {
	e.t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = e.vars
	stdin, err := cmd.StdinPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	p := &textProc{t: e.t, cmd: cmd, stdin: stdin, lines: make(chan string, 100), done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
	}()
	go func() { cmd.Wait(); close(p.done) }()
	e.t.Cleanup(func() { cmd.Process.Kill(); <-p.done })
	return p
}

// line waits for an output line containing want.
func (p *textProc) line(want string) string {
	p.t.Helper()
	timeout := time.After(20 * time.Second)
	var seen []string
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				p.t.Fatalf("gethelp ended before printing %q; it printed:\n%s", want, strings.Join(seen, "\n"))
			}
			if strings.Contains(l, want) {
				return l
			}
			seen = append(seen, l)
		case <-timeout:
			p.t.Fatalf("gethelp never printed %q; it printed:\n%s", want, strings.Join(seen, "\n"))
		}
	}
}

func TestAgentCommandTerminal(t *testing.T) {
	e := newEnv(t)
	b := startTestBot(t)
	// The bot's address and pin from the config file.
	e.write("config/gethelp/config.yaml", "bot_address: "+b.addr()+"\nbot_pin: "+b.pin+"\ndisplay_name: Ann\n")
	p := e.startText("host", "agent", "--no-ui", "--source", "synthetic", "--listen", "127.0.0.1:0")
	l := b.accept()
	l.expect(agentlink.TypeLinkRequest)
	l.send(agentlink.Message{Type: agentlink.TypeLinkCode, Code: "K7PM-W3XQ"})
	p.line("Type /gethelp link K7PM-W3XQ in chat to link this computer to you")
	l.send(agentlink.Message{Type: agentlink.TypeLinked, Identity: &testRequester})
	p.line("linked to Ann Lee <ann@example.com> (slack, workspace Acme)")

	l.send(agentlink.Message{Type: agentlink.TypeConsentRequest, Ticket: "T-2", Helper: &testHelper, Requester: &testRequester})
	p.line("Share your screen with Bob Smith <bob@example.com> (slack, workspace Acme)? Close anything private first.")
	p.line("Type yes or no")
	p.stdin.Write([]byte("no\n"))
	if m := l.expect(agentlink.TypeConsent); m.Accepted || m.Ticket != "T-2" {
		t.Fatalf("consent %+v", m)
	}
	p.line("Not shared: the person declined")

	l.send(agentlink.Message{Type: agentlink.TypeConsentRequest, Ticket: "T-3", Helper: &testHelper, Requester: &testRequester})
	p.line("Type yes or no")
	p.stdin.Write([]byte("yes\n"))
	l.expect(agentlink.TypeConsent)
	l.expect(agentlink.TypeInvitation)
	p.line("The bot is sending Bob Smith <bob@example.com> (slack, workspace Acme) the invitation")
	p.stdin.Write([]byte("/cancel\n"))
	if m := l.expect(agentlink.TypeStatus, agentlink.StatusWaiting); m.Ticket != "T-3" {
		t.Fatalf("status %+v", m)
	}
	if m := l.expect(agentlink.TypeStatus, agentlink.StatusCancelled); m.Text != "the person cancelled" {
		t.Fatalf("status %+v", m)
	}
	p.cmd.Process.Signal(os.Interrupt)
	<-p.done
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
}

func TestAgentCommandRefuses(t *testing.T) {
	e := newEnv(t)
	b := startTestBot(t)
	cases := []struct {
		name   string
		policy string
		args   []string
		want   string
	}{
		{"no bot", "", []string{"host", "agent"}, "--bot"},
		{"no pin", "", []string{"host", "agent", "--bot", b.addr()}, "--bot-pin"},
		{"bad pin", "", []string{"host", "agent", "--bot", b.addr(), "--bot-pin", "abc"}, "64 hexadecimal digits"},
		{"policy", "allow_remote_assistance: false\n", []string{"host", "agent", "--bot", b.addr(), "--bot-pin", b.pin}, "turned off"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.write("policy.yaml", tc.policy)
			_, stderr, code := e.run("", tc.args...)
			if code != 1 || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want 1 and %q", code, stderr, tc.want)
			}
		})
	}
}
