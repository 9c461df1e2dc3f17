package main_test

// End to end through the bot: the real gethelp bot (with its web chat),
// the real agent and the real viewer, a mail server in the test, driven
// over the chat's HTTP API as people would use it; the bot is killed with
// SIGKILL mid-flow and restarted.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-smtp"
)

// testMail is a mail server that keeps what it is sent.
type testMail struct {
	mu   sync.Mutex
	msgs []mailMsg
	addr string
}

type mailMsg struct {
	To, Subject, Text, ReplyTo string
	Attachment                 []byte
	AttachmentName             string
}

func startTestMail(t *testing.T) *testMail {
	t.Helper()
	tm := &testMail{}
	srv := smtp.NewServer(tm)
	srv.Domain = "mail.test"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tm.addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return tm
}

func (tm *testMail) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &testMailSession{tm: tm}, nil
}

type testMailSession struct {
	tm *testMail
	to string
}

func (s *testMailSession) Mail(string, *smtp.MailOptions) error      { return nil }
func (s *testMailSession) Rcpt(to string, _ *smtp.RcptOptions) error { s.to = to; return nil }
func (s *testMailSession) Reset()                                    {}
func (s *testMailSession) Logout() error                             { return nil }
func (s *testMailSession) Data(r io.Reader) error {
	mr, err := mail.CreateReader(r)
	if err != nil {
		return err
	}
	m := mailMsg{To: s.to}
	m.Subject, _ = mr.Header.Subject()
	if rt, err := mr.Header.AddressList("Reply-To"); err == nil && len(rt) > 0 {
		m.ReplyTo = rt[0].Address
	}
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		b, _ := io.ReadAll(p.Body)
		switch h := p.Header.(type) {
		case *mail.InlineHeader:
			if ct, _, _ := h.ContentType(); strings.HasPrefix(ct, "text/plain") {
				m.Text = string(b)
			}
		case *mail.AttachmentHeader:
			m.AttachmentName, _ = h.Filename()
			m.Attachment = b
		}
	}
	s.tm.mu.Lock()
	s.tm.msgs = append(s.tm.msgs, m)
	s.tm.mu.Unlock()
	return nil
}

func (tm *testMail) waitFor(t *testing.T, match func(mailMsg) bool) mailMsg {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		tm.mu.Lock()
		for _, m := range tm.msgs {
			if match(m) {
				tm.mu.Unlock()
				return m
			}
		}
		tm.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the mail never came")
	return mailMsg{}
}

func (tm *testMail) count(match func(mailMsg) bool) int {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	n := 0
	for _, m := range tm.msgs {
		if match(m) {
			n++
		}
	}
	return n
}

// sendPlainMail submits a message over SMTP without TLS (loopback only).
func sendPlainMail(t *testing.T, addr, from, to, msg string) {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SendMail(from, []string{to}, strings.NewReader(msg)); err != nil {
		t.Fatal(err)
	}
	c.Quit()
}

