package viewer

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/gethelp/gethelp/session"
	"github.com/gethelp/gethelp/session/files"
)

// Event types for files.
const (
	EventFileOffer    = "file_offer"    // the person offers a file: AcceptFile or DeclineFile with its ID
	EventFileProgress = "file_progress" // Done of Total bytes
	EventFileReceived = "file_received" // saved at Path, SHA-256 checked
	EventFileSent     = "file_sent"     // the person has it, SHA-256 checked
	EventFileFailed   = "file_failed"   // Reason says why
)

// ErrFilesNotAllowed is returned by SendFile until the person grants files.
var ErrFilesNotAllowed = errors.New("viewer: the person has not allowed file transfer; ask them to allow it")

const (
	toHost   = "to_host"
	fromHost = "from_host"
)

// SendFile offers the file at path to the person, who accepts or declines
// it. It returns once the file is hashed and offered; progress and the
// outcome come as events. It returns ErrFilesNotAllowed before the person
// granted files, or the error of reading the file.
func (v *Viewer) SendFile(ctx context.Context, path string) error {
	if !slices.Contains(v.Capabilities(), session.CapFiles) {
		return ErrFilesNotAllowed
	}
	offer, err := files.OfferFile(ctx, path)
	if err != nil {
		return err
	}
	return v.SendOffer(path, offer)
}

// SendOffer sends the file at path whose offer the caller computed with
// files.OfferFile (so it knows the transfer's ID before any event), as
// SendFile does; it returns ErrFilesNotAllowed before the person granted
// files.
func (v *Viewer) SendOffer(path string, offer files.Offer) error {
	if !slices.Contains(v.Capabilities(), session.CapFiles) {
		return ErrFilesNotAllowed
	}
	v.transfers.Add(1)
	go func() {
		defer v.transfers.Done()
		v.sendFile(v.runCtx(), path, offer)
	}()
	return nil
}

func (v *Viewer) sendFile(ctx context.Context, path string, offer files.Offer) {
	conn := v.session()
	st, err := conn.OpenStream(ctx, session.ChannelFile)
	if err != nil {
		if lost(conn) {
			v.keepInterrupted(path, offer)
			return
		}
		v.fileFailed(offer, toHost, err)
		return
	}
	defer st.Cancel()
	v.emit(Event{Type: EventFileProgress, ID: offer.ID, Name: offer.Name, Total: offer.Size, Direction: toHost})
	progress := func(done, total int64) {
		v.emit(Event{Type: EventFileProgress, ID: offer.ID, Name: offer.Name, Done: done, Total: total, Direction: toHost})
	}
	if _, err := files.Send(ctx, st, path, offer, progress); err != nil {
		if !errors.Is(err, files.ErrDeclined) && lost(conn) {
			// The session resumes on a new connection and offers the
			// file again there; the person's side resumes it.
			v.keepInterrupted(path, offer)
			return
		}
		v.fileFailed(offer, toHost, err)
		return
	}
	st.Close()
	v.record("file_sent", map[string]any{"name": offer.Name, "size": offer.Size, "sha256": offer.SHA256, "direction": toHost})
	v.emit(Event{Type: EventFileSent, ID: offer.ID, Name: offer.Name, Size: offer.Size, SHA256: offer.SHA256, Direction: toHost})
}

// AcceptFile accepts the person's file offer id; it returns an error
// wrapping files.ErrNoOffer when no such offer waits.
func (v *Viewer) AcceptFile(id string) error { return v.decisions.Decide(id, true) }

// DeclineFile declines the person's file offer id.
func (v *Viewer) DeclineFile(id string) error { return v.decisions.Decide(id, false) }

// serveFiles receives the person's files until ctx ends.
func (v *Viewer) serveFiles(ctx context.Context) {
	for {
		st, err := v.session().AcceptStream(ctx, session.ChannelFile)
		if err != nil {
			return
		}
		v.transfers.Add(1)
		go func() {
			defer v.transfers.Done()
			defer st.Finish() // the sender must read our answer
			v.receiveFile(ctx, st)
		}()
	}
}

