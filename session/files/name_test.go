package files_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gethelp/gethelp/session/files"
)

func TestSanitizeName(t *testing.T) {
	for _, tc := range []struct {
		name  string
		input string
		ok    bool
	}{
		{"parent path", "../etc/passwd", false},
		{"slash", "a/b", false},
		{"backslash parent", "..\\x", false},
		{"device", "CON", false},
		{"device with extension", "con.txt", false},
		{"printer with extension", "LPT9.log", false},
		{"device with space", "nul .txt", false},
		{"device superscript", "COM¹", false},
		{"device console", "CONOUT$", false},
		{"NUL byte", "x\x00y", false},
		{"newline", "a\nb.txt", false},
		{"DEL", "a\x7f.txt", false},
		{"C1 control", "a\u0085.txt", false},
		{"line separator", "a\u2028b.txt", false},
		{"right-to-left override", "report\u202Efdp.exe", false},
		{"Windows reserved", "what?.txt", false},
		{"alternate data stream", "a.txt:hidden", false},
		{"empty", "", false},
		{"dot", ".", false},
		{"dot dot", "..", false},
		{"hidden", ".profile", false},
		{"too long", strings.Repeat("x", 300), false},
		{"trailing dot", "trailing.", false},
		{"trailing space", "trailing ", false},
		{"invalid UTF-8", "bad\xff.txt", false},
		{"plain", "ok.txt", true},
		{"accent and space", "rapport ü.pdf", true},
		{"longest", strings.Repeat("y", 255), true},
		{"device-like prefix", "console.log", true},
		{"COM10", "COM10.txt", true},
		{"inner dots", "v1.2.3.tar.gz", true},
		{"leading space", " spaced.txt", true},
		{"emoji", "🎉 party.png", true},
		{"CJK", "報告書.docx", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := files.SanitizeName(tc.input)
			if tc.ok {
				if err != nil || got != tc.input {
					t.Errorf("SanitizeName(%q) = %q, %v; want it unchanged", tc.input, got, err)
				}
				return
			}
			if !errors.Is(err, files.ErrBadName) || got != "" {
				t.Errorf("SanitizeName(%q) = %q, %v; want ErrBadName", tc.input, got, err)
			}
			if err != nil && strings.ContainsAny(err.Error(), "\n\r\x00") {
				t.Errorf("error %q is not one line", err)
			}
		})
	}
}
