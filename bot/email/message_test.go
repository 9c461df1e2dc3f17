package email_test

import (
	"bytes"
	"flag"
	"io"
	"math/rand/v2"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message"
	gomail "github.com/emersion/go-message/mail"

	"github.com/gethelp/gethelp/bot/email"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// invitation is a full Outgoing: non-ASCII names and subject, threading,
// both bodies, an extra header and an attachment with a non-ASCII name.
func invitation() *email.Outgoing {
	seed := [32]byte{'g', 'e', 't', 'h', 'e', 'l', 'p'}
	return &email.Outgoing{
		From:       mail.Address{Name: "gethelp für Jörg", Address: "bot@gethelp.example"},
		To:         mail.Address{Name: "Zoë Helper", Address: "zoe@example.test"},
		ReplyTo:    mail.Address{Name: "gethelp", Address: "bot+abc12345@reply.gethelp.example"},
		Subject:    "Jörg bittet um Hilfe – Einladung №42",
		MessageID:  "invitation-42@gethelp.example",
		InReplyTo:  "<thread-1@gethelp.example>",
		References: []string{"thread-1@gethelp.example", "<thread-2@gethelp.example>"},
		Text:       "Jörg asks for your help.\n\nOpen the attached invitation; the password comes by another channel.\n" + strings.Repeat("A long line that quoted-printable must wrap. ", 3) + "\n",
		HTML:       "<p>Jörg asks for your <b>help</b>.</p><p>Open the attached invitation.</p>",
		Attachments: []email.Attachment{{
			Name:        "Einladung für Jörg.gethelp",
			ContentType: "application/x-gethelp",
			Data:        []byte("gethelp-invitation v1\nhost=192.0.2.1:4433\n"),
		}},
		Headers: map[string]string{"X-Gethelp-Ticket": "T-42", "X-Gethelp-Note": "für dich"},
		Date:    time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("CET", 3600)),
		Rand:    rand.NewChaCha8(seed),
	}
}

func TestOutgoingGolden(t *testing.T) {
	got, err := invitation().Bytes()
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "invitation.golden")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Bytes differ from %s (go test -update rewrites it):\n%s", golden, got)
	}
	// Same input, same bytes.
	again, _ := invitation().Bytes()
	if !bytes.Equal(got, again) {
		t.Error("Bytes is not reproducible with the same Rand")
	}
	for i, line := range strings.SplitAfter(string(got), "\r\n") {
		if strings.TrimSuffix(line, "\r\n") != strings.TrimRight(line, "\r\n") || len(line) > 998 {
			t.Errorf("line %d is not a proper CRLF line of at most 998 bytes: %q", i+1, line)
		}
		for _, c := range []byte(line) {
			if c >= 0x80 {
				t.Fatalf("line %d is not 7-bit: %q", i+1, line)
			}
		}
	}
}

