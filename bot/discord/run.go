package discord

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"github.com/gethelp/gethelp/bot"
)

// Intents are the gateway intents Run asks for: GUILDS (threads and
// channels), GUILD_MESSAGES (messages in threads), DIRECT_MESSAGES, and
// MESSAGE_CONTENT, a privileged intent that must be switched on in the
// developer portal (Bot → Privileged Gateway Intents → Message Content
// Intent); without it Discord closes the gateway with 4014 and Run
// returns that error.
const Intents = discordgo.IntentsGuilds | discordgo.IntentGuildMessages |
	discordgo.IntentDirectMessages | discordgo.IntentMessageContent

// Permissions are the permissions the bot needs in the channels it works
// in: View Channel, Send Messages, Send Messages in Threads, Create Public
// Threads, Attach Files, Read Message History and Use Application
// Commands. InstallURL asks for them.
const Permissions int64 = discordgo.PermissionViewChannel | discordgo.PermissionSendMessages |
	discordgo.PermissionSendMessagesInThreads | discordgo.PermissionCreatePublicThreads |
	discordgo.PermissionAttachFiles | discordgo.PermissionReadMessageHistory |
	discordgo.PermissionUseApplicationCommands

// InstallURL returns the link that adds the application to a guild, with
// the scopes bot and applications.commands and Permissions.
func InstallURL(applicationID string) string {
	return "https://discord.com/oauth2/authorize?client_id=" + url.QueryEscape(applicationID) +
		"&permissions=" + strconv.FormatInt(Permissions, 10) +
		"&integration_type=0&scope=bot+applications.commands"
}

// CommandName is the application command Run registers.
const CommandName = "gethelp"

// Usage is the answer to a /gethelp whose options the adapter cannot read
// (a command registered by an older version, say).
const Usage = "Usage:\n" +
	"/gethelp text:what is wrong  helper:@someone   ask them for help (without helper: the help desk)\n" +
	"/gethelp text:link CODE                         link this account to your computer (`gethelp host agent` shows the code)\n" +
	"/gethelp text:unlink | links | status | cancel | resend | help"

// Answers the adapter gives itself.
const (
	answerDM   = "Use /gethelp in a channel of your server: links and requests belong to a server."
	answerBusy = "I am busy; try again in a moment."
	answerDone = "Done."
)

// queueSize bounds the events waiting for the handler.
const queueSize = 1024

// maxPending is how many interactions' tokens are kept before the expired
// ones are forgotten.
const maxPending = 1024

// run is one Run: its handler, its queue and the goroutines answering
// interactions.
type run struct {
	a      *Adapter
	h      bot.Handler
	ctx    context.Context // Run's; cancelled when Run returns
	events chan queued     // for the loop, in the order of the gateway
	down   chan struct{}   // cap 1: the gateway connection dropped

	mu      sync.Mutex
	stopped bool           // guarded by mu; no more answer goroutines
	wg      sync.WaitGroup // answer goroutines
}

// queued is an event for the handler.
type queued struct {
	it    *interactionEvent
	reply chan string // cap 1: the handler's reply to it
	msg   *messageEvent
}

