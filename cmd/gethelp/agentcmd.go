package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gethelp/gethelp/agentlink"
	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/host/agent"
	"github.com/gethelp/gethelp/host/hostui"
	"github.com/gethelp/gethelp/invitations"
	"github.com/gethelp/gethelp/session"
	"github.com/gethelp/gethelp/session/screen"
)

// agentKeyFile is the agent's key in the state directory: the computer's
// identity towards the bot, which linking registers.
const agentKeyFile = "agent-key.pem"

type agentOptions struct {
	bot       string
	pin       string
	name      string
	source    string
	listen    string
	json      bool
	noUI      bool
	noBrowser bool
}

// hostAgent runs gethelp host agent: the background agent that keeps this
// computer reachable for the bot.
func (m *Main) hostAgent(ctx context.Context, args []string) error {
	var o agentOptions
	fs := m.flags("host agent", "host agent [--bot ADDR] [--bot-pin HEX] [--name NAME] [--source x11|synthetic|none] [--json] [--no-ui]")
	fs.StringVar(&o.bot, "bot", "", "the bot's address, HOST:PORT (default bot_address in config)")
	fs.StringVar(&o.pin, "bot-pin", "", "SHA-256 of the bot's public key, 64 hex digits (default bot_pin in config)")
	fs.StringVar(&o.name, "name", "", "your name as helpers see it (default display_name in config, or user on host)")
	fs.StringVar(&o.source, "source", "", "screen to share: x11, synthetic or none (default x11 when $DISPLAY is set, else synthetic)")
	fs.StringVar(&o.listen, "listen", "", "UDP address the sessions listen on (default all interfaces, an ephemeral port each)")
	fs.BoolVar(&o.json, "json", false, "machine interface: JSON events on stdout, JSON commands on stdin")
	fs.BoolVar(&o.noUI, "no-ui", false, "terminal only: prompts in the terminal, no local web page per session")
	fs.BoolVar(&o.noBrowser, "no-browser", false, "do not open a browser; print the session page's URL instead")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	if o.bot == "" {
		o.bot = m.cfg.BotAddress
	}
	if o.pin == "" {
		o.pin = m.cfg.BotPin
	}
	if o.bot == "" {
		return errors.New("where is the bot? Give --bot HOST:PORT or set bot_address in the config file (ask whoever runs your gethelp bot)")
	}
	if o.pin == "" {
		return errors.New("which key does the bot have? Give --bot-pin HEX or set bot_pin in the config file (whoever runs the bot can tell you; gethelp never trusts a bot it was not told about)")
	}
	pin, err := agentlink.ParsePin(o.pin)
	if err != nil {
		return err
	}
	pol, err := loadPolicy(m.Getenv)
	if err != nil {
		return err
	}
	ttl, err := pol.checkHosting(agent.DefaultTTL, false)
	if err != nil {
		return policyError{err}
	}
	o.listen, o.name = m.hostDefaults(o.listen, o.name)
	m.lightHost()
	cert, err := agentlink.LoadOrCreateKey(filepath.Join(m.stateDir, agentKeyFile))
	if err != nil {
		return err
	}

	ui := &agentUI{
		m: m, o: o, out: &jsonOut{w: m.Stdout},
		prompts: make(map[string]chan bool),
		pages:   make(map[string]*hostui.Server),
	}
	defer ui.close()
	ag, err := agent.New(agent.Config{
		Link: agentlink.ClientConfig{
			Addr: o.bot, BotPin: pin, Certificate: cert, Name: o.name, Logger: m.logger,
		},
		Host:    m.agentHost(o, ttl),
		Ask:     ui.ask,
		OnEvent: ui.event,
		TTL:     ttl,
		Logger:  m.logger,
	})
	if err != nil {
		return err
	}
	ui.agent = ag
	if o.json {
		ui.out.write(map[string]any{
			"type": "agent", "time": time.Now().UTC(), "bot": o.bot, "name": o.name,
			"agent_key": agentlink.AgentKey(cert),
		})
	} else {
		fmt.Fprintf(m.Stdout, "gethelp agent for %s: connecting to the bot at %s. Leave it running; press Ctrl-C to stop.\n", o.name, o.bot)
	}
	go ui.readCommands(m.Stdin)
	return ag.Run(ctx)
}

