package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/gethelp/gethelp/agentlink"
	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/host/hostui"
	"github.com/gethelp/gethelp/host/synthetic"
	"github.com/gethelp/gethelp/invitations"
	"github.com/gethelp/gethelp/session"
	"github.com/gethelp/gethelp/session/screen"
)

const defaultTTL = 6 * time.Hour

// inviteOptions are what host invite and invitations resend share.
type inviteOptions struct {
	id           string // resend: the invitation to re-issue
	ttl          time.Duration
	ttlExplicit  bool
	out          string
	passwordFile string
	listen       string
	name         string
	json         bool
	source       string
	bandwidth    string
	monitor      int
	noUI         bool
	noBrowser    bool
	email        string // e-mail the invitation through the bot
	bot, botPin  string
	rendezvous   string
}

func (m *Main) inviteFlags(name, synopsis string, o *inviteOptions) *flag.FlagSet {
	fs := m.flags(name, synopsis)
	fs.DurationVar(&o.ttl, "ttl", 0, "how long the invitation stays open (default 6h, or invitation_ttl in config)")
	fs.StringVar(&o.out, "out", "", "save the invitation to this file (default ./gethelp-<ID>.gethelp)")
	fs.StringVar(&o.passwordFile, "password-file", "", "read the password from this file instead of generating one")
	fs.StringVar(&o.listen, "listen", "", "UDP address to listen on (default all interfaces, an ephemeral port)")
	fs.StringVar(&o.name, "name", "", "your name as the helper sees it (default display_name in config, or user on host)")
	fs.BoolVar(&o.json, "json", false, "machine interface: JSON events on stdout, JSON commands on stdin")
	fs.StringVar(&o.source, "source", "", "screen to share: x11, wayland (sway and other wlroots compositors), portal (GNOME, KDE: through the desktop's own dialog), synthetic or none (default wayland when $WAYLAND_DISPLAY is set, or portal when that compositor is not wlroots-based; x11 when $DISPLAY is, else synthetic)")
	fs.StringVar(&o.bandwidth, "bandwidth", "high", "bandwidth level: low, medium, high or full (lossless)")
	fs.IntVar(&o.monitor, "monitor", -1, "share only this monitor (0, 1, ...); -1 lets the helper choose")
	fs.BoolVar(&o.noUI, "no-ui", false, "terminal only: no local web page")
	fs.BoolVar(&o.noBrowser, "no-browser", false, "do not open a browser; print the page's URL instead")
	fs.StringVar(&o.email, "email", "", "have the bot e-mail the invitation to this address (this computer must be linked: gethelp host agent); you give the password another way")
	fs.StringVar(&o.bot, "bot", "", "the bot's address for --email (default bot_address in config)")
	fs.StringVar(&o.botPin, "bot-pin", "", "the bot's key for --email (default bot_pin in config)")
	fs.StringVar(&o.rendezvous, "rendezvous", "", "HOST:PORT of a rendezvous that helps the helper through NAT (default rendezvous in config)")
	return fs
}

// parseInvite parses inviteFlags and notes whether --ttl was given.
func parseInvite(fs *flag.FlagSet, args []string, o *inviteOptions) error {
	if err := parse(fs, args); err != nil {
		return err
	}
	fs.Visit(func(f *flag.Flag) { o.ttlExplicit = o.ttlExplicit || f.Name == "ttl" })
	return nil
}

func (m *Main) hostInvite(ctx context.Context, args []string) error {
	var o inviteOptions
	fs := m.inviteFlags("host invite", "host invite [--ttl 6h] [--out FILE] [--password-file F] [--listen ADDR] [--name NAME] [--json]", &o)
	if err := parseInvite(fs, args, &o); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	return m.serve(ctx, o)
}

// lightHost runs the host's goroutines on one thread unless $GOMAXPROCS
// says otherwise. The host's work is a pipeline (capture, encode, send)
// with little to run in parallel, and on the person's computer it should
// cost as little as it can: one thread spares the wake-ups of the others
// (measured on the bench's typing: about a fifth less CPU) and the latency
// stays the same.
func (m *Main) lightHost() {
	if m.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
}

