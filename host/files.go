package host

// Files: between the person and the helper, each accepted by whoever
// receives it.
//
// Decisions:
//
//   - The helper may offer files only once the person granted "files";
//     each file still waits for the person to accept it (AcceptFile) or
//     decline it. Offers without the grant are declined unasked. Files the
//     person sends are their own doing and need no grant.
//   - One file per two-way stream (session.ChannelFile), with
//     session/files doing the transfer: names sanitised, nothing
//     overwritten, SHA-256 checked, and a partial file kept in
//     Config.FilesDir so the same file offered again (after a reconnect
//     with a resent invitation) resumes where it stopped.
//   - The session log records each file's name, size, direction and
//     SHA-256, and declines and failures.

import (
	"context"
	"errors"
	"sync"

	"github.com/gethelp/gethelp/session"
	"github.com/gethelp/gethelp/session/files"
)

// Event types for files.
const (
	EventFileOffer    = "file_offer"    // the helper offers a file: accept_file or decline_file with its ID
	EventFileProgress = "file_progress" // Done of Total bytes
	EventFileReceived = "file_received" // saved at Path, SHA-256 checked
	EventFileSent     = "file_sent"     // the helper has it, SHA-256 checked
	EventFileFailed   = "file_failed"   // Reason says why (declined, too large, connection lost, ...)
)

// Errors of the file calls.
var (
	ErrNoFilesDir = errors.New("host: no folder for received files is set")
)

// Directions of a transfer, in events and the log.
const (
	toHelper   = "to_helper"
	fromHelper = "from_helper"
)

// AcceptFile accepts the helper's file offer id. It returns an error
// wrapping files.ErrNoOffer when no such offer is waiting.
func (h *Host) AcceptFile(id string) error { return h.decisions.Decide(id, true) }

// DeclineFile declines the helper's file offer id.
func (h *Host) DeclineFile(id string) error { return h.decisions.Decide(id, false) }

// SendFile sends the file at path to the helper; the helper accepts or
// declines it. It returns once the file is hashed (with ctx) and offered;
// progress and the outcome come as events. It returns ErrNoSession, or the
// error of reading the file.
func (h *Host) SendFile(ctx context.Context, path string) error {
	offer, err := files.OfferFile(ctx, path)
	if err != nil {
		return err
	}
	return h.SendOffer(path, offer)
}

// SendOffer sends the file at path whose offer the caller computed with
// files.OfferFile (so it knows the transfer's ID before any event), as
// SendFile does.
func (h *Host) SendOffer(path string, offer files.Offer) error {
	h.mu.Lock()
	s, ctx := h.sess, h.sessCtx
	h.mu.Unlock()
	if s == nil {
		return ErrNoSession
	}
	h.transfers.Add(1)
	go func() {
		defer h.transfers.Done()
		h.sendFile(ctx, s, path, offer)
	}()
	return nil
}

func (h *Host) sendFile(ctx context.Context, s *session.Conn, path string, offer files.Offer) {
	st, err := s.OpenStream(ctx, session.ChannelFile)
	if err != nil {
		if lostConn(s) {
			h.keepInterrupted(path, offer)
			return
		}
		h.fileFailed(offer, toHelper, err)
		return
	}
	defer st.Cancel()
	h.emit(Event{Type: EventFileProgress, ID: offer.ID, Name: offer.Name, Total: offer.Size, Direction: toHelper})
	_, err = files.Send(ctx, st, path, offer, h.fileProgress(offer, toHelper))
	if err != nil {
		if !errors.Is(err, files.ErrDeclined) && lostConn(s) {
			// Offered again once the helper resumes the session; their
			// side resumes the partial file.
			h.keepInterrupted(path, offer)
			return
		}
		h.fileFailed(offer, toHelper, err)
		return
	}
	st.Close()
	h.record("file_sent", map[string]any{"name": offer.Name, "size": offer.Size, "sha256": offer.SHA256, "direction": toHelper})
	h.emit(Event{Type: EventFileSent, ID: offer.ID, Name: offer.Name, Size: offer.Size, SHA256: offer.SHA256, Direction: toHelper})
}

