package email

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"net/textproto"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/emersion/go-message"
	gomail "github.com/emersion/go-message/mail"
)

// An Attachment is a file attached to an [Outgoing] message.
type Attachment struct {
	// Name is the file name shown to the recipient, without a directory.
	// It must not be empty or contain control characters.
	Name string
	// ContentType is a MIME type such as "application/octet-stream" (the
	// default when empty).
	ContentType string
	// Data is the file's content; it is sent base64-encoded.
	Data []byte
}

// Outgoing is a message the bot sends. Its zero value is not a valid message:
// From and To must be set.
type Outgoing struct {
	From mail.Address // required
	To   mail.Address // required
	// ReplyTo, when its Address is set, is where replies go: the ticket's own
	// address (base+token@reply domain) that [Inbound] accepts.
	ReplyTo mail.Address
	Subject string

	// MessageID identifies this message, without angle brackets. Empty means
	// Bytes makes one (random@domain of From) and stores it here.
	MessageID string
	// InReplyTo and References thread the message (identifiers without angle
	// brackets; brackets are tolerated and removed).
	InReplyTo  string
	References []string

	// Text and HTML are the two renderings of the body. Either may be empty;
	// when Text is empty and HTML is not, the text part is made from the HTML.
	Text, HTML string

	Attachments []Attachment

	// Headers are extra header fields, such as X-Gethelp-Ticket. They may
	// not replace the fields this type writes itself (From, To, Subject,
	// Date, Message-ID, MIME and threading fields); values are encoded as
	// RFC 2047 when not ASCII.
	Headers map[string]string

	// Date is the message's date; zero means the time Bytes is called, which
	// Bytes stores here.
	Date time.Time

	// Rand is the source of randomness for the Message-ID and the MIME
	// boundaries; nil means crypto/rand.
	Rand io.Reader
}

// reservedHeaders are the fields Outgoing writes itself; Headers may not
// carry them.
var reservedHeaders = map[string]bool{
	"Bcc": true, "Cc": true, "Content-Disposition": true, "Content-Transfer-Encoding": true,
	"Content-Type": true, "Date": true, "From": true, "In-Reply-To": true, "Message-Id": true,
	"Mime-Version": true, "References": true, "Reply-To": true, "Sender": true, "Subject": true,
	"To": true,
}

// Bytes returns the message in RFC 5322 form with CRLF line endings, ready for
// [Sender.Send]. It fills in MessageID and Date when they are empty. It
// returns an error, and changes nothing, when From or To is not a valid
// address, a header value contains a line break, an extra header is not a
// valid field name or is one Bytes writes itself, a message identifier is
// malformed, or an attachment has no usable name or content type.
func (m *Outgoing) Bytes() ([]byte, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	rnd := m.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	msgID := trimAngles(m.MessageID)
	if msgID == "" {
		id, err := newMessageID(rnd, domainOf(m.From.Address))
		if err != nil {
			return nil, err
		}
		msgID = id
	}
	date := m.Date
	if date.IsZero() {
		date = time.Now()
	}

	// Values are formatted by go-message's helpers in a scratch header, then
	// laid out in this order.
	var h gomail.Header
	h.SetDate(date)
	h.SetAddressList("From", []*mail.Address{&m.From})
	if m.ReplyTo.Address != "" {
		h.SetAddressList("Reply-To", []*mail.Address{&m.ReplyTo})
	}
	h.SetAddressList("To", []*mail.Address{&m.To})
	h.SetSubject(m.Subject)
	h.SetMessageID(msgID)
	if id := trimAngles(m.InReplyTo); id != "" {
		h.SetMsgIDList("In-Reply-To", []string{id})
	}
	var refs []string
	for _, r := range m.References {
		if id := trimAngles(r); id != "" {
			refs = append(refs, id)
		}
	}
	h.SetMsgIDList("References", refs)
	var top []field
	for _, k := range []string{"Date", "From", "Reply-To", "To", "Subject", "Message-Id", "In-Reply-To", "References"} {
		if v := h.Get(k); v != "" {
			top = append(top, field{k, v})
		}
	}
	keys := make([]string, 0, len(m.Headers))
	for k := range m.Headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var x message.Header
		x.SetText(k, m.Headers[k])
		top = append(top, field{k, x.Get(k)})
	}
	top = append(top, field{"MIME-Version", "1.0"})

	text := m.Text
	if text == "" && m.HTML != "" {
		text = htmlToText(m.HTML)
	}

	var buf bytes.Buffer
	if err := writeBody(&buf, rnd, top, text, m.HTML, m.Attachments); err != nil {
		return nil, fmt.Errorf("email: writing message: %w", err)
	}
	m.MessageID = msgID
	m.Date = date
	return buf.Bytes(), nil
}