func (v *Viewer) receiveFile(ctx context.Context, st *session.Stream) {
	conn := v.session()
	var (
		mu      sync.Mutex
		offered files.Offer
	)
	offer := func() files.Offer { mu.Lock(); defer mu.Unlock(); return offered }
	decide := func(ctx context.Context, o files.Offer) error {
		mu.Lock()
		offered = o
		mu.Unlock()
		if v.cfg.FilesDir == "" {
			return errors.New("no folder for received files")
		}
		return v.decisions.Wait(ctx, o, func(o files.Offer) {
			v.emit(Event{Type: EventFileOffer, ID: o.ID, Name: o.Name, Size: o.Size, SHA256: o.SHA256, From: v.session().PeerName()})
		})
	}
	progress := func(done, total int64) {
		o := offer()
		v.emit(Event{Type: EventFileProgress, ID: o.ID, Name: o.Name, Done: done, Total: total, Direction: fromHost})
	}
	dir := v.cfg.FilesDir
	if dir == "" {
		dir = "." // never written: decide declines first
	}
	v.inboxOnce.Do(func() { v.inbox = &files.Inbox{Dir: dir} })
	res, err := v.inbox.Receive(ctx, st, decide, progress)
	if err != nil {
		if o := offer(); o.ID != "" && !errors.Is(err, files.ErrDeclined) && lost(conn) {
			// The person's side offers it again on the resumed
			// connection; the partial file is kept for that.
			v.record("file_interrupted", map[string]any{"name": o.Name, "size": o.Size, "direction": fromHost})
		} else if o.ID != "" {
			v.decisions.Done(o.ID)
			v.fileFailed(o, fromHost, err)
		} else {
			v.logger.Info("refused a file offer", "err", err)
		}
		return
	}
	o := res.Offer
	v.decisions.Done(o.ID)
	v.record("file_received", map[string]any{"name": o.Name, "size": o.Size, "sha256": o.SHA256, "direction": fromHost, "path": res.Path, "resumed_from": res.ResumedFrom})
	v.emit(Event{Type: EventFileReceived, ID: o.ID, Name: o.Name, Size: o.Size, SHA256: o.SHA256, Path: res.Path, Direction: fromHost})
}

func (v *Viewer) fileFailed(o files.Offer, dir string, err error) {
	reason := files.Describe(err)
	v.record("file_failed", map[string]any{"name": o.Name, "size": o.Size, "sha256": o.SHA256, "direction": dir, "reason": reason})
	v.emit(Event{Type: EventFileFailed, ID: o.ID, Name: o.Name, Size: o.Size, Direction: dir, Reason: reason})
}

// lost reports whether conn's connection was lost (it waits a moment for
// the session to end after a stream error).
func lost(conn *session.Conn) bool { return conn.LostWithin(time.Second) }

// keepInterrupted remembers a file whose sending the lost connection cut,
// to offer it again once the session resumes.
func (v *Viewer) keepInterrupted(path string, offer files.Offer) {
	v.record("file_interrupted", map[string]any{"name": offer.Name, "size": offer.Size, "direction": toHost})
	v.interruptMu.Lock()
	defer v.interruptMu.Unlock()
	v.interrupted = append(v.interrupted, interrupted{path, offer})
}

// resumeTransfers offers again what the lost connection cut.
func (v *Viewer) resumeTransfers() {
	v.interruptMu.Lock()
	list := v.interrupted
	v.interrupted = nil
	v.interruptMu.Unlock()
	for _, t := range list {
		v.transfers.Add(1)
		go func() {
			defer v.transfers.Done()
			v.sendFile(v.runCtx(), t.path, t.offer)
		}()
	}
}

type interrupted struct {
	path  string
	offer files.Offer
}
