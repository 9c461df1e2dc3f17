package filexfer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/gethelp/gethelp/localweb"
	"github.com/gethelp/gethelp/session/files"
)

// ErrClosed is returned by Sender.Send once Close was called.
var ErrClosed = errors.New("filexfer: closed")

// errBusy ends the words told to a page that asked to send a file already
// being sent: "filexfer: NAME is already being sent".
var errBusy = errors.New("already being sent")

// Uploads is what a Sender needs of the server the page uploaded to
// (*localweb.Server).
type Uploads interface {
	// Upload returns the finished upload id, or an error wrapping
	// localweb.ErrNoUpload.
	Upload(id string) (localweb.Upload, error)
	// RemoveUpload deletes the upload id.
	RemoveUpload(id string)
}

var _ Uploads = (*localweb.Server)(nil)

// Page is where a Sender tells a page about the files it asked to send
// (*localweb.Page).
type Page interface {
	// SendText queues a text message for the page without blocking.
	SendText(msg []byte)
}

var _ Page = (*localweb.Page)(nil)

// Options configures New.
type Options struct {
	// SendFile offers the file at path, whose offer the Sender computed,
	// through the session (host.SendOffer, viewer.SendOffer): it returns
	// once the file is offered. ctx is cancelled by Close. Never nil.
	SendFile func(ctx context.Context, path string, offer files.Offer) error
	// Allowed, if not nil, is asked before each file is sent: an error
	// refuses it (Send returns the error) and removes its upload.
	Allowed func() error
	// Words puts an error of sending in the page's words, for the error
	// reply; nil means Message(err, "").
	Words func(err error) string
	// Logger receives diagnostics as is (give it the caller's component
	// attribute); nil discards them.
	Logger *slog.Logger
}

// Sender sends the files uploaded to one localweb server. Create it with
// New; it runs until Close. Its methods may be called from any goroutine.
type Sender struct {
	uploads Uploads
	opts    Options         // Words and Logger never nil; not modified after New
	ctx     context.Context // cancelled by Close: stops files being hashed or offered
	cancel  context.CancelFunc
	wg      sync.WaitGroup // files being prepared and offered

	mu      sync.Mutex
	closed  bool              // guarded by mu: no more goroutines
	sending map[string]string // guarded by mu: upload IDs by the offer ID of the file being sent
}

// New returns a Sender of the files uploaded to uploads.
func New(uploads Uploads, opts Options) *Sender {
	if opts.Words == nil {
		opts.Words = func(err error) string { return Message(err, "") }
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Sender{uploads: uploads, opts: opts, ctx: ctx, cancel: cancel, sending: make(map[string]string)}
}

// Close stops sending: files being hashed or offered have their context
// cancelled, and Close returns once every goroutine of s has ended. The
// uploads are the server's to remove (its Close does). Calling it again
// does nothing.
func (s *Sender) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
}

// queued tells the page that sent send_file which transfer its upload
// became: the events about it carry ID.
type queued struct {
	Type   string `json:"type"` // "file_queued"
	Upload string `json:"upload"`
	ID     string `json:"id"`
	Name   string `json:"name"`
	Size   int64  `json:"size"`
}

// Send sends the uploaded file upload for page p (the send_file command),
// in a goroutine of its own: the file is hashed first, and a big one takes
// a while. p is told file_queued before any event of the transfer, or why
// the file was not sent. Send returns an error wrapping
// localweb.ErrNoUpload for an unknown upload, the error of
// Options.Allowed, or ErrClosed.
func (s *Sender) Send(p Page, upload string) error {
	if _, err := s.uploads.Upload(upload); err != nil {
		return err
	}
	if s.opts.Allowed != nil {
		if err := s.opts.Allowed(); err != nil {
			s.uploads.RemoveUpload(upload)
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	s.wg.Go(func() {
		if err := s.send(p, upload); err != nil {
			s.opts.Logger.Info("sending a file failed", "err", err)
			p.SendText(localweb.ErrorReply("send_file", upload, s.opts.Words(err)))
		}
	})
	return nil
}

func (s *Sender) send(p Page, id string) error {
	u, err := s.uploads.Upload(id)
	if err != nil {
		return err
	}
	// The events of the transfer name its offer ID: computed here, once,
	// to know when the copy can go, and handed to SendFile.
	offer, err := files.OfferFile(s.ctx, u.Path)
	if err != nil {
		s.uploads.RemoveUpload(id)
		return err
	}
	s.mu.Lock()
	if _, busy := s.sending[offer.ID]; busy {
		s.mu.Unlock()
		s.uploads.RemoveUpload(id)
		return fmt.Errorf("filexfer: %s is %w", u.Name, errBusy)
	}
	s.sending[offer.ID] = id
	s.mu.Unlock()
	b, _ := json.Marshal(queued{Type: "file_queued", Upload: id, ID: offer.ID, Name: offer.Name, Size: offer.Size})
	p.SendText(b) // before any event of the transfer
	if err := s.opts.SendFile(s.ctx, u.Path, offer); err != nil {
		s.mu.Lock()
		delete(s.sending, offer.ID)
		s.mu.Unlock()
		s.uploads.RemoveUpload(id)
		return err
	}
	return nil
}

// Done tells s that the transfer of the offer id, in the direction of
// sending, ended (a file_sent or file_failed event): the upload it was
// sent from, if any, is removed.
func (s *Sender) Done(id string) {
	s.mu.Lock()
	upload, ok := s.sending[id]
	delete(s.sending, id)
	s.mu.Unlock()
	if ok {
		s.uploads.RemoveUpload(upload)
	}
}

// CheckName is localweb.Uploads.CheckName for files to send: the name
// must be one the other side accepts (files.SanitizeName). The error says
// why not, in words for the page.
func CheckName(name string) (string, error) {
	if _, err := files.SanitizeName(name); err != nil {
		why := strings.TrimPrefix(err.Error(), files.ErrBadName.Error()+": ")
		return "", fmt.Errorf("this file's name cannot be sent (%s): rename the file and try again", why)
	}
	return name, nil
}

// Message returns err in a window's words: the errors of files, uploads
// and this package (files.ErrNoOffer, localweb.ErrNoUpload, ErrClosed) as
// both windows say them, and any other error's text without its package
// prefix: prefix, the caller's own ("host: "), "files: " or "filexfer: ".
func Message(err error, prefix string) string {
	switch {
	case errors.Is(err, files.ErrNoOffer):
		return "that file is no longer waiting for an answer"
	case errors.Is(err, localweb.ErrNoUpload):
		return "the file is no longer here: choose it again"
	case errors.Is(err, ErrClosed):
		return "gethelp is stopping"
	}
	msg := strings.TrimPrefix(err.Error(), prefix)
	msg = strings.TrimPrefix(msg, "files: ")
	return strings.TrimPrefix(msg, "filexfer: ")
}
