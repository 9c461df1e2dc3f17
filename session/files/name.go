package files

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxName is the longest file name, in bytes, SanitizeName accepts.
const MaxName = 255

// SanitizeName returns name unchanged if it is a safe plain file name on
// every platform gethelp runs on, or an error wrapping ErrBadName that names
// the problem. It refuses a name that
//
//   - is empty, "." or "..", or longer than MaxName bytes;
//   - is not valid UTF-8;
//   - contains '/' or '\\', NUL or any other control character (C0, DEL,
//     C1), a line or paragraph separator (U+2028, U+2029), or a
//     bidirectional control (U+202E and its kin), which could make
//     "report\u202Efdp.exe" look like "reportexe.pdf" in the consent prompt;
//   - contains a character Windows forbids in names: < > : " | ? *
//     (':' would also name an NTFS alternate data stream);
//   - starts with a dot: a hidden file would land unseen, and in a home
//     directory could be a shell start-up file;
//   - ends in a dot or a space, which Windows silently strips;
//   - is a Windows device name, in any case, with or without an extension
//     and with trailing spaces before it: CON, PRN, AUX, NUL, CONIN$,
//     CONOUT$, COM0-COM9, LPT0-LPT9, COM¹-COM³, LPT¹-LPT³ ("con.txt" and
//     "LPT9.log" are refused).
//
// Windows rules apply everywhere so that a name accepted once is valid
// wherever the file travels next.
func SanitizeName(name string) (string, error) {
	bad := func(format string, args ...any) (string, error) {
		return "", fmt.Errorf("%w: %s", ErrBadName, fmt.Sprintf(format, args...))
	}
	switch {
	case name == "":
		return bad("empty name")
	case name == "." || name == "..":
		return bad("%q is not a file name", name)
	case len(name) > MaxName:
		return bad("name of %d bytes is longer than %d", len(name), MaxName)
	case !utf8.ValidString(name):
		return bad("%s is not valid UTF-8", quote(name))
	}
	for _, r := range name {
		switch {
		case r == '/' || r == '\\':
			return bad("%s contains %q", quote(name), r)
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029':
			return bad("%s contains the control character %U", quote(name), r)
		case unicode.Is(unicode.Bidi_Control, r):
			return bad("%s contains the bidirectional control %U", quote(name), r)
		case strings.ContainsRune(`<>:"|?*`, r):
			return bad("%s contains %q, which Windows does not allow", quote(name), r)
		}
	}
	switch {
	case name[0] == '.':
		return bad("%s starts with a dot (a hidden file)", quote(name))
	case strings.HasSuffix(name, ".") || strings.HasSuffix(name, " "):
		return bad("%s ends in a dot or a space", quote(name))
	case isDeviceName(name):
		return bad("%s is a Windows device name", quote(name))
	}
	return name, nil
}

var deviceNames = []string{"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}

func isDeviceName(name string) bool {
	base, _, _ := strings.Cut(name, ".")
	base = strings.TrimRight(base, " ")
	for _, d := range deviceNames {
		if strings.EqualFold(base, d) {
			return true
		}
	}
	if len(base) < 4 {
		return false
	}
	prefix, rest := strings.ToUpper(base[:3]), base[3:]
	if prefix != "COM" && prefix != "LPT" {
		return false
	}
	switch rest {
	case "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "¹", "²", "³":
		return true
	}
	return false
}

// numbered returns the n-th candidate name for a file offered as name:
// name itself for 0, then "stem (n).ext", keeping compound ".tar.*"
// extensions together and the result within MaxName bytes.
func numbered(name string, n int) string {
	if n == 0 {
		return name
	}
	stem, ext := splitExt(name)
	suffix := fmt.Sprintf(" (%d)", n)
	if len(suffix)+len(ext) >= MaxName {
		stem, ext = name, ""
	}
	for len(stem)+len(suffix)+len(ext) > MaxName && stem != "" {
		_, size := utf8.DecodeLastRuneInString(stem)
		stem = stem[:len(stem)-size]
	}
	return stem + suffix + ext
}

// splitExt splits "report.pdf" into "report" and ".pdf", and
// "backup.tar.gz" into "backup" and ".tar.gz". A name without a stem
// before its extension has no extension.
func splitExt(name string) (stem, ext string) {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 {
		return name, ""
	}
	stem, ext = name[:i], name[i:]
	if j := strings.LastIndexByte(stem, '.'); j > 0 && strings.EqualFold(stem[j:], ".tar") {
		stem, ext = stem[:j], stem[j:]+ext
	}
	return stem, ext
}
