package slack

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackutilsx"

	"github.com/gethelp/gethelp/bot"
)

// Limits of what Send takes, Slack's.
const (
	maxText        = 39000 // characters of a message's text (Slack: 40,000)
	maxSection     = 3000  // characters of a section block's text
	maxButtons     = 25    // in one actions block
	maxButtonLabel = 75
	maxButtonValue = 2000
	maxActionID    = 250 // 255, less room for "#NN"
)

// metadataType is the event_type of the metadata Send attaches to a
// message with a key.
const metadataType = "gethelp_delivery"

// lookback is how far back Send looks for a message already posted with
// a key: past the core's longest retry schedule, and past a restart.
const lookback = 24 * time.Hour

// lookupPages bounds a history look-up: 5 pages of 200 messages.
const lookupPages = 5

// Send posts m where to says and returns the message's ts:
//
//   - to.Channel set: in that channel (chat.postMessage), in the thread
//     to.Thread when set (thread_ts). The bot must be in the channel.
//   - to.Channel "": a direct message to to.User (conversations.open,
//     then chat.postMessage to the conversation it returns).
//   - m.Ephemeral with to.Channel set: shown to to.User alone
//     (chat.postEphemeral, in to.Thread when set); it returns the
//     ephemeral message's ts, which nothing can refer to later. Without a
//     channel it is a direct message.
//   - m.Buttons: Block Kit, the text in section blocks and the buttons in
//     one actions block; a button's action_id is its Action (made unique
//     within the message with "#2", "#3", which Run strips again) and its
//     value its Value.
//   - m.File: the external upload flow (files.getUploadURLExternal, the
//     bytes POSTed to the upload_url, files.completeUploadExternal with
//     channel_id and thread_ts), the text and buttons as the file
//     message's blocks. It returns that message's ts, or "file:F…" (the
//     file's id) when Slack has not shown the message in history yet.
//
// Idempotency: Slack has no client message ids, so a message with a key
// carries it: chat.postMessage as metadata (event_type
// "gethelp_delivery", payload {"key": m.Key}), a file message as a
// block_id derived from the key (files.completeUploadExternal takes no
// metadata). Before posting with a key, Send looks through the bot's
// messages of the last 24 hours in that conversation or thread
// (conversations.history or conversations.replies, with metadata) and,
// finding the key, returns that message's ts and posts nothing: a send
// retried after a crash, or after a timeout that hid a success, is not
// posted twice. That costs one history call per keyed send, and needs the
// history scopes; a look-up that fails fails the send. Ephemeral messages
// are not in history and are sent again.
//
// Rate limits: a 429 with a Retry-After of up to 5s is waited out within
// the call; a longer one returns an *Error with Code "ratelimited", not
// permanent, for the core's outbox to retry later. Errors wrap
// bot.ErrPermanent when retrying cannot help: Slack's channel_not_found,
// not_in_channel, user_not_found, invalid_auth, missing_scope and the
// like (see *Error), and what Send refuses before calling Slack: an
// empty message, an ephemeral message without to.User or with a file, a
// place with neither channel nor user, an empty file, a button without a
// label or action, with a value over 2000 bytes or a style other than
// "", "primary" and "danger", more than 25 buttons. A user who does not
// exist wraps bot.ErrNoSuchUser too.
func (a *Adapter) Send(ctx context.Context, to bot.Place, m bot.Message) (bot.MessageRef, error) {
	if err := check(to, m); err != nil {
		return "", err
	}
	if m.Ephemeral && to.Channel != "" {
		return a.sendEphemeral(ctx, to, m)
	}
	channel := to.Channel
	if channel == "" {
		var err error
		if channel, err = a.openIM(ctx, to.User); err != nil {
			return "", err
		}
	}
	if m.Key != "" {
		ts, err := a.findSent(ctx, channel, to.Thread, m.Key)
		if err != nil {
			return "", err
		}
		if ts != "" {
			a.logger.Debug("already sent", "key", m.Key, "ts", ts)
			return bot.MessageRef(ts), nil
		}
	}
	if m.File != nil {
		return a.sendFile(ctx, channel, to.Thread, m)
	}
	opts := []slack.MsgOption{slack.MsgOptionText(escapeText(truncate(m.Text, maxText)), false)}
	if len(m.Buttons) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(blocks(m.Text, m.Buttons, "")...))
	}
	if to.Thread != "" {
		opts = append(opts, slack.MsgOptionTS(to.Thread))
	}
	if m.Key != "" {
		opts = append(opts, slack.MsgOptionMetadata(slack.SlackMetadata{
			EventType: metadataType, EventPayload: map[string]any{"key": m.Key},
		}))
	}
	var ts string
	err := a.call(ctx, "chat.postMessage", func(ctx context.Context) error {
		var err error
		_, ts, err = a.api.PostMessageContext(ctx, channel, opts...)
		return err
	})
	if err != nil {
		return "", err
	}
	a.logger.Debug("sent", "channel", channel, "thread", to.Thread, "ts", ts)
	return bot.MessageRef(ts), nil
}