// serve creates (or re-issues) an invitation, saves it and waits for the
// helper.
func (m *Main) serve(ctx context.Context, o inviteOptions) error {
	m.lightHost()
	if o.ttlExplicit && o.ttl <= 0 {
		return fmt.Errorf("--ttl must be positive, got %v", o.ttl)
	}
	if !o.ttlExplicit {
		o.ttl = defaultTTL
		if m.cfg.InvitationTTL > 0 {
			o.ttl = time.Duration(m.cfg.InvitationTTL)
		}
	}
	pol, err := loadPolicy(m.Getenv)
	if err != nil {
		return err
	}
	if o.ttl, err = pol.checkHosting(o.ttl, o.ttlExplicit); err != nil {
		return policyError{err}
	}
	o.listen, o.name = m.hostDefaults(o.listen, o.name)
	password := ""
	if o.passwordFile != "" {
		if password, err = readPasswordFile(o.passwordFile); err != nil {
			return err
		}
	}
	level, err := screen.ParseLevel(o.bandwidth)
	if err != nil {
		return err
	}
	src, srcName, err := m.openSource(o.source)
	if err != nil {
		return err
	}
	if src != nil {
		defer src.Close()
	}
	store := &invitations.Store{Dir: filepath.Join(m.stateDir, "invitations")}
	var logDir string
	if m.cfg.SessionLogs == nil || *m.cfg.SessionLogs {
		logDir = filepath.Join(m.stateDir, "logs")
	}
	id := o.id
	if id == "" {
		id = invitations.NewID()
	}
	file := o.out
	if file == "" {
		file = "gethelp-" + id + invitations.FileExtension
	}
	if abs, err := filepath.Abs(file); err == nil {
		file = abs
	}

	out := &jsonOut{w: m.Stdout}
	var (
		page hostPage
	)
	hc := host.Config{
		ListenAddr: o.listen,
		TTL:        o.ttl,
		HostName:   o.name,
		Password:   password,
		ID:         id,
		File:       file,
		Store:      store,
		LogDir:     logDir,
		PID:        os.Getpid(),
		Source:     src,
		Level:      level,
		Monitor:    o.monitor,
		Logger:     m.logger,
		Rendezvous: orDefault(o.rendezvous, m.cfg.Rendezvous),
		OnEvent: func(e host.Event) {
			if o.json {
				out.write(e)
			} else {
				m.printHostEvent(e)
			}
			page.publish(e, nil)
		},
	}
	m.personSettings(&hc, pol)
	h, ui, stop, err := m.startHost(hc, srcName, &page, !o.json && !o.noUI)
	if err != nil {
		return err
	}
	defer stop()
	inv := h.Invitation()
	data, err := inv.Marshal()
	if err == nil {
		err = os.WriteFile(file, data, 0o644)
	}
	if err != nil {
		h.Close()
		store.Update(id, func(r *invitations.Record) error { r.State = invitations.StateCancelled; return nil })
		return fmt.Errorf("saving the invitation: %w", err)
	}
	if o.json {
		addrs := make([]string, len(inv.Addresses))
		for i, a := range inv.Addresses {
			addrs[i] = a.String()
		}
		out.write(map[string]any{
			"type": "invitation", "time": time.Now().UTC(), "id": inv.ID, "file": file,
			"password": h.Password(), "expires": inv.Expires, "host_name": inv.HostName,
			"addresses": addrs, "log": h.LogPath(),
		})
	} else {
		fmt.Fprintf(m.Stdout, "Invitation %s saved to %s\n", inv.ID, file)
		fmt.Fprintf(m.Stdout, "Password: %s\n", h.Password())
		fmt.Fprintf(m.Stdout, "Give your helper the file and, separately (by phone or another chat), the password.\n")
		fmt.Fprintf(m.Stdout, "The invitation expires at %s. Close anything private before they connect.\n", inv.Expires.Local().Format("15:04 on Mon 2 Jan"))
		if ui != nil {
			m.showPage(ui.URL(), o.noBrowser, "See who is connected, chat and pause or stop sharing at")
		}
	}

	if o.email != "" {
		if err := m.mailInvitation(ctx, o, h.Invitation()); err != nil {
			m.report(out, o.json, fmt.Errorf("the invitation was not e-mailed: %w; send the file yourself", err))
		} else if o.json {
			out.write(map[string]any{"type": "mailed", "time": time.Now().UTC(), "to": o.email})
		} else {
			fmt.Fprintf(m.Stdout, "The bot is e-mailing the invitation to %s. Give them the password by phone or another chat, not by e-mail.\n", o.email)
		}
	}

	known := []string{"chat", "disconnect", "bandwidth", "pause", "resume", "grant", "deny", "revoke", "send_file", "accept_file", "decline_file", "help"}
	go readCommands(bufio.NewReader(m.Stdin), o.json, known, func(c command) {
		var err error
		if c.Type == "help" {
			fmt.Fprintln(m.Stderr, hostHelp)
		} else {
			err = hostCommand(h, c)
		}
		if err != nil {
			m.report(out, o.json, err)
		}
	}, func(err error) { m.report(out, o.json, err) })

	return h.Run(ctx)
}

