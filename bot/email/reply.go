package email

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // charsets other than UTF-8 and ASCII
	gomail "github.com/emersion/go-message/mail"
)

// DefaultMaxBytes is the size limit of a received message when none is set.
const DefaultMaxBytes = 1 << 20

var (
	// ErrTooLarge is wrapped by the error for a message over the size limit.
	ErrTooLarge = errors.New("email: message too large")
	// ErrMalformed is wrapped by the error for a message that cannot be
	// parsed.
	ErrMalformed = errors.New("email: malformed message")
)

// A Reply is a message received from a helper, reduced to what the bot needs.
type Reply struct {
	// Token is the ticket token from the recipient address
	// (base+token@domain). ParseReply leaves it empty; Inbound sets it.
	Token string
	// From is the author as the message states it. It is not authenticated:
	// the token is what ties a reply to a ticket.
	From    mail.Address
	Subject string
	// MessageID, InReplyTo and References are message identifiers without
	// angle brackets; empty or nil when absent.
	MessageID  string
	InReplyTo  string
	References []string
	// Date is the message's Date header; zero when absent or unreadable.
	Date time.Time
	// Text is the new text only, quoted history and signature removed,
	// trimmed; it may be empty (a reply with only an attachment).
	Text string
	// Automatic is set for auto-replies and bounces (see the package doc);
	// their Text is not the helper's words.
	Automatic bool
}

// parseError is an error with a one-line message of its own that still
// matches its kind (ErrTooLarge, ErrMalformed) and its cause.
type parseError struct {
	msg   string
	kind  error
	cause error
}

func (e *parseError) Error() string   { return e.msg }
func (e *parseError) Unwrap() []error { return []error{e.kind, e.cause} }

func malformed(cause error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if cause != nil {
		msg += ": " + oneLine(cause.Error())
	}
	return &parseError{msg: "email: " + msg, kind: ErrMalformed, cause: cause}
}

// oneLine makes s one line of printable UTF-8 of at most about 200 bytes,
// fit for an error message, a log or an SMTP reply (with asciiOnly).
func oneLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && !unicode.IsSpace(r) {
			return '\uFFFD'
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "") + "…"
	}
	return s
}

// ParseReply reads one message of at most maxBytes bytes (DefaultMaxBytes
// when maxBytes ≤ 0) from r and returns the reply in it. Errors have one
// line and name the problem; they wrap ErrTooLarge ("email: message larger
// than 1048576 bytes"), ErrMalformed ("email: message has no From header",
// …), or the error from r.
func ParseReply(r io.Reader, maxBytes int64) (*Reply, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	raw, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("email: reading message: %w", err)
	}
	if int64(len(raw)) > maxBytes {
		return nil, &parseError{msg: fmt.Sprintf("email: message larger than %d bytes", maxBytes), kind: ErrTooLarge}
	}
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
		return nil, malformed(err, "bad header")
	}
	h := gomail.Header{Header: e.Header}

	rep := &Reply{}
	from, err := parseFrom(h)
	if err != nil {
		return nil, err
	}
	rep.From = *from
	rep.From.Name = cleanHeaderText(rep.From.Name)
	subject, _ := h.Subject() // undecodable: the raw value
	rep.Subject = cleanHeaderText(subject)
	rep.MessageID = firstMsgID(h.Get("Message-Id"))
	rep.InReplyTo = firstMsgID(h.Get("In-Reply-To"))
	rep.References = msgIDs(h.Get("References"))
	if d, err := h.Date(); err == nil {
		rep.Date = d
	}
	rep.Automatic = automatic(h)

	text, err := bodyText(e)
	if err != nil {
		return nil, err
	}
	rep.Text = stripQuotes(text)
	return rep, nil
}

// parseFrom returns the first address of the From header, reading a
// mangled display name leniently when the address itself is clear.
func parseFrom(h gomail.Header) (*mail.Address, error) {
	v := h.Get("From")
	if strings.TrimSpace(v) == "" {
		return nil, malformed(nil, "message has no From header")
	}
	list, err := h.AddressList("From")
	if err == nil && len(list) > 0 {
		return list[0], nil
	}
	// A display name with unquoted specials ("John Q. Public <jqp@x>") or an
	// unknown charset: keep the address and what precedes it.
	if m := angleAddr.FindStringSubmatchIndex(v); m != nil {
		addr := v[m[2]:m[3]]
		if a, perr := mail.ParseAddress("<" + addr + ">"); perr == nil {
			name := strings.Trim(strings.TrimSpace(v[:m[0]]), `"`)
			a.Name = cleanHeaderText(name)
			return a, nil
		}
	}
	if err == nil {
		err = errors.New("no address")
	}
	return nil, malformed(err, "bad From header")
}