func TestOutgoingParsesBack(t *testing.T) {
	in := invitation()
	raw, err := in.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	r, err := gomail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	h := r.Header
	if s, _ := h.Subject(); s != in.Subject {
		t.Errorf("Subject = %q, want %q", s, in.Subject)
	}
	if from, err := h.AddressList("From"); err != nil || len(from) != 1 || *from[0] != in.From {
		t.Errorf("From = %v (%v), want %v", from, err, in.From)
	}
	if to, err := h.AddressList("To"); err != nil || len(to) != 1 || *to[0] != in.To {
		t.Errorf("To = %v (%v), want %v", to, err, in.To)
	}
	if rt, err := h.AddressList("Reply-To"); err != nil || len(rt) != 1 || rt[0].Address != in.ReplyTo.Address {
		t.Errorf("Reply-To = %v (%v)", rt, err)
	}
	if id, _ := h.MessageID(); id != "invitation-42@gethelp.example" {
		t.Errorf("Message-ID = %q", id)
	}
	if ids, _ := h.MsgIDList("In-Reply-To"); len(ids) != 1 || ids[0] != "thread-1@gethelp.example" {
		t.Errorf("In-Reply-To = %q", ids)
	}
	if ids, _ := h.MsgIDList("References"); strings.Join(ids, " ") != "thread-1@gethelp.example thread-2@gethelp.example" {
		t.Errorf("References = %q", ids)
	}
	if d, err := h.Date(); err != nil || !d.Equal(in.Date) {
		t.Errorf("Date = %v (%v), want %v", d, err, in.Date)
	}
	if v := h.Get("X-Gethelp-Ticket"); v != "T-42" {
		t.Errorf("X-Gethelp-Ticket = %q", v)
	}
	if v, _ := h.Text("X-Gethelp-Note"); v != "für dich" {
		t.Errorf("X-Gethelp-Note = %q", v)
	}
	if ct, _, _ := h.ContentType(); ct != "multipart/mixed" {
		t.Errorf("Content-Type = %q", ct)
	}

	type part struct{ kind, body string }
	var parts []part
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(p.Body)
		if err != nil {
			t.Fatal(err)
		}
		switch ph := p.Header.(type) {
		case *gomail.InlineHeader:
			ct, params, _ := ph.ContentType()
			if params["charset"] != "utf-8" || ph.Get("Content-Transfer-Encoding") != "quoted-printable" {
				t.Errorf("%s part: charset %q, encoding %q", ct, params["charset"], ph.Get("Content-Transfer-Encoding"))
			}
			parts = append(parts, part{ct, strings.ReplaceAll(string(body), "\r\n", "\n")})
		case *gomail.AttachmentHeader:
			name, err := ph.Filename()
			if err != nil || name != "Einladung für Jörg.gethelp" {
				t.Errorf("attachment name = %q (%v)", name, err)
			}
			if !strings.Contains(ph.Get("Content-Disposition"), "filename*=utf-8''Einladung%20f%C3%BCr%20J%C3%B6rg.gethelp") {
				t.Errorf("Content-Disposition is not RFC 2231: %q", ph.Get("Content-Disposition"))
			}
			if ct, _, _ := ph.ContentType(); ct != "application/x-gethelp" {
				t.Errorf("attachment type = %q", ct)
			}
			parts = append(parts, part{"attachment", string(body)})
		}
	}
	want := []part{{"text/plain", in.Text}, {"text/html", in.HTML}, {"attachment", string(in.Attachments[0].Data)}}
	if len(parts) != len(want) {
		t.Fatalf("parts = %q, want %q", parts, want)
	}
	for i := range want {
		if parts[i] != want[i] {
			t.Errorf("part %d = %q, want %q", i, parts[i], want[i])
		}
	}

	// The alternative part nests inside the mixed one.
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var shape []string
	e.Walk(func(path []int, e *message.Entity, err error) error {
		ct, _, _ := e.Header.ContentType()
		shape = append(shape, strings.Repeat("  ", len(path))+ct)
		return nil
	})
	if got := strings.Join(shape, "\n"); got != "multipart/mixed\n  multipart/alternative\n    text/plain\n    text/html\n  application/x-gethelp" {
		t.Errorf("structure:\n%s", got)
	}
}

func TestOutgoingShapes(t *testing.T) {
	base := func() *email.Outgoing {
		return &email.Outgoing{
			From: mail.Address{Address: "bot@gethelp.example"},
			To:   mail.Address{Address: "zoe@example.test"},
		}
	}
	for _, tc := range []struct {
		name  string
		edit  func(*email.Outgoing)
		shape string
		text  string // the text part, CRLF made LF
	}{
		{"text only", func(m *email.Outgoing) { m.Text = "hi\n" }, "text/plain", "hi\n"},
		{"html only", func(m *email.Outgoing) { m.HTML = "<p>Hello <i>there</i></p><p>Bye&nbsp;now</p>" },
			"multipart/alternative\n  text/plain\n  text/html", "Hello there\n\nBye now"},
		{"text and attachment", func(m *email.Outgoing) {
			m.Text = "see file"
			m.Attachments = []email.Attachment{{Name: "a.bin", Data: []byte{0, 1, 2}}}
		}, "multipart/mixed\n  text/plain\n  application/octet-stream", "see file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := base()
			tc.edit(m)
			raw, err := m.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			e, err := message.Read(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			var shape []string
			var text string
			e.Walk(func(path []int, e *message.Entity, err error) error {
				ct, _, _ := e.Header.ContentType()
				shape = append(shape, strings.Repeat("  ", len(path))+ct)
				if ct == "text/plain" {
					b, _ := io.ReadAll(e.Body)
					text = strings.ReplaceAll(string(b), "\r\n", "\n")
				}
				return nil
			})
			if got := strings.Join(shape, "\n"); got != tc.shape {
				t.Errorf("structure:\n%s\nwant:\n%s", got, tc.shape)
			}
			if text != tc.text {
				t.Errorf("text = %q, want %q", text, tc.text)
			}
		})
	}
}

