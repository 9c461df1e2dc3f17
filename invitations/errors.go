package invitations

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Errors returned by this package. Each call documents which of them it can
// return; test for them with errors.Is, never by comparing messages.
var (
	// ErrMalformed is wrapped by every error about a badly formed invitation
	// file (Parse) or an invalid Invitation (Marshal).
	ErrMalformed = errors.New("invitations: malformed invitation")
	// ErrUnknownVersion is wrapped by Parse's error for a file whose
	// gethelp-invitation version is not Version.
	ErrUnknownVersion = errors.New("invitations: unsupported invitation version")
	// ErrExpired is wrapped by CheckExpiry's error once an invitation has expired.
	ErrExpired = errors.New("invitations: invitation expired")
	// ErrWeakPassword is wrapped by CheckPassword's error for a password that is
	// too short.
	ErrWeakPassword = errors.New("invitations: password too short")
	// ErrNotFound is wrapped by Store.Get's and Store.Update's error when there
	// is no record for the id.
	ErrNotFound = errors.New("invitations: no such invitation")
)

// invError is an error with a precise one-line message that still unwraps
// to one of the package's sentinel errors.
type invError struct {
	line int    // 1-based line of the invitation file; 0 when not tied to a line
	msg  string // without the "invitations: " prefix; never contains a newline
	kind error  // the sentinel it unwraps to; never nil
}

func (e *invError) Error() string {
	if e.line > 0 {
		return "invitations: line " + strconv.Itoa(e.line) + ": " + e.msg
	}
	return "invitations: " + e.msg
}

func (e *invError) Unwrap() error { return e.kind }

// malformed returns an error wrapping ErrMalformed. line 0 means the problem
// is not tied to one line.
func malformed(line int, format string, args ...any) error {
	return &invError{line: line, msg: fmt.Sprintf(format, args...), kind: ErrMalformed}
}

// quote returns s as a Go string literal, so that an error message stays on
// one line whatever the input holds, cut short when s is long.
func quote(s string) string {
	const maxRunes = 40
	if utf8.RuneCountInString(s) <= maxRunes {
		return strconv.Quote(s)
	}
	n := 0
	for i := range s {
		if n == maxRunes {
			return strconv.Quote(s[:i]) + "…"
		}
		n++
	}
	return strconv.Quote(s)
}
