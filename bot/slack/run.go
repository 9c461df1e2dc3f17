package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/gethelp/gethelp/bot"
)

// queueSize bounds what was received and not yet handled.
const queueSize = 1024

// job is one thing a person did, acknowledged to Slack, for the worker.
type job struct {
	command *slashCommand
	press   *interaction
	post    *messageEvent
	team    string // for a post: the payload's team_id
	id      string // the envelope's id, when the payload has no id of its own
}

// Run receives what people do in Slack, in Socket Mode or (ModeHTTP) from
// Handler, and passes it to h one call at a time until ctx ends; it
// returns nil then. First it checks the bot token (auth.test): a token
// Slack refuses ends Run with an error wrapping bot.ErrPermanent; while
// Slack cannot be reached it tries again. In Socket Mode it returns such
// an error too when the app token is refused; it reconnects by itself
// when Slack asks it to or the connection drops. In ModeHTTP with
// Options.HTTPAddr it serves Handler there and returns the listener's
// error. A second Run while one receives returns ErrRunning.
//
// Every envelope (or HTTP request) is acknowledged at once, before h sees
// it, so that Slack's 3-second deadline holds however slow h is; the
// reply to a command or a button press is posted afterwards, ephemeral,
// through the payload's response_url (or chat.postEphemeral where that
// fails).
func (a *Adapter) Run(ctx context.Context, h bot.Handler) error {
	if !a.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer a.running.Store(false)
	if err := a.checkToken(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { a.work(ctx, h) })
	var err error
	if a.opts.Mode == ModeHTTP {
		err = a.serve(ctx)
	} else {
		err = a.socket(ctx)
	}
	cancel()
	wg.Wait()
	return err
}

// checkToken calls auth.test until it answers, or ctx ends.
func (a *Adapter) checkToken(ctx context.Context) error {
	wait := time.Second
	for {
		s, err := a.whoami(ctx)
		if err == nil {
			a.logger.Info("connected to Slack", "team", s.TeamID, "bot_user", s.UserID)
			return nil
		}
		if errors.Is(err, bot.ErrPermanent) || ctx.Err() != nil {
			return err
		}
		a.logger.Warn("cannot reach Slack; trying again", "err", err, "in", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, time.Minute)
	}
}

// socket runs the Socket Mode connection until ctx ends.
func (a *Adapter) socket(ctx context.Context) error {
	smc := socketmode.New(a.api, socketmode.OptionLog(logOutput{a.logger}))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- smc.RunContext(ctx) }()
	for {
		select {
		case <-ctx.Done():
			<-done
			return nil
		case err := <-done:
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("slack: Socket Mode: %w", classify("apps.connections.open", err))
		case evt := <-smc.Events:
			if err := a.onSocketEvent(ctx, smc, evt); err != nil {
				cancel()
				<-done
				return err
			}
		}
	}
}