// A field is one header field.
type field struct{ key, value string }

// header returns a header that writes fields in the order given (go-message
// writes the last added field first).
func header(fields ...field) message.Header {
	var h message.Header
	for i := len(fields) - 1; i >= 0; i-- {
		h.Add(fields[i].key, fields[i].value)
	}
	return h
}

// contentType formats a Content-Type value, RFC 2047-encoding non-ASCII
// parameters.
func contentType(t string, params map[string]string) string {
	var h message.Header
	h.SetContentType(t, params)
	return h.Get("Content-Type")
}

// writeBody writes the header fields top, then the body's MIME structure.
func writeBody(w io.Writer, rnd io.Reader, top []field, text, html string, atts []Attachment) error {
	if len(atts) == 0 {
		return writeAlternative(rnd, top, text, html, func(h message.Header) (*message.Writer, error) {
			return message.CreateWriter(w, h)
		})
	}
	b, err := boundary(rnd)
	if err != nil {
		return err
	}
	ct := contentType("multipart/mixed", map[string]string{"boundary": b})
	mw, err := message.CreateWriter(w, header(slices.Concat(top, []field{{"Content-Type", ct}})...))
	if err != nil {
		return err
	}
	if err := writeAlternative(rnd, nil, text, html, mw.CreatePart); err != nil {
		return err
	}
	for _, a := range atts {
		ct := a.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		t, params, _ := mime.ParseMediaType(ct)
		params["name"] = a.Name // as an RFC 2047 word, for old clients
		pw, err := mw.CreatePart(header(
			field{"Content-Type", contentType(t, params)},
			field{"Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": a.Name})},
			field{"Content-Transfer-Encoding", "base64"},
		))
		if err != nil {
			return err
		}
		if _, err := pw.Write(a.Data); err != nil {
			return err
		}
		if err := pw.Close(); err != nil {
			return err
		}
	}
	return mw.Close()
}

// writeAlternative writes the text (and the HTML, when there is some) as
// one entity with the header fields top, which create starts: a whole
// message or the next part of a multipart/mixed one.
func writeAlternative(rnd io.Reader, top []field, text, html string,
	create func(message.Header) (*message.Writer, error)) error {
	textFields := func(subtype string) []field {
		return []field{
			{"Content-Type", contentType("text/"+subtype, map[string]string{"charset": "utf-8"})},
			{"Content-Transfer-Encoding", "quoted-printable"},
		}
	}
	if html == "" {
		tw, err := create(header(slices.Concat(top, textFields("plain"))...))
		if err != nil {
			return err
		}
		if _, err := io.WriteString(tw, text); err != nil {
			return err
		}
		return tw.Close()
	}
	b, err := boundary(rnd)
	if err != nil {
		return err
	}
	ct := contentType("multipart/alternative", map[string]string{"boundary": b})
	aw, err := create(header(slices.Concat(top, []field{{"Content-Type", ct}})...))
	if err != nil {
		return err
	}
	for _, p := range []struct{ subtype, body string }{{"plain", text}, {"html", html}} {
		pw, err := aw.CreatePart(header(textFields(p.subtype)...))
		if err != nil {
			return err
		}
		if _, err := io.WriteString(pw, p.body); err != nil {
			return err
		}
		if err := pw.Close(); err != nil {
			return err
		}
	}
	return aw.Close()
}

