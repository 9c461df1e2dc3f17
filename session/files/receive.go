package files

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// PartialDir is the directory inside Inbox.Dir that holds unfinished
// transfers, one "<Offer.ID>.part" file each.
const PartialDir = ".gethelp-partial"

// maxNumbered bounds the "name (n).ext" candidates tried for one file.
const maxNumbered = 10000

// Inbox receives files into a directory. Its zero value with Dir set is
// ready to use; it must not be copied after first use. One Inbox may run
// many Receive calls at once.
type Inbox struct {
	// Dir is where finished files land, created with mode 0700 (and its
	// parents) on the first accepted file. Must not be empty.
	Dir string
	// MaxSize is the largest file accepted, in bytes; 0 means no limit.
	// Larger offers are refused before the person is asked.
	MaxSize int64

	mu     sync.Mutex
	active map[string]bool // Offer.IDs being received; guarded by mu
}

// Receive reads one offer from rw, a fresh stream used for this file only,
// and, if the person accepts, receives the file into in.Dir.
//
// It refuses without asking the person, telling the sender why, an offer
// whose name SanitizeName rejects (the error wraps ErrBadName), one larger
// than MaxSize (ErrTooLarge), one whose ID does not match its name, size and
// hash or that is otherwise malformed (ErrProtocol), and one whose ID is
// already being received by this Inbox (ErrBusy). Otherwise it calls
// decide(ctx, offer), which blocks until the person answers: nil accepts;
// any error declines, the sender learns "declined" and Receive returns an
// error wrapping both ErrDeclined and decide's error. While decide runs,
// Receive watches rw if it has SetReadDeadline: when the sender goes away,
// the context passed to decide is cancelled so a prompt can be withdrawn,
// and Receive returns an error wrapping the stream's.
//
// After accepting, Receive resumes from PartialDir/<ID>.part if it exists
// (hashing that prefix first), writes the rest as it arrives, checks the
// SHA-256 of the whole content and moves the file into Dir under the
// offered name, or "name (1).ext", "name (2).ext", ... if that exists: it
// never replaces a file, even one created concurrently. The file has mode
// 0600. A SHA-256 mismatch deletes the partial file, tells the sender and
// returns ErrVerify. A broken stream or a cancelled ctx leaves the partial
// file for the next offer of the same file to resume. ctx's error comes
// back wrapped; stream and disk errors are wrapped. Receive returns a zero
// Result with every error. Once the file is in Dir, Receive succeeds even
// if it cannot tell the sender.
//
// progress, which may be nil, sees bytes on disk. Cancellation interrupts
// rw as described for Send; the caller closes rw when Receive returns.
func (in *Inbox) Receive(ctx context.Context, rw io.ReadWriter, decide func(context.Context, Offer) error, progress Progress) (Result, error) {
	if in.Dir == "" {
		return Result{}, errors.New("files: Inbox.Dir is empty")
	}
	if decide == nil {
		return Result{}, errors.New("files: Receive needs a decide function")
	}
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("files: %w", err)
	}
	stop := interruptOnDone(ctx, rw)
	defer stop()

	om, err := readAs[offerMsg](rw, typeOffer)
	if err != nil {
		if errors.Is(err, ErrProtocol) {
			return Result{}, refuse(rw, reasonProtocol, err)
		}
		return Result{}, streamError(ctx, "reading the offer", err)
	}
	offer := Offer{ID: om.ID, Name: om.Name, Size: om.Size, SHA256: om.SHA256}
	if _, err := SanitizeName(offer.Name); err != nil {
		return Result{}, refuse(rw, reasonBadName, err)
	}
	if in.MaxSize > 0 && offer.Size > in.MaxSize {
		err := fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, offer.Size, in.MaxSize)
		return Result{}, refuse(rw, reasonTooLarge, err)
	}
	if offer.ID != offerID(offer.Name, offer.Size, offer.SHA256) {
		return Result{}, refuse(rw, reasonProtocol, protocolError("offer id does not match its name, size and sha256"))
	}
	if !in.claim(offer.ID) {
		return Result{}, refuse(rw, reasonBusy, ErrBusy)
	}
	defer in.release(offer.ID)

	decision, err := decideWatching(ctx, rw, decide, offer)
	if err != nil || ctx.Err() != nil {
		return Result{}, streamError(ctx, "waiting for the person's answer", err)
	}
	if decision != nil {
		writeMessage(rw, declined(reasonDeclined, ""))
		if errors.Is(decision, ErrDeclined) {
			return Result{}, decision
		}
		return Result{}, fmt.Errorf("%w: %w", ErrDeclined, decision)
	}

	partPath := filepath.Join(in.Dir, PartialDir, offer.ID+".part")
	part, h, offset, err := openPartial(ctx, partPath, offer.Size)
	if err != nil {
		if ctx.Err() != nil {
			return Result{}, fmt.Errorf("files: %w", ctx.Err())
		}
		return Result{}, refuse(rw, reasonFailed, fmt.Errorf("files: opening the partial file: %w", err))
	}
	defer part.Close() // a second Close after the explicit one is harmless

	if err := writeMessage(rw, accepted(offset)); err != nil {
		return Result{}, streamError(ctx, "sending the answer", err)
	}

	m := meter{fn: progress, total: offer.Size}
	got := offset
	buf := make([]byte, chunkSize)
	for got < offer.Size {
		if err := ctx.Err(); err != nil {
			return Result{}, fmt.Errorf("files: receiving %s: %w", quote(offer.Name), err)
		}
		m.update(got)
		n, rerr := rw.Read(buf[:min(int64(len(buf)), offer.Size-got)])
		if n > 0 {
			if _, err := part.Write(buf[:n]); err != nil {
				return Result{}, fmt.Errorf("files: writing the partial file: %w", err)
			}
			h.Write(buf[:n])
			got += int64(n)
		}
		if rerr != nil && got < offer.Size {
			if rerr == io.EOF {
				rerr = io.ErrUnexpectedEOF
			}
			return Result{}, streamError(ctx, fmt.Sprintf("receiving %s (stream ended after %d of %d bytes)", quote(offer.Name), got, offer.Size), rerr)
		}
	}
	m.finish()

	if sum := hex.EncodeToString(h.Sum(nil)); sum != offer.SHA256 {
		part.Close()
		os.Remove(partPath)
		writeMessage(rw, verdict(false, reasonVerify, ""))
		return Result{}, fmt.Errorf("%w: %s has SHA-256 %s, offered as %s", ErrVerify, quote(offer.Name), sum, offer.SHA256)
	}
	if err := part.Sync(); err != nil {
		return Result{}, refuseDone(rw, fmt.Errorf("files: writing the partial file: %w", err))
	}
	if err := part.Close(); err != nil {
		return Result{}, refuseDone(rw, fmt.Errorf("files: writing the partial file: %w", err))
	}
	final, err := place(partPath, in.Dir, offer.Name)
	if err != nil {
		return Result{}, refuseDone(rw, err)
	}
	writeMessage(rw, verdict(true, "", "")) // the file is in place: success either way
	return Result{Offer: offer, Path: final, ResumedFrom: offset}, nil
}