// serveFiles receives the helper's files until ctx ends.
func (h *Host) serveFiles(ctx context.Context, s *session.Conn) {
	for {
		st, err := s.AcceptStream(ctx, session.ChannelFile)
		if err != nil {
			return
		}
		h.transfers.Add(1)
		go func() {
			defer h.transfers.Done()
			defer st.Finish() // the sender must read our answer
			h.receiveFile(ctx, s, st)
		}()
	}
}

func (h *Host) receiveFile(ctx context.Context, s *session.Conn, st *session.Stream) {
	helper := s.PeerName()
	if h.cfg.FilesDir == "" {
		h.logger.Info("refusing a file: no folder for received files")
	}
	inbox := h.inbox()
	var (
		mu      sync.Mutex
		offered files.Offer // once the offer arrived
	)
	offer := func() files.Offer { mu.Lock(); defer mu.Unlock(); return offered }
	decide := func(ctx context.Context, o files.Offer) error {
		mu.Lock()
		offered = o
		mu.Unlock()
		h.mu.Lock()
		allowed := h.consent.caps[session.CapFiles]
		h.mu.Unlock()
		if !allowed {
			h.record("file_declined", map[string]any{"name": o.Name, "size": o.Size, "helper": helper, "reason": "files not allowed"})
			return errors.New("file transfer is not allowed")
		}
		if inbox == nil {
			return ErrNoFilesDir
		}
		return h.decisions.Wait(ctx, o, func(o files.Offer) {
			h.emit(Event{Type: EventFileOffer, ID: o.ID, Name: o.Name, Size: o.Size, SHA256: o.SHA256, Helper: helper})
		})
	}
	if inbox == nil {
		inbox = &files.Inbox{Dir: "/nonexistent"} // never written: decide declines
	}
	progress := func(done, total int64) {
		o := offer()
		h.emit(Event{Type: EventFileProgress, ID: o.ID, Name: o.Name, Done: done, Total: total, Direction: fromHelper})
	}
	res, err := inbox.Receive(ctx, st, decide, progress)
	if err != nil {
		if o := offer(); o.ID != "" && !errors.Is(err, files.ErrDeclined) && lostConn(s) {
			// The helper offers it again on the resumed connection; the
			// partial file is kept for that.
			h.record("file_interrupted", map[string]any{"name": o.Name, "size": o.Size, "direction": fromHelper})
		} else if o.ID != "" {
			h.decisions.Done(o.ID)
			h.fileFailed(o, fromHelper, err)
		} else {
			h.logger.Info("refused a file offer", "err", err)
			h.record("file_refused", map[string]any{"helper": helper, "reason": err.Error()})
		}
		return
	}
	o := res.Offer
	h.decisions.Done(o.ID)
	h.record("file_received", map[string]any{"name": o.Name, "size": o.Size, "sha256": o.SHA256, "direction": fromHelper, "path": res.Path, "resumed_from": res.ResumedFrom})
	h.emit(Event{Type: EventFileReceived, ID: o.ID, Name: o.Name, Size: o.Size, SHA256: o.SHA256, Path: res.Path, Direction: fromHelper})
}

// inbox is where the helper's files land; nil when no folder is set.
func (h *Host) inbox() *files.Inbox {
	if h.cfg.FilesDir == "" {
		return nil
	}
	h.inboxOnce.Do(func() { h.filesIn = &files.Inbox{Dir: h.cfg.FilesDir, MaxSize: h.cfg.MaxFileSize} })
	return h.filesIn
}

// fileProgress reports the progress of a file being sent as events.
func (h *Host) fileProgress(o files.Offer, dir string) files.Progress {
	return func(done, total int64) {
		h.emit(Event{Type: EventFileProgress, ID: o.ID, Name: o.Name, Done: done, Total: total, Direction: dir})
	}
}

func (h *Host) fileFailed(o files.Offer, dir string, err error) {
	reason := files.Describe(err)
	event := "file_failed"
	if errors.Is(err, files.ErrDeclined) {
		event = "file_declined"
	}
	h.record(event, map[string]any{"name": o.Name, "size": o.Size, "sha256": o.SHA256, "direction": dir, "reason": reason})
	h.emit(Event{Type: EventFileFailed, ID: o.ID, Name: o.Name, Size: o.Size, Direction: dir, Reason: reason})
}