// Run opens the gateway (asking for Intents), registers /gethelp (in
// Options.Guilds, or globally), and passes what people do to h, one call at
// a time, until ctx ends:
//
//   - /gethelp in a guild channel or thread is acknowledged at once
//     (a deferred, ephemeral answer, within Discord's 3 s), then passed to
//     h.Command with Text "<@HELPER> TEXT" built from the options helper
//     and text; the deferred answer is then edited into h's reply. A
//     /gethelp in a DM is answered at once without h (use it in a guild),
//     and one with options the adapter cannot read with Usage.
//   - A button press is acknowledged (deferred update) and passed to
//     h.Button (in a DM with At Place{User}); a reply that is not empty
//     follows, ephemeral.
//   - A message in a thread, or to the bot directly, is passed to h.Post;
//     the bot's own messages, other bots', webhooks' and system messages
//     are not.
//
// Ids of interactions and messages are Command.ID, Press.ID and Post.ID.
// Events the adapter cannot read are logged and dropped. While h is busy,
// up to 1024 events wait (later ones are logged and dropped, and an
// interaction among them is answered answerBusy). A connection that drops
// is opened again (resuming the session), with backoff.
//
// Run returns nil when ctx ends (closing the connection takes discordgo a
// second); ErrRunning if another Run is receiving; and the error that
// stops it: the gateway could not be opened at start (the network, a bad
// token: code 4004; MESSAGE_CONTENT not enabled: 4014), refused a
// reconnection for good, or the command could not be registered (the
// application was installed without applications.commands: 50001 Missing
// Access).
func (a *Adapter) Run(ctx context.Context, h bot.Handler) error {
	if h == nil {
		return errors.New("discord: Run without a handler")
	}
	if !a.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer a.running.Store(false)
	ctx, cancel := context.WithCancel(ctx)
	r := &run{a: a, h: h, ctx: ctx, events: make(chan queued, queueSize), down: make(chan struct{}, 1)}
	removeEvent := a.s.AddHandler(func(_ *discordgo.Session, e *discordgo.Event) { r.dispatch(e) })
	removeDown := a.s.AddHandler(func(_ *discordgo.Session, _ *discordgo.Disconnect) {
		select {
		case r.down <- struct{}{}:
		default:
		}
	})
	defer func() {
		cancel()
		r.mu.Lock()
		r.stopped = true
		r.mu.Unlock()
		r.wg.Wait()
		removeEvent()
		removeDown()
	}()

	if err := r.open(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer a.s.Close()
	if err := r.register(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	a.logger.Info("receiving", "guilds", len(a.opts.Guilds))

	for {
		select {
		case <-ctx.Done():
			return nil
		case q := <-r.events:
			r.handle(q)
		case <-r.down:
			if err := r.reconnect(ctx); err != nil {
				return err
			}
		}
	}
}

// open opens the gateway; a cancelled ctx breaks an Open that hangs, by
// closing the connection it dialed.
func (r *run) open(ctx context.Context) error {
	a := r.a
	done := make(chan error, 1)
	go func() { done <- a.s.Open() }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		a.connMu.Lock()
		for c := range a.conns {
			c.Close()
		}
		a.connMu.Unlock()
		if err = <-done; err == nil {
			a.s.Close()
		}
		err = ctx.Err()
	}
	a.connMu.Lock()
	clear(a.conns)
	a.connMu.Unlock()
	if err != nil {
		return fmt.Errorf("discord: opening the gateway: %w", err)
	}
	return nil
}

// reconnect opens the gateway again after it dropped, with backoff, until
// it opens (nil), ctx ends (nil), or Discord refuses for good.
func (r *run) reconnect(ctx context.Context) error {
	backoff := time.Second
	for ctx.Err() == nil {
		r.a.logger.Warn("the gateway connection dropped; opening it again")
		err := r.open(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return nil
		}
		if fatal(err) {
			return err
		}
		r.a.logger.Warn("opening the gateway", "err", err, "retry_in", backoff)
		if sleep(ctx, backoff) != nil {
			return nil
		}
		backoff = min(2*backoff, time.Minute)
	}
	return nil
}

// fatal reports whether the gateway refused in a way that retrying cannot
// mend: authentication failed, bad shard, invalid or disallowed intents,
// or the REST API refused the token.
func fatal(err error) bool {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		switch ce.Code {
		case 4004, 4010, 4011, 4012, 4013, 4014:
			return true
		}
	}
	var ae *apiError
	return errors.As(err, &ae) && (ae.status == 401 || ae.status == 403)
}

// commandDef is the JSON of an application command.
type commandDef struct {
	Name             string      `json:"name"`
	Type             int         `json:"type"`
	Description      string      `json:"description"`
	Options          []optionDef `json:"options"`
	Contexts         []int       `json:"contexts,omitempty"`
	IntegrationTypes []int       `json:"integration_types,omitempty"`
}