func (m *Outgoing) validate() error {
	for _, a := range []struct {
		field string
		addr  mail.Address
		req   bool
	}{{"From", m.From, true}, {"To", m.To, true}, {"Reply-To", m.ReplyTo, false}} {
		if a.addr.Address == "" {
			if a.req {
				return fmt.Errorf("email: message has no %s address", a.field)
			}
			continue
		}
		_, err := mail.ParseAddress("<" + a.addr.Address + ">")
		if err != nil || strings.ContainsAny(a.addr.Address, "<> \t") {
			return fmt.Errorf("email: bad %s address %q", a.field, a.addr.Address)
		}
		if hasLineBreak(a.addr.Name) {
			return fmt.Errorf("email: %s name contains a line break", a.field)
		}
	}
	if domainOf(m.From.Address) == "" {
		return fmt.Errorf("email: From address %q has no domain", m.From.Address)
	}
	if hasLineBreak(m.Subject) {
		return fmt.Errorf("email: Subject contains a line break")
	}
	ids := append([]string{m.MessageID, m.InReplyTo}, m.References...)
	for _, id := range ids {
		if !validMsgID(trimAngles(id)) {
			return fmt.Errorf("email: bad message identifier %q", id)
		}
	}
	for k, v := range m.Headers {
		if !validFieldName(k) {
			return fmt.Errorf("email: bad header field name %q", k)
		}
		if reservedHeaders[textproto.CanonicalMIMEHeaderKey(k)] {
			return fmt.Errorf("email: header %q is written by Outgoing itself", k)
		}
		if hasLineBreak(v) {
			return fmt.Errorf("email: header %q contains a line break", k)
		}
	}
	for i, a := range m.Attachments {
		if a.Name == "" || strings.ContainsFunc(a.Name, isControl) || strings.ContainsAny(a.Name, `/\`) {
			return fmt.Errorf("email: attachment %d has a bad name %q", i+1, a.Name)
		}
		if a.ContentType != "" {
			if _, _, err := mime.ParseMediaType(a.ContentType); err != nil || strings.HasPrefix(a.ContentType, "multipart/") {
				return fmt.Errorf("email: attachment %q has a bad content type %q", a.Name, a.ContentType)
			}
		}
	}
	return nil
}

// newMessageID returns "hex@domain" with 128 random bits.
func newMessageID(rnd io.Reader, domain string) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return "", fmt.Errorf("email: making a Message-ID: %w", err)
	}
	return hex.EncodeToString(b[:]) + "@" + domain, nil
}

// boundary returns a fresh MIME boundary.
func boundary(rnd io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return "", fmt.Errorf("email: making a MIME boundary: %w", err)
	}
	return "gethelp-" + hex.EncodeToString(b[:]), nil
}

func domainOf(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return ""
	}
	return addr[i+1:]
}

func trimAngles(id string) string {
	id = strings.TrimSpace(id)
	if strings.HasPrefix(id, "<") && strings.HasSuffix(id, ">") {
		id = id[1 : len(id)-1]
	}
	return id
}

// validMsgID reports whether id (without brackets) is empty or looks like
// left@right with no spaces, brackets or controls.
func validMsgID(id string) bool {
	if id == "" {
		return true
	}
	if strings.ContainsFunc(id, func(r rune) bool { return r <= ' ' || r >= 0x7f || r == '<' || r == '>' }) {
		return false
	}
	at := strings.IndexByte(id, '@')
	return at > 0 && at < len(id)-1
}

func validFieldName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; c < '!' || c > '~' || c == ':' {
			return false
		}
	}
	return true
}

func hasLineBreak(s string) bool { return strings.ContainsAny(s, "\r\n") }

func isControl(r rune) bool { return r < ' ' || r == 0x7f }
