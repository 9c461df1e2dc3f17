package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/mail"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gethelp/gethelp/agentlink"
	"github.com/gethelp/gethelp/bot"
	"github.com/gethelp/gethelp/bot/discord"
	"github.com/gethelp/gethelp/bot/email"
	"github.com/gethelp/gethelp/bot/slack"
	"github.com/gethelp/gethelp/bot/store"
	"github.com/gethelp/gethelp/bot/webchat"
	"github.com/gethelp/gethelp/rendezvous"
)

// BotConfig is the bot: section of the configuration file
// (config.example.yaml documents each key). Secrets never come from here:
// the SMTP password comes from $GETHELP_SMTP_PASSWORD or the file
// smtp.password_file names.
type BotConfig struct {
	Database    string `yaml:"database"`     // default <state_dir>/bot/bot.db
	KeyFile     string `yaml:"key_file"`     // the bot's agent-link key; default <state_dir>/bot/bot-key.pem
	AgentListen string `yaml:"agent_listen"` // UDP; default ":7443"
	AdminListen string `yaml:"admin_listen"` // /healthz and /metrics; default "127.0.0.1:9464"; "off" for none
	// RendezvousListen is the UDP address of the rendezvous and STUN
	// service that helps helpers through NAT; "" for none.
	RendezvousListen string `yaml:"rendezvous_listen"`
	// RendezvousAddress is how agents reach the rendezvous, told to them
	// so that their invitations name it; default the bot's own host at
	// rendezvous_listen's port.
	RendezvousAddress string `yaml:"rendezvous_address"`
	// RendezvousAltListen is the rendezvous's second UDP port, which lets
	// gethelp doctor tell NAT types apart: default the next port of
	// rendezvous_listen; "off" for none.
	RendezvousAltListen string `yaml:"rendezvous_alt_listen"`
	// Relay is the TURN relay the rendezvous offers hosts (see
	// config.example.yaml): embedded on the rendezvous's port by default.
	Relay struct {
		Mode       string `yaml:"mode"`        // embedded (default), external or off
		Address    string `yaml:"address"`     // external: the TURN server, host:port
		SecretFile string `yaml:"secret_file"` // the TURN REST secret; or $GETHELP_TURN_SECRET
		PublicIP   string `yaml:"public_ip"`   // embedded: where relayed ports are announced
		Ports      string `yaml:"ports"`       // embedded: "49152-65535"; default any
	} `yaml:"relay"`

	InvitationVia string   `yaml:"invitation_via"` // email (default) or chat
	PasswordVia   string   `yaml:"password_via"`   // chat (default) or email
	Helpers       []string `yaml:"helpers"`
	HelpDesk      struct {
		Network string `yaml:"network"`
		Channel string `yaml:"channel"`
	} `yaml:"help_desk"`

	Email struct {
		From string `yaml:"from"` // "gethelp <bot@example.org>"
		SMTP struct {
			Addr         string `yaml:"addr"`
			Security     string `yaml:"security"` // starttls (default), tls, none (loopback only)
			Username     string `yaml:"username"`
			PasswordFile string `yaml:"password_file"`
		} `yaml:"smtp"`
		Inbound struct {
			Listen string `yaml:"listen"` // where replies come in (SMTP); "" for none
			Domain string `yaml:"domain"`
			Base   string `yaml:"base"` // local part before '+'; default "gethelp"
		} `yaml:"inbound"`
	} `yaml:"email"`

	// Slack: tokens come from $GETHELP_SLACK_BOT_TOKEN, $GETHELP_SLACK_APP_TOKEN
	// and $GETHELP_SLACK_SIGNING_SECRET, or from the files named here.
	Slack *struct {
		APIURL            string `yaml:"api_url"`   // default https://slack.com/api/ (GovSlack, proxies, fakes)
		Mode              string `yaml:"mode"`      // socket (default when an app token is set) or http
		HTTPAddr          string `yaml:"http_addr"` // http mode: where Slack's requests arrive
		BotTokenFile      string `yaml:"bot_token_file"`
		AppTokenFile      string `yaml:"app_token_file"`
		SigningSecretFile string `yaml:"signing_secret_file"`
	} `yaml:"slack"`

	// Discord: the token comes from $GETHELP_DISCORD_TOKEN or token_file.
	Discord *struct {
		APIURL        string   `yaml:"api_url"` // default https://discord.com (proxies, fakes)
		ApplicationID string   `yaml:"application_id"`
		Guilds        []string `yaml:"guilds"` // register /gethelp in these servers at once; else globally
		TokenFile     string   `yaml:"token_file"`
	} `yaml:"discord"`
	// HelperAddresses are helpers' e-mail addresses by "network:user-id",
	// vouched for by the administrator, for networks that give bots none
	// (Discord).
	HelperAddresses map[string]string `yaml:"helper_addresses"`

	Webchat *struct {
		Listen    string `yaml:"listen"`
		StateFile string `yaml:"state_file"` // default <state_dir>/bot/webchat.json

		Workspace string         `yaml:"workspace"`
		Users     []webchat.User `yaml:"users"`
		Channels  []string       `yaml:"channels"`
	} `yaml:"webchat"`
}