// agentHost returns the agent's Config.Host: each ticket gets its own
// screen source, control and privacy watchers, under the policy as it is
// when the ticket comes.
func (m *Main) agentHost(o agentOptions, ttl time.Duration) func(string) (host.Config, func(), error) {
	store := &invitations.Store{Dir: filepath.Join(m.stateDir, "invitations")}
	var logDir string
	if m.cfg.SessionLogs == nil || *m.cfg.SessionLogs {
		logDir = filepath.Join(m.stateDir, "logs")
	}
	return func(ticket string) (host.Config, func(), error) {
		pol, err := loadPolicy(m.Getenv)
		if err != nil {
			return host.Config{}, nil, err
		}
		if _, err := pol.checkHosting(ttl, false); err != nil {
			return host.Config{}, nil, policyError{err}
		}
		var closers []func() error
		release := func() {
			for i := len(closers) - 1; i >= 0; i-- {
				closers[i]()
			}
		}
		src, srcName, err := m.openSource(o.source)
		if err != nil {
			return host.Config{}, nil, err
		}
		if src != nil {
			closers = append(closers, src.Close)
		}
		cfg := host.Config{
			ListenAddr: o.listen,
			HostName:   o.name,
			Store:      store,
			LogDir:     logDir,
			Source:     src,
			Level:      screen.High,
			Monitor:    -1,
			Logger:     m.logger.With("ticket", ticket),
			Rendezvous: m.cfg.Rendezvous,
		}
		m.personSettings(&cfg, pol)
		devices, err := m.hostDevices(&cfg, srcName)
		if err != nil {
			release()
			return host.Config{}, nil, err
		}
		closers = append(closers, func() error { devices(); return nil })
		return cfg, release, nil
	}
}

// agentUI is the person's side of the agent in the terminal (or --json):
// consent prompts, link codes, the sessions' events and commands.
type agentUI struct {
	m     *Main
	o     agentOptions
	out   *jsonOut
	agent *agent.Agent // set before Run

	mu      sync.Mutex
	prompts map[string]chan bool      // guarded by mu: open consent prompts by ticket
	order   []string                  // guarded by mu: their tickets, oldest first
	pages   map[string]*hostui.Server // guarded by mu: each ticket's session page
	current string                    // guarded by mu: the ticket terminal commands act on
}