// refusal is a message Send will not send.
func refusal(format string, args ...any) error {
	return &Error{Method: "send", Code: "refused", Permanent: true, Err: fmt.Errorf(format, args...)}
}

func check(to bot.Place, m bot.Message) error {
	switch {
	case to.Channel == "" && to.User == "":
		return refusal("a place with neither a channel nor a user")
	case strings.TrimSpace(m.Text) == "" && m.File == nil && len(m.Buttons) == 0:
		return refusal("an empty message")
	case m.Ephemeral && to.Channel != "" && to.User == "":
		return refusal("an ephemeral message for nobody: Place.User is empty")
	case m.Ephemeral && to.Channel != "" && m.File != nil:
		return refusal("an ephemeral message cannot carry a file")
	case m.File != nil && len(m.File.Data) == 0:
		return refusal("an empty file")
	case len(m.Buttons) > maxButtons:
		return refusal("%d buttons, over %d", len(m.Buttons), maxButtons)
	}
	for _, b := range m.Buttons {
		switch {
		case strings.TrimSpace(b.Label) == "" || b.Action == "":
			return refusal("a button needs a label and an action")
		case len(b.Action) > maxActionID:
			return refusal("an action of %d bytes", len(b.Action))
		case len(b.Value) > maxButtonValue:
			return refusal("a button value of %d bytes, over %d", len(b.Value), maxButtonValue)
		case b.Style != "" && b.Style != "primary" && b.Style != "danger":
			return refusal("no button style %q", b.Style)
		}
	}
	return nil
}

// blocks renders text as section blocks (the first with block_id
// firstID, when set) and the buttons as an actions block.
func blocks(text string, buttons []bot.Button, firstID string) []slack.Block {
	var out []slack.Block
	for i, chunk := range sections(text) {
		id := "text" + strconv.Itoa(i)
		if i == 0 && firstID != "" {
			id = firstID
		}
		out = append(out, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, chunk, false, false), nil, nil, slack.SectionBlockOptionBlockID(id)))
	}
	if len(buttons) > 0 {
		seen := map[string]int{}
		var els []slack.BlockElement
		for _, b := range buttons {
			seen[b.Action]++
			id := b.Action
			if n := seen[b.Action]; n > 1 {
				id += "#" + strconv.Itoa(n)
			}
			btn := slack.NewButtonBlockElement(id, b.Value, slack.NewTextBlockObject(slack.PlainTextType, truncate(b.Label, maxButtonLabel), false, false))
			btn.Style = slack.Style(b.Style)
			els = append(els, btn)
		}
		out = append(out, slack.NewActionBlock("actions", els...))
	}
	return out
}

