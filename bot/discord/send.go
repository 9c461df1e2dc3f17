package discord

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/gethelp/gethelp/bot"
)

// outMessage is the JSON of a message the bot creates: a channel message
// (POST /channels/{id}/messages) or an interaction's follow-up or edit.
type outMessage struct {
	Content          string           `json:"content,omitempty"`
	Nonce            string           `json:"nonce,omitempty"`
	EnforceNonce     bool             `json:"enforce_nonce,omitempty"`
	Flags            int              `json:"flags,omitempty"`
	Components       []actionRow      `json:"components,omitempty"`
	MessageReference *messageRef      `json:"message_reference,omitempty"`
	Attachments      []attachmentMeta `json:"attachments,omitempty"`
	AllowedMentions  allowedMentions  `json:"allowed_mentions"`
}

type actionRow struct {
	Type       int      `json:"type"` // componentActionRow
	Components []button `json:"components"`
}

type button struct {
	Type     int    `json:"type"` // componentButton
	Style    int    `json:"style"`
	Label    string `json:"label"`
	CustomID string `json:"custom_id"`
}

type messageRef struct {
	MessageID       string `json:"message_id"`
	FailIfNotExists bool   `json:"fail_if_not_exists"`
}

type attachmentMeta struct {
	ID       int    `json:"id"`
	Filename string `json:"filename"`
}

// allowedMentions: the bot pings nobody, whatever the text it mirrors
// says ("@everyone" in an e-mail reply).
type allowedMentions struct {
	Parse []string `json:"parse"`
}

// Button styles.
const (
	stylePrimary   = 1
	styleSecondary = 2
	styleDanger    = 4
)

// Send posts m where to says and returns the id of the (first) message it
// posted:
//
//   - to.Channel: in that channel.
//   - to.Channel and to.Thread: in the Discord thread started from the
//     message to.Thread, starting it the first time (a thread started from
//     a message has the message's id, so Place.Thread is the thread's
//     channel id too).
//   - to.User alone: a direct message, in the DM channel Discord opens
//     for the bot and the user; with to.Thread, as a reply to that
//     message (DMs have no threads).
//   - m.Ephemeral: a follow-up only to.User sees, on the interaction to.User
//     started last in that channel (Discord allows ephemeral messages only
//     there, for 15 minutes); without one, a direct message.
//
// Texts over MaxText go as several messages, buttons and file with the
// last. A button's custom id is Action+":"+Value. m.Key is sent as the
// message's nonce (a hash of it, 25 characters) with enforce_nonce, so
// that Discord answers a retry within a few minutes with the first message
// instead of a second one; within this process, a Key that was sent
// returns the first message's id without asking.
//
// Errors wrap bot.ErrPermanent when retrying cannot help: an empty message,
// a file over MaxFile or without a name, over 25 buttons or a button
// without a label or action, an id that is not a snowflake, and Discord's
// refusals (no such channel, missing access or permissions, a user who
// takes no DMs); a user Discord does not know wraps bot.ErrNoSuchUser too.
// A rate limit longer than Options.MaxRateLimitWait wraps ErrRateLimited;
// it, network errors and Discord's 5xx are worth retrying.
func (a *Adapter) Send(ctx context.Context, to bot.Place, m bot.Message) (bot.MessageRef, error) {
	if err := checkMessage(to, m); err != nil {
		return "", err
	}
	if m.Key != "" {
		a.mu.Lock()
		ref, ok := a.sent.get(m.Key)
		a.mu.Unlock()
		if ok {
			return ref, nil
		}
	}
	var ref bot.MessageRef
	var err error
	if m.Ephemeral && to.User != "" {
		ref, err = a.sendEphemeral(ctx, to, m)
	} else {
		ref, err = a.send(ctx, to, m)
	}
	if err != nil {
		return "", err
	}
	if m.Key != "" {
		a.mu.Lock()
		a.sent.put(m.Key, ref)
		a.mu.Unlock()
	}
	return ref, nil
}

// permanentf returns a permanent error of the adapter's own.
func permanentf(format string, args ...any) error {
	return fmt.Errorf("%w: discord: "+format, append([]any{bot.ErrPermanent}, args...)...)
}

