package sessionlog_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode"

	"github.com/gethelp/gethelp/sessionlog"
)

// FuzzVerify feeds arbitrary bytes to Verify, Read and Show. Seeds are in
// testdata/fuzz/FuzzVerify.
func FuzzVerify(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := bytes.Count(data, []byte{'\n'})
		if len(data) > 0 && data[len(data)-1] != '\n' {
			lines++
		}

		n, err := sessionlog.Verify(bytes.NewReader(data))
		if n < 0 || n > lines {
			t.Fatalf("Verify counted %d good lines in %d lines", n, lines)
		}
		var le *sessionlog.LineError
		switch {
		case err == nil && n != lines:
			t.Fatalf("Verify passed %d of %d lines without an error", n, lines)
		case err != nil && (!errors.Is(err, sessionlog.ErrTampered) || !errors.As(err, &le)):
			t.Fatalf("Verify error %v is not a *LineError unwrapping to ErrTampered", err)
		case err != nil && le.Line != n+1:
			t.Fatalf("Verify counted %d good lines but blamed line %d", n, le.Line)
		}

		entries, rerr := sessionlog.Read(bytes.NewReader(data))
		if len(entries) > lines {
			t.Fatalf("Read returned %d entries from %d lines", len(entries), lines)
		}
		if err == nil {
			if rerr != nil || len(entries) != n {
				t.Fatalf("Read = %d entries, %v on a log that verifies with %d lines", len(entries), rerr, n)
			}
			for i, e := range entries {
				if e.Seq != i+1 {
					t.Fatalf("entry %d has seq %d on a log that verifies", i, e.Seq)
				}
			}
		}

		var out bytes.Buffer
		if err := sessionlog.Show(&out, bytes.NewReader(data)); err != nil {
			t.Fatalf("Show: %v", err)
		}
		shown := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if len(shown) != lines+1 {
			t.Fatalf("Show wrote %d lines for %d lines of input", len(shown), lines)
		}
		last := shown[len(shown)-1]
		if err == nil && last != fmt.Sprintf("chain intact: %d entries", n) ||
			err != nil && last != "CHAIN BROKEN: "+strings.TrimPrefix(err.Error(), "sessionlog: ") {
			t.Fatalf("Show's last line %q does not match Verify's %d, %v", last, n, err)
		}
		for _, l := range shown {
			if strings.ContainsFunc(l, func(r rune) bool { return !unicode.IsPrint(r) }) {
				t.Fatalf("Show wrote a non-printable character: %q", l)
			}
		}
	})
}
