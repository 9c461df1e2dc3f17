package main

import (
	"errors"
	"io"
	"log/slog"
	"mime"
	"net"
	"strings"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-smtp"

	"github.com/gethelp/gethelp/bot/webchat"
)

// demoMailbox is the demo's mail provider: an SMTP server on loopback that
// puts every message it is given in the web chat's Mailbox pane.
type demoMailbox struct {
	chat   *webchat.Server
	logger *slog.Logger
	srv    *smtp.Server
}

// startDemoMailbox listens on 127.0.0.1 and returns the address.
func startDemoMailbox(chat *webchat.Server, logger *slog.Logger) (*demoMailbox, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	mb := &demoMailbox{chat: chat, logger: logger}
	mb.srv = smtp.NewServer(mb)
	mb.srv.Domain = "mail.demo.example"
	mb.srv.MaxMessageBytes = 4 << 20
	mb.srv.AllowInsecureAuth = true
	go mb.srv.Serve(ln)
	return mb, ln.Addr().String(), nil
}

func (mb *demoMailbox) Close() error { return mb.srv.Close() }

// NewSession implements smtp.Backend.
func (mb *demoMailbox) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &demoMailSession{mb: mb}, nil
}

type demoMailSession struct {
	mb       *demoMailbox
	from, to string
}

func (s *demoMailSession) Mail(from string, _ *smtp.MailOptions) error { s.from = from; return nil }
func (s *demoMailSession) Rcpt(to string, _ *smtp.RcptOptions) error   { s.to = to; return nil }
func (s *demoMailSession) Reset()                                      { s.from, s.to = "", "" }
func (s *demoMailSession) Logout() error                               { return nil }

func (s *demoMailSession) Data(r io.Reader) error {
	m, err := readDemoMail(r)
	if err != nil {
		s.mb.logger.Warn("demo mailbox: unreadable message", "err", err)
		return &smtp.SMTPError{Code: 554, Message: "unreadable message"}
	}
	if m.To == "" {
		m.To = s.to
	}
	if m.From == "" {
		m.From = s.from
	}
	s.mb.chat.AddMail(m)
	return nil
}

// readDemoMail reads a MIME message: its text and HTML bodies and its
// attachments.
func readDemoMail(r io.Reader) (webchat.Mail, error) {
	mr, err := mail.CreateReader(r)
	if err != nil {
		return webchat.Mail{}, err
	}
	h := mr.Header
	var m webchat.Mail
	m.Subject, _ = h.Subject()
	if a, err := h.AddressList("From"); err == nil && len(a) > 0 {
		m.From = addressText(a[0])
	}
	if a, err := h.AddressList("To"); err == nil && len(a) > 0 {
		m.To = addressText(a[0])
	}
	m.Date, _ = h.Date()
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return m, err
		}
		body, err := io.ReadAll(io.LimitReader(p.Body, 4<<20))
		if err != nil {
			return m, err
		}
		switch ph := p.Header.(type) {
		case *mail.InlineHeader:
			ct, _, _ := ph.ContentType()
			if strings.HasPrefix(ct, "text/html") {
				m.HTML = string(body)
			} else {
				m.Text = string(body)
			}
		case *mail.AttachmentHeader:
			name, _ := ph.Filename()
			ct, _, _ := ph.ContentType()
			if ct == "" {
				ct = mime.TypeByExtension(name)
			}
			m.Attachments = append(m.Attachments, webchat.Attachment{Name: name, ContentType: ct, Data: body})
		}
	}
	return m, nil
}

// addressText writes an address as people read it: Bob <bob@example.com>.
func addressText(a *mail.Address) string {
	if a.Name == "" {
		return a.Address
	}
	return a.Name + " <" + a.Address + ">"
}
