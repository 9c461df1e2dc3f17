package invitations

import (
	"crypto/rand"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Alphabet is the unambiguous alphabet for ids and generated passwords: no
// 0/O, 1/I/L, so that what is read aloud or copied by hand comes out right.
const Alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

const (
	idLen          = 10 // characters of an invitation id
	passwordLen    = 12 // characters of a generated password, without dashes
	passwordGroup  = 4  // a generated password is shown in groups of this many
	minPasswordLen = 8  // characters of an acceptable password, canonical form
)

// NewID returns a new invitation id: 10 characters drawn uniformly from
// Alphabet with crypto/rand (about 49.5 bits).
func NewID() string {
	return string(randomChars(idLen))
}

// NewPassword returns a new password: 12 characters drawn uniformly from
// Alphabet with crypto/rand (about 59.4 bits), grouped by dashes for
// reading, like "K7PM-W3XQ-R9TD". CanonicalPassword removes the dashes.
func NewPassword() string {
	chars := randomChars(passwordLen)
	var b strings.Builder
	for i := 0; i < len(chars); i += passwordGroup {
		if i > 0 {
			b.WriteByte('-')
		}
		b.Write(chars[i : i+passwordGroup])
	}
	return b.String()
}

// randomChars returns n characters drawn uniformly from Alphabet. Random
// bytes at or above the largest multiple of len(Alphabet) are discarded, so
// that the modulo does not favour the first characters.
func randomChars(n int) []byte {
	const limit = 256 - 256%len(Alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		rand.Read(buf) // never fails; see crypto/rand.Read
		for _, c := range buf {
			if int(c) >= limit {
				continue
			}
			out = append(out, Alphabet[int(c)%len(Alphabet)])
			if len(out) == n {
				break
			}
		}
	}
	return out
}

// CanonicalPassword returns the form of p that is compared: white space
// (spaces, tabs, newlines and other Unicode spaces) and '-' removed and the
// rest upper-cased, so that "k7pm w3xq-r9td" equals "K7PM-W3XQ-R9TD". Hosts
// and viewers must both canonicalize before deriving anything from a password.
func CanonicalPassword(p string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || unicode.IsSpace(r) {
			return -1
		}
		return unicode.ToUpper(r)
	}, p)
}

// CheckPassword returns nil when p is long enough to protect an invitation,
// and an error wrapping ErrWeakPassword, saying the minimum, when its
// canonical form (see CanonicalPassword) has fewer than 8 characters.
// Generated passwords always pass.
func CheckPassword(p string) error {
	if utf8.RuneCountInString(CanonicalPassword(p)) < minPasswordLen {
		return &invError{
			msg:  fmt.Sprintf("password too short: it needs at least %d characters, not counting spaces and dashes", minPasswordLen),
			kind: ErrWeakPassword,
		}
	}
	return nil
}

// validID reports whether id is a well-formed invitation id.
func validID(id string) bool {
	if len(id) != idLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if strings.IndexByte(Alphabet, id[i]) < 0 {
			return false
		}
	}
	return true
}
