package webchat

import (
	"bytes"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// Mail is an e-mail for the page's Mailbox, where the demo shows what the
// bot mailed.
type Mail struct {
	ID          string // names it in the API; "" or one already used means one is made
	From, To    string
	Subject     string
	Date        time.Time // zero means when AddMail was called
	Text        string    // shown as is, in a <pre>
	HTML        string    // shown on request in a sandboxed frame; may be ""
	Attachments []Attachment
}

// Attachment is a file attached to a Mail.
type Attachment struct {
	Name        string
	ContentType string
	Data        []byte
}

// mailView is a mail as GET /api/mail and the "mail" events of /ws show
// it.
type mailView struct {
	ID          string     `json:"id"`
	From        string     `json:"from"`
	To          string     `json:"to"`
	Subject     string     `json:"subject"`
	Date        time.Time  `json:"date"`
	Text        string     `json:"text"`
	HTMLURL     string     `json:"html_url,omitempty"` // the HTML version, for a sandboxed frame
	Attachments []FileInfo `json:"attachments"`
}

// mailEvent and messageEvent are what /ws sends.
type (
	mailEvent struct {
		Type string `json:"type"` // "mail"
		mailView
	}
	messageEvent struct {
		Type string `json:"type"` // "message"
		Message
	}
)

// AddMail puts a copy of m in the Mailbox, where the page shows it at once,
// with a state file once it is on disk. It returns ErrClosed after Close,
// or the state file's errors (see Send); the mail was not added then.
func (s *Server) AddMail(m Mail) error {
	m.Attachments = slices.Clone(m.Attachments)
	for i, a := range m.Attachments {
		m.Attachments[i].Data = bytes.Clone(a.Data)
		if a.Name == "" {
			m.Attachments[i].Name = fmt.Sprintf("attachment-%d", i+1)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if m.Date.IsZero() {
		m.Date = s.now()
	}
	for n := len(s.mails) + 1; m.ID == "" || s.mailLocked(m.ID) != nil; n++ {
		m.ID = "mail-" + strconv.Itoa(n)
	}
	if err := s.persistLocked(record{Mail: mailRecordOf(&m)}); err != nil {
		return err
	}
	s.mails = append(s.mails, &m)
	s.broadcastLocked(mailEvent{Type: "mail", mailView: mailViewOf(&m)})
	s.logger.Debug("mail", "id", m.ID)
	return nil
}

// Mail returns copies of the mail in the Mailbox, oldest first.
func (s *Server) Mail() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Mail, len(s.mails))
	for i, m := range s.mails {
		out[i] = *m
		out[i].Attachments = slices.Clone(m.Attachments)
		for j, a := range out[i].Attachments {
			out[i].Attachments[j].Data = bytes.Clone(a.Data)
		}
	}
	return out
}

func (s *Server) mailLocked(id string) *Mail {
	for _, m := range s.mails {
		if m.ID == id {
			return m
		}
	}
	return nil
}

func mailViewOf(m *Mail) mailView {
	v := mailView{ID: m.ID, From: m.From, To: m.To, Subject: m.Subject, Date: m.Date, Text: m.Text,
		Attachments: []FileInfo{}}
	id := url.QueryEscape(m.ID)
	if m.HTML != "" {
		v.HTMLURL = "/api/mail/html?mail=" + id
	}
	for i, a := range m.Attachments {
		v.Attachments = append(v.Attachments, FileInfo{Name: a.Name, ContentType: a.ContentType, Size: len(a.Data),
			URL: "/api/mail/file?mail=" + id + "&n=" + strconv.Itoa(i)})
	}
	return v
}
