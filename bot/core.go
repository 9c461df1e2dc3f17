package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gethelp/gethelp/agentlink"
	"github.com/gethelp/gethelp/bot/store"
)

// Channels the invitation and its password can travel by.
const (
	ViaEmail = "email"
	ViaChat  = "chat"
)

// Config configures a Core. Only Store and at least one Network are
// required.
type Config struct {
	Store    store.Store
	Networks []Network
	// Mail sends e-mail; nil means no e-mail (then both the invitation and
	// the password cannot go by e-mail, and the core refuses to start if
	// the delivery settings ask for it).
	Mail Mailer
	// InvitationVia and PasswordVia say how each travels: ViaEmail or
	// ViaChat (a direct message). They must differ. Defaults: the
	// invitation by e-mail, the password by chat.
	InvitationVia, PasswordVia string
	// HelpDesk is where requests without a named helper go, for a helper
	// to take; "" for the network's channel means none.
	HelpDesk Place
	// HelpDeskNetwork names the network of HelpDesk.
	HelpDeskNetwork string
	// Helpers, when not empty, are the only people who may be asked to
	// help or take tickets: e-mail addresses, "@domain" for a whole
	// domain, or "network:user-id".
	Helpers []string
	// HelperAddresses are e-mail addresses the administrator vouches for,
	// by "network:user-id", for networks that give bots none (Discord).
	HelperAddresses map[string]string
	// ReplyAddress makes a ticket's reply address: "bot+%s@example.org"
	// where %s is the ticket's token. Empty: e-mail replies are not taken.
	ReplyAddress string
	// Rendezvous is told to every agent that connects, for its
	// invitations: "host:port", or ":port" on the bot's own host; "" for
	// none (see agentlink.Message.Rendezvous).
	Rendezvous string
	// LinkCodeTTL is how long a link code works; zero means 10 minutes.
	LinkCodeTTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives diagnostics; nil discards. Passwords never reach it.
	Logger *slog.Logger
}

// Core is the bot: links, tickets, delivery and the chat broker.
type Core struct {
	cfg    Config
	store  store.Store
	nets   map[string]Network
	logger *slog.Logger

	mu      sync.Mutex
	agents  map[string]*agentlink.Conn // by agent key; guarded by mu
	kick    chan struct{}              // cap 1: the outbox has something new
	metrics *metrics                   // guarded by mu; nil until RegisterMetrics
	wg      sync.WaitGroup
}

// New checks cfg and returns a Core; Run starts it.
func New(cfg Config) (*Core, error) {
	if cfg.Store == nil {
		return nil, errors.New("bot: no store")
	}
	if len(cfg.Networks) == 0 {
		return nil, errors.New("bot: no chat network")
	}
	if cfg.InvitationVia == "" {
		cfg.InvitationVia = ViaEmail
	}
	if cfg.PasswordVia == "" {
		cfg.PasswordVia = ViaChat
	}
	for _, v := range []string{cfg.InvitationVia, cfg.PasswordVia} {
		if v != ViaEmail && v != ViaChat {
			return nil, fmt.Errorf("bot: unknown delivery channel %q (use email or chat)", v)
		}
	}
	if cfg.InvitationVia == cfg.PasswordVia {
		return nil, fmt.Errorf("bot: the invitation and its password must travel by different channels, both are set to %s", cfg.PasswordVia)
	}
	if cfg.Mail == nil && (cfg.InvitationVia == ViaEmail || cfg.PasswordVia == ViaEmail) {
		return nil, errors.New("bot: e-mail delivery is configured but no mail server is")
	}
	if cfg.LinkCodeTTL <= 0 {
		cfg.LinkCodeTTL = 10 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Core{
		cfg:    cfg,
		store:  cfg.Store,
		nets:   make(map[string]Network),
		logger: logger.With("component", "bot"),
		agents: make(map[string]*agentlink.Conn),
		kick:   make(chan struct{}, 1),
	}
	for _, n := range cfg.Networks {
		if _, dup := c.nets[n.Name()]; dup {
			return nil, fmt.Errorf("bot: two networks named %q", n.Name())
		}
		c.nets[n.Name()] = n
	}
	if cfg.HelpDesk.Channel != "" && c.nets[cfg.HelpDeskNetwork] == nil {
		return nil, fmt.Errorf("bot: the help desk's network %q is not configured", cfg.HelpDeskNetwork)
	}
	return c, nil
}

// Run runs the networks, the agent link and the outbox until ctx ends.
// agents may be nil (no agent can connect).
func (c *Core) Run(ctx context.Context, agents *agentlink.Server) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(c.nets)+2)
	for _, n := range c.nets {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			if err := n.Run(ctx, c); err != nil && ctx.Err() == nil {
				errs <- fmt.Errorf("bot: %s: %w", n.Name(), err)
			}
		}()
	}
	if agents != nil {
		c.wg.Add(1)
		go func() { defer c.wg.Done(); c.serveAgents(ctx, agents) }()
	}
	c.wg.Add(1)
	go func() { defer c.wg.Done(); c.deliverLoop(ctx) }()
	var err error
	select {
	case <-ctx.Done():
	case err = <-errs:
	}
	cancel()
	c.wg.Wait()
	return err
}

func (c *Core) now() time.Time { return c.cfg.Now().UTC() }