func checkMessage(to bot.Place, m bot.Message) error {
	for _, id := range []string{to.Workspace, to.Channel, to.Thread, to.User} {
		if id != "" && !snowflake(id) {
			return permanentf("%q is not a Discord id", id)
		}
	}
	switch {
	case to.Channel == "" && to.User == "":
		return permanentf("a place with neither a channel nor a user")
	case m.Ephemeral && to.User == "":
		return permanentf("an ephemeral message for nobody: Place.User is empty")
	case strings.TrimSpace(m.Text) == "" && m.File == nil && len(m.Buttons) == 0:
		return permanentf("an empty message")
	case len(m.Buttons) > maxButtons:
		return permanentf("%d buttons, over %d", len(m.Buttons), maxButtons)
	}
	for _, b := range m.Buttons {
		if b.Label == "" || b.Action == "" {
			return permanentf("a button needs a label and an action")
		}
		if id := b.Action + ":" + b.Value; len(id) > 100 {
			return permanentf("a button's custom id of %d bytes, over 100", len(id))
		}
		if b.Style != "" && b.Style != "primary" && b.Style != "danger" {
			return permanentf("no button style %q", b.Style)
		}
	}
	if f := m.File; f != nil {
		if f.Name == "" {
			return permanentf("a file without a name")
		}
		if len(f.Data) > MaxFile {
			return permanentf("a file of %d bytes, over %d", len(f.Data), MaxFile)
		}
	}
	return nil
}

// send posts m in a channel, a thread or a DM.
func (a *Adapter) send(ctx context.Context, to bot.Place, m bot.Message) (bot.MessageRef, error) {
	var channel, replyTo string
	switch {
	case to.Channel != "" && to.Thread != "":
		var err error
		if channel, err = a.thread(ctx, to.Channel, to.Thread); err != nil {
			return "", err
		}
	case to.Channel != "":
		channel = to.Channel
	default:
		var err error
		if channel, err = a.dm(ctx, to.User); err != nil {
			return "", err
		}
		replyTo = to.Thread
	}
	chunks := split(m.Text, MaxText)
	var first bot.MessageRef
	for i, text := range chunks {
		body := outMessage{Content: text, AllowedMentions: allowedMentions{Parse: []string{}}}
		if m.Key != "" {
			body.Nonce, body.EnforceNonce = nonce(m.Key, i), true
		}
		if i == 0 && replyTo != "" {
			body.MessageReference = &messageRef{MessageID: replyTo}
		}
		var file *bot.File
		if i == len(chunks)-1 {
			body.Components = components(m.Buttons)
			file = m.File
		}
		id, err := a.createMessage(ctx, "posting to channel "+channel, discordgo.EndpointChannelMessages(channel), body, file)
		if err != nil {
			return "", err
		}
		if i == 0 {
			first = bot.MessageRef(id)
		}
	}
	if to.Channel != "" && to.Thread == "" {
		// It may become a thread's root: remember a name for the thread.
		a.mu.Lock()
		a.names.put(string(first), threadName(m.Text))
		a.mu.Unlock()
	}
	a.logger.Debug("sent", "channel", channel, "id", first, "parts", len(chunks))
	return first, nil
}

// createMessage posts body (and file) to urlStr and returns the new
// message's id.
func (a *Adapter) createMessage(ctx context.Context, op, urlStr string, body outMessage, file *bot.File) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	if file == nil {
		if err := a.requestJSON(ctx, op, "POST", urlStr, body, &out); err != nil {
			return "", err
		}
	} else {
		body.Attachments = []attachmentMeta{{ID: 0, Filename: file.Name}}
		ct, form, err := discordgo.MultipartBodyWithJSON(body, []*discordgo.File{{
			Name: file.Name, ContentType: file.ContentType, Reader: bytes.NewReader(file.Data),
		}})
		if err != nil {
			return "", fmt.Errorf("discord: %s: %w", op, err)
		}
		resp, err := a.request(ctx, op, "POST", urlStr, ct, form)
		if err != nil {
			return "", err
		}
		if err := json.Unmarshal(resp, &out); err != nil {
			return "", fmt.Errorf("discord: %s: the answer: %w", op, err)
		}
	}
	if !snowflake(out.ID) {
		return "", fmt.Errorf("discord: %s: the answer has no message id", op)
	}
	return out.ID, nil
}

// thread returns the channel id of the thread started from message root in
// channel, starting it if nobody has: the thread's id is root's. A thread
// already started (code 160004) is used as it is; when root is no message
// of channel (a thread that was not started from a message, such as one
// where /gethelp was typed), root is taken as the thread's id.
func (a *Adapter) thread(ctx context.Context, channel, root string) (string, error) {
	a.mu.Lock()
	ci, known := a.channels.get(root)
	name, _ := a.names.get(root)
	a.mu.Unlock()
	if known && ci.thread() {
		return root, nil
	}
	if name == "" {
		name = "gethelp"
	}
	var created wireChannel
	err := a.requestJSON(ctx, "starting a thread on message "+root, "POST",
		discordgo.EndpointChannelMessageThread(channel, root),
		map[string]any{"name": name, "auto_archive_duration": 1440}, &created)
	switch code := codeOf(err); {
	case err == nil, code == codeThreadExists:
	case code == codeUnknownMessage || code == codeWrongChannelType:
		a.logger.Debug("not a root message; taking it as a thread", "thread", root, "code", code)
		return root, nil
	default:
		return "", err
	}
	a.mu.Lock()
	a.channels.put(root, channelInfo{id: root, parent: channel, kind: channelPublicThread})
	a.names.delete(root)
	a.mu.Unlock()
	return root, nil
}