// refuse tells the sender no, best effort, and returns err. The sender is
// not told the receiver's own failures in detail: they name paths on the
// person's computer.
func refuse(rw io.Writer, reason string, err error) error {
	d := detail(err)
	if reason == reasonFailed {
		d = "could not store the file"
	}
	writeMessage(rw, declined(reason, d))
	return err
}

// refuseDone tells the sender the receiver failed after the last byte, best
// effort, and returns err, which the sender is not told (see refuse).
func refuseDone(rw io.Writer, err error) error {
	writeMessage(rw, verdict(false, reasonFailed, "could not store the file"))
	return err
}

// detail is the part of err worth telling the sender: its message without
// the sentinel's own words, which the sender's error repeats.
func detail(err error) string {
	s := err.Error()
	for _, sentinel := range []error{ErrBadName, ErrTooLarge, ErrProtocol, ErrBusy} {
		if errors.Is(err, sentinel) {
			if rest, ok := strings.CutPrefix(s, sentinel.Error()); ok {
				return strings.TrimPrefix(rest, ": ")
			}
		}
	}
	return s
}

func (in *Inbox) claim(id string) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.active[id] {
		return false
	}
	if in.active == nil {
		in.active = make(map[string]bool)
	}
	in.active[id] = true
	return true
}

// release ends a claim and, when no transfer is running, removes PartialDir
// if it is empty. Holding mu while removing keeps a concurrent Receive from
// losing the directory between creating it and opening its file there.
func (in *Inbox) release(id string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	delete(in.active, id)
	if len(in.active) == 0 {
		os.Remove(filepath.Join(in.Dir, PartialDir)) // fails, harmlessly, unless empty
	}
}