// ask shows a consent prompt and waits for the answer or the withdrawal.
func (u *agentUI) ask(ctx context.Context, r agent.ConsentRequest) (bool, error) {
	answer := make(chan bool, 1)
	u.mu.Lock()
	u.prompts[r.Ticket] = answer
	u.order = append(u.order, r.Ticket)
	u.mu.Unlock()
	defer func() {
		u.mu.Lock()
		delete(u.prompts, r.Ticket)
		u.order = slices.DeleteFunc(u.order, func(t string) bool { return t == r.Ticket })
		u.mu.Unlock()
	}()
	if u.o.json {
		u.out.write(map[string]any{
			"type": "consent_request", "time": time.Now().UTC(), "ticket": r.Ticket,
			"helper": r.Helper, "requester": r.Requester, "description": r.Description, "again": r.Again,
		})
	} else {
		u.printPrompt(r)
	}
	select {
	case ok := <-answer:
		return ok, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

func (u *agentUI) printPrompt(r agent.ConsentRequest) {
	w := u.m.Stdout
	fmt.Fprintln(w)
	if r.Requester.UserID != "" && (r.Requester.Network != r.Helper.Network || r.Requester.UserID != r.Helper.UserID) {
		fmt.Fprintf(w, "%s asked for help for you", r.Requester)
		if r.Description != "" {
			fmt.Fprintf(w, ": %q", r.Description)
		}
		fmt.Fprintln(w, ".")
	} else if r.Description != "" {
		fmt.Fprintf(w, "Asked for help: %q.\n", r.Description)
	}
	again := ""
	if r.Again {
		again = " again"
	}
	fmt.Fprintf(w, "Share your screen with %s%s? Close anything private first.\n", r.Helper, again)
	fmt.Fprintln(w, "They will see your screen and chat with you; control of your mouse and keyboard needs another yes.")
	fmt.Fprintln(w, "Type yes or no:")
}

// answer gives the person's answer to the prompt of ticket, or to the
// oldest prompt when ticket is "".
func (u *agentUI) answer(ticket string, yes bool) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if ticket == "" {
		if len(u.order) == 0 {
			return errors.New("nobody is asking you anything right now")
		}
		ticket = u.order[0]
	}
	ch, ok := u.prompts[ticket]
	if !ok {
		return fmt.Errorf("no question is open for ticket %q", ticket)
	}
	select {
	case ch <- yes:
	default: // answered already
	}
	return nil
}

// event shows one of the agent's events.
func (u *agentUI) event(e agent.Event) {
	if e.Type == agent.EventSession && e.Session != nil {
		u.sessionEvent(e)
		return
	}
	if e.Type == agent.EventInvitation && e.Host != nil && !u.o.json && !u.o.noUI {
		u.openPage(e)
	}
	if u.o.json {
		u.out.write(e)
		return
	}
	w := u.m.Stdout
	switch e.Type {
	case agent.EventLinkCode:
		fmt.Fprintf(w, "Type /gethelp link %s in chat to link this computer to you", e.Code)
		if !e.Expires.IsZero() {
			fmt.Fprintf(w, " (the code works until %s)", e.Expires.Local().Format("15:04"))
		}
		fmt.Fprintln(w, ".")
	case agent.EventLinked:
		fmt.Fprintf(w, "This computer is now linked to %s: when someone asks to help them, you will be asked here.\n", e.Identity)
	case agent.EventUnlinked:
		fmt.Fprintf(w, "This computer is no longer linked to %s.\n", e.Identity)
	case agent.EventConnected:
		if len(e.Links) == 0 {
			fmt.Fprintln(w, "Connected to the bot. This computer is not linked to anyone yet.")
			break
		}
		names := make([]string, len(e.Links))
		for i, l := range e.Links {
			names[i] = l.String()
		}
		fmt.Fprintf(w, "Connected to the bot; this computer is linked to %s. Type /link to link it to someone else.\n", strings.Join(names, ", "))
	case agent.EventDisconnected:
		fmt.Fprintf(w, "Not connected to the bot (%s); trying again in %s.\n", e.Reason, (time.Duration(e.RetryMs) * time.Millisecond).Round(time.Second))
	case agent.EventInvitation:
		fmt.Fprintf(w, "The bot is sending %s the invitation and, separately, its password. It works until %s; type /cancel to withdraw it.\n",
			e.Helper, e.Expires.Local().Format("15:04"))
	case agent.EventDeclined:
		fmt.Fprintf(w, "Not shared: %s.\n", e.Reason)
	case agent.EventWithdrawn:
		fmt.Fprintf(w, "The request was withdrawn: %s.\n", e.Reason)
	case agent.EventError:
		fmt.Fprintf(w, "Problem: %s.\n", e.Reason)
	}
}

// sessionEvent shows a host's event: on its page, and in the terminal or
// as JSON with the ticket added.
func (u *agentUI) sessionEvent(e agent.Event) {
	he := *e.Session
	u.mu.Lock()
	page := u.pages[e.Ticket]
	switch he.Type {
	case host.EventConnected:
		u.current = e.Ticket
	case host.EventDisconnected, host.EventExpired, host.EventCancelled:
		if u.current == e.Ticket {
			u.current = ""
		}
	}
	u.mu.Unlock()
	if page != nil {
		page.Publish(he)
	}
	if u.o.json {
		u.out.write(struct {
			host.Event
			Ticket string `json:"ticket"`
		}{he, e.Ticket})
		return
	}
	switch he.Type {
	case host.EventWaiting:
		fmt.Fprintln(u.m.Stdout, "Waiting for your helper to connect.")
	case host.EventCancelled:
		fmt.Fprintf(u.m.Stdout, "Invitation cancelled: %s.\n", he.Reason)
	default:
		u.m.printHostEvent(he)
	}
}

// openPage starts the session page of a ticket's (new) host.
func (u *agentUI) openPage(e agent.Event) {
	srv, err := hostui.New(e.Host, hostui.Options{Level: screen.High.String(), Logger: u.m.logger})
	if err != nil {
		u.m.logger.Warn("the session page cannot be shown", "err", err)
		return
	}
	u.mu.Lock()
	old := u.pages[e.Ticket]
	u.pages[e.Ticket] = srv
	u.mu.Unlock()
	if old != nil {
		old.Close()
	}
	u.m.showPage(srv.URL(), u.o.noBrowser, "See who is connected, chat and pause or stop sharing at")
}

func (u *agentUI) close() {
	u.mu.Lock()
	pages := u.pages
	u.pages = map[string]*hostui.Server{}
	u.mu.Unlock()
	for _, p := range pages {
		p.Close()
	}
}

// agentCommands are the commands of gethelp host agent: those of host
// invite, acting on one ticket's session, and the agent's own.
var agentCommands = []string{
	"chat", "disconnect", "bandwidth", "pause", "resume", "grant", "deny", "revoke",
	"send_file", "accept_file", "decline_file", "help",
	"consent", "link", "cancel", "tickets",
}

// agentExtra are the fields of a JSON command beyond command's.
type agentExtra struct {
	Ticket string `json:"ticket"`
	Accept *bool  `json:"accept"` // consent
}

// readCommands reads commands from r until it ends. In the terminal a line
// "yes" or "no" answers the oldest open question.
func (u *agentUI) readCommands(r io.Reader) {
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		line = strings.TrimRight(line, "\r\n")
		if strings.TrimSpace(line) != "" {
			if c, perr := parseCommand(line, u.o.json, agentCommands); perr != nil {
				u.m.report(u.out, u.o.json, perr)
			} else {
				var x agentExtra
				if u.o.json {
					_ = json.Unmarshal([]byte(line), &x) // parseCommand checked it
				}
				if err := u.command(c, x); err != nil {
					u.m.report(u.out, u.o.json, err)
				}
			}
		}
		if err != nil {
			return
		}
	}
}

