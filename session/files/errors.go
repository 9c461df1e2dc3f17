package files

import (
	"context"
	"errors"
	"fmt"
)

// Errors returned by Send, Inbox.Receive, OfferFile and SanitizeName. They
// are wrapped with detail; test with errors.Is. Each is documented on the
// calls that return it.
var (
	// ErrDeclined: the person receiving the file said no (or their decide
	// callback failed).
	ErrDeclined = errors.New("files: declined")
	// ErrTooLarge: the offer is larger than the receiver's Inbox.MaxSize.
	ErrTooLarge = errors.New("files: file too large")
	// ErrBadName: the file name is not a safe plain file name (see
	// SanitizeName).
	ErrBadName = errors.New("files: unsafe file name")
	// ErrBusy: the receiver is already receiving the same file (same
	// Offer.ID) on another stream.
	ErrBusy = errors.New("files: the same file is already being received")
	// ErrVerify: the received bytes do not have the offered SHA-256. The
	// receiver deleted its partial file.
	ErrVerify = errors.New("files: SHA-256 mismatch")
	// ErrChanged: the file on the sender's disk changed since OfferFile (its
	// size differs, or it ended early while being sent).
	ErrChanged = errors.New("files: file changed since it was offered")
	// ErrProtocol: the peer broke the wire protocol (junk, an oversized or
	// out-of-turn message, an unsupported version, an inconsistent offer).
	ErrProtocol = errors.New("files: protocol error")
	// ErrRefused: the receiver accepted the file in principle but could not
	// take it (for instance it could not create its directory or write to
	// its disk), or gave a reason this version does not know.
	ErrRefused = errors.New("files: the receiver could not take the file")
)

// Describe puts why a transfer failed in a few words for a person: the
// error of Send or Receive, or of the session around them.
func Describe(err error) string {
	switch {
	case errors.Is(err, ErrDeclined):
		return "declined"
	case errors.Is(err, ErrTooLarge):
		return "too large for the receiver"
	case errors.Is(err, ErrBadName):
		return "unsafe file name"
	case errors.Is(err, ErrVerify):
		return "the received file did not match its SHA-256: discarded"
	case errors.Is(err, ErrChanged):
		return "the file changed while it was being sent"
	case errors.Is(err, context.Canceled):
		return "the session ended; send it again to resume"
	}
	return fmt.Sprint(err)
}