type optionDef struct {
	Type        int    `json:"type"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Required    bool   `json:"required"`
	MaxLength   int    `json:"max_length,omitempty"`
}

// command is /gethelp as Run registers it; global reports whether it is
// global (contexts and integration types are for global commands only).
func command(global bool) commandDef {
	c := commandDef{
		Name: CommandName, Type: 1,
		Description: "Get help on your computer from someone you trust, or link it",
		Options: []optionDef{
			{Type: optionString, Name: "text", Description: "What is wrong; or: link CODE, unlink, links, status, cancel, resend, help", MaxLength: 1000},
			{Type: optionUser, Name: "helper", Description: "Who should help you (without: the help desk)"},
		},
	}
	if global {
		c.Contexts = []int{0}         // GUILD: not in DMs, where nothing belongs to a server
		c.IntegrationTypes = []int{0} // GUILD_INSTALL
	}
	return c
}

// register creates /gethelp in each of Options.Guilds, or globally. A
// command of the same name is replaced.
func (r *run) register(ctx context.Context) error {
	a := r.a
	a.mu.Lock()
	app := a.appID
	a.mu.Unlock()
	if app == "" {
		return errors.New("discord: no application id: set discord.application_id")
	}
	if len(a.opts.Guilds) == 0 {
		if err := a.requestJSON(ctx, "registering /"+CommandName, "POST", discordgo.EndpointApplicationGlobalCommands(app), command(true), nil); err != nil {
			return err
		}
		return nil
	}
	for _, g := range a.opts.Guilds {
		if err := a.requestJSON(ctx, "registering /"+CommandName+" in guild "+g, "POST", discordgo.EndpointApplicationGuildCommands(app, g), command(false), nil); err != nil {
			return err
		}
	}
	return nil
}

// dispatch takes a gateway event, in discordgo's reading goroutine: it
// must not block.
func (r *run) dispatch(e *discordgo.Event) {
	a := r.a
	ev, err := decodeEvent(e.Type, e.RawData)
	if errors.Is(err, errIgnored) {
		return
	}
	if err != nil {
		a.logger.Warn("dropping a gateway event it cannot read", "type", e.Type, "seq", e.Sequence, "err", err)
		return
	}
	a.mu.Lock()
	for _, c := range ev.channels {
		a.channels.put(c.id, c)
	}
	for _, id := range ev.gone {
		a.channels.delete(id)
	}
	if ev.ready != nil {
		a.botID = ev.ready.botID
		switch {
		case a.appID == "":
			a.appID = ev.ready.appID
		case ev.ready.appID != "" && ev.ready.appID != a.appID:
			a.logger.Warn("the token belongs to another application than application_id says", "application_id", a.appID, "token_application", ev.ready.appID)
		}
	}
	a.mu.Unlock()
	switch {
	case ev.interaction != nil:
		r.interaction(ev.interaction)
	case ev.message != nil:
		if !r.enqueue(queued{msg: ev.message}) {
			a.logger.Error("dropping a message: the handler is too far behind", "message", ev.message.id)
		}
	}
}

func (r *run) enqueue(q queued) bool {
	select {
	case r.events <- q:
		return true
	default:
		return false
	}
}

// interaction answers at once what the handler need not see, and queues
// the rest, starting the goroutine that acknowledges it.
func (r *run) interaction(it *interactionEvent) {
	now := ""
	switch {
	case it.kind == interactionCommand && it.guild == "":
		now = answerDM
	case it.kind == interactionCommand && !goodOptions(it):
		now = Usage
	}
	q := queued{it: it, reply: make(chan string, 1)}
	if now == "" && !r.enqueue(q) {
		r.a.logger.Error("answering an interaction busy: the handler is too far behind", "interaction", it.id)
		now = answerBusy
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return
	}
	r.wg.Add(1)
	go r.answer(it, now, q.reply)
}

// goodOptions reports whether a command is /gethelp with options it reads.
func goodOptions(it *interactionEvent) bool {
	if it.command != CommandName {
		return false
	}
	for name, o := range it.options {
		switch {
		case name == "text" && o.kind == optionString:
		case name == "helper" && o.kind == optionUser && snowflake(o.value):
		default:
			return false
		}
	}
	return true
}

// commandText is the command's text as the core reads it: "<@HELPER> TEXT".
func commandText(it *interactionEvent) string {
	text := strings.TrimSpace(it.options["text"].value)
	if h := it.options["helper"].value; h != "" {
		text = strings.TrimSpace("<@" + h + "> " + text)
	}
	return text
}

// answer acknowledges an interaction, then answers it with the handler's
// reply: a command's deferred answer is edited, a button's reply follows.
// With now, it answers now at once instead, and the handler is not asked.
func (r *run) answer(it *interactionEvent, now string, reply <-chan string) {
	defer r.wg.Done()
	a := r.a
	ctx := r.ctx
	callback := discordgo.EndpointInteractionResponse(it.id, it.token)
	if now != "" {
		body := map[string]any{"type": callbackMessage, "data": outMessage{
			Content: now, Flags: flagEphemeral, AllowedMentions: allowedMentions{Parse: []string{}},
		}}
		if err := a.requestJSON(ctx, "answering interaction "+it.id, "POST", callback, body, nil); err != nil {
			a.logger.Warn("answering an interaction", "interaction", it.id, "err", err)
		}
		return
	}
	ack := map[string]any{"type": callbackDeferredMessage, "data": map[string]int{"flags": flagEphemeral}}
	if it.kind == interactionComponent {
		ack = map[string]any{"type": callbackDeferredUpdate}
	}
	actx, cancel := context.WithTimeout(ctx, 3*time.Second)
	err := a.requestJSON(actx, "acknowledging interaction "+it.id, "POST", callback, ack, nil)
	cancel()
	if err != nil {
		// Discord shows the person "The application did not respond".
		a.logger.Error("acknowledging an interaction", "interaction", it.id, "err", err)
		return
	}
	a.mu.Lock()
	at := a.now()
	if len(a.pending) >= maxPending {
		for k, p := range a.pending {
			if !at.Before(p.expires) {
				delete(a.pending, k)
			}
		}
	}
	a.pending[pendingKey{channel: it.channel, user: it.from.id}] = pending{appID: it.appID, token: it.token, expires: at.Add(interactionTokenLife)}
	a.mu.Unlock()

	var text string
	select {
	case text = <-reply:
	case <-ctx.Done():
		return
	}
	body := outMessage{Content: truncate(text, MaxText), Flags: flagEphemeral, AllowedMentions: allowedMentions{Parse: []string{}}}
	if it.kind == interactionComponent {
		if strings.TrimSpace(text) == "" {
			return
		}
		_, err = a.createMessage(ctx, "following up interaction "+it.id, discordgo.EndpointFollowupMessage(it.appID, it.token)+"?wait=true", body, nil)
	} else {
		if strings.TrimSpace(text) == "" {
			body.Content = answerDone
		}
		body.Flags = 0 // the deferred answer is ephemeral already
		err = a.requestJSON(ctx, "answering interaction "+it.id, "PATCH", discordgo.EndpointInteractionResponseActions(it.appID, it.token), body, nil)
	}
	if err != nil {
		a.logger.Error("answering an interaction; the person does not see the reply", "interaction", it.id, "err", err)
	}
}

// handle passes one event to the handler.
func (r *run) handle(q queued) {
	ctx := r.ctx
	switch {
	case q.it != nil && q.it.kind == interactionCommand:
		it := q.it
		cmd := bot.Command{From: identity(it.guild, it.from), At: r.place(ctx, it), Text: commandText(it), ID: it.id}
		q.reply <- r.h.Command(ctx, cmd).Text
	case q.it != nil:
		it := q.it
		action, value, _ := strings.Cut(it.customID, ":")
		p := bot.Press{From: identity(it.guild, it.from), At: r.place(ctx, it), Action: action, Value: value, ID: it.id}
		q.reply <- r.h.Button(ctx, p).Text
	case q.msg != nil:
		r.post(ctx, q.msg)
	}
}

// place returns where an interaction happened in bot's terms: a thread is
// its parent channel with Thread set to the thread's id; a DM is
// Place{User}.
func (r *run) place(ctx context.Context, it *interactionEvent) bot.Place {
	if it.guild == "" {
		return bot.Place{User: it.from.id}
	}
	channel := it.channel
	at := bot.Place{Workspace: it.guild, Channel: channel}
	ci := it.channelInfo
	if ci == nil {
		c, err := r.a.channel(ctx, channel)
		if err != nil {
			r.a.logger.Warn("looking up a channel; taking it as no thread", "channel", channel, "err", err)
			return at
		}
		ci = &c
	} else {
		r.a.mu.Lock()
		r.a.channels.put(ci.id, *ci)
		r.a.mu.Unlock()
	}
	if ci.thread() {
		at.Channel, at.Thread = ci.parent, channel
	}
	return at
}

// post passes a message to the handler if it is in a thread or a DM.
func (r *run) post(ctx context.Context, m *messageEvent) {
	a := r.a
	a.mu.Lock()
	self := a.botID
	a.mu.Unlock()
	if m.author.id == self || m.author.bot || m.webhook || (m.kind != messageDefault && m.kind != messageReply) {
		return
	}
	text := m.content
	for _, at := range m.attachments {
		text += "\n[attachment: " + at + "]"
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return
	}
	p := bot.Post{From: identity(m.guild, m.author), Text: text, ID: bot.MessageRef(m.id)}
	if m.guild == "" {
		p.At = bot.Place{User: m.author.id}
	} else {
		ci, err := a.channel(ctx, m.channel)
		if err != nil {
			a.logger.Warn("dropping a message: cannot tell whether its channel is a thread", "message", m.id, "channel", m.channel, "err", err)
			return
		}
		if !ci.thread() {
			return // the bot listens in threads
		}
		p.At = bot.Place{Workspace: m.guild, Channel: ci.parent, Thread: m.channel}
	}
	r.h.Post(ctx, p)
}

// channel returns what the adapter knows of a channel, asking Discord the
// first time.
func (a *Adapter) channel(ctx context.Context, id string) (channelInfo, error) {
	a.mu.Lock()
	ci, ok := a.channels.get(id)
	a.mu.Unlock()
	if ok {
		return ci, nil
	}
	var w wireChannel
	if err := a.requestJSON(ctx, "looking up channel "+id, "GET", discordgo.EndpointChannel(id), nil, &w); err != nil {
		return channelInfo{}, err
	}
	ci, ok = channelOf(w)
	if !ok || ci.id != id {
		return channelInfo{}, fmt.Errorf("discord: looking up channel %s: an answer without its id or parent", id)
	}
	a.mu.Lock()
	a.channels.put(id, ci)
	a.mu.Unlock()
	return ci, nil
}
