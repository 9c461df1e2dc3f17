package session

import (
	"errors"
	"fmt"
	"net"

	"github.com/quic-go/quic-go"
)

// RejectCode says why a host refused a viewer.
type RejectCode string

// Reject codes sent by the host in a "reject" message.
const (
	RejectBadPassword RejectCode = "bad_password"
	RejectLocked      RejectCode = "locked"
	RejectBusy        RejectCode = "busy"
	RejectExpired     RejectCode = "expired"
	RejectCancelled   RejectCode = "cancelled"
	RejectUnknown     RejectCode = "unknown_invitation"
	RejectPolicy      RejectCode = "policy"
	// Offers of help: the person said no (or did not answer), or the
	// helper's key is not on the computer's allowlist (a TLS alert in the
	// handshake, which Dial reports with this code; a reject message only
	// when the list changed after the handshake).
	RejectDeclined   RejectCode = "declined"
	RejectNotAllowed RejectCode = "not_allowed"
)

// Errors returned by Dial. A refusal from the host is a *RejectError that
// unwraps to the sentinel matching its code.
var (
	ErrBadPassword       = errors.New("session: wrong password")
	ErrLocked            = errors.New("session: invitation locked after too many wrong passwords")
	ErrBusy              = errors.New("session: host is busy with another helper")
	ErrExpired           = errors.New("session: invitation expired")
	ErrCancelled         = errors.New("session: invitation cancelled")
	ErrUnknownInvitation = errors.New("session: host does not know this invitation")
	ErrPolicy            = errors.New("session: refused by the host's policy")
	ErrRejected          = errors.New("session: host refused the connection")
	ErrDeclined          = errors.New("session: the person declined the offer of help")
	ErrNotAllowed        = errors.New("session: the computer does not allow this helper's key")

	// ErrPinMismatch: a server answered, but its key is not the one pinned
	// in the invitation. Nothing was sent to it.
	ErrPinMismatch = errors.New("session: host key does not match the invitation")
	// ErrUnreachable: no candidate address answered in time.
	ErrUnreachable = errors.New("session: could not reach the host")
)

var rejectSentinels = map[RejectCode]error{
	RejectBadPassword: ErrBadPassword,
	RejectLocked:      ErrLocked,
	RejectBusy:        ErrBusy,
	RejectExpired:     ErrExpired,
	RejectCancelled:   ErrCancelled,
	RejectUnknown:     ErrUnknownInvitation,
	RejectPolicy:      ErrPolicy,
	RejectDeclined:    ErrDeclined,
	RejectNotAllowed:  ErrNotAllowed,
}

// RejectError is a host's refusal, as received by Dial.
type RejectError struct {
	Code         RejectCode
	Reason       string // the host's words, may be empty
	AttemptsLeft int    // for RejectBadPassword: tries left before the invitation locks
}

func (e *RejectError) Error() string {
	msg := e.Unwrap().Error()
	if e.Reason != "" {
		msg = "session: " + e.Reason
	}
	if e.Code == RejectBadPassword && e.AttemptsLeft > 0 {
		msg += fmt.Sprintf(" (%d attempts left)", e.AttemptsLeft)
	}
	return msg
}

// Unwrap returns the sentinel for the code, or ErrRejected for a code this
// version does not know.
func (e *RejectError) Unwrap() error {
	if s, ok := rejectSentinels[e.Code]; ok {
		return s
	}
	return ErrRejected
}

// rejectedByClose returns the refusal that the host's closing of the
// connection carries (Request.Reject closes it with codeRejected and the
// code as the reason), for when the reject message itself was lost: a host
// that rejects and stops at once may close the connection before the
// viewer has read it. It returns nil for any other error.
func rejectedByClose(err error) *RejectError {
	var ae *quic.ApplicationError
	if !errors.As(err, &ae) || !ae.Remote || ae.ErrorCode != codeRejected {
		return nil
	}
	if _, known := rejectSentinels[RejectCode(ae.ErrorMessage)]; !known {
		return nil
	}
	return &RejectError{Code: RejectCode(ae.ErrorMessage)}
}

// ClosedError tells how a session ended. It unwraps to net.ErrClosed.
type ClosedError struct {
	Reason string // human-readable; never empty
	ByPeer bool   // the other side ended it
	// Lost says the connection was lost (no answer, a network error, the
	// peer's process gone) rather than ended by either side: the viewer
	// may then resume the session (DialConfig.Resume).
	Lost bool
}

func (e *ClosedError) Error() string {
	if e.ByPeer {
		return "session: closed by the other side: " + e.Reason
	}
	return "session: closed: " + e.Reason
}

func (e *ClosedError) Unwrap() error { return net.ErrClosed }