// freePort returns a port free on 127.0.0.1 for network ("tcp" or "udp").
func freePort(t *testing.T, network string) string {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().String()
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// chatAPI drives the web chat as its users.
type chatAPI struct {
	t    *testing.T
	base string
	tok  string
}

func (c chatAPI) call(method, path string, body any, out any) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	u := c.base + path
	if strings.Contains(u, "?") {
		u += "&t=" + c.tok
	} else {
		u += "?t=" + c.tok
	}
	req, _ := http.NewRequest(method, u, rd)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		c.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

func (c chatAPI) command(user, channel, text string) string {
	var r struct{ Reply string }
	c.call("POST", "/api/command", map[string]string{"user": user, "channel": channel, "text": text}, &r)
	return r.Reply
}

type chatMsg struct {
	ID, Thread, Text, Author string
}

func (c chatAPI) messages(user, channel, thread string) []chatMsg {
	var ms []chatMsg
	c.call("GET", "/api/messages?user="+user+"&channel="+channel+"&thread="+thread, nil, &ms)
	return ms
}

func (c chatAPI) waitMessage(user, channel, thread, sub string) chatMsg {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range c.messages(user, channel, thread) {
			if strings.Contains(m.Text, sub) {
				return m
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("no message with %q in %s/%s: %+v", sub, channel, thread, c.messages(user, channel, thread))
	return chatMsg{}
}

// startBot runs gethelp bot and returns it with its ready event.
func (e *env) startBot(config string) (*proc, map[string]any) {
	e.t.Helper()
	p := e.start("bot", "--json", "--config", config)
	return p, p.next("ready")
}

func TestBotEndToEnd(t *testing.T) {
	e := newEnv(t)
	tm := startTestMail(t)
	agentAddr, chatAddr, inAddr := freePort(t, "udp"), freePort(t, "tcp"), freePort(t, "tcp")
	config := e.write("bot.yaml", fmt.Sprintf(`bot:
  database: %s
  agent_listen: %q
  admin_listen: "127.0.0.1:0"
  email:
    from: "gethelp <gethelp@bot.test>"
    smtp: {addr: %q, security: none}
    inbound: {listen: %q, domain: reply.test, base: gethelp}
  webchat:
    listen: %q
    state_file: %s
    users:
      - {id: alice, name: Alice, email: alice@example.test}
      - {id: bob, name: Bob, email: bob@example.test}
`, e.path("bot.db"), agentAddr, tm.addr, inAddr, chatAddr, e.path("webchat.json")))
	b, ready := e.startBot(config)
	u, _ := url.Parse(str(ready, "webchat_url"))
	chat := chatAPI{t: t, base: "http://" + u.Host, tok: u.Query().Get("t")}

	// Health and metrics.
	resp, err := http.Get("http://" + str(ready, "admin_addr") + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()

	// Alice's computer links itself.
	ag := e.start("host", "agent", "--json", "--bot", str(ready, "agent_addr"), "--bot-pin", str(ready, "bot_pin"),
		"--source", "synthetic", "--listen", "127.0.0.1:0", "--name", "Alice's laptop")
	code := str(ag.next("link_code"), "code")
	if r := chat.command("alice", "general", "/gethelp link "+code); !strings.HasPrefix(r, "Linked") {
		t.Fatalf("link: %q", r)
	}
	ag.next("linked")

	// Alice asks Bob; her computer asks her.
	if r := chat.command("alice", "general", "/gethelp @bob the printer is offline"); !strings.Contains(r, "consent") {
		t.Fatalf("request: %q", r)
	}
	ask := ag.next("consent_request")
	ticket := str(ask, "ticket")
	if h, _ := ask["helper"].(map[string]any); str(h, "email") != "bob@example.test" || str(h, "network") != "webchat" {
		t.Fatalf("the consent request shows the helper as %v", ask["helper"])
	}
	root := chat.waitMessage("alice", "general", "", "Alice asked Bob for help")
	chat.waitMessage("alice", "general", root.ID, "Waiting for Alice to agree")

	// The bot dies with the question open, and comes back.
	b.cmd.Process.Signal(syscall.SIGKILL)
	b.exit()
	b, ready = e.startBot(config)
	if str(ready, "webchat_url") != "http://"+u.Host+"/?t="+chat.tok {
		t.Fatalf("the chat moved: %s", str(ready, "webchat_url"))
	}
	ag.send(map[string]any{"type": "consent", "ticket": ticket, "accept": true})

	// The invitation by e-mail, the password by DM.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("agent stderr:\n%s", ag.stderr)
		}
	})
	invMail := tm.waitFor(t, func(m mailMsg) bool { return strings.Contains(m.To, "bob@example.test") && m.Attachment != nil })
	dm := chat.waitMessage("bob", "", "", "Password for Alice")
	password := dm.Text[strings.Index(dm.Text, "): ")+3:]
	password = password[:strings.Index(password, "\n")]
	if strings.Contains(invMail.Text, password) {
		t.Fatal("the password is in the e-mail")
	}
	chat.waitMessage("alice", "general", root.ID, "Invitation sent to Bob")

	// Bob opens the attachment with the password.
	file := e.write(invMail.AttachmentName, string(invMail.Attachment))
	v := e.viewer(file, password)
	v.next("connected")
	chat.waitMessage("alice", "general", root.ID, "Bob connected")

	// Chat in the thread reaches the session, and the session the thread.
	var id struct{ ID string }
	chat.call("POST", "/api/post", map[string]string{"user": "bob", "channel": "general", "thread": root.ID, "text": "is the spooler running?"}, &id)
	for {
		ev := v.next("chat")
		if str(ev, "text") == "is the spooler running?" {
			if str(ev, "from") != "Bob (chat)" {
				t.Errorf("in the session it is from %q", str(ev, "from"))
			}
			break
		}
	}
	v.send(map[string]any{"type": "chat", "text": "restarting it now"})
	chat.waitMessage("alice", "general", root.ID, "restarting it now")

	// An e-mail reply to the invitation lands in the thread.
	if !strings.HasPrefix(invMail.ReplyTo, "gethelp+") {
		t.Fatalf("reply-to %q", invMail.ReplyTo)
	}
	reply := "From: Bob <bob@example.test>\r\nTo: " + invMail.ReplyTo + "\r\nSubject: Re: help\r\nMessage-ID: <r1@example.test>\r\n\r\nI can connect in five minutes.\r\n\r\nOn Tue, Nov 24, 2026 at 10:00, gethelp wrote:\r\n> Alice asked you for help\r\n"
	sendPlainMail(t, inAddr, "bob@example.test", invMail.ReplyTo, reply)
	chat.waitMessage("alice", "general", root.ID, "I can connect in five minutes")

	// Killed again and restarted: nothing is lost, nothing said twice.
	b.cmd.Process.Signal(syscall.SIGKILL)
	b.exit()
	b, _ = e.startBot(config)
	v.send(map[string]any{"type": "chat", "text": "after the restart"})
	chat.waitMessage("alice", "general", root.ID, "after the restart")
	seen := map[string]int{}
	for _, m := range chat.messages("alice", "general", root.ID) {
		seen[m.Text]++
	}
	for text, n := range seen {
		if n > 1 {
			t.Errorf("said %d times in the thread: %q", n, text)
		}
	}
	if n := tm.count(func(m mailMsg) bool { return m.Attachment != nil }); n != 1 {
		t.Errorf("%d invitation e-mails, want 1", n)
	}
	if n := len(chat.messages("bob", "", "")); n != 1 {
		t.Errorf("Bob has %d direct messages, want the password once", n)
	}
	v.send(map[string]any{"type": "disconnect"})
	chat.waitMessage("alice", "general", root.ID, "The session ended")

	// From the host side, like "use e-mail to send an invitation": the bot
	// mails the file; the password stays with Alice.
	h := e.start("host", "invite", "--json", "--listen", "127.0.0.1:0", "--out", e.path("carol.gethelp"), "--source", "none",
		"--email", "carol@example.test", "--bot", str(ready, "agent_addr"), "--bot-pin", str(ready, "bot_pin"))
	inv := h.next("invitation")
	h.next("mailed")
	carol := tm.waitFor(t, func(m mailMsg) bool { return strings.Contains(m.To, "carol@example.test") })
	if carol.Attachment == nil || strings.Contains(carol.Text, str(inv, "password")) || !strings.Contains(carol.Text, "never by e-mail") {
		t.Fatalf("the mailed invitation: %+v", carol)
	}
	chat.waitMessage("alice", "", "", "on its way to carol@example.test")
}