func TestOutgoingFillsIDAndDate(t *testing.T) {
	m := &email.Outgoing{
		From: mail.Address{Address: "bot@gethelp.example"},
		To:   mail.Address{Address: "zoe@example.test"},
		Text: "hi",
	}
	before := time.Now()
	raw, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}@gethelp\.example$`).MatchString(m.MessageID) {
		t.Errorf("MessageID = %q", m.MessageID)
	}
	if !bytes.Contains(raw, []byte("Message-Id: <"+m.MessageID+">\r\n")) {
		t.Errorf("message lacks Message-Id <%s>:\n%s", m.MessageID, raw)
	}
	if m.Date.Before(before.Add(-time.Second)) || m.Date.After(time.Now().Add(time.Second)) {
		t.Errorf("Date = %v", m.Date)
	}
	other := *m
	other.MessageID = ""
	other.Bytes()
	if other.MessageID == m.MessageID {
		t.Error("two messages got the same Message-ID")
	}
}

func TestOutgoingRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*email.Outgoing)
		want string
	}{
		{"no From", func(m *email.Outgoing) { m.From = mail.Address{} }, "no From"},
		{"no To", func(m *email.Outgoing) { m.To = mail.Address{} }, "no To"},
		{"bad To", func(m *email.Outgoing) { m.To.Address = "zoe example" }, "bad To"},
		{"subject injection", func(m *email.Outgoing) { m.Subject = "hi\r\nBcc: evil@example.test" }, "line break"},
		{"name injection", func(m *email.Outgoing) { m.To.Name = "Zoe\nBcc: evil@example.test" }, "line break"},
		{"header injection", func(m *email.Outgoing) { m.Headers = map[string]string{"X-A": "1\r\nBcc: x@y"} }, "line break"},
		{"reserved header", func(m *email.Outgoing) { m.Headers = map[string]string{"content-type": "text/html"} }, "written by Outgoing"},
		{"bad header name", func(m *email.Outgoing) { m.Headers = map[string]string{"X A": "1"} }, "bad header field name"},
		{"bad message id", func(m *email.Outgoing) { m.MessageID = "no at sign" }, "bad message identifier"},
		{"bad reference", func(m *email.Outgoing) { m.References = []string{"a@b>\r\nX: y"} }, "bad message identifier"},
		{"attachment without name", func(m *email.Outgoing) { m.Attachments = []email.Attachment{{Data: []byte("x")}} }, "bad name"},
		{"attachment with path", func(m *email.Outgoing) { m.Attachments = []email.Attachment{{Name: "../x"}} }, "bad name"},
		{"attachment bad type", func(m *email.Outgoing) { m.Attachments = []email.Attachment{{Name: "x", ContentType: "no type"}} }, "bad content type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &email.Outgoing{
				From: mail.Address{Address: "bot@gethelp.example"},
				To:   mail.Address{Address: "zoe@example.test"},
				Text: "hi",
			}
			tc.edit(m)
			_, err := m.Bytes()
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "email: ") {
				t.Errorf("Bytes = %v, want an error about %q", err, tc.want)
			}
			if m.MessageID != "" && tc.name != "bad message id" {
				t.Errorf("MessageID set on failure: %q", m.MessageID)
			}
		})
	}
}