// mailInvitation has the bot e-mail the invitation, over the agent link
// with this computer's agent key: the bot knows it from linking.
func (m *Main) mailInvitation(ctx context.Context, o inviteOptions, inv *invitations.Invitation) error {
	addr, pinHex := o.bot, o.botPin
	if addr == "" {
		addr = m.cfg.BotAddress
	}
	if pinHex == "" {
		pinHex = m.cfg.BotPin
	}
	if addr == "" || pinHex == "" {
		return errors.New("no bot configured: give --bot and --bot-pin, or set bot_address and bot_pin in the config file")
	}
	pin, err := agentlink.ParsePin(pinHex)
	if err != nil {
		return err
	}
	cert, err := agentlink.LoadOrCreateKey(filepath.Join(m.stateDir, agentKeyFile))
	if err != nil {
		return err
	}
	file, err := inv.Marshal()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	conn, err := agentlink.Dial(ctx, agentlink.ClientConfig{Addr: addr, BotPin: pin, Certificate: cert, Name: inv.HostName, Role: agentlink.RoleOneShot, Logger: m.logger})
	if err != nil {
		return err
	}
	defer conn.Close("done")
	if w, err := conn.Receive(ctx); err != nil || w.Type != agentlink.TypeWelcome {
		return fmt.Errorf("the bot did not welcome this computer: %v", err)
	}
	err = conn.Send(agentlink.Message{Type: agentlink.TypeMailInvitation, To: o.email, File: file, InvitationID: inv.ID, Expires: inv.Expires, Seq: 1})
	if err != nil {
		return err
	}
	for {
		r, err := conn.Receive(ctx)
		if err != nil {
			return err
		}
		switch r.Type {
		case agentlink.TypeMailSent:
			return nil
		case agentlink.TypeError:
			return errors.New(r.Text)
		}
	}
}

// hostDevices opens what sharing an X11 screen needs besides the picture:
// the window list for privacy (without it nothing can be masked, so its
// failure refuses to share), the clipboard, and, unless control is refused,
// XTEST and the ESC watcher. It sets them in cfg and returns a function
// that closes them.
func (m *Main) hostDevices(cfg *host.Config, srcName string) (release func(), err error) {
	var closers []func() error
	release = func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	if srcName == "wayland" {
		if !m.swayDevices(cfg, &closers) {
			// A wlroots compositor lets no client see other windows or
			// the person's keys: say so before sharing, and never
			// promise masking.
			if len(cfg.MaskedWindows) > 0 {
				return nil, errors.New("masked_windows cannot be honoured on this Wayland compositor (it shows no client the windows; sway does); remove them from the config to share")
			}
			fmt.Fprintln(m.Stderr, "Note: on this Wayland desktop gethelp cannot hide password prompts from your helper, and ESC does not take control back: use Stop control or Disconnect.")
		}
		if cfg.NoControl == "" {
			inj, err := openWaylandInput(m.Getenv("WAYLAND_DISPLAY"), m.Getenv("XDG_RUNTIME_DIR"), m.logger)
			if err != nil {
				m.logger.Warn("control will not be possible", "err", err)
			} else {
				closers = append(closers, inj.Close)
				cfg.Injector = inj
			}
		}
		return release, nil
	}
	if srcName == "portal" {
		m.portalDevices(cfg) // the person was told the limits before the desktop's dialog
		return release, nil
	}
	if srcName == "windows" {
		cs, err := m.windowsDevices(cfg)
		closers = append(closers, cs...)
		if err != nil {
			release()
			return nil, fmt.Errorf("cannot watch the secure desktop for privacy: %w", err)
		}
		return release, nil
	}
	if srcName != "x11" {
		return release, nil
	}
	display := m.Getenv("DISPLAY")
	wl, closeWindows, defaults, err := openX11Windows(display, m.logger)
	if err != nil {
		return nil, fmt.Errorf("cannot watch the windows for privacy: %w", err)
	}
	closers = append(closers, closeWindows)
	cfg.Windows = wl
	if cfg.SecurePrompts == nil {
		cfg.SecurePrompts = defaults
	}
	if clip, closeClip, err := openX11Clipboard(display, m.logger); err != nil {
		m.logger.Warn("the clipboard cannot be shared", "err", err)
	} else {
		closers = append(closers, closeClip)
		cfg.Clipboard = clip
	}
	if cfg.NoControl == "" {
		if inj, keys, err := openX11Control(display, m.logger); err != nil {
			m.logger.Warn("control will not be possible", "err", err)
		} else {
			closers = append(closers, inj.Close, keys.Close)
			cfg.Injector, cfg.Keys = inj, keys
		}
	}
	return release, nil
}

