package email

// The adapter: this package as the bot's e-mail (bot.Mailer for what the
// bot sends, and a handler that turns replies into bot.InboundMail).

import (
	"context"
	"errors"
	"fmt"
	"net/mail"

	"github.com/gethelp/gethelp/bot"
)

// Mailer sends the bot's mail through a Sender. It implements bot.Mailer.
type Mailer struct {
	Sender *Sender
	From   mail.Address // the bot's address
}

var _ bot.Mailer = (*Mailer)(nil)

// Send builds m and submits it. A refusal by the server (5xx) wraps
// bot.ErrPermanent.
func (m *Mailer) Send(ctx context.Context, bm bot.Mail) error {
	out := Outgoing{
		From:       m.From,
		To:         mail.Address{Name: bm.ToName, Address: bm.To},
		Subject:    bm.Subject,
		MessageID:  bm.MessageID,
		InReplyTo:  bm.InReplyTo,
		References: bm.References,
		Text:       bm.Text,
		HTML:       bm.HTML,
		// Mirrored chat and invitations are not a person writing: tell
		// vacation responders not to answer.
		Headers: map[string]string{"Auto-Submitted": "auto-generated"},
	}
	if bm.ReplyTo != "" {
		out.ReplyTo = mail.Address{Address: bm.ReplyTo}
	}
	for _, a := range bm.Attachments {
		out.Attachments = append(out.Attachments, Attachment{Name: a.Name, ContentType: a.ContentType, Data: a.Data})
	}
	msg, err := out.Bytes()
	if err != nil {
		return fmt.Errorf("%w: %v", bot.ErrPermanent, err)
	}
	err = m.Sender.Send(ctx, m.From.Address, []string{bm.To}, msg)
	var perm *PermanentError
	if errors.As(err, &perm) {
		return fmt.Errorf("%w: %v", bot.ErrPermanent, err)
	}
	return err
}

// ReplyHandler returns an Inbound.Handler that passes replies to the bot.
// Auto-replies and bounces are dropped. An error of the bot makes the
// sending server try again later.
func ReplyHandler(b interface {
	EmailReply(ctx context.Context, r bot.InboundMail) error
}) func(ctx context.Context, r *Reply) error {
	return func(ctx context.Context, r *Reply) error {
		if r.Automatic || r.Text == "" {
			return nil
		}
		return b.EmailReply(ctx, bot.InboundMail{
			Token: r.Token, From: r.From.Address, FromName: r.From.Name, MessageID: r.MessageID, Text: r.Text,
		})
	}
}