// decideWatching calls decide. When rw has working read deadlines, a
// goroutine reads rw meanwhile: the sender must be silent until the answer,
// so anything it reads means the sender went away (decide's context is
// cancelled) or broke the protocol. The goroutine is stopped and waited for
// before decideWatching returns. err reports the stream; decision is
// decide's.
func decideWatching(ctx context.Context, rw io.ReadWriter, decide func(context.Context, Offer) error, offer Offer) (decision, err error) {
	rd, ok := rw.(readDeadliner)
	if !ok || rd.SetReadDeadline(time.Time{}) != nil {
		return decide(ctx, offer), nil
	}
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type readResult struct {
		n   int
		err error
	}
	res := make(chan readResult, 1)
	go func() {
		var b [1]byte
		n, err := rw.Read(b[:])
		cancel()
		res <- readResult{n, err}
	}()
	var r readResult
	joined := false
	join := func() {
		if !joined {
			joined = true
			rd.SetReadDeadline(longAgo)
			r = <-res
			rd.SetReadDeadline(time.Time{})
		}
	}
	defer join() // even if decide panics
	decision = decide(dctx, offer)
	join()
	// If ctx ended meanwhile, its interrupt may have run before the reset
	// above; the caller checks ctx.Err() next, so that is not lost.
	switch {
	case r.n > 0:
		return decision, protocolError("the sender wrote before the answer")
	case r.err != nil && !isTimeout(r.err):
		if r.err == io.EOF {
			r.err = io.ErrUnexpectedEOF
		}
		return decision, fmt.Errorf("the sender went away: %w", r.err)
	}
	return decision, nil
}

// openPartial opens (creating Dir and PartialDir as needed) the partial
// file at path for a transfer of size bytes, hashes the prefix it already
// holds and leaves it positioned at the end of that prefix. A partial longer
// than size, or one that cannot be read back, is truncated to nothing.
func openPartial(ctx context.Context, path string, size int64) (*os.File, hash.Hash, int64, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, nil, 0, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, 0, err
	}
	h := sha256.New()
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, 0, err
	}
	offset := st.Size()
	if offset > size || !st.Mode().IsRegular() {
		offset = 0
	}
	if offset > 0 {
		if _, err := copyContext(ctx, h, f, offset); err != nil {
			if ctx.Err() != nil {
				f.Close()
				return nil, nil, 0, err
			}
			h.Reset()
			offset = 0
		}
	}
	if offset != st.Size() {
		if err := f.Truncate(offset); err != nil {
			f.Close()
			return nil, nil, 0, err
		}
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		f.Close()
		return nil, nil, 0, err
	}
	return f, h, offset, nil
}

// place moves the finished partial file into dir under name or the first
// free numbered variant and returns the new path. It never replaces an
// existing file: a hard link fails if the name exists, and only then is the
// partial unlinked. Where hard links are not supported it claims the name
// with O_EXCL and renames the partial over its own empty placeholder.
func place(partPath, dir, name string) (string, error) {
	useLink := true
	for n := 0; n < maxNumbered; n++ {
		dst := filepath.Join(dir, numbered(name, n))
		if useLink {
			err := os.Link(partPath, dst)
			if err == nil {
				os.Remove(partPath)
				return dst, nil
			}
			if errors.Is(err, fs.ErrExist) {
				continue
			}
			useLink = false // no hard links here: claim names with O_EXCL instead
		}
		f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("files: storing the file: %w", err)
		}
		f.Close()
		if err := os.Rename(partPath, dst); err != nil {
			os.Remove(dst)
			return "", fmt.Errorf("files: storing the file: %w", err)
		}
		return dst, nil
	}
	return "", fmt.Errorf("files: storing the file: %d names like %s are taken", maxNumbered, quote(name))
}