// swayDevices sets the window list and the ESC watcher of sway (through
// its IPC at $SWAYSOCK) in cfg and tells the person what they guarantee
// and what not. It reports false when $SWAYSOCK is not set or the IPC
// does not answer: another wlroots compositor, or sway unreachable.
func (m *Main) swayDevices(cfg *host.Config, closers *[]func() error) bool {
	socket := m.Getenv("SWAYSOCK")
	if socket == "" {
		return false
	}
	wl, keys, defaults, closeSway, err := openSway(socket, cfg.NoControl != "", m.logger)
	if err != nil {
		m.logger.Warn("sway's IPC does not answer: password prompts cannot be hidden, nor ESC watched", "err", err)
		return false
	}
	*closers = append(*closers, closeSway)
	cfg.Windows = wl
	if cfg.SecurePrompts == nil {
		cfg.SecurePrompts = defaults
	}
	if keys != nil {
		cfg.Keys = keys
	}
	note := "Note: on sway, gethelp blanks your helper's view while a password prompt (pinentry, polkit, ssh-askpass) is open"
	if len(cfg.MaskedWindows) > 0 {
		note += " and blacks out the windows you chose to hide (not their menus)"
	}
	note += "."
	if keys != nil && !cfg.IgnoreEscape {
		note += " While your helper has control, ESC takes it back (and does not reach your applications)."
	}
	fmt.Fprintln(m.Stderr, note)
	return true
}

// report shows a non-fatal problem.
func (m *Main) report(out *jsonOut, jsonMode bool, err error) {
	if jsonMode {
		out.write(newErrorEvent(err))
		return
	}
	fmt.Fprintf(m.Stderr, "gethelp: %s\n", userMessage(err))
}