// sections escapes text for mrkdwn and cuts it into pieces of at most
// maxSection characters, at line ends where it can, never inside an
// escape or a mention. At most 40 pieces.
func sections(text string) []string {
	text = truncate(text, maxText)
	if strings.TrimSpace(text) == "" {
		return nil
	}
	var out []string
	var cur strings.Builder
	n, lastNL := 0, -1 // characters in cur; byte offset in cur after the last newline
	for _, u := range units(text) {
		k := utf8.RuneCountInString(u)
		if n+k > maxSection && n > 0 {
			s := cur.String()
			if lastNL > 0 {
				out = append(out, s[:lastNL])
				rest := s[lastNL:]
				cur.Reset()
				cur.WriteString(rest)
				n = utf8.RuneCountInString(rest)
			} else {
				out = append(out, s)
				cur.Reset()
				n = 0
			}
			lastNL = -1
		}
		cur.WriteString(u)
		n += k
		if u == "\n" {
			lastNL = cur.Len()
		}
	}
	if strings.TrimSpace(cur.String()) != "" {
		out = append(out, cur.String())
	}
	if len(out) > 40 {
		out = out[:40]
	}
	return out
}

// slackToken is a mention of a user or channel, which Slack renders:
// <@U123>, <@U123|name>, <#C123|name>. Special mentions (<!here>,
// <!channel>) are escaped like any text: a person's words relayed by the
// bot must not notify a whole channel.
var slackToken = regexp.MustCompile(`<[@#][UWCG][A-Z0-9]+(?:\|[^<>&]*)?>`)

// units cuts text into what escapes as one: a mention, kept as it is, or
// one character, escaped (& < >).
func units(text string) []string {
	var out []string
	add := func(s string) {
		for _, r := range s {
			out = append(out, slackutilsx.EscapeMessage(string(r)))
		}
	}
	last := 0
	for _, m := range slackToken.FindAllStringIndex(text, -1) {
		add(text[last:m[0]])
		out = append(out, text[m[0]:m[1]])
		last = m[1]
	}
	add(text[last:])
	return out
}

// escapeText escapes text for Slack (& < >), leaving mentions as they are
// so that they show as mentions.
func escapeText(text string) string {
	return strings.Join(units(text), "")
}

// truncate cuts s to n characters.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func (a *Adapter) sendEphemeral(ctx context.Context, to bot.Place, m bot.Message) (bot.MessageRef, error) {
	opts := []slack.MsgOption{slack.MsgOptionText(escapeText(truncate(m.Text, maxText)), false)}
	if len(m.Buttons) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(blocks(m.Text, m.Buttons, "")...))
	}
	if to.Thread != "" {
		opts = append(opts, slack.MsgOptionTS(to.Thread))
	}
	var ts string
	err := a.call(ctx, "chat.postEphemeral", func(ctx context.Context) error {
		var err error
		ts, err = a.api.PostEphemeralContext(ctx, to.Channel, to.User, opts...)
		return err
	})
	if err != nil {
		return "", noSuchUser(err)
	}
	return bot.MessageRef(ts), nil
}

// openIM returns the id of the bot's direct conversation with user.
func (a *Adapter) openIM(ctx context.Context, user string) (string, error) {
	a.mu.Lock()
	id, ok := a.ims[user]
	a.mu.Unlock()
	if ok {
		return id, nil
	}
	err := a.call(ctx, "conversations.open", func(ctx context.Context) error {
		ch, _, _, err := a.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{user}})
		if err == nil {
			if ch == nil || ch.ID == "" {
				return errors.New("conversations.open returned no channel")
			}
			id = ch.ID
		}
		return err
	})
	if err != nil {
		return "", noSuchUser(err)
	}
	a.mu.Lock()
	a.ims[user] = id
	a.mu.Unlock()
	return id, nil
}

// noSuchUser adds bot.ErrNoSuchUser to err when Slack said the user does
// not exist.
func noSuchUser(err error) error {
	switch code(err) {
	case "user_not_found", "users_not_found", "cannot_dm_bot", "user_disabled":
		return fmt.Errorf("%w (%w)", err, bot.ErrNoSuchUser)
	}
	return err
}

// marker is the block_id that carries a key in a file message: a hash,
// as keys may be long.
func marker(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "gethelp-" + hex.EncodeToString(sum[:16])
}

// findSent returns the ts of the bot's message carrying key (in its
// metadata, or as a block_id) in channel (thread, when set), posted
// within lookback, or "".
func (a *Adapter) findSent(ctx context.Context, channel, thread, key string) (string, error) {
	mark := marker(key)
	return a.find(ctx, channel, thread, lookback, lookupPages, func(msg slack.Message) bool {
		if msg.Metadata.EventType == metadataType && msg.Metadata.EventPayload["key"] == key {
			return true
		}
		return hasBlock(msg, mark)
	})
}

