package main

import (
	"bufio"
	"context"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/gethelp/gethelp/agentlink"
	"github.com/gethelp/gethelp/bot"
	"github.com/gethelp/gethelp/bot/email"
	"github.com/gethelp/gethelp/bot/store"
	"github.com/gethelp/gethelp/bot/webchat"
	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/host/agent"
	"github.com/gethelp/gethelp/host/hostui"
	"github.com/gethelp/gethelp/invitations"
	"github.com/gethelp/gethelp/session/screen"
	"github.com/gethelp/gethelp/viewer"
	"github.com/gethelp/gethelp/viewer/viewerui"
)

// demo runs the whole product on one computer, with no accounts and
// nothing listening beyond 127.0.0.1: the bot with a local chat page (type
// /gethelp there), a mail server whose mailbox that page shows, Alice's
// computer (an agent sharing this X display, or an animated screen) and Bob,
// the helper, whose viewer opens once his invitation and password arrive.
func (m *Main) demo(ctx context.Context, args []string) error {
	fs := m.flags("demo", "demo [--no-browser] [--source x11|synthetic] [--yes]")
	noBrowser := fs.Bool("no-browser", false, "do not open a browser; print the pages' URLs instead")
	source := fs.String("source", "", "screen Alice shares: x11 or synthetic (default x11 when $DISPLAY is set)")
	yes := fs.Bool("yes", false, "answer Alice's consent question with yes without asking")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	src, _, err := m.openSource(*source)
	if err != nil {
		return err
	}
	if src != nil {
		defer src.Close()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	dir, err := os.MkdirTemp("", "gethelp-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	d := &demoRun{m: m, ctx: ctx, noBrowser: *noBrowser}
	defer d.close()

	// The chat and the mail.
	chat, err := webchat.New(webchat.Options{
		Users: []webchat.User{
			{ID: "alice", Name: "Alice", Email: "alice@example.com"},
			{ID: "bob", Name: "Bob", Email: "bob@example.com"},
		},
		Channels: []string{"general", "helpdesk"},
		Logger:   m.logger,
	})
	if err != nil {
		return err
	}
	d.closers = append(d.closers, func() { chat.Close() })
	d.chat = chat
	mailbox, mailAddr, err := startDemoMailbox(chat, m.logger)
	if err != nil {
		return err
	}
	d.closers = append(d.closers, func() { mailbox.Close() })
	sender, err := email.NewSender(email.SenderConfig{Addr: mailAddr, Security: "none", Logger: m.logger})
	if err != nil {
		return err
	}

	// The bot.
	st, err := store.OpenSQLite(ctx, filepath.Join(dir, "bot.db"))
	if err != nil {
		return err
	}
	d.closers = append(d.closers, func() { st.Close() })
	botCert, err := agentlink.NewCertificate()
	if err != nil {
		return err
	}
	link, err := agentlink.Listen(agentlink.ServerConfig{Addr: "127.0.0.1:0", Certificate: botCert, Logger: m.logger})
	if err != nil {
		return err
	}
	d.closers = append(d.closers, func() { link.Close() })
	core, err := bot.New(bot.Config{
		Store: st, Networks: []bot.Network{chat},
		Mail:     &email.Mailer{Sender: sender, From: mail.Address{Name: "gethelp", Address: "gethelp@demo.example"}},
		HelpDesk: bot.Place{Channel: "helpdesk"}, HelpDeskNetwork: "webchat",
		Logger: m.logger,
	})
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Add(1)
	go func() { defer wg.Done(); core.Run(ctx, link) }()

	// Alice's computer.
	agentCert, err := agentlink.NewCertificate()
	if err != nil {
		return err
	}
	stdin := bufio.NewReader(m.Stdin)
	ag, err := agent.New(agent.Config{
		Link: agentlink.ClientConfig{Addr: link.Addr().String(), BotPin: agentlink.Pin(botCert), Certificate: agentCert, Name: "Alice's computer", Logger: m.logger},
		Host: func(string) (host.Config, func(), error) {
			return host.Config{
				ListenAddr: "127.0.0.1:0", HostName: "Alice", Source: src, Level: screen.High, Monitor: -1,
				LogDir: filepath.Join(m.stateDir, "logs"), Logger: m.logger,
			}, nil, nil
		},
		Ask: func(ctx context.Context, r agent.ConsentRequest) (bool, error) {
			return d.ask(ctx, stdin, r, *yes)
		},
		OnEvent: d.agentEvent,
		Logger:  m.logger,
	})
	if err != nil {
		return err
	}
	wg.Add(1)
	go func() { defer wg.Done(); ag.Run(ctx) }()

	// Bob's computer: it opens his invitation once it has the file and
	// the password.
	wg.Add(1)
	go func() { defer wg.Done(); d.helper(dir) }()

	fmt.Fprintln(m.Stdout, "gethelp demo: the bot, a chat, a mailbox, Alice's computer and Bob's, all on this machine.")
	m.showPage(chat.URL(), *noBrowser, "Open the chat:")
	fmt.Fprintln(m.Stdout, "As Alice, type in #general:  /gethelp @bob my printer does not print")
	fmt.Fprintln(m.Stdout, "(or just /gethelp my printer ... for the help desk, and take it there as Bob).")
	fmt.Fprintln(m.Stdout, "Press Ctrl-C to stop.")
	<-ctx.Done()
	return nil
}

// demoRun is the state of a running demo.
type demoRun struct {
	m         *Main
	ctx       context.Context
	noBrowser bool
	chat      *webchat.Server

	mu      sync.Mutex
	closers []func()
	hostUI  *hostui.Server // Alice's window of the current session
}

func (d *demoRun) close() {
	d.mu.Lock()
	cs := d.closers
	d.closers = nil
	d.mu.Unlock()
	for i := len(cs) - 1; i >= 0; i-- {
		cs[i]()
	}
}

func (d *demoRun) addCloser(f func()) {
	d.mu.Lock()
	d.closers = append(d.closers, f)
	d.mu.Unlock()
}

func (d *demoRun) say(format string, a ...any) {
	fmt.Fprintf(d.m.Stdout, format+"\n", a...)
}

// ask is Alice's consent prompt, in the terminal: her own screen.
func (d *demoRun) ask(ctx context.Context, stdin *bufio.Reader, r agent.ConsentRequest, yes bool) (bool, error) {
	h := r.Helper
	d.say("\nAlice's computer asks: share your screen with %s (%s on %s, %s)?", h.DisplayName, h.UserID, h.Network, h.Email)
	if r.Description != "" {
		d.say("  Asked for: %q", r.Description)
	}
	d.say("  Close anything private first. The helper sees your screen; control needs a second yes.")
	if yes {
		d.say("  Answered yes (--yes).")
		return true, nil
	}
	fmt.Fprint(d.m.Stdout, "  Share? [y/N] ")
	answer := make(chan string, 1)
	go func() {
		line, _ := stdin.ReadString('\n')
		answer <- strings.ToLower(strings.TrimSpace(line))
	}()
	select {
	case a := <-answer:
		return a == "y" || a == "yes", nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// agentEvent links Alice's computer at start and opens her window when
// she is being helped.
func (d *demoRun) agentEvent(e agent.Event) {
	switch e.Type {
	case agent.EventLinkCode:
		// Alice types the code in the chat, as a person would.
		go func() {
			reply, err := d.chat.Command(d.ctx, webchat.Typed{User: "alice", Channel: "general", Text: "/gethelp link " + e.Code})
			if err != nil {
				d.say("Linking Alice's computer failed: %v", err)
				return
			}
			d.say("Alice's computer showed the code %s; Alice typed /gethelp link %s in the chat: %s", e.Code, e.Code, reply)
		}()
	case agent.EventInvitation:
		if e.Host == nil {
			return
		}
		ui, err := hostui.New(e.Host, hostui.Options{Level: screen.High.String(), Logger: d.m.logger})
		if err != nil {
			d.say("Alice's window: %v", err)
			return
		}
		d.addCloser(func() { ui.Close() })
		d.m.showPage(ui.URL(), d.noBrowser, "Alice's window (what the person being helped sees):")
		d.mu.Lock()
		d.hostUI = ui
		d.mu.Unlock()
	case agent.EventSession:
		d.mu.Lock()
		ui := d.hostUI
		d.mu.Unlock()
		if ui != nil && e.Session != nil {
			ui.Publish(*e.Session)
		}
	case agent.EventDeclined:
		d.say("Alice's computer declined: %s", e.Reason)
	}
}

var demoPassword = regexp.MustCompile(`Password for [^:]+: ([A-Z0-9-]{12,})`)

// helper is Bob's computer: it waits for the invitation e-mail and the
// password DM, then opens the viewer.
func (d *demoRun) helper(dir string) {
	seen := map[string]bool{}
	t := time.NewTicker(300 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-d.ctx.Done():
			return
		case <-t.C:
		}
		var file []byte
		var mailID string
		for _, ml := range d.chat.Mail() {
			if seen[ml.ID] || !strings.Contains(ml.To, "bob@example.com") {
				continue
			}
			for _, a := range ml.Attachments {
				if strings.HasSuffix(a.Name, invitations.FileExtension) {
					file, mailID = a.Data, ml.ID
				}
			}
		}
		if file == nil {
			continue
		}
		password := ""
		msgs, err := d.chat.Messages("bob", "", "")
		if err != nil {
			continue
		}
		for _, msg := range msgs {
			if p := demoPassword.FindStringSubmatch(msg.Text); p != nil {
				password = p[1] // the newest wins
			}
		}
		if password == "" {
			continue
		}
		seen[mailID] = true
		inv, err := invitations.Parse(file)
		if err != nil {
			d.say("Bob's computer cannot read the invitation: %v", err)
			continue
		}
		d.say("\nBob's computer: the invitation came by e-mail and its password by direct message; opening it.")
		d.openViewer(inv, password)
	}
}

func (d *demoRun) openViewer(inv *invitations.Invitation, password string) {
	var (
		mu sync.Mutex
		ui *viewerui.Server
	)
	v, err := viewer.Open(d.ctx, viewer.Config{
		Invitation: inv, Password: password, Name: "Bob", Logger: d.m.logger,
		LogDir: filepath.Join(d.m.stateDir, "logs"),
		OnEvent: func(e viewer.Event) {
			mu.Lock()
			defer mu.Unlock()
			if ui != nil {
				ui.Publish(e)
			}
		},
	})
	if err != nil {
		d.say("Bob could not connect: %s", userMessage(err))
		return
	}
	srv, err := viewerui.New(v, viewerui.Options{Logger: d.m.logger})
	if err != nil {
		v.Disconnect("the demo could not open Bob's window")
		return
	}
	d.addCloser(func() { srv.Close() })
	mu.Lock()
	ui = srv
	mu.Unlock()
	srv.Publish(viewer.Event{Type: viewer.EventConnected, Time: time.Now().UTC(), Host: v.HostName()})
	d.m.showPage(srv.URL(), d.noBrowser, "Bob's window (the helper sees Alice's screen here):")
	go v.Run(d.ctx)
}