func (m *Main) printHostEvent(e host.Event) {
	w := m.Stdout
	switch e.Type {
	case host.EventWaiting:
		fmt.Fprintln(w, "Waiting for your helper to connect. Press Ctrl-C to cancel the invitation.")
	case host.EventReconnecting:
		fmt.Fprintf(w, "The connection to %s was lost (%s). Waiting up to %d seconds for them to come back; Ctrl-C ends the session.\n", e.Helper, e.Reason, int(host.ResumeWindow.Seconds()))
	case host.EventConnected:
		if e.Resumed {
			fmt.Fprintf(w, "%s is back, from %s%s. The session goes on.\n", e.Helper, e.Addr, pathText(e.Path))
			break
		}
		fmt.Fprintf(w, "%s connected from %s%s, round trip %.1f ms. They can see what you share and chat with you.\n%s\n", e.Helper, e.Addr, pathText(e.Path), e.RTTms, terminalHelp)
	case host.EventAuthFailed:
		fmt.Fprintf(w, "Someone calling themselves %q at %s tried a wrong password (%d attempts left).\n", e.Helper, e.Addr, *e.AttemptsLeft)
	case host.EventLocked:
		fmt.Fprintf(w, "The invitation is now locked: %s. Nobody can use it any more.\n", e.Reason)
	case host.EventBusy:
		fmt.Fprintf(w, "%q at %s also tried to connect and was told you are busy.\n", e.Helper, e.Addr)
	case host.EventChat:
		if !e.Self {
			fmt.Fprintf(w, "[%s] %s\n", e.From, e.Text)
		}
	case host.EventDisconnected:
		fmt.Fprintf(w, "Disconnected: %s.\n", e.Reason)
		if e.Log != "" {
			fmt.Fprintf(w, "Session log: %s (check it with: gethelp log verify %s)\n", e.Log, e.Log)
		}
	case host.EventExpired:
		fmt.Fprintln(w, "The invitation expired before anyone connected.")
	case host.EventCancelled:
		fmt.Fprintf(w, "Invitation cancelled: %s.\n", e.Reason)
	case host.EventBandwidth:
		fmt.Fprintf(w, "Bandwidth: %s.\n", e.Level)
	case host.EventControlRequested:
		fmt.Fprintf(w, "%s asks to control your mouse and keyboard. Type /allow to let them (you can take control back at any time with ESC or /stop), or /deny.\n", e.Helper)
		if e.AdminPrompts {
			fmt.Fprintln(w, "Type /allow admin to also let them answer administrator prompts for you.")
		}
	case host.EventControlGranted:
		fmt.Fprintf(w, "%s is in control (%s). Press ESC or type /stop to take control back.\n", e.Helper, strings.Join(e.Capabilities, ", "))
	case host.EventControlDenied:
		if e.By == session.ByDeny {
			fmt.Fprintf(w, "You declined %s's request for control.\n", e.Helper)
		} else {
			fmt.Fprintf(w, "%s asked for control and was refused: %s.\n", e.Helper, e.Reason)
		}
	case host.EventControlRevoked:
		fmt.Fprintf(w, "%s no longer controls your computer (%s).\n", e.Helper, revokedBy(e.By))
	case host.EventFileOffer:
		fmt.Fprintf(w, "%s offers you a file: %s (%s). Type /accept %s to save it in %s, or /decline %s.\n", e.Helper, e.Name, byteSize(e.Size), e.ID, filesDir(m.cfg, m.Getenv), e.ID)
	case host.EventFileReceived:
		fmt.Fprintf(w, "Received %s (%s, SHA-256 checked): %s\n", e.Name, byteSize(e.Size), e.Path)
	case host.EventFileSent:
		fmt.Fprintf(w, "Your helper received %s.\n", e.Name)
	case host.EventFileFailed:
		fmt.Fprintf(w, "File %s: %s.\n", e.Name, e.Reason)
	case host.EventPrivacy:
		if e.Privacy != "" {
			fmt.Fprintf(w, "A password prompt (%s) is open: your helper sees nothing until it is gone.\n", e.Text)
		} else {
			fmt.Fprintln(w, "Your helper sees your screen again.")
		}
	case host.EventSharing:
		if *e.Paused {
			fmt.Fprintln(w, "Sharing paused: your helper sees the last picture until you /resume.")
		} else {
			fmt.Fprintln(w, "Sharing resumed.")
		}
	}
}

const hostHelp = `Type a message and press Enter to chat.
/pause, /resume          pause or resume screen sharing
/bandwidth LEVEL         low, medium, high or full
/allow [admin]           let the helper control your mouse and keyboard
/deny                    decline the helper's request for control
/stop                    take control back (ESC on your keyboard does too)
/allow files             let the helper offer you files (each one you accept or decline)
/send FILE               send a file to the helper
/accept ID, /decline ID  answer a file the helper offers
/quit                    disconnect the helper`

func revokedBy(by string) string {
	switch by {
	case session.ByEscape:
		return "you pressed ESC"
	case session.ByButton:
		return "you stopped it"
	case session.ByHelper:
		return "they gave it back"
	case session.ByDisconnect:
		return "the session ended"
	}
	return by
}