func hasBlock(msg slack.Message, id string) bool {
	for _, b := range msg.Blocks.BlockSet {
		if b.ID() == id {
			return true
		}
	}
	return false
}

// find returns the ts of the newest-found message of the bot in channel
// (thread, when set) posted within since that match accepts, looking at
// up to pages pages of 200 messages; "" when there is none.
func (a *Adapter) find(ctx context.Context, channel, thread string, since time.Duration, pages int, match func(slack.Message) bool) (string, error) {
	me, err := a.whoami(ctx)
	if err != nil {
		return "", err
	}
	oldest := fmt.Sprintf("%d.000000", a.now().Add(-since).Unix())
	cursor := ""
	for range pages {
		var msgs []slack.Message
		var next string
		if thread != "" {
			err = a.call(ctx, "conversations.replies", func(ctx context.Context) error {
				var err error
				msgs, _, next, err = a.api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
					ChannelID: channel, Timestamp: thread, Oldest: oldest, Limit: 200, Cursor: cursor, IncludeAllMetadata: true,
				})
				return err
			})
		} else {
			err = a.call(ctx, "conversations.history", func(ctx context.Context) error {
				r, err := a.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
					ChannelID: channel, Oldest: oldest, Limit: 200, Cursor: cursor, IncludeAllMetadata: true,
				})
				if r != nil {
					msgs, next = r.Messages, r.ResponseMetaData.NextCursor
				}
				return err
			})
		}
		if err != nil {
			return "", err
		}
		for _, msg := range msgs {
			if (msg.BotID == me.BotID || msg.User == me.UserID) && match(msg) {
				return msg.Timestamp, nil
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	return "", nil
}

// sendFile uploads m.File with the external upload flow and shares it in
// channel (thread).
func (a *Adapter) sendFile(ctx context.Context, channel, thread string, m bot.Message) (bot.MessageRef, error) {
	f := m.File
	name := f.Name
	if name == "" {
		name = "file"
	}
	var up *slack.GetUploadURLExternalResponse
	err := a.call(ctx, "files.getUploadURLExternal", func(ctx context.Context) error {
		var err error
		up, err = a.api.GetUploadURLExternalContext(ctx, slack.GetUploadURLExternalParameters{FileName: name, FileSize: len(f.Data)})
		return err
	})
	if err != nil {
		return "", err
	}
	err = a.call(ctx, "upload", func(ctx context.Context) error {
		return a.api.UploadToURL(ctx, slack.UploadToURLParameters{UploadURL: up.UploadURL, Reader: bytes.NewReader(f.Data), Filename: name})
	})
	if err != nil {
		return "", err
	}
	mark := "gethelp-" + randomHex()
	if m.Key != "" {
		mark = marker(m.Key)
	}
	text := m.Text
	if strings.TrimSpace(text) == "" {
		text = name
	}
	params := slack.CompleteUploadExternalParameters{
		Files:           []slack.FileSummary{{ID: up.FileID, Title: name}},
		Channel:         channel,
		ThreadTimestamp: thread,
		Blocks:          slack.Blocks{BlockSet: blocks(text, m.Buttons, mark)},
	}
	err = a.call(ctx, "files.completeUploadExternal", func(ctx context.Context) error {
		_, err := a.api.CompleteUploadExternalContext(ctx, params)
		return err
	})
	if err != nil {
		return "", err
	}
	// Slack shares the file asynchronously: look for its message a few
	// times.
	for wait := 100 * time.Millisecond; wait <= 800*time.Millisecond; wait *= 2 {
		ts, err := a.find(ctx, channel, thread, time.Hour, 1, func(msg slack.Message) bool { return hasBlock(msg, mark) })
		if err == nil && ts != "" {
			return bot.MessageRef(ts), nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return bot.MessageRef("file:" + up.FileID), nil
		case <-t.C:
		}
	}
	return bot.MessageRef("file:" + up.FileID), nil
}

func randomHex() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
