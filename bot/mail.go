package bot

import "context"

// Mailer sends e-mail for the core (bot/email implements it). Send must
// not retry for long: the outbox retries.
type Mailer interface {
	// Send sends m. An error wrapping ErrPermanent is not retried (the
	// address does not exist, the message was refused).
	Send(ctx context.Context, m Mail) error
}

// Mail is one e-mail the bot sends.
type Mail struct {
	To          string // address
	ToName      string
	ReplyTo     string // the ticket's own address: replies come back to the thread
	Subject     string
	Text, HTML  string
	MessageID   string // without angle brackets; fixed per delivery, so a retry is the same message
	InReplyTo   string
	References  []string
	Attachments []File
}

// InboundMail is a reply that came back to a ticket's address.
type InboundMail struct {
	Token     string // from the address the reply went to
	From      string // address
	FromName  string
	MessageID string
	Text      string // the new text, quotes stripped
}