// loadBotConfig reads the bot: section of a configuration file.
func loadBotConfig(path string) (BotConfig, error) {
	c, err := loadConfig(path, true)
	if err != nil {
		return BotConfig{}, err
	}
	if c.Bot == nil {
		return BotConfig{}, fmt.Errorf("config %s has no bot: section (see config.example.yaml)", path)
	}
	return *c.Bot, nil
}

// botCmd runs the bot.
func (m *Main) botCmd(ctx context.Context, args []string) error {
	fs := m.flags("bot", "bot --config FILE [--json]")
	cfgPath := fs.String("config", "", "the bot's configuration file (see config.example.yaml)")
	jsonMode := fs.Bool("json", false, "print a ready event as JSON with the addresses it listens on")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *cfgPath == "" || fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	cfg, err := loadBotConfig(*cfgPath)
	if err != nil {
		return err
	}
	b, err := m.startBot(ctx, cfg)
	if err != nil {
		return err
	}
	defer b.close()
	if *jsonMode {
		(&jsonOut{w: m.Stdout}).write(b.ready)
	} else {
		fmt.Fprintf(m.Stdout, "gethelp bot ready.\nAgents connect to %s with bot_pin %s\n", b.ready.AgentAddr, b.ready.BotPin)
		if b.ready.WebchatURL != "" {
			fmt.Fprintf(m.Stdout, "Web chat: %s\n", b.ready.WebchatURL)
		}
		if b.ready.DiscordInstallURL != "" {
			fmt.Fprintf(m.Stdout, "Install in a Discord server: %s\n", b.ready.DiscordInstallURL)
		}
		if b.ready.AdminAddr != "" {
			fmt.Fprintf(m.Stdout, "Health and metrics: http://%s/healthz, /metrics\n", b.ready.AdminAddr)
		}
	}
	return b.run(ctx)
}

// readyEvent says where a started bot listens.
type readyEvent struct {
	Type           string `json:"type"` // "ready"
	AgentAddr      string `json:"agent_addr"`
	BotPin         string `json:"bot_pin"`
	WebchatURL     string `json:"webchat_url,omitempty"`
	AdminAddr      string `json:"admin_addr,omitempty"`
	InboundAddr    string `json:"inbound_addr,omitempty"`
	RendezvousAddr string `json:"rendezvous_addr,omitempty"`
	RelayAddr      string `json:"relay_addr,omitempty"`
	// DiscordInstallURL is the link that installs the bot in a server.
	DiscordInstallURL string `json:"discord_install_url,omitempty"`
	// RendezvousAltAddr is the rendezvous's second port (NAT types).
	RendezvousAltAddr string `json:"rendezvous_alt_addr,omitempty"`
}

// runningBot is a bot with everything it listens on.
type runningBot struct {
	core    *bot.Core
	store   *store.SQLite
	agents  *agentlink.Server
	chat    *webchat.Server
	inbound *email.Inbound
	inLn    net.Listener
	admin   *http.Server
	adminLn net.Listener
	ready   readyEvent
	closers []func()
}

func (b *runningBot) close() {
	for i := len(b.closers) - 1; i >= 0; i-- {
		b.closers[i]()
	}
}

