package files

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"
)

// Send offers the file at path, described by offer (from OfferFile), over
// rw, a fresh stream used for this file only, and sends it if the receiver
// accepts: it writes the offer, waits for the answer, streams the content
// from the offset the receiver asks for (64 KiB at a time, never the whole
// file in memory), then waits for the receiver's verdict on the SHA-256.
// progress, which may be nil, sees bytes sent.
//
// The receiver's refusal comes back as ErrDeclined (the person said no),
// ErrTooLarge, ErrBadName, ErrBusy, ErrProtocol (it found the offer
// malformed) or ErrRefused (anything else), with the receiver's detail in
// the message. After the bytes it returns ErrVerify if the receiver's hash
// did not match, ErrRefused if it could not store the file. Send returns
// ErrChanged if the file's size is no longer offer.Size or it ends early
// while being read (it does not hash the file again: the receiver's check
// catches other changes), ErrBadName without sending anything if the name
// is not valid UTF-8 (JSON could not carry it), an error wrapping
// ErrProtocol if offer.ID does not match the rest of offer or the receiver
// breaks the protocol, and ctx's error (wrapped) if ctx ends first. Stream
// errors are wrapped. Send returns a zero Result with every error.
//
// When ctx ends, Send interrupts its blocked I/O by setting a past deadline
// on rw if rw has SetDeadline (net.Conn, *quic.Stream), or else by closing
// rw if it is an io.Closer. The caller closes rw when Send returns.
func Send(ctx context.Context, rw io.ReadWriter, path string, offer Offer, progress Progress) (Result, error) {
	if !utf8.ValidString(offer.Name) {
		return Result{}, fmt.Errorf("%w: %s is not valid UTF-8", ErrBadName, quote(offer.Name))
	}
	if !isHex(offer.SHA256, 64) || offer.Size < 0 || offer.ID != offerID(offer.Name, offer.Size, offer.SHA256) {
		return Result{}, protocolError("offer for %s is inconsistent: id, size and sha256 do not match (use OfferFile)", quote(offer.Name))
	}
	f, err := os.Open(path)
	if err != nil {
		return Result{}, fmt.Errorf("files: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Result{}, fmt.Errorf("files: %w", err)
	}
	if !st.Mode().IsRegular() {
		return Result{}, fmt.Errorf("%w: %s is not a regular file", ErrChanged, path)
	}
	if st.Size() != offer.Size {
		return Result{}, fmt.Errorf("%w: %s is %d bytes now, %d when offered", ErrChanged, path, st.Size(), offer.Size)
	}
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("files: %w", err)
	}

	stop := interruptOnDone(ctx, rw)
	defer stop()

	if err := writeMessage(rw, newOffer(offer)); err != nil {
		return Result{}, streamError(ctx, "sending offer", err)
	}
	ans, err := readAs[answerMsg](rw, typeAnswer)
	if err != nil {
		return Result{}, streamError(ctx, "waiting for the answer", err)
	}
	if !ans.Accept {
		return Result{}, refusal(ans.Reason, ans.Detail)
	}
	if ans.Offset > offer.Size {
		return Result{}, protocolError("receiver asked to resume at %d, past the end (%d)", ans.Offset, offer.Size)
	}
	if _, err := f.Seek(ans.Offset, io.SeekStart); err != nil {
		return Result{}, fmt.Errorf("files: %w", err)
	}

	m := meter{fn: progress, total: offer.Size}
	sent := ans.Offset
	buf := make([]byte, chunkSize)
	for sent < offer.Size {
		if err := ctx.Err(); err != nil {
			return Result{}, fmt.Errorf("files: sending %s: %w", quote(offer.Name), err)
		}
		m.update(sent)
		p := buf[:min(int64(len(buf)), offer.Size-sent)]
		if _, err := io.ReadFull(f, p); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return Result{}, fmt.Errorf("%w: %s ended early", ErrChanged, path)
			}
			return Result{}, fmt.Errorf("files: reading %s: %w", path, err)
		}
		if _, err := rw.Write(p); err != nil {
			return Result{}, streamError(ctx, "sending "+quote(offer.Name), err)
		}
		sent += int64(len(p))
	}
	m.finish()

	v, err := readAs[doneMsg](rw, typeDone)
	if err != nil {
		return Result{}, streamError(ctx, "waiting for the receiver's verdict", err)
	}
	if !v.OK {
		return Result{}, refusal(v.Reason, v.Detail)
	}
	return Result{Offer: offer, ResumedFrom: ans.Offset}, nil
}

// refusal turns a reason code and the receiver's detail into an error.
func refusal(reason, detail string) error {
	var sentinel error
	switch reason {
	case reasonDeclined:
		sentinel = ErrDeclined
	case reasonTooLarge:
		sentinel = ErrTooLarge
	case reasonBadName:
		sentinel = ErrBadName
	case reasonBusy:
		sentinel = ErrBusy
	case reasonProtocol:
		sentinel = ErrProtocol
	case reasonVerify:
		sentinel = ErrVerify
	default:
		sentinel = ErrRefused
		if reason != reasonFailed {
			detail = strings.TrimSpace("reason " + quote(reason) + " " + detail)
		}
	}
	if detail == "" {
		return sentinel
	}
	if short := truncate(detail, 200); len(short) < len(detail) {
		detail = short + "…"
	}
	return fmt.Errorf("%w (receiver: %s)", sentinel, oneLine(detail))
}