// onSocketEvent acknowledges and queues one Socket Mode event; it returns
// an error only when the connection cannot work (a refused app token).
func (a *Adapter) onSocketEvent(ctx context.Context, smc *socketmode.Client, evt socketmode.Event) error {
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		a.logger.Debug("Socket Mode: connecting")
		return nil
	case socketmode.EventTypeConnected:
		a.logger.Info("Socket Mode: connected")
		return nil
	case socketmode.EventTypeHello:
		a.logger.Debug("Socket Mode: hello")
		return nil
	case socketmode.EventTypeConnectionError:
		if e, ok := evt.Data.(*slack.ConnectionErrorEvent); ok {
			err := classify("apps.connections.open", e.ErrorObj)
			if err.Permanent {
				return fmt.Errorf("slack: Socket Mode: %w", err)
			}
			a.logger.Warn("Socket Mode: cannot connect; trying again", "err", err, "in", e.Backoff)
		}
		return nil
	case socketmode.EventTypeInvalidAuth:
		return fmt.Errorf("slack: Socket Mode: %w", &Error{Method: "apps.connections.open", Code: "invalid_auth", Permanent: true, Err: errors.New("invalid_auth")})
	case socketmode.EventTypeIncomingError, socketmode.EventTypeErrorWriteFailed:
		a.logger.Warn("Socket Mode: connection trouble", "event", evt.Type)
		return nil
	case socketmode.EventTypeErrorBadMessage:
		// slack-go could not parse it; acknowledge it all the same, so
		// that Slack does not send it again, and drop it.
		if bad, ok := evt.Data.(*socketmode.ErrorBadMessage); ok {
			var env struct {
				EnvelopeID string `json:"envelope_id"`
				Type       string `json:"type"`
			}
			if json.Unmarshal(bad.Message, &env) == nil && env.EnvelopeID != "" {
				a.ack(ctx, smc, env.EnvelopeID)
			}
			a.logger.Warn("dropping a Socket Mode message that cannot be parsed", "type", env.Type, "err", bad.Cause)
		}
		return nil
	}
	if evt.Request == nil || evt.Request.EnvelopeID == "" {
		a.logger.Debug("Socket Mode: ignoring an event", "type", evt.Type)
		return nil
	}
	req := evt.Request
	a.ack(ctx, smc, req.EnvelopeID)
	var j job
	var err error
	switch req.Type {
	case socketmode.RequestTypeSlashCommands:
		var c slashCommand
		if c, err = parseCommandJSON(req.Payload); err == nil {
			j.command = &c
		}
	case socketmode.RequestTypeInteractive:
		var i interaction
		if i, err = parseInteraction(req.Payload); err == nil && i.Type == "block_actions" {
			j.press = &i
		}
	case socketmode.RequestTypeEventsAPI:
		var c callback
		var m *messageEvent
		if c, m, err = parseCallback(req.Payload); err == nil && m != nil {
			j.post, j.team = m, c.TeamID
		}
		if req.RetryAttempt > 0 {
			a.logger.Debug("Slack retried an event", "attempt", req.RetryAttempt, "reason", req.RetryReason)
		}
	}
	if err != nil {
		a.logger.Warn("dropping a payload that cannot be parsed", "type", req.Type, "err", err)
		return nil
	}
	j.id = req.EnvelopeID
	a.enqueue(j)
	return nil
}

// ack acknowledges an envelope at once.
func (a *Adapter) ack(ctx context.Context, smc *socketmode.Client, id string) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := smc.AckCtx(ctx, id, nil); err != nil {
		a.logger.Warn("Socket Mode: acknowledging", "envelope", id, "err", err)
	}
}

// enqueue hands j to the worker if it concerns the core, or drops it.
// It reports false when the queue is full.
func (a *Adapter) enqueue(j job) bool {
	if j.post != nil && !a.wanted(j.post) {
		return true
	}
	if j.command == nil && j.press == nil && j.post == nil {
		return true
	}
	select {
	case a.queue <- j:
		return true
	default:
		a.logger.Error("dropping an event: the core is too far behind", "queued", len(a.queue))
		return false
	}
}

// wanted says whether a message event goes to Handler.Post: messages
// people wrote (no subtype, a thread broadcast or a file share) in a
// thread or in a direct message, never the bot's own.
func (a *Adapter) wanted(m *messageEvent) bool {
	switch m.Subtype {
	case "", "thread_broadcast", "file_share":
	default:
		return false
	}
	if m.User == "" || m.BotID != "" {
		return false
	}
	a.mu.Lock()
	s := a.self
	a.mu.Unlock()
	if s != nil && m.User == s.UserID {
		return false
	}
	inThread := m.ThreadTS != "" && m.ThreadTS != m.TS
	return inThread || m.ChannelType == "im"
}

// work passes queued jobs to h, one at a time, until ctx ends.
func (a *Adapter) work(ctx context.Context, h bot.Handler) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-a.queue:
			a.handle(ctx, h, j)
		}
	}
}