// run serves until ctx ends.
func (b *runningBot) run(ctx context.Context) error {
	errs := make(chan error, 3)
	if b.inbound != nil {
		go func() {
			if err := b.inbound.Serve(b.inLn); err != nil && !errors.Is(err, email.ErrServerClosed) {
				errs <- fmt.Errorf("e-mail replies: %w", err)
			}
		}()
	}
	if b.admin != nil {
		go func() {
			if err := b.admin.Serve(b.adminLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errs <- fmt.Errorf("admin port: %w", err)
			}
		}()
	}
	coreDone := make(chan error, 1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { coreDone <- b.core.Run(ctx, b.agents) }()
	var err error
	select {
	case err = <-coreDone:
		return err
	case err = <-errs:
	}
	cancel()
	<-coreDone
	return err
}

// startBot opens the store, the listeners and the networks.
func (m *Main) startBot(ctx context.Context, cfg BotConfig) (*runningBot, error) {
	b := &runningBot{}
	ok := false
	defer func() {
		if !ok {
			b.close()
		}
	}()
	dir := filepath.Join(m.stateDir, "bot")
	if cfg.Database == "" {
		cfg.Database = filepath.Join(dir, "bot.db")
	}
	if cfg.KeyFile == "" {
		cfg.KeyFile = filepath.Join(dir, "bot-key.pem")
	}
	if cfg.AgentListen == "" {
		cfg.AgentListen = ":7443"
	}
	if cfg.AdminListen == "" {
		cfg.AdminListen = "127.0.0.1:9464"
	}
	if err := os.MkdirAll(filepath.Dir(cfg.Database), 0o700); err != nil {
		return nil, err
	}
	st, err := store.OpenSQLite(ctx, cfg.Database)
	if err != nil {
		return nil, err
	}
	b.store = st
	b.closers = append(b.closers, func() { st.Close() })

	cert, err := agentlink.LoadOrCreateKey(cfg.KeyFile)
	if err != nil {
		return nil, err
	}
	srv, err := agentlink.Listen(agentlink.ServerConfig{Addr: cfg.AgentListen, Certificate: cert, Logger: m.logger})
	if err != nil {
		return nil, err
	}
	b.agents = srv
	b.closers = append(b.closers, func() { srv.Close() })
	pin := agentlink.Pin(cert)
	b.ready = readyEvent{Type: "ready", AgentAddr: srv.Addr().String(), BotPin: hex.EncodeToString(pin[:])}

	if cfg.RendezvousListen != "" {
		relay, err := m.relayConfig(&cfg, cert)
		if err != nil {
			return nil, err
		}
		alt, err := openRendezvousAlt(cfg)
		if err != nil {
			return nil, err
		}
		rv, err := rendezvous.Listen(cfg.RendezvousListen, rendezvous.ServerConfig{Logger: m.logger.With("component", "rendezvous"), Relay: relay, Alt: alt})
		if err != nil {
			if alt != nil {
				alt.Close()
			}
			return nil, fmt.Errorf("rendezvous_listen %s: %w", cfg.RendezvousListen, err)
		}
		b.closers = append(b.closers, func() { rv.Close() })
		b.ready.RendezvousAddr = rv.Addr().String()
		if a := rv.AltAddr(); a.IsValid() {
			b.ready.RendezvousAltAddr = a.String()
		}
		if a := rv.RelayAddr(); a.IsValid() {
			b.ready.RelayAddr = a.String()
		} else if relay != nil {
			b.ready.RelayAddr = relay.External
		}
	}

	var nets []bot.Network
	if w := cfg.Webchat; w != nil {
		if w.StateFile == "" {
			w.StateFile = filepath.Join(dir, "webchat.json")
		}
		// The chat stands in for Slack, whose state and address outlive a
		// restart of the bot: so do its messages and its token.
		token, err := loadOrCreateToken(w.StateFile + ".token")
		if err != nil {
			return nil, err
		}
		chat, err := webchat.New(webchat.Options{Addr: w.Listen, Workspace: w.Workspace, Users: w.Users, Channels: w.Channels,
			StateFile: w.StateFile, Token: token, Logger: m.logger})
		if err != nil {
			return nil, err
		}
		b.chat = chat
		b.closers = append(b.closers, func() { chat.Close() })
		nets = append(nets, chat)
		b.ready.WebchatURL = chat.URL()
	}
	if sc := cfg.Slack; sc != nil {
		botToken, err := m.secret("GETHELP_SLACK_BOT_TOKEN", sc.BotTokenFile)
		if err != nil {
			return nil, err
		}
		appToken, err := m.secret("GETHELP_SLACK_APP_TOKEN", sc.AppTokenFile)
		if err != nil {
			return nil, err
		}
		signing, err := m.secret("GETHELP_SLACK_SIGNING_SECRET", sc.SigningSecretFile)
		if err != nil {
			return nil, err
		}
		mode := sc.Mode
		if mode == "" && appToken == "" && signing != "" {
			mode = slack.ModeHTTP
		}
		a, err := slack.New(slack.Options{APIURL: sc.APIURL, BotToken: botToken, AppToken: appToken, SigningSecret: signing,
			Mode: mode, HTTPAddr: sc.HTTPAddr, Logger: m.logger})
		if err != nil {
			return nil, err
		}
		nets = append(nets, a)
	}
	if dc := cfg.Discord; dc != nil {
		tok, err := m.secret("GETHELP_DISCORD_TOKEN", dc.TokenFile)
		if err != nil {
			return nil, err
		}
		a, err := discord.New(discord.Options{APIURL: dc.APIURL, Token: tok, ApplicationID: dc.ApplicationID, Guilds: dc.Guilds, Logger: m.logger})
		if err != nil {
			return nil, err
		}
		nets = append(nets, a)
		b.ready.DiscordInstallURL = discord.InstallURL(dc.ApplicationID)
	}
	if len(nets) == 0 {
		return nil, errors.New("the bot's config names no chat network (webchat, slack or discord)")
	}

	var mailer bot.Mailer
	replyAddress := ""
	if e := cfg.Email; e.SMTP.Addr != "" {
		from, err := mail.ParseAddress(e.From)
		if err != nil {
			return nil, fmt.Errorf("email.from %q is not an address: %v", e.From, err)
		}
		password := m.Getenv("GETHELP_SMTP_PASSWORD")
		if e.SMTP.PasswordFile != "" {
			if password, err = readPasswordFile(e.SMTP.PasswordFile); err != nil {
				return nil, err
			}
		}
		sender, err := email.NewSender(email.SenderConfig{Addr: e.SMTP.Addr, Security: e.SMTP.Security, Username: e.SMTP.Username, Password: password, Logger: m.logger})
		if err != nil {
			return nil, err
		}
		mailer = &email.Mailer{Sender: sender, From: *from}
	}
	if in := cfg.Email.Inbound; in.Listen != "" {
		if in.Domain == "" {
			return nil, errors.New("email.inbound.domain is not set: replies need their domain")
		}
		if in.Base == "" {
			in.Base = "gethelp"
		}
		replyAddress = in.Base + "+%s@" + in.Domain
		ln, err := net.Listen("tcp", in.Listen)
		if err != nil {
			return nil, err
		}
		b.inLn = ln
		b.ready.InboundAddr = ln.Addr().String()
		b.inbound = &email.Inbound{Domain: in.Domain, Base: in.Base, Logger: m.logger}
		b.closers = append(b.closers, func() { b.inbound.Close() })
	}

	core, err := bot.New(bot.Config{
		Store: st, Networks: nets, Mail: mailer,
		InvitationVia: cfg.InvitationVia, PasswordVia: cfg.PasswordVia,
		HelpDesk: bot.Place{Channel: cfg.HelpDesk.Channel}, HelpDeskNetwork: cfg.HelpDesk.Network,
		Helpers: cfg.Helpers, HelperAddresses: cfg.HelperAddresses, ReplyAddress: replyAddress, Logger: m.logger,
		Rendezvous: rendezvousForAgents(cfg, b.ready.RendezvousAddr),
	})
	if err != nil {
		return nil, err
	}
	b.core = core
	if b.inbound != nil {
		b.inbound.Handler = email.ReplyHandler(core)
	}

	if cfg.AdminListen != "off" {
		reg := prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		core.RegisterMetrics(reg)
		mux := http.NewServeMux()
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
			if err := st.Ping(r.Context()); err != nil {
				http.Error(w, "store: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
			fmt.Fprintln(w, "ok")
		})
		mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		ln, err := net.Listen("tcp", cfg.AdminListen)
		if err != nil {
			return nil, fmt.Errorf("admin port: %w", err)
		}
		b.adminLn = ln
		b.admin = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		b.ready.AdminAddr = ln.Addr().String()
		b.closers = append(b.closers, func() { b.admin.Close() })
	}
	ok = true
	return b, nil
}

// secret reads a secret from the environment variable env, or else from
// the first line of file; "" when neither is set.
func (m *Main) secret(env, file string) (string, error) {
	if v := strings.TrimSpace(m.Getenv(env)); v != "" {
		return v, nil
	}
	if file == "" {
		return "", nil
	}
	return readPasswordFile(file)
}

// loadOrCreateToken returns the 32-hex-digit token kept in path, making it
// (mode 0600) the first time.
func loadOrCreateToken(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	var raw [16]byte
	rand.Read(raw[:])
	tok := hex.EncodeToString(raw[:])
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", err
	}
	return tok, nil
}

