package email_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gethelp/gethelp/bot/email"
)

// FuzzParseReply checks that ParseReply never panics, that its errors are
// one line and of a documented kind, and that what it returns is clean
// UTF-8 text without quoted lines, of a size in proportion to its input.
// Seeds: testdata/replies/*.eml and testdata/fuzz/FuzzParseReply.
func FuzzParseReply(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "replies", "*.eml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	const limit = 1 << 16
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := email.ParseReply(bytes.NewReader(data), limit)
		if err != nil {
			if !errors.Is(err, email.ErrMalformed) && !errors.Is(err, email.ErrTooLarge) {
				t.Fatalf("error of no documented kind: %v", err)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "email: ") || strings.ContainsAny(msg, "\r\n") || !utf8.ValidString(msg) {
				t.Fatalf("error is not one clean line: %q", msg)
			}
			return
		}
		if r.From.Address == "" {
			t.Fatal("no From address and no error")
		}
		for name, s := range map[string]string{"Text": r.Text, "Subject": r.Subject, "From name": r.From.Name, "MessageID": r.MessageID, "InReplyTo": r.InReplyTo} {
			if !utf8.ValidString(s) {
				t.Fatalf("%s is not UTF-8: %q", name, s)
			}
		}
		if strings.ContainsAny(r.Subject, "\r\n") {
			t.Fatalf("Subject has a line break: %q", r.Subject)
		}
		if strings.Contains(r.Text, "\r") || r.Text != strings.TrimSpace(r.Text) {
			t.Fatalf("Text not normalised: %q", r.Text)
		}
		for _, line := range strings.Split(r.Text, "\n") {
			if strings.HasPrefix(line, ">") {
				t.Fatalf("quoted line kept: %q", line)
			}
		}
		if len(r.Text) > 4*len(data)+64 {
			t.Fatalf("Text of %d bytes from %d bytes of input", len(r.Text), len(data))
		}
		for _, id := range append([]string{r.MessageID, r.InReplyTo}, r.References...) {
			if strings.ContainsAny(id, " \t\r\n<>") {
				t.Fatalf("bad message identifier %q", id)
			}
		}
	})
}