// dm returns the id of the DM channel with user, opening it.
func (a *Adapter) dm(ctx context.Context, user string) (string, error) {
	a.mu.Lock()
	id, ok := a.dms.get(user)
	a.mu.Unlock()
	if ok {
		return id, nil
	}
	var ch wireChannel
	err := a.requestJSON(ctx, "opening a DM with user "+user, "POST", discordgo.EndpointUserChannels("@me"),
		map[string]string{"recipient_id": user}, &ch)
	if err != nil {
		var e *apiError
		if errors.As(err, &e) && e.code == codeUnknownUser {
			e.also = bot.ErrNoSuchUser
		}
		return "", err
	}
	if !snowflake(ch.ID) {
		return "", fmt.Errorf("discord: opening a DM with user %s: the answer has no channel id", user)
	}
	a.mu.Lock()
	a.dms.put(user, ch.ID)
	a.mu.Unlock()
	return ch.ID, nil
}

// sendEphemeral posts m as an ephemeral follow-up of the interaction
// to.User started last where to says, or as a DM without one.
func (a *Adapter) sendEphemeral(ctx context.Context, to bot.Place, m bot.Message) (bot.MessageRef, error) {
	where := to.Channel
	if to.Thread != "" {
		where = to.Thread
	}
	key := pendingKey{channel: where, user: to.User}
	a.mu.Lock()
	p, ok := a.pending[key]
	if ok && !a.now().Before(p.expires) {
		delete(a.pending, key)
		ok = false
	}
	a.mu.Unlock()
	if ok && len(m.Text) <= MaxText {
		body := outMessage{Content: m.Text, Flags: flagEphemeral, Components: components(m.Buttons),
			AllowedMentions: allowedMentions{Parse: []string{}}}
		id, err := a.createMessage(ctx, "an ephemeral follow-up", discordgo.EndpointFollowupMessage(p.appID, p.token)+"?wait=true", body, m.File)
		switch code := codeOf(err); {
		case err == nil:
			return bot.MessageRef(id), nil
		case code == codeUnknownWebhook || code == codeInvalidToken || code == codeUnknownInteraction:
			a.mu.Lock()
			delete(a.pending, key)
			a.mu.Unlock()
		default:
			return "", err
		}
	}
	a.logger.Debug("an ephemeral message without an interaction goes as a DM", "user", to.User)
	return a.send(ctx, bot.Place{Workspace: to.Workspace, User: to.User}, m)
}

// components lays buttons out in rows of five.
func components(bs []bot.Button) []actionRow {
	var rows []actionRow
	for i, b := range bs {
		if i%5 == 0 {
			rows = append(rows, actionRow{Type: componentActionRow})
		}
		style := styleSecondary
		switch b.Style {
		case "primary":
			style = stylePrimary
		case "danger":
			style = styleDanger
		}
		rows[len(rows)-1].Components = append(rows[len(rows)-1].Components, button{
			Type: componentButton, Style: style, Label: truncate(b.Label, 80), CustomID: b.Action + ":" + b.Value,
		})
	}
	return rows
}

// nonce derives the nonce of part i of the message with idempotency key
// key: 25 hex digits (100 bits) of SHA-256, Discord's longest nonce.
func nonce(key string, i int) string {
	if i > 0 {
		key = fmt.Sprintf("%s\x00%d", key, i)
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])[:25]
}

// split cuts text into parts of at most max characters, at a line break
// or a space where it can; an empty text is one empty part.
func split(text string, max int) []string {
	var parts []string
	for utf8.RuneCountInString(text) > max {
		cut := 0 // a byte offset: max characters in
		for n := 0; n < max; n++ {
			_, size := utf8.DecodeRuneInString(text[cut:])
			cut += size
		}
		at := strings.LastIndex(text[:cut], "\n")
		if at < cut/2 {
			at = strings.LastIndex(text[:cut], " ")
		}
		if at < cut/2 {
			at = cut
		}
		parts = append(parts, text[:at])
		text = strings.TrimLeft(text[at:], "\n ")
	}
	return append(parts, text)
}

// truncate cuts s to max characters, ending in "…" when it cut.
func truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max-1]) + "…"
}

// threadName names the thread started from a message: its first line.
func threadName(text string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(text), "\n")
	if line = strings.TrimSpace(line); line == "" {
		return "gethelp"
	}
	return truncate(line, 100)
}