// relayConfig reads the bot's relay: section. The embedded relay's secret
// defaults to one derived from the bot's own key, so that it outlives a
// restart; an external relay needs the secret it was configured with.
func (m *Main) relayConfig(cfg *BotConfig, cert tls.Certificate) (*rendezvous.RelayConfig, error) {
	rc := cfg.Relay
	secret, err := m.secret("GETHELP_TURN_SECRET", rc.SecretFile)
	if err != nil {
		return nil, err
	}
	switch rc.Mode {
	case "off":
		return nil, nil
	case "external":
		if rc.Address == "" {
			return nil, errors.New("relay.mode external needs relay.address (the TURN server, host:port)")
		}
		if _, _, err := net.SplitHostPort(rc.Address); err != nil {
			return nil, fmt.Errorf("relay.address %q: %v", rc.Address, err)
		}
		if secret == "" {
			return nil, errors.New("relay.mode external needs the TURN server's secret: relay.secret_file or $GETHELP_TURN_SECRET")
		}
		return &rendezvous.RelayConfig{Secret: secret, External: rc.Address}, nil
	case "", "embedded":
	default:
		return nil, fmt.Errorf("relay.mode %q: want embedded, external or off", rc.Mode)
	}
	out := &rendezvous.RelayConfig{Secret: secret}
	if secret == "" {
		key, ok := cert.PrivateKey.(ed25519.PrivateKey)
		if !ok {
			return nil, errors.New("the bot key is not Ed25519; set relay.secret_file")
		}
		sum := sha256.Sum256(append([]byte("gethelp relay secret\x00"), key.Seed()...))
		out.Secret = hex.EncodeToString(sum[:])
	}
	if rc.PublicIP != "" {
		ip, err := netip.ParseAddr(rc.PublicIP)
		if err != nil {
			return nil, fmt.Errorf("relay.public_ip %q is not an IP address", rc.PublicIP)
		}
		out.RelayIP = ip
	}
	if rc.Ports != "" {
		lo, hi, ok := strings.Cut(rc.Ports, "-")
		a, err1 := strconv.ParseUint(strings.TrimSpace(lo), 10, 16)
		b, err2 := strconv.ParseUint(strings.TrimSpace(hi), 10, 16)
		if !ok || err1 != nil || err2 != nil || a == 0 || a > b {
			return nil, fmt.Errorf("relay.ports %q: want LOW-HIGH, e.g. 49152-65535", rc.Ports)
		}
		out.MinPort, out.MaxPort = uint16(a), uint16(b)
	}
	return out, nil
}

// rendezvousForAgents is the rendezvous the bot tells agents about: the
// configured rendezvous_address, or ":port" (the bot's own host, as the
// agent reaches it) of the running rendezvous at listening; "" for none.
func rendezvousForAgents(cfg BotConfig, listening string) string {
	if cfg.RendezvousAddress != "" {
		return cfg.RendezvousAddress
	}
	ap, err := netip.ParseAddrPort(listening)
	if err != nil {
		return ""
	}
	return ":" + strconv.Itoa(int(ap.Port()))
}