func (a *Adapter) handle(ctx context.Context, h bot.Handler, j job) {
	switch {
	case j.command != nil:
		c := j.command
		from := a.identity(ctx, c.TeamID, c.UserID, c.UserName)
		at := bot.Place{Workspace: c.TeamID, Channel: c.ChannelID, User: c.UserID}
		id := c.TriggerID
		if id == "" {
			id = j.id
		}
		r := h.Command(ctx, bot.Command{From: from, At: at, Text: strings.TrimSpace(plainText(c.Text)), ID: id})
		a.reply(ctx, c.ResponseURL, at, r.Text)
	case j.press != nil:
		p := j.press
		from := a.identity(ctx, p.team(), p.User.ID, p.User.Name)
		at := bot.Place{Workspace: p.team(), Channel: p.channel(), Thread: p.thread(), User: p.User.ID}
		id := p.TriggerID
		if id == "" {
			id = j.id
		}
		act := p.Actions[0]
		r := h.Button(ctx, bot.Press{From: from, At: at, Action: actionName(act.ActionID), Value: act.Value, ID: id})
		a.reply(ctx, p.ResponseURL, at, r.Text)
	case j.post != nil:
		m := j.post
		team := j.team
		if team == "" {
			team = m.Team
		}
		from := a.identity(ctx, team, m.User, "")
		at := bot.Place{Workspace: team, Channel: m.Channel, User: m.User}
		if m.ThreadTS != "" && m.ThreadTS != m.TS {
			at.Thread = m.ThreadTS
		}
		h.Post(ctx, bot.Post{From: from, At: at, Text: plainText(m.Text), ID: bot.MessageRef(m.TS)})
	}
}

// maxReply bounds a reply's text (Slack takes 40,000 characters).
const maxReply = 39000

// reply shows text to at.User alone: through responseURL when it is
// Slack's (or the API's host), else, or when that fails, with
// chat.postEphemeral.
func (a *Adapter) reply(ctx context.Context, responseURL string, at bot.Place, text string) {
	if strings.TrimSpace(text) == "" {
		return
	}
	if r := []rune(text); len(r) > maxReply {
		text = string(r[:maxReply]) + "…"
	}
	if responseURL != "" && a.responseURLAllowed(responseURL) {
		err := a.call(ctx, "response_url", func(ctx context.Context) error {
			_, _, _, err := a.api.SendMessageContext(ctx, "",
				slack.MsgOptionResponseURL(responseURL, slack.ResponseTypeEphemeral),
				slack.MsgOptionText(escapeText(text), false))
			return err
		})
		if err == nil {
			return
		}
		a.logger.Warn("replying through response_url; trying chat.postEphemeral", "err", err)
	} else if responseURL != "" {
		a.logger.Warn("ignoring a response_url that is not Slack's", "host", hostOf(responseURL))
	}
	opts := []slack.MsgOption{slack.MsgOptionText(escapeText(text), false)}
	if at.Thread != "" {
		opts = append(opts, slack.MsgOptionTS(at.Thread))
	}
	err := a.call(ctx, "chat.postEphemeral", func(ctx context.Context) error {
		_, err := a.api.PostEphemeralContext(ctx, at.Channel, at.User, opts...)
		return err
	})
	if err != nil {
		a.logger.Warn("the reply could not be shown", "channel", at.Channel, "user", at.User, "err", err)
	}
}

// responseURLAllowed: a response_url gets the reply only on Slack
// (https, slack.com or slack-gov.com) or the API's own host, so that a
// payload cannot make the bot post elsewhere.
func (a *Adapter) responseURLAllowed(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	if u.Scheme == a.apiURL.Scheme && strings.EqualFold(u.Host, a.apiURL.Host) {
		return true
	}
	h := strings.ToLower(u.Hostname())
	return u.Scheme == "https" && (h == "slack.com" || strings.HasSuffix(h, ".slack.com") ||
		h == "slack-gov.com" || strings.HasSuffix(h, ".slack-gov.com"))
}

func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Host
	}
	return ""
}

// serve runs the HTTP listener of ModeHTTP, if any, until ctx ends.
func (a *Adapter) serve(ctx context.Context) error {
	if a.opts.HTTPAddr == "" {
		<-ctx.Done()
		return nil
	}
	ln, err := net.Listen("tcp", a.opts.HTTPAddr)
	if err != nil {
		return fmt.Errorf("slack: listening for the Events API: %w", err)
	}
	srv := &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
	}
	a.logger.Info("listening for the Events API", "addr", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("slack: serving the Events API: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	<-errc
	return nil
}
