package helperkey_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gethelp/gethelp/helperkey"
)

// FuzzParseLine: whatever an administrator pastes into the policy, the
// parser answers with a key whose line parses back to the same key and
// name, or with a one-line error wrapping ErrBadLine, never a panic. The
// seed corpus is in testdata/fuzz/FuzzParseLine. An allowlist made of the
// line twice is refused (a key listed twice).
func FuzzParseLine(f *testing.F) {
	f.Add(testLine)
	f.Add("gethelp-helper-ed25519 " + testB64)
	f.Fuzz(func(t *testing.T, line string) {
		k, err := helperkey.ParseLine(line)
		if err != nil {
			if !errors.Is(err, helperkey.ErrBadLine) {
				t.Fatalf("error does not wrap ErrBadLine: %v", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error spans lines: %q", err)
			}
			return
		}
		if len(k.Key) != 32 || utf8.RuneCountInString(k.Name) > helperkey.MaxNameLen || strings.ContainsAny(k.Name, "\r\n\t\x00") {
			t.Fatalf("accepted a bad key: %+v", k)
		}
		again, err := helperkey.ParseLine(k.String())
		if err != nil || !again.Key.Equal(k.Key) || again.Name != k.Name {
			t.Fatalf("%q parsed as %+v, whose line %q parses as %+v, %v", line, k, k.String(), again, err)
		}
		if _, ok := mustAllow(t, line).Lookup(k.SPKI()); !ok {
			t.Fatal("an allowlist of the line does not allow its key")
		}
		if _, err := helperkey.ParseAllowlist([]string{line, line}); !errors.Is(err, helperkey.ErrBadLine) {
			t.Fatalf("a key listed twice was accepted: %v", err)
		}
	})
}

func mustAllow(t *testing.T, lines ...string) helperkey.Allowlist {
	a, err := helperkey.ParseAllowlist(lines)
	if err != nil {
		t.Fatalf("ParseAllowlist(%q): %v", lines, err)
	}
	return a
}
