package invitations_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/gethelp/gethelp/invitations"
)

// FuzzParse checks that Parse never panics, that its errors are one-line
// messages of a known kind, and that whatever it accepts survives Marshal
// and Parse unchanged. Seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := invitations.Parse(data)
		if err != nil {
			if inv != nil {
				t.Fatalf("Parse returned an invitation and %v", err)
			}
			if !errors.Is(err, invitations.ErrMalformed) && !errors.Is(err, invitations.ErrUnknownVersion) {
				t.Fatalf("Parse error %q wraps neither ErrMalformed nor ErrUnknownVersion", err)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "invitations: ") || strings.ContainsAny(msg, "\r\n") {
				t.Fatalf("Parse error %q is not one prefixed line", msg)
			}
			return
		}
		out, err := inv.Marshal()
		if err != nil {
			t.Fatalf("Marshal of a parsed invitation: %v\ninput: %q", err, data)
		}
		again, err := invitations.Parse(out)
		if err != nil {
			t.Fatalf("Parse(Marshal): %v\nmarshalled: %q", err, out)
		}
		if d := equalInvitation(inv, again); d != "" {
			t.Fatalf("Parse(Marshal(Parse(x))) != Parse(x): %s\ninput: %q", d, data)
		}
		out2, err := again.Marshal()
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("Marshal not stable: %v\n%q\n%q", err, out, out2)
		}
	})
}