func (u *agentUI) command(c command, x agentExtra) error {
	switch c.Type {
	case "consent":
		if x.Accept == nil {
			return errors.New(`consent needs "accept": true or false`)
		}
		return u.answer(x.Ticket, *x.Accept)
	case "link":
		u.agent.RequestLink()
		return nil
	case "tickets":
		return u.listTickets()
	case "help":
		fmt.Fprintln(u.m.Stderr, agentHelp)
		return nil
	case "chat":
		if !u.o.json {
			switch strings.ToLower(strings.TrimSpace(c.Text)) {
			case "yes", "y", "no", "n":
				u.mu.Lock()
				asking := len(u.order) > 0
				u.mu.Unlock()
				if asking {
					return u.answer("", strings.HasPrefix(strings.ToLower(strings.TrimSpace(c.Text)), "y"))
				}
			}
		}
	}
	ticket, err := u.target(x.Ticket)
	if err != nil {
		return err
	}
	if c.Type == "cancel" {
		return u.agent.Cancel(ticket)
	}
	h := u.agent.Host(ticket)
	if h == nil {
		return fmt.Errorf("ticket %s has no session now", ticket)
	}
	return hostCommand(h, c)
}

// target picks the ticket a command acts on: the one named, else the one
// whose helper connected last, else the only one open.
func (u *agentUI) target(ticket string) (string, error) {
	if ticket != "" {
		return ticket, nil
	}
	u.mu.Lock()
	current := u.current
	u.mu.Unlock()
	if current != "" && u.agent.Host(current) != nil {
		return current, nil
	}
	var open []string
	for _, t := range u.agent.Tickets() {
		if u.agent.Host(t.ID) != nil {
			open = append(open, t.ID)
		}
	}
	switch len(open) {
	case 0:
		return "", errors.New("no session is open")
	case 1:
		return open[0], nil
	}
	return "", fmt.Errorf("several sessions are open (%s): say which ticket", strings.Join(open, ", "))
}

func (u *agentUI) listTickets() error {
	tickets := u.agent.Tickets()
	if u.o.json {
		for _, t := range tickets {
			u.out.write(map[string]any{"type": "ticket", "time": time.Now().UTC(), "ticket": t.ID, "state": t.State, "helper": t.Helper, "requester": t.Requester, "invitation_id": t.InvitationID})
		}
		return nil
	}
	if len(tickets) == 0 {
		fmt.Fprintln(u.m.Stdout, "No tickets yet.")
	}
	for _, t := range tickets {
		fmt.Fprintf(u.m.Stdout, "%s  %-9s  %s\n", t.ID, t.State, t.Helper)
	}
	return nil
}

// hostCommand performs a session command of the person on h, as host
// invite does.
func hostCommand(h *host.Host, c command) error {
	var err error
	switch c.Type {
	case "chat":
		err = h.Chat(c.Text)
	case "disconnect":
		if err = h.Disconnect("the person disconnected"); errors.Is(err, host.ErrNoSession) {
			err = errors.New("no helper is connected yet")
		}
	case "bandwidth":
		var lv screen.Level
		if lv, err = screen.ParseLevel(c.Level); err == nil {
			err = h.SetBandwidth(lv)
		}
	case "pause", "resume":
		err = h.PauseSharing(c.Type == "pause")
	case "grant":
		err = h.Grant(c.Capabilities...)
	case "deny":
		err = h.Deny()
	case "revoke":
		err = h.Revoke(session.ByButton, c.Capabilities...)
	case "send_file":
		err = h.SendFile(context.Background(), c.Path)
	case "accept_file":
		err = h.AcceptFile(c.ID)
	case "decline_file":
		err = h.DeclineFile(c.ID)
	default:
		err = fmt.Errorf("unknown command %q", c.Type)
	}
	return err
}

const agentHelp = `When someone asks to help you, type yes or no.
/link                    show a code to link this computer to you in chat
/tickets                 list the requests for help
/cancel                  withdraw the open invitation, or end the session
` + hostHelp