// openSource opens the screen to share and says which kind it opened.
func (m *Main) openSource(name string) (host.Source, string, error) {
	display, wayland := m.Getenv("DISPLAY"), m.Getenv("WAYLAND_DISPLAY")
	auto := name == ""
	if auto {
		switch {
		case wayland != "":
			name = "wayland" // under Xwayland, $DISPLAY shows X clients only
		case display != "":
			name = "x11"
		default:
			name = defaultSource // windows on Windows
		}
	}
	switch name {
	case "none":
		return nil, name, nil
	case "synthetic":
		return synthetic.New(0, 0, 0), name, nil
	case "x11":
		if display == "" {
			return nil, name, errors.New("--source x11 needs an X display, but $DISPLAY is not set")
		}
		src, err := openX11(display, m.logger)
		return src, name, err
	case "wayland":
		if wayland == "" {
			return nil, name, errors.New("--source wayland needs a Wayland display, but $WAYLAND_DISPLAY is not set")
		}
		src, err := openWayland(wayland, m.Getenv("XDG_RUNTIME_DIR"), m.logger)
		if err != nil && auto && waylandUnsupported(err) && portalAvailable(m.sessionBus()) {
			return m.openPortalSource() // GNOME, KDE
		}
		if err != nil {
			return nil, name, fmt.Errorf("%w (gethelp shares sway and other wlroots compositors itself; on GNOME and KDE use --source portal)", err)
		}
		return src, name, nil
	case "portal":
		return m.openPortalSource()
	case "windows":
		src, err := openWindowsScreen(m.logger)
		return src, name, err
	}
	return nil, name, fmt.Errorf("unknown --source %q (use x11, wayland, portal, windows, synthetic or none)", name)
}

// hostDefaults fills in the listen address and the person's name from the
// config, and the name from the account and computer when there is none.
func (m *Main) hostDefaults(listen, name string) (string, string) {
	if listen == "" {
		listen = m.cfg.Listen
	}
	if name == "" {
		name = m.cfg.DisplayName
	}
	if name == "" {
		name = defaultName()
	}
	return listen, name
}

func defaultName() string {
	name := "someone"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		name += " on " + h
	}
	return name
}

// readPasswordFile reads a password from the first line of a file.
func readPasswordFile(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading the password file: %w", err)
	}
	p, _, _ := strings.Cut(string(data), "\n")
	p = strings.TrimSpace(p)
	if p == "" {
		return "", fmt.Errorf("the password file %s is empty", path)
	}
	return p, nil
}

// pathText says how a connection reaches the other side, for the
// terminal: "" when unknown.
func pathText(path string) string {
	switch path {
	case session.PathLAN:
		return " (direct, same network)"
	case session.PathDirect:
		return " (direct)"
	case session.PathPunched:
		return " (direct, through NAT)"
	case session.PathRelayed:
		return " (relayed, end-to-end encrypted)"
	}
	return ""
}

// personSettings fills in what the administrator's policy and the person's
// settings say about control, administrator prompts, files and privacy:
// the same for an invitation, offers of help and the agent's tickets.
func (m *Main) personSettings(hc *host.Config, pol Policy) {
	hc.NoControl = noControl(pol, m.cfg)
	hc.IgnoreEscape = m.cfg.EscStopsControl != nil && !*m.cfg.EscStopsControl
	hc.AdminPrompts = canAnswerAdminPrompts()
	hc.FilesDir = filesDir(m.cfg, m.Getenv)
	hc.SecurePrompts = m.cfg.SecurePrompts
	hc.MaskedWindows = m.cfg.MaskedWindows
}

// hostPage is the person's local web page once it runs; events before
// that (or without a page) are not published.
type hostPage struct {
	mu  sync.Mutex
	srv *hostui.Server // guarded by mu
}

// publish shows e on the page, if there is one, then calls then (if not
// nil) with it, under the page's lock.
func (p *hostPage) publish(e host.Event, then func(*hostui.Server)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.srv == nil {
		return
	}
	p.srv.Publish(e)
	if then != nil {
		then(p.srv)
	}
}

// startHost opens the devices hc's source needs, the host and, with
// withPage, its local web page (set in page). stop closes them all.
func (m *Main) startHost(hc host.Config, srcName string, page *hostPage, withPage bool) (*host.Host, *hostui.Server, func(), error) {
	release, err := m.hostDevices(&hc, srcName)
	if err != nil {
		return nil, nil, nil, err
	}
	h, err := host.New(hc)
	if err != nil {
		release()
		return nil, nil, nil, err
	}
	stop := func() { h.Close(); release() }
	if !withPage {
		return h, nil, stop, nil
	}
	srv, err := hostui.New(h, hostui.Options{Level: hc.Level.String(), Logger: m.logger})
	if err != nil {
		stop()
		return nil, nil, nil, err
	}
	page.mu.Lock()
	page.srv = srv
	page.mu.Unlock()
	return h, srv, func() { srv.Close(); stop() }, nil
}