var angleAddr = regexp.MustCompile(`<([^<>\s]+@[^<>\s]+)>`)

// cleanHeaderText makes a decoded header value one line of printable UTF-8.
func cleanHeaderText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\r' || r == '\n' || r == '\t':
			return ' '
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// msgIDs returns the identifiers between angle brackets in v, without them;
// a value without brackets counts as one identifier when it has no spaces.
func msgIDs(v string) []string {
	var ids []string
	for {
		i := strings.IndexByte(v, '<')
		if i < 0 {
			break
		}
		j := strings.IndexByte(v[i:], '>')
		if j < 0 {
			break
		}
		// From the last '<' before that '>': "<<a@b>" holds "a@b".
		k := strings.LastIndexByte(v[i:i+j], '<')
		i, j = i+k, j-k
		if id := strings.TrimSpace(v[i+1 : i+j]); id != "" && utf8.ValidString(id) && !strings.ContainsAny(id, " \t\r\n") {
			ids = append(ids, id)
		}
		v = v[i+j+1:]
	}
	if ids == nil {
		if id := strings.TrimSpace(v); id != "" && utf8.ValidString(id) && !strings.ContainsAny(id, " \t\r\n<>") {
			ids = append(ids, id)
		}
	}
	return ids
}

func firstMsgID(v string) string {
	if ids := msgIDs(v); len(ids) > 0 {
		return ids[0]
	}
	return ""
}

// automatic reports whether the header marks an auto-reply, a bulk message
// or a delivery report.
func automatic(h gomail.Header) bool {
	if v := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted"))); v != "" && v != "no" {
		return true
	}
	switch strings.ToLower(strings.TrimSpace(h.Get("Precedence"))) {
	case "bulk", "junk", "list", "auto_reply":
		return true
	}
	if h.Get("X-Autoreply") != "" || h.Get("X-Autorespond") != "" {
		return true
	}
	t, _, _ := h.ContentType()
	return t == "multipart/report"
}

// maxParts and maxDepth bound the MIME parts looked at in one message and
// their nesting (each level re-scans its content for its boundary).
const (
	maxParts = 1000
	maxDepth = 32
)

// bodyText returns the message's text: its first inline text/plain part
// that is not empty, else its first inline text/html part as text.
func bodyText(e *message.Entity) (string, error) {
	var plain, htm string
	var havePlain, haveHTML bool
	n := 0
	err := e.Walk(func(path []int, part *message.Entity, err error) error {
		if n++; n > maxParts {
			return malformed(nil, "more than %d MIME parts", maxParts)
		}
		if len(path) > maxDepth {
			return malformed(nil, "MIME parts nested deeper than %d", maxDepth)
		}
		t, params, perr := part.Header.ContentType()
		if perr != nil {
			// Unreadable Content-Type: RFC 2045 says treat it as text/plain.
			t, params = "text/plain", nil
		}
		if strings.HasPrefix(t, "multipart/") {
			if params["boundary"] == "" {
				return malformed(nil, "%s part has no boundary", t)
			}
			return nil
		}
		if t != "text/plain" && t != "text/html" {
			return nil
		}
		if disp, _, _ := part.Header.ContentDisposition(); strings.EqualFold(disp, "attachment") {
			return nil
		}
		if t == "text/plain" && havePlain || t == "text/html" && haveHTML {
			return nil
		}
		b, rerr := io.ReadAll(part.Body)
		if rerr != nil {
			return malformed(rerr, "bad %s part", t)
		}
		s := strings.ToValidUTF8(string(b), "\uFFFD")
		if t == "text/plain" {
			if strings.EqualFold(params["format"], "flowed") {
				s = unflow(s, strings.EqualFold(params["delsp"], "yes"))
			}
			if strings.TrimSpace(s) != "" {
				plain, havePlain = s, true
			}
		} else {
			htm, haveHTML = s, true
		}
		return nil
	})
	if err != nil {
		var pe *parseError
		if errors.As(err, &pe) {
			return "", err
		}
		return "", malformed(err, "bad MIME structure")
	}
	if havePlain {
		return plain, nil
	}
	if haveHTML {
		return htmlToText(htm), nil
	}
	return "", nil
}
